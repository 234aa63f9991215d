/* List envelopes, pagination parameters and expand[] validation. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "cm/form.h"
#include "cm/json.h"
#include "cm/banned.h"

static json_t *form(const char *s)
{
    struct cm_err err;
    struct cm_form_limits lim = CM_FORM_LIMITS_DEFAULT;
    json_t *o = cm_form_decode(s, strlen(s), &lim, &err);

    ck_assert_msg(o != NULL, "decode %s: %s", s, err.message);
    return o;
}

START_TEST(test_list_envelope)
{
    json_t *l = cm_json_list("/v1/apps/secrets", json_array(), 1);
    char *s = cm_json_dump(l, NULL);

    ck_assert_str_eq(s, "{\"object\":\"list\",\"data\":[],\"has_more\":true,\"url\":\"/v1/apps/"
                        "secrets\"}");
    free(s);
    json_decref(l);
    ck_assert_ptr_null(cm_json_list("/x", NULL, 0));
}
END_TEST

START_TEST(test_page)
{
    static const struct {
        const char *q;
        int ok;
        long long limit;
        const char *param;
    } cases[] = {
        {"", 1, 10, NULL},
        {"limit=1", 1, 1, NULL},
        {"limit=100", 1, 100, NULL},
        {"limit=0", 0, 0, "limit"},
        {"limit=101", 0, 0, "limit"},
        {"limit=abc", 0, 0, "limit"},
        {"limit=", 0, 0, "limit"},
        {"starting_after=appsecret_1", 1, 10, NULL},
        {"starting_after=a&ending_before=b", 0, 0, "ending_before"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_t *p = form(cases[i].q);
        struct cm_page page;
        struct cm_err err;
        int rc = cm_page_parse(p, &page, &err);

        ck_assert_msg((rc == 0) == cases[i].ok, "case %zu", i);
        if (cases[i].ok)
            ck_assert_int_eq(page.limit, cases[i].limit);
        else
            ck_assert_str_eq(err.param, cases[i].param);
        json_decref(p);
    }
}
END_TEST

START_TEST(test_expand)
{
    static const char *const allowed[] = {"payload", "last_verification_report", NULL};
    static const struct {
        const char *q;
        int list, ok, n;
    } cases[] = {
        {"", 0, 1, 0},
        {"expand[]=payload", 0, 1, 1},
        {"expand[0]=payload&expand[1]=last_verification_report", 0, 1, 2},
        {"expand[]=data.payload", 1, 1, 1},
        {"expand[]=payload", 1, 0, 0},
        {"expand[]=nope", 0, 0, 0},
        {"expand=payload", 0, 0, 0},
        {"expand[]=a.b.c.d.e", 0, 0, 0},
        {"expand[x]=payload", 0, 0, 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_t *p = form(cases[i].q);
        struct cm_expand ex;
        struct cm_err err;
        int rc = cm_expand_parse(p, allowed, cases[i].list, &ex, &err);

        ck_assert_msg((rc == 0) == cases[i].ok, "case %zu", i);
        if (rc == 0) {
            ck_assert_uint_eq(ex.n, (size_t)cases[i].n);
            if (cases[i].n)
                ck_assert(cm_expand_has(&ex, "payload"));
        } else {
            ck_assert_int_eq(err.status, 400);
            ck_assert_str_eq(err.param, "expand");
        }
        json_decref(p);
    }
}
END_TEST

Suite *suite_json(void)
{
    Suite *s = suite_create("json");
    TCase *tc = tcase_create("helpers");

    tcase_add_test(tc, test_list_envelope);
    tcase_add_test(tc, test_page);
    tcase_add_test(tc, test_expand);
    suite_add_tcase(s, tc);
    return s;
}
