/* A verification report as the API shows it (reports.c): loading and
 * rendering one, for the reports API and for a session's expanded
 * last_verification_report. */
#ifndef IDN_REPORT_H
#define IDN_REPORT_H

#include <jansson.h>

#include "cm/config.h"
#include "cm/db.h"
#include "cm/err.h"

/* The personal fields a report hides unless expanded (expand[] values). */
enum {
    IDN_REPORT_EXPAND_DOC_DOB = 1 << 0,            /* "document.dob" */
    IDN_REPORT_EXPAND_DOC_EXPIRATION = 1 << 1,     /* "document.expiration_date" */
    IDN_REPORT_EXPAND_DOC_NUMBER = 1 << 2,         /* "document.number" */
    IDN_REPORT_EXPAND_DOC_SEX = 1 << 3,            /* "document.sex" */
    IDN_REPORT_EXPAND_DOC_PLACE_OF_BIRTH = 1 << 4, /* "document.unparsed_place_of_birth" */
    IDN_REPORT_EXPAND_DOC_UNPARSED_SEX = 1 << 5,   /* "document.unparsed_sex" */
    IDN_REPORT_EXPAND_IDN_DOB = 1 << 6,            /* "id_number.dob" */
    IDN_REPORT_EXPAND_IDN_NUMBER = 1 << 7,         /* "id_number.id_number" */
};

/* The expand[] paths above, in flag order (NULL-ended), and the flag of one
 * path relative to the report ("document.dob"), or 0. */
extern const char *const idn_report_expand_paths[];
unsigned idn_report_expand_flag(const char *path);

/* Reads report_id (of account_id in livemode) and renders it as a new
 * identity.verification_report (json_decref()) with the expansions. NULL
 * with a 404 resource_missing ("No such verificationreport: 'vr_...'", param
 * as given, may be NULL) or a 500 in *err. */
json_t *idn_report_get(struct cm_db *db, const struct cm_config *cfg, const char *report_id,
                       const char *account_id, int livemode, unsigned expand, const char *param,
                       struct cm_err *err);

/* Renderers both objects share: an address in Stripe's field order (city,
 * country, line1, line2, postal_code, state) and a date {day, month, year};
 * anything else, null included, gives null. New value, or NULL on allocation
 * failure. */
json_t *idn_render_address(const json_t *src);
json_t *idn_render_date(const json_t *src);

#endif
