/* The verification reports API (/v1/identity/verification_reports: retrieve
 * and list) and the rendering of a report (report.h), also used for a
 * session's expanded last_verification_report.
 *
 * A report row keeps each check's non-personal outcome in plain jsonb
 * (status, error, document type, issuing country, file ids) and the personal
 * fields in personal_sealed, {"document": {...}, "id_number": {...}}, sealed
 * for ("identity.reports", id, "personal_sealed"). Rendering merges the two
 * per check, in the schema's field order; the fields Stripe hides unless
 * expanded (dates of birth, document numbers and expiry, sex, place of birth,
 * the ID number) appear only when expanded. A redacted report shows the
 * placeholders of redacted_view instead of the personal part. Only the checks
 * that ran are present. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cm/json.h"
#include "cm/params.h"
#include "filters.h"
#include "module.h"
#include "report.h"
#include "seal.h"
#include "session_write.h"
#include "cm/banned.h"

#define REPORTS_URL    "/v1/identity/verification_reports"
#define REPORT_ID_MAX  5000
#define FILTER_STR_MAX 5000

#define COLS                                                                                       \
    "r.id, r.session_id, r.livemode, r.type, r.client_reference_id,"                               \
    " floor(extract(epoch FROM r.created))::bigint, r.options::text, r.document::text,"            \
    " r.id_number::text, r.selfie::text, r.key_id, encode(r.personal_sealed, 'hex'), r.redacted,"  \
    " r.redacted_view::text"

enum {
    C_ID,
    C_SESSION,
    C_LIVE,
    C_TYPE,
    C_CLIENT_REF,
    C_CREATED,
    C_OPTIONS,
    C_DOCUMENT,
    C_ID_NUMBER,
    C_SELFIE,
    C_KEY,
    C_PERSONAL,
    C_REDACTED,
    C_REDACTED_VIEW,
    C_SEQ,   /* list pages only: the page's seq, */
    C_FOUND, /* then whether the cursor was found */
};

/* The filters of a list: $1 account, $2 livemode, $3 client_reference_id,
 * $4 created from (inclusive), $5 created to (exclusive), $6 type, $7
 * verification_session, $8 cursor, $9 limit. The cursor need only be a
 * report of the account and mode, as on Stripe. */
#define SCOPE " r.account_id = $1 AND r.livemode = $2::boolean"
#define FILTERS                                                                                    \
    SCOPE " AND ($3::text IS NULL OR r.client_reference_id = $3)"                                  \
          " AND ($4::bigint IS NULL OR r.created >= to_timestamp($4::bigint))"                     \
          " AND ($5::bigint IS NULL OR r.created < to_timestamp($5::bigint))"                      \
          " AND ($6::text IS NULL OR r.type = $6) AND ($7::text IS NULL OR r.session_id = $7)"
#define PAGE(cmp, order)                                                                           \
    "WITH c AS (SELECT r.seq FROM identity.reports r WHERE" SCOPE " AND r.id = $8),"               \
    " page AS (SELECT " COLS ", r.seq FROM identity.reports r WHERE" FILTERS                       \
    " AND ($8::text IS NULL OR r.seq " cmp " (SELECT seq FROM c))"                                 \
    " ORDER BY r.seq " order " LIMIT $9::integer)"                                                 \
    " SELECT page.*, $8::text IS NULL OR EXISTS (SELECT 1 FROM c)"                                 \
    " FROM (SELECT 1) one LEFT JOIN page ON true ORDER BY page.seq " order

static const struct cm_stmt stmts[] = {
    {"idn_reports_get",
     "SELECT " COLS " FROM identity.reports r WHERE r.id = $1 AND r.account_id = $2"
     " AND r.livemode = $3::boolean",
     3},
    {"idn_reports_older", PAGE("<", "DESC"), 9},
    {"idn_reports_newer", PAGE(">", "ASC"), 9},
    {NULL, NULL, 0},
};

const char *const idn_report_expand_paths[] = {
    "document.dob",
    "document.expiration_date",
    "document.number",
    "document.sex",
    "document.unparsed_place_of_birth",
    "document.unparsed_sex",
    "id_number.dob",
    "id_number.id_number",
    NULL,
};

unsigned idn_report_expand_flag(const char *path)
{
    for (unsigned i = 0; idn_report_expand_paths[i] != NULL; i++)
        if (strcmp(idn_report_expand_paths[i], path) == 0)
            return 1u << i;
    return 0;
}

/* ---- rendering ---- */

