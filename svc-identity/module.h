/* svc-identity is built from modules, one per job: the sessions API, the
 * reports API, the hosted page and its JSON endpoints, the checks worker and
 * redaction. Each module file defines one struct idn_module naming its routes,
 * its prepared statements and, optionally, its share of the queue worker;
 * main.c puts them together into the service. */
#ifndef IDN_MODULE_H
#define IDN_MODULE_H

#include <stddef.h>

#include "cm/config.h"
#include "cm/db.h"
#include "cm/http.h"

struct idn_module {
    const struct cm_route *routes; /* borrowed, static; NULL when nroutes is 0 */
    size_t nroutes;
    const struct cm_stmt *stmts; /* {NULL}-ended, static; NULL for none */
    /* The module's share of the queue worker (struct cm_service.work), or
     * NULL: does up to a batch of due work, returns how many items it did
     * (0: nothing due) or -1 with *err. */
    int (*work)(struct cm_db *db, const struct cm_config *cfg, struct cm_err *err);
};

extern const struct idn_module
    idn_sessions_module; /* sessions.c: /v1/identity/verification_sessions */
extern const struct idn_module
    idn_reports_module;                           /* reports.c: /v1/identity/verification_reports */
extern const struct idn_module idn_redact_module; /* redact.c: finishing redactions */
extern const struct idn_module idn_page_module;   /* page.c: /identity/... hosted page + JSON */
extern const struct idn_module idn_process_module; /* process.c: running the checks */

#endif
