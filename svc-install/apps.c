/* The apps management API (/v1/apps/apps): an app owner registers apps,
 * uploads versions (validated manifests, manifest.c), publishes one,
 * points an external test at one, and rolls the app's signing secret.
 *
 * Access: only the owner account's own secret key. App keys and dashboard
 * extension tokens are refused (403); another account's app is answered as
 * if it did not exist (404), so ids of other owners' apps are not probed
 * through this API. Apps and versions belong to no mode: both modes' keys
 * see the same ones, and the mode only decides whether a manifest may name
 * plain http redirect URIs to localhost.
 *
 * A signing secret is created here and shown twice at most: in the create
 * response and in each roll's. It is stored only sealed (see
 * signing_secret.c, whose associated data this file must match). Publishing
 * and setting the external test lock the app row first, so two concurrent
 * publishes serialize instead of colliding on the one-published index. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "cm/crypto.h"
#include "cm/json.h"
#include "cm/params.h"
#include "cm/sig.h"
#include "manifest.h"
#include "module.h"
#include "signing_secret.h"
#include "cm/banned.h"

#define APPS_URL     "/v1/apps/apps"
#define APP_ID_MAX   128
#define NAME_MAX_LEN INST_MANIFEST_NAME_MAX
#define MANIFEST_MAX 65536 /* characters of the manifest param */

/* An app row: id, application id, name, created, published version. */
#define APP_COLS                                                                                   \
    "a.id, a.application_id, a.name, floor(extract(epoch FROM a.created))::bigint AS created,"     \
    " (SELECT p.version FROM install.app_versions p WHERE p.app_id = a.id AND p.published)"
enum { A_ID, A_APPLICATION, A_NAME, A_CREATED, A_PUBLISHED, A_NCOLS };

/* A version row; permissions come from the manifest, with their purposes. */
#define VER_COLS                                                                                   \
    "v.app_id, v.version, v.manifest->>'name', v.manifest->>'icon',"                               \
    " (SELECT coalesce(json_agg(json_build_object('permission', p.item->>'permission',"            \
    " 'purpose', p.item->>'purpose') ORDER BY p.n), '[]')::text"                                   \
    " FROM jsonb_array_elements(CASE jsonb_typeof(v.manifest->'permissions') WHEN 'array'"         \
    " THEN v.manifest->'permissions' ELSE '[]' END) WITH ORDINALITY AS p(item, n)),"               \
    " array_to_json(v.allowed_redirect_uris)::text, v.published,"                                  \
    " floor(extract(epoch FROM v.created))::bigint"
enum { V_APP, V_VERSION, V_NAME, V_ICON, V_PERMISSIONS, V_URIS, V_PUBLISHED, V_CREATED, V_NCOLS };

/* The owner's app ($1, $2) and its version $3, if any: no row, no such app;
 * V_APP NULL, no such version. */
#define VERSION_OF_APP                                                                             \
    "SELECT " VER_COLS " FROM install.apps a LEFT JOIN install.app_versions v"                     \
    " ON v.app_id = a.id AND v.version = $3 WHERE a.id = $1 AND a.owner_account = $2"

/* A page of rows newest first, after (or before) the cursor row c. The
 * LEFT JOIN on (SELECT 1) always yields one row, so an empty page still
 * carries the trailing flags. */
#define APPS_PAGE(cmp, order)                                                                      \
    "WITH c AS (SELECT a.created, a.id FROM install.apps a WHERE a.owner_account = $1"             \
    " AND a.id = $2), page AS (SELECT " APP_COLS ", a.created AS ord FROM install.apps a"          \
    " WHERE a.owner_account = $1 AND ($2::text IS NULL OR (a.created, a.id) " cmp                  \
    " (SELECT c.created, c.id FROM c)) ORDER BY a.created " order ", a.id " order                  \
    " LIMIT $3::integer) SELECT page.*, $2::text IS NULL OR EXISTS (SELECT 1 FROM c)"              \
    " FROM (SELECT 1) one LEFT JOIN page ON true ORDER BY page.ord " order ", page.id " order
