/* Tests for svc-identity/mrz.h: the ICAO Doc 9303 specimens parse; every
 * single-digit corruption fails on the field that digit belongs to; layout,
 * character and value errors are named precisely; dates and states. */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "svc-identity/mrz.h"
#include "cm/banned.h"

static const struct idn_date today = {2026, 11, 21};

#define TD3_L1 "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<"
#define TD3_L2 "L898902C36UTO7408122F1204159ZE184226B<<<<<10"
#define TD2_L1 "I<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<"
#define TD2_L2 "D231458907UTO7408122F1204159<<<<<<<6"
#define TD1_L1 "I<UTOD231458907<<<<<<<<<<<<<<<"
#define TD1_L2 "7408122F1204159UTO<<<<<<<<<<<6"
#define TD1_L3 "ERIKSSON<<ANNA<MARIA<<<<<<<<<<"

/* ---- the specimens ---- */

static const struct specimen {
    const char *text;
    enum idn_mrz_format format;
    const char *code, *number, *optional;
} specimens[] = {
    {TD3_L1 "\n" TD3_L2, IDN_MRZ_TD3, "P", "L898902C3", "ZE184226B"},
    {TD3_L1 "\r\n" TD3_L2 "\r\n", IDN_MRZ_TD3, "P", "L898902C3", "ZE184226B"},
    {TD2_L1 "\n" TD2_L2 "\n", IDN_MRZ_TD2, "I", "D23145890", ""},
    {TD1_L1 "\n" TD1_L2 "\n" TD1_L3, IDN_MRZ_TD1, "I", "D23145890", ""},
};

START_TEST(test_specimen)
{
    const struct specimen *s = &specimens[_i];
    struct idn_mrz m;
    struct idn_mrz_error e = {0};

    ck_assert_msg(idn_mrz_parse(s->text, &today, &m, &e) == 0, "%s", e.message);
    ck_assert_int_eq(m.format, s->format);
    ck_assert_str_eq(m.document_code, s->code);
    ck_assert_str_eq(m.issuing_state, "UTO");
    ck_assert_str_eq(m.nationality, "UTO");
    ck_assert_str_eq(m.document_number, s->number);
    ck_assert_str_eq(m.surname, "ERIKSSON");
    ck_assert_str_eq(m.given_names, "ANNA MARIA");
    ck_assert(!m.names_truncated);
    ck_assert_int_eq(m.birth_date.year, 1974);
    ck_assert_int_eq(m.birth_date.month, 8);
    ck_assert_int_eq(m.birth_date.day, 12);
    ck_assert_int_eq(m.sex, 'F');
    ck_assert_int_eq(m.expiry_date.year, 2012);
    ck_assert_int_eq(m.expiry_date.month, 4);
    ck_assert_int_eq(m.expiry_date.day, 15);
    ck_assert_str_eq(m.optional_data, s->optional);
}
END_TEST

/* ---- every digit corrupted ---- */

struct range {
    int line, from, to; /* columns from..to, 0-based, inclusive */
    enum idn_mrz_field field;
};

/* Which field each digit of the specimens belongs to (Doc 9303's tables). */
static const struct range td3_ranges[] = {
    {1, 0, 9, IDN_MRZ_DOCUMENT_NUMBER}, {1, 13, 19, IDN_MRZ_BIRTH_DATE},
    {1, 21, 27, IDN_MRZ_EXPIRY_DATE},   {1, 28, 42, IDN_MRZ_OPTIONAL_DATA},
    {1, 43, 43, IDN_MRZ_COMPOSITE},     {-1, 0, 0, IDN_MRZ_LAYOUT},
};
static const struct range td2_ranges[] = {
    {1, 0, 9, IDN_MRZ_DOCUMENT_NUMBER}, {1, 13, 19, IDN_MRZ_BIRTH_DATE},
    {1, 21, 27, IDN_MRZ_EXPIRY_DATE},   {1, 35, 35, IDN_MRZ_COMPOSITE},
    {-1, 0, 0, IDN_MRZ_LAYOUT},
};
static const struct range td1_ranges[] = {
    {0, 5, 14, IDN_MRZ_DOCUMENT_NUMBER}, {1, 0, 6, IDN_MRZ_BIRTH_DATE},
    {1, 8, 14, IDN_MRZ_EXPIRY_DATE},     {1, 29, 29, IDN_MRZ_COMPOSITE},
    {-1, 0, 0, IDN_MRZ_LAYOUT},
};

