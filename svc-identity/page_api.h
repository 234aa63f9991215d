/* What the hosted page and the JSON endpoints share beyond the flow itself
 * (page_flow.h): reading a request's body in any of the encodings a browser
 * or fetch sends, finding the client secret, and the submit audit row. */
#ifndef IDN_PAGE_API_H
#define IDN_PAGE_API_H

#include <jansson.h>

#include "cm/http.h"
#include "multipart.h"
#include "page_flow.h"

/* The request's parameters: the query, then the body as
 * application/x-www-form-urlencoded (or no Content-Type), application/json
 * (an object) or multipart/form-data (its text fields; its file fields stay
 * in *mp, which must outlive nothing but the request's body). *params is new
 * (json_decref()). 0, or -1 with a 400 (415 for another Content-Type). */
int idn_page_params(const struct cm_req *req, json_t **params, struct idn_multipart *mp,
                    struct cm_err *err);

/* The client secret: "Authorization: Bearer <secret>" first, else the
 * client_secret param. Borrowed (from req or params), or NULL. */
const char *idn_page_secret(const struct cm_req *req, const json_t *params);

/* Writes the identity.page.submit audit row for f (its account and mode;
 * never personal data) on the request's transaction. 0, or -1 with a 500. */
int idn_page_audit_submit(struct cm_req *req, const struct idn_flow *f, struct cm_err *err);

/* The JSON endpoints for an app's own fetch-based UI (page_api.c; page.c
 * routes them). The client secret travels in Authorization: Bearer or in the
 * body (or the query of the GET), never in a path. Each answers the flow's
 * state as GET /identity/api/session does:
 *   {"object": "identity.hosted_verification", "id", "livemode", "status",
 *    "type", "options", "consent", "document_type", "uploaded": [purposes],
 *    "missing": [...] (idn_flow_missing()), "last_error": {code, reason} | null,
 *    "return_url", "test_outcomes": [...] (test mode only)}
 * except /files, which answers the stored file: {"id": "file_...", "object":
 * "file", "purpose", "size", "type": "png" | "jpg", "created"}. An unknown or
 * expired secret is a 401; a change while processing a 400.
 *   GET  /identity/api/session
 *   POST /identity/api/consent  accepted=true|false
 *   POST /identity/api/files    multipart: purpose, file, live_capture?
 *   POST /identity/api/data     document_type?, the data fields (page_flow.h)
 *   POST /identity/api/submit   outcome? (test mode) */
int idn_page_api_session(struct cm_req *req, struct cm_resp *resp, struct cm_err *err);
int idn_page_api_consent(struct cm_req *req, struct cm_resp *resp, struct cm_err *err);
int idn_page_api_files(struct cm_req *req, struct cm_resp *resp, struct cm_err *err);
int idn_page_api_data(struct cm_req *req, struct cm_resp *resp, struct cm_err *err);
int idn_page_api_submit(struct cm_req *req, struct cm_resp *resp, struct cm_err *err);

#endif
