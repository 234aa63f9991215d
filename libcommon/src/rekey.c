/* The re-seal runner (cm/rekey.h): batches, their transactions, the counts in
 * the log and the exit status, shared by every service's `--rotate-keys`.
 * Each batch commits on its own, so a failure loses only the batch at work
 * and a run that stopped can simply be started again: it picks up what is
 * still under another key. Rows are read one batch at a time and a service's
 * callback re-seals one row at a time, so a batch of large rows (identity's
 * document photos) is the most ever held in memory. */
#include <stdio.h>
#include <stdlib.h>

#include <openssl/crypto.h>

#include "cm/log.h"
#include "cm/rekey.h"
#include "cm/banned.h"

int cm_rekey_reseal(const struct cm_keyring *kr, const char *old_key, const void *aad,
                    size_t aadlen, const unsigned char *blob, size_t bloblen, unsigned char **out,
                    size_t *outlen, const char **key_id, struct cm_err *err)
{
    char *plain = NULL;
    size_t plainlen = 0;
    int ret;

    if (old_key == NULL)
        return cm_err_internal(err, "re-seal: a sealed value without a key id");
    if (cm_open(kr, old_key, aad, aadlen, blob, bloblen, &plain, &plainlen, err) < 0)
        return -1;
    ret = cm_seal(kr, aad, aadlen, plain, plainlen, out, outlen, key_id, err);
    OPENSSL_cleanse(plain, plainlen);
    free(plain);
    return ret;
}

/* One batch of job in its own transaction. Returns the rows re-sealed
 * (job->batch: there may be more), or -1 with *err, rolled back. */
static int run_batch(struct cm_db *db, const struct cm_config *cfg, const struct cm_rekey_job *job,
                     struct cm_err *err)
{
    char size[16];
    PGresult *res = NULL;
    int n = -1, i;

    snprintf(size, sizeof(size), "%d", job->batch);
    if (cm_db_begin(db, err) < 0)
        return -1;
    res = cm_db_exec_sql(db, job->select, 2,
                         (const char *[]){cm_keyring_active_id(cfg->keys), size}, err);
    if (res == NULL)
        goto out;
    for (i = 0; i < PQntuples(res); i++)
        if (job->reseal(db, cfg, res, i, err) < 0) {
            const char *id = cm_db_value(res, i, 0);

            cm_log(CM_LOG_ERROR, "%s %s could not be re-sealed", job->row, id ? id : "(no id)");
            goto out;
        }
    if (cm_db_commit(db, err) < 0)
        goto out;
    n = PQntuples(res);
out:
    if (n < 0 && cm_db_in_tx(db))
        cm_db_rollback(db);
    PQclear(res);
    return n;
}

int cm_rekey_job_run(struct cm_db *db, const struct cm_config *cfg, const struct cm_rekey_job *job,
                     long *done, struct cm_err *err)
{
    int n;

    if (job->batch < 1)
        return cm_err_internal(err, "re-seal %s: batch size %d", job->what, job->batch);
    do {
        n = run_batch(db, cfg, job, err);
        if (n < 0)
            return -1;
        *done += n;
    } while (n == job->batch);
    return 0;
}

long cm_rekey_job_left(struct cm_db *db, const struct cm_config *cfg,
                       const struct cm_rekey_job *job, struct cm_err *err)
{
    PGresult *res;
    const char *count;
    long left = -1;

    if (job->left == NULL)
        return 0;
    res = cm_db_exec_sql(db, job->left, 1, (const char *[]){cm_keyring_active_id(cfg->keys)}, err);
    if (res == NULL)
        return -1;
    count = PQntuples(res) == 1 ? cm_db_value(res, 0, 0) : NULL;
    if (count == NULL)
        cm_err_internal(err, "re-seal %s: the count of rows left gave no number", job->what);
    else
        left = strtol(count, NULL, 10);
    PQclear(res);
    return left;
}

int cm_rekey_main(const struct cm_rekey_cmd *cmd)
{
    const char *path = getenv("CM_KEY_FILE");
    struct cm_config cfg = {.service = cmd->service};
    struct cm_db *db = NULL;
    struct cm_err err;
    long left = 0;
    size_t i;
    int status = 1;

    cm_log_setup(cmd->service, CM_LOG_INFO);
    cm_err_clear(&err);
    if (path == NULL || *path == '\0') {
        cm_log(CM_LOG_ERROR, "%s: set CM_KEY_FILE", cmd->name);
        goto out;
    }
    cfg.keys = cm_keyring_load(path, &err);
    db = cfg.keys != NULL ? cm_db_new(NULL, cmd->sets, &err) : NULL;
    if (db == NULL) {
        cm_log(CM_LOG_ERROR, "%s failed: %s", cmd->name, cm_err_log_text(&err));
        goto out;
    }
    for (i = 0; i < cmd->njobs; i++) {
        const struct cm_rekey_job *job = &cmd->jobs[i];
        long done = 0;

        if (cm_rekey_job_run(db, &cfg, job, &done, &err) < 0) {
            cm_log(CM_LOG_ERROR, "%s failed after re-sealing %ld %s: %s", cmd->name, done,
                   job->what, cm_err_log_text(&err));
            goto out;
        }
        cm_log(CM_LOG_INFO, "re-sealed %ld %s under key %s", done, job->what,
               cm_keyring_active_id(cfg.keys));
    }
    for (i = 0; i < cmd->njobs; i++) {
        const struct cm_rekey_job *job = &cmd->jobs[i];
        long n = cm_rekey_job_left(db, &cfg, job, &err);

        if (n < 0) {
            cm_log(CM_LOG_ERROR, "%s failed counting the %s left: %s", cmd->name, job->what,
                   cm_err_log_text(&err));
            goto out;
        }
        if (n > 0)
            cm_log(CM_LOG_ERROR, "%ld %s are still under older keys", n, job->what);
        left += n;
    }
    if (left > 0) {
        cm_log(CM_LOG_ERROR, "other transactions held those rows throughout: run %s again",
               cmd->name);
        goto out;
    }
    status = 0;
out:
    cm_db_free(db);
    cm_keyring_free(cfg.keys);
    cm_log_flush();
    return status;
}
