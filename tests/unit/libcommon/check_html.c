/* Tests for cm/html.h: escaping (a table of hostile inputs), URL encoding,
 * the page skeleton with its style sheet, CSP hash and meta refresh, and the
 * responses with their security headers. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "cm/html.h"
#include "cm/sig.h"
#include "cm/banned.h"

static const struct {
    const char *in;
    const char *want;
} text_cases[] = {
    {"", ""},
    {"plain text 123", "plain text 123"},
    {"<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;"},
    {"\"><img src=x onerror=alert(1)>", "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"},
    {"' onmouseover='x", "&#39; onmouseover=&#39;x"},
    {"a & b &amp;", "a &amp; b &amp;amp;"},
    {"tab\tnew\nline", "tab\tnew\nline"},
    /* Other controls and DEL are dropped. */
    {"a\x01\x1b[31mb\r\x7f", "a[31mb"},
    /* Well-formed UTF-8 passes, in every length. */
    {"caf\xc3\xa9 \xe6\x97\xa5 \xf0\x9f\x98\x80", "caf\xc3\xa9 \xe6\x97\xa5 \xf0\x9f\x98\x80"},
    /* Anything else becomes U+FFFD, one per bad byte. */
    {"\xff", "\xef\xbf\xbd"},
    {"a\xc3", "a\xef\xbf\xbd"},
    {"\xc3<", "\xef\xbf\xbd&lt;"},            /* a cut sequence does not swallow a '<' */
    {"\xc0\xbc", "\xef\xbf\xbd\xef\xbf\xbd"}, /* overlong '<' stays harmless */
    {"\xe0\x80\xbc", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"},
    {"\xed\xa0\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"},
    {"\xf4\x90\x80\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"},
};

START_TEST(test_text)
{
    struct cm_html h;

    cm_html_init(&h);
    cm_html_raw(&h, "["); /* so that an empty result is still a string */
    cm_html_text(&h, text_cases[_i].in);
    cm_html_raw(&h, "]");
    ck_assert_int_eq(h.failed, 0);
    ck_assert_uint_eq(h.len, strlen(text_cases[_i].want) + 2);
    ck_assert_msg(strncmp(h.data + 1, text_cases[_i].want, h.len - 2) == 0, "case %d: got %s", _i,
                  h.data);
    cm_html_release(&h);
}
END_TEST

START_TEST(test_null_appends_nothing)
{
    struct cm_html h;

    cm_html_init(&h);
    cm_html_raw(&h, "x");
    cm_html_raw(&h, NULL);
    cm_html_text(&h, NULL);
    cm_html_urlencode(&h, NULL);
    ck_assert_str_eq(h.data, "x");
    ck_assert_uint_eq(h.len, 1);
    cm_html_release(&h);
}
END_TEST

static const struct {
    const char *in;
    const char *want;
} url_cases[] = {
    {"", ""},
    {"AZaz09-._~", "AZaz09-._~"},
    {"a b&c=d?e/f#g+h%", "a%20b%26c%3Dd%3Fe%2Ff%23g%2Bh%25"},
    {"t=1,v1=ab", "t%3D1%2Cv1%3Dab"},
    {"\r\n\"<>'", "%0D%0A%22%3C%3E%27"},
    {"\xc3\xa9\xff", "%C3%A9%FF"},
};

START_TEST(test_urlencode)
{
    struct cm_html h;

    cm_html_init(&h);
    cm_html_raw(&h, "?");
    cm_html_urlencode(&h, url_cases[_i].in);
    ck_assert_str_eq(h.data + 1, url_cases[_i].want);
    cm_html_release(&h);
}
END_TEST

/* Two services' sheets: each page's CSP names its own. */
static const char *const styles[] = {
    "body{margin:0}main{max-width:34rem}.error{color:#b3093c}",
    "body{font:15px/1.5 system-ui,sans-serif}textarea{font-family:monospace}",
};

