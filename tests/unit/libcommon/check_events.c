/* Tests for cm/events.h: emitting inside a transaction (the row lives and
 * dies with it), the rendered event's exact shape with and without the
 * optional members, and rendering refusing rows of the wrong shape. */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "cm/events.h"
#include "dbfixture.h"
#include "cm/banned.h"

static const struct cm_stmt *const sets[] = {cm_events_stmts, NULL};

static PGresult *select_event(struct cm_db *db, const char *id)
{
    return dbfix_exec(db, "SELECT " CM_EVENTS_COLUMNS " FROM core.events e WHERE e.id = $1", 1,
                      (const char *[]){id});
}

static long events_with_id(struct cm_db *db, const char *id)
{
    return dbfix_long(db, "SELECT count(*) FROM core.events WHERE id = $1", 1,
                      (const char *[]){id});
}

START_TEST(test_emit_follows_its_transaction)
{
    struct cm_db *db = dbfix_open(sets);
    struct cm_err err = {0};
    char id[CM_ID_MAX];
    json_t *obj = json_pack("{s:s, s:s}", "id", "vs_1", "object", "identity.verification_session");

    ck_assert_int_eq(cm_db_begin(db, &err), 0);
    ck_assert_msg(cm_event_emit(db, "identity.verification_session.created", "acct_evt1", NULL, 0,
                                "req_1", NULL, obj, NULL, id, &err) == 0,
                  "%s", err.detail);
    ck_assert(strncmp(id, "evt_", 4) == 0);
    ck_assert_uint_eq(strlen(id), 4 + CM_ID_RANDOM_LEN);
    ck_assert_int_eq(events_with_id(db, id), 1);
    cm_db_rollback(db);
    ck_assert_int_eq(events_with_id(db, id), 0);
    ck_assert_int_eq(obj->refcount, 1); /* borrowed, not kept */
    json_decref(obj);
    cm_db_free(db);
}
END_TEST

START_TEST(test_render_full_shape)
{
    struct cm_db *db = dbfix_open(sets);
    struct cm_err err = {0};
    char id[CM_ID_MAX];
    json_t *obj = json_pack("{s:s, s:s, s:s}", "id", "vs_2", "object",
                            "identity.verification_session", "status", "verified");
    json_t *prev = json_pack("{s:s}", "status", "processing");
    json_t *ev, *want;
    PGresult *res;
    long long now;

    ck_assert_int_eq(cm_db_begin(db, &err), 0);
    ck_assert_int_eq(cm_event_emit(db, "identity.verification_session.verified", "acct_evt2",
                                   "com.example.app", 1, "req_2", "idem-2", obj, prev, id, &err),
                     0);
    now = dbfix_long(db, "SELECT floor(extract(epoch FROM now()))::bigint", 0, NULL);
    res = select_event(db, id);
    ev = cm_event_render(res, 0);
    PQclear(res);
    ck_assert_ptr_nonnull(ev);
    want = json_pack("{s:s, s:s, s:s, s:n, s:I, s:{s:O, s:O}, s:b, s:i, s:{s:s, s:s}, s:s}", "id",
                     id, "object", "event", "account", "acct_evt2", "api_version", "created",
                     (json_int_t)now, "data", "object", obj, "previous_attributes", prev,
                     "livemode", 1, "pending_webhooks", 0, "request", "id", "req_2",
                     "idempotency_key", "idem-2", "type", "identity.verification_session.verified");
    ck_assert_msg(json_equal(ev, want), "got %s", json_dumps(ev, JSON_COMPACT));
    /* Members come in Stripe's documented order. */
    ck_assert_str_eq(json_object_iter_key(json_object_iter(ev)), "id");
    json_decref(want);
    json_decref(ev);
    cm_db_rollback(db);
    json_decref(obj);
    json_decref(prev);
    cm_db_free(db);
}
END_TEST

