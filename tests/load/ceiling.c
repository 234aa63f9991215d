/* The ceiling responders of `make bench`: the least a FastCGI service behind
 * nginx can do per request, so that the services' numbers have something
 * measured on the same machine in the same run to be divided by.
 *
 *   ceiling fixed --listen SOCKET --threads N   no database, a fixed JSON answer
 *   ceiling read  --listen SOCKET --threads N   one prepared primary-key SELECT
 *   ceiling write --listen SOCKET --threads N   one committed upsert (autocommit)
 *
 * The write responder also answers W+audit, the cost of auditing a write: a
 * request whose path ends in "/audit" runs the same upsert and writes its
 * audit row through libcommon's cm_audit_write() the way the services do,
 * deferred into the upsert's transaction, so that BEGIN, the upsert, the
 * audit INSERT and COMMIT travel in one flight as the plain upsert does
 * alone (cm/db.h). The row looks like a service's secret.set (core.audit of
 * the database it connects to: the stack's). A path ending in "/audit-idem"
 * (W+audit+idem) adds the idempotency record of the request's
 * Idempotency-Key through cm_idem_store(), in the same flight: the three
 * rows a keyed set writes, as the services write them but with no reads, no
 * claim and one round trip: the floor of a set built that way.
 * The read responder answers R+audit the same way, for a path ending in
 * "/audit": its SELECT and an audit row like a find's secret.read, in one
 * flight, the floor of a find that returns the payload.
 *
 * It is deliberately not built on libcommon's server: only libfcgi and libpq
 * (plus libcommon's database, audit and idempotency modules for the audited
 * scenarios), N threads each blocked in FCGX_Accept_r on the shared socket,
 * one PGconn per thread (libpq's environment: PGHOST, PGPORT, PGUSER,
 * PGDATABASE ...) with its statement prepared once at connect time, and one
 * write of the response.
 * read and write work on bench.kv (1000 rows, created at start-up if missing);
 * the schema `bench` must exist and be writable by the connecting role.
 *
 * SIGTERM/SIGINT are taken by sigwait() in the main thread, which shuts the
 * socket down so every worker's accept() returns; a request in flight is
 * answered first. */
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
#include <libpq-fe.h>

#include "cm/audit.h"
#include "cm/db.h"
#include "cm/err.h"
#include "cm/idem.h"
#include "cm/banned.h"

#define CEILING_ROWS        1000 /* keep in step with setup_sql */
#define CEILING_MAX_THREADS 256
#define CEILING_STMT        "ceiling"
#define CEILING_AUDIT_PATH  "/audit"      /* the path's end that asks for W+audit, R+audit */
#define CEILING_IDEM_PATH   "/audit-idem" /* ... and for W+audit+idem */
#define NMODES              ((int)(sizeof(mode_names) / sizeof(mode_names[0])))

enum mode {
    MODE_FIXED,
    MODE_READ,
    MODE_WRITE,
};

struct ceiling {
    enum mode mode;
    int threads;
    const char *listen;
    int sock;
    atomic_int stop;
};

struct worker {
    const struct ceiling *c;
    pthread_t thread;
    PGconn *conn;
    struct cm_db *db; /* R+audit, W+audit(+idem): the audited connection, libcommon's */
    unsigned seed;
    unsigned long served;
};

static const char *const mode_names[] = {
    [MODE_FIXED] = "fixed",
    [MODE_READ] = "read",
    [MODE_WRITE] = "write",
};

/* The one statement of each database mode: $1 is a bench.kv id, $2 a value. */
static const char *const mode_sql[] = {
    [MODE_FIXED] = NULL,
    [MODE_READ] = "SELECT v FROM bench.kv WHERE id = $1",
    [MODE_WRITE] = "INSERT INTO bench.kv (id, v) VALUES ($1, $2) "
                   "ON CONFLICT (id) DO UPDATE SET v = EXCLUDED.v",
};

static const int mode_nparams[] = {
    [MODE_FIXED] = 0,
    [MODE_READ] = 1,
    [MODE_WRITE] = 2,
};

/* The audited scenarios' statements (libcommon's handle): the modes' own,
 * cm_audit's and cm_idem's. */
static const struct cm_stmt audited_stmts[] = {
    {"ceiling_read", "SELECT v FROM bench.kv WHERE id = $1", 1},
    {"ceiling_upsert",
     "INSERT INTO bench.kv (id, v) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET v = EXCLUDED.v",
     2},
    {NULL, NULL, 0},
};
static const struct cm_stmt *const audit_sets[] = {audited_stmts, cm_audit_stmts, cm_idem_stmts,
                                                   NULL};

