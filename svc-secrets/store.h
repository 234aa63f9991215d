/* svc-secrets' storage: every statement on secrets.secrets. Payloads arrive
 * and leave sealed (cm/crypto.h); this layer never sees a plaintext. */
#ifndef SEC_STORE_H
#define SEC_STORE_H

#include <stddef.h>

#include "cm/db.h"
#include "cm/err.h"
#include "cm/ids.h"

extern const struct cm_stmt sec_store_stmts[];

/* Where a secret lives: (app, account, mode, scope) and its name. Borrowed
 * strings; scope_user is "" for the account scope. */
struct sec_key {
    const char *app, *account;
    int livemode;
    const char *scope_type, *scope_user;
    const char *name;
    char name_hash[65]; /* hex sha256(name), filled by sec_key_hash() */
};

void sec_key_hash(struct sec_key *k);

/* A row as read back. blob is set only when the payload was asked for (new,
 * freed by sec_row_release()); key_id always names the row's key. */
struct sec_row {
    char id[CM_ID_MAX];
    long long created;
    long long expires_at; /* -1: none */
    char *app, *account;  /* new */
    int livemode;
    char scope_type[8];
    char *scope_user; /* new; "" for account scope */
    char *name;       /* new */
    char key_id[40];
    unsigned char *blob; /* new; NULL unless the payload was read */
    size_t bloblen;
};
void sec_row_release(struct sec_row *r);

/* Creates or replaces (k's scope + name) with a sealed payload. expires_at
 * -1 for none. Returns 0 with *out filled (no payload), 1 when the scope
 * already holds 10 secrets, -1 with *err. */
int sec_store_put(struct cm_db *db, const struct sec_key *k, const char *new_id, const char *key_id,
                  const unsigned char *blob, size_t bloblen, long long expires_at,
                  struct sec_row *out, struct cm_err *err);

/* The live (unexpired) secret named by k. with_payload reads the sealed
 * payload too. Returns 0 found, 1 absent, -1 with *err. */
int sec_store_find(struct cm_db *db, const struct sec_key *k, int with_payload, struct sec_row *out,
                   struct cm_err *err);

/* Deletes the live secret named by k, returning it (with its payload when
 * with_payload). 0 deleted, 1 absent, -1 with *err. */
int sec_store_delete(struct cm_db *db, const struct sec_key *k, int with_payload,
                     struct sec_row *out, struct cm_err *err);

/* One page of k's scope (k->name unused), newest first. cursor is a secret id
 * of the scope or NULL; after=1 pages past it toward older secrets
 * (starting_after), after=0 toward newer ones (ending_before). Fills rows
 * (new array of *n rows, sec_rows_free()) and *has_more. Returns 0, 1 when
 * the cursor is not a live secret of this scope, -1 with *err. */
int sec_store_list(struct cm_db *db, const struct sec_key *k, const char *cursor, int after,
                   long long limit, int with_payload, struct sec_row **rows, size_t *n,
                   int *has_more, struct cm_err *err);
void sec_rows_free(struct sec_row *rows, size_t n);

/* Deletes up to 1000 expired rows; returns how many, or -1. */
long sec_store_purge(struct cm_db *db, struct cm_err *err);

/* Key rotation (cm/rekey.h): the batch SELECT of rows not sealed under the
 * key id $1, up to $2 of them with their payloads, id first, locked FOR
 * UPDATE SKIP LOCKED; and row i of its result read into *out (with the
 * payload; sec_row_release()), 0 or -1 with a 500 in *err. */
extern const char sec_store_rotation_select[];
int sec_store_rotation_row(const PGresult *res, int i, struct sec_row *out, struct cm_err *err);
int sec_store_reseal(struct cm_db *db, const char *id, const char *key_id,
                     const unsigned char *blob, size_t bloblen, struct cm_err *err);

#endif
