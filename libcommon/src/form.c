/* The form decoder: turns Stripe's bracket-nested form encoding into a JSON
 * object of strings, objects and arrays (rules in cm/form.h). Each pair is
 * percent-decoded into one scratch buffer, its key is checked in full (syntax,
 * depth, index range) before anything is inserted, and its value is then
 * placed by walking the key's segments down from the root. Arrays are built
 * in two steps because a client may send a[7] before a[0]: while decoding, an
 * array is an "index container", an object keyed by the canonical decimal
 * index plus one reserved key "" holding the largest index so far (no
 * client key can be "", so it also tells the two kinds of container apart in
 * O(1)); a final pass replaces each index container by an array sorted by
 * index. Every step is linear in the input or n log n (the sort), and the
 * only recursion is that final pass, which is as deep as the deepest key. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cm/form.h"
#include "cm/utf8.h"
#include "cm/sig.h"
#include "cm/banned.h"

#define NAME_CAP sizeof(((struct cm_err *)0)->param)

/* The reserved key of an index container, and its length. */
#define MAX_KEY     ""
#define MAX_KEY_LEN 0

enum seg_kind {
    SEG_NAME,   /* a, [b]: an object key */
    SEG_INDEX,  /* [0]: an array position */
    SEG_APPEND, /* []: one past the largest position so far */
};

struct seg {
    enum seg_kind kind;
    const char *name; /* SEG_NAME: not NUL-terminated */
    size_t len;
    long index; /* SEG_INDEX; saturates at CM_FORM_MAX_INDEX + 1 */
};

struct item {
    long index;
    json_t *value;
};

/* Form-decodes n bytes into out (which has room for n), '+' as a space.
 * -1 on a truncated or non-hex escape. */
static int unescape(const char *in, size_t n, char *out, size_t *outlen)
{
    size_t i, o = 0;

    for (i = 0; i < n; i++) {
        char c = in[i];

        if (c == '+') {
            c = ' ';
        } else if (c == '%') {
            int hi, lo;

            if (n - i < 3 || (hi = cm_hex_digit(in[i + 1])) < 0 ||
                (lo = cm_hex_digit(in[i + 2])) < 0)
                return -1;
            c = (char)(hi << 4 | lo);
            i += 2;
        }
        out[o++] = c;
    }
    *outlen = o;
    return 0;
}

/* The name used in err->param and messages for a key that decoded to valid
 * UTF-8: the key itself, cut on a character boundary to fit. */
static void name_from_key(char *dst, const char *key, size_t klen)
{
    size_t n = cm_utf8_clip(key, klen, NAME_CAP - 1);

    memcpy(dst, key, n);
    dst[n] = '\0';
}

/* The name for a key that did not decode: its raw bytes, with anything that
 * is not printable ASCII shown as '?', so the error stays valid JSON. */
static void name_from_raw(char *dst, const char *raw, size_t rawlen)
{
    size_t i, n = rawlen < NAME_CAP - 1 ? rawlen : NAME_CAP - 1;

    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)raw[i];

        dst[i] = c >= 0x20 && c < 0x7F ? (char)c : '?';
    }
    dst[n] = '\0';
}

/* Reads the segment of key at *pos: the top-level name when *pos is 0, else
 * one bracket group. Returns 1 with *sg set and *pos moved past it, 0 at the
 * end of the key, -1 when the key is malformed there. */
static int next_seg(const char *key, size_t klen, size_t *pos, struct seg *sg)
{
    const char *open, *close;
    size_t i = *pos, n, k;

    if (i == 0) {
        open = memchr(key, '[', klen);
        n = open ? (size_t)(open - key) : klen;
        if (n == 0 || memchr(key, ']', n) != NULL)
            return -1;
        *sg = (struct seg){.kind = SEG_NAME, .name = key, .len = n};
        *pos = n;
        return 1;
    }
    if (i == klen)
        return 0;
    if (key[i] != '[')
        return -1;
    open = key + i + 1;
    close = memchr(open, ']', klen - i - 1);
    if (close == NULL)
        return -1;
    n = (size_t)(close - open);
    if (memchr(open, '[', n) != NULL)
        return -1;
    *pos = (size_t)(close - key) + 1;
    if (n == 0) {
        *sg = (struct seg){.kind = SEG_APPEND};
        return 1;
    }
    *sg = (struct seg){.kind = SEG_INDEX};
    for (k = 0; k < n; k++) {
        if (open[k] < '0' || open[k] > '9') {
            *sg = (struct seg){.kind = SEG_NAME, .name = open, .len = n};
            return 1;
        }
        if (sg->index <= CM_FORM_MAX_INDEX)
            sg->index = sg->index * 10 + (open[k] - '0');
    }
    return 1;
}

/* Checks the whole key before anything is inserted, so that the walk in
 * place() meets only keys it can follow. */
