/* Unit tests for Iceberg schema evolution: iceberg_metadata_set_schema adds an optional column as
 * schema 1 (schemas keeps both, last-column-id grows, the schema JSON is the new one); the v2 type
 * promotions (int to long, float to double, decimal precision) pass and narrowing, a decimal scale
 * change, string to long, optional to required, a required new column, a reused or unassigned
 * id, float identifiers and duplicates are refused naming the column, leaving the metadata as it
 * was; drop, rename, reorder and required to optional pass; setting an earlier schema again makes
 * it current (no new entry), a dropped optional column may come back, a dropped required one not.
 * iceberg_table_set_schema: the same schema writes nothing (location and version unchanged), a
 * change writes the next metadata file (metadata-log, last-updated-ms, version hint) and keeps
 * the snapshots; the next commit's snapshot has the new schema-id and its manifest's "schema"
 * header is the new schema; a catalog that moves on between load and swap (another writer's
 * append, or the same schema change) is retried. iceberg_parquet_type_parse undoes
 * iceberg_parquet_type_text for every type the Parquet writer has. */
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "objstore/objstore_local.h"
#include "sinks/lake/iceberg_catalog_sqlite.h"
#include "sinks/lake/iceberg_manifest_read.h"
#include "sinks/lake/iceberg_parquet.h"
#include "sinks/lake/iceberg_table.h"
#include "support/store_fixture.h"

#define NF(a) (sizeof(a) / sizeof((a)[0]))

static int setup(void **state)
{
    *state = store_fixture_create("iceberg-schema");
    return *state ? 0 : -1;
}

static iceberg_metadata *meta_new(const iceberg_schema_field *fields, size_t n)
{
    char err[256];
    iceberg_table_spec spec = {"file:///lake/t", NULL, fields, n, NULL, 0};
    iceberg_metadata *m = iceberg_metadata_create(&spec, 1000, err, sizeof err);
    if (!m)
        fail_msg("create: %s", err);
    return m;
}

static json_t *meta_json(const iceberg_metadata *m)
{
    char *text = iceberg_metadata_dump(m);
    json_t *j = json_loads(text, 0, NULL);
    free(text);
    assert_non_null(j);
    return j;
}

/* The current schema's JSON as manifests get it. */
static json_t *schema_json(const iceberg_metadata *m)
{
    char err[256];
    buf b = BUF_INIT;
    assert_int_equal(iceberg_metadata_schema_json(m, &b, err, sizeof err), 0);
    json_t *j = json_loadb(b.data, b.len, 0, NULL);
    buf_free(&b);
    assert_non_null(j);
    return j;
}

/* set_schema is refused with a message containing want, and m is as it was. */
static void refused(iceberg_metadata *m, const iceberg_schema_field *f, size_t n, const char *want)
{
    char err[256] = "";
    char *before = iceberg_metadata_dump(m);
    if (iceberg_metadata_set_schema(m, f, n, err, sizeof err) != -1)
        fail_msg("accepted, wanted a refusal with \"%s\"", want);
    if (!strstr(err, want))
        fail_msg("error \"%s\" lacks \"%s\"", err, want);
    char *after = iceberg_metadata_dump(m);
    assert_string_equal(before, after);
    free(before);
    free(after);
}

