/* Tests for cm/auth.h. Header parsing, masking and permission lists are
 * pure tables; key resolution runs against the migrated scratch cluster
 * through dbfixture, with fresh accounts, apps and keys per test. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "cm/auth.h"
#include "dbfixture.h"
#include "cm/banned.h"

#define NO_KEY  "You did not provide an API key."
#define INVALID "Invalid API Key provided: "
#define KEY_BUF (CM_KEY_MAX + 1)

static const struct cm_stmt *const sets[] = {cm_auth_stmts, NULL};

/* "Basic " + base64(raw) into out. */
static void basic(const char *scheme, const char *raw, char *out, size_t cap)
{
    unsigned char b64[512];
    int n = EVP_EncodeBlock(b64, (const unsigned char *)raw, (int)strlen(raw));

    ck_assert_int_gt(n, 0);
    n = snprintf(out, cap, "%s %s", scheme, (const char *)b64);
    ck_assert(n > 0 && (size_t)n < cap);
}

/* Header cases: want is the key, or NULL for a failure whose message starts
 * with msg. */
static const struct {
    const char *header;
    const char *want;
    const char *msg;
} header_cases[] = {
    {"Bearer sk_test_abc", "sk_test_abc", NULL},
    {"bearer sk_test_abc", "sk_test_abc", NULL},
    {"BEARER \t sk_test_abc \t", "sk_test_abc", NULL},
    {"  Bearer sk_test_abc", "sk_test_abc", NULL},
    {NULL, NULL, NO_KEY},
    {"", NULL, NO_KEY},
    {"   ", NULL, NO_KEY},
    {"Bearer", NULL, NO_KEY},
    {"Bearer   ", NULL, NO_KEY},
    {"Basic", NULL, NO_KEY},
    {"Basic ", NULL, NO_KEY},
    {"Basic Onh4", NULL, NO_KEY},                    /* ":xx": empty user */
    {"Basic c2tfdGVzdF9hYmM6", "sk_test_abc", NULL}, /* "sk_test_abc:" */
    {"Basic c2tfdGVzdF9hYg==", "sk_test_ab", NULL},
    {"Basic c2tfdGVzdF9hYg", "sk_test_ab", NULL}, /* padding left out */
    {"Basic QQ", "A", NULL},                      /* shape is resolve's concern */
    {"Basic QQ=", NULL, INVALID},                 /* incomplete padding */
    {"Basic QQ==QQ==", NULL, INVALID},            /* padding not final */
    {"Basic Q", NULL, INVALID},                   /* a lone symbol */
    {"Basic !!!!", NULL, INVALID},
    {"Basic AQID", NULL, INVALID}, /* decodes to control bytes */
    {"Token sk_test_abc", NULL, INVALID},
    {"Bearersk_test_abc", NULL, INVALID},
    {"sk_test_abcdefghijklmnop", NULL, INVALID},
    {"Bearer sk_test_a b", NULL, INVALID},
    {"Bearer sk_test_\001abc", NULL, INVALID},
    {"Bearer sk_test_\xc3\xa9t\xc3\xa9", NULL, INVALID},
};

START_TEST(test_parse_header_table)
{
    const char *h = header_cases[_i].header;
    struct cm_err err = {0};
    char key[KEY_BUF];
    int rc = cm_auth_parse_header(h, key, sizeof(key), &err);

    if (header_cases[_i].want != NULL) {
        ck_assert_msg(rc == 0, "case %d '%s': %s", _i, h, err.message);
        ck_assert_str_eq(key, header_cases[_i].want);
        return;
    }
    ck_assert_msg(rc == -1, "case %d '%s' accepted as '%s'", _i, h ? h : "(null)", key);
    ck_assert_int_eq(err.status, 401);
    ck_assert_int_eq(err.type, CM_ERR_INVALID_REQUEST);
    ck_assert_str_eq(err.code, "");
    ck_assert_str_eq(err.param, "");
    ck_assert_msg(strncmp(err.message, header_cases[_i].msg, strlen(header_cases[_i].msg)) == 0,
                  "case %d: %s", _i, err.message);
    ck_assert_str_eq(key, "");
}
END_TEST

START_TEST(test_parse_basic_with_and_without_password)
{
    static const char *const raws[] = {"sk_test_abc:", "sk_test_abc:some:password", "sk_test_abc"};
    static const char *const schemes[] = {"Basic", "basic", "BASIC"};
    struct cm_err err = {0};
    char header[256];
    char key[KEY_BUF];

    for (size_t i = 0; i < sizeof(raws) / sizeof(raws[0]); i++) {
        basic(schemes[i], raws[i], header, sizeof(header));
        ck_assert_msg(cm_auth_parse_header(header, key, sizeof(key), &err) == 0, "%s: %s", header,
                      err.message);
        ck_assert_str_eq(key, "sk_test_abc");
    }
}
END_TEST