static int check_key(const char *key, size_t klen, const struct cm_form_limits *lim,
                     const char *name, struct cm_err *err)
{
    struct seg sg;
    size_t pos = 0;
    unsigned depth = 0;
    int r, top = 1;

    while ((r = next_seg(key, klen, &pos, &sg)) == 1) {
        if (!top && depth++ == lim->max_depth)
            return cm_err_invalid(err, name,
                                  "Parameter %s is nested too deeply (at most %u levels).", name,
                                  lim->max_depth);
        top = 0;
        if (sg.kind == SEG_INDEX && sg.index > CM_FORM_MAX_INDEX)
            return cm_err_invalid(err, name, "Invalid array index in %s: at most %d.", name,
                                  CM_FORM_MAX_INDEX);
    }
    if (r < 0)
        return cm_err_invalid(
            err, name, "Invalid parameter name: %s. Nest with brackets, as in a[b][c].", name);
    return 0;
}

static int is_index_container(const json_t *v)
{
    return json_is_object(v) && json_object_getn(v, MAX_KEY, MAX_KEY_LEN) != NULL;
}

static const char *shape(const json_t *v)
{
    if (is_index_container(v))
        return "an array";
    return json_is_object(v) ? "an object" : "a value";
}

static int conflict(struct cm_err *err, const char *name, const char *key, size_t prefix,
                    const json_t *prev)
{
    int n = (int)cm_utf8_clip(key, prefix, 48);

    return cm_err_invalid(err, name, "Conflicting parameter %s: %.*s was already given as %s.",
                          name, n, key, shape(prev));
}

/* The object key under which segment sg lives in container node; for an
 * array position it is written into ibuf, and the container's largest index
 * is moved up to cover it. */
static int slot(json_t *node, const struct seg *sg, char *ibuf, size_t icap, const char **k,
                size_t *klen)
{
    json_t *max;
    long index;

    if (sg->kind == SEG_NAME) {
        *k = sg->name;
        *klen = sg->len;
        return 0;
    }
    max = json_object_getn(node, MAX_KEY, MAX_KEY_LEN);
    index = sg->kind == SEG_INDEX ? sg->index : (long)json_integer_value(max) + 1;
    if (index > CM_FORM_MAX_INDEX)
        return -1;
    if (index > json_integer_value(max))
        json_integer_set(max, index);
    *klen = (size_t)snprintf(ibuf, icap, "%ld", index);
    *k = ibuf;
    return 0;
}

static json_t *container_new(enum seg_kind kind)
{
    json_t *c = json_object();

    if (c != NULL && kind != SEG_NAME &&
        json_object_setn_new_nocheck(c, MAX_KEY, MAX_KEY_LEN, json_integer(-1)) < 0) {
        json_decref(c);
        c = NULL;
    }
    return c;
}

/* Puts val (taken) at the place key names under root. The key has passed
 * check_key(). */
static int place(json_t *root, const char *key, size_t klen, json_t *val, const char *name,
                 struct cm_err *err)
{
    struct seg cur, next;
    json_t *node = root, *child;
    size_t pos = 0, end, kl;
    const char *k;
    char ibuf[16];
    int more;

    next_seg(key, klen, &pos, &cur);
    for (;;) {
        end = pos;
        more = next_seg(key, klen, &pos, &next);
        if (slot(node, &cur, ibuf, sizeof(ibuf), &k, &kl) < 0) {
            json_decref(val);
            return cm_err_invalid(err, name, "Invalid array index in %s: at most %d.", name,
                                  CM_FORM_MAX_INDEX);
        }
        child = json_object_getn(node, k, kl);
        if (more == 0) {
            if (json_is_object(child)) {
                json_decref(val);
                return conflict(err, name, key, end, child);
            }
            if (json_object_setn_new_nocheck(node, k, kl, val) < 0)
                return cm_err_internal(err, "form: out of memory");
            return 0;
        }
        if (child == NULL) {
            child = container_new(next.kind);
            if (json_object_setn_new_nocheck(node, k, kl, child) < 0) {
                json_decref(val);
                return cm_err_internal(err, "form: out of memory");
            }
        } else if (!json_is_object(child) || is_index_container(child) != (next.kind != SEG_NAME)) {
            json_decref(val);
            return conflict(err, name, key, end, child);
        }
        node = child;
        cur = next;
    }
}

/* Decodes one non-empty pair (n bytes at p) into root, using buf (room for
 * n bytes) for the decoded key and value. */
