/* iceberg_manifest_read: reads a v2 manifest list (the manifest_file records) back with
 * libavro's container reader, so an append can carry the previous snapshot's manifests into
 * the new snapshot's list. Only unpartitioned manifests for now: a manifest_file with partition
 * field summaries is refused.
 * Ownership: the list owns its records and their strings; free with iceberg_manifest_list_destroy. */
#ifndef SLUICE_SINKS_LAKE_ICEBERG_MANIFEST_READ_H
#define SLUICE_SINKS_LAKE_ICEBERG_MANIFEST_READ_H

#include <stddef.h>

#include "sinks/lake/iceberg_manifest.h"

typedef struct iceberg_manifest_list {
    iceberg_manifest_file *files;   /* in list order; sequence numbers always present */
    size_t nfiles;
} iceberg_manifest_list;

/* Parse the container in data[0..len). NULL with the reason in err. */
iceberg_manifest_list *iceberg_manifest_list_read(const void *data, size_t len, char *err, size_t errlen);

void iceberg_manifest_list_destroy(iceberg_manifest_list *l);   /* accepts NULL */

#endif
