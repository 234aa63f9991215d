/* The events API, /v1/events: list (with the type, types[], created and
 * delivery_success filters, newest first) and retrieve. Events are the
 * core.events rows every service writes with cm_event_emit(); this module
 * only reads them.
 *
 * Who sees what, always in the key's mode: an account key sees the events of
 * its account (whichever app caused them); an app key sees its app's events,
 * of every account, or of one account when it sends Stripe-Account. Each
 * case has its own statements so the planner can use the index that fits
 * (events_account_created, events_app_created).
 *
 * cm_event_render() reads exactly CM_EVENTS_COLUMNS, so a page carries no
 * extra column: pending_webhooks comes from one more statement over the
 * page's ids, and a cursor that matches nothing is told apart from an empty
 * page only when the page comes back empty. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cm/events.h"
#include "cm/json.h"
#include "cm/params.h"
#include "module.h"
#include "webhook_events.h"
#include "cm/banned.h"

#define EVENTS_URL  "/v1/events"
#define TYPES_MAX   20
#define CREATED_END (CM_TIMESTAMP_MAX + 1)

/* $1 livemode, $2 account (NULL: any), $3 app (NULL: any). */
#define BY_ACCOUNT                                                                                 \
    " e.livemode = $1::boolean AND e.account_id = $2 AND ($3::text IS NULL OR e.app_id = $3)"
#define BY_APP                                                                                     \
    " e.livemode = $1::boolean AND e.app_id = $3 AND ($2::text IS NULL OR e.account_id = $2)"

/* $4 LIKE pattern, $5 exact names, $6/$7 created bounds, $8 delivery_success. */
#define FILTERS                                                                                    \
    " AND ($4::text IS NULL OR e.type LIKE $4)"                                                    \
    " AND ($5::text[] IS NULL OR e.type = ANY ($5::text[]))"                                       \
    " AND ($6::bigint IS NULL OR e.created >= to_timestamp($6::bigint))"                           \
    " AND ($7::bigint IS NULL OR e.created < to_timestamp($7::bigint))"                            \
    " AND ($8::boolean IS NULL OR $8::boolean <> EXISTS (SELECT 1 FROM core.event_deliveries d"    \
    " WHERE d.event_id = e.id AND d.state IN ('pending', 'failed')))"

/* $9 cursor (an event id the caller sees, or NULL), $10 limit. A cursor the
 * caller does not see makes the row comparison NULL: an empty page. (The
 * subquery's own alias e hides the outer one.) */
#define PAGE(visible, cmp, order)                                                                  \
    "SELECT " CM_EVENTS_COLUMNS " FROM core.events e WHERE" visible FILTERS                        \
    " AND ($9::text IS NULL OR (e.created, e.seq) " cmp " (SELECT e.created, e.seq"                \
    " FROM core.events e WHERE e.id = $9 AND" visible "))"                                         \
    " ORDER BY e.created " order ", e.seq " order " LIMIT $10::integer"

#define GET(visible) "SELECT " CM_EVENTS_COLUMNS " FROM core.events e WHERE e.id = $4 AND" visible

static const struct cm_stmt stmts[] = {
    {"inst_events_older_account", PAGE(BY_ACCOUNT, "<", "DESC"), 10},
    {"inst_events_newer_account", PAGE(BY_ACCOUNT, ">", "ASC"), 10},
    {"inst_events_older_app", PAGE(BY_APP, "<", "DESC"), 10},
    {"inst_events_newer_app", PAGE(BY_APP, ">", "ASC"), 10},
    {"inst_events_get_account", GET(BY_ACCOUNT), 4},
    {"inst_events_get_app", GET(BY_APP), 4},
    {"inst_events_by_ids",
     "SELECT " CM_EVENTS_COLUMNS " FROM core.events e WHERE e.id = ANY ($1::text[])", 1},
    {"inst_events_pending",
     "SELECT event_id, count(*) FROM core.event_deliveries WHERE event_id = ANY ($1::text[])"
     " AND state IN ('pending', 'failed') GROUP BY event_id",
     1},
    {NULL, NULL, 0},
};

/* Whose events the request sees; NULL means "any". */
struct owner {
    const char *account, *app;
    char live[6];
};

