/* The hosted flow's state and steps (page_flow.h). Every step runs on the
 * request's transaction with the session row locked, so two tabs of the same
 * link cannot interleave a submit with an upload. A sealed value written
 * into the session row goes through idn_session_rekey() first, which keeps
 * the row's one key_id true for all its sealed columns after a rotation. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "cm/params.h"
#include "checker.h"
#include "page_flow.h"
#include "seal.h"
#include "session.h"
#include "session_write.h"
#include "cm/banned.h"

const char *const idn_purpose_names[IDN_FILE_NPURPOSES] = {"document_front", "document_back",
                                                           "selfie"};

const char *const idn_flow_data_fields[] = {
    "first_name",      "last_name", "dob",       "document_number",   "expiration_date",
    "issuing_country", "mrz",       "id_number", "id_number_country", NULL};

#define FLOW_COLS                                                                                  \
    "s.id, s.account_id, s.livemode, s.type, s.status, s.options::text, s.key_id,"                 \
    " encode(s.submission_sealed, 'hex'), s.last_error_code, s.last_error_reason, s.return_url,"   \
    " (SELECT string_agg(f.purpose, ',') FROM identity.files f WHERE f.session_id = s.id)"
#define FLOW_WHERE                                                                                 \
    " FROM identity.sessions s WHERE s.client_secret_hash = decode($1, 'hex')"                     \
    " AND s.redaction_status IS NULL AND s.status IN ('requires_input', 'processing')"

const struct cm_stmt idn_flow_stmts[] = {
    {"idn_page_by_secret", "SELECT " FLOW_COLS FLOW_WHERE, 1},
    {"idn_page_by_secret_lock", "SELECT " FLOW_COLS FLOW_WHERE " FOR UPDATE OF s", 1},
    {"idn_page_save",
     "UPDATE identity.sessions SET submission_sealed = decode($2, 'hex'), key_id = $3,"
     " updated = now() WHERE id = $1",
     3},
    {"idn_page_decline",
     "UPDATE identity.sessions SET submission_sealed = NULL, last_error_code ="
     " 'consent_declined', last_error_reason = $2, updated = now() WHERE id = $1",
     2},
    {"idn_page_files_drop", "DELETE FROM identity.files WHERE session_id = $1", 1},
    {"idn_page_file_put",
     "INSERT INTO identity.files (id, session_id, purpose, content_type, size, key_id,"
     " data_sealed) VALUES ($1, $2, $3, $4, $5::integer, $6, decode($7, 'hex'))"
     " ON CONFLICT (session_id, purpose) DO UPDATE SET id = EXCLUDED.id, content_type ="
     " EXCLUDED.content_type, size = EXCLUDED.size, key_id = EXCLUDED.key_id, data_sealed ="
     " EXCLUDED.data_sealed, created = now()",
     7},
    {"idn_page_submit",
     "UPDATE identity.sessions SET status = 'processing', submission_sealed = decode($2, 'hex'),"
     " key_id = $3, test_outcome = $4, process_after = now() + make_interval(secs =>"
     " $5::integer), updated = now() WHERE id = $1 AND status = 'requires_input'",
     5},
    {NULL, NULL, 0},
};

enum {
    C_ID,
    C_ACCOUNT,
    C_LIVE,
    C_TYPE,
    C_STATUS,
    C_OPTIONS,
    C_KEY,
    C_DRAFT,
    C_ERR_CODE,
    C_ERR_REASON,
    C_RETURN,
    C_FILES
};

/* vs_<id>_secret_<test|live>_<base62>: anything else is not looked up. */
static int secret_shape_ok(const char *s)
{
    const char *mark;
    size_t n = s ? strlen(s) : 0;

    if (n < 3 || n >= IDN_CLIENT_SECRET_MAX || strncmp(s, "vs_", 3) != 0)
        return 0;
    mark = strstr(s, "_secret_");
    if (mark == NULL || (strncmp(mark + 8, "test_", 5) != 0 && strncmp(mark + 8, "live_", 5) != 0))
        return 0;
    for (const char *p = s; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
              *p == '_'))
            return 0;
    return 1;
}

static void copy(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src ? src : "");
}