static int decode_pair(json_t *root, const char *p, size_t n, const struct cm_form_limits *lim,
                       char *buf, struct cm_err *err)
{
    const char *eq = memchr(p, '=', n);
    size_t rklen = eq ? (size_t)(eq - p) : n;
    size_t klen, vlen;
    char *key = buf, *val;
    char name[NAME_CAP];
    json_t *v;

    if (unescape(p, rklen, key, &klen) < 0 || memchr(key, '\0', klen) != NULL ||
        !cm_utf8_valid(key, klen)) {
        name_from_raw(name, p, rklen);
        return cm_err_invalid(
            err, name, "Invalid parameter name: %s (bad %%-escape, NUL byte or not UTF-8).", name);
    }
    name_from_key(name, key, klen);
    if (klen > lim->max_key_len)
        return cm_err_invalid(err, name, "Parameter name %s is too long (at most %zu bytes).", name,
                              lim->max_key_len);
    val = buf + klen;
    if (unescape(eq ? eq + 1 : "", eq ? n - rklen - 1 : 0, val, &vlen) < 0)
        return cm_err_invalid(err, name, "Invalid %%-escape in the value of %s.", name);
    if (memchr(val, '\0', vlen) != NULL)
        return cm_err_invalid(err, name, "The value of %s contains a NUL byte.", name);
    if (!cm_utf8_valid(val, vlen))
        return cm_err_invalid(err, name, "The value of %s is not valid UTF-8.", name);
    if (vlen > lim->max_value_len)
        return cm_err_invalid(err, name, "The value of %s is too long (at most %zu bytes).", name,
                              lim->max_value_len);
    if (check_key(key, klen, lim, name, err) < 0)
        return -1;
    v = json_stringn_nocheck(val, vlen);
    if (v == NULL)
        return cm_err_internal(err, "form: out of memory");
    return place(root, key, klen, v, name, err);
}

static int item_cmp(const void *a, const void *b)
{
    long x = ((const struct item *)a)->index, y = ((const struct item *)b)->index;

    return (x > y) - (x < y);
}

static json_t *finished(json_t *v);

/* The array an index container stands for (new reference), or NULL. */
static json_t *to_array(json_t *idx)
{
    size_t n = json_object_size(idx) - 1, i = 0;
    struct item *items = calloc(n ? n : 1, sizeof(*items));
    json_t *arr = json_array();
    const char *k;
    json_t *v;

    if (items == NULL || arr == NULL)
        goto fail;
    json_object_foreach(idx, k, v)
    {
        if (*k != '\0')
            items[i++] = (struct item){.index = strtol(k, NULL, 10), .value = v};
    }
    qsort(items, n, sizeof(*items), item_cmp);
    for (i = 0; i < n; i++) {
        if (json_array_append_new(arr, finished(items[i].value)) < 0)
            goto fail;
    }
    free(items);
    return arr;
fail:
    free(items);
    json_decref(arr);
    return NULL;
}

/* Replaces, below the object obj, every index container by its array. */
static int finish_object(json_t *obj)
{
    void *it;

    for (it = json_object_iter(obj); it != NULL; it = json_object_iter_next(obj, it)) {
        json_t *v = json_object_iter_value(it), *nv;

        if (!json_is_object(v))
            continue;
        nv = finished(v);
        if (nv == NULL)
            return -1;
        if (nv == v)
            json_decref(nv);
        else if (json_object_iter_set_new(obj, it, nv) < 0)
            return -1;
    }
    return 0;
}

/* v in its final form (new reference), or NULL when out of memory. */
static json_t *finished(json_t *v)
{
    if (!json_is_object(v))
        return json_incref(v);
    if (is_index_container(v))
        return to_array(v);
    return finish_object(v) == 0 ? json_incref(v) : NULL;
}

static int decode_all(json_t *root, const char *s, size_t len, const struct cm_form_limits *lim,
                      char *buf, struct cm_err *err)
{
    size_t pos = 0;
    unsigned npairs = 0;

    while (pos < len) {
        const char *amp = memchr(s + pos, '&', len - pos);
        size_t end = amp ? (size_t)(amp - s) : len;

        if (end > pos) {
            if (npairs++ == lim->max_keys) {
                char name[NAME_CAP];
                const char *eq = memchr(s + pos, '=', end - pos);

                name_from_raw(name, s + pos, eq ? (size_t)(eq - (s + pos)) : end - pos);
                return cm_err_invalid(err, name, "Too many parameters (at most %u).",
                                      lim->max_keys);
            }
            if (decode_pair(root, s + pos, end - pos, lim, buf, err) < 0)
                return -1;
        }
        pos = end + 1;
    }
    return finish_object(root) < 0 ? cm_err_internal(err, "form: out of memory") : 0;
}

int cm_form_decode_into(json_t *obj, const char *s, size_t len, const struct cm_form_limits *lim,
                        struct cm_err *err)
{
    const struct cm_form_limits def = CM_FORM_LIMITS_DEFAULT;
    json_t *tmp = NULL;
    char *buf = NULL;
    int ret = -1;

    if (len == 0)
        return 0;
    tmp = json_object();
    buf = malloc(len);
    if (tmp == NULL || buf == NULL) {
        cm_err_internal(err, "form: out of memory");
        goto out;
    }
    if (decode_all(tmp, s, len, lim ? lim : &def, buf, err) < 0)
        goto out;
    if (json_object_update(obj, tmp) < 0) {
        cm_err_internal(err, "form: out of memory");
        goto out;
    }
    ret = 0;
out:
    free(buf);
    json_decref(tmp);
    return ret;
}

json_t *cm_form_decode(const char *s, size_t len, const struct cm_form_limits *lim,
                       struct cm_err *err)
{
    json_t *obj = json_object();

    if (obj == NULL) {
        cm_err_internal(err, "form: out of memory");
        return NULL;
    }
    if (cm_form_decode_into(obj, s, len, lim, err) < 0) {
        json_decref(obj);
        return NULL;
    }
    return obj;
}