json_t *idn_render_address(const json_t *src)
{
    static const char *const fields[] = {"city",  "country",     "line1",
                                         "line2", "postal_code", "state"};
    json_t *o;

    if (!json_is_object(src))
        return json_null();
    o = json_object();
    for (size_t i = 0; o != NULL && i < sizeof(fields) / sizeof(fields[0]); i++) {
        json_t *v = json_object_get(src, fields[i]);

        if (json_object_set_new(o, fields[i], json_is_string(v) ? json_deep_copy(v) : json_null()) <
            0) {
            json_decref(o);
            return NULL;
        }
    }
    return o;
}

json_t *idn_render_date(const json_t *src)
{
    static const char *const fields[] = {"day", "month", "year"};
    json_t *o;

    if (!json_is_object(src))
        return json_null();
    o = json_object();
    for (size_t i = 0; o != NULL && i < 3; i++) {
        json_t *v = json_object_get(src, fields[i]);

        if (json_object_set_new(o, fields[i],
                                json_is_integer(v) ? json_deep_copy(v) : json_null()) < 0) {
            json_decref(o);
            return NULL;
        }
    }
    return o;
}

/* How a field of a check is rendered. */
enum kind { K_STR, K_DATE, K_ADDRESS, K_ERROR, K_ARRAY };

struct field {
    const char *key;
    enum kind kind;
    unsigned flag; /* hidden unless this expansion is asked for; 0: always shown */
};

static const struct field document_fields[] = {
    {"address", K_ADDRESS, 0},
    {"dob", K_DATE, IDN_REPORT_EXPAND_DOC_DOB},
    {"error", K_ERROR, 0},
    {"expiration_date", K_DATE, IDN_REPORT_EXPAND_DOC_EXPIRATION},
    {"files", K_ARRAY, 0},
    {"first_name", K_STR, 0},
    {"issued_date", K_DATE, 0},
    {"issuing_country", K_STR, 0},
    {"last_name", K_STR, 0},
    {"number", K_STR, IDN_REPORT_EXPAND_DOC_NUMBER},
    {"sex", K_STR, IDN_REPORT_EXPAND_DOC_SEX},
    {"status", K_STR, 0},
    {"type", K_STR, 0},
    {"unparsed_place_of_birth", K_STR, IDN_REPORT_EXPAND_DOC_PLACE_OF_BIRTH},
    {"unparsed_sex", K_STR, IDN_REPORT_EXPAND_DOC_UNPARSED_SEX},
    {NULL, K_STR, 0},
};

static const struct field id_number_fields[] = {
    {"dob", K_DATE, IDN_REPORT_EXPAND_IDN_DOB},
    {"error", K_ERROR, 0},
    {"first_name", K_STR, 0},
    {"id_number", K_STR, IDN_REPORT_EXPAND_IDN_NUMBER},
    {"id_number_type", K_STR, 0},
    {"last_name", K_STR, 0},
    {"status", K_STR, 0},
    {NULL, K_STR, 0},
};

static const struct field selfie_fields[] = {
    {"document", K_STR, 0}, {"error", K_ERROR, 0}, {"selfie", K_STR, 0},
    {"status", K_STR, 0},   {NULL, K_STR, 0},
};

static json_t *render_error(const json_t *src)
{
    json_t *code = json_object_get(src, "code"), *reason = json_object_get(src, "reason");

    if (!json_is_object(src))
        return json_null();
    return json_pack("{s:o,s:o}", "code", json_is_string(code) ? json_deep_copy(code) : json_null(),
                     "reason", json_is_string(reason) ? json_deep_copy(reason) : json_null());
}

static json_t *render_value(enum kind kind, const json_t *v)
{
    switch (kind) {
    case K_DATE:
        return idn_render_date(v);
    case K_ADDRESS:
        return idn_render_address(v);
    case K_ERROR:
        return render_error(v);
    case K_ARRAY:
        return json_is_array(v) ? json_deep_copy(v) : json_null();
    case K_STR:
        break;
    }
    return json_is_string(v) ? json_deep_copy(v) : json_null();
}

/* One check: plain (the row's jsonb) merged with personal (opened or
 * placeholders; may be NULL), a field of personal taking precedence. */
static json_t *render_check(const struct field *fields, const json_t *plain, const json_t *personal,
                            unsigned expand)
{
    json_t *o = json_object();

    for (size_t i = 0; o != NULL && fields[i].key != NULL; i++) {
        const json_t *v = json_object_get(personal, fields[i].key);

        if (fields[i].flag != 0 && !(expand & fields[i].flag))
            continue;
        if (v == NULL)
            v = json_object_get(plain, fields[i].key);
        if (json_object_set_new(o, fields[i].key, render_value(fields[i].kind, v)) < 0) {
            json_decref(o);
            return NULL;
        }
    }
    return o;
}

static json_t *col_json(const PGresult *res, int row, int col)
{
    const char *v = cm_db_value(res, row, col);

    return v != NULL ? json_loads(v, 0, NULL) : NULL;
}

