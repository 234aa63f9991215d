/* Webhook endpoints, /v1/webhook_endpoints: create, retrieve, update, list
 * and delete (spec/API.md section 12).
 *
 * An endpoint belongs to the key's account in the key's mode; one made with
 * an app key belongs to the app (application = the app id) and receives the
 * app's events from every account that installed it. The whsec_ secret is
 * shown once, in the create response, and stored only sealed with the
 * endpoint id as associated data (delivery.c opens it to sign). Disabling or
 * deleting an endpoint cancels its pending deliveries in the same statement,
 * and the fan-out trigger skips it from then on. Deleted endpoints stay as
 * rows (deleted_at) so their deliveries keep their history. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "cm/crypto.h"
#include "cm/json.h"
#include "cm/params.h"
#include "cm/sig.h"
#include "module.h"
#include "webhook_names.h"
#include "webhook_url.h"
#include "cm/banned.h"

#define ENDPOINTS_URL   "/v1/webhook_endpoints"
#define ENDPOINTS_MAX   16 /* per owner and mode, as Stripe */
#define EVENTS_MAX      300
#define DESCRIPTION_MAX 5000
#define SECRET_RANDOM   32
#define SECRET_MAX      (sizeof("whsec_") + SECRET_RANDOM)

#define COLS                                                                                       \
    "w.id, floor(extract(epoch FROM w.created))::bigint, w.application, w.livemode, w.url,"        \
    " array_to_json(w.enabled_events)::text, w.api_version, w.description, w.metadata::text,"      \
    " w.status"
enum { C_ID, C_CREATED, C_APP, C_LIVE, C_URL, C_EVENTS, C_API_VERSION, C_DESC, C_META, C_STATUS };

/* $1 id, $2 account, $3 application (NULL for an account's own), $4 livemode. */
#define OWNED                                                                                      \
    " w.account_id = $2 AND w.application IS NOT DISTINCT FROM $3 AND w.livemode = $4::boolean"    \
    " AND w.deleted_at IS NULL"

/* Pending deliveries of the endpoints in CTE w that are (now) disabled. */
#define CANCEL_PENDING                                                                             \
    " c AS (UPDATE core.event_deliveries d SET state = 'canceled', finished_at = now(),"           \
    " leased_until = NULL FROM w WHERE d.endpoint_id = w.id AND w.cancel AND d.state = 'pending')"

/* A page past the cursor $1 (an endpoint of the owner) toward older ($5 limit). */
#define PAGE(cmp, order)                                                                           \
    "SELECT " COLS " FROM core.webhook_endpoints w WHERE" OWNED                                    \
    " AND ($1::text IS NULL OR (w.created, w.seq) " cmp " (SELECT w.created, w.seq"                \
    " FROM core.webhook_endpoints w WHERE w.id = $1 AND" OWNED "))"                                \
    " ORDER BY w.created " order ", w.seq " order " LIMIT $5::integer"

static const struct cm_stmt stmts[] = {
    /* Serializes creates of one account, so the limit holds. */
    {"inst_we_lock",
     "SELECT pg_advisory_xact_lock(hashtextextended('core.webhook_endpoints:' || $1, 0))", 1},
    {"inst_we_create",
     "INSERT INTO core.webhook_endpoints AS w (id, account_id, application, livemode, url,"
     " enabled_events, api_version, description, metadata, secret_sealed, secret_key_id)"
     " SELECT $1, $2, $3, $4::boolean, $5, ARRAY(SELECT jsonb_array_elements_text($6::jsonb)),"
     " $7, $8, (SELECT COALESCE(jsonb_object_agg(m.key, m.value), '{}'::jsonb)"
     " FROM jsonb_each($9::jsonb) m WHERE m.value <> '\"\"'::jsonb), decode($10, 'hex'), $11"
     " WHERE (SELECT count(*) FROM core.webhook_endpoints w WHERE" OWNED ") < $12::integer"
     " RETURNING " COLS,
     12},
    {"inst_we_get", "SELECT " COLS " FROM core.webhook_endpoints w WHERE w.id = $1 AND" OWNED, 4},
    /* $5 url, $6 enabled_events (JSON array), $7 set description?, $8 description,
     * $9 metadata changes (JSON; "" deletes a key), $10 clear metadata first?,
     * $11 disabled. NULL leaves a field as it is. */
    {"inst_we_update",
     "WITH w AS (UPDATE core.webhook_endpoints w SET url = COALESCE($5, w.url),"
     " enabled_events = CASE WHEN $6::jsonb IS NULL THEN w.enabled_events"
     " ELSE ARRAY(SELECT jsonb_array_elements_text($6::jsonb)) END,"
     " description = CASE WHEN $7::boolean THEN $8 ELSE w.description END,"
     " metadata = CASE WHEN $9::jsonb IS NULL AND NOT $10::boolean THEN w.metadata"
     " ELSE (SELECT COALESCE(jsonb_object_agg(m.key, m.value), '{}'::jsonb) FROM jsonb_each("
     " CASE WHEN $10::boolean THEN '{}'::jsonb ELSE w.metadata END"
     " || COALESCE($9::jsonb, '{}'::jsonb)) m WHERE m.value <> '\"\"'::jsonb) END,"
     " status = CASE WHEN $11::boolean IS NULL THEN w.status"
     " WHEN $11::boolean THEN 'disabled' ELSE 'enabled' END"
     " WHERE w.id = $1 AND" OWNED " RETURNING w.*, w.status = 'disabled' AS cancel)," CANCEL_PENDING
     " SELECT " COLS " FROM w",
     11},
    {"inst_we_delete",
     "WITH w AS (UPDATE core.webhook_endpoints w SET deleted_at = now()"
     " WHERE w.id = $1 AND" OWNED " RETURNING w.id, true AS cancel)," CANCEL_PENDING
     " SELECT w.id FROM w",
     4},
    {"inst_we_older", PAGE("<", "DESC"), 5},
    {"inst_we_newer", PAGE(">", "ASC"), 5},
    {NULL, NULL, 0},
};