int idn_flow_load(struct cm_db *db, const struct cm_config *cfg, const char *secret, int lock,
                  struct idn_flow *f, struct cm_err *err)
{
    char hash[2 * CM_SHA256_LEN + 1];
    PGresult *res = NULL;
    json_t *options = NULL;
    const char *draft_hex, *files;
    int ret = -1;

    memset(f, 0, sizeof(*f));
    if (!secret_shape_ok(secret))
        return 0;
    idn_client_secret_hash(secret, hash);
    res = cm_db_exec(db, lock ? "idn_page_by_secret_lock" : "idn_page_by_secret", 1,
                     (const char *[]){hash}, err);
    if (res == NULL)
        goto out;
    if (PQntuples(res) == 0) {
        ret = 0;
        goto out;
    }
    copy(f->id, sizeof(f->id), cm_db_value(res, 0, C_ID));
    copy(f->account_id, sizeof(f->account_id), cm_db_value(res, 0, C_ACCOUNT));
    f->livemode = strcmp(cm_db_value(res, 0, C_LIVE), "t") == 0;
    f->processing = strcmp(cm_db_value(res, 0, C_STATUS), "processing") == 0;
    if (idn_outcome_session_type(cm_db_value(res, 0, C_TYPE), &f->type) < 0) {
        cm_err_internal(err, "session %s has an unknown type", f->id);
        goto out;
    }
    options = json_loads(cm_db_value(res, 0, C_OPTIONS), 0, NULL);
    idn_outcome_options(options, &f->options);
    copy(f->last_error_code, sizeof(f->last_error_code), cm_db_value(res, 0, C_ERR_CODE));
    copy(f->last_error_reason, sizeof(f->last_error_reason), cm_db_value(res, 0, C_ERR_REASON));
    copy(f->return_url, sizeof(f->return_url), cm_db_value(res, 0, C_RETURN));
    files = cm_db_value(res, 0, C_FILES);
    for (int i = 0; i < IDN_FILE_NPURPOSES; i++) {
        const char *hit = files ? strstr(files, idn_purpose_names[i]) : NULL;
        size_t n = strlen(idn_purpose_names[i]);

        /* whole names only: purposes are comma-separated */
        if (hit != NULL && (hit == files || hit[-1] == ',') && (hit[n] == ',' || hit[n] == '\0'))
            f->files |= 1u << i;
    }
    draft_hex = cm_db_value(res, 0, C_DRAFT);
    if (draft_hex != NULL) {
        size_t bloblen = 0;
        unsigned char *blob = idn_unhex(draft_hex, &bloblen);

        if (blob == NULL) {
            cm_err_internal(err, "session %s: malformed submission", f->id);
            goto out;
        }
        f->draft = idn_open_json(cfg, "sessions", f->id, "submission_sealed",
                                 cm_db_value(res, 0, C_KEY), blob, bloblen, err);
        free(blob);
        if (f->draft == NULL)
            goto out;
    } else {
        f->draft = json_object();
    }
    if (f->draft == NULL || !json_is_object(f->draft)) {
        cm_err_internal(err, "session %s: no draft", f->id);
        goto out;
    }
    ret = 1;
out:
    if (ret != 1)
        idn_flow_release(f);
    json_decref(options);
    PQclear(res);
    return ret;
}

void idn_flow_release(struct idn_flow *f)
{
    json_decref(f->draft);
    f->draft = NULL;
}

int idn_flow_consented(const struct idn_flow *f)
{
    return json_is_true(json_object_get(f->draft, "consent"));
}

const char *idn_flow_document_type(const struct idn_flow *f)
{
    return json_string_value(json_object_get(f->draft, "document_type"));
}

const char *idn_flow_field(const struct idn_flow *f, const char *name)
{
    const char *v = json_string_value(json_object_get(json_object_get(f->draft, "data"), name));

    return v != NULL && *v ? v : NULL;
}

static unsigned type_bit(const char *name)
{
    if (name == NULL)
        return 0;
    if (strcmp(name, "driving_license") == 0)
        return IDN_DOC_DRIVING_LICENSE;
    if (strcmp(name, "id_card") == 0)
        return IDN_DOC_ID_CARD;
    if (strcmp(name, "passport") == 0)
        return IDN_DOC_PASSPORT;
    return 0;
}

