/* Events outbox rows and their rendering. The row's data column holds the
 * event's data member exactly ({object, previous_attributes?}), assembled by
 * PostgreSQL from the two serialized parts so the borrowed objects are only
 * read, never referenced. Rendering trusts nothing about the row: a column
 * missing or data that is not an object yields NULL rather than a malformed
 * event. */
#include <stdlib.h>
#include <string.h>

#include "cm/events.h"
#include "cm/banned.h"

const struct cm_stmt cm_events_stmts[] = {
    {"cm_event_emit",
     "INSERT INTO core.events (id, type, account_id, app_id, livemode, request_id,"
     " idempotency_key, data)"
     " VALUES ($1, $2, $3, $4, $5::boolean, $6, $7, CASE WHEN $9::jsonb IS NULL"
     " THEN jsonb_build_object('object', $8::jsonb)"
     " ELSE jsonb_build_object('object', $8::jsonb, 'previous_attributes', $9::jsonb) END)",
     9},
    {NULL, NULL, 0},
};

int cm_event_emit(struct cm_db *db, const char *type, const char *account_id, const char *app_id,
                  int livemode, const char *request_id, const char *idempotency_key,
                  const json_t *data_object, const json_t *previous_attributes, char *id_out,
                  struct cm_err *err)
{
    char *object = NULL;
    char *previous = NULL;
    int ret = -1;

    if (cm_id_new(id_out, CM_ID_MAX, "evt_", err) != 0)
        goto out;
    object = json_dumps(data_object, JSON_COMPACT | JSON_ENCODE_ANY);
    if (previous_attributes != NULL)
        previous = json_dumps(previous_attributes, JSON_COMPACT | JSON_ENCODE_ANY);
    if (object == NULL || (previous_attributes != NULL && previous == NULL)) {
        cm_err_internal(err, "events: cannot serialize the data of %s", type);
        goto out;
    }
    /* Nobody reads the row back in the request: it travels with the
     * transaction's next statement or its COMMIT, which it fails if it
     * fails (cm_db_defer), so it costs no round trip of its own. */
    if (cm_db_defer(db, "cm_event_emit", 9,
                    (const char *[]){id_out, type, account_id, app_id, livemode ? "true" : "false",
                                     request_id, idempotency_key, object, previous},
                    err) < 0)
        goto out;
    ret = 0;
out:
    if (ret != 0)
        id_out[0] = '\0';
    free(object);
    free(previous);
    return ret;
}

json_t *cm_event_render(const PGresult *res, int row)
{
    const char *id, *type, *livemode, *created, *data_text;
    json_t *data;
    char *end = NULL;
    long long when;

    if (row < 0 || row >= PQntuples(res) || PQnfields(res) != CM_EVENTS_COL_DATA + 1)
        return NULL;
    id = cm_db_value(res, row, CM_EVENTS_COL_ID);
    type = cm_db_value(res, row, CM_EVENTS_COL_TYPE);
    livemode = cm_db_value(res, row, CM_EVENTS_COL_LIVEMODE);
    created = cm_db_value(res, row, CM_EVENTS_COL_CREATED);
    data_text = cm_db_value(res, row, CM_EVENTS_COL_DATA);
    if (id == NULL || type == NULL || livemode == NULL || created == NULL || data_text == NULL)
        return NULL;
    when = strtoll(created, &end, 10);
    if (end == created || *end != '\0')
        return NULL;
    data = json_loads(data_text, JSON_REJECT_DUPLICATES, NULL);
    if (!json_is_object(data) || json_object_get(data, "object") == NULL) {
        json_decref(data);
        return NULL;
    }
    /* "o" steals data even when packing fails; "s*" leaves out a NULL
     * account, "s?" renders NULL as null. */
    return json_pack("{s:s, s:s, s:s*, s:s?, s:I, s:o, s:b, s:i, s:{s:s?, s:s?}, s:s}", "id", id,
                     "object", "event", "account", cm_db_value(res, row, CM_EVENTS_COL_ACCOUNT),
                     "api_version", cm_db_value(res, row, CM_EVENTS_COL_API_VERSION), "created",
                     (json_int_t)when, "data", data, "livemode", strcmp(livemode, "t") == 0,
                     "pending_webhooks", 0, "request", "id",
                     cm_db_value(res, row, CM_EVENTS_COL_REQUEST_ID), "idempotency_key",
                     cm_db_value(res, row, CM_EVENTS_COL_IDEMPOTENCY_KEY), "type", type);
}
