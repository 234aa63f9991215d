/* Every statement on secrets.secrets, and the mapping between rows and
 * struct sec_row. Each call is one round trip: a set replaces a live secret
 * of its name with one plain UPDATE, and only when there is none calls
 * secrets.put() (lock, purge, replace or insert under the limit); a list
 * page carries its cursor check in the same statement. Every statement a
 * request can start with also carries the authorization guard of a cached
 * key (CM_AUTH_GUARD_SQL), so that it needs no statement of its own. Expired
 * rows are filtered out by every read, so an expired secret is gone at once,
 * whatever the background purge has done yet. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cm/auth.h"
#include "cm/sig.h"
#include "store.h"
#include "cm/banned.h"

#define COLS                                                                                       \
    "s.id, floor(extract(epoch FROM s.created))::bigint,"                                          \
    " floor(extract(epoch FROM s.expires_at))::bigint, s.app_id, s.account_id, s.livemode,"        \
    " s.scope_type, s.scope_user, s.name, s.key_id"
#define PAYLOAD_COL " CASE WHEN $8::boolean THEN encode(s.payload, 'hex') END"
#define SCOPE_WHERE                                                                                \
    " s.app_id = $1 AND s.account_id = $2 AND s.livemode = $3::boolean AND s.scope_type = $4"      \
    " AND s.scope_user = $5 AND (s.expires_at IS NULL OR s.expires_at > now())"
#define NAME_WHERE SCOPE_WHERE " AND s.name_hash = decode($6, 'hex') AND s.name = $7"

enum {
    C_ID,
    C_CREATED,
    C_EXPIRES,
    C_APP,
    C_ACCOUNT,
    C_LIVE,
    C_TYPE,
    C_USER,
    C_NAME,
    C_KEY,
    C_BLOB
};

/* A page: the rows past (or before) the cursor's seq. The outer LEFT JOIN
 * always yields one row, so an empty page still says whether the cursor was
 * a live secret of the scope (C_BLOB + 1). */
#define PAGE(cmp, order)                                                                           \
    "WITH c AS (SELECT s.seq FROM secrets.secrets s WHERE" SCOPE_WHERE " AND s.id = $6),"          \
    " page AS (SELECT " COLS "," PAYLOAD_COL ", s.seq FROM secrets.secrets s WHERE" SCOPE_WHERE    \
    " AND ($6::text IS NULL OR s.seq " cmp " (SELECT seq FROM c))"                                 \
    " ORDER BY s.seq " order " LIMIT $7::integer)"                                                 \
    " SELECT page.*, $6::text IS NULL OR EXISTS (SELECT 1 FROM c)"                                 \
    " FROM (SELECT 1) one LEFT JOIN page ON true WHERE " CM_AUTH_GUARD_SQL(                        \
        "$9") " ORDER BY page.seq " order

const struct cm_stmt sec_store_stmts[] = {
    {"sec_put",
     "SELECT outcome, id, created, expires_at FROM secrets.put($1, $2, $3, $4::boolean, $5, $6,"
     " $7, decode($8, 'hex'), $9, decode($10, 'hex'), to_timestamp($11::bigint))",
     11},
    {"sec_replace",
     "UPDATE secrets.secrets s SET key_id = $8, payload = decode($9, 'hex'),"
     " expires_at = to_timestamp($10::bigint) WHERE" NAME_WHERE " AND " CM_AUTH_GUARD_SQL(
         "$11") " RETURNING s.id, floor(extract(epoch FROM s.created))::bigint,"
                " floor(extract(epoch FROM s.expires_at))::bigint",
     11},
    {"sec_find",
     "SELECT " COLS "," PAYLOAD_COL " FROM secrets.secrets s WHERE" NAME_WHERE
     " AND " CM_AUTH_GUARD_SQL("$9"),
     9},
    {"sec_delete",
     "DELETE FROM secrets.secrets s WHERE" NAME_WHERE
     " AND " CM_AUTH_GUARD_SQL("$9") " RETURNING " COLS "," PAYLOAD_COL,
     9},
    {"sec_list_older", PAGE("<", "DESC"), 9},
    {"sec_list_newer", PAGE(">", "ASC"), 9},
    {"sec_purge",
     "DELETE FROM secrets.secrets WHERE ctid = ANY (ARRAY(SELECT ctid FROM secrets.secrets"
     " WHERE expires_at <= now() LIMIT 1000))",
     0},
    {"sec_reseal",
     "UPDATE secrets.secrets SET key_id = $2, payload = decode($3, 'hex') WHERE id = $1", 3},
    {NULL, NULL, 0},
};

void sec_key_hash(struct sec_key *k)
{
    unsigned char md[CM_SHA256_LEN];

    cm_sha256(k->name, strlen(k->name), md);
    cm_hex_encode(md, sizeof(md), k->name_hash);
}

