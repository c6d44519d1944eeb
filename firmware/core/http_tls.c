/* http_tls: an http_conn over TLS with mbedTLS 2.28 (see http_tls.h). The TCP socket comes from
 * http_tcp_connect, stays non-blocking, and every mbedTLS step that wants to read or write waits in
 * poll() for the caller's deadline. Verification is always required: CA bundle, chain, host name. */
#include "core/http_tls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <mbedtls/asn1.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/pk.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>

#include "core/errbuf.h"

#define HTTP_TLS_CLOSE_MS 500   /* how long destroy may spend sending close_notify */
#define HTTP_TLS_SAN_IP (MBEDTLS_ASN1_CONTEXT_SPECIFIC | 7)   /* subjectAltName iPAddress */

typedef struct http_tls {
    http_conn base;
    int fd;
    int io_errno;          /* errno of the last failed send/recv, for messages */
    int usable;            /* handshake done and no fatal error since: close_notify is worth sending */
    unsigned char ip[16];  /* host as an address when it is one (iplen 4 or 16), for IP SANs */
    size_t iplen;
    char name[256];        /* host without IPv6 brackets: SNI and the name verified */
    char peer[300];        /* host:port, for error messages */
    mbedtls_entropy_context entropy;
    mbedtls_ctr_drbg_context drbg;
    mbedtls_x509_crt ca;
    mbedtls_ssl_config conf;
    mbedtls_ssl_context ssl;
} http_tls;

/* mbedTLS's send callback: the socket is non-blocking, so "would block" becomes WANT_WRITE. */
static int http_tls_bio_send(void *ctx, const unsigned char *data, size_t len)
{
    http_tls *t = ctx;
    ssize_t n = send(t->fd, data, len > INT_MAX ? INT_MAX : len, MSG_NOSIGNAL);
    if (n >= 0)
        return (int)n;
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
        return MBEDTLS_ERR_SSL_WANT_WRITE;
    t->io_errno = errno;
    return errno == EPIPE || errno == ECONNRESET ? MBEDTLS_ERR_NET_CONN_RESET : MBEDTLS_ERR_NET_SEND_FAILED;
}

/* mbedTLS's receive callback: 0 at end of stream, WANT_READ when nothing is there yet. */
static int http_tls_bio_recv(void *ctx, unsigned char *data, size_t len)
{
    http_tls *t = ctx;
    ssize_t n = recv(t->fd, data, len > INT_MAX ? INT_MAX : len, 0);
    if (n >= 0)
        return (int)n;
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
        return MBEDTLS_ERR_SSL_WANT_READ;
    t->io_errno = errno;
    return errno == ECONNRESET ? MBEDTLS_ERR_NET_CONN_RESET : MBEDTLS_ERR_NET_RECV_FAILED;
}

/* An mbedTLS error as "text (-0xNNNN)", plus the socket's errno when that is what failed. */
static void http_tls_strerror(const http_tls *t, int rc, char *out, size_t outlen)
{
    char text[160];
    mbedtls_strerror(rc, text, sizeof text);
    if (t->io_errno && (rc == MBEDTLS_ERR_NET_SEND_FAILED || rc == MBEDTLS_ERR_NET_RECV_FAILED ||
                        rc == MBEDTLS_ERR_NET_CONN_RESET))
        snprintf(out, outlen, "%s: %s (-0x%04x)", text, strerror(t->io_errno), (unsigned)-rc);
    else
        snprintf(out, outlen, "%s (-0x%04x)", text, (unsigned)-rc);
}

/* After WANT_READ or WANT_WRITE from a step (what: "handshake", "read", ...), wait for the socket
 * until the deadline: 0 to call the step again. Any other rc, or the deadline, is -1 with err. */
static int http_tls_wait(http_tls *t, int rc, int64_t deadline_ms, const char *what, char *err, size_t errlen)
{
    char text[256];
    if (rc != MBEDTLS_ERR_SSL_WANT_READ && rc != MBEDTLS_ERR_SSL_WANT_WRITE) {
        t->usable = 0;
        http_tls_strerror(t, rc, text, sizeof text);
        return err_setf(err, errlen, "%s: TLS %s failed: %s", t->peer, what, text);
    }
    for (;;) {
        int64_t left = deadline_ms - http_clock_ms();
        if (left <= 0) {
            t->usable = 0;
            return err_setf(err, errlen, "%s: TLS %s timed out", t->peer, what);
        }
        struct pollfd p = {.fd = t->fd, .events = rc == MBEDTLS_ERR_SSL_WANT_READ ? POLLIN : POLLOUT};
        int n = poll(&p, 1, left > 60000 ? 60000 : (int)left);
        if (n > 0)
            return 0;
        if (n < 0 && errno != EINTR) {
            t->usable = 0;
            return err_setf(err, errlen, "%s: poll: %s", t->peer, strerror(errno));
        }
    }
}

