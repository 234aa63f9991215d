/* Installations: installing and uninstalling (installations.h), shared by the
 * install pages and the API, and the installations API itself:
 *
 *   GET    /v1/apps/apps/{app}/installations   the owner account's key or the
 *          app's own key; the key's mode; newest first; status filter
 *   DELETE /v1/apps/installations/{installation}   the installing account's
 *          key, the owner account's key, or the app's key acting for the
 *          installing account (Stripe-Account), in the installation's mode
 *
 * Whoever may not see an app or an installation gets the same 404 as for one
 * that does not exist. Every install and uninstall writes its
 * account.application.* event and its audit row (app.install, app.uninstall:
 * the user or key that acted, the installing account, the app and the mode)
 * in the caller's transaction, so they exist exactly when the change does. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cm/events.h"
#include "cm/json.h"
#include "cm/params.h"
#include "installations.h"
#include "module.h"
#include "cm/banned.h"

#define COLS                                                                                       \
    "i.id, i.app_id, a.application_id, i.account_id, i.livemode, i.installed_by, i.version,"       \
    " floor(extract(epoch FROM i.created))::bigint,"                                               \
    " floor(extract(epoch FROM i.uninstalled_at))::bigint"

enum { C_ID, C_APP, C_APPLICATION, C_ACCOUNT, C_LIVE, C_USER, C_VERSION, C_CREATED, C_UNINSTALLED };

/* A page of an app's installations in one mode, past ($4 given) or before
 * the cursor, optionally only installed or uninstalled ones ($3). The outer
 * LEFT JOIN always yields a row, whose last column says whether the cursor
 * was one of these installations. */
#define PAGE(cmp, order)                                                                           \
    "WITH c AS (SELECT i.created, i.id FROM install.installations i"                               \
    "           WHERE i.app_id = $1 AND i.livemode = $2::boolean AND i.id = $4),"                  \
    " page AS (SELECT " COLS ", i.created AS ts FROM install.installations i"                      \
    "          JOIN install.apps a ON a.id = i.app_id"                                             \
    "          WHERE i.app_id = $1 AND i.livemode = $2::boolean"                                   \
    "            AND ($3::text IS NULL OR ($3 = 'installed') = (i.uninstalled_at IS NULL))"        \
    "            AND ($4::text IS NULL OR (i.created, i.id) " cmp " (SELECT created, id FROM c))"  \
    "          ORDER BY i.created " order ", i.id " order " LIMIT $5::integer)"                    \
    " SELECT page.*, $4::text IS NULL OR EXISTS (SELECT 1 FROM c)"                                 \
    " FROM (SELECT 1) one LEFT JOIN page ON true ORDER BY page.ts " order ", page.id " order

static const struct cm_stmt stmts[] = {
    {"inst_installations_app",
     "SELECT application_id, name, owner_account FROM install.apps"
     " WHERE id = $1",
     1},
    {"inst_installations_insert",
     "INSERT INTO install.installations (id, app_id, account_id, livemode, installed_by, version)"
     " VALUES ($1, $2, $3, $4::boolean, $5, $6)"
     " ON CONFLICT (app_id, account_id, livemode) WHERE uninstalled_at IS NULL DO NOTHING"
     " RETURNING id",
     6},
    /* The active installation that an install keeps, its version pin set to
     * what the user just consented to (only when it differs: an UPDATE moves
     * the authorization epoch). */
    {"inst_installations_keep",
     "WITH cur AS (SELECT i.id, i.version FROM install.installations i"
     "             WHERE i.app_id = $1 AND i.account_id = $2 AND i.livemode = $3::boolean"
     "               AND i.uninstalled_at IS NULL FOR UPDATE),"
     " pin AS (UPDATE install.installations i SET version = $4 FROM cur"
     "         WHERE i.id = cur.id AND cur.version IS DISTINCT FROM $4 RETURNING i.id)"
     " SELECT id FROM cur",
     4},
    {"inst_installations_lookup",
     "SELECT i.app_id, i.account_id, i.livemode, a.owner_account"
     " FROM install.installations i JOIN install.apps a ON a.id = i.app_id"
     " WHERE i.id = $1 AND i.uninstalled_at IS NULL FOR UPDATE OF i",
     1},
    {"inst_installations_uninstall",
     "UPDATE install.installations i SET uninstalled_at = now() FROM install.apps a"
     " WHERE i.id = $1 AND i.uninstalled_at IS NULL AND a.id = i.app_id"
     " RETURNING i.app_id, i.account_id, i.livemode, a.application_id, a.name",
     1},
    {"inst_installations_older", PAGE("<", "DESC"), 5},
    {"inst_installations_newer", PAGE(">", "ASC"), 5},
    {NULL, NULL, 0},
};

