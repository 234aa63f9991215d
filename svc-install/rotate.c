/* Key rotation for svc-install (rotate.h) through the shared runner
 * (cm/rekey.h). Signing secrets have their own job (signing_secret.c); this
 * file adds the webhook endpoints' whsec_ secrets, sealed with the endpoint
 * id as associated data (webhooks.c seals, delivery.c opens). Serving
 * instances, their delivery workers and other rotators carry on beside it,
 * and exit status 0 means nothing is left under another key: the old key may
 * go. */
#include <stdlib.h>
#include <string.h>

#include "cm/crypto.h"
#include "cm/rekey.h"
#include "cm/sig.h"
#include "rotate.h"
#include "signing_secret.h"
#include "cm/banned.h"

/* Re-seals row i of a batch (id, secret_key_id, hex of secret_sealed). */
static int reseal_endpoint(struct cm_db *db, const struct cm_config *cfg, const PGresult *rows,
                           int i, struct cm_err *err)
{
    const char *id = cm_db_value(rows, i, 0), *old_key = cm_db_value(rows, i, 1);
    const char *hex = cm_db_value(rows, i, 2), *new_key = NULL;
    size_t aadlen = 0, bloblen = strlen(hex) / 2, sealedlen = 0;
    unsigned char *aad = cm_aad_build(&aadlen, 1, (const char *const[]){id});
    unsigned char *blob = malloc(bloblen ? bloblen : 1), *sealed = NULL;
    char *sealed_hex = NULL;
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
    if (cm_rekey_reseal(cfg->keys, old_key, aad, aadlen, blob, bloblen, &sealed, &sealedlen,
                        &new_key, err) < 0)
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
    PQclear(upd);
    free(sealed_hex);
    free(sealed);
    free(blob);
    free(aad);
    return ret;
}

int inst_rotate_keys(void)
{
    static const struct cm_stmt *const no_sets[] = {NULL};
    /* Deleted endpoints keep their rows and sealed secrets: re-sealed too. */
    const struct cm_rekey_job jobs[] = {
        inst_signing_secret_job,
        {
            .what = "webhook endpoint secrets",
            .row = "webhook endpoint",
            .select = "SELECT id, secret_key_id, encode(secret_sealed, 'hex')"
                      " FROM core.webhook_endpoints WHERE secret_key_id <> $1"
                      " ORDER BY id LIMIT $2::integer FOR UPDATE SKIP LOCKED",
            .batch = 100,
            .reseal = reseal_endpoint,
            .left = "SELECT count(*) FROM core.webhook_endpoints WHERE secret_key_id <> $1",
        },
    };
    const struct cm_rekey_cmd cmd = {
        .service = "svc-install",
        .name = "--rotate-keys",
        .sets = no_sets,
        .jobs = jobs,
        .njobs = sizeof(jobs) / sizeof(jobs[0]),
    };

    return cm_rekey_main(&cmd);
}
