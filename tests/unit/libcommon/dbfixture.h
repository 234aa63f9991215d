/* A shared fixture for libcommon suites that need PostgreSQL: a cm_db on the
 * migrated scratch cluster that tests/run.sh provides (by hand:
 * eval "$(deploy/pgctl.sh env DIR)" and sql/migrate.sh), and throwaway
 * accounts, apps, installations and keys with fresh random ids, so tests
 * never collide with each other or with earlier runs. Every helper checks
 * its own work with Check assertions: a fixture failure fails the test, it
 * never skips it. Fixture SQL is literal and runs through
 * cm_db_exec_sql(), outside the statements under test. */
#ifndef DBFIXTURE_H
#define DBFIXTURE_H

#include <libpq-fe.h>

#include "cm/auth.h"
#include "cm/db.h"
#include "cm/ids.h"

/* New handle preparing `sets` (NULL-terminated), connected. Aborts the test
 * when the libpq environment is not set or the migrations are missing. */
struct cm_db *dbfix_open(const struct cm_stmt *const *sets);

/* Runs a literal statement that must succeed; returns the new result
 * (caller PQclear()s). */
PGresult *dbfix_exec(struct cm_db *db, const char *sql, int nparams, const char *const *values);

/* Runs a literal statement that must succeed and discards its result. */
void dbfix_do(struct cm_db *db, const char *sql, int nparams, const char *const *values);

/* First column of the first row of a literal statement as a number (a count),
 * -1 for no row or NULL. */
long dbfix_long(struct cm_db *db, const char *sql, int nparams, const char *const *values);

/* A new account; its id goes to out (CM_ID_MAX bytes). */
void dbfix_account(struct cm_db *db, char *out);

/* A new app owned by account, with a published version granting the
 * permissions given as a comma-separated list ("" for none); its id goes to
 * out (CM_ID_MAX bytes). */
void dbfix_app(struct cm_db *db, const char *owner_account, const char *permissions, char *out);

/* A new secret key (CM_KEY_MAX + 1 bytes) for account, or for app (owned by
 * account) when app is not NULL. */
void dbfix_key(struct cm_db *db, const char *account, const char *app, int livemode, char *key);

/* The id (key_...) of a key made by dbfix_key(), into out (CM_ID_MAX). */
void dbfix_key_id(struct cm_db *db, const char *key, char *out);

/* Installs app on account in that mode (active until dbfix_uninstall()). */
void dbfix_install(struct cm_db *db, const char *app, const char *account, int livemode);

/* Marks that installation uninstalled now. */
void dbfix_uninstall(struct cm_db *db, const char *app, const char *account, int livemode);

/* Deletes an account made by dbfix_account() and everything of it: its keys,
 * apps, installations (either side), idempotency records, events and audit
 * rows. */
void dbfix_drop_account(struct cm_db *db, const char *account);

#endif