static void test_add_column(void **state)
{
    (void)state;
    char err[256];
    iceberg_schema_field f0[] = {{1, "id", true, "long", true}, {2, "name", false, "string", false}};
    iceberg_metadata *m = meta_new(f0, NF(f0));
    iceberg_schema_field f1[] = {{1, "id", true, "long", true},
                                 {2, "name", false, "string", false},
                                 {3, "amount", false, "decimal(10, 2)", false}};
    assert_int_equal(iceberg_metadata_set_schema(m, f1, NF(f1), err, sizeof err), 0);
    assert_int_equal(iceberg_metadata_current_schema_id(m), 1);
    assert_int_equal(iceberg_metadata_schema_count(m), 2);
    assert_int_equal(iceberg_metadata_last_column_id(m), 3);

    iceberg_schema_field *sf;
    size_t n;
    assert_int_equal(iceberg_metadata_schema_fields(m, &sf, &n, err, sizeof err), 0);
    assert_int_equal(n, 3);
    assert_string_equal(sf[2].name, "amount");
    assert_string_equal(sf[2].type, "decimal(10,2)");   /* written as Iceberg's JSON spells it */
    assert_false(sf[2].required || sf[2].identifier);
    assert_true(sf[0].identifier && sf[0].required);
    free(sf);

    json_t *s = schema_json(m);
    assert_int_equal(json_integer_value(json_object_get(s, "schema-id")), 1);
    assert_string_equal(json_string_value(json_object_get(s, "type")), "struct");
    assert_int_equal(json_array_size(json_object_get(s, "fields")), 3);
    assert_int_equal(json_integer_value(json_array_get(json_object_get(s, "identifier-field-ids"), 0)), 1);
    json_decref(s);

    json_t *j = meta_json(m);
    json_t *schemas = json_object_get(j, "schemas");
    assert_int_equal(json_array_size(schemas), 2);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(schemas, 0), "schema-id")), 0);
    assert_int_equal(json_array_size(json_object_get(json_array_get(schemas, 0), "fields")), 2);
    assert_int_equal(json_integer_value(json_object_get(j, "current-schema-id")), 1);
    assert_int_equal(json_integer_value(json_object_get(j, "last-column-id")), 3);
    json_decref(j);

    /* The same fields again (another decimal spelling): nothing changes. */
    f1[2].type = "decimal(10,2)";
    char *before = iceberg_metadata_dump(m);
    assert_int_equal(iceberg_metadata_set_schema(m, f1, NF(f1), err, sizeof err), 0);
    char *after = iceberg_metadata_dump(m);
    assert_string_equal(before, after);
    free(before);
    free(after);

    /* New columns: optional, primitive, with an id above last-column-id. */
    iceberg_schema_field req[] = {{1, "id", true, "long", true}, {4, "qty", true, "int", false}};
    refused(m, req, NF(req), "new column qty (field id 4) must be optional");
    iceberg_schema_field nested[] = {{1, "id", true, "long", true}, {4, "tags", false, "list<string>", false}};
    refused(m, nested, NF(nested), "not an Iceberg v2 primitive type");
    iceberg_metadata_destroy(m);

    /* An id at or below last-column-id that no schema has. */
    iceberg_schema_field gap[] = {{1, "id", true, "long", true}, {5, "x", false, "string", false}};
    m = meta_new(gap, NF(gap));
    iceberg_schema_field g2[] = {{1, "id", true, "long", true}, {3, "y", false, "string", false}};
    refused(m, g2, NF(g2), "column y: field id 3 is not above last-column-id 5");
    iceberg_metadata_destroy(m);
}

