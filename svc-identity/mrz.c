/* Parses the machine-readable zone of an identity document (ICAO Doc 9303
 * parts 3-6) and checks every check digit. The zone is read in two passes:
 * first every character against the set its field allows (a table of spans
 * per format, in reading order, so that the first bad character reported is
 * the first a person would see), then each field's value and check digit.
 * Nothing is corrected or guessed: OCR repair belongs to whoever captured the
 * zone, and a zone that needs it is not evidence of anything. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mrz.h"
#include "cm/banned.h"

/* What a span of the zone may hold. */
enum charset {
    CS_ALPHA,      /* A-Z and '<' */
    CS_ALNUM,      /* A-Z, 0-9 and '<' */
    CS_DIGIT,      /* 0-9 */
    CS_DIGIT_FILL, /* 0-9 or '<' (check digits that may be absent) */
    CS_SEX,        /* M, F or '<' */
};

struct span {
    int line; /* 0-based */
    int start;
    int len;
    enum idn_mrz_field field;
    enum charset cs;
};

#define SPAN_END                                                                                   \
    {                                                                                              \
        -1, 0, 0, IDN_MRZ_LAYOUT, CS_ALPHA                                                         \
    }

/* Doc 9303 part 5 (TD1), part 6 (TD2), part 4 (TD3), in reading order. */
static const struct span td1_spans[] = {
    {0, 0, 2, IDN_MRZ_DOCUMENT_CODE, CS_ALPHA},
    {0, 2, 3, IDN_MRZ_ISSUING_STATE, CS_ALPHA},
    {0, 5, 9, IDN_MRZ_DOCUMENT_NUMBER, CS_ALNUM},
    {0, 14, 1, IDN_MRZ_DOCUMENT_NUMBER, CS_DIGIT_FILL},
    {0, 15, 15, IDN_MRZ_OPTIONAL_DATA, CS_ALNUM},
    {1, 0, 6, IDN_MRZ_BIRTH_DATE, CS_DIGIT},
    {1, 6, 1, IDN_MRZ_BIRTH_DATE, CS_DIGIT},
    {1, 7, 1, IDN_MRZ_SEX, CS_SEX},
    {1, 8, 6, IDN_MRZ_EXPIRY_DATE, CS_DIGIT},
    {1, 14, 1, IDN_MRZ_EXPIRY_DATE, CS_DIGIT},
    {1, 15, 3, IDN_MRZ_NATIONALITY, CS_ALPHA},
    {1, 18, 11, IDN_MRZ_OPTIONAL_DATA, CS_ALNUM},
    {1, 29, 1, IDN_MRZ_COMPOSITE, CS_DIGIT},
    {2, 0, 30, IDN_MRZ_NAMES, CS_ALPHA},
    SPAN_END,
};

static const struct span td2_spans[] = {
    {0, 0, 2, IDN_MRZ_DOCUMENT_CODE, CS_ALPHA},
    {0, 2, 3, IDN_MRZ_ISSUING_STATE, CS_ALPHA},
    {0, 5, 31, IDN_MRZ_NAMES, CS_ALPHA},
    {1, 0, 9, IDN_MRZ_DOCUMENT_NUMBER, CS_ALNUM},
    {1, 9, 1, IDN_MRZ_DOCUMENT_NUMBER, CS_DIGIT_FILL},
    {1, 10, 3, IDN_MRZ_NATIONALITY, CS_ALPHA},
    {1, 13, 6, IDN_MRZ_BIRTH_DATE, CS_DIGIT},
    {1, 19, 1, IDN_MRZ_BIRTH_DATE, CS_DIGIT},
    {1, 20, 1, IDN_MRZ_SEX, CS_SEX},
    {1, 21, 6, IDN_MRZ_EXPIRY_DATE, CS_DIGIT},
    {1, 27, 1, IDN_MRZ_EXPIRY_DATE, CS_DIGIT},
    {1, 28, 7, IDN_MRZ_OPTIONAL_DATA, CS_ALNUM},
    {1, 35, 1, IDN_MRZ_COMPOSITE, CS_DIGIT},
    SPAN_END,
};

