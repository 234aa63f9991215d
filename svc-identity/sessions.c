/* The verification sessions API, /v1/identity/verification_sessions: create,
 * retrieve, update, list, cancel and redact, with the state machine of
 * API.md section 9. Sessions belong to (account acted for, livemode): an
 * account key reaches its own account, an app key the accounts it is
 * installed on (libcommon resolves which), and a session of another account
 * or mode is simply not found.
 *
 * What each status allows:
 *   requires_input  update, cancel (-> canceled), redact (also cancels)
 *   processing      nothing: the checks are running (redact waits for them)
 *   verified        redact
 *   canceled        redact (as Stripe's docs say: any session not processing)
 * and a redacted session can be read, never changed; redacting it again
 * answers it unchanged. Every change emits its event in its own transaction;
 * redaction erases the session's personal data at once and leaves files and
 * reports to redact.c's worker, which then emits ...redacted. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "cm/auth.h"
#include "cm/json.h"
#include "cm/params.h"
#include "filters.h"
#include "module.h"
#include "redact.h"
#include "report.h"
#include "seal.h"
#include "session_params.h"
#include "session_render.h"
#include "session_write.h"
#include "cm/banned.h"

#define SESSIONS_URL "/v1/identity/verification_sessions"
#define FILTER_MAX   5000
#define AUDIT_TARGET "verification_session"
#define EVT(x)       "identity.verification_session." x

/* The sealed provided details of a session, in the statements below. */
#define SEALED_PROVIDED "provided_details_sealed"

/* $1 account, $2 livemode, $3 client_reference_id, $4 created from, $5
 * created to, $6 related_customer, $7 related_customer_account, $8 status,
 * $9 cursor, $10 limit, $11/$12 provided details / verified outputs. */
#define SCOPE " s.account_id = $1 AND s.livemode = $2::boolean"
#define FILTERS                                                                                    \
    SCOPE " AND ($3::text IS NULL OR s.client_reference_id = $3)"                                  \
          " AND ($4::bigint IS NULL OR s.created >= to_timestamp($4::bigint))"                     \
          " AND ($5::bigint IS NULL OR s.created < to_timestamp($5::bigint))"                      \
          " AND ($6::text IS NULL OR s.related_customer = $6)"                                     \
          " AND ($7::text IS NULL OR s.related_customer_account = $7)"                             \
          " AND ($8::text IS NULL OR s.status = $8)"
#define PAGE(cmp, order)                                                                           \
    "WITH c AS (SELECT s.seq FROM identity.sessions s WHERE" SCOPE " AND s.id = $9),"              \
    " page AS (SELECT " IDN_SESSION_COLS(                                                          \
        "$11", "$12") " FROM identity.sessions s WHERE" FILTERS                                    \
                      " AND ($9::text IS NULL OR s.seq " cmp " (SELECT seq FROM c))"               \
                      " ORDER BY s.seq " order " LIMIT $10::integer)"                              \
                      " SELECT page.*, $9::text IS NULL OR EXISTS (SELECT 1 FROM c)"               \
                      " FROM (SELECT 1) one LEFT JOIN page ON true ORDER BY page.seq " order

