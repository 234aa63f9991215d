/* Sealing and opening the personal data of the identity schema (seal.h).
 * table is the bare table name ("sessions", "files", "reports"): the
 * associated data is ("identity.<table>", row id, column), so a sealed value
 * only opens where it was sealed. A table name that already carries a schema
 * is refused rather than silently sealed under "identity.identity.x", which
 * no reader would ever open again. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "cm/crypto.h"
#include "cm/rekey.h"
#include "seal.h"
#include "cm/banned.h"

/* The associated data of (table, row_id, column); new (free()) or NULL with
 * a 500. */
static unsigned char *aad_of(const char *table, const char *row_id, const char *column, size_t *len,
                             struct cm_err *err)
{
    char qualified[96];
    unsigned char *aad;

    if (table == NULL || row_id == NULL || column == NULL || strchr(table, '.') != NULL ||
        (size_t)snprintf(qualified, sizeof(qualified), "identity.%s", table) >= sizeof(qualified)) {
        cm_err_internal(err, "seal: bad table name");
        return NULL;
    }
    aad = cm_aad_build(len, 3, (const char *const[]){qualified, row_id, column});
    if (aad == NULL)
        cm_err_internal(err, "seal: out of memory");
    return aad;
}

int idn_seal(const struct cm_config *cfg, const char *table, const char *row_id, const char *column,
             const void *plain, size_t len, unsigned char **out, size_t *outlen,
             const char **key_id, struct cm_err *err)
{
    unsigned char *aad;
    size_t aadlen = 0;
    int ret;

    if (cfg->keys == NULL)
        return cm_err_internal(err, "svc-identity has no keyring (CM_KEY_FILE)");
    aad = aad_of(table, row_id, column, &aadlen, err);
    if (aad == NULL)
        return -1;
    ret = cm_seal(cfg->keys, aad, aadlen, plain, len, out, outlen, key_id, err);
    free(aad);
    return ret;
}

int idn_open(const struct cm_config *cfg, const char *table, const char *row_id, const char *column,
             const char *key_id, const unsigned char *blob, size_t bloblen, char **plain,
             size_t *plainlen, struct cm_err *err)
{
    unsigned char *aad;
    size_t aadlen = 0;
    int ret;

    if (cfg->keys == NULL)
        return cm_err_internal(err, "svc-identity has no keyring (CM_KEY_FILE)");
    if (key_id == NULL)
        return cm_err_internal(err, "identity.%s %s.%s: sealed value without a key id",
                               table ? table : "?", row_id ? row_id : "?", column ? column : "?");
    aad = aad_of(table, row_id, column, &aadlen, err);
    if (aad == NULL)
        return -1;
    ret = cm_open(cfg->keys, key_id, aad, aadlen, blob, bloblen, plain, plainlen, err);
    free(aad);
    return ret;
}

int idn_reseal(const struct cm_config *cfg, const char *table, const char *row_id,
               const char *column, const char *old_key, const unsigned char *blob, size_t bloblen,
               unsigned char **out, size_t *outlen, const char **key_id, struct cm_err *err)
{
    unsigned char *aad;
    size_t aadlen = 0;
    int ret;

    if (cfg->keys == NULL)
        return cm_err_internal(err, "svc-identity has no keyring (CM_KEY_FILE)");
    if (old_key == NULL)
        return cm_err_internal(err, "identity.%s %s.%s: sealed value without a key id",
                               table ? table : "?", row_id ? row_id : "?", column ? column : "?");
    aad = aad_of(table, row_id, column, &aadlen, err);
    if (aad == NULL)
        return -1;
    ret = cm_rekey_reseal(cfg->keys, old_key, aad, aadlen, blob, bloblen, out, outlen, key_id, err);
    free(aad);
    return ret;
}

int idn_seal_json(const struct cm_config *cfg, const char *table, const char *row_id,
                  const char *column, const json_t *doc, unsigned char **out, size_t *outlen,
                  const char **key_id, struct cm_err *err)
{
    char *text = json_dumps(doc, JSON_COMPACT);
    int ret;

    if (text == NULL)
        return cm_err_internal(err, "seal: cannot serialize %s", column ? column : "?");
    ret = idn_seal(cfg, table, row_id, column, text, strlen(text), out, outlen, key_id, err);
    OPENSSL_cleanse(text, strlen(text));
    free(text);
    return ret;
}

json_t *idn_open_json(const struct cm_config *cfg, const char *table, const char *row_id,
                      const char *column, const char *key_id, const unsigned char *blob,
                      size_t bloblen, struct cm_err *err)
{
    char *plain = NULL;
    size_t len = 0;
    json_t *doc;

    if (idn_open(cfg, table, row_id, column, key_id, blob, bloblen, &plain, &len, err) < 0)
        return NULL;
    /* The error text could quote the data: it is not passed on. */
    doc = json_loadb(plain, len, JSON_REJECT_DUPLICATES, NULL);
    OPENSSL_cleanse(plain, len);
    free(plain);
    if (doc == NULL)
        cm_err_internal(err, "identity.%s %s.%s: sealed value is not JSON", table, row_id, column);
    return doc;
}
