/* The checks engine: from what a person submitted on the hosted page to the
 * result of each check (document, id_number, selfie), the session's
 * last_error and the verified outputs. Pure: no database, no clock (today is
 * an input), no I/O; the judgements that need a model go through the
 * checker interface (checker.h).
 *
 * What is checked for real:
 *  - document: a type was chosen and is allowed; the front (and, but for a
 *    passport, the back) was captured, live when the session requires it;
 *    name, date of birth, number, issuing country and expiry were read; the
 *    MRZ (required on a passport, optional on an ID card, never on a driving
 *    license) parses with every check digit and agrees with all of those;
 *    the checker finds it authentic; it has not expired (it is valid through
 *    its expiry date); the holder is old enough (idn_date_age()).
 *  - id_number: the number has the country's format (idnumber.h); the name
 *    and date of birth it is checked with are there (from the document in a
 *    document session, where the form's own name and date of birth, if any,
 *    must agree with it); what the number itself encodes agrees with them
 *    (a Singapore NRIC's S/T with the century of birth, an Indian PAN's 5th
 *    letter with the surname). Whether a registry knows the number is not
 *    checked: there is no registry here.
 *  - selfie: there is a document photo and a selfie, and the checker's face
 *    match passes.
 * Names compare letters only, case-folded, with Latin-1 accents transliterated
 * both plainly (u for ü) and as ICAO does (ue); a full MRZ name field may be a
 * truncation of the typed name, and a typed first name may be the first of
 * the MRZ's given names. */
#ifndef IDN_CHECKS_H
#define IDN_CHECKS_H

#include <stdbool.h>

#include "cm/err.h"
#include "checker.h"
#include "idnumber.h"
#include "mrz.h"

enum idn_session_type {
    IDN_SESSION_DOCUMENT,
    IDN_SESSION_ID_NUMBER,
};

/* Bits, so that options.allowed_types can hold a set. */
enum idn_document_type {
    IDN_DOC_NONE = 0,
    IDN_DOC_DRIVING_LICENSE = 1,
    IDN_DOC_ID_CARD = 2,
    IDN_DOC_PASSPORT = 4,
};
#define IDN_DOC_ALL (IDN_DOC_DRIVING_LICENSE | IDN_DOC_ID_CARD | IDN_DOC_PASSPORT)

/* "driving_license", "id_card", "passport"; NULL for IDN_DOC_NONE or a set. */
const char *idn_document_type_name(enum idn_document_type type);

/* The last_error / report error codes, all 19 of API.md section 9. The
 * engine produces the document_*, id_number_*, selfie_* codes and
 * under_supported_age; the others belong to the hosted flow. */
enum idn_code {
    IDN_CODE_NONE,
    IDN_CODE_ABANDONED,
    IDN_CODE_CONSENT_DECLINED,
    IDN_CODE_COUNTRY_NOT_SUPPORTED,
    IDN_CODE_DEVICE_NOT_SUPPORTED,
    IDN_CODE_DOCUMENT_EXPIRED,
    IDN_CODE_DOCUMENT_TYPE_NOT_SUPPORTED,
    IDN_CODE_DOCUMENT_UNVERIFIED_OTHER,
    IDN_CODE_EMAIL_UNVERIFIED_OTHER,
    IDN_CODE_EMAIL_VERIFICATION_DECLINED,
    IDN_CODE_ID_NUMBER_INSUFFICIENT_DOCUMENT_DATA,
    IDN_CODE_ID_NUMBER_MISMATCH,
    IDN_CODE_ID_NUMBER_UNVERIFIED_OTHER,
    IDN_CODE_PHONE_UNVERIFIED_OTHER,
    IDN_CODE_PHONE_VERIFICATION_DECLINED,
    IDN_CODE_SELFIE_DOCUMENT_MISSING_PHOTO,
    IDN_CODE_SELFIE_FACE_MISMATCH,
    IDN_CODE_SELFIE_MANIPULATED,
    IDN_CODE_SELFIE_UNVERIFIED_OTHER,
    IDN_CODE_UNDER_SUPPORTED_AGE,
};

/* The wire name ("document_expired"), or NULL for IDN_CODE_NONE. Static. */
const char *idn_code_name(enum idn_code code);

/* Test mode only (struct idn_submission.test_mode): document and ID numbers
 * that force an outcome through the API alone, in the spirit of Stripe's
 * test-mode values. They are compared after normalisation (separators
 * dropped, upper case), so "000-00-0000" is "000000000". A forced check
 * skips every other rule of that check; outputs come from what was typed,
 * with IDN_TEST_FIRST_NAME, IDN_TEST_LAST_NAME and 1901-01-01 for what was
 * not. Outside test mode these values get no special treatment.
 *
 * Document number (typed on the document form): */
#define IDN_TEST_DOCUMENT_VERIFIED           "000000000" /* document verified */
#define IDN_TEST_DOCUMENT_EXPIRED            "111111111" /* document_expired */
#define IDN_TEST_DOCUMENT_TYPE_NOT_SUPPORTED "222222222" /* document_type_not_supported */
#define IDN_TEST_DOCUMENT_UNVERIFIED_OTHER   "333333333" /* document_unverified_other */
#define IDN_TEST_DOCUMENT_UNDER_AGE          "444444444" /* under_supported_age */
/* ... these verify the document and run the selfie check (even when the
 * session does not require one), which fails with: */
