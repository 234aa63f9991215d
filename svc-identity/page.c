/* The hosted verification page (GET/POST /identity/verify): plain
 * server-rendered HTML that works without JavaScript, driven by the client
 * secret alone. GET shows the step the session is at; every step is a POST
 * form to the same URL carrying the secret as a hidden field (never in a
 * path) and a `step` name, answered with the next step's page, or the same
 * step with the error when a value was refused (400). Photos are multipart
 * forms. The flow's rules live in page_flow.c, shared with the JSON
 * endpoints (page_api.c), which this module also routes. */
#include <string.h>

#include "cm/html.h"
#include "cm/params.h"
#include "module.h"
#include "page_api.h"
#include "cm/banned.h"

#define PAGE_TITLE "Verify your identity"

/* The page's one style sheet: cm_html_begin() puts it between <style> and
 * </style> and the CSP allows exactly it by its hash. */
static const char style[] =
    "body{font:15px/1.5 system-ui,sans-serif;margin:0;background:#f6f8fa;color:#1a1f36}"
    "main{max-width:34rem;margin:3rem auto;padding:2rem;background:#fff;border-radius:8px;"
    "box-shadow:0 1px 4px rgba(0,0,0,.12)}h1{font-size:1.3rem;margin-top:0}"
    "label{display:block;margin:.8rem 0 .2rem}input,select,textarea{width:100%;padding:.4rem;"
    "box-sizing:border-box}textarea{font-family:monospace}input[type=radio]{width:auto}"
    "button{margin:1rem .5rem 0 0;padding:.5rem 1rem}.error{color:#b3093c}"
    ".muted{color:#687385}.steps{color:#687385;font-size:.85rem}";

/* The steps of the page, in the order idn_flow_missing() names them. */
static const char *const step_titles[][2] = {
    {"consent", "Before you start"},
    {"document_type", "Choose your document"},
    {"document_front", "Photo of the front of your document"},
    {"document_back", "Photo of the back of your document"},
    {"selfie", "A photo of your face"},
    {"document_data", "Your details, as on the document"},
    {"id_number_data", "Your ID number"},
    {"submit", "Check and submit"},
};

static const char *type_label(const char *type)
{
    if (type == NULL)
        return "";
    if (strcmp(type, "passport") == 0)
        return "Passport";
    if (strcmp(type, "id_card") == 0)
        return "National ID card";
    return "Driving license";
}

static void form_open(struct cm_html *h, const char *secret, const char *step, int multipart)
{
    cm_html_raw(h, multipart ? "<form method=\"post\" action=\"verify\" "
                               "enctype=\"multipart/form-data\">"
                             : "<form method=\"post\" action=\"verify\">");
    cm_html_raw(h, "<input type=\"hidden\" name=\"client_secret\" value=\"");
    cm_html_text(h, secret);
    cm_html_raw(h, "\"><input type=\"hidden\" name=\"step\" value=\"");
    cm_html_text(h, step);
    cm_html_raw(h, "\">");
}

/* A text input prefilled from prefill[name] (what was just typed) or the
 * draft. */
static void input(struct cm_html *h, const struct idn_flow *f, const json_t *prefill,
                  const char *name, const char *label, const char *type, int required)
{
    const char *v = json_string_value(json_object_get(prefill, name));

    if (v == NULL)
        v = idn_flow_field(f, name);
    cm_html_raw(h, "<label for=\"");
    cm_html_text(h, name);
    cm_html_raw(h, "\">");
    cm_html_text(h, label);
    cm_html_raw(h, "</label><input id=\"");
    cm_html_text(h, name);
    cm_html_raw(h, "\" name=\"");
    cm_html_text(h, name);
    cm_html_raw(h, "\" type=\"");
    cm_html_raw(h, type);
    cm_html_raw(h, required ? "\" required value=\"" : "\" value=\"");
    cm_html_text(h, v);
    cm_html_raw(h, "\">");
}

static void person_fields(struct cm_html *h, const struct idn_flow *f, const json_t *prefill)
{
    input(h, f, prefill, "first_name", "First name", "text", 1);
    input(h, f, prefill, "last_name", "Last name", "text", 1);
    input(h, f, prefill, "dob", "Date of birth", "date", 1);
}

static void id_number_fields(struct cm_html *h, const struct idn_flow *f, const json_t *prefill)
{
    input(h, f, prefill, "id_number_country", "Country of the ID number (two letters, e.g. US)",
          "text", 1);
    input(h, f, prefill, "id_number", "ID number", "text", 1);
}

