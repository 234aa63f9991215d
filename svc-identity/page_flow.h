/* The hosted flow of one session, driven by its client secret alone: finding
 * the session, what the person has done so far (the draft: consent, the
 * document type, the typed data; the uploaded files) and what is still
 * missing, and each step's change. The hosted page (page.c) and the JSON
 * endpoints share it, so both walk exactly the same rules.
 *
 * The draft lives sealed in identity.sessions.submission_sealed while the
 * session is requires_input; submitting freezes it there for the checks
 * worker (process.c), which reads it as:
 *   {"consent": true, "document_type": "passport",
 *    "data": {"first_name", "last_name", "dob" (YYYY-MM-DD), "document_number",
 *             "expiration_date" (YYYY-MM-DD), "issuing_country" (alpha-2),
 *             "mrz" (lines joined by "\n"), "id_number", "id_number_country"},
 *    "live": {"document_front": true, ...}}   (uploads claimed as camera captures)
 * Files are rows of identity.files (one per purpose, replaced on upload). */
#ifndef IDN_PAGE_FLOW_H
#define IDN_PAGE_FLOW_H

#include <jansson.h>

#include "cm/config.h"
#include "cm/db.h"
#include "cm/err.h"
#include "cm/ids.h"
#include "page_outcome.h"

#define IDN_FILE_MAX (5 * 1024 * 1024) /* bytes per uploaded image */

/* The file purposes, as stored in identity.files.purpose. */
enum idn_purpose { IDN_FILE_FRONT, IDN_FILE_BACK, IDN_FILE_SELFIE, IDN_FILE_NPURPOSES };
extern const char *const idn_purpose_names[IDN_FILE_NPURPOSES];

/* The fields of the data step ("first_name" ...), NULL-ended. */
extern const char *const idn_flow_data_fields[];

/* Statements of the flow, {NULL}-ended (the page module's set). */
extern const struct cm_stmt idn_flow_stmts[];

struct idn_flow {
    char id[CM_ID_MAX];
    char account_id[72];
    int livemode;
    enum idn_session_type type;
    int processing; /* status processing (else requires_input) */
    struct idn_options options;
    json_t *draft;            /* owned; never NULL after a successful load */
    unsigned files;           /* 1 << enum idn_purpose for each uploaded image */
    char last_error_code[64]; /* "" when none */
    char last_error_reason[256];
    char return_url[2048]; /* "" when none */
};

/* Finds the session whose client secret is secret (requires_input or
 * processing, not redacted) and fills *f, locking its row FOR UPDATE when
 * lock is set (on db's transaction). 1 found, 0 when the secret is malformed
 * or works no more (canceled, verified, redacted, or never issued), -1 with
 * a 500 in *err. Release *f with idn_flow_release() after 1. */
int idn_flow_load(struct cm_db *db, const struct cm_config *cfg, const char *secret, int lock,
                  struct idn_flow *f, struct cm_err *err);
void idn_flow_release(struct idn_flow *f);

/* Accessors of the draft (borrowed from f). */
int idn_flow_consented(const struct idn_flow *f);
const char *idn_flow_document_type(const struct idn_flow *f);           /* NULL until chosen */
const char *idn_flow_field(const struct idn_flow *f, const char *name); /* NULL when empty */
/* 1 when the session only allows one document type (then chosen for the
 * person at consent). */
int idn_flow_one_type(const struct idn_flow *f);
/* 1 when purpose is needed by this session with the chosen type. */
int idn_flow_needs_file(const struct idn_flow *f, enum idn_purpose purpose);

/* What is still missing before submit, in the order the page asks for it: a
 * new array (json_decref()) of "consent", "document_type", "document_front",
 * "document_back", "selfie", "document_data", "id_number_data"; empty when
 * the session can be submitted. NULL on allocation failure. */
json_t *idn_flow_missing(const struct idn_flow *f);

/* The steps. Each needs a loaded, locked flow in requires_input (400
 * otherwise: "This verification session is processing."), changes the row
 * on db's transaction and updates *f. 0, or -1 with *err (400 naming the
 * param for a bad value, 500).
 *
 * consent: accepted, or declined: then last_error consent_declined (the
 * session stays requires_input, the draft is dropped) and the
 * ...requires_input event is emitted with request_id. */
int idn_flow_consent(struct cm_db *db, const struct cm_config *cfg, struct idn_flow *f,
                     int accepted, const char *request_id, struct cm_err *err);
/* data: document_type and the fields of idn_flow_data_fields that apply to
 * the session's type and options, from params (strings; "" clears a field);
 * others are 400 parameter_unknown. Dates are YYYY-MM-DD, countries ISO
 * alpha-2. Needs consent first. */
int idn_flow_data(struct cm_db *db, const struct cm_config *cfg, struct idn_flow *f,
                  const json_t *params, struct cm_err *err);
/* file: an image for purpose (a JPEG or PNG by its bytes, whatever it was
 * declared as; at most IDN_FILE_MAX bytes; a readable header of plausible
 * size), sealed into identity.files; replaces an earlier one. live: the
 * client says it came from the camera. *file_id (CM_ID_MAX) and *type
 * ("image/png") are written. 400 errors name param "file" or "purpose". */
int idn_flow_file(struct cm_db *db, const struct cm_config *cfg, struct idn_flow *f,
                  const char *purpose, const void *data, size_t len, int live, char *file_id,
                  const char **type, struct cm_err *err);
/* submit: nothing may be missing; outcome (NULL: none) only in test mode and
 * only idn_outcome_valid() ones (400 param "outcome"). Moves the session to
 * processing (due now, or in IDN_OUTCOME_DELAY_SECONDS for the delay) and
 * emits ...processing with request_id. */
int idn_flow_submit(struct cm_db *db, const struct cm_config *cfg, struct idn_flow *f,
                    const char *outcome, const char *request_id, struct cm_err *err);

/* "YYYY-MM-DD" into *d. 0, or -1 when malformed or not a real date. */
int idn_flow_parse_date(const char *s, struct idn_date *d);

#endif
