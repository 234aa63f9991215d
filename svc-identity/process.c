/* The checks worker: the share of svc-identity's queue worker that finishes
 * submitted sessions. Each round claims one due session (status processing,
 * process_after passed) with FOR UPDATE SKIP LOCKED, so any number of
 * instances share the queue and never run a session twice; opens what the
 * person submitted and the images; runs the checks engine (checks.h), where
 * in test mode the outcome the tester picked decides, else the engine with
 * its magic test numbers; and in the same transaction writes the report
 * (vr_), moves the session to verified (verified outputs sealed, client
 * secret cleared) or back to requires_input (last_error, client secret
 * kept), drops the submission and emits the event.
 *
 * Shapes written, as reports.c and session.c read them:
 *   identity.reports.document  {"status", "error": {code, reason} | null,
 *                               "type", "issuing_country", "files": [file ids]}
 *   identity.reports.id_number {"status", "error", "id_number_type"}
 *   identity.reports.selfie    {"status", "error", "document", "selfie"} (file ids)
 *   personal_sealed  {"document": {first_name, last_name, dob, expiration_date,
 *                     number, address, sex, unparsed_sex},
 *                     "id_number": {first_name, last_name, dob, id_number}}
 *   verified_outputs_sealed    Stripe's verified_outputs object.
 * A failed attempt's images are deleted with its submission: the next
 * attempt captures new ones, and nothing of the person is kept that the
 * verification no longer needs (the report keeps the file ids only). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "cm/log.h"
#include "module.h"
#include "page_flow.h"
#include "seal.h"
#include "session.h"
#include "session_write.h"
#include "cm/banned.h"

static const struct cm_stmt stmts[] = {
    {"idn_process_claim",
     "SELECT id, account_id, livemode, type, options::text, key_id,"
     " encode(submission_sealed, 'hex'), test_outcome, client_reference_id"
     " FROM identity.sessions WHERE status = 'processing' AND process_after <= now()"
     " AND redaction_status IS NULL ORDER BY process_after, seq LIMIT 1 FOR UPDATE SKIP LOCKED",
     0},
    /* A session whose checks failed to run waits a minute, so that it cannot
     * hold up the sessions behind it. */
    {"idn_process_defer",
     "UPDATE identity.sessions SET process_after = now() + interval '1 minute'"
     " WHERE id = $1 AND status = 'processing'",
     1},
    {"idn_process_files",
     "SELECT id, purpose, key_id, encode(data_sealed, 'hex') FROM identity.files"
     " WHERE session_id = $1",
     1},
    {"idn_process_report",
     "INSERT INTO identity.reports (id, session_id, account_id, livemode, type,"
     " client_reference_id, options, document, id_number, selfie, key_id, personal_sealed)"
     " VALUES ($1, $2, $3, $4::boolean, $5, $6, $7::jsonb, $8::jsonb, $9::jsonb, $10::jsonb, $11,"
     " decode($12, 'hex'))",
     12},
    {"idn_process_verified",
     "UPDATE identity.sessions SET status = 'verified', verified_outputs_sealed ="
     " decode($2, 'hex'), key_id = $3, last_report_id = $4, last_error_code = NULL,"
     " last_error_reason = NULL, client_secret_hash = NULL, client_secret_sealed = NULL,"
     " submission_sealed = NULL, test_outcome = NULL, process_after = NULL, updated = now()"
     " WHERE id = $1 AND status = 'processing'",
     4},
    {"idn_process_failed",
     "UPDATE identity.sessions SET status = 'requires_input', last_error_code = $2,"
     " last_error_reason = $3, last_report_id = $4, submission_sealed = NULL,"
     " test_outcome = NULL, process_after = NULL, updated = now()"
     " WHERE id = $1 AND status = 'processing'",
     4},
    {"idn_process_files_drop", "DELETE FROM identity.files WHERE session_id = $1", 1},
    {NULL, NULL, 0},
};

enum { S_ID, S_ACCOUNT, S_LIVE, S_TYPE, S_OPTIONS, S_KEY, S_DRAFT, S_OUTCOME, S_CLIENT_REF };

/* One claimed session and everything opened for it. */
struct job {
    PGresult *row;
    PGresult *files;
    json_t *options, *draft;
    unsigned char *images[IDN_FILE_NPURPOSES];
    size_t image_len[IDN_FILE_NPURPOSES];
    const char *file_ids[IDN_FILE_NPURPOSES]; /* borrowed from files */
    struct idn_submission in;
    struct idn_result out;
};

