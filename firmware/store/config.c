/* config: the effective-settings snapshot (store value, else the map's default), first-boot
 * seeding of the store from file and environment entries, and the JSON export/import of the
 * whole store (settings with secrets still sealed, users with their password hashes). */
#include "store/config.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mbedtls/base64.h>

#define EXPORT_FORMAT "sluice-store"
#define EXPORT_VERSION 1

struct config {
    size_t n;
    const conf_setting **settings;
    char **values;   /* NULL = unset; secrets in plain text */
};

/* ---- snapshot ---------------------------------------------------------------------------- */

static size_t config_count_settings(void)
{
    size_t n = 0;
    for (const conf_module *const *m = confmap_modules(); *m; m++)
        n += (*m)->n_settings;
    return n;
}

static long config_index(const config *c, const char *key)
{
    for (size_t i = 0; i < c->n; i++)
        if (strcmp(c->settings[i]->key, key) == 0)
            return (long)i;
    return -1;
}

void config_destroy(config *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n; i++) {
        if (c->values && c->values[i] && c->settings[i]->type == CONF_SECRET)
            secrets_free_plain(c->values[i]);
        else if (c->values)
            free(c->values[i]);
    }
    free(c->values);
    free(c->settings);
    free(c);
}

config *config_load(store *st, char *err, size_t errlen)
{
    sqlite3_stmt *stmt = NULL;
    sqlite3 *db = store_db(st);
    char reason[256];
    size_t k = 0;
    config *c = calloc(1, sizeof *c);
    int ok = 0;

    store_lock(st);
    if (!c)
        goto nomem;
    c->n = config_count_settings();
    c->settings = calloc(c->n ? c->n : 1, sizeof *c->settings);
    c->values = calloc(c->n ? c->n : 1, sizeof *c->values);
    if (!c->settings || !c->values)
        goto nomem;
    for (const conf_module *const *m = confmap_modules(); *m; m++)
        for (size_t i = 0; i < (*m)->n_settings; i++)
            c->settings[k++] = &(*m)->settings[i];

    /* one statement: a consistent snapshot of the stored values */
    if (sqlite3_prepare_v2(db, "SELECT key, value FROM settings", -1, &stmt, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "store: %s", sqlite3_errmsg(db));
        goto out;
    }
    int step;
    while ((step = sqlite3_step(stmt)) == SQLITE_ROW) {
        const char *key = (const char *)sqlite3_column_text(stmt, 0);
        const char *val = (const char *)sqlite3_column_text(stmt, 1);
        long idx = key ? config_index(c, key) : -1;
        if (idx < 0)
            continue;   /* a setting no module declares any more: ignored */
        const conf_setting *s = c->settings[idx];
        if (s->type == CONF_SECRET) {
            if (secrets_unseal(store_secrets(st), val ? val : "", &c->values[idx], reason, sizeof reason) < 0) {
                snprintf(err, errlen, "setting %s in the store: %s", key, reason);
                goto out;
            }
        } else if (!(c->values[idx] = strdup(val ? val : ""))) {
            goto nomem;
        }
        if (confmap_check(s, c->values[idx], reason, sizeof reason) < 0) {
            snprintf(err, errlen, "setting %s in the store is invalid: %s (change it with `sluice config set`)",
                     key, s->type == CONF_SECRET ? "invalid secret value" : reason);
            goto out;
        }
    }
    if (step != SQLITE_DONE) {
        snprintf(err, errlen, "store: %s", sqlite3_errmsg(db));
        goto out;
    }
    for (size_t i = 0; i < c->n; i++)
        if (!c->values[i] && c->settings[i]->def && !(c->values[i] = strdup(c->settings[i]->def)))
            goto nomem;
    ok = 1;
    goto out;
nomem:
    snprintf(err, errlen, "out of memory");
out:
    sqlite3_finalize(stmt);
    store_unlock(st);
    if (!ok) {
        config_destroy(c);
        return NULL;
    }
    return c;
}

const char *config_get(const config *c, const char *key)
{
    long i = config_index(c, key);
    return i < 0 ? NULL : c->values[i];
}