START_TEST(test_render_without_optional_members)
{
    struct cm_db *db = dbfix_open(sets);
    struct cm_err err = {0};
    char id[CM_ID_MAX];
    json_t *obj = json_pack("{s:s, s:s, s:n}", "id", "ca_1", "object", "application", "name");
    json_t *ev, *data, *req;
    PGresult *res;

    ck_assert_int_eq(cm_db_begin(db, &err), 0);
    ck_assert_int_eq(cm_event_emit(db, "account.application.authorized", NULL, NULL, 0, NULL, NULL,
                                   obj, NULL, id, &err),
                     0);
    res = select_event(db, id);
    ev = cm_event_render(res, 0);
    PQclear(res);
    ck_assert_ptr_nonnull(ev);
    ck_assert_ptr_null(json_object_get(ev, "account"));
    ck_assert(json_is_null(json_object_get(ev, "api_version")));
    ck_assert(json_is_false(json_object_get(ev, "livemode")));
    data = json_object_get(ev, "data");
    ck_assert_int_eq(json_object_size(data), 1);
    ck_assert(json_equal(json_object_get(data, "object"), obj));
    req = json_object_get(ev, "request");
    ck_assert_int_eq(json_object_size(req), 2);
    ck_assert(json_is_null(json_object_get(req, "id")));
    ck_assert(json_is_null(json_object_get(req, "idempotency_key")));
    json_decref(ev);
    cm_db_rollback(db);
    json_decref(obj);
    cm_db_free(db);
}
END_TEST

/* Rows of the wrong shape, as literal selects of the nine columns. */
static const char *const bad_rows[] = {
    "SELECT 'evt_1', 't', NULL, 't', NULL, '1', NULL, NULL", /* eight columns */
    "SELECT NULL, 't', NULL, 't', NULL, '1', NULL, NULL, '{\"object\":{}}'",
    "SELECT 'evt_1', NULL, NULL, 't', NULL, '1', NULL, NULL, '{\"object\":{}}'",
    "SELECT 'evt_1', 't', NULL, NULL, NULL, '1', NULL, NULL, '{\"object\":{}}'",
    "SELECT 'evt_1', 't', NULL, 't', NULL, NULL, NULL, NULL, '{\"object\":{}}'",
    "SELECT 'evt_1', 't', NULL, 't', NULL, '1x', NULL, NULL, '{\"object\":{}}'",
    "SELECT 'evt_1', 't', NULL, 't', NULL, '', NULL, NULL, '{\"object\":{}}'",
    "SELECT 'evt_1', 't', NULL, 't', NULL, '1', NULL, NULL, NULL",
    "SELECT 'evt_1', 't', NULL, 't', NULL, '1', NULL, NULL, '[1]'",
    "SELECT 'evt_1', 't', NULL, 't', NULL, '1', NULL, NULL, '{\"previous_attributes\":{}}'",
    "SELECT 'evt_1', 't', NULL, 't', NULL, '1', NULL, NULL, '{\"object\":'",
};

START_TEST(test_render_rejects_bad_rows)
{
    struct cm_db *db = dbfix_open(sets);
    PGresult *res = dbfix_exec(db, bad_rows[_i], 0, NULL);

    ck_assert_ptr_null(cm_event_render(res, 0));
    ck_assert_ptr_null(cm_event_render(res, 1));
    ck_assert_ptr_null(cm_event_render(res, -1));
    PQclear(res);
    cm_db_free(db);
}
END_TEST

START_TEST(test_render_good_literal_row)
{
    struct cm_db *db = dbfix_open(sets);
    PGresult *res = dbfix_exec(db,
                               "SELECT 'evt_1', 'x.y', 'acct_1', 'f', '2026-07-29.dahlia', '17',"
                               " 'req_1', NULL, '{\"object\":{\"a\":1}}'",
                               0, NULL);
    json_t *ev = cm_event_render(res, 0);

    ck_assert_ptr_nonnull(ev);
    ck_assert_str_eq(json_string_value(json_object_get(ev, "api_version")), "2026-07-29.dahlia");
    ck_assert_int_eq(json_integer_value(json_object_get(ev, "created")), 17);
    ck_assert_str_eq(json_string_value(json_object_get(ev, "account")), "acct_1");
    json_decref(ev);
    PQclear(res);
    cm_db_free(db);
}
END_TEST

Suite *suite_events(void)
{
    Suite *s = suite_create("events");
    TCase *db = tcase_create("db");

    tcase_set_timeout(db, 30);
    tcase_add_test(db, test_emit_follows_its_transaction);
    tcase_add_test(db, test_render_full_shape);
    tcase_add_test(db, test_render_without_optional_members);
    tcase_add_loop_test(db, test_render_rejects_bad_rows, 0,
                        sizeof(bad_rows) / sizeof(bad_rows[0]));
    tcase_add_test(db, test_render_good_literal_row);
    suite_add_tcase(s, db);
    return s;
}
