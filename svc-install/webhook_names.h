/* Names a webhook endpoint may use: event types (enabled_events) and API
 * versions (api_version), and the event types "*" does not cover. */
#ifndef INST_WEBHOOK_NAMES_H
#define INST_WEBHOOK_NAMES_H

#include <stddef.h>

/* 1 when name is an event type an endpoint may enable ("*" is one), else 0
 * (NULL included). */
int inst_webhook_event_known(const char *name);

/* 1 when version is an API version an endpoint may pin ("2024-06-20",
 * "2025-03-31.basil"), else 0. */
int inst_webhook_api_version_known(const char *version);

/* 1 for an event type that a "*" endpoint never receives: an endpoint gets
 * it only by naming it ("identity.verification_session.redacted"). The fan-out
 * trigger in sql/core/0010_webhooks.sql holds the same list. */
int inst_webhook_event_explicit_only(const char *name);

/* The whole tables, sorted, for tests: static, *n entries. */
const char *const *inst_webhook_event_types(size_t *n);
const char *const *inst_webhook_api_versions(size_t *n);

#endif