static void step_body(struct cm_html *h, const struct idn_flow *f, const char *secret,
                      const char *step, const json_t *prefill)
{
    if (strcmp(step, "consent") == 0) {
        cm_html_raw(h, "<p>To confirm who you are, you will be asked for ");
        cm_html_raw(h, f->type == IDN_SESSION_DOCUMENT
                           ? "photos of an identity document and the details printed on it"
                           : "your name, date of birth and an ID number");
        cm_html_raw(h, ". They are stored encrypted and shared only with the site that "
                       "sent you here, for this verification.</p>");
        form_open(h, secret, "consent", 0);
        cm_html_raw(h, "<button name=\"decision\" value=\"accept\">I agree, continue</button>"
                       "<button name=\"decision\" value=\"decline\">Decline</button></form>");
    } else if (strcmp(step, "document_type") == 0) {
        static const char *const types[] = {"driving_license", "id_card", "passport"};
        static const unsigned bits[] = {IDN_DOC_DRIVING_LICENSE, IDN_DOC_ID_CARD, IDN_DOC_PASSPORT};
        unsigned allowed = f->options.allowed_types ? f->options.allowed_types : IDN_DOC_ALL;

        form_open(h, secret, "document_type", 0);
        for (size_t i = 0; i < 3; i++) {
            if (!(allowed & bits[i]))
                continue;
            cm_html_raw(h, "<label><input type=\"radio\" name=\"document_type\" required "
                           "value=\"");
            cm_html_raw(h, types[i]);
            cm_html_raw(h, "\"> ");
            cm_html_raw(h, type_label(types[i]));
            cm_html_raw(h, "</label>");
        }
        cm_html_raw(h, "<button>Continue</button></form>");
    } else if (strcmp(step, "document_front") == 0 || strcmp(step, "document_back") == 0 ||
               strcmp(step, "selfie") == 0) {
        int live = f->options.require_live_capture || strcmp(step, "selfie") == 0;

        cm_html_raw(h, "<p class=\"muted\">A clear JPEG or PNG photo, at most 5 MB.</p>");
        form_open(h, secret, step, 1);
        cm_html_raw(h, "<label for=\"file\">Photo</label><input id=\"file\" name=\"file\" "
                       "type=\"file\" required accept=\"image/jpeg,image/png\"");
        cm_html_raw(h, live ? (strcmp(step, "selfie") == 0 ? " capture=\"user\">"
                                                           : " capture=\"environment\">")
                            : ">");
        if (live)
            cm_html_raw(h, "<input type=\"hidden\" name=\"live_capture\" value=\"true\">");
        cm_html_raw(h, "<button>Upload</button></form>");
    } else if (strcmp(step, "document_data") == 0) {
        const char *type = idn_flow_document_type(f);

        cm_html_raw(h, "<p class=\"muted\">");
        cm_html_text(h, type_label(type));
        cm_html_raw(h, "</p>");
        form_open(h, secret, "data", 0);
        person_fields(h, f, prefill);
        input(h, f, prefill, "document_number", "Document number", "text", 1);
        input(h, f, prefill, "expiration_date", "Expiry date", "date", 1);
        input(h, f, prefill, "issuing_country", "Issuing country (two letters, e.g. US)", "text",
              1);
        cm_html_raw(h, "<label for=\"mrz\">Machine-readable zone (the lines of &lt; at the "
                       "bottom)");
        cm_html_raw(h, type != NULL && strcmp(type, "passport") == 0 ? "" : ", if there is one");
        cm_html_raw(h, "</label><textarea id=\"mrz\" name=\"mrz\" rows=\"3\" cols=\"44\"");
        cm_html_raw(h, type != NULL && strcmp(type, "passport") == 0 ? " required>" : ">");
        {
            const char *v = json_string_value(json_object_get(prefill, "mrz"));
            cm_html_text(h, v ? v : idn_flow_field(f, "mrz"));
        }
        cm_html_raw(h, "</textarea>");
        if (f->options.require_id_number)
            id_number_fields(h, f, prefill);
        cm_html_raw(h, "<button>Continue</button></form>");
    } else if (strcmp(step, "id_number_data") == 0) {
        form_open(h, secret, "data", 0);
        if (f->type == IDN_SESSION_ID_NUMBER)
            person_fields(h, f, prefill);
        id_number_fields(h, f, prefill);
        cm_html_raw(h, "<button>Continue</button></form>");
    } else { /* submit */
        cm_html_raw(h, "<p>Everything is ready. Submit to have it checked.</p>");
        form_open(h, secret, "submit", 0);
        if (!f->livemode) {
            enum idn_code codes[IDN_OUTCOME_MAX_CODES];
            size_t n = idn_outcome_codes(f->type, &f->options, codes);

            cm_html_raw(h, "<label for=\"outcome\">Test mode: outcome</label>"
                           "<select id=\"outcome\" name=\"outcome\">"
                           "<option value=\"\">Run the checks</option>"
                           "<option value=\"" IDN_OUTCOME_VERIFIED "\">Verified</option>"
                           "<option value=\"" IDN_OUTCOME_DELAY "\">Processing delay (about "
                           "10 seconds)</option>");
            for (size_t i = 0; i < n; i++) {
                cm_html_raw(h, "<option value=\"");
                cm_html_raw(h, idn_code_name(codes[i]));
                cm_html_raw(h, "\">Fail: ");
                cm_html_raw(h, idn_code_name(codes[i]));
                cm_html_raw(h, "</option>");
            }
            cm_html_raw(h, "</select>");
        }
        cm_html_raw(h, "<button>Submit</button></form>");
    }
}

