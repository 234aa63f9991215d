/* The FastCGI server every service runs: one listening socket, a pool of
 * worker threads each owning a FCGX_Request and a database connection, an
 * optional background thread, and a main thread that only waits for
 * SIGTERM/SIGINT.
 *
 * Shutdown: the main thread blocks the signals before starting any thread and
 * takes them with sigwait(), so no handler runs in async context. On a signal
 * it raises the stop flag and shuts the listening socket down, which makes
 * every blocked accept() return; a worker in the middle of a request finishes
 * it (the response is written and committed) before it sees the flag.
 *
 * Per request, the cost is kept to what ARCHITECTURE.md measures: one read of
 * the body, one write of the response, and for a POST with an
 * Idempotency-Key one extra statement in the request's own transaction. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <fcgiapp.h>
#include <openssl/crypto.h>

#include "cm/audit.h"
#include "cm/crypto.h"
#include "cm/events.h"
#include "cm/form.h"
#include "cm/http.h"
#include "cm/idem.h"
#include "cm/json.h"
#include "cm/log.h"
#include "cm/params.h"
#include "cm/sig.h"
#include "cm/banned.h"

#define DEFAULT_STRIPE_VERSION "2026-07-29.dahlia"

struct server {
    const struct cm_service *svc;
    const struct cm_config *cfg;
    const struct cm_route *routes; /* the service's and its modules', joined */
    size_t nroutes;
    const struct cm_stmt
        *sets[6 + CM_SERVICE_MAX_MODULES]; /* libcommon's + the service's, NULL-ended */
    int sock;
    atomic_int stop;
    pthread_mutex_t tick_mu;
    pthread_cond_t tick_cv;
};

struct worker {
    struct server *srv;
    pthread_t thread;
    struct cm_db *db;
    struct cm_auth_cache *auth_cache;
};

/* ---- response writing ------------------------------------------------- */

static const char *reason(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 201:
        return "Created";
    case 204:
        return "No Content";
    case 302:
        return "Found";
    case 303:
        return "See Other";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 402:
        return "Payment Required";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 409:
        return "Conflict";
    case 413:
        return "Payload Too Large";
    case 414:
        return "URI Too Long";
    case 415:
        return "Unsupported Media Type";
    case 429:
        return "Too Many Requests";
    case 500:
        return "Internal Server Error";
    case 503:
        return "Service Unavailable";
    default:
        return "Unknown";
    }
}

/* Turns *err into the response body. A 500's detail is logged here, with
 * the request id, and never sent. */
static void resp_error(struct cm_req *req, struct cm_resp *resp, const struct cm_err *err)
{
    static const char fallback[] = "{\"error\":{\"type\":\"api_error\",\"message\":\"An unknown "
                                   "error occurred. Please try again later.\"}}";
    struct cm_err ignored;
    json_t *o;

    if (err->status >= 500)
        cm_log(CM_LOG_ERROR, "%s %s %s: %s", req->request_id, req->method, req->path,
               cm_err_log_text(err));
    o = cm_err_json(err);
    if (o == NULL || cm_resp_json(resp, err->status, o, &ignored) < 0) {
        char *copy = malloc(sizeof(fallback));
        if (copy != NULL)
            memcpy(copy, fallback, sizeof(fallback));
        cm_resp_raw(resp, 500, "application/json", copy, copy ? sizeof(fallback) - 1 : 0);
    }
}

/* Writes status line, headers and body with a single FCGX_PutStr. */
static void resp_write(FCGX_Request *r, const struct cm_req *req, const struct cm_resp *resp)
{
    char head[1024];
    const char *ctype = resp->content_type ? resp->content_type : "application/json";
    const char *version = req->stripe_version ? req->stripe_version : DEFAULT_STRIPE_VERSION;
    char *buf;
    int n;

    /* Stripe-Version is echoed from the client: keep it a plain token. */
    for (const char *p = version; *p; p++)
        if (*p < 0x21 || *p > 0x7e || p - version > 64) {
            version = DEFAULT_STRIPE_VERSION;
            break;
        }
    n = snprintf(head, sizeof(head),
                 "Status: %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
                 "Request-Id: %s\r\nStripe-Version: %s\r\nCache-Control: no-cache, no-store\r\n",
                 resp->status, reason(resp->status), ctype, resp->len, req->request_id, version);
    if (n < 0 || (size_t)n >= sizeof(head))
        return;
    buf = malloc((size_t)n + resp->headers_len + 2 + resp->len);
    if (buf == NULL) {
        FCGX_PutStr(head, n, r->out);
        FCGX_PutStr("\r\n", 2, r->out);
        return;
    }
    memcpy(buf, head, (size_t)n);
    if (resp->headers_len)
        memcpy(buf + n, resp->headers, resp->headers_len);
    memcpy(buf + n + resp->headers_len, "\r\n", 2);
    if (resp->len)
        memcpy(buf + n + resp->headers_len + 2, resp->body, resp->len);
    FCGX_PutStr(buf, (int)((size_t)n + resp->headers_len + 2 + resp->len), r->out);
    free(buf);
}

/* ---- the request pipeline --------------------------------------------- */