#define VERSIONS_PAGE(cmp, order)                                                                  \
    "WITH a AS (SELECT id FROM install.apps WHERE id = $1 AND owner_account = $2),"                \
    " c AS (SELECT v.created, v.version FROM install.app_versions v JOIN a ON v.app_id = a.id"     \
    " WHERE v.version = $3), page AS (SELECT " VER_COLS ", v.created AS ord"                       \
    " FROM install.app_versions v JOIN a ON v.app_id = a.id WHERE $3::text IS NULL"                \
    " OR (v.created, v.version) " cmp " (SELECT c.created, c.version FROM c)"                      \
    " ORDER BY v.created " order ", v.version " order " LIMIT $4::integer)"                        \
    " SELECT page.*, EXISTS (SELECT 1 FROM a), $3::text IS NULL OR EXISTS (SELECT 1 FROM c)"       \
    " FROM (SELECT 1) one LEFT JOIN page ON true ORDER BY page.ord " order ", page.version " order

/* External test columns: app, link, version, created, updated, redirect URIs. */
enum { T_APP, T_LINK, T_VERSION, T_CREATED, T_UPDATED, T_URIS, T_NCOLS };

static const struct cm_stmt stmts[] = {
    {"inst_apps_create",
     "INSERT INTO install.apps AS a (id, owner_account, name, application_id,"
     " signing_secret_sealed, signing_key_id) VALUES ($1, $2, $3, $4, decode($5, 'hex'), $6)"
     " ON CONFLICT (id) DO NOTHING RETURNING " APP_COLS,
     6},
    {"inst_apps_get",
     "SELECT " APP_COLS " FROM install.apps a WHERE a.id = $1 AND a.owner_account = $2", 2},
    {"inst_apps_roll",
     "UPDATE install.apps a SET signing_secret = NULL, signing_secret_sealed = decode($3, 'hex'),"
     " signing_key_id = $4 WHERE a.id = $1 AND a.owner_account = $2 RETURNING " APP_COLS,
     4},
    {"inst_apps_list_older", APPS_PAGE("<", "DESC"), 3},
    {"inst_apps_list_newer", APPS_PAGE(">", "ASC"), 3},
    {"inst_apps_version_create",
     "INSERT INTO install.app_versions AS v (app_id, version, manifest, permissions,"
     " allowed_redirect_uris) VALUES ($1, $2, $3::jsonb,"
     " ARRAY(SELECT p.item->>'permission' FROM jsonb_array_elements(coalesce($3::jsonb->"
     "'permissions', '[]')) WITH ORDINALITY AS p(item, n) ORDER BY p.n),"
     " ARRAY(SELECT u.uri FROM jsonb_array_elements_text(coalesce($3::jsonb->"
     "'allowed_redirect_uris', '[]')) WITH ORDINALITY AS u(uri, n) ORDER BY u.n))"
     " ON CONFLICT (app_id, version) DO NOTHING RETURNING " VER_COLS,
     3},
    {"inst_apps_version_get", VERSION_OF_APP, 3},
    {"inst_apps_version_lock", VERSION_OF_APP " FOR UPDATE OF a", 3},
    {"inst_apps_versions_older", VERSIONS_PAGE("<", "DESC"), 4},
    {"inst_apps_versions_newer", VERSIONS_PAGE(">", "ASC"), 4},
    {"inst_apps_unpublish",
     "UPDATE install.app_versions SET published = false WHERE app_id = $1 AND published"
     " AND version <> $2",
     2},
    {"inst_apps_publish",
     "UPDATE install.app_versions v SET published = true WHERE v.app_id = $1 AND v.version = $2"
     " RETURNING " VER_COLS,
     2},
    {"inst_apps_test_set",
     "WITH t AS (INSERT INTO install.external_tests (app_id, link_id, version)"
     " VALUES ($1, $2, $3) ON CONFLICT (app_id) DO UPDATE SET version = EXCLUDED.version,"
     " updated = now() RETURNING app_id, link_id, version, created, updated)"
     " SELECT t.app_id, t.link_id, t.version, floor(extract(epoch FROM t.created))::bigint,"
     " floor(extract(epoch FROM t.updated))::bigint, array_to_json(v.allowed_redirect_uris)::text"
     " FROM t JOIN install.app_versions v ON v.app_id = t.app_id AND v.version = t.version",
     3},
    {"inst_apps_test_get",
     "SELECT a.id, t.link_id, t.version, floor(extract(epoch FROM t.created))::bigint,"
     " floor(extract(epoch FROM t.updated))::bigint, array_to_json(v.allowed_redirect_uris)::text"
     " FROM install.apps a LEFT JOIN install.external_tests t ON t.app_id = a.id"
     " LEFT JOIN install.app_versions v ON v.app_id = t.app_id AND v.version = t.version"
     " WHERE a.id = $1 AND a.owner_account = $2",
     2},
    {NULL, NULL, 0},
};

