/* Key rotation: re-seals payloads under the key file's active key. Rows are
 * taken in batches with FOR UPDATE SKIP LOCKED and re-sealed in the same
 * transaction, so the service keeps serving (a row being re-sealed is only
 * locked for its batch) and several rotators can run at once. Payloads are
 * opened with the key each row names, so the key file must still hold every
 * key in use: remove an old key only after this reports nothing left, and
 * 24 hours after it stopped being the active one (stored idempotent
 * responses live that long, sealed under the key of their day). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "cm/crypto.h"
#include "cm/db.h"
#include "cm/log.h"
#include "handlers.h"
#include "store.h"
#include "cm/banned.h"

#define BATCH 100

static int reseal(struct cm_db *db, const struct cm_keyring *kr, const struct sec_row *r,
                  struct cm_err *err)
{
    struct sec_key k = {.app = r->app,
                        .account = r->account,
                        .livemode = r->livemode,
                        .scope_type = r->scope_type,
                        .scope_user = r->scope_user,
                        .name = r->name};
    size_t aadlen = 0, plainlen = 0, bloblen = 0;
    unsigned char *aad = sec_aad(&k, &aadlen), *blob = NULL;
    char *plain = NULL;
    const char *key_id = NULL;
    int ret = -1;

    if (aad == NULL)
        return cm_err_internal(err, "out of memory");
    if (cm_open(kr, r->key_id, aad, aadlen, r->blob, r->bloblen, &plain, &plainlen, err) < 0 ||
        cm_seal(kr, aad, aadlen, plain, plainlen, &blob, &bloblen, &key_id, err) < 0 ||
        sec_store_reseal(db, r->id, key_id, blob, bloblen, err) < 0)
        goto out;
    ret = 0;
out:
    if (plain != NULL) {
        OPENSSL_cleanse(plain, plainlen);
        free(plain);
    }
    free(blob);
    free(aad);
    return ret;
}

int sec_rotate_keys(void)
{
    static const struct cm_stmt *const sets[] = {sec_store_stmts, NULL};
    const char *path = getenv("CM_KEY_FILE");
    struct cm_keyring *kr = NULL;
    struct cm_db *db = NULL;
    struct cm_err err;
    long done = 0;
    int status = 1;

    cm_log_setup("svc-secrets", CM_LOG_INFO);
    cm_err_clear(&err);
    if (path == NULL || *path == '\0') {
        cm_log(CM_LOG_ERROR, "--rotate-keys: set CM_KEY_FILE");
        return 1;
    }
    kr = cm_keyring_load(path, &err);
    db = kr ? cm_db_new(NULL, sets, &err) : NULL;
    if (db == NULL)
        goto out;
    for (;;) {
        struct sec_row *rows = NULL;
        size_t n = 0, i;

        if (cm_db_begin(db, &err) < 0 ||
            sec_store_rotation_batch(db, cm_keyring_active_id(kr), BATCH, &rows, &n, &err) < 0)
            goto out;
        for (i = 0; i < n; i++)
            if (reseal(db, kr, &rows[i], &err) < 0) {
                cm_log(CM_LOG_ERROR, "secret %s (key %s) could not be re-sealed", rows[i].id,
                       rows[i].key_id);
                break;
            }
        sec_rows_free(rows, n);
        if (i < n || cm_db_commit(db, &err) < 0)
            goto out;
        done += (long)n;
        if (n < BATCH)
            break;
    }
    cm_log(CM_LOG_INFO, "re-sealed %ld secrets under key %s", done, cm_keyring_active_id(kr));
    status = 0;
out:
    if (status != 0)
        cm_log(CM_LOG_ERROR, "--rotate-keys failed after %ld secrets: %s", done,
               err.detail[0] ? err.detail : err.message);
    if (db != NULL && cm_db_in_tx(db))
        cm_db_rollback(db);
    cm_db_free(db);
    cm_keyring_free(kr);
    return status;
}
