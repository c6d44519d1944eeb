/* Unit tests for capture/pg_decode and capture/pg_schema: hand-built pgoutput messages of every
 * type (protocol 1 and 2, streamed transactions with commit, abort and subtransaction abort),
 * TOAST-unchanged columns with and without an old tuple, key-only images, multi-table truncate,
 * schema versions (in memory and persisted in the store across registries), malformed input
 * (every truncation of every valid message), the seed corpus captured from PostgreSQL 15, and
 * streamed transactions spilled to disk (the same output as in memory; 200 MB through a 1 MiB
 * threshold in bounded memory and in order; unlinked files; spill errors naming xid and LSN). */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "capture/pg_decode.h"
#include "capture/pg_schema.h"
#include "core/buf.h"
#include "core/fs.h"
#include "support/store_fixture.h"

/* ---- a tiny message builder --------------------------------------------------------------- */

typedef struct mb {
    uint8_t b[16384];
    size_t n;
} mb;

static void mb_u8(mb *m, uint8_t v)
{
    assert_true(m->n < sizeof m->b);
    m->b[m->n++] = v;
}
static void mb_u16(mb *m, uint16_t v)
{
    mb_u8(m, (uint8_t)(v >> 8));
    mb_u8(m, (uint8_t)v);
}
static void mb_u32(mb *m, uint32_t v)
{
    mb_u16(m, (uint16_t)(v >> 16));
    mb_u16(m, (uint16_t)v);
}
static void mb_u64(mb *m, uint64_t v)
{
    mb_u32(m, (uint32_t)(v >> 32));
    mb_u32(m, (uint32_t)v);
}
static void mb_str(mb *m, const char *s)
{
    for (; *s; s++)
        mb_u8(m, (uint8_t)*s);
    mb_u8(m, 0);
}
static void mb_start(mb *m, char type, int has_xid, uint32_t xid)
{
    m->n = 0;
    mb_u8(m, (uint8_t)type);
    if (has_xid)
        mb_u32(m, xid);
}

/* TupleData from a column spec string per column: "n" null, "u" unchanged TOAST, else text
 * (a leading 't:' is stripped so that "t:n" is the text "n"). */
static void mb_tuple(mb *m, int n, const char *const *cols)
{
    mb_u16(m, (uint16_t)n);
    for (int i = 0; i < n; i++) {
        if (!strcmp(cols[i], "n") || !strcmp(cols[i], "u")) {
            mb_u8(m, (uint8_t)cols[i][0]);
            continue;
        }
        const char *t = strncmp(cols[i], "t:", 2) == 0 ? cols[i] + 2 : cols[i];
        mb_u8(m, 't');
        mb_u32(m, (uint32_t)strlen(t));
        for (; *t; t++)
            mb_u8(m, (uint8_t)*t);
    }
}

typedef struct col_spec {
    uint8_t key;
    const char *name;
    uint32_t type;
    int32_t typmod;
} col_spec;

static void mb_relation(mb *m, int has_xid, uint32_t xid, uint32_t oid, const char *ns, const char *name,
                        char ident, int ncols, const col_spec *cols)
{
    mb_start(m, 'R', has_xid, xid);
    mb_u32(m, oid);
    mb_str(m, ns);
    mb_str(m, name);
    mb_u8(m, (uint8_t)ident);
    mb_u16(m, (uint16_t)ncols);
    for (int i = 0; i < ncols; i++) {
        mb_u8(m, cols[i].key);
        mb_str(m, cols[i].name);
        mb_u32(m, cols[i].type);
        mb_u32(m, (uint32_t)cols[i].typmod);
    }
}

static void mb_begin(mb *m, uint64_t final_lsn, int64_t pg_time, uint32_t xid)
{
    mb_start(m, 'B', 0, 0);
    mb_u64(m, final_lsn);
    mb_u64(m, (uint64_t)pg_time);
    mb_u32(m, xid);
}

static void mb_commit(mb *m, uint64_t commit_lsn, uint64_t end_lsn, int64_t pg_time)
{
    mb_start(m, 'C', 0, 0);
    mb_u8(m, 0);
    mb_u64(m, commit_lsn);
    mb_u64(m, end_lsn);
    mb_u64(m, (uint64_t)pg_time);
}

static void mb_insert(mb *m, int has_xid, uint32_t xid, uint32_t rel, int n, const char *const *cols)
{
    mb_start(m, 'I', has_xid, xid);
    mb_u32(m, rel);
    mb_u8(m, 'N');
    mb_tuple(m, n, cols);
}

/* old_tag 0, 'K' or 'O' */
static void mb_update(mb *m, int has_xid, uint32_t xid, uint32_t rel, char old_tag, int n,
                      const char *const *old, const char *const *cols)
{
    mb_start(m, 'U', has_xid, xid);
    mb_u32(m, rel);
    if (old_tag) {
        mb_u8(m, (uint8_t)old_tag);
        mb_tuple(m, n, old);
    }
    mb_u8(m, 'N');
    mb_tuple(m, n, cols);
}

static void mb_delete(mb *m, int has_xid, uint32_t xid, uint32_t rel, char tag, int n, const char *const *old)
{
    mb_start(m, 'D', has_xid, xid);
    mb_u32(m, rel);
    mb_u8(m, (uint8_t)tag);
    mb_tuple(m, n, old);
}

static void mb_truncate(mb *m, int has_xid, uint32_t xid, int n, const uint32_t *rels)
{
    mb_start(m, 'T', has_xid, xid);
    mb_u32(m, (uint32_t)n);
    mb_u8(m, 0);
    for (int i = 0; i < n; i++)
        mb_u32(m, rels[i]);
}

static void mb_message(mb *m, int has_xid, uint32_t xid, int transactional, uint64_t lsn, const char *prefix,
                       const char *content)
{
    mb_start(m, 'M', has_xid, xid);
    mb_u8(m, transactional ? 1 : 0);
    mb_u64(m, lsn);
    mb_str(m, prefix);
    mb_u32(m, (uint32_t)strlen(content));
    for (const char *c = content; *c; c++)
        mb_u8(m, (uint8_t)*c);
}

/* ---- a recording handler ------------------------------------------------------------------ */

typedef struct recorder {
    buf log;
    const table_def *last_table;
    int fail;          /* 1: return -1; 2: also write a reason */
} recorder;

static void rec_values(buf *b, const value *v, int n)
{
    buf_puts(b, "[");
    for (int i = 0; i < n; i++) {
        if (i)
            buf_puts(b, ",");
        if (v[i].state == VALUE_IS_NULL)
            buf_puts(b, "null");
        else if (v[i].state == VALUE_UNAVAILABLE)
            buf_puts(b, "?");
        else
            buf_append(b, v[i].s, v[i].len);
    }
    buf_puts(b, "]");
}

static int rec_begin(void *arg, const tx_info *tx, char *err, size_t errlen)
{
    recorder *r = arg;
    buf_printf(&r->log, "begin xid=%" PRIu32 " final=%" PRIX64 " time=%" PRId64 "\n", tx->xid, tx->final_lsn,
               tx->commit_time_us);
    (void)err, (void)errlen;
    return 0;
}

static int rec_commit(void *arg, const tx_info *tx, char *err, size_t errlen)
{
    recorder *r = arg;
    buf_printf(&r->log, "commit xid=%" PRIu32 " final=%" PRIX64 " end=%" PRIX64 "\n", tx->xid, tx->final_lsn,
               tx->end_lsn);
    (void)err, (void)errlen;
    return 0;
}

