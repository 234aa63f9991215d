/* Audit rows. One prepared INSERT on the caller's connection: inside the
 * request's transaction it is deferred (cm_db_defer) to the flight of the
 * next statement or COMMIT, so it costs neither a round trip nor a commit of
 * its own, and it disappears with a rollback, so the log never claims a
 * change that did not happen. Text the client controls is cleaned here, once, rather than
 * trusted to every caller. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cm/audit.h"
#include "cm/banned.h"

const struct cm_stmt cm_audit_stmts[] = {
    {"cm_audit_write",
     "INSERT INTO core.audit (request_id, service, action, actor, account_id, app_id, livemode,"
     " object_id, status, error_code, client_addr, user_agent, target, route)"
     " VALUES ($1, $2, $3, $4, $5, $6, $7::boolean, $8, $9::integer, $10, $11, $12, $13, $14)",
     14},
    {"cm_audit_chain", "SELECT core.audit_chain_extend(5000, $1::boolean)", 1},
    {"cm_audit_rollup", "SELECT core.audit_rollup_advance(7)", 0},
    {"cm_audit_partitions", "SELECT core.audit_ensure_partitions()", 0},
    {NULL, NULL, 0},
};

/* Printable ASCII only, at most CM_AUDIT_TEXT_MAX characters; NULL stays
 * NULL. Lossy for non-ASCII names, by design: an audit insert must never
 * fail on the client's bytes. */
static const char *clean(const char *in, char out[CM_AUDIT_TEXT_MAX + 1])
{
    size_t n = 0;

    if (in == NULL)
        return NULL;
    for (; in[n] != '\0' && n < CM_AUDIT_TEXT_MAX; n++)
        out[n] = in[n] >= 0x20 && in[n] < 0x7f ? in[n] : '?';
    out[n] = '\0';
    return out;
}

int cm_audit_write(struct cm_db *db, const struct cm_audit_rec *rec, struct cm_err *err)
{
    char object_id[CM_AUDIT_TEXT_MAX + 1];
    char user_agent[CM_AUDIT_TEXT_MAX + 1];
    char target[CM_AUDIT_TEXT_MAX + 1];
    char status[16];
    const char *livemode = rec->livemode < 0 ? NULL : rec->livemode ? "true" : "false";

    if (rec->service == NULL || rec->action == NULL)
        return cm_err_internal(err, "audit: row without service or action");
    snprintf(status, sizeof(status), "%d", rec->status);
    /* In a transaction the row rides with the next statement or COMMIT,
     * whose failure it causes: the change and its row commit together. */
    return cm_db_defer(db, "cm_audit_write", 14,
                       (const char *[]){rec->request_id, rec->service, rec->action, rec->actor,
                                        rec->account_id, rec->app_id, livemode,
                                        clean(rec->object_id, object_id), status, rec->error_code,
                                        rec->client_addr, clean(rec->user_agent, user_agent),
                                        clean(rec->target, target), rec->route},
                       err);
}

long cm_audit_chain(struct cm_db *db, int late, struct cm_err *err)
{
    PGresult *res =
        cm_db_exec(db, "cm_audit_chain", 1, (const char *[]){late ? "true" : "false"}, err);
    long n;

    if (res == NULL)
        return -1;
    n = strtol(cm_db_value(res, 0, 0) ? cm_db_value(res, 0, 0) : "0", NULL, 10);
    PQclear(res);
    return n;
}

long cm_audit_rollup(struct cm_db *db, struct cm_err *err)
{
    PGresult *res = cm_db_exec(db, "cm_audit_rollup", 0, NULL, err);
    long n;

    if (res == NULL)
        return -1;
    n = strtol(cm_db_value(res, 0, 0) ? cm_db_value(res, 0, 0) : "0", NULL, 10);
    PQclear(res);
    return n;
}

int cm_audit_partitions(struct cm_db *db, struct cm_err *err)
{
    PGresult *res = cm_db_exec(db, "cm_audit_partitions", 0, NULL, err);

    PQclear(res);
    return res != NULL ? 0 : -1;
}