START_TEST(test_parse_overlong_and_exact_length)
{
    struct cm_err err = {0};
    char raw[CM_KEY_MAX + 2];
    char header[CM_KEY_MAX + 64];
    char key[KEY_BUF];

    memset(raw, 'x', sizeof(raw));
    memcpy(raw, "sk_test_", 8);
    raw[CM_KEY_MAX] = '\0'; /* exactly CM_KEY_MAX */
    snprintf(header, sizeof(header), "Bearer %s", raw);
    ck_assert_int_eq(cm_auth_parse_header(header, key, sizeof(key), &err), 0);
    ck_assert_str_eq(key, raw);

    raw[CM_KEY_MAX] = 'y';
    raw[CM_KEY_MAX + 1] = '\0';
    snprintf(header, sizeof(header), "Bearer %s", raw);
    ck_assert_int_eq(cm_auth_parse_header(header, key, sizeof(key), &err), -1);
    ck_assert_int_eq(err.status, 401);
    ck_assert_ptr_nonnull(strstr(err.message, INVALID "sk_test_****"));
    ck_assert_ptr_null(strstr(err.message, raw));

    basic("Basic", raw, header, sizeof(header));
    ck_assert_int_eq(cm_auth_parse_header(header, key, sizeof(key), &err), -1);
    ck_assert_int_eq(err.status, 401);
    ck_assert_ptr_null(strstr(err.message, raw));
}
END_TEST

START_TEST(test_parse_invalid_message_is_masked)
{
    struct cm_err err = {0};
    char key[KEY_BUF];

    ck_assert_int_eq(cm_auth_parse_header("Token sk_test_ABCDEFGHIJKLmnop", key, sizeof(key), &err),
                     -1);
    ck_assert_str_eq(err.message, INVALID "Token?sk******************mnop");
}
END_TEST

static const struct {
    const char *key;
    const char *want;
} mask_cases[] = {
    {"sk_test_abcdefghijklmnopqrstuvwxyz", "sk_test_**********************wxyz"},
    {"sk_test_ABCDabcd", "sk_test_****abcd"}, /* 16: the shortest shown in part */
    {"sk_test_ABCDabc", "***************"},   /* 15: starred entirely */
    {"short", "*****"},
    {"", ""},
    {"sk\001test_ABCD"
     "ab\x7f"
     "d",
     "sk?test_****ab?d"},
};

START_TEST(test_mask_table)
{
    char out[CM_KEY_MAX + 1];

    cm_auth_mask(mask_cases[_i].key, out, sizeof(out));
    ck_assert_str_eq(out, mask_cases[_i].want);
}
END_TEST

START_TEST(test_mask_long_and_small_buffers)
{
    char key[301];
    char out[CM_KEY_MAX + 8];
    char small[5];

    memset(key, '*', sizeof(key));
    memcpy(key, "sk_live_", 8);
    memcpy(key + 296, "WXYZ", 4);
    key[300] = '\0';
    cm_auth_mask(key, out, sizeof(out));
    ck_assert_uint_eq(strlen(out), CM_KEY_MAX);
    ck_assert(strncmp(out, "sk_live_****", 12) == 0);
    ck_assert_str_eq(out + CM_KEY_MAX - 4, "WXYZ");

    cm_auth_mask("sk_test_abcdefghijklmnop", small, sizeof(small));
    ck_assert_str_eq(small, "sk_t");
    cm_auth_mask(NULL, small, sizeof(small));
    ck_assert_str_eq(small, "");
}
END_TEST

static const struct {
    const char *perms;
    const char *perm;
    int want;
} perm_cases[] = {
    {"secret_write,secret_read", "secret_write", 1},
    {"secret_write,secret_read", "secret_read", 1},
    {"secret_write", "secret_write", 1},
    {"secret_write,secret_read", "secret", 0},
    {"secret_write,secret_read", "ecret_read", 0},
    {"secret_write,secret_read", "secret_write,secret_read", 0},
    {"secret_write,secret_read", "", 0},
    {"", "secret_write", 0},
    {",secret_write,", "secret_write", 1},
    {"a,,b", "", 0},
};

START_TEST(test_has_permission_table)
{
    struct cm_auth a = {.installed = 1};

    snprintf(a.app_id, sizeof(a.app_id), "app_x");
    snprintf(a.permissions, sizeof(a.permissions), "%s", perm_cases[_i].perms);
    ck_assert_int_eq(cm_auth_has_permission(&a, perm_cases[_i].perm), perm_cases[_i].want);
}
END_TEST

START_TEST(test_has_permission_needs_installed_app)
{
    struct cm_auth a = {.installed = 1};

    snprintf(a.permissions, sizeof(a.permissions), "secret_write");
    ck_assert_int_eq(cm_auth_has_permission(&a, "secret_write"), 0); /* account key */
    snprintf(a.app_id, sizeof(a.app_id), "app_x");
    a.installed = 0;
    ck_assert_int_eq(cm_auth_has_permission(&a, "secret_write"), 0);
    a.installed = 1;
    ck_assert_int_eq(cm_auth_has_permission(&a, "secret_write"), 1);
}
END_TEST

/* Resolution against the database. */

