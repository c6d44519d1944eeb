/* http_client: blocking HTTP/1.1 client over an http_conn (see http_client.h). The TCP transport
 * is a non-blocking socket driven by poll() against the caller's deadline; the HTTP side writes
 * one request and reads the status line, headers and body (Content-Length, chunked, or to EOF). */
#include "core/http_client.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/errbuf.h"

#define HTTP_MAX_HEAD (64 * 1024)
#define HTTP_DEFAULT_MAX_BODY ((size_t)64 * 1024 * 1024)

int64_t http_clock_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- TCP transport ---- */

typedef struct http_tcp {
    http_conn base;
    int fd;
    char peer[300];   /* host:port, for error messages */
} http_tcp;

/* Wait until fd is ready for events or the deadline passes. 0, or -1 with err. */
static int http_tcp_wait(int fd, short events, int64_t deadline_ms, const char *peer, char *err, size_t errlen)
{
    for (;;) {
        int64_t left = deadline_ms - http_clock_ms();
        if (left <= 0)
            return err_setf(err, errlen, "%s: timed out", peer);
        struct pollfd p = {.fd = fd, .events = events};
        int n = poll(&p, 1, left > 60000 ? 60000 : (int)left);
        if (n > 0)
            return 0;
        if (n < 0 && errno != EINTR)
            return err_setf(err, errlen, "%s: poll: %s", peer, strerror(errno));
    }
}

static int http_tcp_write(http_conn *c, const void *data, size_t len, int64_t deadline_ms, char *err, size_t errlen)
{
    http_tcp *t = (http_tcp *)c;
    const char *p = data;
    while (len) {
        ssize_t n = send(t->fd, p, len, MSG_NOSIGNAL);
        if (n > 0) {
            p += n;
            len -= (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            if (http_tcp_wait(t->fd, POLLOUT, deadline_ms, t->peer, err, errlen) < 0)
                return -1;
            continue;
        }
        return err_setf(err, errlen, "%s: send: %s", t->peer, strerror(errno));
    }
    return 0;
}

static long http_tcp_read(http_conn *c, void *data, size_t len, int64_t deadline_ms, char *err, size_t errlen)
{
    http_tcp *t = (http_tcp *)c;
    for (;;) {
        ssize_t n = recv(t->fd, data, len, 0);
        if (n >= 0)
            return (long)n;
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            if (http_tcp_wait(t->fd, POLLIN, deadline_ms, t->peer, err, errlen) < 0)
                return -1;
            continue;
        }
        return err_setf(err, errlen, "%s: recv: %s", t->peer, strerror(errno));
    }
}

static void http_tcp_destroy(http_conn *c)
{
    http_tcp *t = (http_tcp *)c;
    if (t->fd >= 0)
        close(t->fd);
    free(t);
}

static const http_conn_ops http_tcp_ops = {http_tcp_write, http_tcp_read, http_tcp_destroy};

/* Non-blocking connect to one address, finished within the deadline. fd, or -1 with err. */
static int http_tcp_connect_one(const struct addrinfo *ai, int64_t deadline_ms, const char *peer, char *err,
                                size_t errlen)
{
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0)
        return err_setf(err, errlen, "%s: socket: %s", peer, strerror(errno));
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
        return fd;
    if (errno != EINPROGRESS && errno != EINTR) {
        err_setf(err, errlen, "%s: connect: %s", peer, strerror(errno));
        close(fd);
        return -1;
    }
    if (http_tcp_wait(fd, POLLOUT, deadline_ms, peer, err, errlen) < 0) {
        err_setf(err, errlen, "%s: connect: timed out", peer);
        close(fd);
        return -1;
    }
    int soerr = 0;
    socklen_t sl = sizeof soerr;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
        soerr = errno;
    if (soerr) {
        err_setf(err, errlen, "%s: connect: %s", peer, strerror(soerr));
        close(fd);
        return -1;
    }
    return fd;
}

int http_host_peer(const char *host, const char *port, char *name, size_t namelen, char *peer, size_t peerlen,
                         char *err, size_t errlen)
{
    if (!host || !*host || !port || !*port)
        return err_setf(err, errlen, "http: no host or port");
    size_t hl = strlen(host);
    if (host[0] == '[' && hl > 2 && host[hl - 1] == ']') {   /* [::1] */
        host++;
        hl -= 2;
    }
    if (hl >= namelen)
        return err_setf(err, errlen, "http: host name too long");
    memcpy(name, host, hl);
    name[hl] = '\0';
    snprintf(peer, peerlen, strchr(name, ':') ? "[%s]:%s" : "%s:%s", name, port);
    return 0;
}

