/* ICAO Doc 9303 machine-readable zones: TD1 (3 lines of 30, ID cards), TD2
 * (2 lines of 36) and TD3 (2 lines of 44, passports). The parser is strict on
 * purpose: it accepts only what Doc 9303 allows, and every refusal names the
 * field, line and column at fault, so that the checks engine can tell a
 * person exactly what did not read.
 *
 * Also the calendar dates that the MRZ and the checks engine share. */
#ifndef IDN_MRZ_H
#define IDN_MRZ_H

#include <stdbool.h>
#include <stddef.h>

/* A calendar date. {0, 0, 0} means "not given". */
struct idn_date {
    int year;
    int month; /* 1-12 */
    int day;   /* 1-31 */
};

/* True when d is a real day of the proleptic Gregorian calendar, 1..9999. */
bool idn_date_valid(const struct idn_date *d);

/* <0, 0 or >0 as a is before, on or after b. */
int idn_date_cmp(const struct idn_date *a, const struct idn_date *b);

/* Whole years from birth to today; negative when birth is after today. A
 * person born on 29 February turns a year older on 1 March in common years
 * (the rule of most civil codes that count age by completed years). Both
 * dates must be valid. */
int idn_date_age(const struct idn_date *birth, const struct idn_date *today);

enum idn_mrz_format {
    IDN_MRZ_TD1, /* 3 x 30 */
    IDN_MRZ_TD2, /* 2 x 36 */
    IDN_MRZ_TD3, /* 2 x 44 */
};

/* The field an error is about. */
enum idn_mrz_field {
    IDN_MRZ_LAYOUT, /* line count or line length */
    IDN_MRZ_DOCUMENT_CODE,
    IDN_MRZ_ISSUING_STATE,
    IDN_MRZ_DOCUMENT_NUMBER,
    IDN_MRZ_NATIONALITY,
    IDN_MRZ_NAMES,
    IDN_MRZ_BIRTH_DATE,
    IDN_MRZ_SEX,
    IDN_MRZ_EXPIRY_DATE,
    IDN_MRZ_OPTIONAL_DATA,
    IDN_MRZ_COMPOSITE,
};

enum idn_mrz_problem {
    IDN_MRZ_BAD_LAYOUT,     /* wrong number of lines or a line of the wrong length */
    IDN_MRZ_BAD_CHARACTER,  /* a character the field may not hold */
    IDN_MRZ_BAD_VALUE,      /* well-formed characters, impossible value (month 13) */
    IDN_MRZ_BAD_CHECK_DIGIT /* the 7-3-1 check digit does not match */
};

struct idn_mrz_error {
    enum idn_mrz_problem problem;
    enum idn_mrz_field field;
    int line;          /* 1-based; 0 when the error is about the whole zone */
    int column;        /* 1-based; 0 when the error is about a whole line */
    char message[160]; /* English, fit to show a person */
};

/* Longest TD1 document number: 9 characters plus up to 13 more carried in
 * the optional data (Doc 9303 part 5, 4.2.4). */
#define IDN_MRZ_DOCNUM_MAX 22

struct idn_mrz {
    enum idn_mrz_format format;
    char document_code[3]; /* "P", "I", "ID", "AC" ...: filler dropped */
    char issuing_state[4]; /* ICAO code, filler dropped: "UTO", "D" */
    char document_number[IDN_MRZ_DOCNUM_MAX + 1];
    char nationality[4];  /* as issuing_state */
    char surname[45];     /* primary identifier, words joined by one space */
    char given_names[45]; /* secondary identifier, "" when there is none */
    bool names_truncated; /* the name field was full: the names may be cut short */
    struct idn_date birth_date;
    char sex; /* 'M', 'F' or 'X' (unspecified, '<' in the zone) */
    struct idn_date expiry_date;
    char optional_data[28]; /* filler dropped; TD1 joins its two fields with one filler */
};

/* Parses text, lines separated by "\n" or "\r\n" with at most one line break
 * at the end, nothing else (no spaces, no lower case). Two-digit years are
 * placed with today: a birth date in the latest century that does not put it
 * after today, an expiry date within 50 years either side of today. Checks
 * every check digit: document number, birth date, expiry date, TD3 optional
 * data, composite. Returns 0 and fills *out, or -1 and fills *err (out is
 * then unspecified). Visa zones (document code V) are refused: they are not
 * identity documents. */
int idn_mrz_parse(const char *text, const struct idn_date *today, struct idn_mrz *out,
                  struct idn_mrz_error *err);

/* The Doc 9303 check digit of len characters (0-9 = 0-9, A-Z = 10-35, '<' =
 * 0, weights 7, 3, 1 repeating): '0'..'9', or -1 when a character is none
 * of those. */
int idn_mrz_check_digit(const char *s, size_t len);

/* "document number", "birth date" ...: static strings for messages. */
const char *idn_mrz_field_name(enum idn_mrz_field field);

/* The ISO 3166-1 alpha-2 code of an ICAO state code as the MRZ writes it
 * ("NLD" -> "NL", "D" -> "DE", "GBD" -> "GB"), or NULL for codes that name no
 * country (organisations such as "UNO", the stateless "XXA", the specimen
 * state "UTO"). Static string. */
const char *idn_mrz_country_alpha2(const char *icao);

#endif
