/* Finishing redactions, and the placeholders redaction leaves (redact.h).
 *
 * The redact call (sessions.c) erases a session's own personal data at once
 * and sets redaction.status to processing. This worker does the rest, one
 * session per transaction, claimed with FOR UPDATE SKIP LOCKED so that
 * several instances never work on the same one: it deletes the uploaded
 * files, redacts every report of the session (the sealed personal part is
 * dropped, its placeholders kept in redacted_view), clears the session's
 * sealed columns once more (whatever a step in between may have written),
 * empties the metadata of every event of the session, sets
 * redaction.status to redacted and emits
 * identity.verification_session.redacted in the same transaction. */
#include <stdlib.h>
#include <string.h>

#include "cm/log.h"
#include "module.h"
#include "redact.h"
#include "seal.h"
#include "session.h"
#include "session_write.h"
#include "cm/banned.h"

/* The personal fields of a report's checks (API.md section 10), as SQL
 * text[] literals and as the lists report_view() looks for. */
#define DOCUMENT_PERSONAL                                                                          \
    "'{address,dob,expiration_date,first_name,issued_date,last_name,number,sex,"                   \
    "unparsed_place_of_birth,unparsed_sex}'::text[]"
#define ID_NUMBER_PERSONAL "'{dob,first_name,id_number,last_name}'::text[]"
static const char *const document_personal[] = {
    "address", "dob", "expiration_date",         "first_name",   "issued_date", "last_name",
    "number",  "sex", "unparsed_place_of_birth", "unparsed_sex", NULL};
static const char *const id_number_personal[] = {"dob", "first_name", "id_number", "last_name",
                                                 NULL};

/* Keys whose values are not personal and stay as they were: an address's
 * country (as Stripe's docs show) and the kind of an ID number. */
static int kept(const char *key)
{
    return key != NULL && (strcmp(key, "country") == 0 || strcmp(key, "id_number_type") == 0);
}

static int is_date(const json_t *v)
{
    return json_is_object(v) && json_object_get(v, "year") != NULL &&
           json_object_get(v, "month") != NULL && json_object_get(v, "day") != NULL;
}

/* The placeholder of v, found under key (NULL for an array item or the top). */
static json_t *view(const json_t *v, const char *key)
{
    json_t *out;

    if (json_is_null(v) || kept(key))
        return json_deep_copy(v);
    if (is_date(v))
        return json_pack("{s:i,s:i,s:i}", "day", 1, "month", 1, "year", 1);
    if (json_is_object(v)) {
        const char *k;
        json_t *item;

        out = json_object();
        json_object_foreach((json_t *)v, k, item)
        {
            if (out != NULL && json_object_set_new(out, k, view(item, k)) < 0) {
                json_decref(out);
                out = NULL;
            }
        }
        return out;
    }
    if (json_is_array(v)) {
        size_t i;
        json_t *item;

        out = json_array();
        json_array_foreach(v, i, item)
        {
            if (out != NULL && json_array_append_new(out, view(item, NULL)) < 0) {
                json_decref(out);
                out = NULL;
            }
        }
        return out;
    }
    /* Strings, numbers and booleans: none of them may survive. */
    return json_string(IDN_REDACTED);
}

json_t *idn_redacted_view(const json_t *personal)
{
    return personal == NULL ? json_null() : view(personal, NULL);
}

static const struct cm_stmt stmts[] = {
    {"idn_redact_claim",
     "SELECT id FROM identity.sessions WHERE redaction_status = 'processing'"
     " ORDER BY updated LIMIT 1 FOR UPDATE SKIP LOCKED",
     0},
    {"idn_redact_files", "DELETE FROM identity.files WHERE session_id = $1", 1},
    {"idn_redact_reports",
     "SELECT id, key_id, encode(personal_sealed, 'hex'), document::text, id_number::text"
     " FROM identity.reports WHERE session_id = $1 AND NOT redacted ORDER BY seq FOR UPDATE",
     1},
    /* Personal fields have no place in the plain columns; should a writer
     * have put one there, it goes too. */
    {"idn_redact_report",
     "UPDATE identity.reports SET personal_sealed = NULL, key_id = NULL, redacted = true,"
     " redacted_view = $2::jsonb, document = document - " DOCUMENT_PERSONAL ","
     " id_number = id_number - " ID_NUMBER_PERSONAL " WHERE id = $1",
     2},
    {"idn_redact_finish",
     "UPDATE identity.sessions SET redaction_status = 'redacted', metadata = '{}',"
     " provided_details_sealed = NULL, client_secret_hash = NULL, client_secret_sealed = NULL,"
     " verified_outputs_sealed = NULL, submission_sealed = NULL, test_outcome = NULL,"
     " updated = now() WHERE id = $1",
     1},
    /* The session's events keep the object as it was when they happened:
     * its metadata goes from every one of them (and from
     * previous_attributes, should one hold it). The type's predicate is
     * the partial index's (sql/core/0017). */
    {"idn_redact_events",
     "UPDATE core.events SET data = jsonb_set(data #- '{previous_attributes,metadata}',"
     " '{object,metadata}', '{}'::jsonb)"
     " WHERE type LIKE 'identity.verification_session.%' AND data -> 'object' ->> 'id' = $1"
     " AND (data -> 'object' -> 'metadata' <> '{}'::jsonb"
     " OR data -> 'previous_attributes' ? 'metadata')",
     1},
    /* A session whose redaction failed goes to the back of the queue. */
    {"idn_redact_defer",
     "UPDATE identity.sessions SET updated = now() WHERE id = $1"
     " AND redaction_status = 'processing'",
     1},
    {NULL, NULL, 0},
};

