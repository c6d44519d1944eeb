/* server: starts and stops civetweb for the console (see server.h). civetweb hands every request
 * to one begin_request callback, which passes it to the dispatcher in routes.c; the server struct
 * comes back through civetweb's user_data, so there is no global state. */
#include "api/server.h"

#include <civetweb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/routes.h"
#include "core/log.h"

struct api_server {
    api_deps deps;
    struct mg_context *ctx;
    int library_ready;
};

static int api_server_on_request(struct mg_connection *conn)
{
    const api_server *srv = mg_get_user_data(mg_get_context(conn));
    return api_dispatch(&srv->deps, conn);
}

static int api_server_on_log(const struct mg_connection *conn, const char *message)
{
    (void)conn;
    log_warn("api", "http server: %s", message);
    return 1;
}

api_server *api_server_start(const api_deps *deps, char *err, size_t errlen)
{
    api_server *srv = NULL;
    if (!deps || !deps->store || !deps->metrics || !deps->health || !deps->listen) {
        snprintf(err, errlen, "missing store, metrics, health or listen address");
        goto fail;
    }
    srv = calloc(1, sizeof *srv);
    if (!srv) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    srv->deps = *deps;
    if (srv->deps.session_ttl <= 0)
        srv->deps.session_ttl = API_DEFAULT_SESSION_TTL;
    if (!srv->deps.version)
        srv->deps.version = "unknown";

    /* Create the counters up front so /metrics lists them from the start. */
    metrics_counter(deps->metrics, "sluice_console_login_failures_total",
                    "Console logins refused for a wrong user name or password.", NULL);

    mg_init_library(0);
    srv->library_ready = 1;
    const char *options[] = {
        "listening_ports", deps->listen,
        "num_threads", "8",
        "request_timeout_ms", "30000",
        "enable_keep_alive", "no",
        NULL,
    };
    struct mg_callbacks callbacks;
    memset(&callbacks, 0, sizeof callbacks);
    callbacks.begin_request = api_server_on_request;
    callbacks.log_message = api_server_on_log;
    struct mg_init_data init = {&callbacks, srv, options};
    char reason[256] = "";
    unsigned code = 0;
    struct mg_error_data error = {&code, reason, sizeof reason};
    srv->ctx = mg_start2(&init, &error);
    if (!srv->ctx) {
        snprintf(err, errlen, "%s", reason[0] ? reason : "the HTTP server did not start");
        goto fail;
    }
    log_fields(LOG_INFO, "api", "console listening", "listen", deps->listen, NULL);
    return srv;
fail:
    api_server_stop(srv);
    return NULL;
}

void api_server_stop(api_server *srv)
{
    if (!srv)
        return;
    if (srv->ctx)
        mg_stop(srv->ctx);
    if (srv->library_ready)
        mg_exit_library();
    free(srv);
}
