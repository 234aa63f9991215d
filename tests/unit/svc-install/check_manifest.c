/* Tests for svc-install/manifest.h: every rejection the contract names
 * (docs/INSTALL.md "Manifest rules"), each with the param it must carry,
 * the redirect URI rules case by case in both modes, and manifests that must
 * pass, among them the seed's stripe-app.json shape. */
#include <check.h>
#include <string.h>

#include "svc-install/manifest.h"
#include "cm/banned.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define APP  "com.example.app"

/* A valid manifest with one field replaced: the text between the braces. */
#define DOC(fields) "{\"id\":\"" APP "\",\"version\":\"1.2.3\",\"name\":\"Example\"" fields "}"

static const struct {
    const char *doc;
    int livemode;
    const char *param;
} rejected[] = {
    /* Not one JSON object. */
    {"", 0, "manifest"},
    {"not json", 0, "manifest"},
    {"[1,2]", 0, "manifest"},
    {"\"com.example.app\"", 0, "manifest"},
    {"null", 0, "manifest"},
    {DOC("") " trailing", 0, "manifest"},
    {"{\"id\":\"" APP "\",\"id\":\"" APP "\",\"version\":\"1.2.3\",\"name\":\"x\"}", 0, "manifest"},
    /* Unknown top-level keys, named as given. */
    {DOC(",\"homepage\":\"https://example.com\""), 0, "manifest[homepage]"},
    {DOC(",\"Permissions\":[]"), 0, "manifest[Permissions]"},
    /* id. */
    {"{\"version\":\"1.2.3\",\"name\":\"x\"}", 0, "manifest[id]"},
    {"{\"id\":7,\"version\":\"1.2.3\",\"name\":\"x\"}", 0, "manifest[id]"},
    {"{\"id\":\"com.example.other\",\"version\":\"1.2.3\",\"name\":\"x\"}", 0, "manifest[id]"},
    {"{\"id\":\"COM.EXAMPLE.APP\",\"version\":\"1.2.3\",\"name\":\"x\"}", 0, "manifest[id]"},
    /* version. */
    {"{\"id\":\"" APP "\",\"name\":\"x\"}", 0, "manifest[version]"},
    {"{\"id\":\"" APP "\",\"version\":123,\"name\":\"x\"}", 0, "manifest[version]"},
    {"{\"id\":\"" APP "\",\"version\":\"\",\"name\":\"x\"}", 0, "manifest[version]"},
    {"{\"id\":\"" APP "\",\"version\":\"1.2\",\"name\":\"x\"}", 0, "manifest[version]"},
    {"{\"id\":\"" APP "\",\"version\":\"1.2.3.4\",\"name\":\"x\"}", 0, "manifest[version]"},
    {"{\"id\":\"" APP "\",\"version\":\"01.2.3\",\"name\":\"x\"}", 0, "manifest[version]"},
    {"{\"id\":\"" APP "\",\"version\":\"1.02.3\",\"name\":\"x\"}", 0, "manifest[version]"},
    {"{\"id\":\"" APP "\",\"version\":\"1.2.03\",\"name\":\"x\"}", 0, "manifest[version]"},
    {"{\"id\":\"" APP "\",\"version\":\"v1.2.3\",\"name\":\"x\"}", 0, "manifest[version]"},
    {"{\"id\":\"" APP "\",\"version\":\"1.2.3-\",\"name\":\"x\"}", 0, "manifest[version]"},
    {"{\"id\":\"" APP "\",\"version\":\"1.2.3-beta..1\",\"name\":\"x\"}", 0, "manifest[version]"},
    {"{\"id\":\"" APP "\",\"version\":\"1.2.3-01\",\"name\":\"x\"}", 0, "manifest[version]"},
    {"{\"id\":\"" APP "\",\"version\":\"1.2.3+build\",\"name\":\"x\"}", 0, "manifest[version]"},
    {"{\"id\":\"" APP "\",\"version\":\"1.2.3-beta_1\",\"name\":\"x\"}", 0, "manifest[version]"},
    {"{\"id\":\"" APP "\",\"version\":\" 1.2.3\",\"name\":\"x\"}", 0, "manifest[version]"},
    {"{\"id\":\"" APP
     "\",\"version\":\"1.2.3-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\","
     "\"name\":\"x\"}",
     0, "manifest[version]"},
    /* name. */
    {"{\"id\":\"" APP "\",\"version\":\"1.2.3\"}", 0, "manifest[name]"},
    {"{\"id\":\"" APP "\",\"version\":\"1.2.3\",\"name\":\"\"}", 0, "manifest[name]"},
    {"{\"id\":\"" APP "\",\"version\":\"1.2.3\",\"name\":\"   \"}", 0, "manifest[name]"},
    {"{\"id\":\"" APP "\",\"version\":\"1.2.3\",\"name\":false}", 0, "manifest[name]"},
    {"{\"id\":\"" APP "\",\"version\":\"1.2.3\",\"name\":\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
     "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"}",
     0, "manifest[name]"},
    /* icon. */
    {DOC(",\"icon\":42"), 0, "manifest[icon]"},
    /* permissions. */
    {DOC(",\"permissions\":{}"), 0, "manifest[permissions]"},
    {DOC(",\"permissions\":\"secret_write\""), 0, "manifest[permissions]"},
    {DOC(",\"permissions\":[\"secret_write\"]"), 0, "manifest[permissions]"},
    {DOC(",\"permissions\":[{\"permission\":\"event_read\",\"purpose\":\"p\"},null]"), 0,
     "manifest[permissions]"},
    {DOC(",\"permissions\":[{\"permission\":\"secret_writ\",\"purpose\":\"p\"}]"), 0,
     "manifest[permissions][0][permission]"},
    {DOC(",\"permissions\":[{\"permission\":\"event_read\",\"purpose\":\"p\"},"
         "{\"permission\":\"all_the_things\",\"purpose\":\"p\"}]"),
     0, "manifest[permissions][1][permission]"},
    {DOC(",\"permissions\":[{\"purpose\":\"p\"}]"), 0, "manifest[permissions][0][permission]"},
    {DOC(",\"permissions\":[{\"permission\":3,\"purpose\":\"p\"}]"), 0,
     "manifest[permissions][0][permission]"},
    {DOC(",\"permissions\":[{\"permission\":\"event_read\"}]"), 0,
     "manifest[permissions][0][purpose]"},
    {DOC(",\"permissions\":[{\"permission\":\"event_read\",\"purpose\":\"\"}]"), 0,
     "manifest[permissions][0][purpose]"},
    {DOC(",\"permissions\":[{\"permission\":\"event_read\",\"purpose\":\" \\t\"}]"), 0,
     "manifest[permissions][0][purpose]"},
    {DOC(",\"permissions\":[{\"permission\":\"event_read\",\"purpose\":null}]"), 0,
     "manifest[permissions][0][purpose]"},
    {DOC(",\"permissions\":[{\"permission\":\"event_read\",\"purpose\":\"a\"},"
         "{\"permission\":\"secret_write\",\"purpose\":\"b\"},"
         "{\"permission\":\"event_read\",\"purpose\":\"c\"}]"),
     0, "manifest[permissions][2][permission]"},
    {DOC(",\"permissions\":[{\"permission\":\"event_read\",\"purpose\":\"a\",\"why\":\"b\"}]"), 0,
     "manifest[permissions][0][why]"},
    /* allowed_redirect_uris: the array. */
    {DOC(",\"allowed_redirect_uris\":\"https://example.com/cb\""), 0,
     "manifest[allowed_redirect_uris]"},
    {DOC(",\"allowed_redirect_uris\":[\"https://example.com/cb\",7]"), 0,
     "manifest[allowed_redirect_uris]"},
    {DOC(",\"allowed_redirect_uris\":[\"https://a.example/1\",\"https://a.example/2\","
         "\"https://a.example/3\",\"https://a.example/4\",\"https://a.example/5\","
         "\"https://a.example/6\",\"https://a.example/7\",\"https://a.example/8\","
         "\"https://a.example/9\",\"https://a.example/10\",\"https://a.example/11\","
         "\"https://a.example/12\",\"https://a.example/13\",\"https://a.example/14\","
         "\"https://a.example/15\",\"https://a.example/16\",\"https://a.example/17\","
         "\"https://a.example/18\",\"https://a.example/19\",\"https://a.example/20\","
         "\"https://a.example/21\"]"),
     0, "manifest[allowed_redirect_uris]"},
    /* allowed_redirect_uris: one URI, named by its index. */
    {DOC(",\"allowed_redirect_uris\":[\"https://ok.example/cb\",\"/callback\"]"), 0,
     "manifest[allowed_redirect_uris][1]"},
    {DOC(",\"allowed_redirect_uris\":[\"http://example.com/cb\"]"), 0,
     "manifest[allowed_redirect_uris][0]"},
    {DOC(",\"allowed_redirect_uris\":[\"http://localhost:3000/cb\"]"), 1,
     "manifest[allowed_redirect_uris][0]"},
    {DOC(",\"allowed_redirect_uris\":[\"https://example.com/cb#frag\"]"), 0,
     "manifest[allowed_redirect_uris][0]"},
    {DOC(",\"allowed_redirect_uris\":[\"https://user:pw@example.com/cb\"]"), 0,
     "manifest[allowed_redirect_uris][0]"},
    {DOC(",\"allowed_redirect_uris\":[\"\"]"), 0, "manifest[allowed_redirect_uris][0]"},
};

