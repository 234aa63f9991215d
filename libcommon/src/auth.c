/* API key authentication. The header parser is strict and allocation-free:
 * the key travels through fixed buffers, and the copies made of it on the
 * way are wiped after use.
 * Resolution fetches the key row by its public lookup half together with the
 * app's installation and permissions on the account acted for, in a single
 * prepared statement, and then decides in C: the stored sha256 is compared in
 * constant time, so timing reveals nothing about how much of a guessed
 * secret was right. Every failure message shows the key masked. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include "cm/auth.h"
#include "cm/sig.h"
#include "cm/banned.h"

#define NO_KEY_MESSAGE                                                                             \
    "You did not provide an API key. You need to provide your API key in the Authorization "       \
    "header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See "               \
    "https://stripe.com/docs/api#authentication for details, or we can help at "                   \
    "https://support.stripe.com/."

#define MODE_PREFIX_LEN 8  /* "sk_test_" */
#define LOOKUP_LEN      12 /* core.api_keys.lookup */
#define MASK_HEAD       8
#define MASK_TAIL       4
#define ACCOUNT_ID_MAX  64 /* random part of acct_..., as in core.accounts */

/* The longest Basic credentials we decode: a CM_KEY_MAX key plus a
 * generous password. Anything longer is not a credential of ours. */
#define BASIC_B64_MAX 1024
#define BASIC_RAW_MAX (BASIC_B64_MAX / 4 * 3)

enum {
    COL_ID,
    COL_LIVEMODE,
    COL_ACCOUNT,
    COL_APP,
    COL_HASH,
    COL_INSTALLED,
    COL_PERMISSIONS,
    COL_KEY_EPOCH = 7, /* keys: core.auth_epoch as the statement saw it */
    COL_USER = 7,      /* tokens only */
    COL_VALID,         /* tokens only: member and not expired */
    COL_TOKEN_EPOCH,
    COL_TOKEN_EXPIRES,
};

#define TOKEN_PREFIX_LEN 9 /* "uxt_test_" */

/* install.app_access lists active installations only, one row per (app,
 * account, mode), so the join adds at most one row and an uninstall takes
 * effect on the next request. */
const struct cm_stmt cm_auth_stmts[] = {
    {"cm_auth_resolve",
     "SELECT k.id, k.livemode, k.account_id, k.app_id, encode(k.secret_hash, 'hex'),"
     " a.app_id IS NOT NULL, array_to_string(a.permissions, ','),"
     " (SELECT n FROM core.auth_epoch)"
     " FROM core.api_keys k"
     " LEFT JOIN install.app_access a ON a.app_id = k.app_id"
     " AND a.account_id = coalesce($2, k.account_id) AND a.livemode = k.livemode"
     " WHERE k.lookup = $1 AND k.revoked_at IS NULL",
     2},
    /* Extension tokens: the user must still belong to the account and the
     * app still be installed there; expiry is decided here, by the server's
     * clock, like everything else about time. */
    {"cm_auth_token",
     "SELECT t.id, t.livemode, t.account_id, t.app_id, encode(t.secret_hash, 'hex'),"
     " a.app_id IS NOT NULL, array_to_string(a.permissions, ','),"
     " t.user_id, m.user_id IS NOT NULL AND t.expires_at > now(),"
     " (SELECT n FROM core.auth_epoch), floor(extract(epoch FROM t.expires_at))::bigint"
     " FROM core.extension_tokens t"
     " LEFT JOIN install.app_access a ON a.app_id = t.app_id"
     " AND a.account_id = t.account_id AND a.livemode = t.livemode"
     " LEFT JOIN core.memberships m ON m.user_id = t.user_id AND m.account_id = t.account_id"
     " WHERE t.lookup = $1",
     1},
    /* Sent ahead of the next flight of a request authenticated from the
     * cache (cm_auth_cache_get()): fails with CM_AUTH_STALE_SQLSTATE when
     * anything deciding access changed since. */
    {CM_AUTH_GUARD, "SELECT " CM_AUTH_EPOCH_CASE("$1"), 1},
    {NULL, NULL, 0},
};

void cm_auth_mask(const char *key, char *out, size_t cap)
{
    size_t len = key ? strlen(key) : 0;
    size_t shown = len > CM_KEY_MAX ? CM_KEY_MAX : len;
    size_t head = len >= 16 ? MASK_HEAD : 0;
    size_t tail = len >= 16 ? MASK_TAIL : 0;
    size_t n = 0;

    if (cap == 0)
        return;
    for (size_t i = 0; i < shown && n + 1 < cap; i++) {
        unsigned char c;

        if (i < head)
            c = (unsigned char)key[i];
        else if (i >= shown - tail)
            c = (unsigned char)key[len - (shown - i)];
        else
            c = '*';
        out[n++] = c > 0x20 && c < 0x7f ? (char)c : '?';
    }
    out[n] = '\0';
}

