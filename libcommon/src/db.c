/* PostgreSQL access through libpq. A handle owns one connection, made lazily
 * on first use, on which every statement of the service is prepared once, so
 * a request costs exactly one round trip per statement and never a health
 * check. Connection loss is noticed only when a statement fails: outside a
 * transaction the handle reconnects, prepares again and retries that statement
 * once; inside one it fails and leaves the caller to roll back, because
 * replaying half a transaction in autocommit mode would be a silent data bug.
 * Error details name the statement and carry only the first line of libpq's
 * message: the lines after it (DETAIL, CONTEXT) may quote parameter values,
 * which can be secrets.
 *
 * Transactions cost no round trip of their own: BEGIN is held back and sent
 * in one flight with the first statement (libpq pipeline mode), and deferred
 * writes ride with the next statement or with COMMIT. A read can be sent
 * ahead in the same way (the idempotency claim rides with the handler's
 * first statement). A request that reads, writes and audits thus pays for
 * its statements, not for the bookkeeping. */
#include <stdlib.h>
#include <string.h>

#include "cm/db.h"
#include "cm/banned.h"

struct deferred {
    const char *name; /* a prepared statement: static, from a statement set */
    int nparams;
    char **values; /* copies; NULL entries are SQL NULL */
};

struct cm_db {
    char *conninfo;
    /* NULL-terminated array of sets, each ended by an entry with a NULL name. */
    const struct cm_stmt *const *sets;
    /* NULL until connected, and again after a lost connection is dropped. */
    PGconn *conn;
    /* Inside a transaction, as the caller sees it: kept when the connection
     * dies in one, until cm_db_rollback() or cm_db_commit(). */
    int in_tx;
    /* BEGIN not sent yet: it goes out with the transaction's first flight. */
    int begin_pending;
    /* Deferred writes (cm_db_defer), sent ahead of the next statement or
     * COMMIT, in order. */
    struct deferred *queue;
    size_t nqueue, capqueue;
    /* cm_db_guard(): sent first in the next flight; guard.name NULL if none. */
    struct deferred guard;
    /* cm_db_ahead(): queued (ahead.name set), then its result or failure. */
    struct deferred ahead;
    PGresult *ahead_res;
    int ahead_failed;
    struct cm_err ahead_err;
    char sqlstate[6]; /* of the last failure, "" after a success */
};

/* SQLSTATEs given to failures libpq reports without one (client side). */
#define SQLSTATE_CANNOT_CONNECT "08001" /* sqlclient_unable_to_establish_sqlconnection */
#define SQLSTATE_NO_CONNECTION  "08003" /* connection_does_not_exist */
#define SQLSTATE_CONN_FAILURE   "08006" /* connection_failure */
#define SQLSTATE_FAILED_TX      "25P02" /* in_failed_sql_transaction */

static void set_sqlstate(struct cm_db *db, const char *state)
{
    size_t n = state ? strlen(state) : 0;

    if (n >= sizeof(db->sqlstate))
        n = sizeof(db->sqlstate) - 1;
    memcpy(db->sqlstate, state ? state : "", n);
    db->sqlstate[n] = '\0';
}

/* The first line of a libpq message, as a length for "%.*s". */
static int first_line(const char *msg)
{
    return (int)strcspn(msg ? msg : "", "\n");
}

/* The length of a statement's label for "%.*s": a prepared statement's name,
 * or the start of a literal statement's text. */
static int label_len(const char *label)
{
    int n = first_line(label);

    return n > 60 ? 60 : n;
}

/* Writes the 500 for a failed libpq call. res may be NULL (the message is
 * then the connection's). Must run before the connection is closed. */
static int fail(struct cm_db *db, const char *label, const PGresult *res, struct cm_err *err)
{
    const char *msg = PQresultErrorMessage(res); /* "" when res is NULL */

    if (*msg == '\0' && db->conn != NULL)
        msg = PQerrorMessage(db->conn);
    if (*msg == '\0')
        msg = "out of memory";
    return cm_err_internal(err, "%.*s: %.*s", label_len(label), label, first_line(msg), msg);
}

static void drop(struct cm_db *db)
{
    PQfinish(db->conn);
    db->conn = NULL;
}

/* A failure after which the connection cannot be used again: the socket is
 * gone, the server said so (class 08), or it is shutting the session down
 * (57P01 admin_shutdown, 57P02 crash_shutdown, 57P03 cannot_connect_now). */