/* W+audit+idem's stored response: about the size of a set's sealed one. */
static const char idem_body[] =
    "sealed:ceiling:"
    "00000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "00000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "00000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "00000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "00000000000000000000000000000000000000000000000000000000000000000000000000000000";

/* CEILING_ROWS rows. Serialized by an advisory lock, so that a read and a
 * write ceiling may start at the same time against the same database. */
static const char setup_sql[] =
    "BEGIN;"
    "SET LOCAL client_min_messages = warning;" /* no "already exists, skipping" */
    "SELECT pg_advisory_xact_lock(hashtext('bench.kv'));"
    "CREATE TABLE IF NOT EXISTS bench.kv (id int PRIMARY KEY, v text);"
    "INSERT INTO bench.kv (id, v) SELECT g, 'value ' || g FROM generate_series(1, 1000) g "
    "ON CONFLICT (id) DO NOTHING;"
    "COMMIT;";

static void usage(void)
{
    fprintf(stderr, "usage: ceiling read|write|fixed --listen SOCKET --threads N\n");
}

static int parse_args(struct ceiling *c, int argc, char **argv)
{
    long threads = 8;
    char *end;
    int i;

    if (argc < 2)
        return -1;
    for (i = 0; i < NMODES && strcmp(argv[1], mode_names[i]) != 0; i++)
        ;
    if (i == NMODES)
        return -1;
    c->mode = (enum mode)i;
    c->listen = NULL;
    for (i = 2; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--listen") == 0) {
            c->listen = argv[i + 1];
        } else if (strcmp(argv[i], "--threads") == 0) {
            errno = 0;
            threads = strtol(argv[i + 1], &end, 10);
            if (errno != 0 || *end != '\0' || threads < 1 || threads > CEILING_MAX_THREADS)
                return -1;
        } else {
            return -1;
        }
    }
    if (i != argc || c->listen == NULL || c->listen[0] != '/')
        return -1;
    c->threads = (int)threads;
    return 0;
}

static void log_pq(const char *what, const PGconn *conn)
{
    const char *msg = PQerrorMessage(conn);
    size_t len = strlen(msg);

    /* libpq's messages end with a newline of their own. */
    while (len > 0 && msg[len - 1] == '\n')
        len--;
    fprintf(stderr, "ceiling: %s: %.*s\n", what, (int)len, msg);
}

/* Opens a connection from libpq's environment and prepares the mode's
 * statement on it. Returns a new connection (PQfinish() it) or NULL, logged. */
static PGconn *db_open(enum mode mode)
{
    PGconn *conn = PQconnectdb("");
    PGresult *res;

    if (PQstatus(conn) != CONNECTION_OK) {
        log_pq("connect", conn);
        PQfinish(conn);
        return NULL;
    }
    res = PQprepare(conn, CEILING_STMT, mode_sql[mode], mode_nparams[mode], NULL);
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
        log_pq("prepare", conn);
        PQclear(res);
        PQfinish(conn);
        return NULL;
    }
    PQclear(res);
    return conn;
}

/* The audited scenarios' handle, connected now so that a database without
 * core.audit fails the start rather than the first request. NULL, logged, on
 * failure. */
static struct cm_db *audit_db_open(void)
{
    struct cm_err err;
    struct cm_db *db = cm_db_new(NULL, audit_sets, &err);

    if (db != NULL && cm_db_connect(db, &err) == 0)
        return db;
    fprintf(stderr, "ceiling: the audited connection: %s%s%s\n", err.message,
            err.detail[0] ? ": " : "", err.detail);
    cm_db_free(db);
    return NULL;
}

/* Creates and fills bench.kv. Returns 0, or -1 logged. */
static int db_setup(void)
{
    PGconn *conn = PQconnectdb("");
    PGresult *res;
    int ret = -1;

    if (PQstatus(conn) != CONNECTION_OK) {
        log_pq("connect", conn);
        goto out;
    }
    /* PQexec stops at the first failing statement and returns its error;
     * otherwise the result of the final COMMIT. */
    res = PQexec(conn, setup_sql);
    if (PQresultStatus(res) == PGRES_COMMAND_OK) {
        ret = 0;
    } else {
        log_pq("creating bench.kv (does schema bench exist, writable by this role?)", conn);
    }
    PQclear(res);
out:
    PQfinish(conn);
    return ret;
}

/* Runs the mode's statement once on a random row. Returns 0, or -1 logged; a
 * broken connection is dropped and opened again by the next request. */
