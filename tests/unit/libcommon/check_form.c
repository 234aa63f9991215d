/* Tests for the form decoder: what the SDKs send, every malformed and
 * over-limit input, merging into an existing object, and hostile inputs
 * (big, deep, random) that must neither crash, leak nor go quadratic. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "cm/form.h"
#include "cm/banned.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

struct ok_case {
    const char *in;
    const char *want; /* JSON */
};

static const struct ok_case ok_cases[] = {
    {"", "{}"},
    {"name=foo", "{\"name\":\"foo\"}"},
    {"a=1&b=true", "{\"a\":\"1\",\"b\":\"true\"}"},
    /* stripe-node */
    {"expand[0]=payload&expand[1]=x", "{\"expand\":[\"payload\",\"x\"]}"},
    {"scope[type]=user&scope[user]=usr_1", "{\"scope\":{\"type\":\"user\",\"user\":\"usr_1\"}}"},
    {"expand[0]=payload&limit=3&starting_after=appsecret_1",
     "{\"expand\":[\"payload\"],\"limit\":\"3\",\"starting_after\":\"appsecret_1\"}"},
    {"description=", "{\"description\":\"\"}"},
    {"description=a%20b", "{\"description\":\"a b\"}"},
    /* stripe-python */
    {"name=my+secret&payload=s3cr3t%21&scope[type]=account",
     "{\"name\":\"my secret\",\"payload\":\"s3cr3t!\",\"scope\":{\"type\":\"account\"}}"},
    {"scope%5Btype%5D=account", "{\"scope\":{\"type\":\"account\"}}"},
    {"scope%5btype%5d=account", "{\"scope\":{\"type\":\"account\"}}"},
    {"a%5Bb]=x", "{\"a\":{\"b\":\"x\"}}"},
    /* stripe-ruby and curl */
    {"expand[]=payload&expand[]=data.x", "{\"expand\":[\"payload\",\"data.x\"]}"},
    {"expand[]=", "{\"expand\":[\"\"]}"},
    /* metadata */
    {"metadata[order_id]=6735&metadata[note]=",
     "{\"metadata\":{\"order_id\":\"6735\",\"note\":\"\"}}"},
    {"metadata=", "{\"metadata\":\"\"}"},
    {"metadata[%E5%90%8D]=%F0%9F%98%80", "{\"metadata\":{\"\\u540d\":\"\\ud83d\\ude00\"}}"},
    /* escapes */
    {"name=%E2%9C%93%20caf%C3%A9", "{\"name\":\"\\u2713 caf\\u00e9\"}"},
    {"q=%25", "{\"q\":\"%\"}"},
    {"k=a%26b%3Dc", "{\"k\":\"a&b=c\"}"},
    {"k=a%2bb", "{\"k\":\"a+b\"}"},
    {"a=b=c", "{\"a\":\"b=c\"}"},
    {"flag", "{\"flag\":\"\"}"},
    {"&&a=1&&", "{\"a\":\"1\"}"},
    {"0=x", "{\"0\":\"x\"}"},
    {"a[+b+]=1", "{\"a\":{\" b \":\"1\"}}"},
    {"a[-1]=x&a[1a]=y", "{\"a\":{\"-1\":\"x\",\"1a\":\"y\"}}"},
    /* arrays */
    {"a[7]=y&a[0]=x", "{\"a\":[\"x\",\"y\"]}"},
    {"a[10]=c&a[9]=b&a[2]=a", "{\"a\":[\"a\",\"b\",\"c\"]}"},
    {"a[]=x&a[]=y&a[5]=z&a[]=w", "{\"a\":[\"x\",\"y\",\"z\",\"w\"]}"},
    {"a[3]=x&a[]=y", "{\"a\":[\"x\",\"y\"]}"},
    {"a[]=x&a[0]=y", "{\"a\":[\"y\"]}"},
    {"a[007]=x&a[7]=y", "{\"a\":[\"y\"]}"},
    {"a[9999]=x", "{\"a\":[\"x\"]}"},
    {"a[0]=x&b[0]=y", "{\"a\":[\"x\"],\"b\":[\"y\"]}"},
    {"a[0][k]=v&a[0][j]=w&a[1][k]=u", "{\"a\":[{\"k\":\"v\",\"j\":\"w\"},{\"k\":\"u\"}]}"},
    {"a[1][k]=u&a[0][k]=v", "{\"a\":[{\"k\":\"v\"},{\"k\":\"u\"}]}"},
    {"a[0][0]=x&a[0][1]=y&a[1][0]=z", "{\"a\":[[\"x\",\"y\"],[\"z\"]]}"},
    {"a[b][1][c]=2&a[b][0][c]=1", "{\"a\":{\"b\":[{\"c\":\"1\"},{\"c\":\"2\"}]}}"},
    {"a[][k]=1&a[][k]=2", "{\"a\":[{\"k\":\"1\"},{\"k\":\"2\"}]}"},
    {"options[document][allowed_types][0]=passport&options[document][allowed_types][1]=id_card"
     "&options[document][require_matching_selfie]=true",
     "{\"options\":{\"document\":{\"allowed_types\":[\"passport\",\"id_card\"],"
     "\"require_matching_selfie\":\"true\"}}}"},
    {"created[gt]=1&created[lte]=5", "{\"created\":{\"gt\":\"1\",\"lte\":\"5\"}}"},
    /* duplicates: last wins */
    {"a=1&a=2", "{\"a\":\"2\"}"},
    {"a[b]=1&a[b]=2", "{\"a\":{\"b\":\"2\"}}"},
    {"a[0]=1&a[0]=2", "{\"a\":[\"2\"]}"},
    /* depth exactly at the limit */
    {"a[b][c][d][e][f]=1", "{\"a\":{\"b\":{\"c\":{\"d\":{\"e\":{\"f\":\"1\"}}}}}}"},
};