static int connection_lost(const struct cm_db *db)
{
    const char *s = db->sqlstate;

    if (db->conn == NULL || PQstatus(db->conn) != CONNECTION_OK)
        return 1;
    return strncmp(s, "08", 2) == 0 || strcmp(s, "57P01") == 0 || strcmp(s, "57P02") == 0 ||
           strcmp(s, "57P03") == 0;
}

/* After a statement on a live connection, the server's transaction status is
 * the truth (it also follows a BEGIN or COMMIT sent through cm_db_exec_sql()).
 * On a dead one it is unknown, so the caller's view is kept until rollback. */
static void sync_tx(struct cm_db *db)
{
    PGTransactionStatusType ts;

    if (db->conn == NULL || PQstatus(db->conn) != CONNECTION_OK)
        return;
    ts = PQtransactionStatus(db->conn);
    db->in_tx = ts == PQTRANS_INTRANS || ts == PQTRANS_INERROR;
}

static PGresult *run(struct cm_db *db, const char *name, const char *sql, int nparams,
                     const char *const *values, struct cm_err *err);

static void deferred_free(struct deferred *d)
{
    for (int j = 0; j < d->nparams; j++)
        free(d->values[j]);
    free(d->values);
    memset(d, 0, sizeof(*d));
}

/* Copies name and values into *d. 0, or -1 (out of memory). */
static int deferred_set(struct deferred *d, const char *name, int nparams,
                        const char *const *values)
{
    d->name = name;
    d->nparams = nparams;
    d->values = calloc(nparams > 0 ? (size_t)nparams : 1, sizeof(char *));
    if (d->values == NULL)
        return -1;
    for (int i = 0; i < nparams; i++) {
        if (values[i] != NULL && (d->values[i] = strdup(values[i])) == NULL) {
            deferred_free(d);
            return -1;
        }
    }
    return 0;
}

/* After the flight that carried the read sent ahead (sent: it was in it):
 * keeps its result, or the flight's error when it did not run. */
static void ahead_done(struct cm_db *db, int sent, PGresult *kept, const struct cm_err *err)
{
    if (!sent)
        return;
    deferred_free(&db->ahead);
    db->ahead_res = kept;
    db->ahead_failed = kept == NULL;
    if (kept == NULL)
        db->ahead_err = *err;
}

void cm_db_guard_clear(struct cm_db *db)
{
    if (db->guard.name != NULL)
        deferred_free(&db->guard);
}

static void ahead_clear(struct cm_db *db)
{
    if (db->ahead.name != NULL)
        deferred_free(&db->ahead);
    PQclear(db->ahead_res);
    db->ahead_res = NULL;
    db->ahead_failed = 0;
}

static void queue_clear(struct cm_db *db)
{
    for (size_t i = 0; i < db->nqueue; i++)
        deferred_free(&db->queue[i]);
    db->nqueue = 0;
}

struct cm_db *cm_db_new(const char *conninfo, const struct cm_stmt *const *sets, struct cm_err *err)
{
    struct cm_db *db = calloc(1, sizeof(*db));

    if (db == NULL)
        goto oom;
    db->conninfo = strdup(conninfo ? conninfo : "");
    if (db->conninfo == NULL)
        goto oom;
    db->sets = sets;
    return db;
oom:
    free(db);
    cm_err_internal(err, "cm_db_new: out of memory");
    return NULL;
}

void cm_db_free(struct cm_db *db)
{
    if (db == NULL)
        return;
    PQfinish(db->conn);
    queue_clear(db);
    cm_db_guard_clear(db);
    ahead_clear(db);
    free(db->queue);
    free(db->conninfo);
    free(db);
}

static int prepare(struct cm_db *db, const struct cm_stmt *st, struct cm_err *err)
{
    PGresult *res = PQprepare(db->conn, st->name, st->sql, st->nparams, NULL);
    int ret = 0;

    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
        const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);

        set_sqlstate(db, state ? state : SQLSTATE_CONN_FAILURE);
        ret = fail(db, st->name, res, err);
    }
    PQclear(res);
    return ret;
}

static int prepare_all(struct cm_db *db, struct cm_err *err)
{
    for (const struct cm_stmt *const *set = db->sets; set != NULL && *set != NULL; set++) {
        for (const struct cm_stmt *st = *set; st->name != NULL; st++) {
            if (prepare(db, st, err) < 0)
                return -1;
        }
    }
    return 0;
}