/* The certificate verification flags in words, comma-separated, into out. */
static void http_tls_verify_words(uint32_t flags, char *out, size_t outlen)
{
    static const struct {
        uint32_t flag;
        const char *words;
    } known[] = {
        {MBEDTLS_X509_BADCERT_NOT_TRUSTED, "certificate not trusted"},
        {MBEDTLS_X509_BADCERT_CN_MISMATCH, "name mismatch"},
        {MBEDTLS_X509_BADCERT_EXPIRED, "expired"},
        {MBEDTLS_X509_BADCERT_FUTURE, "not yet valid"},
        {MBEDTLS_X509_BADCERT_REVOKED, "revoked"},
        {MBEDTLS_X509_BADCERT_MISSING, "no certificate"},
        {MBEDTLS_X509_BADCERT_KEY_USAGE, "key usage does not allow it"},
        {MBEDTLS_X509_BADCERT_EXT_KEY_USAGE, "not for server authentication"},
        {MBEDTLS_X509_BADCERT_BAD_MD, "weak signature hash"},
        {MBEDTLS_X509_BADCERT_BAD_PK, "unacceptable key type"},
        {MBEDTLS_X509_BADCERT_BAD_KEY, "key too weak"},
    };
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
        if (!(flags & known[i].flag))
            continue;
        flags &= ~known[i].flag;
        int n = snprintf(out + used, outlen - used, "%s%s", used ? ", " : "", known[i].words);
        if (n < 0 || (size_t)n >= outlen - used)
            return;
        used += (size_t)n;
    }
    if (flags || !used)
        snprintf(out + used, outlen - used, "%sother problems (flags 0x%x)", used ? ", " : "", (unsigned)flags);
}

/* mbedTLS checks the name against DNS names and the CN only; for a host that is an address, an
 * iPAddress subjectAltName equal to it matches as well (RFC 6125). Runs for each certificate of the
 * chain; only the server's own (depth 0) is named. */
static int http_tls_verify_ip(void *ctx, mbedtls_x509_crt *crt, int depth, uint32_t *flags)
{
    const http_tls *t = ctx;
    if (depth != 0 || !t->iplen || !(*flags & MBEDTLS_X509_BADCERT_CN_MISMATCH))
        return 0;
    for (const mbedtls_x509_sequence *san = &crt->subject_alt_names; san; san = san->next)
        if (san->buf.tag == HTTP_TLS_SAN_IP && san->buf.len == t->iplen && memcmp(san->buf.p, t->ip, t->iplen) == 0)
            *flags &= ~(uint32_t)MBEDTLS_X509_BADCERT_CN_MISMATCH;
    return 0;
}

/* Names: host without brackets, the host:port for messages, and the address bytes if it is one. */
static int http_tls_names(http_tls *t, const char *host, const char *port, char *err, size_t errlen)
{
    if (http_host_peer(host, port, t->name, sizeof t->name, t->peer, sizeof t->peer, err, errlen) < 0)
        return -1;
    if (inet_pton(AF_INET, t->name, t->ip) == 1)
        t->iplen = 4;
    else if (inet_pton(AF_INET6, t->name, t->ip) == 1)
        t->iplen = 16;
    return 0;
}

/* Random generator, CA bundle and TLS configuration: TLS 1.2 or later, verification required. */
static int http_tls_configure(http_tls *t, const char *ca_file, char *err, size_t errlen)
{
    static const unsigned char pers[] = "sluice http_tls";
    char text[256];
    int rc = mbedtls_ctr_drbg_seed(&t->drbg, mbedtls_entropy_func, &t->entropy, pers, sizeof pers - 1);
    if (rc != 0) {
        http_tls_strerror(t, rc, text, sizeof text);
        return err_setf(err, errlen, "%s: TLS random generator: %s", t->peer, text);
    }
    if (!ca_file)
        ca_file = HTTP_TLS_SYSTEM_CA;
    errno = 0;
    rc = mbedtls_x509_crt_parse_file(&t->ca, ca_file);
    if (rc < 0 || t->ca.version == 0) {   /* > 0: some certificates were skipped, the rest loaded */
        if (rc == MBEDTLS_ERR_PK_FILE_IO_ERROR && errno)
            snprintf(text, sizeof text, "%s", strerror(errno));
        else if (rc < 0)
            http_tls_strerror(t, rc, text, sizeof text);
        else
            snprintf(text, sizeof text, "no certificate could be read");
        return err_setf(err, errlen, "%s: CA file %s: %s", t->peer, ca_file, text);
    }
    rc = mbedtls_ssl_config_defaults(&t->conf, MBEDTLS_SSL_IS_CLIENT, MBEDTLS_SSL_TRANSPORT_STREAM,
                                     MBEDTLS_SSL_PRESET_DEFAULT);
    if (rc == 0) {
        mbedtls_ssl_conf_min_version(&t->conf, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3);
        mbedtls_ssl_conf_authmode(&t->conf, MBEDTLS_SSL_VERIFY_REQUIRED);
        mbedtls_ssl_conf_ca_chain(&t->conf, &t->ca, NULL);
        mbedtls_ssl_conf_verify(&t->conf, http_tls_verify_ip, t);
        mbedtls_ssl_conf_rng(&t->conf, mbedtls_ctr_drbg_random, &t->drbg);
        rc = mbedtls_ssl_setup(&t->ssl, &t->conf);
    }
    if (rc == 0)
        rc = mbedtls_ssl_set_hostname(&t->ssl, t->name);
    if (rc != 0) {
        http_tls_strerror(t, rc, text, sizeof text);
        return err_setf(err, errlen, "%s: TLS setup: %s", t->peer, text);
    }
    mbedtls_ssl_set_bio(&t->ssl, t, http_tls_bio_send, http_tls_bio_recv, NULL);
    return 0;
}

