/* Error rendering, response building, and the error constructors. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "cm/http.h"
#include "cm/json.h"
#include "cm/banned.h"

START_TEST(test_err_shapes)
{
    struct cm_err err;
    json_t *o, *e;

    ck_assert_int_eq(cm_err_missing(&err, "scope[type]"), -1);
    o = cm_err_json(&err);
    e = json_object_get(o, "error");
    ck_assert_int_eq(err.status, 400);
    ck_assert_str_eq(json_string_value(json_object_get(e, "type")), "invalid_request_error");
    ck_assert_str_eq(json_string_value(json_object_get(e, "code")), "parameter_missing");
    ck_assert_str_eq(json_string_value(json_object_get(e, "param")), "scope[type]");
    ck_assert_str_eq(json_string_value(json_object_get(e, "message")),
                     "Missing required param: scope[type].");
    ck_assert_str_eq(json_string_value(json_object_get(e, "doc_url")),
                     "https://stripe.com/docs/error-codes/parameter-missing");
    json_decref(o);

    cm_err_not_found(&err, "secret", "my-key", "name");
    ck_assert_int_eq(err.status, 404);
    ck_assert_str_eq(err.code, "resource_missing");
    ck_assert_str_eq(err.message, "No such secret: 'my-key'");

    /* No code, no param: neither key is rendered. */
    cm_err_set(&err, 401, CM_ERR_INVALID_REQUEST, NULL, NULL, "Invalid API Key provided");
    o = cm_err_json(&err);
    e = json_object_get(o, "error");
    ck_assert_ptr_null(json_object_get(e, "code"));
    ck_assert_ptr_null(json_object_get(e, "param"));
    ck_assert_ptr_null(json_object_get(e, "doc_url"));
    json_decref(o);

    /* A 500 shows a generic message; the detail is never rendered. */
    cm_err_internal(&err, "connection to server lost: secret detail");
    o = cm_err_json(&err);
    e = json_object_get(o, "error");
    ck_assert_str_eq(json_string_value(json_object_get(e, "type")), "api_error");
    {
        char *text = json_dumps(o, 0);
        ck_assert_ptr_null(strstr(text, "secret detail"));
        free(text);
    }
    ck_assert_str_eq(err.detail, "connection to server lost: secret detail");
    json_decref(o);

    cm_err_set(&err, 409, CM_ERR_IDEMPOTENCY, "idempotency_key_in_use", NULL, "busy");
    o = cm_err_json(&err);
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(o, "error"), "type")),
                     "idempotency_error");
    json_decref(o);
}
END_TEST

START_TEST(test_err_truncation_keeps_utf8)
{
    struct cm_err err;
    char longval[600];
    json_t *o;

    /* 2-byte characters pushed across the 256-byte message limit. */
    for (size_t i = 0; i + 1 < sizeof(longval); i += 2)
        longval[i] = (char)0xC3, longval[i + 1] = (char)0xA9;
    longval[sizeof(longval) - 1] = '\0';
    cm_err_invalid(&err, "name", "Invalid x: %s", longval);
    o = cm_err_json(&err);
    ck_assert_ptr_nonnull(o);
    json_decref(o);
    cm_err_invalid(&err, "name", "X%s", longval);
    o = cm_err_json(&err);
    ck_assert_ptr_nonnull(o);
    json_decref(o);
    /* Overlong param is truncated, not overflowed. */
    memset(longval, 'p', sizeof(longval) - 1);
    cm_err_missing(&err, longval);
    ck_assert_uint_eq(strlen(err.param), sizeof(err.param) - 1);
    ck_assert_int_eq(cm_err_set(NULL, 400, CM_ERR_INVALID_REQUEST, NULL, NULL, "x"), -1);
}
END_TEST

START_TEST(test_resp_headers_refuse_injection)
{
    struct cm_resp r;

    memset(&r, 0, sizeof(r));
    ck_assert_int_eq(cm_resp_header(&r, "Location", "https://a.example/cb?x=1"), 0);
    ck_assert_int_eq(cm_resp_header(&r, "X-A", "b"), 0);
    ck_assert_str_eq(r.headers, "Location: https://a.example/cb?x=1\r\nX-A: b\r\n");
    ck_assert_int_eq(cm_resp_header(&r, "Location", "x\r\nSet-Cookie: a=b"), -1);
    ck_assert_int_eq(cm_resp_header(&r, "X\nY", "v"), -1);
    ck_assert_int_eq(cm_resp_header(&r, "X:Y", "v"), -1);
    ck_assert_int_eq(cm_resp_header(&r, "", "v"), -1);
    ck_assert_uint_eq(r.headers_len, strlen(r.headers));
    free(r.headers);
}
END_TEST

START_TEST(test_resp_json)
{
    struct cm_resp r;
    struct cm_err err;

    memset(&r, 0, sizeof(r));
    ck_assert_int_eq(cm_resp_json(&r, 200, json_pack("{s:s}", "object", "x"), &err), 0);
    ck_assert_str_eq(r.body, "{\"object\":\"x\"}");
    ck_assert_uint_eq(r.len, 14);
    ck_assert_int_eq(cm_resp_json(&r, 200, NULL, &err), -1);
    ck_assert_int_eq(err.status, 500);
    free(r.body);
}
END_TEST

Suite *suite_http(void)
{
    Suite *s = suite_create("http");
    TCase *tc = tcase_create("errors");

    tcase_add_test(tc, test_err_shapes);
    tcase_add_test(tc, test_err_truncation_keeps_utf8);
    tcase_add_test(tc, test_resp_headers_refuse_injection);
    tcase_add_test(tc, test_resp_json);
    suite_add_tcase(s, tc);
    return s;
}
