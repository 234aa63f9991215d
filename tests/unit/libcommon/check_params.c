/* Tests for the typed parameter getters: each getter on success, and every
 * failure shape (status, code, param and message), over params decoded from
 * real form strings. */
#include <check.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "cm/form.h"
#include "cm/params.h"
#include "cm/banned.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

#define EMPTY_MSG(p)                                                                               \
    "You passed an empty string for '" p "'. We assume empty values are an attempt to unset a "    \
    "parameter; however '" p "' cannot be unset. You should remove '" p "' from your request or "  \
    "supply a non-empty value."

enum { REQ = CM_P_REQUIRED, EMP = CM_P_ALLOW_EMPTY };

/* The expected outcome of one call: ret, and for -1 the error. */
struct want {
    int ret;
    const char *code;    /* for ret -1 */
    const char *param;   /* for ret -1 */
    const char *message; /* for ret -1; NULL: not checked */
};

static json_t *decode(const char *form)
{
    struct cm_err err = {0};
    json_t *p = cm_form_decode(form, strlen(form), NULL, &err);

    ck_assert_msg(p != NULL, "%s: %s", form, err.message);
    return p;
}

static void check_result(const char *what, int ret, const struct cm_err *err, const struct want *w)
{
    json_t *s;

    ck_assert_msg(ret == w->ret, "%s: ret %d, want %d (%s)", what, ret, w->ret, err->message);
    if (ret != -1)
        return;
    ck_assert_int_eq(err->status, 400);
    ck_assert_int_eq(err->type, CM_ERR_INVALID_REQUEST);
    ck_assert_str_eq(err->code, w->code);
    ck_assert_str_eq(err->param, w->param);
    if (w->message != NULL)
        ck_assert_str_eq(err->message, w->message);
    s = json_string(err->message); /* the message must be valid UTF-8 */
    ck_assert_ptr_nonnull(s);
    json_decref(s);
    s = json_string(err->param);
    ck_assert_ptr_nonnull(s);
    json_decref(s);
}

/* ---- cm_param_str ---- */

struct str_case {
    const char *form, *path;
    unsigned flags;
    size_t maxlen;
    struct want w;
    const char *out;
};

static const struct str_case str_cases[] = {
    {"name=foo", "name", 0, 0, {.ret = 1}, "foo"},
    {"name=foo", "name", REQ, 3, {.ret = 1}, "foo"},
    {"", "name", 0, 0, {0}, NULL},
    {"other=1",
     "name",
     REQ,
     0,
     {-1, "parameter_missing", "name", "Missing required param: name."},
     NULL},
    {"name=", "name", 0, 0, {-1, "parameter_invalid_empty", "name", EMPTY_MSG("name")}, NULL},
    {"name=", "name", REQ, 0, {-1, "parameter_invalid_empty", "name", NULL}, NULL},
    {"description=", "description", EMP, 0, {.ret = 1}, ""},
    {"scope[type]=user", "scope[type]", REQ, 0, {.ret = 1}, "user"},
    {"scope[user]=usr_1",
     "scope[type]",
     REQ,
     0,
     {-1, "parameter_missing", "scope[type]", "Missing required param: scope[type]."},
     NULL},
    {"scope=account", "scope[type]", 0, 0, {0}, NULL},
    {"expand[0]=a&expand[1]=b", "expand[1]", 0, 0, {.ret = 1}, "b"},
    {"name[a]=1", "name", 0, 0, {-1, "", "name", "Invalid string: {...}"}, NULL},
    {"name[]=1", "name", 0, 0, {-1, "", "name", "Invalid string: [...]"}, NULL},
    {"name=abcdef",
     "name",
     0,
     5,
     {-1, "", "name", "Invalid name: must be at most 5 characters"},
     NULL},
    {"name=%C3%A9%C3%A9%C3%A9%C3%A9%C3%A9",
     "name",
     0,
     5,
     {.ret = 1},
     "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"},
    {"name=%C3%A9%C3%A9%C3%A9%C3%A9%C3%A9x", "name", 0, 5, {-1, "", "name", NULL}, NULL},
};

START_TEST(test_str)
{
    const struct str_case *c = &str_cases[_i];
    struct cm_err err = {0};
    json_t *p = decode(c->form);
    const char *out = NULL;
    int ret = cm_param_str(p, c->path, c->flags, c->maxlen, &out, &err);

    check_result(c->form, ret, &err, &c->w);
    if (ret == 1)
        ck_assert_str_eq(out, c->out);
    else
        ck_assert_ptr_null(out);
    json_decref(p);
}
END_TEST