static void owner_of(const struct cm_req *req, struct owner *o)
{
    const struct cm_auth *a = &req->auth;

    snprintf(o->live, sizeof(o->live), "%s", a->livemode ? "true" : "false");
    if (a->app_id[0] == '\0') {
        o->account = a->account;
        o->app = NULL;
        return;
    }
    o->app = a->app_id;
    o->account = req->stripe_account != NULL && req->stripe_account[0] ? a->account : NULL;
}

/* A PostgreSQL text[] literal of items[0..n), every element double-quoted
 * with '"' and '\' escaped, so any string is safe. New string (free()), or
 * NULL when out of memory. */
static char *text_array(const char *const *items, size_t n)
{
    size_t cap = 3, len = 0;
    char *s;

    for (size_t i = 0; i < n; i++)
        cap += 2 * strlen(items[i]) + 3;
    s = malloc(cap);
    if (s == NULL)
        return NULL;
    s[len++] = '{';
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            s[len++] = ',';
        s[len++] = '"';
        for (const char *p = items[i]; *p; p++) {
            if (*p == '"' || *p == '\\')
                s[len++] = '\\';
            s[len++] = *p;
        }
        s[len++] = '"';
    }
    s[len++] = '}';
    s[len] = '\0';
    return s;
}

int inst_events_set_pending(struct cm_db *db, json_t *const *events, size_t n, struct cm_err *err)
{
    const char **ids = NULL;
    char *arr = NULL;
    PGresult *res = NULL;
    int ret = -1;

    if (n == 0)
        return 0;
    ids = calloc(n, sizeof(*ids));
    if (ids == NULL)
        return cm_err_internal(err, "out of memory counting pending webhooks");
    for (size_t i = 0; i < n; i++)
        ids[i] = json_string_value(json_object_get(events[i], "id"));
    for (size_t i = 0; i < n; i++)
        if (ids[i] == NULL) {
            cm_err_internal(err, "an event without an id");
            goto out;
        }
    arr = text_array(ids, n);
    if (arr == NULL) {
        cm_err_internal(err, "out of memory counting pending webhooks");
        goto out;
    }
    res = cm_db_exec(db, "inst_events_pending", 1, (const char *[]){arr}, err);
    if (res == NULL)
        goto out;
    for (int r = 0; r < PQntuples(res); r++) {
        const char *id = cm_db_value(res, r, 0);
        long long count = strtoll(cm_db_value(res, r, 1), NULL, 10);

        for (size_t i = 0; i < n; i++)
            if (strcmp(ids[i], id) == 0 &&
                json_object_set_new(events[i], "pending_webhooks", json_integer(count)) < 0) {
                cm_err_internal(err, "out of memory counting pending webhooks");
                goto out;
            }
    }
    ret = 0;
out:
    PQclear(res);
    free(arr);
    free(ids);
    return ret;
}

int inst_events_load(struct cm_db *db, const char *const *ids, size_t n, json_t **out,
                     struct cm_err *err)
{
    json_t **found = NULL;
    char *arr = NULL;
    PGresult *res = NULL;
    size_t nfound = 0;
    int ret = -1;

    for (size_t i = 0; i < n; i++)
        out[i] = NULL;
    if (n == 0)
        return 0;
    arr = text_array(ids, n);
    found = calloc(n, sizeof(*found));
    if (arr == NULL || found == NULL) {
        cm_err_internal(err, "out of memory loading events");
        goto out;
    }
    res = cm_db_exec(db, "inst_events_by_ids", 1, (const char *[]){arr}, err);
    if (res == NULL)
        goto out;
    for (int r = 0; r < PQntuples(res); r++) {
        const char *id = cm_db_value(res, r, CM_EVENTS_COL_ID);

        for (size_t i = 0; i < n; i++) {
            if (out[i] != NULL || strcmp(ids[i], id) != 0)
                continue;
            out[i] = cm_event_render(res, r);
            if (out[i] == NULL) {
                cm_err_internal(err, "event %s does not render", id);
                goto out;
            }
            found[nfound++] = out[i];
        }
    }
    ret = inst_events_set_pending(db, found, nfound, err);
out:
    if (ret != 0)
        for (size_t i = 0; i < n; i++) {
            json_decref(out[i]);
            out[i] = NULL;
        }
    PQclear(res);
    free(found);
    free(arr);
    return ret;
}

static long long clamp(long long v)
{
    return v < 0 ? 0 : v > CREATED_END ? CREATED_END : v;
}