static void job_release(struct job *j)
{
    for (int i = 0; i < IDN_FILE_NPURPOSES; i++) {
        if (j->images[i] != NULL)
            OPENSSL_cleanse(j->images[i], j->image_len[i]);
        free(j->images[i]);
    }
    json_decref(j->options);
    json_decref(j->draft);
    PQclear(j->files);
    PQclear(j->row);
    OPENSSL_cleanse(&j->out, sizeof(j->out));
}

static const char *row(const struct job *j, int col)
{
    return cm_db_value(j->row, 0, col);
}

/* Opens the sealed draft and the images of the claimed session. */
static int open_inputs(struct cm_db *db, const struct cm_config *cfg, struct job *j,
                       struct cm_err *err)
{
    const char *id = row(j, S_ID), *hex = row(j, S_DRAFT);

    if (hex != NULL) {
        size_t len = 0;
        unsigned char *blob = idn_unhex(hex, &len);

        if (blob == NULL)
            return cm_err_internal(err, "session %s: malformed submission", id);
        j->draft =
            idn_open_json(cfg, "sessions", id, "submission_sealed", row(j, S_KEY), blob, len, err);
        free(blob);
        if (j->draft == NULL)
            return -1;
    } else if ((j->draft = json_object()) == NULL) {
        return cm_err_internal(err, "out of memory");
    }
    j->files = cm_db_exec(db, "idn_process_files", 1, (const char *[]){id}, err);
    if (j->files == NULL)
        return -1;
    for (int r = 0; r < PQntuples(j->files); r++) {
        const char *fid = cm_db_value(j->files, r, 0), *purpose = cm_db_value(j->files, r, 1);
        unsigned char *blob;
        size_t len = 0;
        int p, rc;

        for (p = 0; p < IDN_FILE_NPURPOSES; p++)
            if (strcmp(purpose, idn_purpose_names[p]) == 0)
                break;
        if (p == IDN_FILE_NPURPOSES || j->images[p] != NULL)
            continue;
        blob = idn_unhex(cm_db_value(j->files, r, 3), &len);
        if (blob == NULL)
            return cm_err_internal(err, "file %s: malformed data", fid);
        rc = idn_open(cfg, "files", fid, "data_sealed", cm_db_value(j->files, r, 2), blob, len,
                      (char **)&j->images[p], &j->image_len[p], err);
        free(blob);
        if (rc < 0)
            return -1;
        j->file_ids[p] = fid;
    }
    return 0;
}

static const char *field(const json_t *data, const char *name)
{
    const char *v = json_string_value(json_object_get(data, name));

    return v != NULL && *v ? v : NULL;
}

static struct idn_date date_field(const json_t *data, const char *name)
{
    struct idn_date d = {0, 0, 0};

    if (idn_flow_parse_date(field(data, name), &d) < 0)
        memset(&d, 0, sizeof(d));
    return d;
}

/* The engine's input from the draft, images and options. */
static int build_input(struct job *j, struct cm_err *err)
{
    struct idn_submission *in = &j->in;
    const json_t *data = json_object_get(j->draft, "data");
    const json_t *live = json_object_get(j->draft, "live");
    const char *type = json_string_value(json_object_get(j->draft, "document_type"));
    time_t now = time(NULL);
    struct tm tm;

    memset(in, 0, sizeof(*in));
    if (idn_outcome_session_type(row(j, S_TYPE), &in->type) < 0)
        return cm_err_internal(err, "session %s: unknown type", row(j, S_ID));
    j->options = json_loads(row(j, S_OPTIONS), 0, NULL);
    idn_outcome_options(j->options, &in->options);
    in->test_mode = strcmp(row(j, S_LIVE), "t") != 0;
    gmtime_r(&now, &tm);
    in->today = (struct idn_date){tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday};
    in->id_number.number = field(data, "id_number");
    in->id_number.country = field(data, "id_number_country");
    if (in->type == IDN_SESSION_ID_NUMBER) {
        in->id_number.first_name = field(data, "first_name");
        in->id_number.last_name = field(data, "last_name");
        in->id_number.dob = date_field(data, "dob");
        return 0;
    }
    in->document_type = type == NULL                           ? IDN_DOC_NONE
                        : strcmp(type, "passport") == 0        ? IDN_DOC_PASSPORT
                        : strcmp(type, "id_card") == 0         ? IDN_DOC_ID_CARD
                        : strcmp(type, "driving_license") == 0 ? IDN_DOC_DRIVING_LICENSE
                                                               : IDN_DOC_NONE;
    in->document.first_name = field(data, "first_name");
    in->document.last_name = field(data, "last_name");
    in->document.dob = date_field(data, "dob");
    in->document.number = field(data, "document_number");
    in->document.expiry = date_field(data, "expiration_date");
    in->document.issuing_country = field(data, "issuing_country");
    in->mrz = field(data, "mrz");
    in->front = (struct idn_image){j->images[IDN_FILE_FRONT], j->image_len[IDN_FILE_FRONT]};
    in->back = (struct idn_image){j->images[IDN_FILE_BACK], j->image_len[IDN_FILE_BACK]};
    in->selfie = (struct idn_image){j->images[IDN_FILE_SELFIE], j->image_len[IDN_FILE_SELFIE]};
    in->live_capture = json_is_true(json_object_get(live, "document_front")) &&
                       (in->document_type == IDN_DOC_PASSPORT ||
                        json_is_true(json_object_get(live, "document_back")));
    return 0;
}

