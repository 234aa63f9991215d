/* Redaction's placeholders (redact.c): what a redacted session or report
 * shows in place of the personal data it held, following Stripe's docs:
 * every string reads "[redacted]", every date {day: 1, month: 1, year: 1},
 * an address keeps its country, a type (id_number_type) stays as it was,
 * and what was null stays null. */
#ifndef IDN_REDACT_H
#define IDN_REDACT_H

#include <jansson.h>

#define IDN_REDACTED "[redacted]"

/* The placeholder of personal (borrowed; an object of fields, or null): a
 * new value of the same shape (json_decref()), or NULL on allocation
 * failure. */
json_t *idn_redacted_view(const json_t *personal);

#endif