/* X + 1 without overflow; past CREATED_END it makes no difference. */
static long long next_second(long long x)
{
    return x >= CREATED_END ? CREATED_END : x + 1;
}

void inst_events_created_bounds(const struct cm_range *r, struct inst_created_bounds *b)
{
    long long lo = 0, hi = CREATED_END;

    if (r->has_eq) {
        lo = r->eq;
        hi = next_second(r->eq);
    }
    if (r->has_gte && r->gte > lo)
        lo = r->gte;
    if (r->has_gt && next_second(r->gt) > lo)
        lo = next_second(r->gt);
    if (r->has_lt && r->lt < hi)
        hi = r->lt;
    if (r->has_lte && next_second(r->lte) < hi)
        hi = next_second(r->lte);
    b->lo = clamp(lo);
    b->hi = clamp(hi);
    b->has_lo = b->lo > 0;
    b->has_hi = b->hi < CREATED_END;
    /* Keep an empty range visibly empty even after clamping. */
    if (b->lo >= b->hi) {
        b->has_lo = b->has_hi = 1;
        b->hi = b->lo;
    }
}

static int type_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.';
}

int inst_events_type_like(const char *type, char *out, size_t cap)
{
    size_t n = strlen(type), len = 0;
    int wild = 0;

    if (n == 0 || n > INST_EVENT_TYPE_MAX)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (type[i] == '*')
            wild = 1;
        else if (!type_char(type[i]))
            return -1;
    }
    if (!wild)
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (len + 3 > cap)
            return -1;
        if (type[i] == '*')
            out[len++] = '%';
        else {
            if (type[i] == '_')
                out[len++] = '\\';
            out[len++] = type[i];
        }
    }
    out[len] = '\0';
    return 1;
}

/* The list filters, as statement parameters ($4 to $8). */
struct filters {
    char like[2 * INST_EVENT_TYPE_MAX + 1];
    int has_like;
    char *names; /* new text[] literal, or NULL */
    char lo[24], hi[24];
    struct inst_created_bounds created;
    int has_success, success;
};

static int parse_filters(const json_t *p, struct filters *f, struct cm_err *err)
{
    const char *type = NULL;
    json_t *types = NULL;
    struct cm_range range;
    int rc;

    memset(f, 0, sizeof(*f));
    if (cm_param_str(p, "type", 0, INST_EVENT_TYPE_MAX, &type, err) < 0 ||
        cm_param_str_array(p, "types", 0, TYPES_MAX, INST_EVENT_TYPE_MAX, &types, err) < 0 ||
        cm_param_range(p, "created", &range, err) < 0 ||
        (rc = cm_param_bool(p, "delivery_success", 0, &f->success, err)) < 0)
        return -1;
    f->has_success = rc == 1;
    if (type != NULL && types != NULL)
        return cm_err_invalid(err, "types",
                              "You may only specify one of these parameters: type, types.");
    if (type != NULL) {
        rc = inst_events_type_like(type, f->like, sizeof(f->like));
        if (rc < 0)
            return cm_err_invalid(err, "type",
                                  "Invalid type: must be an event type such as "
                                  "'account.application.authorized', or a pattern with '*' "
                                  "such as 'account.application.*'.");
        f->has_like = rc == 1;
        if (!f->has_like)
            f->names = text_array(&type, 1);
    } else if (types != NULL) {
        const char *items[TYPES_MAX];
        size_t n = json_array_size(types);

        for (size_t i = 0; i < n; i++)
            items[i] = json_string_value(json_array_get(types, i));
        f->names = text_array(items, n);
    }
    if ((type != NULL || types != NULL) && !f->has_like && f->names == NULL)
        return cm_err_internal(err, "out of memory");
    inst_events_created_bounds(&range, &f->created);
    snprintf(f->lo, sizeof(f->lo), "%lld", f->created.lo);
    snprintf(f->hi, sizeof(f->hi), "%lld", f->created.hi);
    return 0;
}

/* cm_event_render as a cm_page_render callback. */
static json_t *event_at(void *ctx, const PGresult *res, int row, struct cm_err *err)
{
    (void)ctx, (void)err;
    return cm_event_render(res, row);
}

