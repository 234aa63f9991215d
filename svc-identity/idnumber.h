/* National ID numbers: normalisation and the format rules of each country we
 * know, with the check digits where the number has them. A format check is
 * all this module can do; whether a number belongs to a person is for a
 * registry to say (see checks.h for what the engine does with the result). */
#ifndef IDN_IDNUMBER_H
#define IDN_IDNUMBER_H

#include <stddef.h>

enum idn_idnumber_type {
    IDN_IDNUMBER_US_SSN,  /* 9 digits: not area 000, 666 or 9xx, group 00 or serial 0000 */
    IDN_IDNUMBER_BR_CPF,  /* 11 digits, two mod-11 check digits, not one digit 11 times */
    IDN_IDNUMBER_SG_NRIC, /* S/T/F/G/M, 7 digits, a check letter (NRIC and FIN) */
    IDN_IDNUMBER_IN_PAN,  /* 5 letters (4th P: an individual), 4 digits, 1 letter */
    IDN_IDNUMBER_GB_NINO, /* 2 letters, 6 digits, A-D (HMRC's allocation rules) */
    IDN_IDNUMBER_OTHER,   /* any other country: 4 to 20 letters and digits, one digit at least */
};

enum idn_idnumber_problem {
    IDN_IDNUMBER_BAD_COUNTRY,   /* not two capital letters */
    IDN_IDNUMBER_BAD_CHARACTER, /* not a letter, digit or separator */
    IDN_IDNUMBER_BAD_LENGTH,
    IDN_IDNUMBER_BAD_FORMAT, /* right length, impossible value (SSN area 666) */
    IDN_IDNUMBER_BAD_CHECKSUM,
};

struct idn_idnumber_error {
    enum idn_idnumber_problem problem;
    char message[160]; /* English, fit to show a person */
};

#define IDN_IDNUMBER_MAX 20

struct idn_idnumber {
    enum idn_idnumber_type type;
    char country[3];                    /* ISO 3166-1 alpha-2, as given */
    char number[IDN_IDNUMBER_MAX + 1];  /* normalised: separators dropped, upper case */
    char display[IDN_IDNUMBER_MAX + 1]; /* what a report may show: an SSN's last 4, else number */
};

/* Drops the separators people type (space, '-', '.', '/') and upper-cases
 * letters, into out (size bytes). Returns the length, or -1 when the input
 * holds anything else or does not fit (*err says which). */
int idn_idnumber_normalize(const char *input, char *out, size_t size,
                           struct idn_idnumber_error *err);

/* Normalises input and checks it against country's format (alpha-2, upper
 * case: "US", "BR", "SG", "IN", "GB"; any other country gets the OTHER rule).
 * A US number must be the full SSN: the last-4 form identifies nobody and is
 * refused. Returns 0 and fills *out, or -1 and fills *err. */
int idn_idnumber_parse(const char *country, const char *input, struct idn_idnumber *out,
                       struct idn_idnumber_error *err);

/* The wire name of a type as verified_outputs.id_number_type spells it
 * ("us_ssn", "br_cpf", "sg_nric"), or NULL for types the API has no name for. */
const char *idn_idnumber_wire_type(enum idn_idnumber_type type);

#endif
