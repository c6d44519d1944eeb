/* debezium_decode: the decoder object and its table definitions, the record envelope (key, value,
 * source block, transaction block) and the Connect schema of each column (see debezium_decode.h).
 * Values are read by debezium_decode_values.c. Every record carries its schema, so each one's
 * table definition is rebuilt (in the arena) and looked up among those held: one heap copy per
 * distinct shape, which events point to. */
#include "encode/debezium_decode.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "capture/pg_types.h"
#include "core/errbuf.h"

#define MAX_COLUMNS 1600           /* PostgreSQL's MaxHeapAttributeNumber */
#define MAX_BUILTIN_OID 10000
#define MAX_VARCHAR_LENGTH 10485760
#define MAX_BIT_LENGTH 83886080     /* bit(n), varbit(n) */

typedef struct builtin_type {
    const char *name;
    uint32_t oid;
} builtin_type;

struct debezium_decoder {
    table_def **slots;         /* open addressing by shape hash */
    uint64_t *hashes;
    size_t cap, count;
    builtin_type *types;       /* PostgreSQL's built-in types by name (built at the first source
                                * type: column.propagate.source.type) */
    size_t ntypes;
    dbzd_scratch scratch;
};

/* ---- decoder ------------------------------------------------------------------------------------ */

static int builtin_cmp(const void *a, const void *b)
{
    return strcasecmp(((const builtin_type *)a)->name, ((const builtin_type *)b)->name);
}

debezium_decoder *debezium_decoder_create(void)
{
    return calloc(1, sizeof(debezium_decoder));
}

void debezium_decoder_destroy(debezium_decoder *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < d->cap; i++)
        table_def_free(d->slots[i]);
    free(d->slots);
    free(d->hashes);
    free(d->types);
    buf_free(&d->scratch.text);
    buf_free(&d->scratch.elem);
    buf_free(&d->scratch.digits);
    free(d);
}

size_t debezium_decoder_table_count(const debezium_decoder *d)
{
    return d ? d->count : 0;
}

/* A built-in type by name (any case; serial aliases), or NULL. */
static const builtin_type *builtin_find(debezium_decoder *d, const char *name)
{
    static const struct { const char *alias, *name; } aliases[] = {
        {"serial", "int4"}, {"serial4", "int4"}, {"bigserial", "int8"}, {"serial8", "int8"},
        {"smallserial", "int2"}, {"serial2", "int2"}};
    if (!d->types) {
        size_t n = 0;
        for (uint32_t oid = 1; oid < MAX_BUILTIN_OID; oid++)
            n += pg_type_name(oid) != NULL;
        if (!(d->types = calloc(n ? n : 1, sizeof *d->types)))
            return NULL;
        for (uint32_t oid = 1; oid < MAX_BUILTIN_OID; oid++)
            if (pg_type_name(oid))
                d->types[d->ntypes++] = (builtin_type){pg_type_name(oid), oid};
        qsort(d->types, d->ntypes, sizeof *d->types, builtin_cmp);
    }
    for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++)
        if (strcasecmp(name, aliases[i].alias) == 0)
            name = aliases[i].name;
    builtin_type key = {name, 0};
    return bsearch(&key, d->types, d->ntypes, sizeof *d->types, builtin_cmp);
}

/* ---- table definitions ---------------------------------------------------------------------------- */

