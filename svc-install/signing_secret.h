/* Apps' signing secrets (absec_...), which sign install redirects. Stored
 * AES-256-GCM sealed (install.apps.signing_secret_sealed, key id per row,
 * the app id as associated data); an operator or the dev fixture may write a
 * plaintext one into install.apps.signing_secret, which
 * `svc-install --seal-signing-secrets` seals and clears. */
#ifndef INST_SIGNING_SECRET_H
#define INST_SIGNING_SECRET_H

#include <stddef.h>

#include "cm/config.h"
#include "cm/db.h"
#include "cm/err.h"
#include "cm/rekey.h"

/* Longest signing secret, with its NUL. */
#define INST_SIGNING_SECRET_MAX 128

/* Writes app_id's current signing secret (NUL-terminated) to out
 * (INST_SIGNING_SECRET_MAX bytes), opened with cfg->keys, on db's current
 * transaction. 0; -1 with a 404 resource_missing (no such app) or a 500 in
 * *err. The secret never reaches a log or an error text. */
int inst_signing_secret_get(struct cm_db *db, const struct cm_config *cfg, const char *app_id,
                            char *out, struct cm_err *err);

/* Makes a new signing secret for app_id: "absec_" + 32 base62 into secret
 * (cap >= INST_SIGNING_SECRET_MAX), sealed the way inst_signing_secret_get()
 * opens it: *sealed_hex is new (free()), the hex of the blob to store in
 * install.apps.signing_secret_sealed; *key_id is borrowed from cfg->keys (for
 * signing_key_id). 0, or -1 with a 500 in *err (secret is then wiped). */
int inst_signing_secret_new(const struct cm_config *cfg, const char *app_id, char *secret,
                            size_t cap, char **sealed_hex, const char **key_id, struct cm_err *err);

/* The signing secrets as a re-seal job (cm/rekey.h), borrowed for the
 * program's life: seals every staged plaintext secret (and clears it) and
 * re-seals every secret not under the active key; a malformed secret fails
 * its batch, the log naming the app, never the value. Its left statement
 * counts what is still staged or under another key. */
extern const struct cm_rekey_job inst_signing_secret_job;

/* The whole of `svc-install --seal-signing-secrets`: inst_signing_secret_job
 * on the key file's active key (CM_KEY_FILE, libpq environment), without the
 * count of rows left. Returns the exit status: 0, or 1 with a message on
 * stderr. */
int inst_signing_secret_seal_all(void);

#endif
