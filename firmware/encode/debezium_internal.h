/* debezium_internal: what the files of the Debezium JSON encoder share (not a public API).
 * debezium_json.c holds the encoder and the messages, debezium_values.c the column values,
 * debezium_schema.c the Connect schemas, debezium_numbers.c Java's number and string text,
 * pg_array.c the walk over PostgreSQL array literals. */
#ifndef SLUICE_ENCODE_DEBEZIUM_INTERNAL_H
#define SLUICE_ENCODE_DEBEZIUM_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include "core/arena.h"
#include "core/buf.h"
#include "encode/debezium_json.h"

/* Append a string literal without strlen. */
#define PUT_LIT(out, lit) buf_append((out), (lit), sizeof(lit) - 1)

/* Well-known type OIDs whose Connect schema differs from their value kind's default. */
#define DBZ_OID_OID 26
#define DBZ_OID_XML 142
#define DBZ_OID_BIT 1560
#define DBZ_OID_VARBIT 1562
#define DBZ_OID_OID_ARRAY 1028

/* One captured table as the encoder has prepared it (cached by table_def pointer). */
typedef struct dbz_table {
    const table_def *t;
    int nkeys;                 /* key (primary key) columns */
    buf names;                 /* "col": for every column, back to back */
    size_t *name_off;          /* ncols + 1 offsets into names */
    buf source_table;          /* ,"schema":"<schema>","table":"<table>" */
    char *key_schema;          /* Connect schemas (schemas=1 only, built on first use) */
    char *value_schema;
    size_t key_schema_len, value_schema_len;
} dbz_table;

struct debezium_encoder {
    debezium_options o;        /* name and db point at the copies below */
    char *name, *db;
    arena *scratch;            /* array elements; reset per array value */
    buf tmp;                   /* digits and bytes of one decimal */
    dbz_table **tables;        /* open addressing by table_def pointer */
    size_t tcap, tcount;
    dbz_table *last;           /* the table of the previous event */
    buf source_head;           /* ,"source":{"version":...,"name":"<name>","ts_ms": */
    buf source_db;             /* ","db":"<db>","sequence":"[\" */
    uint64_t tx_final;         /* commit LSN of the transaction being encoded */
    uint64_t last_commit;      /* commit LSN of the one before it (source.sequence[0]), 0 = none */
};

/* ---- debezium_numbers.c: text exactly as Jackson / Java print it ------------------------- */

/* A JSON string of len bytes (Jackson's escapes: \" \\ \b \t \n \f \r, else \u00XX). */
void dbz_json_text(buf *out, const char *s, size_t len);
void dbz_json_cstr(buf *out, const char *s);
/* A JSON string of the standard base64 of the bytes (Jackson's binary nodes). */
void dbz_json_base64(buf *out, const unsigned char *p, size_t n);
/* Double.toString / Float.toString (shortest round-trip digits); NaN and infinities as the
 * quoted strings "NaN", "Infinity", "-Infinity" (Jackson's QUOTE_NON_NUMERIC_NUMBERS). */
void dbz_json_double(buf *out, double d);
void dbz_json_float(buf *out, float f);

/* A decimal number split as Java's BigDecimal holds it: sign, unscaled digits (no leading
 * zeros; "0" for zero) and scale. digits point into the encoder's tmp buffer. */
typedef struct dbz_decimal {
    int neg;
    const char *digits;
    size_t ndigits;
    int32_t scale;
} dbz_decimal;

/* Parse PostgreSQL numeric text ("-12.3400", "1e5" tolerated); 0, or -1 for anything else
 * (NaN, infinities, garbage). */
int dbz_decimal_parse(const char *s, size_t len, buf *tmp, dbz_decimal *d);
/* setScale(scale) (dropping digits when lowering it: PostgreSQL's values never need that).
 * Only valid right after dbz_decimal_parse into the same tmp. */
void dbz_decimal_rescale(buf *tmp, dbz_decimal *d, int32_t scale);
/* BigDecimal.toString() as a JSON string ("1.50", "1E-7", "0E-8"). */
void dbz_decimal_json_string(buf *out, const dbz_decimal *d);
/* The unscaled value as BigInteger.toByteArray() (big-endian two's complement, minimal
 * length), base64 in a JSON string: Connect's Decimal and VariableScaleDecimal "value". */
void dbz_decimal_json_bytes(buf *out, const dbz_decimal *d);
/* The same for a 64-bit integer (money cents). */
void dbz_i64_json_bytes(buf *out, int64_t v);

/* ---- debezium_values.c ------------------------------------------------------------------- */

/* The value of col in a row: null, the unavailable placeholder, or the converted value. */
void dbz_value(debezium_encoder *e, buf *out, const column_def *col, const value *v);

/* ---- debezium_schema.c ------------------------------------------------------------------- */


/* The field schema of col ({"type":...,"field":"name"}); optional for nullable columns. */
void dbz_schema_field(const debezium_encoder *e, buf *out, const column_def *col, int optional);
/* The key struct schema and the value envelope schema of a table (malloc'd strings). */
char *dbz_schema_key(const debezium_encoder *e, const table_def *t);
char *dbz_schema_envelope(const debezium_encoder *e, const table_def *t);
/* Fixed schemas of the heartbeat and transaction-metadata messages. */
extern const char dbz_schema_heartbeat_key[];
extern const char dbz_schema_heartbeat_value[];
extern const char dbz_schema_tx_key[];
extern const char dbz_schema_tx_value[];

/* Time precision of a time/timestamp column from its typmod: -1 (none) counts as 6. */
int dbz_time_precision(const column_def *col);
/* Numeric typmod: 1 and precision/scale when the column has one. */
int dbz_numeric_typmod(int32_t typmod, int *precision, int *scale);
/* bit/varbit length in bits (bit without one: 1, varbit without one: 2^31 - 1). */
int32_t dbz_bits_length(const column_def *col);

/* ---- pg_array.c -------------------------------------------------------------------------- */

/* Called for every element of an array literal; s/len is the unquoted, unescaped text (in
 * scratch memory), is_null for an unquoted NULL. Returns 0, or -1 to give up. */
typedef int (*pg_array_element_fn)(void *ctx, buf *out, const char *s, size_t len, int is_null);

/* Walk a PostgreSQL array literal ("{1,2,NULL}", "{{1,2},{3,4}}", "[0:1]={a,b}",
 * "{\"a b\",\"c\\\"d\"}") writing it to out as a JSON array (nested for more dimensions),
 * each element written by fn. Returns 0, or -1 when the literal is malformed or fn gave up;
 * out may then hold a partial array (the caller truncates). */
int pg_array_to_json(const char *s, size_t len, char delim, arena *a, buf *out, pg_array_element_fn fn,
                     void *ctx);

#endif
