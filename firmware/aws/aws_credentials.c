/* aws_credentials: the credential chain (see aws_credentials.h), in the order the AWS SDKs use:
 * explicit settings, environment, shared credentials file, container credentials (ECS/EKS),
 * EC2 instance role (IMDSv2). A source that has nothing adds a note and the next one is tried; a
 * source that has half a key pair, or container credentials that are configured but cannot be
 * fetched, is an error at once (as the SDKs' "partial credentials", and as they never fall back
 * from a configured container to the host's instance role). When nothing is found, the error
 * lists every source with why it gave nothing. Secrets never appear in error text. */
#include "aws/aws_credentials.h"

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/buf.h"
#include "core/errbuf.h"
#include "core/fs.h"
#include "core/http_client.h"

extern char **environ;

#define CRED_IMDS_DEFAULT "http://169.254.169.254"
#define CRED_IMDS_TOKEN_TTL "21600"
#define CRED_IMDS_ROLE_PATH "/latest/meta-data/iam/security-credentials/"
#define CRED_CONTAINER_DEFAULT "http://169.254.170.2"
#define CRED_HTTP_MAX_BODY (64 * 1024)
#define CRED_FILE_MAX (1024 * 1024)

/* 1 = found, 0 = nothing here (a note was added), -1 = error (in err). */
enum { CRED_ERROR = -1, CRED_NONE = 0, CRED_FOUND = 1 };

static const char *cred_env(char *const *envp, const char *name)
{
    size_t n = strlen(name);
    for (char *const *e = envp; e && *e; e++)
        if (strncmp(*e, name, n) == 0 && (*e)[n] == '=')
            return *e + n + 1;
    return NULL;
}

static int cred_set(char *dst, size_t cap, const char *src, const char *what, const char *where, char *err,
                    size_t errlen)
{
    size_t n = strlen(src);
    if (n >= cap)
        return err_setf(err, errlen, "%s: %s is too long (%zu bytes, at most %zu)", where, what, n, cap - 1);
    memcpy(dst, src, n + 1);
    return 0;
}

/* Fill out from a key pair and optional token; source names the place for out->source. */
static int cred_fill(aws_credentials *out, const char *id, const char *secret, const char *token, const char *source,
                     const char *where, char *err, size_t errlen)
{
    if (cred_set(out->access_key_id, sizeof out->access_key_id, id, "access key id", where, err, errlen) < 0 ||
        cred_set(out->secret_access_key, sizeof out->secret_access_key, secret, "secret access key", where, err,
                 errlen) < 0 ||
        cred_set(out->session_token, sizeof out->session_token, token ? token : "", "session token", where, err,
                 errlen) < 0)
        return CRED_ERROR;
    snprintf(out->source, sizeof out->source, "%s", source);
    return CRED_FOUND;
}

/* Add "<place>: <why nothing was there>" to the list of places tried. */
static void cred_note(buf *notes, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void cred_note(buf *notes, const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (notes->len)
        buf_puts(notes, "; ");
    buf_puts(notes, line);
}

static int cred_from_settings(const aws_credential_source *src, aws_credentials *out, buf *notes, char *err,
                              size_t errlen)
{
    const char *id = src ? src->access_key_id : NULL, *secret = src ? src->secret_access_key : NULL;
    if (!id || !*id) {
        if (secret && *secret)
            return err_setf(err, errlen, "settings: a secret access key is set without an access key id");
        cred_note(notes, "settings: no access key id set");
        return CRED_NONE;
    }
    if (!secret || !*secret)
        return err_setf(err, errlen, "settings: access key id is set without a secret access key");
    return cred_fill(out, id, secret, src->session_token, "settings", "settings", err, errlen);
}

static int cred_from_environment(char *const *envp, aws_credentials *out, buf *notes, char *err, size_t errlen)
{
    const char *id = cred_env(envp, "AWS_ACCESS_KEY_ID"), *secret = cred_env(envp, "AWS_SECRET_ACCESS_KEY");
    if ((!id || !*id) && (!secret || !*secret)) {
        cred_note(notes, "environment: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY not set");
        return CRED_NONE;
    }
    if (!id || !*id)
        return err_setf(err, errlen, "environment: AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not");
    if (!secret || !*secret)
        return err_setf(err, errlen, "environment: AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not");
    return cred_fill(out, id, secret, cred_env(envp, "AWS_SESSION_TOKEN"), "environment", "environment", err,
                     errlen);
}

static char *cred_trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
        s[--n] = '\0';
    return s;
}

