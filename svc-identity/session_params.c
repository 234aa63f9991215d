/* Validation of the create and update parameters of a verification session
 * (session_params.h). Every refusal names the parameter as the client wrote
 * it ("options[document][allowed_types][1]"), so that an SDK user sees which
 * argument to fix. Options are stored as the object will show them: only the
 * keys given, in the schema's order. */
#include <stdio.h>
#include <string.h>

#include "cm/params.h"
#include "session_params.h"
#include "cm/banned.h"

#define STR_MAX   5000
#define EMAIL_MAX 320 /* RFC 5321: 64 + @ + 255 */
#define PHONE_MAX 32

const char *const idn_session_create_params[] = {
    "type",
    "verification_flow",
    "client_reference_id",
    "metadata",
    "options",
    "provided_details",
    "related_customer",
    "related_customer_account",
    "related_person",
    "return_url",
    NULL,
};
const char *const idn_session_update_params[] = {"type", "metadata", "options", "provided_details",
                                                 NULL};

static const char *const types[] = {"document", "id_number", NULL};
static const char *const doc_types[] = {"driving_license", "id_card", "passport", NULL};
static const char *const options_keys[] = {"document", NULL};
static const char *const document_keys[] = {
    "allowed_types", "require_id_number", "require_live_capture", "require_matching_selfie", NULL};
static const char *const provided_keys[] = {"email", "phone", NULL};
static const char *const person_keys[] = {"account", "person", NULL};
static const char *const require_flags[] = {"require_id_number", "require_live_capture",
                                            "require_matching_selfie"};

static int oom(struct cm_err *err)
{
    return cm_err_internal(err, "out of memory reading session params");
}

/* options[document][allowed_types]: each item one of doc_types, no repeats. */
static int allowed_types(const json_t *params, json_t *doc, struct cm_err *err)
{
    const char *path = "options[document][allowed_types]";
    json_t *arr = NULL, *out;
    size_t n;

    if (cm_param_str_array(params, path, CM_P_ALLOW_EMPTY, 3 * 4, 0, &arr, err) < 0)
        return -1;
    if (arr == NULL)
        return 0;
    out = json_array();
    if (out == NULL || json_object_set_new(doc, "allowed_types", out) < 0)
        return oom(err);
    n = json_array_size(arr);
    for (size_t i = 0; i < n; i++) {
        char item[64];
        int index;
        int dup = 0;

        snprintf(item, sizeof(item), "%s[%zu]", path, i);
        if (cm_param_enum(params, item, CM_P_REQUIRED, doc_types, &index, err) < 0)
            return -1;
        for (size_t j = 0; j < json_array_size(out); j++)
            dup |= strcmp(json_string_value(json_array_get(out, j)), doc_types[index]) == 0;
        if (dup)
            return cm_err_invalid(err, item, "Invalid %s: %s is listed twice.", item,
                                  doc_types[index]);
        if (json_array_append_new(out, json_string(doc_types[index])) < 0)
            return oom(err);
    }
    return 0;
}

/* options (object or ""), into in->options when given. */
static int options(const json_t *params, struct idn_session_input *in, struct cm_err *err)
{
    json_t *obj = NULL, *doc_in = NULL, *doc;
    int rc;

    rc = cm_param_object(params, "options", CM_P_ALLOW_EMPTY, &obj, err);
    if (rc <= 0)
        return rc;
    in->options = json_object();
    if (in->options == NULL)
        return oom(err);
    if (obj == NULL) /* options="" clears every option */
        return 0;
    if (cm_params_check_allowed_at(params, "options", options_keys, err) < 0)
        return -1;
    rc = cm_param_object(params, "options[document]", CM_P_ALLOW_EMPTY, &doc_in, err);
    if (rc < 0)
        return -1;
    if (rc == 0 || doc_in == NULL) /* options[document]="" clears the document options */
        return 0;
    if (cm_params_check_allowed_at(params, "options[document]", document_keys, err) < 0)
        return -1;
    doc = json_object();
    if (doc == NULL || json_object_set_new(in->options, "document", doc) < 0)
        return oom(err);
    if (allowed_types(params, doc, err) < 0)
        return -1;
    for (size_t i = 0; i < sizeof(require_flags) / sizeof(require_flags[0]); i++) {
        char path[96];
        int b = 0;

        snprintf(path, sizeof(path), "options[document][%s]", require_flags[i]);
        rc = cm_param_bool(params, path, 0, &b, err);
        if (rc < 0)
            return -1;
        if (rc == 1 && json_object_set_new(doc, require_flags[i], json_boolean(b)) < 0)
            return oom(err);
    }
    return 0;
}

/* A plausible email address: something@domain.tld, no spaces or controls. */
static int email_ok(const char *s)
{
    const char *at = strchr(s, '@');
    const char *dot;

    for (const char *p = s; *p; p++)
        if ((unsigned char)*p <= ' ' || *p == 0x7f)
            return 0;
    if (at == NULL || at == s || strchr(at + 1, '@') != NULL)
        return 0;
    dot = strrchr(at + 1, '.');
    return dot != NULL && dot > at + 1 && dot[1] != '\0';
}

/* A phone number: an optional '+', then digits, spaces, dots, dashes and
 * parentheses, with 5 to 15 digits (E.164 has at most 15). */
static int phone_ok(const char *s)
{
    int digits = 0;

    for (const char *p = s; *p; p++) {
        if (*p >= '0' && *p <= '9')
            digits++;
        else if (!(*p == '+' && p == s) && strchr(" .-()", *p) == NULL)
            return 0;
    }
    return digits >= 5 && digits <= 15;
}

