/* api_settings: the settings API. GET /api/v1/settings lists every setting the config maps
 * declare (key, type, default, description, value); secrets appear only as {"set": true|false}.
 * PUT /api/v1/settings/{key} (admin) stores one value after the store's type check and audits it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/routes.h"
#include "core/log.h"
#include "store/confmap.h"
#include "store/secrets.h"

/* Append one setting as a JSON object; -1 when its value cannot be read. */
static int api_settings_render(store *st, const conf_module *mod, const conf_setting *s, buf *out)
{
    char err[256];
    char *value = NULL;
    int secret = s->type == CONF_SECRET;
    if (store_setting_get(st, s->key, &value, err, sizeof err) < 0) {
        log_fields(LOG_ERROR, "api", "cannot read setting", "key", s->key, "error", err, NULL);
        return -1;
    }
    buf_puts(out, "{\"key\":");
    buf_json_string(out, s->key);
    buf_puts(out, ",\"module\":");
    buf_json_string(out, mod->name);
    buf_puts(out, ",\"type\":");
    buf_json_string(out, confmap_type_name(s->type));
    buf_puts(out, ",\"secret\":");
    buf_puts(out, secret ? "true" : "false");
    buf_puts(out, ",\"default\":");
    if (s->def && !secret)
        buf_json_string(out, s->def);
    else
        buf_puts(out, "null");
    if (s->type == CONF_ENUM && s->choices) {
        buf_puts(out, ",\"choices\":");
        buf_json_string(out, s->choices);
    }
    if ((s->type == CONF_INT || s->type == CONF_DURATION) && (s->min || s->max))
        buf_printf(out, ",\"min\":%ld,\"max\":%ld", s->min, s->max);
    buf_puts(out, ",\"description\":");
    buf_json_string(out, s->description ? s->description : "");
    buf_puts(out, ",\"value\":");
    if (secret)
        buf_printf(out, "{\"set\":%s}", value ? "true" : "false");
    else if (value)
        buf_json_string(out, value);
    else
        buf_puts(out, "null");
    buf_puts(out, "}");
    if (secret)
        secrets_free_plain(value);
    else
        free(value);
    return 0;
}

void api_settings_list(api_request *req)
{
    buf out = BUF_INIT;
    int first = 1;
    buf_puts(&out, "{\"settings\":[");
    for (const conf_module *const *m = confmap_modules(); *m; m++) {
        for (size_t i = 0; i < (*m)->n_settings; i++) {
            if (!first)
                buf_puts(&out, ",");
            first = 0;
            if (api_settings_render(req->deps->store, *m, &(*m)->settings[i], &out) < 0) {
                api_send_error(req, 500, "cannot read settings");
                goto out;
            }
        }
    }
    buf_puts(&out, "]}\n");
    api_send_json(req, 200, &out, NULL);
out:
    buf_free(&out);
}

/* The module declaring key, or NULL. */
static const conf_module *api_settings_module(const char *key)
{
    for (const conf_module *const *m = confmap_modules(); *m; m++)
        for (size_t i = 0; i < (*m)->n_settings; i++)
            if (strcmp((*m)->settings[i].key, key) == 0)
                return *m;
    return NULL;
}

void api_settings_put(api_request *req)
{
    const char *key = req->param;
    const conf_setting *s = confmap_find(key);
    const conf_module *mod = api_settings_module(key);
    json_t *body = NULL;
    char err[256], detail[512], number[64];
    buf out = BUF_INIT;
    if (!s || !mod) {
        api_send_error(req, 404, "unknown setting: %s", key);
        goto out;
    }
    body = api_read_json(req);
    if (!body)
        goto out;
    json_t *v = json_object_get(body, "value");
    const char *value = NULL;
    if (json_is_string(v))
        value = json_string_value(v);
    else if (json_is_integer(v)) {
        snprintf(number, sizeof number, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        value = number;
    } else if (json_is_boolean(v))
        value = json_is_true(v) ? "true" : "false";
    else if (!json_is_null(v)) {
        api_send_error(req, 400, "expected {\"value\": string, integer, boolean or null}");
        goto out;
    }
    if (store_setting_set(req->deps->store, key, value, err, sizeof err) < 0) {
        if (strncmp(err, key, strlen(key)) == 0)   /* the reason may already name the key */
            api_send_error(req, 400, "%s", err);
        else
            api_send_error(req, 400, "%s: %s", key, err);
        goto out;
    }
    if (!value)
        snprintf(detail, sizeof detail, "%s reset to default", key);
    else if (s->type == CONF_SECRET)
        snprintf(detail, sizeof detail, "%s set (secret)", key);
    else
        snprintf(detail, sizeof detail, "%s=%.400s", key, value);
    store_audit(req->deps->store, req->user.name, "setting.set", detail);
    log_fields(LOG_INFO, "api", "setting changed", "user", req->user.name, "key", key, NULL);
    if (api_settings_render(req->deps->store, mod, s, &out) < 0) {
        api_send_error(req, 500, "cannot read settings");
        goto out;
    }
    buf_puts(&out, "\n");
    api_send_json(req, 200, &out, NULL);
out:
    buf_free(&out);
    json_decref(body);
}
