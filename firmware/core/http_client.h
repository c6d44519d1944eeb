/* http_client: a minimal blocking HTTP/1.1 client: one request, one response read whole
 * (Content-Length, chunked, or until the peer closes), everything bounded by a deadline.
 * The bytes travel over an http_conn, an ops table: plain TCP here; TLS (mbedTLS, for S3) is
 * another http_conn, so the HTTP framing never knows what carries it. No redirects, no proxies.
 * Deadlines are CLOCK_MONOTONIC milliseconds (http_clock_ms), passed in by the caller. */
#ifndef SLUICE_CORE_HTTP_CLIENT_H
#define SLUICE_CORE_HTTP_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

typedef struct http_conn http_conn;

typedef struct http_conn_ops {
    /* Write all len bytes before deadline_ms. 0, or -1 with the reason in err. */
    int (*write)(http_conn *c, const void *data, size_t len, int64_t deadline_ms, char *err, size_t errlen);
    /* Read up to len bytes before deadline_ms: the count, 0 at end of stream, -1 with err. */
    long (*read)(http_conn *c, void *data, size_t len, int64_t deadline_ms, char *err, size_t errlen);
    /* Close the transport and free c. */
    void (*destroy)(http_conn *c);
} http_conn_ops;

/* Every transport starts with this. */
struct http_conn {
    const http_conn_ops *ops;
};

/* Connect over TCP to host (name or address, IPv6 in brackets or not) and port before
 * deadline_ms (name resolution itself is not bounded by it: pass addresses where that matters).
 * NULL with the reason (naming host:port) in err. */
http_conn *http_conn_tcp_create(const char *host, const char *port, int64_t deadline_ms, char *err,
                                size_t errlen);
/* The TCP connect under http_conn_tcp_create, for other transports (TLS): a connected
 * non-blocking, close-on-exec socket to host:port (same host forms and deadline), or -1 with the
 * reason (naming host:port) in err. The caller closes the fd. */
int http_tcp_connect(const char *host, const char *port, int64_t deadline_ms, char *err, size_t errlen);
/* host ("name", "1.2.3.4", "::1" or "[::1]") without brackets into name, and "host:port"
 * ("[v6]:port" for an IPv6 address) for messages into peer. 0, or -1 with err when the host or
 * port is missing or the name too long. */
int http_host_peer(const char *host, const char *port, char *name, size_t namelen, char *peer, size_t peerlen,
                   char *err, size_t errlen);
/* Close and free any transport. Accepts NULL. */
void http_conn_destroy(http_conn *c);

typedef struct http_header {
    const char *name;
    const char *value;
} http_header;

typedef struct http_request {
    const char *method;            /* "GET", "PUT", ... */
    const char *host;              /* the Host header: host[:port] */
    const char *target;            /* path and query, already URI-encoded: "/a%20b?x=1" */
    const http_header *headers;    /* sent as given; Host and Content-Length are added unless here */
    size_t nheaders;
    const void *body;
    size_t body_len;
    size_t max_body;               /* refuse longer response bodies; 0 = 64 MiB */
} http_request;

typedef struct http_response {
    int status;                    /* e.g. 200 */
    http_header *headers;          /* names and values point into head */
    size_t nheaders;
    buf body;
    char *head;                    /* storage for the header block */
} http_response;

/* Monotonic clock in milliseconds, for deadlines. */
int64_t http_clock_ms(void);

/* Send req on c and read the whole response into *resp (zeroed first; free it with
 * http_response_free even on failure). Interim 1xx responses are skipped. The connection stays
 * usable for another request when the response was framed by length or chunks. 0, or -1 with
 * the reason in err. */
int http_client_exchange(http_conn *c, const http_request *req, http_response *resp, int64_t deadline_ms,
                         char *err, size_t errlen);

/* One request over a fresh TCP connection to host:port, "Connection: close", within timeout_ms. */
int http_client_request(const char *host, const char *port, const http_request *req, int timeout_ms,
                        http_response *resp, char *err, size_t errlen);

/* The value of a response header (case-insensitive name; the first one), or NULL. */
const char *http_response_header(const http_response *r, const char *name);

/* Release a response's memory. Safe on a zeroed response. */
void http_response_free(http_response *r);

#endif
