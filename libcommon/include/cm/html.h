/* Server-rendered HTML pages: a growing buffer that escapes everything it is
 * given unless told the text is markup, the page skeleton (one inline style
 * sheet of the caller's, an optional meta refresh, no script), and the
 * response with its security headers. Nothing on a page runs script, loads
 * anything or may be framed:
 *
 *   Content-Security-Policy: default-src 'none'; style-src 'sha256-<the page's
 *     style sheet>'; base-uri 'none'; frame-ancestors 'none'
 *   X-Frame-Options: DENY, X-Content-Type-Options: nosniff,
 *   Referrer-Policy: same-origin (a page's query, with its state or client
 *     secret, never leaves for another site in a Referer; not no-referrer,
 *     with which browsers send "Origin: null" on the page's own form POSTs,
 *     which the sign-in's login-CSRF check must refuse),
 *   Cross-Origin-Opener-Policy: same-origin
 * (Cache-Control: no-store comes with every response of the server.) There is
 * deliberately no form-action directive: browsers apply it to the redirect
 * that follows a form's POST too, and an install page's POST ends in a 303 to
 * the app's own site, which form-action 'self' would block.
 *
 * Errors are sticky, as in a stream: appending never fails visibly; a buffer
 * that ran out of memory says so at cm_html_respond(). */
#ifndef CM_HTML_H
#define CM_HTML_H

#include <stddef.h>

#include "cm/err.h"
#include "cm/http.h"

#define CM_HTML_HASH_MAX 48  /* base64 of a SHA-256 (44) and a NUL, rounded up */
#define CM_HTML_CSP_MAX  160 /* room for any cm_html_csp() value */

struct cm_html {
    char *data; /* NUL-terminated when len > 0; owned */
    size_t len, cap;
    int failed;                        /* an allocation failed: the content is incomplete */
    char style_hash[CM_HTML_HASH_MAX]; /* base64 SHA-256 of the page's style sheet, or "" */
};

/* An empty buffer (no allocation), with no style sheet. */
void cm_html_init(struct cm_html *h);
/* Frees the contents; the buffer is empty again, with no style sheet. */
void cm_html_release(struct cm_html *h);

/* Appends trusted markup (a literal of the page's own) as it is. NULL
 * appends nothing. */
void cm_html_raw(struct cm_html *h, const char *markup);
/* Appends text, escaped for an element's content or a double-quoted
 * attribute value: & < > " ' become entities; bytes that are not UTF-8 become
 * U+FFFD (one per byte) and controls other than tab and newline are dropped,
 * so nothing the client sent can end a tag, an attribute or the page's
 * encoding. NULL appends nothing. */
void cm_html_text(struct cm_html *h, const char *text);
/* Appends s percent-encoded for a URL path segment or query value: every
 * byte but the RFC 3986 unreserved ones (A-Z a-z 0-9 - . _ ~) as %XX
 * (uppercase), so a space is %20. NULL appends nothing. */
void cm_html_urlencode(struct cm_html *h, const char *s);

/* Opens a page: doctype, head with the escaped title and the style sheet,
 * body and a <main>. style (trusted, the page's own constant; NULL for none)
 * goes between <style> and </style> byte for byte, and its hash is kept in h
 * for the CSP. refresh_url, when not NULL, adds a meta refresh to it after
 * refresh_seconds (negative counts as 0): a page that polls without script.
 * It is escaped as attribute text here; the caller builds it from encoded
 * parts (cm_html_urlencode()). Call once per page. */
void cm_html_begin(struct cm_html *h, const char *title, const char *style, const char *refresh_url,
                   int refresh_seconds);
/* Closes what cm_html_begin() opened. */
void cm_html_end(struct cm_html *h);

/* The Content-Security-Policy value for h's page into out (cap bytes;
 * CM_HTML_CSP_MAX always suffices): style-src names the hash of the style
 * sheet h was begun with, and is left out (styles fall to default-src 'none')
 * when there is none. 0, or -1 when it does not fit. */
int cm_html_csp(const struct cm_html *h, char *out, size_t cap);

/* Answers with the page: status, Content-Type text/html; charset=utf-8, the
 * security headers; takes h's contents (h is empty afterwards, also on
 * failure). 0, or -1 with a 500 *err (the buffer had failed or is empty, or
 * memory). */
int cm_html_respond(struct cm_resp *resp, int status, struct cm_html *h, struct cm_err *err);

/* Answers 303 See Other to location (sent as given: the caller builds it
 * from encoded parts), with the security headers (no style) and an empty
 * body. 0, or -1 with a 500 *err and resp untouched when location is NULL or
 * holds CR or LF (no header injection; a C string cannot carry a NUL), or
 * -1 with a 500 *err on memory. */
int cm_html_redirect(struct cm_resp *resp, const char *location, struct cm_err *err);

#endif
