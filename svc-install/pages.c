/* The install pages (/apps/install/...): plain server-rendered HTML forms
 * that work without JavaScript.
 *
 *   GET  /apps/install/link/{link}?redirect_uri=&state=   the consent page
 *   POST /apps/install/link/{link}      install or cancel, then 303 to the app
 *   GET  /apps/install/login?next=      sign-in form
 *   POST /apps/install/login            email, password, next
 *   POST /apps/install/logout           csrf_token
 *   GET  /apps/install/installations    the apps installed on the user's accounts
 *   POST /apps/install/installations/{installation}/uninstall   csrf_token
 *
 * A link is an app id (its published version, installed in live mode) or an
 * external test's tlnk_... id (that version, in test mode, the installation
 * pinned to it). The redirect_uri must equal one of the version's allowed
 * URIs byte for byte, or the user gets an error page and never a redirect:
 * no open redirect. Every POST needs the session and its CSRF token, checked
 * before anything else is looked at. Installing and uninstalling need a role
 * that administers the account (admin or developer); a view-only member sees
 * no account to install on.
 *
 * Failures render pages too: a 500 rolls the transaction back first, then
 * answers a generic page (the detail goes to the log only). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "cm/html.h"
#include "cm/log.h"
#include "cm/params.h"
#include "cm/sig.h"
#include "installations.h"
#include "module.h"
#include "session.h"
#include "signature.h"
#include "signing_secret.h"
#include "cm/banned.h"

#define STATE_MAX    2048 /* characters of a state */
#define EMAIL_MAX    254
#define PASSWORD_MAX 1024 /* the database refuses what bcrypt cannot check */
#define NEXT_MAX     3000
#define HOME         "/apps/install/installations"

/* Roles that may install and uninstall apps on an account. */
#define MAY_INSTALL " m.role IN ('admin', 'developer')"

#define LINK_COLS                                                                                  \
    "a.id, v.version, coalesce(v.manifest->>'name', a.name),"                                      \
    " coalesce(v.manifest->'permissions', '[]'::jsonb)::text,"                                     \
    " to_jsonb(v.allowed_redirect_uris)::text"

enum { L_APP, L_VERSION, L_NAME, L_PERMISSIONS, L_URIS };

static const struct cm_stmt stmts[] = {
    {"inst_pages_link_app",
     "SELECT " LINK_COLS " FROM install.apps a"
     " JOIN install.app_versions v ON v.app_id = a.id AND v.published WHERE a.id = $1",
     1},
    {"inst_pages_link_test",
     "SELECT " LINK_COLS " FROM install.external_tests e JOIN install.apps a ON a.id = e.app_id"
     " JOIN install.app_versions v ON v.app_id = e.app_id AND v.version = e.version"
     " WHERE e.link_id = $1",
     1},
    {"inst_pages_accounts",
     "SELECT m.account_id, c.name FROM core.memberships m"
     " JOIN core.accounts c ON c.id = m.account_id"
     " WHERE m.user_id = $1 AND" MAY_INSTALL " ORDER BY c.name, m.account_id",
     1},
    {"inst_pages_member",
     "SELECT 1 FROM core.memberships m WHERE m.user_id = $1 AND m.account_id = $2 AND" MAY_INSTALL,
     2},
    {"inst_pages_installed",
     "SELECT i.id, a.name, i.app_id, c.name, i.account_id, i.livemode, i.version,"
     " to_char(i.created AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI')"
     " FROM install.installations i JOIN install.apps a ON a.id = i.app_id"
     " JOIN core.accounts c ON c.id = i.account_id"
     " JOIN core.memberships m ON m.account_id = i.account_id AND m.user_id = $1"
     " WHERE i.uninstalled_at IS NULL AND" MAY_INSTALL
     " ORDER BY c.name, i.account_id, a.name, i.app_id, i.livemode DESC",
     1},
    {"inst_pages_own_installation",
     "SELECT 1 FROM install.installations i"
     " JOIN core.memberships m ON m.account_id = i.account_id AND m.user_id = $2"
     " WHERE i.id = $1 AND i.uninstalled_at IS NULL AND" MAY_INSTALL " FOR UPDATE OF i",
     2},
    INST_SESSION_STMTS,
    {NULL, NULL, 0},
};