int http_tcp_connect(const char *host, const char *port, int64_t deadline_ms, char *err, size_t errlen)
{
    char name[256], peer[300];
    if (http_host_peer(host, port, name, sizeof name, peer, sizeof peer, err, errlen) < 0)
        return -1;
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res = NULL;
    int gai = getaddrinfo(name, port, &hints, &res);
    if (gai != 0)
        return err_setf(err, errlen, "%s: %s", peer, gai_strerror(gai));
    int fd = -1;
    for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next)
        fd = http_tcp_connect_one(ai, deadline_ms, peer, err, errlen);
    freeaddrinfo(res);
    return fd;
}

http_conn *http_conn_tcp_create(const char *host, const char *port, int64_t deadline_ms, char *err, size_t errlen)
{
    char name[256];
    http_tcp *t = calloc(1, sizeof *t);
    if (!t) {
        err_setf(err, errlen, "http: out of memory");
        return NULL;
    }
    t->base.ops = &http_tcp_ops;
    if (http_host_peer(host, port, name, sizeof name, t->peer, sizeof t->peer, err, errlen) < 0 ||
        (t->fd = http_tcp_connect(host, port, deadline_ms, err, errlen)) < 0) {
        free(t);
        return NULL;
    }
    return &t->base;
}

void http_conn_destroy(http_conn *c)
{
    if (c)
        c->ops->destroy(c);
}

/* ---- HTTP/1.1 ---- */

/* Buffered reading from a connection: in holds bytes received, pos the first one not used. */
typedef struct http_reader {
    http_conn *c;
    buf in;
    size_t pos;
    int eof;
    int64_t deadline_ms;
} http_reader;

/* Receive more bytes. 1 when some came, 0 at end of stream, -1 with err. */
static int http_reader_fill(http_reader *r, char *err, size_t errlen)
{
    char tmp[16384];
    if (r->eof)
        return 0;
    if (r->pos && r->pos == r->in.len) {
        buf_reset(&r->in);
        r->pos = 0;
    }
    long n = r->c->ops->read(r->c, tmp, sizeof tmp, r->deadline_ms, err, errlen);
    if (n < 0)
        return -1;
    if (n == 0) {
        r->eof = 1;
        return 0;
    }
    buf_append(&r->in, tmp, (size_t)n);
    return 1;
}

/* Find "\r\n" (or a bare "\n") from pos; its offset, reading more as needed, up to max bytes. */
static int http_reader_line(http_reader *r, size_t max, size_t *line_len, size_t *next, char *err, size_t errlen)
{
    size_t scanned = r->pos;
    for (;;) {
        char *nl = r->in.data ? memchr(r->in.data + scanned, '\n', r->in.len - scanned) : NULL;
        if (nl) {
            size_t end = (size_t)(nl - r->in.data);
            *next = end + 1;
            if (end > r->pos && r->in.data[end - 1] == '\r')
                end--;
            *line_len = end - r->pos;
            return 0;
        }
        if (r->in.len - r->pos > max)
            return err_setf(err, errlen, "http: response line too long");
        size_t seen = r->in.len - r->pos;   /* fill may move the pending bytes */
        int rc = http_reader_fill(r, err, errlen);
        scanned = r->pos + seen;
        if (rc < 0)
            return -1;
        if (rc == 0)
            return err_setf(err, errlen, "http: connection closed in the response head");
    }
}