static void test_promotions(void **state)
{
    (void)state;
    char err[256];
    iceberg_schema_field f0[] = {{1, "id", true, "long", true},
                                 {2, "i", false, "int", false},
                                 {3, "f", false, "float", false},
                                 {4, "d", false, "decimal(10,2)", false},
                                 {5, "s", false, "string", false},
                                 {6, "r", true, "date", false}};
    iceberg_metadata *m = meta_new(f0, NF(f0));
    iceberg_schema_field f1[NF(f0)];
    memcpy(f1, f0, sizeof f0);
    f1[1].type = "long";
    f1[2].type = "double";
    f1[3].type = "decimal(12,2)";
    assert_int_equal(iceberg_metadata_set_schema(m, f1, NF(f1), err, sizeof err), 0);
    assert_int_equal(iceberg_metadata_current_schema_id(m), 1);
    assert_int_equal(iceberg_metadata_last_column_id(m), 6);
    json_t *s = schema_json(m);
    json_t *fields = json_object_get(s, "fields");
    assert_string_equal(json_string_value(json_object_get(json_array_get(fields, 1), "type")), "long");
    assert_string_equal(json_string_value(json_object_get(json_array_get(fields, 2), "type")), "double");
    assert_string_equal(json_string_value(json_object_get(json_array_get(fields, 3), "type")), "decimal(12,2)");
    json_decref(s);

    /* Everything else is refused, naming the column. */
    iceberg_schema_field bad[NF(f0)];
    memcpy(bad, f1, sizeof bad);
    bad[1].type = "int";
    refused(m, bad, NF(bad), "column i (field id 2): type long cannot change to int");
    memcpy(bad, f1, sizeof bad);
    bad[3].type = "decimal(14,3)";
    refused(m, bad, NF(bad), "column d (field id 4): type decimal(12,2) cannot change to decimal(14,3)");
    bad[3].type = "decimal(11,2)";
    refused(m, bad, NF(bad), "column d (field id 4)");
    memcpy(bad, f1, sizeof bad);
    bad[4].type = "long";
    refused(m, bad, NF(bad), "column s (field id 5): type string cannot change to long");
    memcpy(bad, f1, sizeof bad);
    bad[2].type = "float";
    refused(m, bad, NF(bad), "column f (field id 3)");
    memcpy(bad, f1, sizeof bad);
    bad[4].required = true;
    refused(m, bad, NF(bad), "column s (field id 5) is optional and cannot become required");

    /* Checks of the list itself. */
    memcpy(bad, f1, sizeof bad);
    bad[4].identifier = true;
    refused(m, bad, NF(bad), "schema field s: an identifier field must be required");
    bad[4].identifier = false;
    bad[5].identifier = true;   /* required date: fine as an identifier */
    assert_int_equal(iceberg_metadata_set_schema(m, bad, NF(bad), err, sizeof err), 0);
    assert_int_equal(iceberg_metadata_current_schema_id(m), 2);
    iceberg_schema_field dbl[] = {{1, "id", true, "long", true}, {7, "x", true, "double", true}};
    refused(m, dbl, NF(dbl), "an identifier field cannot be a double");
    iceberg_schema_field dup_name[] = {{1, "id", true, "long", true}, {2, "id", false, "long", false}};
    refused(m, dup_name, NF(dup_name), "schema field id: the name is used twice");
    iceberg_schema_field dup_id[] = {{1, "id", true, "long", true}, {1, "x", false, "long", false}};
    refused(m, dup_id, NF(dup_id), "field id 1 is also id's");
    iceberg_schema_field reserved[] = {{1, "id", true, "long", true}, {2147483546, "x", false, "long", false}};
    refused(m, reserved, NF(reserved), "needs an id in 1..");
    refused(m, NULL, 0, "at least one column");
    iceberg_metadata_destroy(m);

    /* The same rule when creating a table. */
    iceberg_table_spec spec = {"file:///t", NULL, dbl, NF(dbl), NULL, 0};
    assert_null(iceberg_metadata_create(&spec, 0, err, sizeof err));
    assert_non_null(strstr(err, "identifier"));
}

static void test_drop_rename_reorder(void **state)
{
    (void)state;
    char err[256];
    iceberg_schema_field f0[] = {{1, "id", true, "long", true},
                                 {2, "name", false, "string", false},
                                 {3, "note", true, "string", false}};
    iceberg_metadata *m = meta_new(f0, NF(f0));
    /* Drop name, rename note to memo and make it optional, put it first. */
    iceberg_schema_field f1[] = {{3, "memo", false, "string", false}, {1, "id", true, "long", true}};
    assert_int_equal(iceberg_metadata_set_schema(m, f1, NF(f1), err, sizeof err), 0);
    assert_int_equal(iceberg_metadata_current_schema_id(m), 1);
    assert_int_equal(iceberg_metadata_last_column_id(m), 3);
    iceberg_schema_field *sf;
    size_t n;
    assert_int_equal(iceberg_metadata_schema_fields(m, &sf, &n, err, sizeof err), 0);
    assert_int_equal(n, 2);
    assert_int_equal(sf[0].id, 3);
    assert_string_equal(sf[0].name, "memo");
    assert_false(sf[0].required);
    assert_int_equal(sf[1].id, 1);
    assert_true(sf[1].identifier);
    free(sf);
    /* A rename may take a dropped column's name. */
    iceberg_schema_field f2[] = {{3, "name", false, "string", false}, {1, "id", true, "long", true}};
    assert_int_equal(iceberg_metadata_set_schema(m, f2, NF(f2), err, sizeof err), 0);
    assert_int_equal(iceberg_metadata_current_schema_id(m), 2);
    /* Dropping the identifier flag is a change too. */
    iceberg_schema_field f3[] = {{3, "name", false, "string", false}, {1, "id", true, "long", false}};
    assert_int_equal(iceberg_metadata_set_schema(m, f3, NF(f3), err, sizeof err), 0);
    assert_int_equal(iceberg_metadata_current_schema_id(m), 3);
    json_t *s = schema_json(m);
    assert_null(json_object_get(s, "identifier-field-ids"));
    json_decref(s);
    iceberg_metadata_destroy(m);
}