static int rec_change(void *arg, const event *ev, char *err, size_t errlen)
{
    recorder *r = arg;
    if (r->fail) {
        if (r->fail == 2)
            snprintf(err, errlen, "sink is full");
        return -1;
    }
    r->last_table = ev->table;
    buf_printf(&r->log, "%c %s.%s v%" PRIu32 " seq=%" PRIu64 " lsn=%" PRIX64 " xid=%" PRIu32, ev->op,
               ev->table->schema, ev->table->name, ev->table->version, ev->seq, ev->lsn, ev->tx->xid);
    if (ev->before) {
        buf_puts(&r->log, ev->before_key_only ? " key=" : " before=");
        rec_values(&r->log, ev->before, ev->table->ncols);
    }
    if (ev->after) {
        buf_puts(&r->log, " after=");
        rec_values(&r->log, ev->after, ev->table->ncols);
    }
    buf_puts(&r->log, "\n");
    return 0;
}

static int rec_schema(void *arg, const table_def *def, char *err, size_t errlen)
{
    recorder *r = arg;
    buf_printf(&r->log, "schema %s.%s v%" PRIu32 " ident=%c cols=", def->schema, def->name, def->version,
               def->replica_identity);
    for (int i = 0; i < def->ncols; i++)
        buf_printf(&r->log, "%s%s:%s%s", i ? "," : "", def->cols[i].name, def->cols[i].type_name,
                   def->cols[i].is_key ? "*" : "");
    buf_puts(&r->log, "\n");
    (void)err, (void)errlen;
    return 0;
}

static int rec_message(void *arg, const logical_message *m, char *err, size_t errlen)
{
    recorder *r = arg;
    buf_printf(&r->log, "message %s tx=%d lsn=%" PRIX64 " ", m->prefix, m->transactional, m->lsn);
    buf_append(&r->log, m->content, m->len);
    buf_puts(&r->log, "\n");
    (void)err, (void)errlen;
    return 0;
}

typedef struct harness {
    pg_schema *schema;
    pg_decoder *dec;
    recorder rec;
    pg_decode_handler h;
    char err[512];
    uint64_t lsn;
} harness;

static harness *harness_new(store *st)
{
    harness *t = calloc(1, sizeof *t);
    assert_non_null(t);
    t->schema = pg_schema_create(st);
    t->dec = pg_decoder_create(t->schema);
    assert_non_null(t->schema);
    assert_non_null(t->dec);
    t->h = (pg_decode_handler){.arg = &t->rec, .begin = rec_begin, .commit = rec_commit, .change = rec_change,
                               .schema = rec_schema, .message = rec_message};
    t->lsn = 0x1000;
    return t;
}

static void harness_free(harness *t)
{
    pg_decoder_destroy(t->dec);
    pg_schema_destroy(t->schema);
    buf_free(&t->rec.log);
    free(t);
}

/* Feed m at the next LSN (+0x10 each time); returns what feed returned. */
static int feed(harness *t, const mb *m)
{
    t->lsn += 0x10;
    t->err[0] = '\0';
    return pg_decoder_feed(t->dec, t->lsn, m->b, m->n, &t->h, t->err, sizeof t->err);
}

static void feed_ok(harness *t, const mb *m)
{
    if (feed(t, m) != 0)
        fail_msg("feed of '%c' failed: %s", m->b[0], t->err);
}

static const char *log_take(harness *t)
{
    static char copy[8192];
    snprintf(copy, sizeof copy, "%s", t->rec.log.data ? t->rec.log.data : "");
    buf_reset(&t->rec.log);
    return copy;
}

#define OID_ITEMS 16385u
#define OID_TAGS 16390u
#define OID_FULL 16400u
/* 2024-01-01 00:00:00 UTC in PostgreSQL-epoch microseconds, and in Unix microseconds */
#define PG_TIME INT64_C(757382400000000)
#define UNIX_TIME "1704067200000000"

static const col_spec items_cols[] = {
    {1, "id", 23, -1}, {0, "name", 25, -1}, {0, "body", 25, -1}, {0, "price", 1700, 655366}};
static const col_spec tags_cols[] = {{1, "id", 20, -1}, {0, "tag", 1043, 36}};

static void define_items(harness *t, int has_xid, uint32_t xid)
{
    mb m;
    mb_relation(&m, has_xid, xid, OID_ITEMS, "public", "items", 'd', 4, items_cols);
    feed_ok(t, &m);
}

static void define_tags(harness *t)
{
    mb m;
    mb_relation(&m, 0, 0, OID_TAGS, "shop", "tags", 'd', 2, tags_cols);
    feed_ok(t, &m);
}

/* ---- tests -------------------------------------------------------------------------------- */

static void test_v1_transaction(void **state)
{
    (void)state;
    harness *t = harness_new(NULL);
    mb m;
    define_items(t, 0, 0);
    assert_string_equal(log_take(t),
                        "schema public.items v1 ident=d cols=id:int4*,name:text,body:text,price:numeric\n");

    mb_begin(&m, 0x5000, PG_TIME, 700);
    feed_ok(t, &m);
    mb_start(&m, 'O', 0, 0);   /* Origin: accepted and ignored */
    mb_u64(&m, 0x4000);
    mb_str(&m, "upstream");
    feed_ok(t, &m);
    mb_insert(&m, 0, 0, OID_ITEMS, 4, (const char *const[]){"1", "widget", "n", "12.50"});
    feed_ok(t, &m);
    mb_update(&m, 0, 0, OID_ITEMS, 0, 4, NULL, (const char *const[]){"1", "gadget", "t:n", "13.00"});
    feed_ok(t, &m);
    mb_update(&m, 0, 0, OID_ITEMS, 'K', 4, (const char *const[]){"1", "n", "n", "n"},
              (const char *const[]){"2", "gadget", "n", "13.00"});
    feed_ok(t, &m);
    mb_message(&m, 0, 0, 1, 0x4800, "audit", "hello");
    feed_ok(t, &m);
    mb_delete(&m, 0, 0, OID_ITEMS, 'K', 4, (const char *const[]){"2", "n", "n", "n"});
    feed_ok(t, &m);
    mb_commit(&m, 0x5000, 0x5028, PG_TIME);
    feed_ok(t, &m);
    mb_message(&m, 0, 0, 0, 0x5100, "nontx", "bye");
    feed_ok(t, &m);
    assert_string_equal(log_take(t),
                        "begin xid=700 final=5000 time=" UNIX_TIME "\n"
                        "c public.items v1 seq=0 lsn=1040 xid=700 after=[1,widget,null,12.50]\n"
                        "u public.items v1 seq=1 lsn=1050 xid=700 after=[1,gadget,n,13.00]\n"
                        "u public.items v1 seq=2 lsn=1060 xid=700 key=[1,?,?,?] after=[2,gadget,null,13.00]\n"
                        "message audit tx=1 lsn=4800 hello\n"
                        "d public.items v1 seq=3 lsn=1080 xid=700 key=[2,?,?,?]\n"
                        "commit xid=700 final=5000 end=5028\n"
                        "message nontx tx=0 lsn=5100 bye\n");

    /* the next transaction counts from 0 again */
    mb_begin(&m, 0x6000, PG_TIME, 701);
    feed_ok(t, &m);
    mb_insert(&m, 0, 0, OID_ITEMS, 4, (const char *const[]){"3", "x", "y", "NaN"});
    feed_ok(t, &m);
    mb_commit(&m, 0x6000, 0x6030, PG_TIME);
    feed_ok(t, &m);
    assert_non_null(strstr(log_take(t), "seq=0 lsn=10C0 xid=701 after=[3,x,y,NaN]"));
    harness_free(t);
}

