/* Typed parameter getters: find a param by its bracket path in the decoded
 * request, check its JSON type, emptiness, syntax and range, and report what
 * is wrong in Stripe's words (the shapes are listed in cm/params.h). Paths
 * come from handler code; keys and values come from clients, so anything a
 * client wrote is cut on a UTF-8 character boundary before it goes into an
 * error, which keeps the rendered error valid JSON. */
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "cm/params.h"
#include "cm/utf8.h"
#include "cm/banned.h"

#define PATH_CAP sizeof(((struct cm_err *)0)->param)

/* How many bytes of a client's value an error message echoes. */
#define ECHO_MAX 40

/* lookup() results besides -1 (error) and 0 (absent). */
enum { FOUND = 1, EMPTY = 2 };

/* "<path>[<key>]" into dst (PATH_CAP bytes), the key cut to fit. */
static void sub_path(char *dst, const char *path, const char *key, size_t klen)
{
    size_t plen = strlen(path);

    if (plen > PATH_CAP - 3)
        plen = PATH_CAP - 3;
    klen = cm_utf8_clip(key, klen, PATH_CAP - 3 - plen);
    snprintf(dst, PATH_CAP, "%.*s[%.*s]", (int)plen, path, (int)klen, key);
}

static void sub_path_index(char *dst, const char *path, size_t index)
{
    char k[24];
    int n = snprintf(k, sizeof(k), "%zu", index);

    sub_path(dst, path, k, (size_t)n);
}

/* A short rendering of v for messages: the string cut to ECHO_MAX bytes, or
 * its shape. */
