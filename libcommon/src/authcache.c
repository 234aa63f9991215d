/* The per-worker cache of resolved credentials (cm/auth.h). Direct-mapped:
 * a slot per digest prefix, a collision simply replaces. It stores only
 * digests and the resolved struct, never a key, and trusts nothing by
 * itself: every hit must be confirmed by the epoch guard in the request's
 * first flight, so a stale entry costs one retry, never a wrong answer. */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "cm/auth.h"
#include "cm/sig.h"
#include "cm/banned.h"

#define SLOTS 256
/* A cached extension token stops being a hit this long before it expires,
 * so that no skew between this host's clock and PostgreSQL's lets an
 * expired token through: past it, PostgreSQL's now() decides. */
#define TOKEN_MARGIN 30

struct slot {
    int used;
    unsigned char digest[CM_SHA256_LEN];
    struct cm_auth auth;
};

struct cm_auth_cache {
    struct slot slots[SLOTS];
};

/* sha256(key || 0x1f || stripe_account): a key acting for two accounts is
 * two entries. */
static void digest_of(const char *key, const char *acting, unsigned char out[CM_SHA256_LEN])
{
    size_t kl = strlen(key), al = acting ? strlen(acting) : 0;
    char buf[CM_KEY_MAX + 1 + 128];

    if (kl > CM_KEY_MAX)
        kl = CM_KEY_MAX;
    if (al > 127)
        al = 127;
    memcpy(buf, key, kl);
    buf[kl] = 0x1f;
    if (al)
        memcpy(buf + kl + 1, acting, al);
    cm_sha256(buf, kl + 1 + al, out);
    OPENSSL_cleanse(buf, sizeof(buf));
}

struct cm_auth_cache *cm_auth_cache_new(void)
{
    return calloc(1, sizeof(struct cm_auth_cache));
}

void cm_auth_cache_free(struct cm_auth_cache *c)
{
    free(c);
}

int cm_auth_cache_get(struct cm_auth_cache *c, const char *key, const char *stripe_account,
                      long long now, struct cm_auth *out)
{
    unsigned char d[CM_SHA256_LEN];
    struct slot *s;

    if (c == NULL)
        return 0;
    digest_of(key, stripe_account && *stripe_account ? stripe_account : NULL, d);
    s = &c->slots[d[0]];
    if (!s->used || CRYPTO_memcmp(s->digest, d, sizeof(d)) != 0)
        return 0;
    if (s->auth.expires_at != 0 && s->auth.expires_at - TOKEN_MARGIN <= now) {
        s->used = 0;
        return 0;
    }
    *out = s->auth;
    return 1;
}

void cm_auth_cache_put(struct cm_auth_cache *c, const char *key, const char *stripe_account,
                       const struct cm_auth *a)
{
    unsigned char d[CM_SHA256_LEN];
    struct slot *s;

    if (c == NULL)
        return;
    digest_of(key, stripe_account && *stripe_account ? stripe_account : NULL, d);
    s = &c->slots[d[0]];
    memcpy(s->digest, d, sizeof(d));
    s->auth = *a;
    s->used = 1;
}

void cm_auth_cache_clear(struct cm_auth_cache *c)
{
    if (c != NULL)
        memset(c, 0, sizeof(*c));
}