static const char *env(FCGX_Request *r, const char *name)
{
    const char *v = FCGX_GetParam(name, r->envp);

    return v != NULL && *v != '\0' ? v : NULL;
}

/* The unknown-URL error quotes the path; keep it printable ASCII so that the
 * message is always valid JSON text. */
static int unrecognized(struct cm_req *req, struct cm_err *err)
{
    char path[160];
    size_t i;

    for (i = 0; req->path[i] && i < sizeof(path) - 1; i++) {
        unsigned char c = (unsigned char)req->path[i];
        path[i] = c >= 0x20 && c < 0x7f ? (char)c : '?';
    }
    path[i] = '\0';
    return cm_err_set(err, 404, CM_ERR_INVALID_REQUEST, NULL, NULL,
                      "Unrecognized request URL (%s: %s). Please see https://stripe.com/docs or "
                      "we can help at https://support.stripe.com/.",
                      req->method, path);
}

static int is_form(const char *ctype)
{
    static const char form[] = "application/x-www-form-urlencoded";

    return ctype == NULL || strncasecmp(ctype, form, sizeof(form) - 1) == 0;
}

/* Step 1-3 of the pipeline (cm/http.h): body, route, parameters. */
static int parse(struct cm_req *req, FCGX_Request *r, const struct server *srv, char **body,
                 struct cm_err *err)
{
    const char *cl = env(r, "CONTENT_LENGTH");
    unsigned long long len = 0;
    struct cm_form_limits lim = CM_FORM_LIMITS_DEFAULT;

    if (cl != NULL) {
        char *end = NULL;
        errno = 0;
        len = strtoull(cl, &end, 10);
        if (errno != 0 || *end != '\0' || cl[0] == '-')
            return cm_err_invalid(err, NULL, "Invalid Content-Length.");
    }
    if (len > srv->cfg->max_body)
        return cm_err_set(err, 413, CM_ERR_INVALID_REQUEST, "request_too_large", NULL,
                          "Request body too large: the limit is %zu bytes.", srv->cfg->max_body);
    *body = malloc(len + 1);
    if (*body == NULL)
        return cm_err_internal(err, "out of memory for a %llu byte body", len);
    if (len > 0 && FCGX_GetStr(*body, (int)len, r->in) != (int)len)
        return cm_err_invalid(err, NULL, "The request body was shorter than its Content-Length.");
    (*body)[len] = '\0';
    req->body = *body;
    req->body_len = (size_t)len;

    req->route = cm_route_match(srv->routes, srv->nroutes, req->method, req->path, req);
    if (req->route == NULL)
        return unrecognized(req, err);
    snprintf(req->route_name, sizeof(req->route_name), "%s %s", req->route->method,
             req->route->pattern);

    req->params = json_object();
    if (req->params == NULL)
        return cm_err_internal(err, "out of memory");
    if (req->query != NULL &&
        cm_form_decode_into(req->params, req->query, strlen(req->query), &lim, err) < 0)
        return -1;
    if (strcmp(req->method, "POST") == 0 && !(req->route->flags & CM_ROUTE_RAW) && len > 0) {
        if (!is_form(req->content_type))
            return cm_err_set(err, 415, CM_ERR_INVALID_REQUEST, NULL, NULL,
                              "Invalid request: unsupported Content-Type %.64s. Send "
                              "application/x-www-form-urlencoded.",
                              req->content_type);
        if (cm_form_decode_into(req->params, req->body, req->body_len, &lim, err) < 0)
            return -1;
    }
    if (req->route->params != NULL &&
        cm_params_check_allowed(req->params, req->route->params, err) < 0)
        return -1;
    return 0;
}

/* Errors that the client may retry with the same key are not kept (docs:
 * validation failures and concurrent collisions); every other outcome of an
 * endpoint that started running is replayed, 500s included. */
static int idem_keeps(const struct cm_err *err)
{
    return err->status != 409 && err->status != 401 && !(err->status == 400 && err->param[0]);
}

/* Stored responses can hold what the client asked to see (a secret's
 * payload with expand[]=payload), so they are sealed at rest like the data
 * they echo: "sealed:<key id>:<hex of nonce|ciphertext|tag>", with the owner
 * and key as associated data. A stored row in any other form is refused, so
 * no role that can write core.idempotency can plant a reply. */
#define SEALED_PREFIX "sealed:"

static char *seal_body(const struct cm_req *req, const char *owner, const char *body, size_t len,
                       struct cm_err *err)
{
    const char *parts[] = {owner, req->idempotency_key};
    unsigned char *aad = NULL, *blob = NULL;
    size_t aadlen = 0, bloblen = 0;
    const char *key_id = NULL;
    char *out = NULL;
    size_t idlen;