START_TEST(test_rejected)
{
    struct inst_manifest m;
    struct cm_err err;
    const char *doc = rejected[_i].doc;

    memset(&err, 0, sizeof(err));
    ck_assert_msg(inst_manifest_parse(doc, strlen(doc), APP, rejected[_i].livemode, &m, &err) == -1,
                  "accepted: %s", doc);
    ck_assert_int_eq(err.status, 400);
    ck_assert_int_eq(err.type, CM_ERR_INVALID_REQUEST);
    ck_assert_msg(strcmp(err.param, rejected[_i].param) == 0, "%s: param %s, want %s", doc,
                  err.param, rejected[_i].param);
    ck_assert_str_ne(err.message, "");
    ck_assert_ptr_null(m.doc);
    inst_manifest_release(&m); /* a no-op after a failure */
}
END_TEST

/* The seed's stripe-app.json shape, with the placeholder app id filled in. */
static const char seed_doc[] =
    "{ \"id\": \"com.example.app\", \"version\": \"1.2.3\", \"name\": \"Example Shipment "
    "Invoicing\", \"icon\": \"./example_icon_32.png\", \"permissions\": [], \"app_backend\": {}, "
    "\"ui_extension\": {}, \"allowed_redirect_uris\": [ \"https://example.com/callback/stripe\" ] "
    "}";