void sec_row_release(struct sec_row *r)
{
    free(r->app);
    free(r->account);
    free(r->scope_user);
    free(r->name);
    free(r->blob);
    memset(r, 0, sizeof(*r));
}

void sec_rows_free(struct sec_row *rows, size_t n)
{
    for (size_t i = 0; rows != NULL && i < n; i++)
        sec_row_release(&rows[i]);
    free(rows);
}

static int copy_fixed(char *dst, size_t cap, const char *src)
{
    size_t n = src ? strlen(src) : 0;

    if (n >= cap)
        return -1;
    memcpy(dst, src ? src : "", n + 1);
    return 0;
}

static char *dup_or_empty(const char *s)
{
    return strdup(s ? s : "");
}

/* Row i of res (COLS [+ payload]) into *r. */
static int row_from(const PGresult *res, int i, int has_blob_col, struct sec_row *r,
                    struct cm_err *err)
{
    const char *exp = cm_db_value(res, i, C_EXPIRES);
    const char *hex = has_blob_col ? cm_db_value(res, i, C_BLOB) : NULL;

    memset(r, 0, sizeof(*r));
    r->created = strtoll(cm_db_value(res, i, C_CREATED), NULL, 10);
    r->expires_at = exp ? strtoll(exp, NULL, 10) : -1;
    r->livemode = strcmp(cm_db_value(res, i, C_LIVE), "t") == 0;
    r->app = dup_or_empty(cm_db_value(res, i, C_APP));
    r->account = dup_or_empty(cm_db_value(res, i, C_ACCOUNT));
    r->scope_user = dup_or_empty(cm_db_value(res, i, C_USER));
    r->name = dup_or_empty(cm_db_value(res, i, C_NAME));
    if (copy_fixed(r->id, sizeof(r->id), cm_db_value(res, i, C_ID)) < 0 ||
        copy_fixed(r->scope_type, sizeof(r->scope_type), cm_db_value(res, i, C_TYPE)) < 0 ||
        copy_fixed(r->key_id, sizeof(r->key_id), cm_db_value(res, i, C_KEY)) < 0)
        goto bad;
    if (!r->app || !r->account || !r->scope_user || !r->name)
        goto oom;
    if (hex != NULL) {
        r->bloblen = strlen(hex) / 2;
        r->blob = malloc(r->bloblen ? r->bloblen : 1);
        if (r->blob == NULL)
            goto oom;
        if (cm_hex_decode(hex, r->blob, r->bloblen) < 0)
            goto bad;
    }
    return 0;
oom:
    sec_row_release(r);
    return cm_err_internal(err, "out of memory reading a secret");
bad:
    sec_row_release(r);
    return cm_err_internal(err, "malformed secrets row");
}

static char *blob_hex(const unsigned char *blob, size_t len)
{
    char *hex = malloc(2 * len + 1);

    if (hex != NULL)
        cm_hex_encode(blob, len, hex);
    return hex;
}

/* id, created, expires_at from column col on: into *out. 0, or -1 with err. */
static int put_result(const PGresult *res, int col, struct sec_row *out, struct cm_err *err)
{
    const char *exp = cm_db_value(res, 0, col + 2);

    memset(out, 0, sizeof(*out));
    if (copy_fixed(out->id, sizeof(out->id), cm_db_value(res, 0, col)) < 0)
        return cm_err_internal(err, "secret id too long");
    out->created = strtoll(cm_db_value(res, 0, col + 1), NULL, 10);
    out->expires_at = exp ? strtoll(exp, NULL, 10) : -1;
    return 0;
}

int sec_store_put(struct cm_db *db, const struct sec_key *k, const char *new_id, const char *key_id,
                  const unsigned char *blob, size_t bloblen, long long expires_at,
                  struct sec_row *out, struct cm_err *err)
{
    char exp[24];
    char *hex = blob_hex(blob, bloblen);
    PGresult *res = NULL;
    int ret = -1;

    if (hex == NULL)
        return cm_err_internal(err, "out of memory sealing a secret");
    snprintf(exp, sizeof(exp), "%lld", expires_at);
    /* The common case, a replace, without the function's lock and count. */
    res = cm_db_exec_guarded(db, CM_AUTH_GUARD, "sec_replace", 11,
                             (const char *[]){k->app, k->account, k->livemode ? "true" : "false",
                                              k->scope_type, k->scope_user, k->name_hash, k->name,
                                              key_id, hex, expires_at >= 0 ? exp : NULL, NULL},
                             err);
    if (res == NULL)
        goto out;
    if (PQntuples(res) == 1) {
        ret = put_result(res, 0, out, err);
        goto out;
    }
    PQclear(res);
    res = cm_db_exec(db, "sec_put", 11,
                     (const char *[]){new_id, k->app, k->account, k->livemode ? "true" : "false",
                                      k->scope_type, k->scope_user, k->name, k->name_hash, key_id,
                                      hex, expires_at >= 0 ? exp : NULL},
                     err);
    if (res == NULL)
        goto out;
    if (PQntuples(res) != 1) {
        cm_err_internal(err, "secrets.put returned %d rows", PQntuples(res));
        goto out;
    }
    if (strcmp(cm_db_value(res, 0, 0), "limit") == 0) {
        ret = 1;
        goto out;
    }
    ret = put_result(res, 1, out, err);
out:
    free(hex);
    PQclear(res);
    return ret;
}

