/* Stripe-shaped JSON responses: list envelopes, pagination parameters and
 * expand[] (jansson underneath). */
#ifndef CM_JSON_H
#define CM_JSON_H

#include <jansson.h>
#include <libpq-fe.h>

#include "cm/err.h"

/* {"object":"list","data":data,"has_more":..,"url":url}. Takes data (an
 * array), even on failure. New object, or NULL on allocation failure. */
json_t *cm_json_list(const char *url, json_t *data, int has_more);

/* Renders row `row` of res as a new object; NULL when it cannot, with *err
 * set (or left empty: cm_json_page() then calls it a 500). */
typedef json_t *(*cm_page_render)(void *ctx, const PGresult *res, int row, struct cm_err *err);

/* The list envelope of one page of a page query's rows (res). The rows come
 * in the query's order: newest first when newest_first (no cursor, or
 * starting_after), else oldest first (ending_before), to be turned around
 * here; at most limit of them are listed, and one more only says has_more.
 * A single row whose first column is NULL is the marker of an empty page
 * (queries that check the cursor in the same statement return one). Objects
 * come out newest first. New envelope, or NULL with *err: the renderer's
 * error, else a 500 (a row that does not render, or memory). */
json_t *cm_json_page(const char *url, const PGresult *res, long long limit, int newest_first,
                     cm_page_render render, void *ctx, struct cm_err *err);

/* Compact serialization, new string (free()), or NULL on allocation failure. */
char *cm_json_dump(const json_t *v, size_t *len);

/* Pagination (API.md section 3): limit 1..100 (default 10), starting_after,
 * ending_before (at most one of the two). Strings are borrowed from params. */
struct cm_page {
    long long limit;
    const char *starting_after;
    const char *ending_before;
};
int cm_page_parse(const json_t *params, struct cm_page *page, struct cm_err *err);

/* expand[]: the requested paths, validated against the paths this operation
 * can expand (NULL-terminated, e.g. {"payload", NULL}). For list operations
 * pass list=1: each path must then start with "data." (which is stripped).
 * More than 4 levels, a non-string, or a path not allowed gives 400
 * "This property cannot be expanded (<path>)." with param "expand". */
#define CM_EXPAND_MAX 16
struct cm_expand {
    size_t n;
    const char *paths[CM_EXPAND_MAX]; /* borrowed from params */
};
int cm_expand_parse(const json_t *params, const char *const *allowed, int list,
                    struct cm_expand *out, struct cm_err *err);
/* 1 if path was requested. */
int cm_expand_has(const struct cm_expand *ex, const char *path);

#endif