    aad = cm_aad_build(&aadlen, 2, parts);
    if (aad == NULL ||
        cm_seal(req->cfg->keys, aad, aadlen, body, len, &blob, &bloblen, &key_id, err) < 0) {
        if (aad == NULL)
            cm_err_internal(err, "out of memory");
        goto out;
    }
    idlen = strlen(key_id);
    out = malloc(sizeof(SEALED_PREFIX) + idlen + 1 + 2 * bloblen);
    if (out == NULL) {
        cm_err_internal(err, "out of memory");
        goto out;
    }
    memcpy(out, SEALED_PREFIX, sizeof(SEALED_PREFIX) - 1);
    memcpy(out + sizeof(SEALED_PREFIX) - 1, key_id, idlen);
    out[sizeof(SEALED_PREFIX) - 1 + idlen] = ':';
    cm_hex_encode(blob, bloblen, out + sizeof(SEALED_PREFIX) + idlen);
out:
    free(aad);
    free(blob);
    return out;
}

/* The stored body as the client first got it; new string, or NULL with err. */
static char *open_body(const struct cm_req *req, const char *owner, const char *stored,
                       struct cm_err *err)
{
    const char *parts[] = {owner, req->idempotency_key};
    const char *id, *colon;
    char key_id[CM_KEY_ID_MAX + 1];
    unsigned char *aad = NULL, *blob = NULL;
    size_t aadlen = 0, bloblen, plainlen = 0;
    char *plain = NULL;

    id = stored + sizeof(SEALED_PREFIX) - 1;
    colon = strncmp(stored, SEALED_PREFIX, sizeof(SEALED_PREFIX) - 1) == 0 ? strchr(id, ':') : NULL;
    if (colon == NULL || (size_t)(colon - id) > CM_KEY_ID_MAX) {
        cm_err_internal(err, "stored idempotent response cannot be opened");
        return NULL;
    }
    memcpy(key_id, id, (size_t)(colon - id));
    key_id[colon - id] = '\0';
    bloblen = strlen(colon + 1) / 2;
    blob = malloc(bloblen ? bloblen : 1);
    aad = cm_aad_build(&aadlen, 2, parts);
    if (blob == NULL || aad == NULL || cm_hex_decode(colon + 1, blob, bloblen) < 0) {
        cm_err_internal(err, "stored idempotent response is malformed");
        goto out;
    }
    cm_open(req->cfg->keys, key_id, aad, aadlen, blob, bloblen, &plain, &plainlen, err);
out:
    free(aad);
    free(blob);
    return plain;
}

struct idem {
    int pending; /* claim sent ahead, answer not read yet */
    int claimed; /* the claim said new: the response is stored at commit */
    char owner[320];
    char route[160];
    unsigned char hash[32];
};

/* Step 5: BEGIN, and for a POST with an Idempotency-Key its claim, sent
 * ahead: it travels with the handler's first statement (settle() reads it).
 * 0, or -1 with *err. */
static int begin(struct cm_req *req, struct idem *id, struct cm_err *err)
{
    if (cm_db_begin(req->db, err) < 0)
        return -1;
    if (strcmp(req->method, "POST") != 0 || req->idempotency_key == NULL || !req->authenticated)
        return 0;
    if (cm_idem_key_check(req->idempotency_key, err) < 0)
        return -1;
    cm_idem_owner(&req->auth, id->owner, sizeof(id->owner));
    snprintf(id->route, sizeof(id->route), "%s %s", req->method, req->path);
    if (cm_idem_params_hash(req->params, id->hash, err) < 0)
        return -1;
    if (cm_idem_claim_send(req->db, id->owner, req->idempotency_key, id->route, id->hash, err) < 0)
        return -1;
    id->pending = 1;
    return 0;
}

/* Forgets what the handler answered and would have audited. */
static void forget_handler(struct cm_req *req, struct cm_resp *resp)
{
    free(resp->body);
    free(resp->headers);
    memset(resp, 0, sizeof(*resp));
    req->audit_action[0] = req->audit_object[0] = req->audit_actor[0] = '\0';
    req->audit_target[0] = '\0';
}

/* After the handler ran: the claim's answer, which wins over the handler's.
 * Unless the key is new, the handler's work is undone and forgotten, so the
 * request ends as if it had never run. 0 new (or no key): go on; 1 the
 * stored response is in *resp (replay); -1 with *err. */
static int settle(struct cm_req *req, struct cm_resp *resp, struct idem *id, struct cm_err *err)
{
    enum cm_idem_state st;
    int status = 0;
    char *stored = NULL, *body;

    if (!id->pending)
        return 0;
    id->pending = 0;
    if (cm_idem_claim_result(req->db, &st, &status, &stored, err) < 0)
        return -1;
    if (st == CM_IDEM_NEW) {
        id->claimed = 1;
        return 0;
    }
    cm_db_rollback(req->db);
    forget_handler(req, resp);
    switch (st) {
    case CM_IDEM_NEW:
        break;
    case CM_IDEM_REPLAY:
        body = open_body(req, id->owner, stored ? stored : "", err);
        free(stored);
        if (body == NULL)
            return -1;
        cm_resp_raw(resp, status, "application/json", body, strlen(body));
        if (cm_resp_header(resp, "Idempotent-Replayed", "true") < 0)
            return cm_err_internal(err, "out of memory");
        return 1;
    case CM_IDEM_MISMATCH:
    case CM_IDEM_BUSY:
        free(stored);
        return cm_idem_state_err(st, req->idempotency_key, err);
    }
    free(stored);
    return cm_err_internal(err, "unknown idempotency state %d", (int)st);
}

