/* routes: the route table, the dispatcher (session from the cookie, role and must-change checks
 * before any handler) and the response helpers shared by the resource files. Paths outside the
 * table and outside /api/ are served from the compiled-in console assets. */
#include "api/routes.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/assets.h"
#include "core/log.h"
#include "core/metrics.h"

const api_route api_routes[] = {
    {"GET", "/healthz", ROLE_NONE, api_health_healthz, 0},
    {"GET", "/readyz", ROLE_NONE, api_health_readyz, 0},
    {"GET", "/metrics", ROLE_NONE, api_health_metrics, 0},
    {"POST", "/api/v1/session", ROLE_NONE, api_session_login, 0},
    {"GET", "/api/v1/session", ROLE_VIEWER, api_session_get, ROUTE_PENDING_OK},
    {"DELETE", "/api/v1/session", ROLE_VIEWER, api_session_logout, ROUTE_PENDING_OK},
    {"POST", "/api/v1/session/password", ROLE_VIEWER, api_session_password, ROUTE_PENDING_OK},
    {"GET", "/api/v1/status", ROLE_VIEWER, api_status_get, 0},
    {"GET", "/api/v1/settings", ROLE_VIEWER, api_settings_list, 0},
    {"POST", "/api/v1/capture/snapshots", ROLE_OPERATOR, api_capture_snapshot, 0},
    {"PUT", "/api/v1/settings/{key}", ROLE_ADMIN, api_settings_put, 0},
    {"GET", "/api/v1/kafka/topics", ROLE_VIEWER, api_kafka_topics, 0},
    {"GET", "/api/v1/kafka/topics/{topic}/messages", ROLE_VIEWER, api_kafka_messages, 0},
    {"GET", "/api/v1/rules", ROLE_VIEWER, api_rules_list, 0},
    {"GET", "/api/v1/rules/dead-letters", ROLE_VIEWER, api_rules_dead_letters, 0},   /* before {name} */
    {"POST", "/api/v1/rules/dead-letters/replay", ROLE_OPERATOR, api_rules_dead_letters_replay, 0},
    {"GET", "/api/v1/rules/{name}", ROLE_VIEWER, api_rules_get, 0},
    {"GET", "/api/v1/rules/{name}/diff", ROLE_VIEWER, api_rules_diff, 0},
    {"POST", "/api/v1/rules/{name}/versions", ROLE_OPERATOR, api_rules_add_version, 0},
    {"POST", "/api/v1/rules/{name}/dry-run", ROLE_OPERATOR, api_rules_dry_run, 0},
    {"POST", "/api/v1/rules/{name}/activate", ROLE_OPERATOR, api_rules_activate, 0},
    {NULL, NULL, ROLE_NONE, NULL, 0},
};

int api_route_match(const char *pattern, const char *path, char *param, size_t paramlen)
{
    const char *p = pattern, *s = path;
    while (*p) {
        if (*p == '{') {
            const char *close = strchr(p, '}');
            size_t n = strcspn(s, "/");
            if (!close || n == 0 || n >= paramlen)
                return 0;
            memcpy(param, s, n);
            param[n] = '\0';
            p = close + 1;
            s += n;
            continue;
        }
        if (*p != *s)
            return 0;
        p++;
        s++;
    }
    return *s == '\0';
}

static void api_count(api_request *req, int status)
{
    char labels[32];
    snprintf(labels, sizeof labels, "code=\"%d\"", status);
    metric *m = metrics_counter(req->deps->metrics, "sluice_http_requests_total",
                                "HTTP requests answered by the console, by status code.", labels);
    if (m)
        metric_add(m, 1);
}

