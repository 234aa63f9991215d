/* The Secret Store API: validation, who may reach which scope, sealing and
 * opening payloads, and the apps.secret object. Statements live in store.c;
 * transactions, idempotency and the audit row in libcommon's server.
 *
 * Access: secrets belong to (app, account, livemode, scope). The caller is an
 * app key acting for an account where the app is installed (Stripe-Account),
 * or a dashboard extension token, which reaches the account scope and only
 * its own user's scope. Setting and deleting need the app's secret_write
 * permission. Payloads are sealed with the row's identity as associated
 * data, so a payload copied onto another row does not open. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "cm/crypto.h"
#include "cm/json.h"
#include "cm/log.h"
#include "cm/params.h"
#include "handlers.h"
#include "store.h"
#include "cm/banned.h"

#define NAME_MAX_LEN    5000
#define PAYLOAD_MAX_LEN 5000
#define USER_MAX_LEN    68 /* usr_ and 64 letters or digits, as core.users.id */
#define SECRETS_URL     "/v1/apps/secrets"
/* "under 100 years ahead": 100 Julian years. */
#define EXPIRY_MAX_SECONDS (100LL * 36525 * 86400 / 100)

static const char *const scope_types[] = {"account", "user", NULL};
static const char *const scope_keys[] = {"type", "user", NULL};

/* The caller's reach, resolved once per request. */
struct ctx {
    struct sec_key key;
    char target[CM_AUDIT_TEXT_MAX + 1]; /* "account/<name>" or "user:<id>/<name>" */
};

/* The audit target of a secret: "account/<name>" or "user:<id>/<name>". */
static void target_of(char *out, size_t cap, const char *scope_user, const char *name)
{
    if (scope_user[0])
        snprintf(out, cap, "user:%s/%s", scope_user, name);
    else
        snprintf(out, cap, "account/%s", name);
}

static int app_only(struct cm_err *err)
{
    return cm_err_set(err, 403, CM_ERR_INVALID_REQUEST, NULL, NULL,
                      "The Secret Store API can only be used by an app: call it with the app's "
                      "secret key and the Stripe-Account header of an account that installed it, "
                      "or from the app's UI extension.");
}

/* Who is calling, and may they? need_write: set and delete. */
static int caller(const struct cm_req *req, int need_write, struct cm_err *err)
{
    const struct cm_auth *a = &req->auth;

    if (a->app_id[0] == '\0')
        return app_only(err);
    if (!a->installed)
        return cm_err_set(err, 403, CM_ERR_INVALID_REQUEST, "account_invalid", NULL,
                          "The app '%s' is not installed on account '%s'. Send the "
                          "Stripe-Account header of an account that installed it.",
                          a->app_id, a->account);
    if (need_write && !cm_auth_has_permission(a, "secret_write"))
        return cm_err_set(err, 403, CM_ERR_INVALID_REQUEST, NULL, NULL,
                          "The app '%s' does not have the required permissions for this endpoint "
                          "on account '%s'. Having the 'secret_write' permission would allow this "
                          "request to continue.",
                          a->app_id, a->account);
    return 0;
}

/* usr_ and 1 to 64 letters or digits: a user id, and nothing else (the
 * audit target quotes it, so free text such as an email must not fit). */
static int is_user_id(const char *s)
{
    size_t n = strlen(s);

    if (n <= 4 || n > USER_MAX_LEN || strncmp(s, "usr_", 4) != 0)
        return 0;
    for (size_t i = 4; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'z') ||
              (s[i] >= 'A' && s[i] <= 'Z')))
            return 0;
    return 1;
}

/* scope[type], scope[user] and, when with_name, name: into c->key. */
static int scope_and_name(const struct cm_req *req, int with_name, struct ctx *c,
                          struct cm_err *err)
{
    const json_t *p = req->params;
    const char *user = NULL;
    int type = 0;

