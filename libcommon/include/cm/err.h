/* One error type for the whole project, mapped 1:1 onto Stripe's error object
 * ({"error":{"type","code","param","message"}}) and an HTTP status.
 *
 * Fixed buffers: the error path never allocates. Functions across the project
 * return 0 / -1 (or pointer / NULL) and on failure write only *err. */
#ifndef CM_ERR_H
#define CM_ERR_H

enum cm_err_type {
    CM_ERR_NONE = 0,
    CM_ERR_INVALID_REQUEST, /* "invalid_request_error" */
    CM_ERR_API,             /* "api_error" (500s) */
    CM_ERR_IDEMPOTENCY,     /* "idempotency_error" */
    CM_ERR_CARD,            /* "card_error" (unused here, part of the enum) */
};

struct cm_err {
    int status;            /* 400, 401, 403, 404, 409, 413, 500 ... */
    enum cm_err_type type; /* rendered by cm_err_type_name() */
    char code[64];         /* "parameter_missing" or "" */
    char param[128];       /* "scope[user]" or "" */
    char message[512];     /* safe to show the client */
    char detail[256];      /* for the log only (500s): never sent to the client */
};

/* Fills *err (err may be NULL: then nothing is written) and returns -1, so a
 * caller can write `return cm_err_set(err, 400, CM_ERR_INVALID_REQUEST,
 * "parameter_missing", "name", "Missing required param: %s.", "name");`.
 * code and param may be NULL for "". The message is formatted and truncated
 * to fit. */
int cm_err_set(struct cm_err *err, int status, enum cm_err_type type, const char *code,
               const char *param, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* A 500 api_error with the generic client message; the formatted detail goes
 * only to err->detail, which the server logs. Returns -1. */
int cm_err_internal(struct cm_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Common shapes, each returning -1 after filling *err. */
int cm_err_missing(struct cm_err *err, const char *param);       /* 400 parameter_missing */
int cm_err_unknown_param(struct cm_err *err, const char *param); /* 400 parameter_unknown */
int cm_err_invalid(struct cm_err *err, const char *param, const char *fmt, ...)
    __attribute__((format(printf, 3, 4))); /* 400, no code, param set */
/* 404 resource_missing: "No such <what>: '<id>'", param as given (may be NULL). */
int cm_err_not_found(struct cm_err *err, const char *what, const char *id, const char *param);

/* "invalid_request_error" etc.; "" for CM_ERR_NONE. Static string. */
const char *cm_err_type_name(enum cm_err_type type);

/* What a log line says of err: its internal detail when there is one (never
 * sent to clients), else the client's message. Borrowed from err. */
const char *cm_err_log_text(const struct cm_err *err);

/* Clears *err to "no error". */
void cm_err_clear(struct cm_err *err);

#endif
