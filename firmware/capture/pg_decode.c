/* pg_decode: the pgoutput protocol decoder (see pg_decode.h), versions 1 and 2.
 * One message per pg_decoder_feed: a bounds-checked reader walks it, Relation messages go through
 * the schema registry, row images become typed values in the per-message arena, and the handler
 * gets begin/change/commit/schema/message calls. Protocol v2 streamed transactions are checked
 * and buffered message by message in a spill store (pg_spill.h: memory up to a threshold, then an
 * unlinked temporary file per transaction), and replayed through the same path at Stream Commit;
 * Stream Abort drops a transaction or skips a subtransaction's messages. */
#include "capture/pg_decode.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture/pg_spill.h"
#include "capture/pg_types.h"
#include "core/arena.h"

/* PostgreSQL timestamps count microseconds from 2000-01-01. */
#define PG_EPOCH_OFFSET_US INT64_C(946684800000000)

typedef struct type_alias {
    uint32_t oid;
    char *name;   /* "namespace.name" */
} type_alias;

struct pg_decoder {
    pg_schema *schema;
    arena *arena;
    tx_info tx;
    int in_tx;
    uint64_t seq;
    type_alias *types;
    size_t ntypes, captypes, types_bytes;
    int in_stream;
    uint32_t stream_xid;
    pg_spill *spill;   /* streamed transactions' raw messages, by top-level xid */
};

/* What the decoder is working on, for error messages. */
typedef struct dec_ctx {
    pg_decoder *d;
    const pg_decode_handler *h;
    uint64_t lsn;
    const char *what;   /* message name */
    char *err;
    size_t errlen;
    int dry;            /* only check the structure (streamed messages when buffered) */
} dec_ctx;

typedef struct reader {
    const uint8_t *p, *end;
} reader;

static const char *dec_message_name(uint8_t type)
{
    switch (type) {
    case 'B': return "Begin";
    case 'M': return "Message";
    case 'C': return "Commit";
    case 'O': return "Origin";
    case 'R': return "Relation";
    case 'Y': return "Type";
    case 'I': return "Insert";
    case 'U': return "Update";
    case 'D': return "Delete";
    case 'T': return "Truncate";
    case 'S': return "Stream Start";
    case 'E': return "Stream Stop";
    case 'c': return "Stream Commit";
    case 'A': return "Stream Abort";
    default: return NULL;
    }
}

/* "<prefix><what> message at <lsn>: <detail>" into err; returns -1. */
static int dec_vfail(dec_ctx *c, const char *prefix, const char *fmt, va_list ap)
{
    char lsn[18];
    lsn_format(c->lsn, lsn);
    int n = snprintf(c->err, c->errlen, "%s%s message at %s: ", prefix, c->what, lsn);
    if (n >= 0 && (size_t)n < c->errlen)
        vsnprintf(c->err + n, c->errlen - (size_t)n, fmt, ap);
    return -1;
}

