/* API key authentication: the Authorization header, the secret key it
 * carries, and the account a request acts for (Stripe-Account).
 *
 * A key is sk_test_<lookup:12><secret> or sk_live_<lookup:12><secret> in
 * base62. Only the lookup half and sha256(whole key) are stored
 * (core.api_keys). Resolving a key, its app's installation on the account
 * acted for and the app's permissions there is one prepared statement. A
 * worker may keep the result in its cache (below) only with the epoch that
 * statement saw, confirmed by a guard in the request's own first flight, so a
 * revoked key or an uninstalled app is still locked out at once. */
#ifndef CM_AUTH_H
#define CM_AUTH_H

#include <stddef.h>

#include "cm/db.h"
#include "cm/err.h"

/* Longest key accepted; longer ones are invalid. A buffer of CM_KEY_MAX + 1
 * bytes holds any key cm_auth_parse_header() returns. */
#define CM_KEY_MAX 128

/* Statements of this module, ended by {NULL}: pass to cm_db_new(). */
extern const struct cm_stmt cm_auth_stmts[];

/* Field sizes hold the longest ids the schema allows (key_ + 64, acct_ + 64,
 * a 128-character app id), so a resolved row always fits. */
struct cm_auth {
    char key_id[72];       /* "key_..." — the actor recorded in audit rows */
    char key_prefix[24];   /* "sk_test_AbCd" (mode prefix + first 4 chars): safe to log/audit */
    int livemode;          /* decided by the key */
    char key_account[72];  /* account that owns the key (an app key's owner account) */
    char app_id[136];      /* app the key belongs to, "" for account keys */
    char account[72];      /* the account acted for: Stripe-Account when given, else key_account */
    int installed;         /* app keys: the app has an active installation on `account` */
    char permissions[512]; /* app keys on an installed account: permission names, comma-separated */
    char user_id[72];      /* extension tokens: the signed-in user; "" for API keys */
    long long epoch;       /* core.auth_epoch when resolved (sql/core/0005) */
    long long expires_at;  /* extension tokens: Unix time they expire; 0 for keys */
};

/* The SQLSTATE of core.auth_guard() when access changed since a cached
 * resolution: the request must be authenticated afresh. */
#define CM_AUTH_STALE_SQLSTATE "CMAU1"

/* The guard statement (cm_db_guard()) that confirms a cached resolution:
 * its one value is the epoch the resolution saw. */
#define CM_AUTH_GUARD "cm_auth_guard"

/* Its check, true while the epoch is still the bigint parameter p ("$1"),
 * else raising CM_AUTH_STALE_SQLSTATE (sql/core/0006). */
#define CM_AUTH_EPOCH_CASE(p)                                                                      \
    "CASE WHEN (SELECT n FROM core.auth_epoch) = " p "::bigint THEN true"                          \
    " ELSE core.auth_stale(" p "::bigint) END"

/* The same check inside a statement that carries the guard itself
 * (cm_db_exec_guarded(db, CM_AUTH_GUARD, ...)), so that a request's first
 * flight is its one statement: AND it into the statement's WHERE, with p
 * the statement's last parameter. True when p is NULL (no guard pending).
 * It reads no row of the statement's own tables, so PostgreSQL plans it as
 * a one-time filter over an InitPlan: evaluated once, before the statement
 * reads or writes anything, whether or not any row matches. */
#define CM_AUTH_GUARD_SQL(p) "(" p "::bigint IS NULL OR (SELECT " CM_AUTH_EPOCH_CASE(p) "))"

/* A worker's cache of resolved credentials, so that a request needs no round
 * trip of its own to authenticate. Entries are keyed by sha256 of the key and
 * the Stripe-Account (no key material is kept), and carry the epoch they were
 * resolved at: a hit is only valid together with cm_db_guard(db,
 * CM_AUTH_GUARD, epoch), which fails the request's next flight when
 * anything deciding access changed (or its first statement, when that
 * statement carries the check: CM_AUTH_GUARD_SQL). Not thread-safe: one per worker. */
struct cm_auth_cache;
struct cm_auth_cache *cm_auth_cache_new(void);    /* new, or NULL; cm_auth_cache_free() */
void cm_auth_cache_free(struct cm_auth_cache *c); /* NULL-safe */
/* 1 and *out filled on a hit (an extension token only until 30 seconds
 * before it expires, by `now`), else 0. */
int cm_auth_cache_get(struct cm_auth_cache *c, const char *key, const char *stripe_account,
                      long long now, struct cm_auth *out);
void cm_auth_cache_put(struct cm_auth_cache *c, const char *key, const char *stripe_account,
                       const struct cm_auth *a);
void cm_auth_cache_clear(struct cm_auth_cache *c);

/* Extracts the key from an Authorization header value into key (cap bytes,
 * at least CM_KEY_MAX + 1): "Bearer <key>" or "Basic base64(<key>:<password>)"
 * with the scheme matched case-insensitively and the password ignored (the
 * colon is optional). Returns 0, or -1 with a 401 invalid_request_error in
 * *err:
 *   - NULL, empty or blank header, or a scheme with no credentials: Stripe's
 *     "You did not provide an API key. ..." message;
 *   - anything else that does not yield a key of 1..CM_KEY_MAX printable
 *     ASCII characters (unknown scheme, bad base64, overlong key, controls):
 *     "Invalid API Key provided: <masked>" (cm_auth_mask()).
 * The key's shape (sk_test_/sk_live_ ...) is checked by cm_auth_resolve(). */
int cm_auth_parse_header(const char *authorization, char *key, size_t cap, struct cm_err *err);

/* Resolves a secret key and the optional Stripe-Account value (NULL or ""
 * when absent) in one round trip and fills *out (zeroed first; on failure it
 * stays zeroed). Returns 0, or -1 with *err:
 *   - 401 invalid_request_error "Invalid API Key provided: <masked>": a key
 *     that is malformed, unknown, revoked, whose hash does not match, whose
 *     stored mode differs from its prefix, or a restricted (rk_) key;
 *   - 403 invalid_request_error code "account_invalid": Stripe-Account is
 *     malformed or not reachable with this key. An account key reaches only
 *     its own account; an app key reaches the accounts where its app has an
 *     active installation in the key's mode;
 *   - 500 on database failure.
 * Dashboard extension tokens (uxt_test_/uxt_live_ + lookup + secret, issued
 * by core.create_extension_token()) resolve the same way, to the token's
 * user, account and app: 401 "Invalid API Key provided" once the token has
 * expired or its user is no longer a member of the account; 403
 * account_invalid when the app is no longer installed there or Stripe-Account
 * names another account. user_id is set only for tokens.
 * Runs inside or outside a transaction. */
int cm_auth_resolve(struct cm_db *db, const char *key, const char *stripe_account,
                    struct cm_auth *out, struct cm_err *err);

/* 1 if the resolved key is an app key installed on the account acted for
 * and holding permission perm (exact name), else 0. Account keys hold no
 * app permissions: callers that accept them check app_id first. */
int cm_auth_has_permission(const struct cm_auth *a, const char *perm);

/* Writes a form of key safe to show or log into out (cap bytes, always
 * NUL-terminated): the first 8 and last 4 characters with stars between
 * (sk_test_********************************abcd). Keys of fewer than 16
 * characters are starred entirely, so the whole key never appears; bytes
 * outside printable ASCII show as '?', and a very long input is shortened
 * to CM_KEY_MAX characters. */
void cm_auth_mask(const char *key, char *out, size_t cap);

#endif