/* Read the header block (status line to empty line) into resp->head and parse it. */
static int http_read_head(http_reader *r, http_response *resp, char *err, size_t errlen)
{
    buf head = BUF_INIT;
    size_t nlines = 0;
    for (;;) {
        size_t len, next;
        if (http_reader_line(r, HTTP_MAX_HEAD, &len, &next, err, errlen) < 0)
            goto fail;
        if (len == 0 && nlines > 0) {
            r->pos = next;
            break;
        }
        if (len == 0) {   /* tolerate a stray empty line before the status line */
            r->pos = next;
            continue;
        }
        buf_append(&head, r->in.data + r->pos, len);
        buf_append(&head, "\0", 1);
        r->pos = next;
        nlines++;
        if (head.len > HTTP_MAX_HEAD) {
            err_setf(err, errlen, "http: response head larger than %d bytes", HTTP_MAX_HEAD);
            goto fail;
        }
    }

    /* status line: HTTP/1.x SSS reason */
    char *p = head.data;
    if (strncmp(p, "HTTP/1.", 7) != 0 || strlen(p) < 12 || p[8] != ' ') {
        err_setf(err, errlen, "http: bad status line '%.60s'", p);
        goto fail;
    }
    int status = 0;
    for (int i = 9; i < 12; i++) {
        if (p[i] < '0' || p[i] > '9') {
            err_setf(err, errlen, "http: bad status line '%.60s'", p);
            goto fail;
        }
        status = status * 10 + (p[i] - '0');
    }
    resp->status = status;
    resp->headers = calloc(nlines, sizeof *resp->headers);
    if (!resp->headers) {
        err_setf(err, errlen, "http: out of memory");
        goto fail;
    }
    resp->nheaders = 0;
    char *end = head.data + head.len;
    char *next;
    for (p += strlen(p) + 1; p < end; p = next) {
        next = p + strlen(p) + 1;
        char *colon = strchr(p, ':');
        if (!colon || colon == p) {
            err_setf(err, errlen, "http: bad header line '%.60s'", p);
            goto fail;
        }
        *colon = '\0';
        char *v = colon + 1;
        while (*v == ' ' || *v == '\t')
            v++;
        size_t vl = strlen(v);
        while (vl && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
            v[--vl] = '\0';
        resp->headers[resp->nheaders].name = p;
        resp->headers[resp->nheaders].value = v;
        resp->nheaders++;
    }
    free(resp->head);
    resp->head = buf_take(&head);
    return 0;
fail:
    buf_free(&head);
    return -1;
}

/* Move n body bytes from the reader into out. */
static int http_read_exact(http_reader *r, size_t n, buf *out, char *err, size_t errlen)
{
    while (n) {
        size_t have = r->in.len - r->pos;
        if (have) {
            size_t take = have < n ? have : n;
            buf_append(out, r->in.data + r->pos, take);
            r->pos += take;
            n -= take;
            continue;
        }
        int rc = http_reader_fill(r, err, errlen);
        if (rc < 0)
            return -1;
        if (rc == 0)
            return err_setf(err, errlen, "http: connection closed before the end of the body");
    }
    return 0;
}

static int http_read_chunked(http_reader *r, buf *out, size_t max_body, char *err, size_t errlen)
{
    for (;;) {
        size_t len, next;
        if (http_reader_line(r, 1024, &len, &next, err, errlen) < 0)
            return -1;
        const char *p = r->in.data + r->pos, *e = p + len;
        size_t size = 0;
        int digits = 0;
        for (; p < e; p++, digits++) {
            int d;
            if (*p >= '0' && *p <= '9')
                d = *p - '0';
            else if (*p >= 'a' && *p <= 'f')
                d = *p - 'a' + 10;
            else if (*p >= 'A' && *p <= 'F')
                d = *p - 'A' + 10;
            else
                break;
            if (size > (SIZE_MAX >> 4))
                return err_setf(err, errlen, "http: chunk size overflows");
            size = size * 16 + (size_t)d;
        }
        if (!digits || (p < e && *p != ';' && *p != ' ' && *p != '\t'))
            return err_setf(err, errlen, "http: bad chunk size line");
        r->pos = next;
        if (size == 0)
            break;
        if (size > max_body || out->len + size > max_body)
            return err_setf(err, errlen, "http: response body larger than %zu bytes", max_body);
        if (http_read_exact(r, size, out, err, errlen) < 0)
            return -1;
        if (http_reader_line(r, 2, &len, &next, err, errlen) < 0)
            return -1;
        if (len != 0)
            return err_setf(err, errlen, "http: chunk not followed by CRLF");
        r->pos = next;
    }
    for (;;) {   /* trailers, up to the empty line */
        size_t len, next;
        if (http_reader_line(r, HTTP_MAX_HEAD, &len, &next, err, errlen) < 0)
            return -1;
        r->pos = next;
        if (len == 0)
            return 0;
    }
}

/* Transfer-Encoding ends with "chunked" (the only coding this client reads). */
static int http_te_chunked(const char *te)
{
    size_t n = strlen(te);
    while (n && (te[n - 1] == ' ' || te[n - 1] == '\t'))
        n--;
    return n >= 7 && strncasecmp(te + n - 7, "chunked", 7) == 0;
}

static int http_read_body(http_reader *r, const http_request *req, http_response *resp, char *err, size_t errlen)
{
    size_t max_body = req->max_body ? req->max_body : HTTP_DEFAULT_MAX_BODY;
    buf_append(&resp->body, "", 0);
    if (strcmp(req->method, "HEAD") == 0 || resp->status == 204 || resp->status == 304)
        return 0;
    const char *te = http_response_header(resp, "Transfer-Encoding");
    if (te && http_te_chunked(te))
        return http_read_chunked(r, &resp->body, max_body, err, errlen);
    const char *cl = http_response_header(resp, "Content-Length");
    if (cl) {
        char *endp;
        errno = 0;
        unsigned long long n = strtoull(cl, &endp, 10);
        if (errno || endp == cl || *endp || cl[0] == '-')
            return err_setf(err, errlen, "http: bad Content-Length '%.40s'", cl);
        if (n > max_body)
            return err_setf(err, errlen, "http: response body of %llu bytes is larger than %zu", n, max_body);
        return http_read_exact(r, (size_t)n, &resp->body, err, errlen);
    }
    for (;;) {   /* until the peer closes */
        size_t have = r->in.len - r->pos;
        if (resp->body.len + have > max_body)
            return err_setf(err, errlen, "http: response body larger than %zu bytes", max_body);
        buf_append(&resp->body, r->in.data ? r->in.data + r->pos : "", have);
        r->pos += have;
        int rc = http_reader_fill(r, err, errlen);
        if (rc < 0)
            return -1;
        if (rc == 0)
            return 0;
    }
}

static int http_header_ok(const http_header *h)
{
    if (!h->name || !*h->name || !h->value)
        return 0;
    for (const char *p = h->name; *p; p++)
        if (*p <= ' ' || *p == ':' || *p == 127)
            return 0;
    return !strpbrk(h->value, "\r\n");
}

static int http_has_header(const http_request *req, const char *name)
{
    for (size_t i = 0; i < req->nheaders; i++)
        if (strcasecmp(req->headers[i].name, name) == 0)
            return 1;
    return 0;
}

static int http_write_request(http_conn *c, const http_request *req, int64_t deadline_ms, char *err, size_t errlen)
{
    if (!req->method || !*req->method || strpbrk(req->method, " \r\n") || !req->target || req->target[0] != '/' ||
        strpbrk(req->target, " \r\n") || !req->host || !*req->host || strpbrk(req->host, " \r\n"))
        return err_setf(err, errlen, "http: bad method, target or host");
    buf b = BUF_INIT;
    buf_printf(&b, "%s %s HTTP/1.1\r\n", req->method, req->target);
    for (size_t i = 0; i < req->nheaders; i++) {
        if (!http_header_ok(&req->headers[i])) {
            buf_free(&b);
            return err_setf(err, errlen, "http: bad request header %zu", i);
        }
    }
    if (!http_has_header(req, "Host"))
        buf_printf(&b, "Host: %s\r\n", req->host);
    for (size_t i = 0; i < req->nheaders; i++)
        buf_printf(&b, "%s: %s\r\n", req->headers[i].name, req->headers[i].value);
    if (!http_has_header(req, "Content-Length") &&
        (req->body_len || strcmp(req->method, "PUT") == 0 || strcmp(req->method, "POST") == 0))
        buf_printf(&b, "Content-Length: %zu\r\n", req->body_len);
    buf_puts(&b, "\r\n");
    int rc = c->ops->write(c, b.data, b.len, deadline_ms, err, errlen);
    buf_free(&b);
    if (rc == 0 && req->body_len)
        rc = c->ops->write(c, req->body, req->body_len, deadline_ms, err, errlen);
    return rc;
}

int http_client_exchange(http_conn *c, const http_request *req, http_response *resp, int64_t deadline_ms, char *err,
                         size_t errlen)
{
    memset(resp, 0, sizeof *resp);
    if (!c || !req)
        return err_setf(err, errlen, "http: no connection or request");
    if (http_write_request(c, req, deadline_ms, err, errlen) < 0)
        return -1;
    http_reader r = {.c = c, .deadline_ms = deadline_ms};
    int rc = -1;
    for (;;) {
        if (http_read_head(&r, resp, err, errlen) < 0)
            goto done;
        if (resp->status >= 200 || resp->status < 100)
            break;
        free(resp->headers);   /* 1xx: an interim response, the real one follows */
        resp->headers = NULL;
        resp->nheaders = 0;
    }
    rc = http_read_body(&r, req, resp, err, errlen);
done:
    buf_free(&r.in);
    return rc;
}

int http_client_request(const char *host, const char *port, const http_request *req, int timeout_ms,
                        http_response *resp, char *err, size_t errlen)
{
    memset(resp, 0, sizeof *resp);
    int64_t deadline = http_clock_ms() + (timeout_ms > 0 ? timeout_ms : 1);
    http_conn *c = http_conn_tcp_create(host, port, deadline, err, errlen);
    if (!c)
        return -1;
    http_header *hs = calloc(req->nheaders + 1, sizeof *hs);
    if (!hs) {
        http_conn_destroy(c);
        return err_setf(err, errlen, "http: out of memory");
    }
    if (req->nheaders)
        memcpy(hs, req->headers, req->nheaders * sizeof *hs);
    http_request r = *req;
    r.headers = hs;
    if (!http_has_header(req, "Connection"))
        hs[r.nheaders++] = (http_header){"Connection", "close"};
    int rc = http_client_exchange(c, &r, resp, deadline, err, errlen);
    free(hs);
    http_conn_destroy(c);
    return rc;
}

const char *http_response_header(const http_response *r, const char *name)
{
    for (size_t i = 0; i < r->nheaders; i++)
        if (strcasecmp(r->headers[i].name, name) == 0)
            return r->headers[i].value;
    return NULL;
}

void http_response_free(http_response *r)
{
    if (!r)
        return;
    free(r->headers);
    free(r->head);
    buf_free(&r->body);
    memset(r, 0, sizeof *r);
}
