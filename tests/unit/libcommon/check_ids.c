/* Tests for cm/ids.h: shape of IDs, uniqueness, an unbiased alphabet, and
 * the random pool: every byte handed out once, across the pool's refills,
 * and never the parent's bytes in a child after fork(). */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cm/ids.h"
#include "cm/banned.h"

static int all_base62(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char c = s[i];

        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')))
            return 0;
    }
    return 1;
}

static const char *const prefixes[] = {
    "appsecret_",
    "vs_",
    "vr_",
    "evt_",
    "we_",
    "req_",
    "file_",
    "key_",
    "",
    /* 39 characters: the longest prefix CM_ID_MAX allows */
    "a_prefix_of_thirty_nine_characters_xxx_",
};

START_TEST(test_id_shape)
{
    const char *prefix = prefixes[_i];
    size_t plen = strlen(prefix);
    struct cm_err err = {0};
    char id[CM_ID_MAX];

    ck_assert_int_eq(cm_id_new(id, sizeof(id), prefix, &err), 0);
    ck_assert_uint_eq(strlen(id), plen + CM_ID_RANDOM_LEN);
    ck_assert_mem_eq(id, prefix, plen);
    ck_assert(all_base62(id + plen, CM_ID_RANDOM_LEN));
    ck_assert_int_eq(err.status, 0);
}
END_TEST

START_TEST(test_id_cap_too_small)
{
    struct cm_err err = {0};
    char id[CM_ID_MAX + 8];
    size_t need = strlen("appsecret_") + CM_ID_RANDOM_LEN + 1;

    memset(id, 'x', sizeof(id));
    ck_assert_int_eq(cm_id_new(id, need - 1, "appsecret_", &err), -1);
    ck_assert_int_eq(err.status, 500);
    ck_assert_int_eq(err.type, CM_ERR_API);
    ck_assert_ptr_nonnull(strstr(err.detail, "too small"));
    ck_assert_int_eq(id[0], 'x'); /* untouched */

    ck_assert_int_eq(cm_id_new(id, 0, "", &err), -1);
    ck_assert_int_eq(cm_id_new(id, CM_ID_RANDOM_LEN, "", &err), -1);

    cm_err_clear(&err);
    ck_assert_int_eq(cm_id_new(id, need, "appsecret_", &err), 0);
    ck_assert_uint_eq(strlen(id), need - 1);

    /* One character past the longest prefix no longer fits CM_ID_MAX. */
    ck_assert_int_eq(cm_id_new(id, CM_ID_MAX, "a_prefix_of_forty_characters_xxxxxxxxxx_", &err),
                     -1);
}
END_TEST

static const size_t lengths[] = {0, 1, 2, 23, 24, 25, 63, 64, 65, 200, 4096};

START_TEST(test_random_lengths)
{
    size_t n = lengths[_i];
    struct cm_err err = {0};
    char *buf = malloc(n + 2);

    ck_assert_ptr_nonnull(buf);
    memset(buf, '#', n + 2);
    ck_assert_int_eq(cm_random_base62(buf, n, &err), 0);
    ck_assert(all_base62(buf, n));
    ck_assert_int_eq(buf[n], '\0');
    ck_assert_int_eq(buf[n + 1], '#'); /* nothing written past the NUL */
    free(buf);
}
END_TEST

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

START_TEST(test_id_unique)
{
    enum { N = 20000 };
    struct cm_err err = {0};
    char(*ids)[CM_ID_MAX] = malloc(sizeof(*ids) * N);
    char **sorted = malloc(sizeof(*sorted) * N);

    ck_assert_ptr_nonnull(ids);
    ck_assert_ptr_nonnull(sorted);
    for (size_t i = 0; i < N; i++) {
        ck_assert_int_eq(cm_id_new(ids[i], CM_ID_MAX, "evt_", &err), 0);
        sorted[i] = ids[i];
    }
    qsort(sorted, N, sizeof(*sorted), cmp_str);
    for (size_t i = 1; i < N; i++)
        ck_assert_str_ne(sorted[i - 1], sorted[i]);
    free(sorted);
    free(ids);
}
END_TEST

/* 620000 draws, 10000 expected per symbol, standard deviation about 99.
 * Each count must lie within 8% (about 8 sigma: never fails by chance) and
 * the chi-square statistic (61 degrees of freedom, mean 61, sd 11) below 200
 * (over 12 sd). Taking bytes modulo 62 without rejection would give eight
 * symbols 12109 draws each (+21%) and a chi-square near 4000. */
