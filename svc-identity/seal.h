/* Sealing the personal data of the identity schema. Every *_sealed column is
 * AES-256-GCM (cm_seal) under the keyring's active key, with the associated
 * data ("identity.<table>", row id, column) so that a value copied to another
 * row or column fails to open. Values are JSON documents or raw bytes. */
#ifndef IDN_SEAL_H
#define IDN_SEAL_H

#include <jansson.h>
#include <stddef.h>

#include "cm/config.h"
#include "cm/err.h"

/* Seals plain[0..len) for table.column of row_id. *out is new (free()),
 * *outlen bytes; *key_id is borrowed from cfg->keys. 0, or -1 with a 500. */
int idn_seal(const struct cm_config *cfg, const char *table, const char *row_id, const char *column,
             const void *plain, size_t len, unsigned char **out, size_t *outlen,
             const char **key_id, struct cm_err *err);

/* Opens what idn_seal() made. *plain is new (free(); NUL-terminated beyond
 * *plainlen). 0, or -1 with a 500 (never quoting the data). */
int idn_open(const struct cm_config *cfg, const char *table, const char *row_id, const char *column,
             const char *key_id, const unsigned char *blob, size_t bloblen, char **plain,
             size_t *plainlen, struct cm_err *err);

/* Opens blob (sealed under old_key for table.column of row_id) and seals it
 * again under the active key (cm_rekey_reseal(): the plaintext is wiped).
 * *out is new (free()), *outlen bytes; *key_id borrowed from cfg->keys. 0,
 * or -1 with a 500, the outputs untouched. */
int idn_reseal(const struct cm_config *cfg, const char *table, const char *row_id,
               const char *column, const char *old_key, const unsigned char *blob, size_t bloblen,
               unsigned char **out, size_t *outlen, const char **key_id, struct cm_err *err);

/* JSON conveniences: seal the compact dump of a borrowed object; open into a
 * new object (json_decref()). Same errors. */
int idn_seal_json(const struct cm_config *cfg, const char *table, const char *row_id,
                  const char *column, const json_t *doc, unsigned char **out, size_t *outlen,
                  const char **key_id, struct cm_err *err);
json_t *idn_open_json(const struct cm_config *cfg, const char *table, const char *row_id,
                      const char *column, const char *key_id, const unsigned char *blob,
                      size_t bloblen, struct cm_err *err);

#endif