static void describe(const json_t *v, char *buf, size_t cap)
{
    if (json_is_string(v)) {
        size_t len = json_string_length(v), n = cm_utf8_clip(json_string_value(v), len, ECHO_MAX);

        snprintf(buf, cap, "%.*s%s", (int)n, json_string_value(v), n < len ? "..." : "");
    } else if (json_is_object(v)) {
        snprintf(buf, cap, "{...}");
    } else if (json_is_array(v)) {
        snprintf(buf, cap, "[...]");
    } else if (json_is_integer(v)) {
        snprintf(buf, cap, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    } else if (json_is_real(v)) {
        snprintf(buf, cap, "%g", json_real_value(v));
    } else {
        snprintf(buf, cap, "%s", json_is_true(v) ? "true" : json_is_false(v) ? "false" : "null");
    }
}

static int is_empty(const json_t *v)
{
    return json_is_string(v) && json_string_length(v) == 0;
}

static int empty_error(struct cm_err *err, const char *path)
{
    return cm_err_set(err, 400, CM_ERR_INVALID_REQUEST, "parameter_invalid_empty", path,
                      "You passed an empty string for '%s'. We assume empty values are an "
                      "attempt to unset a parameter; however '%s' cannot be unset. You should "
                      "remove '%s' from your request or supply a non-empty value.",
                      path, path, path);
}

static int type_error(struct cm_err *err, const char *path, const char *type, const json_t *v)
{
    char buf[ECHO_MAX + 8];

    describe(v, buf, sizeof(buf));
    return cm_err_invalid(err, path, "Invalid %s: %s", type, buf);
}

/* Finds path and applies the flags common to every getter: -1 (missing and
 * required, or "" not allowed), 0 (absent), EMPTY ("" allowed) or FOUND. */
static int lookup(const json_t *params, const char *path, unsigned flags, json_t **v,
                  struct cm_err *err)
{
    *v = cm_param_get(params, path);
    if (*v == NULL)
        return flags & CM_P_REQUIRED ? cm_err_missing(err, path) : 0;
    if (is_empty(*v))
        return flags & CM_P_ALLOW_EMPTY ? EMPTY : empty_error(err, path);
    return FOUND;
}

static const json_t *child(const json_t *node, const char *k, size_t n)
{
    size_t i, index = 0;

    if (!json_is_array(node))
        return json_object_getn(node, k, n);
    if (n == 0 || n > 9)
        return NULL;
    for (i = 0; i < n; i++) {
        if (k[i] < '0' || k[i] > '9')
            return NULL;
        index = index * 10 + (size_t)(k[i] - '0');
    }
    return json_array_get(node, index);
}

json_t *cm_param_get(const json_t *params, const char *path)
{
    const json_t *node;
    const char *p = path, *close;
    size_t n = strcspn(p, "[]");

    if (n == 0)
        return NULL;
    node = json_object_getn(params, p, n);
    for (p += n; node != NULL && *p != '\0'; p = close + 1) {
        if (*p != '[' || (close = strchr(p + 1, ']')) == NULL)
            return NULL;
        node = child(node, p + 1, (size_t)(close - p - 1));
    }
    return (json_t *)node;
}

static int listed(const char *const *allowed, const char *key)
{
    for (; *allowed != NULL; allowed++) {
        if (strcmp(*allowed, key) == 0)
            return 1;
    }
    return 0;
}

int cm_params_check_allowed(const json_t *params, const char *const *allowed, struct cm_err *err)
{
    const char *key;
    json_t *v;

    json_object_foreach((json_t *)params, key, v)
    {
        if (strcmp(key, "expand") != 0 && !listed(allowed, key)) {
            char name[PATH_CAP];
            size_t n = cm_utf8_clip(key, strlen(key), PATH_CAP - 1);

            snprintf(name, sizeof(name), "%.*s", (int)n, key);
            return cm_err_unknown_param(err, name);
        }
    }
    return 0;
}

int cm_params_check_allowed_at(const json_t *params, const char *path, const char *const *allowed,
                               struct cm_err *err)
{
    json_t *obj = cm_param_get(params, path), *v;
    const char *key;

    if (!json_is_object(obj))
        return 0;
    json_object_foreach(obj, key, v)
    {
        if (!listed(allowed, key)) {
            char name[PATH_CAP];

            sub_path(name, path, key, strlen(key));
            return cm_err_unknown_param(err, name);
        }
    }
    return 0;
}

int cm_param_str(const json_t *params, const char *path, unsigned flags, size_t maxlen,
                 const char **out, struct cm_err *err)
{
    json_t *v;
    int r = lookup(params, path, flags, &v, err);

    if (r <= 0)
        return r;
    if (!json_is_string(v))
        return type_error(err, path, "string", v);
    if (maxlen > 0 && cm_utf8_chars(json_string_value(v), json_string_length(v)) > maxlen)
        return cm_err_invalid(err, path, "Invalid %s: must be at most %zu characters", path,
                              maxlen);
    *out = json_string_value(v);
    return 1;
}

/* Optional '-', then digits only; -1 on anything else or overflow. */
static int parse_ll(const char *s, size_t n, long long *out)
{
    unsigned long long acc = 0, lim = LLONG_MAX;
    size_t i = 0;
    int neg = 0;

    if (n > 0 && s[0] == '-') {
        neg = 1;
        i = 1;
        lim = (unsigned long long)LLONG_MAX + 1;
    }
    if (i == n)
        return -1;
    for (; i < n; i++) {
        unsigned d = (unsigned)(s[i] - '0');

        if (s[i] < '0' || s[i] > '9' || acc > (lim - d) / 10)
            return -1;
        acc = acc * 10 + d;
    }
    if (!neg)
        *out = (long long)acc;
    else
        *out = acc > (unsigned long long)LLONG_MAX ? LLONG_MIN : -(long long)acc;
    return 0;
}

/* Reads v (found at path, not "") as an integer in [min, max]. */
static int int_value(const json_t *v, const char *path, long long min, long long max,
                     long long *out, struct cm_err *err)
{
    long long x;

    if (json_is_integer(v)) {
        x = json_integer_value(v);
    } else if (!json_is_string(v) ||
               parse_ll(json_string_value(v), json_string_length(v), &x) < 0) {
        char buf[ECHO_MAX + 8];

        describe(v, buf, sizeof(buf));
        return cm_err_set(err, 400, CM_ERR_INVALID_REQUEST, "parameter_invalid_integer", path,
                          "Invalid integer: %s", buf);
    }
    if (x < min)
        return cm_err_invalid(err, path, "This value must be greater than or equal to %lld.", min);
    if (x > max)
        return cm_err_invalid(err, path, "This value must be less than or equal to %lld.", max);
    *out = x;
    return 0;
}

int cm_param_int(const json_t *params, const char *path, unsigned flags, long long min,
                 long long max, long long *out, struct cm_err *err)
{
    json_t *v;
    int r = lookup(params, path, flags, &v, err);

    if (r != FOUND)
        return r == EMPTY ? 0 : r;
    return int_value(v, path, min, max, out, err) < 0 ? -1 : 1;
}

int cm_param_timestamp(const json_t *params, const char *path, unsigned flags, long long *out,
                       struct cm_err *err)
{
    return cm_param_int(params, path, flags, 0, CM_TIMESTAMP_MAX, out, err);
}

int cm_param_bool(const json_t *params, const char *path, unsigned flags, int *out,
                  struct cm_err *err)
{
    const char *s;
    json_t *v;
    int r = lookup(params, path, flags, &v, err);

    if (r != FOUND)
        return r == EMPTY ? 0 : r;
    s = json_string_value(v);
    if (json_is_boolean(v)) {
        *out = json_is_true(v);
    } else if (s != NULL && strcasecmp(s, "true") == 0) {
        *out = 1;
    } else if (s != NULL && strcasecmp(s, "false") == 0) {
        *out = 0;
    } else {
        return type_error(err, path, "boolean", v);
    }
    return 1;
}

int cm_param_enum(const json_t *params, const char *path, unsigned flags, const char *const *values,
                  int *index, struct cm_err *err)
{
    char list[192];
    size_t used = 0, n, i;
    json_t *v;
    int r = lookup(params, path, flags, &v, err);

    if (r != FOUND)
        return r == EMPTY ? 0 : r;
    if (!json_is_string(v))
        return type_error(err, path, "string", v);
    for (n = 0; values[n] != NULL; n++) {
        if (strcmp(values[n], json_string_value(v)) == 0) {
            *index = (int)n;
            return 1;
        }
    }
    list[0] = '\0';
    for (i = 0; i < n && used < sizeof(list) - 1; i++) {
        const char *sep = i == 0 ? "" : i + 1 == n ? " or " : ", ";
        int w = snprintf(list + used, sizeof(list) - used, "%s%s", sep, values[i]);

        used = w < 0 ? sizeof(list) - 1 : used + (size_t)w;
    }
    return cm_err_invalid(err, path, "Invalid %s: must be one of %s", path, list);
}

int cm_param_object(const json_t *params, const char *path, unsigned flags, json_t **out,
                    struct cm_err *err)
{
    json_t *v;
    int r = lookup(params, path, flags, &v, err);

    if (r <= 0)
        return r;
    if (r == EMPTY) {
        *out = NULL;
        return 1;
    }
    if (!json_is_object(v))
        return cm_err_invalid(err, path, "Invalid object");
    *out = v;
    return 1;
}

int cm_param_str_array(const json_t *params, const char *path, unsigned flags, size_t max_items,
                       size_t maxlen, json_t **out, struct cm_err *err)
{
    char name[PATH_CAP];
    json_t *v, *item;
    size_t i;
    int r = lookup(params, path, flags, &v, err);

    if (r <= 0)
        return r;
    if (r == EMPTY) {
        *out = NULL;
        return 1;
    }
    if (!json_is_array(v))
        return cm_err_invalid(err, path, "Invalid array");
    if (max_items > 0 && json_array_size(v) > max_items)
        return cm_err_invalid(err, path, "Invalid %s: must contain at most %zu items", path,
                              max_items);
    json_array_foreach(v, i, item)
    {
        sub_path_index(name, path, i);
        if (!json_is_string(item))
            return type_error(err, name, "string", item);
        if (is_empty(item))
            return empty_error(err, name);
        if (maxlen > 0 && cm_utf8_chars(json_string_value(item), json_string_length(item)) > maxlen)
            return cm_err_invalid(err, name, "Invalid %s: must be at most %zu characters", name,
                                  maxlen);
    }
    *out = v;
    return 1;
}

int cm_param_metadata(const json_t *params, const char *path, json_t **out, struct cm_err *err)
{
    char name[PATH_CAP];
    const char *key;
    json_t *v, *val;
    int r = lookup(params, path, CM_P_ALLOW_EMPTY, &v, err);

    if (r <= 0)
        return r;
    if (r == EMPTY) {
        *out = NULL;
        return 1;
    }
    if (!json_is_object(v))
        return cm_err_invalid(err, path, "Invalid object");
    if (json_object_size(v) > CM_METADATA_MAX_KEYS)
        return cm_err_invalid(err, path, "Invalid %s: must have at most %d keys", path,
                              CM_METADATA_MAX_KEYS);
    json_object_foreach(v, key, val)
    {
        size_t klen = strlen(key);

        sub_path(name, path, key, klen);
        if (klen == 0 || strpbrk(key, "[]") != NULL)
            return cm_err_invalid(err, name,
                                  "Invalid %s: keys must be non-empty and must not contain '[' "
                                  "or ']'",
                                  path);
        if (cm_utf8_chars(key, klen) > CM_METADATA_MAX_KEY_LEN)
            return cm_err_invalid(err, name, "Invalid %s: keys must be at most %d characters", path,
                                  CM_METADATA_MAX_KEY_LEN);
        if (!json_is_string(val))
            return type_error(err, name, "string", val);
        if (cm_utf8_chars(json_string_value(val), json_string_length(val)) >
            CM_METADATA_MAX_VALUE_LEN)
            return cm_err_invalid(err, name, "Invalid %s: must be at most %d characters", name,
                                  CM_METADATA_MAX_VALUE_LEN);
    }
    *out = v;
    return 1;
}

int cm_param_range(const json_t *params, const char *path, struct cm_range *out, struct cm_err *err)
{
    static const char *const ops[] = {"gt", "gte", "lt", "lte", NULL};
    char name[PATH_CAP];
    const char *key;
    json_t *v, *val;
    int r;

    memset(out, 0, sizeof(*out));
    r = lookup(params, path, 0, &v, err);
    if (r <= 0)
        return r;
    if (!json_is_object(v)) {
        if (int_value(v, path, LLONG_MIN, LLONG_MAX, &out->eq, err) < 0)
            return -1;
        out->has_eq = 1;
        return 1;
    }
    json_object_foreach(v, key, val)
    {
        int *has[] = {&out->has_gt, &out->has_gte, &out->has_lt, &out->has_lte};
        long long *dst[] = {&out->gt, &out->gte, &out->lt, &out->lte};
        size_t i;

        sub_path(name, path, key, strlen(key));
        for (i = 0; ops[i] != NULL && strcmp(ops[i], key) != 0; i++)
            ;
        if (ops[i] == NULL)
            return cm_err_unknown_param(err, name);
        if (is_empty(val))
            return empty_error(err, name);
        if (int_value(val, name, LLONG_MIN, LLONG_MAX, dst[i], err) < 0)
            return -1;
        *has[i] = 1;
    }
    return 1;
}
