/* Tests for cm/rekey.h. The re-seal of one value runs on keyrings alone; the
 * runner runs against the scratch cluster on a table of its own: a schema
 * test_rekey_<pid> holding `sealed` (id, key_id, bad), which every handle
 * reaches through search_path in PGOPTIONS, set by the fixture, so that
 * cm_rekey_main()'s connection from the libpq environment finds it too. A
 * row marked bad refuses to re-seal. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cm/rekey.h"
#include "dbfixture.h"
#include "cm/banned.h"

#define H1 "a1b2c3d4e5f60718293a4b5c6d7e8f90112233445566778899aabbccddeeff00"
#define H2 "a1b2c3d4f00dfeedc0ffee00112233445566778899aabbccddeeff0011223344"

/* The fixture's own statements tell of schemas dropped and created. */
#define QUIET "-c client_min_messages=warning"

/* The fixture's state: Check's fixtures take no arguments. */
static char schema[64];
static char key_file[32];

/* A key file holding content, its path into key_file. */
static void write_keys(const char *content)
{
    size_t len = strlen(content);
    int fd;

    snprintf(key_file, sizeof(key_file), "/tmp/check_rekey_XXXXXX");
    fd = mkstemp(key_file);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, content, len), (ssize_t)len);
    ck_assert_int_eq(fchmod(fd, 0600), 0);
    ck_assert_int_eq(close(fd), 0);
}

static struct cm_keyring *load(const char *content)
{
    struct cm_err err = {0};
    struct cm_keyring *kr;

    write_keys(content);
    kr = cm_keyring_load(key_file, &err);
    unlink(key_file);
    ck_assert_msg(kr != NULL, "load failed: %s", err.detail);
    return kr;
}

START_TEST(test_reseal_moves_to_the_active_key)
{
    struct cm_keyring *old = load("k1 " H1 "\n"), *both = load("k1 " H1 "\nk2 " H2 "\n");
    struct cm_err err = {0};
    unsigned char *blob = NULL, *again = NULL;
    size_t bloblen = 0, againlen = 0, plainlen = 0;
    const char *key_id = NULL;
    char *plain = NULL;

    ck_assert_int_eq(cm_seal(old, "row", 3, "payload", 7, &blob, &bloblen, NULL, &err), 0);
    ck_assert_int_eq(
        cm_rekey_reseal(both, "k1", "row", 3, blob, bloblen, &again, &againlen, &key_id, &err), 0);
    ck_assert_str_eq(key_id, "k2");
    ck_assert_uint_eq(againlen, bloblen);
    ck_assert_int_eq(cm_open(both, "k2", "row", 3, again, againlen, &plain, &plainlen, &err), 0);
    ck_assert_uint_eq(plainlen, 7);
    ck_assert_str_eq(plain, "payload");
    /* Still bound to its associated data, and no longer to the old key. */
    ck_assert_int_eq(cm_open(both, "k2", "rox", 3, again, againlen, &plain, &plainlen, &err), -1);
    ck_assert_int_eq(cm_open(both, "k1", "row", 3, again, againlen, &plain, &plainlen, &err), -1);
    free(plain);
    free(again);
    free(blob);
    cm_keyring_free(both);
    cm_keyring_free(old);
}
END_TEST

static const struct {
    const char *name;
    const char *old_key;
    const char *aad;
    size_t flip; /* byte of the blob to alter, or (size_t)-1 */
    size_t cut;  /* bytes to keep, or 0 for all */
} refusals[] = {
    {"unknown key id", "k9", "row", (size_t)-1, 0},
    {"no key id", NULL, "row", (size_t)-1, 0},
    {"other associated data", "k1", "rox", (size_t)-1, 0},
    {"altered ciphertext", "k1", "row", CM_SEAL_NONCE + 2, 0},
    {"altered tag", "k1", "row", CM_SEAL_NONCE + 7 + 3, 0},
    {"shorter than nonce and tag", "k1", "row", (size_t)-1, CM_SEAL_OVERHEAD - 1},
};