int cm_db_connect(struct cm_db *db, struct cm_err *err)
{
    if (db->conn != NULL && PQstatus(db->conn) == CONNECTION_OK)
        return 0;
    drop(db);
    db->conn = PQconnectdb(db->conninfo);
    if (db->conn == NULL || PQstatus(db->conn) != CONNECTION_OK) {
        set_sqlstate(db, SQLSTATE_CANNOT_CONNECT);
        fail(db, "connect", NULL, err);
        drop(db);
        return -1;
    }
    if (prepare_all(db, err) < 0) {
        /* Dropped so that the next call starts over and prepares everything. */
        drop(db);
        return -1;
    }
    return 0;
}

/* One command of a flight. */
struct cmd {
    const char *name; /* prepared statement, or NULL for sql */
    const char *sql;
    int nparams;
    const char *const *values;
};

static int send_cmd(PGconn *conn, const struct cmd *c)
{
    if (c->name != NULL)
        return PQsendQueryPrepared(conn, c->name, c->nparams, c->values, NULL, NULL, 0);
    return PQsendQueryParams(conn, c->sql, c->nparams, NULL, c->values, NULL, NULL, 0);
}

/* Sends cmds in one flight (pipeline mode) and reads every result. Returns
 * the result of the last command (new), or NULL with *err: the first failed
 * command's error. *lost tells whether the connection broke. When keep < n,
 * cmds[keep]'s result goes to *kept (new) if that command succeeded. */
static PGresult *flight(struct cm_db *db, const struct cmd *cmds, size_t n, size_t keep,
                        PGresult **kept, int *lost, struct cm_err *err)
{
    PGresult *last = NULL, *res;
    size_t failed = n;
    int broken = 0;

    *lost = 0;
    if (PQenterPipelineMode(db->conn) != 1) {
        *lost = PQstatus(db->conn) != CONNECTION_OK;
        set_sqlstate(db, SQLSTATE_CONN_FAILURE);
        fail(db, cmds[n - 1].name ? cmds[n - 1].name : cmds[n - 1].sql, NULL, err);
        return NULL;
    }
    for (size_t i = 0; i < n && !broken; i++)
        broken = send_cmd(db->conn, &cmds[i]) != 1;
    if (broken || PQpipelineSync(db->conn) != 1) {
        set_sqlstate(db, SQLSTATE_CONN_FAILURE);
        fail(db, "pipeline", NULL, err);
        *lost = 1;
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        ExecStatusType st;

        res = PQgetResult(db->conn);
        if (res == NULL) { /* the connection went away mid-flight */
            *lost = 1;
            break;
        }
        st = PQresultStatus(res);
        if (failed == n && st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
            const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
            set_sqlstate(db, state ? state : SQLSTATE_CONN_FAILURE);
            fail(db, cmds[i].name ? cmds[i].name : cmds[i].sql, res, err);
            failed = i;
        }
        if (i == n - 1 && failed == n)
            last = res;
        else if (i == keep && failed == n)
            *kept = res;
        else
            PQclear(res);
        /* Each command's results end with a NULL. */
        while ((res = PQgetResult(db->conn)) != NULL)
            PQclear(res);
    }
    if (!*lost) {
        res = PQgetResult(db->conn); /* PGRES_PIPELINE_SYNC */
        *lost = res == NULL || PQresultStatus(res) != PGRES_PIPELINE_SYNC;
        PQclear(res);
    }
    if (*lost || PQexitPipelineMode(db->conn) != 1) {
        *lost = 1;
        if (failed == n) {
            set_sqlstate(db, SQLSTATE_CONN_FAILURE);
            fail(db, "pipeline", NULL, err);
        }
        PQclear(last);
        return NULL;
    }
    return last;
}

/* Sends [BEGIN] [guard] [read ahead] [deferred writes] cmd as one flight. After a lost
 * connection the flight is retried once on a new one when nothing it
 * belongs to ran before it (it opens the transaction, or there is none) and
 * it does not carry a COMMIT, which the server may have performed before the
 * connection broke. */