/* ---- cm_param_int and cm_param_timestamp ---- */

struct int_case {
    const char *form, *path;
    unsigned flags;
    long long min, max;
    struct want w;
    long long out;
};

#define INV_INT(v)                                                                                 \
    {                                                                                              \
        -1, "parameter_invalid_integer", "limit", "Invalid integer: " v                            \
    }

static const struct int_case int_cases[] = {
    {"limit=10", "limit", 0, 1, 100, {.ret = 1}, 10},
    {"limit=1", "limit", 0, 1, 100, {.ret = 1}, 1},
    {"limit=100", "limit", 0, 1, 100, {.ret = 1}, 100},
    {"limit=007", "limit", 0, 1, 100, {.ret = 1}, 7},
    {"limit=-5", "limit", 0, -10, 10, {.ret = 1}, -5},
    {"limit=-0", "limit", 0, 0, 10, {.ret = 1}, 0},
    {"", "limit", 0, 1, 100, {0}, 0},
    {"", "limit", REQ, 1, 100, {-1, "parameter_missing", "limit", NULL}, 0},
    {"limit=0",
     "limit",
     0,
     1,
     100,
     {-1, "", "limit", "This value must be greater than or equal to 1."},
     0},
    {"limit=101",
     "limit",
     0,
     1,
     100,
     {-1, "", "limit", "This value must be less than or equal to 100."},
     0},
    {"limit=-11",
     "limit",
     0,
     -10,
     10,
     {-1, "", "limit", "This value must be greater than or equal to -10."},
     0},
    {"limit=abc", "limit", 0, 1, 100, INV_INT("abc"), 0},
    {"limit=1.5", "limit", 0, 1, 100, INV_INT("1.5"), 0},
    {"limit=%2B5", "limit", 0, 1, 100, INV_INT("+5"), 0},
    {"limit=+5", "limit", 0, 1, 100, INV_INT(" 5"), 0},
    {"limit=5+", "limit", 0, 1, 100, INV_INT("5 "), 0},
    {"limit=-", "limit", 0, -9, 100, INV_INT("-"), 0},
    {"limit=--1", "limit", 0, -9, 100, INV_INT("--1"), 0},
    {"limit=0x10", "limit", 0, 1, 100, INV_INT("0x10"), 0},
    {"limit=1e3", "limit", 0, 1, 10000, INV_INT("1e3"), 0},
    {"limit[a]=1", "limit", 0, 1, 100, INV_INT("{...}"), 0},
    {"limit[]=1", "limit", 0, 1, 100, INV_INT("[...]"), 0},
    {"limit=9223372036854775807", "limit", 0, LLONG_MIN, LLONG_MAX, {.ret = 1}, LLONG_MAX},
    {"limit=-9223372036854775808", "limit", 0, LLONG_MIN, LLONG_MAX, {.ret = 1}, LLONG_MIN},
    {"limit=9223372036854775808", "limit", 0, LLONG_MIN, LLONG_MAX, INV_INT("9223372036854775808"),
     0},
    {"limit=-9223372036854775809", "limit", 0, LLONG_MIN, LLONG_MAX,
     INV_INT("-9223372036854775809"), 0},
    {"limit=99999999999999999999999", "limit", 0, LLONG_MIN, LLONG_MAX,
     INV_INT("99999999999999999999999"), 0},
    {"limit=", "limit", 0, 1, 100, {-1, "parameter_invalid_empty", "limit", EMPTY_MSG("limit")}, 0},
    {"limit=", "limit", EMP, 1, 100, {0}, 0},
    {"limit=", "limit", EMP | REQ, 1, 100, {0}, 0},
    {"limit=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "limit", 0, 1, 100,
     INV_INT("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa..."), 0},
    /* 39 bytes then a 2-byte character: the echo stops before it */
    {"limit=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa%C3%A9", "limit", 0, 1, 100,
     INV_INT("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa..."), 0},
};