static void test_toast(void **state)
{
    (void)state;
    harness *t = harness_new(NULL);
    static const col_spec full_cols[] = {{1, "id", 23, -1}, {1, "doc", 25, -1}, {1, "n", 23, -1}};
    mb m;
    define_items(t, 0, 0);
    mb_relation(&m, 0, 0, OID_FULL, "public", "full", 'f', 3, full_cols);
    feed_ok(t, &m);
    log_take(t);
    mb_begin(&m, 0x7000, PG_TIME, 9);
    feed_ok(t, &m);
    /* REPLICA IDENTITY DEFAULT: no old tuple, so the unchanged TOAST value is unavailable */
    mb_update(&m, 0, 0, OID_ITEMS, 0, 4, NULL, (const char *const[]){"1", "a", "u", "1.00"});
    feed_ok(t, &m);
    /* FULL: the old tuple has it */
    mb_update(&m, 0, 0, OID_FULL, 'O', 3, (const char *const[]){"5", "long document", "1"},
              (const char *const[]){"5", "u", "2"});
    feed_ok(t, &m);
    /* FULL, but the old tuple's value was itself not sent */
    mb_update(&m, 0, 0, OID_FULL, 'O', 3, (const char *const[]){"5", "u", "2"},
              (const char *const[]){"5", "u", "3"});
    feed_ok(t, &m);
    mb_delete(&m, 0, 0, OID_FULL, 'O', 3, (const char *const[]){"5", "n", "3"});
    feed_ok(t, &m);
    mb_commit(&m, 0x7000, 0x7010, PG_TIME);
    feed_ok(t, &m);
    assert_string_equal(log_take(t),
                        "begin xid=9 final=7000 time=" UNIX_TIME "\n"
                        "u public.items v1 seq=0 lsn=1040 xid=9 after=[1,a,?,1.00]\n"
                        "u public.full v1 seq=1 lsn=1050 xid=9 before=[5,long document,1] after=[5,long document,2]\n"
                        "u public.full v1 seq=2 lsn=1060 xid=9 before=[5,?,2] after=[5,?,3]\n"
                        "d public.full v1 seq=3 lsn=1070 xid=9 before=[5,null,3]\n"
                        "commit xid=9 final=7000 end=7010\n");
    harness_free(t);
}

static void test_truncate(void **state)
{
    (void)state;
    harness *t = harness_new(NULL);
    mb m;
    define_items(t, 0, 0);
    define_tags(t);
    log_take(t);
    mb_begin(&m, 0x8000, PG_TIME, 11);
    feed_ok(t, &m);
    mb_truncate(&m, 0, 0, 2, (const uint32_t[]){OID_TAGS, OID_ITEMS});
    feed_ok(t, &m);
    /* one unknown relation: an error, and no event for the known one */
    mb_truncate(&m, 0, 0, 2, (const uint32_t[]){OID_TAGS, 999});
    assert_int_equal(feed(t, &m), -1);
    assert_non_null(strstr(t->err, "unknown relation oid 999"));
    assert_non_null(strstr(t->err, "Truncate message at 0/1050"));
    mb_commit(&m, 0x8000, 0x8010, PG_TIME);
    feed_ok(t, &m);
    assert_string_equal(log_take(t),
                        "begin xid=11 final=8000 time=" UNIX_TIME "\n"
                        "t shop.tags v1 seq=0 lsn=1040 xid=11\n"
                        "t public.items v1 seq=1 lsn=1040 xid=11\n"
                        "commit xid=11 final=8000 end=8010\n");
    harness_free(t);
}

static void test_schema_versions(void **state)
{
    (void)state;
    harness *t = harness_new(NULL);
    mb m;
    define_items(t, 0, 0);
    define_items(t, 0, 0);   /* unchanged: no new version, no callback */
    assert_string_equal(log_take(t),
                        "schema public.items v1 ident=d cols=id:int4*,name:text,body:text,price:numeric\n");
    mb_begin(&m, 0x9000, PG_TIME, 12);
    feed_ok(t, &m);
    mb_insert(&m, 0, 0, OID_ITEMS, 4, (const char *const[]){"1", "a", "b", "1"});
    feed_ok(t, &m);
    const table_def *v1 = t->rec.last_table;
    assert_int_equal(v1->version, 1);

    /* a Type message names a user type; a column of an unannounced type gets its oid */
    mb_start(&m, 'Y', 0, 0);
    mb_u32(&m, 17000);
    mb_str(&m, "public");
    mb_str(&m, "mood");
    feed_ok(t, &m);
    static const col_spec v2_cols[] = {{1, "id", 23, -1}, {0, "name", 25, -1}, {0, "body", 25, -1},
                                       {0, "price", 1700, 655366}, {0, "mood", 17000, -1},
                                       {0, "other", 17001, -1}};
    mb_relation(&m, 0, 0, OID_ITEMS, "public", "items", 'd', 6, v2_cols);
    feed_ok(t, &m);
    mb_insert(&m, 0, 0, OID_ITEMS, 6, (const char *const[]){"2", "a", "b", "1", "happy", "x"});
    feed_ok(t, &m);
    /* the old tuple shape is now an error: 4 columns for a 6-column table */
    mb_insert(&m, 0, 0, OID_ITEMS, 4, (const char *const[]){"3", "a", "b", "1"});
    assert_int_equal(feed(t, &m), -1);
    assert_non_null(strstr(t->err, "tuple has 4 columns"));
    /* replica identity change alone is a new version too */
    mb_relation(&m, 0, 0, OID_ITEMS, "public", "items", 'f', 6, v2_cols);
    feed_ok(t, &m);
    mb_commit(&m, 0x9000, 0x9010, PG_TIME);
    feed_ok(t, &m);
    assert_string_equal(log_take(t),
                        "begin xid=12 final=9000 time=" UNIX_TIME "\n"
                        "c public.items v1 seq=0 lsn=1040 xid=12 after=[1,a,b,1]\n"
                        "schema public.items v2 ident=d cols=id:int4*,name:text,body:text,price:numeric,"
                        "mood:public.mood,other:17001\n"
                        "c public.items v2 seq=1 lsn=1070 xid=12 after=[2,a,b,1,happy,x]\n"
                        "schema public.items v3 ident=f cols=id:int4*,name:text,body:text,price:numeric,"
                        "mood:public.mood,other:17001\n"
                        "commit xid=12 final=9000 end=9010\n");
    /* the version 1 definition is still valid */
    assert_int_equal(v1->version, 1);
    assert_int_equal(v1->ncols, 4);
    assert_string_equal(v1->cols[3].name, "price");
    assert_int_equal(v1->cols[3].typmod, 655366);
    assert_int_equal(pg_schema_get(t->schema, OID_ITEMS)->version, 3);
    assert_null(pg_schema_get(t->schema, 4242));
    harness_free(t);
}

/* The event key is the primary key, whatever the replica identity: the handler's complete
 * callback says which columns form it; without one, a table keeps what its previous version
 * said, and a new table takes its replica identity under DEFAULT only. */
static int complete_calls;

