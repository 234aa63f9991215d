/* Tests for svc-identity/checks.h and checker.h: every error code the engine
 * produces, each with a case that produces it and one that passes; expiry
 * and age boundaries; the test-mode values; the outputs; the image probe. */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "svc-identity/checks.h"
#include "cm/banned.h"

static const struct idn_date today = {2026, 11, 21};

/* ---- images ---- */

static size_t make_png(unsigned char *p, unsigned w, unsigned h)
{
    static const unsigned char head[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n',
                                         0,    0,   0,   13,  'I',  'H',  'D',  'R'};
    static const unsigned char iend[] = {0, 0, 0, 0, 'I', 'E', 'N', 'D', 0xae, 0x42, 0x60, 0x82};
    size_t n = 0;

    memcpy(p, head, sizeof(head));
    n = sizeof(head);
    p[n++] = (unsigned char)(w >> 24), p[n++] = (unsigned char)(w >> 16);
    p[n++] = (unsigned char)(w >> 8), p[n++] = (unsigned char)w;
    p[n++] = (unsigned char)(h >> 24), p[n++] = (unsigned char)(h >> 16);
    p[n++] = (unsigned char)(h >> 8), p[n++] = (unsigned char)h;
    p[n++] = 8, p[n++] = 2, p[n++] = 0, p[n++] = 0, p[n++] = 0; /* 8-bit RGB */
    memset(p + n, 0, 4);                                        /* CRC, not checked */
    n += 4;
    memcpy(p + n, iend, sizeof(iend));
    return n + sizeof(iend);
}

static size_t make_jpeg(unsigned char *p, unsigned w, unsigned h)
{
    static const unsigned char app0[] = {0xff, 0xd8, 0xff, 0xe0, 0, 16, 'J', 'F', 'I', 'F',
                                         0,    1,    1,    0,    0, 1,  0,   1,   0,   0};
    size_t n = sizeof(app0);

    memcpy(p, app0, n);
    p[n++] = 0xff, p[n++] = 0xc0, p[n++] = 0, p[n++] = 11, p[n++] = 8;
    p[n++] = (unsigned char)(h >> 8), p[n++] = (unsigned char)h;
    p[n++] = (unsigned char)(w >> 8), p[n++] = (unsigned char)w;
    p[n++] = 1, p[n++] = 1, p[n++] = 0x11, p[n++] = 0;
    p[n++] = 0xff, p[n++] = 0xd9;
    return n;
}

/* ---- a submission ---- */

struct fx {
    struct idn_submission s;
    char mrz[128];
    char mrz_state[4];  /* the ICAO code the zone is built with */
    char mrz_names[40]; /* the zone's name field, without filler */
    unsigned char front[64], back[64], selfie[64];
    struct idn_checker custom;
    bool use_custom;
    enum idn_verdict auth, face;
};

static void field(char *dst, const char *src, size_t width)
{
    size_t n = strlen(src);

    memcpy(dst, src, n);
    memset(dst + n, '<', width - n);
}

static void yymmdd(char *dst, const struct idn_date *d)
{
    char buf[8];

    snprintf(buf, sizeof(buf), "%02d%02d%02d", d->year % 100, d->month, d->day);
    memcpy(dst, buf, 6);
}

static char digit(const char *s, size_t n)
{
    return (char)idn_mrz_check_digit(s, n);
}

/* Rebuilds the zone from what is typed: TD3 for a passport, TD1 otherwise. */
static void remake_mrz(struct fx *f)
{
    const struct idn_document_data *d = &f->s.document;
    char l1[45] = {0}, l2[45] = {0}, l3[31] = {0}, comp[64];

    if (f->s.document_type == IDN_DOC_PASSPORT) {
        field(l1, "P<", 2);
        field(l1 + 2, f->mrz_state, 3);
        field(l1 + 5, f->mrz_names, 39);
        field(l2, d->number, 9);
        l2[9] = digit(l2, 9);
        field(l2 + 10, f->mrz_state, 3);
        yymmdd(l2 + 13, &d->dob);
        l2[19] = digit(l2 + 13, 6);
        l2[20] = 'F';
        yymmdd(l2 + 21, &d->expiry);
        l2[27] = digit(l2 + 21, 6);
        field(l2 + 28, "", 14);
        l2[42] = '<';
        memcpy(comp, l2, 10);
        memcpy(comp + 10, l2 + 13, 7);
        memcpy(comp + 17, l2 + 21, 22);
        l2[43] = digit(comp, 39);
        snprintf(f->mrz, sizeof(f->mrz), "%s\n%s", l1, l2);
        return;
    }
    field(l1, "I<", 2);
    field(l1 + 2, f->mrz_state, 3);
    field(l1 + 5, d->number, 9);
    l1[14] = digit(l1 + 5, 9);
    field(l1 + 15, "", 15);
    yymmdd(l2, &d->dob);
    l2[6] = digit(l2, 6);
    l2[7] = 'F';
    yymmdd(l2 + 8, &d->expiry);
    l2[14] = digit(l2 + 8, 6);
    field(l2 + 15, f->mrz_state, 3);
    field(l2 + 18, "", 11);
    memcpy(comp, l1 + 5, 25);
    memcpy(comp + 25, l2, 7);
    memcpy(comp + 32, l2 + 8, 7);
    memcpy(comp + 39, l2 + 18, 11);
    l2[29] = digit(comp, 50);
    field(l3, f->mrz_names, 30);
    snprintf(f->mrz, sizeof(f->mrz), "%s\n%s\n%s", l1, l2, l3);
}

static enum idn_verdict custom_auth(void *ctx, const struct idn_image *front,
                                    const struct idn_image *back, char *reason, size_t size)
{
    (void)front, (void)back;
    snprintf(reason, size, "vendor says so");
    return ((struct fx *)ctx)->auth;
}

static enum idn_verdict custom_face(void *ctx, const struct idn_image *document,
                                    const struct idn_image *selfie, char *reason, size_t size)
{
    (void)document, (void)selfie;
    snprintf(reason, size, "vendor says so");
    return ((struct fx *)ctx)->face;
}

