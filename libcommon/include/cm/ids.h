/* Object identifiers in Stripe's style: a prefix plus 24 base62 characters
 * ("vs_1Pgc76B7WZ01zgkWBdQi8PTU"), drawn from OpenSSL's CSPRNG. 24 symbols of
 * log2(62) bits each carry about 143 bits, so IDs double as unguessable
 * tokens (client secrets, request ids). */
#ifndef CM_IDS_H
#define CM_IDS_H

#include <stddef.h>

#include "cm/err.h"

/* Random characters after the prefix of every ID. */
#define CM_ID_RANDOM_LEN 24

/* A buffer of this size holds any ID of the project: a prefix of up to 39
 * bytes ("appsecret_", "vs_", "evt_", "req_", "we_", "file_", "vr_", "key_"
 * ...) plus CM_ID_RANDOM_LEN characters and the NUL. */
#define CM_ID_MAX 64

/* Writes prefix followed by CM_ID_RANDOM_LEN characters from [A-Za-z0-9] and
 * a NUL into out (cap bytes). Returns 0, or -1 with a 500 in *err when cap
 * is too small for strlen(prefix) + CM_ID_RANDOM_LEN + 1 (out untouched) or
 * the random generator fails. */
int cm_id_new(char *out, size_t cap, const char *prefix, struct cm_err *err);

/* Writes n bytes from OpenSSL's CSPRNG into out: the source of every random
 * byte of the project (identifiers, secrets, nonces). A call of RAND_bytes
 * costs about the same (1.3 us here, more when threads contend) for 12
 * bytes as for 512, so bytes are drawn 512 at a time into a pool of the
 * calling thread; each is handed out once and wiped from the pool as it
 * goes, and a child process after fork() never uses its parent's pool.
 * Requests larger than a quarter of the pool go to RAND_bytes directly.
 * Returns 0, or -1 when the generator fails (out is then unspecified). */
int cm_random_bytes(void *out, size_t n);

/* Writes exactly nchars uniformly distributed characters from [A-Za-z0-9]
 * and a NUL into out, which must hold nchars + 1 bytes. Returns 0, or -1
 * with a 500 in *err when the random generator fails (out is then an empty
 * string). */
int cm_random_base62(char *out, size_t nchars, struct cm_err *err);

#endif