static const struct corrupt {
    const char *lines[3];
    int nlines;
    const struct range *ranges;
    int digits; /* how many digit positions the specimen has */
} corrupts[] = {
    {{TD3_L1, TD3_L2, NULL}, 2, td3_ranges, 30},
    {{TD2_L1, TD2_L2, NULL}, 2, td2_ranges, 24},
    {{TD1_L1, TD1_L2, TD1_L3}, 3, td1_ranges, 24},
};

static void join(char *out, size_t size, const char *const lines[3], int n)
{
    snprintf(out, size, "%s\n%s%s%s", lines[0], lines[1], n == 3 ? "\n" : "",
             n == 3 ? lines[2] : "");
}

START_TEST(test_every_digit_corrupted)
{
    const struct corrupt *c = &corrupts[_i];
    int positions = 0;

    for (int line = 0; line < c->nlines; line++) {
        size_t len = strlen(c->lines[line]);

        for (size_t col = 0; col < len; col++) {
            char orig = c->lines[line][col];
            enum idn_mrz_field want = IDN_MRZ_LAYOUT;

            if (orig < '0' || orig > '9')
                continue;
            for (const struct range *r = c->ranges; r->line >= 0; r++)
                if (r->line == line && (int)col >= r->from && (int)col <= r->to)
                    want = r->field;
            ck_assert_msg(want != IDN_MRZ_LAYOUT, "digit at %d:%zu not covered", line, col);
            positions++;
            for (char d = '0'; d <= '9'; d++) {
                char buf[3][45], text[160];
                const char *lines[3];
                struct idn_mrz m;
                struct idn_mrz_error e = {0};

                if (d == orig)
                    continue;
                for (int k = 0; k < c->nlines; k++) {
                    snprintf(buf[k], sizeof(buf[k]), "%s", c->lines[k]);
                    lines[k] = buf[k];
                }
                buf[line][col] = d;
                join(text, sizeof(text), lines, c->nlines);
                ck_assert_msg(idn_mrz_parse(text, &today, &m, &e) == -1, "%d:%zu -> %c passed",
                              line, col, d);
                ck_assert_msg(e.field == want, "%d:%zu -> %c: field %s, want %s (%s)", line, col, d,
                              idn_mrz_field_name(e.field), idn_mrz_field_name(want), e.message);
                ck_assert(e.problem == IDN_MRZ_BAD_CHECK_DIGIT || e.problem == IDN_MRZ_BAD_VALUE);
            }
        }
    }
    ck_assert_int_eq(positions, c->digits);
}
END_TEST

/* A letter of the document number is covered by its check digit too; a
 * letter of the names is covered by nothing (Doc 9303 has no digit there). */
START_TEST(test_letters)
{
    struct idn_mrz m;
    struct idn_mrz_error e = {0};

    ck_assert_int_eq(idn_mrz_parse("P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\n"
                                   "M898902C36UTO7408122F1204159ZE184226B<<<<<10",
                                   &today, &m, &e),
                     -1);
    ck_assert_int_eq(e.field, IDN_MRZ_DOCUMENT_NUMBER);
    ck_assert_int_eq(e.problem, IDN_MRZ_BAD_CHECK_DIGIT);
    ck_assert_int_eq(e.line, 2);
    ck_assert_int_eq(e.column, 10);
    ck_assert_ptr_nonnull(strstr(e.message, "(line 2, column 10)"));
    ck_assert_int_eq(
        idn_mrz_parse("P<UTOERIKSSEN<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\n" TD3_L2, &today, &m, &e), 0);
    ck_assert_str_eq(m.surname, "ERIKSSEN");
}
END_TEST