/* The "style-src 'sha256-...';" a CSP must carry for style. */
static void want_style_src(const char *style, char *out, size_t cap)
{
    unsigned char digest[CM_SHA256_LEN], b64[48];

    cm_sha256(style, strlen(style), digest);
    EVP_EncodeBlock(b64, digest, sizeof(digest));
    snprintf(out, cap, "style-src 'sha256-%s';", (const char *)b64);
}

/* The page's style sheet is the one the CSP's hash names, byte for byte:
 * otherwise the browser would drop every style. */
START_TEST(test_skeleton_and_csp_hash)
{
    struct cm_html h;
    char csp[CM_HTML_CSP_MAX], want[128], other[128];
    const char *open, *close;

    cm_html_init(&h);
    cm_html_begin(&h, "A <title> & more", styles[_i], NULL, 0);
    cm_html_end(&h);
    ck_assert_int_eq(h.failed, 0);
    ck_assert_ptr_nonnull(strstr(h.data, "<title>A &lt;title&gt; &amp; more</title>"));
    ck_assert_ptr_nonnull(strstr(h.data, "<meta charset=\"utf-8\">"));
    ck_assert_ptr_nonnull(strstr(h.data, "<meta name=\"referrer\" content=\"same-origin\">"));
    ck_assert_ptr_null(strstr(h.data, "<script"));
    ck_assert_ptr_null(strstr(h.data, "http-equiv"));
    ck_assert_int_eq(strncmp(h.data, "<!DOCTYPE html>\n", 16), 0);
    ck_assert_str_eq(h.data + h.len - strlen("</main></body></html>\n"), "</main></body></html>\n");
    open = strstr(h.data, "<style>");
    close = strstr(h.data, "</style>");
    ck_assert_ptr_nonnull(open);
    ck_assert_ptr_nonnull(close);
    open += strlen("<style>");
    ck_assert_uint_eq((size_t)(close - open), strlen(styles[_i]));
    ck_assert_int_eq(strncmp(open, styles[_i], strlen(styles[_i])), 0);

    want_style_src(styles[_i], want, sizeof(want));
    want_style_src(styles[1 - _i], other, sizeof(other));
    ck_assert_int_eq(cm_html_csp(&h, csp, sizeof(csp)), 0);
    ck_assert_ptr_nonnull(strstr(csp, want));
    ck_assert_ptr_null(strstr(csp, other));
    ck_assert_int_eq(strncmp(csp, "default-src 'none'; ", 20), 0);
    ck_assert_ptr_nonnull(strstr(csp, "base-uri 'none'"));
    ck_assert_ptr_nonnull(strstr(csp, "frame-ancestors 'none'"));
    /* form-action would stop the browser following the install redirect. */
    ck_assert_ptr_null(strstr(csp, "form-action"));
    ck_assert_ptr_null(strstr(csp, "script-src"));
    ck_assert_ptr_null(strstr(csp, "unsafe"));
    ck_assert_int_eq(cm_html_csp(&h, csp, 40), -1);
    ck_assert_int_eq(cm_html_csp(&h, csp, strlen(csp)), -1); /* no room for the NUL */
    cm_html_release(&h);
    ck_assert_str_eq(h.style_hash, "");
}
END_TEST

/* No style sheet: no <style>, and nothing styles the page either. */
START_TEST(test_no_style)
{
    struct cm_html h;
    char csp[CM_HTML_CSP_MAX];

    cm_html_init(&h);
    ck_assert_int_eq(cm_html_csp(&h, csp, sizeof(csp)), 0);
    ck_assert_str_eq(csp, "default-src 'none'; base-uri 'none'; frame-ancestors 'none'");
    cm_html_begin(&h, "t", NULL, NULL, 0);
    cm_html_end(&h);
    ck_assert_ptr_null(strstr(h.data, "<style"));
    ck_assert_int_eq(cm_html_csp(&h, csp, sizeof(csp)), 0);
    ck_assert_ptr_null(strstr(csp, "style-src"));
    cm_html_release(&h);
}
END_TEST

