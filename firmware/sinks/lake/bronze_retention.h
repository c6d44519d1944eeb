/* bronze_retention: bronze.retention_days: deleting the bronze objects whose hour partition
 * (date=YYYY-MM-DD/hour=HH in the key) ended more than a number of days ago. The bronze writers
 * (from the capture and from Kafka) run it hourly on their own threads. */
#ifndef SLUICE_SINKS_LAKE_BRONZE_RETENTION_H
#define SLUICE_SINKS_LAKE_BRONZE_RETENTION_H

#include <stddef.h>
#include <stdint.h>

#include "objstore/objstore.h"

#define BRONZE_RETENTION_PERIOD_S 3600   /* how often the writers run it */

/* The Unix hour (seconds / 3600) of a key's date=/hour= partition, or -1 when it has none. */
int64_t bronze_retention_key_hour(const char *key);

/* Delete every object under bronze/<source>/ whose partition hour is before now_unix minus days
 * (keys without a partition are kept). A delete that fails is logged and skipped. Returns the
 * number deleted, or -1 with the reason in err when the listing fails. */
long bronze_retention_run(objstore *s, const char *source, int days, int64_t now_unix, char *err, size_t errlen);

#endif