/* The pages' one style sheet: cm_html_begin() puts it between <style> and
 * </style> and the CSP allows exactly it by its hash. */
static const char style[] =
    "body{font:15px/1.5 system-ui,sans-serif;margin:0;background:#f6f8fa;color:#1a1f36}"
    "main{max-width:34rem;margin:3rem auto;padding:2rem;background:#fff;border-radius:8px;"
    "box-shadow:0 1px 4px rgba(0,0,0,.12)}"
    "h1{font-size:1.3rem;margin-top:0}ul{padding-left:1.2rem}li{margin:.4rem 0}"
    "label{display:block;margin:.8rem 0 .2rem}input,select{width:100%;padding:.4rem;"
    "box-sizing:border-box}button{margin:1rem .5rem 0 0;padding:.5rem 1rem}"
    ".error{color:#b3093c}.muted{color:#687385}table{border-collapse:collapse;width:100%}"
    "td,th{text-align:left;padding:.3rem;border-bottom:1px solid #e3e8ee}";

/* ---- answers -------------------------------------------------------------- */

/* A page with a heading and one message. */
static int message_page(struct cm_resp *resp, int status, const char *title, const char *message,
                        struct cm_err *err)
{
    struct cm_html h;

    cm_html_init(&h);
    cm_html_begin(&h, title, style, NULL, 0);
    cm_html_raw(&h, "<h1>");
    cm_html_text(&h, title);
    cm_html_raw(&h, "</h1><p class=\"error\">");
    cm_html_text(&h, message);
    cm_html_raw(&h, "</p>");
    cm_html_end(&h);
    return cm_html_respond(resp, status, &h, err);
}

/* A failure the user cannot fix (a 500 in *err): nothing of the request
 * stays, the log gets the detail, the user a generic page. */
static int fail_page(struct cm_req *req, struct cm_resp *resp, struct cm_err *err)
{
    cm_log(CM_LOG_ERROR, "%s %s %s: %s", req->request_id, req->method, req->path,
           cm_err_log_text(err));
    if (cm_db_in_tx(req->db))
        cm_db_rollback(req->db);
    req->audit_action[0] = '\0';
    cm_err_clear(err);
    return message_page(resp, 500, "Something went wrong",
                        "The request could not be completed. Please try again later.", err);
}

static int forbidden_page(struct cm_resp *resp, struct cm_err *err)
{
    return message_page(resp, 403, "Request refused",
                        "This form has expired or did not come from this site. Go back, reload "
                        "the page and try again.",
                        err);
}

/* 303 to the sign-in page, with next = this request's path and query. */
static int to_login(struct cm_req *req, struct cm_resp *resp, struct cm_err *err)
{
    struct cm_html loc;
    int rc;

    cm_html_init(&loc);
    cm_html_raw(&loc, "/apps/install/login?next=");
    cm_html_urlencode(&loc, req->path);
    if (req->query != NULL) {
        cm_html_urlencode(&loc, "?");
        cm_html_urlencode(&loc, req->query);
    }
    rc = loc.failed ? cm_err_internal(err, "out of memory") : cm_html_redirect(resp, loc.data, err);
    cm_html_release(&loc);
    return rc;
}

/* A string form field, or NULL when absent or not a string. */
static const char *field(const struct cm_req *req, const char *name)
{
    const json_t *v = cm_param_get(req->params, name);

    return json_is_string(v) ? json_string_value(v) : NULL;
}

static void hidden(struct cm_html *h, const char *name, const char *value)
{
    cm_html_raw(h, "<input type=\"hidden\" name=\"");
    cm_html_text(h, name);
    cm_html_raw(h, "\" value=\"");
    cm_html_text(h, value);
    cm_html_raw(h, "\">");
}