START_TEST(test_int)
{
    const struct int_case *c = &int_cases[_i];
    struct cm_err err = {0};
    json_t *p = decode(c->form);
    long long out = 12345;
    int ret = cm_param_int(p, c->path, c->flags, c->min, c->max, &out, &err);

    check_result(c->form, ret, &err, &c->w);
    ck_assert(out == (ret == 1 ? c->out : 12345));
    json_decref(p);
}
END_TEST

START_TEST(test_int_from_json)
{
    struct cm_err err = {0};
    json_t *p = json_pack("{s:I, s:b, s:f}", "n", (json_int_t)42, "t", 1, "r", 2.5);
    long long out = 0;

    ck_assert_int_eq(cm_param_int(p, "n", 0, 0, 100, &out, &err), 1);
    ck_assert_int_eq(out, 42);
    ck_assert_int_eq(cm_param_int(p, "n", 0, 0, 10, &out, &err), -1);
    ck_assert_str_eq(err.message, "This value must be less than or equal to 10.");
    ck_assert_int_eq(cm_param_int(p, "t", 0, 0, 10, &out, &err), -1);
    ck_assert_str_eq(err.message, "Invalid integer: true");
    ck_assert_int_eq(cm_param_int(p, "r", 0, 0, 10, &out, &err), -1);
    ck_assert_str_eq(err.message, "Invalid integer: 2.5");
    json_decref(p);
}
END_TEST

struct ts_case {
    const char *form;
    struct want w;
    long long out;
};

static const struct ts_case ts_cases[] = {
    {"expires_at=1700000000", {.ret = 1}, 1700000000LL},
    {"expires_at=0", {.ret = 1}, 0},
    {"expires_at=253402300799", {.ret = 1}, CM_TIMESTAMP_MAX},
    {"expires_at=-1", {-1, "", "expires_at", "This value must be greater than or equal to 0."}, 0},
    {"expires_at=253402300800",
     {-1, "", "expires_at", "This value must be less than or equal to 253402300799."},
     0},
    {"expires_at=soon",
     {-1, "parameter_invalid_integer", "expires_at", "Invalid integer: soon"},
     0},
    {"expires_at=", {-1, "parameter_invalid_empty", "expires_at", NULL}, 0},
    {"", {0}, 0},
};

START_TEST(test_timestamp)
{
    const struct ts_case *c = &ts_cases[_i];
    struct cm_err err = {0};
    json_t *p = decode(c->form);
    long long out = -7;
    int ret = cm_param_timestamp(p, "expires_at", 0, &out, &err);

    check_result(c->form, ret, &err, &c->w);
    ck_assert(out == (ret == 1 ? c->out : -7));
    json_decref(p);
}
END_TEST

/* ---- cm_param_bool ---- */

struct bool_case {
    const char *form;
    unsigned flags;
    struct want w;
    int out;
};

static const struct bool_case bool_cases[] = {
    {"flag=true", 0, {.ret = 1}, 1},
    {"flag=false", REQ, {.ret = 1}, 0},
    {"", 0, {0}, 0},
    {"", REQ, {-1, "parameter_missing", "flag", "Missing required param: flag."}, 0},
    {"flag=True", 0, {.ret = 1}, 1},
    {"flag=FALSE", 0, {.ret = 1}, 0},
    {"flag=truee", 0, {-1, "", "flag", "Invalid boolean: truee"}, 0},
    {"flag=1", 0, {-1, "", "flag", "Invalid boolean: 1"}, 0},
    {"flag=yes", 0, {-1, "", "flag", "Invalid boolean: yes"}, 0},
    {"flag=true+", 0, {-1, "", "flag", "Invalid boolean: true "}, 0},
    {"flag[a]=true", 0, {-1, "", "flag", "Invalid boolean: {...}"}, 0},
    {"flag=", 0, {-1, "parameter_invalid_empty", "flag", EMPTY_MSG("flag")}, 0},
    {"flag=", EMP, {0}, 0},
};

START_TEST(test_bool)
{
    const struct bool_case *c = &bool_cases[_i];
    struct cm_err err = {0};
    json_t *p = decode(c->form);
    int out = -1;
    int ret = cm_param_bool(p, "flag", c->flags, &out, &err);

    check_result(c->form, ret, &err, &c->w);
    ck_assert_int_eq(out, ret == 1 ? c->out : -1);
    json_decref(p);
}
END_TEST