START_TEST(test_reseal_refuses)
{
    struct cm_keyring *kr = load("k1 " H1 "\nk2 " H2 "\n");
    struct cm_err err = {0};
    unsigned char sentinel[1], *blob = NULL, *out = sentinel;
    size_t bloblen = 0, outlen = 42;
    const char *key_id = "untouched";

    ck_assert_int_eq(cm_seal(kr, "row", 3, "payload", 7, &blob, &bloblen, NULL, &err), 0);
    if (refusals[_i].flip != (size_t)-1)
        blob[refusals[_i].flip] ^= 0x01;
    if (refusals[_i].cut != 0)
        bloblen = refusals[_i].cut;
    ck_assert_msg(cm_rekey_reseal(kr, refusals[_i].old_key, refusals[_i].aad, 3, blob, bloblen,
                                  &out, &outlen, &key_id, &err) == -1,
                  "%s: re-sealed", refusals[_i].name);
    ck_assert_int_eq(err.status, 500);
    ck_assert_ptr_eq(out, sentinel);
    ck_assert_uint_eq(outlen, 42);
    ck_assert_str_eq(key_id, "untouched");
    ck_assert_ptr_null(strstr(err.detail, "payload"));
    free(blob);
    cm_keyring_free(kr);
}
END_TEST

/* Runs fixture SQL that must succeed on a handle of its own. */
static void admin(const char *sql)
{
    struct cm_db *db = dbfix_open((const struct cm_stmt *const[]){NULL});

    dbfix_do(db, sql, 0, NULL);
    cm_db_free(db);
}

static void setup(void)
{
    char sql[256];

    snprintf(schema, sizeof(schema), "test_rekey_%ld", (long)getpid());
    ck_assert_int_eq(setenv("PGOPTIONS", QUIET, 1), 0);
    snprintf(sql, sizeof(sql), "DROP SCHEMA IF EXISTS %s CASCADE", schema);
    admin(sql);
    snprintf(sql, sizeof(sql), "CREATE SCHEMA %s", schema);
    admin(sql);
    snprintf(sql, sizeof(sql),
             "CREATE TABLE %s.sealed (id text PRIMARY KEY, key_id text NOT NULL,"
             " bad boolean NOT NULL DEFAULT false)",
             schema);
    admin(sql);
    snprintf(sql, sizeof(sql), QUIET " -c search_path=%s", schema);
    ck_assert_int_eq(setenv("PGOPTIONS", sql, 1), 0);
}

static void teardown(void)
{
    char sql[128];

    unsetenv("CM_KEY_FILE");
    ck_assert_int_eq(setenv("PGOPTIONS", QUIET, 1), 0);
    snprintf(sql, sizeof(sql), "DROP SCHEMA IF EXISTS %s CASCADE", schema);
    admin(sql);
    unsetenv("PGOPTIONS");
}

static int mark(struct cm_db *db, const struct cm_config *cfg, const PGresult *rows, int i,
                struct cm_err *err)
{
    const char *id = cm_db_value(rows, i, 0);
    PGresult *res;

    if (strcmp(cm_db_value(rows, i, 1), "t") == 0)
        return cm_err_internal(err, "row %s refuses", id);
    res = cm_db_exec_sql(db, "UPDATE sealed SET key_id = $2 WHERE id = $1", 2,
                         (const char *[]){id, cm_keyring_active_id(cfg->keys)}, err);
    PQclear(res);
    return res != NULL ? 0 : -1;
}

static const struct cm_rekey_job job = {
    .what = "test rows",
    .row = "test row",
    .select = "SELECT id, bad FROM sealed WHERE key_id <> $1 ORDER BY id LIMIT $2::integer"
              " FOR UPDATE SKIP LOCKED",
    .batch = 10,
    .reseal = mark,
    .left = "SELECT count(*) FROM sealed WHERE key_id <> $1",
};

/* n rows r00, r01 ... under k1, the one numbered bad (-1: none) refusing. */
static void fill(struct cm_db *db, int n, int bad)
{
    char count[16], which[16];

    snprintf(count, sizeof(count), "%d", n);
    snprintf(which, sizeof(which), "%d", bad);
    dbfix_do(db,
             "INSERT INTO sealed (id, key_id, bad) SELECT format('r%s', lpad(i::text, 2, '0')),"
             " 'k1', i = $2::integer FROM generate_series(0, $1::integer - 1) i",
             2, (const char *[]){count, which});
}

