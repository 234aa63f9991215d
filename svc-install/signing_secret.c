/* Apps' signing secrets at rest. A secret is AES-256-GCM sealed under the
 * key file's active key with ("install.apps", app id) as associated data, so
 * a sealed secret copied onto another app does not open. The plaintext
 * column only stages a secret an operator or the dev fixture wrote; reading
 * prefers it while it is there, because it is newer than whatever sealed
 * value the row still holds, and `svc-install --seal-signing-secrets` seals
 * it and clears it. The same command re-seals rows under an older key
 * through the shared runner (cm/rekey.h), in batches locked with FOR UPDATE
 * SKIP LOCKED, so it runs beside serving instances (and other sealers)
 * safely. The statements here run rarely (an install, an operator command),
 * so they are sent unprepared. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "cm/crypto.h"
#include "cm/ids.h"
#include "cm/log.h"
#include "cm/rekey.h"
#include "cm/sig.h"
#include "signing_secret.h"
#include "cm/banned.h"

#define PREFIX    "absec_"
#define RANDOMLEN 32

static unsigned char *aad_for(const char *app_id, size_t *len)
{
    const char *parts[] = {"install.apps", app_id};

    return cm_aad_build(len, 2, parts);
}

/* absec_ and 32 letters or digits: what this service issues. */
static int well_formed(const char *s, size_t n)
{
    if (n != sizeof(PREFIX) - 1 + RANDOMLEN || memcmp(s, PREFIX, sizeof(PREFIX) - 1) != 0)
        return 0;
    for (size_t i = sizeof(PREFIX) - 1; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'z') ||
              (s[i] >= 'A' && s[i] <= 'Z')))
            return 0;
    return 1;
}

static void wipe_free(char *p, size_t n)
{
    if (p != NULL) {
        OPENSSL_cleanse(p, n);
        free(p);
    }
}

/* Opens a row's sealed secret (hex blob). New string (wipe_free()) of *len
 * bytes, or NULL with a 500 naming the app, never the secret. */
static char *open_sealed(const struct cm_keyring *kr, const char *app_id, const char *hex,
                         const char *key_id, size_t *len, struct cm_err *err)
{
    size_t aadlen = 0, bloblen = strlen(hex) / 2;
    unsigned char *aad = aad_for(app_id, &aadlen);
    unsigned char *blob = malloc(bloblen ? bloblen : 1);
    char *plain = NULL;

    if (aad == NULL || blob == NULL)
        cm_err_internal(err, "out of memory opening the signing secret of %s", app_id);
    else if (key_id == NULL || cm_hex_decode(hex, blob, bloblen) < 0)
        cm_err_internal(err, "malformed sealed signing secret of %s", app_id);
    else if (cm_open(kr, key_id, aad, aadlen, blob, bloblen, &plain, len, err) < 0)
        cm_log(CM_LOG_ERROR, "the signing secret of %s does not open under key %s", app_id, key_id);
    free(blob);
    free(aad);
    return plain;
}

int inst_signing_secret_get(struct cm_db *db, const struct cm_config *cfg, const char *app_id,
                            char *out, struct cm_err *err)
{
    PGresult *res;
    const char *staged, *sealed;
    char *plain = NULL;
    size_t len = 0;
    int ret = -1;

    res = cm_db_exec_sql(db,
                         "SELECT signing_secret, encode(signing_secret_sealed, 'hex'),"
                         " signing_key_id FROM install.apps WHERE id = $1",
                         1, (const char *[]){app_id}, err);
    if (res == NULL)
        return -1;
    if (PQntuples(res) != 1) {
        cm_err_not_found(err, "app", app_id, NULL);
        goto out;
    }
    staged = cm_db_value(res, 0, 0);
    sealed = cm_db_value(res, 0, 1);
    if (staged != NULL) {
        len = strlen(staged);
        if (len >= INST_SIGNING_SECRET_MAX) {
            cm_err_internal(err, "the staged signing secret of %s is too long", app_id);
            goto out;
        }
        memcpy(out, staged, len + 1);
        ret = 0;
        goto out;
    }
    if (sealed == NULL) {
        cm_err_internal(err, "app %s has no signing secret", app_id);
        goto out;
    }
    if (cfg->keys == NULL) {
        cm_err_internal(err, "svc-install has no keyring (CM_KEY_FILE)");
        goto out;
    }
    plain = open_sealed(cfg->keys, app_id, sealed, cm_db_value(res, 0, 2), &len, err);
    if (plain == NULL)
        goto out;
    if (len >= INST_SIGNING_SECRET_MAX || strlen(plain) != len) {
        cm_err_internal(err, "the signing secret of %s is malformed", app_id);
        goto out;
    }
    memcpy(out, plain, len + 1);
    ret = 0;
out:
    wipe_free(plain, len);
    PQclear(res);
    return ret;
}

/* Seals plain[0..len) for app_id under kr's active key: *hex is the new
 * (free()) hex of the blob, *key_id borrowed from kr. 0, or -1 with a 500. */
