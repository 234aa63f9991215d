/* App manifests: the stripe-app.json document an app owner uploads as a new
 * version (POST /v1/apps/apps/{app}/versions, param manifest), checked
 * without touching the database. Every rejection is a 400
 * invalid_request_error whose param names the offending field the way the
 * client wrote it: "manifest[permissions][2][permission]". */
#ifndef INST_MANIFEST_H
#define INST_MANIFEST_H

#include <stddef.h>
#include <jansson.h>

#include "cm/err.h"

#define INST_MANIFEST_NAME_MAX        80 /* characters (code points) of name */
#define INST_MANIFEST_VERSION_MAX     64 /* bytes of version (install.app_versions' CHECK) */
#define INST_MANIFEST_MAX_URIS        20 /* allowed_redirect_uris */
#define INST_MANIFEST_URI_MAX         2048
#define INST_MANIFEST_PURPOSE_MAX     1000 /* characters of a permission's purpose */
#define INST_MANIFEST_MAX_PERMISSIONS 128  /* more than the known permissions */

struct inst_manifest_permission {
    const char *permission; /* a known permission name */
    const char *purpose;    /* non-empty */
};

/* A validated manifest. Every string is borrowed from doc. */
struct inst_manifest {
    json_t *doc; /* the parsed document (new; inst_manifest_release()) */
    const char *id, *version, *name;
    const char *icon; /* NULL when absent */
    size_t npermissions;
    struct inst_manifest_permission permissions[INST_MANIFEST_MAX_PERMISSIONS];
    size_t nuris;
    const char *uris[INST_MANIFEST_MAX_URIS];
};

/* Parses and validates text[0..len), a JSON document, as a manifest for the
 * app app_id uploaded with a key of the given mode (livemode 0 is test mode,
 * where plain http redirect URIs to localhost, 127.0.0.1 and [::1] are
 * allowed). Rules and params:
 *   - not one JSON object (or a duplicate key)           "manifest"
 *   - a top-level key outside the known set              "manifest[<key>]"
 *   - id missing, not a string, or not app_id            "manifest[id]"
 *   - version missing or not MAJOR.MINOR.PATCH (digits without leading
 *     zeros, optional -prerelease of dot-separated [0-9A-Za-z-] identifiers,
 *     numeric ones without leading zeros), over 64 bytes "manifest[version]"
 *   - name missing, not a string, blank or over 80 characters "manifest[name]"
 *   - icon present and not a string                      "manifest[icon]"
 *   - permissions not an array of objects                "manifest[permissions]"
 *   - an item's unknown key                              "manifest[permissions][i][<key>]"
 *   - permission missing, not a string, unknown or repeated
 *                                                        "manifest[permissions][i][permission]"
 *   - purpose missing, not a string, blank, too long     "manifest[permissions][i][purpose]"
 *   - allowed_redirect_uris not an array of at most 20 strings
 *                                                        "manifest[allowed_redirect_uris]"
 *   - a URI that is not absolute (scheme://host), has a fragment or
 *     userinfo, spaces or control characters, is not https (http only to a
 *     loopback host in test mode)                        "manifest[allowed_redirect_uris][i]"
 * Absent permissions or allowed_redirect_uris count as empty.
 * Returns 0 with *out filled (release it), or -1 with *err set and *out
 * empty (releasing it is then a no-op). */
int inst_manifest_parse(const char *text, size_t len, const char *app_id, int livemode,
                        struct inst_manifest *out, struct cm_err *err);

/* Frees m->doc and empties *m. NULL-safe; idempotent. */
void inst_manifest_release(struct inst_manifest *m);

/* 1 when name is a permission a manifest may ask for, else 0. */
int inst_manifest_permission_known(const char *name);

/* Checks one redirect URI as described above. 0, or -1 with a 400 in *err
 * whose param is param. */
int inst_manifest_check_uri(const char *uri, int livemode, const char *param, struct cm_err *err);

#endif
