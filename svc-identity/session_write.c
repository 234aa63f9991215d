/* Client secrets, the re-sealing of one sealed value and the re-keying of a
 * session row (session_write.h). The secret's random part is 32 base62
 * characters (about 190 bits) from OpenSSL's CSPRNG; it is stored only as a
 * SHA-256 for lookups and as a sealed copy bound to its row and column. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "cm/crypto.h"
#include "seal.h"
#include "session_write.h"
#include "cm/banned.h"

/* The sealed columns of identity.sessions, in the order of the statements
 * idn_session_sealed (after key_id) and idn_session_rekey (after id, key). */
static const char *const sealed_columns[] = {"provided_details_sealed", "client_secret_sealed",
                                             "verified_outputs_sealed", "submission_sealed"};
#define NSEALED (sizeof(sealed_columns) / sizeof(sealed_columns[0]))

int idn_client_secret_new(const char *session_id, int livemode, char *out, size_t cap,
                          struct cm_err *err)
{
    char random[IDN_CLIENT_SECRET_RANDOM + 1];
    int n;

    if (cm_random_base62(random, IDN_CLIENT_SECRET_RANDOM, err) < 0)
        return -1;
    n = snprintf(out, cap, "%s_secret_%s_%s", session_id, livemode ? "live" : "test", random);
    OPENSSL_cleanse(random, sizeof(random));
    if (n < 0 || (size_t)n >= cap) {
        if (cap > 0)
            OPENSSL_cleanse(out, cap);
        return cm_err_internal(err, "client secret buffer too small");
    }
    return 0;
}

void idn_client_secret_hash(const char *secret, char hex[2 * CM_SHA256_LEN + 1])
{
    unsigned char md[CM_SHA256_LEN];

    cm_sha256(secret, strlen(secret), md);
    cm_hex_encode(md, sizeof(md), hex);
}

int idn_client_secret_url(const struct cm_config *cfg, const char *secret, char *out, size_t cap)
{
    size_t blen = strlen(cfg->base_url);
    int n;

    /* A base URL written with a trailing slash must not give "//identity". */
    while (blen > 0 && cfg->base_url[blen - 1] == '/')
        blen--;
    n = snprintf(out, cap, "%.*s/identity/verify?client_secret=%s", (int)blen, cfg->base_url,
                 secret);
    return n < 0 || (size_t)n >= cap ? -1 : 0;
}

char *idn_hex(const unsigned char *bytes, size_t len)
{
    char *hex = malloc(2 * len + 1);

    if (hex != NULL)
        cm_hex_encode(bytes, len, hex);
    return hex;
}

unsigned char *idn_unhex(const char *hex, size_t *len)
{
    size_t n = strlen(hex);
    unsigned char *out;

    if (n % 2 != 0)
        return NULL;
    out = malloc(n / 2 ? n / 2 : 1);
    if (out == NULL)
        return NULL;
    if (cm_hex_decode(hex, out, n / 2) < 0) {
        free(out);
        return NULL;
    }
    *len = n / 2;
    return out;
}

int idn_reseal_hex(const struct cm_config *cfg, const char *table, const char *id,
                   const char *column, const char *old_key, const char *hex, char **out,
                   const char **new_key, struct cm_err *err)
{
    unsigned char *blob = NULL, *sealed = NULL;
    size_t bloblen = 0, sealedlen = 0;
    int ret = -1;

    blob = idn_unhex(hex, &bloblen);
    if (blob == NULL) {
        cm_err_internal(err, "identity.%s %s.%s: bad hex", table, id, column);
        goto out;
    }
    if (idn_reseal(cfg, table, id, column, old_key, blob, bloblen, &sealed, &sealedlen, new_key,
                   err) < 0)
        goto out;
    *out = idn_hex(sealed, sealedlen);
    if (*out == NULL) {
        cm_err_internal(err, "out of memory re-sealing identity.%s %s", table, id);
        goto out;
    }
    ret = 0;
out:
    free(blob);
    free(sealed);
    return ret;
}

int idn_session_rekey(struct cm_db *db, const struct cm_config *cfg, const char *session_id,
                      struct cm_err *err)
{
    PGresult *res = NULL, *upd = NULL;
    char *hex[NSEALED] = {NULL};
    const char *old_key, *new_key = NULL;
    int ret = -1;

    if (cfg->keys == NULL)
        return cm_err_internal(err, "svc-identity has no keyring (CM_KEY_FILE)");
    res = cm_db_exec(db, "idn_session_sealed", 1, (const char *[]){session_id}, err);
    if (res == NULL)
        goto out;
    if (PQntuples(res) != 1) {
        cm_err_not_found(err, "verificationsession", session_id, NULL);
        goto out;
    }
    old_key = cm_db_value(res, 0, 0);
    if (old_key == NULL || strcmp(old_key, cm_keyring_active_id(cfg->keys)) == 0) {
        ret = 0; /* nothing sealed yet, or already under the active key */
        goto out;
    }
    for (size_t i = 0; i < NSEALED; i++) {
        const char *v = cm_db_value(res, 0, (int)i + 1);

        if (v != NULL && idn_reseal_hex(cfg, "sessions", session_id, sealed_columns[i], old_key, v,
                                        &hex[i], &new_key, err) < 0)
            goto out;
    }
    upd = cm_db_exec(db, "idn_session_rekey", 6,
                     (const char *[]){session_id, cm_keyring_active_id(cfg->keys), hex[0], hex[1],
                                      hex[2], hex[3]},
                     err);
    if (upd == NULL)
        goto out;
    ret = 0;
out:
    for (size_t i = 0; i < NSEALED; i++)
        free(hex[i]);
    PQclear(upd);
    PQclear(res);
    return ret;
}

int idn_client_secret_issue(struct cm_db *db, const struct cm_config *cfg, const char *session_id,
                            int livemode, char *out, struct cm_err *err)
{
    char secret[IDN_CLIENT_SECRET_MAX];
    char hash[2 * CM_SHA256_LEN + 1];
    unsigned char *sealed = NULL;
    size_t sealedlen = 0;
    const char *key_id = NULL;
    char *hex = NULL;
    PGresult *res = NULL;
    int ret = -1;

    if (idn_client_secret_new(session_id, livemode, secret, sizeof(secret), err) < 0)
        return -1;
    idn_client_secret_hash(secret, hash);
    if (idn_seal(cfg, "sessions", session_id, "client_secret_sealed", secret, strlen(secret),
                 &sealed, &sealedlen, &key_id, err) < 0)
        goto out;
    hex = idn_hex(sealed, sealedlen);
    if (hex == NULL) {
        cm_err_internal(err, "out of memory issuing a client secret");
        goto out;
    }
    res = cm_db_exec(db, "idn_session_secret", 4, (const char *[]){session_id, hash, hex, key_id},
                     err);
    if (res == NULL)
        goto out;
    if (cm_db_affected(res) == 0) {
        ret = 1;
        goto out;
    }
    if (out != NULL)
        memcpy(out, secret, strlen(secret) + 1);
    ret = 0;
out:
    OPENSSL_cleanse(secret, sizeof(secret));
    PQclear(res);
    free(hex);
    free(sealed);
    return ret;
}