static unsigned allowed_types(const struct idn_flow *f)
{
    return f->options.allowed_types ? f->options.allowed_types : IDN_DOC_ALL;
}

int idn_flow_one_type(const struct idn_flow *f)
{
    unsigned t = allowed_types(f);

    return f->type == IDN_SESSION_DOCUMENT && (t & (t - 1)) == 0;
}

int idn_flow_needs_file(const struct idn_flow *f, enum idn_purpose purpose)
{
    const char *type = idn_flow_document_type(f);

    if (f->type != IDN_SESSION_DOCUMENT)
        return 0;
    switch (purpose) {
    case IDN_FILE_FRONT:
        return 1;
    case IDN_FILE_BACK:
        return type == NULL || strcmp(type, "passport") != 0;
    case IDN_FILE_SELFIE:
        return f->options.require_matching_selfie;
    default:
        return 0;
    }
}

/* The fields the data step requires for this session and type. */
static int fields_complete(const struct idn_flow *f, int id_number_part)
{
    static const char *const document[] = {
        "first_name",      "last_name",       "dob", "document_number",
        "expiration_date", "issuing_country", NULL};
    static const char *const id_number[] = {"id_number", "id_number_country", NULL};
    static const char *const person[] = {"first_name", "last_name", "dob", NULL};
    const char *type = idn_flow_document_type(f);

    if (id_number_part) {
        for (const char *const *p = id_number; *p; p++)
            if (idn_flow_field(f, *p) == NULL)
                return 0;
        if (f->type == IDN_SESSION_ID_NUMBER)
            for (const char *const *p = person; *p; p++)
                if (idn_flow_field(f, *p) == NULL)
                    return 0;
        return 1;
    }
    for (const char *const *p = document; *p; p++)
        if (idn_flow_field(f, *p) == NULL)
            return 0;
    /* A passport is read from its machine-readable zone. */
    return type == NULL || strcmp(type, "passport") != 0 || idn_flow_field(f, "mrz") != NULL;
}

json_t *idn_flow_missing(const struct idn_flow *f)
{
    json_t *m = json_array();
    int bad = m == NULL;

#define MISSING(name) bad |= json_array_append_new(m, json_string(name)) < 0
    if (!idn_flow_consented(f))
        MISSING("consent");
    if (f->type == IDN_SESSION_DOCUMENT) {
        if (idn_flow_document_type(f) == NULL)
            MISSING("document_type");
        for (int i = 0; i < IDN_FILE_NPURPOSES; i++)
            if (idn_flow_needs_file(f, (enum idn_purpose)i) && !(f->files & (1u << i)))
                MISSING(idn_purpose_names[i]);
        if (!fields_complete(f, 0))
            MISSING("document_data");
        if (f->options.require_id_number && !fields_complete(f, 1))
            MISSING("id_number_data");
    } else if (!fields_complete(f, 1)) {
        MISSING("id_number_data");
    }
#undef MISSING
    if (bad) {
        json_decref(m);
        return NULL;
    }
    return m;
}

static int writable(const struct idn_flow *f, struct cm_err *err)
{
    if (f->processing)
        return cm_err_invalid(err, NULL,
                              "This verification session is processing: it cannot be changed "
                              "until its checks have run.");
    return 0;
}

/* Seals the draft into the session row (after rekeying it). */
static int save_draft(struct cm_db *db, const struct cm_config *cfg, struct idn_flow *f,
                      const char *stmt, const char *outcome, int delay, struct cm_err *err)
{
    unsigned char *blob = NULL;
    size_t bloblen = 0;
    const char *key_id = NULL;
    char *hex = NULL, secs[16];
    PGresult *res = NULL;
    int ret = -1;

    if (idn_session_rekey(db, cfg, f->id, err) < 0 ||
        idn_seal_json(cfg, "sessions", f->id, "submission_sealed", f->draft, &blob, &bloblen,
                      &key_id, err) < 0)
        goto out;
    hex = idn_hex(blob, bloblen);
    if (hex == NULL) {
        cm_err_internal(err, "out of memory");
        goto out;
    }
    snprintf(secs, sizeof(secs), "%d", delay);
    if (strcmp(stmt, "idn_page_submit") == 0)
        res = cm_db_exec(db, stmt, 5, (const char *[]){f->id, hex, key_id, outcome, secs}, err);
    else
        res = cm_db_exec(db, stmt, 3, (const char *[]){f->id, hex, key_id}, err);
    if (res == NULL)
        goto out;
    if (cm_db_affected(res) != 1) {
        cm_err_internal(err, "session %s changed under its lock", f->id);
        goto out;
    }
    ret = 0;
out:
    if (blob != NULL)
        OPENSSL_cleanse(blob, bloblen);
    free(blob);
    free(hex);
    PQclear(res);
    return ret;
}

