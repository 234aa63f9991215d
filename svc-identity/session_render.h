/* The parts of session.c that the sessions API shares beyond session.h: the
 * select list a session row is rendered from (so that a list page renders
 * its rows exactly as retrieve does), session.c's prepared statements, and
 * the expansions session.h does not name. */
#ifndef IDN_SESSION_RENDER_H
#define IDN_SESSION_RENDER_H

#include <jansson.h>
#include <libpq-fe.h>

#include "cm/auth.h"
#include "cm/config.h"
#include "cm/db.h"
#include "cm/err.h"
#include "session.h"

/* More expand[] values, next to session.h's IDN_EXPAND_*. */
enum {
    IDN_EXPAND_VO_SEX = 1 << 8,            /* "verified_outputs.sex" */
    IDN_EXPAND_VO_PLACE_OF_BIRTH = 1 << 9, /* "verified_outputs.unparsed_place_of_birth" */
    IDN_EXPAND_VO_UNPARSED_SEX = 1 << 10,  /* "verified_outputs.unparsed_sex" */
    IDN_EXPAND_REPORT_SHIFT = 16,          /* report.h's flags, for last_verification_report.* */
};

/* The select list over identity.sessions aliased `s` that
 * idn_session_render() reads. $pd and $vo are the positions of two boolean
 * parameters of the statement: the sealed provided details and verified
 * outputs are fetched only when they are to be shown. */
#define IDN_SESSION_COLS(pd, vo)                                                                   \
    "s.id, s.account_id, s.livemode, s.type, s.status, s.client_reference_id, s.metadata::text,"   \
    " s.options::text, s.related_customer, s.related_customer_account, s.related_person::text,"    \
    " s.key_id, s.last_error_code, s.last_error_reason, s.last_report_id, s.redaction_status,"     \
    " floor(extract(epoch FROM s.created))::bigint, s.client_secret_hash IS NOT NULL,"             \
    " encode(s.client_secret_sealed, 'hex'),"                                                      \
    " CASE WHEN " pd "::boolean THEN encode(s.provided_details_sealed, 'hex') END,"                \
    " CASE WHEN " vo "::boolean THEN encode(s.verified_outputs_sealed, 'hex') END,"                \
    " s.redacted_view::text, s.seq, s.app_id"

/* Renders row `row` of res (selected with IDN_SESSION_COLS) as a new
 * identity.verification_session (json_decref()) with the expansions in
 * expand (session.h's and the flags above; last_verification_report is
 * loaded from db). Never writes. NULL with a 500 in *err. */
json_t *idn_session_render(struct cm_db *db, const struct cm_config *cfg, const PGresult *res,
                           int row, unsigned expand, struct cm_err *err);

/* idn_session_emit() for a session row already in hand (IDN_SESSION_COLS,
 * read after the change): saves reading it again. 0, or -1 with a 500. */
int idn_session_emit_row(struct cm_db *db, const struct cm_config *cfg, const PGresult *res,
                         int row, const char *type, const char *request_id,
                         const char *idempotency_key, struct cm_err *err);

/* session.c's statements, for the sessions module's set (main.c joins module
 * sets only): one entry list, without the {NULL} end. */
#define IDN_SESSION_STMTS                                                                          \
    {"idn_session_get",                                                                            \
     "SELECT " IDN_SESSION_COLS("$4",                                                              \
                                "$5") " FROM identity.sessions s WHERE s.id = $1"                  \
                                      " AND ($2::text IS NULL OR s.account_id = $2)"               \
                                      " AND ($3::boolean IS NULL OR s.livemode = $3::boolean)"     \
                                      " AND " CM_AUTH_GUARD_SQL("$6"),                             \
     6},                                                                                           \
        {"idn_session_get_lock",                                                                   \
         "SELECT " IDN_SESSION_COLS("$4",                                                          \
                                    "$5") " FROM identity.sessions s WHERE s.id = $1"              \
                                          " AND ($2::text IS NULL OR s.account_id = $2)"           \
                                          " AND ($3::boolean IS NULL OR s.livemode = $3::boolean)" \
                                          " AND " CM_AUTH_GUARD_SQL("$6") " FOR UPDATE",           \
         6},                                                                                       \
        {"idn_session_sealed",                                                                     \
         "SELECT key_id, encode(provided_details_sealed, 'hex'), encode(client_secret_sealed,"     \
         " 'hex'), encode(verified_outputs_sealed, 'hex'), encode(submission_sealed, 'hex')"       \
         " FROM identity.sessions WHERE id = $1 FOR UPDATE",                                       \
         1},                                                                                       \
        {"idn_session_rekey",                                                                      \
         "UPDATE identity.sessions SET key_id = $2, provided_details_sealed = decode($3, 'hex'),"  \
         " client_secret_sealed = decode($4, 'hex'), verified_outputs_sealed = decode($5, 'hex')," \
         " submission_sealed = decode($6, 'hex') WHERE id = $1",                                   \
         6},                                                                                       \
    {                                                                                              \
        "idn_session_secret",                                                                      \
            "UPDATE identity.sessions SET client_secret_hash = decode($2, 'hex'),"                 \
            " client_secret_sealed = decode($3, 'hex'), key_id = $4 WHERE id = $1"                 \
            " AND status = 'requires_input' AND redaction_status IS NULL",                         \
            4                                                                                      \
    }

#endif