/* Send status with headers and body; cache is the Cache-Control value. */
static void api_send_cached(api_request *req, int status, const char *type, const char *cache,
                            const void *body, size_t len, const char *extra_headers)
{
    char length[32];
    struct mg_connection *c = req->conn;
    snprintf(length, sizeof length, "%zu", len);
    mg_response_header_start(c, status);
    mg_response_header_add(c, "Content-Type", type, -1);
    mg_response_header_add(c, "Content-Length", length, -1);
    mg_response_header_add(c, "Cache-Control", cache, -1);
    mg_response_header_add(c, "X-Content-Type-Options", "nosniff", -1);
    mg_response_header_add(c, "X-Frame-Options", "DENY", -1);
    mg_response_header_add(c, "Content-Security-Policy", "default-src 'self'", -1);
    mg_response_header_add(c, "Referrer-Policy", "no-referrer", -1);
    if (extra_headers)
        mg_response_header_add_lines(c, extra_headers);
    mg_response_header_send(c);
    if (len > 0 && strcmp(req->method, "HEAD") != 0)
        mg_write(c, body, len);
    req->status = status;
    api_count(req, status);
}

void api_send(api_request *req, int status, const char *type, const void *body, size_t len,
              const char *extra_headers)
{
    api_send_cached(req, status, type, "no-store", body, len, extra_headers);
}

void api_send_json(api_request *req, int status, const buf *json, const char *extra_headers)
{
    api_send(req, status, "application/json", json->data ? json->data : "", json->len,
             extra_headers);
}

void api_send_error(api_request *req, int status, const char *fmt, ...)
{
    char msg[512];
    buf out = BUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    buf_puts(&out, "{\"error\":");
    buf_json_string(&out, msg);
    buf_puts(&out, "}\n");
    api_send_json(req, status, &out, NULL);
    buf_free(&out);
}

json_t *api_read_json(api_request *req)
{
    const struct mg_request_info *ri = mg_get_request_info(req->conn);
    buf body = BUF_INIT;
    json_t *obj = NULL;
    char chunk[8192];
    if (ri->content_length > API_BODY_MAX) {
        api_send_error(req, 413, "request body too large (limit %d bytes)", API_BODY_MAX);
        goto out;
    }
    for (;;) {
        int n = mg_read(req->conn, chunk, sizeof chunk);
        if (n <= 0)
            break;
        if (body.len + (size_t)n > API_BODY_MAX) {
            api_send_error(req, 413, "request body too large (limit %d bytes)", API_BODY_MAX);
            goto out;
        }
        buf_append(&body, chunk, (size_t)n);
    }
    if (body.len == 0) {
        api_send_error(req, 400, "request body is empty: expected a JSON object");
        goto out;
    }
    json_error_t jerr;
    obj = json_loadb(body.data, body.len, JSON_REJECT_DUPLICATES, &jerr);
    if (!obj) {
        api_send_error(req, 400, "malformed JSON at line %d, column %d: %s", jerr.line,
                       jerr.column, jerr.text);
        goto out;
    }
    if (!json_is_object(obj)) {
        api_send_error(req, 400, "request body must be a JSON object");
        json_decref(obj);
        obj = NULL;
        goto out;
    }
out:
    buf_free(&body);
    return obj;
}