/* A valid Dutch passport of Anna Maria Eriksson, born 1974-08-12. */
static void base(struct fx *f)
{
    memset(f, 0, sizeof(*f));
    f->s.type = IDN_SESSION_DOCUMENT;
    f->s.today = today;
    f->s.document_type = IDN_DOC_PASSPORT;
    f->s.document = (struct idn_document_data){
        .first_name = "Anna Maria",
        .last_name = "Eriksson",
        .dob = {1974, 8, 12},
        .number = "L898902C3",
        .expiry = {2031, 4, 15},
        .issuing_country = "NL",
    };
    snprintf(f->mrz_state, sizeof(f->mrz_state), "NLD");
    snprintf(f->mrz_names, sizeof(f->mrz_names), "ERIKSSON<<ANNA<MARIA");
    remake_mrz(f);
    f->s.mrz = f->mrz;
    f->s.front = (struct idn_image){f->front, make_png(f->front, 1200, 800)};
    f->s.live_capture = true;
    f->custom = (struct idn_checker){f, custom_auth, custom_face};
    f->auth = f->face = IDN_VERDICT_PASS;
}

static void with_back(struct fx *f)
{
    f->s.back = (struct idn_image){f->back, make_png(f->back, 1200, 800)};
}

static void with_selfie(struct fx *f)
{
    f->s.options.require_matching_selfie = true;
    f->s.selfie = (struct idn_image){f->selfie, make_jpeg(f->selfie, 720, 960)};
}

static void id_session(struct fx *f, const char *country, const char *number)
{
    base(f);
    f->s.type = IDN_SESSION_ID_NUMBER;
    f->s.id_number = (struct idn_id_number_data){number, country, "Jenny", "Rosen", {1990, 5, 17}};
}

/* ---- the cases ---- */
/* One line per case where it fits: these read as a table. */
/* clang-format off */

