/* Tests for cm/db.h against a real PostgreSQL, reached through the standard
 * libpq environment (tests/run.sh provides a scratch cluster; by hand:
 * eval "$(deploy/pgctl.sh env DIR)"). A checked fixture gives every test its
 * own schema, test_db_<pid>, holding one table, and drops it afterwards; the
 * handles under test reach it through search_path in their conninfo. Without
 * the environment every test fails: a database test never skips silently. */
#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cm/db.h"
#include "cm/banned.h"

/* The fixture's state: Check's fixtures take no arguments. */
static char schema[64];
static char conninfo[128];

static const struct cm_stmt test_stmts[] = {
    {"echo", "SELECT $1::text", 1},
    {"ins", "INSERT INTO kv (k, v) VALUES ($1, $2)", 2},
    {"get", "SELECT v FROM kv WHERE k = $1", 1},
    {"count", "SELECT count(*) FROM kv", 0},
    {"touch", "UPDATE kv SET v = 'touched'", 0},
    {"pid", "SELECT pg_backend_pid()", 0},
    {"terminate", "SELECT pg_terminate_backend($1::int)", 1},
    {"alive", "SELECT count(*) FROM pg_stat_activity WHERE pid = $1::int", 1},
    {NULL, NULL, 0},
};
static const struct cm_stmt more_stmts[] = {
    {"twice", "SELECT $1::int * 2", 1},
    {NULL, NULL, 0},
};
static const struct cm_stmt *const test_sets[] = {test_stmts, more_stmts, NULL};

/* Runs fixture SQL on a connection of its own, outside the code under test.
 * Only the fixture builds SQL text, from the schema name it made itself. */
