/* event: helpers for the change event type (see event.h). */
#include "pipeline/event.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

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
