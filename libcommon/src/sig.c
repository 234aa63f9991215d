/* Hashes, MACs and the Stripe-Signature header. The HMAC runs through
 * OpenSSL 3's EVP_MAC so that the signed payload "<t>." + body is fed in two
 * pieces instead of being copied into one buffer. The verifier walks the
 * header twice without allocating: once to find the timestamp and count the
 * v1 candidates, once to compare each candidate with the expected signature.
 * Every candidate is compared, even after a match, so the time taken does
 * not tell which one matched. */
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "cm/sig.h"
#include "cm/banned.h"

#define SIG_HEX_LEN (2 * CM_SHA256_LEN)

static const char *const msg_no_header = "No stripe-signature header value was provided.";
static const char *const msg_no_secret =
    "No webhook secret value was provided. It should start with `whsec_`";
static const char *const msg_extract = "Unable to extract timestamp and signatures from header";
static const char *const msg_scheme = "No signatures found with expected scheme";
static const char *const msg_mismatch =
    "No signatures found matching the expected signature for payload";
static const char *const msg_tolerance = "Timestamp outside the tolerance zone";

/* Fetched once, kept for the process's life (cm_sha256_md in sig.h). */
static EVP_MD *sha256_md;
static EVP_MAC *hmac_mac;
static pthread_once_t fetch_once = PTHREAD_ONCE_INIT;

static void fetch(void)
{
    sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
    hmac_mac = EVP_MAC_fetch(NULL, OSSL_MAC_NAME_HMAC, NULL);
}

const EVP_MD *cm_sha256_md(void)
{
    pthread_once(&fetch_once, fetch);
    return sha256_md;
}

void cm_sha256(const void *data, size_t len, unsigned char out[32])
{
    const EVP_MD *md = cm_sha256_md();

    if (md == NULL || EVP_Digest(data, len, out, NULL, md, NULL) != 1)
        abort();
}

/* HMAC-SHA256 over the concatenation of n pieces. */
static int hmac_pieces(const void *key, size_t keylen, size_t n, const void *const *piece,
                       const size_t *piecelen, unsigned char out[32])
{
    static const unsigned char empty_key[1];
    char digest[] = "SHA256";
    EVP_MAC_CTX *ctx = NULL;
    OSSL_PARAM params[2];
    size_t outlen = 0;
    int ret = -1;

    pthread_once(&fetch_once, fetch);
    if (hmac_mac == NULL)
        goto out;
    ctx = EVP_MAC_CTX_new(hmac_mac);
    if (ctx == NULL)
        goto out;
    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0);
    params[1] = OSSL_PARAM_construct_end();
    /* A NULL key means "keep the previous key" to EVP_MAC_init, and a fresh
     * context has none: an empty key must be passed as a real pointer. */
    if (EVP_MAC_init(ctx, key != NULL ? key : empty_key, keylen, params) != 1)
        goto out;
    for (size_t i = 0; i < n; i++) {
        if (piecelen[i] > 0 && EVP_MAC_update(ctx, piece[i], piecelen[i]) != 1)
            goto out;
    }
    if (EVP_MAC_final(ctx, out, &outlen, CM_SHA256_LEN) != 1 || outlen != CM_SHA256_LEN)
        goto out;
    ret = 0;
out:
    EVP_MAC_CTX_free(ctx);
    return ret;
}

int cm_hmac_sha256(const void *key, size_t keylen, const void *msg, size_t msglen,
                   unsigned char out[32])
{
    return hmac_pieces(key, keylen, 1, (const void *const[]){msg}, (const size_t[]){msglen}, out);
}

void cm_hex_encode(const unsigned char *in, size_t len, char *out)
{
    static const char digits[] = "0123456789abcdef";

    for (size_t i = 0; i < len; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 0x0f];
    }
    out[2 * len] = '\0';
}