/* Test mode: the outcome the tester picked replaces the engine's verdict.
 * The check a forced code belongs to fails with it; every other check that
 * ran passes, so the report says plainly which check the code is about. */
static void force_outcome(struct job *j, const char *outcome)
{
    struct idn_result *r = &j->out;
    struct idn_check *checks[] = {&r->document, &r->id_number, &r->selfie};
    enum idn_code code = idn_outcome_code(outcome);
    struct idn_check *target = NULL;
    const char *name = idn_code_name(code);

    if (code != IDN_CODE_NONE) {
        if (strncmp(name, "selfie_", 7) == 0)
            target = &r->selfie;
        else if (strncmp(name, "id_number_", 10) == 0 ||
                 (code == IDN_CODE_UNDER_SUPPORTED_AGE && j->in.type == IDN_SESSION_ID_NUMBER))
            target = &r->id_number;
        else
            target = &r->document;
    }
    for (size_t i = 0; i < 3; i++) {
        if (checks[i] != target && checks[i]->status == IDN_CHECK_NOT_RUN)
            continue;
        checks[i]->status = checks[i] == target ? IDN_CHECK_UNVERIFIED : IDN_CHECK_VERIFIED;
        checks[i]->code = checks[i] == target ? code : IDN_CODE_NONE;
        snprintf(checks[i]->reason, sizeof(checks[i]->reason), "%s",
                 checks[i] == target ? idn_outcome_reason(code) : "");
    }
    r->verified = target == NULL;
    r->last_error = code;
    snprintf(r->last_error_reason, sizeof(r->last_error_reason), "%s",
             target ? target->reason : "");
}

static json_t *date_json(const struct idn_date *d)
{
    if (d->year == 0)
        return json_null();
    return json_pack("{s:i,s:i,s:i}", "day", d->day, "month", d->month, "year", d->year);
}

static json_t *str_or_null(const char *s)
{
    return s != NULL && *s ? json_string(s) : json_null();
}

static json_t *address_json(const struct idn_outputs *o)
{
    if (!o->has_address)
        return json_null();
    return json_pack("{s:o,s:o,s:o,s:o,s:o,s:o}", "city", str_or_null(o->address.city), "country",
                     str_or_null(o->address.country), "line1", str_or_null(o->address.line1),
                     "line2", str_or_null(o->address.line2), "postal_code",
                     str_or_null(o->address.postal_code), "state", str_or_null(o->address.state));
}

static json_t *check_json(const struct idn_check *c)
{
    return json_pack(
        "{s:s,s:o}", "status", c->status == IDN_CHECK_VERIFIED ? "verified" : "unverified", "error",
        c->status == IDN_CHECK_VERIFIED
            ? json_null()
            : json_pack("{s:s?,s:s}", "code", idn_code_name(c->code), "reason", c->reason));
}