static const struct span td3_spans[] = {
    {0, 0, 2, IDN_MRZ_DOCUMENT_CODE, CS_ALPHA},
    {0, 2, 3, IDN_MRZ_ISSUING_STATE, CS_ALPHA},
    {0, 5, 39, IDN_MRZ_NAMES, CS_ALPHA},
    {1, 0, 9, IDN_MRZ_DOCUMENT_NUMBER, CS_ALNUM},
    {1, 9, 1, IDN_MRZ_DOCUMENT_NUMBER, CS_DIGIT},
    {1, 10, 3, IDN_MRZ_NATIONALITY, CS_ALPHA},
    {1, 13, 6, IDN_MRZ_BIRTH_DATE, CS_DIGIT},
    {1, 19, 1, IDN_MRZ_BIRTH_DATE, CS_DIGIT},
    {1, 20, 1, IDN_MRZ_SEX, CS_SEX},
    {1, 21, 6, IDN_MRZ_EXPIRY_DATE, CS_DIGIT},
    {1, 27, 1, IDN_MRZ_EXPIRY_DATE, CS_DIGIT},
    {1, 28, 14, IDN_MRZ_OPTIONAL_DATA, CS_ALNUM},
    {1, 42, 1, IDN_MRZ_OPTIONAL_DATA, CS_DIGIT_FILL},
    {1, 43, 1, IDN_MRZ_COMPOSITE, CS_DIGIT},
    SPAN_END,
};

/* The zone split into lines; the lines point into the caller's text. */
struct zone {
    const char *line[3];
    size_t len[3];
    int nlines;
    enum idn_mrz_format format;
};

static const char *const field_names[] = {
    [IDN_MRZ_LAYOUT] = "layout",
    [IDN_MRZ_DOCUMENT_CODE] = "document code",
    [IDN_MRZ_ISSUING_STATE] = "issuing state",
    [IDN_MRZ_DOCUMENT_NUMBER] = "document number",
    [IDN_MRZ_NATIONALITY] = "nationality",
    [IDN_MRZ_NAMES] = "names",
    [IDN_MRZ_BIRTH_DATE] = "birth date",
    [IDN_MRZ_SEX] = "sex",
    [IDN_MRZ_EXPIRY_DATE] = "expiry date",
    [IDN_MRZ_OPTIONAL_DATA] = "optional data",
    [IDN_MRZ_COMPOSITE] = "composite",
};

const char *idn_mrz_field_name(enum idn_mrz_field field)
{
    if ((size_t)field >= sizeof(field_names) / sizeof(field_names[0]))
        return "unknown";
    return field_names[field];
}

static int fail(struct idn_mrz_error *err, enum idn_mrz_problem problem, enum idn_mrz_field field,
                int line, int column, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

static int fail(struct idn_mrz_error *err, enum idn_mrz_problem problem, enum idn_mrz_field field,
                int line, int column, const char *fmt, ...)
{
    va_list ap;
    int n = 0;

    if (err == NULL)
        return -1;
    err->problem = problem;
    err->field = field;
    err->line = line;
    err->column = column;
    va_start(ap, fmt);
    n = vsnprintf(err->message, sizeof(err->message), fmt, ap);
    va_end(ap);
    if (n >= 0 && line > 0 && (size_t)n < sizeof(err->message)) {
        if (column > 0)
            snprintf(err->message + n, sizeof(err->message) - (size_t)n, " (line %d, column %d)",
                     line, column);
        else
            snprintf(err->message + n, sizeof(err->message) - (size_t)n, " (line %d)", line);
    }
    return -1;
}

/* ---- dates ---- */

static bool leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int y, int m)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

    return m == 2 && leap(y) ? 29 : days[m - 1];
}

bool idn_date_valid(const struct idn_date *d)
{
    return d->year >= 1 && d->year <= 9999 && d->month >= 1 && d->month <= 12 && d->day >= 1 &&
           d->day <= days_in_month(d->year, d->month);
}

int idn_date_cmp(const struct idn_date *a, const struct idn_date *b)
{
    if (a->year != b->year)
        return a->year < b->year ? -1 : 1;
    if (a->month != b->month)
        return a->month < b->month ? -1 : 1;
    if (a->day != b->day)
        return a->day < b->day ? -1 : 1;
    return 0;
}

int idn_date_age(const struct idn_date *birth, const struct idn_date *today)
{
    int age = today->year - birth->year;

    /* Comparing (month, day) pairs gives the 1 March rule for 29 February. */
    if (today->month < birth->month || (today->month == birth->month && today->day < birth->day))
        age--;
    return age;
}

/* ---- characters and check digits ---- */

static int char_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'Z')
        return c - 'A' + 10;
    if (c == '<')
        return 0;
    return -1;
}

int idn_mrz_check_digit(const char *s, size_t len)
{
    static const int weights[] = {7, 3, 1};
    int sum = 0;

    for (size_t i = 0; i < len; i++) {
        int v = char_value(s[i]);

        if (v < 0)
            return -1;
        sum += v * weights[i % 3];
    }
    return '0' + sum % 10;
}