static PGresult *run_flight(struct cm_db *db, const struct cmd *cmd, struct cm_err *err)
{
    struct cmd stack_cmds[8], *cmds = stack_cmds;
    size_t n = 0, need = db->nqueue + 4; /* BEGIN, guard, read ahead, cmd */
    PGresult *res = NULL;

    if (need > sizeof(stack_cmds) / sizeof(stack_cmds[0])) {
        cmds = malloc(need * sizeof(*cmds));
        if (cmds == NULL) {
            cm_err_internal(err, "out of memory for a pipeline of %zu statements", need);
            return NULL;
        }
    }
    for (int attempt = 0;; attempt++) {
        int opening = db->begin_pending, lost = 0;
        size_t keep = need;
        PGresult *kept = NULL;
        int retryable = (opening || !db->in_tx) && !(cmd->sql && strcmp(cmd->sql, "COMMIT") == 0);

        db->sqlstate[0] = '\0';
        if (db->conn == NULL || PQstatus(db->conn) != CONNECTION_OK) {
            if (db->in_tx && !opening) {
                set_sqlstate(db, SQLSTATE_NO_CONNECTION);
                cm_err_internal(err, "%.*s: connection lost inside a transaction",
                                label_len(cmd->name ? cmd->name : cmd->sql),
                                cmd->name ? cmd->name : cmd->sql);
                break;
            }
            if (cm_db_connect(db, err) < 0)
                break;
        }
        n = 0;
        if (opening)
            cmds[n++] = (struct cmd){NULL, "BEGIN", 0, NULL};
        if (db->guard.name != NULL)
            cmds[n++] = (struct cmd){db->guard.name, NULL, db->guard.nparams,
                                     (const char *const *)db->guard.values};
        if (db->ahead.name != NULL) {
            keep = n;
            cmds[n++] = (struct cmd){db->ahead.name, NULL, db->ahead.nparams,
                                     (const char *const *)db->ahead.values};
        }
        for (size_t i = 0; i < db->nqueue; i++)
            cmds[n++] = (struct cmd){db->queue[i].name, NULL, db->queue[i].nparams,
                                     (const char *const *)db->queue[i].values};
        cmds[n++] = *cmd;
        res = flight(db, cmds, n, keep, &kept, &lost, err);
        if (!lost || !retryable || attempt > 0)
            ahead_done(db, keep < need, kept, err);
        else
            PQclear(kept); /* sent again with the retry */
        if (!lost) {
            db->begin_pending = 0;
            queue_clear(db);
            cm_db_guard_clear(db);
            sync_tx(db);
            break;
        }
        drop(db);
        if (!retryable || attempt > 0)
            break;
    }
    if (cmds != stack_cmds)
        free(cmds);
    return res;
}

int cm_db_defer(struct cm_db *db, const char *name, int nparams, const char *const *values,
                struct cm_err *err)
{
    struct deferred *d;
    PGresult *res;

    if (!db->in_tx) {
        res = cm_db_exec(db, name, nparams, values, err);
        PQclear(res);
        return res ? 0 : -1;
    }
    if (db->nqueue == db->capqueue) {
        size_t cap = db->capqueue ? db->capqueue * 2 : 8;
        struct deferred *q = realloc(db->queue, cap * sizeof(*q));
        if (q == NULL)
            return cm_err_internal(err, "%s: out of memory deferring a statement", name);
        db->queue = q;
        db->capqueue = cap;
    }
    d = &db->queue[db->nqueue];
    if (deferred_set(d, name, nparams, values) < 0)
        return cm_err_internal(err, "%s: out of memory deferring a statement", name);
    db->nqueue++;
    return 0;
}

int cm_db_guard_flush(struct cm_db *db, struct cm_err *err)
{
    struct deferred g = db->guard;
    PGresult *res;

    if (g.name == NULL)
        return 0;
    memset(&db->guard, 0, sizeof(db->guard)); /* g owns the values now */
    res = run(db, g.name, NULL, g.nparams, (const char *const *)g.values, err);
    deferred_free(&g);
    PQclear(res);
    return res != NULL ? 0 : -1;
}

int cm_db_ahead(struct cm_db *db, const char *name, int nparams, const char *const *values,
                struct cm_err *err)
{
    if (!db->in_tx)
        return cm_err_internal(err, "%s: a read sent ahead needs a transaction", name);
    ahead_clear(db);
    if (deferred_set(&db->ahead, name, nparams, values) < 0)
        return cm_err_internal(err, "%s: out of memory sending a read ahead", name);
    return 0;
}

