/* The server end to end at the FastCGI level: a test service runs in a child
 * process on a unix socket and is driven with real FastCGI records. Covers
 * the pipeline steps that need no database (routing, body cap, parameter
 * checks, headers) and graceful shutdown with a request in flight. */
#include <check.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cm/http.h"
#include "cm/json.h"
#include "fcgi_client.h"
#include "cm/banned.h"

static int echo(struct cm_req *req, struct cm_resp *resp, struct cm_err *err)
{
    json_t *o =
        json_pack("{s:s,s:O}", "id", req->ncaptures ? req->captures[0] : "", "params", req->params);
    return cm_resp_json(resp, 200, o, err);
}

static int slow(struct cm_req *req, struct cm_resp *resp, struct cm_err *err)
{
    (void)req;
    usleep(800 * 1000);
    return cm_resp_json(resp, 200, json_pack("{s:b}", "slow", 1), err);
}

static int refuse(struct cm_req *req, struct cm_resp *resp, struct cm_err *err)
{
    (void)req;
    (void)resp;
    return cm_err_missing(err, "scope[type]");
}

static const char *const form_params[] = {"name", "scope", NULL};
static const struct cm_route routes[] = {
    {"GET", "/v1/test/echo/{id}", echo, 0, NULL, NULL},
    {"POST", "/v1/test/form", echo, 0, form_params, NULL},
    {"POST", "/v1/test/refuse", refuse, 0, form_params, NULL},
    {"GET", "/v1/test/slow", slow, 0, NULL, NULL},
};
static const struct cm_service service = {
    .name = "svc-test", .routes = routes, .nroutes = 4, .max_body = 2048};

/* A queue worker that reports each call by appending one byte to the file
 * named by ctx: busy (1) for its first three calls, idle (0) after. */
static int count_work(struct cm_db *db, const struct cm_config *cfg, void *ctx, struct cm_err *err)
{
    FILE *f = fopen(ctx, "a");
    long n;

    (void)db, (void)cfg, (void)err;
    if (f == NULL)
        return -1;
    fputc('w', f);
    n = ftell(f);
    fclose(f);
    return n <= 3 ? 1 : 0;
}

static char work_path[64];
static const struct cm_service work_service = {.name = "svc-test",
                                               .routes = routes,
                                               .nroutes = 4,
                                               .max_body = 2048,
                                               .work = count_work,
                                               .work_ctx = work_path,
                                               .work_idle_ms = 60000};

/* A service made of two modules: each brings a route; the second also a
 * share of the queue worker (count_work's file is module_work_path). */
static char module_work_path[64];

static int module_work(struct cm_db *db, const struct cm_config *cfg, struct cm_err *err)
{
    return count_work(db, cfg, module_work_path, err);
}

static const struct cm_route module_a_routes[] = {{"GET", "/v1/test/a/{id}", echo, 0, NULL, NULL}};
static const struct cm_route module_b_routes[] = {{"GET", "/v1/test/b/{id}", echo, 0, NULL, NULL}};
static const struct cm_module module_a = {module_a_routes, 1, NULL, NULL};
static const struct cm_module module_b = {module_b_routes, 1, NULL, module_work};
static const struct cm_module *const test_modules[] = {&module_a, &module_b, NULL};
static const struct cm_service module_service = {.name = "svc-test",
                                                 .routes = routes,
                                                 .nroutes = 4,
                                                 .modules = test_modules,
                                                 .max_body = 2048,
                                                 .work_idle_ms = 60000};

static char sock_path[64];
static char key_path[64];
static pid_t child;

/* Every service needs a keyring: a throwaway one, mode 0600. */
static void write_key_file(void)
{
    static const char line[] =
        "t1 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n";
    int fd;

    snprintf(key_path, sizeof(key_path), "/tmp/cm-test-keys-XXXXXX");
    fd = mkstemp(key_path);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, line, sizeof(line) - 1), (int)sizeof(line) - 1);
    close(fd);
}