static int invalid_key(struct cm_err *err, const char *key)
{
    char masked[CM_KEY_MAX + 1];

    cm_auth_mask(key, masked, sizeof(masked));
    return cm_err_set(err, 401, CM_ERR_INVALID_REQUEST, NULL, NULL, "Invalid API Key provided: %s",
                      masked);
}

static int no_key(struct cm_err *err)
{
    return cm_err_set(err, 401, CM_ERR_INVALID_REQUEST, NULL, NULL, "%s", NO_KEY_MESSAGE);
}

static int is_blank(char c)
{
    return c == ' ' || c == '\t';
}

/* Matches `scheme` case-insensitively at the start of s, followed by blanks
 * or the end. Returns what follows the blanks, or NULL. */
static const char *after_scheme(const char *s, const char *scheme)
{
    size_t n = strlen(scheme);

    if (strncasecmp(s, scheme, n) != 0 || (s[n] != '\0' && !is_blank(s[n])))
        return NULL;
    s += n;
    while (is_blank(*s))
        s++;
    return s;
}

static int b64_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

/* Strict standard base64 of exactly len characters; padding optional but,
 * when present, complete and final. Returns the decoded length, or -1. */
static long b64_decode(const char *in, size_t len, unsigned char *out, size_t cap)
{
    unsigned long acc = 0;
    size_t bits = 0, n = 0, pad = 0;

    for (size_t i = 0; i < len; i++) {
        int v = b64_value((unsigned char)in[i]);

        if (in[i] == '=') {
            pad++;
            continue;
        }
        if (v < 0 || pad > 0)
            return -1;
        acc = (acc << 6 | (unsigned long)v) & 0xffffff;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (n == cap)
                return -1;
            out[n++] = (unsigned char)(acc >> bits);
        }
    }
    /* A lone trailing symbol carries no whole byte; padding must round the
     * input up to a multiple of four exactly. */
    if (bits >= 6 || (pad > 0 && (len % 4 != 0 || pad > 2)))
        return -1;
    return (long)n;
}

/* Fails with the 401 that shows the n-byte candidate src masked. */
static int reject(const char *src, size_t n, struct cm_err *err)
{
    char shown[CM_KEY_MAX + 1];

    n = n > CM_KEY_MAX ? CM_KEY_MAX : n;
    memcpy(shown, src, n);
    shown[n] = '\0';
    invalid_key(err, shown);
    OPENSSL_cleanse(shown, sizeof(shown));
    return -1;
}

/* Copies a candidate key of n bytes into key when it is 1..CM_KEY_MAX
 * printable ASCII characters without blanks, or rejects it. */
static int take_key(const char *src, size_t n, char *key, size_t cap, struct cm_err *err)
{
    int ok = n > 0 && n <= CM_KEY_MAX && n < cap;

    for (size_t i = 0; ok && i < n; i++)
        ok = src[i] > 0x20 && src[i] < 0x7f;
    if (!ok)
        return reject(src, n, err);
    memcpy(key, src, n);
    key[n] = '\0';
    return 0;
}

static int parse_basic(const char *cred, char *key, size_t cap, struct cm_err *err)
{
    unsigned char raw[BASIC_RAW_MAX];
    size_t len = strlen(cred);
    const unsigned char *colon;
    long n;
    int ret;

    while (len > 0 && is_blank(cred[len - 1]))
        len--;
    if (len == 0)
        return no_key(err);
    n = len <= BASIC_B64_MAX ? b64_decode(cred, len, raw, sizeof(raw)) : -1;
    if (n < 0)
        return reject(cred, len, err);
    colon = memchr(raw, ':', (size_t)n);
    if (colon != NULL)
        n = colon - raw;
    ret = n == 0 ? no_key(err) : take_key((const char *)raw, (size_t)n, key, cap, err);
    OPENSSL_cleanse(raw, sizeof(raw));
    return ret;
}

int cm_auth_parse_header(const char *authorization, char *key, size_t cap, struct cm_err *err)
{
    const char *s = authorization;
    const char *cred;
    size_t len;

    if (cap > 0)
        key[0] = '\0';
    if (s == NULL)
        return no_key(err);
    while (is_blank(*s))
        s++;
    if (*s == '\0')
        return no_key(err);
    if ((cred = after_scheme(s, "Basic")) != NULL)
        return parse_basic(cred, key, cap, err);
    cred = after_scheme(s, "Bearer");
    len = strlen(cred ? cred : s);
    while (len > 0 && is_blank((cred ? cred : s)[len - 1]))
        len--;
    if (cred == NULL) /* no scheme we know: the whole value, shown masked */
        return reject(s, len, err);
    if (len == 0)
        return no_key(err);
    return take_key(cred, len, key, cap, err);
}

