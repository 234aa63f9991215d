/* The events outbox: a core.events row written in the transaction of the
 * change it describes (so an event exists exactly when its change does), and
 * its rendering as Stripe's event object for the events API and webhook
 * payloads. Delivery is svc-install's. */
#ifndef CM_EVENTS_H
#define CM_EVENTS_H

#include <jansson.h>
#include <libpq-fe.h>

#include "cm/db.h"
#include "cm/err.h"
#include "cm/ids.h"

/* Statements of this module, ended by {NULL}: pass to cm_db_new(). */
extern const struct cm_stmt cm_events_stmts[];

/* The select list cm_event_render() reads, over core.events aliased `e`:
 *   SELECT " CM_EVENTS_COLUMNS " FROM core.events e WHERE ...
 * Columns, in order (CM_EVENTS_COL_*): id, type, account_id, livemode,
 * api_version, created (Unix seconds, rounded down), request_id, idempotency_key,
 * data. */
#define CM_EVENTS_COLUMNS                                                                          \
    "e.id, e.type, e.account_id, e.livemode, e.api_version,"                                       \
    " floor(extract(epoch FROM e.created))::bigint, e.request_id, e.idempotency_key, e.data"

enum cm_events_col {
    CM_EVENTS_COL_ID,
    CM_EVENTS_COL_TYPE,
    CM_EVENTS_COL_ACCOUNT,
    CM_EVENTS_COL_LIVEMODE,
    CM_EVENTS_COL_API_VERSION,
    CM_EVENTS_COL_CREATED,
    CM_EVENTS_COL_REQUEST_ID,
    CM_EVENTS_COL_IDEMPOTENCY_KEY,
    CM_EVENTS_COL_DATA,
};

/* Writes one core.events row on db's current transaction (the caller's
 * BEGIN; autocommit when none). In a transaction the INSERT is deferred
 * (cm_db_defer): it is sent with the next statement or the COMMIT, and its
 * failure fails that, so the change never commits without its event. type is the event name
 * ("identity.verification_session.verified"); account_id, app_id,
 * request_id and idempotency_key may be NULL. data_object is borrowed and
 * becomes data.object; previous_attributes (borrowed, NULL for none) becomes
 * data.previous_attributes. api_version is stored NULL. id_out (CM_ID_MAX
 * bytes) receives the new "evt_..." id. Returns 0, or -1 with a 500 in *err
 * (id_out is then ""). */
int cm_event_emit(struct cm_db *db, const char *type, const char *account_id, const char *app_id,
                  int livemode, const char *request_id, const char *idempotency_key,
                  const json_t *data_object, const json_t *previous_attributes, char *id_out,
                  struct cm_err *err);

/* Renders row `row` of res, selected with CM_EVENTS_COLUMNS, as a new event
 * object (caller json_decref()s it):
 *   {id, object: "event", account (only when set), api_version (string or
 *    null), created, data: {object, previous_attributes (only when stored)},
 *    livemode, pending_webhooks: 0, request: {id, idempotency_key}, type}
 * NULL when the row does not have that shape or memory runs out. */
json_t *cm_event_render(const PGresult *res, int row);

#endif
