/* Typed getters over a decoded parameter object (cm_form_decode()'s result),
 * with Stripe's error shapes (spec/API.md sections 2 and 6).
 *
 * Every getter names its param by a bracket path, as the client wrote it:
 * "name", "scope[type]", "options[document][allowed_types]"; a path segment
 * of digits also selects an array item ("expand[0]"). Getters return 1 when
 * the param is present (and *out is set), 0 when it is absent and not
 * CM_P_REQUIRED (*out untouched), or -1 with *err set: status 400,
 * invalid_request_error, param = the path. Nothing is allocated; every *out
 * is borrowed from params and valid while params is.
 *
 * Leaves are normally strings, as the decoder makes them; the number and
 * boolean getters also take JSON integers and booleans, so a handler or a
 * test may build params with json_pack().
 *
 * Error shapes:
 *  - absent and CM_P_REQUIRED: code parameter_missing, "Missing required param: <path>."
 *  - "" without CM_P_ALLOW_EMPTY: code parameter_invalid_empty, "You passed an empty string
 *    for '<path>'. ..."
 *  - not an integer: code parameter_invalid_integer, "Invalid integer: <value>"
 *  - out of range: "This value must be greater than or equal to <min>." (or less than or equal)
 *  - not true/false (any case: python3-stripe 5 and stripe-dotnet send
 *    "True"/"False", which Stripe's v1 API accepts): "Invalid boolean: <value>"
 *  - not in an enum: "Invalid <path>: must be one of a, b or c"
 *  - wrong JSON type: "Invalid string: {...}", "Invalid object", "Invalid array"
 *  - too long: "Invalid <path>: must be at most <n> characters"
 * Values echoed in messages are cut to about 40 bytes on a UTF-8 boundary. */
#ifndef CM_PARAMS_H
#define CM_PARAMS_H

#include <stddef.h>
#include <jansson.h>

#include "cm/err.h"

/* CM_P_ALLOW_EMPTY: "" means "given, to unset". cm_param_str returns 1 with
 * *out = ""; cm_param_object, cm_param_str_array return 1 with *out = NULL;
 * the scalar getters (int, bool, enum, timestamp) return 0 as if the param
 * were absent, even with CM_P_REQUIRED. */
enum { CM_P_REQUIRED = 1 << 0, CM_P_ALLOW_EMPTY = 1 << 1 };

/* Metadata limits (Stripe docs). */
#define CM_METADATA_MAX_KEYS      50
#define CM_METADATA_MAX_KEY_LEN   40
#define CM_METADATA_MAX_VALUE_LEN 500

/* Latest accepted timestamp: 9999-12-31T23:59:59Z. */
#define CM_TIMESTAMP_MAX 253402300799LL

/* 0 when every top-level key of params is in allowed (NULL-terminated) or is
 * "expand"; else -1 with 400 parameter_unknown "Received unknown parameter:
 * <key>", param = <key> (the first unknown key, in the client's order). */
int cm_params_check_allowed(const json_t *params, const char *const *allowed, struct cm_err *err);

/* The same for the keys of the object at path (e.g. "scope" with {"type",
 * "user", NULL}); the error's param is "scope[user2]". "expand" gets no
 * special treatment here. 0 when path is absent or not an object (the typed
 * getter reports that). */
int cm_params_check_allowed_at(const json_t *params, const char *path, const char *const *allowed,
                               struct cm_err *err);

/* Borrowed value at path, or NULL when absent (or path is malformed). */
json_t *cm_param_get(const json_t *params, const char *path);

/* A string of at most maxlen characters (code points; 0: no limit). */
int cm_param_str(const json_t *params, const char *path, unsigned flags, size_t maxlen,
                 const char **out, struct cm_err *err);

/* A decimal integer (optional '-', digits only, fits long long) in
 * [min, max]. */
int cm_param_int(const json_t *params, const char *path, unsigned flags, long long min,
                 long long max, long long *out, struct cm_err *err);

/* "true" or "false": *out = 1 or 0. */
int cm_param_bool(const json_t *params, const char *path, unsigned flags, int *out,
                  struct cm_err *err);

/* One of values (NULL-terminated, at least one): *index = its position. */
int cm_param_enum(const json_t *params, const char *path, unsigned flags, const char *const *values,
                  int *index, struct cm_err *err);

/* Unix seconds in [0, CM_TIMESTAMP_MAX]. */
int cm_param_timestamp(const json_t *params, const char *path, unsigned flags, long long *out,
                       struct cm_err *err);

/* An object (e.g. options[document]), borrowed. See CM_P_ALLOW_EMPTY for "". */
int cm_param_object(const json_t *params, const char *path, unsigned flags, json_t **out,
                    struct cm_err *err);

/* An array (borrowed) of at most max_items (0: no limit) non-empty strings of
 * at most maxlen characters each (0: no limit), such as expand, types or
 * enabled_events. A plain string is "Invalid array": Stripe requires array
 * syntax. Errors about one item name it: "expand[2]". */
int cm_param_str_array(const json_t *params, const char *path, unsigned flags, size_t max_items,
                       size_t maxlen, json_t **out, struct cm_err *err);

/* Metadata: an object (borrowed) of at most CM_METADATA_MAX_KEYS string
 * values, keys non-empty, at most CM_METADATA_MAX_KEY_LEN characters and
 * without '[' or ']', values at most CM_METADATA_MAX_VALUE_LEN characters.
 * "" clears every key: returns 1 with *out = NULL. A key whose value is ""
 * stays in the object as "" (the caller deletes that key). Never required.
 * A numeric key (metadata[0]) reaches here as an array item, because the
 * decoder reads digits as an index, and is rejected as "Invalid object". */
int cm_param_metadata(const json_t *params, const char *path, json_t **out, struct cm_err *err);

/* A Stripe range filter such as created: an integer (has_eq) or an object of
 * any of gt, gte, lt, lte integers; another sub-key is 400 parameter_unknown
 * with param "created[foo]". *out is zeroed first. Never required. */
struct cm_range {
    int has_gt, has_gte, has_lt, has_lte, has_eq;
    long long gt, gte, lt, lte, eq;
};
int cm_param_range(const json_t *params, const char *path, struct cm_range *out,
                   struct cm_err *err);

#endif