static void start_service(const struct cm_service *svc)
{
    char *argv[] = {"svc-test", "--listen",   sock_path, "--threads",
                    "2",        "--key-file", key_path,  NULL};

    write_key_file();
    snprintf(sock_path, sizeof(sock_path), "/tmp/cm-test-%d.sock", (int)getpid());
    child = fork();
    ck_assert_int_ge(child, 0);
    if (child == 0) {
        if (freopen("/dev/null", "w", stderr) == NULL)
            _exit(3);
        _exit(cm_server_main(svc, 7, argv));
    }
    for (int i = 0; i < 200; i++) {
        if (access(sock_path, F_OK) == 0)
            return;
        usleep(25 * 1000);
    }
    ck_abort_msg("server did not open %s", sock_path);
}

static void start(void)
{
    start_service(&service);
}

static int stop(void)
{
    int st = -1;

    kill(child, SIGTERM);
    ck_assert_int_eq(waitpid(child, &st, 0), child);
    unlink(sock_path);
    unlink(key_path);
    return st;
}

static struct fcgi_reply call(const char *method, const char *uri, const char *query,
                              const char *ctype, const char *body)
{
    char m[64], u[256], q[256], cl[64], ct[128];
    const char *params[8];
    struct fcgi_reply r;
    int n = 0;

    snprintf(m, sizeof(m), "REQUEST_METHOD=%s", method);
    snprintf(u, sizeof(u), "REQUEST_URI=%s", uri);
    snprintf(q, sizeof(q), "QUERY_STRING=%s", query ? query : "");
    snprintf(cl, sizeof(cl), "CONTENT_LENGTH=%zu", body ? strlen(body) : (size_t)0);
    snprintf(ct, sizeof(ct), "CONTENT_TYPE=%s", ctype ? ctype : "");
    params[n++] = m;
    params[n++] = u;
    params[n++] = q;
    params[n++] = cl;
    params[n++] = ct;
    params[n++] = "HTTP_STRIPE_VERSION=2024-01-01";
    params[n] = NULL;
    ck_assert_int_eq(fcgi_request(sock_path, params, body, body ? strlen(body) : 0, &r), 0);
    return r;
}

static json_t *error_of(const struct fcgi_reply *r)
{
    json_t *o = json_loads(fcgi_body(r), 0, NULL);

    ck_assert_ptr_nonnull(o);
    ck_assert_ptr_nonnull(json_object_get(o, "error"));
    return o;
}

START_TEST(test_echo_headers_and_captures)
{
    struct fcgi_reply r;
    char h[128];
    json_t *o;

    start();
    r = call("GET", "/v1/test/echo/vs%5F1%20x?limit=3&expand[]=a", "limit=3&expand[]=a", NULL,
             NULL);
    ck_assert_int_eq(r.status, 200);
    ck_assert_int_eq(fcgi_header(&r, "Request-Id", h, sizeof(h)), 0);
    ck_assert_int_eq((int)strlen(h), 28);
    ck_assert(strncmp(h, "req_", 4) == 0);
    ck_assert_int_eq(fcgi_header(&r, "Stripe-Version", h, sizeof(h)), 0);
    ck_assert_str_eq(h, "2024-01-01");
    ck_assert_int_eq(fcgi_header(&r, "Content-Type", h, sizeof(h)), 0);
    ck_assert_str_eq(h, "application/json");
    o = json_loads(fcgi_body(&r), 0, NULL);
    ck_assert_str_eq(json_string_value(json_object_get(o, "id")), "vs_1 x");
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(o, "params"), "limit")),
                     "3");
    json_decref(o);
    free(r.out);
    ck_assert_int_eq(stop(), 0);
}
END_TEST