static int complete_name_pk(void *arg, table_def *def, arena *a, char *err, size_t errlen)
{
    (void)arg, (void)err, (void)errlen;
    complete_calls++;
    for (int i = 0; i < def->ncols; i++) {
        def->cols[i].is_pk = strcmp(def->cols[i].name, "name") == 0;
        def->cols[i].not_null = def->cols[i].is_pk;
        def->cols[i].enum_labels = strcmp(def->cols[i].name, "body") == 0 ? arena_strndup(a, "sad,ok", 6) : NULL;
    }
    return 1;
}

static int complete_fails(void *arg, table_def *def, arena *a, char *err, size_t errlen)
{
    (void)arg, (void)def, (void)a;
    snprintf(err, errlen, "catalog query failed");
    return -1;
}

static void test_primary_key(void **state)
{
    (void)state;
    harness *t = harness_new(NULL);
    mb m;
    static const col_spec full_cols[] = {
        {1, "id", 23, -1}, {1, "name", 25, -1}, {1, "body", 25, -1}, {1, "price", 1700, 655366}};
    define_items(t, 0, 0);
    const table_def *d = pg_schema_get(t->schema, OID_ITEMS);
    assert_true(d->cols[0].is_pk && d->cols[0].not_null && !d->cols[1].is_pk && !d->cols[1].not_null);
    /* ALTER TABLE items REPLICA IDENTITY FULL: every column is in the identity, the key stays id */
    mb_relation(&m, 0, 0, OID_ITEMS, "public", "items", 'f', 4, full_cols);
    feed_ok(t, &m);
    d = pg_schema_get(t->schema, OID_ITEMS);
    assert_int_equal(d->version, 2);
    for (int i = 0; i < 4; i++) {
        assert_true(d->cols[i].is_key);
        assert_int_equal(d->cols[i].is_pk, i == 0);
    }
    /* a table first seen under FULL has no key without the catalogs */
    mb_relation(&m, 0, 0, OID_FULL, "public", "full", 'f', 4, full_cols);
    feed_ok(t, &m);
    d = pg_schema_get(t->schema, OID_FULL);
    for (int i = 0; i < 4; i++)
        assert_false(d->cols[i].is_pk);

    /* the catalogs' word wins, and a change in it is a new version */
    t->h.complete = complete_name_pk;
    mb_relation(&m, 0, 0, OID_FULL, "public", "full", 'f', 4, full_cols);
    feed_ok(t, &m);
    assert_int_equal(complete_calls, 1);
    d = pg_schema_get(t->schema, OID_FULL);
    assert_int_equal(d->version, 2);
    assert_true(d->cols[1].is_pk && d->cols[1].not_null && !d->cols[0].is_pk);
    assert_string_equal(d->cols[2].enum_labels, "sad,ok");
    assert_null(d->cols[1].enum_labels);
    /* the labels are the registry's copy, not the decoder's arena */
    mb_begin(&m, 0x9000, PG_TIME, 12);
    feed_ok(t, &m);
    assert_string_equal(pg_schema_get(t->schema, OID_FULL)->cols[2].enum_labels, "sad,ok");

    /* a failing lookup stops decoding with its reason */
    t->h.complete = complete_fails;
    mb_relation(&m, 0, 0, OID_FULL, "public", "full", 'd', 4, full_cols);
    assert_int_equal(feed(t, &m), -1);
    assert_non_null(strstr(t->err, "catalog query failed"));
    harness_free(t);
}

static int count_versions(store *st, uint32_t oid)
{
    sqlite3_stmt *stmt = NULL;
    int n = -1;
    if (sqlite3_prepare_v2(store_db(st), "SELECT count(*) FROM schema_versions WHERE table_oid = ?", -1, &stmt,
                           NULL) == SQLITE_OK) {
        sqlite3_bind_int64(stmt, 1, oid);
        if (sqlite3_step(stmt) == SQLITE_ROW)
            n = sqlite3_column_int(stmt, 0);
    }
    sqlite3_finalize(stmt);
    return n;
}

static void test_persisted_versions(void **state)
{
    (void)state;
    store_fixture *f = store_fixture_create("pg_decode");
    assert_non_null(f);
    harness *t = harness_new(f->st);
    mb m;
    static const col_spec more_cols[] = {{1, "id", 23, -1}, {0, "name", 25, -1}, {0, "body", 25, -1},
                                         {0, "price", 1700, 655366}, {0, "qty", 21, -1}};
    define_items(t, 0, 0);
    mb_relation(&m, 0, 0, OID_ITEMS, "public", "items", 'd', 5, more_cols);
    feed_ok(t, &m);
    assert_non_null(strstr(log_take(t), "schema public.items v2"));
    harness_free(t);
    assert_int_equal(count_versions(f->st, OID_ITEMS), 2);

    /* the recorded row */
    sqlite3_stmt *stmt = NULL;
    assert_int_equal(sqlite3_prepare_v2(store_db(f->st),
                                        "SELECT schema_name, table_name, columns, lsn FROM schema_versions "
                                        "WHERE table_oid = ? AND version = 2",
                                        -1, &stmt, NULL),
                     SQLITE_OK);
    sqlite3_bind_int64(stmt, 1, OID_ITEMS);
    assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(stmt, 0), "public");
    assert_string_equal((const char *)sqlite3_column_text(stmt, 1), "items");
    assert_non_null(strstr((const char *)sqlite3_column_text(stmt, 2),
                           "{\"name\":\"qty\",\"type\":\"int2\",\"type_oid\":21,\"typmod\":-1,\"key\":false,"
                           "\"pk\":false,\"not_null\":false,\"enum\":null}"));
    assert_non_null(strstr((const char *)sqlite3_column_text(stmt, 2), "\"name\":\"id\",\"type\":\"int4\""));
    assert_string_equal((const char *)sqlite3_column_text(stmt, 3), "0/1020");
    sqlite3_finalize(stmt);

    /* a new registry on the same store: the same definition keeps version 2 (nothing recorded) */
    t = harness_new(f->st);
    feed_ok(t, &m);
    assert_non_null(strstr(log_take(t), "schema public.items v2"));
    assert_int_equal(count_versions(f->st, OID_ITEMS), 2);
    define_items(t, 0, 0);   /* back to 4 columns: version 3 */
    assert_non_null(strstr(log_take(t), "schema public.items v3"));
    harness_free(t);
    assert_int_equal(count_versions(f->st, OID_ITEMS), 3);

    /* and a registry whose first proposal differs from the newest recorded one goes to 4 */
    pg_schema *s = pg_schema_create(f->st);
    char err[256];
    int changed = 0;
    table_def def = {.oid = OID_ITEMS, .schema = "public", .name = "items", .replica_identity = 'd', .ncols = 1,
                     .cols = (column_def[]){{.name = "id", .type_oid = 20, .typmod = -1, .type_name = "int8",
                                             .kind = VALUE_INT64, .is_key = 1}}};
    const table_def *cur = pg_schema_update(s, &def, 0x2000, &changed, err, sizeof err);
    assert_non_null(cur);
    assert_int_equal(changed, 1);
    assert_int_equal(cur->version, 4);
    assert_true(cur != &def && cur->cols != def.cols);
    assert_string_equal(cur->cols[0].type_name, "int8");
    assert_ptr_equal(pg_schema_update(s, &def, 0x2100, &changed, err, sizeof err), cur);
    assert_int_equal(changed, 0);
    pg_schema_destroy(s);
    store_fixture_destroy(f);
}

