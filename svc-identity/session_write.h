/* Writing a session's secrets: client secrets, and keeping every sealed
 * column of a row under the one key its key_id names.
 *
 * A client secret is "<session id>_secret_<test|live>_<32 base62>". Only its
 * SHA-256 (client_secret_hash, for lookups by the hosted page) and a sealed
 * copy (client_secret_sealed, to hand it out again on retrieve) are stored.
 *
 * identity.sessions has one key_id for all its *_sealed columns. Whoever
 * seals a new value into an existing row calls idn_session_rekey() first, in
 * the same transaction: after a key rotation it re-seals the row's other
 * columns under the active key, so that the row's key_id stays true for all
 * of them. */
#ifndef IDN_SESSION_WRITE_H
#define IDN_SESSION_WRITE_H

#include <stddef.h>

#include "cm/config.h"
#include "cm/db.h"
#include "cm/err.h"
#include "cm/ids.h"
#include "cm/sig.h"

#define IDN_CLIENT_SECRET_RANDOM 32
/* session id + "_secret_live_" + the random part + NUL */
#define IDN_CLIENT_SECRET_MAX (CM_ID_MAX + 13 + IDN_CLIENT_SECRET_RANDOM + 1)

/* Writes a new client secret for session_id into out (cap bytes, at least
 * IDN_CLIENT_SECRET_MAX). 0, or -1 with a 500 (cap too small, no random
 * bytes). */
int idn_client_secret_new(const char *session_id, int livemode, char *out, size_t cap,
                          struct cm_err *err);

/* The lowercase hex of SHA-256(secret) into hex (65 bytes): the value of
 * client_secret_hash, as decode(hex, 'hex'). Cannot fail. */
void idn_client_secret_hash(const char *secret, char hex[2 * CM_SHA256_LEN + 1]);

/* The public URL of the hosted page for secret into out (cap bytes):
 * "<base_url>/identity/verify?client_secret=<secret>". 0, or -1 when it does
 * not fit. */
int idn_client_secret_url(const struct cm_config *cfg, const char *secret, char *out, size_t cap);

/* Re-seals every sealed column of session_id under the active key when the
 * row's key_id is another one (locks the row FOR UPDATE either way), on db's
 * current transaction. 0, or -1 with a 500 (404 resource_missing when the
 * row does not exist). */
int idn_session_rekey(struct cm_db *db, const struct cm_config *cfg, const char *session_id,
                      struct cm_err *err);

/* Issues a new client secret for a session in requires_input (not redacted)
 * and stores its hash and sealed copy; the caller has run
 * idn_session_rekey(). The secret is written to out (IDN_CLIENT_SECRET_MAX
 * bytes) when out is not NULL. 1 when the session was not in a state to take
 * one (nothing written), 0, or -1 with a 500. */
int idn_client_secret_issue(struct cm_db *db, const struct cm_config *cfg, const char *session_id,
                            int livemode, char *out, struct cm_err *err);

/* Bytes to and from the hex that the statements pass (encode/decode(x,
 * 'hex')). idn_hex: new string (free()) or NULL on allocation failure.
 * idn_unhex: new buffer (free(); at least one byte) of *len bytes, or NULL
 * when hex is malformed or memory runs out. */
char *idn_hex(const unsigned char *bytes, size_t len);
unsigned char *idn_unhex(const char *hex, size_t *len);

/* Opens hex (the sealed table.column of row id, under old_key) and seals it
 * again under cfg->keys' active key: *out is the new hex (free()), *new_key
 * borrowed from cfg->keys. The plaintext is wiped before it is freed. 0, or
 * -1 with a 500 (bad hex, a value that does not open; never quoting it). */
int idn_reseal_hex(const struct cm_config *cfg, const char *table, const char *id,
                   const char *column, const char *old_key, const char *hex, char **out,
                   const char **new_key, struct cm_err *err);

#endif
