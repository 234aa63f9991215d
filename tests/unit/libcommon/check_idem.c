/* Tests for cm/idem.h: header limits, the canonical params hash and the
 * owner string as tables; the claim/store/replay cycle, mismatches,
 * concurrency (a second connection sees BUSY without waiting), expiry,
 * detached stores and pruning against the scratch cluster. Each test uses an
 * owner string of its own, so tests never see each other's keys. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cm/idem.h"
#include "cm/ids.h"
#include "dbfixture.h"
#include "cm/banned.h"

static const struct cm_stmt *const sets[] = {cm_idem_stmts, NULL};

static const struct {
    const char *key;
    int ok;
} key_cases[] = {
    {"a", 1},
    {"stripe-node-retry-6d1f7c1a-2b4e-4f7e-9a51-1b3c5d7e9f00", 1},
    {"with space and ~!@#$%^&*()", 1},
    {"", 0},
    {"tab\there", 0},
    {"nl\n", 0},
    {"del\x7f", 0},
    {"caf\xc3\xa9", 0},
};

START_TEST(test_key_check_table)
{
    struct cm_err err = {0};
    int rc = cm_idem_key_check(key_cases[_i].key, &err);

    ck_assert_int_eq(rc, key_cases[_i].ok ? 0 : -1);
    if (!key_cases[_i].ok) {
        ck_assert_int_eq(err.status, 400);
        ck_assert_int_eq(err.type, CM_ERR_INVALID_REQUEST);
        ck_assert_str_eq(err.param, "");
        ck_assert(strncmp(err.message, "Invalid idempotency key", 23) == 0);
    }
}
END_TEST

START_TEST(test_key_check_length_limit)
{
    struct cm_err err = {0};
    char key[CM_IDEM_KEY_MAX + 2];

    memset(key, 'k', sizeof(key));
    key[CM_IDEM_KEY_MAX] = '\0';
    ck_assert_int_eq(cm_idem_key_check(key, &err), 0);
    key[CM_IDEM_KEY_MAX] = 'k';
    key[CM_IDEM_KEY_MAX + 1] = '\0';
    ck_assert_int_eq(cm_idem_key_check(key, &err), -1);
    ck_assert_int_eq(err.status, 400);
    ck_assert_str_eq(err.message, "Invalid idempotency key: must be at most 255 characters");
}
END_TEST

static void hash_of(const char *text, unsigned char out[CM_IDEM_HASH_LEN])
{
    struct cm_err err = {0};
    json_t *j = text ? json_loads(text, 0, NULL) : NULL;

    ck_assert(text == NULL || j != NULL);
    ck_assert_int_eq(cm_idem_params_hash(j, out, &err), 0);
    json_decref(j);
}

/* Pairs of params: same says whether their hashes must be equal. */
static const struct {
    const char *a, *b;
    int same;
} hash_cases[] = {
    {"{\"name\":\"x\",\"scope\":{\"type\":\"account\"}}",
     "{\"scope\":{\"type\":\"account\"},\"name\":\"x\"}", 1},
    {"{\"a\":{\"y\":\"1\",\"x\":\"2\"}}", "{\"a\":{\"x\":\"2\",\"y\":\"1\"}}", 1},
    {"{}", NULL, 1},
    {"{\"name\":\"x\"}", "{\"name\":\"y\"}", 0},
    {"{\"name\":\"x\"}", "{\"name\":\"x\",\"expand\":[\"data\"]}", 0},
    {"{\"expand\":[\"a\",\"b\"]}", "{\"expand\":[\"b\",\"a\"]}", 0},
    {"{\"n\":\"1\"}", "{\"n\":1}", 0},
    {"{}", "[]", 0},
};

START_TEST(test_params_hash_table)
{
    unsigned char ha[CM_IDEM_HASH_LEN], hb[CM_IDEM_HASH_LEN];

    hash_of(hash_cases[_i].a, ha);
    hash_of(hash_cases[_i].b, hb);
    ck_assert_int_eq(memcmp(ha, hb, sizeof(ha)) == 0, hash_cases[_i].same);
}
END_TEST

