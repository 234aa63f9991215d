/* Strict UTF-8: the one decoder, and what err.c, route.c, form.c, params.c
 * and html.c build on it. */
#include <check.h>
#include <string.h>

#include "cm/err.h"
#include "cm/utf8.h"
#include "cm/banned.h"

START_TEST(test_valid)
{
    static const struct {
        const char *s;
        int ok;
    } cases[] = {
        {"", 1},
        {"plain", 1},
        {"caf\xc3\xa9", 1},
        {"\xe2\x82\xac", 1},      /* € */
        {"\xf0\x9f\x98\x80", 1},  /* an emoji */
        {"\xff", 0},              /* never a lead byte */
        {"\x80", 0},              /* a lone continuation */
        {"\xc3", 0},              /* cut short */
        {"\xc0\xaf", 0},          /* overlong '/' */
        {"\xe0\x80\xaf", 0},      /* overlong, three bytes */
        {"\xed\xa0\x80", 0},      /* a surrogate */
        {"\xf4\x90\x80\x80", 0},  /* past U+10FFFF */
        {"a\xc3\xa9\xe2\x82", 0}, /* cut at the end */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        ck_assert_msg(cm_utf8_valid(cases[i].s, strlen(cases[i].s)) == cases[i].ok, "case %zu", i);
}
END_TEST

START_TEST(test_clip_and_chars)
{
    const char *s = "a\xc3\xa9\xe2\x82\xac"; /* a é € : 6 bytes, 3 characters */

    ck_assert_uint_eq(cm_utf8_chars(s, strlen(s)), 3);
    ck_assert_uint_eq(cm_utf8_clip(s, 6, 10), 6);
    ck_assert_uint_eq(cm_utf8_clip(s, 6, 5), 3); /* not inside the € */
    ck_assert_uint_eq(cm_utf8_clip(s, 6, 2), 1); /* not inside the é */
    ck_assert_uint_eq(cm_utf8_clip(s, 6, 0), 0);
}
END_TEST

START_TEST(test_scrub)
{
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"plain", "plain"},
        {"caf\xc3\xa9", "caf\xc3\xa9"},
        {"a\xc3'b", "a'b"}, /* a character cut in the middle */
        {"\xff\xfe"
         "ok\x80",
         "ok"},                 /* stray bytes anywhere */
        {"x\xe2\x82", "x"},     /* cut at the end */
        {"\xed\xa0\x80z", "z"}, /* a surrogate */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char buf[32];

        memcpy(buf, cases[i].in, strlen(cases[i].in) + 1);
        cm_utf8_scrub(buf);
        ck_assert_msg(strcmp(buf, cases[i].out) == 0, "case %zu", i);
        ck_assert(cm_utf8_valid(buf, strlen(buf)));
    }
}
END_TEST

/* A byte-counted %.Ns in a message cuts a character in the middle, not only
 * at the end: the error still renders (valid UTF-8), so the client gets the
 * 400 and not a 500. */
START_TEST(test_error_message_with_a_cut_character)
{
    struct cm_err err;

    cm_err_set(&err, 400, CM_ERR_INVALID_REQUEST, NULL, "enabled_events[0]",
               "Invalid event '%.2s' in the list.", "a\xc3\xa9");
    ck_assert_int_eq(err.status, 400);
    ck_assert(cm_utf8_valid(err.message, strlen(err.message)));
    ck_assert_str_eq(err.message, "Invalid event 'a' in the list.");
    cm_err_set(&err, 400, CM_ERR_INVALID_REQUEST, NULL, "x\xc3", "m");
    ck_assert_str_eq(err.param, "x");
}
END_TEST

Suite *suite_utf8(void)
{
    Suite *s = suite_create("utf8");
    TCase *tc = tcase_create("strict");

    tcase_add_test(tc, test_valid);
    tcase_add_test(tc, test_clip_and_chars);
    tcase_add_test(tc, test_scrub);
    tcase_add_test(tc, test_error_message_with_a_cut_character);
    suite_add_tcase(s, tc);
    return s;
}
