/* Idempotency keys. The state machine lives in core.idem_claim() so that
 * the claim, the 24-hour expiry and the advisory lock that turns a concurrent
 * duplicate into "busy" cost one round trip. This file validates the header,
 * hashes the parameters canonically (sorted keys, so a client that encodes
 * its params in another order still matches), and maps the function's
 * answers onto Stripe's idempotency errors. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "cm/idem.h"
#include "cm/sig.h"
#include "cm/banned.h"

_Static_assert(sizeof("tok:") + sizeof(((struct cm_auth *)0)->user_id) +
                       sizeof(((struct cm_auth *)0)->app_id) +
                       sizeof(((struct cm_auth *)0)->account) + sizeof("|live") <=
                   CM_IDEM_OWNER_MAX,
               "CM_IDEM_OWNER_MAX must hold tok:user/app|account|mode");
_Static_assert(sizeof(((struct cm_auth *)0)->key_account) <= sizeof(((struct cm_auth *)0)->app_id),
               "an account key's owner string is never longer than an app key's");

const struct cm_stmt cm_idem_stmts[] = {
    {"cm_idem_claim",
     "SELECT state, status, body FROM core.idem_claim($1, $2, $3, decode($4, 'hex'))", 4},
    /* Fails unless the key was claimed in this transaction (sql/core/0004). */
    {"cm_idem_store", "SELECT core.idem_store($1, $2, $3::integer, $4)", 4},
    /* The DO UPDATE only replaces a record past its 24 hours, which
     * core.idem_claim() would treat as absent anyway. */
    {"cm_idem_store_detached",
     "INSERT INTO core.idempotency AS i (owner, key, route, params_hash, status, body)"
     " VALUES ($1, $2, $3, decode($4, 'hex'), $5, $6)"
     " ON CONFLICT (owner, key) DO UPDATE SET route = excluded.route,"
     " params_hash = excluded.params_hash, status = excluded.status, body = excluded.body,"
     " created = now() WHERE i.created < now() - interval '24 hours'",
     6},
    {"cm_idem_prune", "DELETE FROM core.idempotency WHERE created < now() - interval '24 hours'",
     0},
    {NULL, NULL, 0},
};

int cm_idem_key_check(const char *key, struct cm_err *err)
{
    size_t n = strlen(key);

    if (n == 0)
        return cm_err_set(err, 400, CM_ERR_INVALID_REQUEST, NULL, "",
                          "Invalid idempotency key: must not be empty");
    if (n > CM_IDEM_KEY_MAX)
        return cm_err_set(err, 400, CM_ERR_INVALID_REQUEST, NULL, "",
                          "Invalid idempotency key: must be at most %d characters",
                          CM_IDEM_KEY_MAX);
    for (size_t i = 0; i < n; i++)
        if (key[i] < 0x20 || key[i] > 0x7e)
            return cm_err_set(err, 400, CM_ERR_INVALID_REQUEST, NULL, "",
                              "Invalid idempotency key: must contain only printable ASCII "
                              "characters");
    return 0;
}

static int digest_chunk(const char *buf, size_t size, void *ctx)
{
    return EVP_DigestUpdate(ctx, buf, size) == 1 ? 0 : -1;
}

int cm_idem_params_hash(const json_t *params, unsigned char out[CM_IDEM_HASH_LEN],
                        struct cm_err *err)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned int len = 0;
    int ok;

    if (ctx == NULL)
        return cm_err_internal(err, "idem: EVP_MD_CTX_new failed");
    ok = EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1;
    if (ok && params != NULL)
        ok = json_dump_callback(params, digest_chunk, ctx,
                                JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY) == 0;
    else if (ok)
        ok = EVP_DigestUpdate(ctx, "{}", 2) == 1;
    ok = ok && EVP_DigestFinal_ex(ctx, out, &len) == 1 && len == CM_IDEM_HASH_LEN;
    EVP_MD_CTX_free(ctx);
    return ok ? 0 : cm_err_internal(err, "idem: hashing the params failed");
}

void cm_idem_owner(const struct cm_auth *a, char *out, size_t cap)
{
    /* The principal's kind is part of the name: an app whose id looks like
     * an account id, or one signed-in user and another, never share keys. */
    const char *mode = a->livemode ? "live" : "test";

    if (a->user_id[0])
        snprintf(out, cap, "tok:%s/%s|%s|%s", a->user_id, a->app_id, a->account, mode);
    else if (a->app_id[0])
        snprintf(out, cap, "app:%s|%s|%s", a->app_id, a->account, mode);
    else
        snprintf(out, cap, "acct:%s|%s|%s", a->key_account, a->account, mode);
}

/* Stored statuses are ours (100..599); anything else means a damaged row. */
static int parse_status(const char *s, int *status)
{
    char *end = NULL;
    long v = s ? strtol(s, &end, 10) : 0;

    if (s == NULL || *end != '\0' || v < 100 || v > 599)
        return -1;
    *status = (int)v;
    return 0;
}

static int claim_state(const PGresult *res, enum cm_idem_state *state, int *status, char **body,
                       struct cm_err *err)
{
    const char *st = PQntuples(res) == 1 ? cm_db_value(res, 0, 0) : NULL;
    const char *stored = NULL;