static bool in_charset(char c, enum charset cs)
{
    bool upper = c >= 'A' && c <= 'Z', digit = c >= '0' && c <= '9', fill = c == '<';

    switch (cs) {
    case CS_ALPHA:
        return upper || fill;
    case CS_ALNUM:
        return upper || digit || fill;
    case CS_DIGIT:
        return digit;
    case CS_DIGIT_FILL:
        return digit || fill;
    case CS_SEX:
        return c == 'M' || c == 'F' || fill;
    }
    return false;
}

static const char *charset_hint(enum charset cs)
{
    switch (cs) {
    case CS_ALPHA:
        return "letters and '<'";
    case CS_ALNUM:
        return "letters, digits and '<'";
    case CS_DIGIT:
        return "a digit";
    case CS_DIGIT_FILL:
        return "a digit or '<'";
    case CS_SEX:
        return "M, F or '<'";
    }
    return "";
}

/* ---- layout ---- */

static int split_lines(const char *text, struct zone *z, struct idn_mrz_error *err)
{
    const char *p = text;

    z->nlines = 0;
    while (*p != '\0') {
        const char *start = p;
        size_t len;

        while (*p != '\0' && *p != '\n' && *p != '\r')
            p++;
        len = (size_t)(p - start);
        if (*p == '\r' && p[1] != '\n')
            return fail(err, IDN_MRZ_BAD_CHARACTER, IDN_MRZ_LAYOUT, z->nlines + 1, (int)len + 1,
                        "A carriage return must be followed by a line feed");
        if (z->nlines == 3)
            return fail(err, IDN_MRZ_BAD_LAYOUT, IDN_MRZ_LAYOUT, 0, 0,
                        "A machine-readable zone has 2 or 3 lines, not more");
        z->line[z->nlines] = start;
        z->len[z->nlines] = len;
        z->nlines++;
        if (*p == '\r')
            p++;
        if (*p == '\n')
            p++;
    }
    return 0;
}

static int find_format(struct zone *z, struct idn_mrz_error *err)
{
    if (z->nlines == 3) {
        for (int i = 0; i < 3; i++)
            if (z->len[i] != 30)
                return fail(err, IDN_MRZ_BAD_LAYOUT, IDN_MRZ_LAYOUT, i + 1, 0,
                            "A 3-line zone (TD1) has 30 characters a line, this line has %zu",
                            z->len[i]);
        z->format = IDN_MRZ_TD1;
        return 0;
    }
    if (z->nlines != 2)
        return fail(err, IDN_MRZ_BAD_LAYOUT, IDN_MRZ_LAYOUT, 0, 0,
                    "A machine-readable zone has 2 or 3 lines, this one has %d", z->nlines);
    if (z->len[0] != 36 && z->len[0] != 44)
        return fail(err, IDN_MRZ_BAD_LAYOUT, IDN_MRZ_LAYOUT, 1, 0,
                    "A 2-line zone has 36 (TD2) or 44 (TD3) characters a line, this line has %zu",
                    z->len[0]);
    if (z->len[1] != z->len[0])
        return fail(err, IDN_MRZ_BAD_LAYOUT, IDN_MRZ_LAYOUT, 2, 0,
                    "Line 2 has %zu characters but line 1 has %zu", z->len[1], z->len[0]);
    z->format = z->len[0] == 36 ? IDN_MRZ_TD2 : IDN_MRZ_TD3;
    return 0;
}

static const struct span *spans_of(enum idn_mrz_format format)
{
    switch (format) {
    case IDN_MRZ_TD1:
        return td1_spans;
    case IDN_MRZ_TD2:
        return td2_spans;
    case IDN_MRZ_TD3:
        break;
    }
    return td3_spans;
}

static int check_characters(const struct zone *z, struct idn_mrz_error *err)
{
    for (const struct span *s = spans_of(z->format); s->line >= 0; s++) {
        for (int i = 0; i < s->len; i++) {
            char c = z->line[s->line][s->start + i];

            if (!in_charset(c, s->cs)) {
                if ((unsigned char)c < 0x20 || (unsigned char)c >= 0x7f)
                    return fail(err, IDN_MRZ_BAD_CHARACTER, s->field, s->line + 1, s->start + i + 1,
                                "The %s holds byte 0x%02x where %s belongs",
                                idn_mrz_field_name(s->field), (unsigned char)c,
                                charset_hint(s->cs));
                return fail(err, IDN_MRZ_BAD_CHARACTER, s->field, s->line + 1, s->start + i + 1,
                            "The %s holds '%c' where %s belongs", idn_mrz_field_name(s->field), c,
                            charset_hint(s->cs));
            }
        }
    }
    return 0;
}

