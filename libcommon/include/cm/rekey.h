/* Re-sealing data at rest under the key file's active key while the services
 * keep serving: what `--rotate-keys` and `svc-install --seal-signing-secrets`
 * run.
 *
 * A service describes each kind of sealed row as a job: a SELECT of the rows
 * not under the active key and how one of them is re-sealed. The runner takes
 * the rows in batches, each in its own transaction, locked with FOR UPDATE
 * SKIP LOCKED, so serving instances, workers and other rotators carry on
 * beside it: a reader sees the old or the new (key id, blob) pair, both of
 * which open while the key file holds both keys, and a row another
 * transaction holds is skipped rather than waited for. Payloads are opened
 * with the key each row names, so the key file must still hold every key in
 * use. The logs carry counts, key ids and row ids, never a value. */
#ifndef CM_REKEY_H
#define CM_REKEY_H

#include <stddef.h>
#include <libpq-fe.h>

#include "cm/config.h"
#include "cm/crypto.h"
#include "cm/db.h"
#include "cm/err.h"

/* One kind of sealed row. Every string is a literal, borrowed for the run. */
struct cm_rekey_job {
    const char *what; /* "webhook endpoint secrets": "re-sealed 3 <what> under key k2" */
    const char *row;  /* "webhook endpoint": "<row> <id> could not be re-sealed" */
    /* Up to $2::integer rows not under the key id $1, row id first, ending
     * in FOR UPDATE SKIP LOCKED. */
    const char *select;
    int batch; /* rows per batch (and transaction), at least 1 */
    /* Re-seals row i of rows (the SELECT's result) under cfg->keys' active
     * key, on db's open transaction. 0, or -1 with *err; the runner then
     * names the row in the log and rolls the batch back. */
    int (*reseal)(struct cm_db *db, const struct cm_config *cfg, const PGresult *rows, int i,
                  struct cm_err *err);
    /* NULL, or the count of rows still not under $1 once every batch ran:
     * rows another transaction held throughout, which make the run fail. */
    const char *left;
};

/* A command: jobs[0..njobs) in order, as service, on the libpq environment
 * (sets: the statements the callbacks prepare, NULL-terminated, borrowed). */
struct cm_rekey_cmd {
    const char *service; /* "svc-install": the log's service name */
    const char *name;    /* "--rotate-keys": the log lines */
    const struct cm_stmt *const *sets;
    const struct cm_rekey_job *jobs;
    size_t njobs;
};

/* Opens blob[0..bloblen) (sealed under old_key with aad) and seals its
 * plaintext again under kr's active key with the same aad. On success *out is
 * new (free()) and *outlen its length, and *key_id (when not NULL) is the
 * active id, borrowed like cm_keyring_active_id(). The plaintext is wiped
 * before it is freed. Returns 0, or -1 with cm_open()'s or cm_seal()'s 500
 * (never quoting the plaintext); the outputs are then untouched. */
int cm_rekey_reseal(const struct cm_keyring *kr, const char *old_key, const void *aad,
                    size_t aadlen, const unsigned char *blob, size_t bloblen, unsigned char **out,
                    size_t *outlen, const char **key_id, struct cm_err *err);

/* Runs every batch of job on db (no transaction open) until one comes back
 * short, adding the rows re-sealed to *done as each batch commits. Returns 0,
 * or -1 with *err after rolling the failed batch back (a row that did not
 * re-seal is named in the log first). */
int cm_rekey_job_run(struct cm_db *db, const struct cm_config *cfg, const struct cm_rekey_job *job,
                     long *done, struct cm_err *err);

/* Rows of job still not under the active key (its left statement; 0 when it
 * has none), or -1 with *err. */
long cm_rekey_job_left(struct cm_db *db, const struct cm_config *cfg,
                       const struct cm_rekey_job *job, struct cm_err *err);

/* The whole of a re-seal command: logging as cmd->service, the keyring from
 * CM_KEY_FILE, a connection from the libpq environment; every job run, its
 * count logged; then, for the jobs with a left statement, what is still under
 * another key counted. Returns the process's exit status: 0 once done, or 1
 * with the reason logged: no key file, a key file that does not load, a row
 * that does not re-seal (its key is no longer in the file, its data was
 * altered), a database error, or rows left (run the command again). */
int cm_rekey_main(const struct cm_rekey_cmd *cmd);

#endif
