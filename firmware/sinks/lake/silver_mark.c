/* silver_mark: silver watermarks and change positions, from the capture or from Kafka (see
 * silver_mark.h). */
#include "sinks/lake/silver_mark.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "core/errbuf.h"

void silver_mark_free(silver_mark *m)
{
    for (size_t i = 0; i < m->nparts; i++)
        free(m->parts[i].topic);
    free(m->parts);
    memset(m, 0, sizeof *m);
}

static silver_mark_part *sm_find(const silver_mark *m, const char *topic, int32_t partition)
{
    for (size_t i = 0; i < m->nparts; i++)
        if (m->parts[i].partition == partition && strcmp(m->parts[i].topic, topic) == 0)
            return &m->parts[i];
    return NULL;
}

int silver_mark_holds(const silver_mark *m, const silver_pos *p)
{
    if (!p->topic)
        return bronze_pos_cmp(p->wal, m->wal) <= 0;
    const silver_mark_part *x = sm_find(m, p->topic, p->partition);
    return x && p->offset <= x->offset;
}

/* Raise the offset of (topic, partition) to offset, adding the partition when it is new. */
static int sm_raise(silver_mark *m, const char *topic, int32_t partition, int64_t offset, char *err, size_t errlen)
{
    silver_mark_part *x = sm_find(m, topic, partition);
    if (x) {
        if (offset > x->offset)
            x->offset = offset;
        return 0;
    }
    if (m->nparts == m->capparts) {
        size_t cap = m->capparts ? m->capparts * 2 : 8;
        silver_mark_part *n = realloc(m->parts, cap * sizeof *n);
        if (!n)
            return err_setf(err, errlen, "out of memory");
        m->parts = n;
        m->capparts = cap;
    }
    char *t = strdup(topic);
    if (!t)
        return err_setf(err, errlen, "out of memory");
    m->parts[m->nparts++] = (silver_mark_part){t, partition, offset};
    return 0;
}

int silver_mark_advance(silver_mark *m, const silver_pos *p, char *err, size_t errlen)
{
    if (p->topic)
        return sm_raise(m, p->topic, p->partition, p->offset, err, errlen);
    if (bronze_pos_cmp(p->wal, m->wal) > 0)
        m->wal = p->wal;
    return 0;
}

int silver_mark_merge(silver_mark *m, const silver_mark *other, char *err, size_t errlen)
{
    if (bronze_pos_cmp(other->wal, m->wal) > 0)
        m->wal = other->wal;
    for (size_t i = 0; i < other->nparts; i++) {
        const silver_mark_part *x = &other->parts[i];
        if (sm_raise(m, x->topic, x->partition, x->offset, err, errlen) < 0)
            return -1;
    }
    return 0;
}

void silver_mark_kafka_format(const silver_mark *m, buf *out)
{
    for (size_t i = 0; i < m->nparts; i++) {
        const silver_mark_part *x = &m->parts[i];
        if (i)
            buf_append(out, ",", 1);
        buf_puts(out, x->topic);
        buf_append(out, ":", 1);
        buf_put_i64(out, x->partition);
        buf_append(out, "=", 1);
        buf_put_i64(out, x->offset);
    }
}

/* A decimal integer in [min, max] from s up to the first char of stop (or the end); *end after it. */
static int sm_int(const char *s, const char *stop, int64_t min, int64_t max, int64_t *out, const char **end)
{
    if (*s < '0' || *s > '9')
        return -1;
    errno = 0;
    char *e;
    long long v = strtoll(s, &e, 10);
    if (errno || v < min || v > max || (*e && !strchr(stop, *e)))
        return -1;
    *out = v;
    *end = e;
    return 0;
}

int silver_mark_kafka_parse(silver_mark *m, const char *s, char *err, size_t errlen)
{
    const char *p = s;
    while (*p) {
        const char *colon = strrchr(p, ':'), *comma = strchr(p, ',');
        /* the entry's colon: the last one before its comma */
        if (comma) {
            colon = NULL;
            for (const char *c = p; c < comma; c++)
                if (*c == ':')
                    colon = c;
        }
        int64_t part, off;
        const char *e;
        if (!colon || colon == p || sm_int(colon + 1, "=", 0, INT32_MAX, &part, &e) < 0 || *e != '=' ||
            sm_int(e + 1, ",", 0, INT64_MAX, &off, &e) < 0)
            return err_setf(err, errlen, "%s \"%s\" is not topic:partition=offset,...", SILVER_MARK_SUMMARY_KAFKA, s);
        char topic[256];
        if ((size_t)(colon - p) >= sizeof topic)
            return err_setf(err, errlen, "%s: a topic name is longer than Kafka allows", SILVER_MARK_SUMMARY_KAFKA);
        memcpy(topic, p, (size_t)(colon - p));
        topic[colon - p] = '\0';
        if (sm_raise(m, topic, (int32_t)part, off, err, errlen) < 0)
            return -1;
        p = *e == ',' ? e + 1 : e;
    }
    return 0;
}