/* ---- links ---------------------------------------------------------------- */

struct link {
    PGresult *res;
    json_t *permissions;      /* [{permission, purpose}] from the manifest */
    json_t *uris;             /* the allowed redirect URIs */
    int test;                 /* an external test: test mode, pinned version */
    const char *redirect_uri; /* the one this request uses (borrowed) */
    const char *state;        /* NULL when not given (borrowed from params) */
};

static void link_release(struct link *l)
{
    PQclear(l->res);
    json_decref(l->permissions);
    json_decref(l->uris);
    memset(l, 0, sizeof(*l));
}

/* Resolves req's link and its redirect_uri and state. 1 found and valid; 0
 * when a page was answered (unknown link, redirect URI not allowed, bad
 * state); -1 with a 500 *err. */
static int link_load(struct cm_req *req, struct cm_resp *resp, struct link *l, struct cm_err *err)
{
    const char *id = req->captures[0];
    const json_t *uri = cm_param_get(req->params, "redirect_uri");
    const json_t *state = cm_param_get(req->params, "state");
    size_t i;
    json_t *v;

    memset(l, 0, sizeof(*l));
    l->test = strncmp(id, "tlnk_", 5) == 0;
    l->res = cm_db_exec(req->db, l->test ? "inst_pages_link_test" : "inst_pages_link_app", 1,
                        (const char *[]){id}, err);
    if (l->res == NULL)
        return -1;
    if (PQntuples(l->res) != 1)
        return message_page(resp, 404, "Install link not found",
                            "This install link does not exist, or the app has no published "
                            "version.",
                            err) < 0
                   ? -1
                   : 0;
    l->permissions = json_loads(cm_db_value(l->res, 0, L_PERMISSIONS), 0, NULL);
    l->uris = json_loads(cm_db_value(l->res, 0, L_URIS), 0, NULL);
    if (!json_is_array(l->permissions) || !json_is_array(l->uris))
        return cm_err_internal(err, "app %s: stored manifest is not readable", id);

    if ((uri != NULL && !json_is_string(uri)) || (state != NULL && !json_is_string(state)) ||
        (state != NULL && strlen(json_string_value(state)) > STATE_MAX))
        return message_page(resp, 400, "Invalid install link",
                            "The redirect_uri or state of this link is not valid.", err) < 0
                   ? -1
                   : 0;
    l->state = state ? json_string_value(state) : NULL;
    json_array_foreach(l->uris, i, v)
    {
        if (json_is_string(v) &&
            (uri == NULL || strcmp(json_string_value(v), json_string_value(uri)) == 0)) {
            l->redirect_uri = json_string_value(v);
            break;
        }
    }
    if (l->redirect_uri == NULL)
        return message_page(resp, 400, "Invalid redirect URI",
                            "The redirect_uri of this install link is not one the app allows, so "
                            "you will not be sent there. Contact the app's developer.",
                            err) < 0
                   ? -1
                   : 0;
    return 1;
}

