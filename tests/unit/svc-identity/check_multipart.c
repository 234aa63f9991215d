/* Tests for the multipart/form-data parser: what browsers, fetch's FormData,
 * curl and python send, every malformed and truncated body, the boundary
 * header's forms, and hostile inputs (no delimiter, binary data holding
 * near-delimiters, too many parts) that must be refused cleanly. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "svc-identity/multipart.h"
#include "cm/banned.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

struct boundary_case {
    const char *ctype;
    int status; /* 0: ok */
    const char *want;
};

static const struct boundary_case boundary_cases[] = {
    {"multipart/form-data; boundary=----WebKitFormBoundaryABC123", 0,
     "----WebKitFormBoundaryABC123"},
    {"multipart/form-data;boundary=x", 0, "x"},
    {"Multipart/Form-Data; BOUNDARY=\"a b:c\"", 0, "a b:c"},
    {"multipart/form-data; charset=utf-8; boundary=q1", 0, "q1"},
    {"multipart/form-data; boundary=\"1234567890123456789012345678901234567890123456789012345678901"
     "234567890\"",
     0, "1234567890123456789012345678901234567890123456789012345678901234567890"},
    {NULL, 415, NULL},
    {"application/x-www-form-urlencoded", 415, NULL},
    {"multipart/mixed; boundary=x", 415, NULL},
    {"multipart/form-datax; boundary=x", 415, NULL},
    {"multipart/form-data", 400, NULL},
    {"multipart/form-data; charset=utf-8", 400, NULL},
    {"multipart/form-data; boundary=", 400, NULL},
    {"multipart/form-data; boundary=\"\"", 400, NULL},
    {"multipart/form-data; boundary=\"trailing \"", 400, NULL},
    {"multipart/form-data; boundary=a{b", 400, NULL},
    {"multipart/form-data; boundary=\"unclosed", 400, NULL},
    {"multipart/form-data; boundary=x; boundary=y", 400, NULL},
    {"multipart/form-data; boundary=12345678901234567890123456789012345678901234567890123456789012"
     "3456789012",
     400, NULL},
};

START_TEST(test_boundary)
{
    const struct boundary_case *c = &boundary_cases[_i];
    char out[IDN_MULTIPART_BOUNDARY_MAX + 1] = "";
    struct cm_err err = {0};
    int rc = idn_multipart_boundary(c->ctype, out, sizeof(out), &err);

    if (c->status == 0) {
        ck_assert_msg(rc == 0, "%s: %s", c->ctype, err.message);
        ck_assert_str_eq(out, c->want);
    } else {
        ck_assert_msg(rc == -1, "%s accepted", c->ctype ? c->ctype : "(null)");
        ck_assert_int_eq(err.status, c->status);
        ck_assert_str_ne(err.message, "");
    }
}
END_TEST

/* A body as a browser sends it: CRLF everywhere. */
#define CRLF "\r\n"

struct ok_case {
    const char *body;
    size_t nparts;
    const char *names[3];
    const char *data[3];
    const char *filenames[3]; /* NULL: no filename parameter */
    const char *ctypes[3];
};