START_TEST(test_decode_ok)
{
    const struct ok_case *c = &ok_cases[_i];
    struct cm_err err = {0};
    json_t *got = cm_form_decode(c->in, strlen(c->in), NULL, &err);
    json_t *want = json_loads(c->want, 0, NULL);

    ck_assert_ptr_nonnull(want);
    ck_assert_msg(got != NULL, "%s: %s (param %s)", c->in, err.message, err.param);
    if (!json_equal(got, want)) {
        char *s = json_dumps(got, JSON_COMPACT);

        ck_abort_msg("%s: got %s, want %s", c->in, s, c->want);
        free(s);
    }
    json_decref(got);
    json_decref(want);
}
END_TEST

struct bad_case {
    const char *in;
    size_t len; /* 0: strlen(in) */
    const char *param;
    const char *message; /* NULL: not checked */
};

static const struct bad_case bad_cases[] = {
    /* escapes */
    {"a=%", 0, "a", "Invalid %-escape in the value of a."},
    {"a=%4", 0, "a", NULL},
    {"a=%zz", 0, "a", NULL},
    {"a=%4g", 0, "a", NULL},
    {"a=x%", 0, "a", NULL},
    {"%=x", 0, "%", NULL},
    {"a%zzb=1", 0, "a%zzb", "Invalid parameter name: a%zzb (bad %-escape, NUL byte or not UTF-8)."},
    {"a[b]%2=1", 0, "a[b]%2", NULL},
    /* NUL */
    {"a=%00", 0, "a", "The value of a contains a NUL byte."},
    {"a=x%00y", 0, "a", NULL},
    {"a%00=1", 0, "a%00", NULL},
    {"a\0b=1", 5, "a?b", NULL},
    {"a=b\0c", 5, "a", NULL},
    /* UTF-8 */
    {"a=%FF", 0, "a", "The value of a is not valid UTF-8."},
    {"a=%C0%80", 0, "a", NULL},
    {"a=%E0%80%80", 0, "a", NULL},
    {"a=%ED%A0%80", 0, "a", NULL},
    {"a=%F4%90%80%80", 0, "a", NULL},
    {"a=%F5%80%80%80", 0, "a", NULL},
    {"a=%E2%9C", 0, "a", NULL},
    {"a=%80", 0, "a", NULL},
    {"a=%C3%28", 0, "a", NULL},
    {"%FF=1", 0, "%FF", NULL},
    {"\xff=1", 0, "?", NULL},
    {"a[\xc3]=1", 0, "a[?]", NULL},
    /* conflicts */
    {"a=1&a[b]=2", 0, "a[b]", "Conflicting parameter a[b]: a was already given as a value."},
    {"a[b]=1&a=2", 0, "a", "Conflicting parameter a: a was already given as an object."},
    {"a[0]=1&a[b]=2", 0, "a[b]", "Conflicting parameter a[b]: a was already given as an array."},
    {"a[b]=1&a[0]=2", 0, "a[0]", NULL},
    {"a[b]=1&a[]=2", 0, "a[]", NULL},
    {"a[]=1&a[b]=2", 0, "a[b]", NULL},
    {"a[]=1&a=2", 0, "a", NULL},
    {"a[0]=1&a[0][k]=2", 0, "a[0][k]",
     "Conflicting parameter a[0][k]: a[0] was already given as a value."},
    {"a[0][k]=1&a[0]=2", 0, "a[0]", NULL},
    {"a[b][c]=1&a[b][]=2", 0, "a[b][]", NULL},
    {"a[b][c]=1&a[b][c][d]=2", 0, "a[b][c][d]", NULL},
    {"a[1]=x&a[1][0]=y", 0, "a[1][0]", NULL},
    /* malformed names */
    {"a[b=1", 0, "a[b", "Invalid parameter name: a[b. Nest with brackets, as in a[b][c]."},
    {"a]=1", 0, "a]", NULL},
    {"a[b]c=1", 0, "a[b]c", NULL},
    {"[a]=1", 0, "[a]", NULL},
    {"=1", 0, "", NULL},
    {"=", 0, "", NULL},
    {"a[b[c]]=1", 0, "a[b[c]]", NULL},
    {"a[b]]=1", 0, "a[b]]", NULL},
    {"a[[b]]=1", 0, "a[[b]]", NULL},
    {"a[b][=1", 0, "a[b][", NULL},
    {"a[", 0, "a[", NULL},
    {"a%5Bb=1", 0, "a[b", NULL},
    {"ok=1&a[b=1", 0, "a[b", NULL},
    /* indexes */
    {"a[10000]=x", 0, "a[10000]", "Invalid array index in a[10000]: at most 9999."},
    {"a[99999999999999999999999999]=x", 0, "a[99999999999999999999999999]", NULL},
    {"a[9999]=x&a[]=y", 0, "a[]", NULL},
    /* limits (defaults) */
    {"a[b][c][d][e][f][g]=1", 0, "a[b][c][d][e][f][g]",
     "Parameter a[b][c][d][e][f][g] is nested too deeply (at most 5 levels)."},
    {"a[][][][][][]=1", 0, "a[][][][][][]", NULL},
};

