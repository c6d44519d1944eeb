/* endpos_sink: forward to the wrapped sink, stop at an end LSN (see endpos_sink.h). */
#include "sinks/endpos/endpos_sink.h"

#include <stdio.h>
#include <stdlib.h>

typedef struct endpos_sink {
    sink inner;
    uint64_t end_lsn;
    volatile sig_atomic_t *stop;
} endpos_sink;

static int endpos_sink_begin(void *self, const tx_info *tx, char *err, size_t errlen)
{
    endpos_sink *es = self;
    return es->inner.ops->begin ? es->inner.ops->begin(es->inner.self, tx, err, errlen) : 0;
}

static int endpos_sink_change(void *self, const event *ev, char *err, size_t errlen)
{
    endpos_sink *es = self;
    return es->inner.ops->change(es->inner.self, ev, err, errlen);
}

static int endpos_sink_commit(void *self, const tx_info *tx, char *err, size_t errlen)
{
    endpos_sink *es = self;
    int rc = es->inner.ops->commit ? es->inner.ops->commit(es->inner.self, tx, err, errlen) : 0;
    if (rc == 0 && tx->end_lsn >= es->end_lsn)
        *es->stop = 1;
    return rc;
}

static int endpos_sink_flush(void *self, int wait, char *err, size_t errlen)
{
    endpos_sink *es = self;
    return es->inner.ops->flush(es->inner.self, wait, err, errlen);
}

static void endpos_sink_destroy(void *self)
{
    endpos_sink *es = self;
    if (!es)
        return;
    es->inner.ops->destroy(es->inner.self);
    free(es);
}

static const sink_ops endpos_sink_ops = {
    .name = "endpos",
    .begin = endpos_sink_begin,
    .change = endpos_sink_change,
    .commit = endpos_sink_commit,
    .flush = endpos_sink_flush,
    .destroy = endpos_sink_destroy,
};

int endpos_sink_create(sink *inner, uint64_t end_lsn, volatile sig_atomic_t *stop, sink *out,
                       char *err, size_t errlen)
{
    endpos_sink *es = calloc(1, sizeof *es);
    if (!es) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    es->inner = *inner;
    es->end_lsn = end_lsn;
    es->stop = stop;
    out->ops = &endpos_sink_ops;
    out->self = es;
    return 0;
}