/* The three keys of one profile in an INI text (modified in place). Returns 1 if the section
 * exists. Keys are case-insensitive; later values win; '#' and ';' lines are comments. */
static int cred_ini_profile(char *text, const char *profile, const char **id, const char **secret,
                            const char **token)
{
    int in = 0, found = 0;
    *id = *secret = *token = NULL;
    for (char *line = text; line;) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        char *s = cred_trim(line);
        line = nl ? nl + 1 : NULL;
        if (!*s || *s == '#' || *s == ';')
            continue;
        if (*s == '[') {
            char *close = strchr(s, ']');
            if (!close)
                continue;
            *close = '\0';
            in = strcmp(cred_trim(s + 1), profile) == 0;
            found |= in;
            continue;
        }
        char *eq = strchr(s, '=');
        if (!in || !eq)
            continue;
        *eq = '\0';
        const char *key = cred_trim(s), *value = cred_trim(eq + 1);
        if (strcasecmp(key, "aws_access_key_id") == 0)
            *id = value;
        else if (strcasecmp(key, "aws_secret_access_key") == 0)
            *secret = value;
        else if (strcasecmp(key, "aws_session_token") == 0)
            *token = value;
    }
    return found;
}

/* Read a whole (small) file; NULL with errno set. */
static char *cred_read_file(const char *path)
{
    buf b = BUF_INIT;
    char err[8];
    if (fs_read_file(path, CRED_FILE_MAX, &b, err, sizeof err) < 0) {
        int e = errno;
        buf_free(&b);
        errno = e;
        return NULL;
    }
    return buf_take(&b);
}

static int cred_from_shared_file(char *const *envp, aws_credentials *out, buf *notes, char *err, size_t errlen)
{
    const char *home = cred_env(envp, "HOME"), *file = cred_env(envp, "AWS_SHARED_CREDENTIALS_FILE");
    const char *profile = cred_env(envp, "AWS_PROFILE");
    if (!profile || !*profile)
        profile = "default";
    buf path = BUF_INIT;
    if (file && *file) {
        if (file[0] == '~' && file[1] == '/' && home)
            buf_printf(&path, "%s%s", home, file + 1);
        else
            buf_puts(&path, file);
    } else if (home && *home) {
        buf_printf(&path, "%s/.aws/credentials", home);
    } else {
        cred_note(notes, "shared file: neither AWS_SHARED_CREDENTIALS_FILE nor HOME is set");
        return CRED_NONE;
    }

    int rc = CRED_NONE;
    char *text = cred_read_file(path.data);
    if (!text) {
        cred_note(notes, "shared file %s: %s", path.data, strerror(errno));
        goto done;
    }
    const char *id, *secret, *token;
    if (!cred_ini_profile(text, profile, &id, &secret, &token)) {
        cred_note(notes, "shared file %s: no profile [%s]", path.data, profile);
    } else if (!id || !*id) {
        cred_note(notes, "shared file %s: profile [%s] has no aws_access_key_id", path.data, profile);
    } else if (!secret || !*secret) {
        rc = err_setf(err, errlen, "shared file %s: profile [%s] has aws_access_key_id but no aws_secret_access_key",
                      path.data, profile);
    } else {
        buf where = BUF_INIT;
        buf_printf(&where, "shared file %s profile [%s]", path.data, profile);
        rc = cred_fill(out, id, secret, token, "shared file", where.data, err, errlen);
        buf_free(&where);
    }
    memset(text, 0, strlen(text));
    free(text);
done:
    buf_free(&path);
    return rc;
}

/* "http://host[:port][/path]" (or without the scheme) into host, port and *path (pointing into
 * url at the path and query; "" when there is none). 0, or -1 with err. */
