/* The JSON endpoints of the hosted flow (page_api.h) and the request
 * plumbing the hosted page shares with them. Every endpoint is a thin shell:
 * find the session by its secret (locked for a change), run one step of
 * page_flow.c, answer the flow's state. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "cm/audit.h"
#include "cm/form.h"
#include "cm/params.h"
#include "page_api.h"
#include "cm/banned.h"

#define TEXT_FIELD_MAX 65536 /* a multipart text field, bytes */

static int starts_with_type(const char *ctype, const char *type)
{
    size_t n = strlen(type);

    return ctype != NULL && strncasecmp(ctype, type, n) == 0 &&
           (ctype[n] == '\0' || ctype[n] == ';' || ctype[n] == ' ' || ctype[n] == '\t');
}

int idn_page_params(const struct cm_req *req, json_t **params, struct idn_multipart *mp,
                    struct cm_err *err)
{
    char boundary[IDN_MULTIPART_BOUNDARY_MAX + 1];
    json_t *p = json_deep_copy(req->params), *body = NULL;
    json_error_t jerr;

    mp->n = 0;
    *params = NULL;
    if (p == NULL)
        return cm_err_internal(err, "out of memory");
    if (req->body_len == 0)
        goto done;
    if (req->content_type == NULL ||
        starts_with_type(req->content_type, "application/x-www-form-urlencoded")) {
        if (cm_form_decode_into(p, req->body, req->body_len, NULL, err) < 0)
            goto fail;
    } else if (starts_with_type(req->content_type, "application/json")) {
        body = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &jerr);
        if (body == NULL || !json_is_object(body)) {
            cm_err_invalid(err, NULL, "Invalid JSON body: send one JSON object.");
            goto fail;
        }
        if (json_object_update(p, body) < 0) {
            cm_err_internal(err, "out of memory");
            goto fail;
        }
    } else if (starts_with_type(req->content_type, "multipart/form-data")) {
        if (idn_multipart_boundary(req->content_type, boundary, sizeof(boundary), err) < 0 ||
            idn_multipart_parse(req->body, req->body_len, boundary, mp, err) < 0)
            goto fail;
        for (size_t i = 0; i < mp->n; i++) {
            const struct idn_part *part = &mp->parts[i];

            if (part->has_filename)
                continue;
            if (part->len > TEXT_FIELD_MAX ||
                json_object_set_new(p, part->name, json_stringn(part->data, part->len)) < 0) {
                cm_err_invalid(err, part->name, "Invalid %s: expected UTF-8 text.", part->name);
                goto fail;
            }
        }
    } else {
        cm_err_set(err, 415, CM_ERR_INVALID_REQUEST, NULL, NULL,
                   "Invalid request: unsupported Content-Type %.64s.", req->content_type);
        goto fail;
    }
done:
    json_decref(body);
    *params = p;
    return 0;
fail:
    json_decref(body);
    json_decref(p);
    return -1;
}

const char *idn_page_secret(const struct cm_req *req, const json_t *params)
{
    const char *a = req->authorization;

    if (a != NULL && strncasecmp(a, "Bearer ", 7) == 0) {
        a += 7;
        while (*a == ' ')
            a++;
        return a;
    }
    return json_string_value(json_object_get(params, "client_secret"));
}

int idn_page_audit_submit(struct cm_req *req, const struct idn_flow *f, struct cm_err *err)
{
    struct cm_audit_rec a;

    cm_req_audit_fill(req, &a, "identity.page.submit", 200, NULL);
    a.actor = "client_secret"; /* the person holding the link; never the secret itself */
    a.account_id = f->account_id;
    a.livemode = f->livemode;
    a.object_id = f->id;
    a.target = "identity.session/submission";
    return cm_audit_write(req->db, &a, err);
}

