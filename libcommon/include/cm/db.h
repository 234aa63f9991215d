/* PostgreSQL access: one connection per worker thread, statements prepared
 * once per connection, explicit transactions, and reconnection after the
 * server restarts.
 *
 * Connection parameters come only from libpq's own sources (the PG* environment,
 * PGSERVICEFILE/pg_service.conf, .pgpass) plus an optional conninfo string,
 * so a deployment can point a service at any PostgreSQL: local, a pooler
 * (statements are prepared per connection; use session pooling), or a managed
 * one. A struct cm_db is not thread-safe: each worker owns its own. */
#ifndef CM_DB_H
#define CM_DB_H

#include <stddef.h>
#include <libpq-fe.h>

#include "cm/err.h"

/* A statement every connection prepares once, right after connecting.
 * name is what callers pass to cm_db_exec(); sql is a literal with $1..$n.
 * Statements come in sets: arrays ended by an entry whose name is NULL
 * (each libcommon module exports one, e.g. cm_auth_stmts, and so does each
 * service's store). */
struct cm_stmt {
    const char *name;
    const char *sql;
    int nparams;
};

struct cm_db;

/* New handle (cm_db_free()). conninfo may be NULL or "" (libpq environment
 * only). sets is a NULL-terminated array of statement sets (all borrowed for
 * the handle's life), prepared on every (re)connect. Does not
 * connect yet: the first cm_db_exec() does, so a service starts even while
 * PostgreSQL is down. NULL only on allocation failure (*err set). */
struct cm_db *cm_db_new(const char *conninfo, const struct cm_stmt *const *sets,
                        struct cm_err *err);
void cm_db_free(struct cm_db *db); /* NULL-safe; closes the connection */

/* Connects (if not connected) and prepares every statement. 0, or -1 with a
 * 500 err (detail names the cause). Called implicitly by cm_db_exec(). */
int cm_db_connect(struct cm_db *db, struct cm_err *err);

/* Executes the prepared statement `name` with text parameters (NULL values
 * are SQL NULL). Returns a new PGresult (caller PQclear()s) whose status is
 * PGRES_TUPLES_OK or PGRES_COMMAND_OK, or NULL with *err:
 *   - 500 api_error for connection loss and unexpected server errors
 *     (the SQLSTATE is kept: cm_db_sqlstate());
 *   - a statement that fails with SQLSTATE class 23 (integrity) or 40
 *     (serialization/deadlock) also gives 500 here: callers that expect one
 *     test cm_db_sqlstate() and replace *err.
 * Outside a transaction, a broken connection is re-established and the
 * statement retried once. Inside one, the transaction is lost: the call fails
 * and the caller must cm_db_rollback(). */
PGresult *cm_db_exec(struct cm_db *db, const char *name, int nparams, const char *const *values,
                     struct cm_err *err);

/* Like cm_db_exec() for an unprepared literal statement (rare paths and
 * tools). sql must be a string literal: values only through $n. */
PGresult *cm_db_exec_sql(struct cm_db *db, const char *sql, int nparams, const char *const *values,
                         struct cm_err *err);

/* A write whose result nobody reads (an audit row, a stored response):
 * inside a transaction it is queued and sent in the same network flight as
 * the transaction's next statement or its COMMIT, whose failure it then
 * causes (so nothing commits without it); outside one it runs at once.
 * values are copied. 0, or -1 with a 500 err. */
int cm_db_defer(struct cm_db *db, const char *name, int nparams, const char *const *values,
                struct cm_err *err);

/* A check that must hold for the next flight to count: the statement is
 * sent at the head of the next flight (after a pending BEGIN), inside or
 * outside a transaction, and when
 * it fails nothing after it runs (the flight is one implicit transaction, or
 * part of the explicit one), the caller gets its error and SQLSTATE. Used
 * for the authorization epoch (cm/auth.h). One guard at a time; values are
 * copied. Dropped once sent, and by commit, rollback or cm_db_guard_clear().
 * 0, or -1 with a 500 err. */
int cm_db_guard(struct cm_db *db, const char *name, int nparams, const char *const *values,
                struct cm_err *err);
void cm_db_guard_clear(struct cm_db *db);
/* Like cm_db_exec() for a statement that carries the guard named `guard`
 * itself, so that no statement of its own goes out for it: the statement's
 * last parameter ($nparams; values[nparams - 1] is ignored) receives the
 * pending guard's one value and the guard is dropped, or SQL NULL when no
 * such guard is pending. The statement must hold, with that value, exactly
 * when the guard statement would, and fail as it would before reading or
 * writing anything (cm/auth.h CM_AUTH_GUARD_SQL). When the statement fails
 * outside a transaction, for whatever reason, the guard is pending again (a
 * statement whose parameters do not bind checked nothing; one that failed
 * later gets its guard checked once more, a round trip on an error path).
 * nparams >= 1. */
PGresult *cm_db_exec_guarded(struct cm_db *db, const char *guard, const char *name, int nparams,
                             const char *const *values, struct cm_err *err);
/* Sends a pending guard now (on its own, or with a pending BEGIN), for a
 * request that would otherwise end without sending it. 0 when none is
 * pending or it held; -1 with its error. */
int cm_db_guard_flush(struct cm_db *db, struct cm_err *err);

/* A read sent ahead: the statement goes out in the next flight, after a
 * pending BEGIN and the guard and before anything else, so that it costs no
 * round trip of its own, and its result is kept for cm_db_ahead_result().
 * Used for the idempotency claim, which rides with the handler's first
 * statement. Only inside a transaction; one at a time; values are copied.
 * Dropped by commit, rollback and a flight that fails before it ran.
 * 0, or -1 with a 500 err. */
int cm_db_ahead(struct cm_db *db, const char *name, int nparams, const char *const *values,
                struct cm_err *err);

/* The result of the statement sent ahead: new PGresult (PQclear()), sending
 * it now when no flight carried it yet. NULL with *err when it failed, when
 * the flight that carried it failed before it (the SQLSTATE says why: see
 * cm_db_sqlstate()), or when nothing was sent ahead (500). */
PGresult *cm_db_ahead_result(struct cm_db *db, struct cm_err *err);

/* Transactions. begin/commit return 0 or -1 with a 500 err (a failed commit
 * leaves no transaction open). rollback never fails (a broken connection is
 * reset on the next use). BEGIN costs no round trip of its own: it travels
 * with the transaction's first statement (libpq pipeline mode), and deferred
 * writes travel with COMMIT; a transaction that sent nothing rolls back
 * without touching the network. */
int cm_db_begin(struct cm_db *db, struct cm_err *err);
int cm_db_commit(struct cm_db *db, struct cm_err *err);
void cm_db_rollback(struct cm_db *db);
int cm_db_in_tx(const struct cm_db *db);

/* SQLSTATE of the last failed statement ("23505"), or "" after a success.
 * Failures libpq reports without one get a class 08 code: "08001" could not
 * connect, "08003" connection lost inside a transaction, "08006" connection
 * lost. Borrowed, valid until the next call on db. */
const char *cm_db_sqlstate(const struct cm_db *db);

/* Forgets the last failure's SQLSTATE (a worker calls it at the start of
 * each request, so cm_db_sqlstate() speaks of this request only). */
void cm_db_clear_error(struct cm_db *db);

/* Rows affected by an INSERT/UPDATE/DELETE result (PQcmdTuples as a number). */
long cm_db_affected(const PGresult *res);

/* Value of row/column as a borrowed string, or NULL for SQL NULL. */
const char *cm_db_value(const PGresult *res, int row, int col);

#endif