static void s_passport(struct fx *f) { base(f); }
static void s_id_card(struct fx *f) { base(f); f->s.document_type = IDN_DOC_ID_CARD; with_back(f); remake_mrz(f); }
static void s_id_card_no_mrz(struct fx *f) { s_id_card(f); f->s.mrz = NULL; }
static void s_driving_license(struct fx *f)
{
    base(f);
    f->s.document_type = IDN_DOC_DRIVING_LICENSE;
    f->s.mrz = NULL;
    with_back(f);
    f->s.document.address =
        (struct idn_address){"1234 Main St.", NULL, "San Francisco", "CA", "94111", "US"};
}
static void s_no_type(struct fx *f) { base(f); f->s.document_type = IDN_DOC_NONE; }
static void s_two_types(struct fx *f) { base(f); f->s.document_type = IDN_DOC_PASSPORT | IDN_DOC_ID_CARD; }
static void s_not_allowed(struct fx *f) { base(f); f->s.options.allowed_types = IDN_DOC_ID_CARD | IDN_DOC_DRIVING_LICENSE; }
static void s_allowed(struct fx *f) { base(f); f->s.options.allowed_types = IDN_DOC_PASSPORT; }
static void s_no_front(struct fx *f) { base(f); f->s.front = (struct idn_image){NULL, 0}; }
static void s_id_card_no_back(struct fx *f) { s_id_card(f); f->s.back = (struct idn_image){NULL, 0}; }
static void s_uploaded(struct fx *f) { base(f); f->s.live_capture = false; }
static void s_uploaded_required(struct fx *f) { s_uploaded(f); f->s.options.require_live_capture = true; }
static void s_live_required(struct fx *f) { base(f); f->s.options.require_live_capture = true; }
static void s_no_last_name(struct fx *f) { base(f); f->s.document.last_name = ""; }
static void s_no_first_name(struct fx *f) { base(f); f->s.document.first_name = NULL; }
static void s_no_dob(struct fx *f) { base(f); f->s.document.dob = (struct idn_date){0, 0, 0}; }
static void s_bad_dob(struct fx *f) { base(f); f->s.document.dob = (struct idn_date){1974, 2, 30}; }
static void s_future_dob(struct fx *f) { base(f); f->s.document.dob = (struct idn_date){2026, 11, 22}; }
static void s_no_number(struct fx *f) { base(f); f->s.document.number = ""; }
static void s_no_country(struct fx *f) { base(f); f->s.document.issuing_country = "NLD"; }
static void s_no_expiry(struct fx *f) { base(f); f->s.document.expiry = (struct idn_date){0, 0, 0}; }
static void s_passport_no_mrz(struct fx *f) { base(f); f->s.mrz = NULL; }
static void s_license_mrz(struct fx *f) { s_driving_license(f); f->s.mrz = f->mrz; }
static void s_mrz_digit(struct fx *f) { base(f); f->mrz[45 + 9] = f->mrz[45 + 9] == '9' ? '0' : (char)(f->mrz[45 + 9] + 1); }
static void s_mrz_last_name(struct fx *f) { base(f); f->s.document.last_name = "Erikson"; }
static void s_mrz_first_name(struct fx *f) { base(f); f->s.document.first_name = "Anne"; }
static void s_mrz_dob(struct fx *f) { base(f); f->s.document.dob.day = 13; }
static void s_mrz_expiry(struct fx *f) { base(f); f->s.document.expiry.year = 2032; }
static void s_mrz_number(struct fx *f) { base(f); f->s.document.number = "L898902C4"; }
static void s_mrz_country(struct fx *f) { base(f); f->s.document.issuing_country = "BE"; }
static void s_mrz_longer_name(struct fx *f) { base(f); f->s.document.last_name = "Eriksson-Berg"; }
static void s_mrz_uto(struct fx *f) { base(f); snprintf(f->mrz_state, 4, "UTO"); remake_mrz(f); }
static void s_mrz_german(struct fx *f) { base(f); snprintf(f->mrz_state, 4, "D"); f->s.document.issuing_country = "DE"; remake_mrz(f); }
static void s_passport_zone_on_card(struct fx *f)
{
    s_id_card(f);
    f->s.document_type = IDN_DOC_PASSPORT;
    remake_mrz(f);
    f->s.document_type = IDN_DOC_ID_CARD;
}
static void s_first_word(struct fx *f) { base(f); f->s.document.first_name = "anna"; f->s.document.number = "l898902c3"; }
static void s_hyphens(struct fx *f) { base(f); f->s.document.first_name = "Anna-Maria"; f->s.document.last_name = "ERIKSSON"; }
static void s_umlaut_icao(struct fx *f)
{
    base(f);
    snprintf(f->mrz_names, 40, "MUELLER<<JOERG");
    remake_mrz(f);
    f->s.document.last_name = "M\xc3\xbcller";
    f->s.document.first_name = "J\xc3\xb6rg";
}
static void s_umlaut_plain(struct fx *f) { s_umlaut_icao(f); snprintf(f->mrz_names, 40, "MULLER<<JORG"); remake_mrz(f); }
static void s_name_symbol(struct fx *f) { base(f); f->s.document.last_name = "Eriksson\xc3\x97"; }
static void s_truncated(struct fx *f)
{
    base(f);
    snprintf(f->mrz_names, 40, "ERIKSSON<<ANNA<MARIA<CHRISTINA<WILHELMI");
    remake_mrz(f);
    f->s.document.first_name = "Anna Maria Christina Wilhelmina";
}
static void s_expired(struct fx *f) { base(f); f->s.document.expiry = (struct idn_date){2026, 11, 20}; remake_mrz(f); }
static void s_expires_today(struct fx *f) { base(f); f->s.document.expiry = today; remake_mrz(f); }
static void s_front_garbage(struct fx *f) { base(f); memcpy(f->front, "GIF89a", 6); }
static void s_back_small(struct fx *f) { s_id_card(f); f->s.back.len = make_png(f->back, 100, 100); }
static void s_front_jpeg(struct fx *f) { base(f); f->s.front.len = make_jpeg(f->front, 4000, 3000); }
static void s_auth_fail(struct fx *f) { base(f); f->use_custom = true; f->auth = IDN_VERDICT_FAIL; }
static void s_auth_unavailable(struct fx *f) { base(f); f->use_custom = true; f->auth = IDN_VERDICT_UNAVAILABLE; }
static void s_age(struct fx *f, struct idn_date dob, struct idn_date day)
{
    base(f);
    f->s.options.min_age = 18;
    f->s.today = day;
    f->s.document.dob = dob;
    remake_mrz(f);
}
static void s_age_birthday(struct fx *f) { s_age(f, (struct idn_date){2008, 11, 21}, today); }
static void s_age_tomorrow(struct fx *f) { s_age(f, (struct idn_date){2008, 11, 22}, today); }
static void s_age_leap_feb28(struct fx *f) { s_age(f, (struct idn_date){2008, 2, 29}, (struct idn_date){2026, 2, 28}); }
static void s_age_leap_mar1(struct fx *f) { s_age(f, (struct idn_date){2008, 2, 29}, (struct idn_date){2026, 3, 1}); }
static void s_age_none(struct fx *f) { s_age_tomorrow(f); f->s.options.min_age = 0; }
/* document + id_number */
static void s_doc_id(struct fx *f)
{
    base(f);
    f->s.options.require_id_number = true;
    f->s.id_number = (struct idn_id_number_data){"123-45-6789", "US", NULL, NULL, {0, 0, 0}};
}
static void s_doc_id_same(struct fx *f) { s_doc_id(f); f->s.id_number.first_name = "ANNA MARIA"; f->s.id_number.dob = f->s.document.dob; }
static void s_doc_id_name(struct fx *f) { s_doc_id(f); f->s.id_number.last_name = "Rosen"; }
static void s_doc_id_dob(struct fx *f) { s_doc_id(f); f->s.id_number.dob = (struct idn_date){1974, 8, 13}; }
static void s_doc_id_bad(struct fx *f) { s_doc_id(f); f->s.id_number.number = "666-12-3456"; }
static void s_doc_id_none(struct fx *f) { s_doc_id(f); f->s.id_number.number = NULL; }
static void s_doc_id_no_data(struct fx *f) { s_doc_id(f); f->s.document.first_name = ""; }
/* selfie */
static void s_selfie(struct fx *f) { base(f); with_selfie(f); }
static void s_selfie_missing(struct fx *f) { s_selfie(f); f->s.selfie = (struct idn_image){NULL, 0}; }
static void s_selfie_no_front(struct fx *f) { s_selfie(f); f->s.front = (struct idn_image){NULL, 0}; }
static void s_selfie_no_front_vendor(struct fx *f) { s_selfie_no_front(f); f->use_custom = true; }
static void s_selfie_garbage(struct fx *f) { s_selfie(f); f->selfie[0] = 0; }
static void s_selfie_fv(struct fx *f, enum idn_verdict v) { s_selfie(f); f->use_custom = true; f->face = v; }
static void s_face_mismatch(struct fx *f) { s_selfie_fv(f, IDN_VERDICT_FAIL); }
static void s_face_manipulated(struct fx *f) { s_selfie_fv(f, IDN_VERDICT_MANIPULATED); }
static void s_face_no_photo(struct fx *f) { s_selfie_fv(f, IDN_VERDICT_NO_PHOTO); }
static void s_face_unavailable(struct fx *f) { s_selfie_fv(f, IDN_VERDICT_UNAVAILABLE); }
static void s_selfie_and_doc_fail(struct fx *f)
{
    s_selfie(f);
    f->s.document.expiry = (struct idn_date){2020, 1, 1};
    remake_mrz(f);
    f->use_custom = true;
    f->face = IDN_VERDICT_FAIL;
}
/* id_number sessions */
static void s_us(struct fx *f) { id_session(f, "US", "123-45-6789"); }
static void s_br(struct fx *f) { id_session(f, "BR", "529.982.247-25"); }
static void s_br_bad(struct fx *f) { id_session(f, "BR", "529.982.247-26"); }
static void s_sg_s(struct fx *f) { id_session(f, "SG", "S1234567D"); }
static void s_sg_t(struct fx *f) { id_session(f, "SG", "T1234567J"); }
static void s_sg_t_young(struct fx *f) { s_sg_t(f); f->s.id_number.dob = (struct idn_date){2003, 1, 1}; }
static void s_sg_s_young(struct fx *f) { s_sg_s(f); f->s.id_number.dob = (struct idn_date){2003, 1, 1}; }
static void s_sg_fin(struct fx *f) { id_session(f, "SG", "G1234567X"); f->s.id_number.dob = (struct idn_date){2003, 1, 1}; }
static void s_in(struct fx *f) { id_session(f, "IN", "ABCPR1234F"); }
static void s_in_other_name(struct fx *f) { id_session(f, "IN", "ABCPE1234F"); }
static void s_gb(struct fx *f) { id_session(f, "GB", "AB123456C"); }
static void s_de(struct fx *f) { id_session(f, "DE", "T22000129"); }
static void s_id_no_dob(struct fx *f) { s_us(f); f->s.id_number.dob = (struct idn_date){0, 0, 0}; }
static void s_id_future_dob(struct fx *f) { s_us(f); f->s.id_number.dob = (struct idn_date){2027, 1, 1}; }
static void s_id_no_first(struct fx *f) { s_us(f); f->s.id_number.first_name = NULL; }
static void s_id_no_number(struct fx *f) { s_us(f); f->s.id_number.number = ""; }
static void s_id_last4(struct fx *f) { s_us(f); f->s.id_number.number = "6789"; }
static void s_id_country(struct fx *f) { s_us(f); f->s.id_number.country = "usa"; }
static void s_id_age(struct fx *f) { s_us(f); f->s.options.min_age = 21; f->s.id_number.dob = (struct idn_date){2005, 11, 22}; }
static void s_id_age_ok(struct fx *f) { s_id_age(f); f->s.id_number.dob.day = 21; }
/* test mode */
static void s_magic_doc(struct fx *f, const char *number)
{
    base(f);
    f->s.test_mode = true;
    f->s.document.number = number;
    f->s.front = (struct idn_image){NULL, 0};
    f->s.mrz = NULL;
}
static void s_t_doc_ok(struct fx *f) { s_magic_doc(f, IDN_TEST_DOCUMENT_VERIFIED); }
static void s_t_doc_ok_selfie(struct fx *f) { s_t_doc_ok(f); f->s.options.require_matching_selfie = true; }
static void s_t_doc_expired(struct fx *f) { s_magic_doc(f, "111-11-1111"); }
static void s_t_doc_type(struct fx *f) { s_magic_doc(f, IDN_TEST_DOCUMENT_TYPE_NOT_SUPPORTED); }
static void s_t_doc_other(struct fx *f) { s_magic_doc(f, IDN_TEST_DOCUMENT_UNVERIFIED_OTHER); }
static void s_t_doc_age(struct fx *f) { s_magic_doc(f, IDN_TEST_DOCUMENT_UNDER_AGE); }
static void s_t_selfie_photo(struct fx *f) { s_magic_doc(f, IDN_TEST_SELFIE_DOCUMENT_MISSING_PHOTO); }
static void s_t_selfie_face(struct fx *f) { s_magic_doc(f, IDN_TEST_SELFIE_FACE_MISMATCH); }
static void s_t_selfie_manip(struct fx *f) { s_magic_doc(f, IDN_TEST_SELFIE_MANIPULATED); }
static void s_t_selfie_other(struct fx *f) { s_magic_doc(f, IDN_TEST_SELFIE_UNVERIFIED_OTHER); }
static void s_t_doc_live(struct fx *f) { base(f); f->s.document.number = IDN_TEST_DOCUMENT_EXPIRED; }
static void s_t_id(struct fx *f, const char *number) { id_session(f, "US", number); f->s.test_mode = true; }
static void s_t_id_ok(struct fx *f) { s_t_id(f, "000-00-0000"); }
static void s_t_id_mismatch(struct fx *f) { s_t_id(f, IDN_TEST_ID_NUMBER_MISMATCH); }
static void s_t_id_data(struct fx *f) { s_t_id(f, IDN_TEST_ID_NUMBER_INSUFFICIENT_DATA); }
static void s_t_id_other(struct fx *f) { s_t_id(f, IDN_TEST_ID_NUMBER_UNVERIFIED_OTHER); }
static void s_t_id_age(struct fx *f) { s_t_id(f, IDN_TEST_ID_NUMBER_UNDER_AGE); }
static void s_t_id_live(struct fx *f) { id_session(f, "US", IDN_TEST_ID_NUMBER_VERIFIED); }
static void s_t_id_live_valid(struct fx *f) { id_session(f, "US", IDN_TEST_ID_NUMBER_MISMATCH); }
static void s_t_doc_id(struct fx *f) { s_doc_id(f); f->s.test_mode = true; f->s.id_number.number = IDN_TEST_ID_NUMBER_MISMATCH; }
/* clang-format on */