static void expect_invalid(struct cm_db *db, const char *key, const char *acct)
{
    struct cm_err err = {0};
    struct cm_auth a;

    memset(&a, 0x5a, sizeof(a));
    ck_assert_int_eq(cm_auth_resolve(db, key, acct, &a, &err), -1);
    ck_assert_int_eq(err.status, 401);
    ck_assert_int_eq(err.type, CM_ERR_INVALID_REQUEST);
    ck_assert_msg(strncmp(err.message, INVALID, strlen(INVALID)) == 0, "%s", err.message);
    if (strlen(key) > 20) /* never the secret half */
        ck_assert_ptr_null(strstr(err.message, key + 20));
    ck_assert_str_eq(a.key_id, ""); /* zeroed on failure */
    ck_assert_int_eq(a.installed, 0);
}

static void expect_no_access(struct cm_db *db, const char *key, const char *acct)
{
    struct cm_err err = {0};
    struct cm_auth a;
    char want[256];
    char masked[CM_KEY_MAX + 1];

    ck_assert_int_eq(cm_auth_resolve(db, key, acct, &a, &err), -1);
    ck_assert_int_eq(err.status, 403);
    ck_assert_int_eq(err.type, CM_ERR_INVALID_REQUEST);
    ck_assert_str_eq(err.code, "account_invalid");
    cm_auth_mask(key, masked, sizeof(masked));
    int n;

    n = snprintf(want, sizeof(want),
                 "The provided key '%s' does not have access to account '%s' (or that account does "
                 "not exist). Application access may have been revoked.",
                 masked, acct);
    ck_assert(n > 0 && (size_t)n < sizeof(want));
    ck_assert_str_eq(err.message, want);
    ck_assert_str_eq(a.account, "");
}

START_TEST(test_resolve_account_key)
{
    struct cm_db *db = dbfix_open(sets);
    struct cm_err err = {0};
    struct cm_auth a;
    char acct[CM_ID_MAX], key[KEY_BUF], live[KEY_BUF], key_id[CM_ID_MAX];
    char header[KEY_BUF + 16];

    dbfix_account(db, acct);
    dbfix_key(db, acct, NULL, 0, key);
    dbfix_key(db, acct, NULL, 1, live);
    dbfix_key_id(db, key, key_id);

    snprintf(header, sizeof(header), "Bearer %s", key);
    ck_assert_int_eq(cm_auth_parse_header(header, key, sizeof(key), &err), 0);
    ck_assert_msg(cm_auth_resolve(db, key, NULL, &a, &err) == 0, "%s %s", err.message, err.detail);
    ck_assert_str_eq(a.key_id, key_id);
    ck_assert_int_eq(strlen(a.key_prefix), 12);
    ck_assert(strncmp(a.key_prefix, key, 12) == 0);
    ck_assert_int_eq(a.livemode, 0);
    ck_assert_str_eq(a.key_account, acct);
    ck_assert_str_eq(a.account, acct);
    ck_assert_str_eq(a.app_id, "");
    ck_assert_int_eq(a.installed, 0);
    ck_assert_str_eq(a.permissions, "");

    /* Its own account named explicitly, or an empty header, is the same. */
    ck_assert_int_eq(cm_auth_resolve(db, key, acct, &a, &err), 0);
    ck_assert_str_eq(a.account, acct);
    ck_assert_int_eq(cm_auth_resolve(db, key, "", &a, &err), 0);
    ck_assert_str_eq(a.account, acct);

    ck_assert_int_eq(cm_auth_resolve(db, live, NULL, &a, &err), 0);
    ck_assert_int_eq(a.livemode, 1);
    ck_assert(strncmp(a.key_prefix, "sk_live_", 8) == 0);
    dbfix_drop_account(db, acct);
    cm_db_free(db);
}
END_TEST

START_TEST(test_resolve_rejects_bad_keys)
{
    struct cm_db *db = dbfix_open(sets);
    char acct[CM_ID_MAX], key[KEY_BUF], bad[KEY_BUF];
    size_t len;

    dbfix_account(db, acct);
    dbfix_key(db, acct, NULL, 0, key);
    len = strlen(key);

    /* Right lookup, one character of the secret changed. */
    memcpy(bad, key, len + 1);
    bad[len - 1] = bad[len - 1] == 'A' ? 'B' : 'A';
    expect_invalid(db, bad, NULL);
    /* Unknown lookup. */
    memcpy(bad, key, len + 1);
    bad[8] = bad[8] == 'A' ? 'B' : 'A';
    expect_invalid(db, bad, NULL);
    /* The same key under the other mode's prefix, and as a restricted key. */
    memcpy(bad, key, len + 1);
    memcpy(bad, "sk_live_", 8);
    expect_invalid(db, bad, NULL);
    memcpy(bad, "rk_test_", 8);
    expect_invalid(db, bad, NULL);
    /* Shapes refused before any query. */
    expect_invalid(db, "sk_test_", NULL);
    expect_invalid(db, "sk_test_ABCDEFGHIJKL", NULL); /* lookup without a secret */
    memcpy(bad, key, len + 1);
    bad[len - 2] = '-';
    expect_invalid(db, bad, NULL);
    expect_invalid(db, "pk_test_ABCDEFGHIJKLmnopqrstuvwxyz0123456789", NULL);
    /* 401 wins over a bad Stripe-Account. */
    expect_invalid(db, "sk_test_", "nonsense");

    /* Stored mode differing from the prefix. */
    dbfix_do(db, "UPDATE core.api_keys SET livemode = true WHERE lookup = substr($1, 9, 12)", 1,
             (const char *[]){key});
    expect_invalid(db, key, NULL);
    dbfix_do(db, "UPDATE core.api_keys SET livemode = false WHERE lookup = substr($1, 9, 12)", 1,
             (const char *[]){key});
    /* Revoked. */
    dbfix_do(db, "UPDATE core.api_keys SET revoked_at = now() WHERE lookup = substr($1, 9, 12)", 1,
             (const char *[]){key});
    expect_invalid(db, key, NULL);
    dbfix_drop_account(db, acct);
    cm_db_free(db);
}
END_TEST