START_TEST(test_params_hash_is_sha256_of_canonical_text)
{
    /* sha256("{\"a\":\"1\",\"b\":\"2\"}") */
    static const unsigned char want[CM_IDEM_HASH_LEN] = {
        0x21, 0xf7, 0x6d, 0xfb, 0xfe, 0x6d, 0xfe, 0x21, 0xf7, 0x62, 0x08,
        0x0e, 0xf4, 0x84, 0x11, 0x2c, 0xf2, 0x95, 0x29, 0x74, 0xce, 0xf3,
        0x07, 0x41, 0xfd, 0x19, 0x31, 0xe1, 0xc6, 0xd9, 0x21, 0x12,
    };
    unsigned char h[CM_IDEM_HASH_LEN];

    hash_of("{\"b\": \"2\", \"a\": \"1\"}", h);
    ck_assert_int_eq(memcmp(h, want, sizeof(h)), 0);
}
END_TEST

START_TEST(test_owner)
{
    struct cm_auth a = {.livemode = 0};
    char out[CM_IDEM_OWNER_MAX];
    char other[CM_IDEM_OWNER_MAX];
    char small[8];

    snprintf(a.key_account, sizeof(a.key_account), "acct_owner");
    snprintf(a.account, sizeof(a.account), "acct_owner");
    cm_idem_owner(&a, out, sizeof(out));
    ck_assert_str_eq(out, "acct:acct_owner|acct_owner|test");

    /* An app whose id looks like that account's is another principal. */
    snprintf(a.app_id, sizeof(a.app_id), "acct_owner");
    cm_idem_owner(&a, other, sizeof(other));
    ck_assert_str_ne(other, out);
    ck_assert_str_eq(other, "app:acct_owner|acct_owner|test");

    snprintf(a.app_id, sizeof(a.app_id), "app_x");
    snprintf(a.account, sizeof(a.account), "acct_merchant");
    a.livemode = 1;
    cm_idem_owner(&a, out, sizeof(out));
    ck_assert_str_eq(out, "app:app_x|acct_merchant|live");

    /* Two signed-in users of one app never share keys, nor with the app. */
    snprintf(a.user_id, sizeof(a.user_id), "usr_1");
    cm_idem_owner(&a, out, sizeof(out));
    ck_assert_str_eq(out, "tok:usr_1/app_x|acct_merchant|live");
    snprintf(a.user_id, sizeof(a.user_id), "usr_2");
    cm_idem_owner(&a, other, sizeof(other));
    ck_assert_str_ne(other, out);

    memset(a.user_id, 'u', sizeof(a.user_id) - 1);
    memset(a.app_id, 'p', sizeof(a.app_id) - 1);
    memset(a.account, 'a', sizeof(a.account) - 1);
    cm_idem_owner(&a, out, sizeof(out));
    ck_assert_uint_eq(strlen(out), 4 + sizeof(a.user_id) - 1 + 1 + sizeof(a.app_id) - 1 + 1 +
                                       sizeof(a.account) - 1 + 5);

    cm_idem_owner(&a, small, sizeof(small));
    ck_assert_str_eq(small, "tok:uuu");
}
END_TEST

START_TEST(test_state_err)
{
    struct cm_err err = {0};

    ck_assert_int_eq(cm_idem_state_err(CM_IDEM_MISMATCH, "k-1", &err), -1);
    ck_assert_int_eq(err.status, 400);
    ck_assert_int_eq(err.type, CM_ERR_IDEMPOTENCY);
    ck_assert_str_eq(err.code, "");
    ck_assert_str_eq(err.message,
                     "Keys for idempotent requests can only be used with the same parameters "
                     "they were first used with. Try using a key other than 'k-1' if you meant "
                     "to execute a different request.");

    ck_assert_int_eq(cm_idem_state_err(CM_IDEM_BUSY, "k-2", &err), -1);
    ck_assert_int_eq(err.status, 409);
    ck_assert_int_eq(err.type, CM_ERR_IDEMPOTENCY);
    ck_assert_str_eq(err.code, "idempotency_key_in_use");
    ck_assert_str_eq(err.message,
                     "There is currently another in-progress request using this idempotent key "
                     "(that probably means you submitted twice, and the other request is still "
                     "going through): k-2. Please try again later.");

    ck_assert_int_eq(cm_idem_state_err(CM_IDEM_NEW, "k", &err), -1);
    ck_assert_int_eq(err.status, 500);
    ck_assert_int_eq(cm_idem_state_err(CM_IDEM_REPLAY, "k", &err), -1);
    ck_assert_int_eq(err.status, 500);
}
END_TEST