static void test_previous_schema(void **state)
{
    (void)state;
    char err[256];
    iceberg_schema_field f0[] = {{1, "id", true, "long", true}, {2, "name", false, "string", false}};
    iceberg_metadata *m = meta_new(f0, NF(f0));
    iceberg_schema_field f1[] = {{1, "id", true, "long", true},
                                 {2, "name", false, "string", false},
                                 {3, "qty", false, "int", false}};
    assert_int_equal(iceberg_metadata_set_schema(m, f1, NF(f1), err, sizeof err), 0);
    assert_int_equal(iceberg_metadata_current_schema_id(m), 1);
    /* Back to schema 0 (dropping qty): its id is reused. */
    assert_int_equal(iceberg_metadata_set_schema(m, f0, NF(f0), err, sizeof err), 0);
    assert_int_equal(iceberg_metadata_current_schema_id(m), 0);
    assert_int_equal(iceberg_metadata_schema_count(m), 2);
    assert_int_equal(iceberg_metadata_last_column_id(m), 3);
    json_t *s = schema_json(m);
    assert_int_equal(json_integer_value(json_object_get(s, "schema-id")), 0);
    json_decref(s);
    /* qty, optional, comes back: schema 1 again. */
    assert_int_equal(iceberg_metadata_set_schema(m, f1, NF(f1), err, sizeof err), 0);
    assert_int_equal(iceberg_metadata_current_schema_id(m), 1);
    assert_int_equal(iceberg_metadata_schema_count(m), 2);
    /* ... or promoted: a new schema. */
    assert_int_equal(iceberg_metadata_set_schema(m, f0, NF(f0), err, sizeof err), 0);
    f1[2].type = "long";
    assert_int_equal(iceberg_metadata_set_schema(m, f1, NF(f1), err, sizeof err), 0);
    assert_int_equal(iceberg_metadata_current_schema_id(m), 2);
    assert_int_equal(iceberg_metadata_schema_count(m), 3);
    /* Not with another type, nor required. */
    assert_int_equal(iceberg_metadata_set_schema(m, f0, NF(f0), err, sizeof err), 0);
    assert_int_equal(iceberg_metadata_current_schema_id(m), 0);
    f1[2].type = "string";
    refused(m, f1, NF(f1), "column qty: dropped field id 3 was long and cannot come back as string");
    f1[2].type = "long";
    f1[2].required = true;
    refused(m, f1, NF(f1), "column qty: dropped field id 3 can only come back if it was and stays optional");
    iceberg_metadata_destroy(m);

    /* A dropped required column cannot come back at all. */
    iceberg_schema_field r0[] = {{1, "id", true, "long", true}, {2, "must", true, "string", false}};
    m = meta_new(r0, NF(r0));
    assert_int_equal(iceberg_metadata_set_schema(m, r0, 1, err, sizeof err), 0);
    assert_int_equal(iceberg_metadata_current_schema_id(m), 1);
    r0[1].required = false;
    refused(m, r0, NF(r0), "column must: dropped field id 2 can only come back");
    iceberg_metadata_destroy(m);
}

/* ---- through the table ------------------------------------------------------------------------- */

/* A catalog double: the first swap from an existing location (a set_schema's or a commit's) first
 * lets another writer act on the table through the real catalog, then conflicts. */
typedef enum race_kind { RACE_NONE, RACE_APPEND, RACE_SAME_SCHEMA } race_kind;

typedef struct racing {
    iceberg_catalog base;
    iceberg_catalog *inner;
    race_kind kind;
    iceberg_table_ref other;   /* the other writer's ref: the real catalog */
    const iceberg_schema_field *fields;
    size_t nfields;
    iceberg_commit_result other_res;
    char path[1300];
} racing;

static int racing_load(iceberg_catalog *c, const iceberg_table_ident *t, char **loc, char *err, size_t errlen)
{
    return iceberg_catalog_load_table(((racing *)c)->inner, t, loc, err, errlen);
}

static int racing_commit(iceberg_catalog *c, const iceberg_table_ident *t, const char *expected,
                         const char *new_location, char *err, size_t errlen)
{
    racing *r = (racing *)c;
    if (r->kind != RACE_NONE && expected) {
        race_kind k = r->kind;
        r->kind = RACE_NONE;
        iceberg_append_file file = {r->path, 4, 400, NULL, NULL};
        int rc = k == RACE_APPEND
                     ? iceberg_table_append(&r->other, &file, 1, NULL, 5000, &r->other_res, err, errlen)
                     : iceberg_table_set_schema(&r->other, r->fields, r->nfields, 5000, &r->other_res, err, errlen);
        if (rc != 0)
            fail_msg("the other writer failed: %s", err);
        return ICEBERG_CATALOG_CONFLICT;
    }
    return iceberg_catalog_commit(r->inner, t, expected, new_location, err, errlen);
}

