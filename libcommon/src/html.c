/* The HTML buffer, its escaping, the page skeleton and the security headers
 * every page carries (cm/html.h). Each service keeps its style sheet as a
 * constant; the page remembers the hash of the one it was begun with and the
 * CSP allows exactly that sheet, so even markup that slipped through could
 * neither style nor script anything. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "cm/html.h"
#include "cm/utf8.h"
#include "cm/sig.h"
#include "cm/banned.h"

void cm_html_init(struct cm_html *h)
{
    memset(h, 0, sizeof(*h));
}

void cm_html_release(struct cm_html *h)
{
    free(h->data);
    cm_html_init(h);
}

/* Room for n more bytes and a NUL; 0, or -1 (failed is set). */
static int grow(struct cm_html *h, size_t n)
{
    size_t want, cap;
    char *p;

    if (h->failed)
        return -1;
    if (n > ((size_t)-1) / 2 - h->len - 1) {
        h->failed = 1;
        return -1;
    }
    want = h->len + n + 1;
    if (want <= h->cap)
        return 0;
    cap = h->cap ? h->cap : 1024;
    while (cap < want)
        cap *= 2;
    p = realloc(h->data, cap);
    if (p == NULL) {
        h->failed = 1;
        return -1;
    }
    h->data = p;
    h->cap = cap;
    return 0;
}

static void put(struct cm_html *h, const char *s, size_t n)
{
    if (grow(h, n) < 0)
        return;
    memcpy(h->data + h->len, s, n);
    h->len += n;
    h->data[h->len] = '\0';
}

void cm_html_raw(struct cm_html *h, const char *markup)
{
    if (markup != NULL)
        put(h, markup, strlen(markup));
}

void cm_html_text(struct cm_html *h, const char *text)
{
    static const char *const entity[128] = {
        ['&'] = "&amp;", ['<'] = "&lt;", ['>'] = "&gt;", ['"'] = "&quot;", ['\''] = "&#39;",
    };
    const unsigned char *s = (const unsigned char *)text;

    while (s != NULL && *s) {
        const unsigned char *run = s;
        size_t n;

        /* Copy the longest stretch that needs nothing done in one go. */
        while (*s >= 0x20 && *s < 0x7f && entity[*s] == NULL)
            s++;
        if (s > run)
            put(h, (const char *)run, (size_t)(s - run));
        if (*s == '\0')
            return;
        if (*s < 0x80) {
            if (entity[*s] != NULL)
                cm_html_raw(h, entity[*s]);
            else if (*s == '\t' || *s == '\n')
                put(h, (const char *)s, 1);
            s++; /* other controls and DEL are dropped */
            continue;
        }
        /* The NUL ends any sequence early: 4 never reads past it. */
        n = cm_utf8_seq(s, 4);
        if (n == 0) {
            cm_html_raw(h, "\xef\xbf\xbd"); /* U+FFFD */
            s++;
            continue;
        }
        put(h, (const char *)s, n);
        s += n;
    }
}

void cm_html_urlencode(struct cm_html *h, const char *str)
{
    static const char hex[] = "0123456789ABCDEF";

    for (const unsigned char *s = (const unsigned char *)str; s != NULL && *s; s++) {
        char esc[3] = {'%', hex[*s >> 4], hex[*s & 0xf]};

        if ((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
            *s == '-' || *s == '.' || *s == '_' || *s == '~')
            put(h, (const char *)s, 1);
        else
            put(h, esc, 3);
    }
}

void cm_html_begin(struct cm_html *h, const char *title, const char *style, const char *refresh_url,
                   int refresh_seconds)
{
    cm_html_raw(h, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                   "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
                   "<meta name=\"referrer\" content=\"same-origin\">");
    if (refresh_url != NULL) {
        char secs[16];

        snprintf(secs, sizeof(secs), "%d", refresh_seconds < 0 ? 0 : refresh_seconds);
        cm_html_raw(h, "<meta http-equiv=\"refresh\" content=\"");
        cm_html_raw(h, secs);
        cm_html_raw(h, "; url=");
        cm_html_text(h, refresh_url);
        cm_html_raw(h, "\">");
    }
    cm_html_raw(h, "<title>");
    cm_html_text(h, title);
    cm_html_raw(h, "</title>");
    h->style_hash[0] = '\0';
    if (style != NULL) {
        unsigned char digest[CM_SHA256_LEN];

        /* The hash covers the bytes between <style> and </style> exactly. */
        cm_sha256(style, strlen(style), digest);
        EVP_EncodeBlock((unsigned char *)h->style_hash, digest, sizeof(digest));
        cm_html_raw(h, "<style>");
        cm_html_raw(h, style);
        cm_html_raw(h, "</style>");
    }
    cm_html_raw(h, "</head><body><main>\n");
}

void cm_html_end(struct cm_html *h)
{
    cm_html_raw(h, "</main></body></html>\n");
}

int cm_html_csp(const struct cm_html *h, char *out, size_t cap)
{
    int n;

    if (h->style_hash[0] != '\0')
        n = snprintf(out, cap,
                     "default-src 'none'; style-src 'sha256-%s'; base-uri 'none'; "
                     "frame-ancestors 'none'",
                     h->style_hash);
    else
        n = snprintf(out, cap, "default-src 'none'; base-uri 'none'; frame-ancestors 'none'");
    return n < 0 || (size_t)n >= cap ? -1 : 0;
}

/* The security headers of the module's contract, for h's page. */
static int add_headers(struct cm_resp *resp, const struct cm_html *h, struct cm_err *err)
{
    char csp[CM_HTML_CSP_MAX];

    if (cm_html_csp(h, csp, sizeof(csp)) < 0 ||
        cm_resp_header(resp, "Content-Security-Policy", csp) < 0 ||
        cm_resp_header(resp, "X-Frame-Options", "DENY") < 0 ||
        cm_resp_header(resp, "X-Content-Type-Options", "nosniff") < 0 ||
        cm_resp_header(resp, "Referrer-Policy", "same-origin") < 0 ||
        cm_resp_header(resp, "Cross-Origin-Opener-Policy", "same-origin") < 0)
        return cm_err_internal(err, "out of memory adding page headers");
    return 0;
}

int cm_html_respond(struct cm_resp *resp, int status, struct cm_html *h, struct cm_err *err)
{
    if (h->failed || h->data == NULL) {
        cm_html_release(h);
        return cm_err_internal(err, "out of memory rendering a page");
    }
    if (add_headers(resp, h, err) < 0) {
        cm_html_release(h);
        return -1;
    }
    cm_resp_raw(resp, status, "text/html; charset=utf-8", h->data, h->len);
    cm_html_init(h); /* the response owns the data now */
    return 0;
}

int cm_html_redirect(struct cm_resp *resp, const char *location, struct cm_err *err)
{
    struct cm_html none;

    /* Checked before any header is added, so a refused location leaves
     * nothing behind (cm_resp_header() would refuse it too, but only after
     * the security headers had gone in). */
    if (location == NULL || strpbrk(location, "\r\n") != NULL)
        return cm_err_internal(err, "a redirect location that cannot be a header");
    cm_html_init(&none);
    if (add_headers(resp, &none, err) < 0)
        return -1;
    if (cm_resp_header(resp, "Location", location) < 0)
        return cm_err_internal(err, "out of memory adding a redirect location");
    cm_resp_raw(resp, 303, "text/html; charset=utf-8", NULL, 0);
    return 0;
}