START_TEST(test_seed_shape)
{
    struct inst_manifest m;
    struct cm_err err;

    ck_assert_int_eq(inst_manifest_parse(seed_doc, strlen(seed_doc), APP, 1, &m, &err), 0);
    ck_assert_str_eq(m.id, APP);
    ck_assert_str_eq(m.version, "1.2.3");
    ck_assert_str_eq(m.name, "Example Shipment Invoicing");
    ck_assert_str_eq(m.icon, "./example_icon_32.png");
    ck_assert_uint_eq(m.npermissions, 0);
    ck_assert_uint_eq(m.nuris, 1);
    ck_assert_str_eq(m.uris[0], "https://example.com/callback/stripe");
    ck_assert_ptr_nonnull(m.doc);
    inst_manifest_release(&m);
    ck_assert_ptr_null(m.doc);
    inst_manifest_release(&m); /* idempotent */
}
END_TEST

/* Everything a manifest may carry, with permissions in their order. */
START_TEST(test_full_manifest)
{
    static const char doc[] =
        "{\"id\":\"com.example.app\",\"version\":\"10.0.1-beta.2\",\"name\":\"Ünïcödé app\","
        "\"icon\":\"./icon.png\",\"permissions\":["
        "{\"permission\":\"secret_write\",\"purpose\":\"Keeps the credentials\"},"
        "{\"permission\":\"event_read\",\"purpose\":\"Follows installs\"},"
        "{\"permission\":\"user_email_read\",\"purpose\":\"Greets the user\"}],"
        "\"app_backend\":{\"webhooks\":[]},\"ui_extension\":{\"views\":[]},"
        "\"allowed_redirect_uris\":[\"https://example.com/cb?x=1\","
        "\"http://localhost:3000/cb\",\"http://127.0.0.1:8090/callback\",\"http://[::1]/cb\"],"
        "\"distribution_type\":\"public\",\"sandbox_install_compatible\":true,"
        "\"stripe_api_access_type\":\"platform\",\"post_install_action\":null,"
        "\"constants\":{\"API_BASE\":\"https://api.example.com\"},\"connect_permissions\":[],"
        "\"description\":\"An app\"}";
    struct inst_manifest m;
    struct cm_err err;

    ck_assert_int_eq(inst_manifest_parse(doc, strlen(doc), APP, 0, &m, &err), 0);
    ck_assert_str_eq(m.version, "10.0.1-beta.2");
    ck_assert_uint_eq(m.npermissions, 3);
    ck_assert_str_eq(m.permissions[0].permission, "secret_write");
    ck_assert_str_eq(m.permissions[0].purpose, "Keeps the credentials");
    ck_assert_str_eq(m.permissions[2].permission, "user_email_read");
    ck_assert_uint_eq(m.nuris, 4);
    ck_assert_str_eq(m.uris[3], "http://[::1]/cb");
    inst_manifest_release(&m);
}
END_TEST

