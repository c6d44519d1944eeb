/* routes: the console's route table {method, path, min_role, handler} and the dispatcher that
 * resolves the session cookie and checks the role before any handler runs; handlers never check
 * authentication themselves. Also the response and request-body helpers every handler uses.
 * Ownership: an api_request lives on the dispatcher's stack for one request; deps are borrowed. */
#ifndef SLUICE_API_ROUTES_H
#define SLUICE_API_ROUTES_H

#include <civetweb.h>
#include <jansson.h>
#include <stddef.h>
#include <time.h>

#include "api/server.h"
#include "core/buf.h"
#include "store/sessions.h"
#include "store/users.h"

#define API_BODY_MAX (64 * 1024)          /* larger request bodies get 413 */
#define API_SESSION_COOKIE "sluice_session"
#define API_PARAM_MAX 255                 /* longest {param} path segment (Kafka topics: 249) */
#define API_DEFAULT_SESSION_TTL 43200L    /* when deps->session_ttl is not positive */

typedef struct api_request {
    struct mg_connection *conn;
    const api_deps *deps;
    const char *method;
    const char *path;                     /* URL-decoded, cleaned, without the query */
    const char *remote;                   /* client address */
    time_t now;
    int has_session;                      /* user and token are valid */
    user_info user;
    char token[SESSION_TOKEN_LEN + 1];
    char param[API_PARAM_MAX + 1];        /* the {param} segment of the matched route */
    int status;                           /* status sent; 0 until a response went out */
} api_request;

typedef void (*api_handler)(api_request *req);

/* Route flags. */
#define ROUTE_PENDING_OK 1   /* allowed while the user's password must be changed */

typedef struct api_route {
    const char *method;
    const char *path;        /* exact, or with "{name}" standing for one path segment */
    user_role min_role;      /* ROLE_NONE: public, no session needed */
    api_handler handler;
    int flags;
} api_route;

extern const api_route api_routes[];   /* terminated by an entry with a NULL method */

/* Handle one request on conn: route, authenticate, authorise, run the handler (or serve a static
 * asset). Returns the HTTP status sent. */
int api_dispatch(const api_deps *deps, struct mg_connection *conn);

/* 1 when path matches pattern (param receives the "{...}" segment, if any), else 0. */
int api_route_match(const char *pattern, const char *path, char *param, size_t paramlen);

/* Send a complete response. extra_headers: NULL or HTTP/1 lines "Name: value\r\n".
 * Every response carries nosniff, X-Frame-Options DENY, a CSP and "Cache-Control: no-store". */
void api_send(api_request *req, int status, const char *type, const void *body, size_t len,
              const char *extra_headers);
void api_send_json(api_request *req, int status, const buf *json, const char *extra_headers);
/* {"error": "<formatted message>"} */
/* The query parameter name as a whole number in [min, max]: 1 when present and valid into *out,
 * 0 when absent, -1 when invalid (the 400 answer has been sent). */
int api_query_int(api_request *req, const char *name, long long min, long long max, long long *out);
void api_send_error(api_request *req, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Read the body as a JSON object. NULL when it is missing, too large or malformed; the error
 * response (400/413) has then been sent. The caller json_decref()s the result. */
json_t *api_read_json(api_request *req);
/* The string member key of obj, or NULL when absent or not a string. */
const char *api_json_string(const json_t *obj, const char *key);

/* Resources (one file each). */
void api_health_healthz(api_request *req);    /* api_health.c */
void api_health_readyz(api_request *req);
void api_health_metrics(api_request *req);
void api_session_login(api_request *req);     /* api_session.c */
void api_session_get(api_request *req);
void api_session_logout(api_request *req);
void api_session_password(api_request *req);
void api_status_get(api_request *req);        /* api_status.c */
void api_capture_snapshot(api_request *req);  /* api_capture.c */
void api_settings_list(api_request *req);     /* api_settings.c */
void api_settings_put(api_request *req);
void api_kafka_topics(api_request *req);      /* api_kafka.c */
void api_kafka_messages(api_request *req);
void api_rules_list(api_request *req);        /* api_rules.c */
void api_rules_get(api_request *req);
void api_rules_add_version(api_request *req);
void api_rules_dry_run(api_request *req);
void api_rules_activate(api_request *req);
void api_rules_diff(api_request *req);
void api_rules_dead_letters(api_request *req);
void api_rules_dead_letters_replay(api_request *req);

#endif
