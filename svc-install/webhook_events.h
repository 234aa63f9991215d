/* Events as the API and webhook deliveries show them (implemented in
 * events.c, on the statements of inst_events_module, which every connection
 * of the service prepares), and the pure pieces of the events list filters. */
#ifndef INST_WEBHOOK_EVENTS_H
#define INST_WEBHOOK_EVENTS_H

#include <stddef.h>
#include <jansson.h>

#include "cm/db.h"
#include "cm/err.h"
#include "cm/params.h"

/* Longest `type` filter accepted (an event name or a '*' pattern). */
#define INST_EVENT_TYPE_MAX 128

/* Sets pending_webhooks on each of events[0..n) (event objects rendered by
 * cm_event_render(), borrowed) to the number of its deliveries that have not
 * succeeded: pending, or failed for good. One round trip; none when n is 0.
 * 0, or -1 with a 500 in *err (the objects may then be partly updated). */
int inst_events_set_pending(struct cm_db *db, json_t *const *events, size_t n, struct cm_err *err);

/* Loads the events ids[0..n) with pending_webhooks set: out[i] is a new
 * reference (json_decref()) for ids[i], or NULL when there is no such event.
 * 0, or -1 with a 500 in *err (every out[i] is then NULL). */
int inst_events_load(struct cm_db *db, const char *const *ids, size_t n, json_t **out,
                     struct cm_err *err);

/* A created filter (cm_param_range()) as a half-open interval of Unix
 * seconds over the stored timestamps: created >= lo (when has_lo) and
 * created < hi (when has_hi). Stripe's created is whole seconds, so gt X is
 * >= X + 1 and lte X is < X + 1. Bounds are clamped to [0,
 * CM_TIMESTAMP_MAX + 1], where every stored time lies; a bound beyond the
 * latest time is dropped and an empty range stays empty (lo >= hi). */
struct inst_created_bounds {
    int has_lo, has_hi;
    long long lo, hi;
};
void inst_events_created_bounds(const struct cm_range *r, struct inst_created_bounds *b);

/* Turns a `type` filter into a LIKE pattern when it holds '*' (each '*'
 * matches any run of characters; '%', '_' and '\' are escaped). Writes the
 * pattern and a NUL into out (cap bytes; 2 * INST_EVENT_TYPE_MAX + 1 always
 * suffice) and returns 1; returns 0, out untouched, when type has no '*' (an
 * exact name); -1 when type is empty, longer than INST_EVENT_TYPE_MAX, holds
 * a character outside [a-z0-9_.*], or does not fit. */
int inst_events_type_like(const char *type, char *out, size_t cap);

#endif