static int cred_url_parse(const char *url, char *host, size_t hostlen, char *port, size_t portlen, const char **path,
                          char *err, size_t errlen)
{
    const char *p = url;
    if (strncasecmp(p, "https://", 8) == 0)
        return err_setf(err, errlen, "only http:// is supported");
    if (strncasecmp(p, "http://", 7) == 0)
        p += 7;
    size_t len = strcspn(p, "/?#");
    const char *hend, *colon = NULL;
    if (*p == '[') {
        const char *close = memchr(p, ']', len);
        if (!close)
            return err_setf(err, errlen, "bad endpoint");
        hend = close + 1;
        if (hend < p + len && *hend == ':')
            colon = hend;
        else if (hend != p + len)
            return err_setf(err, errlen, "bad endpoint");
    } else {
        colon = memchr(p, ':', len);
        hend = colon ? colon : p + len;
    }
    size_t hl = (size_t)(hend - p), pl = colon ? (size_t)(p + len - colon - 1) : 0;
    if (!hl || hl >= hostlen || (colon && (!pl || pl >= portlen)) || memchr(p, '@', len))
        return err_setf(err, errlen, "bad endpoint");
    memcpy(host, p, hl);
    host[hl] = '\0';
    if (colon) {
        memcpy(port, colon + 1, pl);
        port[pl] = '\0';
        if (strspn(port, "0123456789") != pl)
            return err_setf(err, errlen, "bad endpoint");
    } else {
        snprintf(port, portlen, "80");
    }
    if (path)
        *path = p + len;
    return 0;
}

/* "2024-05-01T12:34:56Z" (fraction and a numeric offset allowed) to Unix seconds. */
static int cred_iso8601(const char *s, int64_t *out)
{
    struct tm tm = {0};
    int y, mo, d, h, mi, sec, n = 0;
    if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6 || n != 19)
        return -1;
    const char *p = s + n;
    if (*p == '.')
        for (p++; *p >= '0' && *p <= '9'; p++)
            ;
    int64_t offset = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int oh, om;
        int sign = *p == '-' ? -1 : 1;
        if (sscanf(p + 1, "%2d:%2d", &oh, &om) == 2 && strlen(p + 1) == 5)
            p += 6;
        else if (sscanf(p + 1, "%2d%2d", &oh, &om) == 2 && strlen(p + 1) == 4)
            p += 5;
        else
            return -1;
        offset = sign * (oh * 3600 + om * 60);
    } else {
        return -1;
    }
    if (*p || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
        return -1;
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = sec;
    time_t t = timegm(&tm);
    if (t == (time_t)-1)
        return -1;
    *out = (int64_t)t - offset;
    return 0;
}

int aws_credentials_from_imds_json(const char *json, size_t len, aws_credentials *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    json_error_t jerr;
    json_t *doc = json_loadb(json ? json : "", json ? len : 0, 0, &jerr);
    int rc = -1;
    if (!json_is_object(doc)) {
        err_setf(err, errlen, "not a JSON object (%s)", doc ? "other JSON value" : jerr.text);
        goto done;
    }
    const char *code = json_string_value(json_object_get(doc, "Code"));
    const char *id = json_string_value(json_object_get(doc, "AccessKeyId"));
    const char *secret = json_string_value(json_object_get(doc, "SecretAccessKey"));
    const char *token = json_string_value(json_object_get(doc, "Token"));
    const char *expiration = json_string_value(json_object_get(doc, "Expiration"));
    int64_t expires = 0;
    if (code && strcmp(code, "Success") != 0)
        err_setf(err, errlen, "Code is '%.60s', not 'Success'", code);
    else if (!id || !*id || !secret || !*secret)
        err_setf(err, errlen, "no AccessKeyId or SecretAccessKey");
    else if (expiration && cred_iso8601(expiration, &expires) < 0)
        err_setf(err, errlen, "bad Expiration '%.40s'", expiration);
    else if (cred_fill(out, id, secret, token, "instance role", "instance role", err, errlen) == CRED_FOUND)
        rc = 0;
    out->expires_unix = rc == 0 ? expires : 0;
done:
    json_decref(doc);
    if (rc < 0)
        memset(out, 0, sizeof *out);
    return rc;
}

/* One HTTP request to a metadata endpoint (IMDS or the container agent); the body in resp.
 * 0 on HTTP 200, or -1 with err (never the headers' values: they carry tokens). */
