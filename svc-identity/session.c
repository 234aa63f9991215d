/* Loading a verification session, rendering it as Stripe's
 * identity.verification_session, and emitting its events (session.h,
 * session_render.h). Fields come out in Stripe's order: id and object, then
 * the rest alphabetically; expandable extras only when asked for. Sealed
 * values are opened only to be shown: the client secret while the session
 * takes submissions, provided details and verified outputs when expanded.
 * A redacted session shows the placeholders kept in redacted_view.
 *
 * Event payloads are rendered with client_secret and url null: core.events is
 * plain text kept for 30 days and sent to every subscribed endpoint, while the
 * secret is a bearer credential for the hosted page; the API alone hands it
 * out (create, retrieve). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "cm/audit.h"
#include "cm/auth.h"
#include "cm/events.h"
#include "cm/ids.h"
#include "redact.h"
#include "report.h"
#include "seal.h"
#include "session_render.h"
#include "session_write.h"
#include "cm/banned.h"

/* Columns of IDN_SESSION_COLS. */
enum {
    C_ID,
    C_ACCOUNT,
    C_LIVE,
    C_TYPE,
    C_STATUS,
    C_CLIENT_REF,
    C_METADATA,
    C_OPTIONS,
    C_CUSTOMER,
    C_CUSTOMER_ACCOUNT,
    C_PERSON,
    C_KEY,
    C_ERR_CODE,
    C_ERR_REASON,
    C_REPORT,
    C_REDACTION,
    C_CREATED,
    C_HAS_SECRET,
    C_SECRET,
    C_PROVIDED,
    C_OUTPUTS,
    C_REDACTED_VIEW,
    C_SEQ,
    C_APP,
};

/* Render options beyond expand[]. */
enum { WITH_SECRET = 1 };

static json_t *str_or_null(const char *s)
{
    return s != NULL ? json_string(s) : json_null();
}

/* A jsonb column as JSON: new, or NULL (SQL NULL, or malformed). */
static json_t *jsonb(const PGresult *res, int row, int col)
{
    const char *v = cm_db_value(res, row, col);

    return v != NULL ? json_loads(v, 0, NULL) : NULL;
}

/* Opens a sealed column (hex) of session id as JSON; new, or NULL with a
 * 500. */
static json_t *open_col(const struct cm_config *cfg, const PGresult *res, int row, int col,
                        const char *column, struct cm_err *err)
{
    size_t len = 0;
    unsigned char *blob = idn_unhex(cm_db_value(res, row, col), &len);
    json_t *doc;

    if (blob == NULL) {
        cm_err_internal(err, "identity.sessions %s.%s: bad hex", cm_db_value(res, row, C_ID),
                        column);
        return NULL;
    }
    doc = idn_open_json(cfg, "sessions", cm_db_value(res, row, C_ID), column,
                        cm_db_value(res, row, C_KEY), blob, len, err);
    free(blob);
    return doc;
}

/* The client secret of the row, when it is to be shown: new string (free()
 * after OPENSSL_cleanse) via *out; *out NULL when there is none to show. */
static int open_secret(const struct cm_config *cfg, const PGresult *res, int row, char **out,
                       struct cm_err *err)
{
    const char *hex = cm_db_value(res, row, C_SECRET);
    unsigned char *blob;
    size_t len = 0, plainlen = 0;
    int rc;

    *out = NULL;
    if (strcmp(cm_db_value(res, row, C_STATUS), "requires_input") != 0 ||
        strcmp(cm_db_value(res, row, C_HAS_SECRET), "t") != 0 || hex == NULL ||
        cm_db_value(res, row, C_REDACTION) != NULL)
        return 0;
    blob = idn_unhex(hex, &len);
    if (blob == NULL)
        return cm_err_internal(err, "identity.sessions %s: bad client secret hex",
                               cm_db_value(res, row, C_ID));
    rc = idn_open(cfg, "sessions", cm_db_value(res, row, C_ID), "client_secret_sealed",
                  cm_db_value(res, row, C_KEY), blob, len, out, &plainlen, err);
    free(blob);
    return rc;
}

/* Sets key on o to a copy of src's value for it, or null when src lacks it. */
static int copy_field(json_t *o, const json_t *src, const char *key)
{
    json_t *v = json_is_object(src) ? json_object_get(src, key) : NULL;

    return json_object_set_new(o, key, v != NULL ? json_deep_copy(v) : json_null());
}