/* The `application` object events carry: {id: "ca_...", object, name}. */
static json_t *application_json(const char *application_id, const char *name)
{
    return json_pack("{s:s, s:s, s:s}", "id", application_id, "object", "application", "name",
                     name);
}

/* The event and the audit row of an install or uninstall. */
static int record(struct cm_req *req, const char *type, const char *action, const char *inst_id,
                  const char *app_id, const char *application_id, const char *name,
                  const char *account_id, int livemode, struct cm_err *err)
{
    char evt[CM_ID_MAX];
    struct cm_audit_rec a;
    json_t *obj = application_json(application_id, name);
    int rc;

    if (obj == NULL)
        return cm_err_internal(err, "out of memory building an application object");
    rc = cm_event_emit(req->db, type, account_id, app_id, livemode, req->request_id,
                       req->idempotency_key, obj, NULL, evt, err);
    json_decref(obj);
    if (rc < 0)
        return -1;
    cm_req_audit_fill(req, &a, action, 200, NULL);
    a.account_id = account_id;
    a.app_id = app_id;
    a.livemode = livemode;
    a.object_id = inst_id;
    a.target = app_id;
    return cm_audit_write(req->db, &a, err);
}

int inst_install(struct cm_req *req, const char *app_id, const char *account_id, int livemode,
                 const char *user_id, const char *version, char *inst_id, struct cm_err *err)
{
    const char *mode = livemode ? "true" : "false";
    PGresult *app = NULL, *res = NULL;
    char id[CM_ID_MAX];
    int ret = -1;

    inst_id[0] = '\0';
    app = cm_db_exec(req->db, "inst_installations_app", 1, (const char *[]){app_id}, err);
    if (app == NULL)
        goto out;
    if (PQntuples(app) != 1) {
        cm_err_not_found(err, "app", app_id, NULL);
        goto out;
    }
    if (cm_id_new(id, sizeof(id), "inst_", err) < 0)
        goto out;
    res = cm_db_exec(req->db, "inst_installations_insert", 6,
                     (const char *[]){id, app_id, account_id, mode, user_id, version}, err);
    if (res == NULL)
        goto out;
    if (PQntuples(res) == 1) {
        snprintf(inst_id, CM_ID_MAX, "%s", id);
        ret = record(req, "account.application.authorized", "app.install", id, app_id,
                     cm_db_value(app, 0, 0), cm_db_value(app, 0, 1), account_id, livemode, err);
        goto out;
    }
    /* Already installed there: keep that installation, with no second event. */
    PQclear(res);
    res = cm_db_exec(req->db, "inst_installations_keep", 4,
                     (const char *[]){app_id, account_id, mode, version}, err);
    if (res == NULL)
        goto out;
    if (PQntuples(res) != 1 || strlen(cm_db_value(res, 0, 0)) >= CM_ID_MAX) {
        cm_err_internal(err, "installing %s: neither a new nor an active installation", app_id);
        goto out;
    }
    snprintf(inst_id, CM_ID_MAX, "%s", cm_db_value(res, 0, 0));
    ret = 0;
out:
    PQclear(app);
    PQclear(res);
    return ret;
}

