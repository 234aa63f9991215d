/* The multipart/form-data parser (multipart.h). It walks the body once:
 * find the first delimiter, then for each part read its header lines up to
 * the blank line, and take everything up to the next CRLF + delimiter as its
 * data. Quoted parameter values end at the next double quote without
 * backslash escapes, which is what browsers send (the HTML standard escapes
 * '"', CR and LF in names as %22, %0D, %0A and leaves '\' alone); RFC 7578
 * also tells senders not to rely on escapes. */
#include <string.h>
#include <strings.h>

#include "multipart.h"
#include "cm/banned.h"

static int is_bchar(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
           strchr("'()+_,-./:=? ", c) != NULL;
}

static int is_space(char c)
{
    return c == ' ' || c == '\t';
}

/* One parameter of a header value: *p at its start (after ';' and blanks).
 * Writes the lower-case name and the value (quotes removed) into the
 * buffers, cut to fit (*cut set when the value was cut); advances *p past
 * it. 0, or -1 when malformed. */
static int next_param(const char **p, const char *end, char *name, size_t ncap, char *val,
                      size_t vcap, int *cut)
{
    const char *s = *p;
    size_t n = 0, v = 0;

    *cut = 0;
    while (s < end && *s != '=' && *s != ';' && !is_space(*s)) {
        char c = *s++;
        if (n + 1 >= ncap)
            return -1;
        name[n++] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
    }
    name[n] = '\0';
    while (s < end && is_space(*s))
        s++;
    if (n == 0 || s >= end || *s != '=')
        return -1;
    s++;
    while (s < end && is_space(*s))
        s++;
    if (s < end && *s == '"') {
        const char *close = memchr(s + 1, '"', (size_t)(end - s - 1));
        if (close == NULL)
            return -1;
        for (const char *q = s + 1; q < close; q++) {
            if (v + 1 < vcap)
                val[v++] = *q;
            else
                *cut = 1;
        }
        s = close + 1;
    } else {
        while (s < end && *s != ';' && !is_space(*s)) {
            if (*s == '"')
                return -1;
            if (v + 1 < vcap)
                val[v++] = *s;
            else
                *cut = 1;
            s++;
        }
    }
    val[v] = '\0';
    while (s < end && is_space(*s))
        s++;
    if (s < end && *s != ';')
        return -1;
    if (s < end)
        s++;
    while (s < end && is_space(*s))
        s++;
    *p = s;
    return 0;
}

int idn_multipart_boundary(const char *content_type, char *out, size_t cap, struct cm_err *err)
{
    static const char type[] = "multipart/form-data";
    const char *p, *end;
    int found = 0;

    if (content_type == NULL || strncasecmp(content_type, type, sizeof(type) - 1) != 0 ||
        (content_type[sizeof(type) - 1] != '\0' && content_type[sizeof(type) - 1] != ';' &&
         !is_space(content_type[sizeof(type) - 1])))
        return cm_err_set(err, 415, CM_ERR_INVALID_REQUEST, NULL, NULL,
                          "Invalid request: send the upload as multipart/form-data.");
    p = content_type + sizeof(type) - 1;
    end = p + strlen(p);
    while (p < end && is_space(*p))
        p++;
    if (p < end && *p == ';')
        p++;
    while (p < end && is_space(*p))
        p++;
    while (p < end) {
        char name[32], val[IDN_MULTIPART_BOUNDARY_MAX + 2];
        int cut;

        if (next_param(&p, end, name, sizeof(name), val, sizeof(val), &cut) < 0)
            return cm_err_invalid(err, NULL, "Invalid multipart Content-Type parameters.");
        if (strcmp(name, "boundary") != 0)
            continue;
        if (found++)
            return cm_err_invalid(err, NULL, "The multipart boundary is given twice.");
        if (cut || val[0] == '\0' || strlen(val) > IDN_MULTIPART_BOUNDARY_MAX ||
            strlen(val) + 1 > cap || val[strlen(val) - 1] == ' ')
            return cm_err_invalid(err, NULL, "Invalid multipart boundary.");
        for (const char *c = val; *c; c++)
            if (!is_bchar((unsigned char)*c))
                return cm_err_invalid(err, NULL, "Invalid multipart boundary.");
        memcpy(out, val, strlen(val) + 1);
    }
    if (!found)
        return cm_err_invalid(err, NULL, "The multipart Content-Type has no boundary.");
    return 0;
}

/* After a delimiter at *p: "--" closes the body (returns 1); otherwise
 * optional blanks then CRLF start a part (returns 0); -1 when neither. */
static int after_delimiter(const char **p, const char *end)
{
    const char *s = *p;

    if (end - s >= 2 && s[0] == '-' && s[1] == '-') {
        *p = s + 2;
        return 1;
    }
    while (s < end && is_space(*s))
        s++;
    if (end - s < 2 || s[0] != '\r' || s[1] != '\n')
        return -1;
    *p = s + 2;
    return 0;
}