static const struct {
    const char *url;
    int seconds;
    const char *want;
} refresh_cases[] = {
    {"verify?client_secret=vs_1_secret_x", 5,
     "<meta http-equiv=\"refresh\" content=\"5; url=verify?client_secret=vs_1_secret_x\">"},
    /* The URL is attribute text: it cannot close the attribute or the tag. */
    {"a?b=1&c=\"><script>", 3,
     "<meta http-equiv=\"refresh\" content=\"3; url=a?b=1&amp;c=&quot;&gt;&lt;script&gt;\">"},
    {"x", -7, "<meta http-equiv=\"refresh\" content=\"0; url=x\">"},
};

START_TEST(test_refresh)
{
    struct cm_html h;
    const char *meta, *title;

    cm_html_init(&h);
    cm_html_begin(&h, "Checking", styles[1], refresh_cases[_i].url, refresh_cases[_i].seconds);
    cm_html_end(&h);
    ck_assert_int_eq(h.failed, 0);
    meta = strstr(h.data, refresh_cases[_i].want);
    title = strstr(h.data, "<title>");
    ck_assert_msg(meta != NULL, "case %d: %s", _i, h.data);
    /* In the head, before anything else of the page's. */
    ck_assert_ptr_nonnull(title);
    ck_assert(meta < title);
    ck_assert_ptr_null(strstr(h.data, "<script"));
    cm_html_release(&h);
}
END_TEST

static const char *const security_headers[] = {
    "Content-Security-Policy: default-src 'none'; ", "X-Frame-Options: DENY\r\n",
    "X-Content-Type-Options: nosniff\r\n",           "Referrer-Policy: same-origin\r\n",
    "Cross-Origin-Opener-Policy: same-origin\r\n",
};

static void assert_security_headers(const struct cm_resp *resp)
{
    char *headers = strndup(resp->headers, resp->headers_len);

    ck_assert_ptr_nonnull(headers);
    for (size_t i = 0; i < sizeof(security_headers) / sizeof(security_headers[0]); i++)
        ck_assert_msg(strstr(headers, security_headers[i]) != NULL, "missing %s in %s",
                      security_headers[i], headers);
    free(headers);
}

START_TEST(test_respond)
{
    struct cm_resp resp = {0};
    struct cm_err err = {0};
    struct cm_html h;
    char csp[CM_HTML_CSP_MAX], line[CM_HTML_CSP_MAX + 64];

    cm_html_init(&h);
    cm_html_begin(&h, "t", styles[_i], NULL, 0);
    cm_html_end(&h);
    ck_assert_int_eq(cm_html_csp(&h, csp, sizeof(csp)), 0);
    ck_assert_int_eq(cm_html_respond(&resp, 403, &h, &err), 0);
    ck_assert_int_eq(resp.status, 403);
    ck_assert_str_eq(resp.content_type, "text/html; charset=utf-8");
    ck_assert_ptr_nonnull(strstr(resp.body, "<!DOCTYPE html>"));
    ck_assert_uint_eq(resp.len, strlen(resp.body));
    ck_assert_ptr_null(h.data); /* the response owns the page */
    ck_assert_uint_eq(h.len, 0);
    ck_assert_str_eq(h.style_hash, "");
    assert_security_headers(&resp);
    /* The header carries the hash of the style this page was begun with. */
    snprintf(line, sizeof(line), "Content-Security-Policy: %s\r\n", csp);
    ck_assert_ptr_nonnull(strstr(resp.headers, line));
    free(resp.body);
    free(resp.headers);
}
END_TEST

