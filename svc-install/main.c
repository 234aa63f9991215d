/* svc-install: apps and their versions (/v1/apps/apps), installations, the
 * install-link pages (/apps/install), events (/v1/events), webhook endpoints
 * (/v1/webhook_endpoints) and webhook delivery. Each job is a module
 * (module.h); main() joins their routes and statement sets into the service,
 * and libcommon's server does the rest (cm/http.h). */
#include <stdio.h>
#include <string.h>

#include "cm/http.h"
#include "delivery.h"
#include "module.h"
#include "rotate.h"
#include "signing_secret.h"
#include "cm/banned.h"

#define MAX_ROUTES 64

static const struct inst_module *const modules[] = {
    &inst_apps_module,   &inst_installations_module, &inst_pages_module,
    &inst_events_module, &inst_webhooks_module,      &inst_delivery_module,
};
#define NMODULES (sizeof(modules) / sizeof(modules[0]))

int main(int argc, char **argv)
{
    struct cm_route routes[MAX_ROUTES];
    const struct cm_stmt *sets[NMODULES + 1];
    struct inst_delivery_cfg delivery;
    struct cm_service service = {
        .name = "svc-install",
        .routes = routes,
        .stmt_sets = sets,
        .max_body = 1048576,
        .work = inst_deliver,
        .work_ctx = &delivery,
        .work_idle_ms = 1000,
    };
    size_t nsets = 0;
    struct cm_err err;

    if (argc == 2 && strcmp(argv[1], "--seal-signing-secrets") == 0)
        return inst_signing_secret_seal_all();
    if (argc == 2 && strcmp(argv[1], "--rotate-keys") == 0)
        return inst_rotate_keys();
    for (size_t i = 0; i < NMODULES; i++) {
        const struct inst_module *m = modules[i];

        if (service.nroutes + m->nroutes > MAX_ROUTES) {
            fputs("svc-install: too many routes\n", stderr);
            return 1;
        }
        if (m->nroutes > 0)
            memcpy(routes + service.nroutes, m->routes, m->nroutes * sizeof(*routes));
        service.nroutes += m->nroutes;
        if (m->stmts != NULL)
            sets[nsets++] = m->stmts;
    }
    sets[nsets] = NULL;
    if (inst_delivery_config(&delivery, &err) < 0) {
        fprintf(stderr, "svc-install: configuration: %s\n",
                err.detail[0] ? err.detail : err.message);
        return 1;
    }
    return cm_server_main(&service, argc, argv);
}
