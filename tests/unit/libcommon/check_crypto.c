/* Tests for cm/crypto.h: key file parsing and refusal, AES-256-GCM round
 * trips, and every way a sealed blob can be altered or misused. Key files
 * are mkstemp() files under /tmp, removed as soon as they are loaded. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cm/crypto.h"
#include "cm/banned.h"

/* Key material starts with recognisable text so the tests can check that no
 * error message ever quotes it. */
#define H1       "a1b2c3d4e5f60718293a4b5c6d7e8f90112233445566778899aabbccddeeff00"
#define H2       "a1b2c3d4f00dfeedc0ffee00112233445566778899aabbccddeeff0011223344"
#define KEY_MARK "a1b2c3d4"

/* Writes content to a new file under /tmp with the given mode; its name goes
 * into path (at least 32 bytes). */
static void write_file(char *path, const char *content, mode_t mode)
{
    size_t len = strlen(content);
    int fd;

    snprintf(path, 32, "/tmp/check_crypto_XXXXXX");
    fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, content, len), (ssize_t)len);
    ck_assert_int_eq(fchmod(fd, mode), 0);
    ck_assert_int_eq(close(fd), 0);
}

static struct cm_keyring *load(const char *content)
{
    struct cm_err err = {0};
    struct cm_keyring *kr;
    char path[32];

    write_file(path, content, 0600);
    kr = cm_keyring_load(path, &err);
    unlink(path);
    ck_assert_msg(kr != NULL, "load failed: %s", err.detail);
    return kr;
}

static const struct {
    const char *name;
    const char *content;
    const char *active;
} good_files[] = {
    {"one key", "k1 " H1 "\n", "k1"},
    {"no final newline", "k1 " H1, "k1"},
    {"last is active", "k1 " H1 "\nk2 " H2 "\n", "k2"},
    {"comments and blanks", "# keys\n\n   # indented comment\nold " H1 "\n\n# new:\nnew " H2 "\n\n",
     "new"},
    {"tabs, CRLF, uppercase hex",
     "\tK_1-a\t \tA1B2C3D4E5F60718293A4B5C6D7E8F90112233445566778899AABBCCDDEEFF00 \r\n", "K_1-a"},
    {"longest id", "abcdefghijklmnopqrstuvwxyz012345 " H1 "\n", "abcdefghijklmnopqrstuvwxyz012345"},
};

START_TEST(test_load_good)
{
    struct cm_keyring *kr = load(good_files[_i].content);

    ck_assert_str_eq(cm_keyring_active_id(kr), good_files[_i].active);
    ck_assert_int_eq(cm_keyring_has(kr, good_files[_i].active), 1);
    ck_assert_int_eq(cm_keyring_has(kr, "nope"), 0);
    ck_assert_int_eq(cm_keyring_has(kr, ""), 0);
    cm_keyring_free(kr);
}
END_TEST

static const struct {
    const char *name;
    const char *content;
    mode_t mode;
    const char *detail; /* a substring of err.detail */
} bad_files[] = {
    {"mode 0644", "k1 " H1 "\n", 0644, "mode 0644"},
    {"mode 0640", "k1 " H1 "\n", 0640, "group or others"},
    {"mode 0604", "k1 " H1 "\n", 0604, "group or others"},
    {"mode 0620", "k1 " H1 "\n", 0620, "group or others"},
    {"empty file", "", 0600, "no keys"},
    {"comments only", "# nothing yet\n\n", 0600, "no keys"},
    {"malformed hex", "k1 " KEY_MARK "zz" H1 "\n", 0600, "line 1"},
    {"non-hex in key", "k1 " KEY_MARK "e5f60718293a4b5c6d7e8f9011223344556677889xaabbccddeeff00\n",
     0600, "line 1"},
    {"short key", "k1 " KEY_MARK "e5f60718293a4b5c6d7e8f90112233445566778899aabbccddeeff\n", 0600,
     "line 1"},
    {"long key", "k1 " H1 "00\n", 0600, "line 1"},
    {"no key", "k1\n", 0600, "line 1"},
    {"id then blanks", "k1  \n", 0600, "line 1"},
    {"key without id", H1 "\n", 0600, "line 1"},
    {"bad id character", "k.1 " H1 "\n", 0600, "line 1"},
    {"id too long", "abcdefghijklmnopqrstuvwxyz0123456 " H1 "\n", 0600, "line 1"},
    {"text after key", "k1 " H1 " extra\n", 0600, "line 1"},
    {"key split by blank",
     "k1 " KEY_MARK " e5f60718293a4b5c6d7e8f90112233445566778899aabbccddeeff00\n", 0600, "line 1"},
    {"line count includes comments", "# c\n\n  \nk1 " KEY_MARK "\n", 0600, "line 4"},
    {"duplicate id", "# c\nk1 " H1 "\nk1 " H2 "\n", 0600, "line 3: duplicate key id 'k1'"},
    {"bad line after good ones", "k1 " H1 "\nk2 " H2 "\nk3 nothex\n", 0600, "line 3"},
};