START_TEST(test_visa)
{
    struct idn_mrz m;
    struct idn_mrz_error e = {0};

    ck_assert_int_eq(idn_mrz_parse("V<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<\n" TD2_L2, &today, &m, &e),
                     -1);
    ck_assert_int_eq(e.field, IDN_MRZ_DOCUMENT_CODE);
    ck_assert_ptr_nonnull(strstr(e.message, "visa"));
}
END_TEST

/* ---- errors ---- */

static const struct bad {
    const char *text;
    enum idn_mrz_problem problem;
    enum idn_mrz_field field;
    int line, column;
} bads[] = {
    {"", IDN_MRZ_BAD_LAYOUT, IDN_MRZ_LAYOUT, 0, 0},
    {TD3_L1, IDN_MRZ_BAD_LAYOUT, IDN_MRZ_LAYOUT, 0, 0},
    {TD3_L1 "\n" TD3_L2 "\n\n", IDN_MRZ_BAD_LAYOUT, IDN_MRZ_LAYOUT, 1, 0},
    {TD1_L1 "\n" TD1_L2 "\n" TD1_L3 "\n" TD1_L3, IDN_MRZ_BAD_LAYOUT, IDN_MRZ_LAYOUT, 0, 0},
    {TD3_L1 "<\n" TD3_L2 "<", IDN_MRZ_BAD_LAYOUT, IDN_MRZ_LAYOUT, 1, 0},
    {TD3_L1 "\n" TD3_L2 "<", IDN_MRZ_BAD_LAYOUT, IDN_MRZ_LAYOUT, 2, 0},
    {TD3_L1 "\n" TD2_L2, IDN_MRZ_BAD_LAYOUT, IDN_MRZ_LAYOUT, 2, 0},
    {TD1_L1 "\n" TD1_L2 "<\n" TD1_L3, IDN_MRZ_BAD_LAYOUT, IDN_MRZ_LAYOUT, 2, 0},
    {TD3_L1 "\r" TD3_L2, IDN_MRZ_BAD_CHARACTER, IDN_MRZ_LAYOUT, 1, 45},
    /* characters */
    {"P<UTOEriksson<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\n" TD3_L2, IDN_MRZ_BAD_CHARACTER, IDN_MRZ_NAMES,
     1, 7},
    {"P<UTOERIKSSON  ANNA<MARIA<<<<<<<<<<<<<<<<<<<\n" TD3_L2, IDN_MRZ_BAD_CHARACTER, IDN_MRZ_NAMES,
     1, 14},
    {"P<UT0ERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\n" TD3_L2, IDN_MRZ_BAD_CHARACTER,
     IDN_MRZ_ISSUING_STATE, 1, 5},
    {TD3_L1 "\nL898902C3XUTO7408122F1204159ZE184226B<<<<<10", IDN_MRZ_BAD_CHARACTER,
     IDN_MRZ_DOCUMENT_NUMBER, 2, 10},
    {TD3_L1 "\nL898902C36UTO74O8122F1204159ZE184226B<<<<<10", IDN_MRZ_BAD_CHARACTER,
     IDN_MRZ_BIRTH_DATE, 2, 16},
    {TD3_L1 "\nL898902C36UTO7408122X1204159ZE184226B<<<<<10", IDN_MRZ_BAD_CHARACTER, IDN_MRZ_SEX, 2,
     21},
    {TD3_L1 "\nL898902C36UTO7408122F1204159ZE184226B<<<<<1<", IDN_MRZ_BAD_CHARACTER,
     IDN_MRZ_COMPOSITE, 2, 44},
    {TD3_L1 "\nL898902C36UTO7408122F1204159ZE184226b<<<<<10", IDN_MRZ_BAD_CHARACTER,
     IDN_MRZ_OPTIONAL_DATA, 2, 37},
    {TD3_L1 "\nL898902C36UTO7408122F1204159ZE184226B<<<<<<0", IDN_MRZ_BAD_CHECK_DIGIT,
     IDN_MRZ_OPTIONAL_DATA, 2, 43},
    /* values */
    {"<<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\n" TD3_L2, IDN_MRZ_BAD_VALUE,
     IDN_MRZ_DOCUMENT_CODE, 1, 1},
    {"V<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\n" TD3_L2, IDN_MRZ_BAD_VALUE,
     IDN_MRZ_DOCUMENT_CODE, 1, 1},
    {"I<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\n" TD3_L2, IDN_MRZ_BAD_VALUE,
     IDN_MRZ_DOCUMENT_CODE, 1, 1},
    {"P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<\n" TD2_L2, IDN_MRZ_BAD_VALUE, IDN_MRZ_DOCUMENT_CODE, 1,
     1},
    {"P<U<OERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\n" TD3_L2, IDN_MRZ_BAD_VALUE,
     IDN_MRZ_ISSUING_STATE, 1, 3},
    {"P<<<<ERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\n" TD3_L2, IDN_MRZ_BAD_VALUE,
     IDN_MRZ_ISSUING_STATE, 1, 3},
    {"P<UTO<ERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<\n" TD3_L2, IDN_MRZ_BAD_VALUE, IDN_MRZ_NAMES, 1,
     6},
    {"P<UTO<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<\n" TD3_L2, IDN_MRZ_BAD_VALUE, IDN_MRZ_NAMES, 1,
     6},
    {"P<UTOERIKSSON<<<ANNA<MARIA<<<<<<<<<<<<<<<<<<\n" TD3_L2, IDN_MRZ_BAD_VALUE, IDN_MRZ_NAMES, 1,
     16},
    {"P<UTOERIKSSON<<ANNA<<MARIA<<<<<<<<<<<<<<<<<<\n" TD3_L2, IDN_MRZ_BAD_VALUE, IDN_MRZ_NAMES, 1,
     16},
    {TD3_L1 "\nL898902C36U<O7408122F1204159ZE184226B<<<<<10", IDN_MRZ_BAD_VALUE,
     IDN_MRZ_NATIONALITY, 2, 11},
    /* a short number with filler inside: L8<8902C3 -> its own check digit */
    {TD3_L1 "\n<<<<<<<<<0UTO7408122F1204159ZE184226B<<<<<10", IDN_MRZ_BAD_VALUE,
     IDN_MRZ_DOCUMENT_NUMBER, 2, 1},
    {TD3_L1 "\nL8<8902C36UTO7408122F1204159ZE184226B<<<<<10", IDN_MRZ_BAD_VALUE,
     IDN_MRZ_DOCUMENT_NUMBER, 2, 1},
    /* TD1 long numbers: filler in the check digit's place, then nothing */
    {"I<UTOD23145890<<<<<<<<<<<<<<<<\n" TD1_L2 "\n" TD1_L3, IDN_MRZ_BAD_VALUE,
     IDN_MRZ_DOCUMENT_NUMBER, 1, 16},
    {"I<UTOD2314589<<<<<<<<<<<<<<<<<\n" TD1_L2 "\n" TD1_L3, IDN_MRZ_BAD_CHARACTER,
     IDN_MRZ_DOCUMENT_NUMBER, 1, 15},
    {"I<UTOD23145890<ABCD<<<<<<<<<<<\n" TD1_L2 "\n" TD1_L3, IDN_MRZ_BAD_CHARACTER,
     IDN_MRZ_DOCUMENT_NUMBER, 1, 19},
};