/* Absent optional fields; an 80-character (not byte) name. */
START_TEST(test_minimal_manifest)
{
    static const char doc[] =
        "{\"id\":\"com.example.app\",\"version\":\"0.0.0\",\"name\":"
        "\"ééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééé"
        "ééééééééééééé\"}";
    struct inst_manifest m;
    struct cm_err err;

    ck_assert_int_eq(inst_manifest_parse(doc, strlen(doc), APP, 1, &m, &err), 0);
    ck_assert_ptr_null(m.icon);
    ck_assert_uint_eq(m.npermissions, 0);
    ck_assert_uint_eq(m.nuris, 0);
    inst_manifest_release(&m);
}
END_TEST

static const struct {
    const char *uri;
    int ok_test, ok_live;
} uris[] = {
    {"https://example.com/callback/stripe", 1, 1},
    {"https://example.com", 1, 1},
    {"https://example.com:8443/cb?a=b&c=%20", 1, 1},
    {"HTTPS://Example.COM/cb", 1, 1},
    {"https://[2001:db8::1]/cb", 1, 1},
    {"http://localhost/cb", 1, 0},
    {"http://LOCALHOST:3000/cb", 1, 0},
    {"http://127.0.0.1:8090/callback", 1, 0},
    {"http://[::1]:8080/", 1, 0},
    {"http://localhost.example.com/cb", 0, 0},
    {"http://127.0.0.2/cb", 0, 0},
    {"http://example.com/cb", 0, 0},
    {"ftp://example.com/cb", 0, 0},
    {"javascript://example.com/%0aalert(1)", 0, 0},
    {"myapp://callback", 0, 0},
    {"https:/example.com/cb", 0, 0},
    {"https:example.com", 0, 0},
    {"//example.com/cb", 0, 0},
    {"https:///cb", 0, 0},
    {"https://", 0, 0},
    {"https://:443/cb", 0, 0},
    {"https://example.com:/cb", 0, 0},
    {"https://example.com:99999/cb", 0, 0},
    {"https://example.com:80a/cb", 0, 0},
    {"https://exa mple.com/cb", 0, 0},
    {"https://example.com/c b", 0, 0},
    {"https://example.com/cb\n", 0, 0},
    {"https://example.com/cb#", 0, 0},
    {"https://example.com/cb#x", 0, 0},
    {"https://user@example.com/cb", 0, 0},
    {"http://user@localhost/cb", 0, 0},
    {"https://ex_ample.com/cb", 0, 0},
    {"https://[::1/cb", 0, 0},
    {"https://example.com/<script>", 0, 0},
    {"1https://example.com/cb", 0, 0},
};

