/* Idempotency-Key handling with Stripe's semantics (API.md §7).
 *
 * The record of a key lives in core.idempotency. Inside the request's own
 * transaction the key is claimed (a transaction-scoped advisory try-lock, so
 * a request that finds the key held is answered BUSY rather than run twice,
 * and a look at the stored record), and the record is written once, with the
 * response, in the same transaction as the change: a committed change always
 * has its replayable response and a rolled-back one leaves the key free. The
 * claim costs no round trip of its own (it is sent ahead with the handler's
 * first statement, which may therefore wait on rows the key's holder locked
 * before BUSY is known; it is then rolled back) and the record rides with
 * COMMIT. Records expire after 24 hours. */
#ifndef CM_IDEM_H
#define CM_IDEM_H

#include <stddef.h>

#include <jansson.h>

#include "cm/auth.h"
#include "cm/db.h"
#include "cm/err.h"

/* Statements of this module, ended by {NULL}: pass to cm_db_new(). */
extern const struct cm_stmt cm_idem_stmts[];

/* Longest Idempotency-Key value accepted. */
#define CM_IDEM_KEY_MAX 255

/* Bytes of a parameter hash (sha256). */
#define CM_IDEM_HASH_LEN 32

/* A buffer of this size holds any cm_idem_owner() result. */
#define CM_IDEM_OWNER_MAX 384

enum cm_idem_state {
    CM_IDEM_NEW,      /* claimed: run the request, cm_idem_store() before COMMIT */
    CM_IDEM_REPLAY,   /* send the stored response */
    CM_IDEM_MISMATCH, /* key first used with another route or other parameters */
    CM_IDEM_BUSY,     /* another request holding the key is still running */
};

/* Validates an Idempotency-Key header value: 1..CM_IDEM_KEY_MAX printable
 * ASCII characters (space included). Returns 0, or -1 with a 400
 * invalid_request_error (param "") in *err. */
int cm_idem_key_check(const char *key, struct cm_err *err);

/* sha256 of the canonical serialization of the decoded request params
 * (compact, keys sorted, "expand" included) into out; NULL params hash like
 * an empty object. The serialization is streamed into the digest, so nothing
 * proportional to the params is allocated. Returns 0, or -1 with a 500 in
 * *err when the digest cannot be set up. */
int cm_idem_params_hash(const json_t *params, unsigned char out[CM_IDEM_HASH_LEN],
                        struct cm_err *err);

/* Writes the owner of an idempotency key into out: the principal and the
 * account acted for, "app:<app>|<account>|<mode>", "acct:<key account>|...",
 * or for an extension token "tok:<user>/<app>|..." (cap bytes,
 * CM_IDEM_OWNER_MAX is always enough; a smaller buffer gets a truncated
 * string). */
void cm_idem_owner(const struct cm_auth *a, char *out, size_t cap);

/* Claims key for owner in the current transaction: cm_idem_claim_send()
 * right after cm_db_begin() (the claim travels with the transaction's next
 * statement, cm_db_ahead()), then cm_idem_claim_result() before the
 * transaction commits or its outcome is answered. Statements run in between
 * must be undone when the claim is not CM_IDEM_NEW: the caller then ends the
 * transaction with cm_db_rollback() and answers with the replay or with
 * cm_idem_state_err(). On CM_IDEM_REPLAY, *status and *body (new, free())
 * hold the stored response; otherwise *status is 0 and *body NULL. Both
 * return 0, or -1 with a 500 in *err on database failure or outside a
 * transaction. cm_idem_claim() is the two at once. */
int cm_idem_claim_send(struct cm_db *db, const char *owner, const char *key, const char *route,
                       const unsigned char hash[CM_IDEM_HASH_LEN], struct cm_err *err);
int cm_idem_claim_result(struct cm_db *db, enum cm_idem_state *state, int *status, char **body,
                         struct cm_err *err);
int cm_idem_claim(struct cm_db *db, const char *owner, const char *key, const char *route,
                  const unsigned char hash[CM_IDEM_HASH_LEN], enum cm_idem_state *state,
                  int *status, char **body, struct cm_err *err);

/* Fills *err for a state that ends the request: CM_IDEM_MISMATCH gives a 400
 * idempotency_error, CM_IDEM_BUSY a 409 idempotency_error with code
 * "idempotency_key_in_use" (clients retry 409s), each naming the key. Any
 * other state is a caller bug and gives a 500. Returns -1. */
int cm_idem_state_err(enum cm_idem_state st, const char *key, struct cm_err *err);

/* Stores the response of a key claimed (CM_IDEM_NEW) in the current
 * transaction: the record is written with COMMIT. Should another request
 * have stored the key since the claim looked (it committed between the
 * claim's snapshot and its lock), the COMMIT fails with SQLSTATE 23505 and
 * nothing is committed: answer cm_idem_state_err(CM_IDEM_BUSY), whose retry
 * replays the other's response. Returns 0, or -1 with a 500 in *err (outside
 * a transaction). */
int cm_idem_store(struct cm_db *db, const char *owner, const char *key, const char *route,
                  const unsigned char hash[CM_IDEM_HASH_LEN], int status, const char *body,
                  struct cm_err *err);

/* After the request's transaction was rolled back: records an error response
 * that must still be replayed because the endpoint had started. Runs outside
 * any transaction (autocommit); a live record of the key is left as it is
 * (whoever holds it now wins), an expired one is replaced. Returns 0, or -1
 * with a 500 in *err. */
int cm_idem_store_detached(struct cm_db *db, const char *owner, const char *key, const char *route,
                           const unsigned char hash[CM_IDEM_HASH_LEN], int status, const char *body,
                           struct cm_err *err);

/* Deletes records older than 24 hours (background housekeeping). Returns the
 * number of rows deleted, or -1 with a 500 in *err. */
long cm_idem_prune(struct cm_db *db, struct cm_err *err);

#endif