/* verified_outputs in the schema's order; the fields hidden unless expanded
 * appear only with their flag. src may be null (then null). */
static json_t *render_outputs(const json_t *src, unsigned expand)
{
    static const struct {
        const char *key;
        unsigned flag; /* 0: always shown */
    } fields[] = {
        {"address", 0},
        {"dob", IDN_EXPAND_VO_DOB},
        {"email", 0},
        {"first_name", 0},
        {"id_number", IDN_EXPAND_VO_ID_NUMBER},
        {"id_number_type", 0},
        {"last_name", 0},
        {"phone", 0},
        {"sex", IDN_EXPAND_VO_SEX},
        {"unparsed_place_of_birth", IDN_EXPAND_VO_PLACE_OF_BIRTH},
        {"unparsed_sex", IDN_EXPAND_VO_UNPARSED_SEX},
    };
    json_t *o;

    if (!json_is_object(src))
        return json_null();
    o = json_object();
    for (size_t i = 0; o != NULL && i < sizeof(fields) / sizeof(fields[0]); i++) {
        int rc;

        if (fields[i].flag != 0 && !(expand & fields[i].flag))
            continue;
        if (strcmp(fields[i].key, "address") == 0)
            rc = json_object_set_new(o, "address",
                                     idn_render_address(json_object_get(src, "address")));
        else if (strcmp(fields[i].key, "dob") == 0)
            rc = json_object_set_new(o, "dob", idn_render_date(json_object_get(src, "dob")));
        else
            rc = copy_field(o, src, fields[i].key);
        if (rc < 0) {
            json_decref(o);
            return NULL;
        }
    }
    return o;
}

/* provided_details: {email?, phone?} (only the ones given), or null. */
static json_t *render_provided(const json_t *src)
{
    static const char *const keys[] = {"email", "phone"};
    json_t *o;

    if (!json_is_object(src))
        return json_null();
    o = json_object();
    for (size_t i = 0; o != NULL && i < 2; i++) {
        json_t *v = json_object_get(src, keys[i]);

        if (json_is_string(v) && json_object_set_new(o, keys[i], json_deep_copy(v)) < 0) {
            json_decref(o);
            return NULL;
        }
    }
    return o;
}

/* The sealed or redacted value of an expandable field, rendered. */
static json_t *expandable(const struct cm_config *cfg, const PGresult *res, int row, int col,
                          const char *column, const char *view_key, int outputs, unsigned expand,
                          struct cm_err *err)
{
    json_t *src = NULL, *out;

    if (cm_db_value(res, row, C_REDACTION) != NULL) {
        json_t *view = jsonb(res, row, C_REDACTED_VIEW);

        src = view != NULL ? json_incref(json_object_get(view, view_key)) : NULL;
        json_decref(view);
    } else if (cm_db_value(res, row, col) != NULL) {
        src = open_col(cfg, res, row, col, column, err);
        if (src == NULL)
            return NULL;
    }
    out = outputs ? render_outputs(src, expand) : render_provided(src);
    json_decref(src);
    if (out == NULL)
        cm_err_internal(err, "out of memory rendering a session");
    return out;
}

static json_t *last_error(const PGresult *res, int row)
{
    if (cm_db_value(res, row, C_ERR_CODE) == NULL)
        return json_null();
    return json_pack("{s:s,s:o}", "code", cm_db_value(res, row, C_ERR_CODE), "reason",
                     str_or_null(cm_db_value(res, row, C_ERR_REASON)));
}