START_TEST(test_decode_bad)
{
    const struct bad_case *c = &bad_cases[_i];
    struct cm_err err = {0};
    size_t len = c->len ? c->len : strlen(c->in);
    json_t *got = cm_form_decode(c->in, len, NULL, &err);

    ck_assert_msg(got == NULL, "%s: decoded", c->in);
    ck_assert_int_eq(err.status, 400);
    ck_assert_int_eq(err.type, CM_ERR_INVALID_REQUEST);
    ck_assert_str_eq(err.code, "");
    ck_assert_str_eq(err.param, c->param);
    if (c->message != NULL)
        ck_assert_str_eq(err.message, c->message);
}
END_TEST

/* s repeated n times, then tail; free()d by the caller. */
static char *repeat(const char *head, const char *s, size_t n, const char *tail)
{
    size_t hl = strlen(head), sl = strlen(s), tl = strlen(tail), i;
    char *buf = malloc(hl + sl * n + tl + 1);

    ck_assert_ptr_nonnull(buf);
    memcpy(buf, head, hl);
    for (i = 0; i < n; i++)
        memcpy(buf + hl + i * sl, s, sl);
    memcpy(buf + hl + n * sl, tail, tl + 1);
    return buf;
}

static json_t *decode_with(const char *in, const struct cm_form_limits *lim, struct cm_err *err)
{
    return cm_form_decode(in, strlen(in), lim, err);
}