struct expect {
    enum idn_check_status status;
    enum idn_code code;
};

#define OK_                                                                                        \
    {                                                                                              \
        IDN_CHECK_VERIFIED, IDN_CODE_NONE                                                          \
    }
#define NO_                                                                                        \
    {                                                                                              \
        IDN_CHECK_NOT_RUN, IDN_CODE_NONE                                                           \
    }
#define X(c)                                                                                       \
    {                                                                                              \
        IDN_CHECK_UNVERIFIED, IDN_CODE_##c                                                         \
    }

static const struct engine_case {
    const char *name;
    void (*setup)(struct fx *f);
    struct expect document, id_number, selfie;
    const char *reason_has; /* a word the first failure's reason must hold, or NULL */
} cases[] = {
    {"passport", s_passport, OK_, NO_, NO_, NULL},
    {"id card (TD1)", s_id_card, OK_, NO_, NO_, NULL},
    {"id card without MRZ", s_id_card_no_mrz, OK_, NO_, NO_, NULL},
    {"driving license", s_driving_license, OK_, NO_, NO_, NULL},
    {"no type", s_no_type, X(DOCUMENT_UNVERIFIED_OTHER), NO_, NO_, "type"},
    {"two types", s_two_types, X(DOCUMENT_UNVERIFIED_OTHER), NO_, NO_, "type"},
    {"not allowed", s_not_allowed, X(DOCUMENT_TYPE_NOT_SUPPORTED), NO_, NO_, "passport"},
    {"allowed", s_allowed, OK_, NO_, NO_, NULL},
    {"no front", s_no_front, X(DOCUMENT_UNVERIFIED_OTHER), NO_, NO_, "front"},
    {"id card, no back", s_id_card_no_back, X(DOCUMENT_UNVERIFIED_OTHER), NO_, NO_, "back"},
    {"uploaded", s_uploaded, OK_, NO_, NO_, NULL},
    {"uploaded, live required", s_uploaded_required, X(DOCUMENT_UNVERIFIED_OTHER), NO_, NO_,
     "camera"},
    {"live, live required", s_live_required, OK_, NO_, NO_, NULL},
    {"no last name", s_no_last_name, X(DOCUMENT_UNVERIFIED_OTHER), NO_, NO_, "last name"},
    {"no first name", s_no_first_name, X(DOCUMENT_UNVERIFIED_OTHER), NO_, NO_, "first name"},
    {"no dob", s_no_dob, X(DOCUMENT_UNVERIFIED_OTHER), NO_, NO_, "date of birth"},
    {"dob not a date", s_bad_dob, X(DOCUMENT_UNVERIFIED_OTHER), NO_, NO_, "date of birth"},
    {"dob in the future", s_future_dob, X(DOCUMENT_UNVERIFIED_OTHER), NO_, NO_, "future"},
    {"no number", s_no_number, X(DOCUMENT_UNVERIFIED_OTHER), NO_, NO_, "number"},
    {"no country", s_no_country, X(DOCUMENT_UNVERIFIED_OTHER), NO_, NO_, "country"},
    {"no expiry", s_no_expiry, X(DOCUMENT_UNVERIFIED_OTHER), NO_, NO_, "expiry"},
    {"passport without MRZ", s_passport_no_mrz, X(DOCUMENT_UNVERIFIED_OTHER), NO_, NO_,
     "machine-readable"},
    {"license with MRZ", s_license_mrz, X(DOCUMENT_UNVERIFIED_OTHER), NO_, NO_, "machine-readable"},
    {"MRZ check digit", s_mrz_digit, X(DOCUMENT_UNVERIFIED_OTHER), NO_, NO_, "document number"},
    {"MRZ last name", s_mrz_last_name, X(DOCUMENT_UNVERIFIED_OTHER), NO_, NO_, "last name"},
    {"MRZ first name", s_mrz_first_name, X(DOCUMENT_UNVERIFIED_OTHER), NO_, NO_, "first name"},
    {"MRZ dob", s_mrz_dob, X(DOCUMENT_UNVERIFIED_OTHER), NO_, NO_, "date of birth"},
    {"MRZ expiry", s_mrz_expiry, X(DOCUMENT_UNVERIFIED_OTHER), NO_, NO_, "expiry"},
    {"MRZ number", s_mrz_number, X(DOCUMENT_UNVERIFIED_OTHER), NO_, NO_, "number"},
    {"MRZ country", s_mrz_country, X(DOCUMENT_UNVERIFIED_OTHER), NO_, NO_, "country"},
    {"MRZ name, typed longer", s_mrz_longer_name, X(DOCUMENT_UNVERIFIED_OTHER), NO_, NO_,
     "last name"},
    {"MRZ specimen state", s_mrz_uto, X(DOCUMENT_UNVERIFIED_OTHER), NO_, NO_, "UTO"},
    {"MRZ state D", s_mrz_german, OK_, NO_, NO_, NULL},
    {"passport zone on an ID card", s_passport_zone_on_card, X(DOCUMENT_UNVERIFIED_OTHER), NO_, NO_,
     "ID card"},
    {"first given name only", s_first_word, OK_, NO_, NO_, NULL},
    {"hyphens and case", s_hyphens, OK_, NO_, NO_, NULL},
    {"umlaut, ICAO", s_umlaut_icao, OK_, NO_, NO_, NULL},
    {"umlaut, plain", s_umlaut_plain, OK_, NO_, NO_, NULL},
    {"symbol in name", s_name_symbol, X(DOCUMENT_UNVERIFIED_OTHER), NO_, NO_, "last name"},
    {"truncated names", s_truncated, OK_, NO_, NO_, NULL},
    {"expired yesterday", s_expired, X(DOCUMENT_EXPIRED), NO_, NO_, "has expired"},
    {"expires today", s_expires_today, OK_, NO_, NO_, NULL},
    {"front not an image", s_front_garbage, X(DOCUMENT_UNVERIFIED_OTHER), NO_, NO_, "JPEG or PNG"},
    {"back too small", s_back_small, X(DOCUMENT_UNVERIFIED_OTHER), NO_, NO_, "small"},
    {"front JPEG", s_front_jpeg, OK_, NO_, NO_, NULL},
    {"vendor: not authentic", s_auth_fail, X(DOCUMENT_UNVERIFIED_OTHER), NO_, NO_, "vendor"},
    {"vendor: unavailable", s_auth_unavailable, X(DOCUMENT_UNVERIFIED_OTHER), NO_, NO_, "vendor"},
    {"18 today", s_age_birthday, OK_, NO_, NO_, NULL},
    {"18 tomorrow", s_age_tomorrow, X(UNDER_SUPPORTED_AGE), NO_, NO_, "18"},
    {"born 29 Feb, 28 Feb", s_age_leap_feb28, X(UNDER_SUPPORTED_AGE), NO_, NO_, "18"},
    {"born 29 Feb, 1 Mar", s_age_leap_mar1, OK_, NO_, NO_, NULL},
    {"no minimum age", s_age_none, OK_, NO_, NO_, NULL},
    {"doc + SSN", s_doc_id, OK_, OK_, NO_, NULL},
    {"doc + SSN, same name", s_doc_id_same, OK_, OK_, NO_, NULL},
    {"doc + SSN, other name", s_doc_id_name, OK_, X(ID_NUMBER_MISMATCH), NO_, "match"},
    {"doc + SSN, other dob", s_doc_id_dob, OK_, X(ID_NUMBER_MISMATCH), NO_, "match"},
    {"doc + bad SSN", s_doc_id_bad, OK_, X(ID_NUMBER_UNVERIFIED_OTHER), NO_, "666"},
    {"doc + no SSN", s_doc_id_none, OK_, X(ID_NUMBER_UNVERIFIED_OTHER), NO_, "No ID number"},
    {"doc without name + SSN", s_doc_id_no_data, X(DOCUMENT_UNVERIFIED_OTHER),
     X(ID_NUMBER_INSUFFICIENT_DOCUMENT_DATA), NO_, "first name"},
    {"selfie", s_selfie, OK_, NO_, OK_, NULL},
    {"selfie missing", s_selfie_missing, OK_, NO_, X(SELFIE_UNVERIFIED_OTHER), "selfie"},
    {"selfie, no front", s_selfie_no_front, X(DOCUMENT_UNVERIFIED_OTHER), NO_,
     X(SELFIE_DOCUMENT_MISSING_PHOTO), "front"},
    {"selfie, no front, vendor", s_selfie_no_front_vendor, X(DOCUMENT_UNVERIFIED_OTHER), NO_,
     X(SELFIE_DOCUMENT_MISSING_PHOTO), "front"},
    {"selfie not an image", s_selfie_garbage, OK_, NO_, X(SELFIE_UNVERIFIED_OTHER), "JPEG or PNG"},
    {"vendor: face mismatch", s_face_mismatch, OK_, NO_, X(SELFIE_FACE_MISMATCH), "match"},
    {"vendor: manipulated", s_face_manipulated, OK_, NO_, X(SELFIE_MANIPULATED), "vendor"},
    {"vendor: no photo", s_face_no_photo, OK_, NO_, X(SELFIE_DOCUMENT_MISSING_PHOTO), "vendor"},
    {"vendor: unavailable face", s_face_unavailable, OK_, NO_, X(SELFIE_UNVERIFIED_OTHER),
     "vendor"},
    {"document before selfie", s_selfie_and_doc_fail, X(DOCUMENT_EXPIRED), NO_,
     X(SELFIE_FACE_MISMATCH), "expired"},
    {"US SSN", s_us, NO_, OK_, NO_, NULL},
    {"BR CPF", s_br, NO_, OK_, NO_, NULL},
    {"BR CPF check digit", s_br_bad, NO_, X(ID_NUMBER_UNVERIFIED_OTHER), NO_, "check digit"},
    {"SG S, born 1990", s_sg_s, NO_, OK_, NO_, NULL},
    {"SG T, born 1990", s_sg_t, NO_, X(ID_NUMBER_MISMATCH), NO_, "2000"},
    {"SG T, born 2003", s_sg_t_young, NO_, OK_, NO_, NULL},
    {"SG S, born 2003", s_sg_s_young, NO_, X(ID_NUMBER_MISMATCH), NO_, "2000"},
    {"SG FIN", s_sg_fin, NO_, OK_, NO_, NULL},
    {"IN PAN", s_in, NO_, OK_, NO_, NULL},
    {"IN PAN, other surname", s_in_other_name, NO_, X(ID_NUMBER_MISMATCH), NO_, "5th letter"},
    {"GB NINO", s_gb, NO_, OK_, NO_, NULL},
    {"DE (other)", s_de, NO_, OK_, NO_, NULL},
    {"no dob", s_id_no_dob, NO_, X(ID_NUMBER_INSUFFICIENT_DOCUMENT_DATA), NO_, "date of birth"},
    {"dob in the future", s_id_future_dob, NO_, X(ID_NUMBER_INSUFFICIENT_DOCUMENT_DATA), NO_,
     "date of birth"},
    {"no first name", s_id_no_first, NO_, X(ID_NUMBER_INSUFFICIENT_DOCUMENT_DATA), NO_,
     "first name"},
    {"no number", s_id_no_number, NO_, X(ID_NUMBER_UNVERIFIED_OTHER), NO_, "No ID number"},
    {"last 4 only", s_id_last4, NO_, X(ID_NUMBER_UNVERIFIED_OTHER), NO_, "last 4"},
    {"bad country", s_id_country, NO_, X(ID_NUMBER_UNVERIFIED_OTHER), NO_, "country"},
    {"21 tomorrow", s_id_age, NO_, X(UNDER_SUPPORTED_AGE), NO_, "21"},
    {"21 today", s_id_age_ok, NO_, OK_, NO_, NULL},
    {"test: document verified", s_t_doc_ok, OK_, NO_, NO_, NULL},
    {"test: document verified, selfie", s_t_doc_ok_selfie, OK_, NO_, OK_, NULL},
    {"test: expired", s_t_doc_expired, X(DOCUMENT_EXPIRED), NO_, NO_, "Test mode"},
    {"test: type", s_t_doc_type, X(DOCUMENT_TYPE_NOT_SUPPORTED), NO_, NO_, "Test mode"},
    {"test: other", s_t_doc_other, X(DOCUMENT_UNVERIFIED_OTHER), NO_, NO_, "Test mode"},
    {"test: under age", s_t_doc_age, X(UNDER_SUPPORTED_AGE), NO_, NO_, "Test mode"},
    {"test: missing photo", s_t_selfie_photo, OK_, NO_, X(SELFIE_DOCUMENT_MISSING_PHOTO),
     "Test mode"},
    {"test: face mismatch", s_t_selfie_face, OK_, NO_, X(SELFIE_FACE_MISMATCH), "Test mode"},
    {"test: manipulated", s_t_selfie_manip, OK_, NO_, X(SELFIE_MANIPULATED), "Test mode"},
    {"test: selfie other", s_t_selfie_other, OK_, NO_, X(SELFIE_UNVERIFIED_OTHER), "Test mode"},
    {"test value, live mode", s_t_doc_live, X(DOCUMENT_UNVERIFIED_OTHER), NO_, NO_, "number"},
    {"test: id verified", s_t_id_ok, NO_, OK_, NO_, NULL},
    {"test: id mismatch", s_t_id_mismatch, NO_, X(ID_NUMBER_MISMATCH), NO_, "Test mode"},
    {"test: id insufficient", s_t_id_data, NO_, X(ID_NUMBER_INSUFFICIENT_DOCUMENT_DATA), NO_,
     "Test mode"},
    {"test: id other", s_t_id_other, NO_, X(ID_NUMBER_UNVERIFIED_OTHER), NO_, "Test mode"},
    {"test: id under age", s_t_id_age, NO_, X(UNDER_SUPPORTED_AGE), NO_, "Test mode"},
    {"test id value, live mode", s_t_id_live, NO_, X(ID_NUMBER_UNVERIFIED_OTHER), NO_, "000"},
    {"test id value, live mode, valid SSN", s_t_id_live_valid, NO_, OK_, NO_, NULL},
    {"test: doc + id mismatch", s_t_doc_id, OK_, X(ID_NUMBER_MISMATCH), NO_, "Test mode"},
};

