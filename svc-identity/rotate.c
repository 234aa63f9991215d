/* Key rotation for svc-identity (rotate.h). A session row has one key_id
 * for all its sealed columns, and idn_session_rekey() already re-seals them
 * together; files and reports have one sealed column each. Each table is
 * walked in batches of row ids locked with FOR UPDATE SKIP LOCKED and
 * re-sealed in the batch's transaction, so serving instances, the checks
 * worker, redaction and other rotators carry on beside it. A row is read
 * and re-sealed one at a time after its batch is locked, because a file is
 * up to IDN_FILE_MAX bytes (twice that in hex) and a batch of them must not
 * be held in memory at once. Rows some transaction held are skipped, so the
 * last step counts what is still under another key and fails when anything
 * is: exit status 0 means the old key may go. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "cm/config.h"
#include "cm/crypto.h"
#include "cm/db.h"
#include "cm/log.h"
#include "module.h"
#include "rotate.h"
#include "seal.h"
#include "session_write.h"
#include "cm/banned.h"

/* One table's pass. The statements take the active key id as $1; batch also
 * the batch size as $2, and get and put the row id as $1. */
struct pass {
    const char *table;  /* "files": the log, and the associated data (seal.h) */
    const char *column; /* the sealed column; NULL: idn_session_rekey() */
    int batch_size;
    const char *batch; /* ids of rows not under $1, locked, skipping locked ones */
    const char *get;   /* key_id and the hex of column of row $1 */
    const char *put;   /* row $1: column = decode($2, 'hex'), key_id = $3 */
    const char *left;  /* count of rows not under $1 */
};

static const struct pass passes[] = {
    {"sessions", NULL, 100,
     "SELECT id FROM identity.sessions WHERE key_id <> $1 ORDER BY id LIMIT $2::integer"
     " FOR UPDATE SKIP LOCKED",
     NULL, NULL, "SELECT count(*) FROM identity.sessions WHERE key_id <> $1"},
    /* Files hold document photos of up to IDN_FILE_MAX bytes: small batches. */
    {"files", "data_sealed", 10,
     "SELECT id FROM identity.files WHERE key_id <> $1 ORDER BY id LIMIT $2::integer"
     " FOR UPDATE SKIP LOCKED",
     "SELECT key_id, encode(data_sealed, 'hex') FROM identity.files WHERE id = $1",
     "UPDATE identity.files SET data_sealed = decode($2, 'hex'), key_id = $3 WHERE id = $1",
     "SELECT count(*) FROM identity.files WHERE key_id <> $1"},
    {"reports", "personal_sealed", 100,
     "SELECT id FROM identity.reports WHERE key_id <> $1 ORDER BY id LIMIT $2::integer"
     " FOR UPDATE SKIP LOCKED",
     "SELECT key_id, encode(personal_sealed, 'hex') FROM identity.reports WHERE id = $1",
     "UPDATE identity.reports SET personal_sealed = decode($2, 'hex'), key_id = $3"
     " WHERE id = $1",
     "SELECT count(*) FROM identity.reports WHERE key_id <> $1"},
};
#define NPASSES (sizeof(passes) / sizeof(passes[0]))

/* Re-seals p->column of row id (locked by its batch). A row whose column is
 * NULL (nothing sealed any more) just takes the active key id. */
static int rekey_column(struct cm_db *db, const struct cm_config *cfg, const struct pass *p,
                        const char *id, struct cm_err *err)
{
    PGresult *res = NULL, *upd = NULL;
    unsigned char *blob = NULL, *next = NULL;
    size_t bloblen = 0, nextlen = 0, plainlen = 0;
    char *plain = NULL, *hex = NULL;
    const char *table = p->table, *column = p->column, *old_key, *old_hex;
    const char *new_key = cm_keyring_active_id(cfg->keys);
    int ret = -1;

    res = cm_db_exec_sql(db, p->get, 1, (const char *[]){id}, err);
    if (res == NULL)
        goto out;
    if (PQntuples(res) != 1) {
        cm_err_internal(err, "identity.%s %s vanished while locked", table, id);
        goto out;
    }
    old_key = cm_db_value(res, 0, 0);
    old_hex = cm_db_value(res, 0, 1);
    if (old_hex != NULL) {
        blob = idn_unhex(old_hex, &bloblen);
        if (blob == NULL) {
            cm_err_internal(err, "identity.%s %s.%s: bad hex", table, id, column);
            goto out;
        }
        if (idn_open(cfg, table, id, column, old_key, blob, bloblen, &plain, &plainlen, err) < 0 ||
            idn_seal(cfg, table, id, column, plain, plainlen, &next, &nextlen, &new_key, err) < 0)
            goto out;
        hex = idn_hex(next, nextlen);
        if (hex == NULL) {
            cm_err_internal(err, "out of memory re-sealing identity.%s %s", table, id);
            goto out;
        }
    }
    upd = cm_db_exec_sql(db, p->put, 3, (const char *[]){id, hex, new_key}, err);
    ret = upd != NULL ? 0 : -1;
out:
    if (plain != NULL) {
        OPENSSL_cleanse(plain, plainlen);
        free(plain);
    }
    PQclear(upd);
    PQclear(res);
    free(hex);
    free(next);
    free(blob);
    return ret;
}