/* Run the handshake to the end before the deadline. A refused certificate says why in words. */
static int http_tls_handshake(http_tls *t, int64_t deadline_ms, char *err, size_t errlen)
{
    for (;;) {
        int rc = mbedtls_ssl_handshake(&t->ssl);
        if (rc == 0) {
            t->usable = 1;
            return 0;
        }
        if (rc == MBEDTLS_ERR_X509_CERT_VERIFY_FAILED) {
            char words[300];
            http_tls_verify_words(mbedtls_ssl_get_verify_result(&t->ssl), words, sizeof words);
            return err_setf(err, errlen, "%s: server certificate refused: %s", t->peer, words);
        }
        if (rc == MBEDTLS_ERR_SSL_INVALID_RECORD || rc == MBEDTLS_ERR_SSL_BAD_HS_PROTOCOL_VERSION) {
            char text[256];
            http_tls_strerror(t, rc, text, sizeof text);
            return err_setf(err, errlen, "%s: TLS handshake failed: %s (is it a TLS 1.2+ server?)", t->peer,
                            text);
        }
        if (http_tls_wait(t, rc, deadline_ms, "handshake", err, errlen) < 0)
            return -1;
    }
}

static int http_tls_write(http_conn *c, const void *data, size_t len, int64_t deadline_ms, char *err, size_t errlen)
{
    http_tls *t = (http_tls *)c;
    const unsigned char *p = data;
    while (len) {
        int n = mbedtls_ssl_write(&t->ssl, p, len);
        if (n > 0) {
            p += n;
            len -= (size_t)n;
            continue;
        }
        if (http_tls_wait(t, n, deadline_ms, "write", err, errlen) < 0)
            return -1;
    }
    return 0;
}

/* The peer's close_notify, or the TCP stream ending without one, is the end of the stream; the
 * HTTP framing (length, chunks) notices a body cut short. */
static long http_tls_read(http_conn *c, void *data, size_t len, int64_t deadline_ms, char *err, size_t errlen)
{
    http_tls *t = (http_tls *)c;
    for (;;) {
        int n = mbedtls_ssl_read(&t->ssl, data, len > INT_MAX ? INT_MAX : len);
        if (n > 0)
            return n;
        if (n == 0 || n == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY || n == MBEDTLS_ERR_SSL_CONN_EOF)
            return 0;
        if (http_tls_wait(t, n, deadline_ms, "read", err, errlen) < 0)
            return -1;
    }
}

/* Best effort: send close_notify if the session is still sound, waiting at most HTTP_TLS_CLOSE_MS. */
static void http_tls_close_notify(http_tls *t)
{
    int64_t deadline_ms = http_clock_ms() + HTTP_TLS_CLOSE_MS;
    int rc;
    while ((rc = mbedtls_ssl_close_notify(&t->ssl)) != 0)
        if (http_tls_wait(t, rc, deadline_ms, "close", NULL, 0) < 0)
            return;
}

static void http_tls_destroy(http_conn *c)
{
    http_tls *t = (http_tls *)c;
    if (t->usable)
        http_tls_close_notify(t);
    if (t->fd >= 0)
        close(t->fd);
    mbedtls_ssl_free(&t->ssl);
    mbedtls_ssl_config_free(&t->conf);
    mbedtls_x509_crt_free(&t->ca);
    mbedtls_ctr_drbg_free(&t->drbg);
    mbedtls_entropy_free(&t->entropy);
    free(t);
}

static const http_conn_ops http_tls_ops = {http_tls_write, http_tls_read, http_tls_destroy};

http_conn *http_conn_tls_create(const char *host, const char *port, const char *ca_file, int64_t deadline_ms,
                                char *err, size_t errlen)
{
    http_tls *t = calloc(1, sizeof *t);
    if (!t) {
        err_setf(err, errlen, "http: out of memory");
        return NULL;
    }
    t->base.ops = &http_tls_ops;
    t->fd = -1;
    mbedtls_entropy_init(&t->entropy);
    mbedtls_ctr_drbg_init(&t->drbg);
    mbedtls_x509_crt_init(&t->ca);
    mbedtls_ssl_config_init(&t->conf);
    mbedtls_ssl_init(&t->ssl);
    if (http_tls_names(t, host, port, err, errlen) < 0 || http_tls_configure(t, ca_file, err, errlen) < 0 ||
        (t->fd = http_tcp_connect(host, port, deadline_ms, err, errlen)) < 0 ||
        http_tls_handshake(t, deadline_ms, err, errlen) < 0) {
        http_tls_destroy(&t->base);
        return NULL;
    }
    return &t->base;
}