static const struct cm_stmt stmts[] = {
    IDN_SESSION_STMTS,
    {"idn_sessions_insert",
     "INSERT INTO identity.sessions AS s (id, account_id, app_id, livemode, type,"
     " client_reference_id, metadata, options, return_url, related_customer,"
     " related_customer_account, related_person, key_id, provided_details_sealed,"
     " client_secret_hash, client_secret_sealed) SELECT $1, $2, $3, $4::boolean, $5, $6,"
     " $7::jsonb, $8::jsonb, $9, $10, $11, $12::jsonb, $13, decode($14, 'hex'),"
     " decode($15, 'hex'), decode($16, 'hex') WHERE " CM_AUTH_GUARD_SQL(
         "$19") " RETURNING " IDN_SESSION_COLS("$17", "$18"),
     19},
    {"idn_sessions_update",
     "UPDATE identity.sessions AS s SET type = coalesce($2, s.type),"
     " metadata = coalesce($3::jsonb, s.metadata), options = coalesce($4::jsonb, s.options),"
     " provided_details_sealed = CASE WHEN $5::boolean THEN decode($6, 'hex')"
     " ELSE s.provided_details_sealed END, key_id = coalesce($7, s.key_id), updated = now()"
     " WHERE s.id = $1 RETURNING " IDN_SESSION_COLS("$8", "$9"),
     9},
    {"idn_sessions_cancel",
     "UPDATE identity.sessions AS s SET status = 'canceled', client_secret_hash = NULL,"
     " client_secret_sealed = NULL, updated = now() WHERE s.id = $1"
     " RETURNING " IDN_SESSION_COLS("$2", "$3"),
     3},
    /* Personal data goes at once; files and reports follow in redact.c. */
    {"idn_sessions_redact",
     "UPDATE identity.sessions AS s SET status = CASE WHEN s.status = 'requires_input'"
     " THEN 'canceled' ELSE s.status END, redaction_status = 'processing', metadata = '{}',"
     " redacted_view = $2::jsonb, provided_details_sealed = NULL, client_secret_hash = NULL,"
     " client_secret_sealed = NULL, verified_outputs_sealed = NULL, submission_sealed = NULL,"
     " test_outcome = NULL, updated = now() WHERE s.id = $1"
     " RETURNING " IDN_SESSION_COLS("$3", "$4"),
     4},
    {"idn_sessions_older", PAGE("<", "DESC"), 12},
    {"idn_sessions_newer", PAGE(">", "ASC"), 12},
    {NULL, NULL, 0},
};

/* ---- expand[] ---- */

static const struct {
    const char *path;
    unsigned flags;
} expansions[] = {
    {"verified_outputs", IDN_EXPAND_VERIFIED_OUTPUTS},
    {"verified_outputs.dob", IDN_EXPAND_VERIFIED_OUTPUTS | IDN_EXPAND_VO_DOB},
    {"verified_outputs.id_number", IDN_EXPAND_VERIFIED_OUTPUTS | IDN_EXPAND_VO_ID_NUMBER},
    {"verified_outputs.sex", IDN_EXPAND_VERIFIED_OUTPUTS | IDN_EXPAND_VO_SEX},
    {"verified_outputs.unparsed_place_of_birth",
     IDN_EXPAND_VERIFIED_OUTPUTS | IDN_EXPAND_VO_PLACE_OF_BIRTH},
    {"verified_outputs.unparsed_sex", IDN_EXPAND_VERIFIED_OUTPUTS | IDN_EXPAND_VO_UNPARSED_SEX},
    {"provided_details", IDN_EXPAND_PROVIDED_DETAILS},
    {"last_verification_report", IDN_EXPAND_LAST_REPORT},
};
#define NEXPANSIONS (sizeof(expansions) / sizeof(expansions[0]))
#define NREPORT     8 /* idn_report_expand_paths[] */
#define LVR         "last_verification_report."

/* Every path a session takes: the table above, then "last_verification_
 * report." + each report path. Built once per call: it is small. */
struct paths {
    char lvr[NREPORT][64];
    const char *list[NEXPANSIONS + NREPORT + 1];
};

static void paths_init(struct paths *p)
{
    size_t n = 0;

    for (size_t i = 0; i < NEXPANSIONS; i++)
        p->list[n++] = expansions[i].path;
    for (size_t i = 0; i < NREPORT && idn_report_expand_paths[i] != NULL; i++) {
        snprintf(p->lvr[i], sizeof(p->lvr[i]), LVR "%s", idn_report_expand_paths[i]);
        p->list[n++] = p->lvr[i];
    }
    p->list[n] = NULL;
}

/* expand[] as flags; *sensitive when personal data is to be shown. */
static int parse_expand(const struct cm_req *req, int list, unsigned *flags, int *sensitive,
                        struct cm_err *err)
{
    struct paths p;
    struct cm_expand ex;