/* The report's plain checks and sealed personal part; new objects. */
static int report_parts(const struct job *j, json_t **doc, json_t **idn, json_t **selfie,
                        json_t **personal)
{
    const struct idn_result *r = &j->out;
    const struct idn_outputs *o = &r->outputs;
    int bad = 0;

    *doc = *idn = *selfie = NULL;
    *personal = json_object();
    bad |= *personal == NULL;
    if (!bad && r->document.status != IDN_CHECK_NOT_RUN) {
        json_t *files = json_array();

        for (int p = IDN_FILE_FRONT; p <= IDN_FILE_BACK && files != NULL; p++)
            if (j->file_ids[p] != NULL)
                bad |= json_array_append_new(files, json_string(j->file_ids[p])) < 0;
        *doc = check_json(&r->document);
        bad |= *doc == NULL || files == NULL ||
               json_object_set_new(*doc, "type",
                                   str_or_null(idn_document_type_name(o->document_type))) < 0 ||
               json_object_set_new(*doc, "issuing_country", str_or_null(o->issuing_country)) < 0 ||
               json_object_set_new(*doc, "files", files) < 0;
        bad |=
            json_object_set_new(
                *personal, "document",
                json_pack("{s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o}", "first_name",
                          str_or_null(o->first_name), "last_name", str_or_null(o->last_name), "dob",
                          date_json(&o->dob), "expiration_date", date_json(&o->expiry), "number",
                          str_or_null(o->document_number), "address", address_json(o), "sex",
                          str_or_null(o->sex), "unparsed_sex", str_or_null(o->unparsed_sex))) < 0;
    }
    if (!bad && r->id_number.status != IDN_CHECK_NOT_RUN) {
        *idn = check_json(&r->id_number);
        bad |= *idn == NULL ||
               json_object_set_new(*idn, "id_number_type", str_or_null(o->id_number_type)) < 0;
        bad |= json_object_set_new(*personal, "id_number",
                                   json_pack("{s:o,s:o,s:o,s:o}", "first_name",
                                             str_or_null(o->first_name), "last_name",
                                             str_or_null(o->last_name), "dob", date_json(&o->dob),
                                             "id_number", str_or_null(o->id_number_display))) < 0;
    }
    if (!bad && r->selfie.status != IDN_CHECK_NOT_RUN) {
        *selfie = check_json(&r->selfie);
        bad |=
            *selfie == NULL ||
            json_object_set_new(*selfie, "document", str_or_null(j->file_ids[IDN_FILE_FRONT])) <
                0 ||
            json_object_set_new(*selfie, "selfie", str_or_null(j->file_ids[IDN_FILE_SELFIE])) < 0;
    }
    return bad ? -1 : 0;
}

/* Stripe's verified_outputs; new object or NULL. */
static json_t *outputs_json(const struct idn_outputs *o)
{
    return json_pack("{s:o,s:o,s:n,s:o,s:o,s:o,s:o,s:n,s:o,s:n,s:o}", "address", address_json(o),
                     "dob", date_json(&o->dob), "email", "first_name", str_or_null(o->first_name),
                     "id_number", str_or_null(o->id_number), "id_number_type",
                     str_or_null(o->id_number_type), "last_name", str_or_null(o->last_name),
                     "phone", "sex", str_or_null(o->sex), "unparsed_place_of_birth", "unparsed_sex",
                     str_or_null(o->unparsed_sex));
}

/* Seals doc for table/column of row id into new hex (free()), with *key_id. */
static char *seal_hex(const struct cm_config *cfg, const char *table, const char *id,
                      const char *column, const json_t *doc, const char **key_id,
                      struct cm_err *err)
{
    unsigned char *blob = NULL;
    size_t len = 0;
    char *hex;

    if (idn_seal_json(cfg, table, id, column, doc, &blob, &len, key_id, err) < 0)
        return NULL;
    hex = idn_hex(blob, len);
    free(blob);
    if (hex == NULL)
        cm_err_internal(err, "out of memory");
    return hex;
}

static char *dump(const json_t *v)
{
    return v != NULL ? json_dumps(v, JSON_COMPACT) : NULL;
}