    if (st == NULL)
        return cm_err_internal(err, "idem: core.idem_claim() returned no state");
    if (strcmp(st, "new") == 0) {
        *state = CM_IDEM_NEW;
    } else if (strcmp(st, "mismatch") == 0) {
        *state = CM_IDEM_MISMATCH;
    } else if (strcmp(st, "busy") == 0) {
        *state = CM_IDEM_BUSY;
    } else if (strcmp(st, "replay") == 0) {
        if (parse_status(cm_db_value(res, 0, 1), status) != 0)
            return cm_err_internal(err, "idem: stored status is not an HTTP status");
        stored = cm_db_value(res, 0, 2);
        *body = strdup(stored ? stored : "");
        if (*body == NULL) {
            *status = 0;
            return cm_err_internal(err, "idem: out of memory copying a stored body");
        }
        *state = CM_IDEM_REPLAY;
    } else {
        return cm_err_internal(err, "idem: core.idem_claim() returned state '%s'", st);
    }
    return 0;
}

int cm_idem_claim(struct cm_db *db, const char *owner, const char *key, const char *route,
                  const unsigned char hash[CM_IDEM_HASH_LEN], enum cm_idem_state *state,
                  int *status, char **body, struct cm_err *err)
{
    char hex[2 * CM_IDEM_HASH_LEN + 1];
    PGresult *res = NULL;
    int ret;

    *status = 0;
    *body = NULL;
    /* Outside a transaction the advisory lock would be released at once and
     * the claim committed without a response: the key would read "busy" for
     * a day. */
    if (!cm_db_in_tx(db))
        return cm_err_internal(err, "idem: cm_idem_claim() called outside a transaction");
    cm_hex_encode(hash, CM_IDEM_HASH_LEN, hex);
    res = cm_db_exec(db, "cm_idem_claim", 4, (const char *[]){owner, key, route, hex}, err);
    if (res == NULL) {
        /* Claims insert under the advisory lock, but a detached store (an
         * earlier attempt recording its error) does not take it: a unique
         * violation means such a record landed between the function's check
         * and its insert, so the key is taken. The retry the 409 invites
         * replays it. The transaction is aborted; the caller rolls back. */
        if (strcmp(cm_db_sqlstate(db), "23505") != 0)
            return -1;
        *state = CM_IDEM_BUSY;
        return 0;
    }
    ret = claim_state(res, state, status, body, err);
    PQclear(res);
    return ret;
}

int cm_idem_state_err(enum cm_idem_state st, const char *key, struct cm_err *err)
{
    switch (st) {
    case CM_IDEM_MISMATCH:
        return cm_err_set(err, 400, CM_ERR_IDEMPOTENCY, NULL, NULL,
                          "Keys for idempotent requests can only be used with the same "
                          "parameters they were first used with. Try using a key other than "
                          "'%s' if you meant to execute a different request.",
                          key);
    case CM_IDEM_BUSY:
        return cm_err_set(err, 409, CM_ERR_IDEMPOTENCY, "idempotency_key_in_use", NULL,
                          "There is currently another in-progress request using this "
                          "idempotent key (that probably means you submitted twice, and the "
                          "other request is still going through): %s. Please try again later.",
                          key);
    case CM_IDEM_NEW:
    case CM_IDEM_REPLAY:
        break;
    }
    return cm_err_internal(err, "idem: state %d is not an error", (int)st);
}

int cm_idem_store(struct cm_db *db, const char *owner, const char *key, int status,
                  const char *body, struct cm_err *err)
{
    char st[16];

    if (!cm_db_in_tx(db))
        return cm_err_internal(err, "idem: cm_idem_store() outside a transaction");
    snprintf(st, sizeof(st), "%d", status);
    /* Sent with COMMIT: a key not claimed here fails the commit. */
    return cm_db_defer(db, "cm_idem_store", 4, (const char *[]){owner, key, st, body}, err);
}

int cm_idem_store_detached(struct cm_db *db, const char *owner, const char *key, const char *route,
                           const unsigned char hash[CM_IDEM_HASH_LEN], int status, const char *body,
                           struct cm_err *err)
{
    char hex[2 * CM_IDEM_HASH_LEN + 1];
    char st[16];
    PGresult *res = NULL;

    if (cm_db_in_tx(db))
        return cm_err_internal(err, "idem: cm_idem_store_detached() inside a transaction");
    cm_hex_encode(hash, CM_IDEM_HASH_LEN, hex);
    snprintf(st, sizeof(st), "%d", status);
    res = cm_db_exec(db, "cm_idem_store_detached", 6,
                     (const char *[]){owner, key, route, hex, st, body}, err);
    if (res == NULL)
        return -1;
    PQclear(res);
    return 0;
}

long cm_idem_prune(struct cm_db *db, struct cm_err *err)
{
    PGresult *res = cm_db_exec(db, "cm_idem_prune", 0, NULL, err);
    long n;

    if (res == NULL)
        return -1;
    n = cm_db_affected(res);
    PQclear(res);
    return n;
}