static void test_stream_v2(void **state)
{
    (void)state;
    harness *t = harness_new(NULL);
    mb m;
    define_tags(t);
    log_take(t);
    size_t base = pg_decoder_footprint(t->dec);

    /* streamed transaction 100 with subtransaction 101 */
    mb_start(&m, 'S', 0, 0);
    mb_u32(&m, 100);
    mb_u8(&m, 1);
    feed_ok(t, &m);                                                            /* 1020 */
    define_items(t, 1, 100);                                                   /* 1030 */
    mb_insert(&m, 1, 100, OID_ITEMS, 4, (const char *const[]){"1", "a", "b", "1"});
    feed_ok(t, &m);                                                            /* 1040 */
    mb_insert(&m, 1, 101, OID_ITEMS, 4, (const char *const[]){"2", "sub", "b", "1"});
    feed_ok(t, &m);                                                            /* 1050 */
    mb_start(&m, 'E', 0, 0);
    feed_ok(t, &m);                                                            /* 1060 */
    assert_string_equal(log_take(t), "");   /* nothing decoded yet, not even the schema */
    assert_true(pg_decoder_footprint(t->dec) >= base + 4096);

    /* an ordinary transaction in between */
    mb_begin(&m, 0xA000, PG_TIME, 99);
    feed_ok(t, &m);                                                            /* 1070 */
    mb_insert(&m, 0, 0, OID_TAGS, 2, (const char *const[]){"7", "red"});
    feed_ok(t, &m);                                                            /* 1080 */
    mb_commit(&m, 0xA000, 0xA010, PG_TIME);
    feed_ok(t, &m);                                                            /* 1090 */

    mb_start(&m, 'S', 0, 0);
    mb_u32(&m, 100);
    mb_u8(&m, 0);
    feed_ok(t, &m);                                                            /* 10A0 */
    mb_update(&m, 1, 101, OID_ITEMS, 0, 4, NULL, (const char *const[]){"2", "sub2", "u", "1"});
    feed_ok(t, &m);                                                            /* 10B0 */
    mb_delete(&m, 1, 100, OID_ITEMS, 'K', 4, (const char *const[]){"1", "n", "n", "n"});
    feed_ok(t, &m);                                                            /* 10C0 */
    mb_truncate(&m, 1, 100, 1, (const uint32_t[]){OID_TAGS});
    feed_ok(t, &m);                                                            /* 10D0 */
    mb_message(&m, 1, 100, 1, 0xB000, "streamed", "msg");
    feed_ok(t, &m);                                                            /* 10E0 */
    mb_start(&m, 'E', 0, 0);
    feed_ok(t, &m);                                                            /* 10F0 */

    /* subtransaction 101 aborts, then the transaction commits */
    mb_start(&m, 'A', 0, 0);
    mb_u32(&m, 100);
    mb_u32(&m, 101);
    feed_ok(t, &m);                                                            /* 1100 */
    mb_start(&m, 'c', 0, 0);
    mb_u32(&m, 100);
    mb_u8(&m, 0);
    mb_u64(&m, 0xC000);
    mb_u64(&m, 0xC040);
    mb_u64(&m, (uint64_t)PG_TIME);
    feed_ok(t, &m);                                                            /* 1110 */
    assert_string_equal(log_take(t),
                        "begin xid=99 final=A000 time=" UNIX_TIME "\n"
                        "c shop.tags v1 seq=0 lsn=1080 xid=99 after=[7,red]\n"
                        "commit xid=99 final=A000 end=A010\n"
                        "begin xid=100 final=C000 time=" UNIX_TIME "\n"
                        "schema public.items v1 ident=d cols=id:int4*,name:text,body:text,price:numeric\n"
                        "c public.items v1 seq=0 lsn=1040 xid=100 after=[1,a,b,1]\n"
                        "d public.items v1 seq=1 lsn=10C0 xid=100 key=[1,?,?,?]\n"
                        "t shop.tags v1 seq=2 lsn=10D0 xid=100\n"
                        "message streamed tx=1 lsn=B000 msg\n"
                        "commit xid=100 final=C000 end=C040\n");
    assert_true(pg_decoder_footprint(t->dec) < base + 1024);   /* the buffer is gone */

    /* a streamed transaction that aborts entirely */
    mb_start(&m, 'S', 0, 0);
    mb_u32(&m, 200);
    mb_u8(&m, 1);
    feed_ok(t, &m);
    mb_insert(&m, 1, 200, OID_ITEMS, 4, (const char *const[]){"9", "a", "b", "1"});
    feed_ok(t, &m);
    mb_start(&m, 'E', 0, 0);
    feed_ok(t, &m);
    assert_true(pg_decoder_footprint(t->dec) >= base + 4096);
    mb_start(&m, 'A', 0, 0);
    mb_u32(&m, 200);
    mb_u32(&m, 200);
    feed_ok(t, &m);
    assert_true(pg_decoder_footprint(t->dec) < base + 1024);   /* the buffer is gone */
    assert_string_equal(log_take(t), "");

    /* a bad value inside a streamed transaction is reported at commit, with its own LSN */
    mb_start(&m, 'S', 0, 0);
    mb_u32(&m, 300);
    mb_u8(&m, 1);
    feed_ok(t, &m);
    mb_insert(&m, 1, 300, OID_ITEMS, 4, (const char *const[]){"x1", "a", "b", "1"});
    feed_ok(t, &m);
    uint64_t bad_lsn = t->lsn;
    mb_start(&m, 'E', 0, 0);
    feed_ok(t, &m);
    mb_start(&m, 'c', 0, 0);
    mb_u32(&m, 300);
    mb_u8(&m, 0);
    mb_u64(&m, 0xD000);
    mb_u64(&m, 0xD040);
    mb_u64(&m, (uint64_t)PG_TIME);
    assert_int_equal(feed(t, &m), -1);
    char lsn_text[18];
    lsn_format(bad_lsn, lsn_text);
    assert_non_null(strstr(t->err, lsn_text));
    assert_non_null(strstr(t->err, "table public.items column id"));
    assert_true(pg_decoder_footprint(t->dec) < base + 1024);   /* the buffer is gone */
    harness_free(t);
}