static int one(struct cm_db *db, const char *stmt, const struct sec_key *k, int with_payload,
               struct sec_row *out, struct cm_err *err)
{
    PGresult *res =
        cm_db_exec_guarded(db, CM_AUTH_GUARD, stmt, 9,
                           (const char *[]){k->app, k->account, k->livemode ? "true" : "false",
                                            k->scope_type, k->scope_user, k->name_hash, k->name,
                                            with_payload ? "true" : "false", NULL},
                           err);
    int ret;

    if (res == NULL)
        return -1;
    ret = PQntuples(res) == 0 ? 1 : row_from(res, 0, 1, out, err);
    PQclear(res);
    return ret;
}

int sec_store_find(struct cm_db *db, const struct sec_key *k, int with_payload, struct sec_row *out,
                   struct cm_err *err)
{
    return one(db, "sec_find", k, with_payload, out, err);
}

int sec_store_delete(struct cm_db *db, const struct sec_key *k, int with_payload,
                     struct sec_row *out, struct cm_err *err)
{
    return one(db, "sec_delete", k, with_payload, out, err);
}

int sec_store_list(struct cm_db *db, const struct sec_key *k, const char *cursor, int after,
                   long long limit, int with_payload, struct sec_row **rows, size_t *n,
                   int *has_more, struct cm_err *err)
{
    char lim[24];
    PGresult *res;
    int nt, ret = -1;
    size_t want = (size_t)limit;

    *rows = NULL;
    *n = 0;
    *has_more = 0;
    /* One row more than asked tells whether there is more in that direction. */
    snprintf(lim, sizeof(lim), "%lld", limit + 1);
    res = cm_db_exec_guarded(db, CM_AUTH_GUARD, after ? "sec_list_older" : "sec_list_newer", 9,
                             (const char *[]){k->app, k->account, k->livemode ? "true" : "false",
                                              k->scope_type, k->scope_user, cursor, lim,
                                              with_payload ? "true" : "false", NULL},
                             err);
    if (res == NULL)
        return -1;
    nt = PQntuples(res);
    if (nt < 1 || strcmp(cm_db_value(res, 0, C_BLOB + 2), "t") != 0) {
        ret = nt < 1 ? cm_err_internal(err, "empty page result") : 1;
        goto out;
    }
    if (cm_db_value(res, 0, C_ID) == NULL) /* the marker row of an empty page */
        nt = 0;
    *has_more = (size_t)nt > want;
    if ((size_t)nt > want)
        nt = (int)want;
    *rows = calloc(nt > 0 ? (size_t)nt : 1, sizeof(**rows));
    if (*rows == NULL) {
        cm_err_internal(err, "out of memory listing secrets");
        goto out;
    }
    for (int i = 0; i < nt; i++) {
        /* Pages toward newer secrets come oldest first: store newest first. */
        size_t slot = after ? (size_t)i : (size_t)(nt - 1 - i);
        if (row_from(res, i, 1, &(*rows)[slot], err) < 0) {
            sec_rows_free(*rows, (size_t)nt);
            *rows = NULL;
            goto out;
        }
    }
    *n = (size_t)nt;
    ret = 0;
out:
    PQclear(res);
    return ret;
}

long sec_store_purge(struct cm_db *db, struct cm_err *err)
{
    PGresult *res = cm_db_exec(db, "sec_purge", 0, NULL, err);
    long n;

    if (res == NULL)
        return -1;
    n = cm_db_affected(res);
    PQclear(res);
    return n;
}

const char sec_store_rotation_select[] =
    "SELECT " COLS ", encode(s.payload, 'hex') FROM secrets.secrets s WHERE s.key_id <> $1"
    " ORDER BY s.id LIMIT $2::integer FOR UPDATE SKIP LOCKED";

int sec_store_rotation_row(const PGresult *res, int i, struct sec_row *out, struct cm_err *err)
{
    return row_from(res, i, 1, out, err);
}

int sec_store_reseal(struct cm_db *db, const char *id, const char *key_id,
                     const unsigned char *blob, size_t bloblen, struct cm_err *err)
{
    char *hex = blob_hex(blob, bloblen);
    PGresult *res;

    if (hex == NULL)
        return cm_err_internal(err, "out of memory");
    res = cm_db_exec(db, "sec_reseal", 3, (const char *[]){id, key_id, hex}, err);
    free(hex);
    if (res == NULL)
        return -1;
    PQclear(res);
    return 0;
}