static const struct ok_case ok_cases[] = {
    /* Chrome's FormData: a text field and a file. */
    {"--B" CRLF "Content-Disposition: form-data; name=\"purpose\"" CRLF CRLF "document_front" CRLF
     "--B" CRLF "Content-Disposition: form-data; name=\"file\"; filename=\"front.png\"" CRLF
     "Content-Type: image/png" CRLF CRLF "\x89PNG\r\n\x1a\n" CRLF "--B--" CRLF,
     2,
     {"purpose", "file"},
     {"document_front", "\x89PNG\r\n\x1a\n"},
     {NULL, "front.png"},
     {"", "image/png"}},
    /* Preamble and epilogue are ignored; blanks after a delimiter allowed. */
    {"This is a preamble." CRLF "--B  " CRLF "content-disposition: FORM-DATA;name=a" CRLF CRLF
     "1" CRLF "--B--" CRLF "epilogue --B",
     1,
     {"a"},
     {"1"},
     {NULL},
     {""}},
    /* Empty values, empty file, no final CRLF, filename with backslash. */
    {"--B" CRLF "Content-Disposition: form-data; name=\"a\"" CRLF CRLF CRLF "--B" CRLF
     "Content-Disposition: form-data; name=\"f\"; filename=\"C:\\x\\y.jpg\"" CRLF
     "Content-Type:  image/jpeg  " CRLF "X-Other: ignored" CRLF CRLF CRLF "--B--",
     2,
     {"a", "f"},
     {"", ""},
     {NULL, "C:\\x\\y.jpg"},
     {"", "image/jpeg"}},
    /* Data holding near-delimiters: "--B" without CRLF, CRLF "--" with
     * another boundary, a lone CR. */
    {"--B" CRLF "Content-Disposition: form-data; name=\"d\"" CRLF CRLF "x--B\r\n--C\r--B\nend" CRLF
     "--B--",
     1,
     {"d"},
     {"x--B\r\n--C\r--B\nend"},
     {NULL},
     {""}},
    /* The empty form. */
    {"--B--" CRLF, 0, {NULL}, {NULL}, {NULL}, {NULL}},
};

START_TEST(test_ok)
{
    const struct ok_case *c = &ok_cases[_i];
    struct idn_multipart mp;
    struct cm_err err = {0};

    ck_assert_msg(idn_multipart_parse(c->body, strlen(c->body), "B", &mp, &err) == 0, "case %d: %s",
                  _i, err.message);
    ck_assert_uint_eq(mp.n, c->nparts);
    for (size_t i = 0; i < c->nparts; i++) {
        const struct idn_part *p = idn_multipart_get(&mp, c->names[i]);

        ck_assert_ptr_nonnull(p);
        ck_assert_uint_eq(p->len, strlen(c->data[i]));
        ck_assert(memcmp(p->data, c->data[i], p->len) == 0);
        ck_assert_int_eq(p->has_filename, c->filenames[i] != NULL);
        ck_assert_str_eq(p->filename, c->filenames[i] ? c->filenames[i] : "");
        ck_assert_str_eq(p->content_type, c->ctypes[i]);
    }
    ck_assert_ptr_null(idn_multipart_get(&mp, "missing"));
}
END_TEST

struct bad_case {
    const char *body;
    const char *param; /* expected err.param */
};