START_TEST(test_bool_from_json)
{
    struct cm_err err = {0};
    json_t *p = json_pack("{s:b, s:b}", "t", 1, "f", 0);
    int out = -1;

    ck_assert_int_eq(cm_param_bool(p, "t", 0, &out, &err), 1);
    ck_assert_int_eq(out, 1);
    ck_assert_int_eq(cm_param_bool(p, "f", 0, &out, &err), 1);
    ck_assert_int_eq(out, 0);
    json_decref(p);
}
END_TEST

/* ---- cm_param_enum ---- */

static const char *const types2[] = {"document", "id_number", NULL};
static const char *const types3[] = {"a", "b", "c", NULL};
static const char *const types1[] = {"only", NULL};

struct enum_case {
    const char *form;
    const char *const *values;
    unsigned flags;
    struct want w;
    int index;
};

static const struct enum_case enum_cases[] = {
    {"type=document", types2, 0, {.ret = 1}, 0},
    {"type=id_number", types2, REQ, {.ret = 1}, 1},
    {"type=c", types3, 0, {.ret = 1}, 2},
    {"", types2, 0, {0}, 0},
    {"", types2, REQ, {-1, "parameter_missing", "type", NULL}, 0},
    {"type=passport",
     types2,
     0,
     {-1, "", "type", "Invalid type: must be one of document or id_number"},
     0},
    {"type=d", types3, 0, {-1, "", "type", "Invalid type: must be one of a, b or c"}, 0},
    {"type=x", types1, 0, {-1, "", "type", "Invalid type: must be one of only"}, 0},
    {"type=Document", types2, 0, {-1, "", "type", NULL}, 0},
    {"type[0]=document", types2, 0, {-1, "", "type", "Invalid string: [...]"}, 0},
    {"type=", types2, 0, {-1, "parameter_invalid_empty", "type", EMPTY_MSG("type")}, 0},
    {"type=", types2, EMP, {0}, 0},
};

START_TEST(test_enum)
{
    const struct enum_case *c = &enum_cases[_i];
    struct cm_err err = {0};
    json_t *p = decode(c->form);
    int index = -1;
    int ret = cm_param_enum(p, "type", c->flags, c->values, &index, &err);

    check_result(c->form, ret, &err, &c->w);
    ck_assert_int_eq(index, ret == 1 ? c->index : -1);
    json_decref(p);
}
END_TEST

/* ---- cm_param_object ---- */

struct obj_case {
    const char *form, *path;
    unsigned flags;
    struct want w;
    const char *out; /* JSON, or NULL for *out == NULL */
};

static const struct obj_case obj_cases[] = {
    {"options[document][require_matching_selfie]=true",
     "options[document]",
     0,
     {.ret = 1},
     "{\"require_matching_selfie\":\"true\"}"},
    {"options[document][require_matching_selfie]=true",
     "options",
     REQ,
     {.ret = 1},
     "{\"document\":{\"require_matching_selfie\":\"true\"}}"},
    {"options[document]=", "options[document]", EMP, {.ret = 1}, NULL},
    {"options[document]=",
     "options[document]",
     0,
     {-1, "parameter_invalid_empty", "options[document]", NULL},
     NULL},
    {"options[document]=x",
     "options[document]",
     0,
     {-1, "", "options[document]", "Invalid object"},
     NULL},
    {"options[document][]=x",
     "options[document]",
     0,
     {-1, "", "options[document]", "Invalid object"},
     NULL},
    {"", "options", 0, {0}, NULL},
    {"", "options", REQ, {-1, "parameter_missing", "options", NULL}, NULL},
};

START_TEST(test_object)
{
    const struct obj_case *c = &obj_cases[_i];
    struct cm_err err = {0};
    json_t *p = decode(c->form), *want = c->out ? json_loads(c->out, 0, NULL) : NULL;
    json_t *out = json_true();
    int ret = cm_param_object(p, c->path, c->flags, &out, &err);

    check_result(c->form, ret, &err, &c->w);
    if (ret == 1 && want != NULL)
        ck_assert(json_equal(out, want));
    else if (ret == 1)
        ck_assert_ptr_null(out);
    else
        ck_assert_ptr_eq(out, json_true());
    json_decref(want);
    json_decref(p);
}
END_TEST

/* ---- cm_param_str_array ---- */

struct arr_case {
    const char *form;
    unsigned flags;
    size_t max_items, maxlen;
    struct want w;
    const char *out; /* JSON, or NULL for *out == NULL */
};