/* The consent page: the app, its permissions, the user's accounts. */
static int consent_page(struct cm_req *req, struct cm_resp *resp, const struct link *l,
                        const struct inst_session *s, struct cm_err *err)
{
    const char *name = cm_db_value(l->res, 0, L_NAME);
    char csrf[INST_CSRF_MAX];
    PGresult *acc;
    struct cm_html h;
    size_t i;
    json_t *p;
    int rc;

    acc = cm_db_exec(req->db, "inst_pages_accounts", 1, (const char *[]){s->user_id}, err);
    if (acc == NULL)
        return -1;
    if (PQntuples(acc) == 0) {
        PQclear(acc);
        return message_page(resp, 403, "No account to install on",
                            "You are not an administrator or developer of any account, so you "
                            "cannot install apps.",
                            err);
    }
    if (inst_session_csrf(s, csrf) < 0) {
        PQclear(acc);
        return cm_err_internal(err, "CSRF token failed");
    }
    cm_html_init(&h);
    cm_html_begin(&h, "Install app", style, NULL, 0);
    cm_html_raw(&h, "<h1>Install ");
    cm_html_text(&h, name);
    cm_html_raw(&h, "</h1>\n<p class=\"muted\">");
    cm_html_text(&h, cm_db_value(l->res, 0, L_APP));
    cm_html_raw(&h, " version ");
    cm_html_text(&h, cm_db_value(l->res, 0, L_VERSION));
    cm_html_raw(&h, l->test ? " &middot; <strong>test mode</strong>" : "");
    cm_html_raw(&h, "</p>\n");
    if (json_array_size(l->permissions) == 0) {
        cm_html_raw(&h, "<p>This app asks for no permissions.</p>\n");
    } else {
        cm_html_raw(&h, "<p>This app asks for these permissions:</p>\n<ul>");
        json_array_foreach(l->permissions, i, p)
        {
            cm_html_raw(&h, "<li><strong>");
            cm_html_text(&h, json_string_value(json_object_get(p, "permission")));
            cm_html_raw(&h, "</strong>: ");
            cm_html_text(&h, json_string_value(json_object_get(p, "purpose")));
            cm_html_raw(&h, "</li>");
        }
        cm_html_raw(&h, "</ul>\n");
    }
    cm_html_raw(&h, "<form method=\"post\" action=\"/apps/install/link/");
    cm_html_urlencode(&h, req->captures[0]);
    cm_html_raw(&h, "\">\n<label for=\"account\">Account</label><select id=\"account\" "
                    "name=\"account\">");
    for (int r = 0; r < PQntuples(acc); r++) {
        const char *acct_name = cm_db_value(acc, r, 1);

        cm_html_raw(&h, "<option value=\"");
        cm_html_text(&h, cm_db_value(acc, r, 0));
        cm_html_raw(&h, "\">");
        cm_html_text(&h, acct_name[0] ? acct_name : cm_db_value(acc, r, 0));
        cm_html_raw(&h, " (");
        cm_html_text(&h, cm_db_value(acc, r, 0));
        cm_html_raw(&h, ")</option>");
    }
    cm_html_raw(&h, "</select>\n");
    hidden(&h, "csrf_token", csrf);
    hidden(&h, "redirect_uri", l->redirect_uri);
    if (l->state != NULL)
        hidden(&h, "state", l->state);
    cm_html_raw(&h, "\n<p class=\"muted\">Afterwards you go back to ");
    cm_html_text(&h, l->redirect_uri);
    cm_html_raw(&h, "</p>\n<button type=\"submit\" name=\"action\" value=\"install\">Install"
                    "</button><button type=\"submit\" name=\"action\" value=\"cancel\">Cancel"
                    "</button>\n</form>\n");
    cm_html_end(&h);
    OPENSSL_cleanse(csrf, sizeof(csrf));
    PQclear(acc);
    rc = cm_html_respond(resp, 200, &h, err);
    return rc;
}

static int link_get(struct cm_req *req, struct cm_resp *resp, struct cm_err *err)
{
    struct inst_session s;
    struct link l;
    int rc;

    rc = link_load(req, resp, &l, err);
    if (rc > 0) {
        rc = inst_session_get(req, &s, err);
        if (rc == 0)
            rc = to_login(req, resp, err);
        else if (rc > 0)
            rc = consent_page(req, resp, &l, &s, err);
        OPENSSL_cleanse(&s, sizeof(s));
    }
    link_release(&l);
    return rc < 0 ? fail_page(req, resp, err) : 0;
}

/* redirect_uri, then '?' or '&' (when it has a query already). */
static void redirect_base(struct cm_html *loc, const char *uri)
{
    cm_html_raw(loc, uri);
    cm_html_raw(loc, strchr(uri, '?') ? "&" : "?");
}