static const struct bad_case bad_cases[] = {
    {"", ""},
    {"no delimiter at all", ""},
    {"--Bx" CRLF "Content-Disposition: form-data; name=a" CRLF CRLF "1" CRLF "--B--", ""},
    /* truncated: no closing delimiter */
    {"--B" CRLF "Content-Disposition: form-data; name=a" CRLF CRLF "1", "a"},
    {"--B" CRLF "Content-Disposition: form-data; name=a" CRLF CRLF "1" CRLF, "a"},
    /* ends inside the headers */
    {"--B" CRLF "Content-Disposition: form-data; name=a" CRLF, ""},
    {"--B" CRLF, ""},
    {"--B", ""},
    /* bad delimiter line */
    {"--B x" CRLF "Content-Disposition: form-data; name=a" CRLF CRLF "1" CRLF "--B--", ""},
    {"--B-" CRLF "Content-Disposition: form-data; name=a" CRLF CRLF "1" CRLF "--B--", ""},
    /* dispositions */
    {"--B" CRLF "Content-Type: text/plain" CRLF CRLF "1" CRLF "--B--", ""},
    {"--B" CRLF "Content-Disposition: attachment; name=a" CRLF CRLF "1" CRLF "--B--", ""},
    {"--B" CRLF "Content-Disposition: form-datax; name=a" CRLF CRLF "1" CRLF "--B--", ""},
    {"--B" CRLF "Content-Disposition: form-data" CRLF CRLF "1" CRLF "--B--", ""},
    {"--B" CRLF "Content-Disposition: form-data; name=\"\"" CRLF CRLF "1" CRLF "--B--", ""},
    {"--B" CRLF "Content-Disposition: form-data; name=\"a" CRLF CRLF "1" CRLF "--B--", ""},
    {"--B" CRLF "Content-Disposition: form-data; name=a; name=b" CRLF CRLF "1" CRLF "--B--", ""},
    {"--B" CRLF "Content-Disposition: form-data; name" CRLF CRLF "1" CRLF "--B--", ""},
    {"--B" CRLF "Content-Disposition: form-data; name=a" CRLF
     "Content-Disposition: form-data; name=b" CRLF CRLF "1" CRLF "--B--",
     ""},
    {"--B" CRLF "Content-Disposition: form-data; name=\"a\"x" CRLF CRLF "1" CRLF "--B--", ""},
    /* malformed header lines: no colon, folded, bare LF, control byte */
    {"--B" CRLF "Content-Disposition form-data; name=a" CRLF CRLF "1" CRLF "--B--", ""},
    {"--B" CRLF "Content-Disposition: form-data;" CRLF " name=a" CRLF CRLF "1" CRLF "--B--", ""},
    {"--B\nContent-Disposition: form-data; name=a\n\n1\n--B--", ""},
    {"--B" CRLF "Content-Disposition: form-data; name=a\x01" CRLF CRLF "1" CRLF "--B--", ""},
    /* a name that does not fit */
    {"--B" CRLF "Content-Disposition: form-data; "
     "name=a123456789012345678901234567890123456789012345678901234567890123" CRLF CRLF "1" CRLF
     "--B--",
     ""},
    /* the same field twice */
    {"--B" CRLF "Content-Disposition: form-data; name=a" CRLF CRLF "1" CRLF "--B" CRLF
     "Content-Disposition: form-data; name=a" CRLF CRLF "2" CRLF "--B--",
     "a"},
};

START_TEST(test_bad)
{
    const struct bad_case *c = &bad_cases[_i];
    struct idn_multipart mp;
    struct cm_err err = {0};

    ck_assert_msg(idn_multipart_parse(c->body, strlen(c->body), "B", &mp, &err) == -1,
                  "case %d accepted", _i);
    ck_assert_int_eq(err.status, 400);
    ck_assert_int_eq(err.type, CM_ERR_INVALID_REQUEST);
    ck_assert_str_eq(err.param, c->param);
    ck_assert_str_ne(err.message, "");
}
END_TEST

START_TEST(test_bad_boundary_argument)
{
    struct idn_multipart mp;
    struct cm_err err = {0};
    char longb[IDN_MULTIPART_BOUNDARY_MAX + 2];

    memset(longb, 'b', sizeof(longb) - 1);
    longb[sizeof(longb) - 1] = '\0';
    ck_assert_int_eq(idn_multipart_parse("--B--", 5, "", &mp, &err), -1);
    ck_assert_int_eq(idn_multipart_parse("--B--", 5, NULL, &mp, &err), -1);
    ck_assert_int_eq(idn_multipart_parse("--B--", 5, longb, &mp, &err), -1);
    ck_assert_int_eq(idn_multipart_parse(NULL, 0, "B", &mp, &err), -1);
    ck_assert_int_eq(err.status, 400);
}
END_TEST

/* A header line longer than the limit is refused without reading past it. */
START_TEST(test_header_too_long)
{
    size_t n = IDN_MULTIPART_HEADER_MAX + 64;
    char *body = malloc(n + 64);
    struct idn_multipart mp;
    struct cm_err err = {0};

    ck_assert_ptr_nonnull(body);
    memcpy(body, "--B\r\nX-Long: ", 13);
    memset(body + 13, 'x', n);
    memcpy(body + 13 + n, "\r\n\r\n1\r\n--B--", 12);
    ck_assert_int_eq(idn_multipart_parse(body, 13 + n + 12, "B", &mp, &err), -1);
    ck_assert(strstr(err.message, "too long") != NULL);
    free(body);
}
END_TEST