static const char *const no_expand[] = {NULL};

static int owner_only(const struct cm_req *req, struct cm_err *err)
{
    if (req->auth.app_id[0] != '\0')
        return cm_err_set(err, 403, CM_ERR_INVALID_REQUEST, NULL, NULL,
                          "Apps are managed with the secret key of the account that owns them, "
                          "not with an app's key.");
    return 0;
}

/* Owner only, and no expand[] (nothing here is expandable). */
static int preamble(const struct cm_req *req, int list, struct cm_err *err)
{
    struct cm_expand ex;

    if (owner_only(req, err) < 0)
        return -1;
    return cm_expand_parse(req->params, no_expand, list, &ex, err);
}

static int app_missing(const char *app, struct cm_err *err)
{
    return cm_err_not_found(err, "app", app, NULL);
}

/* [A-Za-z0-9][A-Za-z0-9._-]{0,127}, as install.apps.id's CHECK. */
static int valid_app_id(const char *s)
{
    size_t n = strlen(s);

    if (n == 0 || n > APP_ID_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        int alnum = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');

        if (!alnum && (i == 0 || (c != '.' && c != '_' && c != '-')))
            return 0;
    }
    return 1;
}

static long long int_at(const PGresult *res, int row, int col)
{
    const char *v = cm_db_value(res, row, col);

    return v ? strtoll(v, NULL, 10) : 0;
}

static int bool_at(const PGresult *res, int row, int col)
{
    const char *v = cm_db_value(res, row, col);

    return v != NULL && strcmp(v, "t") == 0;
}

/* A JSON array from a column holding JSON text; new, or NULL. */
static json_t *json_at(const PGresult *res, int row, int col)
{
    const char *v = cm_db_value(res, row, col);

    return json_loads(v ? v : "[]", 0, NULL);
}

/* "<CM_BASE_URL>/apps/install/link/<link>" as a new JSON string. */
static json_t *install_link(const struct cm_req *req, const char *link)
{
    const char *base = req->cfg->base_url;
    size_t n = strlen(base);
    char url[512];

    while (n > 0 && base[n - 1] == '/')
        n--;
    if (snprintf(url, sizeof(url), "%.*s/apps/install/link/%s", (int)n, base, link) >=
        (int)sizeof(url))
        return NULL;
    return json_string(url);
}