PGresult *cm_db_ahead_result(struct cm_db *db, struct cm_err *err)
{
    struct deferred a = db->ahead;
    PGresult *res;

    if (a.name != NULL) {                         /* not sent yet: now, as a flight of its own */
        memset(&db->ahead, 0, sizeof(db->ahead)); /* a owns the values now */
        res = run(db, a.name, NULL, a.nparams, (const char *const *)a.values, err);
        deferred_free(&a);
        return res;
    }
    if (db->ahead_res != NULL) {
        res = db->ahead_res;
        db->ahead_res = NULL;
        return res;
    }
    if (db->ahead_failed) {
        db->ahead_failed = 0;
        *err = db->ahead_err;
        return NULL;
    }
    cm_err_internal(err, "no read was sent ahead");
    return NULL;
}

int cm_db_guard(struct cm_db *db, const char *name, int nparams, const char *const *values,
                struct cm_err *err)
{
    cm_db_guard_clear(db);
    if (deferred_set(&db->guard, name, nparams, values) < 0)
        return cm_err_internal(err, "%s: out of memory for a guard", name);
    return 0;
}

/* Runs one statement: prepared when name is set, else the literal sql. The
 * retry after a lost connection happens only when the connection was idle
 * before sending, i.e. outside any transaction. A statement cut off after the
 * server ran it (the network failing between commit and reply) is then run
 * twice: writes that must not repeat go through idempotency keys. */
static PGresult *run(struct cm_db *db, const char *name, const char *sql, int nparams,
                     const char *const *values, struct cm_err *err)
{
    const char *label = name ? name : sql;

    if (db->begin_pending || db->nqueue > 0 || db->guard.name != NULL || db->ahead.name != NULL) {
        struct cmd c = {name, sql, nparams, values};
        return run_flight(db, &c, err);
    }

    for (int attempt = 0;; attempt++) {
        PGresult *res;
        ExecStatusType st;
        const char *state;
        int idle;

        db->sqlstate[0] = '\0';
        if (db->conn == NULL || PQstatus(db->conn) != CONNECTION_OK) {
            if (db->in_tx) {
                set_sqlstate(db, SQLSTATE_NO_CONNECTION);
                cm_err_internal(err, "%.*s: connection lost inside a transaction", label_len(label),
                                label);
                return NULL;
            }
            if (cm_db_connect(db, err) < 0)
                return NULL;
        }
        idle = !db->in_tx && PQtransactionStatus(db->conn) == PQTRANS_IDLE;
        if (name != NULL)
            res = PQexecPrepared(db->conn, name, nparams, values, NULL, NULL, 0);
        else
            res = PQexecParams(db->conn, sql, nparams, NULL, values, NULL, NULL, 0);
        st = PQresultStatus(res);
        if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK) {
            sync_tx(db);
            return res;
        }
        state = PQresultErrorField(res, PG_DIAG_SQLSTATE); /* NULL when res is */
        set_sqlstate(db, state ? state : SQLSTATE_CONN_FAILURE);
        if (!connection_lost(db)) {
            sync_tx(db);
            fail(db, label, res, err);
            PQclear(res);
            return NULL;
        }
        if (!idle || attempt > 0) {
            fail(db, label, res, err);
            PQclear(res);
            drop(db);
            return NULL;
        }
        PQclear(res);
        drop(db);
    }
}

PGresult *cm_db_exec(struct cm_db *db, const char *name, int nparams, const char *const *values,
                     struct cm_err *err)
{
    return run(db, name, NULL, nparams, values, err);
}

PGresult *cm_db_exec_guarded(struct cm_db *db, const char *guard, const char *name, int nparams,
                             const char *const *values, struct cm_err *err)
{
    const char *stack_vals[16], **vals = stack_vals;
    struct deferred g = {0};
    PGresult *res;

    if (nparams < 1) {
        cm_err_internal(err, "%s: a guarded statement needs its guard's parameter", name);
        return NULL;
    }
    if ((size_t)nparams > sizeof(stack_vals) / sizeof(stack_vals[0])) {
        vals = malloc((size_t)nparams * sizeof(*vals));
        if (vals == NULL) {
            cm_err_internal(err, "%s: out of memory", name);
            return NULL;
        }
    }
    if (nparams > 1)
        memcpy(vals, values, (size_t)(nparams - 1) * sizeof(*vals));
    vals[nparams - 1] = NULL;
    if (db->guard.name != NULL && strcmp(db->guard.name, guard) == 0 && db->guard.nparams == 1) {
        g = db->guard; /* owns the value now: the statement carries it */
        memset(&db->guard, 0, sizeof(db->guard));
        vals[nparams - 1] = g.values[0];
    }
    res = run(db, name, NULL, nparams, vals, err);
    /* A statement that failed before executing (its parameters did not
     * bind) checked nothing: outside a transaction the guard is pending
     * again, for cm_db_guard_flush() to settle. */
    if (res == NULL && g.name != NULL && !db->in_tx && db->guard.name == NULL) {
        db->guard = g;
        memset(&g, 0, sizeof(g));
    }
    deferred_free(&g);
    if (vals != stack_vals)
        free(vals);
    return res;
}

