/* multipart/form-data bodies (RFC 7578 over RFC 2046 section 5.1), as
 * browsers and fetch's FormData send them: the hosted page's photo forms and
 * the JSON endpoints' uploads.
 *
 * The parser is strict where leniency would let two readers disagree about
 * the same bytes: the boundary must be declared once and be 1 to 70
 * characters of RFC 2046's bchars; every part needs a Content-Disposition of
 * form-data with a name; a part name may appear once; header lines end in
 * CRLF and are bounded; the closing delimiter must be present (a truncated
 * upload is refused, never half-read). Preamble and epilogue are ignored, as
 * RFC 2046 requires. Part data is not copied: it points into the body. */
#ifndef IDN_MULTIPART_H
#define IDN_MULTIPART_H

#include <stddef.h>

#include "cm/err.h"

#define IDN_MULTIPART_MAX_PARTS    16
#define IDN_MULTIPART_BOUNDARY_MAX 70   /* RFC 2046 */
#define IDN_MULTIPART_HEADER_MAX   1024 /* one header line, CRLF excluded */

struct idn_part {
    char name[64];          /* form field name, NUL-terminated */
    char filename[256];     /* as sent (not a path to trust), "" when none */
    int has_filename;       /* a filename parameter was present (a file field) */
    char content_type[128]; /* the part's Content-Type as sent, "" when none */
    const char *data;       /* borrowed from the body */
    size_t len;
};

struct idn_multipart {
    size_t n;
    struct idn_part parts[IDN_MULTIPART_MAX_PARTS];
};

/* Extracts the boundary parameter of a Content-Type header value
 * ("multipart/form-data; boundary=----x" or boundary="quoted") into out
 * (cap bytes, at least IDN_MULTIPART_BOUNDARY_MAX + 1). 0, or -1 with a 400
 * in *err: not multipart/form-data (415), no or a malformed boundary. */
int idn_multipart_boundary(const char *content_type, char *out, size_t cap, struct cm_err *err);

/* Parses body[0..len) delimited by boundary into *out (overwritten). 0, or -1
 * with a 400 invalid_request_error in *err (message says what is wrong;
 * param is the part's name when the fault is in a named part). Parts point
 * into body, which must outlive *out. */
int idn_multipart_parse(const char *body, size_t len, const char *boundary,
                        struct idn_multipart *out, struct cm_err *err);

/* The part named name, borrowed from mp, or NULL. */
const struct idn_part *idn_multipart_get(const struct idn_multipart *mp, const char *name);

#endif