int idn_flow_consent(struct cm_db *db, const struct cm_config *cfg, struct idn_flow *f,
                     int accepted, const char *request_id, struct cm_err *err)
{
    const char *reason = idn_outcome_reason(IDN_CODE_CONSENT_DECLINED);
    PGresult *res = NULL;
    json_t *fresh;

    if (writable(f, err) < 0)
        return -1;
    if (accepted) {
        if (json_object_set_new(f->draft, "consent", json_true()) < 0 ||
            (idn_flow_one_type(f) &&
             json_object_set_new(f->draft, "document_type",
                                 json_string(idn_document_type_name(
                                     (enum idn_document_type)allowed_types(f)))) < 0))
            return cm_err_internal(err, "out of memory");
        return save_draft(db, cfg, f, "idn_page_save", NULL, 0, err);
    }
    fresh = json_object();
    if (fresh == NULL)
        return cm_err_internal(err, "out of memory");
    res = cm_db_exec(db, "idn_page_decline", 2, (const char *[]){f->id, reason}, err);
    if (res == NULL)
        goto fail;
    PQclear(res);
    res = cm_db_exec(db, "idn_page_files_drop", 1, (const char *[]){f->id}, err);
    if (res == NULL)
        goto fail;
    PQclear(res);
    if (idn_session_emit(db, cfg, f->id, "identity.verification_session.requires_input", request_id,
                         NULL, err) < 0)
        goto fail;
    json_decref(f->draft);
    f->draft = fresh;
    f->files = 0;
    copy(f->last_error_code, sizeof(f->last_error_code), "consent_declined");
    copy(f->last_error_reason, sizeof(f->last_error_reason), reason);
    return 0;
fail:
    json_decref(fresh);
    return -1;
}

int idn_flow_parse_date(const char *s, struct idn_date *d)
{
    int n = 0;

    if (s == NULL || strlen(s) != 10 ||
        sscanf(s, "%4d-%2d-%2d%n", &d->year, &d->month, &d->day, &n) != 3 || n != 10)
        return -1;
    for (int i = 0; i < 10; i++)
        if ((i == 4 || i == 7) ? s[i] != '-' : (s[i] < '0' || s[i] > '9'))
            return -1;
    return idn_date_valid(d) ? 0 : -1;
}

/* Does field apply to this session (type, options)? */
static int field_applies(const struct idn_flow *f, const char *name)
{
    int idn = strcmp(name, "id_number") == 0 || strcmp(name, "id_number_country") == 0;
    int person = strcmp(name, "first_name") == 0 || strcmp(name, "last_name") == 0 ||
                 strcmp(name, "dob") == 0;

    if (f->type == IDN_SESSION_ID_NUMBER)
        return idn || person;
    return !idn || f->options.require_id_number;
}

/* The machine-readable zone as typed into a text box: upper case, CR and
 * blanks at line ends dropped, empty lines dropped, lines joined by "\n".
 * New string, or NULL on allocation failure. */
static char *mrz_normalize(const char *in)
{
    size_t n = strlen(in), o = 0;
    char *out = malloc(n + 1);

    if (out == NULL)
        return NULL;
    for (const char *line = in; *line;) {
        size_t len = strcspn(line, "\n"), end = len;

        while (end > 0 && (line[end - 1] == '\r' || line[end - 1] == ' ' || line[end - 1] == '\t'))
            end--;
        if (end > 0) {
            if (o > 0)
                out[o++] = '\n';
            for (size_t i = 0; i < end; i++)
                out[o++] = (char)(line[i] >= 'a' && line[i] <= 'z' ? line[i] - 32 : line[i]);
        }
        line += len + (line[len] == '\n');
    }
    out[o] = '\0';
    return out;
}

