/* Normalises national ID numbers and checks them against the published
 * format of each country we know: the structure, the ranges that are never
 * issued, and the check digits or letters. Each rule returns a message a
 * person can act on ("the second check digit does not match"), because the
 * number was typed by that person a moment ago. */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "idnumber.h"
#include "cm/banned.h"

static int fail(struct idn_idnumber_error *err, enum idn_idnumber_problem problem, const char *fmt,
                ...) __attribute__((format(printf, 3, 4)));

static int fail(struct idn_idnumber_error *err, enum idn_idnumber_problem problem, const char *fmt,
                ...)
{
    va_list ap;

    if (err == NULL)
        return -1;
    err->problem = problem;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof(err->message), fmt, ap);
    va_end(ap);
    return -1;
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_upper(char c)
{
    return c >= 'A' && c <= 'Z';
}

static bool all_digits(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (!is_digit(s[i]))
            return false;
    return true;
}

int idn_idnumber_normalize(const char *input, char *out, size_t size,
                           struct idn_idnumber_error *err)
{
    size_t n = 0;

    for (const char *p = input; *p != '\0'; p++) {
        char c = *p;

        if (c == ' ' || c == '-' || c == '.' || c == '/')
            continue;
        if (c >= 'a' && c <= 'z')
            c = (char)(c - 'a' + 'A');
        if (!is_digit(c) && !is_upper(c)) {
            if ((unsigned char)c < 0x20 || (unsigned char)c >= 0x7f)
                return fail(err, IDN_IDNUMBER_BAD_CHARACTER,
                            "An ID number holds only letters, digits and separators");
            return fail(err, IDN_IDNUMBER_BAD_CHARACTER,
                        "An ID number holds only letters, digits and separators, not '%c'", c);
        }
        if (n + 1 >= size)
            return fail(err, IDN_IDNUMBER_BAD_LENGTH, "The ID number is too long");
        out[n++] = c;
    }
    out[n] = '\0';
    return (int)n;
}

static int us_ssn(const char *s, size_t len, struct idn_idnumber_error *err)
{
    if (len == 4 && all_digits(s, len))
        return fail(err, IDN_IDNUMBER_BAD_LENGTH,
                    "Enter all 9 digits of the Social Security number, not only the last 4");
    if (len != 9 || !all_digits(s, len))
        return fail(err, IDN_IDNUMBER_BAD_LENGTH, "A Social Security number is 9 digits");
    /* SSA: areas 000 and 666 and 900-999 are never assigned, nor group 00 or
     * serial 0000; 078-05-1120 and 219-09-9999 were printed in advertising
     * and voided. */
    if (memcmp(s, "000", 3) == 0 || memcmp(s, "666", 3) == 0 || s[0] == '9')
        return fail(err, IDN_IDNUMBER_BAD_FORMAT,
                    "A Social Security number never starts with 000, 666 or 9");
    if (memcmp(s + 3, "00", 2) == 0)
        return fail(err, IDN_IDNUMBER_BAD_FORMAT,
                    "A Social Security number never has 00 as its 4th and 5th digits");
    if (memcmp(s + 5, "0000", 4) == 0)
        return fail(err, IDN_IDNUMBER_BAD_FORMAT, "A Social Security number never ends with 0000");
    if (memcmp(s, "078051120", 9) == 0 || memcmp(s, "219099999", 9) == 0)
        return fail(err, IDN_IDNUMBER_BAD_FORMAT,
                    "This Social Security number was published as a sample and is void");
    return 0;
}

/* A CPF check digit over the first n digits: weights n+1 down to 2. */
static char cpf_digit(const char *s, size_t n)
{
    int sum = 0, r;

    for (size_t i = 0; i < n; i++)
        sum += (s[i] - '0') * (int)(n + 1 - i);
    r = sum % 11;
    return (char)('0' + (r < 2 ? 0 : 11 - r));
}

static int br_cpf(const char *s, size_t len, struct idn_idnumber_error *err)
{
    if (len != 11 || !all_digits(s, len))
        return fail(err, IDN_IDNUMBER_BAD_LENGTH, "A CPF is 11 digits");
    /* One digit repeated passes both check digits but is never issued. */
    if (strspn(s, (char[]){s[0], '\0'}) == len)
        return fail(err, IDN_IDNUMBER_BAD_FORMAT, "A CPF is never one digit repeated");
    if (cpf_digit(s, 9) != s[9])
        return fail(err, IDN_IDNUMBER_BAD_CHECKSUM, "The CPF's first check digit does not match");
    if (cpf_digit(s, 10) != s[10])
        return fail(err, IDN_IDNUMBER_BAD_CHECKSUM, "The CPF's second check digit does not match");
    return 0;
}

/* NRIC (S, T) and FIN (F, G, M): weights 2 7 6 5 4 3 2, an offset for the
 * later series, the remainder mod 11 indexing the series' letters. */
static int sg_nric(const char *s, size_t len, struct idn_idnumber_error *err)
{
    static const int weights[] = {2, 7, 6, 5, 4, 3, 2};
    const char *letters;
    int sum;

    if (len != 9 || !is_upper(s[0]) || !all_digits(s + 1, 7) || !is_upper(s[8]))
        return fail(err, IDN_IDNUMBER_BAD_LENGTH,
                    "An NRIC or FIN is a letter, 7 digits and a letter (S1234567D)");
    switch (s[0]) {
    case 'S':
        sum = 0, letters = "JZIHGFEDCBA";
        break;
    case 'T':
        sum = 4, letters = "JZIHGFEDCBA";
        break;
    case 'F':
        sum = 0, letters = "XWUTRQPNMLK";
        break;
    case 'G':
        sum = 4, letters = "XWUTRQPNMLK";
        break;
    case 'M':
        sum = 3, letters = "XWUTRQPNJLK";
        break;
    default:
        return fail(err, IDN_IDNUMBER_BAD_FORMAT, "An NRIC or FIN starts with S, T, F, G or M");
    }
    for (int i = 0; i < 7; i++)
        sum += (s[i + 1] - '0') * weights[i];
    if (letters[sum % 11] != s[8])
        return fail(err, IDN_IDNUMBER_BAD_CHECKSUM,
                    "The last letter of the NRIC or FIN does not match its digits");
    return 0;
}