static const char *audit_action(const struct cm_req *req)
{
    if (req->audit_action[0])
        return req->audit_action;
    return req->route ? req->route->action : NULL;
}

/* Step 6 on success: audit row and stored response in the transaction, then
 * COMMIT. Nothing is answered before the commit succeeds. */
static int finish(struct cm_req *req, struct cm_resp *resp, const struct idem *id,
                  struct cm_err *err)
{
    const char *action = audit_action(req);
    struct cm_audit_rec a;

    if (action != NULL) {
        cm_req_audit_fill(req, &a, action, resp->status, NULL);
        if (cm_audit_write(req->db, &a, err) < 0)
            return -1;
    }
    if (!cm_db_in_tx(req->db))
        return cm_db_guard_flush(req->db, err); /* never answer on an unconfirmed cache hit */
    if (id->claimed) {
        char *body = seal_body(req, id->owner, resp->body ? resp->body : "", resp->len, err);
        int rc = body ? cm_idem_store(req->db, id->owner, req->idempotency_key, id->route, id->hash,
                                      resp->status, body, err)
                      : -1;
        free(body);
        if (rc < 0)
            return -1;
    }
    if (cm_db_commit(req->db, err) < 0) {
        /* The key's record landed since the claim looked: nothing of this
         * request was committed, and its retry replays the other's answer. */
        if (id->claimed && strcmp(cm_db_sqlstate(req->db), "23505") == 0)
            return cm_idem_state_err(CM_IDEM_BUSY, req->idempotency_key, err);
        return -1;
    }
    return 0;
}

/* Step 6 on failure: undo, then record the rejection in its own transaction
 * (autocommit). A failure to audit a rejection is logged, not escalated: the
 * client already gets an error, and nothing was changed. */
static void fail(struct cm_req *req, struct cm_resp *resp, const struct idem *id, int auth_tried,
                 const struct cm_err *err)
{
    struct cm_audit_rec a;
    struct cm_err aerr;
    const char *action;

    if (req->db != NULL && cm_db_in_tx(req->db))
        cm_db_rollback(req->db);
    if (req->db != NULL)
        cm_db_guard_clear(req->db); /* the request already failed */
    resp_error(req, resp, err);
    if (req->db == NULL || (req->route == NULL && !auth_tried))
        return;
    action = auth_tried && !req->authenticated ? "auth.failed"
             : audit_action(req)               ? audit_action(req)
                                               : "request.rejected";
    cm_req_audit_fill(req, &a, action, err->status, err->code);
    if (cm_audit_write(req->db, &a, &aerr) < 0)
        cm_log(CM_LOG_ERROR, "%s audit of a rejected request failed: %s", req->request_id,
               cm_err_log_text(&aerr));
    if (id->claimed && idem_keeps(err)) {
        char *body = seal_body(req, id->owner, resp->body ? resp->body : "", resp->len, &aerr);

        if (body == NULL ||
            cm_idem_store_detached(req->db, id->owner, req->idempotency_key, id->route, id->hash,
                                   resp->status, body, &aerr) < 0)
            cm_log(CM_LOG_ERROR, "%s storing an idempotent error failed: %s", req->request_id,
                   cm_err_log_text(&aerr));
        free(body);
    }
}

/* Resolves the request's key, from the worker's cache when cache is given:
 * a hit costs no round trip, and is confirmed by the epoch guard that rides
 * at the head of the request's first flight (cm/auth.h). */
static int authenticate(struct cm_req *req, struct cm_auth_cache *cache, struct cm_err *err)
{
    char key[CM_KEY_MAX + 1] = "";
    char epoch[24];

    if (cm_auth_parse_header(req->authorization, key, sizeof(key), err) < 0)
        goto failed;
    if (cache != NULL &&
        cm_auth_cache_get(cache, key, req->stripe_account, (long long)time(NULL), &req->auth)) {
        snprintf(epoch, sizeof(epoch), "%lld", req->auth.epoch);
        if (cm_db_guard(req->db, CM_AUTH_GUARD, 1, (const char *[]){epoch}, err) < 0)
            goto failed;
        req->auth_cached = 1;
    } else {
        if (cm_auth_resolve(req->db, key, req->stripe_account, &req->auth, err) < 0)
            goto failed;
        cm_auth_cache_put(cache, key, req->stripe_account, &req->auth);
    }
    OPENSSL_cleanse(key, sizeof(key));
    req->authenticated = 1;
    return 0;
failed:
    /* Keep only a recognizable key's public prefix (mode and 4 characters of
     * its lookup), for the audit of the failure; anything else sent as a
     * credential (a password, a short token) is not recorded at all. */
    if (err->status != 500 && strlen(key) >= 24 &&
        (strncmp(key, "sk_test_", 8) == 0 || strncmp(key, "sk_live_", 8) == 0 ||
         strncmp(key, "uxt_test_", 9) == 0 || strncmp(key, "uxt_live_", 9) == 0)) {
        size_t n = key[0] == 's' ? 12 : 13;
        memcpy(req->auth.key_prefix, key, n);
        req->auth.key_prefix[n] = '\0';
    }
    OPENSSL_cleanse(key, sizeof(key));
    return -1;
}