int cm_hex_digit(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int cm_hex_decode(const char *hex, unsigned char *out, size_t outlen)
{
    for (size_t i = 0; i < outlen; i++) {
        /* A NUL is not a hex digit, so a short string stops here. */
        int hi = cm_hex_digit(hex[2 * i]);
        int lo = hi < 0 ? -1 : cm_hex_digit(hex[2 * i + 1]);

        if (lo < 0)
            return -1;
        out[i] = (unsigned char)(hi << 4 | lo);
    }
    return hex[2 * outlen] == '\0' ? 0 : -1;
}

/* The lowercase hex HMAC of "<t>." + payload under secret. */
static int sign(const char *secret, long long t, const void *payload, size_t len,
                char hex[SIG_HEX_LEN + 1])
{
    char prefix[24];
    unsigned char mac[CM_SHA256_LEN];
    int n = snprintf(prefix, sizeof(prefix), "%lld.", t);

    if (n < 0 || (size_t)n >= sizeof(prefix))
        return -1;
    if (hmac_pieces(secret, strlen(secret), 2, (const void *const[]){prefix, payload},
                    (const size_t[]){(size_t)n, len}, mac) != 0)
        return -1;
    cm_hex_encode(mac, sizeof(mac), hex);
    OPENSSL_cleanse(mac, sizeof(mac));
    return 0;
}

int cm_sig_header_build(const char *secret, long long t, const void *payload, size_t len, char *out,
                        size_t cap)
{
    char hex[SIG_HEX_LEN + 1];
    int n;

    if (t < 0 || secret == NULL || secret[0] == '\0' || sign(secret, t, payload, len, hex) != 0)
        return -1;
    n = snprintf(out, cap, "t=%lld,v1=%s", t, hex);
    return n < 0 || (size_t)n >= cap ? -1 : 0;
}

int cm_const_eq(const void *a, const void *b, size_t len)
{
    return CRYPTO_memcmp(a, b, len) == 0;
}

/* One comma-separated item of a header, cut as JavaScript's
 * item.split('=') does: the key runs up to the first '=', the value from
 * there to the next '=' or the end of the item. */
struct item {
    const char *key;
    size_t keylen;
    const char *val; /* NULL when the item has no '=' */
    size_t vallen;
};

/* Cuts the item starting at p into *it. Returns the start of the next item,
 * or NULL after the last one. */
static const char *next_item(const char *p, struct item *it)
{
    size_t len = strcspn(p, ",");
    const char *eq = memchr(p, '=', len);

    it->key = p;
    it->keylen = eq != NULL ? (size_t)(eq - p) : len;
    it->val = NULL;
    it->vallen = 0;
    if (eq != NULL) {
        it->val = eq + 1;
        it->vallen = (size_t)(p + len - it->val);
        eq = memchr(it->val, '=', it->vallen);
        if (eq != NULL)
            it->vallen = (size_t)(eq - it->val);
    }
    return p[len] == ',' ? p + len + 1 : NULL;
}

static int item_is(const struct item *it, const char *key)
{
    return it->keylen == strlen(key) && memcmp(it->key, key, it->keylen) == 0;
}

/* A non-negative decimal integer filling val exactly, into *t. */
static int parse_timestamp(const struct item *it, long long *t)
{
    long long v = 0;

    if (it->val == NULL || it->vallen == 0)
        return -1;
    for (size_t i = 0; i < it->vallen; i++) {
        int d = it->val[i] - '0';

        if (d < 0 || d > 9 || v > (LLONG_MAX - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    *t = v;
    return 0;
}

int cm_sig_header_verify(const char *header, const char *secret, const void *payload, size_t len,
                         long long tolerance, long long now, struct cm_err *err)
{
    char expected[SIG_HEX_LEN + 1];
    struct item it;
    const char *p;
    long long t = 0;
    int t_ok = 0;
    size_t candidates = 0;
    int found = 0;

    if (header == NULL || header[0] == '\0')
        return cm_err_set(err, 400, CM_ERR_INVALID_REQUEST, NULL, NULL, "%s", msg_no_header);
    for (p = header; p != NULL;) {
        p = next_item(p, &it);
        if (item_is(&it, "t"))
            t_ok = parse_timestamp(&it, &t) == 0; /* the last "t" wins, as in node */
        else if (item_is(&it, "v1"))
            candidates++;
    }
    if (!t_ok)
        return cm_err_set(err, 400, CM_ERR_INVALID_REQUEST, NULL, NULL, "%s", msg_extract);
    if (candidates == 0)
        return cm_err_set(err, 400, CM_ERR_INVALID_REQUEST, NULL, NULL, "%s", msg_scheme);
    if (secret == NULL || secret[0] == '\0')
        return cm_err_set(err, 400, CM_ERR_INVALID_REQUEST, NULL, NULL, "%s", msg_no_secret);

    if (sign(secret, t, payload, len, expected) != 0)
        return cm_err_internal(err, "HMAC-SHA256 failed while verifying a signature");
    for (p = header; p != NULL;) {
        p = next_item(p, &it);
        if (item_is(&it, "v1") && it.vallen == SIG_HEX_LEN)
            found |= cm_const_eq(it.val, expected, SIG_HEX_LEN);
    }
    if (!found)
        return cm_err_set(err, 400, CM_ERR_INVALID_REQUEST, NULL, NULL, "%s", msg_mismatch);

    /* t >= 0 here, so now - t cannot overflow once t < now. */
    if (tolerance > 0 && t < now && now - t > tolerance)
        return cm_err_set(err, 400, CM_ERR_INVALID_REQUEST, NULL, NULL, "%s", msg_tolerance);
    return 0;
}
