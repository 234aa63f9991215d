/* Installations of an app on an account, in one mode: installing and
 * uninstalling (each with its account.application.* event and audit row in
 * the caller's transaction), shared by the install pages and the API. An
 * uninstall bumps core.auth_epoch through the install schema's triggers, so
 * the app's key with that Stripe-Account is refused at once everywhere. */
#ifndef INST_INSTALLATIONS_H
#define INST_INSTALLATIONS_H

#include "cm/http.h"
#include "cm/ids.h"

/* Installs app_id on account_id in livemode for user_id, pinned to version
 * (an external test's version) or following the published version when
 * version is NULL, on req->db's open transaction; emits
 * account.application.authorized (event.account = account_id). Installing
 * where an active installation exists keeps it (no second event) and is a
 * success. inst_id (CM_ID_MAX bytes) receives the installation id. 0, or -1
 * with *err (404 for an unknown app, 500). */
int inst_install(struct cm_req *req, const char *app_id, const char *account_id, int livemode,
                 const char *user_id, const char *version, char *inst_id, struct cm_err *err);

/* Uninstalls installation inst_id on req->db's open transaction and emits
 * account.application.deauthorized. 0, or -1 with *err (404 when there is no
 * such active installation, 500). */
int inst_uninstall(struct cm_req *req, const char *inst_id, struct cm_err *err);

#endif