/* Steps 4 to 6 (cm/http.h): authentication, the transaction with its
 * idempotency claim, the handler and the commit. 0 answered (or replayed),
 * -1 with *err. cache NULL resolves the key against the database. */
static int run_route(struct cm_req *req, struct cm_resp *resp, struct idem *id,
                     struct cm_auth_cache *cache, struct cm_err *err)
{
    int rc, claim;

    if ((req->route->flags & CM_ROUTE_AUTH) && authenticate(req, cache, err) < 0)
        return -1;
    if ((req->route->flags & CM_ROUTE_TX) && begin(req, id, err) < 0)
        return -1;
    rc = req->route->handler(req, resp, err);
    /* A handler statement carrying the guard runs after the claim sent
     * ahead: when the guard failed, the claim's answer must not be given
     * (serve() resolves the key again and the retry claims anew). */
    if (rc < 0 && req->auth_cached && strcmp(cm_db_sqlstate(req->db), CM_AUTH_STALE_SQLSTATE) == 0)
        id->pending = 0;
    if (id->pending) {
        struct cm_err cerr;

        cm_err_clear(&cerr);
        claim = settle(req, resp, id, &cerr);
        if (claim != 0) {
            if (claim < 0) /* mismatch, busy, or the flight that carried it failed */
                *err = cerr;
            return claim < 0 ? -1 : 0; /* 1: replayed */
        }
    }
    if (rc < 0)
        return -1;
    return finish(req, resp, id, err);
}

/* Back to the state after parsing, for the one retry of run_route(). */
static void reset_for_retry(struct cm_req *req, struct cm_resp *resp, struct idem *id,
                            struct cm_err *err)
{
    forget_handler(req, resp);
    memset(id, 0, sizeof(*id));
    memset(&req->auth, 0, sizeof(req->auth));
    req->authenticated = 0;
    req->auth_cached = 0;
    cm_err_clear(err);
}

