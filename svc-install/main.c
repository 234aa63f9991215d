/* svc-install: apps and install links (/v1/apps, /apps/install), events and webhook endpoints.
 * The route table lives here; libcommon's server does the rest (cm/http.h). */
#include "cm/http.h"
#include "cm/banned.h"

static const struct cm_service service = {
    .name = "svc-install",
    .routes = NULL,
    .nroutes = 0,
    .stmts = NULL,
    .max_body = 1048576,
};

int main(int argc, char **argv)
{
    return cm_server_main(&service, argc, argv);
}
