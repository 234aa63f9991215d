/* Service configuration, read once in main() from the environment and
 * command-line flags, then shared read-only by every thread.
 *
 *   CM_LISTEN       unix socket path ("/run/x.sock" or "unix:/run/x.sock") or HOST:PORT
 *   CM_THREADS      worker threads (default 8)
 *   CM_MAX_BODY     request body cap in bytes (default: the service's own)
 *   CM_KEY_FILE     keyring for encryption at rest (cm/crypto.h); required
 *   CM_BASE_URL     public base URL, e.g. https://api.example.com (default http://127.0.0.1:8080)
 *   CM_SOCKET_MODE  octal mode of a unix socket (default 0660)
 *   CM_LOG_LEVEL    debug | info | warn | error (default info)
 * The database is configured only through libpq's environment (PGHOST...). */
#ifndef CM_CONFIG_H
#define CM_CONFIG_H

#include <stddef.h>

#include "cm/err.h"
#include "cm/log.h"

struct cm_keyring;

struct cm_config {
    const char *service; /* "svc-secrets" */
    char listen[256];
    int threads;
    size_t max_body;
    char key_file[256];
    char base_url[256];
    unsigned socket_mode;
    enum cm_log_level log_level;
    struct cm_keyring *keys; /* loaded by cm_config_load(); NULL when no CM_KEY_FILE */
};

/* Fills *cfg from the environment, then flags (--listen X, --threads N,
 * --max-body N, --key-file F, --base-url U). default_max_body is the
 * service's own cap. 0, or -1 with *err naming the bad setting. Loads the
 * keyring when a key file is set (cfg->keys is new: cm_config_release()). */
int cm_config_load(struct cm_config *cfg, const char *service, size_t default_max_body, int argc,
                   char **argv, struct cm_err *err);
void cm_config_release(struct cm_config *cfg);

#endif