/* The personal part of the row: opened, or the placeholders of a redacted
 * report, or NULL with *err (a 500) when it cannot be read; an empty object
 * when there is none. */
static json_t *personal_of(const struct cm_config *cfg, const PGresult *res, int row,
                           struct cm_err *err)
{
    const char *hex = cm_db_value(res, row, C_PERSONAL);
    unsigned char *blob;
    size_t len = 0;
    json_t *doc;

    if (strcmp(cm_db_value(res, row, C_REDACTED), "t") == 0) {
        doc = col_json(res, row, C_REDACTED_VIEW);
        return doc != NULL ? doc : json_object();
    }
    if (hex == NULL)
        return json_object();
    blob = idn_unhex(hex, &len);
    if (blob == NULL) {
        cm_err_internal(err, "identity.reports %s: bad hex", cm_db_value(res, row, C_ID));
        return NULL;
    }
    doc = idn_open_json(cfg, "reports", cm_db_value(res, row, C_ID), "personal_sealed",
                        cm_db_value(res, row, C_KEY), blob, len, err);
    free(blob);
    return doc;
}

static const struct {
    const char *key;
    int col;
    const struct field *fields;
} checks[] = {
    {"document", C_DOCUMENT, document_fields},
    {"id_number", C_ID_NUMBER, id_number_fields},
    {"selfie", C_SELFIE, selfie_fields},
};

/* Sets o[key] = check `i` of the row, when that check ran. */
static int set_check(json_t *o, size_t i, const PGresult *res, int row, const json_t *personal,
                     unsigned expand)
{
    json_t *plain = col_json(res, row, checks[i].col);
    json_t *c;
    int rc;

    if (plain == NULL)
        return 0;
    c = render_check(checks[i].fields, plain, json_object_get(personal, checks[i].key), expand);
    json_decref(plain);
    rc = json_object_set_new(o, checks[i].key, c);
    return rc;
}

static json_t *str_or_null(const char *s)
{
    return s != NULL ? json_string(s) : json_null();
}

static json_t *render(const struct cm_config *cfg, const PGresult *res, int row, unsigned expand,
                      struct cm_err *err)
{
    json_t *personal = personal_of(cfg, res, row, err);
    json_t *options = col_json(res, row, C_OPTIONS);
    json_t *o = NULL;

    if (personal == NULL)
        goto out;
    o = json_object();
    if (o == NULL || json_object_set_new(o, "id", json_string(cm_db_value(res, row, C_ID))) < 0 ||
        json_object_set_new(o, "object", json_string("identity.verification_report")) < 0 ||
        json_object_set_new(o, "client_reference_id",
                            str_or_null(cm_db_value(res, row, C_CLIENT_REF))) < 0 ||
        json_object_set_new(
            o, "created", json_integer(strtoll(cm_db_value(res, row, C_CREATED), NULL, 10))) < 0 ||
        set_check(o, 0, res, row, personal, expand) < 0 ||
        set_check(o, 1, res, row, personal, expand) < 0 ||
        json_object_set_new(o, "livemode",
                            json_boolean(strcmp(cm_db_value(res, row, C_LIVE), "t") == 0)) < 0 ||
        json_object_set_new(o, "options", options != NULL ? json_incref(options) : json_object()) <
            0 ||
        set_check(o, 2, res, row, personal, expand) < 0 ||
        json_object_set_new(o, "type", json_string(cm_db_value(res, row, C_TYPE))) < 0 ||
        json_object_set_new(o, "verification_session",
                            str_or_null(cm_db_value(res, row, C_SESSION))) < 0) {
        json_decref(o);
        o = NULL;
        cm_err_internal(err, "out of memory rendering a report");
    }
out:
    json_decref(personal);
    json_decref(options);
    return o;
}

json_t *idn_report_get(struct cm_db *db, const struct cm_config *cfg, const char *report_id,
                       const char *account_id, int livemode, unsigned expand, const char *param,
                       struct cm_err *err)
{
    PGresult *res =
        cm_db_exec(db, "idn_reports_get", 3,
                   (const char *[]){report_id, account_id, livemode ? "true" : "false"}, err);
    json_t *o = NULL;

    if (res == NULL)
        return NULL;
    if (PQntuples(res) != 1)
        cm_err_not_found(err, "verificationreport", report_id, param);
    else
        o = render(cfg, res, 0, expand, err);
    PQclear(res);
    return o;
}

/* ---- the API ---- */

/* expand[] of a report (list: with "data."), as flags. */
static int parse_expand(const struct cm_req *req, int list, unsigned *flags, struct cm_err *err)
{
    struct cm_expand ex;

    *flags = 0;
    if (cm_expand_parse(req->params, idn_report_expand_paths, list, &ex, err) < 0)
        return -1;
    for (size_t i = 0; i < ex.n; i++)
        *flags |= idn_report_expand_flag(ex.paths[i]);
    return 0;
}

