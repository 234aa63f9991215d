/* Tests for the pure parts of svc-identity/session_write.h: the client
 * secret's shape and hash, the hosted page URL, and the hex helpers. */
#include <check.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "svc-identity/session_write.h"
#include "cm/banned.h"

START_TEST(test_secret_shape)
{
    struct cm_err err = {0};
    char a[IDN_CLIENT_SECRET_MAX], b[IDN_CLIENT_SECRET_MAX], small[40];
    regex_t re;

    ck_assert_int_eq(regcomp(&re, "^vs_abc_secret_(test|live)_[A-Za-z0-9]{32}$", REG_EXTENDED), 0);
    ck_assert_int_eq(idn_client_secret_new("vs_abc", 0, a, sizeof(a), &err), 0);
    ck_assert_int_eq(regexec(&re, a, 0, NULL, 0), 0);
    ck_assert_ptr_nonnull(strstr(a, "_secret_test_"));
    ck_assert_int_eq(idn_client_secret_new("vs_abc", 1, b, sizeof(b), &err), 0);
    ck_assert_ptr_nonnull(strstr(b, "_secret_live_"));
    ck_assert_str_ne(a + 18, b + 18);
    ck_assert_int_eq(idn_client_secret_new("vs_abc", 0, small, sizeof(small), &err), -1);
    ck_assert_int_eq(err.status, 500);
    regfree(&re);
}
END_TEST

START_TEST(test_hash_and_url)
{
    char hex[2 * CM_SHA256_LEN + 1], url[128];
    struct cm_config cfg;

    idn_client_secret_hash("abc", hex);
    ck_assert_str_eq(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    memset(&cfg, 0, sizeof(cfg));
    memcpy(cfg.base_url, "https://id.example.com//", 25);
    ck_assert_int_eq(idn_client_secret_url(&cfg, "vs_1_secret_test_x", url, sizeof(url)), 0);
    ck_assert_str_eq(url,
                     "https://id.example.com/identity/verify?client_secret=vs_1_secret_test_x");
    ck_assert_int_eq(idn_client_secret_url(&cfg, "vs_1_secret_test_x", url, 20), -1);
}
END_TEST

START_TEST(test_hex)
{
    static const unsigned char bytes[] = {0x00, 0xab, 0xff};
    size_t len = 0;
    char *hex = idn_hex(bytes, sizeof(bytes));
    unsigned char *back = idn_unhex(hex, &len);

    ck_assert_str_eq(hex, "00abff");
    ck_assert_uint_eq(len, 3);
    ck_assert_mem_eq(back, bytes, 3);
    free(hex);
    free(back);
    ck_assert_ptr_null(idn_unhex("abc", &len));
    ck_assert_ptr_null(idn_unhex("zz", &len));
    back = idn_unhex("", &len);
    ck_assert_ptr_nonnull(back);
    ck_assert_uint_eq(len, 0);
    free(back);
}
END_TEST

Suite *suite_session_write(void)
{
    Suite *s = suite_create("session_write");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, test_secret_shape);
    tcase_add_test(tc, test_hash_and_url);
    tcase_add_test(tc, test_hex);
    suite_add_tcase(s, tc);
    return s;
}