/* Validates one field's value and stores it (normalised) into data. */
static int set_field(json_t *data, const char *name, const char *v, struct cm_err *err)
{
    char up[3];
    char *mrz;
    struct idn_date d;
    int rc;

    if (*v == '\0') {
        json_object_del(data, name); /* "" clears; absent already is fine */
        return 0;
    }
    if (strcmp(name, "dob") == 0 || strcmp(name, "expiration_date") == 0) {
        if (idn_flow_parse_date(v, &d) < 0)
            return cm_err_invalid(err, name, "Invalid %s: give a date as YYYY-MM-DD.", name);
    } else if (strcmp(name, "issuing_country") == 0 || strcmp(name, "id_number_country") == 0) {
        if (strlen(v) != 2 || !((v[0] | 32) >= 'a' && (v[0] | 32) <= 'z') ||
            !((v[1] | 32) >= 'a' && (v[1] | 32) <= 'z'))
            return cm_err_invalid(err, name,
                                  "Invalid %s: give a two-letter ISO 3166-1 country code.", name);
        up[0] = (char)(v[0] & ~32);
        up[1] = (char)(v[1] & ~32);
        up[2] = '\0';
        v = up;
    } else if (strcmp(name, "mrz") == 0) {
        mrz = mrz_normalize(v);
        if (mrz == NULL)
            return cm_err_internal(err, "out of memory");
        rc = json_object_set_new(data, name, json_string(mrz));
        free(mrz);
        return rc < 0 ? cm_err_invalid(err, name, "Invalid %s: it must be UTF-8 text.", name) : 0;
    }
    if (json_object_set_new(data, name, json_string(v)) < 0)
        return cm_err_internal(err, "out of memory");
    return 0;
}

int idn_flow_data(struct cm_db *db, const struct cm_config *cfg, struct idn_flow *f,
                  const json_t *params, struct cm_err *err)
{
    json_t *data;
    const char *v;
    int rc;

    if (writable(f, err) < 0)
        return -1;
    if (!idn_flow_consented(f))
        return cm_err_invalid(err, NULL, "Consent is needed before any data is given.");
    data = json_object_get(f->draft, "data");
    if (data == NULL) {
        data = json_object();
        if (data == NULL || json_object_set_new(f->draft, "data", data) < 0)
            return cm_err_internal(err, "out of memory");
    }
    rc = cm_param_str(params, "document_type", 0, 32, &v, err);
    if (rc < 0)
        return -1;
    if (rc == 1) {
        unsigned bit = type_bit(v);

        if (f->type != IDN_SESSION_DOCUMENT)
            return cm_err_unknown_param(err, "document_type");
        if (bit == 0)
            return cm_err_invalid(err, "document_type",
                                  "Invalid document_type: must be one of driving_license, "
                                  "id_card or passport");
        if (!(bit & allowed_types(f)))
            return cm_err_invalid(err, "document_type", "This verification does not accept a %s.",
                                  v);
        if (json_object_set_new(f->draft, "document_type", json_string(v)) < 0)
            return cm_err_internal(err, "out of memory");
    }
    for (const char *const *name = idn_flow_data_fields; *name; name++) {
        size_t max = strcmp(*name, "mrz") == 0 ? 200 : 100;

        rc = cm_param_str(params, *name, CM_P_ALLOW_EMPTY, max, &v, err);
        if (rc < 0)
            return -1;
        if (rc == 0)
            continue;
        if (!field_applies(f, *name))
            return cm_err_unknown_param(err, *name);
        if (set_field(data, *name, v, err) < 0)
            return -1;
    }
    return save_draft(db, cfg, f, "idn_page_save", NULL, 0, err);
}