/* Whose endpoints: an account key's account, or an app key's app (kept
 * under the app's owner account). */
struct owner {
    const char *account, *app;
    char live[6];
};

static void owner_of(const struct cm_req *req, struct owner *o)
{
    const struct cm_auth *a = &req->auth;

    snprintf(o->live, sizeof(o->live), "%s", a->livemode ? "true" : "false");
    o->app = a->app_id[0] ? a->app_id : NULL;
    o->account = o->app ? a->key_account : a->account;
}

/* The webhook_endpoint object of row r; secret only on create. */
static json_t *endpoint_json(const PGresult *res, int r, const char *secret)
{
    const char *desc = cm_db_value(res, r, C_DESC);
    json_t *events = json_loads(cm_db_value(res, r, C_EVENTS), 0, NULL);
    json_t *meta = json_loads(cm_db_value(res, r, C_META), 0, NULL);
    json_t *o;

    if (events == NULL || meta == NULL) {
        json_decref(events);
        json_decref(meta);
        return NULL;
    }
    /* "o" steals even on failure; "s*" leaves out a NULL secret. */
    o = json_pack("{s:s, s:s, s:s?, s:s?, s:I, s:s?, s:o, s:b, s:o, s:s*, s:s, s:s}", "id",
                  cm_db_value(res, r, C_ID), "object", "webhook_endpoint", "api_version",
                  cm_db_value(res, r, C_API_VERSION), "application", cm_db_value(res, r, C_APP),
                  "created", (json_int_t)strtoll(cm_db_value(res, r, C_CREATED), NULL, 10),
                  "description", desc, "enabled_events", events, "livemode",
                  strcmp(cm_db_value(res, r, C_LIVE), "t") == 0, "metadata", meta, "secret", secret,
                  "status", cm_db_value(res, r, C_STATUS), "url", cm_db_value(res, r, C_URL));
    return o;
}

static int respond_row(struct cm_resp *resp, const PGresult *res, const char *secret,
                       struct cm_err *err)
{
    json_t *o = endpoint_json(res, 0, secret);

    if (o == NULL)
        return cm_err_internal(err, "webhook endpoint %s does not render",
                               cm_db_value(res, 0, C_ID));
    return cm_resp_json(resp, 200, o, err);
}

/* enabled_events: known names, duplicates dropped, as a new JSON array
 * (*out), or NULL when absent and not required. */
