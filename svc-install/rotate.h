/* `svc-install --rotate-keys`: re-seals everything svc-install keeps sealed
 * (apps' signing secrets, webhook endpoints' secrets) under the key file's
 * active key, while the service keeps serving. */
#ifndef INST_ROTATE_H
#define INST_ROTATE_H

/* Seals every staged signing secret and re-seals every other one
 * (inst_signing_secret_job), then every webhook endpoint secret, deleted
 * endpoints' included, not under the active key of CM_KEY_FILE (libpq environment, svc_install's
 * role). Logs how many rows it re-sealed, never a value. Returns the exit
 * status: 0 once no row is left under another key (the old key may then go),
 * or 1 with the reason logged: no key file, a row that does not open (its
 * key is no longer in the file, or its blob was altered), a database error,
 * or rows another transaction held locked throughout (run it again). */
int inst_rotate_keys(void);

#endif