/* ---- fields ---- */

/* Copies len characters without the trailing filler; returns the length. */
static size_t copy_trimmed(char *dst, size_t size, const char *src, size_t len)
{
    while (len > 0 && src[len - 1] == '<')
        len--;
    if (len >= size)
        len = size - 1;
    memcpy(dst, src, len);
    dst[len] = '\0';
    return len;
}

static int verify_digit(const char *data, size_t len, char digit, enum idn_mrz_field field,
                        int line, int column, struct idn_mrz_error *err)
{
    int want = idn_mrz_check_digit(data, len);

    if (want != digit)
        return fail(err, IDN_MRZ_BAD_CHECK_DIGIT, field, line, column,
                    "The %s does not match its check digit %c", idn_mrz_field_name(field), digit);
    return 0;
}

/* A state code: one to three letters, then filler ("D<<"). */
static int parse_state(const char *s, enum idn_mrz_field field, int line, int column, char out[4],
                       struct idn_mrz_error *err)
{
    size_t n = copy_trimmed(out, 4, s, 3);

    if (n == 0 || strchr(out, '<') != NULL)
        return fail(err, IDN_MRZ_BAD_VALUE, field, line, column,
                    "The %s must be a code of letters followed by '<'", idn_mrz_field_name(field));
    return 0;
}

static int parse_document_code(const char *s, enum idn_mrz_format format, struct idn_mrz *out,
                               struct idn_mrz_error *err)
{
    if (s[0] == '<')
        return fail(err, IDN_MRZ_BAD_VALUE, IDN_MRZ_DOCUMENT_CODE, 1, 1,
                    "The document code must start with a letter");
    if (s[0] == 'V')
        return fail(err, IDN_MRZ_BAD_VALUE, IDN_MRZ_DOCUMENT_CODE, 1, 1,
                    "This is a visa, not an identity document");
    if (format == IDN_MRZ_TD3 && s[0] != 'P')
        return fail(err, IDN_MRZ_BAD_VALUE, IDN_MRZ_DOCUMENT_CODE, 1, 1,
                    "A passport zone (TD3) must have document code P, not '%c'", s[0]);
    if (format != IDN_MRZ_TD3 && s[0] != 'I' && s[0] != 'A' && s[0] != 'C')
        return fail(err, IDN_MRZ_BAD_VALUE, IDN_MRZ_DOCUMENT_CODE, 1, 1,
                    "An identity card zone must have document code A, C or I, not '%c'", s[0]);
    copy_trimmed(out->document_code, sizeof(out->document_code), s, 2);
    return 0;
}

/* The document number in `number` (9 characters) with its check digit at
 * number[9]. A longer number puts filler in the check digit's place and
 * continues in the optional data `ext` (ext_len characters): the rest of the
 * number, its check digit, then filler (Doc 9303 part 5 note j, part 6 note
 * j). Returns how many characters of ext the number used, or -1. */
static int parse_document_number(const char *number, const char *ext, size_t ext_len, int line,
                                 int column, int ext_column, struct idn_mrz *out,
                                 struct idn_mrz_error *err)
{
    char full[IDN_MRZ_DOCNUM_MAX + 1];
    size_t n, used = 0;
    char digit;

    n = copy_trimmed(full, sizeof(full), number, 9);
    if (n == 0)
        return fail(err, IDN_MRZ_BAD_VALUE, IDN_MRZ_DOCUMENT_NUMBER, line, column,
                    "The document number is empty");
    if (strchr(full, '<') != NULL)
        return fail(err, IDN_MRZ_BAD_VALUE, IDN_MRZ_DOCUMENT_NUMBER, line, column,
                    "The document number has '<' inside it");
    digit = number[9];
    if (digit == '<') {
        size_t k = 0;

        if (ext == NULL || n < 9)
            return fail(err, IDN_MRZ_BAD_CHARACTER, IDN_MRZ_DOCUMENT_NUMBER, line, column + 9,
                        "The document number has no check digit");
        while (k < ext_len && ext[k] != '<')
            k++;
        if (k < 2 || k == ext_len)
            return fail(err, IDN_MRZ_BAD_VALUE, IDN_MRZ_DOCUMENT_NUMBER, line, ext_column,
                        "The rest of a long document number must follow in the optional "
                        "data, then its check digit and '<'");
        digit = ext[k - 1];
        if (digit < '0' || digit > '9')
            return fail(err, IDN_MRZ_BAD_CHARACTER, IDN_MRZ_DOCUMENT_NUMBER, line,
                        ext_column + (int)k - 1, "The long document number's check digit is '%c'",
                        digit);
        memcpy(full + 9, ext, k - 1);
        n = 9 + k - 1;
        full[n] = '\0';
        used = k + 1;
        if (verify_digit(full, n, digit, IDN_MRZ_DOCUMENT_NUMBER, line, ext_column + (int)k - 1,
                         err) < 0)
            return -1;
    } else if (verify_digit(number, 9, digit, IDN_MRZ_DOCUMENT_NUMBER, line, column + 9, err) < 0) {
        return -1;
    }
    memcpy(out->document_number, full, n + 1);
    return (int)used;
}