static int rekey_row(struct cm_db *db, const struct cm_config *cfg, const struct pass *p,
                     const char *id, struct cm_err *err)
{
    int rc =
        p->column != NULL ? rekey_column(db, cfg, p, id, err) : idn_session_rekey(db, cfg, id, err);

    if (rc < 0)
        cm_log(CM_LOG_ERROR, "identity.%s %s could not be re-sealed", p->table, id);
    return rc;
}

/* One batch of p in its own transaction. Returns the rows re-sealed
 * (p->batch_size: there may be more), or -1 with *err. */
static int run_batch(struct cm_db *db, const struct cm_config *cfg, const struct pass *p,
                     struct cm_err *err)
{
    char size[16];
    PGresult *res = NULL;
    int n = -1, i;

    snprintf(size, sizeof(size), "%d", p->batch_size);
    if (cm_db_begin(db, err) < 0)
        return -1;
    res = cm_db_exec_sql(db, p->batch, 2, (const char *[]){cm_keyring_active_id(cfg->keys), size},
                         err);
    if (res == NULL)
        goto out;
    for (i = 0; i < PQntuples(res); i++)
        if (rekey_row(db, cfg, p, cm_db_value(res, i, 0), err) < 0)
            goto out;
    if (cm_db_commit(db, err) < 0)
        goto out;
    n = PQntuples(res);
out:
    if (n < 0 && cm_db_in_tx(db))
        cm_db_rollback(db);
    PQclear(res);
    return n;
}

/* Rows of p still under another key (those some transaction held), or -1. */
static long rows_left(struct cm_db *db, const struct cm_config *cfg, const struct pass *p,
                      struct cm_err *err)
{
    PGresult *res =
        cm_db_exec_sql(db, p->left, 1, (const char *[]){cm_keyring_active_id(cfg->keys)}, err);
    long left = res != NULL ? strtol(cm_db_value(res, 0, 0), NULL, 10) : -1;

    PQclear(res);
    return left;
}

int idn_rotate_keys(void)
{
    /* idn_session_rekey() runs the sessions module's prepared statements. */
    const struct cm_stmt *const sets[] = {idn_sessions_module.stmts, NULL};
    const char *path = getenv("CM_KEY_FILE");
    struct cm_config cfg = {.service = "svc-identity"};
    struct cm_db *db = NULL;
    struct cm_err err;
    const char *table = NULL; /* the table at work, for the failure */
    long done = 0, left = 0;
    size_t i;
    int n, status = 1;

    cm_log_setup("svc-identity", CM_LOG_INFO);
    cm_err_clear(&err);
    if (path == NULL || *path == '\0') {
        cm_log(CM_LOG_ERROR, "--rotate-keys: set CM_KEY_FILE");
        return 1;
    }
    cfg.keys = cm_keyring_load(path, &err);
    db = cfg.keys ? cm_db_new(NULL, sets, &err) : NULL;
    if (db == NULL)
        goto fail;
    for (i = 0; i < NPASSES; i++) {
        table = passes[i].table;
        done = 0;
        do {
            n = run_batch(db, &cfg, &passes[i], &err);
            if (n < 0)
                goto fail;
            done += n;
        } while (n == passes[i].batch_size);
        cm_log(CM_LOG_INFO, "re-sealed %ld identity.%s rows under key %s", done, passes[i].table,
               cm_keyring_active_id(cfg.keys));
    }
    for (i = 0; i < NPASSES; i++) {
        long n_left;

        table = passes[i].table;
        n_left = rows_left(db, &cfg, &passes[i], &err);
        if (n_left < 0)
            goto fail;
        if (n_left > 0)
            cm_log(CM_LOG_ERROR, "%ld identity.%s rows are still under older keys", n_left,
                   passes[i].table);
        left += n_left;
    }
    if (left > 0) {
        cm_log(CM_LOG_ERROR, "those rows were locked by other transactions: run --rotate-keys"
                             " again");
        goto out;
    }
    status = 0;
    goto out;
fail:
    cm_log(CM_LOG_ERROR, "--rotate-keys failed%s%s: %s", table ? " on identity." : "",
           table ? table : "", err.detail[0] ? err.detail : err.message);
out:
    cm_db_free(db);
    cm_keyring_free(cfg.keys);
    cm_log_flush();
    return status;
}
