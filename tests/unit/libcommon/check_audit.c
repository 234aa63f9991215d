/* Tests for cm/audit.h against the scratch cluster: a row written in a
 * transaction lives and dies with it, NULLs are stored as NULLs, and client
 * text is cleaned and cut before it reaches the table. Rows are found by a
 * fresh request id per test. */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "cm/audit.h"
#include "cm/ids.h"
#include "dbfixture.h"
#include "cm/banned.h"

static const struct cm_stmt *const sets[] = {cm_audit_stmts, NULL};

static void fresh_request_id(char *out)
{
    struct cm_err err = {0};

    ck_assert_int_eq(cm_id_new(out, CM_ID_MAX, "req_", &err), 0);
}

static long rows_of(struct cm_db *db, const char *request_id)
{
    return dbfix_long(db, "SELECT count(*) FROM core.audit WHERE request_id = $1", 1,
                      (const char *[]){request_id});
}

START_TEST(test_row_follows_its_transaction)
{
    struct cm_db *db = dbfix_open(sets);
    struct cm_err err = {0};
    char req[CM_ID_MAX];
    struct cm_audit_rec rec = {
        .service = "secrets",
        .action = "secret.set",
        .actor = "key_abc",
        .account_id = "acct_x",
        .app_id = "com.example.app",
        .livemode = 0,
        .object_id = "appsecret_1",
        .status = 200,
        .client_addr = "127.0.0.1",
        .user_agent = "Stripe/v1 NodeBindings/22.5.0",
    };

    fresh_request_id(req);
    rec.request_id = req;
    ck_assert_int_eq(cm_db_begin(db, &err), 0);
    ck_assert_msg(cm_audit_write(db, &rec, &err) == 0, "%s", err.detail);
    ck_assert_int_eq(rows_of(db, req), 1);
    cm_db_rollback(db);
    ck_assert_int_eq(rows_of(db, req), 0);

    ck_assert_int_eq(cm_db_begin(db, &err), 0);
    ck_assert_int_eq(cm_audit_write(db, &rec, &err), 0);
    ck_assert_int_eq(cm_db_commit(db, &err), 0);
    ck_assert_int_eq(dbfix_long(db,
                                "SELECT count(*) FROM core.audit WHERE request_id = $1"
                                " AND service = 'secrets' AND action = 'secret.set'"
                                " AND actor = 'key_abc' AND account_id = 'acct_x'"
                                " AND app_id = 'com.example.app' AND livemode = false"
                                " AND object_id = 'appsecret_1' AND status = 200"
                                " AND error_code IS NULL AND client_addr = '127.0.0.1'"
                                " AND user_agent = 'Stripe/v1 NodeBindings/22.5.0'",
                                1, (const char *[]){req}),
                     1);
    dbfix_do(db, "DELETE FROM core.audit WHERE request_id = $1", 1, (const char *[]){req});
    cm_db_free(db);
}
END_TEST

START_TEST(test_nulls_and_autocommit)
{
    struct cm_db *db = dbfix_open(sets);
    struct cm_err err = {0};
    char req[CM_ID_MAX];
    struct cm_audit_rec rec = {.service = "identity",
                               .action = "auth.failed",
                               .livemode = -1,
                               .status = 401,
                               .error_code = NULL};

    fresh_request_id(req);
    rec.request_id = req;
    ck_assert_int_eq(cm_audit_write(db, &rec, &err), 0);
    ck_assert_int_eq(dbfix_long(db,
                                "SELECT count(*) FROM core.audit WHERE request_id = $1"
                                " AND actor IS NULL AND account_id IS NULL AND app_id IS NULL"
                                " AND livemode IS NULL AND object_id IS NULL AND status = 401"
                                " AND error_code IS NULL AND client_addr IS NULL"
                                " AND user_agent IS NULL",
                                1, (const char *[]){req}),
                     1);

    rec.livemode = 1;
    rec.error_code = "account_invalid";
    rec.status = 403;
    ck_assert_int_eq(cm_audit_write(db, &rec, &err), 0);
    ck_assert_int_eq(dbfix_long(db,
                                "SELECT count(*) FROM core.audit WHERE request_id = $1"
                                " AND livemode AND status = 403"
                                " AND error_code = 'account_invalid'",
                                1, (const char *[]){req}),
                     1);
    dbfix_do(db, "DELETE FROM core.audit WHERE request_id = $1", 1, (const char *[]){req});
    cm_db_free(db);
}
END_TEST

START_TEST(test_client_text_is_cleaned)
{
    struct cm_db *db = dbfix_open(sets);
    struct cm_err err = {0};
    char req[CM_ID_MAX];
    char ua[400];
    char want[CM_AUDIT_TEXT_MAX + 1];
    struct cm_audit_rec rec = {.service = "install",
                               .action = "request.rejected",
                               .livemode = 0,
                               .status = 404,
                               .object_id = "inst_\xff\xfe\n\"x"};
    PGresult *res;

    fresh_request_id(req);
    rec.request_id = req;
    memset(ua, 'u', sizeof(ua) - 1);
    ua[sizeof(ua) - 1] = '\0';
    memcpy(ua, "caf\xc3\xa9\r\n", 7);
    rec.user_agent = ua;
    ck_assert_msg(cm_audit_write(db, &rec, &err) == 0, "%s", err.detail);

    res = dbfix_exec(db, "SELECT user_agent, object_id FROM core.audit WHERE request_id = $1", 1,
                     (const char *[]){req});
    ck_assert_int_eq(PQntuples(res), 1);
    memset(want, 'u', sizeof(want) - 1);
    want[sizeof(want) - 1] = '\0';
    memcpy(want, "caf????", 7);
    ck_assert_str_eq(cm_db_value(res, 0, 0), want);
    ck_assert_str_eq(cm_db_value(res, 0, 1), "inst_???\"x");
    PQclear(res);
    dbfix_do(db, "DELETE FROM core.audit WHERE request_id = $1", 1, (const char *[]){req});
    cm_db_free(db);
}
END_TEST

START_TEST(test_required_fields)
{
    struct cm_db *db = dbfix_open(sets);
    struct cm_err err = {0};
    struct cm_audit_rec no_service = {.action = "x", .status = 200};
    struct cm_audit_rec no_action = {.service = "x", .status = 200};

    ck_assert_int_eq(cm_audit_write(db, &no_service, &err), -1);
    ck_assert_int_eq(err.status, 500);
    ck_assert_int_eq(cm_audit_write(db, &no_action, &err), -1);
    ck_assert_int_eq(err.status, 500);
    cm_db_free(db);
}
END_TEST

Suite *suite_audit(void)
{
    Suite *s = suite_create("audit");
    TCase *db = tcase_create("db");

    tcase_set_timeout(db, 30);
    tcase_add_test(db, test_row_follows_its_transaction);
    tcase_add_test(db, test_nulls_and_autocommit);
    tcase_add_test(db, test_client_text_is_cleaned);
    tcase_add_test(db, test_required_fields);
    suite_add_tcase(s, db);
    return s;
}