START_TEST(test_bad)
{
    const struct bad *b = &bads[_i];
    struct idn_mrz m;
    struct idn_mrz_error e = {0};

    ck_assert_int_eq(idn_mrz_parse(b->text, &today, &m, &e), -1);
    ck_assert_msg(e.problem == b->problem && e.field == b->field && e.line == b->line &&
                      e.column == b->column,
                  "case %d: problem %d field %s at %d:%d, want %d %s at %d:%d (%s)", _i, e.problem,
                  idn_mrz_field_name(e.field), e.line, e.column, b->problem,
                  idn_mrz_field_name(b->field), b->line, b->column, e.message);
    ck_assert(e.message[0] != '\0');
}
END_TEST

/* ---- built zones: dates, long numbers, optional data ---- */

static void pad(char *dst, const char *src, size_t width)
{
    size_t n = strlen(src);

    memcpy(dst, src, n);
    memset(dst + n, '<', width - n);
}

/* A TD3 zone for UTO with every check digit computed. */
static void td3(char out[100], const char *number, const char *dob, const char *expiry,
                const char *optional)
{
    char l2[45];

    pad(l2, number, 9);
    l2[9] = (char)idn_mrz_check_digit(l2, 9);
    memcpy(l2 + 10, "UTO", 3);
    memcpy(l2 + 13, dob, 6);
    l2[19] = (char)idn_mrz_check_digit(dob, 6);
    l2[20] = 'M';
    memcpy(l2 + 21, expiry, 6);
    l2[27] = (char)idn_mrz_check_digit(expiry, 6);
    pad(l2 + 28, optional, 14);
    l2[42] = (char)idn_mrz_check_digit(l2 + 28, 14);
    l2[43] = '\0';
    {
        char comp[64];

        memcpy(comp, l2, 10);
        memcpy(comp + 10, l2 + 13, 7);
        memcpy(comp + 17, l2 + 21, 22);
        l2[43] = (char)idn_mrz_check_digit(comp, 39);
    }
    l2[44] = '\0';
    snprintf(out, 100, "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\n%s", l2);
}

