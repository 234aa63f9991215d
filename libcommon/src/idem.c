/* Idempotency keys. The claim is one statement: the advisory lock that turns
 * a concurrent duplicate into "busy", a look at the stored record (one past
 * its 24 hours counts as none and is deleted), sent ahead with the handler's
 * first statement. The record is written once, with the response, ahead of
 * COMMIT. This file validates the header, hashes the parameters canonically
 * (sorted keys, so a client that encodes its params in another order still
 * matches), and maps the claim's answer onto Stripe's idempotency errors. */
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
    /* One row: locked, same (NULL: no live record), status, body. The lock
     * is taken after the statement's snapshot: a holder that committed in
     * between is missed here and caught by the record's primary key at
     * COMMIT (cm_idem_store). A record with no status is a claim of the
     * pre-0016 schema still running: busy. */
    {"cm_idem_claim",
     "WITH expired AS (DELETE FROM core.idempotency i WHERE i.owner = $1 AND i.key = $2"
     " AND i.created < now() - interval '24 hours')"
     " SELECT pg_try_advisory_xact_lock(hashtextextended($1 || chr(31) || $2, 0)),"
     " i.route = $3 AND i.params_hash = decode($4, 'hex'), i.status, i.body"
     " FROM (SELECT 1) one LEFT JOIN core.idempotency i ON i.owner = $1 AND i.key = $2"
     " AND i.created >= now() - interval '24 hours'",
     4},
    {"cm_idem_store",
     "INSERT INTO core.idempotency (owner, key, route, params_hash, status, body)"
     " VALUES ($1, $2, $3, decode($4, 'hex'), $5::integer, $6)",
     6},
    /* The DO UPDATE only replaces a record past its 24 hours, which
     * the claim (cm_idem_claim) would treat as absent anyway. */
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
    ok = cm_sha256_md() != NULL && EVP_DigestInit_ex(ctx, cm_sha256_md(), NULL) == 1;
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
    const char *locked = PQntuples(res) == 1 ? cm_db_value(res, 0, 0) : NULL;
    const char *same = locked ? cm_db_value(res, 0, 1) : NULL;
    const char *stored = NULL;

    if (locked == NULL)
        return cm_err_internal(err, "idem: the claim returned no row");
    if (strcmp(locked, "t") != 0) {
        *state = CM_IDEM_BUSY;
    } else if (same == NULL) {
        *state = CM_IDEM_NEW;
    } else if (strcmp(same, "t") != 0) {
        *state = CM_IDEM_MISMATCH;
    } else if (cm_db_value(res, 0, 2) == NULL) {
        *state = CM_IDEM_BUSY;
    } else {
        if (parse_status(cm_db_value(res, 0, 2), status) != 0)
            return cm_err_internal(err, "idem: stored status is not an HTTP status");
        stored = cm_db_value(res, 0, 3);
        *body = strdup(stored ? stored : "");
        if (*body == NULL) {
            *status = 0;
            return cm_err_internal(err, "idem: out of memory copying a stored body");
        }
        *state = CM_IDEM_REPLAY;
    }
    return 0;
}

int cm_idem_claim_send(struct cm_db *db, const char *owner, const char *key, const char *route,
                       const unsigned char hash[CM_IDEM_HASH_LEN], struct cm_err *err)
{
    char hex[2 * CM_IDEM_HASH_LEN + 1];

    /* Outside a transaction the advisory lock would be released at once. */
    if (!cm_db_in_tx(db))
        return cm_err_internal(err, "idem: a claim outside a transaction");
    cm_hex_encode(hash, CM_IDEM_HASH_LEN, hex);
    return cm_db_ahead(db, "cm_idem_claim", 4, (const char *[]){owner, key, route, hex}, err);
}

int cm_idem_claim_result(struct cm_db *db, enum cm_idem_state *state, int *status, char **body,
                         struct cm_err *err)
{
    PGresult *res;
    int ret;

    *status = 0;
    *body = NULL;
    if (!cm_db_in_tx(db))
        return cm_err_internal(err, "idem: a claim outside a transaction");
    res = cm_db_ahead_result(db, err);
    if (res == NULL)
        return -1;
    ret = claim_state(res, state, status, body, err);
    PQclear(res);
    return ret;
}

int cm_idem_claim(struct cm_db *db, const char *owner, const char *key, const char *route,
                  const unsigned char hash[CM_IDEM_HASH_LEN], enum cm_idem_state *state,
                  int *status, char **body, struct cm_err *err)
{
    *status = 0;
    *body = NULL;
    if (cm_idem_claim_send(db, owner, key, route, hash, err) < 0)
        return -1;
    return cm_idem_claim_result(db, state, status, body, err);
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

int cm_idem_store(struct cm_db *db, const char *owner, const char *key, const char *route,
                  const unsigned char hash[CM_IDEM_HASH_LEN], int status, const char *body,
                  struct cm_err *err)
{
    char hex[2 * CM_IDEM_HASH_LEN + 1];
    char st[16];

    if (!cm_db_in_tx(db))
        return cm_err_internal(err, "idem: cm_idem_store() outside a transaction");
    cm_hex_encode(hash, CM_IDEM_HASH_LEN, hex);
    snprintf(st, sizeof(st), "%d", status);
    /* Sent with COMMIT, whose failure a duplicate record then causes. */
    return cm_db_defer(db, "cm_idem_store", 6, (const char *[]){owner, key, route, hex, st, body},
                       err);
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