static int cred_http_call(const char *host, const char *port, const char *method, const char *target,
                          const http_header *hdr, size_t nhdr, int timeout_ms, http_response *resp, char *err,
                          size_t errlen)
{
    char hostport[300];
    snprintf(hostport, sizeof hostport, strcmp(port, "80") ? "%s:%s" : "%s", host, port);
    http_request req = {.method = method, .host = hostport, .target = target, .headers = hdr, .nheaders = nhdr,
                        .max_body = CRED_HTTP_MAX_BODY};
    char e[256];
    if (http_client_request(host, port, &req, timeout_ms, resp, e, sizeof e) < 0)
        return err_setf(err, errlen, "%s %s: %s", method, target, e);
    if (resp->status != 200)
        return err_setf(err, errlen, "%s %s: HTTP %d", method, target, resp->status);
    return 0;
}

static int cred_imds_call(const char *host, const char *port, const char *method, const char *target,
                          const http_header *hdr, int timeout_ms, http_response *resp, char *err, size_t errlen)
{
    return cred_http_call(host, port, method, target, hdr, 1, timeout_ms, resp, err, errlen);
}

static int cred_imds_fetch(const char *host, const char *port, int timeout_ms, aws_credentials *out, char *err,
                           size_t errlen)
{
    http_response resp = {0};
    buf token = BUF_INIT, target = BUF_INIT;
    int rc = -1;

    http_header ttl = {"X-aws-ec2-metadata-token-ttl-seconds", CRED_IMDS_TOKEN_TTL};
    if (cred_imds_call(host, port, "PUT", "/latest/api/token", &ttl, timeout_ms, &resp, err, errlen) < 0)
        goto done;
    buf_puts(&token, cred_trim(resp.body.data));
    http_response_free(&resp);
    if (!token.len || strpbrk(token.data, "\r\n")) {
        err_setf(err, errlen, "PUT /latest/api/token: empty or bad token");
        goto done;
    }

    http_header auth = {"X-aws-ec2-metadata-token", token.data};
    if (cred_imds_call(host, port, "GET", CRED_IMDS_ROLE_PATH, &auth, timeout_ms, &resp, err, errlen) < 0) {
        if (resp.status == 404)
            err_setf(err, errlen, "no IAM role is attached to this instance");
        goto done;
    }
    char *role = resp.body.data;
    role[strcspn(role, "\r\n")] = '\0';
    role = cred_trim(role);
    if (!*role || strpbrk(role, "/?#% \t")) {
        err_setf(err, errlen, "GET %s: no usable role name", CRED_IMDS_ROLE_PATH);
        goto done;
    }
    buf_printf(&target, CRED_IMDS_ROLE_PATH "%s", role);
    http_response_free(&resp);

    if (cred_imds_call(host, port, "GET", target.data, &auth, timeout_ms, &resp, err, errlen) < 0)
        goto done;
    char e[256];
    if (aws_credentials_from_imds_json(resp.body.data, resp.body.len, out, e, sizeof e) < 0) {
        err_setf(err, errlen, "GET %s: %s", target.data, e);
        goto done;
    }
    rc = 0;
done:
    if (resp.body.data)
        memset(resp.body.data, 0, resp.body.len);
    http_response_free(&resp);
    if (token.data)
        memset(token.data, 0, token.len);
    buf_free(&token);
    buf_free(&target);
    return rc;
}

static int cred_from_instance_role(const aws_credential_source *src, char *const *envp, aws_credentials *out,
                                   buf *notes)
{
    /* The endpoint: the source's, else AWS_EC2_METADATA_SERVICE_ENDPOINT (as the SDKs read it),
     * else the link-local default. */
    const char *endpoint = src && src->imds_endpoint ? src->imds_endpoint : cred_env(envp, "AWS_EC2_METADATA_SERVICE_ENDPOINT");
    if (!endpoint)
        endpoint = CRED_IMDS_DEFAULT;
    const char *disabled = cred_env(envp, "AWS_EC2_METADATA_DISABLED");
    if (!*endpoint) {
        cred_note(notes, "instance role: skipped (no IMDS endpoint)");
        return CRED_NONE;
    }
    if (disabled && strcasecmp(disabled, "true") == 0) {   /* as the AWS SDKs honour it */
        cred_note(notes, "instance role: skipped (AWS_EC2_METADATA_DISABLED=true)");
        return CRED_NONE;
    }
    int timeout_ms = src && src->imds_timeout_ms > 0 ? src->imds_timeout_ms : 1000;
    char host[256], port[16], e[512];
    if (cred_url_parse(endpoint, host, sizeof host, port, sizeof port, NULL, e, sizeof e) < 0 ||
        cred_imds_fetch(host, port, timeout_ms, out, e, sizeof e) < 0) {
        cred_note(notes, "instance role (IMDS %s): %s", endpoint, e);
        return CRED_NONE;
    }
    return CRED_FOUND;
}

