/* Tests for svc-install/signature.h: the install_signature payload, byte for
 * byte against what node's JSON.stringify({state, user_id, account_id})
 * printed for the same values, and the header against values computed
 * outside this code base. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "svc-install/signature.h"
#include "cm/banned.h"

/* want: the JSON.stringify output, from
 *   node -e 'console.log(JSON.stringify(JSON.stringify({state, user_id, account_id})))'
 * with the state given (undefined for NULL). */
static const struct {
    const char *name;
    const char *state;
    const char *want;
} payload_cases[] = {
    {"plain", "abc", "{\"state\":\"abc\",\"user_id\":\"usr_1\",\"account_id\":\"acct_1\"}"},
    /* No state: JSON.stringify drops an undefined value, key and all. */
    {"no state", NULL, "{\"user_id\":\"usr_1\",\"account_id\":\"acct_1\"}"},
    {"empty state", "", "{\"state\":\"\",\"user_id\":\"usr_1\",\"account_id\":\"acct_1\"}"},
    {"quotes and backslashes", "say \"hi\" \\ back\\slash",
     "{\"state\":\"say \\\"hi\\\" \\\\ back\\\\slash\",\"user_id\":\"usr_1\","
     "\"account_id\":\"acct_1\"}"},
    /* The short escapes, \u00xx in lowercase hex for the other controls,
     * and DEL (0x7f) as it is. NUL cannot be in a C string: see below. */
    {"controls", "\b\f\n\r\t\x01\x1f\x7f",
     "{\"state\":\"\\b\\f\\n\\r\\t\\u0001\\u001f\x7f\",\"user_id\":\"usr_1\","
     "\"account_id\":\"acct_1\"}"},
    /* Neither '/' nor non-ASCII (2, 3 and 4 byte sequences, U+2028) is escaped. */
    {"non-ASCII and slash",
     "caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x98\x80 </script> \xe2\x80\xa8",
     "{\"state\":\"caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x98\x80 </script> \xe2\x80\xa8\","
     "\"user_id\":\"usr_1\",\"account_id\":\"acct_1\"}"},
};

START_TEST(test_payload)
{
    char *got = inst_signature_payload(payload_cases[_i].state, "usr_1", "acct_1");

    ck_assert_msg(got != NULL, "%s: NULL", payload_cases[_i].name);
    ck_assert_msg(strcmp(got, payload_cases[_i].want) == 0, "%s: got %s", payload_cases[_i].name,
                  got);
    free(got);
}
END_TEST

/* Every control character, one at a time, escaped exactly as node does
 * (\u0000 for NUL is covered through the ids, which may not hold it either:
 * C strings end there, and the form decoder refuses a NUL byte). */
START_TEST(test_every_control)
{
    static const char *const short_esc[32] = {
        ['\b'] = "\\b", ['\f'] = "\\f", ['\n'] = "\\n", ['\r'] = "\\r", ['\t'] = "\\t"};
    static const char hex[] = "0123456789abcdef";

    for (int c = 1; c < 0x20; c++) {
        char state[2] = {(char)c, '\0'}, want[96], esc[8];
        char *got;

        if (short_esc[c] != NULL) {
            memcpy(esc, short_esc[c], 3);
        } else {
            memcpy(esc, "\\u00", 4);
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 0xf];
            esc[6] = '\0';
        }
        snprintf(want, sizeof(want), "{\"state\":\"%s\",\"user_id\":\"u\",\"account_id\":\"a\"}",
                 esc);
        got = inst_signature_payload(state, "u", "a");
        ck_assert_ptr_nonnull(got);
        ck_assert_msg(strcmp(got, want) == 0, "0x%02x: got %s want %s", c, got, want);
        free(got);
    }
}
END_TEST

/* Not UTF-8: refused rather than signed in a form no verifier rebuilds. */
static const char *const bad_utf8[] = {
    "\xff",             /* never valid */
    "\xc3",             /* truncated */
    "\xc0\xaf",         /* overlong '/' */
    "\xe0\x80\xaf",     /* overlong, three bytes */
    "\xed\xa0\x80",     /* a surrogate, U+D800 */
    "\xf4\x90\x80\x80", /* above U+10FFFF */
    "ok\x80",           /* a lone continuation byte */
};