static int in_pan(const char *s, size_t len, struct idn_idnumber_error *err)
{
    bool shape = len == 10;

    for (size_t i = 0; shape && i < len; i++)
        shape = i >= 5 && i < 9 ? is_digit(s[i]) : is_upper(s[i]);
    if (!shape)
        return fail(err, IDN_IDNUMBER_BAD_LENGTH,
                    "A PAN is 5 letters, 4 digits and a letter (ABCPE1234F)");
    /* The 4th letter is the holder's status; a person's PAN has P. */
    if (s[3] != 'P')
        return fail(err, IDN_IDNUMBER_BAD_FORMAT,
                    "This PAN belongs to an organisation, not a person (4th letter '%c', not P)",
                    s[3]);
    return 0;
}

static int gb_nino(const char *s, size_t len, struct idn_idnumber_error *err)
{
    static const char *const unused_prefixes[] = {"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"};

    if (len != 9 || !is_upper(s[0]) || !is_upper(s[1]) || !all_digits(s + 2, 6) || !is_upper(s[8]))
        return fail(err, IDN_IDNUMBER_BAD_LENGTH,
                    "A National Insurance number is 2 letters, 6 digits and a letter "
                    "(AB123456C)");
    /* HMRC never allocates these letters, prefixes and suffixes. */
    if (strchr("DFIQUV", s[0]) != NULL || strchr("DFIOQUV", s[1]) != NULL)
        return fail(err, IDN_IDNUMBER_BAD_FORMAT,
                    "A National Insurance number never starts with %.2s", s);
    for (size_t i = 0; i < sizeof(unused_prefixes) / sizeof(unused_prefixes[0]); i++)
        if (memcmp(s, unused_prefixes[i], 2) == 0)
            return fail(err, IDN_IDNUMBER_BAD_FORMAT,
                        "A National Insurance number never starts with %.2s", s);
    if (s[8] < 'A' || s[8] > 'D')
        return fail(err, IDN_IDNUMBER_BAD_FORMAT,
                    "A National Insurance number ends with A, B, C or D");
    return 0;
}

/* Countries without a rule of their own: what every national number we know
 * of has in common. */
static int other(const char *s, size_t len, struct idn_idnumber_error *err)
{
    if (len < 4 || len > IDN_IDNUMBER_MAX)
        return fail(err, IDN_IDNUMBER_BAD_LENGTH, "An ID number has 4 to %d letters and digits",
                    IDN_IDNUMBER_MAX);
    if (strpbrk(s, "0123456789") == NULL)
        return fail(err, IDN_IDNUMBER_BAD_FORMAT, "An ID number has at least one digit");
    return 0;
}

static const struct rule {
    const char country[3];
    enum idn_idnumber_type type;
    int (*check)(const char *s, size_t len, struct idn_idnumber_error *err);
} rules[] = {
    {"US", IDN_IDNUMBER_US_SSN, us_ssn},   {"BR", IDN_IDNUMBER_BR_CPF, br_cpf},
    {"SG", IDN_IDNUMBER_SG_NRIC, sg_nric}, {"IN", IDN_IDNUMBER_IN_PAN, in_pan},
    {"GB", IDN_IDNUMBER_GB_NINO, gb_nino},
};

int idn_idnumber_parse(const char *country, const char *input, struct idn_idnumber *out,
                       struct idn_idnumber_error *err)
{
    char buf[IDN_IDNUMBER_MAX + 1];
    const struct rule *rule = NULL;
    int len;

    if (country == NULL || !is_upper(country[0]) || !is_upper(country[1]) || country[2] != '\0')
        return fail(err, IDN_IDNUMBER_BAD_COUNTRY,
                    "The country must be a two-letter ISO 3166-1 code such as US");
    len = idn_idnumber_normalize(input, buf, sizeof(buf), err);
    if (len < 0)
        return -1;
    if (len == 0)
        return fail(err, IDN_IDNUMBER_BAD_LENGTH, "The ID number is empty");
    for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++)
        if (memcmp(country, rules[i].country, 2) == 0)
            rule = &rules[i];
    if ((rule != NULL ? rule->check : other)(buf, (size_t)len, err) < 0)
        return -1;
    out->type = rule != NULL ? rule->type : IDN_IDNUMBER_OTHER;
    memcpy(out->country, country, 3);
    memcpy(out->number, buf, (size_t)len + 1);
    /* Reports show only an SSN's last 4 digits (the API reference says so). */
    memcpy(out->display, out->type == IDN_IDNUMBER_US_SSN ? buf + 5 : buf,
           out->type == IDN_IDNUMBER_US_SSN ? 5 : (size_t)len + 1);
    return 0;
}

const char *idn_idnumber_wire_type(enum idn_idnumber_type type)
{
    switch (type) {
    case IDN_IDNUMBER_US_SSN:
        return "us_ssn";
    case IDN_IDNUMBER_BR_CPF:
        return "br_cpf";
    case IDN_IDNUMBER_SG_NRIC:
        return "sg_nric";
    default:
        return NULL;
    }
}