START_TEST(test_resolve_stripe_account_for_account_key)
{
    static const char *const malformed[] = {
        "acct_",
        "acct",
        "acct_a-b",
        "ACCT_abc",
        "acct_abc ",
        " acct_abc",
        "acct_\xc3\xa9",
        "acct_0123456789012345678901234567890123456789012345678901234567890123456789",
    };
    struct cm_db *db = dbfix_open(sets);
    struct cm_err err = {0};
    struct cm_auth a;
    char acct[CM_ID_MAX], other[CM_ID_MAX], key[KEY_BUF];

    dbfix_account(db, acct);
    dbfix_account(db, other);
    dbfix_key(db, acct, NULL, 0, key);
    ck_assert_int_eq(cm_auth_resolve(db, key, acct, &a, &err), 0);
    expect_no_access(db, key, other);
    expect_no_access(db, key, "acct_doesnotexist");
    for (size_t i = 0; i < sizeof(malformed) / sizeof(malformed[0]); i++) {
        ck_assert_int_eq(cm_auth_resolve(db, key, malformed[i], &a, &err), -1);
        ck_assert_int_eq(err.status, 403);
        ck_assert_str_eq(err.code, "account_invalid");
    }
    /* The client's text is shown printable. */
    ck_assert_ptr_nonnull(strstr(err.message, "account 'acct_0123"));
    ck_assert_int_eq(cm_auth_resolve(db, key, "acct_\n\001", &a, &err), -1);
    ck_assert_ptr_nonnull(strstr(err.message, "account 'acct_?\?'"));
    dbfix_drop_account(db, acct);
    dbfix_drop_account(db, other);
    cm_db_free(db);
}
END_TEST

START_TEST(test_resolve_app_key_installations)
{
    struct cm_db *db = dbfix_open(sets);
    struct cm_err err = {0};
    struct cm_auth a;
    char owner[CM_ID_MAX], merchant[CM_ID_MAX], stranger[CM_ID_MAX], app[CM_ID_MAX];
    char key[KEY_BUF], live[KEY_BUF];

    dbfix_account(db, owner);
    dbfix_account(db, merchant);
    dbfix_account(db, stranger);
    dbfix_app(db, owner, "secret_write,event_read", app);
    dbfix_key(db, owner, app, 0, key);
    dbfix_key(db, owner, app, 1, live);
    dbfix_install(db, app, merchant, 0);

    ck_assert_msg(cm_auth_resolve(db, key, merchant, &a, &err) == 0, "%s %s", err.message,
                  err.detail);
    ck_assert_str_eq(a.app_id, app);
    ck_assert_str_eq(a.key_account, owner);
    ck_assert_str_eq(a.account, merchant);
    ck_assert_int_eq(a.installed, 1);
    ck_assert_int_eq(a.livemode, 0);
    ck_assert_int_eq(cm_auth_has_permission(&a, "secret_write"), 1);
    ck_assert_int_eq(cm_auth_has_permission(&a, "event_read"), 1);
    ck_assert_int_eq(cm_auth_has_permission(&a, "secret_read"), 0);

    /* Not installed there, or installed only in the other mode. */
    expect_no_access(db, key, stranger);
    expect_no_access(db, live, merchant);
    expect_no_access(db, key, owner);

    /* Without Stripe-Account an app key acts for its owner, uninstalled. */
    ck_assert_int_eq(cm_auth_resolve(db, key, NULL, &a, &err), 0);
    ck_assert_str_eq(a.account, owner);
    ck_assert_int_eq(a.installed, 0);
    ck_assert_str_eq(a.permissions, "");
    ck_assert_int_eq(cm_auth_has_permission(&a, "secret_write"), 0);

    /* An uninstall locks the app out on the very next request. */
    dbfix_uninstall(db, app, merchant, 0);
    expect_no_access(db, key, merchant);
    dbfix_drop_account(db, merchant);
    dbfix_drop_account(db, stranger);
    dbfix_drop_account(db, owner);
    cm_db_free(db);
}
END_TEST

