/* Tests for svc-identity/idnumber.h: each country's rule with numbers that
 * pass and numbers that fail each part of it, normalisation, the display
 * form and the wire type names. */
#include <check.h>
#include <string.h>

#include "svc-identity/idnumber.h"
#include "cm/banned.h"

#define OK (-1)

static const struct id_case {
    const char *country, *input;
    int problem; /* OK, or the enum idn_idnumber_problem expected */
    enum idn_idnumber_type type;
    const char *number, *display;
} cases[] = {
    /* US SSN */
    {"US", "123-45-6789", OK, IDN_IDNUMBER_US_SSN, "123456789", "6789"},
    {"US", "123 45 6789", OK, IDN_IDNUMBER_US_SSN, "123456789", "6789"},
    {"US", "899999999", OK, IDN_IDNUMBER_US_SSN, "899999999", "9999"},
    {"US", "6789", IDN_IDNUMBER_BAD_LENGTH, 0, NULL, NULL}, /* last-4 form refused */
    {"US", "12345678", IDN_IDNUMBER_BAD_LENGTH, 0, NULL, NULL},
    {"US", "1234567890", IDN_IDNUMBER_BAD_LENGTH, 0, NULL, NULL},
    {"US", "12345678A", IDN_IDNUMBER_BAD_LENGTH, 0, NULL, NULL},
    {"US", "000-12-3456", IDN_IDNUMBER_BAD_FORMAT, 0, NULL, NULL},
    {"US", "666-12-3456", IDN_IDNUMBER_BAD_FORMAT, 0, NULL, NULL},
    {"US", "900-12-3456", IDN_IDNUMBER_BAD_FORMAT, 0, NULL, NULL},
    {"US", "123-00-4567", IDN_IDNUMBER_BAD_FORMAT, 0, NULL, NULL},
    {"US", "123-45-0000", IDN_IDNUMBER_BAD_FORMAT, 0, NULL, NULL},
    {"US", "078-05-1120", IDN_IDNUMBER_BAD_FORMAT, 0, NULL, NULL},
    {"US", "219-09-9999", IDN_IDNUMBER_BAD_FORMAT, 0, NULL, NULL},
    {"US", "123_45_6789", IDN_IDNUMBER_BAD_CHARACTER, 0, NULL, NULL},
    /* BR CPF */
    {"BR", "529.982.247-25", OK, IDN_IDNUMBER_BR_CPF, "52998224725", "52998224725"},
    {"BR", "111.444.777-35", OK, IDN_IDNUMBER_BR_CPF, "11144477735", "11144477735"},
    /* remainders 1 and 0 give check digit 0 */
    {"BR", "123.456.789-09", OK, IDN_IDNUMBER_BR_CPF, "12345678909", "12345678909"},
    {"BR", "987.654.321-00", OK, IDN_IDNUMBER_BR_CPF, "98765432100", "98765432100"},
    {"BR", "529.982.247-15", IDN_IDNUMBER_BAD_CHECKSUM, 0, NULL, NULL},
    {"BR", "529.982.247-24", IDN_IDNUMBER_BAD_CHECKSUM, 0, NULL, NULL},
    {"BR", "111.111.111-11", IDN_IDNUMBER_BAD_FORMAT, 0, NULL, NULL},
    {"BR", "529.982.247-2", IDN_IDNUMBER_BAD_LENGTH, 0, NULL, NULL},
    {"BR", "529.982.247-2X", IDN_IDNUMBER_BAD_LENGTH, 0, NULL, NULL},
    /* SG NRIC / FIN */
    {"SG", "S1234567D", OK, IDN_IDNUMBER_SG_NRIC, "S1234567D", "S1234567D"},
    {"SG", "s1234567d", OK, IDN_IDNUMBER_SG_NRIC, "S1234567D", "S1234567D"},
    {"SG", "T1234567J", OK, IDN_IDNUMBER_SG_NRIC, "T1234567J", "T1234567J"},
    {"SG", "F1234567N", OK, IDN_IDNUMBER_SG_NRIC, "F1234567N", "F1234567N"},
    {"SG", "G1234567X", OK, IDN_IDNUMBER_SG_NRIC, "G1234567X", "G1234567X"},
    {"SG", "M1234567K", OK, IDN_IDNUMBER_SG_NRIC, "M1234567K", "M1234567K"},
    {"SG", "S1234567A", IDN_IDNUMBER_BAD_CHECKSUM, 0, NULL, NULL},
    {"SG", "T1234567D", IDN_IDNUMBER_BAD_CHECKSUM, 0, NULL, NULL},
    {"SG", "M1234567X", IDN_IDNUMBER_BAD_CHECKSUM, 0, NULL, NULL},
    {"SG", "A1234567D", IDN_IDNUMBER_BAD_FORMAT, 0, NULL, NULL},
    {"SG", "S123456D", IDN_IDNUMBER_BAD_LENGTH, 0, NULL, NULL},
    {"SG", "S12345678", IDN_IDNUMBER_BAD_LENGTH, 0, NULL, NULL},
    /* IN PAN */
    {"IN", "ABCPE1234F", OK, IDN_IDNUMBER_IN_PAN, "ABCPE1234F", "ABCPE1234F"},
    {"IN", "abcpe1234f", OK, IDN_IDNUMBER_IN_PAN, "ABCPE1234F", "ABCPE1234F"},
    {"IN", "ABCCE1234F", IDN_IDNUMBER_BAD_FORMAT, 0, NULL, NULL},
    {"IN", "ABCPE12345", IDN_IDNUMBER_BAD_LENGTH, 0, NULL, NULL},
    {"IN", "ABCP1E234F", IDN_IDNUMBER_BAD_LENGTH, 0, NULL, NULL},
    {"IN", "ABCPE1234", IDN_IDNUMBER_BAD_LENGTH, 0, NULL, NULL},
    /* GB NINO */
    {"GB", "AB 12 34 56 C", OK, IDN_IDNUMBER_GB_NINO, "AB123456C", "AB123456C"},
    {"GB", "QQ123456C", IDN_IDNUMBER_BAD_FORMAT, 0, NULL, NULL},
    {"GB", "AO123456C", IDN_IDNUMBER_BAD_FORMAT, 0, NULL, NULL},
    {"GB", "GB123456A", IDN_IDNUMBER_BAD_FORMAT, 0, NULL, NULL},
    {"GB", "TN123456A", IDN_IDNUMBER_BAD_FORMAT, 0, NULL, NULL},
    {"GB", "AB123456E", IDN_IDNUMBER_BAD_FORMAT, 0, NULL, NULL},
    {"GB", "AB12345C", IDN_IDNUMBER_BAD_LENGTH, 0, NULL, NULL},
    /* any other country */
    {"DE", "T22000129", OK, IDN_IDNUMBER_OTHER, "T22000129", "T22000129"},
    {"FR", "1 84 12 76 451 089 46", OK, IDN_IDNUMBER_OTHER, "184127645108946", "184127645108946"},
    {"DE", "A12", IDN_IDNUMBER_BAD_LENGTH, 0, NULL, NULL},
    {"DE", "ABCDEFGH", IDN_IDNUMBER_BAD_FORMAT, 0, NULL, NULL},
    {"DE", "123456789012345678901", IDN_IDNUMBER_BAD_LENGTH, 0, NULL, NULL},
    /* country and input */
    {"us", "123-45-6789", IDN_IDNUMBER_BAD_COUNTRY, 0, NULL, NULL},
    {"USA", "123-45-6789", IDN_IDNUMBER_BAD_COUNTRY, 0, NULL, NULL},
    {"", "123-45-6789", IDN_IDNUMBER_BAD_COUNTRY, 0, NULL, NULL},
    {NULL, "123-45-6789", IDN_IDNUMBER_BAD_COUNTRY, 0, NULL, NULL},
    {"US", "", IDN_IDNUMBER_BAD_LENGTH, 0, NULL, NULL},
    {"US", " - ", IDN_IDNUMBER_BAD_LENGTH, 0, NULL, NULL},
    {"US",
     "123\xc3\xa9"
     "456789",
     IDN_IDNUMBER_BAD_CHARACTER, 0, NULL, NULL},
    {"US", "123-45-6789\n", IDN_IDNUMBER_BAD_CHARACTER, 0, NULL, NULL},
};

