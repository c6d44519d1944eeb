/* null_sink: a sink that decodes nothing further and keeps nothing: every change is dropped.
 * It measures the capture alone (`sluice capture --format none`, the capture benchmark) and
 * stands in where a pipeline needs a sink but no output. Flush reports the last committed
 * transaction's end LSN to the ack tracker, so the slot advances as with a real sink. */
#ifndef SLUICE_SINKS_NULL_SINK_H
#define SLUICE_SINKS_NULL_SINK_H

#include <stddef.h>
#include "pipeline/ack.h"
#include "pipeline/sink.h"

/* Fill *out with the sink; ack and ack_index are borrowed (the sink reports there).
 * 0, or -1 with the reason in err. Free with out->ops->destroy(out->self). */
int null_sink_create(ack_tracker *ack, size_t ack_index, sink *out, char *err, size_t errlen);

#endif
