/* Tests for cm/ids.h: shape of IDs, uniqueness, and an unbiased alphabet. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

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
    suite_add_tcase(s, tc);
    return s;
}