/* The apps.app object of row; secret (create and roll only) or NULL. */
static json_t *app_json(const struct cm_req *req, const PGresult *res, int row, const char *secret)
{
    const char *id = cm_db_value(res, row, A_ID);
    json_t *o = json_pack(
        "{s:s, s:s, s:s, s:s, s:I, s:s?, s:o?}", "id", id, "object", "apps.app", "application",
        cm_db_value(res, row, A_APPLICATION), "name", cm_db_value(res, row, A_NAME), "created",
        (json_int_t)int_at(res, row, A_CREATED), "published_version",
        cm_db_value(res, row, A_PUBLISHED), "install_link", install_link(req, id));

    if (o != NULL && secret != NULL &&
        json_object_set_new(o, "signing_secret", json_string(secret)) < 0) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static json_t *app_row_json(const struct cm_req *req, const PGresult *res, int row)
{
    return app_json(req, res, row, NULL);
}

/* The apps.app_version object of row, whose columns start at col 0. */
static json_t *version_json(const struct cm_req *req, const PGresult *res, int row)
{
    const char *app = cm_db_value(res, row, V_APP), *version = cm_db_value(res, row, V_VERSION);
    char id[APP_ID_MAX + INST_MANIFEST_VERSION_MAX + 2];

    (void)req;
    snprintf(id, sizeof(id), "%s@%s", app, version);
    return json_pack("{s:s, s:s, s:s, s:s, s:s?, s:s?, s:o, s:o, s:b, s:I}", "id", id, "object",
                     "apps.app_version", "app", app, "version", version, "name",
                     cm_db_value(res, row, V_NAME), "icon", cm_db_value(res, row, V_ICON),
                     "permissions", json_at(res, row, V_PERMISSIONS), "allowed_redirect_uris",
                     json_at(res, row, V_URIS), "published", bool_at(res, row, V_PUBLISHED),
                     "created", (json_int_t)int_at(res, row, V_CREATED));
}

static json_t *test_json(const struct cm_req *req, const PGresult *res, int row)
{
    return json_pack("{s:s, s:s, s:s, s:o, s:o, s:I, s:I}", "object", "apps.external_test", "app",
                     cm_db_value(res, row, T_APP), "version", cm_db_value(res, row, T_VERSION),
                     "install_link", install_link(req, cm_db_value(res, row, T_LINK)),
                     "allowed_redirect_uris", json_at(res, row, T_URIS), "created",
                     (json_int_t)int_at(res, row, T_CREATED), "updated",
                     (json_int_t)int_at(res, row, T_UPDATED));
}

static int respond(struct cm_resp *resp, json_t *o, struct cm_err *err)
{
    if (o == NULL)
        return cm_err_internal(err, "out of memory rendering an app object");
    return cm_resp_json(resp, 200, o, err);
}

/* A list page from a *_PAGE result (cm_json_page: the rows of one page,
 * newest first after starting_after, turned around after ending_before). */
static int respond_page(const struct cm_req *req, struct cm_resp *resp, const PGresult *res,
                        long long limit, int after, cm_page_render render, const char *url,
                        struct cm_err *err)
{
    json_t *list = cm_json_page(url, res, limit, after, render, (void *)req, err);

    return list != NULL ? cm_resp_json(resp, 200, list, err) : -1;
}

/* app_row_json and version_json as cm_page_render callbacks (ctx: the request). */
static json_t *app_row_at(void *req, const PGresult *res, int row, struct cm_err *err)
{
    (void)err;
    return app_row_json(req, res, row);
}

static json_t *version_at(void *req, const PGresult *res, int row, struct cm_err *err)
{
    (void)err;
    return version_json(req, res, row);
}

static const char *const create_params[] = {"id", "name", NULL};

static int app_create(struct cm_req *req, struct cm_resp *resp, struct cm_err *err)
{
    const char *id = NULL, *name = NULL, *key_id = NULL;
    char application[CM_ID_MAX], secret[INST_SIGNING_SECRET_MAX] = "";
    char *hex = NULL;
    PGresult *res = NULL;
    int ret = -1;

    if (preamble(req, 0, err) < 0 ||
        cm_param_str(req->params, "id", CM_P_REQUIRED, APP_ID_MAX, &id, err) < 0 ||
        cm_param_str(req->params, "name", CM_P_REQUIRED, NAME_MAX_LEN, &name, err) < 0)
        return -1;
    if (!valid_app_id(id))
        return cm_err_invalid(err, "id",
                              "Invalid id: an app id starts with a letter or digit and holds "
                              "only letters, digits, '.', '_' and '-' (for example "
                              "com.example.app).");
    cm_req_audit(req, NULL, id, NULL);
    if (cm_id_new(application, sizeof(application), "ca_", err) < 0 ||
        inst_signing_secret_new(req->cfg, id, secret, sizeof(secret), &hex, &key_id, err) < 0)
        goto out;
    res = cm_db_exec(req->db, "inst_apps_create", 6,
                     (const char *[]){id, req->auth.key_account, name, application, hex, key_id},
                     err);
    if (res == NULL)
        goto out;
    if (PQntuples(res) != 1) {
        cm_err_set(err, 400, CM_ERR_INVALID_REQUEST, "resource_already_exists", "id",
                   "An app with the id '%s' already exists.", id);
        goto out;
    }
    ret = respond(resp, app_json(req, res, 0, secret), err);
out:
    OPENSSL_cleanse(secret, sizeof(secret));
    PQclear(res);
    free(hex);
    return ret;
}

static const char *const page_params[] = {"limit", "starting_after", "ending_before", NULL};

static int app_list(struct cm_req *req, struct cm_resp *resp, struct cm_err *err)
{
    struct cm_page page;
    const char *cursor;
    char lim[24];
    PGresult *res;
    int after, ret;

    if (preamble(req, 1, err) < 0 || cm_page_parse(req->params, &page, err) < 0)
        return -1;
    after = page.ending_before == NULL;
    cursor = after ? page.starting_after : page.ending_before;
    snprintf(lim, sizeof(lim), "%lld", page.limit + 1); /* one more: has_more */
    res = cm_db_exec(req->db, after ? "inst_apps_list_older" : "inst_apps_list_newer", 3,
                     (const char *[]){req->auth.key_account, cursor, lim}, err);
    if (res == NULL)
        return -1;
    if (PQntuples(res) < 1 || !bool_at(res, 0, A_NCOLS + 1)) {
        ret = PQntuples(res) < 1 ? cm_err_internal(err, "empty page result")
                                 : cm_err_set(err, 400, CM_ERR_INVALID_REQUEST, "resource_missing",
                                              after ? "starting_after" : "ending_before",
                                              "No such app: '%s'", cursor);
    } else {
        ret = respond_page(req, resp, res, page.limit, after, app_row_at, APPS_URL, err);
    }
    PQclear(res);
    return ret;
}

static const char *const no_params[] = {NULL};

static int app_retrieve(struct cm_req *req, struct cm_resp *resp, struct cm_err *err)
{
    const char *app = req->captures[0];
    PGresult *res;
    int ret;

    if (preamble(req, 0, err) < 0)
        return -1;
    res =
        cm_db_exec(req->db, "inst_apps_get", 2, (const char *[]){app, req->auth.key_account}, err);
    if (res == NULL)
        return -1;
    ret = PQntuples(res) == 1 ? respond(resp, app_json(req, res, 0, NULL), err)
                              : app_missing(app, err);
    PQclear(res);
    return ret;
}

/* The old secret stops signing at once: the row holds one secret. */
static int app_roll(struct cm_req *req, struct cm_resp *resp, struct cm_err *err)
{
    const char *app = req->captures[0], *key_id = NULL;
    char secret[INST_SIGNING_SECRET_MAX] = "";
    char *hex = NULL;
    PGresult *res = NULL;
    int ret = -1;

    if (preamble(req, 0, err) < 0)
        return -1;
    cm_req_audit(req, NULL, app, NULL);
    if (inst_signing_secret_new(req->cfg, app, secret, sizeof(secret), &hex, &key_id, err) < 0)
        goto out;
    res = cm_db_exec(req->db, "inst_apps_roll", 4,
                     (const char *[]){app, req->auth.key_account, hex, key_id}, err);
    if (res == NULL)
        goto out;
    ret = PQntuples(res) == 1 ? respond(resp, app_json(req, res, 0, secret), err)
                              : app_missing(app, err);
out:
    OPENSSL_cleanse(secret, sizeof(secret));
    PQclear(res);
    free(hex);
    return ret;
}

static const char *const version_create_params[] = {"manifest", NULL};

static int version_create(struct cm_req *req, struct cm_resp *resp, struct cm_err *err)
{
    const char *app = req->captures[0], *text = NULL;
    struct inst_manifest m;
    char object[CM_CAPTURE_MAX + INST_MANIFEST_VERSION_MAX + 2];
    char *doc = NULL;
    PGresult *res = NULL;
    int ret = -1;

    memset(&m, 0, sizeof(m));
    if (preamble(req, 0, err) < 0)
        return -1;
    cm_req_audit(req, NULL, app, NULL);
    /* Another owner's app is missing before its manifest is looked at. */
    res =
        cm_db_exec(req->db, "inst_apps_get", 2, (const char *[]){app, req->auth.key_account}, err);
    if (res == NULL)
        return -1;
    if (PQntuples(res) != 1) {
        app_missing(app, err);
        goto out;
    }
    PQclear(res);
    res = NULL;
    if (cm_param_str(req->params, "manifest", CM_P_REQUIRED, MANIFEST_MAX, &text, err) < 0 ||
        inst_manifest_parse(text, strlen(text), app, req->auth.livemode, &m, err) < 0)
        goto out;
    snprintf(object, sizeof(object), "%s@%s", app, m.version);
    cm_req_audit(req, NULL, object, NULL);
    /* What was validated is what is stored: the parsed document, re-serialized. */
    doc = cm_json_dump(m.doc, NULL);
    if (doc == NULL) {
        cm_err_internal(err, "out of memory");
        goto out;
    }
    res = cm_db_exec(req->db, "inst_apps_version_create", 3, (const char *[]){app, m.version, doc},
                     err);
    if (res == NULL)
        goto out;
    if (PQntuples(res) != 1) {
        cm_err_set(err, 400, CM_ERR_INVALID_REQUEST, NULL, "manifest[version]",
                   "Invalid manifest[version]: version %s of the app '%s' already exists. "
                   "Upload a manifest with a new version.",
                   m.version, app);
        goto out;
    }
    ret = respond(resp, version_json(req, res, 0), err);
out:
    free(doc);
    inst_manifest_release(&m);
    PQclear(res);
    return ret;
}

/* A version cursor is the object id "<app>@<version>", or a bare version. */
static const char *version_cursor(const char *app, const char *cursor)
{
    size_t n = strlen(app);

    if (cursor != NULL && strncmp(cursor, app, n) == 0 && cursor[n] == '@')
        return cursor + n + 1;
    return cursor;
}

static int version_list(struct cm_req *req, struct cm_resp *resp, struct cm_err *err)
{
    const char *app = req->captures[0], *cursor;
    struct cm_page page;
    char lim[24], url[sizeof(APPS_URL) + CM_CAPTURE_MAX + 16];
    PGresult *res;
    int after, ret;

    if (preamble(req, 1, err) < 0 || cm_page_parse(req->params, &page, err) < 0)
        return -1;
    after = page.ending_before == NULL;
    cursor = after ? page.starting_after : page.ending_before;
    snprintf(lim, sizeof(lim), "%lld", page.limit + 1);
    res = cm_db_exec(req->db, after ? "inst_apps_versions_older" : "inst_apps_versions_newer", 4,
                     (const char *[]){app, req->auth.key_account, version_cursor(app, cursor), lim},
                     err);
    if (res == NULL)
        return -1;
    if (PQntuples(res) < 1)
        ret = cm_err_internal(err, "empty page result");
    else if (!bool_at(res, 0, V_NCOLS + 1))
        ret = app_missing(app, err);
    else if (!bool_at(res, 0, V_NCOLS + 2))
        ret = cm_err_set(err, 400, CM_ERR_INVALID_REQUEST, "resource_missing",
                         after ? "starting_after" : "ending_before", "No such app version: '%s'",
                         cursor);
    else {
        snprintf(url, sizeof(url), "%s/%s/versions", APPS_URL, app);
        ret = respond_page(req, resp, res, page.limit, after, version_at, url, err);
    }
    PQclear(res);
    return ret;
}

/* The owner's app and its version from the path (or param) into *out: 0, or
 * -1 with 404 for the app and 404 (or 400 with vparam set) for the version. */
static int find_version(struct cm_req *req, const char *stmt, const char *app, const char *version,
                        const char *vparam, PGresult **out, struct cm_err *err)
{
    PGresult *res =
        cm_db_exec(req->db, stmt, 3, (const char *[]){app, req->auth.key_account, version}, err);

    *out = NULL;
    if (res == NULL)
        return -1;
    if (PQntuples(res) != 1)
        app_missing(app, err);
    else if (cm_db_value(res, 0, V_APP) == NULL)
        cm_err_set(err, vparam ? 400 : 404, CM_ERR_INVALID_REQUEST, "resource_missing", vparam,
                   "No such app version: '%s@%s'", app, version);
    else {
        *out = res;
        return 0;
    }
    PQclear(res);
    return -1;
}

static int version_retrieve(struct cm_req *req, struct cm_resp *resp, struct cm_err *err)
{
    PGresult *res;
    int ret;

    if (preamble(req, 0, err) < 0 || find_version(req, "inst_apps_version_get", req->captures[0],
                                                  req->captures[1], NULL, &res, err) < 0)
        return -1;
    ret = respond(resp, version_json(req, res, 0), err);
    PQclear(res);
    return ret;
}

/* Locks the app, unpublishes the others, then publishes this one: the
 * one-published index is checked row by row, so the order matters. */
static int version_publish(struct cm_req *req, struct cm_resp *resp, struct cm_err *err)
{
    const char *app = req->captures[0], *version = req->captures[1];
    const char *params[] = {app, version};
    char object[2 * CM_CAPTURE_MAX + 2];
    PGresult *res = NULL;
    int ret = -1;

    if (preamble(req, 0, err) < 0)
        return -1;
    snprintf(object, sizeof(object), "%s@%s", app, version);
    cm_req_audit(req, NULL, object, NULL);
    if (find_version(req, "inst_apps_version_lock", app, version, NULL, &res, err) < 0)
        return -1;
    PQclear(res);
    res = cm_db_exec(req->db, "inst_apps_unpublish", 2, params, err);
    if (res == NULL)
        return -1;
    PQclear(res);
    res = cm_db_exec(req->db, "inst_apps_publish", 2, params, err);
    if (res == NULL)
        return -1;
    ret = PQntuples(res) == 1 ? respond(resp, version_json(req, res, 0), err)
                              : cm_err_internal(err, "publishing %s returned no row", object);
    PQclear(res);
    return ret;
}

static const char *const test_set_params[] = {"version", NULL};

/* Creates the app's external test, or moves it to another version keeping
 * its link (tlnk_..., unguessable: it installs an unpublished version). */
static int test_set(struct cm_req *req, struct cm_resp *resp, struct cm_err *err)
{
    const char *app = req->captures[0], *version = NULL;
    char link[CM_ID_MAX];
    PGresult *res = NULL;
    int ret = -1;

    if (preamble(req, 0, err) < 0 || cm_param_str(req->params, "version", CM_P_REQUIRED,
                                                  INST_MANIFEST_VERSION_MAX, &version, err) < 0)
        return -1;
    cm_req_audit(req, NULL, app, NULL);
    if (find_version(req, "inst_apps_version_lock", app, version, "version", &res, err) < 0)
        return -1;
    PQclear(res);
    if (cm_id_new(link, sizeof(link), "tlnk_", err) < 0)
        return -1;
    res = cm_db_exec(req->db, "inst_apps_test_set", 3, (const char *[]){app, link, version}, err);
    if (res == NULL)
        return -1;
    if (PQntuples(res) == 1) {
        cm_req_audit(req, NULL, cm_db_value(res, 0, T_LINK), NULL);
        ret = respond(resp, test_json(req, res, 0), err);
    } else {
        ret = cm_err_internal(err, "setting the external test of %s returned no row", app);
    }
    PQclear(res);
    return ret;
}

static int test_get(struct cm_req *req, struct cm_resp *resp, struct cm_err *err)
{
    const char *app = req->captures[0];
    PGresult *res;
    int ret;

    if (preamble(req, 0, err) < 0)
        return -1;
    res = cm_db_exec(req->db, "inst_apps_test_get", 2, (const char *[]){app, req->auth.key_account},
                     err);
    if (res == NULL)
        return -1;
    if (PQntuples(res) != 1)
        ret = app_missing(app, err);
    else if (cm_db_value(res, 0, T_LINK) == NULL)
        ret = cm_err_set(err, 404, CM_ERR_INVALID_REQUEST, "resource_missing", NULL,
                         "The app '%s' has no external test.", app);
    else
        ret = respond(resp, test_json(req, res, 0), err);
    PQclear(res);
    return ret;
}

#define AUTH    CM_ROUTE_AUTH
#define AUTH_TX (CM_ROUTE_AUTH | CM_ROUTE_TX)

static const struct cm_route routes[] = {
    {"POST", APPS_URL, app_create, AUTH_TX, create_params, "app.create"},
    {"GET", APPS_URL, app_list, AUTH, page_params, NULL},
    {"GET", APPS_URL "/{app}", app_retrieve, AUTH, no_params, NULL},
    {"POST", APPS_URL "/{app}/signing_secret/roll", app_roll, AUTH_TX, no_params,
     "app.signing_secret.roll"},
    {"POST", APPS_URL "/{app}/versions", version_create, AUTH_TX, version_create_params,
     "app.version.create"},
    {"GET", APPS_URL "/{app}/versions", version_list, AUTH, page_params, NULL},
    {"GET", APPS_URL "/{app}/versions/{version}", version_retrieve, AUTH, no_params, NULL},
    {"POST", APPS_URL "/{app}/versions/{version}/publish", version_publish, AUTH_TX, no_params,
     "app.version.publish"},
    {"POST", APPS_URL "/{app}/external_test", test_set, AUTH_TX, test_set_params,
     "app.external_test.set"},
    {"GET", APPS_URL "/{app}/external_test", test_get, AUTH, no_params, NULL},
};

const struct cm_module inst_apps_module = {routes, sizeof(routes) / sizeof(routes[0]), stmts, NULL};
