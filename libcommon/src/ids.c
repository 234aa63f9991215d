/* Random bytes and identifiers. Bytes come from RAND_bytes() through a
 * pool per thread (cm_random_bytes, ids.h); identifiers map them onto the
 * 62 symbols by rejection sampling: a byte is used only when it falls below
 * 248 (the largest multiple of 62 that fits in a byte), so every symbol has
 * probability exactly 1/62. Taking every byte modulo 62 would make the first
 * eight symbols about 25% more likely than the rest. */
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "cm/ids.h"
#include "cm/banned.h"

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

#define ALPHABET_LEN 62
#define ACCEPT_BELOW (256 / ALPHABET_LEN * ALPHABET_LEN) /* 248 */
#define RANDOM_CHUNK 64
#define POOL_LEN     512

/* The bytes not yet handed out are the last `left` of bytes[]. A pool whose
 * generation is not the process's current one is stale: it was filled
 * before a fork() (in the parent, whose pool the child must not reuse). */
struct pool {
    unsigned char bytes[POOL_LEN];
    size_t left;
    unsigned generation;
};

static _Thread_local struct pool pool;
static atomic_uint generation = 1;
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

static void after_fork_in_child(void)
{
    atomic_fetch_add(&generation, 1);
}

static void install_atfork(void)
{
    pthread_atfork(NULL, NULL, after_fork_in_child);
}

int cm_random_bytes(void *out, size_t n)
{
    unsigned char *o = out;
    unsigned now;

    pthread_once(&atfork_once, install_atfork);
    now = atomic_load_explicit(&generation, memory_order_relaxed);
    if (pool.generation != now) {
        OPENSSL_cleanse(pool.bytes, sizeof(pool.bytes));
        pool.left = 0;
        pool.generation = now;
    }
    if (n > POOL_LEN / 4)
        return n <= INT_MAX && RAND_bytes(o, (int)n) == 1 ? 0 : -1;
    while (n > 0) {
        unsigned char *from;
        size_t take;

        if (pool.left == 0) {
            if (RAND_bytes(pool.bytes, POOL_LEN) != 1)
                return -1;
            pool.left = POOL_LEN;
        }
        take = n < pool.left ? n : pool.left;
        from = pool.bytes + POOL_LEN - pool.left;
        memcpy(o, from, take);
        OPENSSL_cleanse(from, take);
        pool.left -= take;
        o += take;
        n -= take;
    }
    return 0;
}

int cm_random_base62(char *out, size_t nchars, struct cm_err *err)
{
    unsigned char chunk[RANDOM_CHUNK];
    size_t have = 0;
    size_t used = 0;
    size_t n = 0;

    while (n < nchars) {
        if (used == have) {
            /* About 3% of bytes are rejected, so ask for a little more than
             * the remainder and refill in the rare case it is not enough. */
            size_t want = nchars - n + (nchars - n) / 16 + 4;

            have = want < sizeof(chunk) ? want : sizeof(chunk);
            used = 0;
            if (cm_random_bytes(chunk, have) != 0) {
                OPENSSL_cleanse(chunk, sizeof(chunk));
                out[0] = '\0';
                return cm_err_internal(err, "RAND_bytes failed");
            }
        }
        if (chunk[used] < ACCEPT_BELOW)
            out[n++] = alphabet[chunk[used] % ALPHABET_LEN];
        used++;
    }
    out[n] = '\0';
    OPENSSL_cleanse(chunk, sizeof(chunk));
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
