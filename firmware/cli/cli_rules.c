/* cli_rules: `sluice rules`: dispatches its subcommands, and runs `sluice rules test FILE.lua...`:
 * each rule against the fixture cases written next to it (FILE.test.json), every case in a fresh
 * sandbox, comparing what transform (and route) return with the expectations; one line per case,
 * a summary, exit 0 when all pass. The store's rules (add, activate, ...) are cli_rules_admin.c;
 * the JSON <-> Lua conversion of events and results is rules/rules_json.c (shared with the
 * console's dry runs). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli/cli.h"
#include "core/buf.h"
#include "rules/rules_json.h"
#include "rules/rules_steps.h"
#include "rules/rules_vm.h"

#define RULE_MAX_BYTES (4u << 20)   /* a rule is a few lines; refuse anything absurd */
#define DIFF_MAX 8                  /* differences listed per case */
#define SHOW_MAX 160                /* characters of a value shown in a difference */

static const char usage[] =
    "usage: sluice rules COMMAND ...\n"
    "\n"
    "Transformation rules (Lua).\n"
    "  test FILE.lua...   run each rule against the fixture cases next to it (FILE.test.json)\n"
    "  add NAME ...       store a new version of a rule (compiled first)\n"
    "  activate NAME V    make version V the active one (0 deactivates; older: roll back)\n"
    "  list               the stored rules and their versions\n"
    "  dead-letters       the latest events rules could not transform (`dead-letters replay`:\n"
    "                     pass them through the current rules again)\n"
    "`sluice rules COMMAND --help` describes each command.\n";

static const char test_usage[] =
    "usage: sluice rules test FILE.lua...\n"
    "\n"
    "Runs each rule against the fixture cases in FILE.test.json next to it and prints one line\n"
    "per case (\"ok   NAME\", or \"FAIL NAME: PATH: want X, got Y\") and a summary. Fixtures:\n"
    "  {\"lookups\": {\"TABLE\": {\"KEY\": \"VALUE\", ...}, ...},       served to sluice.lookup\n"
    "   \"cases\": [{\"name\": \"...\",\n"
    "              \"event\": {\"op\": \"u\", \"before\": {...}, \"after\": {...}, \"source\": {...}},\n"
    "              \"expect\": EVENT | null | [EVENT, ...],    what transform returns (null: drop,\n"
    "                                                         a list: split), or instead\n"
    "              \"expect_error\": \"TEXT\",                   transform fails with TEXT in the error\n"
    "              \"expect_route\": \"NAME\" | {\"topic\": ..., \"table\": ...} | null | [...]}]}\n"
    "                                                         optional: what route returns\n"
    "Every case runs in a fresh sandbox with the default limits. JSON null and a missing key are\n"
    "the same (Lua's nil); numbers compare exactly, and 1 (an integer) is not 1.0 (a float).\n"
    "Lists are numbered from 1 in paths, as in Lua.\n"
    "Exit status: 0 every case passed, 1 a case failed or a rule or fixture is broken,\n"
    "2 usage error.\n";

/* ---- fixtures ---- */

/* sluice.lookup(table, key) served from the fixture's "lookups" object (validated strings). */
static int fixture_lookup(void *arg, const char *table, const char *key, char **out, char *err, size_t errlen)
{
    json_t *lookups = arg, *t = lookups ? json_object_get(lookups, table) : NULL, *v;
    *out = NULL;
    if (!t) {
        snprintf(err, errlen, "no lookup table '%s' in the fixture", table);
        return -1;
    }
    if (!(v = json_object_get(t, key)))
        return 0;
    if (!(*out = strdup(json_string_value(v)))) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    return 0;
}

/* 1 when every key of obj is in the NULL-terminated list allowed, else 0 with the stranger in *bad. */
static int keys_allowed(json_t *obj, const char *const *allowed, const char **bad)
{
    const char *k;
    json_t *v;
    json_object_foreach(obj, k, v) {
        size_t i;
        for (i = 0; allowed[i] && strcmp(allowed[i], k) != 0; i++)
            ;
        if (!allowed[i]) {
            *bad = k;
            return 0;
        }
    }
    return 1;
}

