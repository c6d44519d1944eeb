/* api_capture: capture actions. POST /api/v1/capture/snapshots {"tables": ["public.orders"]}
 * (operator) asks the running capture for incremental snapshots of those tables: each table is
 * checked, then one signal is written into the source's WAL for the capture to pick up in order
 * with the changes (pg_signal.h). Answers 202 with the signal's LSN. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/routes.h"
#include "capture/pg_conn.h"
#include "capture/pg_signal.h"
#include "core/log.h"
#include "store/config.h"

#define API_CAPTURE_MAX_TABLES 64

void api_capture_snapshot(api_request *req)
{
    const char *tables[API_CAPTURE_MAX_TABLES];
    char err[1024], lsn[32];
    config *cfg = NULL;
    PGconn *c = NULL;
    json_t *body = api_read_json(req);
    if (!body)
        return;
    json_t *list = json_object_get(body, "tables");
    size_t n = json_is_array(list) ? json_array_size(list) : 0;
    if (n == 0 || n > API_CAPTURE_MAX_TABLES) {
        api_send_error(req, 400, "\"tables\" must be a list of 1 to %d table names", API_CAPTURE_MAX_TABLES);
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        tables[i] = json_string_value(json_array_get(list, i));
        if (!tables[i] || !*tables[i]) {
            api_send_error(req, 400, "\"tables\"[%zu] must be a table name", i);
            goto out;
        }
    }
    if (!(cfg = config_load(req->deps->store, err, sizeof err))) {
        api_send_error(req, 500, "%s", err);
        goto out;
    }
    const char *conninfo = config_get(cfg, "source.conninfo");
    if (!conninfo) {
        api_send_error(req, 409, "no source is configured (source.conninfo)");
        goto out;
    }
    if (!(c = pg_conn_open(conninfo, config_get(cfg, "source.password"), PG_CONN_NORMAL, err, sizeof err))) {
        api_send_error(req, 502, "cannot reach the source: %s", err);
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        if (pg_signal_check_table(c, tables[i], config_get(cfg, "source.publication"), err, sizeof err) < 0) {
            api_send_error(req, 400, "%s", err);
            goto out;
        }
    }
    if (pg_signal_execute_snapshot(c, tables, n, lsn, err, sizeof err) < 0) {
        api_send_error(req, 502, "%s", err);
        goto out;
    }
    buf out = BUF_INIT;
    buf_puts(&out, "{\"tables\":");
    char *dump = json_dumps(list, JSON_COMPACT);
    buf_puts(&out, dump ? dump : "[]");
    free(dump);
    buf_puts(&out, ",\"lsn\":");
    buf_json_string(&out, lsn);
    buf_puts(&out, "}");
    store_audit(req->deps->store, req->user.name, "capture.snapshot", out.data);
    log_fields(LOG_INFO, "api", "incremental snapshot requested", "user", req->user.name, "lsn", lsn, NULL);
    api_send_json(req, 202, &out, NULL);
    buf_free(&out);
out:
    if (c)
        PQfinish(c);
    config_destroy(cfg);
    json_decref(body);
}