long long config_int(const config *c, const char *key)
{
    const char *v = config_get(c, key);
    return v ? strtoll(v, NULL, 10) : 0;
}

int config_bool(const config *c, const char *key)
{
    int b = 0;
    const char *v = config_get(c, key);
    if (v && confmap_parse_bool(v, &b) < 0)
        b = 0;
    return b;
}

long long config_duration_ms(const config *c, const char *key)
{
    long long ms = 0;
    const char *v = config_get(c, key);
    if (v && confmap_parse_duration_ms(v, &ms) < 0)
        ms = 0;
    return ms;
}

void config_diff(const config *a, const config *b, buf *out)
{
    int first = 1;
    for (size_t i = 0; i < a->n; i++) {
        const char *va = a->values[i];
        const char *vb = config_get(b, a->settings[i]->key);
        if ((va == NULL) != (vb == NULL) || (va && strcmp(va, vb) != 0)) {
            buf_printf(out, "%s%s", first ? "" : ",", a->settings[i]->key);
            first = 0;
        }
    }
}

/* ---- transactions ------------------------------------------------------------------------ */

static int config_exec(sqlite3 *db, const char *sql, char *err, size_t errlen)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        snprintf(err, errlen, "store: %s", msg ? msg : sqlite3_errmsg(db));
        sqlite3_free(msg);
        return -1;
    }
    return 0;
}

/* Insert or replace one stored (already sealed) setting value. */
static int config_setting_put(sqlite3 *db, const char *key, const char *value, sqlite3_int64 now, char *err,
                              size_t errlen)
{
    sqlite3_stmt *stmt = NULL;
    int rc = -1;
    if (sqlite3_prepare_v2(db,
                           "INSERT INTO settings (key, value, updated_at) VALUES (?1, ?2, ?3) "
                           "ON CONFLICT(key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
                           -1, &stmt, NULL) != SQLITE_OK)
        goto fail;
    sqlite3_bind_text(stmt, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, value, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 3, now);
    if (sqlite3_step(stmt) != SQLITE_DONE)
        goto fail;
    rc = 0;
    goto out;
fail:
    snprintf(err, errlen, "store: %s", sqlite3_errmsg(db));
out:
    sqlite3_finalize(stmt);
    return rc;
}

int config_seed(store *st, const conf_entries *entries, char *err, size_t errlen)
{
    sqlite3 *db = store_db(st);
    sqlite3_int64 now = (sqlite3_int64)time(NULL);
    char reason[256];
    int rc = -1, in_tx = 0;

    store_lock(st);
    if (store_is_seeded(st)) {
        snprintf(err, errlen, "the store is already seeded");
        goto out;
    }
    if (config_exec(db, "BEGIN IMMEDIATE", err, errlen) < 0)
        goto out;
    in_tx = 1;
    for (size_t i = 0; i < entries->n; i++) {
        const conf_entry *e = &entries->items[i];
        const conf_setting *s = confmap_find(e->key);
        char *sealed = NULL;
        if (!s) {
            snprintf(err, errlen, "%s: %s: unknown setting", e->where, e->key);
            goto out;
        }
        if (confmap_check(s, e->value, reason, sizeof reason) < 0) {
            snprintf(err, errlen, "%s: %s: %s", e->where, e->key,
                     s->type == CONF_SECRET ? "invalid secret value" : reason);
            goto out;
        }
        if (s->type == CONF_SECRET && secrets_seal(store_secrets(st), e->value, &sealed, reason, sizeof reason) < 0) {
            snprintf(err, errlen, "%s: %s", e->key, reason);
            goto out;
        }
        int put = config_setting_put(db, e->key, sealed ? sealed : e->value, now, err, errlen);
        free(sealed);
        if (put < 0)
            goto out;
    }
    if (config_exec(db, "INSERT INTO meta (key, value) VALUES ('seeded', '1') "
                        "ON CONFLICT(key) DO UPDATE SET value = excluded.value", err, errlen) < 0 ||
        config_exec(db, "COMMIT", err, errlen) < 0)
        goto out;
    in_tx = 0;
    rc = 0;
out:
    if (in_tx)
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    store_unlock(st);
    return rc;
}