/* Check one case object; 0, or -1 with the reason in err. */
static int fixture_case_check(json_t *c, size_t i, char *err, size_t errlen)
{
    static const char *const keys[] = {"name", "event", "expect", "expect_error", "expect_route", "comment", NULL};
    const char *bad;
    json_t *name = json_object_get(c, "name"), *route = json_object_get(c, "expect_route");
    int has_expect = json_object_get(c, "expect") != NULL, has_error = json_object_get(c, "expect_error") != NULL;

    if (!json_is_object(c)) {
        snprintf(err, errlen, "cases[%zu] is not an object", i + 1);
        return -1;
    }
    if (!json_is_string(name) || json_string_length(name) == 0) {
        snprintf(err, errlen, "cases[%zu] needs a \"name\" (a non-empty string)", i + 1);
        return -1;
    }
    const char *n = json_string_value(name);
    if (!keys_allowed(c, keys, &bad)) {
        snprintf(err, errlen, "case \"%s\": unknown key \"%s\" (known: name, event, expect, expect_error, "
                 "expect_route, comment)", n, bad);
        return -1;
    }
    if (!json_is_object(json_object_get(c, "event"))) {
        snprintf(err, errlen, "case \"%s\": \"event\" must be an object (op, before, after, source)", n);
        return -1;
    }
    if (has_expect == has_error) {
        snprintf(err, errlen, "case \"%s\": give either \"expect\" (an event, null or a list) or "
                 "\"expect_error\"", n);
        return -1;
    }
    if (has_error && !json_is_string(json_object_get(c, "expect_error"))) {
        snprintf(err, errlen, "case \"%s\": \"expect_error\" must be a string", n);
        return -1;
    }
    if (route && !json_is_string(route) && !json_is_null(route) && !json_is_array(route) && !json_is_object(route)) {
        snprintf(err, errlen, "case \"%s\": \"expect_route\" must be a string, null, an object {topic, table} "
                 "or a list", n);
        return -1;
    }
    return 0;
}

/* Read and check a fixture file. NULL with the reason (file, line, what) in err. */
static json_t *fixture_load(const char *path, char *err, size_t errlen)
{
    static const char *const keys[] = {"lookups", "cases", "comment", NULL};
    json_error_t je;
    const char *bad, *tname, *k;
    json_t *root, *cases, *lookups, *t, *v;
    size_t i;
    char why[512];

    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: no fixture file (%s): write the rule's cases there, see "
                 "`sluice rules test --help`", path, strerror(errno));
        return NULL;
    }
    root = json_loadf(f, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &je);
    fclose(f);
    if (!root) {
        snprintf(err, errlen, "%s:%d:%d: %s", path, je.line, je.column, je.text);
        return NULL;
    }
    if (!json_is_object(root)) {
        snprintf(why, sizeof why, "not a JSON object with \"cases\"");
        goto bad;
    }
    if (!keys_allowed(root, keys, &bad)) {
        snprintf(why, sizeof why, "unknown key \"%s\" (known: lookups, cases, comment)", bad);
        goto bad;
    }
    cases = json_object_get(root, "cases");
    if (!json_is_array(cases) || json_array_size(cases) == 0) {
        snprintf(why, sizeof why, "\"cases\" must be a non-empty list");
        goto bad;
    }
    json_array_foreach(cases, i, v) {
        if (fixture_case_check(v, i, why, sizeof why) < 0)
            goto bad;
    }
    lookups = json_object_get(root, "lookups");
    if (lookups && !json_is_object(lookups)) {
        snprintf(why, sizeof why, "\"lookups\" must be an object of tables");
        goto bad;
    }
    json_object_foreach(lookups, tname, t) {
        if (!json_is_object(t)) {
            snprintf(why, sizeof why, "lookups.%s must be an object of key: \"value\"", tname);
            goto bad;
        }
        json_object_foreach(t, k, v) {
            if (!json_is_string(v)) {
                snprintf(why, sizeof why, "lookups.%s.%s must be a string (lookup values are text)", tname, k);
                goto bad;
            }
        }
    }
    return root;
bad:
    snprintf(err, errlen, "%s: %s", path, why);
    json_decref(root);
    return NULL;
}

static const char *path_or(const buf *path, const char *root)
{
    return path->len ? path->data : root;
}

/* ---- comparison ---- */

typedef struct diffs {
    buf text;
    int n;
} diffs;

static void show(buf *b, json_t *v)
{
    char *s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT | JSON_SORT_KEYS);
    if (!s) {
        buf_puts(b, "(unprintable)");
        return;
    }
    size_t n = strlen(s);
    if (n > SHOW_MAX) {
        buf_append(b, s, SHOW_MAX);
        buf_puts(b, "...");
    } else {
        buf_append(b, s, n);
    }
    free(s);
}

static void diff_add(diffs *d, const buf *path, const char *root, json_t *want, json_t *got)
{
    if (++d->n > DIFF_MAX)
        return;
    if (d->text.len)
        buf_puts(&d->text, "; ");
    buf_printf(&d->text, "%s: want ", path_or(path, root));
    show(&d->text, want);
    buf_puts(&d->text, ", got ");
    show(&d->text, got);
}

