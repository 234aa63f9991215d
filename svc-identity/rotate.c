/* Key rotation for svc-identity (rotate.h) through the shared runner
 * (cm/rekey.h), one job per table. A session row has one key_id for all its
 * sealed columns, and idn_session_rekey() already re-seals them together;
 * files and reports have one sealed column each. The batch only locks row
 * ids: each row is then read and re-sealed on its own, because a file is up
 * to IDN_FILE_MAX bytes (twice that in hex) and a batch of them must not be
 * held in memory at once. Exit status 0 means nothing is left under another
 * key: the old key may go. */
#include <stdlib.h>

#include "cm/rekey.h"
#include "module.h"
#include "rotate.h"
#include "session_write.h"
#include "cm/banned.h"

/* A table with one sealed column: get reads key_id and the hex of column of
 * row $1; put writes row $1's column = decode($2, 'hex'), key_id = $3. */
struct column {
    const char *table; /* "files": the associated data (seal.h) */
    const char *column;
    const char *get;
    const char *put;
};

static const struct column files = {
    "files", "data_sealed",
    "SELECT key_id, encode(data_sealed, 'hex') FROM identity.files WHERE id = $1",
    "UPDATE identity.files SET data_sealed = decode($2, 'hex'), key_id = $3 WHERE id = $1"};

static const struct column reports = {
    "reports", "personal_sealed",
    "SELECT key_id, encode(personal_sealed, 'hex') FROM identity.reports WHERE id = $1",
    "UPDATE identity.reports SET personal_sealed = decode($2, 'hex'), key_id = $3 WHERE id = $1"};

/* Re-seals c->column of row id (locked by its batch). A row whose column is
 * NULL (nothing sealed any more) just takes the active key id. */
static int rekey_column(struct cm_db *db, const struct cm_config *cfg, const struct column *c,
                        const char *id, struct cm_err *err)
{
    PGresult *res = NULL, *upd = NULL;
    const char *old_key, *old_hex, *new_key = cm_keyring_active_id(cfg->keys);
    char *hex = NULL;
    int ret = -1;

    res = cm_db_exec_sql(db, c->get, 1, (const char *[]){id}, err);
    if (res == NULL)
        goto out;
    if (PQntuples(res) != 1) {
        cm_err_internal(err, "identity.%s %s vanished while locked", c->table, id);
        goto out;
    }
    old_key = cm_db_value(res, 0, 0);
    old_hex = cm_db_value(res, 0, 1);
    if (old_hex != NULL &&
        idn_reseal_hex(cfg, c->table, id, c->column, old_key, old_hex, &hex, &new_key, err) < 0)
        goto out;
    upd = cm_db_exec_sql(db, c->put, 3, (const char *[]){id, hex, new_key}, err);
    ret = upd != NULL ? 0 : -1;
out:
    PQclear(upd);
    PQclear(res);
    free(hex);
    return ret;
}

static int rekey_session(struct cm_db *db, const struct cm_config *cfg, const PGresult *rows, int i,
                         struct cm_err *err)
{
    return idn_session_rekey(db, cfg, cm_db_value(rows, i, 0), err);
}

static int rekey_file(struct cm_db *db, const struct cm_config *cfg, const PGresult *rows, int i,
                      struct cm_err *err)
{
    return rekey_column(db, cfg, &files, cm_db_value(rows, i, 0), err);
}

static int rekey_report(struct cm_db *db, const struct cm_config *cfg, const PGresult *rows, int i,
                        struct cm_err *err)
{
    return rekey_column(db, cfg, &reports, cm_db_value(rows, i, 0), err);
}

int idn_rotate_keys(void)
{
    static const struct cm_rekey_job jobs[] = {
        {"identity.sessions rows", "identity.sessions",
         "SELECT id FROM identity.sessions WHERE key_id <> $1 ORDER BY id LIMIT $2::integer"
         " FOR UPDATE SKIP LOCKED",
         100, rekey_session, "SELECT count(*) FROM identity.sessions WHERE key_id <> $1"},
        /* Files hold document photos of up to IDN_FILE_MAX bytes: small batches. */
        {"identity.files rows", "identity.files",
         "SELECT id FROM identity.files WHERE key_id <> $1 ORDER BY id LIMIT $2::integer"
         " FOR UPDATE SKIP LOCKED",
         10, rekey_file, "SELECT count(*) FROM identity.files WHERE key_id <> $1"},
        {"identity.reports rows", "identity.reports",
         "SELECT id FROM identity.reports WHERE key_id <> $1 ORDER BY id LIMIT $2::integer"
         " FOR UPDATE SKIP LOCKED",
         100, rekey_report, "SELECT count(*) FROM identity.reports WHERE key_id <> $1"},
    };
    /* idn_session_rekey() runs the sessions module's prepared statements. */
    const struct cm_stmt *const sets[] = {idn_sessions_module.stmts, NULL};
    const struct cm_rekey_cmd cmd = {
        .service = "svc-identity",
        .name = "--rotate-keys",
        .sets = sets,
        .jobs = jobs,
        .njobs = sizeof(jobs) / sizeof(jobs[0]),
    };

    return cm_rekey_main(&cmd);
}
