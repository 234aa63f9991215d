/* Checks a webhook endpoint URL before it is stored. */
#ifndef INST_WEBHOOK_URL_H
#define INST_WEBHOOK_URL_H

#include "cm/err.h"

/* Longest URL accepted (core.webhook_endpoints.url allows the same). */
#define INST_WEBHOOK_URL_MAX 2048

/* 0 when url is an absolute http:// or https:// URL with a host, at most
 * INST_WEBHOOK_URL_MAX bytes, without spaces or control characters, and
 * https unless livemode is 0 (test mode also takes plain http, for local
 * receivers). Else -1 with a 400 invalid_request_error, code url_invalid,
 * param "url". */
int inst_webhook_url_check(const char *url, int livemode, struct cm_err *err);

#endif