int idn_flow_file(struct cm_db *db, const struct cm_config *cfg, struct idn_flow *f,
                  const char *purpose, const void *data, size_t len, int live, char *file_id,
                  const char **type, struct cm_err *err)
{
    struct idn_image img = {data, len};
    struct idn_image_info info;
    char reason[160], size[24];
    unsigned char *blob = NULL;
    size_t bloblen = 0;
    const char *key_id = NULL;
    char *hex = NULL;
    PGresult *res = NULL;
    json_t *lives;
    int p, ret = -1;

    if (writable(f, err) < 0)
        return -1;
    if (!idn_flow_consented(f))
        return cm_err_invalid(err, NULL, "Consent is needed before any photo is uploaded.");
    for (p = 0; p < IDN_FILE_NPURPOSES; p++)
        if (purpose != NULL && strcmp(purpose, idn_purpose_names[p]) == 0)
            break;
    if (p == IDN_FILE_NPURPOSES || f->type != IDN_SESSION_DOCUMENT)
        return cm_err_invalid(err, "purpose",
                              "Invalid purpose: must be one of document_front, document_back or "
                              "selfie, for a document verification.");
    if (!idn_flow_needs_file(f, (enum idn_purpose)p))
        return cm_err_invalid(err, "purpose", "This verification does not need a %s photo.",
                              purpose);
    if (data == NULL || len == 0)
        return cm_err_invalid(err, "file", "No file was uploaded.");
    if (len > IDN_FILE_MAX)
        return cm_err_invalid(err, "file", "The file is larger than %d MB.",
                              IDN_FILE_MAX / (1024 * 1024));
    if (idn_image_probe(&img, &info, reason, sizeof(reason)) < 0)
        return cm_err_invalid(err, "file", "%s", reason);
    *type = info.format == IDN_IMAGE_JPEG ? "image/jpeg" : "image/png";
    if (cm_id_new(file_id, CM_ID_MAX, "file_", err) < 0 ||
        idn_seal(cfg, "files", file_id, "data_sealed", data, len, &blob, &bloblen, &key_id, err) <
            0)
        goto out;
    hex = idn_hex(blob, bloblen);
    if (hex == NULL) {
        cm_err_internal(err, "out of memory");
        goto out;
    }
    snprintf(size, sizeof(size), "%zu", len);
    res = cm_db_exec(db, "idn_page_file_put", 7,
                     (const char *[]){file_id, f->id, purpose, *type, size, key_id, hex}, err);
    if (res == NULL)
        goto out;
    lives = json_object_get(f->draft, "live");
    if (lives == NULL) {
        lives = json_object();
        if (lives == NULL || json_object_set_new(f->draft, "live", lives) < 0) {
            cm_err_internal(err, "out of memory");
            goto out;
        }
    }
    if (json_object_set_new(lives, purpose, json_boolean(live)) < 0) {
        cm_err_internal(err, "out of memory");
        goto out;
    }
    if (save_draft(db, cfg, f, "idn_page_save", NULL, 0, err) < 0)
        goto out;
    f->files |= 1u << p;
    ret = 0;
out:
    free(blob);
    free(hex);
    PQclear(res);
    return ret;
}

int idn_flow_submit(struct cm_db *db, const struct cm_config *cfg, struct idn_flow *f,
                    const char *outcome, const char *request_id, struct cm_err *err)
{
    json_t *missing;
    char list[256] = "";
    size_t i;
    json_t *m;
    int delay = 0;

    if (writable(f, err) < 0)
        return -1;
    missing = idn_flow_missing(f);
    if (missing == NULL)
        return cm_err_internal(err, "out of memory");
    json_array_foreach(missing, i, m)
    {
        size_t at = strlen(list);
        snprintf(list + at, sizeof(list) - at, "%s%s", i ? ", " : "", json_string_value(m));
    }
    json_decref(missing);
    if (list[0])
        return cm_err_invalid(err, NULL, "The verification is not complete: missing %s.", list);
    if (outcome != NULL && f->livemode)
        return cm_err_invalid(err, "outcome", "An outcome can only be chosen in test mode.");
    if (outcome != NULL && !idn_outcome_valid(f->type, &f->options, outcome))
        return cm_err_invalid(
            err, "outcome", "Invalid outcome: %.64s does not apply to this verification.", outcome);
    if (outcome != NULL && strcmp(outcome, IDN_OUTCOME_DELAY) == 0) {
        delay = IDN_OUTCOME_DELAY_SECONDS;
        outcome = NULL; /* the engine decides once the delay is over */
    }
    if (save_draft(db, cfg, f, "idn_page_submit", outcome, delay, err) < 0 ||
        idn_session_emit(db, cfg, f->id, "identity.verification_session.processing", request_id,
                         NULL, err) < 0)
        return -1;
    f->processing = 1;
    return 0;
}