/* Reads the Content-Disposition value [v, vend) into part. */
static int disposition(const char *v, const char *vend, struct idn_part *part, struct cm_err *err)
{
    static const char fd[] = "form-data";
    int has_name = 0;

    if ((size_t)(vend - v) < sizeof(fd) - 1 || strncasecmp(v, fd, sizeof(fd) - 1) != 0)
        return cm_err_invalid(err, NULL, "Each multipart part must be form-data.");
    v += sizeof(fd) - 1;
    while (v < vend && is_space(*v))
        v++;
    if (v < vend && *v != ';')
        return cm_err_invalid(err, NULL, "Each multipart part must be form-data.");
    if (v < vend)
        v++;
    while (v < vend && is_space(*v))
        v++;
    while (v < vend) {
        char name[32], val[sizeof(part->filename)];
        int cut;

        if (next_param(&v, vend, name, sizeof(name), val, sizeof(val), &cut) < 0)
            return cm_err_invalid(err, NULL, "Invalid Content-Disposition in a multipart part.");
        if (strcmp(name, "name") == 0) {
            if (has_name++ || cut || val[0] == '\0' || strlen(val) >= sizeof(part->name))
                return cm_err_invalid(err, NULL, "Invalid field name in a multipart part.");
            memcpy(part->name, val, strlen(val) + 1);
        } else if (strcmp(name, "filename") == 0) {
            /* Cut to fit: the name a client gave its file is only shown. */
            memcpy(part->filename, val, strlen(val) + 1);
            part->has_filename = 1;
        }
    }
    if (!has_name)
        return cm_err_invalid(err, NULL, "A multipart part has no field name.");
    return 0;
}

/* Reads the header lines of a part starting at *p, up to and including the
 * blank line. */
static int headers(const char **p, const char *end, struct idn_part *part, struct cm_err *err)
{
    const char *s = *p;
    int has_disposition = 0;

    for (;;) {
        const char *eol = NULL, *colon, *v, *vend;
        size_t room = (size_t)(end - s);

        for (const char *q = s; q + 1 < end && (size_t)(q - s) <= IDN_MULTIPART_HEADER_MAX; q++)
            if (q[0] == '\r' && q[1] == '\n') {
                eol = q;
                break;
            }
        if (eol == NULL)
            return cm_err_invalid(err, NULL,
                                  room > IDN_MULTIPART_HEADER_MAX
                                      ? "A multipart header line is too long."
                                      : "The multipart body ends inside a part's headers.");
        if (eol == s)
            break;
        colon = memchr(s, ':', (size_t)(eol - s));
        if (colon == NULL || colon == s || is_space(*s))
            return cm_err_invalid(err, NULL, "Malformed header line in a multipart part.");
        for (const char *q = s; q < eol; q++)
            if ((unsigned char)*q < 0x20 && *q != '\t')
                return cm_err_invalid(err, NULL, "Malformed header line in a multipart part.");
        v = colon + 1;
        while (v < eol && is_space(*v))
            v++;
        vend = eol;
        while (vend > v && is_space(vend[-1]))
            vend--;
        if ((size_t)(colon - s) == 19 && strncasecmp(s, "Content-Disposition", 19) == 0) {
            if (has_disposition++)
                return cm_err_invalid(err, NULL,
                                      "A multipart part has two Content-Disposition headers.");
            if (disposition(v, vend, part, err) < 0)
                return -1;
        } else if ((size_t)(colon - s) == 12 && strncasecmp(s, "Content-Type", 12) == 0) {
            size_t n = (size_t)(vend - v);
            if (n >= sizeof(part->content_type))
                n = sizeof(part->content_type) - 1;
            memcpy(part->content_type, v, n);
            part->content_type[n] = '\0';
        }
        s = eol + 2;
    }
    if (!has_disposition)
        return cm_err_invalid(err, NULL, "A multipart part has no Content-Disposition.");
    *p = s + 2;
    return 0;
}

int idn_multipart_parse(const char *body, size_t len, const char *boundary,
                        struct idn_multipart *out, struct cm_err *err)
{
    char delim[IDN_MULTIPART_BOUNDARY_MAX + 5]; /* CRLF "--" boundary */
    size_t blen = boundary ? strlen(boundary) : 0, dlen;
    const char *p, *end = body + len, *hit;
    int rc;

    memset(out, 0, sizeof(*out));
    if (blen == 0 || blen > IDN_MULTIPART_BOUNDARY_MAX)
        return cm_err_invalid(err, NULL, "Invalid multipart boundary.");
    if (body == NULL)
        return cm_err_invalid(err, NULL, "The multipart body is empty.");
    memcpy(delim, "\r\n--", 4);
    memcpy(delim + 4, boundary, blen);
    dlen = blen + 4;

    /* The first delimiter may open the body (no preamble, no CRLF before it). */
    if (len >= dlen - 2 && memcmp(body, delim + 2, dlen - 2) == 0)
        p = body + dlen - 2;
    else if ((hit = memmem(body, len, delim, dlen)) != NULL)
        p = hit + dlen;
    else
        return cm_err_invalid(err, NULL, "The multipart body has no boundary delimiter.");

    while ((rc = after_delimiter(&p, end)) == 0) {
        struct idn_part *part;

        if (out->n == IDN_MULTIPART_MAX_PARTS)
            return cm_err_invalid(err, NULL, "Too many parts in the multipart body (at most %d).",
                                  IDN_MULTIPART_MAX_PARTS);
        part = &out->parts[out->n];
        if (headers(&p, end, part, err) < 0)
            return -1;
        if (idn_multipart_get(out, part->name) != NULL)
            return cm_err_invalid(err, part->name, "The field %s is given twice.", part->name);
        hit = memmem(p, (size_t)(end - p), delim, dlen);
        if (hit == NULL)
            return cm_err_invalid(err, part->name,
                                  "The multipart body ends before its closing delimiter.");
        part->data = p;
        part->len = (size_t)(hit - p);
        out->n++;
        p = hit + dlen;
    }
    if (rc < 0)
        return cm_err_invalid(err, NULL, "Malformed multipart boundary line.");
    return 0;
}

const struct idn_part *idn_multipart_get(const struct idn_multipart *mp, const char *name)
{
    for (size_t i = 0; i < mp->n; i++)
        if (strcmp(mp->parts[i].name, name) == 0)
            return &mp->parts[i];
    return NULL;
}
