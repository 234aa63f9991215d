/* Reads the service configuration. Everything is validated here, at start,
 * so that a misconfigured service refuses to run with a clear message instead
 * of failing on its first request. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cm/config.h"
#include "cm/crypto.h"
#include "cm/banned.h"

static int set_str(char *dst, size_t cap, const char *name, const char *v, struct cm_err *err)
{
    size_t n = strlen(v);

    if (n >= cap)
        return cm_err_invalid(err, name, "%s is too long (at most %zu bytes)", name, cap - 1);
    memcpy(dst, v, n + 1);
    return 0;
}

static int set_num(long long *out, const char *name, const char *v, long long min, long long max,
                   int base, struct cm_err *err)
{
    char *end = NULL;
    long long n;

    errno = 0;
    n = strtoll(v, &end, base);
    if (errno != 0 || end == v || *end != '\0' || n < min || n > max)
        return cm_err_invalid(err, name, "%s must be an integer in [%lld, %lld]", name, min, max);
    *out = n;
    return 0;
}

static int apply(struct cm_config *cfg, const char *name, const char *v, struct cm_err *err)
{
    long long n;

    if (strcmp(name, "CM_LISTEN") == 0)
        return set_str(cfg->listen, sizeof(cfg->listen), name, v, err);
    if (strcmp(name, "CM_KEY_FILE") == 0)
        return set_str(cfg->key_file, sizeof(cfg->key_file), name, v, err);
    if (strcmp(name, "CM_BASE_URL") == 0) {
        if (set_str(cfg->base_url, sizeof(cfg->base_url), name, v, err) < 0)
            return -1;
        for (size_t len = strlen(cfg->base_url); len > 0 && cfg->base_url[len - 1] == '/'; len--)
            cfg->base_url[len - 1] = '\0';
        return 0;
    }
    if (strcmp(name, "CM_THREADS") == 0) {
        if (set_num(&n, name, v, 1, 256, 10, err) < 0)
            return -1;
        cfg->threads = (int)n;
        return 0;
    }
    if (strcmp(name, "CM_MAX_BODY") == 0) {
        if (set_num(&n, name, v, 1024, 1LL << 30, 10, err) < 0)
            return -1;
        cfg->max_body = (size_t)n;
        return 0;
    }
    if (strcmp(name, "CM_SOCKET_MODE") == 0) {
        if (set_num(&n, name, v, 0, 0777, 8, err) < 0)
            return -1;
        cfg->socket_mode = (unsigned)n;
        return 0;
    }
    if (strcmp(name, "CM_LOG_LEVEL") == 0) {
        static const char *const levels[] = {"debug", "info", "warn", "error"};
        for (int i = 0; i < 4; i++)
            if (strcmp(v, levels[i]) == 0) {
                cfg->log_level = (enum cm_log_level)i;
                return 0;
            }
        return cm_err_invalid(err, name, "CM_LOG_LEVEL must be debug, info, warn or error");
    }
    return cm_err_invalid(err, name, "unknown setting %s", name);
}

int cm_config_load(struct cm_config *cfg, const char *service, size_t default_max_body, int argc,
                   char **argv, struct cm_err *err)
{
    static const char *const envs[] = {"CM_LISTEN",   "CM_THREADS",  "CM_MAX_BODY",
                                       "CM_KEY_FILE", "CM_BASE_URL", "CM_SOCKET_MODE",
                                       "CM_LOG_LEVEL"};
    static const struct {
        const char *flag, *name;
    } flags[] = {{"--listen", "CM_LISTEN"},
                 {"--threads", "CM_THREADS"},
                 {"--max-body", "CM_MAX_BODY"},
                 {"--key-file", "CM_KEY_FILE"},
                 {"--base-url", "CM_BASE_URL"}};

    memset(cfg, 0, sizeof(*cfg));
    cfg->service = service;
    cfg->threads = 8;
    cfg->max_body = default_max_body;
    cfg->socket_mode = 0660;
    cfg->log_level = CM_LOG_INFO;
    memcpy(cfg->base_url, "http://127.0.0.1:8080", sizeof("http://127.0.0.1:8080"));

    for (size_t i = 0; i < sizeof(envs) / sizeof(envs[0]); i++) {
        const char *v = getenv(envs[i]);
        if (v != NULL && *v != '\0' && apply(cfg, envs[i], v, err) < 0)
            return -1;
    }
    for (int i = 1; i < argc; i++) {
        size_t f;
        for (f = 0; f < sizeof(flags) / sizeof(flags[0]); f++)
            if (strcmp(argv[i], flags[f].flag) == 0)
                break;
        if (f == sizeof(flags) / sizeof(flags[0]) || i + 1 >= argc)
            return cm_err_invalid(err, argv[i],
                                  "usage: %s [--listen ADDR] [--threads N] "
                                  "[--max-body BYTES] [--key-file PATH] [--base-url URL]",
                                  service);
        if (apply(cfg, flags[f].name, argv[++i], err) < 0)
            return -1;
    }
    if (cfg->listen[0] == '\0')
        return cm_err_invalid(err, "CM_LISTEN",
                              "CM_LISTEN (or --listen) is required: a unix "
                              "socket path or HOST:PORT");
    if (cfg->key_file[0] != '\0') {
        cfg->keys = cm_keyring_load(cfg->key_file, err);
        if (cfg->keys == NULL)
            return -1;
    }
    return 0;
}

void cm_config_release(struct cm_config *cfg)
{
    cm_keyring_free(cfg->keys);
    cfg->keys = NULL;
}