static int db_work(struct worker *w)
{
    char id[16], value[16];
    const char *params[2] = {id, value};
    PGresult *res;
    int ok;

    if (w->conn == NULL && (w->conn = db_open(w->c->mode)) == NULL)
        return -1;
    snprintf(id, sizeof(id), "%d", 1 + rand_r(&w->seed) % CEILING_ROWS);
    snprintf(value, sizeof(value), "v%d", rand_r(&w->seed));
    res = PQexecPrepared(w->conn, CEILING_STMT, mode_nparams[w->c->mode], params, NULL, NULL, 0);
    if (w->c->mode == MODE_READ)
        ok = PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1;
    else
        ok = PQresultStatus(res) == PGRES_COMMAND_OK;
    PQclear(res);
    if (ok)
        return 0;
    log_pq(mode_names[w->c->mode], w->conn);
    if (PQstatus(w->conn) != CONNECTION_OK) {
        PQfinish(w->conn);
        w->conn = NULL;
    }
    return -1;
}

/* W+audit: the upsert and its audit row in one transaction, as a service
 * writes a change (cm/audit.h); with_idem adds the idempotency record of
 * the request's Idempotency-Key (W+audit+idem). R+audit (read mode): the
 * SELECT instead of the upsert. All in one flight. Returns 0, or -1 logged;
 * libcommon reconnects a broken connection by itself. */
static int db_work_audit(struct worker *w, FCGX_Request *r, int with_idem)
{
    int is_read = w->c->mode == MODE_READ;
    static const unsigned char hash[CM_IDEM_HASH_LEN] = {0};
    const char *key = FCGX_GetParam("HTTP_IDEMPOTENCY_KEY", r->envp);
    char id[16], value[16], request_id[64], object_id[48];
    const char *params[2] = {id, value};
    struct cm_err err;
    struct cm_audit_rec rec = {
        .request_id = request_id,
        .service = "svc-secrets",
        .action = is_read ? "secret.read" : "secret.set",
        .actor = "key_ceiling",
        .account_id = FCGX_GetParam("HTTP_STRIPE_ACCOUNT", r->envp),
        .app_id = "com.example.ceiling",
        .livemode = 0,
        .object_id = object_id,
        .status = 200,
        .error_code = NULL,
        .client_addr = FCGX_GetParam("REMOTE_ADDR", r->envp),
        .user_agent = FCGX_GetParam("HTTP_USER_AGENT", r->envp),
        .target = "account/ceiling",
        .route = is_read ? "GET /v1/apps/secrets/audit" : "POST /v1/identity/bench/audit",
    };

    snprintf(id, sizeof(id), "%d", 1 + rand_r(&w->seed) % CEILING_ROWS);
    snprintf(value, sizeof(value), "v%d", rand_r(&w->seed));
    snprintf(request_id, sizeof(request_id), "req_ceiling%lx%08x%lx", (unsigned long)pthread_self(),
             (unsigned)rand_r(&w->seed), w->served);
    snprintf(object_id, sizeof(object_id), "appsecret_ceiling%s", id);
    if (with_idem && (key == NULL || key[0] == '\0' || strlen(key) > CM_IDEM_KEY_MAX)) {
        fprintf(stderr, "ceiling: W+audit+idem needs an Idempotency-Key header\n");
        return -1;
    }
    if (cm_db_begin(w->db, &err) == 0 &&
        cm_db_defer(w->db, is_read ? "ceiling_read" : "ceiling_upsert", is_read ? 1 : 2, params,
                    &err) == 0 &&
        cm_audit_write(w->db, &rec, &err) == 0 &&
        (!with_idem ||
         cm_idem_store(w->db, "ceiling", key, rec.route, hash, 200, idem_body, &err) == 0) &&
        cm_db_commit(w->db, &err) == 0)
        return 0;
    cm_db_rollback(w->db);
    fprintf(stderr, "ceiling: %s with audit: %s%s%s\n", mode_names[w->c->mode], err.message,
            err.detail[0] ? ": " : "", err.detail);
    return -1;
}

/* True when the request's path ends in `end`. */
static int path_ends(FCGX_Request *r, const char *end)
{
    const char *path = FCGX_GetParam("DOCUMENT_URI", r->envp);
    size_t len = path != NULL ? strlen(path) : 0, n = strlen(end);

    return len >= n && strcmp(path + len - n, end) == 0;
}

/* Runs the request's database work, if any. Returns 0 or -1 (logged). */
static int serve(struct worker *w, FCGX_Request *r)
{
    w->served++;
    if (w->c->mode == MODE_FIXED)
        return 0;
    if (path_ends(r, CEILING_AUDIT_PATH))
        return db_work_audit(w, r, 0);
    if (w->c->mode == MODE_WRITE && path_ends(r, CEILING_IDEM_PATH))
        return db_work_audit(w, r, 1);
    return db_work(w);
}