static int enabled_events(const json_t *p, unsigned flags, json_t **out, struct cm_err *err)
{
    json_t *arr = NULL, *v;
    size_t i;
    int rc;

    *out = NULL;
    rc = cm_param_str_array(p, "enabled_events", flags, EVENTS_MAX, 0, &arr, err);
    if (rc <= 0)
        return rc;
    if (json_array_size(arr) == 0)
        return cm_err_missing(err, "enabled_events");
    *out = json_array();
    if (*out == NULL)
        return cm_err_internal(err, "out of memory");
    json_array_foreach(arr, i, v)
    {
        const char *name = json_string_value(v);
        char param[48];
        int dup = 0;
        size_t j;
        json_t *w;

        if (!inst_webhook_event_known(name)) {
            snprintf(param, sizeof(param), "enabled_events[%zu]", i);
            json_decref(*out);
            *out = NULL;
            return cm_err_invalid(err, param,
                                  "Invalid %s: '%.80s' is not an event type a webhook endpoint "
                                  "can enable.",
                                  param, name);
        }
        json_array_foreach(*out, j, w)
        {
            if (strcmp(json_string_value(w), name) == 0)
                dup = 1;
        }
        if (!dup && json_array_append(*out, v) < 0) {
            json_decref(*out);
            *out = NULL;
            return cm_err_internal(err, "out of memory");
        }
    }
    return 1;
}

/* metadata as stored changes: *out a new JSON text (free()) or NULL when
 * absent; *clear = 1 when metadata was "" (drop every key). */
static int metadata(const json_t *p, char **out, int *clear, struct cm_err *err)
{
    json_t *m = NULL;

    *out = NULL;
    *clear = 0;
    if (cm_param_get(p, "metadata") == NULL)
        return 0;
    if (cm_param_metadata(p, "metadata", &m, err) < 0)
        return -1;
    if (m == NULL) {
        *clear = 1;
        return 1;
    }
    *out = json_dumps(m, JSON_COMPACT);
    if (*out == NULL)
        return cm_err_internal(err, "out of memory");
    return 1;
}

/* A new whsec_ secret sealed for endpoint id: *sealed_hex new (free()). */
static int new_secret(const struct cm_req *req, const char *id, char *secret, char **sealed_hex,
                      const char **key_id, struct cm_err *err)
{
    size_t aadlen = 0, bloblen = 0;
    unsigned char *aad = NULL, *blob = NULL;
    int ret = -1;

    *sealed_hex = NULL;
    if (req->cfg->keys == NULL)
        return cm_err_internal(err, "svc-install has no keyring (CM_KEY_FILE)");
    memcpy(secret, "whsec_", 6);
    if (cm_random_base62(secret + 6, SECRET_RANDOM, err) < 0)
        return -1;
    aad = cm_aad_build(&aadlen, 1, (const char *const[]){id});
    if (aad == NULL) {
        cm_err_internal(err, "out of memory");
        goto out;
    }
    if (cm_seal(req->cfg->keys, aad, aadlen, secret, strlen(secret), &blob, &bloblen, key_id, err) <
        0)
        goto out;
    *sealed_hex = malloc(2 * bloblen + 1);
    if (*sealed_hex == NULL) {
        cm_err_internal(err, "out of memory");
        goto out;
    }
    cm_hex_encode(blob, bloblen, *sealed_hex);
    ret = 0;
out:
    free(aad);
    free(blob);
    return ret;
}

static int create(struct cm_req *req, struct cm_resp *resp, struct cm_err *err)
{
    const json_t *p = req->params;
    struct owner o;
    const char *url = NULL, *api_version = NULL, *desc = NULL, *key_id = NULL;
    json_t *events = NULL;
    char *events_text = NULL, *meta = NULL, *sealed = NULL;
    char id[CM_ID_MAX], secret[SECRET_MAX], limit[8];
    PGresult *res = NULL;
    int connect = 0, clear = 0, ret = -1;

    secret[0] = '\0';
    owner_of(req, &o);
    if (cm_param_str(p, "url", CM_P_REQUIRED, 0, &url, err) < 0 ||
        inst_webhook_url_check(url, req->auth.livemode, err) < 0 ||
        enabled_events(p, CM_P_REQUIRED, &events, err) < 0 ||
        cm_param_str(p, "api_version", 0, 64, &api_version, err) < 0 ||
        cm_param_bool(p, "connect", 0, &connect, err) < 0 ||
        cm_param_str(p, "description", CM_P_ALLOW_EMPTY, DESCRIPTION_MAX, &desc, err) < 0 ||
        metadata(p, &meta, &clear, err) < 0 ||
        cm_expand_parse(p, (const char *const[]){NULL}, 0, &(struct cm_expand){0}, err) < 0)
        goto out;
    if (api_version != NULL && !inst_webhook_api_version_known(api_version)) {
        cm_err_invalid(err, "api_version", "Invalid api_version: '%.64s' is not an API version.",
                       api_version);
        goto out;
    }
    if (connect && o.app == NULL) {
        cm_err_invalid(err, "connect",
                       "This account has no connected accounts: connect=true is only meaningful "
                       "for an app's endpoint (made with the app's key), which receives the events "
                       "of every account that installed the app.");
        goto out;
    }
    events_text = json_dumps(events, JSON_COMPACT);
    if (events_text == NULL) {
        cm_err_internal(err, "out of memory");
        goto out;
    }
    if (cm_id_new(id, sizeof(id), "we_", err) < 0 ||
        new_secret(req, id, secret, &sealed, &key_id, err) < 0)
        goto out;
    cm_req_audit(req, NULL, id, NULL);
    res = cm_db_exec(req->db, "inst_we_lock", 1, (const char *[]){o.account}, err);
    if (res == NULL)
        goto out;
    PQclear(res);
    snprintf(limit, sizeof(limit), "%d", ENDPOINTS_MAX);
    res = cm_db_exec(req->db, "inst_we_create", 12,
                     (const char *[]){id, o.account, o.app, o.live, url, events_text, api_version,
                                      desc != NULL && desc[0] ? desc : NULL, meta ? meta : "{}",
                                      sealed, key_id, limit},
                     err);
    if (res == NULL)
        goto out;
    if (PQntuples(res) != 1) {
        cm_err_set(err, 400, CM_ERR_INVALID_REQUEST, NULL, NULL,
                   "You have reached the maximum of %d webhook endpoints in %s mode. Delete one "
                   "before adding another.",
                   ENDPOINTS_MAX, req->auth.livemode ? "live" : "test");
        goto out;
    }
    ret = respond_row(resp, res, secret, err);
out:
    OPENSSL_cleanse(secret, sizeof(secret));
    PQclear(res);
    json_decref(events);
    free(events_text);
    free(meta);
    free(sealed);
    return ret;
}