static const struct arr_case arr_cases[] = {
    {"expand[0]=payload&expand[1]=x", 0, 0, 0, {.ret = 1}, "[\"payload\",\"x\"]"},
    {"expand[]=payload", REQ, 1, 7, {.ret = 1}, "[\"payload\"]"},
    {"expand[1]=b&expand[0]=a", 0, 2, 1, {.ret = 1}, "[\"a\",\"b\"]"},
    {"", 0, 0, 0, {0}, NULL},
    {"", REQ, 0, 0, {-1, "parameter_missing", "expand", NULL}, NULL},
    {"expand=payload", 0, 0, 0, {-1, "", "expand", "Invalid array"}, NULL},
    {"expand[a]=payload", 0, 0, 0, {-1, "", "expand", "Invalid array"}, NULL},
    {"expand=", 0, 0, 0, {-1, "parameter_invalid_empty", "expand", NULL}, NULL},
    {"expand=", EMP, 0, 0, {.ret = 1}, NULL},
    {"expand[]=a&expand[]=b&expand[]=c",
     0,
     2,
     0,
     {-1, "", "expand", "Invalid expand: must contain at most 2 items"},
     NULL},
    {"expand[]=a&expand[]=abc",
     0,
     0,
     2,
     {-1, "", "expand[1]", "Invalid expand[1]: must be at most 2 characters"},
     NULL},
    {"expand[]=a&expand[]=",
     0,
     0,
     0,
     {-1, "parameter_invalid_empty", "expand[1]", EMPTY_MSG("expand[1]")},
     NULL},
    {"expand[0][a]=1", 0, 0, 0, {-1, "", "expand[0]", "Invalid string: {...}"}, NULL},
};

START_TEST(test_str_array)
{
    const struct arr_case *c = &arr_cases[_i];
    struct cm_err err = {0};
    json_t *p = decode(c->form), *want = c->out ? json_loads(c->out, 0, NULL) : NULL;
    json_t *out = json_true();
    int ret = cm_param_str_array(p, "expand", c->flags, c->max_items, c->maxlen, &out, &err);

    check_result(c->form, ret, &err, &c->w);
    if (ret == 1 && want != NULL)
        ck_assert(json_equal(out, want));
    else if (ret == 1)
        ck_assert_ptr_null(out);
    else
        ck_assert_ptr_eq(out, json_true());
    json_decref(want);
    json_decref(p);
}
END_TEST

/* ---- cm_param_metadata ---- */

struct md_case {
    const char *form;
    struct want w;
    const char *out; /* JSON, or NULL for *out == NULL */
};

#define K40 "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk"
#define E10 "%C3%A9%C3%A9%C3%A9%C3%A9%C3%A9%C3%A9%C3%A9%C3%A9%C3%A9%C3%A9"

static const struct md_case md_cases[] = {
    {"metadata[order_id]=6735", {.ret = 1}, "{\"order_id\":\"6735\"}"},
    {"metadata[a]=1&metadata[b]=", {.ret = 1}, "{\"a\":\"1\",\"b\":\"\"}"},
    {"metadata=", {.ret = 1}, NULL},
    {"", {0}, NULL},
    {"metadata[" K40 "]=v", {.ret = 1}, "{\"" K40 "\":\"v\"}"},
    {"metadata[" E10 E10 E10 E10 "]=v", {.ret = 1}, NULL /* checked by size below */},
    {"metadata=x", {-1, "", "metadata", "Invalid object"}, NULL},
    {"metadata[0]=x", {-1, "", "metadata", "Invalid object"}, NULL},
    {"metadata[" K40 "k]=v",
     {-1, "", "metadata[" K40 "k]", "Invalid metadata: keys must be at most 40 characters"},
     NULL},
    {"metadata[" E10 E10 E10 E10 "x]=v", {-1, "", NULL, NULL}, NULL},
    {"metadata[a][b]=1", {-1, "", "metadata[a]", "Invalid string: {...}"}, NULL},
    {"metadata[a][]=1", {-1, "", "metadata[a]", "Invalid string: [...]"}, NULL},
};

