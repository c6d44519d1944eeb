/* api_status: GET /api/v1/status, the console's first page: version, start time, uptime and the
 * health of every component. */
#include <time.h>

#include "api/routes.h"
#include "core/health.h"

void api_status_get(api_request *req)
{
    const api_deps *d = req->deps;
    buf out = BUF_INIT;
    char started[32] = "";
    struct tm tm;
    if (gmtime_r(&d->started, &tm))
        strftime(started, sizeof started, "%Y-%m-%dT%H:%M:%SZ", &tm);
    long long uptime = (long long)(req->now - d->started);
    if (uptime < 0)
        uptime = 0;
    buf_puts(&out, "{\"version\":");
    buf_json_string(&out, d->version);
    buf_puts(&out, ",\"started\":");
    buf_json_string(&out, started);
    buf_printf(&out, ",\"started_unix\":%lld,\"uptime_seconds\":%lld,\"ready\":%s,\"components\":",
               (long long)d->started, uptime, health_ready(d->health) ? "true" : "false");
    health_render_json(d->health, &out);
    buf_puts(&out, "}\n");
    api_send_json(req, 200, &out, NULL);
    buf_free(&out);
}