static json_t *render(struct cm_db *db, const struct cm_config *cfg, const PGresult *res, int row,
                      unsigned expand, unsigned opts, struct cm_err *err)
{
    const char *id = cm_db_value(res, row, C_ID);
    const char *report = cm_db_value(res, row, C_REPORT);
    const char *redaction = cm_db_value(res, row, C_REDACTION);
    int livemode = strcmp(cm_db_value(res, row, C_LIVE), "t") == 0;
    char *secret = NULL;
    char url[IDN_CLIENT_SECRET_MAX + 320];
    json_t *o = NULL, *metadata = NULL, *options = NULL, *person = NULL, *lvr = NULL;
    json_t *provided = NULL, *outputs = NULL;

    if ((opts & WITH_SECRET) && open_secret(cfg, res, row, &secret, err) < 0)
        return NULL;
    if (secret != NULL && idn_client_secret_url(cfg, secret, url, sizeof(url)) < 0) {
        cm_err_internal(err, "CM_BASE_URL too long for a session url");
        goto fail;
    }
    metadata = jsonb(res, row, C_METADATA);
    options = jsonb(res, row, C_OPTIONS);
    person = jsonb(res, row, C_PERSON);
    if (metadata == NULL || options == NULL) {
        cm_err_internal(err, "identity.sessions %s: malformed metadata or options", id);
        goto fail;
    }
    if (report != NULL && (expand & IDN_EXPAND_LAST_REPORT))
        lvr = idn_report_get(db, cfg, report, cm_db_value(res, row, C_ACCOUNT), livemode,
                             expand >> IDN_EXPAND_REPORT_SHIFT, NULL, err);
    else
        lvr = str_or_null(report);
    if (lvr == NULL)
        goto fail;
    if ((expand & IDN_EXPAND_PROVIDED_DETAILS) &&
        (provided = expandable(cfg, res, row, C_PROVIDED, "provided_details_sealed",
                               "provided_details", 0, expand, err)) == NULL)
        goto fail;
    if ((expand & IDN_EXPAND_VERIFIED_OUTPUTS) &&
        (outputs = expandable(cfg, res, row, C_OUTPUTS, "verified_outputs_sealed",
                              "verified_outputs", 1, expand, err)) == NULL)
        goto fail;

    o = json_object();
    if (o == NULL || json_object_set_new(o, "id", json_string(id)) < 0 ||
        json_object_set_new(o, "object", json_string("identity.verification_session")) < 0 ||
        json_object_set_new(o, "client_reference_id",
                            str_or_null(cm_db_value(res, row, C_CLIENT_REF))) < 0 ||
        json_object_set_new(o, "client_secret", str_or_null(secret)) < 0 ||
        json_object_set_new(
            o, "created", json_integer(strtoll(cm_db_value(res, row, C_CREATED), NULL, 10))) < 0 ||
        json_object_set_new(o, "last_error", last_error(res, row)) < 0 ||
        json_object_set_new(o, "last_verification_report", lvr) < 0)
        goto oom;
    lvr = NULL;
    if (json_object_set_new(o, "livemode", json_boolean(livemode)) < 0 ||
        json_object_set(o, "metadata", metadata) < 0 ||
        json_object_set(o, "options", options) < 0 ||
        (provided != NULL && json_object_set(o, "provided_details", provided) < 0) ||
        json_object_set_new(o, "redaction",
                            redaction ? json_pack("{s:s}", "status", redaction) : json_null()) <
            0 ||
        json_object_set_new(o, "related_customer", str_or_null(cm_db_value(res, row, C_CUSTOMER))) <
            0 ||
        json_object_set_new(o, "related_customer_account",
                            str_or_null(cm_db_value(res, row, C_CUSTOMER_ACCOUNT))) < 0 ||
        (json_is_object(person) && json_object_set(o, "related_person", person) < 0) ||
        json_object_set_new(o, "status", json_string(cm_db_value(res, row, C_STATUS))) < 0 ||
        json_object_set_new(o, "type", json_string(cm_db_value(res, row, C_TYPE))) < 0 ||
        json_object_set_new(o, "url", secret ? json_string(url) : json_null()) < 0 ||
        (outputs != NULL && json_object_set(o, "verified_outputs", outputs) < 0))
        goto oom;
    goto done;
oom:
    cm_err_internal(err, "out of memory rendering a session");
fail:
    json_decref(o);
    o = NULL;
done:
    if (secret != NULL) {
        OPENSSL_cleanse(secret, strlen(secret));
        free(secret);
    }
    OPENSSL_cleanse(url, sizeof(url));
    json_decref(lvr);
    json_decref(metadata);
    json_decref(options);
    json_decref(person);
    json_decref(provided);
    json_decref(outputs);
    return o;
}

json_t *idn_session_render(struct cm_db *db, const struct cm_config *cfg, const PGresult *res,
                           int row, unsigned expand, struct cm_err *err)
{
    return render(db, cfg, res, row, expand, WITH_SECRET, err);
}

