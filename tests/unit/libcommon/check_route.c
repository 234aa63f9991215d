/* Routing table matching: literal segments, {captures}, decoding, methods. */
#include <check.h>
#include <string.h>

#include "cm/http.h"
#include "cm/banned.h"

static int h(struct cm_req *req, struct cm_resp *resp, struct cm_err *err)
{
    (void)req, (void)resp, (void)err;
    return 0;
}

static const struct cm_route table[] = {
    {"GET", "/v1/apps/secrets", h, 0, NULL, NULL},
    {"GET", "/v1/apps/secrets/find", h, 0, NULL, NULL},
    {"POST", "/v1/apps/secrets", h, 0, NULL, NULL},
    {"GET", "/v1/identity/verification_sessions/{session}", h, 0, NULL, NULL},
    {"POST", "/v1/identity/verification_sessions/{session}/cancel", h, 0, NULL, NULL},
    {"GET", "/v1/a/{x}/b/{y}", h, 0, NULL, NULL},
};

START_TEST(test_match_table)
{
    static const struct {
        const char *method, *path;
        int route; /* index into table, -1 for none */
        const char *cap0, *cap1;
    } cases[] = {
        {"GET", "/v1/apps/secrets", 0, NULL, NULL},
        {"GET", "/v1/apps/secrets/find", 1, NULL, NULL},
        {"POST", "/v1/apps/secrets", 2, NULL, NULL},
        {"DELETE", "/v1/apps/secrets", -1, NULL, NULL},
        {"GET", "/v1/apps/secrets/", -1, NULL, NULL},
        {"GET", "/v1/apps/secretsx", -1, NULL, NULL},
        {"GET", "/v1/apps", -1, NULL, NULL},
        {"GET", "/v1/identity/verification_sessions/vs_123", 3, "vs_123", NULL},
        {"GET", "/v1/identity/verification_sessions/vs%5F1%20a", 3, "vs_1 a", NULL},
        {"GET", "/v1/identity/verification_sessions/", -1, NULL, NULL},
        {"GET", "/v1/identity/verification_sessions/%FF", -1, NULL, NULL},         /* not UTF-8 */
        {"GET", "/v1/identity/verification_sessions/%C0%AF", -1, NULL, NULL},      /* overlong */
        {"GET", "/v1/identity/verification_sessions/%C3%A9", 3, "\xc3\xa9", NULL}, /* é */
        {"GET", "/v1/identity/verification_sessions/a/b", -1, NULL, NULL},
        {"GET", "/v1/identity/verification_sessions/a%2Fb", -1, NULL, NULL},
        {"GET", "/v1/identity/verification_sessions/a%00b", -1, NULL, NULL},
        {"GET", "/v1/identity/verification_sessions/a%zz", -1, NULL, NULL},
        {"GET", "/v1/identity/verification_sessions/a%4", -1, NULL, NULL},
        {"POST", "/v1/identity/verification_sessions/vs_9/cancel", 4, "vs_9", NULL},
        {"POST", "/v1/identity/verification_sessions/vs_9/cancelx", -1, NULL, NULL},
        {"GET", "/v1/a/1/b/2", 5, "1", "2"},
        {"GET", "/v1/a/1/b/", -1, NULL, NULL},
        {"GET", "", -1, NULL, NULL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct cm_req req;
        const struct cm_route *r;

        memset(&req, 0, sizeof(req));
        r = cm_route_match(table, sizeof(table) / sizeof(table[0]), cases[i].method, cases[i].path,
                           &req);
        if (cases[i].route < 0) {
            ck_assert_msg(r == NULL, "case %zu matched", i);
            ck_assert_int_eq(req.ncaptures, 0);
            continue;
        }
        ck_assert_msg(r == &table[cases[i].route], "case %zu", i);
        if (cases[i].cap0)
            ck_assert_str_eq(req.captures[0], cases[i].cap0);
        if (cases[i].cap1)
            ck_assert_str_eq(req.captures[1], cases[i].cap1);
        ck_assert_int_eq(req.ncaptures, (cases[i].cap0 != NULL) + (cases[i].cap1 != NULL));
    }
}
END_TEST

START_TEST(test_capture_too_long)
{
    char path[600];
    struct cm_req req;

    memset(&req, 0, sizeof(req));
    memcpy(path, "/v1/identity/verification_sessions/", 35);
    memset(path + 35, 'a', 400);
    path[435] = '\0';
    ck_assert_ptr_null(cm_route_match(table, 6, "GET", path, &req));
}
END_TEST

Suite *suite_route(void)
{
    Suite *s = suite_create("route");
    TCase *tc = tcase_create("match");

    tcase_add_test(tc, test_match_table);
    tcase_add_test(tc, test_capture_too_long);
    suite_add_tcase(s, tc);
    return s;
}