static int retrieve(struct cm_req *req, struct cm_resp *resp, struct cm_err *err)
{
    struct owner o;
    const char *id = req->captures[0];
    PGresult *res;
    int ret;

    if (cm_expand_parse(req->params, (const char *const[]){NULL}, 0, &(struct cm_expand){0}, err) <
        0)
        return -1;
    owner_of(req, &o);
    res =
        cm_db_exec(req->db, "inst_we_get", 4, (const char *[]){id, o.account, o.app, o.live}, err);
    if (res == NULL)
        return -1;
    ret = PQntuples(res) == 1 ? respond_row(resp, res, NULL, err)
                              : cm_err_not_found(err, "webhook endpoint", id, "id");
    PQclear(res);
    return ret;
}

static int update(struct cm_req *req, struct cm_resp *resp, struct cm_err *err)
{
    const json_t *p = req->params;
    struct owner o;
    const char *id = req->captures[0], *url = NULL, *desc = NULL;
    json_t *events = NULL;
    char *events_text = NULL, *meta = NULL;
    PGresult *res = NULL;
    int disabled = 0, has_disabled, has_desc, clear = 0, ret = -1;

    owner_of(req, &o);
    if ((cm_param_str(p, "url", 0, 0, &url, err) < 0) ||
        (url != NULL && inst_webhook_url_check(url, req->auth.livemode, err) < 0) ||
        enabled_events(p, 0, &events, err) < 0 ||
        (has_desc = cm_param_str(p, "description", CM_P_ALLOW_EMPTY, DESCRIPTION_MAX, &desc, err)) <
            0 ||
        (has_disabled = cm_param_bool(p, "disabled", 0, &disabled, err)) < 0 ||
        metadata(p, &meta, &clear, err) < 0 ||
        cm_expand_parse(p, (const char *const[]){NULL}, 0, &(struct cm_expand){0}, err) < 0)
        goto out;
    if (events != NULL && (events_text = json_dumps(events, JSON_COMPACT)) == NULL) {
        cm_err_internal(err, "out of memory");
        goto out;
    }
    cm_req_audit(req, NULL, id, NULL);
    res = cm_db_exec(req->db, "inst_we_update", 11,
                     (const char *[]){id, o.account, o.app, o.live, url, events_text,
                                      has_desc ? "true" : "false",
                                      desc != NULL && desc[0] ? desc : NULL, meta,
                                      clear ? "true" : "false",
                                      has_disabled ? (disabled ? "true" : "false") : NULL},
                     err);
    if (res == NULL)
        goto out;
    if (PQntuples(res) != 1) {
        cm_err_not_found(err, "webhook endpoint", id, "id");
        goto out;
    }
    if (meta != NULL) {
        json_t *merged = json_loads(cm_db_value(res, 0, C_META), 0, NULL);
        size_t keys = json_object_size(merged);

        json_decref(merged);
        if (keys > CM_METADATA_MAX_KEYS) {
            cm_err_invalid(err, "metadata",
                           "Invalid metadata: an object can have at most %d metadata keys.",
                           CM_METADATA_MAX_KEYS);
            goto out;
        }
    }
    ret = respond_row(resp, res, NULL, err);
out:
    PQclear(res);
    json_decref(events);
    free(events_text);
    free(meta);
    return ret;
}

