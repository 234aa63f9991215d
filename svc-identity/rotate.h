/* `svc-identity --rotate-keys`: re-seals the personal data of the identity
 * schema under the key file's active key, while the service keeps serving. */
#ifndef IDN_ROTATE_H
#define IDN_ROTATE_H

/* Re-seals every sealed column of identity.sessions (idn_session_rekey()),
 * identity.files and identity.reports whose row's key_id is not the active
 * key of CM_KEY_FILE (libpq environment, svc_identity's role). Logs how many
 * rows of each table it re-sealed, never a value. Returns the exit status: 0
 * once no row is left under another key (the old key may then go), or 1
 * with the reason logged: no key file, a row that does not open (its key is
 * no longer in the file, or its data was altered), a database error, or
 * rows another transaction held locked throughout (run it again). */
int idn_rotate_keys(void);

#endif
