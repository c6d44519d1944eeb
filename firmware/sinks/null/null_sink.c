/* null_sink: drop every change, acknowledge on flush (see null_sink.h). */
#include "sinks/null/null_sink.h"

#include <stdio.h>
#include <stdlib.h>

typedef struct null_sink {
    uint64_t committed_end;   /* end LSN of the last transaction handed over */
    ack_tracker *ack;
    size_t ack_index;
} null_sink;

static int null_sink_change(void *self, const event *ev, char *err, size_t errlen)
{
    (void)self;
    (void)ev;
    (void)err;
    (void)errlen;
    return 0;
}

static int null_sink_commit(void *self, const tx_info *tx, char *err, size_t errlen)
{
    (void)err;
    (void)errlen;
    null_sink *ns = self;
    ns->committed_end = tx->end_lsn;
    return 0;
}

static int null_sink_flush(void *self, int wait, char *err, size_t errlen)
{
    (void)wait;
    (void)err;
    (void)errlen;
    null_sink *ns = self;
    ack_tracker_durable(ns->ack, ns->ack_index, ns->committed_end);
    return 0;
}

static void null_sink_destroy(void *self)
{
    free(self);
}

static const sink_ops null_sink_ops = {
    .name = "null",
    .change = null_sink_change,
    .commit = null_sink_commit,
    .flush = null_sink_flush,
    .destroy = null_sink_destroy,
};

int null_sink_create(ack_tracker *ack, size_t ack_index, sink *out, char *err, size_t errlen)
{
    null_sink *ns = calloc(1, sizeof *ns);
    if (!ns) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    ns->ack = ack;
    ns->ack_index = ack_index;
    out->ops = &null_sink_ops;
    out->self = ns;
    return 0;
}