START_TEST(test_metadata)
{
    const struct md_case *c = &md_cases[_i];
    struct cm_err err = {0};
    json_t *p = decode(c->form), *want = c->out ? json_loads(c->out, 0, NULL) : NULL;
    json_t *out = json_true();
    int ret = cm_param_metadata(p, "metadata", &out, &err);

    if (c->w.ret == -1 && c->w.param == NULL) {
        /* A long multibyte key: param is "metadata[<key>]", valid UTF-8. */
        ck_assert_int_eq(ret, -1);
        ck_assert_ptr_nonnull(strstr(err.message, "at most 40 characters"));
        ck_assert_int_eq(strncmp(err.param, "metadata[\xc3\xa9", 11), 0);
    } else {
        check_result(c->form, ret, &err, &c->w);
    }
    if (ret == 1 && want != NULL)
        ck_assert(json_equal(out, want));
    else if (ret == 1 && c->w.ret == 1 && strcmp(c->form, "metadata=") == 0)
        ck_assert_ptr_null(out);
    else if (ret == 1)
        ck_assert_uint_eq(json_object_size(out), 1);
    else
        ck_assert_ptr_eq(out, json_true());
    json_decref(want);
    json_decref(p);
}
END_TEST

START_TEST(test_metadata_limits)
{
    struct cm_err err = {0};
    json_t *p = json_object(), *md = json_object(), *out = NULL;
    char key[16], *val = malloc(502);
    int i;

    ck_assert_ptr_nonnull(val);
    json_object_set_new(p, "metadata", md);
    for (i = 0; i < CM_METADATA_MAX_KEYS; i++) {
        snprintf(key, sizeof(key), "k%d", i);
        json_object_set_new(md, key, json_string("v"));
    }
    ck_assert_int_eq(cm_param_metadata(p, "metadata", &out, &err), 1);
    ck_assert_ptr_eq(out, md);
    json_object_set_new(md, "one_more", json_string("v"));
    ck_assert_int_eq(cm_param_metadata(p, "metadata", &out, &err), -1);
    ck_assert_str_eq(err.param, "metadata");
    ck_assert_str_eq(err.message, "Invalid metadata: must have at most 50 keys");
    json_object_clear(md);

    memset(val, 'v', 500);
    val[500] = '\0';
    json_object_set_new(md, "k", json_string(val));
    ck_assert_int_eq(cm_param_metadata(p, "metadata", &out, &err), 1);
    val[500] = 'v';
    val[501] = '\0';
    json_object_set_new(md, "k", json_string(val));
    ck_assert_int_eq(cm_param_metadata(p, "metadata", &out, &err), -1);
    ck_assert_str_eq(err.param, "metadata[k]");
    ck_assert_str_eq(err.message, "Invalid metadata[k]: must be at most 500 characters");
    json_object_clear(md);

    json_object_set_new(md, "a[b", json_string("v"));
    ck_assert_int_eq(cm_param_metadata(p, "metadata", &out, &err), -1);
    ck_assert_str_eq(err.param, "metadata[a[b]");
    json_object_clear(md);
    json_object_set_new(md, "", json_string("v"));
    ck_assert_int_eq(cm_param_metadata(p, "metadata", &out, &err), -1);
    ck_assert_str_eq(err.param, "metadata[]");
    json_object_clear(md);
    json_object_set_new(md, "n", json_integer(5));
    ck_assert_int_eq(cm_param_metadata(p, "metadata", &out, &err), -1);
    ck_assert_str_eq(err.message, "Invalid string: 5");
    free(val);
    json_decref(p);
}
END_TEST

/* ---- cm_param_range ---- */

struct range_case {
    const char *form;
    struct want w;
    struct cm_range out;
};

static const struct range_case range_cases[] = {
    {"created=5", {.ret = 1}, {.has_eq = 1, .eq = 5}},
    {"created[gt]=1&created[lte]=9", {.ret = 1}, {.has_gt = 1, .gt = 1, .has_lte = 1, .lte = 9}},
    {"created[gte]=-3&created[lt]=4", {.ret = 1}, {.has_gte = 1, .gte = -3, .has_lt = 1, .lt = 4}},
    {"", {0}, {0}},
    {"created[foo]=1",
     {-1, "parameter_unknown", "created[foo]", "Received unknown parameter: created[foo]"},
     {0}},
    {"created[gt]=x", {-1, "parameter_invalid_integer", "created[gt]", "Invalid integer: x"}, {0}},
    {"created=abc", {-1, "parameter_invalid_integer", "created", "Invalid integer: abc"}, {0}},
    {"created=", {-1, "parameter_invalid_empty", "created", EMPTY_MSG("created")}, {0}},
    {"created[gt]=", {-1, "parameter_invalid_empty", "created[gt]", EMPTY_MSG("created[gt]")}, {0}},
    {"created[]=1", {-1, "parameter_invalid_integer", "created", "Invalid integer: [...]"}, {0}},
    {"created[gt][x]=1",
     {-1, "parameter_invalid_integer", "created[gt]", "Invalid integer: {...}"},
     {0}},
};