/* The session's row (livemode -1: either mode), or NULL: *err holds a 404
 * or a 500. */
static PGresult *load(struct cm_db *db, const char *session_id, const char *account_id,
                      int livemode, int lock, unsigned expand, struct cm_err *err)
{
    const char *mode = livemode < 0 ? NULL : livemode ? "true" : "false";
    const char *pd = (expand & IDN_EXPAND_PROVIDED_DETAILS) ? "true" : "false";
    const char *vo = (expand & IDN_EXPAND_VERIFIED_OUTPUTS) ? "true" : "false";
    PGresult *res;

    res = cm_db_exec_guarded(db, CM_AUTH_GUARD, lock ? "idn_session_get_lock" : "idn_session_get",
                             6, (const char *[]){session_id, account_id, mode, pd, vo, NULL}, err);
    if (res != NULL && PQntuples(res) != 1) {
        PQclear(res);
        cm_err_not_found(err, "verificationsession", session_id, NULL);
        return NULL;
    }
    return res;
}

json_t *idn_session_get(struct cm_db *db, const struct cm_config *cfg, const char *session_id,
                        const char *account_id, int livemode, int lock, unsigned expand,
                        struct cm_err *err)
{
    PGresult *res = load(db, session_id, account_id, livemode ? 1 : 0, lock, expand, err);
    json_t *o;

    if (res == NULL)
        return NULL;
    o = render(db, cfg, res, 0, expand, WITH_SECRET, err);
    PQclear(res);
    return o;
}

/* A transition the service made on its own (the checks' outcome, a finished
 * redaction) has no request whose audit row records it: it gets one of its
 * own, "identity.session.<state>" ("verified", "requires_input" with the
 * last_error code, "redacted"), which the identity outcome reports count. */
static int audit_automatic(struct cm_db *db, const PGresult *res, int row, const char *type,
                           struct cm_err *err)
{
    static const char prefix[] = "identity.verification_session.";
    char action[64];
    struct cm_audit_rec a = {0};
    const char *state = type + sizeof(prefix) - 1;

    if (strncmp(type, prefix, sizeof(prefix) - 1) != 0 ||
        snprintf(action, sizeof(action), "identity.session.%s", state) >= (int)sizeof(action))
        return cm_err_internal(err, "unexpected event type %s", type);
    a.service = "svc-identity";
    a.action = action;
    a.account_id = cm_db_value(res, row, C_ACCOUNT);
    a.app_id = cm_db_value(res, row, C_APP);
    a.livemode = strcmp(cm_db_value(res, row, C_LIVE), "t") == 0;
    a.object_id = cm_db_value(res, row, C_ID);
    a.status = 200;
    a.error_code = strcmp(state, "requires_input") == 0 ? cm_db_value(res, row, C_ERR_CODE) : NULL;
    a.target = "identity.session/status";
    return cm_audit_write(db, &a, err);
}

int idn_session_emit_row(struct cm_db *db, const struct cm_config *cfg, const PGresult *res,
                         int row, const char *type, const char *request_id,
                         const char *idempotency_key, struct cm_err *err)
{
    char evt[CM_ID_MAX];
    json_t *o = render(db, cfg, res, row, 0, 0, err);
    int ret;

    if (o == NULL)
        return -1;
    ret = cm_event_emit(db, type, cm_db_value(res, row, C_ACCOUNT), cm_db_value(res, row, C_APP),
                        strcmp(cm_db_value(res, row, C_LIVE), "t") == 0, request_id,
                        idempotency_key, o, NULL, evt, err);
    json_decref(o);
    if (ret == 0 && request_id == NULL)
        ret = audit_automatic(db, res, row, type, err);
    return ret;
}

int idn_session_emit(struct cm_db *db, const struct cm_config *cfg, const char *session_id,
                     const char *type, const char *request_id, const char *idempotency_key,
                     struct cm_err *err)
{
    PGresult *res = load(db, session_id, NULL, -1, 0, 0, err);
    int ret;

    if (res == NULL)
        return err->status == 404 ? cm_err_internal(err, "event for missing session %s", session_id)
                                  : -1;
    ret = idn_session_emit_row(db, cfg, res, 0, type, request_id, idempotency_key, err);
    PQclear(res);
    return ret;
}