const char *api_json_string(const json_t *obj, const char *key)
{
    const json_t *v = json_object_get(obj, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

/* Serve one of the compiled-in console files, "/" meaning "/index.html". */
static void api_serve_asset(api_request *req)
{
    const char *path = strcmp(req->path, "/") == 0 ? "/index.html" : req->path;
    if (strcmp(req->method, "GET") != 0 && strcmp(req->method, "HEAD") != 0) {
        api_send(req, 405, "text/plain; charset=utf-8", "method not allowed\n", 19,
                 "Allow: GET, HEAD\r\n");
        return;
    }
    for (const web_asset *a = web_assets; a->path; a++) {
        if (strcmp(a->path, path) == 0) {
            api_send_cached(req, 200, a->mime, "no-cache", a->data, a->len, NULL);
            return;
        }
    }
    api_send(req, 404, "text/plain; charset=utf-8", "not found\n", 10, NULL);
}

/* Fill req->user from the session cookie; 1 when it names a live session, 0 when not, -1 error. */
static int api_session_resolve(api_request *req)
{
    const char *cookies = mg_get_header(req->conn, "Cookie");
    char token[128];
    if (!cookies || mg_get_cookie(cookies, API_SESSION_COOKIE, token, sizeof token) != SESSION_TOKEN_LEN)
        return 0;
    int rc = sessions_lookup(req->deps->store, token, req->now, &req->user);
    if (rc == 1) {
        memcpy(req->token, token, sizeof req->token);
        req->has_session = 1;
    }
    return rc;
}

int api_dispatch(const api_deps *deps, struct mg_connection *conn)
{
    const struct mg_request_info *ri = mg_get_request_info(conn);
    api_request req;
    memset(&req, 0, sizeof req);
    req.conn = conn;
    req.deps = deps;
    req.method = ri->request_method ? ri->request_method : "";
    req.path = ri->local_uri;
    req.remote = ri->remote_addr;
    req.now = time(NULL);
    if (!req.path || req.path[0] != '/') {
        req.path = "";
        api_send_error(&req, 400, "bad request target");
        return req.status;
    }

    const api_route *route = NULL;
    char allow[128] = "";
    for (const api_route *r = api_routes; r->method; r++) {
        if (!api_route_match(r->path, req.path, req.param, sizeof req.param))
            continue;
        if (strcmp(r->method, req.method) == 0) {
            route = r;
            break;
        }
        size_t used = strlen(allow);
        snprintf(allow + used, sizeof allow - used, "%s%s", used ? ", " : "", r->method);
    }
    if (!route) {
        if (allow[0]) {
            char hdr[160];
            snprintf(hdr, sizeof hdr, "Allow: %s\r\n", allow);
            buf out = BUF_INIT;
            buf_printf(&out, "{\"error\":\"method not allowed; use %s\"}\n", allow);
            api_send_json(&req, 405, &out, hdr);
            buf_free(&out);
        } else if (strcmp(req.path, "/api") == 0 || strncmp(req.path, "/api/", 5) == 0) {
            api_send_error(&req, 404, "no such API endpoint");
        } else {
            api_serve_asset(&req);
        }
        return req.status;
    }

    if (route->min_role != ROLE_NONE) {
        int rc = api_session_resolve(&req);
        if (rc < 0) {
            log_error("api", "cannot look up session: store error");
            api_send_error(&req, 500, "internal error");
            return req.status;
        }
        if (rc == 0) {
            api_send_error(&req, 401, "authentication required");
            return req.status;
        }
        if (req.user.must_change && !(route->flags & ROUTE_PENDING_OK)) {
            api_send_error(&req, 403, "password change required");
            return req.status;
        }
        if (req.user.role < route->min_role) {
            api_send_error(&req, 403, "insufficient role: %s required", user_role_name(route->min_role));
            return req.status;
        }
    }
    route->handler(&req);
    if (!req.status) {   /* a handler that forgot to answer */
        log_error("api", "handler for %s %s sent no response", route->method, route->path);
        api_send_error(&req, 500, "internal error");
    }
    return req.status;
}

int api_query_int(api_request *req, const char *name, long long min, long long max, long long *out)
{
    const char *qs = mg_get_request_info(req->conn)->query_string;
    char text[32];
    if (!qs)
        return 0;
    int n = mg_get_var(qs, strlen(qs), name, text, sizeof text);
    if (n == -1)
        return 0;
    char *end = NULL;
    errno = 0;
    long long v = n > 0 && strspn(text, "0123456789") == (size_t)n ? strtoll(text, &end, 10) : 0;
    if (n <= 0 || !end || *end || errno || v < min || v > max) {
        api_send_error(req, 400, "%s must be a whole number from %lld to %lld", name, min, max);
        return -1;
    }
    *out = v;
    return 1;
}
