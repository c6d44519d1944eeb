/* silver_layout: source columns onto an Iceberg schema, with Iceberg's evolution rules (see
 * silver_layout.h). */
#include "sinks/lake/silver_layout.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/errbuf.h"
#include "sinks/lake/iceberg_parquet.h"
#include "sinks/lake/silver_value.h"

void silver_layout_free(silver_layout *l)
{
    for (size_t i = 0; l->fields && i < l->ncolumns; i++) {
        free((char *)l->fields[i].name);
        free((char *)l->fields[i].type);
    }
    free(l->fields);
    free(l->columns);
    free(l->source);
    memset(l, 0, sizeof *l);
}

int silver_layout_column_of(const silver_layout *l, int i)
{
    for (size_t c = 0; c < l->ncolumns; c++)
        if (l->source[c] == i)
            return (int)c;
    return -1;
}

/* Append a field (strings copied). */
static int layout_add(silver_layout *l, int32_t id, const char *name, const char *type, bool required,
                      bool identifier, int source)
{
    size_t i = l->ncolumns;
    char *n = strdup(name), *t = strdup(type);
    if (!n || !t) {
        free(n);
        free(t);
        return -1;
    }
    l->fields[i] = (iceberg_schema_field){.id = id, .name = n, .required = required, .type = t,
                                          .identifier = identifier};
    l->source[i] = source;
    l->ncolumns++;
    return 0;
}

/* The Iceberg type text of source column c. */
static int source_type(const column_def *c, char out[64], char *err, size_t errlen)
{
    parquet_column_def pc = {.name = c->name};
    if (silver_value_column_type(c, &pc, err, errlen) != 0)
        return -1;
    if (iceberg_parquet_type_text(&pc, out, 64) != 0)
        return err_setf(err, errlen, "column %s: no Iceberg type", c->name);
    return 0;
}

/* Is source column c, of Iceberg type type, an identifier field? Key columns are, except floats
 * (Iceberg refuses float and double identifiers; the writer still keys rows by them). */
static bool key_identifier(const column_def *c, const char *type)
{
    return c->is_pk && strcmp(type, "float") != 0 && strcmp(type, "double") != 0;
}

static int decimal_parse(const char *t, int *p, int *s)
{
    char tail;
    return sscanf(t, "decimal(%d,%d%c", p, s, &tail) == 3 && tail == ')';
}

/* Can a column of type from be promoted to type to (Iceberg's safe promotions)? */
static int promotable(const char *from, const char *to)
{
    int p1, s1, p2, s2;
    if (strcmp(from, "int") == 0 && strcmp(to, "long") == 0)
        return 1;
    if (strcmp(from, "float") == 0 && strcmp(to, "double") == 0)
        return 1;
    return decimal_parse(from, &p1, &s1) && decimal_parse(to, &p2, &s2) && s1 == s2 && p2 > p1;
}

static int source_find(const table_def *def, const char *name)
{
    for (int i = 0; i < def->ncols; i++)
        if (strcmp(def->cols[i].name, name) == 0)
            return i;
    return -1;
}

static int system_find(const silver_system_column *system, size_t nsystem, const char *name)
{
    for (size_t k = 0; k < nsystem; k++)
        if (strcmp(system[k].name, name) == 0)
            return (int)k;
    return -1;
}

/* A new table: the source columns, then the system ones. */
static int layout_new(silver_layout *l, const table_def *def, const silver_system_column *system, size_t nsystem,
                      bool identifiers, char *err, size_t errlen)
{
    int32_t id = 0;
    char type[64];
    for (int i = 0; i < def->ncols; i++) {
        const column_def *c = &def->cols[i];
        if (source_type(c, type, err, errlen) < 0)
            return -1;
        if (layout_add(l, ++id, c->name, type, c->is_pk, identifiers && key_identifier(c, type), i) < 0)
            return err_setf(err, errlen, "out of memory");
    }
    for (size_t k = 0; k < nsystem; k++) {
        parquet_column_def pc = {.name = system[k].name, .type = system[k].type};
        if (iceberg_parquet_type_text(&pc, type, sizeof type) != 0 ||
            layout_add(l, ++id, system[k].name, type, !system[k].optional, false, SILVER_COLUMN_SYSTEM((int)k)) < 0)
            return err_setf(err, errlen, "out of memory");
    }
    return 0;
}

