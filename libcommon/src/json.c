/* JSON helpers shared by every handler: the list envelope, pagination and
 * expand[] parsing. The decoded form parameters are a jansson object whose
 * leaves are strings (cm/form.h), which is what the parsers here walk. */
#include <stdlib.h>
#include <string.h>

#include "cm/json.h"
#include "cm/params.h"
#include "cm/banned.h"

json_t *cm_json_list(const char *url, json_t *data, int has_more)
{
    json_t *o = json_object();

    if (o == NULL || data == NULL) {
        json_decref(o);
        json_decref(data);
        return NULL;
    }
    if (json_object_set_new(o, "object", json_string("list")) < 0 ||
        json_object_set_new(o, "data", data) < 0 ||
        json_object_set_new(o, "has_more", json_boolean(has_more)) < 0 ||
        json_object_set_new(o, "url", json_string(url)) < 0) {
        json_decref(o);
        return NULL;
    }
    return o;
}

json_t *cm_json_page(const char *url, const PGresult *res, long long limit, int newest_first,
                     cm_page_render render, void *ctx, struct cm_err *err)
{
    int nt = PQntuples(res), n;
    json_t *data = json_array(), *list;
    struct cm_err rerr; /* what a renderer reports */

    cm_err_clear(&rerr);
    if (data == NULL)
        goto oom;
    if (nt == 1 && PQgetisnull(res, 0, 0)) /* the marker row of an empty page */
        nt = 0;
    n = nt > limit ? (int)limit : nt;
    for (int i = 0; i < n; i++) {
        json_t *o = render(ctx, res, newest_first ? i : n - 1 - i, &rerr);

        if (o == NULL || json_array_append_new(data, o) < 0) {
            json_decref(data);
            if (rerr.status == 0)
                goto oom;
            *err = rerr;
            return NULL;
        }
    }
    list = cm_json_list(url, data, nt > limit);
    if (list != NULL)
        return list;
oom:
    cm_err_internal(err, "a page of %s does not render", url);
    return NULL;
}

char *cm_json_dump(const json_t *v, size_t *len)
{
    char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);

    if (s != NULL && len != NULL)
        *len = strlen(s);
    return s;
}

int cm_page_parse(const json_t *params, struct cm_page *page, struct cm_err *err)
{
    page->limit = 10;
    page->starting_after = NULL;
    page->ending_before = NULL;
    if (cm_param_int(params, "limit", 0, 1, 100, &page->limit, err) < 0)
        return -1;
    if (cm_param_str(params, "starting_after", 0, 5000, &page->starting_after, err) < 0 ||
        cm_param_str(params, "ending_before", 0, 5000, &page->ending_before, err) < 0)
        return -1;
    if (page->starting_after != NULL && page->ending_before != NULL)
        return cm_err_invalid(err, "ending_before",
                              "You may only specify one of these parameters: "
                              "ending_before, starting_after.");
    return 0;
}

static int path_depth(const char *p)
{
    int d = 1;

    for (; *p; p++)
        d += *p == '.';
    return d;
}

int cm_expand_parse(const json_t *params, const char *const *allowed, int list,
                    struct cm_expand *out, struct cm_err *err)
{
    json_t *arr = NULL;
    size_t i;
    json_t *v;

    out->n = 0;
    if (cm_param_str_array(params, "expand", CM_P_ALLOW_EMPTY, CM_EXPAND_MAX, 5000, &arr, err) < 0)
        return -1;
    if (arr == NULL)
        return 0;
    json_array_foreach(arr, i, v)
    {
        const char *p = json_string_value(v);
        const char *rel = p;
        size_t k;

        if (list) {
            if (strncmp(p, "data.", 5) != 0)
                goto bad;
            rel = p + 5;
        }
        if (path_depth(p) > 4)
            goto bad;
        for (k = 0; allowed != NULL && allowed[k] != NULL; k++)
            if (strcmp(allowed[k], rel) == 0)
                break;
        if (allowed == NULL || allowed[k] == NULL)
            goto bad;
        out->paths[out->n++] = rel;
        continue;
    bad:
        return cm_err_invalid(err, "expand", "This property cannot be expanded (%s).", p);
    }
    return 0;
}

int cm_expand_has(const struct cm_expand *ex, const char *path)
{
    for (size_t i = 0; i < ex->n; i++)
        if (strcmp(ex->paths[i], path) == 0)
            return 1;
    return 0;
}