/* ---- export ------------------------------------------------------------------------------ */

int config_export(store *st, buf *out, char *err, size_t errlen)
{
    sqlite3 *db = store_db(st);
    sqlite3_stmt *stmt = NULL;
    json_t *root = json_object(), *settings = json_object(), *users = json_array();
    char *text = NULL;
    int rc = -1, in_tx = 0, step;

    store_lock(st);
    if (!root || !settings || !users) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    /* read both tables in one transaction so the export is consistent */
    if (config_exec(db, "BEGIN", err, errlen) < 0)
        goto out;
    in_tx = 1;
    if (sqlite3_prepare_v2(db, "SELECT key, value FROM settings ORDER BY key", -1, &stmt, NULL) != SQLITE_OK)
        goto dberr;
    while ((step = sqlite3_step(stmt)) == SQLITE_ROW) {
        const char *key = (const char *)sqlite3_column_text(stmt, 0);
        json_t *val = json_string((const char *)sqlite3_column_text(stmt, 1));
        if (!key || !val || json_object_set_new(settings, key, val) < 0) {
            snprintf(err, errlen, "setting %s cannot be exported: not valid UTF-8", key ? key : "?");
            goto out;
        }
    }
    if (step != SQLITE_DONE)
        goto dberr;
    sqlite3_finalize(stmt);
    stmt = NULL;
    if (sqlite3_prepare_v2(db, "SELECT name, role, password_hash, must_change FROM users ORDER BY name", -1,
                           &stmt, NULL) != SQLITE_OK)
        goto dberr;
    while ((step = sqlite3_step(stmt)) == SQLITE_ROW) {
        json_t *u = json_pack("{s:s, s:s, s:s, s:b}", "name", (const char *)sqlite3_column_text(stmt, 0), "role",
                              (const char *)sqlite3_column_text(stmt, 1), "password_hash",
                              (const char *)sqlite3_column_text(stmt, 2), "must_change",
                              sqlite3_column_int(stmt, 3) != 0);
        if (!u) {
            snprintf(err, errlen, "cannot encode user %s", (const char *)sqlite3_column_text(stmt, 0));
            goto out;
        }
        json_array_append_new(users, u);
    }
    if (step != SQLITE_DONE)
        goto dberr;
    json_object_set_new(root, "format", json_string(EXPORT_FORMAT));
    json_object_set_new(root, "version", json_integer(EXPORT_VERSION));
    json_object_set(root, "settings", settings);
    json_object_set(root, "users", users);
    text = json_dumps(root, JSON_INDENT(2) | JSON_SORT_KEYS);
    if (!text) {
        snprintf(err, errlen, "cannot encode the export");
        goto out;
    }
    buf_puts(out, text);
    buf_puts(out, "\n");
    rc = 0;
    goto out;
dberr:
    snprintf(err, errlen, "store: %s", sqlite3_errmsg(db));
out:
    sqlite3_finalize(stmt);
    if (in_tx)
        sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    store_unlock(st);
    free(text);
    json_decref(settings);
    json_decref(users);
    json_decref(root);
    return rc;
}

/* ---- import ------------------------------------------------------------------------------ */

typedef struct import_setting {
    const char *key;
    char *stored;   /* sealed for secrets */
} import_setting;

typedef struct import_user {
    const char *name, *role, *hash;
    int must_change;
} import_user;

/* "pbkdf2-sha256$<iterations>$<base64 salt>$<base64 hash>" (see users.h). */
static int config_hash_valid(const char *h)
{
    static const char prefix[] = "pbkdf2-sha256$";
    const char *p = h + sizeof prefix - 1;
    if (strncmp(h, prefix, sizeof prefix - 1) != 0)
        return 0;
    size_t digits = strspn(p, "0123456789");
    if (digits == 0 || digits > 9 || p[digits] != '$')
        return 0;
    p += digits + 1;
    for (int part = 0; part < 2; part++) {
        const char *end = part == 0 ? strchr(p, '$') : p + strlen(p);
        size_t n = end ? (size_t)(end - p) : 0, olen = 0;
        unsigned char tmp[256];
        if (!end || n == 0 || (part == 1 && strchr(p, '$')))
            return 0;
        if (mbedtls_base64_decode(tmp, sizeof tmp, &olen, (const unsigned char *)p, n) != 0 || olen == 0)
            return 0;
        p = end + 1;
    }
    return 1;
}