START_TEST(test_random_uniform)
{
    enum { CHUNK = 620, CHUNKS = 1000, EXPECTED = CHUNK * CHUNKS / 62 };
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    struct cm_err err = {0};
    long counts[256] = {0};
    char buf[CHUNK + 1];
    double chi2 = 0;

    for (int i = 0; i < CHUNKS; i++) {
        ck_assert_int_eq(cm_random_base62(buf, CHUNK, &err), 0);
        for (int j = 0; j < CHUNK; j++)
            counts[(unsigned char)buf[j]]++;
    }
    for (int s = 0; s < 62; s++) {
        long c = counts[(unsigned char)alphabet[s]];
        double d = (double)(c - EXPECTED);

        ck_assert_msg(c > EXPECTED * 92 / 100 && c < EXPECTED * 108 / 100,
                      "symbol %c drawn %ld times, expected about %d", alphabet[s], c, EXPECTED);
        chi2 += d * d / EXPECTED;
    }
    ck_assert_msg(chi2 < 200.0, "chi-square %.1f over 61 degrees of freedom", chi2);
}
END_TEST

/* The runner declares the suites itself, from a list grepped out of the sources. */
/* Draws of 1 to 40 bytes, then some larger than the pool serves, about
 * nine pools' worth in all: no 16-byte draw repeats an earlier one (a pool
 * that handed out a byte twice, or was not refilled, would repeat). */
#define DRAWS 400
START_TEST(test_random_bytes_once)
{
    static unsigned char seen[DRAWS][16];
    unsigned char buf[300];

    for (int i = 0; i < DRAWS; i++) {
        size_t n = (size_t)(i % 40) + 1;

        ck_assert_int_eq(cm_random_bytes(buf, n), 0);
        ck_assert_int_eq(cm_random_bytes(seen[i], sizeof(seen[i])), 0);
        for (int j = 0; j < i; j++)
            ck_assert_msg(memcmp(seen[i], seen[j], sizeof(seen[i])) != 0, "draw %d repeats %d", i,
                          j);
    }
    /* Larger than a quarter of the pool: straight from RAND_bytes. */
    memset(buf, 0, sizeof(buf));
    ck_assert_int_eq(cm_random_bytes(buf, sizeof(buf)), 0);
    ck_assert_msg(memcmp(buf, buf + 150, 150) != 0, "two halves of one draw agree");
    ck_assert_int_eq(cm_random_bytes(buf, 0), 0);
}
END_TEST

/* The parent's pool is full when it forks: the child's first draw must not
 * be the parent's next one. */
START_TEST(test_random_bytes_fork)
{
    unsigned char first[16], parent[16], child[16];
    int fds[2];
    pid_t pid;
    int status;

    ck_assert_int_eq(cm_random_bytes(first, sizeof(first)), 0);
    ck_assert_int_eq(pipe(fds), 0);
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        int ok = cm_random_bytes(child, sizeof(child)) == 0 &&
                 write(fds[1], child, sizeof(child)) == (ssize_t)sizeof(child);

        _exit(ok ? 0 : 1);
    }
    close(fds[1]);
    ck_assert_int_eq(cm_random_bytes(parent, sizeof(parent)), 0);
    ck_assert_int_eq(read(fds[0], child, sizeof(child)), (ssize_t)sizeof(child));
    close(fds[0]);
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    ck_assert_msg(memcmp(parent, child, sizeof(child)) != 0,
                  "the child drew its parent's next bytes");
}
END_TEST

extern Suite *suite_ids(void);

Suite *suite_ids(void)
{
    Suite *s = suite_create("ids");
    TCase *tc = tcase_create("ids");

    tcase_add_loop_test(tc, test_id_shape, 0, sizeof(prefixes) / sizeof(prefixes[0]));
    tcase_add_test(tc, test_id_cap_too_small);
    tcase_add_loop_test(tc, test_random_lengths, 0, sizeof(lengths) / sizeof(lengths[0]));
    tcase_add_test(tc, test_id_unique);
    tcase_add_test(tc, test_random_uniform);
    tcase_add_test(tc, test_random_bytes_once);
    tcase_add_test(tc, test_random_bytes_fork);
    suite_add_tcase(s, tc);
    return s;
}