/* Hosts that AWS_CONTAINER_CREDENTIALS_FULL_URI may name over http, as the AWS SDKs allow:
 * loopback (localhost, 127.0.0.0/8, ::1) and the ECS and EKS Pod Identity agents. Literal
 * addresses only (and "localhost"): a name is not resolved, so it cannot be made to point
 * elsewhere between the check and the connection. */
static int cred_container_host_allowed(const char *host)
{
    char h[64];
    size_t n = strlen(host);
    if (strcasecmp(host, "localhost") == 0)
        return 1;
    if (host[0] == '[' && n >= 2 && host[n - 1] == ']' && n - 2 < sizeof h) {
        memcpy(h, host + 1, n - 2);
        h[n - 2] = '\0';
    } else if (n < sizeof h) {
        memcpy(h, host, n + 1);
    } else {
        return 0;
    }
    struct in_addr a4;
    struct in6_addr a6, eks6;
    if (inet_pton(AF_INET, h, &a4) == 1)
        return (ntohl(a4.s_addr) >> 24) == 127 || strcmp(h, "169.254.170.2") == 0 ||
               strcmp(h, "169.254.170.23") == 0;
    if (inet_pton(AF_INET6, h, &a6) == 1 && inet_pton(AF_INET6, "fd00:ec2::23", &eks6) == 1)
        return IN6_IS_ADDR_LOOPBACK(&a6) || memcmp(&a6, &eks6, sizeof a6) == 0;
    return 0;
}

/* The Authorization value for the container endpoint into token ("" when none is configured):
 * the file named by AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE (read on every fetch: EKS rotates it),
 * else AWS_CONTAINER_AUTHORIZATION_TOKEN. 0, or -1 with err (never the token itself). */
