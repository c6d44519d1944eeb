/* aws_credentials_provider: cached credentials, refreshed before expiry (see the header).
 * The source is deep-copied at create (its strings and its envp array), so the caller's
 * aws_credential_source may live on the stack. Secrets are wiped before their memory is freed. */
#include "aws/aws_credentials_provider.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/errbuf.h"

struct aws_credentials_provider {
    aws_credential_source src;   /* strings and envp point at the copies below */
    char *id, *secret, *token, *imds, *container;
    char **envp;                 /* NULL-terminated copy of src->envp; NULL = the live environ */
    aws_credentials cur;
    int have;                    /* cur holds resolved credentials */
};

static void provider_wipe_free(char *s)
{
    if (!s)
        return;
    memset(s, 0, strlen(s));
    free(s);
}

static int provider_dup(char **dst, const char *s)
{
    if (!s)
        return 0;
    return (*dst = strdup(s)) ? 0 : -1;
}

/* A NULL-terminated copy of envp (which may hold AWS_SECRET_ACCESS_KEY). -1 when out of memory. */
static int provider_dup_env(char ***dst, char *const *envp)
{
    if (!envp)
        return 0;
    size_t n = 0;
    while (envp[n])
        n++;
    char **copy = calloc(n + 1, sizeof *copy);
    if (!copy)
        return -1;
    *dst = copy;   /* freed by destroy, even when partly filled */
    for (size_t i = 0; i < n; i++)
        if (!(copy[i] = strdup(envp[i])))
            return -1;
    return 0;
}

aws_credentials_provider *aws_credentials_provider_create(const aws_credential_source *src)
{
    aws_credentials_provider *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    if (src) {
        p->src = *src;
        if (provider_dup(&p->id, src->access_key_id) < 0 || provider_dup(&p->secret, src->secret_access_key) < 0 ||
            provider_dup(&p->token, src->session_token) < 0 || provider_dup(&p->imds, src->imds_endpoint) < 0 ||
            provider_dup(&p->container, src->container_endpoint) < 0 || provider_dup_env(&p->envp, src->envp) < 0) {
            aws_credentials_provider_destroy(p);
            return NULL;
        }
        p->src.access_key_id = p->id;
        p->src.secret_access_key = p->secret;
        p->src.session_token = p->token;
        p->src.imds_endpoint = p->imds;
        p->src.container_endpoint = p->container;
        p->src.envp = p->envp;
    }
    return p;
}

void aws_credentials_provider_destroy(aws_credentials_provider *p)
{
    if (!p)
        return;
    free(p->id);
    provider_wipe_free(p->secret);
    provider_wipe_free(p->token);
    free(p->imds);
    free(p->container);
    for (char **e = p->envp; e && *e; e++)
        provider_wipe_free(*e);
    free(p->envp);
    memset(&p->cur, 0, sizeof p->cur);
    free(p);
}

/* Valid (not expired) at now. */
static int provider_valid(const aws_credentials *c, int64_t now_unix)
{
    return !c->expires_unix || c->expires_unix > now_unix;
}

int aws_credentials_provider_get(aws_credentials_provider *p, int64_t now_unix, aws_credentials *out, char *err,
                                 size_t errlen)
{
    int fresh = p->have && (!p->cur.expires_unix || p->cur.expires_unix - AWS_CREDENTIALS_REFRESH_S > now_unix);
    if (!fresh) {
        aws_credentials next;
        int rc = aws_credentials_resolve(&p->src, &next, err, errlen);
        if (rc == 0 && !provider_valid(&next, now_unix)) {
            /* an expired answer (e.g. a clock far ahead) is a failed refresh, not credentials */
            err_setf(err, errlen, "credentials from the %s expired at %lld (now %lld)", next.source,
                     (long long)next.expires_unix, (long long)now_unix);
            memset(&next, 0, sizeof next);
            rc = -1;
        }
        if (rc == 0) {
            p->cur = next;
            p->have = 1;
            memset(&next, 0, sizeof next);
        } else if (!p->have || !provider_valid(&p->cur, now_unix)) {
            return -1;
        }
    }
    *out = p->cur;
    return 0;
}