/* Copies a run of name characters, one '<' becoming one space. */
static void copy_words(char *dst, size_t size, const char *src, size_t len)
{
    size_t j = 0;

    for (size_t i = 0; i < len && j + 1 < size; i++)
        dst[j++] = src[i] == '<' ? ' ' : src[i];
    dst[j] = '\0';
}

static int parse_names(const char *s, size_t len, int line, int column, struct idn_mrz *out,
                       struct idn_mrz_error *err)
{
    size_t n = len;
    const char *sep;
    size_t primary;

    out->names_truncated = s[len - 1] != '<';
    while (n > 0 && s[n - 1] == '<')
        n--;
    if (n == 0 || s[0] == '<')
        return fail(err, IDN_MRZ_BAD_VALUE, IDN_MRZ_NAMES, line, column,
                    "The names must start with the surname");
    sep = memmem(s, n, "<<", 2);
    primary = sep != NULL ? (size_t)(sep - s) : n;
    copy_words(out->surname, sizeof(out->surname), s, primary);
    out->given_names[0] = '\0';
    if (sep != NULL) {
        const char *given = sep + 2;
        size_t glen = n - primary - 2;

        if (glen == 0 || given[0] == '<' || memmem(given, glen, "<<", 2) != NULL)
            return fail(err, IDN_MRZ_BAD_VALUE, IDN_MRZ_NAMES, line, column + (int)primary + 2,
                        "The given names must follow the surname after one '<<'");
        copy_words(out->given_names, sizeof(out->given_names), given, glen);
    }
    return 0;
}

static int two_digits(const char *s)
{
    return (s[0] - '0') * 10 + (s[1] - '0');
}

/* YYMMDD with its check digit at s[6]. A birth date takes the latest century
 * that does not put it after today; an expiry date the century that puts its
 * year within 50 years of today's. */
static int parse_date(const char *s, enum idn_mrz_field field, const struct idn_date *today,
                      int line, int column, struct idn_date *out, struct idn_mrz_error *err)
{
    int yy = two_digits(s);
    struct idn_date d = {0, two_digits(s + 2), two_digits(s + 4)};

    if (verify_digit(s, 6, s[6], field, line, column + 6, err) < 0)
        return -1;
    if (field == IDN_MRZ_BIRTH_DATE) {
        d.year = today->year - ((today->year - yy) % 100 + 100) % 100;
        if (d.month >= 1 && d.month <= 12 && idn_date_cmp(&d, today) > 0)
            d.year -= 100;
    } else {
        int base = today->year - 49;

        d.year = base + ((yy - base) % 100 + 100) % 100;
    }
    if (!idn_date_valid(&d))
        return fail(err, IDN_MRZ_BAD_VALUE, field, line, column, "The %s is not a date (YYMMDD)",
                    idn_mrz_field_name(field));
    *out = d;
    return 0;
}

/* The composite check digit covers these spans of the zone. */
struct piece {
    int line, start, len;
};

static int verify_composite(const struct zone *z, struct idn_mrz_error *err)
{
    static const struct piece td1[] = {{0, 5, 25}, {1, 0, 7}, {1, 8, 7}, {1, 18, 11}};
    static const struct piece td2[] = {{1, 0, 10}, {1, 13, 7}, {1, 21, 14}};
    static const struct piece td3[] = {{1, 0, 10}, {1, 13, 7}, {1, 21, 22}};
    const struct piece *parts = td3;
    size_t count = 3, at = 43, n = 0;
    char buf[64];

    if (z->format == IDN_MRZ_TD1)
        parts = td1, count = 4, at = 29;
    else if (z->format == IDN_MRZ_TD2)
        parts = td2, at = 35;
    for (size_t i = 0; i < count; i++) {
        memcpy(buf + n, z->line[parts[i].line] + parts[i].start, (size_t)parts[i].len);
        n += (size_t)parts[i].len;
    }
    return verify_digit(buf, n, z->line[1][at], IDN_MRZ_COMPOSITE, 2, (int)at + 1, err);
}

