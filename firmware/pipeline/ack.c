/* ack: minimum durable LSN over all sinks (see ack.h). */
#include "pipeline/ack.h"

#include <pthread.h>
#include <stdlib.h>

struct ack_tracker {
    pthread_mutex_t lock;
    size_t n;
    uint64_t durable[];
};

ack_tracker *ack_tracker_create(size_t nsinks, uint64_t start_lsn)
{
    ack_tracker *a = calloc(1, sizeof *a + nsinks * sizeof(uint64_t));
    if (!a)
        return NULL;
    pthread_mutex_init(&a->lock, NULL);
    a->n = nsinks;
    for (size_t i = 0; i < nsinks; i++)
        a->durable[i] = start_lsn;
    return a;
}

void ack_tracker_destroy(ack_tracker *a)
{
    if (!a)
        return;
    pthread_mutex_destroy(&a->lock);
    free(a);
}

void ack_tracker_durable(ack_tracker *a, size_t sink, uint64_t lsn)
{
    pthread_mutex_lock(&a->lock);
    if (sink < a->n && lsn > a->durable[sink])
        a->durable[sink] = lsn;
    pthread_mutex_unlock(&a->lock);
}

uint64_t ack_tracker_flushed(ack_tracker *a)
{
    pthread_mutex_lock(&a->lock);
    uint64_t min = UINT64_MAX;
    for (size_t i = 0; i < a->n; i++)
        if (a->durable[i] < min)
            min = a->durable[i];
    pthread_mutex_unlock(&a->lock);
    return a->n ? min : 0;
}