static void racing_destroy(iceberg_catalog *c)
{
    (void)c;
}

static const iceberg_catalog_ops racing_ops = {racing_load, racing_commit, racing_destroy};

/* A table "db/<name>" in f's lake with the racing catalog in front of SQLite. */
typedef struct table_env {
    objstore *os;
    iceberg_catalog *cat;
    racing race;
    char location[1200];
    char prefix[64];
    iceberg_table_ref ref;
} table_env;

static void env_open(store_fixture *f, table_env *e, const char *name)
{
    char err[256], dir[700];
    memset(e, 0, sizeof *e);
    snprintf(dir, sizeof dir, "%s/lake", f->dir);
    e->os = objstore_local_create(dir, err, sizeof err);
    assert_non_null(e->os);
    e->cat = iceberg_catalog_sqlite_create(f->st, "sluice", err, sizeof err);
    assert_non_null(e->cat);
    snprintf(e->prefix, sizeof e->prefix, "db/%s", name);
    snprintf(e->location, sizeof e->location, "%s/%s", objstore_describe(e->os), e->prefix);
    e->race = (racing){.base = {&racing_ops}, .inner = e->cat};
    e->ref = (iceberg_table_ref){e->os, e->location, e->prefix, &e->race.base, {"db", name}};
    e->race.other = e->ref;
    e->race.other.catalog = e->cat;
    snprintf(e->race.path, sizeof e->race.path, "%s/data/other.parquet", e->location);
}

static void env_close(table_env *e)
{
    iceberg_catalog_destroy(e->cat);
    objstore_destroy(e->os);
}

/* The bytes at a URI below the table. */
static void uri_get(table_env *e, const char *uri, buf *out)
{
    char err[256], key[1300];
    size_t n = strlen(e->location);
    assert_memory_equal(uri, e->location, n);
    snprintf(key, sizeof key, "%s%s", e->prefix, uri + n);
    buf_reset(out);
    if (objstore_get(e->os, key, out, 0, NULL, err, sizeof err) != OBJSTORE_OK)
        fail_msg("get %s: %s", key, err);
}

static char *catalog_location(table_env *e)
{
    char err[256], *loc = NULL;
    assert_int_equal(iceberg_catalog_load_table(e->cat, &e->ref.ident, &loc, err, sizeof err), ICEBERG_CATALOG_OK);
    return loc;
}

static int64_t zigzag_read(const uint8_t *p, size_t len, size_t *i)
{
    uint64_t v = 0;
    for (int shift = 0; *i < len && shift < 64; shift += 7) {
        uint8_t b = p[(*i)++];
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80))
            break;
    }
    return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

/* The value of key in an Avro container's header metadata, malloc'd text; NULL when absent. */
static char *ocf_meta(const buf *b, const char *key)
{
    const uint8_t *p = (const uint8_t *)b->data;
    size_t i = 4, len = b->len;
    if (len < 4 || memcmp(p, "Obj\1", 4) != 0)
        return NULL;
    for (;;) {
        int64_t count = zigzag_read(p, len, &i);
        if (count == 0)
            return NULL;
        if (count < 0) {
            count = -count;
            (void)zigzag_read(p, len, &i);   /* the block's size in bytes */
        }
        while (count-- > 0) {
            int64_t kl = zigzag_read(p, len, &i);
            if (kl < 0 || i + (size_t)kl > len)
                return NULL;
            size_t k = i;
            i += (size_t)kl;
            int64_t vl = zigzag_read(p, len, &i);
            if (vl < 0 || i + (size_t)vl > len)
                return NULL;
            if ((size_t)kl == strlen(key) && memcmp(p + k, key, (size_t)kl) == 0)
                return strndup((const char *)p + i, (size_t)vl);
            i += (size_t)vl;
        }
    }
}