static int list(struct cm_req *req, struct cm_resp *resp, struct cm_err *err)
{
    struct owner o;
    struct filters f;
    struct cm_page page;
    struct cm_expand ex;
    PGresult *res = NULL;
    json_t *list = NULL, *data, **objs = NULL;
    const char *cursor, *stmt;
    char lim[24];
    size_t n;
    int after, nt, ret = -1;

    if (parse_filters(req->params, &f, err) < 0 || cm_page_parse(req->params, &page, err) < 0 ||
        cm_expand_parse(req->params, (const char *const[]){NULL}, 1, &ex, err) < 0)
        goto out;
    owner_of(req, &o);
    after = page.ending_before == NULL;
    cursor = after ? page.starting_after : page.ending_before;
    if (o.app == NULL)
        stmt = after ? "inst_events_older_account" : "inst_events_newer_account";
    else
        stmt = after ? "inst_events_older_app" : "inst_events_newer_app";
    /* One row more than asked says whether there is more that way. */
    snprintf(lim, sizeof(lim), "%lld", page.limit + 1);
    res = cm_db_exec(
        req->db, stmt, 10,
        (const char *[]){o.live, o.account, o.app, f.has_like ? f.like : NULL, f.names,
                         f.created.has_lo ? f.lo : NULL, f.created.has_hi ? f.hi : NULL,
                         f.has_success ? (f.success ? "true" : "false") : NULL, cursor, lim},
        err);
    if (res == NULL)
        goto out;
    nt = PQntuples(res);
    if (nt == 0 && cursor != NULL) {
        /* Empty: the end of the list, or a cursor this caller cannot see. */
        PGresult *c =
            cm_db_exec(req->db, o.app == NULL ? "inst_events_get_account" : "inst_events_get_app",
                       4, (const char *[]){o.live, o.account, o.app, cursor}, err);
        int seen = c != NULL && PQntuples(c) == 1;

        PQclear(c);
        if (c == NULL)
            goto out;
        if (!seen) {
            cm_err_not_found(err, "event", cursor, after ? "starting_after" : "ending_before");
            err->status = 400;
            goto out;
        }
    }
    list = cm_json_page(EVENTS_URL, res, page.limit, after, event_at, NULL, err);
    if (list == NULL)
        goto out;
    data = json_object_get(list, "data");
    n = json_array_size(data);
    objs = calloc(n > 0 ? n : 1, sizeof(*objs));
    if (objs == NULL) {
        cm_err_internal(err, "out of memory listing events");
        goto out;
    }
    for (size_t i = 0; i < n; i++)
        objs[i] = json_array_get(data, i);
    if (inst_events_set_pending(req->db, objs, n, err) < 0)
        goto out;
    ret = cm_resp_json(resp, 200, list, err);
    list = NULL;
out:
    json_decref(list);
    free(objs);
    free(f.names);
    PQclear(res);
    return ret;
}

static int retrieve(struct cm_req *req, struct cm_resp *resp, struct cm_err *err)
{
    struct owner o;
    struct cm_expand ex;
    PGresult *res = NULL;
    json_t *ev = NULL;
    const char *id = req->captures[0];
    int ret = -1;

    if (cm_expand_parse(req->params, (const char *const[]){NULL}, 0, &ex, err) < 0)
        return -1;
    owner_of(req, &o);
    res = cm_db_exec(req->db, o.app == NULL ? "inst_events_get_account" : "inst_events_get_app", 4,
                     (const char *[]){o.live, o.account, o.app, id}, err);
    if (res == NULL)
        goto out;
    if (PQntuples(res) != 1) {
        cm_err_not_found(err, "event", id, "id");
        goto out;
    }
    ev = cm_event_render(res, 0);
    if (ev == NULL) {
        cm_err_internal(err, "event %s does not render", id);
        goto out;
    }
    if (inst_events_set_pending(req->db, &ev, 1, err) < 0)
        goto out;
    ret = cm_resp_json(resp, 200, ev, err);
    ev = NULL; /* taken */
out:
    json_decref(ev);
    PQclear(res);
    return ret;
}

static const char *const list_params[] = {
    "type",  "types",          "created",       "delivery_success",
    "limit", "starting_after", "ending_before", NULL};
static const char *const no_params[] = {NULL};

static const struct cm_route routes[] = {
    {"GET", "/v1/events", list, CM_ROUTE_AUTH, list_params, NULL},
    {"GET", "/v1/events/{event}", retrieve, CM_ROUTE_AUTH, no_params, NULL},
};

const struct cm_module inst_events_module = {routes, sizeof(routes) / sizeof(routes[0]), stmts,
                                             NULL};