static int config_user_name_valid(const char *n)
{
    size_t len = strlen(n);
    if (len == 0 || len > 64)
        return 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)n[i];
        if (c < 0x21 || c == 0x7f)
            return 0;
    }
    return 1;
}

/* Check the import document; fill settings and users (pointers into the JSON). */
static void config_import_validate(store *st, json_t *root, import_setting *set, size_t *n_set,
                                   import_user *usr, size_t *n_usr, conf_problems *problems)
{
    char reason[256];
    const char *k;
    json_t *v;

    json_object_foreach(root, k, v) {
        if (strcmp(k, "format") && strcmp(k, "version") && strcmp(k, "settings") && strcmp(k, "users"))
            conf_problems_add(problems, "import", NULL, "unknown member '%s'", k);
    }
    json_t *fmt = json_object_get(root, "format"), *ver = json_object_get(root, "version");
    if (!json_is_string(fmt) || strcmp(json_string_value(fmt), EXPORT_FORMAT) != 0)
        conf_problems_add(problems, "import", NULL, "not a Sluice export: \"format\" must be \"%s\"", EXPORT_FORMAT);
    if (!json_is_integer(ver) || json_integer_value(ver) != EXPORT_VERSION)
        conf_problems_add(problems, "import", NULL, "unsupported export version (this sluice reads version %d)",
                          EXPORT_VERSION);

    json_t *settings = json_object_get(root, "settings");
    if (!json_is_object(settings)) {
        conf_problems_add(problems, "import", NULL, "\"settings\" must be an object");
    } else {
        json_object_foreach(settings, k, v) {
            const conf_setting *s = confmap_find(k);
            const char *val = json_string_value(v);
            char *plain = NULL, *stored = NULL;
            if (!s) {
                conf_problems_add(problems, "import", k, "unknown setting");
                continue;
            }
            if (!val) {
                conf_problems_add(problems, "import", k, "value must be a string");
                continue;
            }
            if (s->type == CONF_SECRET && secrets_is_sealed(val)) {
                if (secrets_unseal(store_secrets(st), val, &plain, reason, sizeof reason) < 0) {
                    conf_problems_add(problems, "import", k,
                                      "%s; export from a store with the same key file, or give the value in "
                                      "plain text", reason);
                    continue;
                }
                stored = strdup(val);
            } else if (s->type == CONF_SECRET) {
                if (secrets_seal(store_secrets(st), val, &stored, reason, sizeof reason) < 0) {
                    conf_problems_add(problems, "import", k, "%s", reason);
                    continue;
                }
            } else {
                stored = strdup(val);
            }
            if (confmap_check(s, plain ? plain : val, reason, sizeof reason) < 0)
                conf_problems_add(problems, "import", k, "%s",
                                  s->type == CONF_SECRET ? "invalid secret value" : reason);
            secrets_free_plain(plain);
            set[*n_set].key = k;
            set[(*n_set)++].stored = stored;
            if (!stored)
                conf_problems_add(problems, "import", k, "out of memory");
        }
    }

    json_t *users = json_object_get(root, "users");
    size_t i, admins = 0;
    if (!json_is_array(users)) {
        conf_problems_add(problems, "import", NULL, "\"users\" must be an array");
        return;
    }
    json_array_foreach(users, i, v) {
        char where[32];
        snprintf(where, sizeof where, "users[%zu]", i);
        json_t *name = json_object_get(v, "name"), *role = json_object_get(v, "role"),
               *hash = json_object_get(v, "password_hash"), *mc = json_object_get(v, "must_change");
        if (!json_is_object(v)) {
            conf_problems_add(problems, "import", where, "must be an object");
            continue;
        }
        if (!json_is_string(name) || !config_user_name_valid(json_string_value(name))) {
            conf_problems_add(problems, "import", where, "\"name\" must be 1 to 64 printable characters");
            continue;
        }
        const char *n = json_string_value(name);
        int bad = 0;
        for (size_t j = 0; j < *n_usr; j++)
            if (strcmp(usr[j].name, n) == 0) {
                conf_problems_add(problems, "import", where, "duplicate user '%s'", n);
                bad = 1;
            }
        const char *r = json_string_value(role);
        if (!r || (strcmp(r, "admin") && strcmp(r, "operator") && strcmp(r, "viewer"))) {
            conf_problems_add(problems, "import", where, "user '%s': \"role\" must be admin, operator or viewer", n);
            bad = 1;
        }
        const char *h = json_string_value(hash);
        if (!h || !config_hash_valid(h)) {
            conf_problems_add(problems, "import", where,
                              "user '%s': \"password_hash\" must be pbkdf2-sha256$<iterations>$<salt>$<hash>", n);
            bad = 1;
        }
        if (mc && !json_is_boolean(mc)) {
            conf_problems_add(problems, "import", where, "user '%s': \"must_change\" must be true or false", n);
            bad = 1;
        }
        if (bad)
            continue;
        if (strcmp(r, "admin") == 0)
            admins++;
        usr[*n_usr] = (import_user){n, r, h, json_is_true(mc)};
        (*n_usr)++;
    }
    if (json_array_size(users) > 0 && admins == 0 && problems->n == 0)
        conf_problems_add(problems, "import", NULL, "no user has the admin role: nobody could manage the appliance");
}

