/* Strict UTF-8: one decoder (cm_utf8_seq) behind the checks, clipping and
 * scrubbing every module needs before text reaches JSON, SQL or HTML. */
#include <string.h>

#include "cm/utf8.h"
#include "cm/banned.h"

size_t cm_utf8_seq(const unsigned char *s, size_t avail)
{
    unsigned c = s[0], cp;
    size_t n;

    if (c >= 0xc2 && c <= 0xdf)
        n = 2, cp = c & 0x1f;
    else if (c >= 0xe0 && c <= 0xef)
        n = 3, cp = c & 0x0f;
    else if (c >= 0xf0 && c <= 0xf4)
        n = 4, cp = c & 0x07;
    else
        return 0;
    if (avail < n)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
        (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
        return 0;
    return n;
}

int cm_utf8_valid(const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;

    while (i < n) {
        size_t k = s[i] < 0x80 ? 1 : cm_utf8_seq(s + i, n - i);

        if (k == 0)
            return 0;
        i += k;
    }
    return 1;
}

size_t cm_utf8_chars(const char *s, size_t n)
{
    size_t count = 0;

    for (size_t i = 0; i < n; i++)
        count += ((unsigned char)s[i] & 0xc0) != 0x80;
    return count;
}

size_t cm_utf8_clip(const char *s, size_t len, size_t max)
{
    if (len <= max)
        return len;
    while (max > 0 && ((unsigned char)s[max] & 0xc0) == 0x80)
        max--;
    return max;
}

void cm_utf8_scrub(char *str)
{
    unsigned char *s = (unsigned char *)str;
    size_t n = strlen(str), i = 0, o = 0;

    while (i < n) {
        size_t k = s[i] < 0x80 ? 1 : cm_utf8_seq(s + i, n - i);

        if (k == 0) {
            i++;
            continue;
        }
        memmove(s + o, s + i, k);
        o += k;
        i += k;
    }
    s[o] = '\0';
}
