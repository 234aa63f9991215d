/* Webhook delivery: the queue worker that POSTs due deliveries
 * (core.event_deliveries) to their endpoints with libcurl, signed with
 * Stripe-Signature, records every attempt and reschedules failures with
 * exponential backoff. Claims go through FOR UPDATE SKIP LOCKED with a lease,
 * so any number of svc-install instances deliver each event once. */
#ifndef INST_DELIVERY_H
#define INST_DELIVERY_H

#include "cm/config.h"
#include "cm/db.h"
#include "cm/err.h"

struct inst_delivery_cfg {
    int enabled;             /* INST_DELIVERY=0 turns the worker off for this instance */
    long retry_base_seconds; /* INST_WEBHOOK_RETRY_BASE: first retry delay (default 60) */
    long retry_window_live;  /* INST_WEBHOOK_RETRY_WINDOW_LIVE seconds (default 3 days) */
    long retry_window_test;  /* INST_WEBHOOK_RETRY_WINDOW_TEST seconds (default 3 days) */
    long timeout_seconds;    /* INST_WEBHOOK_TIMEOUT: per attempt (default 10) */
    int batch;               /* INST_WEBHOOK_BATCH: deliveries claimed at once (default 16) */
};

/* Fills *c from the environment (names above). 0, or -1 with *err naming
 * the malformed variable. */
int inst_delivery_config(struct inst_delivery_cfg *c, struct cm_err *err);

/* One round of the worker (struct cm_service.work; ctx is a struct
 * inst_delivery_cfg): claims up to c->batch due deliveries, attempts them,
 * records the outcomes. Returns how many were attempted (0: nothing due), or
 * -1 with *err. */
int inst_deliver(struct cm_db *db, const struct cm_config *cfg, void *ctx, struct cm_err *err);

#endif
