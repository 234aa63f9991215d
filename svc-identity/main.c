/* svc-identity: Identity verification sessions and reports
 * (/v1/identity/...), the hosted verification page (/identity/...), the
 * checks worker and redaction. Each job is a module (module.h); libcommon's
 * server joins them and does the rest (cm/http.h). `svc-identity
 * --rotate-keys` re-seals the personal data under the key file's active key
 * instead (rotate.h). */
#include <string.h>

#include "cm/http.h"
#include "module.h"
#include "rotate.h"
#include "cm/banned.h"

static const struct cm_module *const modules[] = {
    &idn_sessions_module, &idn_reports_module, &idn_redact_module,
    &idn_page_module,     &idn_process_module, NULL,
};

static const struct cm_service service = {
    .name = "svc-identity",
    .modules = modules,
    .max_body = 8 * 1048576, /* one document photo per request (IDN_FILE_MAX) */
    .work_idle_ms = 500,
};

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "--rotate-keys") == 0)
        return idn_rotate_keys();
    return cm_server_main(&service, argc, argv);
}
