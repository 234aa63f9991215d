/* install_signature: what an install redirect carries so that the app's
 * backend can check user_id, account_id and state came from us. The value is
 * a whole Stripe-Signature header, t=<unix>,v1=<hex HMAC-SHA256(signing
 * secret, "<t>.<payload>")>, over the payload JavaScript's
 * JSON.stringify({state, user_id, account_id}) produces: those keys in that
 * order, no spaces, JSON.stringify's escaping. Without a state the key is
 * left out ({"user_id":...,"account_id":...}), exactly as JSON.stringify
 * drops an undefined value. */
#ifndef INST_SIGNATURE_H
#define INST_SIGNATURE_H

#include <stddef.h>

/* The payload, as a new NUL-terminated string (free()); state may be NULL
 * (left out). NULL when memory runs out or an argument is not valid UTF-8. */
char *inst_signature_payload(const char *state, const char *user_id, const char *account_id);

/* Writes "t=<t>,v1=<64 hex>" for payload under secret into out (cap bytes,
 * at least 80). 0, or -1 when it does not fit. */
int inst_signature_header(const char *secret, long long t, const char *payload, char *out,
                          size_t cap);

#endif
