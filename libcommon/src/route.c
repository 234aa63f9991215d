/* Path routing: a linear scan over the service's table, segment by segment.
 * Tables hold a dozen routes, so a scan beats any index; matching allocates
 * nothing. {name} segments are captured percent-decoded, because the SDKs
 * send path ids through encodeURIComponent. */
#include <string.h>

#include "cm/http.h"
#include "cm/sig.h"
#include "cm/utf8.h"
#include "cm/banned.h"

/* Decodes seg[0..len) into out; -1 on a bad escape, an embedded NUL, a '/'
 * produced by %2F (ids never hold one), text that is not UTF-8 (no id is,
 * and the database would refuse it), or overflow. */
static int decode_segment(const char *seg, size_t len, char *out, size_t cap)
{
    size_t o = 0;

    for (size_t i = 0; i < len; i++) {
        int c = (unsigned char)seg[i];
        if (c == '%') {
            int hi, lo;
            if (i + 2 >= len)
                return -1;
            hi = cm_hex_digit(seg[i + 1]);
            lo = cm_hex_digit(seg[i + 2]);
            if (hi < 0 || lo < 0)
                return -1;
            c = hi * 16 + lo;
            i += 2;
            if (c == 0 || c == '/')
                return -1;
        }
        if (o + 1 >= cap)
            return -1;
        out[o++] = (char)c;
    }
    out[o] = '\0';
    return o > 0 && cm_utf8_valid(out, o) ? 0 : -1;
}

static int match(const char *pattern, const char *path, struct cm_req *req)
{
    int ncap = 0;

    while (*pattern && *path) {
        if (*pattern == '{') {
            const char *pend = strchr(pattern, '}');
            size_t seglen = strcspn(path, "/");
            if (pend == NULL || ncap >= CM_MAX_CAPTURES ||
                decode_segment(path, seglen, req->captures[ncap], CM_CAPTURE_MAX) < 0)
                return 0;
            ncap++;
            pattern = pend + 1;
            path += seglen;
            continue;
        }
        if (*pattern != *path)
            return 0;
        pattern++;
        path++;
    }
    if (*pattern != '\0' || *path != '\0')
        return 0;
    req->ncaptures = ncap;
    return 1;
}

const struct cm_route *cm_route_match(const struct cm_route *routes, size_t n, const char *method,
                                      const char *path, struct cm_req *req)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(routes[i].method, method) == 0 && match(routes[i].pattern, path, req))
            return &routes[i];
    req->ncaptures = 0;
    return NULL;
}