/* Database cases. */

struct claim {
    enum cm_idem_state state;
    int status;
    char *body;
};

/* An owner no other test or run uses. */
static void fresh_owner(char *out, size_t cap)
{
    char id[CM_ID_MAX];
    struct cm_err err = {0};

    ck_assert_int_eq(cm_id_new(id, sizeof(id), "acct_", &err), 0);
    snprintf(out, cap, "%s|%s|test", id, id);
}

static void params_hash(const char *params, unsigned char out[CM_IDEM_HASH_LEN])
{
    hash_of(params, out);
}

/* Begins a transaction and claims; the transaction stays open. */
static struct claim claim(struct cm_db *db, const char *owner, const char *key, const char *route,
                          const unsigned char hash[CM_IDEM_HASH_LEN])
{
    struct cm_err err = {0};
    struct claim c = {0};

    ck_assert_int_eq(cm_db_begin(db, &err), 0);
    ck_assert_msg(cm_idem_claim(db, owner, key, route, hash, &c.state, &c.status, &c.body, &err) ==
                      0,
                  "%s", err.detail);
    if (c.state != CM_IDEM_REPLAY) {
        ck_assert_int_eq(c.status, 0);
        ck_assert_ptr_null(c.body);
    }
    return c;
}

/* A claim that must come out NEW, stored and committed with status/body. */
static void complete(struct cm_db *db, const char *owner, const char *key, const char *route,
                     const unsigned char hash[CM_IDEM_HASH_LEN], int status, const char *body)
{
    struct cm_err err = {0};
    struct claim c = claim(db, owner, key, route, hash);

    ck_assert_int_eq(c.state, CM_IDEM_NEW);
    ck_assert_msg(cm_idem_store(db, owner, key, route, hash, status, body, &err) == 0, "%s",
                  err.detail);
    ck_assert_int_eq(cm_db_commit(db, &err), 0);
}

static void expect_state(struct cm_db *db, const char *owner, const char *key, const char *route,
                         const unsigned char hash[CM_IDEM_HASH_LEN], enum cm_idem_state want)
{
    struct claim c = claim(db, owner, key, route, hash);

    ck_assert_int_eq(c.state, want);
    free(c.body);
    cm_db_rollback(db);
}

static void expect_replay(struct cm_db *db, const char *owner, const char *key, const char *route,
                          const unsigned char hash[CM_IDEM_HASH_LEN], int status, const char *body)
{
    struct claim c = claim(db, owner, key, route, hash);

    ck_assert_int_eq(c.state, CM_IDEM_REPLAY);
    ck_assert_int_eq(c.status, status);
    ck_assert_str_eq(c.body, body);
    free(c.body);
    cm_db_rollback(db);
}

START_TEST(test_new_then_replay)
{
    struct cm_db *db = dbfix_open(sets);
    unsigned char h[CM_IDEM_HASH_LEN];
    char owner[CM_IDEM_OWNER_MAX], other[CM_IDEM_OWNER_MAX];

    fresh_owner(owner, sizeof(owner));
    fresh_owner(other, sizeof(other));
    params_hash("{\"name\":\"a\"}", h);
    complete(db, owner, "k1", "POST /v1/apps/secrets", h, 200, "{\"id\":\"x\"}");
    expect_replay(db, owner, "k1", "POST /v1/apps/secrets", h, 200, "{\"id\":\"x\"}");
    expect_replay(db, owner, "k1", "POST /v1/apps/secrets", h, 200, "{\"id\":\"x\"}");
    /* Keys are scoped by owner. */
    expect_state(db, other, "k1", "POST /v1/apps/secrets", h, CM_IDEM_NEW);
    cm_db_free(db);
}
END_TEST

START_TEST(test_mismatch)
{
    struct cm_db *db = dbfix_open(sets);
    unsigned char h[CM_IDEM_HASH_LEN], h2[CM_IDEM_HASH_LEN];
    char owner[CM_IDEM_OWNER_MAX];

    fresh_owner(owner, sizeof(owner));
    params_hash("{\"name\":\"a\"}", h);
    params_hash("{\"name\":\"b\"}", h2);
    complete(db, owner, "k", "POST /v1/apps/secrets", h, 200, "{}");
    expect_state(db, owner, "k", "POST /v1/apps/secrets", h2, CM_IDEM_MISMATCH);
    expect_state(db, owner, "k", "POST /v1/apps/secrets/delete", h, CM_IDEM_MISMATCH);
    expect_replay(db, owner, "k", "POST /v1/apps/secrets", h, 200, "{}");
    cm_db_free(db);
}
END_TEST

