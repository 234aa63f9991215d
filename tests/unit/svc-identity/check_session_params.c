/* Tests for svc-identity/session_params.h (create and update parameters),
 * filters.h (created ranges) and redact.h (placeholders): tables of inputs
 * that pass and that fail, each failure with its exact param. */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "svc-identity/filters.h"
#include "svc-identity/redact.h"
#include "svc-identity/session_params.h"
#include "cm/form.h"
#include "cm/banned.h"

static json_t *form(const char *body)
{
    struct cm_err err = {0};
    json_t *p = cm_form_decode(body, strlen(body), NULL, &err);

    ck_assert_msg(p != NULL, "form %s: %s", body, err.message);
    return p;
}

/* ---- parameters ---- */

static const struct {
    const char *body;
    int create;
    const char *param; /* NULL: accepted */
    const char *code;  /* "" for none */
} cases[] = {
    {"type=document", 1, NULL, ""},
    {"type=id_number&metadata[a]=b&client_reference_id=x&return_url=https://e.com/r", 1, NULL, ""},
    {"", 1, "type", "parameter_missing"},
    {"type=", 1, "type", "parameter_invalid_empty"},
    {"type=verification_flow", 1, "type", ""},
    {"verification_flow=vf_1", 1, "verification_flow", ""},
    {"type=document&options[document][allowed_types][]=passport"
     "&options[document][allowed_types][]=id_card",
     1, NULL, ""},
    {"type=document&options[document][allowed_types][]=visa", 1,
     "options[document][allowed_types][0]", ""},
    {"type=document&options[document][allowed_types][]=passport"
     "&options[document][allowed_types][]=passport",
     1, "options[document][allowed_types][1]", ""},
    {"type=document&options[document][allowed_types]=passport", 1,
     "options[document][allowed_types]", ""},
    {"type=document&options[document][require_live_capture]=maybe", 1,
     "options[document][require_live_capture]", ""},
    {"type=document&options[document][x]=1", 1, "options[document][x]", "parameter_unknown"},
    {"type=document&options[phone][require_verification]=true", 1, "options[phone]",
     "parameter_unknown"},
    {"type=document&options=", 1, NULL, ""},
    {"type=document&options[document]=", 1, NULL, ""},
    {"type=document&provided_details[email]=a@b.co&provided_details[phone]=%2B1 415-555-0100", 1,
     NULL, ""},
    {"type=document&provided_details[email]=a@b", 1, "provided_details[email]", ""},
    {"type=document&provided_details[email]=@b.co", 1, "provided_details[email]", ""},
    {"type=document&provided_details[email]=a b@c.co", 1, "provided_details[email]", ""},
    {"type=document&provided_details[phone]=1234", 1, "provided_details[phone]", ""},
    {"type=document&provided_details[phone]=12a45678", 1, "provided_details[phone]", ""},
    {"type=document&provided_details=x", 1, "provided_details", ""},
    {"type=document&return_url=ftp://e.com", 1, "return_url", ""},
    {"type=document&return_url=http://", 1, "return_url", ""},
    {"type=document&return_url=https://e.com/a b", 1, "return_url", ""},
    {"type=document&related_person[account]=acct_1&related_person[person]=p_1", 1, NULL, ""},
    {"type=document&related_person[account]=acct_1", 1, "related_person[person]",
     "parameter_missing"},
    {"type=document&related_person[account]=a&related_person[person]=p&related_person[x]=1", 1,
     "related_person[x]", "parameter_unknown"},
    {"metadata[a]=", 0, NULL, ""},
    {"type=id_number", 0, NULL, ""},
    {"", 0, NULL, ""},
    {"type=selfie", 0, "type", ""},
};

START_TEST(test_params)
{
    struct cm_err err = {0};
    struct idn_session_input in;
    json_t *p = form(cases[_i].body);
    int rc = idn_session_input_parse(p, cases[_i].create, &in, &err);

    if (cases[_i].param == NULL) {
        ck_assert_msg(rc == 0, "%s: %s (%s)", cases[_i].body, err.message, err.param);
        idn_session_input_release(&in);
    } else {
        ck_assert_msg(rc == -1, "%s: accepted", cases[_i].body);
        ck_assert_int_eq(err.status, 400);
        ck_assert_str_eq(err.param, cases[_i].param);
        ck_assert_str_eq(err.code, cases[_i].code);
        ck_assert_ptr_null(in.options);
        ck_assert_ptr_null(in.provided);
    }
    json_decref(p);
}
END_TEST

START_TEST(test_options_rendered)
{
    struct cm_err err = {0};
    struct idn_session_input in;
    json_t *p =
        form("type=document&options[document][require_matching_selfie]=true"
             "&options[document][allowed_types][]=id_card&provided_details[phone]=%2B4915112345");
    char *s;

    ck_assert_int_eq(idn_session_input_parse(p, 1, &in, &err), 0);
    s = json_dumps(in.options, JSON_COMPACT | JSON_PRESERVE_ORDER);
    ck_assert_str_eq(s, "{\"document\":{\"allowed_types\":[\"id_card\"],"
                        "\"require_matching_selfie\":true}}");
    free(s);
    s = json_dumps(in.provided, JSON_COMPACT);
    ck_assert_str_eq(s, "{\"phone\":\"+4915112345\"}");
    free(s);
    ck_assert_str_eq(in.type, "document");
    idn_session_input_release(&in);
    json_decref(p);
}
END_TEST