static int seal_hex(const struct cm_keyring *kr, const char *app_id, const char *plain, size_t len,
                    char **hex, const char **key_id, struct cm_err *err)
{
    unsigned char *aad, *blob = NULL;
    size_t aadlen = 0, bloblen = 0;
    int ret = -1;

    *hex = NULL;
    aad = aad_for(app_id, &aadlen);
    if (aad == NULL)
        return cm_err_internal(err, "out of memory");
    if (cm_seal(kr, aad, aadlen, plain, len, &blob, &bloblen, key_id, err) < 0)
        goto out;
    *hex = malloc(2 * bloblen + 1);
    if (*hex == NULL) {
        cm_err_internal(err, "out of memory");
        goto out;
    }
    cm_hex_encode(blob, bloblen, *hex);
    ret = 0;
out:
    free(blob);
    free(aad);
    return ret;
}

int inst_signing_secret_new(const struct cm_config *cfg, const char *app_id, char *secret,
                            size_t cap, char **sealed_hex, const char **key_id, struct cm_err *err)
{
    char rnd[RANDOMLEN + 1];

    *sealed_hex = NULL;
    if (cfg->keys == NULL)
        return cm_err_internal(err, "svc-install has no keyring (CM_KEY_FILE)");
    if (cap < sizeof(PREFIX) + RANDOMLEN)
        return cm_err_internal(err, "signing secret buffer too small");
    if (cm_random_base62(rnd, RANDOMLEN, err) < 0)
        return -1;
    snprintf(secret, cap, PREFIX "%s", rnd);
    OPENSSL_cleanse(rnd, sizeof(rnd));
    if (seal_hex(cfg->keys, app_id, secret, strlen(secret), sealed_hex, key_id, err) < 0) {
        OPENSSL_cleanse(secret, cap);
        return -1;
    }
    return 0;
}

/* Seals row i's secret (the staged plaintext, else its sealed value
 * reopened) under the active key and clears the plaintext. */
static int seal_row(struct cm_db *db, const struct cm_config *cfg, const PGresult *rows, int i,
                    struct cm_err *err)
{
    const char *app_id = cm_db_value(rows, i, 0), *staged = cm_db_value(rows, i, 1);
    const char *key_id = NULL;
    size_t len = 0;
    char *plain = NULL, *hex = NULL;
    PGresult *upd = NULL;
    int ret = -1;

    if (staged != NULL) {
        len = strlen(staged);
        plain = strdup(staged);
        if (plain == NULL) {
            cm_err_internal(err, "out of memory");
            goto out;
        }
    } else if ((plain = open_sealed(cfg->keys, app_id, cm_db_value(rows, i, 2),
                                    cm_db_value(rows, i, 3), &len, err)) == NULL) {
        goto out;
    }
    if (!well_formed(plain, len)) {
        cm_err_internal(err, "the signing secret of %s is not absec_ and 32 letters or digits",
                        app_id);
        goto out;
    }
    if (seal_hex(cfg->keys, app_id, plain, len, &hex, &key_id, err) < 0)
        goto out;
    upd = cm_db_exec_sql(db,
                         "UPDATE install.apps SET signing_secret = NULL,"
                         " signing_secret_sealed = decode($2, 'hex'), signing_key_id = $3"
                         " WHERE id = $1",
                         3, (const char *[]){app_id, hex, key_id}, err);
    ret = upd != NULL ? 0 : -1;
out:
    PQclear(upd);
    free(hex);
    wipe_free(plain, len);
    return ret;
}

const struct cm_rekey_job inst_signing_secret_job = {
    .what = "signing secrets",
    .row = "the signing secret of",
    .select = "SELECT id, signing_secret, encode(signing_secret_sealed, 'hex'), signing_key_id"
              " FROM install.apps WHERE signing_secret IS NOT NULL"
              " OR (signing_secret_sealed IS NOT NULL AND signing_key_id IS DISTINCT FROM $1)"
              " ORDER BY id LIMIT $2::integer FOR UPDATE SKIP LOCKED",
    .batch = 100,
    .reseal = seal_row,
    .left = "SELECT count(*) FROM install.apps WHERE signing_secret IS NOT NULL"
            " OR (signing_secret_sealed IS NOT NULL AND signing_key_id IS DISTINCT FROM $1)",
};

int inst_signing_secret_seal_all(void)
{
    static const struct cm_stmt *const no_sets[] = {NULL};
    /* Sealing staged secrets is not a rotation: a row another transaction
     * held throughout is read staged meanwhile and sealed by the next run,
     * so what is left is not counted here (--rotate-keys counts it). */
    struct cm_rekey_job job = inst_signing_secret_job;
    const struct cm_rekey_cmd cmd = {
        .service = "svc-install",
        .name = "--seal-signing-secrets",
        .sets = no_sets,
        .jobs = &job,
        .njobs = 1,
    };

    job.left = NULL;
    return cm_rekey_main(&cmd);
}