static void assert_check(const char *name, const char *what, const struct idn_check *got,
                         const struct expect *want)
{
    ck_assert_msg(got->status == want->status && got->code == want->code,
                  "%s: %s is %d/%s, want %d/%s (%s)", name, what, got->status,
                  idn_code_name(got->code), want->status, idn_code_name(want->code), got->reason);
    ck_assert_msg((got->status == IDN_CHECK_UNVERIFIED) == (got->reason[0] != '\0'),
                  "%s: %s reason '%s'", name, what, got->reason);
}

START_TEST(test_engine)
{
    const struct engine_case *c = &cases[_i];
    const struct expect *order[] = {&c->document, &c->id_number, &c->selfie};
    struct fx f;
    struct idn_result r;
    struct cm_err err = {0};
    enum idn_code want_error = IDN_CODE_NONE;

    c->setup(&f);
    ck_assert_int_eq(idn_checks_run(&f.s, f.use_custom ? &f.custom : NULL, &r, &err), 0);
    assert_check(c->name, "document", &r.document, &c->document);
    assert_check(c->name, "id_number", &r.id_number, &c->id_number);
    assert_check(c->name, "selfie", &r.selfie, &c->selfie);
    for (int i = 0; i < 3 && want_error == IDN_CODE_NONE; i++)
        want_error = order[i]->code;
    ck_assert_msg(r.last_error == want_error, "%s: last_error %s, want %s (%s)", c->name,
                  idn_code_name(r.last_error), idn_code_name(want_error), r.last_error_reason);
    ck_assert_int_eq(r.verified, want_error == IDN_CODE_NONE);
    if (c->reason_has != NULL)
        ck_assert_msg(strstr(r.last_error_reason, c->reason_has) != NULL,
                      "%s: reason '%s' lacks '%s'", c->name, r.last_error_reason, c->reason_has);
    else
        ck_assert_str_eq(r.last_error_reason, "");
    /* A reason is stored and sent in plain text: never the person's dates. */
    ck_assert_msg(strstr(r.last_error_reason, "2026-11-20") == NULL &&
                      strstr(r.last_error_reason, "1974") == NULL,
                  "%s: reason '%s' holds a date of the document", c->name, r.last_error_reason);
}
END_TEST