static long under(struct cm_db *db, const char *key_id)
{
    return dbfix_long(db, "SELECT count(*) FROM sealed WHERE key_id = $1", 1,
                      (const char *[]){key_id});
}

static const struct {
    int rows, batch;
} runs[] = {{0, 10}, {7, 10}, {10, 10}, {25, 10}, {3, 1}, {12, 100}};

START_TEST(test_batches_until_one_is_short)
{
    struct cm_db *db = dbfix_open((const struct cm_stmt *const[]){NULL});
    struct cm_config cfg = {.service = "test", .keys = load("k1 " H1 "\nk2 " H2 "\n")};
    struct cm_rekey_job j = job;
    struct cm_err err = {0};
    long done = 0;

    j.batch = runs[_i].batch;
    fill(db, runs[_i].rows, -1);
    ck_assert_msg(cm_rekey_job_run(db, &cfg, &j, &done, &err) == 0, "%s", err.detail);
    ck_assert_int_eq(done, runs[_i].rows);
    ck_assert_int_eq(under(db, "k2"), runs[_i].rows);
    ck_assert_int_eq(cm_rekey_job_left(db, &cfg, &j, &err), 0);
    ck_assert_int_eq(cm_db_in_tx(db), 0);
    /* A second run finds nothing. */
    done = 0;
    ck_assert_int_eq(cm_rekey_job_run(db, &cfg, &j, &done, &err), 0);
    ck_assert_int_eq(done, 0);
    cm_keyring_free(cfg.keys);
    cm_db_free(db);
}
END_TEST

START_TEST(test_failed_row_loses_its_batch_only)
{
    struct cm_db *db = dbfix_open((const struct cm_stmt *const[]){NULL});
    struct cm_config cfg = {.service = "test", .keys = load("k1 " H1 "\nk2 " H2 "\n")};
    struct cm_err err = {0};
    long done = 0;

    fill(db, 25, 15);
    ck_assert_int_eq(cm_rekey_job_run(db, &cfg, &job, &done, &err), -1);
    ck_assert_int_eq(err.status, 500);
    ck_assert_str_eq(err.detail, "row r15 refuses");
    ck_assert_int_eq(cm_db_in_tx(db), 0);
    /* The first batch committed; r10..r14 of the second were rolled back. */
    ck_assert_int_eq(done, 10);
    ck_assert_int_eq(under(db, "k2"), 10);
    ck_assert_int_eq(
        dbfix_long(db, "SELECT count(*) FROM sealed WHERE key_id = 'k2' AND id >= 'r10'", 0, NULL),
        0);
    ck_assert_int_eq(cm_rekey_job_left(db, &cfg, &job, &err), 15);
    cm_keyring_free(cfg.keys);
    cm_db_free(db);
}
END_TEST

START_TEST(test_locked_rows_are_skipped_then_counted)
{
    struct cm_db *db = dbfix_open((const struct cm_stmt *const[]){NULL});
    struct cm_db *holder = dbfix_open((const struct cm_stmt *const[]){NULL});
    struct cm_config cfg = {.service = "test", .keys = load("k1 " H1 "\nk2 " H2 "\n")};
    struct cm_err err = {0};
    long done = 0;

    fill(db, 12, -1);
    ck_assert_int_eq(cm_db_begin(holder, &err), 0);
    PQclear(
        dbfix_exec(holder, "SELECT id FROM sealed WHERE id IN ('r03', 'r11') FOR UPDATE", 0, NULL));
    ck_assert_int_eq(cm_rekey_job_run(db, &cfg, &job, &done, &err), 0);
    ck_assert_int_eq(done, 10);
    ck_assert_int_eq(cm_rekey_job_left(db, &cfg, &job, &err), 2);
    cm_db_rollback(holder);
    done = 0;
    ck_assert_int_eq(cm_rekey_job_run(db, &cfg, &job, &done, &err), 0);
    ck_assert_int_eq(done, 2);
    ck_assert_int_eq(cm_rekey_job_left(db, &cfg, &job, &err), 0);
    cm_keyring_free(cfg.keys);
    cm_db_free(holder);
    cm_db_free(db);
}
END_TEST