static char sex_of(char c)
{
    return c == '<' ? 'X' : c;
}

/* Joins TD1's two optional data fields, each without trailing filler. */
static void join_optional(char *dst, size_t size, const char *a, size_t alen, const char *b,
                          size_t blen)
{
    char first[16], second[12];

    copy_trimmed(first, sizeof(first), a, alen);
    copy_trimmed(second, sizeof(second), b, blen);
    snprintf(dst, size, "%s%s%s", first, first[0] != '\0' && second[0] != '\0' ? "<" : "", second);
}

static int parse_td1(const struct zone *z, const struct idn_date *today, struct idn_mrz *out,
                     struct idn_mrz_error *err)
{
    const char *l1 = z->line[0], *l2 = z->line[1], *l3 = z->line[2];
    int used;

    if (parse_document_code(l1, z->format, out, err) < 0 ||
        parse_state(l1 + 2, IDN_MRZ_ISSUING_STATE, 1, 3, out->issuing_state, err) < 0)
        return -1;
    used = parse_document_number(l1 + 5, l1 + 15, 15, 1, 6, 16, out, err);
    if (used < 0)
        return -1;
    if (parse_state(l2 + 15, IDN_MRZ_NATIONALITY, 2, 16, out->nationality, err) < 0 ||
        parse_names(l3, 30, 3, 1, out, err) < 0 ||
        parse_date(l2, IDN_MRZ_BIRTH_DATE, today, 2, 1, &out->birth_date, err) < 0 ||
        parse_date(l2 + 8, IDN_MRZ_EXPIRY_DATE, today, 2, 9, &out->expiry_date, err) < 0 ||
        verify_composite(z, err) < 0)
        return -1;
    out->sex = sex_of(l2[7]);
    join_optional(out->optional_data, sizeof(out->optional_data), l1 + 15 + used, 15 - (size_t)used,
                  l2 + 18, 11);
    return 0;
}

static int parse_td23(const struct zone *z, const struct idn_date *today, struct idn_mrz *out,
                      struct idn_mrz_error *err)
{
    const char *l1 = z->line[0], *l2 = z->line[1];
    bool td3 = z->format == IDN_MRZ_TD3;
    size_t width = td3 ? 44 : 36, opt_len = td3 ? 14 : 7;
    int used;

    if (parse_document_code(l1, z->format, out, err) < 0 ||
        parse_state(l1 + 2, IDN_MRZ_ISSUING_STATE, 1, 3, out->issuing_state, err) < 0)
        return -1;
    /* Only TD2 may carry a long document number; TD3 has 9 characters. */
    used = parse_document_number(l2, td3 ? NULL : l2 + 28, td3 ? 0 : 7, 2, 1, 29, out, err);
    if (used < 0)
        return -1;
    if (parse_state(l2 + 10, IDN_MRZ_NATIONALITY, 2, 11, out->nationality, err) < 0 ||
        parse_names(l1 + 5, width - 5, 1, 6, out, err) < 0 ||
        parse_date(l2 + 13, IDN_MRZ_BIRTH_DATE, today, 2, 14, &out->birth_date, err) < 0 ||
        parse_date(l2 + 21, IDN_MRZ_EXPIRY_DATE, today, 2, 22, &out->expiry_date, err) < 0)
        return -1;
    out->sex = sex_of(l2[20]);
    if (td3) {
        /* The optional data's check digit may be '<' when the data is empty. */
        if (l2[42] == '<') {
            if (strspn(l2 + 28, "<") < 14)
                return fail(err, IDN_MRZ_BAD_CHECK_DIGIT, IDN_MRZ_OPTIONAL_DATA, 2, 43,
                            "The optional data has no check digit");
        } else if (verify_digit(l2 + 28, 14, l2[42], IDN_MRZ_OPTIONAL_DATA, 2, 43, err) < 0) {
            return -1;
        }
    }
    if (verify_composite(z, err) < 0)
        return -1;
    copy_trimmed(out->optional_data, sizeof(out->optional_data), l2 + 28 + used,
                 opt_len - (size_t)used);
    return 0;
}

int idn_mrz_parse(const char *text, const struct idn_date *today, struct idn_mrz *out,
                  struct idn_mrz_error *err)
{
    struct zone z = {0};

