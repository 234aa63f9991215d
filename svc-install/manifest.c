/* Validation of an app manifest (stripe-app.json) uploaded as a new version.
 * A pure function of the text, the app the upload is for and the key's
 * mode: the document is parsed with jansson (duplicate keys refused, so what
 * is checked is what PostgreSQL stores), then each field is checked in the
 * manifest's own order of importance (unknown keys, id, version, name, icon,
 * permissions, redirect URIs), and the first problem found is reported with
 * the bracket path of its field. Redirect URIs get the strictest check:
 * they are where the install flow sends a user with a signed identity, so
 * only absolute https URIs without userinfo or fragment pass, and plain
 * http only to the developer's own machine in test mode. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "manifest.h"
#include "cm/banned.h"

static const char *const known_keys[] = {
    "id",
    "version",
    "name",
    "icon",
    "permissions",
    "app_backend",
    "ui_extension",
    "allowed_redirect_uris",
    "distribution_type",
    "sandbox_install_compatible",
    "stripe_api_access_type",
    "post_install_action",
    "constants",
    "connect_permissions",
    "description",
    NULL,
};

/* Stripe's documented permission names (docs.stripe.com/stripe-apps/
 * reference/permissions): object permissions, then the special ones. */
static const char *const known_permissions[] = {
    "apple_pay_domain_read",
    "apple_pay_domain_write",
    "application_fee_read",
    "application_fee_write",
    "balance_read",
    "balance_transaction_source_read",
    "charge_read",
    "charge_write",
    "checkout_session_read",
    "checkout_session_write",
    "climate_order_read",
    "climate_order_write",
    "connected_account_read",
    "connected_account_write",
    "coupon_read",
    "coupon_write",
    "credit_note_read",
    "credit_note_write",
    "customer_portal_read",
    "customer_portal_write",
    "customer_read",
    "customer_write",
    "dispute_read",
    "dispute_write",
    "event_read",
    "file_read",
    "file_write",
    "identity_verification_report_read",
    "identity_verification_session_read",
    "identity_verification_session_write",
    "invoice_read",
    "invoice_write",
    "mandate_read",
    "order_read",
    "order_write",
    "payment_intent_read",
    "payment_intent_write",
    "payment_links_read",
    "payment_links_write",
    "payment_method_read",
    "payment_method_write",
    "payout_read",
    "payout_write",
    "plan_read",
    "plan_write",
    "price_read",
    "price_write",
    "product_read",
    "product_write",
    "promotion_code_read",
    "promotion_code_write",
    "quote_read",
    "quote_write",
    "refund_read",
    "refund_write",
    "report_runs_and_report_types_read",
    "secret_write",
    "setup_intent_read",
    "setup_intent_write",
    "shipping_rate_read",
    "shipping_rate_write",
    "sigma_read",
    "source_read",
    "source_write",
    "subscription_read",
    "subscription_write",
    "tax_code_read",
    "tax_rate_read",
    "tax_rate_write",
    "terminal_configuration_read",
    "terminal_configuration_write",
    "terminal_location_read",
    "terminal_location_write",
    "terminal_reader_read",
    "terminal_reader_write",
    "topup_read",
    "topup_write",
    "transfer_read",
    "transfer_write",
    "user_email_read",
    "webhook_read",
    "webhook_write",
    NULL,
};

/* Each permission appears at most once, so this bounds npermissions. */
_Static_assert(sizeof(known_permissions) / sizeof(known_permissions[0]) - 1 <=
                   INST_MANIFEST_MAX_PERMISSIONS,
               "INST_MANIFEST_MAX_PERMISSIONS must cover every known permission");

static int in_list(const char *const *list, const char *s)
{
    for (size_t i = 0; list[i] != NULL; i++)
        if (strcmp(list[i], s) == 0)
            return 1;
    return 0;
}

int inst_manifest_permission_known(const char *name)
{
    return name != NULL && in_list(known_permissions, name);
}