START_TEST(test_key_length_limit)
{
    struct cm_err err = {0};
    char *at = repeat("", "k", 512, "=1");
    char *over = repeat("", "k", 513, "=1");
    char *escaped = repeat("", "%6B", 512, "=1"); /* 1536 bytes raw, 512 decoded */
    json_t *o;

    o = decode_with(at, NULL, &err);
    ck_assert_ptr_nonnull(o);
    json_decref(o);
    o = decode_with(escaped, NULL, &err);
    ck_assert_ptr_nonnull(o);
    json_decref(o);
    ck_assert_ptr_null(decode_with(over, NULL, &err));
    ck_assert_int_eq(err.status, 400);
    ck_assert_uint_eq(strlen(err.param), sizeof(err.param) - 1);
    ck_assert_int_eq(strncmp(err.param, over, sizeof(err.param) - 1), 0);
    ck_assert_ptr_nonnull(strstr(err.message, "too long (at most 512 bytes)"));
    free(at);
    free(over);
    free(escaped);
}
END_TEST

START_TEST(test_long_name_cut_on_utf8_boundary)
{
    /* 'a' then 100 two-byte characters: the 127-byte param must not end
     * inside a character, and the message must stay valid UTF-8. */
    struct cm_err err = {0};
    char *in = repeat("a", "%C3%A9", 100, "=%FF");
    json_t *s;

    ck_assert_ptr_null(decode_with(in, NULL, &err));
    ck_assert_uint_eq(strlen(err.param), 127);
    s = json_string(err.param);
    ck_assert_ptr_nonnull(s);
    json_decref(s);
    s = json_string(err.message);
    ck_assert_ptr_nonnull(s);
    json_decref(s);
    free(in);
}
END_TEST

START_TEST(test_value_length_limit)
{
    struct cm_form_limits lim = CM_FORM_LIMITS_DEFAULT;
    struct cm_err err = {0};
    json_t *o;

    lim.max_value_len = 4;
    o = decode_with("v=abcd&w=%C3%A9%C3%A9", &lim, &err);
    ck_assert_ptr_nonnull(o);
    json_decref(o);
    ck_assert_ptr_null(decode_with("v=abcd&w=abc%C3%A9", &lim, &err));
    ck_assert_str_eq(err.param, "w");
    ck_assert_str_eq(err.message, "The value of w is too long (at most 4 bytes).");
}
END_TEST

START_TEST(test_default_value_limit)
{
    struct cm_err err = {0};
    char *at = repeat("v=", "x", 65536, "");
    char *over = repeat("v=", "x", 65537, "");
    json_t *o = decode_with(at, NULL, &err);

    ck_assert_ptr_nonnull(o);
    ck_assert_uint_eq(json_string_length(json_object_get(o, "v")), 65536);
    json_decref(o);
    ck_assert_ptr_null(decode_with(over, NULL, &err));
    ck_assert_str_eq(err.param, "v");
    free(at);
    free(over);
}
END_TEST

START_TEST(test_key_count_limit)
{
    struct cm_form_limits lim = CM_FORM_LIMITS_DEFAULT;
    struct cm_err err = {0};
    json_t *o;

    lim.max_keys = 3;
    o = decode_with("a=1&&b=2&&&c=3&", &lim, &err); /* empty pairs do not count */
    ck_assert_ptr_nonnull(o);
    ck_assert_uint_eq(json_object_size(o), 3);
    json_decref(o);
    ck_assert_ptr_null(decode_with("a=1&b=2&c=3&d%5B=4", &lim, &err));
    ck_assert_int_eq(err.status, 400);
    ck_assert_str_eq(err.param, "d%5B");
    ck_assert_str_eq(err.message, "Too many parameters (at most 3).");
}
END_TEST

START_TEST(test_depth_limit_custom)
{
    struct cm_form_limits lim = CM_FORM_LIMITS_DEFAULT;
    struct cm_err err = {0};
    json_t *o;

    lim.max_depth = 0;
    o = decode_with("a=1", &lim, &err);
    ck_assert_ptr_nonnull(o);
    json_decref(o);
    ck_assert_ptr_null(decode_with("a[]=1", &lim, &err));
    ck_assert_str_eq(err.param, "a[]");
    lim.max_depth = 2;
    o = decode_with("a[0][b]=1", &lim, &err);
    ck_assert_ptr_nonnull(o);
    json_decref(o);
    ck_assert_ptr_null(decode_with("a[0][b][c]=1", &lim, &err));
}
END_TEST

