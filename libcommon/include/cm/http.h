/* The request pipeline every service shares: FastCGI serving with a pool of
 * worker threads, path routing, form decoding, authentication, idempotency,
 * audit, and Stripe-shaped responses.
 *
 * A service declares a struct cm_service (its routes, statements and an
 * optional background task) and calls cm_server_main() from main(). For each
 * request the server, in order:
 *   1. caps the body (413), reads it once, assigns Request-Id;
 *   2. matches the route (404 "Unrecognized request URL (GET: /v1/x)");
 *   3. decodes query + urlencoded body into req->params and rejects unknown
 *      top-level parameters (400 parameter_unknown);
 *   4. authenticates (CM_ROUTE_AUTH: 401 / 403);
 *   5. CM_ROUTE_TX: BEGIN, and on POST with Idempotency-Key claims the key
 *      in the same transaction (replay, 400 mismatch, 409 in flight); the
 *      claim travels with the handler's first statement, and when it is not
 *      new whatever the handler did is rolled back and the claim answers;
 *   6. calls the handler; on success writes the audit row and the
 *      idempotent response, then COMMITs, and only then answers;
 *      on failure rolls back and audits the rejection in its own transaction.
 * Handlers therefore hold no transaction logic of their own: they run their
 * statements on req->db and fill *resp or *err. */
#ifndef CM_HTTP_H
#define CM_HTTP_H

#include <stddef.h>
#include <jansson.h>

#include "cm/audit.h"
#include "cm/auth.h"
#include "cm/config.h"
#include "cm/db.h"
#include "cm/err.h"
#include "cm/ids.h"

#define CM_MAX_CAPTURES        4
#define CM_CAPTURE_MAX         256
#define CM_SERVICE_MAX_MODULES 8

struct cm_service;
struct cm_route;

struct cm_req {
    /* From the web server; borrowed, valid until the handler returns. Absent
     * headers are NULL. path is the URI path without the query, undecoded. */
    const char *method, *path, *query, *content_type;
    const char *authorization, *stripe_account, *idempotency_key, *stripe_version;
    const char *user_agent, *remote_addr, *remote_user, *cookie, *https;
    const char *origin; /* HTTP_ORIGIN: the Origin header browsers send with a POST */
    const char *body;   /* the raw body (NUL-terminated), body_len bytes */
    size_t body_len;

    json_t *params;                                 /* decoded query + urlencoded body; borrowed */
    char captures[CM_MAX_CAPTURES][CM_CAPTURE_MAX]; /* {name} segments, percent-decoded */
    int ncaptures;

    char request_id[CM_ID_MAX];
    struct cm_auth auth; /* filled for CM_ROUTE_AUTH routes */
    int authenticated;

    struct cm_db *db; /* this worker's connection; in a transaction for CM_ROUTE_TX */
    const struct cm_config *cfg;
    const struct cm_service *svc;
    const struct cm_route *route;

    /* What the handler did, for the audit row (cm_req_audit()). */
    char audit_action[64];
    char audit_object[128];
    char audit_actor[72];                     /* overrides the key id, e.g. a signed-in user id */
    char audit_target[CM_AUDIT_TEXT_MAX + 1]; /* core.audit.target: "account/api_token" */

    int auth_cached;      /* private: auth came from the worker's cache (epoch guard pending) */
    char route_name[160]; /* "POST /v1/apps/secrets" once a route matched (core.audit.route) */
};

struct cm_resp {
    int status;
    const char *content_type; /* static string; default "application/json" */
    char *body;               /* new (malloc), freed by the server */
    size_t len;
    char *headers; /* extra "Name: value\r\n" lines, new, freed by the server */
    size_t headers_len;
};

/* Sets a JSON response. Takes body (decref'd even on failure). 0, or -1 with
 * a 500 *err on allocation failure. */
int cm_resp_json(struct cm_resp *resp, int status, json_t *body, struct cm_err *err);
/* Sets a raw response; takes body (a malloc'd buffer of len bytes). */
void cm_resp_raw(struct cm_resp *resp, int status, const char *content_type, char *body,
                 size_t len);
/* Adds a header line. Names and values containing CR, LF or NUL are refused
 * (-1): no header injection. */
int cm_resp_header(struct cm_resp *resp, const char *name, const char *value);

/* Records the audited action, object and target of this request (e.g.
 * "secret.set", "appsecret_...", "account/api_token"); NULL leaves a field as
 * it is. Strings are copied (truncated to fit). */
void cm_req_audit(struct cm_req *req, const char *action, const char *object_id,
                  const char *target);

