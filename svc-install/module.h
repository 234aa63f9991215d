/* svc-install is built from modules, one per job (apps and versions,
 * installations, the install pages, events, webhook endpoints, delivery).
 * Each module file defines one struct inst_module naming its routes and its
 * prepared statements; main.c puts them together into the service. */
#ifndef INST_MODULE_H
#define INST_MODULE_H

#include <stddef.h>

#include "cm/db.h"
#include "cm/http.h"

struct inst_module {
    const struct cm_route *routes; /* borrowed, static; NULL when nroutes is 0 */
    size_t nroutes;
    const struct cm_stmt *stmts; /* {NULL}-ended, static; NULL for none */
};

extern const struct inst_module inst_apps_module;          /* apps.c: /v1/apps/apps... */
extern const struct inst_module inst_installations_module; /* installations.c */
extern const struct inst_module inst_pages_module;         /* pages.c: /apps/install/... */
extern const struct inst_module inst_events_module;        /* events.c: /v1/events */
extern const struct inst_module inst_webhooks_module;      /* webhooks.c: /v1/webhook_endpoints */
extern const struct inst_module inst_delivery_module;      /* delivery.c: the delivery worker */

#endif