START_TEST(test_rollback_frees_the_key)
{
    struct cm_db *db = dbfix_open(sets);
    unsigned char h[CM_IDEM_HASH_LEN];
    char owner[CM_IDEM_OWNER_MAX];
    struct claim c;

    fresh_owner(owner, sizeof(owner));
    params_hash("{}", h);
    c = claim(db, owner, "k", "POST /v1/x", h);
    ck_assert_int_eq(c.state, CM_IDEM_NEW);
    cm_db_rollback(db);
    expect_state(db, owner, "k", "POST /v1/x", h, CM_IDEM_NEW);
    cm_db_free(db);
}
END_TEST

START_TEST(test_busy_without_waiting)
{
    struct cm_db *db1 = dbfix_open(sets);
    struct cm_db *db2 = dbfix_open(sets);
    unsigned char h[CM_IDEM_HASH_LEN];
    char owner[CM_IDEM_OWNER_MAX];
    struct timespec t0, t1;
    struct claim c;

    fresh_owner(owner, sizeof(owner));
    params_hash("{}", h);
    c = claim(db1, owner, "k", "POST /v1/x", h);
    ck_assert_int_eq(c.state, CM_IDEM_NEW);

    clock_gettime(CLOCK_MONOTONIC, &t0);
    expect_state(db2, owner, "k", "POST /v1/x", h, CM_IDEM_BUSY);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    ck_assert_int_lt((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000, 1000);
    /* Even with other params: the holder has not finished. */
    params_hash("{\"x\":\"1\"}", h);
    expect_state(db2, owner, "k", "POST /v1/x", h, CM_IDEM_BUSY);

    cm_db_rollback(db1);
    expect_state(db2, owner, "k", "POST /v1/x", h, CM_IDEM_NEW);
    cm_db_free(db1);
    cm_db_free(db2);
}
END_TEST

START_TEST(test_expired_record_is_new)
{
    struct cm_db *db = dbfix_open(sets);
    unsigned char h[CM_IDEM_HASH_LEN], h2[CM_IDEM_HASH_LEN];
    char owner[CM_IDEM_OWNER_MAX];

    fresh_owner(owner, sizeof(owner));
    params_hash("{}", h);
    params_hash("{\"other\":\"params\"}", h2);
    complete(db, owner, "k", "POST /v1/x", h, 200, "{}");
    dbfix_do(db,
             "UPDATE core.idempotency SET created = now() - interval '25 hours'"
             " WHERE owner = $1",
             1, (const char *[]){owner});
    /* Past 24 hours even other params are a new request. */
    expect_state(db, owner, "k", "POST /v1/x", h2, CM_IDEM_NEW);
    /* And its record replaces the expired one. */
    complete(db, owner, "k", "POST /v1/x", h2, 201, "{\"again\":1}");
    expect_replay(db, owner, "k", "POST /v1/x", h2, 201, "{\"again\":1}");
    cm_db_free(db);
}
END_TEST

START_TEST(test_store_detached_replays)
{
    struct cm_db *db = dbfix_open(sets);
    struct cm_err err = {0};
    unsigned char h[CM_IDEM_HASH_LEN];
    char owner[CM_IDEM_OWNER_MAX];
    struct claim c;

    fresh_owner(owner, sizeof(owner));
    params_hash("{\"a\":\"1\"}", h);
    c = claim(db, owner, "k", "POST /v1/x", h);
    ck_assert_int_eq(c.state, CM_IDEM_NEW);
    /* Not while the transaction is open. */
    ck_assert_int_eq(cm_idem_store_detached(db, owner, "k", "POST /v1/x", h, 500, "{}", &err), -1);
    ck_assert_int_eq(err.status, 500);
    cm_db_rollback(db);

    ck_assert_int_eq(cm_idem_store_detached(db, owner, "k", "POST /v1/x", h, 500,
                                            "{\"error\":{\"type\":\"api_error\"}}", &err),
                     0);
    expect_replay(db, owner, "k", "POST /v1/x", h, 500, "{\"error\":{\"type\":\"api_error\"}}");
    /* A live record is kept. */
    ck_assert_int_eq(cm_idem_store_detached(db, owner, "k", "POST /v1/x", h, 402, "{}", &err), 0);
    expect_replay(db, owner, "k", "POST /v1/x", h, 500, "{\"error\":{\"type\":\"api_error\"}}");
    /* An expired one is replaced. */
    dbfix_do(db,
             "UPDATE core.idempotency SET created = now() - interval '25 hours'"
             " WHERE owner = $1",
             1, (const char *[]){owner});
    ck_assert_int_eq(cm_idem_store_detached(db, owner, "k", "POST /v1/x", h, 402, "{}", &err), 0);
    expect_replay(db, owner, "k", "POST /v1/x", h, 402, "{}");
    cm_db_free(db);
}
END_TEST

START_TEST(test_misuse_is_internal_error)
{
    struct cm_db *db = dbfix_open(sets);
    struct cm_err err = {0};
    unsigned char h[CM_IDEM_HASH_LEN] = {0};
    char owner[CM_IDEM_OWNER_MAX];
    enum cm_idem_state st;
    int status = -7;
    char *body = (char *)"sentinel";

    fresh_owner(owner, sizeof(owner));
    /* A claim outside a transaction would hold no lock. */
    ck_assert_int_eq(cm_idem_claim(db, owner, "k", "POST /v1/x", h, &st, &status, &body, &err), -1);
    ck_assert_int_eq(err.status, 500);
    ck_assert_int_eq(status, 0);
    ck_assert_ptr_null(body);
    ck_assert_int_eq(cm_idem_store(db, owner, "k", "POST /v1/x", h, 200, "{}", &err), -1);
    ck_assert_int_eq(err.status, 500);
    /* A result asked for when no claim was sent. */
    ck_assert_int_eq(cm_db_begin(db, &err), 0);
    ck_assert_int_eq(cm_idem_claim_result(db, &st, &status, &body, &err), -1);
    ck_assert_int_eq(err.status, 500);
    cm_db_rollback(db);
    ck_assert_int_eq(dbfix_long(db, "SELECT count(*) FROM core.idempotency WHERE owner = $1", 1,
                                (const char *[]){owner}),
                     0);
    cm_db_free(db);
}
END_TEST

/* The claim rides with the next statement: its answer and that statement's
 * result both come back from one flight, and a claim that is not new leaves
 * the statement to be rolled back. */
START_TEST(test_claim_travels_ahead)
{
    struct cm_db *db = dbfix_open(sets);
    struct cm_err err = {0};
    unsigned char h[CM_IDEM_HASH_LEN];
    char owner[CM_IDEM_OWNER_MAX];
    enum cm_idem_state st;
    int status = 0;
    char *body = NULL;
    PGresult *res;

    fresh_owner(owner, sizeof(owner));
    params_hash("{}", h);
    complete(db, owner, "done", "POST /v1/x", h, 201, "{\"a\":1}");

    ck_assert_int_eq(cm_db_begin(db, &err), 0);
    ck_assert_int_eq(cm_idem_claim_send(db, owner, "done", "POST /v1/x", h, &err), 0);
    res = cm_db_exec_sql(db, "SELECT 41 + 1", 0, NULL, &err);
    ck_assert_ptr_nonnull(res);
    ck_assert_str_eq(cm_db_value(res, 0, 0), "42");
    PQclear(res);
    ck_assert_int_eq(cm_idem_claim_result(db, &st, &status, &body, &err), 0);
    ck_assert_int_eq(st, CM_IDEM_REPLAY);
    ck_assert_int_eq(status, 201);
    ck_assert_str_eq(body, "{\"a\":1}");
    free(body);
    cm_db_rollback(db);

    /* A statement that fails after the claim does not lose its answer. */
    ck_assert_int_eq(cm_db_begin(db, &err), 0);
    ck_assert_int_eq(cm_idem_claim_send(db, owner, "fresh", "POST /v1/x", h, &err), 0);
    ck_assert_ptr_null(cm_db_exec_sql(db, "SELECT 1 / 0", 0, NULL, &err));
    ck_assert_str_eq(cm_db_sqlstate(db), "22012");
    ck_assert_int_eq(cm_idem_claim_result(db, &st, &status, &body, &err), 0);
    ck_assert_int_eq(st, CM_IDEM_NEW);
    cm_db_rollback(db);
    cm_db_free(db);
}
END_TEST

/* Two requests both saw the key free (the second's snapshot predates the
 * first's commit): the second's record fails its COMMIT, so its change is
 * never committed twice. */
START_TEST(test_late_duplicate_fails_commit)
{
    struct cm_db *db1 = dbfix_open(sets);
    struct cm_db *db2 = dbfix_open(sets);
    struct cm_err err = {0};
    unsigned char h[CM_IDEM_HASH_LEN];
    char owner[CM_IDEM_OWNER_MAX];
    struct claim c;

    fresh_owner(owner, sizeof(owner));
    params_hash("{}", h);
    c = claim(db1, owner, "k", "POST /v1/x", h);
    ck_assert_int_eq(c.state, CM_IDEM_NEW);
    /* The other request's record, committed behind the claim's back. */
    ck_assert_int_eq(
        cm_idem_store_detached(db2, owner, "k", "POST /v1/x", h, 200, "{\"other\":1}", &err), 0);
    ck_assert_int_eq(cm_idem_store(db1, owner, "k", "POST /v1/x", h, 200, "{}", &err), 0);
    ck_assert_int_eq(cm_db_commit(db1, &err), -1);
    ck_assert_str_eq(cm_db_sqlstate(db1), "23505");
    ck_assert_int_eq(cm_db_in_tx(db1), 0);
    expect_replay(db2, owner, "k", "POST /v1/x", h, 200, "{\"other\":1}");
    cm_db_free(db1);
    cm_db_free(db2);
}
END_TEST

START_TEST(test_prune)
{
    struct cm_db *db = dbfix_open(sets);
    struct cm_err err = {0};
    unsigned char h[CM_IDEM_HASH_LEN];
    char owner[CM_IDEM_OWNER_MAX];
    long n;

    fresh_owner(owner, sizeof(owner));
    params_hash("{}", h);
    complete(db, owner, "old", "POST /v1/x", h, 200, "{}");
    complete(db, owner, "young", "POST /v1/x", h, 200, "{}");
    dbfix_do(db,
             "UPDATE core.idempotency SET created = now() - interval '25 hours'"
             " WHERE owner = $1 AND key = 'old'",
             1, (const char *[]){owner});
    n = cm_idem_prune(db, &err);
    ck_assert_int_ge(n, 1);
    ck_assert_int_eq(dbfix_long(db, "SELECT count(*) FROM core.idempotency WHERE owner = $1", 1,
                                (const char *[]){owner}),
                     1);
    ck_assert_int_eq(cm_idem_prune(db, &err) >= 0, 1);
    expect_replay(db, owner, "young", "POST /v1/x", h, 200, "{}");
    cm_db_free(db);
}
END_TEST

Suite *suite_idem(void)
{
    Suite *s = suite_create("idem");
    TCase *pure = tcase_create("pure");
    TCase *db = tcase_create("db");

    tcase_add_loop_test(pure, test_key_check_table, 0, sizeof(key_cases) / sizeof(key_cases[0]));
    tcase_add_test(pure, test_key_check_length_limit);
    tcase_add_loop_test(pure, test_params_hash_table, 0,
                        sizeof(hash_cases) / sizeof(hash_cases[0]));
    tcase_add_test(pure, test_params_hash_is_sha256_of_canonical_text);
    tcase_add_test(pure, test_owner);
    tcase_add_test(pure, test_state_err);
    suite_add_tcase(s, pure);

    tcase_set_timeout(db, 30);
    tcase_add_test(db, test_new_then_replay);
    tcase_add_test(db, test_mismatch);
    tcase_add_test(db, test_rollback_frees_the_key);
    tcase_add_test(db, test_busy_without_waiting);
    tcase_add_test(db, test_expired_record_is_new);
    tcase_add_test(db, test_store_detached_replays);
    tcase_add_test(db, test_misuse_is_internal_error);
    tcase_add_test(db, test_claim_travels_ahead);
    tcase_add_test(db, test_late_duplicate_fails_commit);
    tcase_add_test(db, test_prune);
    suite_add_tcase(s, db);
    return s;
}