/* Fills *a for this request: who (signed-in user, else key id, else a failed
 * key's public prefix), which account and app, the recorded object and
 * target, the outcome. Strings are borrowed from req. */
void cm_req_audit_fill(const struct cm_req *req, struct cm_audit_rec *a, const char *action,
                       int status, const char *code);
/* Writes an extra audit row for this request now, on its connection (in its
 * transaction when one is open): for handlers that touch several objects,
 * such as a list that returns payloads. 0, or -1 with a 500 *err. */
int cm_req_audit_now(struct cm_req *req, const char *action, const char *object_id,
                     const char *target, struct cm_err *err);

/* Renders Stripe's error object {"error":{type,code?,param?,message}} as a
 * new JSON object (NULL on allocation failure). */
json_t *cm_err_json(const struct cm_err *err);

typedef int (*cm_handler)(struct cm_req *req, struct cm_resp *resp, struct cm_err *err);

enum {
    CM_ROUTE_AUTH = 1 << 0, /* a secret key is required (401/403 otherwise) */
    CM_ROUTE_TX = 1 << 1,   /* run in a transaction; POST: with Idempotency-Key semantics */
    CM_ROUTE_RAW = 1 << 2,  /* do not decode the body (multipart uploads, pages) */
};

struct cm_route {
    const char *method;  /* "GET", "POST", "DELETE" */
    const char *pattern; /* "/v1/identity/verification_sessions/{session}/cancel" */
    cm_handler handler;
    unsigned flags;
    const char *const *params; /* allowed top-level params (NULL-terminated); NULL: any */
    const char *action; /* audit action for the route, or NULL (cm_req_audit() can set one) */
};

/* Matches method + path against routes. Returns the route, or NULL. Captures
 * ({name} segments: non-empty, percent-decoded, at most CM_CAPTURE_MAX-1
 * bytes) are written to req->captures. A path that matches with another
 * method is not a match: Stripe answers it as an unrecognized URL too. */
const struct cm_route *cm_route_match(const struct cm_route *routes, size_t n, const char *method,
                                      const char *path, struct cm_req *req);

/* One job of a service (apps, installations, pages, ...): its routes, its
 * statement set and, optionally, its share of the queue worker. A service
 * made of modules lists them in struct cm_service.modules; the server joins
 * their routes into one table (in module order) and prepares every set, so
 * statement names must be unique across the service. */
struct cm_module {
    const struct cm_route *routes; /* static; NULL when nroutes is 0 */
    size_t nroutes;
    const struct cm_stmt *stmts; /* {NULL}-ended, static; NULL for none */
    /* Its share of the queue worker, or NULL: does up to a batch of due work
     * and returns the items done (0: nothing due), or -1 with *err. */
    int (*work)(struct cm_db *db, const struct cm_config *cfg, struct cm_err *err);
};

struct cm_service {
    const char *name; /* "svc-secrets" */
    const struct cm_route *routes;
    size_t nroutes;
    const struct cm_stmt *stmts; /* the service's statement set ({NULL}-ended), or NULL */
    /* The service's modules, NULL-ended (at most CM_SERVICE_MAX_MODULES), or
     * NULL: their routes come after `routes`, their sets after `stmts`. */
    const struct cm_module *const *modules;
    size_t max_body; /* default body cap (CM_MAX_BODY overrides) */
    /* Optional background task, run every tick_seconds on its own thread and
     * connection (purging, delivery). Returns 0 or -1 with *err (logged). */
    int (*tick)(struct cm_db *db, const struct cm_config *cfg, struct cm_err *err);
    unsigned tick_seconds;
    /* Optional queue worker (webhook delivery, checks), on a thread and
     * connection of its own so that slow work never delays housekeeping.
     * One round is this function (work_ctx passed through), then each
     * module's work, in turn. Rounds repeat at once while they did
     * something; a round that did nothing (or failed: *err is logged) waits
     * work_idle_ms (default 1000) or until shutdown. On SIGTERM the round in
     * progress finishes, then the thread stops. */
    int (*work)(struct cm_db *db, const struct cm_config *cfg, void *work_ctx, struct cm_err *err);
    void *work_ctx;
    unsigned work_idle_ms;
};

/* The whole of a service's main(): configuration, socket, workers, signals.
 * Returns the process exit status: 0 after a graceful SIGTERM/SIGINT stop
 * (in-flight requests finish first), 1 on a configuration or socket error. */
int cm_server_main(const struct cm_service *svc, int argc, char **argv);

#endif
