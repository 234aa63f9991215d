/* The audit log: one core.audit row per audited action, written in the
 * transaction of the change it records, so the row exists exactly when the
 * change does. A row names who did what to which object and how it ended;
 * never a payload, a key, a client secret or personal data. */
#ifndef CM_AUDIT_H
#define CM_AUDIT_H

#include "cm/db.h"
#include "cm/err.h"

/* Statements of this module, ended by {NULL}: pass to cm_db_new(). */
extern const struct cm_stmt cm_audit_stmts[];

/* Longest user agent and object id stored; longer values are cut. */
#define CM_AUDIT_TEXT_MAX 256

/* One row. Every pointer is borrowed for the call and may be NULL (SQL
 * NULL) except service and action. */
struct cm_audit_rec {
    const char *request_id; /* "req_..." */
    const char *service;    /* "svc-secrets", "svc-identity", "svc-install" */
    const char *action;     /* "secret.set", "auth.failed", "request.rejected" ... */
    const char *actor;      /* key_... or usr_..., never a key */
    const char *account_id, *app_id;
    int livemode;                         /* 0, 1, or -1 unknown (NULL) */
    const char *object_id;                /* may come from the client's path: stored cleaned */
    int status;                           /* HTTP status of the outcome */
    const char *error_code;               /* Stripe error code or NULL */
    const char *client_addr, *user_agent; /* user_agent cleaned */
    const char *target; /* what was touched, readable ("user:usr_1/api_token"); cleaned */
    const char *route;  /* the matched route, "POST /v1/apps/secrets"; NULL when none */
};

/* Inserts one row on db's current transaction (autocommit when none), so a
 * rollback removes it with the change. object_id and user_agent are client
 * text: bytes outside printable ASCII become '?' and the value is cut to
 * CM_AUDIT_TEXT_MAX characters, so hostile input can neither fail the insert
 * (invalid UTF-8) nor forge log lines. Returns 0, or -1 with a 500 in *err
 * (also when service or action is NULL). */
int cm_audit_write(struct cm_db *db, const struct cm_audit_rec *rec, struct cm_err *err);

/* Housekeeping, run by every service's background thread (sql/core/0008,
 * 0015): extends the hash chain over rows written since (one instance at a
 * time does the work; the others return at once) and returns how many it
 * chained, or -1 with *err. late: also look back two minutes for rows whose
 * transactions committed after the chain passed them (it reads every row of
 * that window, so not every round). */
long cm_audit_chain(struct cm_db *db, int late, struct cm_err *err);
/* Housekeeping too (sql/core/0012): rolls up to 7 closed days of audit rows
 * into the daily tables the report views read (one instance at a time).
 * Returns the days rolled up, or -1 with *err. */
long cm_audit_rollup(struct cm_db *db, struct cm_err *err);
/* Creates this month's and next month's partitions when missing. 0 or -1. */
int cm_audit_partitions(struct cm_db *db, struct cm_err *err);

#endif