START_TEST(test_resolve_app_key_no_permissions)
{
    struct cm_db *db = dbfix_open(sets);
    struct cm_err err = {0};
    struct cm_auth a;
    char owner[CM_ID_MAX], merchant[CM_ID_MAX], app[CM_ID_MAX], key[KEY_BUF];

    dbfix_account(db, owner);
    dbfix_account(db, merchant);
    dbfix_app(db, owner, "", app);
    dbfix_key(db, owner, app, 1, key);
    dbfix_install(db, app, merchant, 1);
    ck_assert_int_eq(cm_auth_resolve(db, key, merchant, &a, &err), 0);
    ck_assert_int_eq(a.installed, 1);
    ck_assert_int_eq(a.livemode, 1);
    ck_assert_str_eq(a.permissions, "");
    ck_assert_int_eq(cm_auth_has_permission(&a, "secret_write"), 0);
    dbfix_drop_account(db, merchant);
    dbfix_drop_account(db, owner);
    cm_db_free(db);
}
END_TEST

/* Dashboard extension tokens: the token's own user, account and app, and
 * refused once expired, once the user leaves, once the app is uninstalled. */
static void make_token(struct cm_db *db, const char *user, const char *acct, const char *app,
                       int live, const char *ttl, char *out)
{
    PGresult *res = dbfix_exec(db, "SELECT core.create_extension_token($1, $2, $3, $4, $5::int)", 5,
                               (const char *[]){user, acct, app, live ? "t" : "f", ttl});

    ck_assert_int_lt((int)strlen(PQgetvalue(res, 0, 0)), KEY_BUF);
    memcpy(out, PQgetvalue(res, 0, 0), strlen(PQgetvalue(res, 0, 0)) + 1);
    PQclear(res);
}

START_TEST(test_resolve_extension_token)
{
    struct cm_db *db = dbfix_open(sets);
    struct cm_err err = {0};
    struct cm_auth a;
    char owner[CM_ID_MAX], merchant[CM_ID_MAX], other[CM_ID_MAX], app[CM_ID_MAX];
    char user[CM_ID_MAX], email[96], tok[KEY_BUF], live[KEY_BUF], bad[KEY_BUF];
    PGresult *res;

    dbfix_account(db, owner);
    dbfix_account(db, merchant);
    dbfix_account(db, other);
    dbfix_app(db, owner, "secret_write", app);
    dbfix_install(db, app, merchant, 0);
    dbfix_install(db, app, merchant, 1);
    snprintf(email, sizeof(email), "%s@example.test", merchant);
    for (char *p = email; *p; p++)
        *p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
    res =
        dbfix_exec(db, "SELECT core.create_user($1, 'correct horse')", 1, (const char *[]){email});
    memcpy(user, PQgetvalue(res, 0, 0), strlen(PQgetvalue(res, 0, 0)) + 1);
    PQclear(res);
    dbfix_do(db, "SELECT core.add_membership($1, $2, 'admin')", 2,
             (const char *[]){user, merchant});

    make_token(db, user, merchant, app, 0, "3600", tok);
    ck_assert(strncmp(tok, "uxt_test_", 9) == 0);
    ck_assert_msg(cm_auth_resolve(db, tok, NULL, &a, &err) == 0, "%s %s", err.message, err.detail);
    ck_assert_str_eq(a.user_id, user);
    ck_assert_str_eq(a.account, merchant);
    ck_assert_str_eq(a.app_id, app);
    ck_assert_int_eq(a.installed, 1);
    ck_assert_int_eq(a.livemode, 0);
    ck_assert_int_eq(cm_auth_has_permission(&a, "secret_write"), 1);
    ck_assert(strncmp(a.key_id, "xtok_", 5) == 0);
    ck_assert_int_eq(strlen(a.key_prefix), 13);
    /* Stripe-Account may only repeat the token's own account. */
    ck_assert_int_eq(cm_auth_resolve(db, tok, merchant, &a, &err), 0);
    expect_no_access(db, tok, other);

    make_token(db, user, merchant, app, 1, "3600", live);
    ck_assert_int_eq(cm_auth_resolve(db, live, NULL, &a, &err), 0);
    ck_assert_int_eq(a.livemode, 1);

    /* A changed secret half, or a token claiming the other mode, is invalid. */
    memcpy(bad, tok, strlen(tok) + 1);
    bad[strlen(bad) - 1] = bad[strlen(bad) - 1] == 'a' ? 'b' : 'a';
    expect_invalid(db, bad, NULL);
    memcpy(bad, tok, strlen(tok) + 1);
    memcpy(bad + 4, "live", 4);
    expect_invalid(db, bad, NULL);

    /* Expired. */
    dbfix_do(db,
             "UPDATE core.extension_tokens SET expires_at = now() - interval '1 second'"
             " WHERE user_id = $1 AND livemode",
             1, (const char *[]){user});
    expect_invalid(db, live, NULL);

    /* Uninstalled: 403 at once; the user leaving the account: 401. */
    dbfix_uninstall(db, app, merchant, 0);
    ck_assert_int_eq(cm_auth_resolve(db, tok, NULL, &a, &err), -1);
    ck_assert_int_eq(err.status, 403);
    ck_assert_str_eq(err.code, "account_invalid");
    dbfix_install(db, app, merchant, 0);
    ck_assert_int_eq(cm_auth_resolve(db, tok, NULL, &a, &err), 0);
    dbfix_do(db, "DELETE FROM core.memberships WHERE user_id = $1", 1, (const char *[]){user});
    expect_invalid(db, tok, NULL);

    dbfix_do(db, "DELETE FROM core.users WHERE id = $1", 1, (const char *[]){user});
    dbfix_drop_account(db, merchant);
    dbfix_drop_account(db, other);
    dbfix_drop_account(db, owner);
    cm_db_free(db);
}
END_TEST