static const struct dated {
    const char *dob, *expiry;
    int birth_year, expiry_year;
    int ok;
} dateds[] = {
    {"740812", "120415", 1974, 2012, 1},
    {"261121", "770101", 2026, 1977, 1}, /* born today; expiry 51 years back */
    {"261122", "760101", 1926, 2076, 1}, /* tomorrow is 100 years ago; 50 ahead */
    {"000229", "991231", 2000, 1999, 1},
    {"010229", "991231", 0, 0, 0}, /* 2001 and 1901 are common years */
    {"741312", "991231", 0, 0, 0},
    {"740800", "991231", 0, 0, 0},
    {"740812", "120431", 0, 0, 0},
};

START_TEST(test_dates)
{
    const struct dated *d = &dateds[_i];
    char zone[100];
    struct idn_mrz m;
    struct idn_mrz_error e = {0};

    td3(zone, "L898902C3", d->dob, d->expiry, "");
    if (!d->ok) {
        ck_assert_int_eq(idn_mrz_parse(zone, &today, &m, &e), -1);
        ck_assert_int_eq(e.problem, IDN_MRZ_BAD_VALUE);
        ck_assert(e.field == IDN_MRZ_BIRTH_DATE || e.field == IDN_MRZ_EXPIRY_DATE);
        return;
    }
    ck_assert_msg(idn_mrz_parse(zone, &today, &m, &e) == 0, "%s", e.message);
    ck_assert_int_eq(m.birth_date.year, d->birth_year);
    ck_assert_int_eq(m.expiry_date.year, d->expiry_year);
    ck_assert_int_eq(m.sex, 'M');
    ck_assert_str_eq(m.optional_data, "");
}
END_TEST

START_TEST(test_optional_check_digit)
{
    char zone[100];
    struct idn_mrz m;
    struct idn_mrz_error e = {0};

    td3(zone, "L898902C3", "740812", "120415", "");
    ck_assert_int_eq(zone[45 + 42], '0');
    ck_assert_int_eq(idn_mrz_parse(zone, &today, &m, &e), 0);
    zone[45 + 42] = '<'; /* empty optional data: '<' as check digit, same composite value */
    ck_assert_int_eq(idn_mrz_parse(zone, &today, &m, &e), 0);
    td3(zone, "L898902C3", "740812", "120415", "AB<12");
    ck_assert_int_eq(idn_mrz_parse(zone, &today, &m, &e), 0);
    ck_assert_str_eq(m.optional_data, "AB<12");
    zone[45 + 42] = (char)(zone[45 + 42] == '9' ? '0' : zone[45 + 42] + 1);
    ck_assert_int_eq(idn_mrz_parse(zone, &today, &m, &e), -1);
    ck_assert_int_eq(e.field, IDN_MRZ_OPTIONAL_DATA);
}
END_TEST

