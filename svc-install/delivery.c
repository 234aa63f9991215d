/* The webhook delivery worker. One round: claim up to a batch of due
 * deliveries with a lease (FOR UPDATE SKIP LOCKED, so concurrent workers of
 * any number of instances take disjoint sets, and a claimed delivery is not
 * claimable again until its lease runs out); render and sign each event;
 * POST them all at once with libcurl's multi interface, outside any
 * transaction, so one slow endpoint does not hold up the others; then record
 * every attempt and its outcome. The claim increments attempts, and the
 * outcome is written only while attempts is still the claimed number: a
 * worker whose lease ran out cannot overwrite a newer attempt's result.
 *
 * The body is the event as the events API shows it (pending_webhooks
 * included; api_version set to the endpoint's when it pins one), serialized
 * once: those exact bytes are signed and sent. The endpoint's whsec_ secret
 * is opened only to sign and wiped right after. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <openssl/crypto.h>

#include "cm/crypto.h"
#include "cm/json.h"
#include "cm/log.h"
#include "cm/sig.h"
#include "delivery.h"
#include "delivery_backoff.h"
#include "module.h"
#include "webhook_events.h"
#include "cm/banned.h"

#define USER_AGENT     "Stripe/1.0 (+https://stripe.com/docs/webhooks)"
#define ERROR_MAX      512
#define BATCH_MAX      256
#define TIMEOUT_MAX    300
#define WINDOW_MAX     (30L * 86400)
#define DEFAULT_WINDOW (3L * 86400)

#define PER_ENDPOINT "4"

static const struct cm_stmt stmts[] = {
    /* $1 lease seconds, $2 batch. At most PER_ENDPOINT deliveries of one
     * endpoint per round, so that an endpoint with a backlog of failing
     * deliveries cannot fill every round and hold up everyone else's. */
    {"inst_delivery_claim",
     "UPDATE core.event_deliveries d SET attempts = d.attempts + 1,"
     " leased_until = now() + make_interval(secs => $1::integer)"
     " FROM core.webhook_endpoints w"
     " WHERE d.id IN (SELECT l.id FROM core.event_deliveries l WHERE l.id IN"
     " (SELECT f.id FROM (SELECT q.id, q.next_attempt_at, row_number() OVER"
     " (PARTITION BY q.endpoint_id ORDER BY q.next_attempt_at) AS n"
     " FROM core.event_deliveries q WHERE q.state = 'pending' AND q.next_attempt_at <= now()"
     " AND (q.leased_until IS NULL OR q.leased_until < now())) f"
     " WHERE f.n <= " PER_ENDPOINT " ORDER BY f.next_attempt_at LIMIT $2::integer)"
     /* Checked again on the locked row's newest version: another worker
      * may have claimed it since the snapshot the window ran on. */
     " AND l.state = 'pending' AND l.next_attempt_at <= now()"
     " AND (l.leased_until IS NULL OR l.leased_until < now()) FOR UPDATE SKIP LOCKED)"
     " AND w.id = d.endpoint_id"
     " RETURNING d.id, d.attempts, floor(extract(epoch FROM d.created))::bigint, d.livemode,"
     " d.event_id, w.id, w.url, w.api_version, w.secret_key_id, encode(w.secret_sealed, 'hex')",
     2},
    /* $1 delivery, $2 attempt, $3 started (Unix seconds), $4 duration ms,
     * $5 HTTP status, $6 error, $7 succeeded, $8 new state, $9 next attempt. */
    {"inst_delivery_record",
     "WITH a AS (INSERT INTO core.delivery_attempts (delivery_id, attempt, at, duration_ms,"
     " status_code, error, succeeded) VALUES ($1::bigint, $2::integer,"
     " to_timestamp($3::double precision), $4::integer, $5::integer, $6, $7::boolean))"
     " UPDATE core.event_deliveries SET state = $8, leased_until = NULL,"
     " next_attempt_at = COALESCE(to_timestamp($9::bigint), next_attempt_at),"
     " finished_at = CASE WHEN $8 = 'pending' THEN NULL ELSE now() END"
     " WHERE id = $1::bigint AND attempts = $2::integer AND state = 'pending'",
     9},
    {NULL, NULL, 0},
};

const struct cm_module inst_delivery_module = {NULL, 0, stmts, NULL};

enum {
    C_DELIVERY,
    C_ATTEMPT,
    C_CREATED,
    C_LIVE,
    C_EVENT,
    C_ENDPOINT,
    C_URL,
    C_API_VERSION,
    C_KEY_ID,
    C_SEALED
};