START_TEST(test_not_nul_terminated)
{
    const char buf[] = {'a', '=', '1', '&', 'b', '=', '2'};
    struct cm_err err = {0};
    json_t *o = cm_form_decode(buf, 3, NULL, &err);

    ck_assert_ptr_nonnull(o);
    ck_assert_uint_eq(json_object_size(o), 1);
    ck_assert_str_eq(json_string_value(json_object_get(o, "a")), "1");
    json_decref(o);
    o = cm_form_decode(buf, 2, NULL, &err); /* "a=" */
    ck_assert_str_eq(json_string_value(json_object_get(o, "a")), "");
    json_decref(o);
    o = cm_form_decode(NULL, 0, NULL, &err);
    ck_assert_ptr_nonnull(o);
    ck_assert_uint_eq(json_object_size(o), 0);
    json_decref(o);
}
END_TEST

START_TEST(test_decode_into_merges_shallow)
{
    /* Query string first, then the body: the later input wins per
     * top-level name, as with Rack's GET.merge(POST). */
    const char *query = "limit=3&expand[]=a&metadata[x]=1";
    const char *body = "expand[]=b&name=n&metadata[y]=2";
    struct cm_err err = {0};
    json_t *obj = json_object();
    json_t *want = json_loads("{\"limit\":\"3\",\"expand\":[\"b\"],\"name\":\"n\","
                              "\"metadata\":{\"y\":\"2\"}}",
                              0, NULL);

    ck_assert_int_eq(cm_form_decode_into(obj, query, strlen(query), NULL, &err), 0);
    ck_assert_int_eq(cm_form_decode_into(obj, body, strlen(body), NULL, &err), 0);
    ck_assert(json_equal(obj, want));
    json_decref(obj);
    json_decref(want);
}
END_TEST

START_TEST(test_decode_into_failure_leaves_object)
{
    const char *bad = "name=x&expand[]=a&a=%zz";
    struct cm_err err = {0};
    json_t *obj = json_pack("{s:s}", "limit", "3");
    json_t *want = json_pack("{s:s}", "limit", "3");

    ck_assert_int_eq(cm_form_decode_into(obj, bad, strlen(bad), NULL, &err), -1);
    ck_assert_str_eq(err.param, "a");
    ck_assert(json_equal(obj, want));
    json_decref(obj);
    json_decref(want);
}
END_TEST

START_TEST(test_many_appends_and_reverse_indexes)
{
    struct cm_err err = {0};
    char *appends = repeat("", "a[]=x&", 1000, "");
    char *reverse = malloc(1000 * 16);
    size_t used = 0;
    json_t *o, *arr;
    int i;

    o = decode_with(appends, NULL, &err);
    ck_assert_ptr_nonnull(o);
    ck_assert_uint_eq(json_array_size(json_object_get(o, "a")), 1000);
    json_decref(o);
    ck_assert_ptr_nonnull(reverse);
    for (i = 999; i >= 0; i--)
        used += (size_t)snprintf(reverse + used, 1000 * 16 - used, "a[%d]=%d&", i * 10, i);
    o = decode_with(reverse, NULL, &err);
    ck_assert_ptr_nonnull(o);
    arr = json_object_get(o, "a");
    ck_assert_uint_eq(json_array_size(arr), 1000);
    for (i = 0; i < 1000; i++)
        ck_assert_int_eq(atoi(json_string_value(json_array_get(arr, (size_t)i))), i);
    json_decref(o);
    free(appends);
    free(reverse);
}
END_TEST

