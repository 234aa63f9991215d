/* Sign-in sessions: the cookie, the session row behind it (found by the
 * sha256 of the token, which has too much entropy for a timing leak on the
 * index lookup to matter), sign-in through core.user_sign_in() and the CSRF
 * token derived from the session token. Neither the token, the password nor
 * the email is ever logged. */
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "cm/ids.h"
#include "cm/sig.h"
#include "session.h"
#include "cm/banned.h"

static const char csrf_label[] = "inst-csrf";

static int token_ok(const char *t)
{
    size_t n = strlen(t);

    if (n != INST_SESSION_TOKEN)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((t[i] >= '0' && t[i] <= '9') || (t[i] >= 'a' && t[i] <= 'z') ||
              (t[i] >= 'A' && t[i] <= 'Z')))
            return 0;
    return 1;
}

/* hex(sha256(token)) into out (65 bytes). */
static void token_hash(const char *token, char *out)
{
    unsigned char d[CM_SHA256_LEN];

    cm_sha256(token, strlen(token), d);
    cm_hex_encode(d, sizeof(d), out);
}

int inst_cookie_get(const char *header, const char *name, char *out, size_t cap)
{
    size_t nlen = strlen(name);
    const char *p = header;

    while (p != NULL && *p) {
        const char *end = strchr(p, ';');
        size_t len = end ? (size_t)(end - p) : strlen(p);

        while (len > 0 && (*p == ' ' || *p == '\t'))
            p++, len--;
        while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
            len--;
        if (len > nlen && strncmp(p, name, nlen) == 0 && p[nlen] == '=') {
            size_t vlen = len - nlen - 1;

            if (vlen >= cap)
                return 0;
            memcpy(out, p + nlen + 1, vlen);
            out[vlen] = '\0';
            return 1;
        }
        p = end ? end + 1 : NULL;
    }
    return 0;
}

int inst_session_get(struct cm_req *req, struct inst_session *s, struct cm_err *err)
{
    char token[INST_SESSION_TOKEN + 2]; /* one more: a longer value does not fit */
    char hash[2 * CM_SHA256_LEN + 1];
    PGresult *res;
    int found;

    memset(s, 0, sizeof(*s));
    if (!inst_cookie_get(req->cookie, INST_SESSION_COOKIE, token, sizeof(token)) ||
        !token_ok(token))
        return 0;
    token_hash(token, hash);
    res = cm_db_exec(req->db, "inst_session_find", 1, (const char *[]){hash}, err);
    if (res == NULL) {
        OPENSSL_cleanse(token, sizeof(token));
        return -1;
    }
    found = PQntuples(res) == 1 && strlen(cm_db_value(res, 0, 0)) < sizeof(s->user_id);
    if (found) {
        memcpy(s->token, token, sizeof(s->token));
        snprintf(s->user_id, sizeof(s->user_id), "%s", cm_db_value(res, 0, 0));
    }
    OPENSSL_cleanse(token, sizeof(token));
    PQclear(res);
    return found;
}

/* Secure cookies when the page is served over HTTPS, directly or behind a
 * proxy that serves CM_BASE_URL. */
static int secure(const struct cm_req *req)
{
    return (req->https != NULL && strcmp(req->https, "off") != 0) ||
           strncmp(req->cfg->base_url, "https://", 8) == 0;
}

static int set_cookie(struct cm_req *req, struct cm_resp *resp, const char *value, long max_age,
                      struct cm_err *err)
{
    char line[256];
    int n = snprintf(line, sizeof(line),
                     "%s=%s; Path=/apps/install; Max-Age=%ld; HttpOnly; "
                     "SameSite=Lax%s",
                     INST_SESSION_COOKIE, value, max_age, secure(req) ? "; Secure" : "");
    int rc = n > 0 && (size_t)n < sizeof(line) ? cm_resp_header(resp, "Set-Cookie", line) : -1;