/* Adds the personal fields of a check's plain JSON (text, may be NULL) that
 * the sealed part lacks to personal[check]. 0, or -1 on allocation failure. */
static int merge_plain(json_t *personal, const char *check, const char *text,
                       const char *const *fields)
{
    json_t *plain = text != NULL ? json_loads(text, 0, NULL) : NULL;
    json_t *dst = json_object_get(personal, check);
    int ret = 0;

    if (!json_is_object(plain))
        goto out;
    if (!json_is_object(dst)) {
        dst = json_object();
        if (dst == NULL || json_object_set_new(personal, check, dst) < 0) {
            ret = -1;
            goto out;
        }
    }
    for (size_t i = 0; fields[i] != NULL; i++) {
        json_t *v = json_object_get(plain, fields[i]);

        if (v != NULL && json_object_get(dst, fields[i]) == NULL &&
            json_object_set(dst, fields[i], v) < 0)
            ret = -1;
    }
out:
    json_decref(plain);
    return ret;
}

/* The placeholders of one report's personal part (sealed, and any personal
 * field of its plain columns), as JSON text (new). */
static char *report_view(const struct cm_config *cfg, const PGresult *res, int row,
                         struct cm_err *err)
{
    const char *id = cm_db_value(res, row, 0), *key_id = cm_db_value(res, row, 1);
    const char *hex = cm_db_value(res, row, 2);
    json_t *personal = NULL, *v;
    unsigned char *blob;
    size_t len = 0;
    char *text = NULL;

    if (hex != NULL) {
        blob = idn_unhex(hex, &len);
        if (blob == NULL) {
            cm_err_internal(err, "identity.reports %s: bad hex", id);
            return NULL;
        }
        personal = idn_open_json(cfg, "reports", id, "personal_sealed", key_id, blob, len, err);
        free(blob);
        if (personal == NULL)
            return NULL;
    }
    if (!json_is_object(personal)) {
        json_decref(personal);
        personal = json_object();
    }
    v = personal == NULL ||
                merge_plain(personal, "document", cm_db_value(res, row, 3), document_personal) <
                    0 ||
                merge_plain(personal, "id_number", cm_db_value(res, row, 4), id_number_personal) < 0
            ? NULL
            : idn_redacted_view(personal);
    json_decref(personal);
    if (v != NULL)
        text = json_dumps(v, JSON_COMPACT);
    json_decref(v);
    if (text == NULL)
        cm_err_internal(err, "out of memory redacting report %s", id);
    return text;
}

static int redact_reports(struct cm_db *db, const struct cm_config *cfg, const char *session_id,
                          struct cm_err *err)
{
    PGresult *res = cm_db_exec(db, "idn_redact_reports", 1, (const char *[]){session_id}, err);
    int ret = -1;

    if (res == NULL)
        return -1;
    for (int i = 0; i < PQntuples(res); i++) {
        const char *id = cm_db_value(res, i, 0);
        char *text = report_view(cfg, res, i, err);
        PGresult *upd;

        if (text == NULL)
            goto out;
        upd = cm_db_exec(db, "idn_redact_report", 2, (const char *[]){id, text}, err);
        free(text);
        if (upd == NULL)
            goto out;
        PQclear(upd);
    }
    ret = 0;
out:
    PQclear(res);
    return ret;
}

static int run(struct cm_db *db, const char *stmt, const char *id, struct cm_err *err)
{
    PGresult *res = cm_db_exec(db, stmt, 1, (const char *[]){id}, err);

    PQclear(res);
    return res != NULL ? 0 : -1;
}

/* One session, in one transaction: 1 done, 0 none due, -1 with *err. */
static int finish_one(struct cm_db *db, const struct cm_config *cfg, struct cm_err *err)
{
    PGresult *claim = NULL;
    char id[CM_ID_MAX] = "";
    const char *v;

    if (cm_db_begin(db, err) < 0)
        return -1;
    claim = cm_db_exec(db, "idn_redact_claim", 0, NULL, err);
    if (claim == NULL)
        goto fail;
    if (PQntuples(claim) == 0) {
        PQclear(claim);
        cm_db_rollback(db);
        return 0;
    }
    v = cm_db_value(claim, 0, 0);
    if (strlen(v) >= sizeof(id)) {
        cm_err_internal(err, "session id too long");
        goto fail;
    }
    memcpy(id, v, strlen(v) + 1);
    PQclear(claim);
    claim = NULL;
    if (run(db, "idn_redact_files", id, err) < 0 || redact_reports(db, cfg, id, err) < 0 ||
        run(db, "idn_redact_finish", id, err) < 0 || run(db, "idn_redact_events", id, err) < 0 ||
        idn_session_emit(db, cfg, id, "identity.verification_session.redacted", NULL, NULL, err) <
            0 ||
        cm_db_commit(db, err) < 0)
        goto fail;
    cm_log(CM_LOG_INFO, "redacted verification session %s", id);
    return 1;
fail:
    PQclear(claim);
    cm_db_rollback(db);
    if (id[0] != '\0') {
        struct cm_err derr;

        cm_log(CM_LOG_ERROR, "redacting verification session %s failed: %s", id,
               cm_err_log_text(err));
        if (run(db, "idn_redact_defer", id, &derr) < 0)
            cm_log(CM_LOG_ERROR, "deferring session %s failed: %s", id, derr.detail);
    }
    return -1;
}

/* One item a call: the server's worker calls again at once while there
 * was one (cm_service.work). */
const struct cm_module idn_redact_module = {NULL, 0, stmts, finish_one};
