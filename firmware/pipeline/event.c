/* event: helpers for the change event type (see event.h). */
#include "pipeline/event.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void table_def_free(table_def *t)
{
    if (!t)
        return;
    for (int i = 0; t->cols && i < t->ncols; i++) {
        free(t->cols[i].name);
        free(t->cols[i].type_name);
        free(t->cols[i].enum_labels);
    }
    free(t->cols);
    free(t->schema);
    free(t->name);
    free(t);
}

static char *copy_str(const char *s, int *oom)
{
    if (!s)
        return NULL;
    char *c = strdup(s);
    *oom |= !c;
    return c;
}

table_def *table_def_copy(const table_def *t)
{
    int oom = 0;
    table_def *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    *c = *t;
    c->cols = t->ncols > 0 ? calloc((size_t)t->ncols, sizeof *c->cols) : NULL;
    c->ncols = c->cols ? t->ncols : 0;
    oom = t->ncols > 0 && !c->cols;
    c->schema = copy_str(t->schema, &oom);
    c->name = copy_str(t->name, &oom);
    for (int i = 0; i < c->ncols; i++) {
        c->cols[i] = t->cols[i];
        c->cols[i].name = copy_str(t->cols[i].name, &oom);
        c->cols[i].type_name = copy_str(t->cols[i].type_name, &oom);
        c->cols[i].enum_labels = copy_str(t->cols[i].enum_labels, &oom);
    }
    if (oom) {
        table_def_free(c);
        return NULL;
    }
    return c;
}

void lsn_format(uint64_t lsn, char out[18])
{
    snprintf(out, 18, "%" PRIX32 "/%" PRIX32, (uint32_t)(lsn >> 32), (uint32_t)lsn);
}

int lsn_parse(const char *s, uint64_t *out)
{
    char *end;
    unsigned long hi = strtoul(s, &end, 16);
    if (end == s || *end != '/' || hi > 0xFFFFFFFFul)
        return -1;
    const char *lo_s = end + 1;
    unsigned long lo = strtoul(lo_s, &end, 16);
    if (end == lo_s || *end != '\0' || lo > 0xFFFFFFFFul)
        return -1;
    *out = ((uint64_t)hi << 32) | lo;
    return 0;
}

static const char *const value_kind_names[] = {
    [VALUE_TEXT] = "text",         [VALUE_BOOL] = "bool",         [VALUE_INT16] = "int2",
    [VALUE_INT32] = "int4",        [VALUE_INT64] = "int8",        [VALUE_FLOAT32] = "float4",
    [VALUE_FLOAT64] = "float8",    [VALUE_NUMERIC] = "numeric",   [VALUE_MONEY] = "money",
    [VALUE_BYTES] = "bytea",       [VALUE_DATE] = "date",         [VALUE_TIME] = "time",
    [VALUE_TIMETZ] = "timetz",     [VALUE_TIMESTAMP] = "timestamp", [VALUE_TIMESTAMPTZ] = "timestamptz",
    [VALUE_INTERVAL] = "interval", [VALUE_UUID] = "uuid",         [VALUE_JSON] = "json",
    [VALUE_INET] = "inet",         [VALUE_ARRAY] = "array",
};

const char *value_kind_name(value_kind k)
{
    return (unsigned)k < sizeof value_kind_names / sizeof value_kind_names[0] && value_kind_names[k]
               ? value_kind_names[k]
               : "unknown";
}