/* One existing field against the source: kept, promoted, or dropped. */
static int layout_keep(silver_layout *l, const table_def *def, const iceberg_schema_field *e,
                       const silver_system_column *system, size_t nsystem, char *err, size_t errlen)
{
    int k = system_find(system, nsystem, e->name);
    if (k >= 0)
        return layout_add(l, e->id, e->name, e->type, e->required, e->identifier, SILVER_COLUMN_SYSTEM(k)) < 0
                   ? err_setf(err, errlen, "out of memory")
                   : 0;
    int i = source_find(def, e->name);
    if (i < 0) {
        if (e->identifier)
            return err_setf(err, errlen, "primary-key column %s was dropped from the source", e->name);
        l->changed |= e->required;
        return layout_add(l, e->id, e->name, e->type, false, false, SILVER_COLUMN_DROPPED) < 0
                   ? err_setf(err, errlen, "out of memory")
                   : 0;
    }
    char type[64];
    if (source_type(&def->cols[i], type, err, errlen) < 0)
        return -1;
    const char *keep = e->type;
    if (strcmp(type, e->type) != 0) {
        if (promotable(e->type, type)) {
            keep = type;
            l->changed = 1;
        } else if (!promotable(type, e->type)) {
            return err_setf(err, errlen, "column %s changed type from %s to %s, which an Iceberg table cannot "
                            "follow (only int to long, float to double and wider decimals are allowed)",
                            e->name, e->type, type);
        }
    }
    return layout_add(l, e->id, e->name, keep, e->required, e->identifier, i) < 0 ? err_setf(err, errlen,
                                                                                             "out of memory")
                                                                                  : 0;
}

/* The existing schema, then new source columns as new optional fields. */
static int layout_evolve(silver_layout *l, const table_def *def, const iceberg_schema_field *existing,
                         size_t nexisting, int32_t last_column_id, const silver_system_column *system,
                         size_t nsystem, bool identifiers, char *err, size_t errlen)
{
    for (size_t j = 0; j < nexisting; j++)
        if (layout_keep(l, def, &existing[j], system, nsystem, err, errlen) < 0)
            return -1;
    int32_t id = last_column_id;
    char type[64];
    for (int i = 0; i < def->ncols; i++) {
        const column_def *c = &def->cols[i];
        if (silver_layout_column_of(l, i) >= 0)
            continue;
        if (c->is_pk)
            return err_setf(err, errlen, "the primary key changed (new key column %s)", c->name);
        if (system_find(system, nsystem, c->name) >= 0)
            return err_setf(err, errlen, "new column %s has the name of a column the writer adds", c->name);
        if (source_type(c, type, err, errlen) < 0)
            return -1;
        if (layout_add(l, ++id, c->name, type, false, false, i) < 0)
            return err_setf(err, errlen, "out of memory");
        l->changed = 1;
    }
    for (int i = 0; identifiers && i < def->ncols; i++) {
        int col = silver_layout_column_of(l, i);
        if (key_identifier(&def->cols[i], l->fields[col].type) != l->fields[col].identifier)
            return err_setf(err, errlen, "the primary key changed (column %s %s it)", def->cols[i].name,
                            def->cols[i].is_pk ? "joined" : "left");
    }
    return 0;
}

int silver_layout_build(silver_layout *out, const table_def *def, bool exists, const iceberg_schema_field *existing,
                        size_t nexisting, int32_t last_column_id, const silver_system_column *system,
                        size_t nsystem, bool identifiers, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    size_t cap = (size_t)def->ncols + nexisting + nsystem + 1;
    out->fields = calloc(cap, sizeof *out->fields);
    out->columns = calloc(cap, sizeof *out->columns);
    out->source = calloc(cap, sizeof *out->source);
    int rc = -1;
    if (!out->fields || !out->columns || !out->source) {
        err_setf(err, errlen, "out of memory");
        goto out;
    }
    if (!exists) {
        for (size_t k = 0; k < nsystem; k++)
            if (source_find(def, system[k].name) >= 0) {
                err_setf(err, errlen, "column %s has the name of a column the writer adds", system[k].name);
                goto out;
            }
    }
    if ((exists ? layout_evolve(out, def, existing, nexisting, last_column_id, system, nsystem, identifiers, err,
                                  errlen)
                  : layout_new(out, def, system, nsystem, identifiers, err, errlen)) < 0)
        goto out;
    for (size_t c = 0; c < out->ncolumns; c++) {
        parquet_column_def *pc = &out->columns[c];
        if (iceberg_parquet_type_parse(out->fields[c].type, pc, err, errlen) != 0)
            goto out;
        pc->name = out->fields[c].name;
        pc->field_id = out->fields[c].id;
        pc->optional = !out->fields[c].required;
    }
    rc = 0;
out:
    if (rc < 0)
        silver_layout_free(out);
    return rc;
}
