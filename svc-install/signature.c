/* install_signature: the payload an app's backend rebuilds from the redirect's
 * query (state, user_id, account_id) and the Stripe-Signature-style header
 * that signs it. The payload must be the bytes JavaScript's JSON.stringify
 * gives, because that is what the SDKs' documented verifiers hash: keys in the
 * order state, user_id, account_id, no whitespace, and JSON.stringify's
 * string escaping (QuoteJSONString in ECMA-262): '"' and '\' escaped, the
 * controls U+0000..U+001F as \b \f \n \r \t or \u00xx (lowercase hex), and
 * everything else, '/' and non-ASCII included, as is. Input is checked to be
 * UTF-8 first, so no lone surrogate (which JSON.stringify would escape) can
 * reach the output. */
#include <stdlib.h>
#include <string.h>

#include "cm/sig.h"
#include "signature.h"
#include "cm/banned.h"

/* 1 when s is well-formed UTF-8 (no overlong forms, no surrogates, nothing
 * above U+10FFFF), else 0. */
static int utf8_ok(const unsigned char *s)
{
    while (*s) {
        unsigned c = *s, cp;
        int n;

        if (c < 0x80) {
            s++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf)
            n = 1, cp = c & 0x1f;
        else if (c >= 0xe0 && c <= 0xef)
            n = 2, cp = c & 0x0f;
        else if (c >= 0xf0 && c <= 0xf4)
            n = 3, cp = c & 0x07;
        else
            return 0;
        for (int i = 1; i <= n; i++) {
            if ((s[i] & 0xc0) != 0x80)
                return 0;
            cp = (cp << 6) | (s[i] & 0x3f);
        }
        if ((n == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
            (n == 3 && (cp < 0x10000 || cp > 0x10ffff)))
            return 0;
        s += n + 1;
    }
    return 1;
}

/* Bytes the quoted, escaped form of s takes (without a NUL). */
static size_t quoted_len(const unsigned char *s)
{
    size_t n = 2;

    for (; *s; s++) {
        if (*s == '"' || *s == '\\' || *s == '\b' || *s == '\f' || *s == '\n' || *s == '\r' ||
            *s == '\t')
            n += 2;
        else if (*s < 0x20)
            n += 6;
        else
            n += 1;
    }
    return n;
}

/* Writes the quoted, escaped form of s at out; returns the end. */
static char *quote(char *out, const unsigned char *s)
{
    static const char hex[] = "0123456789abcdef";

    *out++ = '"';
    for (; *s; s++) {
        char esc = 0;

        switch (*s) {
        case '"':
            esc = '"';
            break;
        case '\\':
            esc = '\\';
            break;
        case '\b':
            esc = 'b';
            break;
        case '\f':
            esc = 'f';
            break;
        case '\n':
            esc = 'n';
            break;
        case '\r':
            esc = 'r';
            break;
        case '\t':
            esc = 't';
            break;
        default:
            break;
        }
        if (esc) {
            *out++ = '\\';
            *out++ = esc;
        } else if (*s < 0x20) {
            memcpy(out, "\\u00", 4);
            out[4] = hex[*s >> 4];
            out[5] = hex[*s & 0xf];
            out += 6;
        } else {
            *out++ = (char)*s;
        }
    }
    *out++ = '"';
    return out;
}

char *inst_signature_payload(const char *state, const char *user_id, const char *account_id)
{
    /* Keys in JSON.stringify's order: the order the object literal names them. */
    const char *keys[] = {"{\"state\":", ",\"user_id\":", ",\"account_id\":"};
    const char *values[] = {state, user_id, account_id};
    size_t len = 2; /* "{" is in keys[0]; "}" and the NUL */
    char *out, *p;
    int first = state == NULL ? 1 : 0;

    if (user_id == NULL || account_id == NULL)
        return NULL;
    for (int i = first; i < 3; i++) {
        if (!utf8_ok((const unsigned char *)values[i]))
            return NULL;
        len += strlen(keys[i]) + quoted_len((const unsigned char *)values[i]);
    }
    out = malloc(len);
    if (out == NULL)
        return NULL;
    p = out;
    for (int i = first; i < 3; i++) {
        /* Without a state the object opens at user_id: {"user_id":...}. */
        const char *k = keys[i];
        size_t klen = strlen(k);

        if (i == first && i > 0) {
            *p++ = '{';
            k++;
            klen--;
        }
        memcpy(p, k, klen);
        p = quote(p + klen, (const unsigned char *)values[i]);
    }
    *p++ = '}';
    *p = '\0';
    return out;
}

int inst_signature_header(const char *secret, long long t, const char *payload, char *out,
                          size_t cap)
{
    if (payload == NULL)
        return -1;
    return cm_sig_header_build(secret, t, payload, strlen(payload), out, cap);
}
