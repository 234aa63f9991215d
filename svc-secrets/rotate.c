/* Key rotation: re-seals payloads under the key file's active key, through
 * the shared runner (cm/rekey.h), which takes the rows in batches locked FOR
 * UPDATE SKIP LOCKED so the service keeps serving and several rotators can
 * run at once. What is svc-secrets' own is how one payload re-seals: its
 * associated data is the secret's whole address (sec_aad()). Payloads are
 * opened with the key each row names, so the key file must still hold every
 * key in use: remove an old key only after this reports nothing left, and
 * 24 hours after it stopped being the active one (stored idempotent
 * responses live that long, sealed under the key of their day). */
#include <stdlib.h>

#include "cm/rekey.h"
#include "handlers.h"
#include "store.h"
#include "cm/banned.h"

static int reseal(struct cm_db *db, const struct cm_config *cfg, const PGresult *rows, int i,
                  struct cm_err *err)
{
    struct sec_row r;
    struct sec_key k;
    size_t aadlen = 0, bloblen = 0;
    unsigned char *aad = NULL, *blob = NULL;
    const char *key_id = NULL;
    int ret = -1;

    if (sec_store_rotation_row(rows, i, &r, err) < 0)
        return -1;
    k = (struct sec_key){.app = r.app,
                         .account = r.account,
                         .livemode = r.livemode,
                         .scope_type = r.scope_type,
                         .scope_user = r.scope_user,
                         .name = r.name};
    aad = sec_aad(&k, &aadlen);
    if (aad == NULL) {
        cm_err_internal(err, "out of memory");
        goto out;
    }
    if (cm_rekey_reseal(cfg->keys, r.key_id, aad, aadlen, r.blob, r.bloblen, &blob, &bloblen,
                        &key_id, err) < 0 ||
        sec_store_reseal(db, r.id, key_id, blob, bloblen, err) < 0)
        goto out;
    ret = 0;
out:
    free(blob);
    free(aad);
    sec_row_release(&r);
    return ret;
}

int sec_rotate_keys(void)
{
    static const struct cm_stmt *const sets[] = {sec_store_stmts, NULL};
    static const struct cm_rekey_job secrets = {
        .what = "secrets",
        .row = "secret",
        .select = sec_store_rotation_select,
        .batch = 100,
        .reseal = reseal,
        .left = "SELECT count(*) FROM secrets.secrets WHERE key_id <> $1",
    };
    static const struct cm_rekey_cmd cmd = {
        .service = "svc-secrets",
        .name = "--rotate-keys",
        .sets = sets,
        .jobs = &secrets,
        .njobs = 1,
    };

    return cm_rekey_main(&cmd);
}