#define IDN_TEST_SELFIE_DOCUMENT_MISSING_PHOTO "555555555" /* selfie_document_missing_photo */
#define IDN_TEST_SELFIE_FACE_MISMATCH          "666666666" /* selfie_face_mismatch */
#define IDN_TEST_SELFIE_MANIPULATED            "777777777" /* selfie_manipulated */
#define IDN_TEST_SELFIE_UNVERIFIED_OTHER       "888888888" /* selfie_unverified_other */
/* ID number (the id_number form; any country), failing with the code named: */
#define IDN_TEST_ID_NUMBER_VERIFIED          "000000000"
#define IDN_TEST_ID_NUMBER_MISMATCH          "111111111"
#define IDN_TEST_ID_NUMBER_INSUFFICIENT_DATA "222222222" /* ..._insufficient_document_data */
#define IDN_TEST_ID_NUMBER_UNVERIFIED_OTHER  "333333333"
#define IDN_TEST_ID_NUMBER_UNDER_AGE         "444444444" /* under_supported_age */
/* Outputs a forced check fills in when the form left them empty. */
#define IDN_TEST_FIRST_NAME "Jenny"
#define IDN_TEST_LAST_NAME  "Rosen"

/* An address as typed. All strings borrowed; line1 NULL or "": no address. */
struct idn_address {
    const char *line1, *line2, *city, *state, *postal_code, *country;
};

/* The document form. Strings borrowed (UTF-8), NULL or "" when not given;
 * dates {0} when not given. */
struct idn_document_data {
    const char *first_name;
    const char *last_name;
    struct idn_date dob;
    const char *number;
    struct idn_date expiry;
    const char *issuing_country; /* ISO 3166-1 alpha-2 */
    struct idn_address address;  /* as printed on a driving license, if typed */
};

/* The ID number form. Same conventions. */
struct idn_id_number_data {
    const char *number;
    const char *country; /* ISO 3166-1 alpha-2 */
    const char *first_name;
    const char *last_name;
    struct idn_date dob;
};

struct idn_options {
    unsigned allowed_types; /* IDN_DOC_* bits; 0 means all three */
    bool require_id_number;
    bool require_live_capture;
    bool require_matching_selfie;
    int min_age; /* years; 0: no minimum */
};

/* Everything a run looks at. Borrowed for the duration of idn_checks_run(). */
struct idn_submission {
    enum idn_session_type type;
    struct idn_options options;
    bool test_mode;
    struct idn_date today;

    /* document sessions */
    enum idn_document_type document_type; /* the one the person chose */
    struct idn_document_data document;
    const char *mrz; /* as captured, NULL when none was */
    struct idn_image front, back, selfie;
    bool live_capture; /* the document images came from the camera, not from files */

    /* id_number sessions, and document sessions with require_id_number */
    struct idn_id_number_data id_number;
};

enum idn_check_status {
    IDN_CHECK_NOT_RUN, /* absent from the report */
    IDN_CHECK_VERIFIED,
    IDN_CHECK_UNVERIFIED,
};

struct idn_check {
    enum idn_check_status status;
    enum idn_code code; /* IDN_CODE_NONE unless unverified */
    char reason[256];   /* "" unless unverified; English, fit to show a person */
};

/* What the run read, copied (the submission may be freed). Filled as far as
 * the data goes even when a check fails, for the report; they are the
 * session's verified_outputs only when result.verified. "" / {0} when
 * unknown. */
struct idn_outputs {
    char first_name[128];
    char last_name[128];
    struct idn_date dob;
    bool has_address;
    struct {
        char line1[128], line2[128], city[128], state[128], postal_code[32], country[3];
    } address;
    /* the document (document sessions) */
    enum idn_document_type document_type;
    char document_number[64];
    struct idn_date expiry;
    char issuing_country[3];
    const char *sex;      /* "male", "female", "unknown" (from the MRZ), or NULL */
    char unparsed_sex[2]; /* the MRZ's sex character ('<' unspecified), "" without MRZ */
    /* the ID number (when the id_number check ran and the number parsed) */
    char id_number[IDN_IDNUMBER_MAX + 1];         /* full, normalised: sensitive */
    char id_number_display[IDN_IDNUMBER_MAX + 1]; /* what a report shows (SSN: last 4) */
    const char *id_number_type; /* idn_idnumber_wire_type(): NULL for types without one */
};

struct idn_result {
    struct idn_check document;  /* run in document sessions */
    struct idn_check id_number; /* run in id_number sessions, or with require_id_number */
    struct idn_check selfie;    /* run with require_matching_selfie (or a selfie test value) */
    bool verified;              /* every check that ran is verified */
    enum idn_code last_error;   /* the first failing check's code, in the order above */
    char last_error_reason[256];
    struct idn_outputs outputs;
};

/* Runs the checks of in's session type. checker NULL means
 * idn_checker_builtin(). Returns 0 and fills *out (whatever the verdict), or
 * -1 with a 500 in *err when the caller broke the contract (today is not a
 * date, an unknown session type). */
int idn_checks_run(const struct idn_submission *in, const struct idn_checker *checker,
                   struct idn_result *out, struct cm_err *err);

#endif