    memset(out, 0, sizeof(*out));
    if (split_lines(text, &z, err) < 0 || find_format(&z, err) < 0 || check_characters(&z, err) < 0)
        return -1;
    out->format = z.format;
    if (z.format == IDN_MRZ_TD1)
        return parse_td1(&z, today, out, err);
    return parse_td23(&z, today, out, err);
}

/* ---- states ---- */

struct state {
    char icao[4];
    char alpha2[3];
};

/* ISO 3166-1 alpha-3 codes (as ICAO uses them) and Doc 9303 part 3's own:
 * D for Germany, the GBx codes of British nationality classes, RKS for
 * Kosovo (XK). Sorted by strcmp() for bsearch(). */
static const struct state states[] = {
    {"ABW", "AW"}, {"AFG", "AF"}, {"AGO", "AO"}, {"AIA", "AI"}, {"ALA", "AX"}, {"ALB", "AL"},
    {"AND", "AD"}, {"ARE", "AE"}, {"ARG", "AR"}, {"ARM", "AM"}, {"ASM", "AS"}, {"ATA", "AQ"},
    {"ATF", "TF"}, {"ATG", "AG"}, {"AUS", "AU"}, {"AUT", "AT"}, {"AZE", "AZ"}, {"BDI", "BI"},
    {"BEL", "BE"}, {"BEN", "BJ"}, {"BES", "BQ"}, {"BFA", "BF"}, {"BGD", "BD"}, {"BGR", "BG"},
    {"BHR", "BH"}, {"BHS", "BS"}, {"BIH", "BA"}, {"BLM", "BL"}, {"BLR", "BY"}, {"BLZ", "BZ"},
    {"BMU", "BM"}, {"BOL", "BO"}, {"BRA", "BR"}, {"BRB", "BB"}, {"BRN", "BN"}, {"BTN", "BT"},
    {"BVT", "BV"}, {"BWA", "BW"}, {"CAF", "CF"}, {"CAN", "CA"}, {"CCK", "CC"}, {"CHE", "CH"},
    {"CHL", "CL"}, {"CHN", "CN"}, {"CIV", "CI"}, {"CMR", "CM"}, {"COD", "CD"}, {"COG", "CG"},
    {"COK", "CK"}, {"COL", "CO"}, {"COM", "KM"}, {"CPV", "CV"}, {"CRI", "CR"}, {"CUB", "CU"},
    {"CUW", "CW"}, {"CXR", "CX"}, {"CYM", "KY"}, {"CYP", "CY"}, {"CZE", "CZ"}, {"D", "DE"},
    {"DEU", "DE"}, {"DJI", "DJ"}, {"DMA", "DM"}, {"DNK", "DK"}, {"DOM", "DO"}, {"DZA", "DZ"},
    {"ECU", "EC"}, {"EGY", "EG"}, {"ERI", "ER"}, {"ESH", "EH"}, {"ESP", "ES"}, {"EST", "EE"},
    {"ETH", "ET"}, {"FIN", "FI"}, {"FJI", "FJ"}, {"FLK", "FK"}, {"FRA", "FR"}, {"FRO", "FO"},
    {"FSM", "FM"}, {"GAB", "GA"}, {"GBD", "GB"}, {"GBN", "GB"}, {"GBO", "GB"}, {"GBP", "GB"},
    {"GBR", "GB"}, {"GBS", "GB"}, {"GEO", "GE"}, {"GGY", "GG"}, {"GHA", "GH"}, {"GIB", "GI"},
    {"GIN", "GN"}, {"GLP", "GP"}, {"GMB", "GM"}, {"GNB", "GW"}, {"GNQ", "GQ"}, {"GRC", "GR"},
    {"GRD", "GD"}, {"GRL", "GL"}, {"GTM", "GT"}, {"GUF", "GF"}, {"GUM", "GU"}, {"GUY", "GY"},
    {"HKG", "HK"}, {"HMD", "HM"}, {"HND", "HN"}, {"HRV", "HR"}, {"HTI", "HT"}, {"HUN", "HU"},
    {"IDN", "ID"}, {"IMN", "IM"}, {"IND", "IN"}, {"IOT", "IO"}, {"IRL", "IE"}, {"IRN", "IR"},
    {"IRQ", "IQ"}, {"ISL", "IS"}, {"ISR", "IL"}, {"ITA", "IT"}, {"JAM", "JM"}, {"JEY", "JE"},
    {"JOR", "JO"}, {"JPN", "JP"}, {"KAZ", "KZ"}, {"KEN", "KE"}, {"KGZ", "KG"}, {"KHM", "KH"},
    {"KIR", "KI"}, {"KNA", "KN"}, {"KOR", "KR"}, {"KWT", "KW"}, {"LAO", "LA"}, {"LBN", "LB"},
    {"LBR", "LR"}, {"LBY", "LY"}, {"LCA", "LC"}, {"LIE", "LI"}, {"LKA", "LK"}, {"LSO", "LS"},
    {"LTU", "LT"}, {"LUX", "LU"}, {"LVA", "LV"}, {"MAC", "MO"}, {"MAF", "MF"}, {"MAR", "MA"},
    {"MCO", "MC"}, {"MDA", "MD"}, {"MDG", "MG"}, {"MDV", "MV"}, {"MEX", "MX"}, {"MHL", "MH"},
    {"MKD", "MK"}, {"MLI", "ML"}, {"MLT", "MT"}, {"MMR", "MM"}, {"MNE", "ME"}, {"MNG", "MN"},
    {"MNP", "MP"}, {"MOZ", "MZ"}, {"MRT", "MR"}, {"MSR", "MS"}, {"MTQ", "MQ"}, {"MUS", "MU"},
    {"MWI", "MW"}, {"MYS", "MY"}, {"MYT", "YT"}, {"NAM", "NA"}, {"NCL", "NC"}, {"NER", "NE"},
    {"NFK", "NF"}, {"NGA", "NG"}, {"NIC", "NI"}, {"NIU", "NU"}, {"NLD", "NL"}, {"NOR", "NO"},
    {"NPL", "NP"}, {"NRU", "NR"}, {"NZL", "NZ"}, {"OMN", "OM"}, {"PAK", "PK"}, {"PAN", "PA"},
    {"PCN", "PN"}, {"PER", "PE"}, {"PHL", "PH"}, {"PLW", "PW"}, {"PNG", "PG"}, {"POL", "PL"},
    {"PRI", "PR"}, {"PRK", "KP"}, {"PRT", "PT"}, {"PRY", "PY"}, {"PSE", "PS"}, {"PYF", "PF"},
    {"QAT", "QA"}, {"REU", "RE"}, {"RKS", "XK"}, {"ROU", "RO"}, {"RUS", "RU"}, {"RWA", "RW"},
    {"SAU", "SA"}, {"SDN", "SD"}, {"SEN", "SN"}, {"SGP", "SG"}, {"SGS", "GS"}, {"SHN", "SH"},
    {"SJM", "SJ"}, {"SLB", "SB"}, {"SLE", "SL"}, {"SLV", "SV"}, {"SMR", "SM"}, {"SOM", "SO"},
    {"SPM", "PM"}, {"SRB", "RS"}, {"SSD", "SS"}, {"STP", "ST"}, {"SUR", "SR"}, {"SVK", "SK"},
    {"SVN", "SI"}, {"SWE", "SE"}, {"SWZ", "SZ"}, {"SXM", "SX"}, {"SYC", "SC"}, {"SYR", "SY"},
    {"TCA", "TC"}, {"TCD", "TD"}, {"TGO", "TG"}, {"THA", "TH"}, {"TJK", "TJ"}, {"TKL", "TK"},
    {"TKM", "TM"}, {"TLS", "TL"}, {"TON", "TO"}, {"TTO", "TT"}, {"TUN", "TN"}, {"TUR", "TR"},
    {"TUV", "TV"}, {"TWN", "TW"}, {"TZA", "TZ"}, {"UGA", "UG"}, {"UKR", "UA"}, {"UMI", "UM"},
    {"URY", "UY"}, {"USA", "US"}, {"UZB", "UZ"}, {"VAT", "VA"}, {"VCT", "VC"}, {"VEN", "VE"},
    {"VGB", "VG"}, {"VIR", "VI"}, {"VNM", "VN"}, {"VUT", "VU"}, {"WLF", "WF"}, {"WSM", "WS"},
    {"YEM", "YE"}, {"ZAF", "ZA"}, {"ZMB", "ZM"}, {"ZWE", "ZW"},
};

static int state_cmp(const void *key, const void *elem)
{
    return strcmp(key, ((const struct state *)elem)->icao);
}

const char *idn_mrz_country_alpha2(const char *icao)
{
    const struct state *s =
        bsearch(icao, states, sizeof(states) / sizeof(states[0]), sizeof(states[0]), state_cmp);

    return s != NULL ? s->alpha2 : NULL;
}
