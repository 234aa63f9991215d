/* Tests for cm/sig.h: SHA-256 and HMAC-SHA256 against published vectors, hex,
 * and the Stripe-Signature header checked case by case against what
 * stripe-node's verifyHeader does with the same input. */
#include <check.h>
#include <string.h>

#include "cm/sig.h"
#include "cm/banned.h"

static void assert_hex(const unsigned char *got, size_t len, const char *want)
{
    char hex[2 * 64 + 1];

    ck_assert_uint_le(len, 64);
    cm_hex_encode(got, len, hex);
    ck_assert_str_eq(hex, want);
}

static const struct {
    const char *in;
    const char *want;
} sha_cases[] = {
    {"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
    {"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
};

START_TEST(test_sha256)
{
    unsigned char out[CM_SHA256_LEN];

    cm_sha256(sha_cases[_i].in, strlen(sha_cases[_i].in), out);
    assert_hex(out, sizeof(out), sha_cases[_i].want);
}
END_TEST

/* RFC 4231 test cases 1, 2, 6 and 7, and the empty key and message. */
static const struct {
    unsigned char key_byte; /* repeated key_len times, unless key is set */
    size_t key_len;
    const char *key;
    const char *msg;
    const char *want;
} hmac_cases[] = {
    {0x0b, 20, NULL, "Hi There",
     "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"},
    {0, 4, "Jefe", "what do ya want for nothing?",
     "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
    {0xaa, 131, NULL, "Test Using Larger Than Block-Size Key - Hash Key First",
     "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"},
    {0xaa, 131, NULL,
     "This is a test using a larger than block-size key and a larger than block-size data. "
     "The key needs to be hashed before being used by the HMAC algorithm.",
     "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"},
    {0, 0, NULL, "", "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad"},
};

START_TEST(test_hmac_vectors)
{
    unsigned char key[131];
    unsigned char out[CM_SHA256_LEN];
    const void *k = key;

    if (hmac_cases[_i].key != NULL)
        k = hmac_cases[_i].key;
    else
        memset(key, hmac_cases[_i].key_byte, hmac_cases[_i].key_len);
    if (hmac_cases[_i].key_len == 0)
        k = NULL;
    ck_assert_int_eq(cm_hmac_sha256(k, hmac_cases[_i].key_len, hmac_cases[_i].msg,
                                    strlen(hmac_cases[_i].msg), out),
                     0);
    assert_hex(out, sizeof(out), hmac_cases[_i].want);
}
END_TEST

START_TEST(test_hex)
{
    static const unsigned char bytes[] = {0x00, 0x01, 0x7f, 0x80, 0xab, 0xff};
    unsigned char out[sizeof(bytes)];
    char hex[2 * sizeof(bytes) + 1];

    cm_hex_encode(bytes, sizeof(bytes), hex);
    ck_assert_str_eq(hex, "00017f80abff");
    ck_assert_int_eq(cm_hex_decode("00017f80abff", out, sizeof(out)), 0);
    ck_assert_mem_eq(out, bytes, sizeof(bytes));
    ck_assert_int_eq(cm_hex_decode("00017F80ABFF", out, sizeof(out)), 0);
    ck_assert_mem_eq(out, bytes, sizeof(bytes));
    ck_assert_int_eq(cm_hex_decode("", out, 0), 0);
    cm_hex_encode(bytes, 0, hex);
    ck_assert_str_eq(hex, "");
}
END_TEST

static const char *const bad_hex[] = {
    "",               /* too short */
    "00017f80ab",     /* too short by one byte */
    "00017f80abf",    /* odd length */
    "00017f80abff00", /* too long */
    "00017f80abfg",   /* not hex */
    "0x017f80abff",   /* not hex */
    " 0017f80abff",   /* no trimming */
    "00017f80abf ",   /* no trimming */
    "00017f-0abff",   /* sign */
};

START_TEST(test_hex_decode_bad)
{
    unsigned char out[6];

    ck_assert_int_eq(cm_hex_decode(bad_hex[_i], out, sizeof(out)), -1);
}
END_TEST

#define SECRET  "whsec_test"
#define T       1700000000LL
#define TS      "1700000000"
#define PAYLOAD "{\"id\":\"evt_1\"}"
#define SIG     "c89214b5b5da833daed6f0b8c5bb6bd58cea9022bd80ccc78230f3942d632925"
#define ZEROS   "0000000000000000000000000000000000000000000000000000000000000000"
#define HEADER  "t=" TS ",v1=" SIG

START_TEST(test_header_build_vector)
{
    char out[CM_SIG_HEADER_MAX];

    ck_assert_int_eq(cm_sig_header_build(SECRET, T, PAYLOAD, strlen(PAYLOAD), out, sizeof(out)), 0);
    ck_assert_str_eq(out, HEADER);
}
END_TEST

START_TEST(test_header_build_limits)
{
    char out[CM_SIG_HEADER_MAX];
    size_t need = strlen(HEADER) + 1;

    ck_assert_int_eq(cm_sig_header_build(SECRET, T, PAYLOAD, strlen(PAYLOAD), out, need), 0);
    ck_assert_int_eq(cm_sig_header_build(SECRET, T, PAYLOAD, strlen(PAYLOAD), out, need - 1), -1);
    ck_assert_int_eq(cm_sig_header_build(SECRET, -1, PAYLOAD, strlen(PAYLOAD), out, sizeof(out)),
                     -1);
    ck_assert_int_eq(cm_sig_header_build("", T, PAYLOAD, strlen(PAYLOAD), out, sizeof(out)), -1);
    ck_assert_int_eq(cm_sig_header_build(NULL, T, PAYLOAD, strlen(PAYLOAD), out, sizeof(out)), -1);
    /* The widest timestamp still fits CM_SIG_HEADER_MAX. */
    ck_assert_int_eq(cm_sig_header_build(SECRET, 9223372036854775807LL, "", 0, out, sizeof(out)),
                     0);
    ck_assert_int_eq(strncmp(out, "t=9223372036854775807,v1=", 25), 0);
    ck_assert_uint_eq(strlen(out), 25 + 64);
    ck_assert_int_eq(cm_sig_header_verify(out, SECRET, "", 0, 300, 9223372036854775807LL, NULL), 0);
}
END_TEST

/* Binary payloads (NUL bytes included) sign and verify as raw bytes; an
 * empty payload is just another payload. */
START_TEST(test_header_round_trip_binary)
{
    static const unsigned char payload[] = {0x00, 0xff, '.', ',', '=', 0x00, 0x80};
    struct cm_err err = {0};
    char header[CM_SIG_HEADER_MAX];

    ck_assert_int_eq(
        cm_sig_header_build("absec_app", 42, payload, sizeof(payload), header, sizeof(header)), 0);
    ck_assert_int_eq(
        cm_sig_header_verify(header, "absec_app", payload, sizeof(payload), 0, 42, &err), 0);
    ck_assert_int_eq(
        cm_sig_header_verify(header, "absec_app", payload, sizeof(payload) - 1, 0, 42, &err), -1);
    ck_assert_int_eq(cm_sig_header_build("absec_app", 42, NULL, 0, header, sizeof(header)), 0);
    ck_assert_int_eq(cm_sig_header_verify(header, "absec_app", "", 0, 0, 42, &err), 0);
}
END_TEST

#define E_NO_HEADER "No stripe-signature header value was provided."
#define E_NO_SECRET "No webhook secret value was provided. It should start with `whsec_`"
#define E_EXTRACT   "Unable to extract timestamp and signatures from header"
#define E_SCHEME    "No signatures found with expected scheme"
#define E_MISMATCH  "No signatures found matching the expected signature for payload"
#define E_TOLERANCE "Timestamp outside the tolerance zone"

static const struct {
    const char *name;
    const char *header;
    const char *secret;
    const char *payload;
    long long tolerance;
    long long now;
    const char *fail; /* expected message, or NULL to pass */
} verify_cases[] = {
    {"valid, no time check", HEADER, SECRET, PAYLOAD, 0, T + 1000000, NULL},
    {"valid, same second", HEADER, SECRET, PAYLOAD, 300, T, NULL},
    {"valid, at the tolerance", HEADER, SECRET, PAYLOAD, 300, T + 300, NULL},
    {"one second too old", HEADER, SECRET, PAYLOAD, 300, T + 301, E_TOLERANCE},
    {"future timestamp passes", HEADER, SECRET, PAYLOAD, 300, T - 100000, NULL},
    {"negative tolerance skips", HEADER, SECRET, PAYLOAD, -1, T + 1000000, NULL},
    {"signature before tolerance", "t=" TS ",v1=" ZEROS, SECRET, PAYLOAD, 300, T + 1000000,
     E_MISMATCH},
    {"items in any order", "v1=" SIG ",t=" TS, SECRET, PAYLOAD, 0, T, NULL},
    {"leading zeros as parseInt", "t=0" TS ",v1=" SIG, SECRET, PAYLOAD, 0, T, NULL},
    {"last t wins", "t=1,v1=" SIG ",t=" TS, SECRET, PAYLOAD, 0, T, NULL},
    {"last t wins, wrong", "t=" TS ",v1=" SIG ",t=1", SECRET, PAYLOAD, 0, T, E_MISMATCH},
    {"later t bad", "t=" TS ",v1=" SIG ",t=x", SECRET, PAYLOAD, 0, T, E_EXTRACT},
    {"missing t", "v1=" SIG, SECRET, PAYLOAD, 0, T, E_EXTRACT},
    {"non-numeric t", "t=abc,v1=" SIG, SECRET, PAYLOAD, 0, T, E_EXTRACT},
    {"t with trailing text", "t=" TS "s,v1=" SIG, SECRET, PAYLOAD, 0, T, E_EXTRACT},
    {"negative t", "t=-" TS ",v1=" SIG, SECRET, PAYLOAD, 0, T, E_EXTRACT},
    {"empty t", "t=,v1=" SIG, SECRET, PAYLOAD, 0, T, E_EXTRACT},
    {"t without =", "t,v1=" SIG, SECRET, PAYLOAD, 0, T, E_EXTRACT},
    {"t overflows", "t=99999999999999999999,v1=" SIG, SECRET, PAYLOAD, 0, T, E_EXTRACT},
    {"uppercase T", "T=" TS ",v1=" SIG, SECRET, PAYLOAD, 0, T, E_EXTRACT},
    {"space before t", "v1=" SIG ", t=" TS, SECRET, PAYLOAD, 0, T, E_EXTRACT},
    {"empty header", "", SECRET, PAYLOAD, 0, T, E_NO_HEADER},
    {"lone comma", ",", SECRET, PAYLOAD, 0, T, E_EXTRACT},
    {"empty secret", HEADER, "", PAYLOAD, 0, T, E_NO_SECRET},
    {"empty secret, bad header", "t=" TS, "", PAYLOAD, 0, T, E_SCHEME},
    {"no v1", "t=" TS, SECRET, PAYLOAD, 0, T, E_SCHEME},
    {"v0 only", "t=" TS ",v0=" SIG, SECRET, PAYLOAD, 0, T, E_SCHEME},
    {"space after comma", "t=" TS ", v1=" SIG, SECRET, PAYLOAD, 0, T, E_SCHEME},
    {"v1 with trailing space key", "t=" TS ",v1 =" SIG, SECRET, PAYLOAD, 0, T, E_SCHEME},
    {"v0 ignored", "t=" TS ",v0=" ZEROS ",v1=" SIG, SECRET, PAYLOAD, 0, T, NULL},
    {"wrong signature", "t=" TS ",v1=" ZEROS, SECRET, PAYLOAD, 0, T, E_MISMATCH},
    {"uppercase hex",
     "t=" TS ",v1=C89214B5B5DA833DAED6F0B8C5BB6BD58CEA9022BD80CCC78230F3942D632925", SECRET,
     PAYLOAD, 0, T, E_MISMATCH},
    {"signature cut short",
     "t=" TS ",v1=c89214b5b5da833daed6f0b8c5bb6bd58cea9022bd80ccc78230f3942d63292", SECRET, PAYLOAD,
     0, T, E_MISMATCH},
    {"signature with trailing space", HEADER " ", SECRET, PAYLOAD, 0, T, E_MISMATCH},
    {"v1 without =", "t=" TS ",v1", SECRET, PAYLOAD, 0, T, E_MISMATCH},
    {"empty v1", "t=" TS ",v1=", SECRET, PAYLOAD, 0, T, E_MISMATCH},
    {"value ends at the next =", HEADER "=junk", SECRET, PAYLOAD, 0, T, NULL},
    {"tampered payload", HEADER, SECRET, "{\"id\":\"evt_2\"}", 0, T, E_MISMATCH},
    {"payload with newline", HEADER, SECRET, PAYLOAD "\n", 0, T, E_MISMATCH},
    {"wrong secret", HEADER, "whsec_tesT", PAYLOAD, 0, T, E_MISMATCH},
    {"secret without its prefix", HEADER, "test", PAYLOAD, 0, T, E_MISMATCH},
    {"timestamp changed", "t=1700000001,v1=" SIG, SECRET, PAYLOAD, 0, T, E_MISMATCH},
    {"several v1, right one last", "t=" TS ",v1=" ZEROS ",v1=" SIG, SECRET, PAYLOAD, 0, T, NULL},
    {"several v1, right one first", "t=" TS ",v1=" SIG ",v1=" ZEROS, SECRET, PAYLOAD, 0, T, NULL},
    {"several v1, none right", "t=" TS ",v1=" ZEROS ",v1=" ZEROS, SECRET, PAYLOAD, 0, T,
     E_MISMATCH},
    {"trailing comma", HEADER ",", SECRET, PAYLOAD, 0, T, NULL},
};

START_TEST(test_header_verify)
{
    struct cm_err err = {0};
    int rc = cm_sig_header_verify(verify_cases[_i].header, verify_cases[_i].secret,
                                  verify_cases[_i].payload, strlen(verify_cases[_i].payload),
                                  verify_cases[_i].tolerance, verify_cases[_i].now, &err);

    if (verify_cases[_i].fail == NULL) {
        ck_assert_msg(rc == 0, "%s: unexpected failure: %s", verify_cases[_i].name, err.message);
        ck_assert_int_eq(err.status, 0);
        return;
    }
    ck_assert_msg(rc == -1, "%s: passed but should fail", verify_cases[_i].name);
    ck_assert_int_eq(err.status, 400);
    ck_assert_int_eq(err.type, CM_ERR_INVALID_REQUEST);
    ck_assert_str_eq(err.code, "");
    ck_assert_str_eq(err.param, "");
    ck_assert_msg(strcmp(err.message, verify_cases[_i].fail) == 0, "%s: got \"%s\"",
                  verify_cases[_i].name, err.message);
}
END_TEST

START_TEST(test_header_verify_null)
{
    struct cm_err err = {0};

    ck_assert_int_eq(cm_sig_header_verify(NULL, SECRET, PAYLOAD, strlen(PAYLOAD), 0, T, &err), -1);
    ck_assert_str_eq(err.message, E_NO_HEADER);
    ck_assert_int_eq(cm_sig_header_verify(HEADER, NULL, PAYLOAD, strlen(PAYLOAD), 0, T, &err), -1);
    ck_assert_str_eq(err.message, E_NO_SECRET);
}
END_TEST

START_TEST(test_const_eq)
{
    ck_assert_int_eq(cm_const_eq("abcdef", "abcdef", 6), 1);
    ck_assert_int_eq(cm_const_eq("abcdef", "abcdeg", 6), 0);
    ck_assert_int_eq(cm_const_eq("xbcdef", "abcdef", 6), 0);
    ck_assert_int_eq(cm_const_eq("abc", "xyz", 0), 1);
}
END_TEST

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* The runner declares the suites itself, from a list grepped out of the sources. */
extern Suite *suite_sig(void);

Suite *suite_sig(void)
{
    Suite *s = suite_create("sig");
    TCase *tc = tcase_create("sig");

    tcase_add_loop_test(tc, test_sha256, 0, N(sha_cases));
    tcase_add_loop_test(tc, test_hmac_vectors, 0, N(hmac_cases));
    tcase_add_test(tc, test_hex);
    tcase_add_loop_test(tc, test_hex_decode_bad, 0, N(bad_hex));
    tcase_add_test(tc, test_header_build_vector);
    tcase_add_test(tc, test_header_build_limits);
    tcase_add_test(tc, test_header_round_trip_binary);
    tcase_add_loop_test(tc, test_header_verify, 0, N(verify_cases));
    tcase_add_test(tc, test_header_verify_null);
    tcase_add_test(tc, test_const_eq);
    suite_add_tcase(s, tc);
    return s;
}