START_TEST(test_respond_after_failure)
{
    struct cm_resp resp = {0};
    struct cm_err err = {0};
    struct cm_html h;

    cm_html_init(&h);
    cm_html_raw(&h, "<p>partial");
    h.failed = 1; /* as after an allocation failure */
    cm_html_raw(&h, "ignored");
    cm_html_text(&h, "ignored");
    cm_html_urlencode(&h, "ignored");
    ck_assert_str_eq(h.data, "<p>partial");
    ck_assert_int_eq(cm_html_respond(&resp, 200, &h, &err), -1);
    ck_assert_int_eq(err.status, 500);
    ck_assert_ptr_null(resp.body);
    ck_assert_ptr_null(resp.headers);
    ck_assert_ptr_null(h.data);
    ck_assert_int_eq(h.failed, 0);
    /* An empty buffer is no page either. */
    memset(&err, 0, sizeof(err));
    ck_assert_int_eq(cm_html_respond(&resp, 200, &h, &err), -1);
    ck_assert_int_eq(err.status, 500);
    ck_assert_ptr_null(resp.body);
    free(resp.headers);
}
END_TEST

START_TEST(test_redirect)
{
    struct cm_resp resp = {0};
    struct cm_err err = {0};
    char *headers;

    ck_assert_int_eq(cm_html_redirect(&resp, "https://app.example/cb?x=1&y=%20", &err), 0);
    ck_assert_int_eq(resp.status, 303);
    ck_assert_uint_eq(resp.len, 0);
    ck_assert_ptr_null(resp.body);
    assert_security_headers(&resp);
    headers = strndup(resp.headers, resp.headers_len);
    ck_assert_ptr_nonnull(headers);
    ck_assert_ptr_nonnull(strstr(headers, "\r\nLocation: https://app.example/cb?x=1&y=%20\r\n"));
    /* An empty body has no style to allow. */
    ck_assert_ptr_null(strstr(headers, "style-src"));
    free(headers);
    free(resp.headers);
}
END_TEST

/* No header injection through a location: refused before anything is
 * added to the response. */
static const char *const bad_locations[] = {
    "https://a.example/\r\nSet-Cookie: x=1",
    "https://a.example/\nSet-Cookie: x=1",
    "https://a.example/\r",
    "\n",
    NULL,
};

START_TEST(test_redirect_refused)
{
    struct cm_resp resp = {0};
    struct cm_err err = {0};

    ck_assert_int_eq(cm_html_redirect(&resp, bad_locations[_i], &err), -1);
    ck_assert_int_eq(err.status, 500);
    ck_assert_ptr_null(resp.headers);
    ck_assert_int_eq(resp.status, 0);
}
END_TEST

START_TEST(test_grows)
{
    struct cm_html h;

    cm_html_init(&h);
    for (int i = 0; i < 10000; i++)
        cm_html_text(&h, "<>");
    ck_assert_int_eq(h.failed, 0);
    ck_assert_uint_eq(h.len, 10000 * 8);
    ck_assert_uint_eq(strlen(h.data), h.len);
    cm_html_release(&h);
    ck_assert_ptr_null(h.data);
    ck_assert_uint_eq(h.len, 0);
    ck_assert_uint_eq(h.cap, 0);
}
END_TEST

#define N(a) (sizeof(a) / sizeof((a)[0]))

Suite *suite_html(void)
{
    Suite *s = suite_create("html");
    TCase *tc = tcase_create("html");

    tcase_add_loop_test(tc, test_text, 0, N(text_cases));
    tcase_add_test(tc, test_null_appends_nothing);
    tcase_add_loop_test(tc, test_urlencode, 0, N(url_cases));
    tcase_add_loop_test(tc, test_skeleton_and_csp_hash, 0, N(styles));
    tcase_add_test(tc, test_no_style);
    tcase_add_loop_test(tc, test_refresh, 0, N(refresh_cases));
    tcase_add_loop_test(tc, test_respond, 0, N(styles));
    tcase_add_test(tc, test_respond_after_failure);
    tcase_add_test(tc, test_redirect);
    tcase_add_loop_test(tc, test_redirect_refused, 0, N(bad_locations));
    tcase_add_test(tc, test_grows);
    suite_add_tcase(s, tc);
    return s;
}