static int config_import_apply(store *st, const import_setting *set, size_t n_set, const import_user *usr,
                               size_t n_usr, char *err, size_t errlen)
{
    sqlite3 *db = store_db(st);
    sqlite3_stmt *stmt = NULL, *sel = NULL;
    sqlite3_int64 now = (sqlite3_int64)time(NULL);
    int rc = -1, in_tx = 0;

    if (config_exec(db, "BEGIN IMMEDIATE", err, errlen) < 0)
        goto out;
    in_tx = 1;
    if (config_exec(db, "DELETE FROM settings", err, errlen) < 0)
        goto out;
    for (size_t i = 0; i < n_set; i++)
        if (config_setting_put(db, set[i].key, set[i].stored, now, err, errlen) < 0)
            goto out;

    /* users missing from the import go (their sessions cascade); a user whose role or password
     * changes loses its sessions; the others keep theirs */
    if (sqlite3_prepare_v2(db, "SELECT name FROM users", -1, &sel, NULL) != SQLITE_OK)
        goto dberr;
    if (sqlite3_prepare_v2(db, "DELETE FROM users WHERE name = ?1", -1, &stmt, NULL) != SQLITE_OK)
        goto dberr;
    int step;
    while ((step = sqlite3_step(sel)) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(sel, 0);
        int keep = 0;
        for (size_t i = 0; i < n_usr && !keep; i++)
            keep = name && strcmp(usr[i].name, name) == 0;
        if (keep)
            continue;
        sqlite3_reset(stmt);
        sqlite3_bind_text(stmt, 1, name, -1, SQLITE_TRANSIENT);
        if (sqlite3_step(stmt) != SQLITE_DONE)
            goto dberr;
    }
    if (step != SQLITE_DONE)
        goto dberr;
    sqlite3_finalize(stmt);
    stmt = NULL;
    if (sqlite3_prepare_v2(db,
                           "DELETE FROM sessions WHERE user_name = ?1 AND EXISTS (SELECT 1 FROM users WHERE "
                           "name = ?1 AND (role <> ?2 OR password_hash <> ?3))",
                           -1, &stmt, NULL) != SQLITE_OK)
        goto dberr;
    for (size_t i = 0; i < n_usr; i++) {
        sqlite3_reset(stmt);
        sqlite3_bind_text(stmt, 1, usr[i].name, -1, SQLITE_STATIC);
        sqlite3_bind_text(stmt, 2, usr[i].role, -1, SQLITE_STATIC);
        sqlite3_bind_text(stmt, 3, usr[i].hash, -1, SQLITE_STATIC);
        if (sqlite3_step(stmt) != SQLITE_DONE)
            goto dberr;
    }
    sqlite3_finalize(stmt);
    stmt = NULL;
    if (sqlite3_prepare_v2(db,
                           "INSERT INTO users (name, role, password_hash, must_change, created_at, updated_at) "
                           "VALUES (?1, ?2, ?3, ?4, ?5, ?5) ON CONFLICT(name) DO UPDATE SET role = excluded.role, "
                           "password_hash = excluded.password_hash, must_change = excluded.must_change, "
                           "updated_at = excluded.updated_at",
                           -1, &stmt, NULL) != SQLITE_OK)
        goto dberr;
    for (size_t i = 0; i < n_usr; i++) {
        sqlite3_reset(stmt);
        sqlite3_bind_text(stmt, 1, usr[i].name, -1, SQLITE_STATIC);
        sqlite3_bind_text(stmt, 2, usr[i].role, -1, SQLITE_STATIC);
        sqlite3_bind_text(stmt, 3, usr[i].hash, -1, SQLITE_STATIC);
        sqlite3_bind_int(stmt, 4, usr[i].must_change);
        sqlite3_bind_int64(stmt, 5, now);
        if (sqlite3_step(stmt) != SQLITE_DONE)
            goto dberr;
    }
    if (config_exec(db, "INSERT INTO meta (key, value) VALUES ('seeded', '1') "
                        "ON CONFLICT(key) DO UPDATE SET value = excluded.value", err, errlen) < 0)
        goto out;
    sqlite3_finalize(stmt);
    stmt = NULL;
    sqlite3_finalize(sel);
    sel = NULL;
    if (config_exec(db, "COMMIT", err, errlen) < 0)
        goto out;
    in_tx = 0;
    rc = 0;
    goto out;
dberr:
    snprintf(err, errlen, "store: %s", sqlite3_errmsg(db));
out:
    sqlite3_finalize(stmt);
    sqlite3_finalize(sel);
    if (in_tx)
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

int config_import(store *st, const char *json, conf_problems *problems)
{
    json_error_t jerr;
    json_t *root = json_loads(json, JSON_REJECT_DUPLICATES, &jerr);
    import_setting *set = NULL;
    import_user *usr = NULL;
    size_t n_set = 0, n_usr = 0, before = problems->n;
    char err[512];
    int rc = -1;

    if (!root) {
        conf_problems_add(problems, "import", NULL, "not valid JSON at line %d column %d: %s", jerr.line,
                          jerr.column, jerr.text);
        goto out;
    }
    if (!json_is_object(root)) {
        conf_problems_add(problems, "import", NULL, "the export must be a JSON object");
        goto out;
    }
    json_t *s = json_object_get(root, "settings"), *u = json_object_get(root, "users");
    set = calloc(json_object_size(s) + 1, sizeof *set);
    usr = calloc(json_array_size(u) + 1, sizeof *usr);
    if (!set || !usr) {
        conf_problems_add(problems, "import", NULL, "out of memory");
        goto out;
    }
    /* validate on a private problem list so the admin check sees only this import's problems */
    conf_problems mine = {0};
    config_import_validate(st, root, set, &n_set, usr, &n_usr, &mine);
    for (size_t i = 0; i < mine.n; i++)
        conf_problems_add(problems, mine.items[i].where, mine.items[i].key, "%s", mine.items[i].message);
    conf_problems_free(&mine);
    if (problems->n > before)
        goto out;
    store_lock(st);
    int applied = config_import_apply(st, set, n_set, usr, n_usr, err, sizeof err);
    store_unlock(st);
    if (applied < 0) {
        conf_problems_add(problems, "import", NULL, "%s (nothing was changed)", err);
        goto out;
    }
    rc = 0;
out:
    for (size_t i = 0; set && i < n_set; i++)
        free(set[i].stored);
    free(set);
    free(usr);
    json_decref(root);
    return rc;
}