/* Renders a whole response, headers and body, into BUF, so that it goes out
 * with one FCGX_PutStr. Returns its length. */
static int render(char *buf, size_t size, const char *status, const char *body)
{
    int n = snprintf(buf, size,
                     "Status: %s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
                     "Cache-Control: no-cache, no-store\r\n\r\n%s",
                     status, strlen(body), body);

    return n < 0 || (size_t)n >= size ? 0 : n;
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    char body[64], ok[256], failed[256];
    int ok_len, failed_len;
    FCGX_Request r;

    snprintf(body, sizeof(body), "{\"object\":\"ceiling\",\"mode\":\"%s\"}\n",
             mode_names[w->c->mode]);
    ok_len = render(ok, sizeof(ok), "200 OK", body);
    failed_len = render(failed, sizeof(failed), "500 Internal Server Error",
                        "{\"error\":{\"type\":\"api_error\"}}\n");
    if (FCGX_InitRequest(&r, w->c->sock, 0) != 0) {
        fprintf(stderr, "ceiling: FCGX_InitRequest failed\n");
        return NULL;
    }
    while (!atomic_load(&w->c->stop)) {
        if (FCGX_Accept_r(&r) < 0)
            break;
        if (serve(w, &r) == 0)
            FCGX_PutStr(ok, ok_len, r.out);
        else
            FCGX_PutStr(failed, failed_len, r.out);
        FCGX_Finish_r(&r);
    }
    FCGX_Free(&r, 0);
    return NULL;
}

static int open_socket(const char *path)
{
    struct stat st;
    int fd;

    /* A socket left by a previous run would make bind() fail. */
    if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
        unlink(path);
    fd = FCGX_OpenSocket(path, 1024);
    if (fd < 0) {
        fprintf(stderr, "ceiling: cannot listen on %s: %s\n", path, strerror(errno));
        return -1;
    }
    /* The web server's workers may run as another user (nobody). */
    if (chmod(path, 0666) < 0) {
        fprintf(stderr, "ceiling: chmod %s: %s\n", path, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

int main(int argc, char **argv)
{
    struct ceiling c;
    struct worker *workers = NULL;
    int nstarted = 0, sig = 0, status = 1;
    sigset_t set;

    if (parse_args(&c, argc, argv) < 0) {
        usage();
        return 2;
    }
    c.sock = -1;
    atomic_init(&c.stop, 0);

    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    /* The socket appears only once the table is ready: its existence is the
     * readiness signal the bench script waits for. */
    if (c.mode != MODE_FIXED && db_setup() < 0)
        return 1;
    if (FCGX_Init() != 0) {
        fprintf(stderr, "ceiling: FCGX_Init failed\n");
        return 1;
    }
    workers = calloc((size_t)c.threads, sizeof(*workers));
    if (workers == NULL)
        return 1;
    c.sock = open_socket(c.listen);
    if (c.sock < 0)
        goto out;
    for (; nstarted < c.threads; nstarted++) {
        struct worker *w = &workers[nstarted];

        w->c = &c;
        w->seed = (unsigned)time(NULL) ^ (unsigned)(nstarted * 2654435761u);
        if (c.mode != MODE_FIXED && (w->conn = db_open(c.mode)) == NULL)
            break;
        if (c.mode != MODE_FIXED && (w->db = audit_db_open()) == NULL) {
            PQfinish(w->conn);
            break;
        }
        if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
            PQfinish(w->conn);
            cm_db_free(w->db);
            break;
        }
    }
    if (nstarted < c.threads) {
        fprintf(stderr, "ceiling: could only start %d of %d workers\n", nstarted, c.threads);
        atomic_store(&c.stop, 1);
        shutdown(c.sock, SHUT_RDWR);
        goto join;
    }
    fprintf(stderr, "ceiling: %s listening on %s with %d threads\n", mode_names[c.mode], c.listen,
            c.threads);
    sigwait(&set, &sig);
    atomic_store(&c.stop, 1);
    shutdown(c.sock, SHUT_RDWR); /* wakes every worker blocked in accept() */
    status = 0;
join:
    for (int i = 0; i < nstarted; i++) {
        pthread_join(workers[i].thread, NULL);
        PQfinish(workers[i].conn);
        cm_db_free(workers[i].db);
    }
    close(c.sock);
    unlink(c.listen);
out:
    free(workers);
    return status;
}