static void return_link(struct cm_html *h, const struct idn_flow *f)
{
    if (f->return_url[0] == '\0')
        return;
    cm_html_raw(h, "<p><a href=\"");
    cm_html_text(h, f->return_url);
    cm_html_raw(h, "\">Return to the site</a></p>");
}

/* The page for a session that was found: processing, or its next step. */
static int render(struct cm_resp *resp, int status, const struct idn_flow *f, const char *secret,
                  const char *error, const json_t *prefill, struct cm_err *err)
{
    struct cm_html h;
    json_t *missing = NULL;
    const char *step = "submit", *title = NULL;
    size_t nsteps = sizeof(step_titles) / sizeof(step_titles[0]);
    struct cm_html url;

    cm_html_init(&h);
    if (f->processing) {
        cm_html_init(&url);
        cm_html_raw(&url, "verify?client_secret=");
        cm_html_urlencode(&url, secret);
        if (url.failed) {
            cm_html_release(&url);
            return cm_err_internal(err, "out of memory");
        }
        cm_html_begin(&h, PAGE_TITLE, style, url.data, 5);
        cm_html_release(&url);
        cm_html_raw(&h, "<h1>We are checking your information</h1><p>This usually takes a few "
                        "seconds. You can close this page: the site that sent you here will "
                        "be told the result.</p>");
        return_link(&h, f);
        cm_html_end(&h);
        return cm_html_respond(resp, 200, &h, err);
    }
    missing = idn_flow_missing(f);
    if (missing == NULL)
        return cm_err_internal(err, "out of memory");
    if (json_array_size(missing) > 0)
        step = json_string_value(json_array_get(missing, 0));
    for (size_t i = 0; i < nsteps; i++)
        if (strcmp(step_titles[i][0], step) == 0)
            title = step_titles[i][1];
    cm_html_begin(&h, PAGE_TITLE, style, NULL, 0);
    cm_html_raw(&h, "<p class=\"steps\">" PAGE_TITLE "</p><h1>");
    cm_html_text(&h, title);
    cm_html_raw(&h, "</h1>");
    if (f->last_error_code[0] && !idn_flow_consented(f)) {
        cm_html_raw(&h, "<p class=\"error\" id=\"last-error\" data-code=\"");
        cm_html_text(&h, f->last_error_code);
        cm_html_raw(&h, "\">Your last attempt did not succeed: ");
        cm_html_text(&h, f->last_error_reason);
        cm_html_raw(&h, " You can start again.</p>");
    }
    if (error != NULL) {
        cm_html_raw(&h, "<p class=\"error\" role=\"alert\">");
        cm_html_text(&h, error);
        cm_html_raw(&h, "</p>");
    }
    step_body(&h, f, secret, step, prefill);
    return_link(&h, f);
    cm_html_end(&h);
    json_decref(missing);
    return cm_html_respond(resp, status, &h, err);
}

static int render_gone(struct cm_resp *resp, struct cm_err *err)
{
    struct cm_html h;

    cm_html_init(&h);
    cm_html_begin(&h, PAGE_TITLE, style, NULL, 0);
    cm_html_raw(&h, "<h1>This link has expired</h1><p>This verification link no longer works: "
                    "the verification is finished or was canceled, or the link is not "
                    "valid. Go back to the site that sent you here to get a new one.</p>");
    cm_html_end(&h);
    return cm_html_respond(resp, 404, &h, err);
}

static int page_get(struct cm_req *req, struct cm_resp *resp, struct cm_err *err)
{
    const char *secret = json_string_value(json_object_get(req->params, "client_secret"));
    struct idn_flow f;
    int rc = idn_flow_load(req->db, req->cfg, secret, 0, &f, err);

    if (rc < 0)
        return -1;
    if (rc == 0)
        return render_gone(resp, err);
    rc = render(resp, 200, &f, secret, NULL, NULL, err);
    idn_flow_release(&f);
    return rc;
}

