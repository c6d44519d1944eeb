/* http_tls_get: test driver for the TLS transport (firmware/core/http_tls.c). Opens one
 * connection with http_conn_tls_create and sends GET PATH on it once per --repeat, printing
 * "status N" and the body of each response; on failure "error: <reason>" on stderr, exit 1.
 * usage: http_tls_get [--ca FILE] [--timeout-ms N] [--repeat N] HOST PORT PATH */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/http_client.h"
#include "core/http_tls.h"

static int usage(void)
{
    fprintf(stderr, "usage: http_tls_get [--ca FILE] [--timeout-ms N] [--repeat N] HOST PORT PATH\n");
    return 2;
}

/* Send GET path on c and print the response. 0, or -1 with err. */
static int get_once(http_conn *c, const char *hostport, const char *path, int64_t deadline_ms, char *err,
                    size_t errlen)
{
    http_request req = {.method = "GET", .host = hostport, .target = path};
    http_response resp;
    int rc = http_client_exchange(c, &req, &resp, deadline_ms, err, errlen);
    if (rc == 0) {
        printf("status %d\n", resp.status);
        fwrite(resp.body.data, 1, resp.body.len, stdout);
        fflush(stdout);
    }
    http_response_free(&resp);
    return rc;
}

int main(int argc, char **argv)
{
    const char *ca = NULL;
    long timeout_ms = 10000, repeat = 1;
    int i = 1;
    for (; i + 1 < argc && strncmp(argv[i], "--", 2) == 0; i += 2) {
        if (strcmp(argv[i], "--ca") == 0)
            ca = argv[i + 1];
        else if (strcmp(argv[i], "--timeout-ms") == 0)
            timeout_ms = strtol(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--repeat") == 0)
            repeat = strtol(argv[i + 1], NULL, 10);
        else
            return usage();
    }
    if (argc - i != 3 || timeout_ms <= 0 || repeat <= 0)
        return usage();
    const char *host = argv[i], *port = argv[i + 1], *path = argv[i + 2];
    char hostport[300], err[512];
    snprintf(hostport, sizeof hostport, strchr(host, ':') && host[0] != '[' ? "[%s]:%s" : "%s:%s", host, port);

    int64_t deadline_ms = http_clock_ms() + timeout_ms;
    http_conn *c = http_conn_tls_create(host, port, ca, deadline_ms, err, sizeof err);
    int rc = c ? 0 : -1;
    for (long n = 0; rc == 0 && n < repeat; n++)
        rc = get_once(c, hostport, path, deadline_ms, err, sizeof err);
    http_conn_destroy(c);
    if (rc < 0) {
        fprintf(stderr, "error: %s\n", err);
        return 1;
    }
    return 0;
}
