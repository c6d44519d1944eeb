/* api_health: the unauthenticated probes. /healthz says the process answers, /readyz whether every
 * component is OK (200) or not (503) with the component list, /metrics the Prometheus registry. */
#include <string.h>

#include "api/routes.h"
#include "core/health.h"
#include "core/metrics.h"

void api_health_healthz(api_request *req)
{
    api_send(req, 200, "text/plain; charset=utf-8", "ok\n", 3, NULL);
}

void api_health_readyz(api_request *req)
{
    buf out = BUF_INIT;
    int ready = health_ready(req->deps->health);
    buf_printf(&out, "{\"ready\":%s,\"components\":", ready ? "true" : "false");
    health_render_json(req->deps->health, &out);
    buf_puts(&out, "}\n");
    api_send_json(req, ready ? 200 : 503, &out, NULL);
    buf_free(&out);
}

void api_health_metrics(api_request *req)
{
    buf out = BUF_INIT;
    metrics_render(req->deps->metrics, &out);
    api_send(req, 200, "text/plain; version=0.0.4; charset=utf-8", out.data ? out.data : "",
             out.len, NULL);
    buf_free(&out);
}
