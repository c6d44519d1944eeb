/* file_sink: a sink that appends every change as one line of Debezium JSON (the value
 * envelope) to a file or standard output, like pg_recvlogical for humans and pipes. Flush
 * writes the buffer out and fsyncs a regular file, then reports the last committed
 * transaction's end LSN to the ack tracker: that is what the capture may confirm. */
#ifndef SLUICE_SINKS_FILE_SINK_H
#define SLUICE_SINKS_FILE_SINK_H

#include <stddef.h>
#include "encode/debezium_json.h"
#include "pipeline/ack.h"
#include "pipeline/sink.h"

typedef struct file_sink_options {
    const char *path;            /* "-" for standard output; a file is appended to */
    debezium_options encoding;   /* copied; the sink owns its encoder */
} file_sink_options;

/* Fill *out with the sink; ack and ack_index are borrowed (the sink reports there).
 * 0, or -1 with the reason in err. Free with out->ops->destroy(out->self). */
int file_sink_create(const file_sink_options *o, ack_tracker *ack, size_t ack_index, sink *out,
                     char *err, size_t errlen);

#endif