/* ---- outputs ---- */

START_TEST(test_outputs_passport)
{
    struct fx f;
    struct idn_result r;

    s_passport(&f);
    f.s.document.first_name = "Anna";
    ck_assert_int_eq(idn_checks_run(&f.s, NULL, &r, NULL), 0);
    ck_assert(r.verified);
    ck_assert_str_eq(r.outputs.first_name, "Anna");
    ck_assert_str_eq(r.outputs.last_name, "Eriksson");
    ck_assert_int_eq(idn_date_cmp(&r.outputs.dob, &(struct idn_date){1974, 8, 12}), 0);
    ck_assert_int_eq(idn_date_cmp(&r.outputs.expiry, &(struct idn_date){2031, 4, 15}), 0);
    ck_assert_str_eq(r.outputs.sex, "female");
    ck_assert_str_eq(r.outputs.unparsed_sex, "F");
    ck_assert_int_eq(r.outputs.document_type, IDN_DOC_PASSPORT);
    ck_assert_str_eq(r.outputs.document_number, "L898902C3");
    ck_assert_str_eq(r.outputs.issuing_country, "NL");
    ck_assert(!r.outputs.has_address);
    ck_assert_str_eq(r.outputs.id_number, "");
    ck_assert_ptr_null(r.outputs.id_number_type);
}
END_TEST