START_TEST(test_job_limits)
{
    struct cm_db *db = dbfix_open((const struct cm_stmt *const[]){NULL});
    struct cm_config cfg = {.service = "test", .keys = load("k1 " H1 "\n")};
    struct cm_rekey_job j = job;
    struct cm_err err = {0};
    long done = 0;

    fill(db, 3, -1);
    j.batch = 0;
    ck_assert_int_eq(cm_rekey_job_run(db, &cfg, &j, &done, &err), -1);
    ck_assert_int_eq(err.status, 500);
    ck_assert_int_eq(under(db, "k1"), 3);
    /* No left statement: nothing to count. */
    j.left = NULL;
    ck_assert_int_eq(cm_rekey_job_left(db, &cfg, &j, &err), 0);
    /* A SELECT the server refuses fails the run, with no transaction left open. */
    j = job;
    j.select = "SELECT id, bad FROM no_such_table WHERE $1::text <> $2::text";
    ck_assert_int_eq(cm_rekey_job_run(db, &cfg, &j, &done, &err), -1);
    ck_assert_int_eq(cm_db_in_tx(db), 0);
    ck_assert_int_eq(done, 0);
    cm_keyring_free(cfg.keys);
    cm_db_free(db);
}
END_TEST

/* cm_rekey_main()'s exit status for the rows in place, run with the key
 * file key_file. */
static int run_main(void)
{
    static const struct cm_stmt *const no_sets[] = {NULL};
    const struct cm_rekey_cmd cmd = {
        .service = "test", .name = "--rotate-keys", .sets = no_sets, .jobs = &job, .njobs = 1};

    return cm_rekey_main(&cmd);
}

START_TEST(test_main_exit_status)
{
    struct cm_db *db = dbfix_open((const struct cm_stmt *const[]){NULL});
    struct cm_db *holder = dbfix_open((const struct cm_stmt *const[]){NULL});
    struct cm_err err = {0};

    ck_assert_int_eq(run_main(), 1); /* no CM_KEY_FILE */
    ck_assert_int_eq(setenv("CM_KEY_FILE", "/tmp/check_rekey_missing/keys", 1), 0);
    ck_assert_int_eq(run_main(), 1);
    write_keys("k1 " H1 "\nk2 " H2 "\n");
    ck_assert_int_eq(setenv("CM_KEY_FILE", key_file, 1), 0);

    fill(db, 12, -1);
    ck_assert_int_eq(cm_db_begin(holder, &err), 0);
    PQclear(dbfix_exec(holder, "SELECT id FROM sealed WHERE id = 'r05' FOR UPDATE", 0, NULL));
    ck_assert_int_eq(run_main(), 1); /* a row held throughout */
    ck_assert_int_eq(under(db, "k2"), 11);
    cm_db_rollback(holder);
    ck_assert_int_eq(run_main(), 0);
    ck_assert_int_eq(under(db, "k2"), 12);

    dbfix_do(db, "UPDATE sealed SET key_id = 'k1', bad = id = 'r07'", 0, NULL);
    ck_assert_int_eq(run_main(), 1); /* a row that does not re-seal */
    ck_assert_int_eq(under(db, "k2"), 0);
    unlink(key_file);
    cm_db_free(holder);
    cm_db_free(db);
}
END_TEST

Suite *suite_rekey(void)
{
    Suite *s = suite_create("rekey");
    TCase *pure = tcase_create("reseal");
    TCase *db = tcase_create("db");

    tcase_add_test(pure, test_reseal_moves_to_the_active_key);
    tcase_add_loop_test(pure, test_reseal_refuses, 0, sizeof(refusals) / sizeof(refusals[0]));
    suite_add_tcase(s, pure);
    tcase_set_timeout(db, 30);
    tcase_add_checked_fixture(db, setup, teardown);
    tcase_add_loop_test(db, test_batches_until_one_is_short, 0, sizeof(runs) / sizeof(runs[0]));
    tcase_add_test(db, test_failed_row_loses_its_batch_only);
    tcase_add_test(db, test_locked_rows_are_skipped_then_counted);
    tcase_add_test(db, test_job_limits);
    tcase_add_test(db, test_main_exit_status);
    suite_add_tcase(s, db);
    return s;
}