START_TEST(test_unknown_url)
{
    struct fcgi_reply r;
    json_t *o;

    start();
    r = call("DELETE", "/apps/nothing", NULL, NULL, NULL);
    ck_assert_int_eq(r.status, 404);
    o = error_of(&r);
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(o, "error"), "type")),
                     "invalid_request_error");
    ck_assert(strncmp(json_string_value(json_object_get(json_object_get(o, "error"), "message")),
                      "Unrecognized request URL (DELETE: /apps/nothing).", 49) == 0);
    json_decref(o);
    free(r.out);
    /* An unknown API path asks for a key before it says 404; a known path
     * with another method is unknown too. */
    r = call("POST", "/v1/test/slow", NULL, NULL, "");
    ck_assert_int_eq(r.status, 401);
    o = error_of(&r);
    ck_assert(strncmp(json_string_value(json_object_get(json_object_get(o, "error"), "message")),
                      "You did not provide an API key.", 31) == 0);
    json_decref(o);
    free(r.out);
    ck_assert_int_eq(stop(), 0);
}
END_TEST

START_TEST(test_body_cap_and_params)
{
    static const struct {
        const char *uri, *ctype, *body;
        int status;
        const char *code, *param;
    } cases[] = {
        {"/v1/test/form", NULL, "name=a&scope[type]=account", 200, NULL, NULL},
        {"/v1/test/form", "application/x-www-form-urlencoded; charset=utf-8", "name=a", 200, NULL,
         NULL},
        {"/v1/test/form", NULL, "name=a&bogus=1", 400, "parameter_unknown", "bogus"},
        {"/v1/test/form", NULL, "name=%zz", 400, NULL, NULL},
        {"/v1/test/form", "application/json", "{\"name\":\"a\"}", 415, NULL, NULL},
        {"/v1/test/refuse", NULL, "name=a", 400, "parameter_missing", "scope[type]"},
    };
    struct fcgi_reply r;
    char big[4096];

    start();
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        r = call("POST", cases[i].uri, NULL, cases[i].ctype, cases[i].body);
        ck_assert_msg(r.status == cases[i].status, "case %zu: %d", i, r.status);
        if (cases[i].status != 200) {
            json_t *o = error_of(&r), *e = json_object_get(o, "error");
            if (cases[i].code)
                ck_assert_str_eq(json_string_value(json_object_get(e, "code")), cases[i].code);
            if (cases[i].param)
                ck_assert_str_eq(json_string_value(json_object_get(e, "param")), cases[i].param);
            json_decref(o);
        }
        free(r.out);
    }
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    big[0] = 'n', big[1] = 'a', big[2] = 'm', big[3] = 'e', big[4] = '=';
    r = call("POST", "/v1/test/form", NULL, NULL, big);
    ck_assert_int_eq(r.status, 413);
    json_decref(error_of(&r));
    free(r.out);
    ck_assert_int_eq(stop(), 0);
}
END_TEST

START_TEST(test_missing_request_uri_is_414)
{
    /* What Apache's mod_proxy_fcgi sends when the URI exceeds 16 kB: no
     * REQUEST_URI. The server must not guess a path. */
    const char *params[] = {"REQUEST_METHOD=GET", "QUERY_STRING=", "CONTENT_LENGTH=0", NULL};
    struct fcgi_reply r;
    json_t *o;

    start();
    ck_assert_int_eq(fcgi_request(sock_path, params, NULL, 0, &r), 0);
    ck_assert_int_eq(r.status, 414);
    o = error_of(&r);
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(o, "error"), "type")),
                     "invalid_request_error");
    json_decref(o);
    free(r.out);
    ck_assert_int_eq(stop(), 0);
}
END_TEST

static void *slow_call(void *arg)
{
    struct fcgi_reply *r = arg;

    *r = call("GET", "/v1/test/slow", NULL, NULL, NULL);
    return NULL;
}