START_TEST(test_outputs_license_and_ssn)
{
    struct fx f;
    struct idn_result r;

    s_driving_license(&f);
    f.s.options.require_id_number = true;
    f.s.id_number = (struct idn_id_number_data){"123-45-6789", "US", NULL, NULL, {0, 0, 0}};
    ck_assert_int_eq(idn_checks_run(&f.s, NULL, &r, NULL), 0);
    ck_assert(r.verified);
    ck_assert(r.outputs.has_address);
    ck_assert_str_eq(r.outputs.address.line1, "1234 Main St.");
    ck_assert_str_eq(r.outputs.address.line2, "");
    ck_assert_str_eq(r.outputs.address.city, "San Francisco");
    ck_assert_str_eq(r.outputs.address.country, "US");
    ck_assert_ptr_null(r.outputs.sex);
    ck_assert_str_eq(r.outputs.unparsed_sex, "");
    ck_assert_str_eq(r.outputs.id_number, "123456789");
    ck_assert_str_eq(r.outputs.id_number_display, "6789");
    ck_assert_str_eq(r.outputs.id_number_type, "us_ssn");
    ck_assert_str_eq(r.outputs.first_name, "Anna Maria");
}
END_TEST

START_TEST(test_outputs_id_session)
{
    struct fx f;
    struct idn_result r;

    s_br(&f);
    ck_assert_int_eq(idn_checks_run(&f.s, NULL, &r, NULL), 0);
    ck_assert(r.verified);
    ck_assert_str_eq(r.outputs.first_name, "Jenny");
    ck_assert_str_eq(r.outputs.last_name, "Rosen");
    ck_assert_int_eq(r.outputs.dob.year, 1990);
    ck_assert_str_eq(r.outputs.id_number, "52998224725");
    ck_assert_str_eq(r.outputs.id_number_display, "52998224725");
    ck_assert_str_eq(r.outputs.id_number_type, "br_cpf");
    ck_assert_int_eq(r.outputs.document_type, IDN_DOC_NONE);
    s_gb(&f);
    ck_assert_int_eq(idn_checks_run(&f.s, NULL, &r, NULL), 0);
    ck_assert_ptr_null(r.outputs.id_number_type);
    ck_assert_str_eq(r.outputs.id_number, "AB123456C");
}
END_TEST

START_TEST(test_outputs_test_defaults)
{
    struct fx f;
    struct idn_result r;

    s_t_id_ok(&f);
    f.s.id_number.first_name = NULL;
    f.s.id_number.last_name = "";
    f.s.id_number.dob = (struct idn_date){0, 0, 0};
    ck_assert_int_eq(idn_checks_run(&f.s, NULL, &r, NULL), 0);
    ck_assert(r.verified);
    ck_assert_str_eq(r.outputs.first_name, IDN_TEST_FIRST_NAME);
    ck_assert_str_eq(r.outputs.last_name, IDN_TEST_LAST_NAME);
    ck_assert_int_eq(idn_date_cmp(&r.outputs.dob, &(struct idn_date){1901, 1, 1}), 0);
    ck_assert_str_eq(r.outputs.id_number, "000000000");
    /* the same gaps outside test mode stay gaps */
    s_us(&f);
    f.s.id_number.first_name = NULL;
    ck_assert_int_eq(idn_checks_run(&f.s, NULL, &r, NULL), 0);
    ck_assert(!r.verified);
    ck_assert_str_eq(r.outputs.first_name, "");
}
END_TEST

/* ---- codes and contract ---- */

START_TEST(test_code_names)
{
    static const char *const spec[] = {
        "abandoned",
        "consent_declined",
        "country_not_supported",
        "device_not_supported",
        "document_expired",
        "document_type_not_supported",
        "document_unverified_other",
        "email_unverified_other",
        "email_verification_declined",
        "id_number_insufficient_document_data",
        "id_number_mismatch",
        "id_number_unverified_other",
        "phone_unverified_other",
        "phone_verification_declined",
        "selfie_document_missing_photo",
        "selfie_face_mismatch",
        "selfie_manipulated",
        "selfie_unverified_other",
        "under_supported_age",
    };

    ck_assert_ptr_null(idn_code_name(IDN_CODE_NONE));
    for (int i = 0; i < 19; i++)
        ck_assert_str_eq(idn_code_name((enum idn_code)(IDN_CODE_ABANDONED + i)), spec[i]);
    ck_assert_ptr_null(idn_code_name((enum idn_code)(IDN_CODE_UNDER_SUPPORTED_AGE + 1)));
    ck_assert_str_eq(idn_document_type_name(IDN_DOC_DRIVING_LICENSE), "driving_license");
    ck_assert_str_eq(idn_document_type_name(IDN_DOC_ID_CARD), "id_card");
    ck_assert_str_eq(idn_document_type_name(IDN_DOC_PASSPORT), "passport");
    ck_assert_ptr_null(idn_document_type_name(IDN_DOC_NONE));
}
END_TEST

