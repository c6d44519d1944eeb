/* aws_msk_iam: the Amazon MSK IAM (SASL/OAUTHBEARER) token (see aws_msk_iam.h).
 * Followed: aws-msk-iam-sasl-signer-js src/getMSKAuthToken.ts (and the Go and Python signers,
 * which agree): SigV4-presign GET https://kafka.<region>.amazonaws.com/ with the query
 * Action=kafka-cluster:Connect, service "kafka-cluster", the region's scope, X-Amz-Expires=900,
 * only "host" signed and the payload hash of an empty body; X-Amz-Security-Token when the
 * credentials have a session token. After signing, User-Agent=<agent> is added to the query (it
 * is not signed), the query is written sorted by name (the JS signer's formatUrl and Go's
 * url.Values.Encode both sort; the Python signer appends User-Agent last, which the broker
 * accepts too), and the whole URL is base64url-encoded without '=' padding. The token expires at
 * (signing time + 900 s) in milliseconds, as the signers compute it from X-Amz-Date. */
#include "aws/aws_msk_iam.h"

#include <mbedtls/base64.h>
#include <stdlib.h>
#include <string.h>

#include "aws/aws_sigv4.h"
#include "core/errbuf.h"

#ifndef SLUICE_VERSION
#define SLUICE_VERSION "0"
#endif

#define MSK_IAM_EXPIRES_S 900
#define MSK_IAM_SERVICE "kafka-cluster"
#define MSK_IAM_AGENT_KEY "User-Agent"

/* Copy the presigned query to out with User-Agent=<agent> placed where its name sorts. */
static void msk_iam_query_with_agent(const char *query, const char *agent, buf *out)
{
    buf pair = BUF_INIT;
    buf_puts(&pair, MSK_IAM_AGENT_KEY "=");
    aws_uri_encode(&pair, agent, 0);
    int placed = 0;
    const char *p = query;
    while (*p) {
        size_t len = strcspn(p, "&");
        size_t nlen = strcspn(p, "=&");
        if (!placed) {
            size_t klen = strlen(MSK_IAM_AGENT_KEY);
            int c = strncmp(p, MSK_IAM_AGENT_KEY, nlen < klen ? nlen : klen);
            if (c > 0 || (c == 0 && nlen > klen)) {
                if (out->len && out->data[out->len - 1] != '?')
                    buf_append(out, "&", 1);
                buf_append(out, pair.data, pair.len);
                placed = 1;
            }
        }
        if (out->len && out->data[out->len - 1] != '?')
            buf_append(out, "&", 1);
        buf_append(out, p, len);
        p += len;
        if (*p == '&')
            p++;
    }
    if (!placed) {
        if (out->len && out->data[out->len - 1] != '?')
            buf_append(out, "&", 1);
        buf_append(out, pair.data, pair.len);
    }
    buf_free(&pair);
}

/* Append base64url (RFC 4648 section 5) of data, without padding. */
static int msk_iam_base64url(const buf *data, buf *out, char *err, size_t errlen)
{
    size_t need = 0, n = 0;
    mbedtls_base64_encode(NULL, 0, &need, (const unsigned char *)data->data, data->len);
    unsigned char *tmp = malloc(need + 1);
    if (!tmp)
        return err_setf(err, errlen, "msk iam: out of memory");
    if (mbedtls_base64_encode(tmp, need + 1, &n, (const unsigned char *)data->data, data->len) != 0) {
        free(tmp);
        return err_setf(err, errlen, "msk iam: base64 encoding failed");
    }
    while (n && tmp[n - 1] == '=')
        n--;
    for (size_t i = 0; i < n; i++) {
        if (tmp[i] == '+')
            tmp[i] = '-';
        else if (tmp[i] == '/')
            tmp[i] = '_';
    }
    buf_append(out, tmp, n);
    free(tmp);
    return 0;
}

static int msk_iam_region_ok(const char *region)
{
    if (!region || !*region)
        return 0;
    for (const char *p = region; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-'))
            return 0;
    return 1;
}

int aws_msk_iam_token_build(const char *region, const aws_credentials *c, int64_t now_unix, const char *user_agent,
                            buf *out, int64_t *expires_ms, char *err, size_t errlen)
{
    if (!msk_iam_region_ok(region))
        return err_setf(err, errlen, "msk iam: bad region '%s'", region ? region : "");
    if (!c || !c->access_key_id[0] || !c->secret_access_key[0])
        return err_setf(err, errlen, "msk iam: no AWS credentials");
    if (!user_agent || !*user_agent)
        return err_setf(err, errlen, "msk iam: no user agent");

    buf host = BUF_INIT, query = BUF_INIT, url = BUF_INIT;
    buf_printf(&host, "kafka.%s.amazonaws.com", region);
    aws_sigv4_request r = {
        .method = "GET",
        .host = host.data,
        .path = "/",
        .query = "Action=kafka-cluster:Connect",
        .region = region,
        .service = MSK_IAM_SERVICE,
        .now_unix = now_unix,
    };
    int rc = -1;
    if (aws_sigv4_presign(&r, c, MSK_IAM_EXPIRES_S, &query, err, errlen) < 0)
        goto done;
    buf_printf(&url, "https://%s/?", host.data);
    msk_iam_query_with_agent(query.data, user_agent, &url);
    if (msk_iam_base64url(&url, out, err, errlen) < 0)
        goto done;
    if (expires_ms)
        *expires_ms = (now_unix + MSK_IAM_EXPIRES_S) * 1000;
    rc = 0;
done:
    buf_free(&host);
    buf_free(&query);
    buf_free(&url);
    return rc;
}

int aws_msk_iam_token(const char *region, const aws_credentials *c, int64_t now_unix, buf *out, int64_t *expires_ms,
                      char *err, size_t errlen)
{
    return aws_msk_iam_token_build(region, c, now_unix, "sluice/" SLUICE_VERSION, out, expires_ms, err, errlen);
}