static void serve(struct worker *w, FCGX_Request *r)
{
    const struct server *srv = w->srv;
    struct cm_req req;
    struct cm_resp resp;
    struct cm_err err;
    struct idem id;
    struct timespec t0, t1;
    char *body = NULL, *path = NULL;
    const char *uri;
    int rc, auth_tried = 0;

    clock_gettime(CLOCK_MONOTONIC, &t0);
    memset(&req, 0, sizeof(req));
    memset(&resp, 0, sizeof(resp));
    memset(&id, 0, sizeof(id));
    cm_err_clear(&err);

    req.cfg = srv->cfg;
    req.svc = srv->svc;
    req.db = w->db;
    cm_db_clear_error(w->db); /* cm_db_sqlstate() below speaks of this request */
    req.method = env(r, "REQUEST_METHOD") ? env(r, "REQUEST_METHOD") : "GET";
    /* A web server that cannot fit the URI into its FastCGI parameters drops
     * it (Apache's mod_proxy_fcgi, over 16 kB): never guess a path then. */
    uri = env(r, "REQUEST_URI");
    path = strndup(uri ? uri : "/", strcspn(uri ? uri : "/", "?"));
    req.path = path ? path : "/";
    req.query = env(r, "QUERY_STRING");
    req.content_type = env(r, "CONTENT_TYPE");
    req.authorization = env(r, "HTTP_AUTHORIZATION");
    req.stripe_account = env(r, "HTTP_STRIPE_ACCOUNT");
    req.idempotency_key = env(r, "HTTP_IDEMPOTENCY_KEY");
    req.stripe_version = env(r, "HTTP_STRIPE_VERSION");
    req.user_agent = env(r, "HTTP_USER_AGENT");
    req.remote_addr = env(r, "REMOTE_ADDR");
    req.remote_user = env(r, "REMOTE_USER");
    req.cookie = env(r, "HTTP_COOKIE");
    req.origin = env(r, "HTTP_ORIGIN");
    req.https = env(r, "HTTPS");

    if (cm_id_new(req.request_id, sizeof(req.request_id), "req_", &err) < 0 || path == NULL) {
        memcpy(req.request_id, "req_unavailable", sizeof("req_unavailable"));
        cm_err_internal(&err, "request setup failed");
        goto failed;
    }
    if (uri == NULL) {
        cm_err_set(&err, 414, CM_ERR_INVALID_REQUEST, NULL, NULL,
                   "Request-URI too long: it did not reach the service.");
        goto failed;
    }
    if (parse(&req, r, srv, &body, &err) < 0) {
        /* An unknown API URL answers 401 before 404, as a keyless probe
         * should learn nothing; with a valid key it is a 404. */
        if (req.route == NULL && err.status == 404 && strncmp(req.path, "/v1/", 4) == 0) {
            struct cm_err aerr;
            auth_tried = 1;
            cm_err_clear(&aerr);
            if (authenticate(&req, NULL, &aerr) < 0)
                err = aerr;
        }
        goto failed;
    }
    auth_tried = (req.route->flags & CM_ROUTE_AUTH) != 0;
    rc = run_route(&req, &resp, &id, w->auth_cache, &err);
    /* An error decided on cached credentials before any statement went out
     * (a permission since granted, say) is only answered once the guard
     * confirms them. */
    if (rc < 0 && req.auth_cached && strcmp(cm_db_sqlstate(req.db), CM_AUTH_STALE_SQLSTATE) != 0) {
        struct cm_err gerr;
        cm_db_guard_flush(req.db, &gerr);
    }
    if (rc < 0 && req.auth_cached && strcmp(cm_db_sqlstate(req.db), CM_AUTH_STALE_SQLSTATE) == 0) {
        /* Access changed since the cached resolution: undo, forget the
         * cache, and run the request again against the database. */
        cm_db_rollback(req.db);
        cm_auth_cache_clear(w->auth_cache);
        reset_for_retry(&req, &resp, &id, &err);
        rc = run_route(&req, &resp, &id, NULL, &err);
    }
    if (rc < 0)
        goto failed;
    goto done;
failed:
    fail(&req, &resp, &id, auth_tried, &err);
done:
    if (req.idempotency_key != NULL && strcmp(req.method, "POST") == 0 &&
        cm_resp_header(&resp, "Idempotency-Key", req.idempotency_key) < 0) {
        /* A key with CR/LF cannot be echoed; it was refused by cm_idem_key_check. */
    }
    resp_write(r, &req, &resp);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    cm_log_access("%s %s %s %d %.1fms", req.request_id, req.method, req.path, resp.status,
                  (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
    json_decref(req.params);
    free(resp.body);
    free(resp.headers);
    free(body);
    free(path);
}

/* ---- threads ---------------------------------------------------------- */

static struct cm_db *open_db(const struct server *srv)
{
    struct cm_err err;
    struct cm_db *db = cm_db_new(NULL, srv->sets, &err);

    if (db == NULL)
        cm_log(CM_LOG_ERROR, "database handle: %s", cm_err_log_text(&err));
    return db;
}

/* Ends a request. Once its input is read to the end (the empty FCGI_STDIN
 * record that closes every request: nothing more can arrive on the
 * connection), the connection is closed at once. Otherwise libfcgi closes it
 * gracefully: shut down our side, then read until the web server closes
 * first, so that unread input never turns into a reset that could cost the
 * web server the response; that wait is a sleep and a wake-up per request,
 * which the common case does not need. */
static void end_request(FCGX_Request *r)
{
    if (FCGX_GetChar(r->in) == EOF && FCGX_GetError(r->in) == 0)
        FCGX_Detach(r);
    FCGX_Finish_r(r);
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    FCGX_Request r;

    if (FCGX_InitRequest(&r, w->srv->sock, 0) != 0) {
        cm_log(CM_LOG_ERROR, "FCGX_InitRequest failed");
        return NULL;
    }
    while (!atomic_load(&w->srv->stop)) {
        if (FCGX_Accept_r(&r) < 0)
            break;
        serve(w, &r);
        end_request(&r);
    }
    FCGX_Free(&r, 0);
    return NULL;
}

/* Housekeeping, on a connection of its own: every second it writes the
 * buffered access lines and extends the audit hash chain; every tick_seconds
 * it keeps the audit partitions ready, rolls up closed days for the reports,
 * prunes idempotency records and runs the service's own task. */
static void *tick_main(void *arg)
{
    struct server *srv = arg;
    struct cm_db *db = open_db(srv);
    unsigned interval = srv->svc->tick_seconds ? srv->svc->tick_seconds : 60;
    unsigned elapsed = interval; /* the first run is at start */
    unsigned chain_rounds = 0;

    while (!atomic_load(&srv->stop)) {
        struct timespec until;

        if (db != NULL && elapsed >= interval) {
            struct cm_err err;

            elapsed = 0;
            cm_err_clear(&err);
            /* Housekeeping every service shares: idempotency records live 24 h. */
            if (cm_audit_partitions(db, &err) < 0)
                cm_log(CM_LOG_WARN, "audit partitions: %s", cm_err_log_text(&err));
            if (cm_audit_rollup(db, &err) < 0)
                cm_log(CM_LOG_WARN, "audit rollup: %s", cm_err_log_text(&err));
            if (cm_idem_prune(db, &err) < 0)
                cm_log(CM_LOG_WARN, "idempotency prune: %s", cm_err_log_text(&err));
            if (srv->svc->tick != NULL && srv->svc->tick(db, srv->cfg, &err) < 0)
                cm_log(CM_LOG_WARN, "background task: %s", cm_err_log_text(&err));
            if (cm_db_in_tx(db))
                cm_db_rollback(db);
        }
        if (db != NULL) {
            struct cm_err err;

            /* The look back for late commits every tenth round. */
            if (cm_audit_chain(db, chain_rounds++ % 10 == 0, &err) < 0)
                cm_log(CM_LOG_WARN, "audit chain: %s", cm_err_log_text(&err));
        }
        cm_log_flush();
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += 1;
        pthread_mutex_lock(&srv->tick_mu);
        while (!atomic_load(&srv->stop) &&
               pthread_cond_timedwait(&srv->tick_cv, &srv->tick_mu, &until) != ETIMEDOUT)
            ;
        pthread_mutex_unlock(&srv->tick_mu);
        elapsed++;
    }
    cm_db_free(db);
    return NULL;
}

/* One round of the queue worker: the service's work, then its modules'.
 * Items done, or -1 with *err (the first failure; the rest still run). */
static int work_round(const struct server *srv, struct cm_db *db, struct cm_err *err)
{
    const struct cm_service *svc = srv->svc;
    int total = 0, failed = 0;

    if (svc->work != NULL) {
        int n = svc->work(db, srv->cfg, svc->work_ctx, err);

        failed |= n < 0;
        total += n > 0 ? n : 0;
        if (cm_db_in_tx(db))
            cm_db_rollback(db);
    }
    for (size_t i = 0; svc->modules != NULL && svc->modules[i] != NULL; i++) {
        struct cm_err merr;
        int n;

        if (svc->modules[i]->work == NULL)
            continue;
        cm_err_clear(&merr);
        n = svc->modules[i]->work(db, srv->cfg, &merr);
        if (n < 0 && !failed) {
            *err = merr;
            failed = 1;
        }
        total += n > 0 ? n : 0;
        if (cm_db_in_tx(db))
            cm_db_rollback(db);
    }
    return failed && total == 0 ? -1 : total;
}

/* 1 when the service has a queue worker (its own or a module's). */
static int has_work(const struct cm_service *svc)
{
    if (svc->work != NULL)
        return 1;
    for (size_t i = 0; svc->modules != NULL && svc->modules[i] != NULL; i++)
        if (svc->modules[i]->work != NULL)
            return 1;
    return 0;
}

/* Joins the service's routes and its modules' into srv->routes (new when
 * there are modules, else the service's own table) and their statement sets
 * into srv->sets after libcommon's four. 0, or -1 (logged). */
static int join_modules(struct server *srv, struct cm_route **owned)
{
    const struct cm_service *svc = srv->svc;
    size_t nmod = 0, nroutes = svc->nroutes, n = 4;

    *owned = NULL;
    srv->routes = svc->routes;
    srv->nroutes = svc->nroutes;
    if (svc->stmts != NULL)
        srv->sets[n++] = svc->stmts;
    for (; svc->modules != NULL && svc->modules[nmod] != NULL; nmod++)
        nroutes += svc->modules[nmod]->nroutes;
    if (nmod > CM_SERVICE_MAX_MODULES) {
        cm_log(CM_LOG_ERROR, "%s has %zu modules, more than %d", svc->name, nmod,
               CM_SERVICE_MAX_MODULES);
        return -1;
    }
    if (nmod > 0) {
        size_t at = svc->nroutes;

        *owned = calloc(nroutes ? nroutes : 1, sizeof(**owned));
        if (*owned == NULL) {
            cm_log(CM_LOG_ERROR, "out of memory joining the routes");
            return -1;
        }
        if (svc->nroutes > 0)
            memcpy(*owned, svc->routes, svc->nroutes * sizeof(**owned));
        for (size_t i = 0; i < nmod; i++) {
            const struct cm_module *m = svc->modules[i];

            if (m->nroutes > 0)
                memcpy(*owned + at, m->routes, m->nroutes * sizeof(**owned));
            at += m->nroutes;
            if (m->stmts != NULL)
                srv->sets[n++] = m->stmts;
        }
        srv->routes = *owned;
        srv->nroutes = nroutes;
    }
    srv->sets[n] = NULL;
    return 0;
}

/* The service's queue worker (struct cm_service.work), on a connection of
 * its own. Between calls with nothing to do it sleeps on the tick condition,
 * so shutdown wakes it at once. */
static void *work_main(void *arg)
{
    struct server *srv = arg;
    struct cm_db *db = open_db(srv);
    unsigned idle_ms = srv->svc->work_idle_ms ? srv->svc->work_idle_ms : 1000;

    while (db != NULL && !atomic_load(&srv->stop)) {
        struct cm_err err;
        struct timespec until;
        int done;

        cm_err_clear(&err);
        done = work_round(srv, db, &err);
        if (done > 0)
            continue;
        if (done < 0)
            cm_log(CM_LOG_WARN, "queue worker: %s", cm_err_log_text(&err));
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += idle_ms / 1000;
        until.tv_nsec += (long)(idle_ms % 1000) * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        pthread_mutex_lock(&srv->tick_mu);
        while (!atomic_load(&srv->stop) &&
               pthread_cond_timedwait(&srv->tick_cv, &srv->tick_mu, &until) != ETIMEDOUT)
            ;
        pthread_mutex_unlock(&srv->tick_mu);
    }
    cm_db_free(db);
    return NULL;
}

static int open_socket(const struct cm_config *cfg)
{
    const char *addr = cfg->listen;
    int unix_path = 0, fd;
    struct stat st;

    if (strncmp(addr, "unix:", 5) == 0) {
        addr += 5;
        unix_path = 1;
    } else if (addr[0] == '/' || addr[0] == '.') {
        unix_path = 1;
    }
    /* A socket left by a previous run would make bind() fail. */
    if (unix_path && lstat(addr, &st) == 0 && S_ISSOCK(st.st_mode))
        unlink(addr);
    fd = FCGX_OpenSocket(addr, 1024);
    if (fd < 0) {
        cm_log(CM_LOG_ERROR, "cannot listen on %s: %s", cfg->listen, strerror(errno));
        return -1;
    }
    if (unix_path && chmod(addr, cfg->socket_mode) < 0) {
        cm_log(CM_LOG_ERROR, "chmod %s: %s", addr, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

int cm_server_main(const struct cm_service *svc, int argc, char **argv)
{
    struct cm_config cfg;
    struct server srv;
    struct worker *workers = NULL;
    struct cm_route *joined = NULL;
    pthread_t ticker, worker;
    int have_ticker = 0, have_worker = 0, nstarted = 0, sig = 0, status = 1;
    sigset_t set;
    struct cm_err err;

    cm_log_setup(svc->name, CM_LOG_INFO);
    if (cm_config_load(&cfg, svc->name, svc->max_body ? svc->max_body : 1048576, argc, argv, &err) <
        0) {
        cm_log(CM_LOG_ERROR, "configuration: %s", cm_err_log_text(&err));
        cm_config_release(&cfg);
        return 1;
    }
    cm_log_setup(svc->name, cfg.log_level);
    /* Every service seals what it keeps of a response (stored idempotent
     * replies can echo secrets), so every service needs its keyring. */
    if (cfg.keys == NULL) {
        cm_log(CM_LOG_ERROR, "configuration: CM_KEY_FILE is required (create one with "
                             "deploy/keygen.sh)");
        cm_config_release(&cfg);
        return 1;
    }

    memset(&srv, 0, sizeof(srv));
    srv.svc = svc;
    srv.cfg = &cfg;
    srv.sets[0] = cm_auth_stmts;
    srv.sets[1] = cm_idem_stmts;
    srv.sets[2] = cm_audit_stmts;
    srv.sets[3] = cm_events_stmts;
    if (join_modules(&srv, &joined) < 0) {
        cm_config_release(&cfg);
        return 1;
    }
    atomic_init(&srv.stop, 0);
    pthread_mutex_init(&srv.tick_mu, NULL);
    pthread_cond_init(&srv.tick_cv, NULL);

    /* Signals are taken by sigwait() below; every thread inherits the mask. */
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    if (FCGX_Init() != 0) {
        cm_log(CM_LOG_ERROR, "FCGX_Init failed");
        goto out;
    }
    srv.sock = open_socket(&cfg);
    if (srv.sock < 0)
        goto out;
    workers = calloc((size_t)cfg.threads, sizeof(*workers));
    if (workers == NULL)
        goto out;
    for (; nstarted < cfg.threads; nstarted++) {
        workers[nstarted].srv = &srv;
        workers[nstarted].db = open_db(&srv);
        workers[nstarted].auth_cache = cm_auth_cache_new();
        if (workers[nstarted].db == NULL || workers[nstarted].auth_cache == NULL ||
            pthread_create(&workers[nstarted].thread, NULL, worker_main, &workers[nstarted]) != 0) {
            cm_db_free(workers[nstarted].db);
            cm_auth_cache_free(workers[nstarted].auth_cache);
            break;
        }
    }
    if (nstarted < cfg.threads) {
        cm_log(CM_LOG_ERROR, "could only start %d of %d workers", nstarted, cfg.threads);
        atomic_store(&srv.stop, 1);
        shutdown(srv.sock, SHUT_RDWR);
        goto join;
    }
    if (pthread_create(&ticker, NULL, tick_main, &srv) == 0)
        have_ticker = 1;
    if (has_work(svc) && pthread_create(&worker, NULL, work_main, &srv) == 0)
        have_worker = 1;
    cm_log(CM_LOG_INFO, "listening on %s with %d workers", cfg.listen, cfg.threads);

    sigwait(&set, &sig);
    cm_log(CM_LOG_INFO, "signal %d: finishing in-flight requests", sig);
    atomic_store(&srv.stop, 1);
    shutdown(srv.sock, SHUT_RDWR); /* wakes every worker blocked in accept() */
    pthread_mutex_lock(&srv.tick_mu);
    pthread_cond_broadcast(&srv.tick_cv);
    pthread_mutex_unlock(&srv.tick_mu);
    status = 0;
join:
    for (int i = 0; i < nstarted; i++) {
        pthread_join(workers[i].thread, NULL);
        cm_db_free(workers[i].db);
        cm_auth_cache_free(workers[i].auth_cache);
    }
    if (have_ticker)
        pthread_join(ticker, NULL);
    if (have_worker)
        pthread_join(worker, NULL);
    close(srv.sock);
    cm_log(CM_LOG_INFO, "stopped"); /* after the buffered access lines */
out:
    free(workers);
    free(joined);
    pthread_cond_destroy(&srv.tick_cv);
    pthread_mutex_destroy(&srv.tick_mu);
    cm_config_release(&cfg);
    return status;
}