START_TEST(test_contract)
{
    struct fx f;
    struct idn_result r;
    struct cm_err err = {0};

    base(&f);
    f.s.today = (struct idn_date){2026, 2, 30};
    ck_assert_int_eq(idn_checks_run(&f.s, NULL, &r, &err), -1);
    ck_assert_int_eq(err.status, 500);
    base(&f);
    f.s.type = (enum idn_session_type)7;
    cm_err_clear(&err);
    ck_assert_int_eq(idn_checks_run(&f.s, NULL, &r, &err), -1);
    ck_assert_int_eq(err.status, 500);
}
END_TEST

/* ---- the image probe ---- */

START_TEST(test_probe)
{
    unsigned char buf[128];
    struct idn_image img = {buf, 0};
    struct idn_image_info info;
    char reason[96];

    img.len = make_png(buf, 640, 480);
    ck_assert_int_eq(idn_image_probe(&img, &info, reason, sizeof(reason)), 0);
    ck_assert_int_eq(info.format, IDN_IMAGE_PNG);
    ck_assert_uint_eq(info.width, 640);
    ck_assert_uint_eq(info.height, 480);
    buf[img.len - 1] ^= 1; /* the last chunk is not IEND */
    ck_assert_int_eq(idn_image_probe(&img, &info, reason, sizeof(reason)), -1);
    ck_assert_str_eq(reason, "The PNG image is incomplete");
    img.len = make_png(buf, 640, 480) - 1;
    ck_assert_int_eq(idn_image_probe(&img, &info, reason, sizeof(reason)), -1);
    img.len = make_png(buf, 640, 480);
    buf[24] = 3; /* RGB at 3 bits per sample */
    ck_assert_int_eq(idn_image_probe(&img, &info, reason, sizeof(reason)), -1);
    img.len = make_png(buf, 640, 199);
    ck_assert_int_eq(idn_image_probe(&img, &info, reason, sizeof(reason)), -1);
    ck_assert_str_eq(reason, "The image is too small to read");
    img.len = make_png(buf, 12001, 480);
    ck_assert_int_eq(idn_image_probe(&img, &info, reason, sizeof(reason)), -1);
    ck_assert_str_eq(reason, "The image is too large");
    img.len = make_png(buf, 0x80000000u, 480);
    ck_assert_int_eq(idn_image_probe(&img, &info, reason, sizeof(reason)), -1);

    img.len = make_jpeg(buf, 200, 12000);
    ck_assert_int_eq(idn_image_probe(&img, &info, reason, sizeof(reason)), 0);
    ck_assert_int_eq(info.format, IDN_IMAGE_JPEG);
    ck_assert_uint_eq(info.width, 200);
    ck_assert_uint_eq(info.height, 12000);
    img.len = 22; /* cut inside the SOF0 segment */
    ck_assert_int_eq(idn_image_probe(&img, &info, reason, sizeof(reason)), -1);
    ck_assert_str_eq(reason, "The JPEG image is incomplete");
    img.len = make_jpeg(buf, 640, 480);
    buf[21] = 0xda; /* scan data before any frame header */
    ck_assert_int_eq(idn_image_probe(&img, &info, reason, sizeof(reason)), -1);
    ck_assert_str_eq(reason, "The JPEG image has no frame header");
    img.len = make_jpeg(buf, 640, 480);
    buf[4] = 0xff, buf[5] = 0xff; /* APP0 length beyond the data */
    ck_assert_int_eq(idn_image_probe(&img, &info, reason, sizeof(reason)), -1);

    {
        /* A DHT segment (C4, inside the SOF range) before the frame header. */
        static const unsigned char dht[] = {0xff, 0xc4, 0, 5, 0, 0, 0};
        size_t n = make_jpeg(buf + sizeof(dht), 640, 480);

        memmove(buf, buf + sizeof(dht), 20);
        memcpy(buf + 20, dht, sizeof(dht));
        img = (struct idn_image){buf, n + sizeof(dht)};
        ck_assert_int_eq(idn_image_probe(&img, &info, reason, sizeof(reason)), 0);
        ck_assert_uint_eq(info.width, 640);
    }
    img = (struct idn_image){(const unsigned char *)"GIF89a......", 12};
    ck_assert_int_eq(idn_image_probe(&img, &info, reason, sizeof(reason)), -1);
    ck_assert_str_eq(reason, "The file is not a JPEG or PNG image");
    img = (struct idn_image){NULL, 0};
    ck_assert_int_eq(idn_image_probe(&img, &info, reason, sizeof(reason)), -1);
    ck_assert_str_eq(reason, "The image is empty");
}
END_TEST

START_TEST(test_builtin_checker)
{
    const struct idn_checker *c = idn_checker_builtin();
    unsigned char a[64], b[64];
    struct idn_image front = {a, make_png(a, 800, 600)}, selfie = {b, make_jpeg(b, 600, 800)};
    struct idn_image none = {NULL, 0}, bad = {(const unsigned char *)"nope", 4};
    char reason[96];

    ck_assert_int_eq(c->document_authenticity(c->ctx, &front, NULL, reason, sizeof(reason)),
                     IDN_VERDICT_PASS);
    ck_assert_int_eq(c->document_authenticity(c->ctx, &front, &none, reason, sizeof(reason)),
                     IDN_VERDICT_PASS);
    ck_assert_int_eq(c->document_authenticity(c->ctx, &front, &bad, reason, sizeof(reason)),
                     IDN_VERDICT_FAIL);
    ck_assert_int_eq(c->face_match(c->ctx, &front, &none, reason, sizeof(reason)),
                     IDN_VERDICT_UNAVAILABLE);
    ck_assert_int_eq(c->face_match(c->ctx, &bad, &selfie, reason, sizeof(reason)),
                     IDN_VERDICT_NO_PHOTO);
    ck_assert_int_eq(c->face_match(c->ctx, &front, &bad, reason, sizeof(reason)),
                     IDN_VERDICT_UNAVAILABLE);
    ck_assert_int_eq(c->face_match(c->ctx, &front, &selfie, reason, sizeof(reason)),
                     IDN_VERDICT_PASS);
}
END_TEST

Suite *suite_idn_checks(void)
{
    Suite *s = suite_create("idn_checks");
    TCase *tc = tcase_create("checks");

    tcase_add_loop_test(tc, test_engine, 0, (int)(sizeof(cases) / sizeof(cases[0])));
    tcase_add_test(tc, test_outputs_passport);
    tcase_add_test(tc, test_outputs_license_and_ssn);
    tcase_add_test(tc, test_outputs_id_session);
    tcase_add_test(tc, test_outputs_test_defaults);
    tcase_add_test(tc, test_code_names);
    tcase_add_test(tc, test_contract);
    tcase_add_test(tc, test_probe);
    tcase_add_test(tc, test_builtin_checker);
    suite_add_tcase(s, tc);
    return s;
}