    OPENSSL_cleanse(line, sizeof(line));
    return rc < 0 ? cm_err_internal(err, "out of memory setting the session cookie") : 0;
}

static int delete_row(struct cm_req *req, const char *token, struct cm_err *err)
{
    char hash[2 * CM_SHA256_LEN + 1];
    PGresult *res;

    token_hash(token, hash);
    res = cm_db_exec(req->db, "inst_session_delete", 1, (const char *[]){hash}, err);
    PQclear(res);
    return res == NULL ? -1 : 0;
}

int inst_session_sign_in(struct cm_req *req, struct cm_resp *resp, const char *email,
                         const char *password, struct inst_session *s, struct cm_err *err)
{
    struct inst_session old;
    char hash[2 * CM_SHA256_LEN + 1], ttl[16];
    PGresult *res = NULL;
    const char *outcome, *user;
    int ret = -1;

    memset(s, 0, sizeof(*s));
    res = cm_db_exec(req->db, "inst_session_sign_in", 3,
                     (const char *[]){email, password, req->remote_addr ? req->remote_addr : ""},
                     err);
    if (res == NULL)
        return -1;
    outcome = PQntuples(res) == 1 ? cm_db_value(res, 0, 1) : NULL;
    user = outcome ? cm_db_value(res, 0, 0) : NULL;
    if (outcome == NULL) {
        cm_err_internal(err, "core.user_sign_in returned %d rows", PQntuples(res));
        goto out;
    }
    if (strcmp(outcome, "ok") != 0) {
        ret = strcmp(outcome, "throttled") == 0 ? INST_SIGN_IN_THROTTLED : INST_SIGN_IN_INVALID;
        goto out;
    }
    if (user == NULL || strlen(user) >= sizeof(s->user_id)) {
        cm_err_internal(err, "core.user_sign_in returned no usable user id");
        goto out;
    }
    /* A session the browser already had ends here: a new sign-in always
     * gets a new token, so no one can plant a token before it. */
    if (inst_session_get(req, &old, err) < 0 ||
        (old.token[0] && delete_row(req, old.token, err) < 0))
        goto out;
    OPENSSL_cleanse(&old, sizeof(old));
    snprintf(s->user_id, sizeof(s->user_id), "%s", user);
    if (cm_random_base62(s->token, INST_SESSION_TOKEN, err) < 0)
        goto out;
    token_hash(s->token, hash);
    snprintf(ttl, sizeof(ttl), "%d", INST_SESSION_TTL);
    PQclear(res);
    res =
        cm_db_exec(req->db, "inst_session_insert", 3, (const char *[]){hash, s->user_id, ttl}, err);
    if (res == NULL || set_cookie(req, resp, s->token, INST_SESSION_TTL, err) < 0)
        goto out;
    ret = INST_SIGN_IN_OK;
out:
    PQclear(res);
    if (ret != INST_SIGN_IN_OK)
        OPENSSL_cleanse(s, sizeof(*s));
    return ret;
}

int inst_session_end(struct cm_req *req, struct cm_resp *resp, const struct inst_session *s,
                     struct cm_err *err)
{
    if (s->token[0] && delete_row(req, s->token, err) < 0)
        return -1;
    return set_cookie(req, resp, "", 0, err);
}

int inst_session_csrf(const struct inst_session *s, char *out)
{
    unsigned char mac[CM_SHA256_LEN];

    out[0] = '\0';
    if (!s->token[0] ||
        cm_hmac_sha256(s->token, strlen(s->token), csrf_label, sizeof(csrf_label) - 1, mac) < 0)
        return -1;
    cm_hex_encode(mac, sizeof(mac), out);
    return 0;
}

int inst_session_csrf_ok(const struct inst_session *s, const char *given)
{
    char want[INST_CSRF_MAX];

    if (given == NULL || strlen(given) != INST_CSRF_MAX - 1 || inst_session_csrf(s, want) < 0)
        return 0;
    return cm_const_eq(want, given, INST_CSRF_MAX - 1);
}