static int dec_malformed(dec_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int dec_malformed(dec_ctx *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    dec_vfail(c, "malformed ", fmt, ap);
    va_end(ap);
    return -1;
}

static int dec_error(dec_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int dec_error(dec_ctx *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    dec_vfail(c, "", fmt, ap);
    va_end(ap);
    return -1;
}

/* A handler's non-zero return as -1 with its reason, or "handler failed". */
static int dec_handler_failed(dec_ctx *c)
{
    if (!c->err[0])
        snprintf(c->err, c->errlen, "handler failed");
    return -1;
}

/* ---- bounds-checked reading --------------------------------------------------------------- */

static int rd_need(dec_ctx *c, reader *r, size_t n, const char *field)
{
    if ((size_t)(r->end - r->p) < n)
        return dec_malformed(c, "truncated at %s (%zu bytes left, %zu needed)", field,
                             (size_t)(r->end - r->p), n);
    return 0;
}

static int rd_u8(dec_ctx *c, reader *r, const char *field, uint8_t *out)
{
    if (rd_need(c, r, 1, field) < 0)
        return -1;
    *out = *r->p++;
    return 0;
}

static int rd_u16(dec_ctx *c, reader *r, const char *field, uint16_t *out)
{
    if (rd_need(c, r, 2, field) < 0)
        return -1;
    *out = (uint16_t)(r->p[0] << 8 | r->p[1]);
    r->p += 2;
    return 0;
}

static int rd_u32(dec_ctx *c, reader *r, const char *field, uint32_t *out)
{
    if (rd_need(c, r, 4, field) < 0)
        return -1;
    *out = (uint32_t)r->p[0] << 24 | (uint32_t)r->p[1] << 16 | (uint32_t)r->p[2] << 8 | r->p[3];
    r->p += 4;
    return 0;
}

static int rd_u64(dec_ctx *c, reader *r, const char *field, uint64_t *out)
{
    uint32_t hi, lo;
    if (rd_need(c, r, 8, field) < 0 || rd_u32(c, r, field, &hi) < 0 || rd_u32(c, r, field, &lo) < 0)
        return -1;
    *out = (uint64_t)hi << 32 | lo;
    return 0;
}

/* A NUL-terminated string inside the message; *out points into it, *len excludes the NUL. */
static int rd_str(dec_ctx *c, reader *r, const char *field, const char **out, size_t *len)
{
    const uint8_t *nul = memchr(r->p, 0, (size_t)(r->end - r->p));
    if (!nul)
        return dec_malformed(c, "%s is not NUL-terminated", field);
    *out = (const char *)r->p;
    if (len)
        *len = (size_t)(nul - r->p);
    r->p = nul + 1;
    return 0;
}

static int rd_done(dec_ctx *c, const reader *r)
{
    if (r->p != r->end)
        return dec_malformed(c, "%zu trailing bytes", (size_t)(r->end - r->p));
    return 0;
}

/* PostgreSQL-epoch microseconds to Unix microseconds. */
static int dec_time(dec_ctx *c, uint64_t pg_us, int64_t *out)
{
    if (__builtin_add_overflow((int64_t)pg_us, PG_EPOCH_OFFSET_US, out))
        return dec_malformed(c, "commit time out of range");
    return 0;
}

/* ---- type aliases (Type messages) --------------------------------------------------------- */

static const char *dec_type_alias(const pg_decoder *d, uint32_t oid)
{
    for (size_t i = 0; i < d->ntypes; i++)
        if (d->types[i].oid == oid)
            return d->types[i].name;
    return NULL;
}

static int dec_type_alias_set(pg_decoder *d, uint32_t oid, const char *ns, size_t nslen, const char *name,
                              size_t namelen)
{
    char *s = malloc(nslen + namelen + 2);
    if (!s)
        return -1;
    memcpy(s, ns, nslen);
    s[nslen] = '.';
    memcpy(s + nslen + 1, name, namelen);
    s[nslen + 1 + namelen] = '\0';
    for (size_t i = 0; i < d->ntypes; i++)
        if (d->types[i].oid == oid) {
            d->types_bytes -= strlen(d->types[i].name) + 1;
            free(d->types[i].name);
            d->types[i].name = s;
            d->types_bytes += nslen + namelen + 2;
            return 0;
        }
    if (d->ntypes == d->captypes) {
        size_t ncap = d->captypes ? d->captypes * 2 : 16;
        type_alias *n = realloc(d->types, ncap * sizeof *n);
        if (!n) {
            free(s);
            return -1;
        }
        d->types = n;
        d->captypes = ncap;
    }
    d->types[d->ntypes++] = (type_alias){oid, s};
    d->types_bytes += nslen + namelen + 2;
    return 0;
}

/* ---- tuples ------------------------------------------------------------------------------- */

/* Read TupleData for table t into a values array in the arena. key_only: a 'K' image, where
 * non-key columns are VALUE_UNAVAILABLE. old: the 'O' image of the same update, whose values
 * stand in for unchanged TOASTed columns. Dry mode (c->dry) checks the structure only. */
static int dec_tuple(dec_ctx *c, reader *r, const table_def *t, int key_only, const value *old,
                     value **out)
{
    uint16_t n;
    value *vals = NULL;
    if (rd_u16(c, r, "tuple column count", &n) < 0)
        return -1;
    if (!c->dry) {
        if (n != t->ncols)
            return dec_malformed(c, "tuple has %u columns, table %s.%s has %d", n, t->schema, t->name,
                                 t->ncols);
        vals = arena_alloc(c->d->arena, (n ? n : 1) * sizeof *vals);
    }
    for (int i = 0; i < n; i++) {
        uint8_t kind;
        uint32_t len;
        if (rd_u8(c, r, "tuple column kind", &kind) < 0)
            return -1;
        switch (kind) {
        case 'n':
        case 'u':
            if (!c->dry) {
                memset(&vals[i], 0, sizeof vals[i]);
                vals[i].state = kind == 'n' ? VALUE_IS_NULL : VALUE_UNAVAILABLE;
                if (kind == 'u' && old)
                    vals[i] = old[i];
                if (key_only && !t->cols[i].is_key)
                    vals[i].state = VALUE_UNAVAILABLE;
            }
            break;
        case 't':
            if (rd_u32(c, r, "tuple column length", &len) < 0)
                return -1;
            if (len > (size_t)(r->end - r->p))
                return dec_malformed(c, "tuple column %d length %" PRIu32 " exceeds message", i + 1, len);
            if (!c->dry) {
                const column_def *col = &t->cols[i];
                if (key_only && !col->is_key) {
                    memset(&vals[i], 0, sizeof vals[i]);
                    vals[i].state = VALUE_UNAVAILABLE;
                } else {
                    char why[160];
                    if (pg_value_parse(col->kind, (const char *)r->p, len, &vals[i], c->d->arena, why,
                                       sizeof why) < 0)
                        return dec_error(c, "table %s.%s column %s: %s", t->schema, t->name, col->name,
                                         why);
                }
            }
            r->p += len;
            break;
        case 'b':
            return dec_malformed(c, "tuple column %d is binary (binary mode is not requested)", i + 1);
        default:
            return dec_malformed(c, "tuple column %d has unknown kind 0x%02x", i + 1, kind);
        }
    }
    *out = vals;
    return 0;
}

/* The table for a change message (not in dry mode). */
static int dec_relation_get(dec_ctx *c, uint32_t relid, const table_def **out)
{
    *out = NULL;
    if (c->dry)
        return 0;
    if (!(*out = pg_schema_get(c->d->schema, relid)))
        return dec_error(c, "unknown relation oid %" PRIu32 " (no Relation message)", relid);
    return 0;
}

static int dec_in_tx(dec_ctx *c)
{
    if (!c->dry && !c->d->in_tx)
        return dec_error(c, "change outside a transaction");
    return 0;
}

/* Hand a change to the handler with the transaction's next sequence number. */
static int dec_emit(dec_ctx *c, event *ev)
{
    pg_decoder *d = c->d;
    ev->lsn = c->lsn;
    ev->tx = &d->tx;
    ev->seq = d->seq++;
    ev->snapshot = SNAPSHOT_NONE;
    if (c->h->change && c->h->change(c->h->arg, ev, c->err, c->errlen) != 0)
        return dec_handler_failed(c);
    return 0;
}

/* ---- messages ----------------------------------------------------------------------------- */

static int dec_begin(dec_ctx *c, reader *r)
{
    pg_decoder *d = c->d;
    uint64_t final_lsn, ts;
    uint32_t xid;
    int64_t t;
    if (rd_u64(c, r, "final LSN", &final_lsn) < 0 || rd_u64(c, r, "commit time", &ts) < 0 ||
        rd_u32(c, r, "xid", &xid) < 0 || rd_done(c, r) < 0 || dec_time(c, ts, &t) < 0)
        return -1;
    /* A Begin while a transaction or stream block is open means the replication stream restarted
     * (a reconnect): start over. */
    d->in_stream = 0;
    d->tx = (tx_info){.xid = xid, .final_lsn = final_lsn, .commit_time_us = t};
    d->in_tx = 1;
    d->seq = 0;
    if (c->h->begin && c->h->begin(c->h->arg, &d->tx, c->err, c->errlen) != 0)
        return dec_handler_failed(c);
    return 0;
}

static int dec_commit(dec_ctx *c, reader *r)
{
    pg_decoder *d = c->d;
    uint8_t flags;
    uint64_t commit_lsn, end_lsn, ts;
    int64_t t;
    if (rd_u8(c, r, "flags", &flags) < 0 || rd_u64(c, r, "commit LSN", &commit_lsn) < 0 ||
        rd_u64(c, r, "end LSN", &end_lsn) < 0 || rd_u64(c, r, "commit time", &ts) < 0 || rd_done(c, r) < 0 ||
        dec_time(c, ts, &t) < 0)
        return -1;
    if (!d->in_tx)
        return dec_error(c, "Commit without Begin");
    d->tx.end_lsn = end_lsn;
    d->in_tx = 0;
    if (c->h->commit && c->h->commit(c->h->arg, &d->tx, c->err, c->errlen) != 0)
        return dec_handler_failed(c);
    return 0;
}

static int dec_origin(dec_ctx *c, reader *r)
{
    uint64_t lsn;
    const char *name = NULL;
    if (rd_u64(c, r, "origin LSN", &lsn) < 0 || rd_str(c, r, "origin name", &name, NULL) < 0)
        return -1;
    return rd_done(c, r);
}

static int dec_message(dec_ctx *c, reader *r)
{
    uint8_t flags;
    uint32_t len;
    logical_message m = {0};
    if (rd_u8(c, r, "flags", &flags) < 0 || rd_u64(c, r, "message LSN", &m.lsn) < 0 ||
        rd_str(c, r, "prefix", &m.prefix, NULL) < 0 || rd_u32(c, r, "content length", &len) < 0)
        return -1;
    if (len > (size_t)(r->end - r->p))
        return dec_malformed(c, "content length %" PRIu32 " exceeds message", len);
    m.content = r->p;
    m.len = len;
    m.transactional = flags & 1;
    r->p += len;
    if (rd_done(c, r) < 0)
        return -1;
    if (c->dry)
        return 0;
    if (c->h->message && c->h->message(c->h->arg, &m, c->err, c->errlen) != 0)
        return dec_handler_failed(c);
    return 0;
}

static int dec_type(dec_ctx *c, reader *r)
{
    uint32_t oid;
    const char *ns = NULL, *name = NULL;
    size_t nslen = 0, namelen = 0;
    if (rd_u32(c, r, "type oid", &oid) < 0 || rd_str(c, r, "namespace", &ns, &nslen) < 0 ||
        rd_str(c, r, "type name", &name, &namelen) < 0 || rd_done(c, r) < 0)
        return -1;
    if (c->dry)
        return 0;
    if (dec_type_alias_set(c->d, oid, ns, nslen, name, namelen) < 0)
        return dec_error(c, "out of memory");
    return 0;
}

/* Without the catalogs' word: what the table's previous version said about a column of the
 * same name, else the replica identity under DEFAULT (the primary key). */
static void dec_relation_inherit(pg_decoder *d, table_def *def)
{
    const table_def *prev = pg_schema_get(d->schema, def->oid);
    for (int i = 0; i < def->ncols; i++) {
        column_def *col = &def->cols[i];
        col->is_pk = def->replica_identity == 'd' && col->is_key;
        col->not_null = col->is_pk;
        col->enum_labels = NULL;
        for (int j = 0; prev && j < prev->ncols; j++) {
            const column_def *p = &prev->cols[j];
            if (strcmp(p->name, col->name) == 0 && p->type_oid == col->type_oid) {
                col->is_pk = p->is_pk;
                col->not_null = p->not_null;
                col->enum_labels = p->enum_labels;
                break;
            }
        }
    }
}

static int dec_relation(dec_ctx *c, reader *r)
{
    pg_decoder *d = c->d;
    table_def def = {0};
    const char *s = NULL;
    uint8_t ident;
    uint16_t ncols;
    if (rd_u32(c, r, "relation oid", &def.oid) < 0 || rd_str(c, r, "namespace", &s, NULL) < 0)
        return -1;
    def.schema = (char *)s;
    if (rd_str(c, r, "relation name", &s, NULL) < 0)
        return -1;
    def.name = (char *)s;
    if (rd_u8(c, r, "replica identity", &ident) < 0 || rd_u16(c, r, "column count", &ncols) < 0)
        return -1;
    if (ident != 'd' && ident != 'n' && ident != 'f' && ident != 'i')
        return dec_malformed(c, "unknown replica identity 0x%02x", ident);
    def.replica_identity = (char)ident;
    def.ncols = ncols;
    if (!c->dry)
        def.cols = arena_alloc(d->arena, (ncols ? ncols : 1) * sizeof *def.cols);
    for (int i = 0; i < ncols; i++) {
        uint8_t flags;
        uint32_t type_oid, typmod;
        const char *name = NULL;
        if (rd_u8(c, r, "column flags", &flags) < 0 || rd_str(c, r, "column name", &name, NULL) < 0 ||
            rd_u32(c, r, "column type", &type_oid) < 0 || rd_u32(c, r, "column typmod", &typmod) < 0)
            return -1;
        if (c->dry)
            continue;
        column_def *col = &def.cols[i];
        memset(col, 0, sizeof *col);
        col->name = (char *)name;
        col->type_oid = type_oid;
        col->typmod = (int32_t)typmod;
        col->is_key = flags & 1;
        col->kind = pg_type_kind(type_oid, &col->elem_kind);
        const char *tn = pg_type_name(type_oid);
        if (!tn)
            tn = dec_type_alias(d, type_oid);
        if (tn) {
            col->type_name = (char *)tn;
        } else {   /* neither built in nor announced by a Type message: its oid */
            col->type_name = arena_alloc(d->arena, 12);
            snprintf(col->type_name, 12, "%" PRIu32, type_oid);
        }
    }
    if (rd_done(c, r) < 0)
        return -1;
    if (c->dry)
        return 0;
    int done = c->h->complete ? c->h->complete(c->h->arg, &def, d->arena, c->err, c->errlen) : 0;
    if (done < 0)
        return dec_handler_failed(c);
    if (done == 0)
        dec_relation_inherit(d, &def);
    int changed = 0;
    char why[256];
    const table_def *cur = pg_schema_update(d->schema, &def, c->lsn, &changed, why, sizeof why);
    if (!cur)
        return dec_error(c, "table %s.%s: %s", def.schema, def.name, why);
    if (changed && c->h->schema && c->h->schema(c->h->arg, cur, c->err, c->errlen) != 0)
        return dec_handler_failed(c);
    return 0;
}

static int dec_insert(dec_ctx *c, reader *r)
{
    uint32_t relid;
    uint8_t tag;
    const table_def *t;
    event ev = {.op = EVENT_CREATE};
    value *after;
    if (rd_u32(c, r, "relation oid", &relid) < 0 || rd_u8(c, r, "tuple tag", &tag) < 0)
        return -1;
    if (tag != 'N')
        return dec_malformed(c, "expected new tuple 'N', got 0x%02x", tag);
    if (dec_in_tx(c) < 0 || dec_relation_get(c, relid, &t) < 0 || dec_tuple(c, r, t, 0, NULL, &after) < 0 ||
        rd_done(c, r) < 0)
        return -1;
    if (c->dry)
        return 0;
    ev.table = t;
    ev.after = after;
    return dec_emit(c, &ev);
}

static int dec_update(dec_ctx *c, reader *r)
{
    uint32_t relid;
    uint8_t tag;
    const table_def *t;
    event ev = {.op = EVENT_UPDATE};
    value *before = NULL, *after;
    if (rd_u32(c, r, "relation oid", &relid) < 0 || rd_u8(c, r, "tuple tag", &tag) < 0 ||
        dec_in_tx(c) < 0 || dec_relation_get(c, relid, &t) < 0)
        return -1;
    if (tag == 'K' || tag == 'O') {
        if (dec_tuple(c, r, t, tag == 'K', NULL, &before) < 0)
            return -1;
        ev.before_key_only = tag == 'K';
        if (rd_u8(c, r, "tuple tag", &tag) < 0)
            return -1;
    }
    if (tag != 'N')
        return dec_malformed(c, "expected new tuple 'N', got 0x%02x", tag);
    if (dec_tuple(c, r, t, 0, ev.before_key_only ? NULL : before, &after) < 0 || rd_done(c, r) < 0)
        return -1;
    if (c->dry)
        return 0;
    ev.table = t;
    ev.before = before;
    ev.after = after;
    return dec_emit(c, &ev);
}

static int dec_delete(dec_ctx *c, reader *r)
{
    uint32_t relid;
    uint8_t tag;
    const table_def *t;
    event ev = {.op = EVENT_DELETE};
    value *before;
    if (rd_u32(c, r, "relation oid", &relid) < 0 || rd_u8(c, r, "tuple tag", &tag) < 0)
        return -1;
    if (tag != 'K' && tag != 'O')
        return dec_malformed(c, "expected old tuple 'K' or 'O', got 0x%02x", tag);
    if (dec_in_tx(c) < 0 || dec_relation_get(c, relid, &t) < 0 ||
        dec_tuple(c, r, t, tag == 'K', NULL, &before) < 0 || rd_done(c, r) < 0)
        return -1;
    if (c->dry)
        return 0;
    ev.table = t;
    ev.before = before;
    ev.before_key_only = tag == 'K';
    return dec_emit(c, &ev);
}

static int dec_truncate(dec_ctx *c, reader *r)
{
    uint32_t nrels, relid;
    uint8_t options;
    const table_def *t;
    if (rd_u32(c, r, "relation count", &nrels) < 0 || rd_u8(c, r, "options", &options) < 0)
        return -1;
    if ((size_t)(r->end - r->p) != (size_t)nrels * 4)
        return dec_malformed(c, "%" PRIu32 " relations need %zu bytes, %zu left", nrels, (size_t)nrels * 4,
                             (size_t)(r->end - r->p));
    if (dec_in_tx(c) < 0)
        return -1;
    if (c->dry)
        return 0;
    reader check = *r;   /* every relation must be known before any event goes out */
    for (uint32_t i = 0; i < nrels; i++)
        if (rd_u32(c, &check, "relation oid", &relid) < 0 || dec_relation_get(c, relid, &t) < 0)
            return -1;
    for (uint32_t i = 0; i < nrels; i++) {
        event ev = {.op = EVENT_TRUNCATE};
        if (rd_u32(c, r, "relation oid", &relid) < 0 || dec_relation_get(c, relid, &t) < 0)
            return -1;
        ev.table = t;
        if (dec_emit(c, &ev) < 0)
            return -1;
    }
    return 0;
}

/* A message that may come inside a streamed transaction (with an xid after the type byte). */
static int dec_is_streamable(uint8_t type)
{
    return type == 'I' || type == 'U' || type == 'D' || type == 'T' || type == 'R' || type == 'Y' ||
           type == 'M';
}

/* Decode one transactional or catalog message; has_xid: it carries a streamed xid. */
static int dec_dispatch(dec_ctx *c, uint8_t type, reader *r, int has_xid)
{
    uint32_t xid;
    if (has_xid && rd_u32(c, r, "xid", &xid) < 0)
        return -1;
    switch (type) {
    case 'M': return dec_message(c, r);
    case 'R': return dec_relation(c, r);
    case 'Y': return dec_type(c, r);
    case 'I': return dec_insert(c, r);
    case 'U': return dec_update(c, r);
    case 'D': return dec_delete(c, r);
    case 'T': return dec_truncate(c, r);
    default: return dec_malformed(c, "not a change message");
    }
}

static int dec_stream_start(dec_ctx *c, reader *r)
{
    pg_decoder *d = c->d;
    uint32_t xid;
    uint8_t first;
    if (rd_u32(c, r, "xid", &xid) < 0 || rd_u8(c, r, "first segment", &first) < 0 || rd_done(c, r) < 0)
        return -1;
    d->in_tx = 0;   /* as for Begin: an open transaction here means the stream restarted */
    if (first == 1)   /* streamed (again, after a reconnect) from its start */
        pg_spill_reset(d->spill, xid);
    d->in_stream = 1;
    d->stream_xid = xid;
    return 0;
}

/* Buffer a streamed message (already checked): its subtransaction is the xid after the type
 * byte. Relation and Type messages are tagged with no subtransaction, so a subtransaction abort
 * keeps them: they describe tables, and later messages of the transaction rely on them. */
static int dec_stream_append(dec_ctx *c, const uint8_t *data, size_t len)
{
    pg_decoder *d = c->d;
    char why[512];
    uint32_t subxid = (uint32_t)data[1] << 24 | (uint32_t)data[2] << 16 | (uint32_t)data[3] << 8 | data[4];
    if (data[0] == 'R' || data[0] == 'Y')
        subxid = 0;
    if (pg_spill_append(d->spill, d->stream_xid, c->lsn, subxid, data, len, why, sizeof why) < 0)
        return dec_error(c, "%s", why);
    return 0;
}

static int dec_stream_stop(dec_ctx *c, reader *r)
{
    char why[512];
    if (rd_done(c, r) < 0)
        return -1;
    if (!c->d->in_stream)
        return dec_error(c, "Stream Stop outside a stream");
    c->d->in_stream = 0;
    if (pg_spill_flush(c->d->spill, why, sizeof why) < 0)   /* the segment is complete */
        return dec_error(c, "%s", why);
    return 0;
}

/* One buffered message at Stream Commit, decoded at its own LSN. */
static int dec_stream_replay_one(void *arg, const pg_spill_record *rec)
{
    dec_ctx mc = *(const dec_ctx *)arg;
    mc.lsn = rec->lsn;
    if (rec->len < 5 || !dec_is_streamable(rec->data[0])) {
        mc.what = "buffered";
        return dec_error(&mc, "corrupt record in the stream buffer");
    }
    mc.what = dec_message_name(rec->data[0]);
    reader mr = {rec->data + 1, rec->data + rec->len};
    arena_reset(mc.d->arena);
    return dec_dispatch(&mc, rec->data[0], &mr, 1);
}

/* Replay a streamed transaction's messages through the normal path, then commit. */
static int dec_stream_commit(dec_ctx *c, reader *r)
{
    pg_decoder *d = c->d;
    uint32_t xid;
    uint8_t flags;
    uint64_t commit_lsn, end_lsn, ts;
    int64_t t;
    char why[512];
    int rc = -1;
    if (rd_u32(c, r, "xid", &xid) < 0 || rd_u8(c, r, "flags", &flags) < 0 ||
        rd_u64(c, r, "commit LSN", &commit_lsn) < 0 || rd_u64(c, r, "end LSN", &end_lsn) < 0 ||
        rd_u64(c, r, "commit time", &ts) < 0 || rd_done(c, r) < 0 || dec_time(c, ts, &t) < 0)
        return -1;
    if (d->in_stream || d->in_tx)
        return dec_error(c, "Stream Commit inside a %s", d->in_stream ? "stream" : "transaction");
    d->tx = (tx_info){.xid = xid, .final_lsn = commit_lsn, .end_lsn = 0, .commit_time_us = t};
    d->in_tx = 1;
    d->seq = 0;
    if (c->h->begin && c->h->begin(c->h->arg, &d->tx, c->err, c->errlen) != 0) {
        dec_handler_failed(c);
        goto out;
    }
    if (pg_spill_replay(d->spill, xid, dec_stream_replay_one, c, why, sizeof why) < 0) {
        if (why[0])   /* else the message that failed wrote the reason */
            dec_error(c, "%s", why);
        goto out;
    }
    d->tx.end_lsn = end_lsn;
    d->in_tx = 0;
    if (c->h->commit && c->h->commit(c->h->arg, &d->tx, c->err, c->errlen) != 0) {
        dec_handler_failed(c);
        goto out;
    }
    rc = 0;
out:
    d->in_tx = 0;
    pg_spill_close(d->spill, xid);
    return rc;
}

static int dec_stream_abort(dec_ctx *c, reader *r)
{
    pg_decoder *d = c->d;
    uint32_t xid, subxid;
    char why[512];
    if (rd_u32(c, r, "xid", &xid) < 0 || rd_u32(c, r, "subtransaction xid", &subxid) < 0 || rd_done(c, r) < 0)
        return -1;
    if (d->in_stream)
        return dec_error(c, "Stream Abort inside a stream");
    if (subxid == xid)
        pg_spill_close(d->spill, xid);
    else if (pg_spill_abort_subxact(d->spill, xid, subxid, why, sizeof why) < 0)
        return dec_error(c, "%s", why);
    return 0;
}

/* ---- public ------------------------------------------------------------------------------- */

pg_decoder *pg_decoder_create(pg_schema *schema)
{
    pg_decoder *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    d->schema = schema;
    d->arena = arena_create(64 * 1024);
    d->spill = pg_spill_create(NULL, PG_SPILL_DEFAULT_THRESHOLD);
    if (!d->arena || !d->spill) {
        pg_decoder_destroy(d);
        return NULL;
    }
    return d;
}

void pg_decoder_destroy(pg_decoder *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < d->ntypes; i++)
        free(d->types[i].name);
    free(d->types);
    pg_spill_destroy(d->spill);
    arena_destroy(d->arena);
    free(d);
}

int pg_decoder_feed(pg_decoder *d, uint64_t lsn, const uint8_t *data, size_t len,
                    const pg_decode_handler *h, char *err, size_t errlen)
{
    static const pg_decode_handler no_handler = {0};
    char scratch[256];
    dec_ctx c = {.d = d, .h = h ? h : &no_handler, .lsn = lsn, .err = err, .errlen = errlen};
    if (!err || !errlen) {
        c.err = scratch;
        c.errlen = sizeof scratch;
    }
    c.err[0] = '\0';
    arena_reset(d->arena);
    if (len == 0) {
        c.what = "empty";
        return dec_malformed(&c, "no message type");
    }
    uint8_t type = data[0];
    reader r = {data + 1, data + len};
    if (!(c.what = dec_message_name(type))) {
        char lsn_text[18];
        lsn_format(lsn, lsn_text);
        snprintf(c.err, c.errlen, "unknown message type 0x%02x at %s", type, lsn_text);
        return -1;
    }
    if (d->in_stream && dec_is_streamable(type)) {
        /* part of a streamed transaction: check its structure now, decode it at Stream Commit */
        c.dry = 1;
        if (dec_dispatch(&c, type, &r, 1) < 0)
            return -1;
        return dec_stream_append(&c, data, len);
    }
    switch (type) {
    case 'B': return dec_begin(&c, &r);
    case 'C': return dec_commit(&c, &r);
    case 'O': return dec_origin(&c, &r);
    case 'S': return dec_stream_start(&c, &r);
    case 'E': return dec_stream_stop(&c, &r);
    case 'c': return dec_stream_commit(&c, &r);
    case 'A': return dec_stream_abort(&c, &r);
    default:
        if (d->in_stream)
            return dec_error(&c, "%s inside a stream", c.what);
        return dec_dispatch(&c, type, &r, 0);
    }
}

size_t pg_decoder_footprint(const pg_decoder *d)
{
    return arena_footprint(d->arena) + pg_spill_footprint(d->spill) + d->types_bytes +
           d->captypes * sizeof(type_alias);
}

int pg_decoder_set_spill(pg_decoder *d, const char *dir, size_t threshold)
{
    return pg_spill_configure(d->spill, dir, threshold);
}

void pg_decoder_spill_stats(const pg_decoder *d, pg_spill_stats *out)
{
    pg_spill_stats_get(d->spill, out);
}