int inst_uninstall(struct cm_req *req, const char *inst_id, struct cm_err *err)
{
    PGresult *res;
    int ret = -1;

    res = cm_db_exec(req->db, "inst_installations_uninstall", 1, (const char *[]){inst_id}, err);
    if (res == NULL)
        return -1;
    if (PQntuples(res) != 1)
        cm_err_not_found(err, "installation", inst_id, NULL);
    else
        ret = record(req, "account.application.deauthorized", "app.uninstall", inst_id,
                     cm_db_value(res, 0, 0), cm_db_value(res, 0, 3), cm_db_value(res, 0, 4),
                     cm_db_value(res, 0, 1), strcmp(cm_db_value(res, 0, 2), "t") == 0, err);
    PQclear(res);
    return ret;
}

/* ---- the API ------------------------------------------------------------ */

#define LIST_URL_MAX (CM_CAPTURE_MAX + 48)

static json_t *installation_json(const PGresult *res, int row)
{
    const char *user = cm_db_value(res, row, C_USER);
    const char *version = cm_db_value(res, row, C_VERSION);
    const char *gone = cm_db_value(res, row, C_UNINSTALLED);
    json_t *o = json_object();

    if (o == NULL || json_object_set_new(o, "id", json_string(cm_db_value(res, row, C_ID))) < 0 ||
        json_object_set_new(o, "object", json_string("apps.installation")) < 0 ||
        json_object_set_new(o, "account", json_string(cm_db_value(res, row, C_ACCOUNT))) < 0 ||
        json_object_set_new(o, "app", json_string(cm_db_value(res, row, C_APP))) < 0 ||
        json_object_set_new(o, "application", json_string(cm_db_value(res, row, C_APPLICATION))) <
            0 ||
        json_object_set_new(
            o, "created", json_integer(strtoll(cm_db_value(res, row, C_CREATED), NULL, 10))) < 0 ||
        json_object_set_new(o, "livemode",
                            json_boolean(strcmp(cm_db_value(res, row, C_LIVE), "t") == 0)) < 0 ||
        json_object_set_new(o, "status", json_string(gone ? "uninstalled" : "installed")) < 0 ||
        json_object_set_new(o, "uninstalled_at",
                            gone ? json_integer(strtoll(gone, NULL, 10)) : json_null()) < 0 ||
        json_object_set_new(o, "user", user ? json_string(user) : json_null()) < 0 ||
        json_object_set_new(o, "version", version ? json_string(version) : json_null()) < 0) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static const char *const statuses[] = {"installed", "uninstalled", NULL};

/* installation_json as a cm_page_render callback. */
static json_t *installation_at(void *ctx, const PGresult *res, int row, struct cm_err *err)
{
    (void)ctx, (void)err;
    return installation_json(res, row);
}

static int list(struct cm_req *req, struct cm_resp *resp, struct cm_err *err)
{
    const char *app_id = req->captures[0];
    const struct cm_auth *a = &req->auth;
    struct cm_page page;
    PGresult *app = NULL, *res = NULL;
    char lim[24], url[LIST_URL_MAX];
    const char *cursor;
    json_t *data = NULL;
    int status = -1, nt, after, ret = -1;

    if (cm_page_parse(req->params, &page, err) < 0 ||
        cm_param_enum(req->params, "status", 0, statuses, &status, err) < 0)
        return -1;
    app = cm_db_exec(req->db, "inst_installations_app", 1, (const char *[]){app_id}, err);
    if (app == NULL)
        return -1;
    /* The owner account's own key, or the app's key; nobody else learns
     * that the app exists. */
    if (PQntuples(app) != 1 ||
        (a->app_id[0] ? strcmp(a->app_id, app_id) != 0
                      : strcmp(a->key_account, cm_db_value(app, 0, 2)) != 0)) {
        cm_err_not_found(err, "app", app_id, NULL);
        goto out;
    }
    after = page.ending_before == NULL;
    cursor = after ? page.starting_after : page.ending_before;
    snprintf(lim, sizeof(lim), "%lld", page.limit + 1);
    res = cm_db_exec(req->db, after ? "inst_installations_older" : "inst_installations_newer", 5,
                     (const char *[]){app_id, a->livemode ? "true" : "false",
                                      status >= 0 ? statuses[status] : NULL, cursor, lim},
                     err);
    if (res == NULL)
        goto out;
    nt = PQntuples(res);
    if (nt < 1 || strcmp(cm_db_value(res, 0, C_UNINSTALLED + 2), "t") != 0) {
        if (nt < 1)
            cm_err_internal(err, "empty page result");
        else
            cm_err_set(err, 400, CM_ERR_INVALID_REQUEST, "resource_missing",
                       after ? "starting_after" : "ending_before", "No such installation: '%s'",
                       cursor);
        goto out;
    }
    snprintf(url, sizeof(url), "/v1/apps/apps/%s/installations", app_id);
    data = cm_json_page(url, res, page.limit, after, installation_at, NULL, err);
    if (data == NULL)
        goto out;
    ret = cm_resp_json(resp, 200, data, err);
    data = NULL;
out:
    json_decref(data);
    PQclear(app);
    PQclear(res);
    return ret;
}

/* May the caller uninstall this installation (looked up FOR UPDATE)? */
static int may_uninstall(const struct cm_auth *a, const PGresult *inst)
{
    const char *app = cm_db_value(inst, 0, 0), *account = cm_db_value(inst, 0, 1);
    const char *owner = cm_db_value(inst, 0, 3);
    int live = strcmp(cm_db_value(inst, 0, 2), "t") == 0;

    if (live != a->livemode)
        return 0;
    if (a->app_id[0] == '\0')
        return strcmp(a->key_account, account) == 0 || strcmp(a->key_account, owner) == 0;
    return strcmp(a->app_id, app) == 0 && strcmp(a->account, account) == 0;
}

static int uninstall(struct cm_req *req, struct cm_resp *resp, struct cm_err *err)
{
    const char *inst_id = req->captures[0];
    PGresult *inst;
    json_t *o;
    int allowed;

    /* A refusal is audited as app.uninstall; a success already was, with
     * the installation's account and app, by inst_uninstall(). */
    cm_req_audit(req, "app.uninstall", inst_id, NULL);
    inst = cm_db_exec(req->db, "inst_installations_lookup", 1, (const char *[]){inst_id}, err);
    if (inst == NULL)
        return -1;
    allowed = PQntuples(inst) == 1 && may_uninstall(&req->auth, inst);
    PQclear(inst);
    if (!allowed)
        return cm_err_not_found(err, "installation", inst_id, NULL);
    if (inst_uninstall(req, inst_id, err) < 0)
        return -1;
    req->audit_action[0] = '\0';
    o = json_pack("{s:s, s:s, s:b}", "id", inst_id, "object", "apps.installation", "deleted", 1);
    if (o == NULL)
        return cm_err_internal(err, "out of memory");
    return cm_resp_json(resp, 200, o, err);
}

static const char *const list_params[] = {"limit", "starting_after", "ending_before", "status",
                                          NULL};
static const char *const no_params[] = {NULL};

static const struct cm_route routes[] = {
    {"GET", "/v1/apps/apps/{app}/installations", list, CM_ROUTE_AUTH, list_params, NULL},
    {"DELETE", "/v1/apps/installations/{installation}", uninstall, CM_ROUTE_AUTH | CM_ROUTE_TX,
     no_params, NULL},
};

const struct cm_module inst_installations_module = {routes, sizeof(routes) / sizeof(routes[0]),
                                                    stmts, NULL};