static int cred_container_token(char *const *envp, buf *token, char *err, size_t errlen)
{
    const char *file = cred_env(envp, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
    const char *value = cred_env(envp, "AWS_CONTAINER_AUTHORIZATION_TOKEN");
    const char *what = "AWS_CONTAINER_AUTHORIZATION_TOKEN";
    if (file && *file) {
        char *text = cred_read_file(file);
        if (!text)
            return err_setf(err, errlen, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE %s: %s", file, strerror(errno));
        char *t = text;
        while (*t == ' ' || *t == '\t' || *t == '\r' || *t == '\n')
            t++;
        size_t n = strlen(t);
        while (n && (t[n - 1] == ' ' || t[n - 1] == '\t' || t[n - 1] == '\r' || t[n - 1] == '\n'))
            n--;
        buf_append(token, t, n);
        memset(text, 0, strlen(text));
        free(text);
        if (!token->len)
            return err_setf(err, errlen, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE %s is empty", file);
        what = "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE";
    } else if (value && *value) {
        buf_puts(token, value);
    } else {
        buf_puts(token, "");
    }
    if (token->data && (token->len != strlen(token->data) || strpbrk(token->data, "\r\n")))
        return err_setf(err, errlen, "%s: the token contains a line break or a NUL byte", what);
    return 0;
}

/* GET the container credentials document from host:port target. 0, or -1 with err. */
static int cred_container_fetch(const char *host, const char *port, const char *target, const char *auth,
                                int timeout_ms, aws_credentials *out, char *err, size_t errlen)
{
    http_header hdr[2] = {{"Accept", "application/json"}, {"Authorization", auth}};
    http_response resp = {0};
    int rc = -1;
    if (cred_http_call(host, port, "GET", target, hdr, *auth ? 2 : 1, timeout_ms, &resp, err, errlen) == 0) {
        char e[256];
        if (aws_credentials_from_imds_json(resp.body.data, resp.body.len, out, e, sizeof e) < 0)
            err_setf(err, errlen, "GET %s: %s", target, e);
        else
            rc = 0;
    }
    if (resp.body.data)
        memset(resp.body.data, 0, resp.body.len);
    http_response_free(&resp);
    return rc;
}

/* ECS task role / EKS Pod Identity: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI (on the ECS agent's
 * address, or src->container_endpoint) wins over AWS_CONTAINER_CREDENTIALS_FULL_URI. Once either
 * is set, a failure is an error (CRED_ERROR), not a fall-through to the instance role. */
static int cred_from_container(const aws_credential_source *src, char *const *envp, aws_credentials *out,
                               buf *notes, char *err, size_t errlen)
{
    const char *base = src && src->container_endpoint ? src->container_endpoint : CRED_CONTAINER_DEFAULT;
    const char *relative = cred_env(envp, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
    const char *full = cred_env(envp, "AWS_CONTAINER_CREDENTIALS_FULL_URI");
    if (!*base) {
        cred_note(notes, "container: skipped (no container endpoint)");
        return CRED_NONE;
    }
    if ((!relative || !*relative) && (!full || !*full)) {
        cred_note(notes, "container: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI and AWS_CONTAINER_CREDENTIALS_FULL_URI "
                         "not set");
        return CRED_NONE;
    }

    buf url = BUF_INIT, token = BUF_INIT;
    char host[256], port[16], e[512];
    const char *path = "";
    int rc = CRED_ERROR;
    if (relative && *relative) {
        buf_printf(&url, "%s%s", base, relative);
        if (relative[0] != '/') {
            err_setf(e, sizeof e, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI must start with '/'");
            goto done;
        }
        if (cred_url_parse(base, host, sizeof host, port, sizeof port, NULL, e, sizeof e) < 0)
            goto done;
        path = relative;
    } else {
        buf_puts(&url, full);
        if (strncasecmp(full, "http://", 7) != 0) {   /* the SDKs' https case is not built in */
            err_setf(e, sizeof e, "AWS_CONTAINER_CREDENTIALS_FULL_URI must be an http:// URL");
            goto done;
        }
        if (cred_url_parse(full, host, sizeof host, port, sizeof port, &path, e, sizeof e) < 0)
            goto done;
        if (!cred_container_host_allowed(host)) {
            err_setf(e, sizeof e, "AWS_CONTAINER_CREDENTIALS_FULL_URI host %s is not allowed over http (only "
                     "loopback addresses and the ECS/EKS container agents, as in the AWS SDKs)", host);
            goto done;
        }
        if (!*path)
            path = "/";
    }
    if (strpbrk(path, " \t\r\n")) {
        err_setf(e, sizeof e, "the path contains white space");
        goto done;
    }
    if (cred_container_token(envp, &token, e, sizeof e) < 0)
        goto done;
    int timeout_ms = src && src->container_timeout_ms > 0 ? src->container_timeout_ms : 1000;
    if (cred_container_fetch(host, port, path, token.data, timeout_ms, out, e, sizeof e) < 0)
        goto done;
    snprintf(out->source, sizeof out->source, "container");
    rc = CRED_FOUND;
done:
    if (rc == CRED_ERROR)
        err_setf(err, errlen, "container credentials (%s): %s (the instance role is not tried when container "
                 "credentials are configured; before: %s)", url.data, e, notes->len ? notes->data : "nothing");
    if (token.data)
        memset(token.data, 0, token.len);
    buf_free(&token);
    buf_free(&url);
    return rc;
}

int aws_credentials_resolve(const aws_credential_source *src, aws_credentials *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    char *const *envp = src && src->envp ? src->envp : environ;
    buf notes = BUF_INIT;
    int rc = cred_from_settings(src, out, &notes, err, errlen);
    if (rc == CRED_NONE)
        rc = cred_from_environment(envp, out, &notes, err, errlen);
    if (rc == CRED_NONE)
        rc = cred_from_shared_file(envp, out, &notes, err, errlen);
    if (rc == CRED_NONE)
        rc = cred_from_container(src, envp, out, &notes, err, errlen);
    if (rc == CRED_NONE)
        rc = cred_from_instance_role(src, envp, out, &notes);
    if (rc == CRED_NONE)
        err_setf(err, errlen, "no AWS credentials found; tried %s", notes.data);
    buf_free(&notes);
    if (rc != CRED_FOUND) {
        memset(out, 0, sizeof *out);
        return -1;
    }
    return 0;
}