static int provided(const json_t *params, struct idn_session_input *in, struct cm_err *err)
{
    const char *email = NULL, *phone = NULL;
    json_t *obj = NULL;
    int rc;

    rc = cm_param_object(params, "provided_details", 0, &obj, err);
    if (rc <= 0)
        return rc;
    if (cm_params_check_allowed_at(params, "provided_details", provided_keys, err) < 0 ||
        cm_param_str(params, "provided_details[email]", 0, EMAIL_MAX, &email, err) < 0 ||
        cm_param_str(params, "provided_details[phone]", 0, PHONE_MAX, &phone, err) < 0)
        return -1;
    if (email != NULL && !email_ok(email))
        return cm_err_invalid(err, "provided_details[email]",
                              "Invalid provided_details[email]: must be an email address.");
    if (phone != NULL && !phone_ok(phone))
        return cm_err_invalid(err, "provided_details[phone]",
                              "Invalid provided_details[phone]: must be a phone number, "
                              "such as +14155550100.");
    in->provided = json_object();
    if (in->provided == NULL ||
        (email != NULL && json_object_set_new(in->provided, "email", json_string(email)) < 0) ||
        (phone != NULL && json_object_set_new(in->provided, "phone", json_string(phone)) < 0))
        return oom(err);
    return 0;
}

int idn_url_ok(const char *url)
{
    const char *host;
    size_t hostlen;

    if (strncmp(url, "https://", 8) == 0)
        host = url + 8;
    else if (strncmp(url, "http://", 7) == 0)
        host = url + 7;
    else
        return 0;
    for (const char *p = url; *p; p++)
        if ((unsigned char)*p <= ' ' || *p == 0x7f)
            return 0;
    hostlen = strcspn(host, "/?#");
    /* Not "http:///x" nor "http://@/x" nor "http://:80/". */
    return hostlen > 0 && host[0] != '@' && host[0] != ':';
}

/* The fields only create takes. */
static int create_only(const json_t *params, struct idn_session_input *in, struct cm_err *err)
{
    const char *account = NULL, *person = NULL;
    json_t *obj = NULL;
    int rc;

    if (cm_param_str(params, "client_reference_id", 0, STR_MAX, &in->client_reference_id, err) <
            0 ||
        cm_param_str(params, "return_url", 0, STR_MAX, &in->return_url, err) < 0 ||
        cm_param_str(params, "related_customer", 0, STR_MAX, &in->related_customer, err) < 0 ||
        cm_param_str(params, "related_customer_account", 0, STR_MAX, &in->related_customer_account,
                     err) < 0)
        return -1;
    if (in->return_url != NULL && !idn_url_ok(in->return_url))
        return cm_err_invalid(err, "return_url",
                              "Invalid return_url: must be an absolute http or https URL.");
    rc = cm_param_object(params, "related_person", 0, &obj, err);
    if (rc <= 0)
        return rc;
    if (cm_params_check_allowed_at(params, "related_person", person_keys, err) < 0 ||
        cm_param_str(params, "related_person[account]", CM_P_REQUIRED, STR_MAX, &account, err) <
            0 ||
        cm_param_str(params, "related_person[person]", CM_P_REQUIRED, STR_MAX, &person, err) < 0)
        return -1;
    in->related_person = json_pack("{s:s,s:s}", "account", account, "person", person);
    return in->related_person != NULL ? 0 : oom(err);
}

int idn_session_input_parse(const json_t *params, int create, struct idn_session_input *in,
                            struct cm_err *err)
{
    int type = -1, rc;

    memset(in, 0, sizeof(*in));
    if (create && cm_param_get(params, "verification_flow") != NULL)
        return cm_err_invalid(err, "verification_flow",
                              "Verification flows are not supported by this server: create the "
                              "session with a type (document or id_number).");
    if (cm_param_enum(params, "type", create ? CM_P_REQUIRED : 0, types, &type, err) < 0)
        goto fail;
    in->type = type >= 0 ? types[type] : NULL;
    if (options(params, in, err) < 0 || provided(params, in, err) < 0)
        goto fail;
    rc = cm_param_metadata(params, "metadata", &in->metadata, err);
    if (rc < 0)
        goto fail;
    in->has_metadata = rc == 1;
    if (create && create_only(params, in, err) < 0)
        goto fail;
    return 0;
fail:
    idn_session_input_release(in);
    return -1;
}

void idn_session_input_release(struct idn_session_input *in)
{
    json_decref(in->options);
    json_decref(in->provided);
    json_decref(in->related_person);
    memset(in, 0, sizeof(*in));
}

json_t *idn_metadata_apply(const json_t *old, const json_t *given, struct cm_err *err)
{
    json_t *out = json_is_object(old) && given != NULL ? json_deep_copy(old) : json_object();
    const char *key;
    json_t *v;

    if (out == NULL) {
        oom(err);
        return NULL;
    }
    json_object_foreach((json_t *)given, key, v)
    {
        const char *s = json_string_value(v);
        int rc = s != NULL && s[0] == '\0' ? (json_object_del(out, key), 0)
                                           : json_object_set(out, key, v);

        if (rc < 0) {
            json_decref(out);
            oom(err);
            return NULL;
        }
    }
    if (json_object_size(out) > CM_METADATA_MAX_KEYS) {
        json_decref(out);
        cm_err_invalid(err, "metadata",
                       "Invalid metadata: an object can have at most %d metadata keys.",
                       CM_METADATA_MAX_KEYS);
        return NULL;
    }
    return out;
}
