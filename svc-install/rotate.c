/* Key rotation for svc-install (rotate.h). Signing secrets have their own
 * sealer (signing_secret.c); this file adds the webhook endpoints' whsec_
 * secrets, sealed with the endpoint id as associated data (webhooks.c seals,
 * delivery.c opens). Rows are taken in batches locked with FOR UPDATE SKIP
 * LOCKED and re-sealed in the batch's transaction, so serving instances,
 * their delivery workers and other rotators carry on beside it: a reader
 * sees the old or the new (key id, blob) pair, both of which open while the
 * file holds both keys. A row another transaction holds is skipped, so the
 * last step counts what is still under another key and fails when anything
 * is: exit status 0 means the old key may go. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "cm/crypto.h"
#include "cm/db.h"
#include "cm/log.h"
#include "cm/sig.h"
#include "rotate.h"
#include "signing_secret.h"
#include "cm/banned.h"

#define BATCH 100

/* Re-seals row i of a batch (id, secret_key_id, hex of secret_sealed). */
static int reseal_endpoint(struct cm_db *db, const struct cm_keyring *kr, const PGresult *res,
                           int i, struct cm_err *err)
{
    const char *id = cm_db_value(res, i, 0), *old_key = cm_db_value(res, i, 1);
    const char *hex = cm_db_value(res, i, 2), *new_key = NULL;
    size_t aadlen = 0, bloblen = strlen(hex) / 2, plainlen = 0, sealedlen = 0;
    unsigned char *aad = cm_aad_build(&aadlen, 1, (const char *const[]){id});
    unsigned char *blob = malloc(bloblen ? bloblen : 1), *sealed = NULL;
    char *plain = NULL, *sealed_hex = NULL;
    PGresult *upd = NULL;
    int ret = -1;

    if (aad == NULL || blob == NULL) {
        cm_err_internal(err, "out of memory re-sealing endpoint %s", id);
        goto out;
    }
    if (cm_hex_decode(hex, blob, bloblen) < 0) {
        cm_err_internal(err, "endpoint %s: malformed sealed secret", id);
        goto out;
    }
    if (cm_open(kr, old_key, aad, aadlen, blob, bloblen, &plain, &plainlen, err) < 0 ||
        cm_seal(kr, aad, aadlen, plain, plainlen, &sealed, &sealedlen, &new_key, err) < 0)
        goto out;
    sealed_hex = malloc(2 * sealedlen + 1);
    if (sealed_hex == NULL) {
        cm_err_internal(err, "out of memory re-sealing endpoint %s", id);
        goto out;
    }
    cm_hex_encode(sealed, sealedlen, sealed_hex);
    upd = cm_db_exec_sql(db,
                         "UPDATE core.webhook_endpoints SET secret_sealed = decode($2, 'hex'),"
                         " secret_key_id = $3 WHERE id = $1",
                         3, (const char *[]){id, sealed_hex, new_key}, err);
    ret = upd != NULL ? 0 : -1;
out:
    if (ret < 0)
        cm_log(CM_LOG_ERROR, "webhook endpoint %s (key %s) could not be re-sealed", id, old_key);
    if (plain != NULL) {
        OPENSSL_cleanse(plain, plainlen);
        free(plain);
    }
    PQclear(upd);
    free(sealed_hex);
    free(sealed);
    free(blob);
    free(aad);
    return ret;
}

/* One batch in its own transaction. Returns the rows re-sealed (BATCH:
 * there may be more), or -1 with *err. */
static int endpoint_batch(struct cm_db *db, const struct cm_keyring *kr, struct cm_err *err)
{
    char batch[16];
    PGresult *res = NULL;
    int n = -1, i;

    snprintf(batch, sizeof(batch), "%d", BATCH);
    if (cm_db_begin(db, err) < 0)
        return -1;
    res = cm_db_exec_sql(db,
                         "SELECT id, secret_key_id, encode(secret_sealed, 'hex')"
                         " FROM core.webhook_endpoints WHERE secret_key_id <> $1"
                         " ORDER BY id LIMIT $2::integer FOR UPDATE SKIP LOCKED",
                         2, (const char *[]){cm_keyring_active_id(kr), batch}, err);
    if (res == NULL)
        goto out;
    for (i = 0; i < PQntuples(res); i++)
        if (reseal_endpoint(db, kr, res, i, err) < 0)
            goto out;
    if (cm_db_commit(db, err) < 0)
        goto out;
    n = PQntuples(res);
out:
    if (n < 0 && cm_db_in_tx(db))
        cm_db_rollback(db);
    PQclear(res);
    return n;
}

/* Rows still under another key, signing secrets and endpoint secrets (and
 * staged plaintext signing secrets): what some transaction held while its
 * batch ran. 0 and the two counts, or -1 with *err. */
static int rows_left(struct cm_db *db, const struct cm_keyring *kr, long *apps, long *endpoints,
                     struct cm_err *err)
{
    PGresult *res = cm_db_exec_sql(
        db,
        "SELECT (SELECT count(*) FROM install.apps WHERE signing_secret IS NOT NULL"
        " OR (signing_secret_sealed IS NOT NULL AND signing_key_id IS DISTINCT FROM $1)),"
        " (SELECT count(*) FROM core.webhook_endpoints WHERE secret_key_id <> $1)",
        1, (const char *[]){cm_keyring_active_id(kr)}, err);

    if (res == NULL)
        return -1;
    *apps = strtol(cm_db_value(res, 0, 0), NULL, 10);
    *endpoints = strtol(cm_db_value(res, 0, 1), NULL, 10);
    PQclear(res);
    return 0;
}

/* Re-seals the endpoint secrets, then checks that nothing is left. */
static int rotate_endpoints(const char *path)
{
    static const struct cm_stmt *const no_sets[] = {NULL};
    struct cm_keyring *kr = NULL;
    struct cm_db *db = NULL;
    struct cm_err err;
    long done = 0, apps = 0, endpoints = 0;
    int n, status = 1;

    cm_err_clear(&err);
    kr = cm_keyring_load(path, &err);
    db = kr ? cm_db_new(NULL, no_sets, &err) : NULL;
    if (db == NULL)
        goto fail;
    do {
        n = endpoint_batch(db, kr, &err);
        if (n < 0)
            goto fail;
        done += n;
    } while (n == BATCH);
    cm_log(CM_LOG_INFO, "re-sealed %ld webhook endpoint secrets under key %s", done,
           cm_keyring_active_id(kr));
    if (rows_left(db, kr, &apps, &endpoints, &err) < 0)
        goto fail;
    if (apps + endpoints > 0) {
        cm_log(CM_LOG_ERROR,
               "still under older keys: %ld signing secrets, %ld webhook endpoint secrets"
               " (locked by other transactions): run --rotate-keys again",
               apps, endpoints);
        goto out;
    }
    status = 0;
    goto out;
fail:
    cm_log(CM_LOG_ERROR, "--rotate-keys failed after %ld webhook endpoint secrets: %s", done,
           err.detail[0] ? err.detail : err.message);
out:
    cm_db_free(db);
    cm_keyring_free(kr);
    return status;
}

int inst_rotate_keys(void)
{
    int status;

    /* Checks CM_KEY_FILE, and logs its own count or failure. */
    status = inst_signing_secret_seal_all();
    if (status == 0)
        status = rotate_endpoints(getenv("CM_KEY_FILE"));
    cm_log_flush();
    return status;
}