static int bad(struct cm_err *err, const char *param, const char *msg)
{
    return cm_err_set(err, 400, CM_ERR_INVALID_REQUEST, NULL, param, "Invalid %s: %s", param, msg);
}

/* Code points of a valid UTF-8 string (jansson only hands out valid ones). */
static size_t utf8_chars(const char *s)
{
    size_t n = 0;

    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

static int blank(const char *s)
{
    for (; *s; s++)
        if (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\r')
            return 0;
    return 1;
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static int is_alnum(char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* A numeric identifier at *p (digits, no leading zero unless "0"); moves
 * *p past it. 1 when one was there. */
static int numeric(const char **p)
{
    const char *s = *p;

    if (!is_digit(*s))
        return 0;
    if (*s == '0' && is_digit(s[1]))
        return 0;
    while (is_digit(*s))
        s++;
    *p = s;
    return 1;
}

/* MAJOR.MINOR.PATCH[-prerelease] (semver.org 2.0.0 without build metadata). */
static int semver(const char *v)
{
    const char *p = v;

    if (!numeric(&p) || *p++ != '.' || !numeric(&p) || *p++ != '.' || !numeric(&p))
        return 0;
    if (*p == '\0')
        return 1;
    if (*p++ != '-')
        return 0;
    for (;;) {
        const char *start = p;
        int all_digits = 1;

        while (is_alnum(*p) || *p == '-') {
            all_digits &= is_digit(*p);
            p++;
        }
        if (p == start || (all_digits && *start == '0' && p - start > 1))
            return 0;
        if (*p == '\0')
            return 1;
        if (*p++ != '.')
            return 0;
    }
}

/* RFC 3986 scheme: a letter, then letters, digits, '+', '-' or '.'. */
static int scheme(const char *s, size_t n)
{
    if (is_digit(s[0]) || !is_alnum(s[0]))
        return 0;
    for (size_t i = 1; i < n; i++)
        if (!(is_alnum(s[i]) || s[i] == '+' || s[i] == '-' || s[i] == '.'))
            return 0;
    return 1;
}

static int is_loopback(const char *host, size_t n)
{
    return (n == 9 && strncasecmp(host, "localhost", 9) == 0) ||
           (n == 9 && memcmp(host, "127.0.0.1", 9) == 0) ||
           (n == 5 && memcmp(host, "[::1]", 5) == 0);
}

/* host[:port] of an authority without userinfo. 1 when well formed. */
static int host_port(const char *a, size_t n, size_t *hostlen)
{
    size_t i = 0;

    if (n > 0 && a[0] == '[') {
        /* An IP literal: hex digits, ':' and '.' (IPv6, IPv4-mapped). */
        for (i = 1; i < n && a[i] != ']'; i++)
            if (!(is_alnum(a[i]) || a[i] == ':' || a[i] == '.'))
                return 0;
        if (i == n || i == 1)
            return 0;
        i++;
    } else {
        for (; i < n && a[i] != ':'; i++)
            if (!(is_alnum(a[i]) || a[i] == '-' || a[i] == '.'))
                return 0;
        if (i == 0)
            return 0;
    }
    *hostlen = i;
    if (i == n)
        return 1;
    if (a[i++] != ':' || i == n || n - i > 5)
        return 0;
    for (long port = 0; i < n; i++) {
        if (!is_digit(a[i]))
            return 0;
        port = port * 10 + (a[i] - '0');
        if (port > 65535)
            return 0;
    }
    return 1;
}

int inst_manifest_check_uri(const char *uri, int livemode, const char *param, struct cm_err *err)
{
    const char *sep, *auth, *end;
    size_t schemelen, hostlen = 0;
    int https, http;

    if (*uri == '\0' || strlen(uri) > INST_MANIFEST_URI_MAX)
        return bad(err, param, "a redirect URI must be 1 to 2048 characters long.");
    for (const char *p = uri; *p; p++)
        if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f || *p == '"' || *p == '<' ||
            *p == '>' || *p == '\\' || *p == '^' || *p == '`' || *p == '{' || *p == '|' ||
            *p == '}')
            return bad(err, param,
                       "a redirect URI may not contain spaces, control characters or characters "
                       "that must be percent-encoded.");
    if (strchr(uri, '#') != NULL)
        return bad(err, param, "a redirect URI may not contain a fragment (#).");
    sep = strstr(uri, "://");
    schemelen = sep ? (size_t)(sep - uri) : 0;
    if (schemelen > 0 && !scheme(uri, schemelen))
        schemelen = 0;
    if (schemelen == 0)
        return bad(err, param, "a redirect URI must be absolute (https://host/path).");
    auth = sep + 3;
    end = auth + strcspn(auth, "/?");
    if (memchr(auth, '@', (size_t)(end - auth)) != NULL)
        return bad(err, param, "a redirect URI may not contain userinfo (user@).");
    if (!host_port(auth, (size_t)(end - auth), &hostlen))
        return bad(err, param, "a redirect URI must be absolute (https://host/path).");
    https = schemelen == 5 && strncasecmp(uri, "https", 5) == 0;
    http = schemelen == 4 && strncasecmp(uri, "http", 4) == 0;
    if (https)
        return 0;
    if (http && is_loopback(auth, hostlen)) {
        if (!livemode)
            return 0;
        return bad(err, param,
                   "plain http redirect URIs to localhost are only allowed for versions uploaded "
                   "with a test mode key; use https.");
    }
    return bad(err, param,
               "a redirect URI must use https (plain http only to localhost, 127.0.0.1 or [::1] "
               "in test mode).");
}

static int check_permissions(const json_t *perms, struct inst_manifest *m, struct cm_err *err)
{
    size_t i;
    json_t *item;

    if (!json_is_array(perms))
        return bad(err, "manifest[permissions]",
                   "must be an array of {\"permission\", \"purpose\"} objects.");
    json_array_foreach(perms, i, item)
    {
        char param[128];
        const char *key, *perm, *purpose;
        json_t *v;

        if (!json_is_object(item))
            return bad(err, "manifest[permissions]",
                       "must be an array of {\"permission\", \"purpose\"} objects.");
        json_object_foreach(item, key, v)
        {
            if (strcmp(key, "permission") != 0 && strcmp(key, "purpose") != 0) {
                snprintf(param, sizeof(param), "manifest[permissions][%zu][%.40s]", i, key);
                return bad(err, param, "a permission has only permission and purpose.");
            }
        }
        snprintf(param, sizeof(param), "manifest[permissions][%zu][permission]", i);
        perm = json_string_value(json_object_get(item, "permission"));
        if (perm == NULL)
            return bad(err, param, "each permission needs a permission name (a string).");
        if (!inst_manifest_permission_known(perm))
            return cm_err_set(err, 400, CM_ERR_INVALID_REQUEST, NULL, param,
                              "Invalid %s: unknown permission '%.60s'.", param, perm);
        for (size_t j = 0; j < m->npermissions; j++)
            if (strcmp(m->permissions[j].permission, perm) == 0)
                return cm_err_set(err, 400, CM_ERR_INVALID_REQUEST, NULL, param,
                                  "Invalid %s: the permission '%s' is listed more than once.",
                                  param, perm);
        snprintf(param, sizeof(param), "manifest[permissions][%zu][purpose]", i);
        purpose = json_string_value(json_object_get(item, "purpose"));
        if (purpose == NULL || blank(purpose))
            return bad(err, param,
                       "each permission needs a purpose, shown to the user who installs the app.");
        if (utf8_chars(purpose) > INST_MANIFEST_PURPOSE_MAX)
            return bad(err, param, "a purpose may be at most 1000 characters long.");
        /* Known and unique: never more than the array holds (static assert). */
        m->permissions[m->npermissions].permission = perm;
        m->permissions[m->npermissions].purpose = purpose;
        m->npermissions++;
    }
    return 0;
}

static int check_uris(const json_t *uris, int livemode, struct inst_manifest *m, struct cm_err *err)
{
    size_t i;
    json_t *item;

    if (!json_is_array(uris) || json_array_size(uris) > INST_MANIFEST_MAX_URIS)
        return bad(err, "manifest[allowed_redirect_uris]", "must be an array of at most 20 URIs.");
    json_array_foreach(uris, i, item)
    {
        char param[64];

        if (!json_is_string(item))
            return bad(err, "manifest[allowed_redirect_uris]",
                       "must be an array of at most 20 URIs.");
        snprintf(param, sizeof(param), "manifest[allowed_redirect_uris][%zu]", i);
        if (inst_manifest_check_uri(json_string_value(item), livemode, param, err) < 0)
            return -1;
        m->uris[m->nuris++] = json_string_value(item);
    }
    return 0;
}

static int check(json_t *doc, const char *app_id, int livemode, struct inst_manifest *m,
                 struct cm_err *err)
{
    const char *key;
    json_t *v;

    json_object_foreach(doc, key, v)
    {
        if (!in_list(known_keys, key)) {
            char param[128];

            snprintf(param, sizeof(param), "manifest[%.100s]", key);
            return cm_err_set(err, 400, CM_ERR_INVALID_REQUEST, NULL, param,
                              "Invalid manifest: unknown key '%.100s'.", key);
        }
    }
    m->id = json_string_value(json_object_get(doc, "id"));
    if (m->id == NULL)
        return bad(err, "manifest[id]", "the manifest needs the app's id (a string).");
    if (strcmp(m->id, app_id) != 0)
        return cm_err_set(err, 400, CM_ERR_INVALID_REQUEST, NULL, "manifest[id]",
                          "Invalid manifest[id]: '%.128s' is not this app's id ('%s').", m->id,
                          app_id);
    m->version = json_string_value(json_object_get(doc, "version"));
    if (m->version == NULL || strlen(m->version) > INST_MANIFEST_VERSION_MAX || !semver(m->version))
        return bad(err, "manifest[version]",
                   "the version must be MAJOR.MINOR.PATCH (for example 1.2.3), with an optional "
                   "-prerelease, at most 64 characters.");
    m->name = json_string_value(json_object_get(doc, "name"));
    if (m->name == NULL || blank(m->name) || utf8_chars(m->name) > INST_MANIFEST_NAME_MAX)
        return bad(err, "manifest[name]", "the name must be 1 to 80 characters long.");
    v = json_object_get(doc, "icon");
    if (v != NULL && !json_is_string(v))
        return bad(err, "manifest[icon]", "the icon must be a path (a string).");
    m->icon = json_string_value(v);
    v = json_object_get(doc, "permissions");
    if (v != NULL && check_permissions(v, m, err) < 0)
        return -1;
    v = json_object_get(doc, "allowed_redirect_uris");
    if (v != NULL && check_uris(v, livemode, m, err) < 0)
        return -1;
    return 0;
}

int inst_manifest_parse(const char *text, size_t len, const char *app_id, int livemode,
                        struct inst_manifest *out, struct cm_err *err)
{
    json_error_t jerr;
    json_t *doc;

    memset(out, 0, sizeof(*out));
    doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (doc == NULL || !json_is_object(doc)) {
        json_decref(doc);
        return bad(err, "manifest", "the manifest must be a JSON object (stripe-app.json).");
    }
    if (check(doc, app_id, livemode, out, err) < 0) {
        json_decref(doc);
        memset(out, 0, sizeof(*out));
        return -1;
    }
    out->doc = doc;
    return 0;
}

void inst_manifest_release(struct inst_manifest *m)
{
    if (m == NULL)
        return;
    json_decref(m->doc);
    memset(m, 0, sizeof(*m));
}