/* The cache and the epoch guard. */

START_TEST(test_cache_hits_and_misses)
{
    struct cm_auth_cache *c = cm_auth_cache_new();
    struct cm_auth a, out;

    memset(&a, 0, sizeof(a));
    memcpy(a.key_id, "key_cached", sizeof("key_cached"));
    a.epoch = 7;
    ck_assert_int_eq(cm_auth_cache_get(c, "sk_test_x", NULL, 100, &out), 0);
    cm_auth_cache_put(c, "sk_test_x", NULL, &a);
    ck_assert_int_eq(cm_auth_cache_get(c, "sk_test_x", NULL, 100, &out), 1);
    ck_assert_str_eq(out.key_id, "key_cached");
    ck_assert_int_eq(out.epoch, 7);
    /* Empty Stripe-Account is no Stripe-Account; another account is a miss. */
    ck_assert_int_eq(cm_auth_cache_get(c, "sk_test_x", "", 100, &out), 1);
    ck_assert_int_eq(cm_auth_cache_get(c, "sk_test_x", "acct_1", 100, &out), 0);
    ck_assert_int_eq(cm_auth_cache_get(c, "sk_test_y", NULL, 100, &out), 0);
    /* A token is a hit only until it expires. */
    a.expires_at = 150;
    cm_auth_cache_put(c, "uxt_test_t", "acct_1", &a);
    ck_assert_int_eq(cm_auth_cache_get(c, "uxt_test_t", "acct_1", 119, &out), 1);
    ck_assert_int_eq(cm_auth_cache_get(c, "uxt_test_t", "acct_1", 120, &out), 0);
    ck_assert_int_eq(cm_auth_cache_get(c, "uxt_test_t", "acct_1", 100, &out), 0);
    cm_auth_cache_clear(c);
    ck_assert_int_eq(cm_auth_cache_get(c, "sk_test_x", NULL, 100, &out), 0);
    cm_auth_cache_free(c);
    cm_auth_cache_free(NULL);
}
END_TEST

START_TEST(test_epoch_guard_fails_after_any_access_change)
{
    static const struct cm_stmt probe[] = {{"probe_count", "SELECT count(*) FROM core.accounts", 0},
                                           {NULL, NULL, 0}};
    static const struct cm_stmt *const gsets[] = {cm_auth_stmts, probe, NULL};
    struct cm_db *db = dbfix_open(gsets);
    struct cm_err err = {0};
    struct cm_auth a, b;
    char owner[CM_ID_MAX], merchant[CM_ID_MAX], app[CM_ID_MAX], key[KEY_BUF], other[KEY_BUF];
    char epoch[24];
    PGresult *res;

    dbfix_account(db, owner);
    dbfix_account(db, merchant);
    dbfix_app(db, owner, "secret_write", app);
    dbfix_key(db, owner, app, 0, key);
    dbfix_key(db, owner, NULL, 0, other);
    dbfix_install(db, app, merchant, 0);
    ck_assert_int_eq(cm_auth_resolve(db, key, merchant, &a, &err), 0);
    ck_assert_int_gt(a.epoch, 0);
    snprintf(epoch, sizeof(epoch), "%lld", a.epoch);

    /* Unchanged: the guard holds and the statement behind it runs. */
    ck_assert_int_eq(cm_db_guard(db, "cm_auth_guard", 1, (const char *[]){epoch}, &err), 0);
    res = cm_db_exec(db, "probe_count", 0, NULL, &err);
    ck_assert_msg(res != NULL, "%s", err.detail);
    PQclear(res);
    ck_assert_int_eq(cm_db_guard_flush(db, &err), 0); /* nothing pending: no-op */

    /* Revoking any key moves the epoch: the guard fails its flight. */
    dbfix_do(db,
             "UPDATE core.api_keys SET revoked_at = now() WHERE account_id = $1 AND app_id IS NULL",
             1, (const char *[]){owner});
    ck_assert_int_eq(cm_db_guard(db, "cm_auth_guard", 1, (const char *[]){epoch}, &err), 0);
    ck_assert_ptr_null(cm_db_exec(db, "probe_count", 0, NULL, &err));
    ck_assert_str_eq(cm_db_sqlstate(db), CM_AUTH_STALE_SQLSTATE);
    /* The guard went with that flight: the next statement runs unguarded. */
    res = cm_db_exec(db, "probe_count", 0, NULL, &err);
    ck_assert_ptr_nonnull(res);
    PQclear(res);

    /* So do an uninstall and an install: each resolution sees the epoch of
     * its own statement. */
    ck_assert_int_eq(cm_auth_resolve(db, key, merchant, &b, &err), 0);
    ck_assert_int_gt(b.epoch, a.epoch);
    dbfix_uninstall(db, app, merchant, 0);
    snprintf(epoch, sizeof(epoch), "%lld", b.epoch);
    ck_assert_int_eq(cm_db_guard(db, "cm_auth_guard", 1, (const char *[]){epoch}, &err), 0);
    ck_assert_int_eq(cm_db_guard_flush(db, &err), -1);
    ck_assert_str_eq(cm_db_sqlstate(db), CM_AUTH_STALE_SQLSTATE);

    /* In a transaction, the guard fails the statement and what follows. */
    ck_assert_int_eq(cm_db_begin(db, &err), 0);
    ck_assert_int_eq(cm_db_guard(db, "cm_auth_guard", 1, (const char *[]){epoch}, &err), 0);
    ck_assert_ptr_null(cm_db_exec(db, "probe_count", 0, NULL, &err));
    ck_assert_str_eq(cm_db_sqlstate(db), CM_AUTH_STALE_SQLSTATE);
    cm_db_rollback(db);

    dbfix_drop_account(db, merchant);
    dbfix_drop_account(db, owner);
    cm_db_free(db);
}
END_TEST