/* The flow's state as every endpoint answers it (page_api.h). */
static json_t *state_json(const struct idn_flow *f)
{
    json_t *o, *uploaded = json_array(), *outcomes = NULL, *last_error = json_null();
    json_t *opt_doc = json_object();
    const char *type = idn_flow_document_type(f);
    int bad = uploaded == NULL || opt_doc == NULL;

    for (int i = 0; i < IDN_FILE_NPURPOSES && !bad; i++)
        if (f->files & (1u << i))
            bad |= json_array_append_new(uploaded, json_string(idn_purpose_names[i])) < 0;
    if (f->last_error_code[0])
        last_error =
            json_pack("{s:s,s:s}", "code", f->last_error_code, "reason", f->last_error_reason);
    if (!f->livemode) {
        enum idn_code codes[IDN_OUTCOME_MAX_CODES];
        size_t n = idn_outcome_codes(f->type, &f->options, codes);

        outcomes = json_pack("[ss]", IDN_OUTCOME_VERIFIED, IDN_OUTCOME_DELAY);
        for (size_t i = 0; i < n && outcomes != NULL; i++)
            bad |= json_array_append_new(outcomes, json_string(idn_code_name(codes[i]))) < 0;
        bad |= outcomes == NULL;
    }
    if (f->type == IDN_SESSION_DOCUMENT && !bad) {
        json_t *types = json_array();
        static const unsigned bits[] = {IDN_DOC_DRIVING_LICENSE, IDN_DOC_ID_CARD, IDN_DOC_PASSPORT};
        unsigned allowed = f->options.allowed_types ? f->options.allowed_types : IDN_DOC_ALL;

        for (size_t i = 0; i < 3 && types != NULL; i++)
            if (allowed & bits[i])
                bad |= json_array_append_new(types, json_string(idn_document_type_name(
                                                        (enum idn_document_type)bits[i]))) < 0;
        bad |= types == NULL || json_object_set_new(opt_doc, "allowed_types", types) < 0 ||
               json_object_set_new(opt_doc, "require_id_number",
                                   json_boolean(f->options.require_id_number)) < 0 ||
               json_object_set_new(opt_doc, "require_live_capture",
                                   json_boolean(f->options.require_live_capture)) < 0 ||
               json_object_set_new(opt_doc, "require_matching_selfie",
                                   json_boolean(f->options.require_matching_selfie)) < 0;
    }
    o = json_pack("{s:s,s:s,s:b,s:s,s:s,s:{},s:b,s:s?,s:o,s:o,s:o,s:s?}", "object",
                  "identity.hosted_verification", "id", f->id, "livemode", f->livemode, "status",
                  f->processing ? "processing" : "requires_input", "type",
                  f->type == IDN_SESSION_DOCUMENT ? "document" : "id_number", "options", "consent",
                  idn_flow_consented(f), "document_type", type, "uploaded", uploaded, "missing",
                  idn_flow_missing(f), "last_error", last_error ? last_error : json_null(),
                  "return_url", f->return_url[0] ? f->return_url : NULL);
    if (o != NULL && f->type == IDN_SESSION_DOCUMENT)
        bad |= json_object_set(json_object_get(o, "options"), "document", opt_doc) < 0;
    json_decref(opt_doc);
    if (o != NULL && outcomes != NULL && json_object_set_new(o, "test_outcomes", outcomes) < 0)
        bad = 1;
    else if (o == NULL)
        json_decref(outcomes);
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static int respond_state(struct cm_resp *resp, const struct idn_flow *f, struct cm_err *err)
{
    json_t *o = state_json(f);

    if (o == NULL)
        return cm_err_internal(err, "out of memory");
    return cm_resp_json(resp, 200, o, err);
}

/* The common start of every endpoint: parameters, allowed names, the
 * session. 0 with *params (new) and *f loaded, or -1 with *err. */
static int begin(struct cm_req *req, const char *const *allowed, int lock, json_t **params,
                 struct idn_multipart *mp, struct idn_flow *f, struct cm_err *err)
{
    const char *secret;
    int rc;

    if (idn_page_params(req, params, mp, err) < 0)
        return -1;
    if (cm_params_check_allowed(*params, allowed, err) < 0)
        goto fail;
    secret = idn_page_secret(req, *params);
    if (secret == NULL || *secret == '\0') {
        cm_err_set(err, 401, CM_ERR_INVALID_REQUEST, NULL, NULL,
                   "You did not provide a client secret. Send it as Authorization: Bearer "
                   "<client_secret> or as the client_secret parameter.");
        goto fail;
    }
    rc = idn_flow_load(req->db, req->cfg, secret, lock, f, err);
    if (rc < 0)
        goto fail;
    if (rc == 0) {
        cm_err_set(err, 401, CM_ERR_INVALID_REQUEST, NULL, NULL,
                   "Invalid client secret: this verification link has expired or is not "
                   "valid.");
        goto fail;
    }
    return 0;
fail:
    json_decref(*params);
    *params = NULL;
    return -1;
}

int idn_page_api_session(struct cm_req *req, struct cm_resp *resp, struct cm_err *err)
{
    static const char *const allowed[] = {"client_secret", NULL};
    struct idn_multipart mp;
    struct idn_flow f;
    json_t *params = NULL;
    int ret;

    if (begin(req, allowed, 0, &params, &mp, &f, err) < 0)
        return -1;
    ret = respond_state(resp, &f, err);
    idn_flow_release(&f);
    json_decref(params);
    return ret;
}

int idn_page_api_consent(struct cm_req *req, struct cm_resp *resp, struct cm_err *err)
{
    static const char *const allowed[] = {"client_secret", "accepted", NULL};
    struct idn_multipart mp;
    struct idn_flow f;
    json_t *params = NULL;
    int accepted = 0, ret = -1;

    if (begin(req, allowed, 1, &params, &mp, &f, err) < 0)
        return -1;
    if (cm_param_bool(params, "accepted", CM_P_REQUIRED, &accepted, err) < 0 ||
        idn_flow_consent(req->db, req->cfg, &f, accepted, req->request_id, err) < 0)
        goto out;
    ret = respond_state(resp, &f, err);
out:
    idn_flow_release(&f);
    json_decref(params);
    return ret;
}

int idn_page_api_data(struct cm_req *req, struct cm_resp *resp, struct cm_err *err)
{
    static const char *const allowed[] = {
        "client_secret", "document_type",   "first_name",        "last_name",
        "dob",           "document_number", "expiration_date",   "issuing_country",
        "mrz",           "id_number",       "id_number_country", NULL};
    struct idn_multipart mp;
    struct idn_flow f;
    json_t *params = NULL;
    int ret = -1;

    if (begin(req, allowed, 1, &params, &mp, &f, err) < 0)
        return -1;
    if (idn_flow_data(req->db, req->cfg, &f, params, err) < 0)
        goto out;
    ret = respond_state(resp, &f, err);
out:
    idn_flow_release(&f);
    json_decref(params);
    return ret;
}

int idn_page_api_files(struct cm_req *req, struct cm_resp *resp, struct cm_err *err)
{
    static const char *const allowed[] = {"client_secret", "purpose", "live_capture", NULL};
    struct idn_multipart mp;
    const struct idn_part *file;
    struct idn_flow f;
    json_t *params = NULL, *o;
    const char *purpose = NULL, *type = NULL;
    char file_id[CM_ID_MAX];
    int live = 0, ret = -1;

    if (!starts_with_type(req->content_type, "multipart/form-data"))
        return cm_err_set(err, 415, CM_ERR_INVALID_REQUEST, NULL, NULL,
                          "Invalid request: send the upload as multipart/form-data.");
    if (begin(req, allowed, 1, &params, &mp, &f, err) < 0)
        return -1;
    file = idn_multipart_get(&mp, "file");
    for (size_t i = 0; i < mp.n; i++)
        if (mp.parts[i].has_filename && strcmp(mp.parts[i].name, "file") != 0) {
            cm_err_unknown_param(err, mp.parts[i].name);
            goto out;
        }
    if (cm_param_str(params, "purpose", CM_P_REQUIRED, 32, &purpose, err) < 0 ||
        cm_param_bool(params, "live_capture", 0, &live, err) < 0)
        goto out;
    if (file == NULL || !file->has_filename) {
        cm_err_missing(err, "file");
        goto out;
    }
    if (idn_flow_file(req->db, req->cfg, &f, purpose, file->data, file->len, live, file_id, &type,
                      err) < 0)
        goto out;
    o = json_pack("{s:s,s:s,s:s,s:I,s:s,s:I}", "id", file_id, "object", "file", "purpose", purpose,
                  "size", (json_int_t)file->len, "type",
                  strcmp(type, "image/png") == 0 ? "png" : "jpg", "created",
                  (json_int_t)time(NULL));
    if (o == NULL) {
        cm_err_internal(err, "out of memory");
        goto out;
    }
    ret = cm_resp_json(resp, 200, o, err);
out:
    idn_flow_release(&f);
    json_decref(params);
    return ret;
}

int idn_page_api_submit(struct cm_req *req, struct cm_resp *resp, struct cm_err *err)
{
    static const char *const allowed[] = {"client_secret", "outcome", NULL};
    struct idn_multipart mp;
    struct idn_flow f;
    json_t *params = NULL;
    const char *outcome = NULL;
    int ret = -1;

    if (begin(req, allowed, 1, &params, &mp, &f, err) < 0)
        return -1;
    if (cm_param_str(params, "outcome", 0, 64, &outcome, err) < 0 ||
        idn_flow_submit(req->db, req->cfg, &f, outcome, req->request_id, err) < 0 ||
        idn_page_audit_submit(req, &f, err) < 0)
        goto out;
    ret = respond_state(resp, &f, err);
out:
    idn_flow_release(&f);
    json_decref(params);
    return ret;
}