/* TD1 with a 12-character number: D23145890 in place, ABC + check digit in
 * the optional data, then the remaining optional data. */
START_TEST(test_td1_long_number)
{
    char l1[31], l2[31], text[100], comp[64];
    struct idn_mrz m;
    struct idn_mrz_error e = {0};

    memcpy(l1, "I<UTOD23145890<ABC", 18);
    l1[18] = (char)idn_mrz_check_digit("D23145890ABC", 12);
    pad(l1 + 19, "<XY7", 11);
    l1[30] = '\0';
    memcpy(l2, TD1_L2, 31);
    memcpy(l2 + 18, "Z<<<<<<<<<<", 11);
    memcpy(comp, l1 + 5, 25);
    memcpy(comp + 25, l2, 7);
    memcpy(comp + 32, l2 + 8, 7);
    memcpy(comp + 39, l2 + 18, 11);
    l2[29] = (char)idn_mrz_check_digit(comp, 50);
    snprintf(text, sizeof(text), "%s\n%s\n%s", l1, l2, TD1_L3);
    ck_assert_msg(idn_mrz_parse(text, &today, &m, &e) == 0, "%s", e.message);
    ck_assert_str_eq(m.document_number, "D23145890ABC");
    ck_assert_str_eq(m.optional_data, "XY7<Z");
    l1[18] = (char)(l1[18] == '9' ? '0' : l1[18] + 1);
    snprintf(text, sizeof(text), "%s\n%s\n%s", l1, l2, TD1_L3);
    ck_assert_int_eq(idn_mrz_parse(text, &today, &m, &e), -1);
    ck_assert_int_eq(e.field, IDN_MRZ_DOCUMENT_NUMBER);
    ck_assert_int_eq(e.problem, IDN_MRZ_BAD_CHECK_DIGIT);
    ck_assert_int_eq(e.column, 19);
}
END_TEST

START_TEST(test_truncated_names)
{
    struct idn_mrz m;
    struct idn_mrz_error e = {0};

    ck_assert_int_eq(
        idn_mrz_parse("P<UTOVANDERSTEEN<<MARIANNE<LOUISE<ELISABETHX\n" TD3_L2, &today, &m, &e), 0);
    ck_assert(m.names_truncated);
    ck_assert_str_eq(m.given_names, "MARIANNE LOUISE ELISABETHX");
    ck_assert_int_eq(
        idn_mrz_parse("P<UTOERIKSSON<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<\n" TD3_L2, &today, &m, &e), 0);
    ck_assert_str_eq(m.surname, "ERIKSSON");
    ck_assert_str_eq(m.given_names, "");
}
END_TEST

static const struct digit_case {
    const char *s;
    int want;
} digit_cases[] = {
    {"L898902C3", '6'}, {"740812", '2'}, {"120415", '9'}, {"ZE184226B<<<<<", '1'},
    {"D23145890", '7'}, {"", '0'},       {"<<<", '0'},    {"l898902C3", -1},
    {"12 4", -1},
};

START_TEST(test_check_digit)
{
    const struct digit_case *c = &digit_cases[_i];

    ck_assert_int_eq(idn_mrz_check_digit(c->s, strlen(c->s)), c->want);
}
END_TEST

