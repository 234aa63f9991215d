/* svc-install is built from modules, one per job (apps and versions,
 * installations, the install pages, events, webhook endpoints, delivery).
 * Each module file defines one struct cm_module (cm/http.h) naming its
 * routes and its prepared statements; main.c lists them for the server.
 * Statement names carry the module's prefix (inst_<module>_...). */
#ifndef INST_MODULE_H
#define INST_MODULE_H

#include "cm/http.h"

extern const struct cm_module inst_apps_module;          /* apps.c: /v1/apps/apps... */
extern const struct cm_module inst_installations_module; /* installations.c */
extern const struct cm_module inst_pages_module;         /* pages.c: /apps/install/... */
extern const struct cm_module inst_events_module;        /* events.c: /v1/events */
extern const struct cm_module inst_webhooks_module;      /* webhooks.c: /v1/webhook_endpoints */
extern const struct cm_module inst_delivery_module;      /* delivery.c: the delivery worker */

#endif