static uint64_t hash_bytes(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

static uint64_t hash_str(uint64_t h, const char *s)
{
    return s ? hash_bytes(h, s, strlen(s) + 1) : hash_bytes(h, "\xff", 1);
}

static uint64_t def_hash(const table_def *t)
{
    uint64_t h = hash_str(hash_str(0xcbf29ce484222325ULL, t->schema), t->name);
    for (int i = 0; i < t->ncols; i++) {
        const column_def *c = &t->cols[i];
        int32_t nums[7] = {(int32_t)c->type_oid, c->typmod, c->kind, c->elem_kind, c->is_key, c->is_pk, c->not_null};
        h = hash_bytes(h, nums, sizeof nums);
        h = hash_str(hash_str(hash_str(h, c->name), c->type_name), c->enum_labels);
    }
    return h;
}

static int str_eq(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

static int def_equal(const table_def *a, const table_def *b)
{
    if (a->ncols != b->ncols || !str_eq(a->schema, b->schema) || !str_eq(a->name, b->name))
        return 0;
    for (int i = 0; i < a->ncols; i++) {
        const column_def *x = &a->cols[i], *y = &b->cols[i];
        if (x->type_oid != y->type_oid || x->typmod != y->typmod || x->kind != y->kind ||
            x->elem_kind != y->elem_kind || x->is_key != y->is_key || x->is_pk != y->is_pk ||
            x->not_null != y->not_null || !str_eq(x->name, y->name) || !str_eq(x->type_name, y->type_name) ||
            !str_eq(x->enum_labels, y->enum_labels))
            return 0;
    }
    return 1;
}

static void slot_put(table_def **slots, uint64_t *hashes, size_t cap, table_def *t, uint64_t h)
{
    size_t i = (size_t)h & (cap - 1);
    while (slots[i])
        i = (i + 1) & (cap - 1);
    slots[i] = t;
    hashes[i] = h;
}

/* The held definition equal to t (built in the arena), adding a copy when there is none. */
static const table_def *def_get(debezium_decoder *d, table_def *t, char *err, size_t errlen)
{
    uint64_t h = def_hash(t);
    uint32_t version = 1;
    if (d->cap) {
        for (size_t i = (size_t)h & (d->cap - 1); d->slots[i]; i = (i + 1) & (d->cap - 1))
            if (d->hashes[i] == h && def_equal(d->slots[i], t))
                return d->slots[i];
    }
    if ((d->count + 1) * 2 > d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 16;
        table_def **slots = calloc(cap, sizeof *slots);
        uint64_t *hashes = calloc(cap, sizeof *hashes);
        if (!slots || !hashes) {
            free(slots);
            free(hashes);
            err_setf(err, errlen, "out of memory");
            return NULL;
        }
        for (size_t i = 0; i < d->cap; i++)
            if (d->slots[i])
                slot_put(slots, hashes, cap, d->slots[i], d->hashes[i]);
        free(d->slots);
        free(d->hashes);
        d->slots = slots;
        d->hashes = hashes;
        d->cap = cap;
    }
    /* a new shape of a table already seen is its next schema version */
    for (size_t i = 0; i < d->cap; i++)
        if (d->slots[i] && str_eq(d->slots[i]->schema, t->schema) && str_eq(d->slots[i]->name, t->name) &&
            d->slots[i]->version >= version)
            version = d->slots[i]->version + 1;
    t->version = version;
    table_def *c = table_def_copy(t);
    if (!c) {
        err_setf(err, errlen, "out of memory");
        return NULL;
    }
    slot_put(d->slots, d->hashes, d->cap, c, h);
    d->count++;
    return c;
}

/* ---- Connect schemas -------------------------------------------------------------------------------- */

/* The OIDs of the type names derived from Connect schemas, and of their arrays. */
static const struct { const char *name; uint32_t oid, array_oid; } derived_types[] = {
    {"bool", 16, 1000},       {"bytea", 17, 1001},        {"int8", 20, 1016},         {"int2", 21, 1005},
    {"int4", 23, 1007},       {"text", 25, 1009},         {"json", 114, 199},         {"xml", 142, 143},
    {"float4", 700, 1021},    {"float8", 701, 1022},      {"money", 790, 791},        {"date", 1082, 1182},
    {"time", 1083, 1183},     {"timestamp", 1114, 1115},  {"timestamptz", 1184, 1185}, {"interval", 1186, 1187},
    {"timetz", 1266, 1270},   {"bit", 1560, 1561},        {"varbit", 1562, 1563},     {"numeric", 1700, 1231},
    {"uuid", 2950, 2951},
};

static uint32_t derived_oid(const char *name, int array)
{
    for (size_t i = 0; i < sizeof derived_types / sizeof derived_types[0]; i++)
        if (strcmp(name, derived_types[i].name) == 0)
            return array ? derived_types[i].array_oid : derived_types[i].oid;
    return 0;   /* ltree: not built in */
}

typedef struct semantic {
    const char *name;          /* Connect schema name */
    const char *connect_type;  /* the type it must have */
    dbzd_conv conv;
    value_kind kind;
    const char *type_name;
    int32_t typmod;
} semantic;

static const semantic semantics[] = {
    {"io.debezium.time.Date", "int32", DBZD_DATE, VALUE_DATE, "date", -1},
    {"org.apache.kafka.connect.data.Date", "int32", DBZD_DATE, VALUE_DATE, "date", -1},
    {"io.debezium.time.Time", "int32", DBZD_TIME_MS, VALUE_TIME, "time", 3},
    {"io.debezium.time.MicroTime", "int64", DBZD_TIME_US, VALUE_TIME, "time", -1},
    {"io.debezium.time.NanoTime", "int64", DBZD_TIME_NS, VALUE_TIME, "time", -1},
    {"org.apache.kafka.connect.data.Time", "int32", DBZD_TIME_MS, VALUE_TIME, "time", -1},
    {"io.debezium.time.Timestamp", "int64", DBZD_TS_MS, VALUE_TIMESTAMP, "timestamp", 3},
    {"io.debezium.time.MicroTimestamp", "int64", DBZD_TS_US, VALUE_TIMESTAMP, "timestamp", -1},
    {"io.debezium.time.NanoTimestamp", "int64", DBZD_TS_NS, VALUE_TIMESTAMP, "timestamp", -1},
    {"org.apache.kafka.connect.data.Timestamp", "int64", DBZD_TS_MS, VALUE_TIMESTAMP, "timestamp", -1},
    {"io.debezium.time.ZonedTimestamp", "string", DBZD_ZONED_TS, VALUE_TIMESTAMPTZ, "timestamptz", -1},
    {"io.debezium.time.ZonedTime", "string", DBZD_ZONED_TIME, VALUE_TIMETZ, "timetz", -1},
    {"io.debezium.time.MicroDuration", "int64", DBZD_MICRO_DURATION, VALUE_INTERVAL, "interval", -1},
    {"io.debezium.time.Interval", "string", DBZD_ISO_INTERVAL, VALUE_INTERVAL, "interval", -1},
    {"org.apache.kafka.connect.data.Decimal", "bytes", DBZD_DECIMAL, VALUE_NUMERIC, "numeric", -1},
    {"io.debezium.data.VariableScaleDecimal", "struct", DBZD_VSD, VALUE_NUMERIC, "numeric", -1},
    {"io.debezium.data.Uuid", "string", DBZD_STRING, VALUE_UUID, "uuid", -1},
    {"io.debezium.data.Json", "string", DBZD_STRING, VALUE_JSON, "json", -1},
    {"io.debezium.data.Xml", "string", DBZD_STRING, VALUE_TEXT, "xml", -1},
    {"io.debezium.data.Enum", "string", DBZD_STRING, VALUE_TEXT, "text", -1},
    {"io.debezium.data.Ltree", "string", DBZD_STRING, VALUE_TEXT, "ltree", -1},
    {"io.debezium.data.Bits", "bytes", DBZD_BITS, VALUE_TEXT, "bit", -1},
};

/* Connect's primitive types without a semantic name. */
static const struct primitive {
    const char *type;
    dbzd_conv conv;
    value_kind kind;
    const char *type_name;
    int64_t min, max;
} primitives[] = {
    {"boolean", DBZD_BOOL, VALUE_BOOL, "bool", 0, 0},
    {"int8", DBZD_INT, VALUE_INT16, "int2", INT8_MIN, INT8_MAX},
    {"int16", DBZD_INT, VALUE_INT16, "int2", INT16_MIN, INT16_MAX},
    {"int32", DBZD_INT, VALUE_INT32, "int4", INT32_MIN, INT32_MAX},
    {"int64", DBZD_INT, VALUE_INT64, "int8", INT64_MIN, INT64_MAX},
    {"float", DBZD_FLOAT, VALUE_FLOAT32, "float4", 0, 0},
    {"double", DBZD_FLOAT, VALUE_FLOAT64, "float8", 0, 0},
    {"string", DBZD_STRING, VALUE_TEXT, "text", 0, 0},
    {"bytes", DBZD_BYTES, VALUE_BYTES, "bytea", 0, 0},
};

/* What the schema of one column (or of its array's elements) says. */
typedef struct field_info {
    dbzd_type t;
    const char *type_name;
    int32_t typmod;
    const char *enum_labels;   /* borrowed from the JSON */
} field_info;

/* An integer in a string parameter ("scale": "2"). */
static int param_int(const json_t *params, const char *key, int64_t min, int64_t max, int64_t *out)
{
    const char *s = json_string_value(json_object_get(params, key));
    char *end;
    if (!s || !*s)
        return -1;
    long long v = strtoll(s, &end, 10);
    if (*end || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

static int field_scalar(const json_t *f, const char *col, field_info *fi, char *err, size_t errlen)
{
    const char *type = json_string_value(json_object_get(f, "type"));
    const char *name = json_string_value(json_object_get(f, "name"));
    const json_t *params = json_object_get(f, "parameters");
    memset(fi, 0, sizeof *fi);
    fi->typmod = -1;
    if (!type)
        return err_setf(err, errlen, "column %s: the schema has no type", col);
    if (!name) {
        for (size_t i = 0; i < sizeof primitives / sizeof primitives[0]; i++) {
            if (strcmp(type, primitives[i].type) == 0) {
                fi->t = (dbzd_type){.conv = primitives[i].conv, .kind = primitives[i].kind,
                                    .min = primitives[i].min, .max = primitives[i].max};
                fi->type_name = primitives[i].type_name;
                return 0;
            }
        }
        if (strcmp(type, "map") == 0)
            return err_setf(err, errlen, "column %s: Connect maps are not supported (hstore.handling.mode=json is)",
                            col);
        return err_setf(err, errlen, "column %s: Connect type %s is not supported", col, type);
    }
    const semantic *sm = NULL;
    for (size_t i = 0; i < sizeof semantics / sizeof semantics[0] && !sm; i++)
        if (strcmp(name, semantics[i].name) == 0)
            sm = &semantics[i];
    if (!sm) {
        if (strncmp(name, "io.debezium.data.geometry.", 26) == 0)
            return err_setf(err, errlen, "column %s: geometric and PostGIS values (%s) are not supported", col, name);
        return err_setf(err, errlen, "column %s: unknown semantic type %s", col, name);
    }
    if (strcmp(type, sm->connect_type) != 0)
        return err_setf(err, errlen, "column %s: %s must be a Connect %s, not %s", col, name, sm->connect_type, type);
    fi->t = (dbzd_type){.conv = sm->conv, .kind = sm->kind};
    fi->type_name = sm->type_name;
    fi->typmod = sm->typmod;
    int64_t scale, precision, length;
    switch (sm->conv) {
    case DBZD_DECIMAL:
        if (param_int(params, "scale", -1000, 16383, &scale) < 0)
            return err_setf(err, errlen, "column %s: a Decimal without a valid scale parameter", col);
        fi->t.scale = (int32_t)scale;
        if (param_int(params, "connect.decimal.precision", 1, 1000, &precision) == 0) {
            if (scale >= -1000 && scale <= 1000)
                fi->typmod = (int32_t)(((precision << 16) | (scale & 0x7ff)) + 4);
        } else if (scale == 2) {
            /* money: Decimal.builder(money.fraction.digits), no precision */
            fi->t.conv = DBZD_MONEY_DECIMAL;
            fi->t.kind = VALUE_MONEY;
            fi->type_name = "money";
        }
        break;
    case DBZD_BITS:
        if (!json_object_get(params, "length"))
            length = INT32_MAX;
        else if (param_int(params, "length", 1, INT32_MAX, &length) < 0 ||
                 (length > MAX_BIT_LENGTH && length != INT32_MAX))
            return err_setf(err, errlen, "column %s: Bits with an invalid length parameter", col);
        fi->t.bits = (int32_t)length;
        if (length == INT32_MAX) {
            fi->type_name = "varbit";
        } else {
            fi->typmod = (int32_t)length;
        }
        break;
    case DBZD_STRING:
        if (strcmp(name, "io.debezium.data.Enum") == 0)
            fi->enum_labels = json_string_value(json_object_get(params, "allowed"));
        break;
    default:
        break;
    }
    return 0;
}

/* Make t read values as the source type's kind where that is exact (see the header). */
static void refine(dbzd_type *t, value_kind target)
{
    if (t->kind == target)
        return;
    if (t->conv == DBZD_INT && t->kind == VALUE_INT64 && target == VALUE_INT32) {
        t->kind = VALUE_INT32;   /* oid */
    } else if (t->conv == DBZD_STRING && t->kind == VALUE_TEXT &&
               (target == VALUE_INET || target == VALUE_UUID || target == VALUE_JSON)) {
        t->kind = target;
    } else if (t->conv == DBZD_STRING && t->kind == VALUE_TEXT && target == VALUE_NUMERIC) {
        t->conv = DBZD_DECIMAL_TEXT;
        t->kind = VALUE_NUMERIC;
    } else if (t->conv == DBZD_STRING && t->kind == VALUE_TEXT && target == VALUE_MONEY) {
        t->conv = DBZD_MONEY_TEXT;
        t->kind = VALUE_MONEY;
    } else if (t->conv == DBZD_BOOL && target == VALUE_TEXT) {
        t->conv = DBZD_BIT1;   /* bit(1) */
        t->kind = VALUE_TEXT;
    } else if (t->conv == DBZD_DECIMAL && target == VALUE_MONEY && t->scale == 2) {
        t->conv = DBZD_MONEY_DECIMAL;
        t->kind = VALUE_MONEY;
    } else if (t->conv == DBZD_MONEY_DECIMAL && target == VALUE_NUMERIC) {
        t->conv = DBZD_DECIMAL;
        t->kind = VALUE_NUMERIC;
    }
}

/* Column c (and its decoding cc) from its field schema f; strings in a. */
static int column_from_schema(debezium_decoder *d, const json_t *f, arena *a, column_def *c, dbzd_column *cc,
                              char *err, size_t errlen)
{
    const char *fname = json_string_value(json_object_get(f, "field"));
    if (!json_is_object(f) || !fname)
        return err_setf(err, errlen, "a column's schema has no field name");
    const char *type = json_string_value(json_object_get(f, "type"));
    const json_t *optional = json_object_get(f, "optional");
    field_info fi;
    memset(c, 0, sizeof *c);
    memset(cc, 0, sizeof *cc);
    c->name = arena_strndup(a, fname, strlen(fname));
    c->not_null = !json_is_true(optional);   /* Connect's default: required */
    if (type && strcmp(type, "array") == 0) {
        const json_t *items = json_object_get(f, "items");
        const char *itype = json_string_value(json_object_get(items, "type"));
        if (!json_is_object(items))
            return err_setf(err, errlen, "column %s: an array schema without items", fname);
        if (itype && strcmp(itype, "array") == 0)
            return err_setf(err, errlen, "column %s: arrays of Connect arrays are not supported", fname);
        if (field_scalar(items, fname, &fi, err, errlen) < 0)
            return -1;
        cc->array = 1;
        c->kind = VALUE_ARRAY;
        c->elem_kind = fi.t.kind;
        size_t n = strlen(fi.type_name);
        char *tn = arena_alloc(a, n + 2);
        tn[0] = '_';
        memcpy(tn + 1, fi.type_name, n + 1);
        c->type_name = tn;
        c->typmod = fi.typmod;
    } else {
        if (field_scalar(f, fname, &fi, err, errlen) < 0)
            return -1;
        c->kind = fi.t.kind;
        c->elem_kind = VALUE_TEXT;
        c->type_name = arena_strndup(a, fi.type_name, strlen(fi.type_name));
        c->typmod = fi.typmod;
        if (fi.enum_labels)
            c->enum_labels = arena_strndup(a, fi.enum_labels, strlen(fi.enum_labels));
    }
    cc->t = fi.t;
    c->type_oid = derived_oid(fi.type_name, cc->array);
    /* column.propagate.source.type */
    const json_t *params = json_object_get(f, "parameters");
    const char *src = json_string_value(json_object_get(params, "__debezium.source.column.type"));
    if (src && *src) {
        const builtin_type *bt = builtin_find(d, src);
        c->type_name = arena_strndup(a, bt ? bt->name : src, strlen(bt ? bt->name : src));
        c->type_oid = bt ? bt->oid : 0;
        if (bt) {
            value_kind ek, k = pg_type_kind(bt->oid, &ek);
            if (cc->array && k == VALUE_ARRAY) {
                refine(&cc->t, ek);
                c->elem_kind = cc->t.kind;
            } else if (!cc->array && k != VALUE_ARRAY) {
                refine(&cc->t, k);
                c->kind = cc->t.kind;
            }
            int64_t length;
            if ((bt->oid == 1043 || bt->oid == 1042) &&
                param_int(params, "__debezium.source.column.length", 1, MAX_VARCHAR_LENGTH, &length) == 0)
                c->typmod = (int32_t)length + 4;
        }
    }
    return 0;
}

/* ---- records ------------------------------------------------------------------------------------------ */

/* The field schema named name in struct schema s. */
static const json_t *schema_field(const json_t *s, const char *name)
{
    const json_t *fields = json_object_get(s, "fields");
    for (size_t i = 0; i < json_array_size(fields); i++) {
        const json_t *f = json_array_get(fields, i);
        const char *n = json_string_value(json_object_get(f, "field"));
        if (n && strcmp(n, name) == 0)
            return f;
    }
    return NULL;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static const char no_schema_msg[] =
    "the record has no Connect schema (JsonConverter schemas.enable=false?): column types cannot be "
    "recovered without it; set value.converter.schemas.enable=true and key.converter.schemas.enable=true";

/* Parse a record part; *out NULL for an absent or JSON-null part. */
static int load_json(const void *p, size_t len, const char *what, json_t **out, char *err, size_t errlen)
{
    json_error_t je;
    *out = NULL;
    if (!p || len == 0)
        return 0;
    json_t *j = json_loadb(p, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
    if (!j)
        return err_setf(err, errlen, "the %s is not JSON: %s (line %d, column %d)", what, je.text, je.line,
                        je.column);
    if (json_is_null(j)) {
        json_decref(j);
        return 0;
    }
    *out = j;
    return 0;
}

/* The {schema, payload} envelope of a record part; refuses schemaless ones. */
static int unwrap(const json_t *j, const char *what, const json_t **schema, const json_t **payload, char *err,
                  size_t errlen)
{
    if (!json_is_object(j))
        return err_setf(err, errlen, "the %s is not a JSON object", what);
    *schema = json_object_get(j, "schema");
    *payload = json_object_get(j, "payload");
    if (!*schema || json_is_null(*schema) || !*payload)
        return err_setf(err, errlen, "%s: %s", what, no_schema_msg);
    if (!json_is_object(*schema))
        return err_setf(err, errlen, "the %s's schema is not an object", what);
    return 0;
}

/* Records that are not change events: 1 to skip, 0 otherwise. */
static int not_a_change(const char *name)
{
    static const char *const skip[] = {
        "io.debezium.connector.common.Heartbeat", "io.debezium.connector.common.TransactionMetadataValue",
        "io.debezium.connector.postgresql.MessageValue"};
    if (!name)
        return 0;
    for (size_t i = 0; i < sizeof skip / sizeof skip[0]; i++)
        if (strcmp(name, skip[i]) == 0)
            return 1;
    return ends_with(name, "SchemaChangeValue") || ends_with(name, ".Heartbeat");
}

static int json_uint(const json_t *j, uint64_t *out)
{
    if (!json_is_integer(j) || json_integer_value(j) < 0)
        return -1;
    *out = (uint64_t)json_integer_value(j);
    return 0;
}

/* One image (before/after) of the row. */
static int row_read(debezium_decoder *d, const json_t *j, const table_def *t, const dbzd_column *cc, arena *a,
                    const char *which, value **out, char *err, size_t errlen)
{
    *out = NULL;
    if (!j || json_is_null(j))
        return 0;
    if (!json_is_object(j))
        return err_setf(err, errlen, "\"%s\" does not match its schema: not an object", which);
    value *row = arena_alloc(a, (size_t)(t->ncols ? t->ncols : 1) * sizeof *row);
    for (int i = 0; i < t->ncols; i++) {
        const json_t *v = json_object_get(j, t->cols[i].name);
        if (!v)
            return err_setf(err, errlen, "\"%s\" does not match its schema: no field %s", which, t->cols[i].name);
        if (dbzd_value_read(&cc[i], t->cols[i].name, v, &d->scratch, a, &row[i], err, errlen) < 0)
            return -1;
    }
    *out = row;
    return 0;
}

/* A key-only before image (REPLICA IDENTITY DEFAULT): non-key values null, and a key. */
static int key_only(const table_def *t, value *row)
{
    int keys = 0, others = 0;
    for (int i = 0; i < t->ncols; i++) {
        if (t->cols[i].is_pk)
            keys++;
        else if (row[i].state != VALUE_IS_NULL)
            return 0;
        else
            others++;
    }
    if (!keys || !others)
        return 0;
    for (int i = 0; i < t->ncols; i++)
        if (!t->cols[i].is_pk)
            row[i].state = VALUE_UNAVAILABLE;
    return 1;
}

static uint8_t snapshot_of(const json_t *j)
{
    static const struct { const char *name; uint8_t v; } names[] = {
        {"true", SNAPSHOT_TRUE}, {"first", SNAPSHOT_TRUE}, {"first_in_data_collection", SNAPSHOT_TRUE},
        {"last_in_data_collection", SNAPSHOT_TRUE}, {"last", SNAPSHOT_LAST}, {"incremental", SNAPSHOT_INCREMENTAL}};
    if (json_is_true(j))
        return SNAPSHOT_TRUE;
    const char *s = json_string_value(j);
    for (size_t i = 0; s && i < sizeof names / sizeof names[0]; i++)
        if (strcmp(s, names[i].name) == 0)
            return names[i].v;
    return SNAPSHOT_NONE;
}

/* The transaction, position and source fields of the event. */
static int source_read(const json_t *payload, arena *a, event *out, char *err, size_t errlen)
{
    const json_t *src = json_object_get(payload, "source");
    uint64_t lsn = 0, xid = 0, order = 0;
    const json_t *ts_us = json_object_get(src, "ts_us"), *ts_ms = json_object_get(src, "ts_ms");
    const json_t *jl = json_object_get(src, "lsn"), *jx = json_object_get(src, "txId");
    if ((jl && !json_is_null(jl) && json_uint(jl, &lsn) < 0) || (jx && !json_is_null(jx) && json_uint(jx, &xid) < 0))
        return err_setf(err, errlen, "source.lsn and source.txId must be non-negative integers");
    tx_info *tx = arena_alloc(a, sizeof *tx);
    memset(tx, 0, sizeof *tx);
    tx->xid = (uint32_t)xid;
    if (json_is_integer(ts_us))
        tx->commit_time_us = json_integer_value(ts_us);
    else if (!json_is_integer(ts_ms) || __builtin_mul_overflow(json_integer_value(ts_ms), 1000, &tx->commit_time_us))
        tx->commit_time_us = 0;
    tx->final_lsn = lsn;
    out->seq = 0;
    const json_t *txb = json_object_get(payload, "transaction");
    const char *id = json_string_value(json_object_get(txb, "id"));
    const char *colon = id ? strrchr(id, ':') : NULL;
    if (colon && colon[1]) {
        char *end;
        unsigned long long v = strtoull(colon + 1, &end, 10);
        if (!*end && colon[1] != '-')
            tx->final_lsn = v;
    }
    if (json_uint(json_object_get(txb, "total_order"), &order) == 0 && order > 0)
        out->seq = order - 1;
    tx->end_lsn = tx->final_lsn;
    out->tx = tx;
    out->lsn = lsn;
    out->snapshot = snapshot_of(json_object_get(src, "snapshot"));
    return 0;
}

/* The change event of a parsed value (and key); 1, 0 to skip, -1. */
/* A key-only image of def from a key's payload: the key columns' values, the others unavailable. */
static int key_image(debezium_decoder *d, const table_def *def, const dbzd_column *cc, const json_t *kpayload,
                     const char *what, arena *a, value **out, char *err, size_t errlen)
{
    value *row = arena_alloc(a, (size_t)(def->ncols ? def->ncols : 1) * sizeof *row);
    for (int i = 0; i < def->ncols; i++) {
        memset(&row[i], 0, sizeof row[i]);
        row[i].state = VALUE_UNAVAILABLE;
        if (def->cols[i].is_pk) {
            const json_t *v = json_object_get(kpayload, def->cols[i].name);
            if (!v)
                return err_setf(err, errlen, "the %s's payload has no field %s", what, def->cols[i].name);
            if (dbzd_value_read(&cc[i], def->cols[i].name, v, &d->scratch, a, &row[i], err, errlen) < 0)
                return -1;
        }
    }
    *out = row;
    return 0;
}

static int decode_parsed(debezium_decoder *d, const json_t *kj, const json_t *vj, const json_t *okj,
                         const value **old_key, arena *a, event *out, char *err, size_t errlen)
{
    const json_t *vschema, *payload, *kschema = NULL, *kpayload = NULL;
    if (unwrap(vj, "value", &vschema, &payload, err, errlen) < 0)
        return -1;
    if (json_is_null(payload))
        return 0;   /* a tombstone in an envelope */
    if (not_a_change(json_string_value(json_object_get(vschema, "name"))))
        return 0;
    const json_t *row_schema = schema_field(vschema, "after");
    if (!row_schema || !json_is_array(json_object_get(row_schema, "fields")))
        row_schema = schema_field(vschema, "before");
    if (!row_schema || !json_is_array(json_object_get(row_schema, "fields")) || !schema_field(vschema, "op") ||
        !schema_field(vschema, "source"))
        return err_setf(err, errlen, "not a Debezium change event (schema %s has no before/after, source and op)",
                        json_string_value(json_object_get(vschema, "name"))
                            ? json_string_value(json_object_get(vschema, "name"))
                            : "without a name");
    if (!json_is_object(payload))
        return err_setf(err, errlen, "the value's payload does not match its schema: not an object");
    const char *op = json_string_value(json_object_get(payload, "op"));
    if (op && strcmp(op, "m") == 0)
        return 0;   /* a logical decoding message */
    if (!op || strlen(op) != 1 || !strchr("cudrt", op[0]))
        return err_setf(err, errlen, "\"op\" must be one of c, u, d, r, t");
    const json_t *src = json_object_get(payload, "source");
    const char *sch = json_string_value(json_object_get(src, "schema"));
    const char *tab = json_string_value(json_object_get(src, "table"));
    if (!json_is_object(src) || !sch || !tab)
        return err_setf(err, errlen, "the value's payload has no source.schema and source.table");
    if (kj && unwrap(kj, "key", &kschema, &kpayload, err, errlen) < 0)
        return -1;

    /* the table */
    const json_t *fields = json_object_get(row_schema, "fields");
    size_t n = json_array_size(fields);
    if (n > MAX_COLUMNS)
        return err_setf(err, errlen, "%zu columns: more than PostgreSQL allows", n);
    table_def *t = arena_alloc(a, sizeof *t);
    memset(t, 0, sizeof *t);
    t->schema = arena_strndup(a, sch, strlen(sch));
    t->name = arena_strndup(a, tab, strlen(tab));
    t->replica_identity = 'd';
    t->ncols = (int)n;
    t->cols = arena_alloc(a, (n ? n : 1) * sizeof *t->cols);
    dbzd_column *cc = arena_alloc(a, (n ? n : 1) * sizeof *cc);
    for (size_t i = 0; i < n; i++) {
        if (column_from_schema(d, json_array_get(fields, i), a, &t->cols[i], &cc[i], err, errlen) < 0)
            return -1;
        for (size_t k = 0; k < i; k++)
            if (strcmp(t->cols[k].name, t->cols[i].name) == 0)
                return err_setf(err, errlen, "column %s appears twice", t->cols[i].name);
    }
    const json_t *kfields = kschema ? json_object_get(kschema, "fields") : NULL;
    if (kschema && !json_is_array(kfields))
        return err_setf(err, errlen, "the key's schema is not a struct");
    for (size_t i = 0; i < json_array_size(kfields); i++) {
        const char *kn = json_string_value(json_object_get(json_array_get(kfields, i), "field"));
        int found = 0;
        for (size_t c = 0; kn && c < n && !found; c++) {
            if (strcmp(t->cols[c].name, kn) == 0) {
                t->cols[c].is_pk = t->cols[c].is_key = 1;
                found = 1;
            }
        }
        if (!found)
            return err_setf(err, errlen, "key field %s is not a column of the value", kn ? kn : "(unnamed)");
    }
    const table_def *def = def_get(d, t, err, errlen);
    if (!def)
        return -1;

    /* the event */
    value *before = NULL, *after = NULL;
    out->op = (event_op)op[0];
    out->table = def;
    if (out->op != EVENT_TRUNCATE &&
        (row_read(d, json_object_get(payload, "before"), def, cc, a, "before", &before, err, errlen) < 0 ||
         row_read(d, json_object_get(payload, "after"), def, cc, a, "after", &after, err, errlen) < 0))
        return -1;
    if (before && (out->op == EVENT_UPDATE || out->op == EVENT_DELETE))
        out->before_key_only = (uint8_t)key_only(def, before);
    if (!before && out->op == EVENT_DELETE && json_is_object(kpayload)) {
        /* no before image (REPLICA IDENTITY NOTHING): the key from the record key */
        if (key_image(d, def, cc, kpayload, "key", a, &before, err, errlen) < 0)
            return -1;
        out->before_key_only = 1;
    }
    if (out->op == EVENT_CREATE && okj) {
        /* the new key's half of a key change: the old key it came from */
        const json_t *oschema, *opayload;
        value *ok;
        if (unwrap(okj, "old key", &oschema, &opayload, err, errlen) < 0)
            return -1;
        if (!json_is_object(opayload))
            return err_setf(err, errlen, "the old key's payload is not an object");
        if (key_image(d, def, cc, opayload, "old key", a, &ok, err, errlen) < 0)
            return -1;
        *old_key = ok;
    }
    if ((out->op == EVENT_CREATE || out->op == EVENT_READ || out->op == EVENT_UPDATE) && !after)
        return err_setf(err, errlen, "a '%c' event without an after image", op[0]);
    out->before = before;
    out->after = after;
    return source_read(payload, a, out, err, errlen) < 0 ? -1 : 1;
}

int debezium_decoder_decode_record(debezium_decoder *d, debezium_record *r, arena *a, event *out, char *err,
                                   size_t errlen)
{
    json_t *vj = NULL, *kj = NULL, *okj = NULL;
    int rc;
    memset(out, 0, sizeof *out);
    r->old_key_image = NULL;
    if (load_json(r->value, r->value_len, "value", &vj, err, errlen) < 0)
        return -1;
    if (!vj)
        return 0;   /* a tombstone */
    if (load_json(r->key, r->key_len, "key", &kj, err, errlen) < 0 ||
        (r->oldkey && load_json(r->oldkey, r->oldkey_len, "old key", &okj, err, errlen) < 0))
        rc = -1;
    else
        rc = decode_parsed(d, kj, vj, okj, &r->old_key_image, a, out, err, errlen);
    json_decref(okj);
    json_decref(kj);
    json_decref(vj);
    if (rc <= 0) {
        memset(out, 0, sizeof *out);
        r->old_key_image = NULL;
    }
    return rc;
}

int debezium_decoder_decode(debezium_decoder *d, const void *key, size_t keylen, const void *val, size_t vallen,
                            arena *a, event *out, char *err, size_t errlen)
{
    debezium_record r = {.key = key, .key_len = keylen, .value = val, .value_len = vallen};
    return debezium_decoder_decode_record(d, &r, a, out, err, errlen);
}
