/* List envelopes, pagination parameters and expand[] validation. */
#include <check.h>
#include <stdlib.h>
#include <stdio.h>
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

/* A page query's result without a server: one text column "id" holding
 * ids (NULL for SQL NULL), as libpq builds it. */
static PGresult *rows_of(const char *const *ids, int n)
{
    PGresult *res = PQmakeEmptyPGresult(NULL, PGRES_TUPLES_OK);
    PGresAttDesc att = {.name = "id", .format = 0, .typid = 25, .typlen = -1, .atttypmod = -1};

    ck_assert_ptr_nonnull(res);
    ck_assert_int_eq(PQsetResultAttrs(res, 1, &att), 1);
    for (int i = 0; i < n; i++) {
        char *v = (char *)ids[i];

        ck_assert_int_eq(PQsetvalue(res, i, 0, v, v != NULL ? (int)strlen(v) : -1), 1);
    }
    return res;
}

static json_t *id_object(void *ctx, const PGresult *res, int row, struct cm_err *err)
{
    int *calls = ctx;

    (*calls)++;
    if (strcmp(PQgetvalue(res, row, 0), "bad") == 0)
        return NULL; /* nothing said: a 500 */
    if (strcmp(PQgetvalue(res, row, 0), "gone") == 0) {
        cm_err_not_found(err, "thing", "gone", NULL);
        return NULL;
    }
    return json_pack("{s:s}", "id", PQgetvalue(res, row, 0));
}

/* "a,b,c" from a list's data ids. */
static void ids_of(const json_t *list, char *out, size_t cap)
{
    const json_t *o;
    size_t i;

    out[0] = '\0';
    json_array_foreach(json_object_get(list, "data"), i, o)
    {
        size_t len = strlen(out);

        snprintf(out + len, cap - len, "%s%s", len ? "," : "",
                 json_string_value(json_object_get(o, "id")));
    }
}

START_TEST(test_page_of_rows)
{
    static const struct {
        const char *ids[4];
        int n;
        long long limit;
        int newest_first;
        const char *want;
        int has_more;
    } cases[] = {
        {{"c", "b", "a"}, 3, 2, 1, "c,b", 1}, /* one more than the limit: has_more */
        {{"c", "b"}, 2, 2, 1, "c,b", 0},      /* exactly the limit */
        {{"a", "b", "c"}, 3, 2, 0, "b,a", 1}, /* ending_before: oldest first, turned */
        {{"a", "b"}, 2, 10, 0, "b,a", 0},     /* ... short page */
        {{NULL}, 1, 10, 1, "", 0},            /* the marker row of an empty page */
        {{NULL}, 0, 10, 1, "", 0},            /* no rows at all */
        {{"x"}, 1, 1, 0, "x", 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        PGresult *res = rows_of(cases[i].ids, cases[i].n);
        int calls = 0;
        struct cm_err err;
        json_t *list = cm_json_page("/v1/things", res, cases[i].limit, cases[i].newest_first,
                                    id_object, &calls, &err);
        char got[64];

        ck_assert_ptr_nonnull(list);
        ids_of(list, got, sizeof(got));
        ck_assert_msg(strcmp(got, cases[i].want) == 0, "case %zu: %s", i, got);
        ck_assert(json_is_boolean(json_object_get(list, "has_more")));
        ck_assert_int_eq(json_is_true(json_object_get(list, "has_more")), cases[i].has_more);
        ck_assert_str_eq(json_string_value(json_object_get(list, "url")), "/v1/things");
        ck_assert_int_eq(calls, (int)json_array_size(json_object_get(list, "data")));
        json_decref(list);
        PQclear(res);
    }
}
END_TEST

START_TEST(test_page_row_that_does_not_render)
{
    static const char *const bad[] = {"a", "bad", "c"}, *const gone[] = {"a", "gone"};
    PGresult *res = rows_of(bad, 3), *res2 = rows_of(gone, 2);
    struct cm_err err;
    int calls = 0;

    ck_assert_ptr_null(cm_json_page("/v1/things", res, 10, 1, id_object, &calls, &err));
    ck_assert_int_eq(calls, 2);        /* stops at the first failure */
    ck_assert_int_eq(err.status, 500); /* the renderer said nothing */
    ck_assert_ptr_null(cm_json_page("/v1/things", res2, 10, 1, id_object, &calls, &err));
    ck_assert_int_eq(err.status, 404); /* the renderer's own error */
    PQclear(res);
    PQclear(res2);
}
END_TEST

Suite *suite_json(void)
{
    Suite *s = suite_create("json");
    TCase *tc = tcase_create("helpers");

    tcase_add_test(tc, test_list_envelope);
    tcase_add_test(tc, test_page);
    tcase_add_test(tc, test_expand);
    tcase_add_test(tc, test_page_of_rows);
    tcase_add_test(tc, test_page_row_that_does_not_render);
    suite_add_tcase(s, tc);
    return s;
}