START_TEST(test_hostile_max_size)
{
    /* 1000 pairs, each as deep as allowed, each creating 5 containers; and
     * 1000 keys each full of brackets, rejected at the depth limit. */
    struct cm_err err = {0};
    char *deep = malloc(1000 * 64), *brackets;
    size_t used = 0;
    json_t *o;
    int i;

    ck_assert_ptr_nonnull(deep);
    for (i = 0; i < 1000; i++)
        used += (size_t)snprintf(deep + used, 1000 * 64 - used, "k%d[%d][b][][c][d]=v&", i % 7, i);
    o = decode_with(deep, NULL, &err);
    ck_assert_msg(o != NULL, "%s", err.message);
    ck_assert_uint_eq(json_object_size(o), 7);
    json_decref(o);
    brackets = repeat("", "[]", 255, "=1&");
    ck_assert_ptr_null(decode_with(brackets + 1, NULL, &err)); /* "]" + ... */
    free(brackets);
    brackets = repeat("a", "[x]", 170, "=1");
    ck_assert_ptr_null(decode_with(brackets, NULL, &err));
    ck_assert_ptr_nonnull(strstr(err.message, "nested too deeply"));
    free(brackets);
    free(deep);
}
END_TEST

START_TEST(test_many_empty_pairs)
{
    struct cm_err err = {0};
    char *in = repeat("", "&", 1000000, "a=1");
    json_t *o = decode_with(in, NULL, &err);

    ck_assert_ptr_nonnull(o);
    ck_assert_uint_eq(json_object_size(o), 1);
    json_decref(o);
    free(in);
}
END_TEST

/* Deterministic random inputs from the characters that matter: every one
 * must decode to an object of strings, objects and arrays, or fail with a
 * 400 naming a valid UTF-8 param. ASan and LSan do the rest. */
static int well_formed(const json_t *v)
{
    const char *k;
    json_t *item;
    size_t i;

    if (json_is_string(v))
        return 1;
    if (json_is_object(v)) {
        json_object_foreach((json_t *)v, k, item)
        {
            if (*k == '\0' || !well_formed(item))
                return 0;
        }
        return 1;
    }
    if (json_is_array(v)) {
        json_array_foreach(v, i, item)
        {
            if (!well_formed(item))
                return 0;
        }
        return json_array_size(v) > 0;
    }
    return 0;
}

START_TEST(test_random_inputs)
{
    static const char alphabet[] = "ab01[]=&%5BD+\xc3\xa9\x80";
    unsigned long long state = 0x9E3779B97F4A7C15ULL;
    char in[48];
    int round;

    for (round = 0; round < 20000; round++) {
        struct cm_err err = {0};
        size_t len, i;
        json_t *o;

        state ^= state << 13, state ^= state >> 7, state ^= state << 17;
        len = state % sizeof(in);
        for (i = 0; i < len; i++) {
            state ^= state << 13, state ^= state >> 7, state ^= state << 17;
            in[i] = alphabet[state % (sizeof(alphabet) - 1)];
        }
        o = cm_form_decode(in, len, NULL, &err);
        if (o != NULL) {
            ck_assert_msg(well_formed(o), "%.*s", (int)len, in);
            json_decref(o);
        } else {
            json_t *p = json_string(err.param), *m = json_string(err.message);

            ck_assert_int_eq(err.status, 400);
            ck_assert_msg(p != NULL && m != NULL, "%.*s", (int)len, in);
            json_decref(p);
            json_decref(m);
        }
    }
}
END_TEST

extern Suite *suite_form(void);

Suite *suite_form(void)
{
    Suite *s = suite_create("form");
    TCase *tc = tcase_create("decode");

    tcase_add_loop_test(tc, test_decode_ok, 0, (int)N(ok_cases));
    tcase_add_loop_test(tc, test_decode_bad, 0, (int)N(bad_cases));
    tcase_add_test(tc, test_key_length_limit);
    tcase_add_test(tc, test_long_name_cut_on_utf8_boundary);
    tcase_add_test(tc, test_value_length_limit);
    tcase_add_test(tc, test_default_value_limit);
    tcase_add_test(tc, test_key_count_limit);
    tcase_add_test(tc, test_depth_limit_custom);
    tcase_add_test(tc, test_not_nul_terminated);
    tcase_add_test(tc, test_decode_into_merges_shallow);
    tcase_add_test(tc, test_decode_into_failure_leaves_object);
    suite_add_tcase(s, tc);
    tc = tcase_create("hostile");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_many_appends_and_reverse_indexes);
    tcase_add_test(tc, test_hostile_max_size);
    tcase_add_test(tc, test_many_empty_pairs);
    tcase_add_test(tc, test_random_inputs);
    suite_add_tcase(s, tc);
    return s;
}