static void test_table_set_schema(void **state)
{
    store_fixture *f = *state;
    char err[256];
    table_env e;
    env_open(f, &e, "t");
    iceberg_schema_field f0[] = {{1, "id", true, "long", true}, {2, "name", false, "string", false}};
    iceberg_table_spec spec = {e.location, NULL, f0, NF(f0), NULL, 0};
    iceberg_commit_result res;
    assert_int_equal(iceberg_table_create(&e.ref, &spec, 1000, &res, err, sizeof err), 0);
    char path[1300];
    snprintf(path, sizeof path, "%s/data/a.parquet", e.location);
    iceberg_append_file file = {path, 10, 1000, NULL, NULL};
    assert_int_equal(iceberg_table_append(&e.ref, &file, 1, "0/10", 2000, &res, err, sizeof err), 0);
    int64_t first = res.snapshot_id;
    char *v2 = catalog_location(&e);

    /* The same schema: nothing written. */
    assert_int_equal(iceberg_table_set_schema(&e.ref, f0, NF(f0), 3000, &res, err, sizeof err), 0);
    assert_int_equal(res.version, 2);
    assert_int_equal(res.attempts, 1);
    assert_string_equal(res.metadata_location, v2);
    assert_true(res.snapshot_id == first);
    char *loc = catalog_location(&e);
    assert_string_equal(loc, v2);
    free(loc);
    buf b = BUF_INIT;
    char hint[1300];
    assert_int_not_equal(objstore_get(e.os, "db/t/metadata/v3.metadata.json", &b, 0, NULL, err, sizeof err),
                         OBJSTORE_OK);

    /* A refused change writes nothing either. */
    iceberg_schema_field bad[] = {{1, "id", true, "int", true}, {2, "name", false, "string", false}};
    assert_int_equal(iceberg_table_set_schema(&e.ref, bad, NF(bad), 3000, &res, err, sizeof err), -1);
    assert_non_null(strstr(err, "column id (field id 1)"));
    loc = catalog_location(&e);
    assert_string_equal(loc, v2);
    free(loc);

    /* Add a column: v3, the snapshot kept. */
    iceberg_schema_field f1[] = {{1, "id", true, "long", true},
                                 {2, "name", false, "string", false},
                                 {3, "qty", false, "int", false}};
    assert_int_equal(iceberg_table_set_schema(&e.ref, f1, NF(f1), 3000, &res, err, sizeof err), 0);
    assert_int_equal(res.version, 3);
    assert_int_equal(res.attempts, 1);
    assert_true(res.snapshot_id == first);
    assert_int_equal(res.sequence_number, 1);
    loc = catalog_location(&e);
    assert_string_equal(loc, res.metadata_location);
    assert_non_null(strstr(loc, "/metadata/v3.metadata.json"));
    free(loc);
    uri_get(&e, res.metadata_location, &b);
    iceberg_metadata *m = iceberg_metadata_parse(b.data, b.len, err, sizeof err);
    assert_non_null(m);
    assert_int_equal(iceberg_metadata_current_schema_id(m), 1);
    assert_int_equal(iceberg_metadata_last_column_id(m), 3);
    assert_int_equal(iceberg_metadata_snapshot_count(m), 1);
    iceberg_snapshot_info si;
    assert_int_equal(iceberg_metadata_current_snapshot(m, &si, err, sizeof err), 1);
    assert_true(si.snapshot_id == first);
    assert_string_equal(si.lsn, "0/10");
    json_t *j = meta_json(m);
    assert_int_equal(json_integer_value(json_object_get(j, "last-updated-ms")), 3000);
    json_t *log = json_object_get(j, "metadata-log");
    assert_int_equal(json_array_size(log), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(log, 1), "metadata-file")), v2);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(log, 1), "timestamp-ms")), 2000);
    json_decref(j);
    iceberg_metadata_destroy(m);
    snprintf(hint, sizeof hint, "%s/metadata/version-hint.text", e.location);
    uri_get(&e, hint, &b);
    assert_int_equal(b.len, 1);
    assert_memory_equal(b.data, "3", 1);

    /* The next commit: snapshot schema-id 1, its manifest's header the new schema. */
    iceberg_append_file file2 = {path, 5, 500, NULL, NULL};
    assert_int_equal(iceberg_table_append(&e.ref, &file2, 1, "0/20", 4000, &res, err, sizeof err), 0);
    assert_int_equal(res.version, 4);
    m = iceberg_table_load(&e.ref, NULL, err, sizeof err);
    assert_non_null(m);
    assert_int_equal(iceberg_metadata_snapshot_count(m), 2);
    j = meta_json(m);
    json_t *snaps = json_object_get(j, "snapshots");
    assert_int_equal(json_integer_value(json_object_get(json_array_get(snaps, 0), "schema-id")), 0);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(snaps, 1), "schema-id")), 1);
    json_decref(j);
    assert_int_equal(iceberg_metadata_current_snapshot(m, &si, err, sizeof err), 1);
    assert_int_equal(si.total_records, 15);
    uri_get(&e, si.manifest_list, &b);
    iceberg_manifest_list *ml = iceberg_manifest_list_read(b.data, b.len, err, sizeof err);
    assert_non_null(ml);
    assert_int_equal(ml->nfiles, 2);
    for (size_t i = 0; i < ml->nfiles; i++) {   /* new manifest first, then the parent's */
        uri_get(&e, ml->files[i].manifest_path, &b);
        char *schema = ocf_meta(&b, "schema"), *sid = ocf_meta(&b, "schema-id");
        assert_non_null(schema);
        assert_non_null(sid);
        json_t *sj = json_loads(schema, 0, NULL);
        assert_non_null(sj);
        assert_int_equal(json_integer_value(json_object_get(sj, "schema-id")), i == 0 ? 1 : 0);
        assert_int_equal(json_array_size(json_object_get(sj, "fields")), i == 0 ? 3 : 2);
        assert_string_equal(sid, i == 0 ? "1" : "0");
        json_decref(sj);
        free(schema);
        free(sid);
    }
    iceberg_manifest_list_destroy(ml);
    iceberg_metadata_destroy(m);
    buf_free(&b);
    free(v2);
    env_close(&e);
}