START_TEST(test_load_bad)
{
    struct cm_keyring *kr;
    struct cm_err err = {0};
    char path[32];

    write_file(path, bad_files[_i].content, bad_files[_i].mode);
    kr = cm_keyring_load(path, &err);
    unlink(path); /* before any assertion, which would end the test */
    ck_assert_ptr_null(kr);
    ck_assert_int_eq(err.status, 500);
    ck_assert_int_eq(err.type, CM_ERR_API);
    ck_assert_msg(strstr(err.detail, bad_files[_i].detail) != NULL, "%s: detail \"%s\"",
                  bad_files[_i].name, err.detail);
    ck_assert_msg(strstr(err.detail, path) != NULL, "%s: file not named", bad_files[_i].name);
    ck_assert_msg(strstr(err.detail, KEY_MARK) == NULL, "%s: key quoted", bad_files[_i].name);
    ck_assert_ptr_null(strstr(err.message, path));
}
END_TEST

START_TEST(test_load_not_a_file)
{
    struct cm_keyring *kr;
    struct cm_err err = {0};
    char path[32];

    ck_assert_ptr_null(cm_keyring_load("/tmp/check_crypto_missing/keys", &err));
    ck_assert_int_eq(err.status, 500);
    ck_assert_ptr_nonnull(strstr(err.detail, "No such file"));

    snprintf(path, sizeof(path), "/tmp/check_crypto_XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(path));
    kr = cm_keyring_load(path, &err);
    rmdir(path);
    ck_assert_ptr_null(kr);
    ck_assert_ptr_nonnull(strstr(err.detail, "not a regular file"));
}
END_TEST

START_TEST(test_load_too_large)
{
    struct cm_keyring *kr;
    struct cm_err err = {0};
    char path[32];
    size_t len = 64 * 1024 + 1;
    char *big = malloc(len + 1);

    ck_assert_ptr_nonnull(big);
    memset(big, '#', len);
    big[len] = '\0';
    write_file(path, big, 0600);
    free(big);
    kr = cm_keyring_load(path, &err);
    unlink(path);
    ck_assert_ptr_null(kr);
    ck_assert_ptr_nonnull(strstr(err.detail, "larger than"));
}
END_TEST

START_TEST(test_free_null)
{
    cm_keyring_free(NULL);
}
END_TEST

static void seal_ok(const struct cm_keyring *kr, const void *aad, size_t aadlen, const void *plain,
                    size_t len, unsigned char **blob, size_t *bloblen)
{
    struct cm_err err = {0};
    const char *kid = NULL;

    ck_assert_int_eq(cm_seal(kr, aad, aadlen, plain, len, blob, bloblen, &kid, &err), 0);
    ck_assert_uint_eq(*bloblen, len + CM_SEAL_OVERHEAD);
    ck_assert_str_eq(kid, cm_keyring_active_id(kr));
}

/* Asserts that opening fails with a 500 whose detail holds want and not the
 * plaintext "TOPSECRET" the failure tests seal. */
static void open_fails(const struct cm_keyring *kr, const char *kid, const void *aad, size_t aadlen,
                       const unsigned char *blob, size_t bloblen, const char *want)
{
    struct cm_err err = {0};
    char *plain = (char *)"untouched";
    size_t plainlen = 12345;

    ck_assert_int_eq(cm_open(kr, kid, aad, aadlen, blob, bloblen, &plain, &plainlen, &err), -1);
    ck_assert_str_eq(plain, "untouched");
    ck_assert_uint_eq(plainlen, 12345);
    ck_assert_int_eq(err.status, 500);
    ck_assert_msg(strstr(err.detail, want) != NULL, "detail \"%s\"", err.detail);
    ck_assert_ptr_null(strstr(err.detail, "TOPSECRET"));
    ck_assert_ptr_null(strstr(err.detail, KEY_MARK));
}

static const size_t round_trip_sizes[] = {0, 1, 15, 16, 17, 5000};

START_TEST(test_round_trip)
{
    size_t len = round_trip_sizes[_i];
    struct cm_keyring *kr = load("k1 " H1 "\n");
    struct cm_err err = {0};
    unsigned char *in = malloc(len + 1);
    unsigned char *blob = NULL;
    size_t bloblen = 0;
    char *out = NULL;
    size_t outlen = 0;

    ck_assert_ptr_nonnull(in);
    for (size_t i = 0; i < len; i++)
        in[i] = (unsigned char)(i * 7 + 3); /* every byte value, NUL included */
    seal_ok(kr, "row", 3, in, len, &blob, &bloblen);
    ck_assert_int_eq(cm_open(kr, "k1", "row", 3, blob, bloblen, &out, &outlen, &err), 0);
    ck_assert_uint_eq(outlen, len);
    if (len > 0)
        ck_assert_mem_eq(out, in, len);
    ck_assert_int_eq(out[len], '\0');
    free(out);
    free(blob);
    free(in);
    cm_keyring_free(kr);
}
END_TEST

START_TEST(test_round_trip_text_and_no_aad)
{
    struct cm_keyring *kr = load("k1 " H1 "\n");
    struct cm_err err = {0};
    unsigned char *blob = NULL;
    size_t bloblen = 0;
    char *out = NULL;
    size_t outlen = 0;

    ck_assert_int_eq(cm_seal(kr, NULL, 0, "sk_live_123", 11, &blob, &bloblen, NULL, &err), 0);
    ck_assert_int_eq(cm_open(kr, "k1", NULL, 0, blob, bloblen, &out, &outlen, &err), 0);
    ck_assert_str_eq(out, "sk_live_123");
    free(out);
    open_fails(kr, "k1", "x", 1, blob, bloblen, "authentication failed");
    free(blob);
    cm_keyring_free(kr);
}
END_TEST

START_TEST(test_nonce_is_fresh)
{
    struct cm_keyring *kr = load("k1 " H1 "\n");
    unsigned char *a = NULL;
    unsigned char *b = NULL;
    size_t alen = 0;
    size_t blen = 0;

    seal_ok(kr, "row", 3, "same", 4, &a, &alen);
    seal_ok(kr, "row", 3, "same", 4, &b, &blen);
    ck_assert_int_ne(memcmp(a, b, CM_SEAL_NONCE), 0);
    ck_assert_int_ne(memcmp(a + CM_SEAL_NONCE, b + CM_SEAL_NONCE, alen - CM_SEAL_NONCE), 0);
    free(a);
    free(b);
    cm_keyring_free(kr);
}
END_TEST

START_TEST(test_wrong_aad)
{
    struct cm_keyring *kr = load("k1 " H1 "\n");
    const char *const ab_c[] = {"ab", "c"};
    const char *const a_bc[] = {"a", "bc"};
    unsigned char *aad1 = NULL;
    unsigned char *aad2 = NULL;
    size_t aad1len = 0;
    size_t aad2len = 0;
    unsigned char *blob = NULL;
    size_t bloblen = 0;

    aad1 = cm_aad_build(&aad1len, 2, ab_c);
    aad2 = cm_aad_build(&aad2len, 2, a_bc);
    ck_assert_ptr_nonnull(aad1);
    ck_assert_ptr_nonnull(aad2);
    seal_ok(kr, aad1, aad1len, "TOPSECRET", 9, &blob, &bloblen);
    open_fails(kr, "k1", aad2, aad2len, blob, bloblen, "authentication failed");
    open_fails(kr, "k1", NULL, 0, blob, bloblen, "authentication failed");
    open_fails(kr, "k1", aad1, aad1len - 1, blob, bloblen, "authentication failed");
    free(aad1);
    free(aad2);
    free(blob);
    cm_keyring_free(kr);
}
END_TEST

/* Every single-bit change anywhere in the blob (nonce, ciphertext, tag) is
 * caught. */
START_TEST(test_bit_flips)
{
    struct cm_keyring *kr = load("k1 " H1 "\n");
    unsigned char *blob = NULL;
    size_t bloblen = 0;

    seal_ok(kr, "row", 3, "TOPSECRET_PAYLOAD", 17, &blob, &bloblen);
    for (size_t i = 0; i < bloblen; i++) {
        for (int bit = 0; bit < 8; bit++) {
            blob[i] ^= (unsigned char)(1u << bit);
            open_fails(kr, "k1", "row", 3, blob, bloblen, "authentication failed");
            blob[i] ^= (unsigned char)(1u << bit);
        }
    }
    free(blob);
    cm_keyring_free(kr);
}
END_TEST

START_TEST(test_truncated_and_extended)
{
    struct cm_keyring *kr = load("k1 " H1 "\n");
    unsigned char *blob = NULL;
    unsigned char *longer;
    size_t bloblen = 0;

    seal_ok(kr, "row", 3, "TOPSECRET", 9, &blob, &bloblen);
    for (size_t len = 0; len < bloblen; len++)
        open_fails(kr, "k1", "row", 3, blob, len,
                   len < CM_SEAL_OVERHEAD ? "shorter than nonce and tag" : "authentication failed");
    longer = malloc(bloblen + 1);
    ck_assert_ptr_nonnull(longer);
    memcpy(longer, blob, bloblen);
    longer[bloblen] = 0;
    open_fails(kr, "k1", "row", 3, longer, bloblen + 1, "authentication failed");
    free(longer);
    free(blob);
    cm_keyring_free(kr);
}
END_TEST

START_TEST(test_unknown_key_id)
{
    struct cm_keyring *kr = load("k1 " H1 "\n");
    unsigned char *blob = NULL;
    size_t bloblen = 0;

    seal_ok(kr, "row", 3, "TOPSECRET", 9, &blob, &bloblen);
    open_fails(kr, "k2", "row", 3, blob, bloblen, "unknown key id 'k2'");
    open_fails(kr, "", "row", 3, blob, bloblen, "unknown key id");
    free(blob);
    cm_keyring_free(kr);
}
END_TEST

/* Rotation: rows sealed before a new key was appended still open, new seals
 * use the new key, and a key id bound to other material fails to open. */
START_TEST(test_rotation)
{
    struct cm_keyring *old = load("k1 " H1 "\n");
    struct cm_keyring *both = load("k1 " H1 "\nk2 " H2 "\n");
    struct cm_keyring *impostor = load("k1 " H2 "\n");
    struct cm_err err = {0};
    unsigned char *b1 = NULL;
    unsigned char *b2 = NULL;
    size_t b1len = 0;
    size_t b2len = 0;
    char *out = NULL;
    size_t outlen = 0;

    ck_assert_str_eq(cm_keyring_active_id(both), "k2");
    ck_assert_int_eq(cm_keyring_has(both, "k1"), 1);
    seal_ok(old, "row", 3, "TOPSECRET-1", 11, &b1, &b1len);
    seal_ok(both, "row", 3, "TOPSECRET-2", 11, &b2, &b2len);

    ck_assert_int_eq(cm_open(both, "k1", "row", 3, b1, b1len, &out, &outlen, &err), 0);
    ck_assert_str_eq(out, "TOPSECRET-1");
    free(out);
    ck_assert_int_eq(cm_open(both, "k2", "row", 3, b2, b2len, &out, &outlen, &err), 0);
    ck_assert_str_eq(out, "TOPSECRET-2");
    free(out);

    open_fails(old, "k2", "row", 3, b2, b2len, "unknown key id 'k2'");
    open_fails(both, "k2", "row", 3, b1, b1len, "authentication failed");
    open_fails(both, "k1", "row", 3, b2, b2len, "authentication failed");
    open_fails(impostor, "k1", "row", 3, b1, b1len, "authentication failed");

    free(b1);
    free(b2);
    cm_keyring_free(old);
    cm_keyring_free(both);
    cm_keyring_free(impostor);
}
END_TEST

START_TEST(test_aad_build)
{
    static const unsigned char want[] = {0, 0, 0, 2, 'a', 'b', 0, 0, 0, 1, 'c', 0, 0, 0, 0};
    const char *const parts[] = {"ab", "c", ""};
    const char *const with_null[] = {"ab", NULL};
    unsigned char *buf;
    size_t len = 99;

    buf = cm_aad_build(&len, 3, parts);
    ck_assert_ptr_nonnull(buf);
    ck_assert_uint_eq(len, sizeof(want));
    ck_assert_mem_eq(buf, want, sizeof(want));
    free(buf);

    buf = cm_aad_build(&len, 0, NULL);
    ck_assert_ptr_nonnull(buf);
    ck_assert_uint_eq(len, 0);
    free(buf);

    len = 99;
    ck_assert_ptr_null(cm_aad_build(&len, 2, with_null));
    ck_assert_uint_eq(len, 99);
}
END_TEST

/* A part of 0x01010102 bytes (about 16 MiB) puts every length byte to use. */
START_TEST(test_aad_build_long_part)
{
    size_t plen = 0x01010102;
    char *part = malloc(plen + 1);
    const char *parts[1];
    unsigned char *buf;
    size_t len = 0;

    ck_assert_ptr_nonnull(part);
    memset(part, 'x', plen);
    part[plen] = '\0';
    parts[0] = part;
    buf = cm_aad_build(&len, 1, parts);
    ck_assert_ptr_nonnull(buf);
    ck_assert_uint_eq(len, 4 + plen);
    ck_assert_int_eq(buf[0], 0x01);
    ck_assert_int_eq(buf[1], 0x01);
    ck_assert_int_eq(buf[2], 0x01);
    ck_assert_int_eq(buf[3], 0x02);
    ck_assert_int_eq(buf[4 + plen - 1], 'x');
    free(buf);
    free(part);
}
END_TEST

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* The runner declares the suites itself, from a list grepped out of the sources. */
extern Suite *suite_crypto(void);

Suite *suite_crypto(void)
{
    Suite *s = suite_create("crypto");
    TCase *keys = tcase_create("keyring");
    TCase *seal = tcase_create("seal");

    tcase_add_loop_test(keys, test_load_good, 0, N(good_files));
    tcase_add_loop_test(keys, test_load_bad, 0, N(bad_files));
    tcase_add_test(keys, test_load_not_a_file);
    tcase_add_test(keys, test_load_too_large);
    tcase_add_test(keys, test_free_null);
    suite_add_tcase(s, keys);

    tcase_add_loop_test(seal, test_round_trip, 0, N(round_trip_sizes));
    tcase_add_test(seal, test_round_trip_text_and_no_aad);
    tcase_add_test(seal, test_nonce_is_fresh);
    tcase_add_test(seal, test_wrong_aad);
    tcase_add_test(seal, test_bit_flips);
    tcase_add_test(seal, test_truncated_and_extended);
    tcase_add_test(seal, test_unknown_key_id);
    tcase_add_test(seal, test_rotation);
    tcase_add_test(seal, test_aad_build);
    tcase_add_test(seal, test_aad_build_long_part);
    suite_add_tcase(s, seal);
    return s;
}