    memset(c, 0, sizeof(*c));
    if (cm_param_get(p, "scope") == NULL)
        return cm_err_missing(err, "scope[type]");
    if (!json_is_object(cm_param_get(p, "scope")))
        return cm_err_invalid(err, "scope", "Invalid object");
    if (cm_params_check_allowed_at(p, "scope", scope_keys, err) < 0 ||
        cm_param_enum(p, "scope[type]", CM_P_REQUIRED, scope_types, &type, err) < 0 ||
        cm_param_str(p, "scope[user]", 0, USER_MAX_LEN, &user, err) < 0)
        return -1;
    if (type == 1 && user == NULL)
        return cm_err_missing(err, "scope[user]");
    if (type == 1 && !is_user_id(user))
        return cm_err_invalid(
            err, "scope[user]",
            "Invalid scope[user]: must be a user id (usr_ and letters or digits).");
    if (type == 0 && user != NULL)
        return cm_err_invalid(err, "scope[user]",
                              "scope[user] can only be set when scope[type] is user.");
    /* An extension acts for its signed-in user: the account scope and that
     * user's own scope, nobody else's. */
    if (type == 1 && req->auth.user_id[0] && strcmp(user, req->auth.user_id) != 0)
        return cm_err_set(err, 403, CM_ERR_INVALID_REQUEST, NULL, "scope[user]",
                          "A UI extension can only reach the account scope and the scope of its "
                          "own user.");
    if (with_name && cm_param_str(p, "name", CM_P_REQUIRED, NAME_MAX_LEN, &c->key.name, err) < 0)
        return -1;

    c->key.app = req->auth.app_id;
    c->key.account = req->auth.account;
    c->key.livemode = req->auth.livemode;
    c->key.scope_type = scope_types[type];
    c->key.scope_user = type == 1 ? user : "";
    if (with_name) {
        sec_key_hash(&c->key);
        target_of(c->target, sizeof(c->target), c->key.scope_user, c->key.name);
    }
    return 0;
}

unsigned char *sec_aad(const struct sec_key *k, size_t *len)
{
    const char *parts[] = {k->app,        k->account,    k->livemode ? "live" : "test",
                           k->scope_type, k->scope_user, k->name};

    return cm_aad_build(len, sizeof(parts) / sizeof(parts[0]), parts);
}

/* Opens r's payload; new string (free() after OPENSSL_cleanse) or NULL with
 * a 500 whose detail names the row, never its contents. */
static char *open_payload(const struct cm_req *req, const struct sec_row *r, struct cm_err *err)
{
    struct sec_key k = {.app = r->app,
                        .account = r->account,
                        .livemode = r->livemode,
                        .scope_type = r->scope_type,
                        .scope_user = r->scope_user,
                        .name = r->name};
    size_t aadlen = 0, len = 0;
    unsigned char *aad = sec_aad(&k, &aadlen);
    char *plain = NULL;

    if (aad == NULL) {
        cm_err_internal(err, "out of memory");
        return NULL;
    }
    if (req->cfg->keys == NULL || cm_open(req->cfg->keys, r->key_id, aad, aadlen, r->blob,
                                          r->bloblen, &plain, &len, err) < 0) {
        if (req->cfg->keys == NULL)
            cm_err_internal(err, "no keyring loaded");
        /* cm_open's detail says why; add which row. */
        cm_log(CM_LOG_ERROR, "%s secret %s does not open under key %s", req->request_id, r->id,
               r->key_id);
        plain = NULL;
    }
    free(aad);
    return plain;
}

static void free_plain(char *p)
{
    if (p != NULL) {
        OPENSSL_cleanse(p, strlen(p));
        free(p);
    }
}

