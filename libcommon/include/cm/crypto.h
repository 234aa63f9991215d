/* Encryption at rest: AES-256-GCM envelopes under keys from a key file.
 *
 * Key file format (deploy/keygen.sh writes it):
 *
 *     # comments and blank lines are ignored
 *     k1700000000 3f1c...64 hex characters...9ab0
 *     k1710000000 a7e2...64 hex characters...04d1
 *
 * One key per line: an id of 1 to 32 characters from [A-Za-z0-9_-], blanks
 * (spaces or tabs), then the 32-byte key as 64 hex digits. Leading and
 * trailing blanks and a trailing '\r' are tolerated. The LAST key in the file
 * is the active one, used for every new seal; every key in the file can
 * open. Each row stores the id of the key that sealed it, so rotation is:
 * append a new key (deploy/keygen.sh PATH), restart the services, run the
 * rotation command to re-seal old rows under the new key, then remove the
 * old lines. The file must not be readable or writable by group or others
 * (mode & 077 == 0) and must be a regular file of at most 64 KiB.
 *
 * Nonces are 96 random bits per seal; rotate the key well before 2^32 seals
 * under one key (NIST SP 800-38D's bound for random nonces). */
#ifndef CM_CRYPTO_H
#define CM_CRYPTO_H

#include <stddef.h>

#include "cm/err.h"

#define CM_KEY_ID_MAX    32 /* characters in a key id, NUL not counted */
#define CM_SEAL_NONCE    12
#define CM_SEAL_TAG      16
#define CM_SEAL_OVERHEAD (CM_SEAL_NONCE + CM_SEAL_TAG)

struct cm_keyring;

/* Loads the key file at path. Returns a new keyring (cm_keyring_free()), or
 * NULL with a 500 in *err whose detail names the file and the reason: it
 * cannot be opened or read, is not a regular file, is group- or
 * world-accessible, is too large, has a malformed line (with its line
 * number; key material is never quoted), repeats a key id, or holds no key. */
struct cm_keyring *cm_keyring_load(const char *path, struct cm_err *err);

/* Wipes the keys and frees kr. NULL-safe. */
void cm_keyring_free(struct cm_keyring *kr);

/* The id of the active (last) key. Borrowed, valid until cm_keyring_free(). */
const char *cm_keyring_active_id(const struct cm_keyring *kr);

/* 1 when kr holds a key with this id, else 0. */
int cm_keyring_has(const struct cm_keyring *kr, const char *key_id);

/* Seals plain[0..len) under the active key with associated data
 * aad[0..aadlen) (the row identity, see cm_aad_build()). On success *out is
 * a new buffer (caller free()s) of *outlen = len + CM_SEAL_OVERHEAD bytes:
 * 12-byte random nonce || ciphertext || 16-byte tag, and *key_id_out (when
 * key_id_out is not NULL) is the active id, borrowed like
 * cm_keyring_active_id(). Returns 0, or -1 with a 500 in *err (input over
 * INT_MAX bytes, allocation or OpenSSL failure); the outputs are then left
 * untouched. aad and plain may be NULL when their length is 0. */
int cm_seal(const struct cm_keyring *kr, const void *aad, size_t aadlen, const void *plain,
            size_t len, unsigned char **out, size_t *outlen, const char **key_id_out,
            struct cm_err *err);

/* Opens blob[0..bloblen), sealed by cm_seal() under key_id with the same
 * aad. On success *plain is a new buffer (caller free()s; wipe it first if
 * it matters) holding the *plainlen plaintext bytes and then a NUL not
 * counted in *plainlen. Returns 0, or -1 with a 500 in *err whose detail
 * says why (unknown key id, blob shorter than CM_SEAL_OVERHEAD,
 * authentication failure: wrong key, wrong aad or altered blob; allocation
 * or OpenSSL failure) and never quotes key material or plaintext; the
 * outputs are then left untouched. */
int cm_open(const struct cm_keyring *kr, const char *key_id, const void *aad, size_t aadlen,
            const unsigned char *blob, size_t bloblen, char **plain, size_t *plainlen,
            struct cm_err *err);

/* Builds canonical associated data from nparts NUL-terminated strings: each
 * is written as its 4-byte big-endian length then its bytes, so ("ab", "c")
 * and ("a", "bc") differ. Returns a new buffer (free()) of *outlen bytes, or
 * NULL when a part is NULL or longer than 2^32 - 1 bytes, or on allocation
 * failure. nparts may be 0 (a non-NULL buffer of length 0). */
unsigned char *cm_aad_build(size_t *outlen, size_t nparts, const char *const *parts);

#endif
