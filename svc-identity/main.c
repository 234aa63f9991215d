/* svc-identity: Identity verification sessions and reports
 * (/v1/identity/...), the hosted verification page (/identity/...), the
 * checks worker and redaction. Each job is a module (module.h); main() joins
 * their routes and statement sets into the service, and libcommon's server
 * does the rest (cm/http.h). `svc-identity --rotate-keys` re-seals the
 * personal data under the key file's active key instead (rotate.h). */
#include <stdio.h>
#include <string.h>

#include "cm/http.h"
#include "module.h"
#include "rotate.h"
#include "cm/banned.h"

#define MAX_ROUTES 64

static const struct idn_module *const modules[] = {
    &idn_sessions_module, &idn_reports_module, &idn_redact_module,
    &idn_page_module,     &idn_process_module,
};
#define NMODULES (sizeof(modules) / sizeof(modules[0]))

/* The queue worker: one round of every module's share. */
static int work(struct cm_db *db, const struct cm_config *cfg, void *ctx, struct cm_err *err)
{
    int total = 0;

    (void)ctx;
    for (size_t i = 0; i < NMODULES; i++) {
        int n;

        if (modules[i]->work == NULL)
            continue;
        n = modules[i]->work(db, cfg, err);
        if (n < 0)
            return -1;
        total += n;
    }
    return total;
}

int main(int argc, char **argv)
{
    struct cm_route routes[MAX_ROUTES];
    const struct cm_stmt *sets[NMODULES + 1];
    struct cm_service service = {
        .name = "svc-identity",
        .routes = routes,
        .stmt_sets = sets,
        .max_body = 8 * 1048576, /* one document photo per request (IDN_FILE_MAX) */
        .work = work,
        .work_idle_ms = 500,
    };
    size_t nsets = 0;

    if (argc == 2 && strcmp(argv[1], "--rotate-keys") == 0)
        return idn_rotate_keys();
    for (size_t i = 0; i < NMODULES; i++) {
        const struct idn_module *m = modules[i];

        if (service.nroutes + m->nroutes > MAX_ROUTES) {
            fputs("svc-identity: too many routes\n", stderr);
            return 1;
        }
        if (m->nroutes > 0)
            memcpy(routes + service.nroutes, m->routes, m->nroutes * sizeof(*routes));
        service.nroutes += m->nroutes;
        if (m->stmts != NULL)
            sets[nsets++] = m->stmts;
    }
    sets[nsets] = NULL;
    return cm_server_main(&service, argc, argv);
}
