/* The Secret Store operations (cm_handler): /v1/apps/secrets. */
#ifndef SEC_HANDLERS_H
#define SEC_HANDLERS_H

#include "cm/http.h"

int sec_set(struct cm_req *req, struct cm_resp *resp, struct cm_err *err);
int sec_find(struct cm_req *req, struct cm_resp *resp, struct cm_err *err);
int sec_delete(struct cm_req *req, struct cm_resp *resp, struct cm_err *err);
int sec_list(struct cm_req *req, struct cm_resp *resp, struct cm_err *err);

struct sec_key;
/* The associated data sealed with a payload: the row's identity (app,
 * account, mode, scope type, scope user, name), length-prefixed. New buffer
 * (free()), or NULL on allocation failure. Handlers and the key rotation
 * must agree on it byte for byte, hence one function. */
unsigned char *sec_aad(const struct sec_key *k, size_t *len);

/* `svc-secrets --rotate-keys`: re-seals every payload not under the key
 * file's active key, in batches, while services keep serving. Returns the
 * process exit status. */
int sec_rotate_keys(void);

#endif