/* The apps.secret object. payload: NULL unless expanded. */
static json_t *secret_json(const struct sec_row *r, const struct sec_key *k, int livemode,
                           const char *payload, int deleted)
{
    json_t *o = json_object();
    json_t *scope = json_object();

    if (o == NULL || scope == NULL)
        goto fail;
    if (json_object_set_new(scope, "type", json_string(k->scope_type)) < 0 ||
        (k->scope_user[0] && json_object_set_new(scope, "user", json_string(k->scope_user)) < 0))
        goto fail;
    if (json_object_set_new(o, "id", json_string(r->id)) < 0 ||
        json_object_set_new(o, "object", json_string("apps.secret")) < 0 ||
        json_object_set_new(o, "created", json_integer(r->created)) < 0 ||
        (deleted && json_object_set_new(o, "deleted", json_true()) < 0) ||
        json_object_set_new(o, "expires_at",
                            r->expires_at >= 0 ? json_integer(r->expires_at) : json_null()) < 0 ||
        json_object_set_new(o, "livemode", json_boolean(livemode)) < 0 ||
        json_object_set_new(o, "name", json_string(k->name)) < 0 ||
        (payload && json_object_set_new(o, "payload", json_string(payload)) < 0) ||
        json_object_set_new(o, "scope", scope) < 0) {
        scope = NULL;
        goto fail;
    }
    return o;
fail:
    json_decref(scope);
    json_decref(o);
    return NULL;
}

static int respond(struct cm_resp *resp, json_t *o, struct cm_err *err)
{
    if (o == NULL)
        return cm_err_internal(err, "out of memory rendering a secret");
    return cm_resp_json(resp, 200, o, err);
}

static const char *const expand_payload[] = {"payload", NULL};

int sec_set(struct cm_req *req, struct cm_resp *resp, struct cm_err *err)
{
    struct ctx c;
    struct cm_expand ex;
    struct sec_row row;
    const char *payload = NULL, *key_id = NULL;
    long long expires_at = -1;
    unsigned char *aad = NULL, *blob = NULL;
    size_t aadlen = 0, bloblen = 0;
    char id[CM_ID_MAX];
    int rc, ret = -1;
    time_t now = time(NULL);

    memset(&row, 0, sizeof(row));
    if (caller(req, 1, err) < 0 || scope_and_name(req, 1, &c, err) < 0 ||
        cm_param_str(req->params, "payload", CM_P_REQUIRED, PAYLOAD_MAX_LEN, &payload, err) < 0 ||
        cm_param_timestamp(req->params, "expires_at", 0, &expires_at, err) < 0 ||
        cm_expand_parse(req->params, expand_payload, 0, &ex, err) < 0)
        return -1;
    if (cm_param_get(req->params, "expires_at") == NULL)
        expires_at = -1;
    else if (expires_at <= (long long)now)
        return cm_err_invalid(err, "expires_at",
                              "Invalid expires_at: must be in the future (it is in the past).");
    else if (expires_at - (long long)now >= EXPIRY_MAX_SECONDS)
        return cm_err_invalid(err, "expires_at",
                              "Invalid expires_at: must be less than 100 years in the future.");
    cm_req_audit(req, "secret.set", NULL, c.target);

    if (req->cfg->keys == NULL)
        return cm_err_internal(err, "svc-secrets has no keyring (CM_KEY_FILE)");
    aad = sec_aad(&c.key, &aadlen);
    if (aad == NULL)
        return cm_err_internal(err, "out of memory");
    if (cm_seal(req->cfg->keys, aad, aadlen, payload, strlen(payload), &blob, &bloblen, &key_id,
                err) < 0 ||
        cm_id_new(id, sizeof(id), "appsecret_", err) < 0)
        goto out;
    rc = sec_store_put(req->db, &c.key, id, key_id, blob, bloblen, expires_at, &row, err);
    if (rc < 0)
        goto out;
    if (rc == 1) {
        cm_err_set(err, 400, CM_ERR_INVALID_REQUEST, NULL, NULL,
                   "This scope already holds the maximum of 10 secrets. Delete one before "
                   "setting another.");
        goto out;
    }
    cm_req_audit(req, NULL, row.id, NULL);
    ret = respond(resp,
                  secret_json(&row, &c.key, req->auth.livemode,
                              cm_expand_has(&ex, "payload") ? payload : NULL, 0),
                  err);
out:
    free(aad);
    free(blob);
    sec_row_release(&row);
    return ret;
}