START_TEST(test_graceful_shutdown_finishes_in_flight)
{
    struct fcgi_reply r;
    pthread_t t;
    int st;

    start();
    ck_assert_int_eq(pthread_create(&t, NULL, slow_call, &r), 0);
    usleep(300 * 1000); /* the request is inside its handler now */
    st = stop();
    pthread_join(t, NULL);
    ck_assert(WIFEXITED(st));
    ck_assert_int_eq(WEXITSTATUS(st), 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert_ptr_nonnull(strstr(fcgi_body(&r), "\"slow\":true"));
    free(r.out);
}
END_TEST

/* The worker runs again at once while it has work, then idles; SIGTERM
 * wakes it from a 60 s idle wait (the test's timeout is 20 s) and the
 * process exits 0. */
START_TEST(test_queue_worker_runs_and_stops)
{
    char buf[64] = "";
    FILE *f;
    int st;

    snprintf(work_path, sizeof(work_path), "/tmp/cm-test-work-%d", (int)getpid());
    unlink(work_path);
    start_service(&work_service);
    for (int i = 0; i < 200 && strlen(buf) < 4; i++) {
        usleep(25 * 1000);
        f = fopen(work_path, "r");
        if (f != NULL) {
            size_t n = fread(buf, 1, sizeof(buf) - 1, f);

            buf[n] = '\0';
            fclose(f);
        }
    }
    ck_assert_str_eq(buf, "wwww"); /* three busy rounds, then one idle */
    st = stop();
    ck_assert(WIFEXITED(st));
    ck_assert_int_eq(WEXITSTATUS(st), 0);
    f = fopen(work_path, "r");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq((int)fread(buf, 1, sizeof(buf) - 1, f), 4); /* not called again */
    fclose(f);
    unlink(work_path);
}
END_TEST

/* The server joins the modules' routes after the service's own and runs
 * the modules' work on the queue worker. */
START_TEST(test_modules_are_joined)
{
    struct fcgi_reply r;
    char buf[16] = "";
    FILE *f;
    int st;

    snprintf(module_work_path, sizeof(module_work_path), "/tmp/cm-test-mwork-%d", (int)getpid());
    unlink(module_work_path);
    start_service(&module_service);
    r = call("GET", "/v1/test/a/one", NULL, NULL, NULL);
    ck_assert_int_eq(r.status, 200);
    ck_assert_ptr_nonnull(strstr(fcgi_body(&r), "\"id\":\"one\""));
    free(r.out);
    r = call("GET", "/v1/test/b/two", NULL, NULL, NULL);
    ck_assert_int_eq(r.status, 200);
    ck_assert_ptr_nonnull(strstr(fcgi_body(&r), "\"id\":\"two\""));
    free(r.out);
    r = call("GET", "/v1/test/echo/three", NULL, NULL, NULL); /* the service's own */
    ck_assert_int_eq(r.status, 200);
    free(r.out);
    r = call("GET", "/v1/test/c/x", NULL, NULL, NULL);
    ck_assert_int_eq(r.status, 401); /* unknown under /v1/: the key comes first */
    free(r.out);
    for (int i = 0; i < 200 && strlen(buf) < 4; i++) {
        usleep(25 * 1000);
        f = fopen(module_work_path, "r");
        if (f != NULL) {
            size_t n = fread(buf, 1, sizeof(buf) - 1, f);

            buf[n] = '\0';
            fclose(f);
        }
    }
    ck_assert_str_eq(buf, "wwww");
    st = stop();
    ck_assert(WIFEXITED(st));
    ck_assert_int_eq(WEXITSTATUS(st), 0);
    unlink(module_work_path);
}
END_TEST

Suite *suite_server(void)
{
    Suite *s = suite_create("server");
    TCase *tc = tcase_create("fastcgi");

    tcase_set_timeout(tc, 20);
    tcase_add_test(tc, test_echo_headers_and_captures);
    tcase_add_test(tc, test_unknown_url);
    tcase_add_test(tc, test_body_cap_and_params);
    tcase_add_test(tc, test_missing_request_uri_is_414);
    tcase_add_test(tc, test_graceful_shutdown_finishes_in_flight);
    tcase_add_test(tc, test_queue_worker_runs_and_stops);
    tcase_add_test(tc, test_modules_are_joined);
    suite_add_tcase(s, tc);
    return s;
}