/* Runs the posted step on the locked session. 0 done, -1 with *err. */
static int run_step(struct cm_req *req, struct idn_flow *f, const char *step, const json_t *params,
                    const struct idn_multipart *mp, struct cm_err *err)
{
    const char *v = NULL;

    if (strcmp(step, "consent") == 0) {
        v = json_string_value(json_object_get(params, "decision"));
        if (v == NULL || (strcmp(v, "accept") != 0 && strcmp(v, "decline") != 0))
            return cm_err_invalid(err, "decision", "Choose to agree or to decline.");
        return idn_flow_consent(req->db, req->cfg, f, strcmp(v, "accept") == 0, req->request_id,
                                err);
    }
    if (strcmp(step, "document_type") == 0 || strcmp(step, "data") == 0) {
        /* The form's own fields are not data (a copy: step and the secret
         * stay borrowed from params). */
        json_t *data = json_deep_copy(params);
        int rc;

        if (data == NULL)
            return cm_err_internal(err, "out of memory");
        json_object_del(data, "client_secret");
        json_object_del(data, "step");
        if (strcmp(step, "document_type") == 0 && json_object_get(data, "document_type") == NULL)
            rc = cm_err_invalid(err, "document_type", "Choose a document.");
        else
            rc = idn_flow_data(req->db, req->cfg, f, data, err);
        json_decref(data);
        return rc;
    }
    if (strcmp(step, "submit") == 0) {
        if (cm_param_str(params, "outcome", CM_P_ALLOW_EMPTY, 64, &v, err) < 0)
            return -1;
        if (v != NULL && *v == '\0')
            v = NULL;
        if (idn_flow_submit(req->db, req->cfg, f, v, req->request_id, err) < 0)
            return -1;
        return idn_page_audit_submit(req, f, err);
    }
    for (int p = 0; p < IDN_FILE_NPURPOSES; p++)
        if (strcmp(step, idn_purpose_names[p]) == 0) {
            const struct idn_part *file = idn_multipart_get(mp, "file");
            char file_id[CM_ID_MAX];
            const char *type;
            int live = 0;

            if (cm_param_bool(params, "live_capture", 0, &live, err) < 0)
                return -1;
            if (file == NULL || !file->has_filename || file->len == 0)
                return cm_err_invalid(err, "file", "Choose a photo to upload.");
            return idn_flow_file(req->db, req->cfg, f, step, file->data, file->len, live, file_id,
                                 &type, err);
        }
    return cm_err_invalid(err, "step", "Unknown step.");
}

static int page_post(struct cm_req *req, struct cm_resp *resp, struct cm_err *err)
{
    struct idn_multipart mp;
    struct idn_flow f;
    json_t *params = NULL, *prefill = NULL;
    const char *secret, *step;
    int rc, ret = -1;

    if (idn_page_params(req, &params, &mp, err) < 0)
        return -1;
    secret = json_string_value(json_object_get(params, "client_secret"));
    rc = idn_flow_load(req->db, req->cfg, secret, 1, &f, err);
    if (rc <= 0) {
        json_decref(params);
        return rc < 0 ? -1 : render_gone(resp, err);
    }
    step = json_string_value(json_object_get(params, "step"));
    prefill = json_deep_copy(params);
    rc = run_step(req, &f, step ? step : "", params, &mp, err);
    if (rc == 0)
        ret = render(resp, 200, &f, secret, NULL, NULL, err);
    else if (err->status == 400)
        /* A refused value changed nothing: show the step again with why. */
        ret = render(resp, 400, &f, secret, err->message, prefill, err);
    idn_flow_release(&f);
    json_decref(prefill);
    json_decref(params);
    return ret;
}

static const struct cm_route routes[] = {
    {"GET", "/identity/verify", page_get, 0, NULL, NULL},
    {"POST", "/identity/verify", page_post, CM_ROUTE_TX | CM_ROUTE_RAW, NULL, NULL},
    {"GET", "/identity/api/session", idn_page_api_session, 0, NULL, NULL},
    {"POST", "/identity/api/consent", idn_page_api_consent, CM_ROUTE_TX | CM_ROUTE_RAW, NULL, NULL},
    {"POST", "/identity/api/files", idn_page_api_files, CM_ROUTE_TX | CM_ROUTE_RAW, NULL, NULL},
    {"POST", "/identity/api/data", idn_page_api_data, CM_ROUTE_TX | CM_ROUTE_RAW, NULL, NULL},
    {"POST", "/identity/api/submit", idn_page_api_submit, CM_ROUTE_TX | CM_ROUTE_RAW, NULL, NULL},
};

const struct cm_module idn_page_module = {routes, sizeof(routes) / sizeof(routes[0]),
                                          idn_flow_stmts, NULL};