/* One claimed delivery through its attempt. */
struct job {
    const PGresult *claim; /* borrowed: the claim's result, row `row` */
    int row;
    int attempt;
    long long created;
    char *body; /* new: the signed bytes */
    size_t body_len;
    CURL *easy;
    struct curl_slist *headers;
    char errbuf[CURL_ERROR_SIZE];
    char error[ERROR_MAX + 1]; /* why there is no HTTP status ("" when there is one) */
    long status;               /* HTTP status, 0 when none came */
    long long duration_ms;
};

static const char *col(const struct job *j, int c)
{
    return cm_db_value(j->claim, j->row, c);
}

/* Reads a long from env var name into *out when set: decimal digits only,
 * in [min, max]. */
static int env_long(const char *name, long min, long max, long *out, struct cm_err *err)
{
    const char *v = getenv(name);
    char *end = NULL;
    long n;

    if (v == NULL)
        return 0;
    errno = 0;
    n = strtol(v, &end, 10);
    if (v[0] < '0' || v[0] > '9' || *end != '\0' || errno != 0 || n < min || n > max)
        return cm_err_internal(err, "%s must be an integer from %ld to %ld (got '%.32s')", name,
                               min, max, v);
    *out = n;
    return 0;
}

int inst_delivery_config(struct inst_delivery_cfg *c, struct cm_err *err)
{
    long enabled = 1, batch = 16;

    c->retry_base_seconds = 60;
    c->retry_window_live = DEFAULT_WINDOW;
    c->retry_window_test = DEFAULT_WINDOW;
    c->timeout_seconds = 10;
    if (env_long("INST_DELIVERY", 0, 1, &enabled, err) < 0 ||
        env_long("INST_WEBHOOK_RETRY_BASE", 1, 86400, &c->retry_base_seconds, err) < 0 ||
        env_long("INST_WEBHOOK_RETRY_WINDOW_LIVE", 0, WINDOW_MAX, &c->retry_window_live, err) < 0 ||
        env_long("INST_WEBHOOK_RETRY_WINDOW_TEST", 0, WINDOW_MAX, &c->retry_window_test, err) < 0 ||
        env_long("INST_WEBHOOK_TIMEOUT", 1, TIMEOUT_MAX, &c->timeout_seconds, err) < 0 ||
        env_long("INST_WEBHOOK_BATCH", 1, BATCH_MAX, &batch, err) < 0)
        return -1;
    c->enabled = (int)enabled;
    c->batch = (int)batch;
    /* Once, before any thread: libcurl's global state. */
    if (c->enabled && curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return cm_err_internal(err, "libcurl does not initialize");
    return 0;
}

/* Opens the endpoint's secret (sealed with the endpoint id as associated
 * data) into secret (cap bytes). */
static int open_secret(const struct cm_config *cfg, const struct job *j, char *secret, size_t cap,
                       struct cm_err *err)
{
    const char *hex = col(j, C_SEALED), *id = col(j, C_ENDPOINT);
    size_t bloblen = strlen(hex) / 2, aadlen = 0, len = 0;
    unsigned char *blob = malloc(bloblen > 0 ? bloblen : 1);
    unsigned char *aad = cm_aad_build(&aadlen, 1, (const char *const[]){id});
    char *plain = NULL;
    int ret = -1;

    if (blob == NULL || aad == NULL) {
        cm_err_internal(err, "out of memory");
        goto out;
    }
    if (cfg->keys == NULL) {
        cm_err_internal(err, "no keyring (CM_KEY_FILE)");
        goto out;
    }
    if (cm_hex_decode(hex, blob, bloblen) < 0) {
        cm_err_internal(err, "the sealed secret is not hex");
        goto out;
    }
    if (cm_open(cfg->keys, col(j, C_KEY_ID), aad, aadlen, blob, bloblen, &plain, &len, err) < 0)
        goto out;
    if (len + 1 > cap) {
        cm_err_internal(err, "the secret is too long");
        goto out;
    }
    memcpy(secret, plain, len + 1);
    ret = 0;
out:
    if (plain != NULL) {
        OPENSSL_cleanse(plain, len);
        free(plain);
    }
    free(aad);
    free(blob);
    return ret;
}

static size_t discard(char *data, size_t size, size_t n, void *ctx)
{
    (void)data, (void)ctx;
    return size * n;
}

/* The body, its signature and the easy handle of job j. On failure j->error
 * says why (the attempt is recorded as failed without a request). */
static int prepare(const struct cm_config *cfg, const struct inst_delivery_cfg *c, json_t *event,
                   struct job *j)
{
    char secret[128], sig[CM_SIG_HEADER_MAX], header[32 + CM_SIG_HEADER_MAX];
    const char *api_version = col(j, C_API_VERSION);
    json_t *copy = NULL;
    struct cm_err err;
    int ret = -1;

    cm_err_clear(&err);
    if (event == NULL) {
        snprintf(j->error, sizeof(j->error), "internal: the event %s is missing", col(j, C_EVENT));
        return -1;
    }
    copy = json_copy(event);
    if (copy == NULL ||
        (api_version != NULL &&
         json_object_set_new(copy, "api_version", json_string(api_version)) < 0) ||
        (j->body = cm_json_dump(copy, &j->body_len)) == NULL) {
        snprintf(j->error, sizeof(j->error), "internal: out of memory rendering the event");
        goto out;
    }
    if (open_secret(cfg, j, secret, sizeof(secret), &err) < 0) {
        snprintf(j->error, sizeof(j->error), "internal: the endpoint secret does not open");
        cm_log(CM_LOG_ERROR, "webhook endpoint %s: %s", col(j, C_ENDPOINT), cm_err_log_text(&err));
        goto out;
    }
    ret =
        cm_sig_header_build(secret, (long long)time(NULL), j->body, j->body_len, sig, sizeof(sig));
    OPENSSL_cleanse(secret, sizeof(secret));
    if (ret < 0) {
        snprintf(j->error, sizeof(j->error), "internal: signing failed");
        goto out;
    }
    ret = -1;
    snprintf(header, sizeof(header), "Stripe-Signature: %s", sig);
    j->easy = curl_easy_init();
    if (j->easy == NULL ||
        (j->headers = curl_slist_append(NULL, "Content-Type: application/json; charset=utf-8")) ==
            NULL ||
        curl_slist_append(j->headers, header) == NULL ||
        /* No "Expect: 100-continue" round trip before the body. */
        curl_slist_append(j->headers, "Expect:") == NULL) {
        snprintf(j->error, sizeof(j->error), "internal: out of memory preparing the request");
        goto out;
    }
    curl_easy_setopt(j->easy, CURLOPT_URL, col(j, C_URL));
    curl_easy_setopt(j->easy, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(j->easy, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(j->easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(j->easy, CURLOPT_TIMEOUT, c->timeout_seconds);
    curl_easy_setopt(j->easy, CURLOPT_USERAGENT, USER_AGENT);
    curl_easy_setopt(j->easy, CURLOPT_HTTPHEADER, j->headers);
    curl_easy_setopt(j->easy, CURLOPT_POSTFIELDS, j->body);
    curl_easy_setopt(j->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)j->body_len);
    curl_easy_setopt(j->easy, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(j->easy, CURLOPT_ERRORBUFFER, j->errbuf);
    curl_easy_setopt(j->easy, CURLOPT_PRIVATE, j);
    ret = 0;
out:
    json_decref(copy);
    return ret;
}

/* Runs every prepared request at once and fills status, error and duration. */
static void perform(struct job *jobs, int n)
{
    CURLM *multi = curl_multi_init();
    CURLMsg *msg;
    int running = 0, left;

    for (int i = 0; i < n; i++)
        if (jobs[i].easy != NULL &&
            (multi == NULL || curl_multi_add_handle(multi, jobs[i].easy) != CURLM_OK))
            snprintf(jobs[i].error, sizeof(jobs[i].error), "internal: libcurl refused the request");
    if (multi == NULL)
        return;
    do {
        if (curl_multi_perform(multi, &running) != CURLM_OK ||
            (running > 0 && curl_multi_poll(multi, NULL, 0, 1000, NULL) != CURLM_OK))
            break;
    } while (running > 0);
    while ((msg = curl_multi_info_read(multi, &left)) != NULL) {
        struct job *j = NULL;
        curl_off_t us = 0;

        if (msg->msg != CURLMSG_DONE)
            continue;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&j);
        curl_easy_getinfo(msg->easy_handle, CURLINFO_TOTAL_TIME_T, &us);
        j->duration_ms = us / 1000;
        if (msg->data.result == CURLE_OK)
            curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &j->status);
        else
            snprintf(j->error, sizeof(j->error), "%s%s%s", curl_easy_strerror(msg->data.result),
                     j->errbuf[0] ? ": " : "", j->errbuf);
    }
    /* A transfer the loop did not finish (multi failure) has neither. */
    for (int i = 0; i < n; i++) {
        if (jobs[i].easy != NULL)
            curl_multi_remove_handle(multi, jobs[i].easy);
        if (jobs[i].status == 0 && jobs[i].error[0] == '\0')
            snprintf(jobs[i].error, sizeof(jobs[i].error), "internal: the transfer did not finish");
    }
    curl_multi_cleanup(multi);
}

/* Records job j's attempt (started at `started`) and what follows it. */
static int record(struct cm_db *db, const struct inst_delivery_cfg *c, const struct job *j,
                  double started, struct cm_err *err)
{
    int ok = j->status >= 200 && j->status <= 299;
    long window = strcmp(col(j, C_LIVE), "t") == 0 ? c->retry_window_live : c->retry_window_test;
    long long next = 0;
    const char *state = "succeeded";
    char at[32], ms[24], status[16], attempt[16], next_s[24];
    PGresult *res;

    if (!ok)
        state = inst_delivery_retry_at(j->created, (long long)time(NULL), j->attempt,
                                       c->retry_base_seconds, window, &next)
                    ? "pending"
                    : "failed";
    snprintf(at, sizeof(at), "%.6f", started);
    snprintf(ms, sizeof(ms), "%lld", j->duration_ms);
    snprintf(status, sizeof(status), "%ld", j->status);
    snprintf(attempt, sizeof(attempt), "%d", j->attempt);
    snprintf(next_s, sizeof(next_s), "%lld", next);
    res = cm_db_exec(db, "inst_delivery_record", 9,
                     (const char *[]){col(j, C_DELIVERY), attempt, at, ms,
                                      j->status > 0 ? status : NULL, j->error[0] ? j->error : NULL,
                                      ok ? "true" : "false", state, next > 0 ? next_s : NULL},
                     err);
    if (res == NULL)
        return -1;
    if (cm_db_affected(res) == 0)
        cm_log(CM_LOG_WARN,
               "webhook delivery %s: attempt %d finished after its lease or its endpoint's end",
               col(j, C_DELIVERY), j->attempt);
    PQclear(res);
    return 0;
}

int inst_deliver(struct cm_db *db, const struct cm_config *cfg, void *ctx, struct cm_err *err)
{
    const struct inst_delivery_cfg *c = ctx;
    struct job *jobs = NULL;
    json_t **events = NULL;
    const char **ids = NULL;
    PGresult *claim = NULL;
    char lease[16], batch[16];
    struct timespec t0;
    int n = 0, delivered = 0, ret = -1;

    if (!c->enabled)
        return 0;
    /* The lease outlasts the whole round: every transfer runs at once and
     * none outlives the timeout. */
    snprintf(lease, sizeof(lease), "%ld", 2 * c->timeout_seconds + 30);
    snprintf(batch, sizeof(batch), "%d", c->batch);
    claim = cm_db_exec(db, "inst_delivery_claim", 2, (const char *[]){lease, batch}, err);
    if (claim == NULL)
        return -1;
    n = PQntuples(claim);
    if (n == 0) {
        ret = 0;
        goto out;
    }
    jobs = calloc((size_t)n, sizeof(*jobs));
    events = calloc((size_t)n, sizeof(*events));
    ids = calloc((size_t)n, sizeof(*ids));
    if (jobs == NULL || events == NULL || ids == NULL) {
        /* The leases run out and another round retries them. */
        cm_err_internal(err, "out of memory for %d deliveries", n);
        goto out;
    }
    for (int i = 0; i < n; i++) {
        jobs[i].claim = claim;
        jobs[i].row = i;
        jobs[i].attempt = atoi(col(&jobs[i], C_ATTEMPT));
        jobs[i].created = strtoll(col(&jobs[i], C_CREATED), NULL, 10);
        ids[i] = col(&jobs[i], C_EVENT);
    }
    if (inst_events_load(db, ids, (size_t)n, events, err) < 0)
        goto out;
    for (int i = 0; i < n; i++)
        prepare(cfg, c, events[i], &jobs[i]);
    clock_gettime(CLOCK_REALTIME, &t0);
    perform(jobs, n);
    /* Record every outcome that can be recorded: one that cannot is retried
     * when its lease runs out (at least once, never silently dropped). */
    ret = n;
    for (int i = 0; i < n; i++) {
        if (record(db, c, &jobs[i], (double)t0.tv_sec + t0.tv_nsec / 1e9, err) < 0)
            ret = -1;
        delivered += jobs[i].status >= 200 && jobs[i].status <= 299;
    }
    cm_log(CM_LOG_DEBUG, "webhooks: %d attempted, %d delivered", n, delivered);
out:
    for (int i = 0; jobs != NULL && i < n; i++) {
        curl_easy_cleanup(jobs[i].easy);
        curl_slist_free_all(jobs[i].headers);
        free(jobs[i].body);
    }
    for (int i = 0; events != NULL && i < n; i++)
        json_decref(events[i]);
    free(jobs);
    free(events);
    free(ids);
    PQclear(claim);
    return ret;
}