    paths_init(&p);
    *flags = 0;
    if (cm_expand_parse(req->params, p.list, list, &ex, err) < 0)
        return -1;
    for (size_t i = 0; i < ex.n; i++) {
        for (size_t k = 0; k < NEXPANSIONS; k++)
            if (strcmp(ex.paths[i], expansions[k].path) == 0)
                *flags |= expansions[k].flags;
        if (strncmp(ex.paths[i], LVR, strlen(LVR)) == 0)
            *flags |= IDN_EXPAND_LAST_REPORT | idn_report_expand_flag(ex.paths[i] + strlen(LVR))
                                                   << IDN_EXPAND_REPORT_SHIFT;
    }
    *sensitive = (*flags & (IDN_EXPAND_VERIFIED_OUTPUTS | IDN_EXPAND_PROVIDED_DETAILS)) != 0 ||
                 (*flags >> IDN_EXPAND_REPORT_SHIFT) != 0;
    return 0;
}

/* ---- helpers ---- */

static const char *mode(const struct cm_req *req)
{
    return req->auth.livemode ? "true" : "false";
}

static const char *flag(unsigned flags, unsigned f)
{
    return (flags & f) ? "true" : "false";
}

static const char *str_of(const json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

static int redacted(const json_t *session)
{
    return json_is_object(json_object_get(session, "redaction"));
}

static int wrong_state(const json_t *session, const char *what, struct cm_err *err)
{
    if (redacted(session))
        return cm_err_set(err, 400, CM_ERR_INVALID_REQUEST, NULL, NULL,
                          "This VerificationSession has been redacted: it can no longer be %s.",
                          what);
    return cm_err_set(err, 400, CM_ERR_INVALID_REQUEST, NULL, NULL,
                      "This VerificationSession has the status `%s`: it can only be %s while its "
                      "status is `requires_input`.",
                      str_of(session, "status"), what);
}

/* A single-row RETURNING result into the response, rendered with flags. */
static int respond_row(struct cm_req *req, struct cm_resp *resp, const PGresult *res,
                       unsigned flags, struct cm_err *err)
{
    json_t *o = idn_session_render(req->db, req->cfg, res, 0, flags, err);

    return o != NULL ? cm_resp_json(resp, 200, o, err) : -1;
}

static int emit(struct cm_req *req, const PGresult *res, const char *type, struct cm_err *err)
{
    return idn_session_emit_row(req->db, req->cfg, res, 0, type, req->request_id,
                                req->idempotency_key, err);
}

/* Seals a JSON document into column of session id; *hex new (free()). */
static int seal_hex(const struct cm_req *req, const char *id, const char *column, const void *data,
                    size_t len, char **hex, const char **key_id, struct cm_err *err)
{
    unsigned char *blob = NULL;
    size_t bloblen = 0;

    if (idn_seal(req->cfg, "sessions", id, column, data, len, &blob, &bloblen, key_id, err) < 0)
        return -1;
    *hex = idn_hex(blob, bloblen);
    free(blob);
    return *hex != NULL ? 0 : cm_err_internal(err, "out of memory sealing a session");
}

static int seal_json_hex(const struct cm_req *req, const char *id, const char *column,
                         const json_t *doc, char **hex, const char **key_id, struct cm_err *err)
{
    char *text = json_dumps(doc, JSON_COMPACT);
    int rc;

    if (text == NULL)
        return cm_err_internal(err, "out of memory sealing a session");
    rc = seal_hex(req, id, column, text, strlen(text), hex, key_id, err);
    OPENSSL_cleanse(text, strlen(text));
    free(text);
    return rc;
}

static char *dump_or_null(const json_t *v)
{
    return v != NULL ? json_dumps(v, JSON_COMPACT) : NULL;
}

/* ---- create ---- */

static int session_create(struct cm_req *req, struct cm_resp *resp, struct cm_err *err)
{
    struct idn_session_input in;
    unsigned flags;
    int sensitive;
    char id[CM_ID_MAX], secret[IDN_CLIENT_SECRET_MAX] = "";
    char hash[2 * CM_SHA256_LEN + 1];
    char *secret_hex = NULL, *provided_hex = NULL, *metadata = NULL, *options = NULL;
    char *person = NULL;
    const char *key_id = NULL;
    json_t *md = NULL;
    PGresult *res = NULL;
    int ret = -1;

    if (parse_expand(req, 0, &flags, &sensitive, err) < 0 ||
        idn_session_input_parse(req->params, 1, &in, err) < 0)
        return -1;
    if (cm_id_new(id, sizeof(id), "vs_", err) < 0 ||
        idn_client_secret_new(id, req->auth.livemode, secret, sizeof(secret), err) < 0 ||
        seal_hex(req, id, "client_secret_sealed", secret, strlen(secret), &secret_hex, &key_id,
                 err) < 0 ||
        (in.provided != NULL &&
         seal_json_hex(req, id, SEALED_PROVIDED, in.provided, &provided_hex, &key_id, err) < 0) ||
        (md = idn_metadata_apply(NULL, in.has_metadata ? in.metadata : NULL, err)) == NULL)
        goto out;
    idn_client_secret_hash(secret, hash);
    metadata = json_dumps(md, JSON_COMPACT);
    options = in.options != NULL ? json_dumps(in.options, JSON_COMPACT) : strdup("{}");
    person = dump_or_null(in.related_person);
    if (metadata == NULL || options == NULL || (in.related_person != NULL && person == NULL)) {
        cm_err_internal(err, "out of memory creating a session");
        goto out;
    }
    cm_req_audit(req, NULL, id, AUDIT_TARGET);
    res = cm_db_exec_guarded(
        req->db, CM_AUTH_GUARD, "idn_sessions_insert", 19,
        (const char *[]){id, req->auth.account, req->auth.app_id[0] ? req->auth.app_id : NULL,
                         mode(req), in.type, in.client_reference_id, metadata, options,
                         in.return_url, in.related_customer, in.related_customer_account, person,
                         key_id, provided_hex, hash, secret_hex,
                         flag(flags, IDN_EXPAND_PROVIDED_DETAILS),
                         flag(flags, IDN_EXPAND_VERIFIED_OUTPUTS), NULL},
        err);
    if (res == NULL || emit(req, res, EVT("created"), err) < 0)
        goto out;
    ret = respond_row(req, resp, res, flags, err);
out:
    OPENSSL_cleanse(secret, sizeof(secret));
    idn_session_input_release(&in);
    json_decref(md);
    free(secret_hex);
    free(provided_hex);
    free(metadata);
    free(options);
    free(person);
    PQclear(res);
    return ret;
}

/* ---- retrieve ---- */

/* In requires_input a session always offers a working client secret: one
 * cleared by an earlier step is issued anew (API.md section 9). */
static int needs_secret(const json_t *o)
{
    return strcmp(str_of(o, "status"), "requires_input") == 0 &&
           json_is_null(json_object_get(o, "client_secret")) && !redacted(o);
}

static int session_retrieve(struct cm_req *req, struct cm_resp *resp, struct cm_err *err)
{
    const char *id = req->captures[0];
    unsigned flags;
    int sensitive;
    json_t *o;

    if (parse_expand(req, 0, &flags, &sensitive, err) < 0)
        return -1;
    /* A read of personal data is audited in the transaction of the read. */
    if (sensitive) {
        cm_req_audit(req, "identity.session.read", id, AUDIT_TARGET);
        if (cm_db_begin(req->db, err) < 0)
            return -1;
    }
    o = idn_session_get(req->db, req->cfg, id, req->auth.account, req->auth.livemode, 0, flags,
                        err);
    if (o != NULL && needs_secret(o)) {
        json_decref(o);
        o = NULL;
        if ((cm_db_in_tx(req->db) || cm_db_begin(req->db, err) == 0) &&
            idn_session_rekey(req->db, req->cfg, id, err) == 0 &&
            idn_client_secret_issue(req->db, req->cfg, id, req->auth.livemode, NULL, err) >= 0)
            o = idn_session_get(req->db, req->cfg, id, req->auth.account, req->auth.livemode, 0,
                                flags, err);
    }
    return o != NULL ? cm_resp_json(resp, 200, o, err) : -1;
}

/* ---- update ---- */

/* Provided details after the update: the old ones with the given keys
 * replaced. New object, or NULL on allocation failure. */
static json_t *provided_merge(const json_t *old, const json_t *given)
{
    json_t *out = json_is_object(old) ? json_deep_copy(old) : json_object();

    if (out != NULL && json_object_update(out, (json_t *)given) < 0) {
        json_decref(out);
        return NULL;
    }
    return out;
}

static int session_update(struct cm_req *req, struct cm_resp *resp, struct cm_err *err)
{
    const char *id = req->captures[0];
    struct idn_session_input in;
    unsigned flags;
    int sensitive;
    json_t *cur = NULL, *md = NULL, *pd = NULL;
    char *metadata = NULL, *options = NULL, *provided_hex = NULL;
    const char *key_id = NULL;
    PGresult *res = NULL;
    int ret = -1;

    if (parse_expand(req, 0, &flags, &sensitive, err) < 0 ||
        idn_session_input_parse(req->params, 0, &in, err) < 0)
        return -1;
    cm_req_audit(req, NULL, id, AUDIT_TARGET);
    cur = idn_session_get(req->db, req->cfg, id, req->auth.account, req->auth.livemode, 1,
                          in.provided != NULL ? IDN_EXPAND_PROVIDED_DETAILS : 0, err);
    if (cur == NULL)
        goto out;
    if (redacted(cur) || strcmp(str_of(cur, "status"), "requires_input") != 0) {
        wrong_state(cur, "updated", err);
        goto out;
    }
    if (in.has_metadata &&
        ((md = idn_metadata_apply(json_object_get(cur, "metadata"), in.metadata, err)) == NULL ||
         (metadata = json_dumps(md, JSON_COMPACT)) == NULL))
        goto oom_or_out;
    if (in.options != NULL && (options = json_dumps(in.options, JSON_COMPACT)) == NULL)
        goto oom_or_out;
    if (in.provided != NULL) {
        pd = provided_merge(json_object_get(cur, "provided_details"), in.provided);
        if (pd == NULL)
            goto oom_or_out;
        if (idn_session_rekey(req->db, req->cfg, id, err) < 0 ||
            seal_json_hex(req, id, SEALED_PROVIDED, pd, &provided_hex, &key_id, err) < 0)
            goto out;
    }
    res = cm_db_exec(req->db, "idn_sessions_update", 9,
                     (const char *[]){id, in.type, metadata, options,
                                      in.provided != NULL ? "true" : "false", provided_hex, key_id,
                                      flag(flags, IDN_EXPAND_PROVIDED_DETAILS),
                                      flag(flags, IDN_EXPAND_VERIFIED_OUTPUTS)},
                     err);
    if (res == NULL)
        goto out;
    ret = respond_row(req, resp, res, flags, err);
    goto out;
oom_or_out:
    if (err->status == 0)
        cm_err_internal(err, "out of memory updating a session");
out:
    idn_session_input_release(&in);
    json_decref(cur);
    json_decref(md);
    json_decref(pd);
    free(metadata);
    free(options);
    free(provided_hex);
    PQclear(res);
    return ret;
}

/* ---- list ---- */

static const char *const statuses[] = {"requires_input", "processing", "verified", "canceled",
                                       NULL};

/* A session of a list page (cm_json_page), with the list's expansions. */
struct page_render {
    struct cm_req *req;
    unsigned flags;
};

static json_t *render_at(void *ctx, const PGresult *res, int row, struct cm_err *err)
{
    struct page_render *pr = ctx;

    return idn_session_render(pr->req->db, pr->req->cfg, res, row, pr->flags, err);
}

static int session_list(struct cm_req *req, struct cm_resp *resp, struct cm_err *err)
{
    const json_t *p = req->params;
    const char *client_ref = NULL, *customer = NULL, *customer_account = NULL, *cursor;
    char from[24], to[24], lim[24];
    struct cm_range created;
    struct cm_page page;
    unsigned flags;
    int sensitive, status = -1, nt, found_col, after, ret = -1;
    struct page_render pr;
    PGresult *res = NULL;
    json_t *data = NULL;

    if (cm_param_str(p, "client_reference_id", 0, FILTER_MAX, &client_ref, err) < 0 ||
        cm_param_range(p, "created", &created, err) < 0 ||
        cm_param_str(p, "related_customer", 0, FILTER_MAX, &customer, err) < 0 ||
        cm_param_str(p, "related_customer_account", 0, FILTER_MAX, &customer_account, err) < 0 ||
        cm_param_enum(p, "status", 0, statuses, &status, err) < 0 ||
        cm_page_parse(p, &page, err) < 0 || parse_expand(req, 1, &flags, &sensitive, err) < 0)
        return -1;
    if (sensitive) {
        cm_req_audit(req, "identity.session.read", NULL, AUDIT_TARGET);
        if (cm_db_begin(req->db, err) < 0)
            return -1;
    }
    if (idn_created_bounds(&created, from, to) < 0)
        return cm_resp_json(resp, 200, cm_json_list(SESSIONS_URL, json_array(), 0), err);
    after = page.ending_before == NULL;
    cursor = after ? page.starting_after : page.ending_before;
    snprintf(lim, sizeof(lim), "%lld", page.limit + 1);
    res = cm_db_exec(req->db, after ? "idn_sessions_older" : "idn_sessions_newer", 12,
                     (const char *[]){req->auth.account, mode(req), client_ref,
                                      from[0] ? from : NULL, to[0] ? to : NULL, customer,
                                      customer_account, status >= 0 ? statuses[status] : NULL,
                                      cursor, lim, flag(flags, IDN_EXPAND_PROVIDED_DETAILS),
                                      flag(flags, IDN_EXPAND_VERIFIED_OUTPUTS)},
                     err);
    if (res == NULL)
        return -1;
    nt = PQntuples(res);
    found_col = PQnfields(res) - 1;
    if (nt < 1 || strcmp(cm_db_value(res, 0, found_col), "t") != 0) {
        if (nt < 1)
            cm_err_internal(err, "empty page result");
        else
            cm_err_set(err, 400, CM_ERR_INVALID_REQUEST, "resource_missing",
                       after ? "starting_after" : "ending_before",
                       "No such verificationsession: '%s'", cursor);
        goto out;
    }
    pr = (struct page_render){req, flags};
    data = cm_json_page(SESSIONS_URL, res, page.limit, after, render_at, &pr, err);
    if (data == NULL)
        goto out;
    ret = cm_resp_json(resp, 200, data, err);
    data = NULL;
out:
    json_decref(data);
    PQclear(res);
    return ret;
}

/* ---- cancel and redact ---- */

static int session_cancel(struct cm_req *req, struct cm_resp *resp, struct cm_err *err)
{
    const char *id = req->captures[0];
    unsigned flags;
    int sensitive, ret = -1;
    json_t *cur;
    PGresult *res = NULL;

    if (parse_expand(req, 0, &flags, &sensitive, err) < 0)
        return -1;
    cm_req_audit(req, NULL, id, AUDIT_TARGET);
    cur = idn_session_get(req->db, req->cfg, id, req->auth.account, req->auth.livemode, 1, 0, err);
    if (cur == NULL)
        return -1;
    if (redacted(cur) || strcmp(str_of(cur, "status"), "requires_input") != 0) {
        wrong_state(cur, "canceled", err);
        goto out;
    }
    res = cm_db_exec(req->db, "idn_sessions_cancel", 3,
                     (const char *[]){id, flag(flags, IDN_EXPAND_PROVIDED_DETAILS),
                                      flag(flags, IDN_EXPAND_VERIFIED_OUTPUTS)},
                     err);
    if (res == NULL || emit(req, res, EVT("canceled"), err) < 0)
        goto out;
    ret = respond_row(req, resp, res, flags, err);
out:
    json_decref(cur);
    PQclear(res);
    return ret;
}

/* Everything a session can show of its personal data, to derive the
 * placeholders from. */
#define ALL_PERSONAL                                                                               \
    (IDN_EXPAND_VERIFIED_OUTPUTS | IDN_EXPAND_VO_DOB | IDN_EXPAND_VO_ID_NUMBER |                   \
     IDN_EXPAND_VO_SEX | IDN_EXPAND_VO_PLACE_OF_BIRTH | IDN_EXPAND_VO_UNPARSED_SEX |               \
     IDN_EXPAND_PROVIDED_DETAILS)

/* {"provided_details": .., "verified_outputs": ..}: the placeholders of cur. */
static char *redacted_view(const json_t *cur)
{
    json_t *view =
        json_pack("{s:o,s:o}", "provided_details",
                  idn_redacted_view(json_object_get(cur, "provided_details")), "verified_outputs",
                  idn_redacted_view(json_object_get(cur, "verified_outputs")));
    char *text = view != NULL ? json_dumps(view, JSON_COMPACT) : NULL;

    json_decref(view);
    return text;
}

static int session_redact(struct cm_req *req, struct cm_resp *resp, struct cm_err *err)
{
    const char *id = req->captures[0];
    unsigned flags;
    int sensitive, was_open, ret = -1;
    json_t *cur;
    char *view = NULL;
    PGresult *res = NULL;

    if (parse_expand(req, 0, &flags, &sensitive, err) < 0)
        return -1;
    cm_req_audit(req, NULL, id, AUDIT_TARGET);
    cur = idn_session_get(req->db, req->cfg, id, req->auth.account, req->auth.livemode, 1,
                          ALL_PERSONAL, err);
    if (cur == NULL)
        return -1;
    if (redacted(cur)) { /* redacting twice changes nothing */
        json_decref(cur);
        cur = idn_session_get(req->db, req->cfg, id, req->auth.account, req->auth.livemode, 0,
                              flags, err);
        return cur != NULL ? cm_resp_json(resp, 200, cur, err) : -1;
    }
    if (strcmp(str_of(cur, "status"), "processing") == 0) {
        cm_err_set(err, 400, CM_ERR_INVALID_REQUEST, NULL, NULL,
                   "This VerificationSession is `processing`: it can be redacted once its "
                   "checks have finished.");
        goto out;
    }
    was_open = strcmp(str_of(cur, "status"), "requires_input") == 0;
    view = redacted_view(cur);
    if (view == NULL) {
        cm_err_internal(err, "out of memory redacting a session");
        goto out;
    }
    res = cm_db_exec(req->db, "idn_sessions_redact", 4,
                     (const char *[]){id, view, flag(flags, IDN_EXPAND_PROVIDED_DETAILS),
                                      flag(flags, IDN_EXPAND_VERIFIED_OUTPUTS)},
                     err);
    if (res == NULL || (was_open && emit(req, res, EVT("canceled"), err) < 0))
        goto out;
    ret = respond_row(req, resp, res, flags, err);
out:
    json_decref(cur);
    free(view);
    PQclear(res);
    return ret;
}

/* ---- routes ---- */

static const char *const no_params[] = {NULL};
static const char *const list_params[] = {
    "client_reference_id",      "created",       "related_customer",
    "related_customer_account", "status",        "limit",
    "starting_after",           "ending_before", NULL};

#define AUTH_TX (CM_ROUTE_AUTH | CM_ROUTE_TX)

static const struct cm_route routes[] = {
    {"POST", SESSIONS_URL, session_create, AUTH_TX, idn_session_create_params,
     "identity.session.create"},
    {"GET", SESSIONS_URL, session_list, CM_ROUTE_AUTH, list_params, NULL},
    {"GET", SESSIONS_URL "/{session}", session_retrieve, CM_ROUTE_AUTH, no_params, NULL},
    {"POST", SESSIONS_URL "/{session}", session_update, AUTH_TX, idn_session_update_params,
     "identity.session.update"},
    {"POST", SESSIONS_URL "/{session}/cancel", session_cancel, AUTH_TX, no_params,
     "identity.session.cancel"},
    {"POST", SESSIONS_URL "/{session}/redact", session_redact, AUTH_TX, no_params,
     "identity.session.redact"},
};

const struct cm_module idn_sessions_module = {
    routes,
    sizeof(routes) / sizeof(routes[0]),
    stmts,
    NULL,
};