/* Writes the report and moves the session; the transaction is open. */
static int finish(struct cm_db *db, const struct cm_config *cfg, struct job *j, struct cm_err *err)
{
    const char *id = row(j, S_ID), *key_id = NULL, *vo_key = NULL;
    char report_id[CM_ID_MAX];
    json_t *doc = NULL, *idn = NULL, *selfie = NULL, *personal = NULL, *vo = NULL;
    char *doc_s = NULL, *idn_s = NULL, *selfie_s = NULL, *personal_hex = NULL, *vo_hex = NULL;
    PGresult *res = NULL;
    int ret = -1;

    if (cm_id_new(report_id, sizeof(report_id), "vr_", err) < 0)
        goto out;
    if (report_parts(j, &doc, &idn, &selfie, &personal) < 0) {
        cm_err_internal(err, "out of memory");
        goto out;
    }
    doc_s = dump(doc);
    idn_s = dump(idn);
    selfie_s = dump(selfie);
    personal_hex = seal_hex(cfg, "reports", report_id, "personal_sealed", personal, &key_id, err);
    if (personal_hex == NULL)
        goto out;
    res = cm_db_exec(db, "idn_process_report", 12,
                     (const char *[]){report_id, id, row(j, S_ACCOUNT), row(j, S_LIVE),
                                      row(j, S_TYPE), row(j, S_CLIENT_REF), row(j, S_OPTIONS),
                                      doc_s, idn_s, selfie_s, key_id, personal_hex},
                     err);
    if (res == NULL)
        goto out;
    PQclear(res);
    res = NULL;
    if (j->out.verified) {
        vo = outputs_json(&j->out.outputs);
        if (vo == NULL) {
            cm_err_internal(err, "out of memory");
            goto out;
        }
        if (idn_session_rekey(db, cfg, id, err) < 0 ||
            (vo_hex = seal_hex(cfg, "sessions", id, "verified_outputs_sealed", vo, &vo_key, err)) ==
                NULL)
            goto out;
        res = cm_db_exec(db, "idn_process_verified", 4,
                         (const char *[]){id, vo_hex, vo_key, report_id}, err);
    } else {
        res = cm_db_exec(db, "idn_process_failed", 4,
                         (const char *[]){id, idn_code_name(j->out.last_error),
                                          j->out.last_error_reason, report_id},
                         err);
        if (res != NULL) {
            PQclear(res);
            res = cm_db_exec(db, "idn_process_files_drop", 1, (const char *[]){id}, err);
        }
    }
    if (res == NULL)
        goto out;
    if (idn_session_emit(db, cfg, id,
                         j->out.verified ? "identity.verification_session.verified"
                                         : "identity.verification_session.requires_input",
                         NULL, NULL, err) < 0)
        goto out;
    ret = 0;
out:
    PQclear(res);
    json_decref(doc);
    json_decref(idn);
    json_decref(selfie);
    json_decref(personal);
    json_decref(vo);
    free(doc_s);
    free(idn_s);
    free(selfie_s);
    free(personal_hex);
    free(vo_hex);
    return ret;
}

/* Claims and finishes one due session: 1 done, 0 none due, -1 with *err
 * (the transaction is rolled back and the session retried a minute later). */
static int one(struct cm_db *db, const struct cm_config *cfg, struct cm_err *err)
{
    struct job j;
    const char *outcome;
    char id[CM_ID_MAX] = "";
    int ret = -1;

    memset(&j, 0, sizeof(j));
    if (cm_db_begin(db, err) < 0)
        return -1;
    j.row = cm_db_exec(db, "idn_process_claim", 0, NULL, err);
    if (j.row == NULL)
        goto out;
    if (PQntuples(j.row) == 0) {
        ret = 0;
        goto out;
    }
    snprintf(id, sizeof(id), "%s", row(&j, S_ID));
    if (open_inputs(db, cfg, &j, err) < 0 || build_input(&j, err) < 0 ||
        idn_checks_run(&j.in, NULL, &j.out, err) < 0)
        goto out;
    outcome = row(&j, S_OUTCOME);
    if (outcome != NULL && j.in.test_mode)
        force_outcome(&j, outcome);
    if (finish(db, cfg, &j, err) < 0 || cm_db_commit(db, err) < 0)
        goto out;
    ret = 1;
out:
    if (ret != 1)
        cm_db_rollback(db);
    if (ret < 0 && id[0] != '\0') {
        struct cm_err derr;
        PGresult *res = cm_db_exec(db, "idn_process_defer", 1, (const char *[]){id}, &derr);

        cm_log(CM_LOG_ERROR, "checking verification session %s failed (retried in a minute): %s",
               id, cm_err_log_text(err));
        PQclear(res);
    }
    job_release(&j);
    return ret;
}

/* One item a call: the server's worker calls again at once while there
 * was one (cm_service.work). */
const struct cm_module idn_process_module = {NULL, 0, stmts, one};