static int cancel(struct cm_resp *resp, const struct link *l, struct cm_err *err)
{
    struct cm_html loc;
    int rc;

    cm_html_init(&loc);
    redirect_base(&loc, l->redirect_uri);
    cm_html_raw(&loc, "error=access_denied&error_description=The%20user%20denied%20your%20"
                      "request");
    if (l->state != NULL) {
        cm_html_raw(&loc, "&state=");
        cm_html_urlencode(&loc, l->state);
    }
    rc = loc.failed ? cm_err_internal(err, "out of memory") : cm_html_redirect(resp, loc.data, err);
    cm_html_release(&loc);
    return rc;
}

/* Installs for the user on account, signs the result, and redirects. */
static int install(struct cm_req *req, struct cm_resp *resp, const struct link *l,
                   const struct inst_session *s, const char *account, struct cm_err *err)
{
    const char *app = cm_db_value(l->res, 0, L_APP);
    char inst_id[CM_ID_MAX], secret[INST_SIGNING_SECRET_MAX], sig[CM_SIG_HEADER_MAX];
    char *payload = NULL;
    struct cm_html loc;
    int rc = -1;

    cm_html_init(&loc);
    snprintf(req->audit_actor, sizeof(req->audit_actor), "%s", s->user_id);
    if (inst_install(req, app, account, !l->test, s->user_id,
                     l->test ? cm_db_value(l->res, 0, L_VERSION) : NULL, inst_id, err) < 0 ||
        inst_signing_secret_get(req->db, req->cfg, app, secret, err) < 0)
        goto out;
    payload = inst_signature_payload(l->state, s->user_id, account);
    if (payload == NULL ||
        inst_signature_header(secret, (long long)time(NULL), payload, sig, sizeof(sig)) < 0) {
        cm_err_internal(err, "signing the install of %s failed", app);
        goto out;
    }
    redirect_base(&loc, l->redirect_uri);
    cm_html_raw(&loc, "user_id=");
    cm_html_urlencode(&loc, s->user_id);
    cm_html_raw(&loc, "&account_id=");
    cm_html_urlencode(&loc, account);
    if (l->state != NULL) {
        cm_html_raw(&loc, "&state=");
        cm_html_urlencode(&loc, l->state);
    }
    cm_html_raw(&loc, "&install_signature=");
    cm_html_urlencode(&loc, sig);
    if (l->test)
        cm_html_raw(&loc, "&livemode=false");
    rc = loc.failed ? cm_err_internal(err, "out of memory") : cm_html_redirect(resp, loc.data, err);
out:
    OPENSSL_cleanse(secret, sizeof(secret));
    free(payload);
    cm_html_release(&loc);
    return rc;
}

/* The session and its CSRF token: 1 valid; 0 when the 403 page was
 * answered; -1 with a 500 *err. */
static int post_guard(struct cm_req *req, struct cm_resp *resp, struct inst_session *s,
                      struct cm_err *err)
{
    int rc = inst_session_get(req, s, err);

    if (rc < 0)
        return -1;
    if (rc == 0 || !inst_session_csrf_ok(s, field(req, "csrf_token")))
        return forbidden_page(resp, err) < 0 ? -1 : 0;
    return 1;
}

static int member(struct cm_req *req, const char *user, const char *account, struct cm_err *err)
{
    PGresult *res =
        cm_db_exec(req->db, "inst_pages_member", 2, (const char *[]){user, account}, err);
    int n;

    if (res == NULL)
        return -1;
    n = PQntuples(res);
    PQclear(res);
    return n == 1;
}

static int link_post(struct cm_req *req, struct cm_resp *resp, struct cm_err *err)
{
    struct inst_session s;
    struct link l;
    const char *action = field(req, "action"), *account = field(req, "account");
    int rc;

    memset(&l, 0, sizeof(l));
    rc = post_guard(req, resp, &s, err);
    if (rc > 0)
        rc = link_load(req, resp, &l, err);
    if (rc > 0) {
        if (action != NULL && strcmp(action, "cancel") == 0) {
            rc = cancel(resp, &l, err);
        } else if (action == NULL || strcmp(action, "install") != 0) {
            rc = message_page(resp, 400, "Invalid request", "Choose Install or Cancel.", err);
        } else if (account == NULL || (rc = member(req, s.user_id, account, err)) == 0) {
            rc = message_page(resp, 403, "Account not available",
                              "You cannot install apps on this account.", err);
        } else if (rc > 0) {
            rc = install(req, resp, &l, &s, account, err);
        }
    }
    OPENSSL_cleanse(&s, sizeof(s));
    link_release(&l);
    return rc < 0 ? fail_page(req, resp, err) : 0;
}

