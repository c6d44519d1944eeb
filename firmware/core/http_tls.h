/* http_tls: an http_conn (http_client.h) over TLS with mbedTLS: TCP connect, then a TLS 1.2+
 * handshake with SNI, the server's certificate verified against a CA bundle (the system's,
 * /etc/ssl/certs/ca-certificates.crt, unless a file is given) and its name checked against
 * host. There is no way to turn verification off. Reads and writes honour the caller's
 * deadlines like the TCP transport's.
 * Ownership: the returned connection is freed by http_conn_destroy. */
#ifndef SLUICE_CORE_HTTP_TLS_H
#define SLUICE_CORE_HTTP_TLS_H

#include <stddef.h>
#include <stdint.h>

#include "core/http_client.h"

#define HTTP_TLS_SYSTEM_CA "/etc/ssl/certs/ca-certificates.crt"

/* Connect to host:port and complete the handshake before deadline_ms. ca_file: PEM bundle of
 * trusted CAs, NULL for HTTP_TLS_SYSTEM_CA. NULL with the reason in err (naming host:port and,
 * for a refused certificate, why: "certificate not trusted", "name mismatch", "expired"). */
http_conn *http_conn_tls_create(const char *host, const char *port, const char *ca_file, int64_t deadline_ms,
                                char *err, size_t errlen);

#endif