/* find and delete share everything but the statement. */
static int by_name(struct cm_req *req, struct cm_resp *resp, int del, struct cm_err *err)
{
    struct ctx c;
    struct cm_expand ex;
    struct sec_row row;
    char *plain = NULL;
    int with_payload, rc, ret = -1;

    memset(&row, 0, sizeof(row));
    if (caller(req, del, err) < 0 || scope_and_name(req, 1, &c, err) < 0 ||
        cm_expand_parse(req->params, expand_payload, 0, &ex, err) < 0)
        return -1;
    with_payload = cm_expand_has(&ex, "payload");
    cm_req_audit(req, del ? "secret.delete" : with_payload ? "secret.read" : NULL, NULL, c.target);
    /* A payload read is audited in the transaction of the read itself. */
    if (with_payload && !cm_db_in_tx(req->db) && cm_db_begin(req->db, err) < 0)
        return -1;
    rc = (del ? sec_store_delete : sec_store_find)(req->db, &c.key, with_payload, &row, err);
    if (rc < 0)
        goto out;
    if (rc == 1) {
        cm_err_not_found(err, "secret", c.key.name, "name");
        goto out;
    }
    cm_req_audit(req, NULL, row.id, NULL);
    if (with_payload && (plain = open_payload(req, &row, err)) == NULL)
        goto out;
    ret = respond(resp, secret_json(&row, &c.key, req->auth.livemode, plain, del), err);
out:
    free_plain(plain);
    sec_row_release(&row);
    return ret;
}

int sec_find(struct cm_req *req, struct cm_resp *resp, struct cm_err *err)
{
    return by_name(req, resp, 0, err);
}

int sec_delete(struct cm_req *req, struct cm_resp *resp, struct cm_err *err)
{
    return by_name(req, resp, 1, err);
}

/* Each payload a list returns is a read, audited like a find. */
static int audit_read(struct cm_req *req, const struct sec_row *r, struct cm_err *err)
{
    char target[CM_AUDIT_TEXT_MAX + 1];

    target_of(target, sizeof(target), r->scope_user, r->name);
    return cm_req_audit_now(req, "secret.read", r->id, target, err);
}

static const char *const expand_list[] = {"payload", NULL};

int sec_list(struct cm_req *req, struct cm_resp *resp, struct cm_err *err)
{
    struct ctx c;
    struct cm_expand ex;
    struct cm_page page;
    struct sec_row *rows = NULL;
    size_t n = 0;
    int has_more = 0, with_payload, rc, ret = -1;
    const char *cursor;
    json_t *data = NULL;

    if (caller(req, 0, err) < 0 || scope_and_name(req, 0, &c, err) < 0 ||
        cm_page_parse(req->params, &page, err) < 0 ||
        cm_expand_parse(req->params, expand_list, 1, &ex, err) < 0)
        return -1;
    with_payload = cm_expand_has(&ex, "payload");
    cursor = page.ending_before ? page.ending_before : page.starting_after;
    if (with_payload && !cm_db_in_tx(req->db) && cm_db_begin(req->db, err) < 0)
        return -1;
    rc = sec_store_list(req->db, &c.key, cursor, page.ending_before == NULL, page.limit,
                        with_payload, &rows, &n, &has_more, err);
    if (rc < 0)
        goto out;
    if (rc == 1) {
        cm_err_not_found(err, "secret", cursor,
                         page.ending_before ? "ending_before" : "starting_after");
        err->status = 400;
        goto out;
    }
    data = json_array();
    if (data == NULL) {
        cm_err_internal(err, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        struct sec_key k = c.key;
        char *plain = NULL;
        json_t *o;

        k.scope_user = rows[i].scope_user;
        k.name = rows[i].name;
        if (with_payload && ((plain = open_payload(req, &rows[i], err)) == NULL ||
                             audit_read(req, &rows[i], err) < 0)) {
            free_plain(plain);
            goto out;
        }
        o = secret_json(&rows[i], &k, req->auth.livemode, plain, 0);
        free_plain(plain);
        if (o == NULL || json_array_append_new(data, o) < 0) {
            cm_err_internal(err, "out of memory");
            goto out;
        }
    }
    ret = respond(resp, cm_json_list(SECRETS_URL, data, has_more), err);
    data = NULL; /* taken by cm_json_list */
out:
    json_decref(data);
    sec_rows_free(rows, n);
    return ret;
}
