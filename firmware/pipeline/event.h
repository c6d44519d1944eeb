/* event: the one change event type that flows from capture through rules to every sink.
 * A table_def describes a captured table (identity, columns, schema version); an event is one
 * change to one row (or a truncate) with typed before/after values and its source position,
 * and, when a rule routed it, its destinations.
 * Ownership: events and the values they point to are borrowed by sinks for the duration of the
 * call that hands them over (they live in the decoder's per-message arena); a sink copies what
 * it keeps. table_defs live until the capture is destroyed (a new schema version is a new
 * table_def; the old one stays valid). */
#ifndef SLUICE_PIPELINE_EVENT_H
#define SLUICE_PIPELINE_EVENT_H

#include <stddef.h>
#include <stdint.h>

/* How a column's values are represented (derived from the PostgreSQL type). */
typedef enum value_kind {
    VALUE_TEXT = 0,    /* text, varchar, bpchar, name, xml, citext, enums, unknown types: s */
    VALUE_BOOL,        /* b */
    VALUE_INT16,       /* i */
    VALUE_INT32,       /* i (also oid) */
    VALUE_INT64,       /* i */
    VALUE_FLOAT32,     /* f */
    VALUE_FLOAT64,     /* f (NaN and infinities allowed) */
    VALUE_NUMERIC,     /* s: exact decimal text as PostgreSQL prints it ("-12.3400", "NaN", "Infinity") */
    VALUE_MONEY,       /* i: the amount in cents (money has 2 fraction digits in the C/en_US locales); s: server text */
    VALUE_BYTES,       /* s/len: the decoded bytes (not text) */
    VALUE_DATE,        /* i: days since 1970-01-01; INT64_MIN/INT64_MAX for -infinity/infinity */
    VALUE_TIME,        /* i: microseconds since midnight */
    VALUE_TIMETZ,      /* i: microseconds since midnight (local), tz_offset: seconds east of UTC */
    VALUE_TIMESTAMP,   /* i: microseconds since 1970-01-01 00:00 (no zone); INT64_MIN/MAX for infinities */
    VALUE_TIMESTAMPTZ, /* i: microseconds since the Unix epoch, UTC; INT64_MIN/MAX for infinities */
    VALUE_INTERVAL,    /* interval.months, interval.days, interval.us */
    VALUE_UUID,        /* s: canonical lower-case text; uuid: the 16 bytes */
    VALUE_JSON,        /* s: json/jsonb text */
    VALUE_INET,        /* s: inet, cidr, macaddr, macaddr8 text */
    VALUE_ARRAY,       /* s: the array literal ("{1,2,NULL}"); the column's elem_kind tells element kinds */
} value_kind;

/* Presence of a value in a row image. */
typedef enum value_state {
    VALUE_PRESENT = 0,
    VALUE_IS_NULL,       /* SQL NULL */
    VALUE_UNAVAILABLE,   /* not sent: an unchanged TOASTed value, or a non-key column of a key-only image */
} value_state;

typedef struct value {
    uint8_t state;        /* value_state */
    const char *s;        /* server text (or decoded bytes for VALUE_BYTES); borrowed */
    size_t len;           /* length of s */
    union {
        int b;
        int64_t i;
        double f;
        struct { int32_t months, days; int64_t us; } interval;
        uint8_t uuid[16];
    } v;
    int32_t tz_offset;    /* VALUE_TIMETZ only */
} value;

typedef struct column_def {
    char *name;
    uint32_t type_oid;
    int32_t typmod;        /* -1 when none; numeric: ((precision << 16) | scale) + 4 */
    char *type_name;       /* "int4", "numeric", "public.order_status", ... */
    value_kind kind;
    value_kind elem_kind;  /* VALUE_ARRAY: the elements' kind */
    uint8_t is_key;        /* part of the replica identity: sent in old-key tuples (every column
                            * under REPLICA IDENTITY FULL) */
    uint8_t is_pk;         /* part of the primary key: the event key, whatever the replica identity */
    uint8_t not_null;      /* declared NOT NULL */
    char *enum_labels;     /* an enum type's labels in sort order, comma-separated ("sad,ok,happy");
                            * NULL for other types */
} column_def;

typedef struct table_def {
    uint32_t oid;              /* pg_class oid */
    char *schema;
    char *name;
    char replica_identity;     /* 'd' default, 'n' nothing, 'f' full, 'i' index */
    uint32_t version;          /* schema version: increases when the columns change */
    int ncols;
    column_def *cols;
} table_def;

typedef enum event_op {
    EVENT_CREATE = 'c',
    EVENT_UPDATE = 'u',
    EVENT_DELETE = 'd',
    EVENT_READ = 'r',      /* snapshot read */
    EVENT_TRUNCATE = 't',
} event_op;

typedef enum event_snapshot {
    SNAPSHOT_NONE = 0,     /* streamed change */
    SNAPSHOT_TRUE,         /* snapshot read */
    SNAPSHOT_LAST,         /* last row of the initial snapshot */
    SNAPSHOT_INCREMENTAL,  /* read by an incremental (watermark) snapshot */
} event_snapshot;

/* Transaction boundaries as the source reports them. */
typedef struct tx_info {
    uint32_t xid;
    uint64_t final_lsn;        /* LSN of the commit record */
    uint64_t end_lsn;          /* end of the commit record: the position to confirm once durable */
    int64_t commit_time_us;    /* Unix microseconds */
} tx_info;

typedef struct event {
    event_op op;
    uint8_t snapshot;          /* event_snapshot */
    uint8_t before_key_only;   /* before holds only key columns (REPLICA IDENTITY DEFAULT/INDEX) */
    const table_def *table;
    const value *before;       /* table->ncols values or NULL */
    const value *after;        /* table->ncols values or NULL (deletes, truncates) */
    uint64_t lsn;              /* WAL position of this change (snapshot: the slot's consistent point) */
    const tx_info *tx;         /* the transaction (snapshot reads: a synthetic one, xid 0) */
    uint64_t seq;              /* position of the change within its transaction, from 0 */
    /* Where a rule's route(event) sent the event (rules_engine.h; names checked by
     * event_route.h). NULL means the table's own destination; everything that builds events
     * (capture, snapshots, dead-letter replays) leaves both NULL, only the rules engine sets
     * them. Borrowed like the values. */
    const char *route_topic;   /* the exact Kafka topic, instead of <prefix>.<schema>.<table> */
    const char *route_table;   /* the destination table: lake table <route_table> instead of
                                * <schema>.<table>, and (without route_topic) Kafka topic
                                * <prefix>.<route_table> */
} event;

/* Free a table_def built on the heap: the struct, cols, and every string in them (name, schema,
 * column names, type names, enum labels). Accepts NULL. */
void table_def_free(table_def *t);

/* A heap copy of t: the struct, its columns and every string (NULL strings stay NULL), to be
 * freed with table_def_free. NULL when out of memory. */
table_def *table_def_copy(const table_def *t);

/* A kind's name for messages: the PostgreSQL type it stands for ("int4", "timestamptz", "bytea",
 * "inet", "array"), "unknown" outside the enum. */
const char *value_kind_name(value_kind k);

/* LSN text form "XXX/XXXXXXXX" into out (at least 18 bytes); parse returns 0 or -1. */
void lsn_format(uint64_t lsn, char out[18]);
int lsn_parse(const char *s, uint64_t *out);

#endif