static int key_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Record every place where got differs from want. A missing key equals null (both are nil). */
static void json_diff(json_t *want, json_t *got, buf *path, const char *root, diffs *d)
{
    size_t mark = path->len;
    json_t *null = json_null();

    if (!want)
        want = null;
    if (!got)
        got = null;
    if (json_typeof(want) == JSON_OBJECT && json_typeof(got) == JSON_OBJECT) {
        const char *k;
        json_t *w;
        const char **extra = calloc(json_object_size(got) + 1, sizeof *extra);
        size_t nextra = 0;
        json_object_foreach(want, k, w) {
            buf_printf(path, "%s%s", mark ? "." : "", k);
            json_diff(w, json_object_get(got, k), path, root, d);
            buf_truncate(path, mark);
        }
        json_object_foreach(got, k, w) {
            if (!json_object_get(want, k) && extra)
                extra[nextra++] = k;
        }
        qsort(extra, nextra, sizeof *extra, key_cmp);   /* Lua's key order varies between runs */
        for (size_t i = 0; i < nextra; i++) {
            buf_printf(path, "%s%s", mark ? "." : "", extra[i]);
            json_diff(NULL, json_object_get(got, extra[i]), path, root, d);
            buf_truncate(path, mark);
        }
        free(extra);
        return;
    }
    if (json_typeof(want) == JSON_ARRAY && json_typeof(got) == JSON_ARRAY &&
        json_array_size(want) == json_array_size(got)) {
        for (size_t i = 0; i < json_array_size(want); i++) {
            buf_printf(path, "[%zu]", i + 1);
            json_diff(json_array_get(want, i), json_array_get(got, i), path, root, d);
            buf_truncate(path, mark);
        }
        return;
    }
    /* Scalars; jansson tells integers from reals, and compares reals exactly. */
    if (json_typeof(want) != json_typeof(got) || !json_equal(want, got))
        diff_add(d, path, root, want, got);
}

/* ---- running cases ---- */

typedef struct rule_file {
    const char *path;
    char *src;
    size_t len;
    int has_route;
} rule_file;

/* Run one case; 1 when it passed, else 0 with the reason in msg. */
static int case_run(const rule_file *rf, json_t *lookups, json_t *cs, buf *msg)
{
    const rules_lookup_ops ops = {fixture_lookup, lookups};
    json_t *expect = json_object_get(cs, "expect"), *want_route = json_object_get(cs, "expect_route");
    const char *want_error = json_string_value(json_object_get(cs, "expect_error"));
    json_t *got = NULL, *route = NULL;
    char err[2048] = "";
    int failed = 0, passed = 0;
    buf path = BUF_INIT;
    diffs d = {BUF_INIT, 0};

    rules_vm *vm = rules_vm_create(NULL, &ops, err, sizeof err);
    if (!vm) {
        buf_printf(msg, "cannot create the sandbox: %s", err);
        return 0;
    }
    if (rules_vm_load(vm, rf->path, rf->src, rf->len, err, sizeof err) < 0) {
        buf_printf(msg, "load: %s", err);
        goto out;
    }
    if (rules_json_push(rules_vm_state(vm), json_object_get(cs, "event"), err, sizeof err) < 0) {
        buf_printf(msg, "cannot pass the event to Lua: %s", err);
        goto out;
    }
    failed = rules_json_transform(vm, rf->has_route, &got, &route, err, sizeof err) < 0;

    if (failed) {
        if (want_error && strstr(err, want_error))
            passed = 1;
        else if (want_error)
            buf_printf(msg, "want an error containing \"%s\", got: %s", want_error, err);
        else
            buf_printf(msg, "%s", err);
        goto out;
    }
    if (want_error) {
        buf_printf(msg, "want an error containing \"%s\", got ", want_error);
        show(msg, got);
        goto out;
    }
    json_diff(expect, got, &path, "result", &d);
    if (want_route) {
        if (!rf->has_route) {
            buf_puts(msg, "expect_route given but the rule defines no route(event)");
            goto out;
        }
        path.len = 0;
        if (path.data)
            path.data[0] = '\0';
        buf_puts(&path, "route");
        json_diff(want_route, route ? route : json_null(), &path, "route", &d);
    }
    if (d.n == 0) {
        passed = 1;
    } else {
        buf_append(msg, d.text.data, d.text.len);
        if (d.n > DIFF_MAX)
            buf_printf(msg, "; and %d more difference(s)", d.n - DIFF_MAX);
    }
out:
    json_decref(got);
    json_decref(route);
    buf_free(&path);
    buf_free(&d.text);
    rules_vm_destroy(vm);
    return passed;
}

static int read_file(const char *path, buf *out, char *err, size_t errlen)
{
    char chunk[8192];
    size_t n;
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0 && out->len <= RULE_MAX_BYTES)
        buf_append(out, chunk, n);
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        snprintf(err, errlen, "cannot read %s", path);
        return -1;
    }
    if (out->len > RULE_MAX_BYTES) {
        snprintf(err, errlen, "%s: larger than %u bytes, not a rule", path, RULE_MAX_BYTES);
        return -1;
    }
    return 0;
}

