/* What a session asks of the person and what a tester may force: the
 * session's options as the checks engine reads them, and the test-mode
 * outcomes of the submit step (hosted page and POST /identity/api/submit),
 * shared by the page and the checks worker (process.c).
 *
 * Outcomes, by name: "verified" (every check that runs passes),
 * "processing_delay" (the session stays processing for
 * IDN_OUTCOME_DELAY_SECONDS, then the engine decides as without an
 * outcome), or a failure code that applies to the session: the document
 * codes and under_supported_age for document sessions, with the selfie codes
 * when a matching selfie is required and the id_number codes when an ID
 * number is; the id_number codes and under_supported_age for id_number
 * sessions. */
#ifndef IDN_PAGE_OUTCOME_H
#define IDN_PAGE_OUTCOME_H

#include <jansson.h>
#include <stddef.h>

#include "checks.h"

#define IDN_OUTCOME_VERIFIED      "verified"
#define IDN_OUTCOME_DELAY         "processing_delay"
#define IDN_OUTCOME_DELAY_SECONDS 10
#define IDN_OUTCOME_MAX_CODES     12

/* The session's options object as stored (borrowed; NULL or {} for none)
 * into *out, with min_age at IDN_MIN_AGE. Unknown allowed types are ignored. */
#define IDN_MIN_AGE 18
void idn_outcome_options(const json_t *options, struct idn_options *out);

/* "document" or "id_number" into *type. 0, or -1 for anything else. */
int idn_outcome_session_type(const char *name, enum idn_session_type *type);

/* The failure codes a tester may force on such a session, in display order,
 * into out (IDN_OUTCOME_MAX_CODES entries). Returns how many. */
size_t idn_outcome_codes(enum idn_session_type type, const struct idn_options *opt,
                         enum idn_code out[IDN_OUTCOME_MAX_CODES]);

/* 1 when name is "verified", "processing_delay" or one of
 * idn_outcome_codes(), else 0. */
int idn_outcome_valid(enum idn_session_type type, const struct idn_options *opt, const char *name);

/* The code of a wire name ("document_expired"), or IDN_CODE_NONE. */
enum idn_code idn_outcome_code(const char *name);

/* The reason a forced failure gives a person (English). Static. */
const char *idn_outcome_reason(enum idn_code code);

#endif