/* endpoint_json (no secret) as a cm_page_render callback. */
static json_t *endpoint_at(void *ctx, const PGresult *res, int row, struct cm_err *err)
{
    (void)ctx, (void)err;
    return endpoint_json(res, row, NULL);
}

static int list(struct cm_req *req, struct cm_resp *resp, struct cm_err *err)
{
    struct owner o;
    struct cm_page page;
    PGresult *res = NULL;
    json_t *data = NULL;
    const char *cursor;
    char lim[24];
    int after, nt, ret = -1;

    if (cm_page_parse(req->params, &page, err) < 0 ||
        cm_expand_parse(req->params, (const char *const[]){NULL}, 1, &(struct cm_expand){0}, err) <
            0)
        return -1;
    owner_of(req, &o);
    after = page.ending_before == NULL;
    cursor = after ? page.starting_after : page.ending_before;
    snprintf(lim, sizeof(lim), "%lld", page.limit + 1);
    res = cm_db_exec(req->db, after ? "inst_we_older" : "inst_we_newer", 5,
                     (const char *[]){cursor, o.account, o.app, o.live, lim}, err);
    if (res == NULL)
        goto out;
    nt = PQntuples(res);
    if (nt == 0 && cursor != NULL) {
        PGresult *c = cm_db_exec(req->db, "inst_we_get", 4,
                                 (const char *[]){cursor, o.account, o.app, o.live}, err);
        int seen = c != NULL && PQntuples(c) == 1;

        PQclear(c);
        if (c == NULL)
            goto out;
        if (!seen) {
            cm_err_not_found(err, "webhook endpoint", cursor,
                             after ? "starting_after" : "ending_before");
            err->status = 400;
            goto out;
        }
    }
    data = cm_json_page(ENDPOINTS_URL, res, page.limit, after, endpoint_at, NULL, err);
    if (data == NULL)
        goto out;
    ret = cm_resp_json(resp, 200, data, err);
    data = NULL;
out:
    json_decref(data);
    PQclear(res);
    return ret;
}

static int delete (struct cm_req *req, struct cm_resp *resp, struct cm_err *err)
{
    struct owner o;
    const char *id = req->captures[0];
    PGresult *res;
    int ret;

    owner_of(req, &o);
    cm_req_audit(req, NULL, id, NULL);
    res = cm_db_exec(req->db, "inst_we_delete", 4, (const char *[]){id, o.account, o.app, o.live},
                     err);
    if (res == NULL)
        return -1;
    if (PQntuples(res) == 1)
        ret = cm_resp_json(
            resp, 200,
            json_pack("{s:s, s:s, s:b}", "id", id, "object", "webhook_endpoint", "deleted", 1),
            err);
    else
        ret = cm_err_not_found(err, "webhook endpoint", id, "id");
    PQclear(res);
    return ret;
}

static const char *const create_params[] = {
    "url", "enabled_events", "api_version", "connect", "description", "metadata", NULL};
static const char *const update_params[] = {"url",         "enabled_events", "disabled",
                                            "description", "metadata",       NULL};
static const char *const list_params[] = {"limit", "starting_after", "ending_before", NULL};
static const char *const no_params[] = {NULL};

static const struct cm_route routes[] = {
    {"POST", "/v1/webhook_endpoints", create, CM_ROUTE_AUTH | CM_ROUTE_TX, create_params,
     "webhook_endpoint.create"},
    {"GET", "/v1/webhook_endpoints", list, CM_ROUTE_AUTH, list_params, NULL},
    {"GET", "/v1/webhook_endpoints/{webhook_endpoint}", retrieve, CM_ROUTE_AUTH, no_params, NULL},
    {"POST", "/v1/webhook_endpoints/{webhook_endpoint}", update, CM_ROUTE_AUTH | CM_ROUTE_TX,
     update_params, "webhook_endpoint.update"},
    {"DELETE", "/v1/webhook_endpoints/{webhook_endpoint}", delete, CM_ROUTE_AUTH | CM_ROUTE_TX,
     no_params, "webhook_endpoint.delete"},
};

const struct cm_module inst_webhooks_module = {routes, sizeof(routes) / sizeof(routes[0]), stmts,
                                               NULL};