START_TEST(test_uri)
{
    struct cm_err err;
    int test_rc, live_rc;

    memset(&err, 0, sizeof(err));
    test_rc = inst_manifest_check_uri(uris[_i].uri, 0, "p[0]", &err);
    ck_assert_msg((test_rc == 0) == uris[_i].ok_test, "test mode: %s", uris[_i].uri);
    if (test_rc < 0) {
        ck_assert_str_eq(err.param, "p[0]");
        ck_assert_int_eq(err.status, 400);
    }
    live_rc = inst_manifest_check_uri(uris[_i].uri, 1, "p[0]", &err);
    ck_assert_msg((live_rc == 0) == uris[_i].ok_live, "live mode: %s", uris[_i].uri);
}
END_TEST

START_TEST(test_uri_too_long)
{
    char uri[INST_MANIFEST_URI_MAX + 2];
    struct cm_err err;

    memset(uri, 'a', sizeof(uri) - 1);
    uri[sizeof(uri) - 1] = '\0';
    memcpy(uri, "https://example.com/", 20);
    ck_assert_int_eq(inst_manifest_check_uri(uri, 0, "u", &err), -1);
    uri[INST_MANIFEST_URI_MAX] = '\0'; /* exactly the limit */
    ck_assert_int_eq(inst_manifest_check_uri(uri, 0, "u", &err), 0);
}
END_TEST

START_TEST(test_permission_names)
{
    ck_assert_int_eq(inst_manifest_permission_known("secret_write"), 1);
    ck_assert_int_eq(inst_manifest_permission_known("event_read"), 1);
    ck_assert_int_eq(inst_manifest_permission_known("identity_verification_session_write"), 1);
    ck_assert_int_eq(inst_manifest_permission_known("webhook_write"), 1);
    ck_assert_int_eq(inst_manifest_permission_known("Secret_write"), 0);
    ck_assert_int_eq(inst_manifest_permission_known("secret_write "), 0);
    ck_assert_int_eq(inst_manifest_permission_known(""), 0);
    ck_assert_int_eq(inst_manifest_permission_known(NULL), 0);
}
END_TEST

/* The id the manifest must carry is the one given, whatever it is. */
START_TEST(test_id_must_match_argument)
{
    struct inst_manifest m;
    struct cm_err err;
    const char *doc = DOC("");

    ck_assert_int_eq(inst_manifest_parse(doc, strlen(doc), "com.example.other", 0, &m, &err), -1);
    ck_assert_str_eq(err.param, "manifest[id]");
    ck_assert_int_eq(inst_manifest_parse(doc, strlen(doc), APP, 0, &m, &err), 0);
    inst_manifest_release(&m);
}
END_TEST

Suite *suite_manifest(void)
{
    Suite *s = suite_create("manifest");
    TCase *tc = tcase_create("manifest");

    tcase_add_loop_test(tc, test_rejected, 0, N(rejected));
    tcase_add_test(tc, test_seed_shape);
    tcase_add_test(tc, test_full_manifest);
    tcase_add_test(tc, test_minimal_manifest);
    tcase_add_loop_test(tc, test_uri, 0, N(uris));
    tcase_add_test(tc, test_uri_too_long);
    tcase_add_test(tc, test_permission_names);
    tcase_add_test(tc, test_id_must_match_argument);
    suite_add_tcase(s, tc);
    return s;
}
