/* Decoder for Stripe's application/x-www-form-urlencoded requests with
 * bracket nesting, as stripe-node, stripe-python, stripe-ruby and curl send
 * them (spec/API.md section 2). The result is a JSON object whose leaves are
 * always strings ("true", "10", ""); the typed getters in cm/params.h read it.
 *
 * Rules:
 *  - Pairs split on '&'; empty pairs are skipped. A pair without '=' is a key
 *    whose value is "". In keys and values '+' is a space and %XX (either
 *    case) is a byte. The key is decoded before its brackets are read, so
 *    scope%5Btype%5D=x is scope[type]=x.
 *  - a[b][c]=v nests objects. a[0]=x&a[7]=y is an array sorted by index, gaps
 *    removed; a[]=x appends at one past the largest index seen so far in that
 *    array (so a[]=x&a[]=y is ["x","y"], and a[]=x&a[0]=y is ["y"]).
 *    a[0][k]=v&a[1][k]=w is an array of objects grouped by index. A bracket
 *    segment of decimal digits is an index (at most CM_FORM_MAX_INDEX); any
 *    other non-empty segment is an object key. The top-level name is always
 *    an object key, even when it is digits.
 *  - The same key given twice keeps the last value ("last wins"), as Rack
 *    does. A name used both as a value and as a container, or as an object and
 *    as an array, is a 400 naming the later key: a=1&a[b]=2 (param "a[b]"),
 *    a[b]=1&a=2 (param "a"), a[0]=1&a[b]=2 (param "a[b]").
 *  - Errors (400 invalid_request_error, no code, param = the key as decoded,
 *    or the raw key made printable when the key itself cannot be decoded):
 *    a bad escape (%, %4, %zz), a NUL byte, text that is not UTF-8, malformed
 *    brackets (a[b, a], a[b]c, a[b[c]], [a], an empty name), an index above
 *    CM_FORM_MAX_INDEX, and the limits below. */
#ifndef CM_FORM_H
#define CM_FORM_H

#include <stddef.h>
#include <jansson.h>

#include "cm/err.h"

/* Largest array index a client may write (a[9999]); indexes are positions,
 * not storage, so a[9999]=x is still a one-item array. */
#define CM_FORM_MAX_INDEX 9999

/* max_depth: bracket groups in one key (a is 0, a[b][c] is 2).
 * max_keys: non-empty pairs in one input.
 * max_key_len, max_value_len: bytes after percent-decoding. */
struct cm_form_limits {
    unsigned max_depth;
    unsigned max_keys;
    size_t max_key_len;
    size_t max_value_len;
};

#define CM_FORM_LIMITS_DEFAULT                                                                     \
    ((struct cm_form_limits){                                                                      \
        .max_depth = 5, .max_keys = 1000, .max_key_len = 512, .max_value_len = 65536})

/* Decodes the len bytes at s (no NUL needed; s may be NULL when len is 0) and
 * merges the result into obj, an existing JSON object (borrowed), so that a
 * server can decode the query string and then the body into one object. The
 * merge is shallow and the later input wins on a shared top-level name, like
 * Rack's GET.merge(POST). lim may be NULL for CM_FORM_LIMITS_DEFAULT.
 * Returns 0, or -1 with *err set (400 as above; 500 when out of memory) and
 * obj unchanged. */
int cm_form_decode_into(json_t *obj, const char *s, size_t len, const struct cm_form_limits *lim,
                        struct cm_err *err);

/* The same into a new object (caller json_decref()s it), or NULL with *err. */
json_t *cm_form_decode(const char *s, size_t len, const struct cm_form_limits *lim,
                       struct cm_err *err);

#endif