START_TEST(test_range)
{
    const struct range_case *c = &range_cases[_i];
    struct cm_err err = {0};
    json_t *p = decode(c->form);
    struct cm_range out;
    int ret;

    memset(&out, 0x5a, sizeof(out));
    ret = cm_param_range(p, "created", &out, &err);
    check_result(c->form, ret, &err, &c->w);
    if (ret >= 0) {
        ck_assert_int_eq(out.has_gt, c->out.has_gt);
        ck_assert_int_eq(out.has_gte, c->out.has_gte);
        ck_assert_int_eq(out.has_lt, c->out.has_lt);
        ck_assert_int_eq(out.has_lte, c->out.has_lte);
        ck_assert_int_eq(out.has_eq, c->out.has_eq);
        ck_assert(out.gt == c->out.gt && out.gte == c->out.gte && out.lt == c->out.lt &&
                  out.lte == c->out.lte && out.eq == c->out.eq);
    }
    json_decref(p);
}
END_TEST

/* ---- allowed keys ---- */

static const char *const top_allowed[] = {"name", "scope", "payload", NULL};
static const char *const scope_allowed[] = {"type", "user", NULL};
static const char *const doc_allowed[] = {"allowed_types", NULL};
static const char *const none_allowed[] = {NULL};

struct allowed_case {
    const char *form;
    const char *path; /* NULL: top level */
    const char *const *allowed;
    struct want w;
};

static const struct allowed_case allowed_cases[] = {
    {"name=x&scope[type]=user&expand[]=payload", NULL, top_allowed, {0}},
    {"", NULL, top_allowed, {0}},
    {"expand[]=a", NULL, none_allowed, {0}},
    {"name=x&bogus=1",
     NULL,
     top_allowed,
     {-1, "parameter_unknown", "bogus", "Received unknown parameter: bogus"}},
    {"zzz=1&aaa=2", NULL, top_allowed, {-1, "parameter_unknown", "zzz", NULL}},
    {"Name=x", NULL, top_allowed, {-1, "parameter_unknown", "Name", NULL}},
    {"scope[type]=user&scope[user]=usr_1", "scope", scope_allowed, {0}},
    {"scope[type]=user&scope[user2]=x",
     "scope",
     scope_allowed,
     {-1, "parameter_unknown", "scope[user2]", "Received unknown parameter: scope[user2]"}},
    {"scope[expand]=x", "scope", scope_allowed, {-1, "parameter_unknown", "scope[expand]", NULL}},
    {"name=x", "scope", scope_allowed, {0}},
    {"scope=account", "scope", scope_allowed, {0}},
    {"options[document][allowed_types][]=passport&options[document][foo]=1",
     "options[document]",
     doc_allowed,
     {-1, "parameter_unknown", "options[document][foo]",
      "Received unknown parameter: options[document][foo]"}},
};

START_TEST(test_allowed)
{
    const struct allowed_case *c = &allowed_cases[_i];
    struct cm_err err = {0};
    json_t *p = decode(c->form);
    int ret = c->path ? cm_params_check_allowed_at(p, c->path, c->allowed, &err)
                      : cm_params_check_allowed(p, c->allowed, &err);

    check_result(c->form, ret, &err, &c->w);
    json_decref(p);
}
END_TEST

START_TEST(test_unknown_long_utf8_key)
{
    /* A 300-byte key of 2-byte characters: param is cut on a boundary. */
    struct cm_err err = {0};
    char form[1024] = "";
    size_t used = 0;
    json_t *p, *s;
    int i;

    for (i = 0; i < 150; i++)
        used += (size_t)snprintf(form + used, sizeof(form) - used, "%%C3%%A9");
    snprintf(form + used, sizeof(form) - used, "=1");
    p = decode(form);
    ck_assert_int_eq(cm_params_check_allowed(p, top_allowed, &err), -1);
    ck_assert_str_eq(err.code, "parameter_unknown");
    ck_assert_uint_eq(strlen(err.param), 126);
    s = json_string(err.param);
    ck_assert_ptr_nonnull(s);
    json_decref(s);
    json_decref(p);
}
END_TEST