static void test_errors(void **state)
{
    (void)state;
    harness *t = harness_new(NULL);
    mb m;
    define_items(t, 0, 0);
    log_take(t);

    mb_start(&m, 'Z', 0, 0);
    assert_int_equal(feed(t, &m), -1);
    assert_non_null(strstr(t->err, "unknown message type 0x5a at 0/1020"));

    mb_insert(&m, 0, 0, OID_ITEMS, 4, (const char *const[]){"1", "a", "b", "1"});
    assert_int_equal(feed(t, &m), -1);
    assert_non_null(strstr(t->err, "outside a transaction"));

    mb_begin(&m, 0x5000, PG_TIME, 1);
    feed_ok(t, &m);
    mb_insert(&m, 0, 0, 4242, 4, (const char *const[]){"1", "a", "b", "1"});
    assert_int_equal(feed(t, &m), -1);
    assert_non_null(strstr(t->err, "unknown relation oid 4242"));

    /* a bad value names the table, the column and the LSN */
    mb_insert(&m, 0, 0, OID_ITEMS, 4, (const char *const[]){"1", "a", "b", "12,5"});
    assert_int_equal(feed(t, &m), -1);
    assert_non_null(strstr(t->err, "Insert message at 0/1060: table public.items column price: invalid numeric"));

    /* binary columns, unknown column kinds, oversize lengths, trailing bytes */
    mb_insert(&m, 0, 0, OID_ITEMS, 4, (const char *const[]){"1", "a", "b", "1"});
    m.b[8] = 'b';   /* the first column's kind */
    assert_int_equal(feed(t, &m), -1);
    assert_non_null(strstr(t->err, "binary"));
    m.b[8] = 'x';
    assert_int_equal(feed(t, &m), -1);
    assert_non_null(strstr(t->err, "unknown kind"));
    mb_insert(&m, 0, 0, OID_ITEMS, 4, (const char *const[]){"1", "a", "b", "1"});
    m.b[9] = 0x7f;   /* the first column's length */
    assert_int_equal(feed(t, &m), -1);
    assert_non_null(strstr(t->err, "malformed Insert message at 0/1090: tuple column 1 length"));
    mb_insert(&m, 0, 0, OID_ITEMS, 4, (const char *const[]){"1", "a", "b", "1"});
    mb_u8(&m, 0);
    assert_int_equal(feed(t, &m), -1);
    assert_non_null(strstr(t->err, "1 trailing bytes"));
    mb_start(&m, 'E', 0, 0);
    assert_int_equal(feed(t, &m), -1);
    assert_non_null(strstr(t->err, "outside a stream"));

    /* handler failures */
    mb_insert(&m, 0, 0, OID_ITEMS, 4, (const char *const[]){"1", "a", "b", "1"});
    t->rec.fail = 1;
    assert_int_equal(feed(t, &m), -1);
    assert_string_equal(t->err, "handler failed");
    t->rec.fail = 2;
    assert_int_equal(feed(t, &m), -1);
    assert_string_equal(t->err, "sink is full");
    t->rec.fail = 0;
    feed_ok(t, &m);
    assert_int_equal(pg_decoder_feed(t->dec, 1, NULL, 0, &t->h, t->err, sizeof t->err), -1);
    assert_non_null(strstr(t->err, "0/1"));
    harness_free(t);
}

/* Every proper prefix of every valid message fails with the LSN in the reason, never crashes. */
enum { CTX_NONE, CTX_TX, CTX_STREAM };

static void check_prefixes(const mb *m, int ctx)
{
    for (size_t n = 0; n < m->n; n++) {
        harness *t = harness_new(NULL);
        mb setup;
        define_items(t, 0, 0);
        define_tags(t);
        if (ctx == CTX_TX) {
            mb_begin(&setup, 0x100, PG_TIME, 5);
            feed_ok(t, &setup);
        } else if (ctx == CTX_STREAM) {
            mb_start(&setup, 'S', 0, 0);
            mb_u32(&setup, 100);
            mb_u8(&setup, 1);
            feed_ok(t, &setup);
        }
        uint8_t *copy = malloc(n ? n : 1);   /* exact size, so ASan sees any over-read */
        memcpy(copy, m->b, n);
        t->err[0] = '\0';
        int rc = pg_decoder_feed(t->dec, 0x16B3748, n ? copy : NULL, n, &t->h, t->err, sizeof t->err);
        if (rc != -1 || !strstr(t->err, "0/16B3748"))
            fail_msg("message '%c' cut to %zu of %zu bytes: rc %d, err '%s'", m->b[0], n, m->n, rc, t->err);
        free(copy);
        harness_free(t);
    }
}

static void test_truncations(void **state)
{
    (void)state;
    mb m;
    const char *const row[] = {"1", "a", "u", "12.5"};
    const char *const key[] = {"1", "n", "n", "n"};
    mb_begin(&m, 0x5000, PG_TIME, 1);
    check_prefixes(&m, CTX_NONE);
    mb_commit(&m, 0x5000, 0x5010, PG_TIME);
    check_prefixes(&m, CTX_TX);
    mb_start(&m, 'O', 0, 0);
    mb_u64(&m, 1);
    mb_str(&m, "origin");
    check_prefixes(&m, CTX_TX);
    mb_relation(&m, 0, 0, OID_FULL, "public", "full", 'f', 4, items_cols);
    check_prefixes(&m, CTX_NONE);
    mb_start(&m, 'Y', 0, 0);
    mb_u32(&m, 17000);
    mb_str(&m, "public");
    mb_str(&m, "mood");
    check_prefixes(&m, CTX_NONE);
    for (int s = 0; s <= 1; s++) {   /* plain, and inside a stream (with an xid) */
        int ctx = s ? CTX_STREAM : CTX_TX;
        mb_insert(&m, s, 100, OID_ITEMS, 4, row);
        check_prefixes(&m, ctx);
        mb_update(&m, s, 100, OID_ITEMS, 0, 4, NULL, row);
        check_prefixes(&m, ctx);
        mb_update(&m, s, 100, OID_ITEMS, 'K', 4, key, row);
        check_prefixes(&m, ctx);
        mb_update(&m, s, 100, OID_ITEMS, 'O', 4, row, row);
        check_prefixes(&m, ctx);
        mb_delete(&m, s, 100, OID_ITEMS, 'K', 4, key);
        check_prefixes(&m, ctx);
        mb_truncate(&m, s, 100, 2, (const uint32_t[]){OID_ITEMS, OID_TAGS});
        check_prefixes(&m, ctx);
        mb_message(&m, s, 100, 1, 0x10, "p", "content");
        check_prefixes(&m, ctx);
        mb_relation(&m, s, 100, OID_FULL, "public", "full", 'f', 4, items_cols);
        check_prefixes(&m, s ? CTX_STREAM : CTX_NONE);
    }
    mb_start(&m, 'S', 0, 0);
    mb_u32(&m, 100);
    mb_u8(&m, 1);
    check_prefixes(&m, CTX_NONE);
    mb_start(&m, 'E', 0, 0);
    check_prefixes(&m, CTX_STREAM);
    mb_start(&m, 'c', 0, 0);
    mb_u32(&m, 100);
    mb_u8(&m, 0);
    mb_u64(&m, 1);
    mb_u64(&m, 2);
    mb_u64(&m, 3);
    check_prefixes(&m, CTX_NONE);
    mb_start(&m, 'A', 0, 0);
    mb_u32(&m, 100);
    mb_u32(&m, 101);
    check_prefixes(&m, CTX_NONE);
}