START_TEST(test_payload_refuses_bad_utf8)
{
    ck_assert_ptr_null(inst_signature_payload(bad_utf8[_i], "usr_1", "acct_1"));
    ck_assert_ptr_null(inst_signature_payload("s", bad_utf8[_i], "acct_1"));
    ck_assert_ptr_null(inst_signature_payload(NULL, "usr_1", bad_utf8[_i]));
}
END_TEST

START_TEST(test_payload_needs_ids)
{
    ck_assert_ptr_null(inst_signature_payload("s", NULL, "acct_1"));
    ck_assert_ptr_null(inst_signature_payload("s", "usr_1", NULL));
}
END_TEST

/* Expected values computed independently, for secret
 * absec_0123456789abcdefghijklmnopqrstuv and t = 1700000000:
 *   with state: stripe-node 's webhooks.generateTestHeaderString({payload,
 *     secret, timestamp}) and, identically,
 *     printf '%s' '1700000000.{"state":"xyz","user_id":"usr_dev1","account_id":"acct_dev1"}' |
 *       openssl dgst -sha256 -hmac absec_0123456789abcdefghijklmnopqrstuv
 *   without: the same openssl command over '1700000000.{"user_id":...}'. */
#define SECRET "absec_0123456789abcdefghijklmnopqrstuv"

START_TEST(test_header_known_values)
{
    char out[128];
    char *p = inst_signature_payload("xyz", "usr_dev1", "acct_dev1");

    ck_assert_ptr_nonnull(p);
    ck_assert_int_eq(inst_signature_header(SECRET, 1700000000LL, p, out, sizeof(out)), 0);
    ck_assert_str_eq(out, "t=1700000000,v1=160f5067af6fa8ac0fad55bd9d0ccaedb0cca5bac44d717e202c6f1"
                          "bb304293c");
    free(p);
    p = inst_signature_payload(NULL, "usr_dev1", "acct_dev1");
    ck_assert_ptr_nonnull(p);
    ck_assert_int_eq(inst_signature_header(SECRET, 1700000000LL, p, out, sizeof(out)), 0);
    ck_assert_str_eq(out, "t=1700000000,v1=0dc5a60bd944e1ea77ed308170950ee9b66b47c38b8b26e9f3dee91"
                          "85ed5f214");
    free(p);
}
END_TEST

START_TEST(test_header_failures)
{
    char out[128];

    /* Too small a buffer, no secret, a negative time, no payload. */
    ck_assert_int_eq(inst_signature_header(SECRET, 1700000000LL, "{}", out, 20), -1);
    ck_assert_int_eq(inst_signature_header("", 1700000000LL, "{}", out, sizeof(out)), -1);
    ck_assert_int_eq(inst_signature_header(NULL, 1700000000LL, "{}", out, sizeof(out)), -1);
    ck_assert_int_eq(inst_signature_header(SECRET, -1, "{}", out, sizeof(out)), -1);
    ck_assert_int_eq(inst_signature_header(SECRET, 1700000000LL, NULL, out, sizeof(out)), -1);
}
END_TEST

Suite *suite_signature(void)
{
    Suite *s = suite_create("signature");
    TCase *tc = tcase_create("signature");

    tcase_add_loop_test(tc, test_payload, 0, sizeof(payload_cases) / sizeof(payload_cases[0]));
    tcase_add_test(tc, test_every_control);
    tcase_add_loop_test(tc, test_payload_refuses_bad_utf8, 0,
                        sizeof(bad_utf8) / sizeof(bad_utf8[0]));
    tcase_add_test(tc, test_payload_needs_ids);
    tcase_add_test(tc, test_header_known_values);
    tcase_add_test(tc, test_header_failures);
    suite_add_tcase(s, tc);
    return s;
}