START_TEST(test_country)
{
    ck_assert_str_eq(idn_mrz_country_alpha2("NLD"), "NL");
    ck_assert_str_eq(idn_mrz_country_alpha2("USA"), "US");
    ck_assert_str_eq(idn_mrz_country_alpha2("D"), "DE");
    ck_assert_str_eq(idn_mrz_country_alpha2("DEU"), "DE");
    ck_assert_str_eq(idn_mrz_country_alpha2("GBD"), "GB");
    ck_assert_str_eq(idn_mrz_country_alpha2("RKS"), "XK");
    ck_assert_str_eq(idn_mrz_country_alpha2("ZWE"), "ZW");
    ck_assert_str_eq(idn_mrz_country_alpha2("ABW"), "AW");
    ck_assert_ptr_null(idn_mrz_country_alpha2("UTO"));
    ck_assert_ptr_null(idn_mrz_country_alpha2("XXA"));
    ck_assert_ptr_null(idn_mrz_country_alpha2("UNO"));
    ck_assert_ptr_null(idn_mrz_country_alpha2(""));
    ck_assert_ptr_null(idn_mrz_country_alpha2("nld"));
}
END_TEST

static const struct age_case {
    struct idn_date birth, today;
    int age;
} age_cases[] = {
    {{2008, 11, 21}, {2026, 11, 21}, 18}, /* birthday today */
    {{2008, 11, 22}, {2026, 11, 21}, 17}, /* tomorrow */
    {{2008, 11, 20}, {2026, 11, 21}, 18},
    {{2008, 2, 29}, {2026, 2, 28}, 17}, /* leap-day birth, common year */
    {{2008, 2, 29}, {2026, 3, 1}, 18},
    {{2008, 2, 29}, {2028, 2, 28}, 19}, /* leap year: the day itself */
    {{2008, 2, 29}, {2028, 2, 29}, 20},
    {{2026, 11, 22}, {2026, 11, 21}, -1},
    {{2026, 11, 21}, {2026, 11, 21}, 0},
};

START_TEST(test_age)
{
    const struct age_case *c = &age_cases[_i];

    ck_assert_int_eq(idn_date_age(&c->birth, &c->today), c->age);
}
END_TEST

START_TEST(test_date_valid)
{
    ck_assert(idn_date_valid(&(struct idn_date){2024, 2, 29}));
    ck_assert(idn_date_valid(&(struct idn_date){2000, 2, 29}));
    ck_assert(!idn_date_valid(&(struct idn_date){1900, 2, 29}));
    ck_assert(!idn_date_valid(&(struct idn_date){2023, 2, 29}));
    ck_assert(!idn_date_valid(&(struct idn_date){2023, 4, 31}));
    ck_assert(idn_date_valid(&(struct idn_date){2023, 12, 31}));
    ck_assert(!idn_date_valid(&(struct idn_date){2023, 13, 1}));
    ck_assert(!idn_date_valid(&(struct idn_date){0, 0, 0}));
    ck_assert_int_lt(idn_date_cmp(&(struct idn_date){2023, 12, 31}, &today), 0);
    ck_assert_int_eq(idn_date_cmp(&(struct idn_date){2026, 11, 21}, &today), 0);
    ck_assert_int_gt(idn_date_cmp(&(struct idn_date){2026, 12, 1}, &today), 0);
}
END_TEST

#define N(a) ((int)(sizeof(a) / sizeof((a)[0])))

Suite *suite_idn_mrz(void)
{
    Suite *s = suite_create("idn_mrz");
    TCase *tc = tcase_create("mrz");

    tcase_add_loop_test(tc, test_specimen, 0, N(specimens));
    tcase_add_loop_test(tc, test_every_digit_corrupted, 0, N(corrupts));
    tcase_add_test(tc, test_letters);
    tcase_add_test(tc, test_visa);
    tcase_add_loop_test(tc, test_bad, 0, N(bads));
    tcase_add_loop_test(tc, test_dates, 0, N(dateds));
    tcase_add_test(tc, test_optional_check_digit);
    tcase_add_test(tc, test_td1_long_number);
    tcase_add_test(tc, test_truncated_names);
    tcase_add_loop_test(tc, test_check_digit, 0, N(digit_cases));
    tcase_add_loop_test(tc, test_country, 0, 1);
    tcase_add_loop_test(tc, test_age, 0, N(age_cases));
    tcase_add_test(tc, test_date_valid);
    suite_add_tcase(s, tc);
    return s;
}
