/* svc-install: apps and their versions (/v1/apps/apps), installations, the
 * install-link pages (/apps/install), events (/v1/events), webhook endpoints
 * (/v1/webhook_endpoints) and webhook delivery. Each job is a module
 * (module.h); libcommon's server joins them and does the rest (cm/http.h).
 * `--seal-signing-secrets` and `--rotate-keys` are operator commands
 * (signing_secret.h, rotate.h). */
#include <stdio.h>
#include <string.h>

#include "cm/http.h"
#include "delivery.h"
#include "module.h"
#include "rotate.h"
#include "signing_secret.h"
#include "cm/banned.h"

static const struct cm_module *const modules[] = {
    &inst_apps_module,
    &inst_installations_module,
    &inst_pages_module,
    &inst_events_module,
    &inst_webhooks_module,
    &inst_delivery_module,
    NULL,
};

int main(int argc, char **argv)
{
    struct inst_delivery_cfg delivery;
    struct cm_service service = {
        .name = "svc-install",
        .modules = modules,
        .max_body = 1048576,
        .work = inst_deliver, /* its configuration comes from the environment */
        .work_ctx = &delivery,
        .work_idle_ms = 1000,
    };
    struct cm_err err;

    if (argc == 2 && strcmp(argv[1], "--seal-signing-secrets") == 0)
        return inst_signing_secret_seal_all();
    if (argc == 2 && strcmp(argv[1], "--rotate-keys") == 0)
        return inst_rotate_keys();
    if (inst_delivery_config(&delivery, &err) < 0) {
        fprintf(stderr, "svc-install: configuration: %s\n", cm_err_log_text(&err));
        return 1;
    }
    return cm_server_main(&service, argc, argv);
}
