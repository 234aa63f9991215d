/* The parameters of creating and updating a verification session (API.md
 * section 9), validated with Stripe's error shapes and turned into the
 * values stored. Pure: no database, no keys. */
#ifndef IDN_SESSION_PARAMS_H
#define IDN_SESSION_PARAMS_H

#include <jansson.h>

#include "cm/err.h"

/* What a create or update request gave. Pointers to strings are borrowed
 * from the params; the json_t members are new (idn_session_input_release()). */
struct idn_session_input {
    const char *type; /* "document" | "id_number", or NULL when not given */
    json_t *options;  /* the session's new `options` ({} or {"document": {...}}), or NULL */
    json_t *provided; /* {"email"?, "phone"?} given, or NULL */
    int has_metadata;
    json_t *metadata; /* borrowed (cm_param_metadata()); NULL with has_metadata: clear all */
    /* create only */
    const char *client_reference_id, *return_url, *related_customer, *related_customer_account;
    json_t *related_person; /* {"account", "person"}, or NULL */
};

/* Top-level params each operation takes (expand aside), NULL-ended. */
extern const char *const idn_session_create_params[];
extern const char *const idn_session_update_params[];

/* Reads params into *in (zeroed first; on failure released again). create:
 * type is required (400 parameter_missing "type"), verification_flow is
 * refused (400, param verification_flow), and the create-only fields are
 * read. 0, or -1 with a 400 naming the param (500 on allocation failure). */
int idn_session_input_parse(const json_t *params, int create, struct idn_session_input *in,
                            struct cm_err *err);
void idn_session_input_release(struct idn_session_input *in);

/* The metadata after applying given (cm_param_metadata()'s result; NULL:
 * clear everything) to old (borrowed; NULL as {}): keys given "" are
 * removed. New object, or NULL with a 400 param "metadata" when the result
 * would hold more than CM_METADATA_MAX_KEYS keys (500 on allocation
 * failure). */
json_t *idn_metadata_apply(const json_t *old, const json_t *given, struct cm_err *err);

/* 1 when url is an absolute http or https URL with a host and no spaces or
 * control characters, else 0. */
int idn_url_ok(const char *url);

#endif