/* At most IDN_MULTIPART_MAX_PARTS parts: the limit itself passes, one more
 * fails. */
static char *many_parts(size_t n, size_t *len)
{
    char *body = malloc(n * 64 + 16), *p = body;

    for (size_t i = 0; body != NULL && i < n; i++) {
        int w = snprintf(p, 64, "--B\r\nContent-Disposition: form-data; name=f%zu\r\n\r\nv\r\n", i);
        p += w;
    }
    if (body != NULL) {
        memcpy(p, "--B--", 5);
        p += 5;
        *len = (size_t)(p - body);
    }
    return body;
}

START_TEST(test_part_limit)
{
    struct idn_multipart mp;
    struct cm_err err = {0};
    size_t len = 0;
    char *body = many_parts(IDN_MULTIPART_MAX_PARTS, &len);

    ck_assert_int_eq(idn_multipart_parse(body, len, "B", &mp, &err), 0);
    ck_assert_uint_eq(mp.n, IDN_MULTIPART_MAX_PARTS);
    free(body);
    body = many_parts(IDN_MULTIPART_MAX_PARTS + 1, &len);
    ck_assert_int_eq(idn_multipart_parse(body, len, "B", &mp, &err), -1);
    ck_assert(strstr(err.message, "Too many parts") != NULL);
    free(body);
}
END_TEST

/* Binary data with NULs and bytes of every value survives untouched, and a
 * body cut at every length short of its end is refused (never half-read). */
START_TEST(test_binary_and_every_truncation)
{
    const char head[] = "--zz\r\nContent-Disposition: form-data; name=\"file\"; "
                        "filename=\"x.bin\"\r\nContent-Type: application/octet-stream\r\n\r\n";
    const char tail[] = "\r\n--zz--\r\n";
    unsigned char data[512];
    size_t hl = sizeof(head) - 1, tl = sizeof(tail) - 1, len = hl + sizeof(data) + tl;
    char *body = malloc(len);
    struct idn_multipart mp;
    struct cm_err err = {0};

    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (unsigned char)(i * 7 + 3);
    memcpy(body, head, hl);
    memcpy(body + hl, data, sizeof(data));
    memcpy(body + hl + sizeof(data), tail, tl);
    ck_assert_int_eq(idn_multipart_parse(body, len, "zz", &mp, &err), 0);
    ck_assert_uint_eq(mp.n, 1);
    ck_assert_uint_eq(mp.parts[0].len, sizeof(data));
    ck_assert(memcmp(mp.parts[0].data, data, sizeof(data)) == 0);
    /* "--zz--" is complete 2 bytes before the end: shorter must fail. */
    for (size_t cut = 0; cut < len - 2; cut++) {
        /* A fresh allocation of exactly cut bytes lets ASan catch overreads. */
        char *part = malloc(cut ? cut : 1);

        memcpy(part, body, cut);
        ck_assert_msg(idn_multipart_parse(part, cut, "zz", &mp, &err) == -1, "cut %zu", cut);
        free(part);
    }
    free(body);
}
END_TEST

Suite *suite_multipart(void)
{
    Suite *s = suite_create("multipart");
    TCase *tc = tcase_create("multipart");

    tcase_add_loop_test(tc, test_boundary, 0, N(boundary_cases));
    tcase_add_loop_test(tc, test_ok, 0, N(ok_cases));
    tcase_add_loop_test(tc, test_bad, 0, N(bad_cases));
    tcase_add_test(tc, test_bad_boundary_argument);
    tcase_add_test(tc, test_header_too_long);
    tcase_add_test(tc, test_part_limit);
    tcase_add_test(tc, test_binary_and_every_truncation);
    suite_add_tcase(s, tc);
    return s;
}