/* The seed corpus (captured from PostgreSQL 15, see its README.md) decodes without error. */
static void test_captured_corpus(void **state)
{
    (void)state;
    char dir[1024];
    snprintf(dir, sizeof dir, "%s", __FILE__);
    char *slash = strrchr(dir, '/');
    assert_non_null(slash);
    snprintf(slash, sizeof dir - (size_t)(slash - dir), "/../fuzz/corpus/pg_decode");
    DIR *dh = opendir(dir);
    assert_non_null(dh);
    struct dirent *de;
    int files = 0;
    size_t changes = 0, streamed = 0;
    while ((de = readdir(dh))) {
        if (!strstr(de->d_name, ".bin"))
            continue;
        char path[1400];
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        FILE *fp = fopen(path, "rb");
        assert_non_null(fp);
        static uint8_t data[1 << 20];
        size_t size = fread(data, 1, sizeof data, fp);
        fclose(fp);
        harness *t = harness_new(NULL);
        for (size_t off = 0; off + 2 <= size;) {
            size_t len = (size_t)data[off] << 8 | data[off + 1];
            off += 2;
            assert_true(len <= size - off);
            t->lsn += 0x10;
            if (pg_decoder_feed(t->dec, t->lsn, data + off, len, &t->h, t->err, sizeof t->err) != 0)
                fail_msg("%s at offset %zu: %s", de->d_name, off, t->err);
            off += len;
        }
        const char *log = log_take(t);
        for (const char *p = log; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
            if ((p[0] == 'c' || p[0] == 'u' || p[0] == 'd' || p[0] == 't') && p[1] == ' ')
                changes++;
        if (strstr(de->d_name, "stream") && strstr(log, "public.t_stream"))
            streamed++;
        harness_free(t);
        files++;
    }
    closedir(dh);
    assert_true(files >= 2);
    assert_true(changes > 10);
    assert_int_equal(streamed, 1);
}

/* ---- spilling streamed transactions to disk ----------------------------------------------- */

static void mb_stream_start(mb *m, uint32_t xid, int first)
{
    mb_start(m, 'S', 0, 0);
    mb_u32(m, xid);
    mb_u8(m, (uint8_t)first);
}

static void mb_stream_abort(mb *m, uint32_t xid, uint32_t subxid)
{
    mb_start(m, 'A', 0, 0);
    mb_u32(m, xid);
    mb_u32(m, subxid);
}

static void mb_stream_commit(mb *m, uint32_t xid, uint64_t commit_lsn, uint64_t end_lsn)
{
    mb_start(m, 'c', 0, 0);
    mb_u32(m, xid);
    mb_u8(m, 0);
    mb_u64(m, commit_lsn);
    mb_u64(m, end_lsn);
    mb_u64(m, (uint64_t)PG_TIME);
}

static int dir_entries(const char *dir)
{
    int n = 0;
    DIR *dh = opendir(dir);
    assert_non_null(dh);
    for (struct dirent *de; (de = readdir(dh));)
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
            n++;
    closedir(dh);
    return n;
}

/* Interleaved streamed transactions with subtransaction aborts (one of them sent the Relation
 * message, which is kept) and a top-level abort; returns the log. With spill_dir set, everything
 * spills (threshold 0) and no file may be visible in spill_dir. */
static char *stream_scenario(const char *spill_dir)
{
    harness *t = harness_new(NULL);
    mb m;
    if (spill_dir)
        assert_int_equal(pg_decoder_set_spill(t->dec, spill_dir, 0), 0);
    define_tags(t);
    mb_stream_start(&m, 100, 1);
    feed_ok(t, &m);
    define_items(t, 1, 101);   /* sent by subtransaction 101, which aborts */
    mb_insert(&m, 1, 100, OID_ITEMS, 4, (const char *const[]){"1", "a", "b", "1"});
    feed_ok(t, &m);
    mb_insert(&m, 1, 101, OID_ITEMS, 4, (const char *const[]){"2", "sub", "b", "1"});
    feed_ok(t, &m);
    mb_start(&m, 'E', 0, 0);
    feed_ok(t, &m);
    mb_stream_start(&m, 200, 1);
    feed_ok(t, &m);
    mb_insert(&m, 1, 200, OID_TAGS, 2, (const char *const[]){"7", "red"});
    feed_ok(t, &m);
    mb_insert(&m, 1, 201, OID_TAGS, 2, (const char *const[]){"8", "aborted"});
    feed_ok(t, &m);
    mb_start(&m, 'E', 0, 0);
    feed_ok(t, &m);
    mb_stream_start(&m, 100, 0);
    feed_ok(t, &m);
    mb_update(&m, 1, 102, OID_ITEMS, 0, 4, NULL, (const char *const[]){"1", "upd", "u", "2"});
    feed_ok(t, &m);
    mb_insert(&m, 1, 100, OID_ITEMS, 4, (const char *const[]){"3", "c", "d", "3"});
    feed_ok(t, &m);
    mb_message(&m, 1, 101, 1, 0xB000, "aborted", "msg");
    feed_ok(t, &m);
    mb_start(&m, 'E', 0, 0);
    feed_ok(t, &m);
    mb_stream_abort(&m, 100, 101);
    feed_ok(t, &m);
    mb_stream_abort(&m, 200, 201);
    feed_ok(t, &m);
    mb_stream_start(&m, 300, 1);
    feed_ok(t, &m);
    mb_insert(&m, 1, 300, OID_TAGS, 2, (const char *const[]){"9", "gone"});
    feed_ok(t, &m);
    mb_start(&m, 'E', 0, 0);
    feed_ok(t, &m);
    pg_spill_stats st;
    pg_decoder_spill_stats(t->dec, &st);
    if (spill_dir) {
        assert_int_equal(st.files_open, 3);
        assert_int_equal(dir_entries(spill_dir), 0);
    } else {
        assert_int_equal(st.spilled_txns, 0);
    }
    mb_stream_abort(&m, 300, 300);
    feed_ok(t, &m);
    mb_stream_commit(&m, 200, 0xC000, 0xC010);
    feed_ok(t, &m);
    mb_stream_commit(&m, 100, 0xD000, 0xD010);
    feed_ok(t, &m);
    pg_decoder_spill_stats(t->dec, &st);
    assert_int_equal(st.files_open, 0);
    assert_int_equal(st.spilled_txns, spill_dir ? 3 : 0);
    char *log = strdup(log_take(t));
    harness_free(t);
    return log;
}

static void test_stream_spill(void **state)
{
    (void)state;
    char dir[512];
    assert_non_null(store_fixture_tmpdir(dir, sizeof dir, "spill"));
    char *mem = stream_scenario(NULL);
    char *disk = stream_scenario(dir);
    assert_string_equal(mem,
                        "schema shop.tags v1 ident=d cols=id:int8*,tag:varchar\n"
                        "begin xid=200 final=C000 time=" UNIX_TIME "\n"
                        "c shop.tags v1 seq=0 lsn=1080 xid=200 after=[7,red]\n"
                        "commit xid=200 final=C000 end=C010\n"
                        "begin xid=100 final=D000 time=" UNIX_TIME "\n"
                        "schema public.items v1 ident=d cols=id:int4*,name:text,body:text,price:numeric\n"
                        "c public.items v1 seq=0 lsn=1040 xid=100 after=[1,a,b,1]\n"
                        "u public.items v1 seq=1 lsn=10C0 xid=100 after=[1,upd,?,2]\n"
                        "c public.items v1 seq=2 lsn=10D0 xid=100 after=[3,c,d,3]\n"
                        "commit xid=100 final=D000 end=D010\n");
    assert_string_equal(disk, mem);
    free(mem);
    free(disk);
    assert_int_equal(dir_entries(dir), 0);
    char err[256];
    assert_int_equal(fs_remove_tree(dir, err, sizeof err), 0);
}

/* 200 MB streamed through a 1 MiB threshold: memory stays near the threshold (checked after
 * every message and during the replay), and the replay yields every change, in order, without
 * those of an aborted subtransaction. A second, small transaction streams in between. */
#define BIG_BODY 8000
#define BIG_TOTAL ((size_t)200 << 20)
#define BIG_LIMIT ((size_t)2 << 20)

typedef struct big_check {
    harness *t;
    uint32_t next_id;      /* the id expected next */
    uint64_t next_seq, last_lsn, changes;
    size_t max_footprint;
} big_check;

/* Ids divisible by 10 belong to subtransaction 101, which aborts. */
static uint32_t big_next(uint32_t id)
{
    return id % 10 == 9 ? id + 2 : id + 1;
}

static int big_change(void *arg, const event *ev, char *err, size_t errlen)
{
    big_check *b = arg;
    size_t fp = pg_decoder_footprint(b->t->dec);
    if (fp > b->max_footprint)
        b->max_footprint = fp;
    if (ev->tx->xid == 500)
        return 0;
    if (ev->after[0].v.i != b->next_id || ev->seq != b->next_seq || ev->lsn <= b->last_lsn ||
        ev->after[2].len != BIG_BODY || ev->after[2].s[BIG_BODY - 1] != (char)('a' + b->next_id % 26)) {
        snprintf(err, errlen, "change %" PRId64 " seq %" PRIu64 " lsn %" PRIX64 ", expected id %" PRIu32,
                 ev->after[0].v.i, ev->seq, ev->lsn, b->next_id);
        return -1;
    }
    b->next_id = big_next(b->next_id);
    b->next_seq++;
    b->last_lsn = ev->lsn;
    b->changes++;
    return 0;
}

static void big_feed(harness *t, big_check *b, const uint8_t *data, size_t len)
{
    t->lsn += 0x10;
    if (pg_decoder_feed(t->dec, t->lsn, data, len, &t->h, t->err, sizeof t->err) != 0)
        fail_msg("feed of '%c' at %" PRIX64 ": %s", data[0], t->lsn, t->err);
    size_t fp = pg_decoder_footprint(t->dec);
    if (fp > b->max_footprint)
        b->max_footprint = fp;
}

static void test_stream_spill_bounded(void **state)
{
    (void)state;
    char dir[512], body[BIG_BODY + 1];
    assert_non_null(store_fixture_tmpdir(dir, sizeof dir, "spill"));
    harness *t = harness_new(NULL);
    big_check b = {.t = t, .next_id = 1};
    mb m, ins;
    assert_int_equal(pg_decoder_set_spill(t->dec, dir, (size_t)1 << 20), 0);
    define_items(t, 0, 0);
    t->h = (pg_decode_handler){.arg = &b, .change = big_change};

    /* one Insert, patched per message: xid at byte 1, the 8-digit id at byte 17 and the last
     * character of the body */
    memset(body, 'x', BIG_BODY);
    body[BIG_BODY] = '\0';
    mb_insert(&ins, 1, 100, OID_ITEMS, 4, (const char *const[]){"00000000", "name", body, "1.5"});
    assert_int_equal(ins.b[16], 8);   /* the id's length (the last of its 4 bytes) */
    size_t last_body = ins.n - (1 + 4 + 3) - 1;   /* after the body: 't', len 4, "1.5" */
    assert_int_equal(ins.b[last_body + 1], 't');

    size_t streamed = 0;
    uint32_t id = 1;
    int segment = 0;
    while (streamed < BIG_TOTAL) {
        mb_stream_start(&m, 100, segment == 0);
        big_feed(t, &b, m.b, m.n);
        for (int k = 0; k < 1000; k++, id++) {
            uint32_t xid = id % 10 == 0 ? 101 : 100;
            ins.b[1] = (uint8_t)(xid >> 24), ins.b[2] = (uint8_t)(xid >> 16);
            ins.b[3] = (uint8_t)(xid >> 8), ins.b[4] = (uint8_t)xid;
            char digits[9];
            snprintf(digits, sizeof digits, "%08" PRIu32, id);
            memcpy(ins.b + 17, digits, 8);
            ins.b[last_body] = (uint8_t)('a' + id % 26);
            big_feed(t, &b, ins.b, ins.n);
            streamed += ins.n;
        }
        mb_start(&m, 'E', 0, 0);
        big_feed(t, &b, m.b, m.n);
        /* transaction 500 streams one change per segment, and stays small */
        mb_stream_start(&m, 500, segment == 0);
        big_feed(t, &b, m.b, m.n);
        mb_insert(&m, 1, 500, OID_ITEMS, 4, (const char *const[]){"1", "small", "b", "1"});
        big_feed(t, &b, m.b, m.n);
        mb_start(&m, 'E', 0, 0);
        big_feed(t, &b, m.b, m.n);
        if (segment++ == 0)
            assert_int_equal(dir_entries(dir), 0);   /* spilled, yet nothing to see */
    }
    pg_spill_stats st;
    pg_decoder_spill_stats(t->dec, &st);
    assert_true(st.spilled_bytes >= BIG_TOTAL);
    assert_true(st.files_open >= 1);
    mb_stream_abort(&m, 100, 101);
    big_feed(t, &b, m.b, m.n);
    mb_stream_commit(&m, 500, 0xE000, 0xE010);
    big_feed(t, &b, m.b, m.n);
    pg_spill_stats before;
    pg_decoder_spill_stats(t->dec, &before);
    mb_stream_commit(&m, 100, 0xF000, 0xF010);
    big_feed(t, &b, m.b, m.n);
    pg_decoder_spill_stats(t->dec, &st);

    uint32_t expected = 0;
    for (uint32_t i = 1; i < id; i++)
        expected += i % 10 != 0;
    assert_int_equal(b.changes, expected);
    assert_int_equal(b.next_seq, expected);
    assert_int_equal(st.files_open, 0);
    /* buffered reads: one per (most of a) 64 KiB read buffer, about 8 messages, not one each */
    uint64_t reads = st.read_calls - before.read_calls;
    print_message("%" PRIu32 " messages, %" PRIu64 " bytes spilled, %" PRIu64 " reads at replay, "
                  "footprint at most %zu\n", id - 1, st.spilled_bytes, reads, b.max_footprint);
    assert_true(reads <= st.spilled_bytes / (48 * 1024) + 8);
    assert_true(reads < (uint64_t)(id / 4));
    if (b.max_footprint > BIG_LIMIT)
        fail_msg("footprint reached %zu bytes (limit %zu)", b.max_footprint, BIG_LIMIT);
    harness_free(t);
    assert_int_equal(dir_entries(dir), 0);
    char err[256];
    assert_int_equal(fs_remove_tree(dir, err, sizeof err), 0);
}

/* A spill error names the message, its LSN, the transaction and the cause. */
static void test_stream_spill_errors(void **state)
{
    (void)state;
    harness *t = harness_new(NULL);
    mb m;
    assert_int_equal(pg_decoder_set_spill(t->dec, "/nonexistent/spill", 0), 0);
    define_items(t, 0, 0);
    mb_stream_start(&m, 100, 1);
    feed_ok(t, &m);
    mb_insert(&m, 1, 100, OID_ITEMS, 4, (const char *const[]){"1", "a", "b", "1"});
    assert_int_equal(feed(t, &m), -1);
    char lsn_text[18], want[256];
    lsn_format(t->lsn, lsn_text);
    snprintf(want, sizeof want, "Insert message at %s: streamed transaction 100: cannot create spill file in "
             "/nonexistent/spill: No such file or directory", lsn_text);
    assert_string_equal(t->err, want);
    /* back to a usable directory: the stream goes on */
    assert_int_equal(pg_decoder_set_spill(t->dec, NULL, PG_SPILL_DEFAULT_THRESHOLD), 0);
    feed_ok(t, &m);
    mb_start(&m, 'E', 0, 0);
    feed_ok(t, &m);
    mb_stream_commit(&m, 100, 0xC000, 0xC010);
    feed_ok(t, &m);
    assert_non_null(strstr(log_take(t), "c public.items v1 seq=0"));
    harness_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_v1_transaction),
        cmocka_unit_test(test_toast),
        cmocka_unit_test(test_truncate),
        cmocka_unit_test(test_schema_versions),
        cmocka_unit_test(test_primary_key),
        cmocka_unit_test(test_persisted_versions),
        cmocka_unit_test(test_stream_v2),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_truncations),
        cmocka_unit_test(test_captured_corpus),
        cmocka_unit_test(test_stream_spill),
        cmocka_unit_test(test_stream_spill_bounded),
        cmocka_unit_test(test_stream_spill_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