START_TEST(test_metadata_apply)
{
    struct cm_err err = {0};
    json_t *old = json_pack("{s:s,s:s}", "a", "1", "b", "2");
    json_t *given = json_pack("{s:s,s:s}", "a", "", "c", "3");
    json_t *out = idn_metadata_apply(old, given, &err);
    json_t *full = json_object();
    json_t *want = json_pack("{s:s,s:s}", "b", "2", "c", "3");

    ck_assert_ptr_nonnull(out);
    ck_assert(json_equal(out, want));
    json_decref(want);
    json_decref(out);
    out = idn_metadata_apply(old, NULL, &err); /* metadata="" */
    ck_assert_int_eq(json_object_size(out), 0);
    json_decref(out);
    for (int i = 0; i < 50; i++) {
        char k[8];

        snprintf(k, sizeof(k), "k%d", i);
        json_object_set_new(full, k, json_string("v"));
    }
    ck_assert_ptr_null(idn_metadata_apply(full, given, &err)); /* 51 keys */
    ck_assert_str_eq(err.param, "metadata");
    json_decref(old);
    json_decref(given);
    json_decref(full);
}
END_TEST

/* ---- created ranges ---- */

static const struct {
    struct cm_range r;
    int rc;
    const char *from, *to;
} ranges[] = {
    {{0}, 0, "", ""},
    {{.has_eq = 1, .eq = 100}, 0, "100", "101"},
    {{.has_gt = 1, .gt = 100}, 0, "101", ""},
    {{.has_gte = 1, .gte = 100, .has_lte = 1, .lte = 200}, 0, "100", "201"},
    {{.has_lt = 1, .lt = 100}, 0, "", "100"},
    {{.has_gt = 1, .gt = 10, .has_gte = 1, .gte = 5}, 0, "11", ""},
    {{.has_gt = 1, .gt = 5, .has_lt = 1, .lt = 6}, -1, "", ""},
    {{.has_lt = 1, .lt = 0}, -1, "", ""},
    {{.has_lte = 1, .lte = -5}, -1, "", ""},
    {{.has_gte = 1, .gte = -5}, 0, "", ""},
    {{.has_gt = 1, .gt = 9223372036854775807LL}, -1, "", ""},
    {{.has_lte = 1, .lte = 9223372036854775807LL}, 0, "", ""},
    {{.has_eq = 1, .eq = CM_TIMESTAMP_MAX}, 0, "253402300799", ""},
};

START_TEST(test_created_bounds)
{
    char from[24] = "x", to[24] = "x";

    ck_assert_int_eq(idn_created_bounds(&ranges[_i].r, from, to), ranges[_i].rc);
    ck_assert_str_eq(from, ranges[_i].from);
    ck_assert_str_eq(to, ranges[_i].to);
}
END_TEST

/* ---- placeholders ---- */

START_TEST(test_redacted_view)
{
    json_t *in = json_loads(
        "{\"first_name\":\"Jenny\",\"last_name\":null,\"dob\":{\"day\":2,\"month\":3,\"year\":1990}"
        ","
        "\"address\":{\"line1\":\"1 Main St\",\"city\":\"SF\",\"country\":\"US\",\"line2\":null},"
        "\"id_number_type\":\"us_ssn\",\"id_number\":\"123456789\",\"n\":5,\"files\":[\"file_1\"]}",
        0, NULL);
    json_t *want = json_loads(
        "{\"first_name\":\"[redacted]\",\"last_name\":null,\"dob\":{\"day\":1,\"month\":1,"
        "\"year\":1},\"address\":{\"line1\":\"[redacted]\",\"city\":\"[redacted]\","
        "\"country\":\"US\",\"line2\":null},\"id_number_type\":\"us_ssn\","
        "\"id_number\":\"[redacted]\",\"n\":\"[redacted]\",\"files\":[\"[redacted]\"]}",
        0, NULL);
    json_t *out = idn_redacted_view(in);
    json_t *null_view = idn_redacted_view(NULL);

    ck_assert_ptr_nonnull(in);
    ck_assert(json_equal(out, want));
    ck_assert(json_is_null(null_view));
    json_decref(in);
    json_decref(want);
    json_decref(out);
    json_decref(null_view);
}
END_TEST

START_TEST(test_url_ok)
{
    static const struct {
        const char *url;
        int ok;
    } urls[] = {
        {"https://example.com", 1},
        {"http://localhost:3000/x?y=1", 1},
        {"https://", 0},
        {"https:///x", 0},
        {"https://@/x", 0},
        {"//example.com", 0},
        {"HTTPS://e.com", 0},
        {"https://e.com/\x01", 0},
        {"mailto:a@b.c", 0},
    };

    for (size_t i = 0; i < sizeof(urls) / sizeof(urls[0]); i++)
        ck_assert_msg(idn_url_ok(urls[i].url) == urls[i].ok, "%s", urls[i].url);
}
END_TEST

Suite *suite_session_params(void)
{
    Suite *s = suite_create("session_params");
    TCase *tc = tcase_create("core");

    tcase_add_loop_test(tc, test_params, 0, sizeof(cases) / sizeof(cases[0]));
    tcase_add_test(tc, test_options_rendered);
    tcase_add_test(tc, test_metadata_apply);
    tcase_add_loop_test(tc, test_created_bounds, 0, sizeof(ranges) / sizeof(ranges[0]));
    tcase_add_test(tc, test_redacted_view);
    tcase_add_test(tc, test_url_ok);
    suite_add_tcase(s, tc);
    return s;
}