/* ---- sign-in -------------------------------------------------------------- */

/* next: a path under /apps/install/ of printable ASCII, with no way out of
 * it ("..", "//", backslashes); anything else means the installations page. */
static const char *safe_next(const char *next)
{
    if (next == NULL || strncmp(next, "/apps/install/", 14) != 0 || strlen(next) > NEXT_MAX ||
        strstr(next, "..") != NULL || strstr(next, "//") != NULL)
        return HOME;
    for (const char *p = next; *p; p++)
        if (*p < 0x21 || *p > 0x7e || *p == '\\')
            return HOME;
    return next;
}

static int login_page(struct cm_resp *resp, int status, const char *next, const char *email,
                      const char *message, struct cm_err *err)
{
    struct cm_html h;

    cm_html_init(&h);
    cm_html_begin(&h, "Sign in", style, NULL, 0);
    cm_html_raw(&h, "<h1>Sign in</h1>\n");
    if (message != NULL) {
        cm_html_raw(&h, "<p class=\"error\">");
        cm_html_text(&h, message);
        cm_html_raw(&h, "</p>\n");
    }
    cm_html_raw(&h, "<form method=\"post\" action=\"/apps/install/login\">\n"
                    "<label for=\"email\">Email</label><input id=\"email\" name=\"email\" "
                    "type=\"email\" autocomplete=\"username\" required value=\"");
    cm_html_text(&h, email ? email : "");
    cm_html_raw(&h, "\">\n<label for=\"password\">Password</label><input id=\"password\" "
                    "name=\"password\" type=\"password\" autocomplete=\"current-password\" "
                    "required>\n");
    hidden(&h, "next", safe_next(next));
    cm_html_raw(&h, "\n<button type=\"submit\">Sign in</button>\n</form>\n");
    cm_html_end(&h);
    return cm_html_respond(resp, status, &h, err);
}

static int login_get(struct cm_req *req, struct cm_resp *resp, struct cm_err *err)
{
    if (login_page(resp, 200, field(req, "next"), NULL, NULL, err) < 0)
        return fail_page(req, resp, err);
    return 0;
}

/* The audit row of a sign-in attempt: its outcome and, on success, who.
 * Never the email or the password. */
static int audit_sign_in(struct cm_req *req, const char *user, int status, const char *code,
                         struct cm_err *err)
{
    struct cm_audit_rec a;

    cm_req_audit_fill(req, &a, "user.sign_in", status, code);
    a.actor = user;
    return cm_audit_write(req->db, &a, err);
}

/* 1 when a browser's Origin header names another site than CM_BASE_URL's
 * scheme://host[:port] ("null" included). A request without the header (an
 * old browser, a script) passes: the session cookie is SameSite=Lax anyway. */
static int foreign_origin(const struct cm_req *req)
{
    const char *base = req->cfg->base_url, *host, *end;

    if (req->origin == NULL || base[0] == '\0')
        return 0;
    host = strstr(base, "://");
    if (host == NULL)
        return 1;
    end = strchr(host + 3, '/');
    if (end == NULL)
        end = base + strlen(base);
    return strlen(req->origin) != (size_t)(end - base) ||
           strncmp(req->origin, base, (size_t)(end - base)) != 0;
}

/* Sign-in has no session yet, so no CSRF token: another site's form must not
 * sign a browser into an account of the attacker's (login CSRF), hence the
 * Origin check. */
