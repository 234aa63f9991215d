/* svc-secrets: the Apps Secret Store, /v1/apps/secrets. The route table and
 * the background purge live here; libcommon's server does the rest
 * (cm/http.h). `svc-secrets --rotate-keys` re-encrypts stored payloads under
 * the key file's active key (see README, "Rotating the encryption key"). */
#include <string.h>

#include "cm/http.h"
#include "cm/log.h"
#include "handlers.h"
#include "store.h"
#include "cm/banned.h"

static const char *const set_params[] = {"name", "payload", "scope", "expires_at", NULL};
static const char *const name_params[] = {"name", "scope", NULL};
static const char *const list_params[] = {"scope", "limit", "starting_after", "ending_before",
                                          NULL};

static const struct cm_route routes[] = {
    {"POST", "/v1/apps/secrets", sec_set, CM_ROUTE_AUTH | CM_ROUTE_TX, set_params, "secret.set"},
    {"GET", "/v1/apps/secrets/find", sec_find, CM_ROUTE_AUTH, name_params, NULL},
    {"POST", "/v1/apps/secrets/delete", sec_delete, CM_ROUTE_AUTH | CM_ROUTE_TX, name_params,
     "secret.delete"},
    {"GET", "/v1/apps/secrets", sec_list, CM_ROUTE_AUTH, list_params, NULL},
};

/* Expired secrets are already invisible to every call; this only reclaims
 * their rows. */
static int purge(struct cm_db *db, const struct cm_config *cfg, struct cm_err *err)
{
    long n;

    (void)cfg;
    while ((n = sec_store_purge(db, err)) == 1000)
        ;
    if (n > 0)
        cm_log(CM_LOG_INFO, "purged %ld expired secrets", n);
    return n < 0 ? -1 : 0;
}

static const struct cm_service service = {
    .name = "svc-secrets",
    .routes = routes,
    .nroutes = sizeof(routes) / sizeof(routes[0]),
    .stmts = sec_store_stmts,
    .max_body = 1048576,
    .tick = purge,
    .tick_seconds = 30,
};

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "--rotate-keys") == 0)
        return sec_rotate_keys();
    return cm_server_main(&service, argc, argv);
}
