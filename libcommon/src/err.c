/* Error construction. The renderer that turns a cm_err into Stripe's JSON
 * error object lives in http.c; this file only fills the struct, and never
 * allocates, so it is safe on every failure path (out of memory included). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cm/err.h"
#include "cm/utf8.h"
#include "cm/banned.h"

static void copy(char *dst, size_t cap, const char *src)
{
    size_t n = src ? strlen(src) : 0;

    if (n >= cap)
        n = cap - 1;
    memcpy(dst, src ? src : "", n);
    dst[n] = '\0';
    cm_utf8_scrub(dst); /* a cut character, or bytes a caller passed in */
}

static int vset(struct cm_err *err, int status, enum cm_err_type type, const char *code,
                const char *param, const char *fmt, va_list ap)
{
    if (err == NULL)
        return -1;
    err->status = status;
    err->type = type;
    copy(err->code, sizeof(err->code), code);
    copy(err->param, sizeof(err->param), param);
    vsnprintf(err->message, sizeof(err->message), fmt, ap);
    cm_utf8_scrub(err->message); /* anywhere: a %.Ns in fmt can cut a character */
    err->detail[0] = '\0';
    return -1;
}

int cm_err_set(struct cm_err *err, int status, enum cm_err_type type, const char *code,
               const char *param, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vset(err, status, type, code, param, fmt, ap);
    va_end(ap);
    return -1;
}

int cm_err_internal(struct cm_err *err, const char *fmt, ...)
{
    va_list ap;

    if (err == NULL)
        return -1;
    cm_err_set(err, 500, CM_ERR_API, NULL, NULL,
               "An unknown error occurred. Please try again later.");
    va_start(ap, fmt);
    vsnprintf(err->detail, sizeof(err->detail), fmt, ap);
    va_end(ap);
    return -1;
}

int cm_err_missing(struct cm_err *err, const char *param)
{
    return cm_err_set(err, 400, CM_ERR_INVALID_REQUEST, "parameter_missing", param,
                      "Missing required param: %s.", param);
}

int cm_err_unknown_param(struct cm_err *err, const char *param)
{
    return cm_err_set(err, 400, CM_ERR_INVALID_REQUEST, "parameter_unknown", param,
                      "Received unknown parameter: %s", param);
}

int cm_err_invalid(struct cm_err *err, const char *param, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vset(err, 400, CM_ERR_INVALID_REQUEST, NULL, param, fmt, ap);
    va_end(ap);
    return -1;
}

int cm_err_not_found(struct cm_err *err, const char *what, const char *id, const char *param)
{
    return cm_err_set(err, 404, CM_ERR_INVALID_REQUEST, "resource_missing", param,
                      "No such %s: '%s'", what, id ? id : "");
}

const char *cm_err_type_name(enum cm_err_type type)
{
    switch (type) {
    case CM_ERR_INVALID_REQUEST:
        return "invalid_request_error";
    case CM_ERR_API:
        return "api_error";
    case CM_ERR_IDEMPOTENCY:
        return "idempotency_error";
    case CM_ERR_CARD:
        return "card_error";
    case CM_ERR_NONE:
        break;
    }
    return "";
}

void cm_err_clear(struct cm_err *err)
{
    memset(err, 0, sizeof(*err));
}

const char *cm_err_log_text(const struct cm_err *err)
{
    return err->detail[0] ? err->detail : err->message;
}
