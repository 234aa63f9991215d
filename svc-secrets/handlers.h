/* The Secret Store operations (cm_handler): /v1/apps/secrets. */
#ifndef SEC_HANDLERS_H
#define SEC_HANDLERS_H

#include "cm/http.h"

int sec_set(struct cm_req *req, struct cm_resp *resp, struct cm_err *err);
int sec_find(struct cm_req *req, struct cm_resp *resp, struct cm_err *err);
int sec_delete(struct cm_req *req, struct cm_resp *resp, struct cm_err *err);
int sec_list(struct cm_req *req, struct cm_resp *resp, struct cm_err *err);

/* `svc-secrets --rotate-keys`: re-seals every payload not under the key
 * file's active key, in batches, while services keep serving. Returns the
 * process exit status. */
int sec_rotate_keys(void);

#endif