static void test_table_set_schema_conflict(void **state)
{
    store_fixture *f = *state;
    char err[256];
    table_env e;
    env_open(f, &e, "c");
    iceberg_schema_field f0[] = {{1, "id", true, "long", true}, {2, "name", false, "string", false}};
    iceberg_table_spec spec = {e.location, NULL, f0, NF(f0), NULL, 0};
    iceberg_commit_result res;
    assert_int_equal(iceberg_table_create(&e.ref, &spec, 1000, &res, err, sizeof err), 0);

    /* Another writer appends between our load and our swap: we retry on its snapshot. */
    iceberg_schema_field f1[] = {{1, "id", true, "long", true},
                                 {2, "name", false, "string", false},
                                 {3, "qty", false, "int", false}};
    e.race.kind = RACE_APPEND;
    assert_int_equal(iceberg_table_set_schema(&e.ref, f1, NF(f1), 6000, &res, err, sizeof err), 0);
    assert_int_equal(res.attempts, 2);
    assert_int_equal(e.race.other_res.version, 3);   /* our first v2 took its place */
    assert_int_equal(res.version, 4);
    assert_true(res.snapshot_id == e.race.other_res.snapshot_id);
    char *loc = catalog_location(&e);
    assert_string_equal(loc, res.metadata_location);
    free(loc);
    iceberg_metadata *m = iceberg_table_load(&e.ref, NULL, err, sizeof err);
    assert_non_null(m);
    assert_int_equal(iceberg_metadata_current_schema_id(m), 1);
    assert_int_equal(iceberg_metadata_schema_count(m), 2);
    assert_true(iceberg_metadata_has_snapshot(m, e.race.other_res.snapshot_id));
    json_t *j = meta_json(m);
    json_t *log = json_object_get(j, "metadata-log");
    assert_int_equal(json_array_size(log), 2);   /* v1 (by the append), v3 (by us) */
    assert_non_null(strstr(json_string_value(json_object_get(json_array_get(log, 1), "metadata-file")),
                           "/v3.metadata.json"));
    json_decref(j);
    iceberg_metadata_destroy(m);

    /* Another writer makes the same change first: nothing left to do. */
    iceberg_schema_field f2[] = {{1, "id", true, "long", true},
                                 {2, "name", false, "string", false},
                                 {3, "qty", false, "long", false}};
    e.race.kind = RACE_SAME_SCHEMA;
    e.race.fields = f2;
    e.race.nfields = NF(f2);
    assert_int_equal(iceberg_table_set_schema(&e.ref, f2, NF(f2), 7000, &res, err, sizeof err), 0);
    assert_int_equal(res.attempts, 2);
    assert_int_equal(res.version, e.race.other_res.version);
    assert_string_equal(res.metadata_location, e.race.other_res.metadata_location);
    loc = catalog_location(&e);
    assert_string_equal(loc, e.race.other_res.metadata_location);
    free(loc);
    m = iceberg_table_load(&e.ref, NULL, err, sizeof err);
    assert_int_equal(iceberg_metadata_current_schema_id(m), 2);
    assert_int_equal(iceberg_metadata_schema_count(m), 3);
    iceberg_metadata_destroy(m);

    /* A table that does not exist. */
    iceberg_table_ref missing = e.ref;
    missing.ident.name = "nope";
    assert_int_equal(iceberg_table_set_schema(&missing, f0, NF(f0), 8000, &res, err, sizeof err), -1);
    env_close(&e);
}

