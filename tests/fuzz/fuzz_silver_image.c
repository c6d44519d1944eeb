/* libFuzzer target: the silver writer's row images (silver_image.h) must decode within their
 * input on any bytes, under the table they were written for and under one whose columns changed
 * kind (stored text parsed again); what decodes must encode and decode back. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sinks/lake/silver_image.h"

#define NCOLS 8

static column_def same_cols[NCOLS] = {
    {.name = "id", .kind = VALUE_INT64},      {.name = "name", .kind = VALUE_TEXT},
    {.name = "blob", .kind = VALUE_BYTES},    {.name = "price", .kind = VALUE_FLOAT64},
    {.name = "at", .kind = VALUE_TIMETZ},     {.name = "span", .kind = VALUE_INTERVAL},
    {.name = "key", .kind = VALUE_UUID},      {.name = "x", .kind = VALUE_BOOL},
};
/* the same names, every column of another kind */
static column_def changed_cols[NCOLS] = {
    {.name = "id", .kind = VALUE_NUMERIC},    {.name = "name", .kind = VALUE_JSON},
    {.name = "blob", .kind = VALUE_TEXT},     {.name = "price", .kind = VALUE_MONEY},
    {.name = "at", .kind = VALUE_TIMESTAMPTZ}, {.name = "span", .kind = VALUE_ARRAY},
    {.name = "key", .kind = VALUE_BYTES},     {.name = "x", .kind = VALUE_DATE},
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static arena *a;
    if (!a)
        a = arena_create(0);
    table_def same = {.name = "t", .ncols = NCOLS, .cols = same_cols};
    table_def changed = {.name = "t", .ncols = NCOLS, .cols = changed_cols};
    value vals[NCOLS], again[NCOLS];
    char err[256];
    if (silver_image_decode(&same, data, size, vals, a, err, sizeof err) == 0) {
        buf b = BUF_INIT;
        if (silver_image_encode(&same, vals, &b, err, sizeof err) != 0 ||
            silver_image_decode(&same, b.data, b.len, again, a, err, sizeof err) != 0)
            abort();
        for (int i = 0; i < NCOLS; i++)
            if (again[i].state != vals[i].state || again[i].len != vals[i].len ||
                (vals[i].s && memcmp(again[i].s, vals[i].s, vals[i].len) != 0))
                abort();
        buf_free(&b);
    }
    silver_image_decode(&changed, data, size, vals, a, err, sizeof err);
    arena_reset(a);
    return 0;
}
