/* svc-identity is built from modules, one per job: the sessions API, the
 * reports API, the hosted page and its JSON endpoints, the checks worker and
 * redaction. Each module file defines one struct cm_module (cm/http.h)
 * naming its routes, its prepared statements and, optionally, its share of
 * the queue worker; main.c lists them for the server. Statement names carry
 * the module's prefix (idn_<module>_...). */
#ifndef IDN_MODULE_H
#define IDN_MODULE_H

#include "cm/http.h"

extern const struct cm_module
    idn_sessions_module; /* sessions.c: /v1/identity/verification_sessions */
extern const struct cm_module idn_reports_module; /* reports.c: /v1/identity/verification_reports */
extern const struct cm_module idn_redact_module;  /* redact.c: finishing redactions */
extern const struct cm_module idn_page_module;    /* page.c: /identity/... hosted page + JSON */
extern const struct cm_module idn_process_module; /* process.c: running the checks */

#endif