/* ASCII only, whatever the process locale. */
static int is_base62(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

/* <kind>test_ / <kind>live_ ("sk_", "uxt_") followed by the lookup and a
 * secret, all base62. Returns the mode (0 test, 1 live) or -1; *prefix_len
 * gets the length of the mode prefix. */
static int key_mode(const char *key, const char *kind, size_t *prefix_len)
{
    size_t len = strlen(key), k = strlen(kind);
    int live;

    *prefix_len = k + 5;
    if (len > CM_KEY_MAX || len <= k + 5 + LOOKUP_LEN || memcmp(key, kind, k) != 0)
        return -1;
    if (memcmp(key + k, "test_", 5) == 0)
        live = 0;
    else if (memcmp(key + k, "live_", 5) == 0)
        live = 1;
    else
        return -1;
    for (size_t i = k + 5; i < len; i++)
        if (!is_base62(key[i]))
            return -1;
    return live;
}

static int account_id_ok(const char *id)
{
    size_t n = strlen(id);

    if (n <= 5 || n > 5 + ACCOUNT_ID_MAX || memcmp(id, "acct_", 5) != 0)
        return 0;
    for (size_t i = 5; i < n; i++)
        if (!is_base62(id[i]))
            return 0;
    return 1;
}

static int no_access(struct cm_err *err, const char *key, const char *account)
{
    char masked[CM_KEY_MAX + 1];
    char shown[ACCOUNT_ID_MAX + 8];
    size_t n = 0;

    cm_auth_mask(key, masked, sizeof(masked));
    /* The header value is the client's: printable and short in the message. */
    for (; account[n] != '\0' && n + 1 < sizeof(shown); n++)
        shown[n] = account[n] >= 0x20 && account[n] < 0x7f ? account[n] : '?';
    shown[n] = '\0';
    return cm_err_set(err, 403, CM_ERR_INVALID_REQUEST, "account_invalid", NULL,
                      "The provided key '%s' does not have access to account '%s' (or that "
                      "account does not exist). Application access may have been revoked.",
                      masked, shown);
}

/* Copies a column into a fixed field; a value that does not fit is an
 * inconsistency between schema and struct, not something to truncate. */
static int field(char *dst, size_t cap, const char *src, struct cm_err *err)
{
    size_t n = src ? strlen(src) : 0;

    if (n >= cap)
        return cm_err_internal(err, "auth: value of %zu bytes exceeds field of %zu", n, cap);
    memcpy(dst, src ? src : "", n);
    dst[n] = '\0';
    return 0;
}

static int hash_matches(const char *key, const char *stored_hex)
{
    unsigned char md[CM_SHA256_LEN];
    char mine[2 * CM_SHA256_LEN + 1];
    int ok;

    if (stored_hex == NULL || strlen(stored_hex) != 2 * CM_SHA256_LEN)
        return 0;
    cm_sha256(key, strlen(key), md);
    cm_hex_encode(md, sizeof(md), mine);
    ok = CRYPTO_memcmp(mine, stored_hex, 2 * CM_SHA256_LEN) == 0;
    OPENSSL_cleanse(md, sizeof(md));
    OPENSSL_cleanse(mine, sizeof(mine));
    return ok;
}

static int fill(struct cm_auth *out, const PGresult *res, const char *key, size_t prefix_len,
                const char *acting, struct cm_err *err)
{
    memcpy(out->key_prefix, key, prefix_len + 4);
    out->key_prefix[prefix_len + 4] = '\0';
    out->livemode = strcmp(cm_db_value(res, 0, COL_LIVEMODE), "t") == 0;
    out->installed = strcmp(cm_db_value(res, 0, COL_INSTALLED), "t") == 0;
    if (field(out->key_id, sizeof(out->key_id), cm_db_value(res, 0, COL_ID), err) != 0 ||
        field(out->key_account, sizeof(out->key_account), cm_db_value(res, 0, COL_ACCOUNT), err) !=
            0 ||
        field(out->app_id, sizeof(out->app_id), cm_db_value(res, 0, COL_APP), err) != 0 ||
        field(out->account, sizeof(out->account), acting ? acting : out->key_account, err) != 0 ||
        field(out->permissions, sizeof(out->permissions), cm_db_value(res, 0, COL_PERMISSIONS),
              err) != 0)
        return -1;
    return 0;
}

/* A dashboard extension token: the same checks as a key, against the
 * token's own account, plus membership and expiry. */
static int resolve_token(struct cm_db *db, const char *key, int mode, const char *acting,
                         struct cm_auth *out, struct cm_err *err)
{
    char lookup[LOOKUP_LEN + 1];
    PGresult *res;
    int ret = -1;

    memcpy(lookup, key + TOKEN_PREFIX_LEN, LOOKUP_LEN);
    lookup[LOOKUP_LEN] = '\0';
    res = cm_db_exec(db, "cm_auth_token", 1, (const char *[]){lookup}, err);
    if (res == NULL)
        return -1;
    if (PQntuples(res) != 1 || !hash_matches(key, cm_db_value(res, 0, COL_HASH)) ||
        (strcmp(cm_db_value(res, 0, COL_LIVEMODE), "t") == 0) != mode ||
        strcmp(cm_db_value(res, 0, COL_VALID), "t") != 0) {
        invalid_key(err, key);
        goto out;
    }
    if ((acting != NULL && strcmp(acting, cm_db_value(res, 0, COL_ACCOUNT)) != 0) ||
        strcmp(cm_db_value(res, 0, COL_INSTALLED), "t") != 0) {
        no_access(err, key, acting ? acting : cm_db_value(res, 0, COL_ACCOUNT));
        goto out;
    }
    if (fill(out, res, key, TOKEN_PREFIX_LEN, NULL, err) == 0 &&
        field(out->user_id, sizeof(out->user_id), cm_db_value(res, 0, COL_USER), err) == 0) {
        out->epoch = strtoll(cm_db_value(res, 0, COL_TOKEN_EPOCH), NULL, 10);
        out->expires_at = strtoll(cm_db_value(res, 0, COL_TOKEN_EXPIRES), NULL, 10);
        ret = 0;
    }
out:
    PQclear(res);
    return ret;
}

int cm_auth_resolve(struct cm_db *db, const char *key, const char *stripe_account,
                    struct cm_auth *out, struct cm_err *err)
{
    char lookup[LOOKUP_LEN + 1];
    const char *acting = stripe_account && *stripe_account ? stripe_account : NULL;
    PGresult *res = NULL;
    size_t prefix_len;
    int mode = key_mode(key, "sk_", &prefix_len);
    int ret = -1;

    memset(out, 0, sizeof(*out));
    if (mode < 0 && (mode = key_mode(key, "uxt_", &prefix_len)) >= 0) {
        if (acting != NULL && !account_id_ok(acting))
            return no_access(err, key, acting);
        ret = resolve_token(db, key, mode, acting, out, err);
        if (ret != 0)
            memset(out, 0, sizeof(*out));
        return ret;
    }
    if (mode < 0)
        return invalid_key(err, key);
    if (acting != NULL && !account_id_ok(acting))
        return no_access(err, key, acting);
    memcpy(lookup, key + MODE_PREFIX_LEN, LOOKUP_LEN);
    lookup[LOOKUP_LEN] = '\0';
    res = cm_db_exec(db, "cm_auth_resolve", 2, (const char *[]){lookup, acting}, err);
    if (res == NULL)
        goto out;
    if (PQntuples(res) != 1 || !hash_matches(key, cm_db_value(res, 0, COL_HASH)) ||
        (strcmp(cm_db_value(res, 0, COL_LIVEMODE), "t") == 0) != mode) {
        invalid_key(err, key);
        goto out;
    }
    if (acting != NULL) {
        int own = strcmp(acting, cm_db_value(res, 0, COL_ACCOUNT)) == 0;
        int app = cm_db_value(res, 0, COL_APP) != NULL;
        int installed = strcmp(cm_db_value(res, 0, COL_INSTALLED), "t") == 0;

        if (app ? !installed : !own) {
            no_access(err, key, acting);
            goto out;
        }
    }
    ret = fill(out, res, key, MODE_PREFIX_LEN, acting, err);
    if (ret == 0)
        out->epoch = strtoll(cm_db_value(res, 0, COL_KEY_EPOCH), NULL, 10);
out:
    if (ret != 0)
        memset(out, 0, sizeof(*out));
    PQclear(res);
    return ret;
}

int cm_auth_has_permission(const struct cm_auth *a, const char *perm)
{
    size_t n = strlen(perm);
    const char *p = a->permissions;

    if (a->app_id[0] == '\0' || !a->installed || n == 0)
        return 0;
    while (*p != '\0') {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);

        if (len == n && memcmp(p, perm, n) == 0)
            return 1;
        if (end == NULL)
            break;
        p = end + 1;
    }
    return 0;
}