/* ---- Parquet types ----------------------------------------------------------------------------- */

static void test_parquet_type_parse(void **state)
{
    (void)state;
    char err[256], text[64];
    parquet_column_def defs[] = {
        {.type = PARQUET_TYPE_BOOLEAN},   {.type = PARQUET_TYPE_INT32},     {.type = PARQUET_TYPE_INT64},
        {.type = PARQUET_TYPE_FLOAT},     {.type = PARQUET_TYPE_DOUBLE},    {.type = PARQUET_TYPE_DECIMAL, 10, 2},
        {.type = PARQUET_TYPE_DECIMAL, 38, 0}, {.type = PARQUET_TYPE_DECIMAL, 1, 1}, {.type = PARQUET_TYPE_STRING},
        {.type = PARQUET_TYPE_BINARY},    {.type = PARQUET_TYPE_UUID},      {.type = PARQUET_TYPE_DATE},
        {.type = PARQUET_TYPE_TIME},      {.type = PARQUET_TYPE_TIMESTAMP}, {.type = PARQUET_TYPE_TIMESTAMPTZ},
    };
    static const char *const texts[] = {"boolean", "int",           "long",       "float",  "double",
                                        "decimal(10,2)", "decimal(38,0)", "decimal(1,1)", "string", "binary",
                                        "uuid",    "date",          "time",       "timestamp", "timestamptz"};
    for (size_t i = 0; i < NF(defs); i++) {
        assert_int_equal(iceberg_parquet_type_text(&defs[i], text, sizeof text), 0);
        assert_string_equal(text, texts[i]);
        parquet_column_def back = {.name = "keep", .field_id = 7, .optional = true, .precision = 99, .scale = 99};
        if (iceberg_parquet_type_parse(text, &back, err, sizeof err) != 0)
            fail_msg("%s: %s", text, err);
        assert_int_equal(back.type, defs[i].type);
        assert_int_equal(back.precision, defs[i].precision);
        assert_int_equal(back.scale, defs[i].scale);
        assert_string_equal(back.name, "keep");   /* only type, precision and scale */
        assert_int_equal(back.field_id, 7);
        assert_true(back.optional);
    }
    parquet_column_def d;
    assert_int_equal(iceberg_parquet_type_parse("decimal(12, 3)", &d, err, sizeof err), 0);
    assert_int_equal(d.type, PARQUET_TYPE_DECIMAL);
    assert_int_equal(d.precision, 12);
    assert_int_equal(d.scale, 3);
    assert_int_equal(iceberg_parquet_type_parse("fixed[16]", &d, err, sizeof err), -1);
    assert_non_null(strstr(err, "fixed"));
    static const char *const bad[] = {"decimal(39,2)", "decimal(5,6)", "decimal(0,0)", "decimal(10,2",
                                      "decimal(10,2)x", "timestamp_ns", "longer", "", "Long",
                                      "{\"type\":\"list\"}"};
    for (size_t i = 0; i < NF(bad); i++)
        if (iceberg_parquet_type_parse(bad[i], &d, err, sizeof err) != -1)
            fail_msg("\"%s\" was accepted", bad[i]);
    assert_int_equal(iceberg_parquet_type_parse(NULL, &d, err, sizeof err), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_add_column),
        cmocka_unit_test(test_promotions),
        cmocka_unit_test(test_drop_rename_reorder),
        cmocka_unit_test(test_previous_schema),
        cmocka_unit_test_setup_teardown(test_table_set_schema, setup, store_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_table_set_schema_conflict, setup, store_fixture_teardown),
        cmocka_unit_test(test_parquet_type_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