static void admin(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void admin(const char *fmt, ...)
{
    char sql[512];
    va_list ap;
    PGconn *conn = PQconnectdb("options='-c client_min_messages=warning'");
    PGresult *res;

    va_start(ap, fmt);
    vsnprintf(sql, sizeof(sql), fmt, ap);
    va_end(ap);
    ck_assert_msg(PQstatus(conn) == CONNECTION_OK, "fixture cannot connect: %s",
                  PQerrorMessage(conn));
    res = PQexec(conn, sql);
    ck_assert_msg(PQresultStatus(res) == PGRES_COMMAND_OK, "fixture: %s: %s", sql,
                  PQerrorMessage(conn));
    PQclear(res);
    PQfinish(conn);
}

static void setup(void)
{
    ck_assert_msg(getenv("PGHOST") != NULL && getenv("PGDATABASE") != NULL,
                  "PGHOST and PGDATABASE must name the test PostgreSQL "
                  "(tests/run.sh sets them; by hand: eval \"$(deploy/pgctl.sh env DIR)\")");
    snprintf(schema, sizeof(schema), "test_db_%ld", (long)getpid());
    snprintf(conninfo, sizeof(conninfo), "options='-c search_path=%s'", schema);
    admin("DROP SCHEMA IF EXISTS %s CASCADE", schema);
    admin("CREATE SCHEMA %s", schema);
    admin("CREATE TABLE %s.kv (k text PRIMARY KEY, v text)", schema);
}

static void teardown(void)
{
    admin("DROP SCHEMA IF EXISTS %s CASCADE", schema);
}

static struct cm_db *open_db(void)
{
    struct cm_err err = {0};
    struct cm_db *db = cm_db_new(conninfo, test_sets, &err);

    ck_assert_ptr_nonnull(db);
    return db;
}

/* The single value of a statement expected to succeed, as a new string (or
 * NULL for SQL NULL). */
static char *scalar(struct cm_db *db, const char *name, int n, const char *const *values)
{
    struct cm_err err = {0};
    PGresult *res = cm_db_exec(db, name, n, values, &err);
    const char *v;
    char *out;

    ck_assert_msg(res != NULL, "%s failed: %s", name, err.detail);
    ck_assert_int_eq(PQntuples(res), 1);
    v = cm_db_value(res, 0, 0);
    out = v ? strdup(v) : NULL;
    PQclear(res);
    return out;
}

static long scalar_long(struct cm_db *db, const char *name, int n, const char *const *values)
{
    char *s = scalar(db, name, n, values);
    long v;

    ck_assert_ptr_nonnull(s);
    v = strtol(s, NULL, 10);
    free(s);
    return v;
}

static void insert(struct cm_db *db, const char *k, const char *v)
{
    struct cm_err err = {0};
    PGresult *res = cm_db_exec(db, "ins", 2, (const char *[]){k, v}, &err);

    ck_assert_msg(res != NULL, "ins failed: %s", err.detail);
    ck_assert_int_eq(cm_db_affected(res), 1);
    PQclear(res);
}

static int starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* Terminates db's backend from another connection and waits until it is gone,
 * so that the next statement on db certainly meets a dead connection. */
static void kill_backend(struct cm_db *db)
{
    struct cm_db *killer = open_db();
    char pid[32];
    long b = scalar_long(db, "pid", 0, NULL);

    snprintf(pid, sizeof(pid), "%ld", b);
    free(scalar(killer, "terminate", 1, (const char *[]){pid}));
    for (int i = 0; scalar_long(killer, "alive", 1, (const char *[]){pid}) != 0; i++) {
        ck_assert_msg(i < 500, "backend %s still alive after 5 s", pid);
        nanosleep(&(struct timespec){.tv_nsec = 10 * 1000 * 1000}, NULL);
    }
    cm_db_free(killer);
}

static const char *const roundtrip_values[] = {
    "plain",       "",   "it's \"quoted\"; DROP TABLE kv; --", "ünïcødé ✓", "back\\slash",
    "line\nbreak", "$1",
};

START_TEST(test_exec_roundtrip)
{
    struct cm_db *db = open_db();
    const char *in = roundtrip_values[_i];
    char key[16];
    char *out;

    snprintf(key, sizeof(key), "k%d", _i);
    out = scalar(db, "echo", 1, &in);
    ck_assert_str_eq(out, in);
    free(out);
    insert(db, key, in);
    out = scalar(db, "get", 1, (const char *[]){key});
    ck_assert_str_eq(out, in);
    free(out);
    ck_assert_str_eq(cm_db_sqlstate(db), "");
    ck_assert_int_eq(cm_db_in_tx(db), 0);
    cm_db_free(db);
}
END_TEST

START_TEST(test_every_set_is_prepared)
{
    struct cm_db *db = open_db();

    ck_assert_int_eq(scalar_long(db, "twice", 1, (const char *[]){"21"}), 42);
    ck_assert_int_eq(scalar_long(db, "count", 0, NULL), 0);
    cm_db_free(db);
}
END_TEST

START_TEST(test_null_params)
{
    struct cm_db *db = open_db();
    struct cm_err err = {0};
    PGresult *res;

    ck_assert_ptr_null(scalar(db, "echo", 1, (const char *[]){NULL}));
    insert(db, "nothing", NULL);
    res = cm_db_exec(db, "get", 1, (const char *[]){"nothing"}, &err);
    ck_assert_ptr_nonnull(res);
    ck_assert_int_eq(PQntuples(res), 1);
    ck_assert_ptr_null(cm_db_value(res, 0, 0));
    /* Out of range reads as NULL rather than crashing. */
    ck_assert_ptr_null(cm_db_value(res, 1, 0));
    ck_assert_ptr_null(cm_db_value(res, 0, 1));
    ck_assert_ptr_null(cm_db_value(res, -1, 0));
    PQclear(res);
    cm_db_free(db);
}
END_TEST

START_TEST(test_affected)
{
    struct cm_db *db = open_db();
    struct cm_err err = {0};
    PGresult *res;

    insert(db, "a", "1");
    insert(db, "b", "2");
    insert(db, "c", "3");
    res = cm_db_exec(db, "touch", 0, NULL, &err);
    ck_assert_int_eq(cm_db_affected(res), 3);
    PQclear(res);
    res = cm_db_exec_sql(db, "DELETE FROM kv WHERE k = $1", 1, (const char *[]){"none"}, &err);
    ck_assert_ptr_nonnull(res);
    ck_assert_int_eq(cm_db_affected(res), 0);
    PQclear(res);
    cm_db_free(db);
}
END_TEST

START_TEST(test_exec_sql)
{
    struct cm_db *db = open_db();
    struct cm_err err = {0};
    PGresult *res;

    res = cm_db_exec_sql(db, "SELECT $1::int + $2::int", 2, (const char *[]){"2", "3"}, &err);
    ck_assert_ptr_nonnull(res);
    ck_assert_str_eq(cm_db_value(res, 0, 0), "5");
    PQclear(res);

    res = cm_db_exec_sql(db, "SELEC 1\nFROM nowhere", 0, NULL, &err);
    ck_assert_ptr_null(res);
    ck_assert_int_eq(err.status, 500);
    ck_assert_str_eq(cm_db_sqlstate(db), "42601");
    /* Named by the first line of its text. */
    ck_assert_msg(starts_with(err.detail, "SELEC 1: "), "detail: %s", err.detail);
    cm_db_free(db);
}
END_TEST

/* 0: end with commit, 1: end with rollback. */
START_TEST(test_tx_visibility)
{
    int rollback = _i;
    struct cm_db *a = open_db();
    struct cm_db *b = open_db();
    struct cm_err err = {0};

    ck_assert_int_eq(cm_db_begin(a, &err), 0);
    ck_assert_int_eq(cm_db_in_tx(a), 1);
    insert(a, "k", "v");
    ck_assert_int_eq(scalar_long(a, "count", 0, NULL), 1);
    ck_assert_int_eq(scalar_long(b, "count", 0, NULL), 0);
    if (rollback)
        cm_db_rollback(a);
    else
        ck_assert_int_eq(cm_db_commit(a, &err), 0);
    ck_assert_int_eq(cm_db_in_tx(a), 0);
    ck_assert_int_eq(scalar_long(b, "count", 0, NULL), rollback ? 0 : 1);
    ck_assert_int_eq(scalar_long(a, "count", 0, NULL), rollback ? 0 : 1);
    cm_db_free(a);
    cm_db_free(b);
}
END_TEST

START_TEST(test_tx_misuse)
{
    struct cm_db *db = open_db();
    struct cm_err err = {0};

    ck_assert_int_eq(cm_db_commit(db, &err), -1);
    ck_assert_int_eq(err.status, 500);
    ck_assert_int_eq(cm_db_begin(db, &err), 0);
    ck_assert_int_eq(cm_db_begin(db, &err), -1);
    ck_assert_int_eq(err.status, 500);
    ck_assert_int_eq(cm_db_in_tx(db), 1);
    insert(db, "k", "v");
    ck_assert_int_eq(cm_db_commit(db, &err), 0);
    ck_assert_int_eq(cm_db_commit(db, &err), -1);
    /* Rolling back with nothing open is harmless. */
    cm_db_rollback(db);
    ck_assert_int_eq(scalar_long(db, "count", 0, NULL), 1);
    cm_db_free(db);
}
END_TEST

START_TEST(test_unique_violation)
{
    struct cm_db *db = open_db();
    struct cm_err err = {0};
    const char *kv[] = {"key-s3cr3t", "value-s3cr3t"};

    insert(db, kv[0], kv[1]);
    ck_assert_ptr_null(cm_db_exec(db, "ins", 2, kv, &err));
    ck_assert_int_eq(err.status, 500);
    ck_assert_int_eq(err.type, CM_ERR_API);
    ck_assert_str_eq(cm_db_sqlstate(db), "23505");
    ck_assert_msg(starts_with(err.detail, "ins: "), "detail: %s", err.detail);
    /* libpq's DETAIL line quotes the key; only the first line is kept. */
    ck_assert_msg(strstr(err.detail, "s3cr3t") == NULL, "detail leaks: %s", err.detail);
    ck_assert_msg(strstr(err.message, "s3cr3t") == NULL, "message leaks: %s", err.message);
    /* Not a connection failure: no reconnect, and a success clears the state. */
    free(scalar(db, "echo", 1, (const char *[]){"x"}));
    ck_assert_str_eq(cm_db_sqlstate(db), "");
    cm_db_free(db);
}
END_TEST

START_TEST(test_failed_statement_dooms_tx)
{
    struct cm_db *db = open_db();
    struct cm_err err = {0};

    insert(db, "dup", "1");
    ck_assert_int_eq(cm_db_begin(db, &err), 0);
    insert(db, "fresh", "1");
    ck_assert_ptr_null(cm_db_exec(db, "ins", 2, (const char *[]){"dup", "2"}, &err));
    ck_assert_str_eq(cm_db_sqlstate(db), "23505");
    ck_assert_int_eq(cm_db_in_tx(db), 1);
    /* The server answers COMMIT of a failed transaction with ROLLBACK. */
    ck_assert_int_eq(cm_db_commit(db, &err), -1);
    ck_assert_int_eq(err.status, 500);
    ck_assert_str_eq(cm_db_sqlstate(db), "25P02");
    ck_assert_int_eq(cm_db_in_tx(db), 0);
    ck_assert_int_eq(scalar_long(db, "count", 0, NULL), 1);
    cm_db_free(db);
}
END_TEST

START_TEST(test_unknown_statement)
{
    struct cm_db *db = open_db();
    struct cm_err err = {0};
    long pid = scalar_long(db, "pid", 0, NULL);

    ck_assert_ptr_null(cm_db_exec(db, "no_such_stmt", 0, NULL, &err));
    ck_assert_int_eq(err.status, 500);
    ck_assert_str_eq(cm_db_sqlstate(db), "26000");
    ck_assert_msg(starts_with(err.detail, "no_such_stmt: "), "detail: %s", err.detail);
    /* The connection survives an ordinary error. */
    ck_assert_int_eq(scalar_long(db, "pid", 0, NULL), pid);
    cm_db_free(db);
}
END_TEST

static const struct {
    const char *conninfo;
    const char *secret; /* must not appear in the error */
} bad_conninfos[] = {
    {"bogus_option=1", NULL},
    {"host=/nonexistent-dir port=1", NULL},
    {"dbname=no_such_database_xyz", NULL},
    {"host=/nonexistent-dir password=hunter2", "hunter2"},
    {"'unterminated", NULL},
};

START_TEST(test_bad_conninfo)
{
    struct cm_err err = {0};
    struct cm_db *db = cm_db_new(bad_conninfos[_i].conninfo, test_sets, &err);

    ck_assert_ptr_nonnull(db);
    ck_assert_int_eq(cm_db_connect(db, &err), -1);
    ck_assert_int_eq(err.status, 500);
    ck_assert_int_eq(err.type, CM_ERR_API);
    ck_assert_str_eq(cm_db_sqlstate(db), "08001");
    ck_assert_msg(starts_with(err.detail, "connect: "), "detail: %s", err.detail);
    if (bad_conninfos[_i].secret)
        ck_assert_ptr_null(strstr(err.detail, bad_conninfos[_i].secret));
    ck_assert_ptr_null(cm_db_exec(db, "echo", 1, (const char *[]){"x"}, &err));
    ck_assert_str_eq(cm_db_sqlstate(db), "08001");
    /* BEGIN waits for the first statement, which is where the failure shows;
     * the transaction is then lost and rolls back without the network. */
    ck_assert_int_eq(cm_db_begin(db, &err), 0);
    ck_assert_ptr_null(cm_db_exec(db, "echo", 1, (const char *[]){"x"}, &err));
    ck_assert_int_eq(err.status, 500);
    ck_assert_str_eq(cm_db_sqlstate(db), "08001");
    cm_db_rollback(db);
    ck_assert_int_eq(cm_db_in_tx(db), 0);
    cm_db_free(db);
}
END_TEST

START_TEST(test_bad_statement)
{
    static const struct cm_stmt broken[] = {
        {"broken", "SELECT * FROM no_such_table", 0},
        {NULL, NULL, 0},
    };
    static const struct cm_stmt *const sets[] = {test_stmts, broken, NULL};
    struct cm_err err = {0};
    struct cm_db *db = cm_db_new(conninfo, sets, &err);

    ck_assert_ptr_nonnull(db);
    for (int attempt = 0; attempt < 2; attempt++) {
        ck_assert_int_eq(cm_db_connect(db, &err), -1);
        ck_assert_int_eq(err.status, 500);
        ck_assert_str_eq(cm_db_sqlstate(db), "42P01");
        ck_assert_msg(starts_with(err.detail, "broken: "), "detail: %s", err.detail);
    }
    ck_assert_ptr_null(cm_db_exec(db, "echo", 1, (const char *[]){"x"}, &err));
    ck_assert_str_eq(cm_db_sqlstate(db), "42P01");
    cm_db_free(db);
}
END_TEST

START_TEST(test_empty_sets)
{
    struct cm_err err = {0};
    struct cm_db *db = cm_db_new(conninfo, NULL, &err);
    PGresult *res;

    ck_assert_ptr_nonnull(db);
    res = cm_db_exec_sql(db, "SELECT 1", 0, NULL, &err);
    ck_assert_ptr_nonnull(res);
    PQclear(res);
    ck_assert_ptr_null(cm_db_exec(db, "echo", 1, (const char *[]){"x"}, &err));
    ck_assert_str_eq(cm_db_sqlstate(db), "26000");
    cm_db_free(db);
    cm_db_free(NULL);
}
END_TEST

START_TEST(test_reconnect_outside_tx)
{
    struct cm_db *db = open_db();
    long before = scalar_long(db, "pid", 0, NULL);
    char *out;

    kill_backend(db);
    /* Reconnected, prepared again, retried: the caller sees a success. */
    out = scalar(db, "echo", 1, (const char *[]){"back"});
    ck_assert_str_eq(out, "back");
    free(out);
    ck_assert_str_eq(cm_db_sqlstate(db), "");
    ck_assert_int_ne(scalar_long(db, "pid", 0, NULL), before);
    cm_db_free(db);
}
END_TEST

/* 0: end with rollback, 1: end with commit. */
START_TEST(test_connection_lost_inside_tx)
{
    int commit = _i;
    struct cm_db *db = open_db();
    struct cm_db *other = open_db();
    struct cm_err err = {0};
    const char *state;
    char *out;

    ck_assert_int_eq(cm_db_begin(db, &err), 0);
    insert(db, "first", "1");
    kill_backend(db);

    ck_assert_ptr_null(cm_db_exec(db, "ins", 2, (const char *[]){"second", "2"}, &err));
    ck_assert_int_eq(err.status, 500);
    state = cm_db_sqlstate(db);
    ck_assert_msg(starts_with(state, "08") || strcmp(state, "57P01") == 0, "sqlstate %s", state);
    ck_assert_int_eq(cm_db_in_tx(db), 1);
    /* Still inside the lost transaction: no silent reconnect in autocommit. */
    ck_assert_ptr_null(cm_db_exec(db, "ins", 2, (const char *[]){"third", "3"}, &err));
    ck_assert_str_eq(cm_db_sqlstate(db), "08003");

    if (commit) {
        ck_assert_int_eq(cm_db_commit(db, &err), -1);
        ck_assert_str_eq(cm_db_sqlstate(db), "08003");
    } else {
        cm_db_rollback(db);
    }
    ck_assert_int_eq(cm_db_in_tx(db), 0);
    out = scalar(db, "echo", 1, (const char *[]){"recovered"});
    ck_assert_str_eq(out, "recovered");
    free(out);
    ck_assert_int_eq(scalar_long(other, "count", 0, NULL), 0);
    cm_db_free(db);
    cm_db_free(other);
}
END_TEST

START_TEST(test_retry_only_once)
{
    struct cm_db *db = open_db();
    struct cm_err err = {0};
    const char *state;
    char *out;

    /* Kills its own backend on every attempt: fails after one retry, and the
     * handle still recovers on the next call. */
    ck_assert_ptr_null(
        cm_db_exec_sql(db, "SELECT pg_terminate_backend(pg_backend_pid())", 0, NULL, &err));
    ck_assert_int_eq(err.status, 500);
    state = cm_db_sqlstate(db);
    ck_assert_msg(starts_with(state, "08") || strcmp(state, "57P01") == 0, "sqlstate %s", state);
    out = scalar(db, "echo", 1, (const char *[]){"alive"});
    ck_assert_str_eq(out, "alive");
    free(out);
    cm_db_free(db);
}
END_TEST

/* Pipelined transactions: BEGIN and deferred writes ride with statements. */

START_TEST(test_empty_tx_needs_no_server)
{
    struct cm_err err = {0};
    struct cm_db *db = cm_db_new("host=/nonexistent", test_sets, &err);

    /* Nothing was sent, so neither commit nor rollback needs the server. */
    ck_assert_int_eq(cm_db_begin(db, &err), 0);
    ck_assert_int_eq(cm_db_in_tx(db), 1);
    ck_assert_int_eq(cm_db_commit(db, &err), 0);
    ck_assert_int_eq(cm_db_in_tx(db), 0);
    ck_assert_int_eq(cm_db_begin(db, &err), 0);
    cm_db_rollback(db);
    ck_assert_int_eq(cm_db_in_tx(db), 0);
    cm_db_free(db);
}
END_TEST

START_TEST(test_deferred_writes_commit_with_the_tx)
{
    struct cm_db *db = open_db();
    struct cm_db *other = open_db();
    struct cm_err err = {0};
    char *out;

    /* Outside a transaction a deferred write runs at once. */
    ck_assert_int_eq(cm_db_defer(db, "ins", 2, (const char *[]){"now", "0"}, &err), 0);
    ck_assert_int_eq(scalar_long(other, "count", 0, NULL), 1);

    ck_assert_int_eq(cm_db_begin(db, &err), 0);
    ck_assert_int_eq(cm_db_defer(db, "ins", 2, (const char *[]){"a", "1"}, &err), 0);
    ck_assert_int_eq(cm_db_defer(db, "ins", 2, (const char *[]){"b", NULL}, &err), 0);
    /* Sent, in order, ahead of the next statement of the transaction. */
    ck_assert_int_eq(scalar_long(db, "count", 0, NULL), 3);
    ck_assert_int_eq(scalar_long(other, "count", 0, NULL), 1);
    ck_assert_int_eq(cm_db_defer(db, "ins", 2, (const char *[]){"c", "3"}, &err), 0);
    ck_assert_int_eq(cm_db_commit(db, &err), 0);
    ck_assert_int_eq(scalar_long(other, "count", 0, NULL), 4);
    out = scalar(other, "get", 1, (const char *[]){"b"});
    ck_assert_ptr_null(out);
    cm_db_free(db);
    cm_db_free(other);
}
END_TEST

START_TEST(test_failed_deferred_write_fails_the_commit)
{
    struct cm_db *db = open_db();
    struct cm_db *other = open_db();
    struct cm_err err = {0};

    insert(db, "dup", "0");
    ck_assert_int_eq(cm_db_begin(db, &err), 0);
    insert(db, "change", "1");
    /* A deferred write that fails (duplicate key) takes the change with it. */
    ck_assert_int_eq(cm_db_defer(db, "ins", 2, (const char *[]){"dup", "x"}, &err), 0);
    ck_assert_int_eq(cm_db_commit(db, &err), -1);
    ck_assert_int_eq(err.status, 500);
    ck_assert_str_eq(cm_db_sqlstate(db), "23505");
    ck_assert_int_eq(cm_db_in_tx(db), 0);
    ck_assert_int_eq(scalar_long(other, "count", 0, NULL), 1);

    /* The same when the failing write rides with a statement. */
    ck_assert_int_eq(cm_db_begin(db, &err), 0);
    ck_assert_int_eq(cm_db_defer(db, "ins", 2, (const char *[]){"dup", "x"}, &err), 0);
    ck_assert_ptr_null(cm_db_exec(db, "count", 0, NULL, &err));
    ck_assert_str_eq(cm_db_sqlstate(db), "23505");
    cm_db_rollback(db);
    ck_assert_int_eq(scalar_long(db, "count", 0, NULL), 1);
    cm_db_free(db);
    cm_db_free(other);
}
END_TEST

START_TEST(test_opening_flight_survives_a_lost_connection)
{
    struct cm_db *db = open_db();
    struct cm_db *other = open_db();
    struct cm_err err = {0};
    long before = scalar_long(db, "pid", 0, NULL);

    kill_backend(db);
    /* Nothing of the transaction ran before its first flight, so that
     * flight is retried on a new connection. */
    ck_assert_int_eq(cm_db_begin(db, &err), 0);
    ck_assert_int_eq(cm_db_defer(db, "ins", 2, (const char *[]){"a", "1"}, &err), 0);
    insert(db, "b", "2");
    ck_assert_int_eq(cm_db_commit(db, &err), 0);
    ck_assert_int_eq(scalar_long(other, "count", 0, NULL), 2);
    ck_assert_int_ne(scalar_long(db, "pid", 0, NULL), before);
    cm_db_free(db);
    cm_db_free(other);
}
END_TEST

Suite *suite_db(void)
{
    Suite *s = suite_create("db");
    TCase *tc = tcase_create("postgres");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_loop_test(tc, test_exec_roundtrip, 0,
                        (int)(sizeof(roundtrip_values) / sizeof(roundtrip_values[0])));
    tcase_add_test(tc, test_every_set_is_prepared);
    tcase_add_test(tc, test_null_params);
    tcase_add_test(tc, test_affected);
    tcase_add_test(tc, test_exec_sql);
    tcase_add_loop_test(tc, test_tx_visibility, 0, 2);
    tcase_add_test(tc, test_tx_misuse);
    tcase_add_test(tc, test_unique_violation);
    tcase_add_test(tc, test_failed_statement_dooms_tx);
    tcase_add_test(tc, test_unknown_statement);
    tcase_add_loop_test(tc, test_bad_conninfo, 0,
                        (int)(sizeof(bad_conninfos) / sizeof(bad_conninfos[0])));
    tcase_add_test(tc, test_bad_statement);
    tcase_add_test(tc, test_empty_sets);
    tcase_add_test(tc, test_reconnect_outside_tx);
    tcase_add_loop_test(tc, test_connection_lost_inside_tx, 0, 2);
    tcase_add_test(tc, test_retry_only_once);
    tcase_add_test(tc, test_empty_tx_needs_no_server);
    tcase_add_test(tc, test_deferred_writes_commit_with_the_tx);
    tcase_add_test(tc, test_failed_deferred_write_fails_the_commit);
    tcase_add_test(tc, test_opening_flight_survives_a_lost_connection);
    suite_add_tcase(s, tc);
    return s;
}
