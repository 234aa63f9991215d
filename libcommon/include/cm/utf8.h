/* UTF-8 as the wire needs it: strict (jansson refuses anything else, and so
 * does PostgreSQL), so text that reaches JSON, SQL or a page is checked,
 * clipped or scrubbed here and nowhere else. Well formed means no overlong
 * forms, no surrogates, nothing past U+10FFFF, no sequence cut short. */
#ifndef CM_UTF8_H
#define CM_UTF8_H

#include <stddef.h>

/* The length (2 to 4) of the well-formed multi-byte sequence that starts s
 * and fits in avail bytes, or 0 when there is none (a lone continuation
 * byte, an ASCII byte: the caller's to judge). */
size_t cm_utf8_seq(const unsigned char *s, size_t avail);

/* 1 when s[0..n) is well-formed UTF-8 (NUL bytes count as ASCII), else 0. */
int cm_utf8_valid(const char *s, size_t n);

/* Characters (code points) in the well-formed text s[0..n). */
size_t cm_utf8_chars(const char *s, size_t n);

/* The length of the longest prefix of the well-formed text s[0..len) that
 * is at most max bytes and ends on a character boundary. */
size_t cm_utf8_clip(const char *s, size_t len, size_t max);

/* Removes in place every byte of the NUL-terminated s that is not part of a
 * well-formed sequence (a character cut by a byte-counted format, stray
 * bytes), so s becomes well formed. */
void cm_utf8_scrub(char *s);

#endif