PGresult *cm_db_exec_sql(struct cm_db *db, const char *sql, int nparams, const char *const *values,
                         struct cm_err *err)
{
    return run(db, NULL, sql, nparams, values, err);
}

int cm_db_begin(struct cm_db *db, struct cm_err *err)
{
    if (db->in_tx)
        return cm_err_internal(err, "BEGIN: a transaction is already open");
    /* Sent with the first statement of the transaction. */
    db->begin_pending = 1;
    db->in_tx = 1;
    return 0;
}

int cm_db_commit(struct cm_db *db, struct cm_err *err)
{
    PGresult *res;
    int rolled_back;

    if (!db->in_tx)
        return cm_err_internal(err, "COMMIT: no transaction is open");
    ahead_clear(db); /* a read nobody asked for */
    if (db->begin_pending && db->nqueue == 0 && db->guard.name == NULL) {
        /* Nothing was sent: nothing to commit. */
        db->begin_pending = 0;
        db->in_tx = 0;
        return 0;
    }
    res = run(db, NULL, "COMMIT", 0, NULL, err);
    if (res == NULL && db->conn != NULL && PQstatus(db->conn) == CONNECTION_OK &&
        PQtransactionStatus(db->conn) != PQTRANS_IDLE)
        cm_db_rollback(db); /* a deferred write failed: the COMMIT never ran */
    /* Whatever happened, the transaction is over: committed, rolled back by
     * the server, or lost with its connection. */
    db->in_tx = 0;
    if (res == NULL)
        return -1;
    /* COMMIT of a transaction in which a statement failed succeeds on the
     * wire with the tag "ROLLBACK": nothing was committed. */
    rolled_back = strcmp(PQcmdStatus(res), "ROLLBACK") == 0;
    PQclear(res);
    if (rolled_back) {
        set_sqlstate(db, SQLSTATE_FAILED_TX);
        return cm_err_internal(err, "COMMIT: the transaction had failed and was rolled back");
    }
    return 0;
}

void cm_db_rollback(struct cm_db *db)
{
    PGresult *res;
    int ok;

    db->in_tx = 0;
    db->begin_pending = 0;
    queue_clear(db);
    cm_db_guard_clear(db);
    ahead_clear(db);
    if (db->conn == NULL)
        return;
    if (PQstatus(db->conn) == CONNECTION_OK && PQtransactionStatus(db->conn) == PQTRANS_IDLE)
        return;
    if (PQstatus(db->conn) == CONNECTION_OK) {
        res = PQexec(db->conn, "ROLLBACK");
        ok = PQresultStatus(res) == PGRES_COMMAND_OK;
        PQclear(res);
        if (ok)
            return;
    }
    /* A connection that cannot roll back is closed; the next call reconnects. */
    drop(db);
}

int cm_db_in_tx(const struct cm_db *db)
{
    return db->in_tx;
}

void cm_db_clear_error(struct cm_db *db)
{
    db->sqlstate[0] = '\0';
}

const char *cm_db_sqlstate(const struct cm_db *db)
{
    return db->sqlstate;
}

long cm_db_affected(const PGresult *res)
{
    /* PQcmdTuples() takes a non-const pointer but does not modify the result. */
    const char *n = PQcmdTuples((PGresult *)res);

    return *n ? strtol(n, NULL, 10) : 0;
}

const char *cm_db_value(const PGresult *res, int row, int col)
{
    /* Checked here: libpq would also print a notice to stderr. */
    if (row < 0 || row >= PQntuples(res) || col < 0 || col >= PQnfields(res))
        return NULL;
    if (PQgetisnull(res, row, col))
        return NULL;
    return PQgetvalue(res, row, col);
}
