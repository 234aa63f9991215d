/* A verification session as the API shows it: loading one, rendering it as
 * Stripe's identity.verification_session (with its expansions and the
 * redaction placeholders), and emitting its events. Shared by the API
 * (sessions.c), the hosted page (page.c), the checks worker (process.c) and
 * redaction (redact.c). */
#ifndef IDN_SESSION_H
#define IDN_SESSION_H

#include <jansson.h>
#include <libpq-fe.h>

#include "cm/config.h"
#include "cm/db.h"
#include "cm/err.h"

/* Expansions a caller asked for (expand[] values). */
enum {
    IDN_EXPAND_VERIFIED_OUTPUTS = 1 << 0, /* "verified_outputs" */
    IDN_EXPAND_VO_DOB = 1 << 1,           /* "verified_outputs.dob" */
    IDN_EXPAND_VO_ID_NUMBER = 1 << 2,     /* "verified_outputs.id_number" */
    IDN_EXPAND_PROVIDED_DETAILS = 1 << 3, /* "provided_details" */
    IDN_EXPAND_LAST_REPORT = 1 << 4,      /* "last_verification_report" */
};

/* Reads session_id (of account_id in livemode; account_id NULL: any) on db's
 * current transaction, with FOR UPDATE when lock is set, and renders it with
 * the expansions. NULL with a 404 resource_missing (param "session" never;
 * message "No such verificationsession: 'vs_...'") or a 500 in *err. */
json_t *idn_session_get(struct cm_db *db, const struct cm_config *cfg, const char *session_id,
                        const char *account_id, int livemode, int lock, unsigned expand,
                        struct cm_err *err);

/* Emits event type ("identity.verification_session.verified") for
 * session_id with the session as it now is (no expansions) as data.object, on
 * db's current transaction. request_id and idempotency_key may be NULL
 * (automatic events: the worker); such a transition, having no request
 * whose audit row records it, also gets its own audit row
 * "identity.session.<state>". 0, or -1 with a 500. */
int idn_session_emit(struct cm_db *db, const struct cm_config *cfg, const char *session_id,
                     const char *type, const char *request_id, const char *idempotency_key,
                     struct cm_err *err);

#endif