/* Load the rule once to check it compiles and defines steps or transform. 0, or -1 with err. */
static int rule_check(rule_file *rf, char *err, size_t errlen)
{
    char why[1024];
    rules_vm *vm = rules_vm_create(NULL, NULL, why, sizeof why);
    int rc = -1;
    if (!vm)
        snprintf(err, errlen, "cannot create the sandbox: %s", why);
    else if (rules_vm_load(vm, rf->path, rf->src, rf->len, why, sizeof why) < 0)
        snprintf(err, errlen, "%s does not load: %s", rf->path, why);
    else if (rules_steps_check(vm, NULL, NULL, why, sizeof why) < 0)
        snprintf(err, errlen, "%s: %s", rf->path, why);
    else
        rc = 0;
    if (rc == 0)
        rf->has_route = rules_vm_has_function(vm, "route");
    rules_vm_destroy(vm);
    return rc;
}

/* Test one rule file. Adds to *passed and *failed; -1 when the rule or fixture is broken. */
static int rules_test_file(const char *path, size_t *passed, size_t *failed)
{
    char err[2048];
    buf src = BUF_INIT, fixture = BUF_INIT, msg = BUF_INIT;
    rule_file rf = {.path = path};
    json_t *fx = NULL, *c;
    size_t i, np = 0, nf = 0, n = strlen(path);
    int rc = -1;

    buf_append(&fixture, path, n > 4 && strcmp(path + n - 4, ".lua") == 0 ? n - 4 : n);
    buf_puts(&fixture, ".test.json");
    if (read_file(path, &src, err, sizeof err) < 0 || !(fx = fixture_load(fixture.data, err, sizeof err))) {
        fprintf(stderr, "sluice rules test: %s\n", err);
        goto out;
    }
    rf.src = src.data ? src.data : "";
    rf.len = src.len;
    if (rule_check(&rf, err, sizeof err) < 0) {
        fprintf(stderr, "sluice rules test: %s\n", err);
        goto out;
    }
    json_t *cases = json_object_get(fx, "cases"), *lookups = json_object_get(fx, "lookups");
    printf("%s (%zu case%s)\n", path, json_array_size(cases), json_array_size(cases) == 1 ? "" : "s");
    json_array_foreach(cases, i, c) {
        const char *name = json_string_value(json_object_get(c, "name"));
        buf_reset(&msg);
        if (case_run(&rf, lookups, c, &msg)) {
            printf("ok   %s\n", name);
            np++;
        } else {
            printf("FAIL %s: %s\n", name, msg.data ? msg.data : "");
            nf++;
        }
    }
    printf("%s: %zu passed, %zu failed\n", path, np, nf);
    fflush(stdout);
    *passed += np;
    *failed += nf;
    rc = 0;
out:
    json_decref(fx);
    buf_free(&src);
    buf_free(&fixture);
    buf_free(&msg);
    return rc;
}

static int rules_test(int argc, char **argv)
{
    size_t passed = 0, failed = 0, broken = 0, files = 0;
    for (int i = 1; i < argc; i++) {
        if (cli_is_help(argv[i])) {
            fputs(test_usage, stdout);
            return CLI_OK;
        }
        if (argv[i][0] == '-' && argv[i][1] != '\0') {
            fprintf(stderr, "sluice rules test: unknown option '%s'\n%s", argv[i], test_usage);
            return CLI_USAGE;
        }
    }
    if (argc < 2) {
        fprintf(stderr, "sluice rules test: name at least one rule file\n%s", test_usage);
        return CLI_USAGE;
    }
    for (int i = 1; i < argc; i++, files++) {
        if (rules_test_file(argv[i], &passed, &failed) < 0)
            broken++;
    }
    if (files > 1 || broken) {
        printf("%zu rule file(s): %zu passed, %zu failed", files, passed, failed);
        if (broken)
            printf(", %zu file(s) could not be tested (see the errors above)", broken);
        printf("\n");
    }
    return failed || broken ? CLI_FAILED : CLI_OK;
}

int cli_rules(int argc, char **argv)
{
    if (argc < 2) {
        fputs(usage, stderr);
        return CLI_USAGE;
    }
    if (cli_is_help(argv[1])) {
        fputs(usage, stdout);
        return CLI_OK;
    }
    if (strcmp(argv[1], "test") == 0)
        return rules_test(argc - 1, argv + 1);
    if (strcmp(argv[1], "add") == 0 || strcmp(argv[1], "activate") == 0 || strcmp(argv[1], "list") == 0 ||
        strcmp(argv[1], "dead-letters") == 0)
        return cli_rules_admin(argc - 1, argv + 1);
    fprintf(stderr, "sluice rules: unknown command '%s'\n%s", argv[1], usage);
    return CLI_USAGE;
}