/* A read of personal fields is audited in the transaction of the read. */
static int audit_sensitive(struct cm_req *req, unsigned flags, const char *object,
                           struct cm_err *err)
{
    if (flags == 0)
        return 0;
    cm_req_audit(req, "identity.report.read", object, "verification_report");
    return !cm_db_in_tx(req->db) ? cm_db_begin(req->db, err) : 0;
}

static int report_retrieve(struct cm_req *req, struct cm_resp *resp, struct cm_err *err)
{
    unsigned flags;
    json_t *o;

    if (parse_expand(req, 0, &flags, err) < 0 ||
        audit_sensitive(req, flags, req->captures[0], err) < 0)
        return -1;
    o = idn_report_get(req->db, req->cfg, req->captures[0], req->auth.account, req->auth.livemode,
                       flags, NULL, err);
    return o != NULL ? cm_resp_json(resp, 200, o, err) : -1;
}

static const char *const type_values[] = {"document", "id_number", NULL};

/* A report of a list page (cm_json_page), with the list's expansions. */
struct page_render {
    const struct cm_config *cfg;
    unsigned flags;
};

static json_t *render_at(void *ctx, const PGresult *res, int row, struct cm_err *err)
{
    struct page_render *pr = ctx;

    return render(pr->cfg, res, row, pr->flags, err);
}

static int report_list(struct cm_req *req, struct cm_resp *resp, struct cm_err *err)
{
    const json_t *p = req->params;
    const char *client_ref = NULL, *session = NULL, *cursor;
    char from[24], to[24], lim[24];
    struct cm_range created;
    struct cm_page page;
    unsigned flags;
    int type = -1, nt, after;
    struct page_render pr;
    PGresult *res = NULL;
    json_t *data = NULL;
    int ret = -1;

    if (cm_param_str(p, "client_reference_id", 0, FILTER_STR_MAX, &client_ref, err) < 0 ||
        cm_param_range(p, "created", &created, err) < 0 ||
        cm_param_enum(p, "type", 0, type_values, &type, err) < 0 ||
        cm_param_str(p, "verification_session", 0, REPORT_ID_MAX, &session, err) < 0 ||
        cm_page_parse(p, &page, err) < 0 || parse_expand(req, 1, &flags, err) < 0 ||
        audit_sensitive(req, flags, NULL, err) < 0)
        return -1;
    if (idn_created_bounds(&created, from, to) < 0) {
        /* An empty range: nothing can match. */
        return cm_resp_json(resp, 200, cm_json_list(REPORTS_URL, json_array(), 0), err);
    }
    after = page.ending_before == NULL;
    cursor = after ? page.starting_after : page.ending_before;
    snprintf(lim, sizeof(lim), "%lld", page.limit + 1);
    res = cm_db_exec(req->db, after ? "idn_reports_older" : "idn_reports_newer", 9,
                     (const char *[]){req->auth.account, req->auth.livemode ? "true" : "false",
                                      client_ref, from[0] ? from : NULL, to[0] ? to : NULL,
                                      type >= 0 ? type_values[type] : NULL, session, cursor, lim},
                     err);
    if (res == NULL)
        return -1;
    nt = PQntuples(res);
    if (nt < 1 || strcmp(cm_db_value(res, 0, C_FOUND), "t") != 0) {
        if (nt < 1)
            cm_err_internal(err, "empty page result");
        else
            cm_err_set(err, 400, CM_ERR_INVALID_REQUEST, "resource_missing",
                       after ? "starting_after" : "ending_before",
                       "No such verificationreport: '%s'", cursor);
        goto out;
    }
    pr = (struct page_render){req->cfg, flags};
    data = cm_json_page(REPORTS_URL, res, page.limit, after, render_at, &pr, err);
    if (data == NULL)
        goto out;
    ret = cm_resp_json(resp, 200, data, err);
    data = NULL;
out:
    json_decref(data);
    PQclear(res);
    return ret;
}

static const char *const retrieve_params[] = {NULL};
static const char *const list_params[] = {"client_reference_id",  "created", "type",
                                          "verification_session", "limit",   "starting_after",
                                          "ending_before",        NULL};

static const struct cm_route routes[] = {
    {"GET", "/v1/identity/verification_reports/{report}", report_retrieve, CM_ROUTE_AUTH,
     retrieve_params, NULL},
    {"GET", "/v1/identity/verification_reports", report_list, CM_ROUTE_AUTH, list_params, NULL},
};

const struct cm_module idn_reports_module = {
    routes,
    sizeof(routes) / sizeof(routes[0]),
    stmts,
    NULL,
};
