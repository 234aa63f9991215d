/* Sign-in sessions of the install pages (sql/core/0011_user_sessions.sql).
 *
 * A session is 43 random base62 characters (about 256 bits) in the cookie
 * inst_session (Path=/apps/install; HttpOnly; SameSite=Lax; Max-Age of the
 * session; Secure when the request came over HTTPS or CM_BASE_URL is https).
 * Only its sha256 reaches the database, and it lasts INST_SESSION_TTL
 * seconds or until sign-out. Sign-in checks the password in SQL
 * (core.user_sign_in: bcrypt, and the throttle on failed attempts by email
 * and by client address).
 *
 * CSRF: a form's csrf_token is HMAC-SHA256(key = the session token,
 * "inst-csrf") in hex. It needs no storage, dies with the session, and a
 * page that shows it reveals nothing about the cookie. */
#ifndef INST_SESSION_H
#define INST_SESSION_H

#include "cm/err.h"
#include "cm/http.h"

#define INST_SESSION_COOKIE "inst_session"
#define INST_SESSION_TTL    (12 * 3600)
#define INST_SESSION_TOKEN  43 /* characters of a token */
#define INST_CSRF_MAX       65 /* 64 hex and the NUL */

/* Statements of this module: entries for the statement array of the module
 * that uses it (pages.c), as a list of initializers. */
/* clang-format off */
#define INST_SESSION_STMTS                                                                         \
    {"inst_session_find",                                                                          \
     "SELECT s.user_id FROM core.user_sessions s"                                                  \
     " WHERE s.token_hash = decode($1, 'hex') AND s.expires_at > now()", 1},                       \
    {"inst_session_sign_in",                                                                       \
     "SELECT user_id, outcome FROM core.user_sign_in($1, $2, $3)", 3},                             \
    {"inst_session_insert",                                                                        \
     "WITH gone AS (DELETE FROM core.user_sessions"                                                \
     "              WHERE user_id = $2 AND expires_at <= now())"                                   \
     " INSERT INTO core.user_sessions (token_hash, user_id, expires_at)"                           \
     " VALUES (decode($1, 'hex'), $2, now() + make_interval(secs => $3::integer))", 3},            \
    {"inst_session_delete",                                                                        \
     "DELETE FROM core.user_sessions WHERE token_hash = decode($1, 'hex')", 1}
/* clang-format on */

struct inst_session {
    char user_id[72];
    char token[INST_SESSION_TOKEN + 1]; /* secret: never logged or shown */
};

enum inst_sign_in { INST_SIGN_IN_OK, INST_SIGN_IN_INVALID, INST_SIGN_IN_THROTTLED };

/* The live session named by req's cookie: 1 with *s filled; 0 when there is
 * none (no cookie, a malformed, unknown or expired token; *s zeroed); -1 with
 * a 500 *err. */
int inst_session_get(struct cm_req *req, struct inst_session *s, struct cm_err *err);

/* Signs in with email and password for req's client address. On
 * INST_SIGN_IN_OK a new session is stored, its cookie set on resp and *s
 * filled (a session the request already had is ended first: no fixation).
 * Returns the outcome (>= 0), or -1 with a 500 *err. */
int inst_session_sign_in(struct cm_req *req, struct cm_resp *resp, const char *email,
                         const char *password, struct inst_session *s, struct cm_err *err);

/* Ends s (deletes its row) and sets an expired cookie on resp. 0, or -1 with a
 * 500 *err. */
int inst_session_end(struct cm_req *req, struct cm_resp *resp, const struct inst_session *s,
                     struct cm_err *err);

/* The session's CSRF token, into out (INST_CSRF_MAX bytes). 0, or -1 when
 * the MAC fails (out is then ""). */
int inst_session_csrf(const struct inst_session *s, char *out);

/* 1 when given is s's CSRF token (compared in constant time), else 0 (also
 * for NULL). */
int inst_session_csrf_ok(const struct inst_session *s, const char *given);

/* The value of cookie `name` in a Cookie header value, into out (cap bytes):
 * 1 when found and it fits, else 0. The first of equal names wins (the
 * browser sends the most specific path first). */
int inst_cookie_get(const char *header, const char *name, char *out, size_t cap);

#endif