/* A statement carrying the guard itself (cm_db_exec_guarded): the pending
 * guard's epoch goes in as its last parameter and no guard statement of its
 * own goes out; the check runs before anything is read, so a statement that
 * matches no row still fails on a stale epoch, and a deferred write in its
 * flight never commits. */
START_TEST(test_guard_carried_by_the_statement)
{
    static const struct cm_stmt probe[] = {
        {"probe_guarded",
         "SELECT name FROM core.accounts WHERE id = $1 AND " CM_AUTH_GUARD_SQL("$2"), 2},
        {"probe_rename", "UPDATE core.accounts SET name = $2 WHERE id = $1", 2},
        {"probe_epoch_typed", "SELECT $1::bigint WHERE " CM_AUTH_GUARD_SQL("$2"), 2},
        {NULL, NULL, 0}};
    static const struct cm_stmt *const gsets[] = {cm_auth_stmts, probe, NULL};
    struct cm_db *db = dbfix_open(gsets);
    struct cm_err err = {0};
    struct cm_auth a;
    char owner[CM_ID_MAX], merchant[CM_ID_MAX], app[CM_ID_MAX], key[KEY_BUF], epoch[24], fresh[24];
    PGresult *res;

    dbfix_account(db, owner);
    dbfix_account(db, merchant);
    dbfix_app(db, owner, "secret_write", app);
    dbfix_key(db, owner, app, 0, key);
    dbfix_install(db, app, merchant, 0);
    ck_assert_int_eq(cm_auth_resolve(db, key, merchant, &a, &err), 0);
    snprintf(epoch, sizeof(epoch), "%lld", a.epoch);

    /* No guard pending: the check passes (its parameter is NULL), whatever
     * the caller put in the last slot. */
    res = cm_db_exec_guarded(db, CM_AUTH_GUARD, "probe_guarded", 2, (const char *[]){owner, "-1"},
                             &err);
    ck_assert_msg(res != NULL, "%s", err.detail);
    ck_assert_int_eq(PQntuples(res), 1);
    PQclear(res);

    /* A current epoch: the statement runs and the guard is used up. */
    ck_assert_int_eq(cm_db_guard(db, CM_AUTH_GUARD, 1, (const char *[]){epoch}, &err), 0);
    res = cm_db_exec_guarded(db, CM_AUTH_GUARD, "probe_guarded", 2, (const char *[]){owner, NULL},
                             &err);
    ck_assert_msg(res != NULL, "%s", err.detail);
    ck_assert_int_eq(PQntuples(res), 1);
    PQclear(res);
    ck_assert_int_eq(cm_db_guard_flush(db, &err), 0);

    /* A guard of another name is not the statement's: it goes out on its own. */
    ck_assert_int_eq(cm_db_guard(db, "probe_rename", 2, (const char *[]){owner, "x"}, &err), 0);
    res = cm_db_exec_guarded(db, CM_AUTH_GUARD, "probe_guarded", 2, (const char *[]){owner, NULL},
                             &err);
    ck_assert_msg(res != NULL, "%s", err.detail);
    ck_assert_str_eq(cm_db_value(res, 0, 0), "x");
    PQclear(res);

    /* The epoch moves: a statement matching no row still fails, before
     * reading anything. Outside a transaction a failed statement leaves the
     * guard pending (it may have failed before checking anything), and
     * sending it settles it. */
    dbfix_uninstall(db, app, merchant, 0);
    ck_assert_int_eq(cm_db_guard(db, CM_AUTH_GUARD, 1, (const char *[]){epoch}, &err), 0);
    ck_assert_ptr_null(cm_db_exec_guarded(db, CM_AUTH_GUARD, "probe_guarded", 2,
                                          (const char *[]){"acct_none", NULL}, &err));
    ck_assert_str_eq(cm_db_sqlstate(db), CM_AUTH_STALE_SQLSTATE);
    ck_assert_int_eq(cm_db_guard_flush(db, &err), -1);
    ck_assert_str_eq(cm_db_sqlstate(db), CM_AUTH_STALE_SQLSTATE);
    ck_assert_int_eq(cm_db_guard_flush(db, &err), 0);

    /* A statement whose parameters do not bind checked nothing: the guard
     * is pending again, and a current epoch confirms it. */
    snprintf(fresh, sizeof(fresh), "%ld", dbfix_long(db, "SELECT n FROM core.auth_epoch", 0, NULL));
    ck_assert_int_eq(cm_db_guard(db, CM_AUTH_GUARD, 1, (const char *[]){fresh}, &err), 0);
    ck_assert_ptr_null(cm_db_exec_guarded(db, CM_AUTH_GUARD, "probe_epoch_typed", 2,
                                          (const char *[]){"not a number", NULL}, &err));
    ck_assert_str_eq(cm_db_sqlstate(db), "22P02");
    ck_assert_int_eq(cm_db_guard_flush(db, &err), 0);
    ck_assert_int_eq(cm_db_guard(db, CM_AUTH_GUARD, 1, (const char *[]){"-1"}, &err), 0);
    ck_assert_ptr_null(cm_db_exec_guarded(db, CM_AUTH_GUARD, "probe_epoch_typed", 2,
                                          (const char *[]){"not a number", NULL}, &err));
    ck_assert_int_eq(cm_db_guard_flush(db, &err), -1);
    ck_assert_str_eq(cm_db_sqlstate(db), CM_AUTH_STALE_SQLSTATE);
    res = cm_db_exec_guarded(db, CM_AUTH_GUARD, "probe_guarded", 2,
                             (const char *[]){"acct_none", NULL}, &err);
    ck_assert_msg(res != NULL, "%s", err.detail);
    ck_assert_int_eq(PQntuples(res), 0);
    PQclear(res);

    /* In a transaction, a write deferred into the same flight is undone. */
    ck_assert_int_eq(cm_db_begin(db, &err), 0);
    ck_assert_int_eq(cm_db_guard(db, CM_AUTH_GUARD, 1, (const char *[]){epoch}, &err), 0);
    ck_assert_int_eq(cm_db_defer(db, "probe_rename", 2, (const char *[]){owner, "stale"}, &err), 0);
    ck_assert_ptr_null(cm_db_exec_guarded(db, CM_AUTH_GUARD, "probe_guarded", 2,
                                          (const char *[]){owner, NULL}, &err));
    ck_assert_str_eq(cm_db_sqlstate(db), CM_AUTH_STALE_SQLSTATE);
    cm_db_rollback(db);
    ck_assert_int_eq(dbfix_long(db,
                                "SELECT count(*) FROM core.accounts WHERE id = $1 AND name = 'x'",
                                1, (const char *[]){owner}),
                     1);

    dbfix_drop_account(db, merchant);
    dbfix_drop_account(db, owner);
    cm_db_free(db);
}
END_TEST

