/* Random identifiers. Bytes come from RAND_bytes() and are mapped onto the
 * 62 symbols by rejection sampling: a byte is used only when it falls below
 * 248 (the largest multiple of 62 that fits in a byte), so every symbol has
 * probability exactly 1/62. Taking every byte modulo 62 would make the first
 * eight symbols about 25% more likely than the rest. */
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "cm/ids.h"
#include "cm/banned.h"

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

#define ALPHABET_LEN 62
#define ACCEPT_BELOW (256 / ALPHABET_LEN * ALPHABET_LEN) /* 248 */
#define RANDOM_CHUNK 64

int cm_random_base62(char *out, size_t nchars, struct cm_err *err)
{
    unsigned char pool[RANDOM_CHUNK];
    size_t have = 0;
    size_t used = 0;
    size_t n = 0;

    while (n < nchars) {
        if (used == have) {
            /* About 3% of bytes are rejected, so ask for a little more than
             * the remainder and refill in the rare case it is not enough. */
            size_t want = nchars - n + (nchars - n) / 16 + 4;

            have = want < sizeof(pool) ? want : sizeof(pool);
            used = 0;
            if (RAND_bytes(pool, (int)have) != 1) {
                OPENSSL_cleanse(pool, sizeof(pool));
                out[0] = '\0';
                return cm_err_internal(err, "RAND_bytes failed");
            }
        }
        if (pool[used] < ACCEPT_BELOW)
            out[n++] = alphabet[pool[used] % ALPHABET_LEN];
        used++;
    }
    out[n] = '\0';
    OPENSSL_cleanse(pool, sizeof(pool));
    return 0;
}

int cm_id_new(char *out, size_t cap, const char *prefix, struct cm_err *err)
{
    size_t plen = strlen(prefix);

    if (cap < plen + CM_ID_RANDOM_LEN + 1)
        return cm_err_internal(err, "ID buffer of %zu bytes too small for prefix '%s'", cap,
                               prefix);
    memcpy(out, prefix, plen);
    if (cm_random_base62(out + plen, CM_ID_RANDOM_LEN, err) != 0) {
        out[0] = '\0';
        return -1;
    }
    return 0;
}