START_TEST(test_parse)
{
    const struct id_case *c = &cases[_i];
    struct idn_idnumber id;
    struct idn_idnumber_error e = {0};
    int rc = idn_idnumber_parse(c->country, c->input, &id, &e);

    if (c->problem != OK) {
        ck_assert_msg(rc == -1, "case %d (%s) passed", _i, c->input);
        ck_assert_msg((int)e.problem == c->problem, "case %d: problem %d, want %d (%s)", _i,
                      e.problem, c->problem, e.message);
        ck_assert(e.message[0] != '\0');
        return;
    }
    ck_assert_msg(rc == 0, "case %d (%s): %s", _i, c->input, e.message);
    ck_assert_int_eq(id.type, c->type);
    ck_assert_str_eq(id.country, c->country);
    ck_assert_str_eq(id.number, c->number);
    ck_assert_str_eq(id.display, c->display);
}
END_TEST

START_TEST(test_normalize)
{
    char out[8];
    struct idn_idnumber_error e = {0};

    ck_assert_int_eq(idn_idnumber_normalize("a-b.c/d e", out, sizeof(out), &e), 5);
    ck_assert_str_eq(out, "ABCDE");
    ck_assert_int_eq(idn_idnumber_normalize("", out, sizeof(out), &e), 0);
    ck_assert_str_eq(out, "");
    ck_assert_int_eq(idn_idnumber_normalize("1234567", out, sizeof(out), &e), 7);
    ck_assert_int_eq(idn_idnumber_normalize("12345678", out, sizeof(out), &e), -1);
    ck_assert_int_eq(e.problem, IDN_IDNUMBER_BAD_LENGTH);
    ck_assert_int_eq(idn_idnumber_normalize("12+3", out, sizeof(out), &e), -1);
    ck_assert_int_eq(e.problem, IDN_IDNUMBER_BAD_CHARACTER);
    ck_assert_ptr_nonnull(strstr(e.message, "'+'"));
    ck_assert_int_eq(idn_idnumber_normalize("12+3", out, sizeof(out), NULL), -1);
}
END_TEST

START_TEST(test_wire_type)
{
    ck_assert_str_eq(idn_idnumber_wire_type(IDN_IDNUMBER_US_SSN), "us_ssn");
    ck_assert_str_eq(idn_idnumber_wire_type(IDN_IDNUMBER_BR_CPF), "br_cpf");
    ck_assert_str_eq(idn_idnumber_wire_type(IDN_IDNUMBER_SG_NRIC), "sg_nric");
    ck_assert_ptr_null(idn_idnumber_wire_type(IDN_IDNUMBER_IN_PAN));
    ck_assert_ptr_null(idn_idnumber_wire_type(IDN_IDNUMBER_GB_NINO));
    ck_assert_ptr_null(idn_idnumber_wire_type(IDN_IDNUMBER_OTHER));
}
END_TEST

Suite *suite_idn_idnumber(void)
{
    Suite *s = suite_create("idn_idnumber");
    TCase *tc = tcase_create("idnumber");

    tcase_add_loop_test(tc, test_parse, 0, (int)(sizeof(cases) / sizeof(cases[0])));
    tcase_add_test(tc, test_normalize);
    tcase_add_test(tc, test_wire_type);
    suite_add_tcase(s, tc);
    return s;
}