Suite *suite_auth(void)
{
    Suite *s = suite_create("auth");
    TCase *pure = tcase_create("pure");
    TCase *db = tcase_create("db");

    tcase_add_loop_test(pure, test_parse_header_table, 0,
                        sizeof(header_cases) / sizeof(header_cases[0]));
    tcase_add_test(pure, test_parse_basic_with_and_without_password);
    tcase_add_test(pure, test_parse_overlong_and_exact_length);
    tcase_add_test(pure, test_parse_invalid_message_is_masked);
    tcase_add_loop_test(pure, test_mask_table, 0, sizeof(mask_cases) / sizeof(mask_cases[0]));
    tcase_add_test(pure, test_mask_long_and_small_buffers);
    tcase_add_loop_test(pure, test_has_permission_table, 0,
                        sizeof(perm_cases) / sizeof(perm_cases[0]));
    tcase_add_test(pure, test_has_permission_needs_installed_app);
    tcase_add_test(pure, test_cache_hits_and_misses);
    suite_add_tcase(s, pure);

    tcase_set_timeout(db, 30);
    tcase_add_test(db, test_resolve_account_key);
    tcase_add_test(db, test_resolve_rejects_bad_keys);
    tcase_add_test(db, test_resolve_stripe_account_for_account_key);
    tcase_add_test(db, test_resolve_app_key_installations);
    tcase_add_test(db, test_resolve_app_key_no_permissions);
    tcase_add_test(db, test_resolve_extension_token);
    tcase_add_test(db, test_epoch_guard_fails_after_any_access_change);
    tcase_add_test(db, test_guard_carried_by_the_statement);
    suite_add_tcase(s, db);
    return s;
}