static int login_post(struct cm_req *req, struct cm_resp *resp, struct cm_err *err)
{
    const char *email = field(req, "email"), *password = field(req, "password");
    const char *next = safe_next(field(req, "next"));
    struct inst_session s;
    int rc;

    memset(&s, 0, sizeof(s));
    if (foreign_origin(req))
        return forbidden_page(resp, err) < 0 ? fail_page(req, resp, err) : 0;
    if (email == NULL || password == NULL || !email[0] || !password[0] ||
        strlen(email) > EMAIL_MAX || strlen(password) > PASSWORD_MAX) {
        rc = login_page(resp, 400, next, email && strlen(email) <= EMAIL_MAX ? email : NULL,
                        "Enter your email and password.", err);
        return rc < 0 ? fail_page(req, resp, err) : 0;
    }
    rc = inst_session_sign_in(req, resp, email, password, &s, err);
    if (rc == INST_SIGN_IN_OK)
        rc = audit_sign_in(req, s.user_id, 303, NULL, err) < 0 ? -1
                                                               : cm_html_redirect(resp, next, err);
    else if (rc == INST_SIGN_IN_INVALID)
        rc = audit_sign_in(req, NULL, 401, "invalid_credentials", err) < 0
                 ? -1
                 : login_page(resp, 401, next, email, "Incorrect email or password.", err);
    else if (rc == INST_SIGN_IN_THROTTLED)
        rc = audit_sign_in(req, NULL, 429, "rate_limited", err) < 0
                 ? -1
                 : login_page(resp, 429, next, email,
                              "Too many failed sign-in attempts. Try again in 15 minutes.", err);
    OPENSSL_cleanse(&s, sizeof(s));
    return rc < 0 ? fail_page(req, resp, err) : 0;
}

static int logout(struct cm_req *req, struct cm_resp *resp, struct cm_err *err)
{
    struct inst_session s;
    int rc = inst_session_get(req, &s, err);

    if (rc == 0) /* nothing to end: just forget the cookie */
        rc = inst_session_end(req, resp, &s, err) < 0 ? -1 : 1;
    else if (rc > 0 && !inst_session_csrf_ok(&s, field(req, "csrf_token")))
        rc = forbidden_page(resp, err) < 0 ? -1 : 0;
    else if (rc > 0)
        rc = inst_session_end(req, resp, &s, err) < 0 ? -1 : 1;
    if (rc > 0) {
        snprintf(req->audit_actor, sizeof(req->audit_actor), "%s", s.user_id);
        rc = cm_html_redirect(resp, "/apps/install/login", err);
    }
    OPENSSL_cleanse(&s, sizeof(s));
    return rc < 0 ? fail_page(req, resp, err) : 0;
}

/* ---- installations -------------------------------------------------------- */

static void installation_row(struct cm_html *h, const PGresult *res, int r, const char *csrf)
{
    const char *version = cm_db_value(res, r, 6);

    cm_html_raw(h, "<tr><td>");
    cm_html_text(h, cm_db_value(res, r, 1));
    cm_html_raw(h, "<br><span class=\"muted\">");
    cm_html_text(h, cm_db_value(res, r, 2));
    if (version != NULL) {
        cm_html_raw(h, " ");
        cm_html_text(h, version);
    }
    cm_html_raw(h, "</span></td><td>");
    cm_html_text(h, cm_db_value(res, r, 3)[0] ? cm_db_value(res, r, 3) : cm_db_value(res, r, 4));
    cm_html_raw(h, "<br><span class=\"muted\">");
    cm_html_text(h, cm_db_value(res, r, 4));
    cm_html_raw(h, "</span></td><td>");
    cm_html_raw(h, strcmp(cm_db_value(res, r, 5), "t") == 0 ? "live" : "test");
    cm_html_raw(h, "</td><td>");
    cm_html_text(h, cm_db_value(res, r, 7));
    cm_html_raw(h, "</td><td><form method=\"post\" action=\"/apps/install/installations/");
    cm_html_urlencode(h, cm_db_value(res, r, 0));
    cm_html_raw(h, "/uninstall\">");
    hidden(h, "csrf_token", csrf);
    cm_html_raw(h, "<button type=\"submit\">Uninstall</button></form></td></tr>\n");
}

