/* The PostgreSQL fixture shared by the libcommon suites (see dbfixture.h).
 * Rows are made through the operator functions of sql/core/0002_admin.sql
 * where they exist (accounts, keys) and with plain INSERTs into the install
 * schema otherwise; ids are random, so no cleanup is needed for correctness,
 * and dbfix_drop_account() only keeps the scratch cluster small. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dbfixture.h"
#include "cm/banned.h"

static const struct cm_stmt no_stmts[] = {{NULL, NULL, 0}};
static const struct cm_stmt *const no_sets[] = {no_stmts, NULL};

PGresult *dbfix_exec(struct cm_db *db, const char *sql, int nparams, const char *const *values)
{
    struct cm_err err = {0};
    PGresult *res = cm_db_exec_sql(db, sql, nparams, values, &err);

    ck_assert_msg(res != NULL, "fixture SQL failed: %s: %s", sql, err.detail);
    return res;
}

void dbfix_do(struct cm_db *db, const char *sql, int nparams, const char *const *values)
{
    PQclear(dbfix_exec(db, sql, nparams, values));
}

long dbfix_long(struct cm_db *db, const char *sql, int nparams, const char *const *values)
{
    PGresult *res = dbfix_exec(db, sql, nparams, values);
    const char *v = PQntuples(res) > 0 ? cm_db_value(res, 0, 0) : NULL;
    long n = v ? strtol(v, NULL, 10) : -1;

    PQclear(res);
    return n;
}

/* Copies the single text value of a literal statement into out. */
static void one_value(struct cm_db *db, const char *sql, int nparams, const char *const *values,
                      char *out, size_t cap)
{
    PGresult *res = dbfix_exec(db, sql, nparams, values);
    const char *v = PQntuples(res) == 1 ? cm_db_value(res, 0, 0) : NULL;

    ck_assert_msg(v != NULL && strlen(v) < cap, "fixture: %s gave no usable value", sql);
    memcpy(out, v, strlen(v) + 1);
    PQclear(res);
}

struct cm_db *dbfix_open(const struct cm_stmt *const *sets)
{
    struct cm_err err = {0};
    struct cm_db *db;

    ck_assert_msg(getenv("PGHOST") != NULL && getenv("PGDATABASE") != NULL,
                  "PGHOST and PGDATABASE must name the migrated test PostgreSQL "
                  "(tests/run.sh sets them; by hand: eval \"$(deploy/pgctl.sh env DIR)\" "
                  "and sql/migrate.sh)");
    /* A handle preparing nothing first: with the migrations missing, the
     * real one would fail to prepare with a less helpful message. */
    db = cm_db_new(NULL, no_sets, &err);
    ck_assert_ptr_nonnull(db);
    ck_assert_msg(dbfix_long(db,
                             "SELECT (to_regclass('core.idempotency') IS NULL)::int"
                             " + (to_regclass('install.app_access') IS NULL)::int"
                             " + (to_regprocedure('core.create_api_key(text,text,boolean)')"
                             " IS NULL)::int",
                             0, NULL) == 0,
                  "the test database lacks the migrations: run sql/migrate.sh");
    cm_db_free(db);
    db = cm_db_new(NULL, sets, &err);
    ck_assert_ptr_nonnull(db);
    ck_assert_msg(cm_db_connect(db, &err) == 0, "cannot connect and prepare: %s", err.detail);
    return db;
}

void dbfix_account(struct cm_db *db, char *out)
{
    one_value(db, "SELECT core.create_account(NULL, 'dbfixture')", 0, NULL, out, CM_ID_MAX);
}

void dbfix_app(struct cm_db *db, const char *owner_account, const char *permissions, char *out)
{
    char suffix[17];
    struct cm_err err = {0};

    ck_assert_int_eq(cm_random_base62(suffix, 16, &err), 0);
    snprintf(out, CM_ID_MAX, "com.dbfixture.%s", suffix);
    dbfix_do(db,
             "INSERT INTO install.apps (id, owner_account, name, signing_secret)"
             " VALUES ($1, $2, 'dbfixture app', 'absec_dbfixture')",
             2, (const char *[]){out, owner_account});
    dbfix_do(db,
             "INSERT INTO install.app_versions (app_id, version, manifest, permissions,"
             " allowed_redirect_uris, published)"
             " VALUES ($1, '1.0.0', '{}', string_to_array($2, ','), '{}', true)",
             2, (const char *[]){out, permissions});
}

void dbfix_key(struct cm_db *db, const char *account, const char *app, int livemode, char *key)
{
    one_value(db, "SELECT core.create_api_key($1, $2, $3::boolean)", 3,
              (const char *[]){account, app, livemode ? "true" : "false"}, key, CM_KEY_MAX + 1);
}

void dbfix_key_id(struct cm_db *db, const char *key, char *out)
{
    one_value(db, "SELECT id FROM core.api_keys WHERE lookup = substr($1, 9, 12)", 1,
              (const char *[]){key}, out, CM_ID_MAX);
}

void dbfix_install(struct cm_db *db, const char *app, const char *account, int livemode)
{
    char id[CM_ID_MAX];
    struct cm_err err = {0};

    ck_assert_int_eq(cm_id_new(id, sizeof(id), "inst_", &err), 0);
    dbfix_do(db,
             "INSERT INTO install.installations (id, app_id, account_id, livemode)"
             " VALUES ($1, $2, $3, $4::boolean)",
             4, (const char *[]){id, app, account, livemode ? "true" : "false"});
}

void dbfix_uninstall(struct cm_db *db, const char *app, const char *account, int livemode)
{
    PGresult *res = dbfix_exec(db,
                               "UPDATE install.installations SET uninstalled_at = now()"
                               " WHERE app_id = $1 AND account_id = $2 AND livemode = $3::boolean"
                               " AND uninstalled_at IS NULL",
                               3, (const char *[]){app, account, livemode ? "true" : "false"});

    ck_assert_int_eq(cm_db_affected(res), 1);
    PQclear(res);
}

void dbfix_drop_account(struct cm_db *db, const char *account)
{
    static const char *const steps[] = {
        "DELETE FROM core.idempotency WHERE split_part(owner, '|', 2) = $1"
        " OR split_part(owner, '|', 1) IN (SELECT 'app:' || id FROM install.apps"
        " WHERE owner_account = $1)",
        "DELETE FROM core.events WHERE account_id = $1"
        " OR app_id IN (SELECT id FROM install.apps WHERE owner_account = $1)",
        "DELETE FROM core.audit WHERE account_id = $1",
        "DELETE FROM install.installations WHERE account_id = $1"
        " OR app_id IN (SELECT id FROM install.apps WHERE owner_account = $1)",
        "DELETE FROM core.api_keys WHERE account_id = $1",
        "DELETE FROM install.apps WHERE owner_account = $1",
        "DELETE FROM core.accounts WHERE id = $1",
    };

    for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
        dbfix_do(db, steps[i], 1, (const char *[]){account});
}