START_TEST(test_unknown_under_long_path)
{
    /* The path alone nearly fills err->param: "<path>[<key>]" is cut to fit
     * and still ends with the bracket. */
    static const char *const none[] = {NULL};
    struct cm_err err = {0};
    char path[131], form[160];
    json_t *p;

    memset(path, 'p', sizeof(path) - 1);
    path[sizeof(path) - 1] = '\0';
    snprintf(form, sizeof(form), "%s[key]=1", path);
    p = decode(form);
    ck_assert_int_eq(cm_params_check_allowed_at(p, path, none, &err), -1);
    ck_assert_uint_eq(strlen(err.param), sizeof(err.param) - 1);
    ck_assert_int_eq(strncmp(err.param, path, 125), 0);
    ck_assert_str_eq(err.param + 125, "[]");
    json_decref(p);
}
END_TEST

/* ---- cm_param_get ---- */

struct get_case {
    const char *path;
    const char *want; /* string value, or NULL for absent */
};

static const struct get_case get_cases[] = {
    {"a[b][0][c]", "1"},
    {"a[b][1][c]", "2"},
    {"top", "t"},
    {"a[b][2][c]", NULL},
    {"a[b][x]", NULL},
    {"a[b][]", NULL},
    {"a[b][18446744073709551616][c]", NULL}, /* 2^64: must not wrap to 0 */
    {"a[c]", NULL},
    {"top[x]", NULL},
    {"missing", NULL},
    {"", NULL},
    {"a[", NULL},
    {"a[b", NULL},
    {"a]b", NULL},
    {"[a]", NULL},
    {"a[b]x", NULL},
    {"top ", NULL},
};

START_TEST(test_get)
{
    const struct get_case *c = &get_cases[_i];
    json_t *p = decode("a[b][0][c]=1&a[b][1][c]=2&top=t");
    json_t *v = cm_param_get(p, c->path);

    if (c->want == NULL)
        ck_assert_msg(v == NULL, "%s found", c->path);
    else
        ck_assert_str_eq(json_string_value(v), c->want);
    json_decref(p);
}
END_TEST

START_TEST(test_get_not_object)
{
    json_t *arr = json_array(), *str = json_string("x");

    ck_assert_ptr_null(cm_param_get(arr, "a"));
    ck_assert_ptr_null(cm_param_get(str, "a"));
    ck_assert_ptr_null(cm_param_get(NULL, "a"));
    json_decref(arr);
    json_decref(str);
}
END_TEST

extern Suite *suite_params(void);

Suite *suite_params(void)
{
    Suite *s = suite_create("params");
    TCase *tc = tcase_create("getters");

    tcase_add_loop_test(tc, test_str, 0, (int)N(str_cases));
    tcase_add_loop_test(tc, test_int, 0, (int)N(int_cases));
    tcase_add_test(tc, test_int_from_json);
    tcase_add_loop_test(tc, test_timestamp, 0, (int)N(ts_cases));
    tcase_add_loop_test(tc, test_bool, 0, (int)N(bool_cases));
    tcase_add_test(tc, test_bool_from_json);
    tcase_add_loop_test(tc, test_enum, 0, (int)N(enum_cases));
    tcase_add_loop_test(tc, test_object, 0, (int)N(obj_cases));
    tcase_add_loop_test(tc, test_str_array, 0, (int)N(arr_cases));
    tcase_add_loop_test(tc, test_metadata, 0, (int)N(md_cases));
    tcase_add_test(tc, test_metadata_limits);
    tcase_add_loop_test(tc, test_range, 0, (int)N(range_cases));
    suite_add_tcase(s, tc);
    tc = tcase_create("paths");
    tcase_add_loop_test(tc, test_allowed, 0, (int)N(allowed_cases));
    tcase_add_test(tc, test_unknown_long_utf8_key);
    tcase_add_test(tc, test_unknown_under_long_path);
    tcase_add_loop_test(tc, test_get, 0, (int)N(get_cases));
    tcase_add_test(tc, test_get_not_object);
    suite_add_tcase(s, tc);
    return s;
}