static int installations_get(struct cm_req *req, struct cm_resp *resp, struct cm_err *err)
{
    struct inst_session s;
    char csrf[INST_CSRF_MAX] = "";
    PGresult *res = NULL;
    struct cm_html h;
    int rc;

    cm_html_init(&h);
    rc = inst_session_get(req, &s, err);
    if (rc == 0) {
        rc = to_login(req, resp, err);
        goto out;
    }
    if (rc > 0 && inst_session_csrf(&s, csrf) < 0)
        rc = cm_err_internal(err, "CSRF token failed");
    if (rc > 0)
        res = cm_db_exec(req->db, "inst_pages_installed", 1, (const char *[]){s.user_id}, err);
    if (res == NULL) {
        rc = -1;
        goto out;
    }
    cm_html_begin(&h, "Installed apps", style, NULL, 0);
    cm_html_raw(&h, "<h1>Installed apps</h1>\n");
    if (PQntuples(res) == 0) {
        cm_html_raw(&h, "<p>No apps are installed on your accounts.</p>\n");
    } else {
        cm_html_raw(&h, "<table><tr><th>App</th><th>Account</th><th>Mode</th>"
                        "<th>Installed (UTC)</th><th></th></tr>\n");
        for (int r = 0; r < PQntuples(res); r++)
            installation_row(&h, res, r, csrf);
        cm_html_raw(&h, "</table>\n");
    }
    cm_html_raw(&h, "<form method=\"post\" action=\"/apps/install/logout\">");
    hidden(&h, "csrf_token", csrf);
    cm_html_raw(&h, "<button type=\"submit\">Sign out</button></form>\n");
    cm_html_end(&h);
    rc = cm_html_respond(resp, 200, &h, err);
out:
    OPENSSL_cleanse(csrf, sizeof(csrf));
    OPENSSL_cleanse(&s, sizeof(s));
    PQclear(res);
    cm_html_release(&h);
    return rc < 0 ? fail_page(req, resp, err) : 0;
}

static int uninstall_post(struct cm_req *req, struct cm_resp *resp, struct cm_err *err)
{
    const char *inst_id = req->captures[0];
    struct inst_session s;
    PGresult *res;
    int rc;

    rc = post_guard(req, resp, &s, err);
    if (rc > 0) {
        res = cm_db_exec(req->db, "inst_pages_own_installation", 2,
                         (const char *[]){inst_id, s.user_id}, err);
        rc = res == NULL ? -1 : PQntuples(res);
        PQclear(res);
        if (rc == 0) {
            rc = message_page(resp, 404, "Installation not found",
                              "This app is not installed on any account you administer.", err);
        } else if (rc > 0) {
            snprintf(req->audit_actor, sizeof(req->audit_actor), "%s", s.user_id);
            rc = inst_uninstall(req, inst_id, err) < 0 ? -1 : cm_html_redirect(resp, HOME, err);
        }
    }
    OPENSSL_cleanse(&s, sizeof(s));
    return rc < 0 ? fail_page(req, resp, err) : 0;
}

static const struct cm_route routes[] = {
    {"GET", "/apps/install/link/{link}", link_get, 0, NULL, NULL},
    {"POST", "/apps/install/link/{link}", link_post, CM_ROUTE_TX, NULL, NULL},
    {"GET", "/apps/install/login", login_get, 0, NULL, NULL},
    {"POST", "/apps/install/login", login_post, CM_ROUTE_TX, NULL, NULL},
    {"POST", "/apps/install/logout", logout, CM_ROUTE_TX, NULL, NULL},
    {"GET", "/apps/install/installations", installations_get, 0, NULL, NULL},
    {"POST", "/apps/install/installations/{installation}/uninstall", uninstall_post, CM_ROUTE_TX,
     NULL, NULL},
};

const struct cm_module inst_pages_module = {routes, sizeof(routes) / sizeof(routes[0]), stmts,
                                            NULL};
