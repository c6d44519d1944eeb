/* api_session: console login and logout (POST/GET/DELETE /api/v1/session) and the password
 * change (POST /api/v1/session/password). The session token travels only in an HttpOnly,
 * SameSite=Strict cookie. Failed logins are logged, audited and counted; passwords never are. */
#include <stdio.h>
#include <string.h>

#include "api/routes.h"
#include "core/log.h"
#include "core/metrics.h"

/* {"user":..,"role":..,"must_change":..} for u. */
static void api_session_user_json(const user_info *u, buf *out)
{
    buf_puts(out, "{\"user\":");
    buf_json_string(out, u->name);
    buf_puts(out, ",\"role\":");
    buf_json_string(out, user_role_name(u->role));
    buf_printf(out, ",\"must_change\":%s}\n", u->must_change ? "true" : "false");
}

/* A user-supplied name cut to a length that is safe to log and audit. */
static void api_session_name_clip(const char *name, char *out, size_t outlen)
{
    snprintf(out, outlen, "%s", name ? name : "");
}

static void api_session_login_failed(api_request *req, const char *name)
{
    char clipped[USERS_NAME_MAX + 1], detail[128];
    api_session_name_clip(name, clipped, sizeof clipped);
    log_fields(LOG_WARN, "api", "console login failed", "user", clipped, "remote", req->remote,
               NULL);
    snprintf(detail, sizeof detail, "remote=%s", req->remote);
    store_audit(req->deps->store, clipped[0] ? clipped : "-", "login.failed", detail);
    metric *m = metrics_counter(req->deps->metrics, "sluice_console_login_failures_total",
                                "Console logins refused for a wrong user name or password.", NULL);
    if (m)
        metric_add(m, 1);
    api_send_error(req, 401, "invalid user name or password");
}

void api_session_login(api_request *req)
{
    json_t *body = api_read_json(req);
    user_info user;
    char token[SESSION_TOKEN_LEN + 1] = "";
    char cookie[160], detail[128];
    buf out = BUF_INIT;
    if (!body)
        goto out;
    const char *name = api_json_string(body, "user");
    const char *password = api_json_string(body, "password");
    if (!name || !password) {
        api_send_error(req, 400, "expected {\"user\": string, \"password\": string}");
        goto out;
    }
    int rc = users_authenticate(req->deps->store, name, password, &user);
    if (rc < 0) {
        log_fields(LOG_ERROR, "api", "cannot check credentials: store error", NULL);
        api_send_error(req, 500, "internal error");
        goto out;
    }
    if (rc == 0) {
        api_session_login_failed(req, name);
        goto out;
    }
    sessions_expire(req->deps->store, req->now);
    if (sessions_create(req->deps->store, user.name, req->now, req->deps->session_ttl, token) < 0) {
        log_fields(LOG_ERROR, "api", "cannot create session: store error", "user", user.name, NULL);
        api_send_error(req, 500, "internal error");
        goto out;
    }
    log_fields(LOG_INFO, "api", "console login", "user", user.name, "remote", req->remote, NULL);
    snprintf(detail, sizeof detail, "remote=%s", req->remote);
    store_audit(req->deps->store, user.name, "login", detail);
    snprintf(cookie, sizeof cookie,
             "Set-Cookie: " API_SESSION_COOKIE "=%s; Path=/; HttpOnly; SameSite=Strict; Max-Age=%ld\r\n",
             token, req->deps->session_ttl);
    api_session_user_json(&user, &out);
    api_send_json(req, 200, &out, cookie);
out:
    memset(token, 0, sizeof token);
    memset(cookie, 0, sizeof cookie);
    buf_free(&out);
    json_decref(body);
}

void api_session_get(api_request *req)
{
    buf out = BUF_INIT;
    api_session_user_json(&req->user, &out);
    api_send_json(req, 200, &out, NULL);
    buf_free(&out);
}

void api_session_logout(api_request *req)
{
    buf out = BUF_INIT;
    if (sessions_delete(req->deps->store, req->token) < 0) {
        log_fields(LOG_ERROR, "api", "cannot delete session: store error", "user", req->user.name,
                   NULL);
        api_send_error(req, 500, "internal error");
        goto out;
    }
    log_fields(LOG_INFO, "api", "console logout", "user", req->user.name, "remote", req->remote,
               NULL);
    store_audit(req->deps->store, req->user.name, "logout", NULL);
    buf_puts(&out, "{\"ok\":true}\n");
    api_send_json(req, 200, &out,
                  "Set-Cookie: " API_SESSION_COOKIE
                  "=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0\r\n");
out:
    buf_free(&out);
}

void api_session_password(api_request *req)
{
    json_t *body = api_read_json(req);
    char err[256];
    buf out = BUF_INIT;
    if (!body)
        goto out;
    const char *current = api_json_string(body, "current");
    const char *fresh = api_json_string(body, "new");
    if (!current || !fresh) {
        api_send_error(req, 400, "expected {\"current\": string, \"new\": string}");
        goto out;
    }
    int rc = users_authenticate(req->deps->store, req->user.name, current, NULL);
    if (rc < 0) {
        log_fields(LOG_ERROR, "api", "cannot check credentials: store error", NULL);
        api_send_error(req, 500, "internal error");
        goto out;
    }
    if (rc == 0) {
        log_fields(LOG_WARN, "api", "password change refused: wrong current password", "user",
                   req->user.name, "remote", req->remote, NULL);
        store_audit(req->deps->store, req->user.name, "password.change.failed", NULL);
        api_send_error(req, 403, "the current password is wrong");
        goto out;
    }
    if (strcmp(current, fresh) == 0) {
        api_send_error(req, 400, "the new password must differ from the current one");
        goto out;
    }
    if (users_set_password(req->deps->store, req->user.name, fresh, 0, err, sizeof err) < 0) {
        api_send_error(req, 400, "%s", err);
        goto out;
    }
    sessions_delete_user(req->deps->store, req->user.name, req->token);
    log_fields(LOG_INFO, "api", "password changed", "user", req->user.name, "remote", req->remote,
               NULL);
    store_audit(req->deps->store, req->user.name, "password.change", NULL);
    req->user.must_change = 0;
    api_session_user_json(&req->user, &out);
    api_send_json(req, 200, &out, NULL);
out:
    buf_free(&out);
    json_decref(body);
}
