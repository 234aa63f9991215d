/* The checks engine (checks.h has the rules). Each check is a function that
 * walks its rules in a fixed order and stops at the first that fails,
 * writing the code and a reason a person can act on; the session's
 * last_error is then the first failing check in report order. The engine
 * reads only its input and the checker, so a run can be repeated, tested
 * with a fixed today, and moved to any worker. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "checks.h"
#include "cm/banned.h"

static const char *const code_names[] = {
    [IDN_CODE_NONE] = NULL,
    [IDN_CODE_ABANDONED] = "abandoned",
    [IDN_CODE_CONSENT_DECLINED] = "consent_declined",
    [IDN_CODE_COUNTRY_NOT_SUPPORTED] = "country_not_supported",
    [IDN_CODE_DEVICE_NOT_SUPPORTED] = "device_not_supported",
    [IDN_CODE_DOCUMENT_EXPIRED] = "document_expired",
    [IDN_CODE_DOCUMENT_TYPE_NOT_SUPPORTED] = "document_type_not_supported",
    [IDN_CODE_DOCUMENT_UNVERIFIED_OTHER] = "document_unverified_other",
    [IDN_CODE_EMAIL_UNVERIFIED_OTHER] = "email_unverified_other",
    [IDN_CODE_EMAIL_VERIFICATION_DECLINED] = "email_verification_declined",
    [IDN_CODE_ID_NUMBER_INSUFFICIENT_DOCUMENT_DATA] = "id_number_insufficient_document_data",
    [IDN_CODE_ID_NUMBER_MISMATCH] = "id_number_mismatch",
    [IDN_CODE_ID_NUMBER_UNVERIFIED_OTHER] = "id_number_unverified_other",
    [IDN_CODE_PHONE_UNVERIFIED_OTHER] = "phone_unverified_other",
    [IDN_CODE_PHONE_VERIFICATION_DECLINED] = "phone_verification_declined",
    [IDN_CODE_SELFIE_DOCUMENT_MISSING_PHOTO] = "selfie_document_missing_photo",
    [IDN_CODE_SELFIE_FACE_MISMATCH] = "selfie_face_mismatch",
    [IDN_CODE_SELFIE_MANIPULATED] = "selfie_manipulated",
    [IDN_CODE_SELFIE_UNVERIFIED_OTHER] = "selfie_unverified_other",
    [IDN_CODE_UNDER_SUPPORTED_AGE] = "under_supported_age",
};

const char *idn_code_name(enum idn_code code)
{
    if ((size_t)code >= sizeof(code_names) / sizeof(code_names[0]))
        return NULL;
    return code_names[code];
}

const char *idn_document_type_name(enum idn_document_type type)
{
    switch (type) {
    case IDN_DOC_DRIVING_LICENSE:
        return "driving_license";
    case IDN_DOC_ID_CARD:
        return "id_card";
    case IDN_DOC_PASSPORT:
        return "passport";
    default:
        return NULL;
    }
}

/* How a reason names the document: "The passport expired ...". */
static const char *document_noun(enum idn_document_type type)
{
    switch (type) {
    case IDN_DOC_DRIVING_LICENSE:
        return "driving license";
    case IDN_DOC_ID_CARD:
        return "ID card";
    default:
        return "passport";
    }
}

static int unverified(struct idn_check *c, enum idn_code code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Marks c failed; returns -1 so that a rule can `return unverified(...)`. */
static int unverified(struct idn_check *c, enum idn_code code, const char *fmt, ...)
{
    va_list ap;

    c->status = IDN_CHECK_UNVERIFIED;
    c->code = code;
    va_start(ap, fmt);
    vsnprintf(c->reason, sizeof(c->reason), fmt, ap);
    va_end(ap);
    return -1;
}

static void verified(struct idn_check *c)
{
    c->status = IDN_CHECK_VERIFIED;
    c->code = IDN_CODE_NONE;
    c->reason[0] = '\0';
}

static bool given(const char *s)
{
    return s != NULL && s[0] != '\0';
}

static void copy(char *dst, size_t size, const char *src)
{
    snprintf(dst, size, "%s", src != NULL ? src : "");
}

static bool is_alpha2(const char *s)
{
    return s != NULL && s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'A' && s[1] <= 'Z' && s[2] == '\0';
}

/* ---- names ---- */

/* Latin-1 letters as UTF-8 (C3 80..9F, and their lower case at C3 A0..BF),
 * plainly and as ICAO Doc 9303 part 3 transliterates them. NULL: not a
 * letter (x and ÷). */
static const struct {
    const char *plain, *icao;
} latin1[32] = {
    {"A", "A"},  {"A", "A"},  {"A", "A"},   {"A", "A"},   {"A", "AE"}, {"A", "AA"}, {"AE", "AE"},
    {"C", "C"},  {"E", "E"},  {"E", "E"},   {"E", "E"},   {"E", "E"},  {"I", "I"},  {"I", "I"},
    {"I", "I"},  {"I", "I"},  {"D", "D"},   {"N", "N"},   {"O", "O"},  {"O", "O"},  {"O", "O"},
    {"O", "O"},  {"O", "OE"}, {NULL, NULL}, {"O", "OE"},  {"U", "U"},  {"U", "U"},  {"U", "U"},
    {"U", "UE"}, {"Y", "Y"},  {"TH", "TH"}, {"SS", "SS"},
};

/* Reduces a typed or MRZ name to its letters, upper case, transliterated.
 * Returns 0, or -1 when the name holds something that is neither a letter
 * we can transliterate nor a separator (space - ' . , <). */
static int name_key(const char *name, bool icao, char *out, size_t size)
{
    size_t n = 0;
    const unsigned char *p = (const unsigned char *)name;

    while (*p != '\0') {
        const char *letters = NULL;
        char one[2] = {0, 0};

        if (*p >= 'a' && *p <= 'z') {
            one[0] = (char)(*p - 'a' + 'A');
            letters = one;
            p++;
        } else if (*p >= 'A' && *p <= 'Z') {
            one[0] = (char)*p;
            letters = one;
            p++;
        } else if (strchr(" -'.,<", *p) != NULL) {
            p++;
            continue;
        } else if (p[0] == 0xc3 && p[1] >= 0x80 && p[1] <= 0xbf) {
            unsigned i = p[1] & 0x1f;

            if (p[1] == 0xbf)
                letters = "Y"; /* ÿ; its capital is not Latin-1 */
            else
                letters = icao ? latin1[i].icao : latin1[i].plain;
            if (letters == NULL)
                return -1;
            p += 2;
        } else {
            return -1;
        }
        for (; *letters != '\0'; letters++) {
            if (n + 1 >= size)
                return -1;
            out[n++] = *letters;
        }
    }
    out[n] = '\0';
    return 0;
}

/* Whether a typed name is the MRZ's (both already keys). A full MRZ field
 * may have cut the name short. */
static bool key_matches(const char *typed, const char *mrz, bool truncated)
{
    size_t n = strlen(mrz);

    if (n == 0)
        return false;
    return strcmp(typed, mrz) == 0 || (truncated && strncmp(typed, mrz, n) == 0);
}

/* typed against reference, plainly or the ICAO way. A typed first name may
 * also be the reference's first word. Returns 1 (match), 0 (no match), -1
 * (typed name has characters we cannot compare). */
static int names_match(const char *typed, const char *reference, bool first_name, bool truncated)
{
    char t[256], r[256], word[256];
    int ok = 0;

    for (int icao = 0; icao <= 1 && !ok; icao++) {
        const char *space;

        if (name_key(typed, icao, t, sizeof(t)) < 0)
            return -1;
        if (name_key(reference, icao, r, sizeof(r)) < 0)
            return 0;
        ok = key_matches(t, r, truncated);
        space = strchr(reference, ' ');
        if (!ok && first_name && space != NULL) {
            snprintf(word, sizeof(word), "%.*s", (int)(space - reference), reference);
            if (name_key(word, icao, r, sizeof(r)) == 0)
                ok = key_matches(t, r, false);
        }
    }
    return ok;
}

/* ---- test mode ---- */

struct forced {
    const char *value;
    enum idn_code code; /* IDN_CODE_NONE: verified */
};

static const struct forced forced_document[] = {
    {IDN_TEST_DOCUMENT_VERIFIED, IDN_CODE_NONE},
    {IDN_TEST_DOCUMENT_EXPIRED, IDN_CODE_DOCUMENT_EXPIRED},
    {IDN_TEST_DOCUMENT_TYPE_NOT_SUPPORTED, IDN_CODE_DOCUMENT_TYPE_NOT_SUPPORTED},
    {IDN_TEST_DOCUMENT_UNVERIFIED_OTHER, IDN_CODE_DOCUMENT_UNVERIFIED_OTHER},
    {IDN_TEST_DOCUMENT_UNDER_AGE, IDN_CODE_UNDER_SUPPORTED_AGE},
};

static const struct forced forced_selfie[] = {
    {IDN_TEST_SELFIE_DOCUMENT_MISSING_PHOTO, IDN_CODE_SELFIE_DOCUMENT_MISSING_PHOTO},
    {IDN_TEST_SELFIE_FACE_MISMATCH, IDN_CODE_SELFIE_FACE_MISMATCH},
    {IDN_TEST_SELFIE_MANIPULATED, IDN_CODE_SELFIE_MANIPULATED},
    {IDN_TEST_SELFIE_UNVERIFIED_OTHER, IDN_CODE_SELFIE_UNVERIFIED_OTHER},
};

static const struct forced forced_id_number[] = {
    {IDN_TEST_ID_NUMBER_VERIFIED, IDN_CODE_NONE},
    {IDN_TEST_ID_NUMBER_MISMATCH, IDN_CODE_ID_NUMBER_MISMATCH},
    {IDN_TEST_ID_NUMBER_INSUFFICIENT_DATA, IDN_CODE_ID_NUMBER_INSUFFICIENT_DOCUMENT_DATA},
    {IDN_TEST_ID_NUMBER_UNVERIFIED_OTHER, IDN_CODE_ID_NUMBER_UNVERIFIED_OTHER},
    {IDN_TEST_ID_NUMBER_UNDER_AGE, IDN_CODE_UNDER_SUPPORTED_AGE},
};

/* The entry of table matching value (normalised), or NULL. */
static const struct forced *find_forced(const struct idn_submission *in, const char *value,
                                        const struct forced *table, size_t n)
{
    char norm[IDN_IDNUMBER_MAX + 1];

    if (!in->test_mode || !given(value) ||
        idn_idnumber_normalize(value, norm, sizeof(norm), NULL) < 0)
        return NULL;
    for (size_t i = 0; i < n; i++)
        if (strcmp(norm, table[i].value) == 0)
            return &table[i];
    return NULL;
}

static void apply_forced(struct idn_check *c, const struct forced *f)
{
    if (f->code == IDN_CODE_NONE)
        verified(c);
    else
        unverified(c, f->code, "Test mode: this test value always fails with %s.",
                   idn_code_name(f->code));
}

/* ---- document ---- */

static int document_fields(const struct idn_submission *in, struct idn_check *c)
{
    const struct idn_document_data *d = &in->document;
    const char *noun = document_noun(in->document_type);

    if (!given(d->last_name))
        return unverified(c, IDN_CODE_DOCUMENT_UNVERIFIED_OTHER,
                          "The last name on the %s is missing.", noun);
    if (!given(d->first_name))
        return unverified(c, IDN_CODE_DOCUMENT_UNVERIFIED_OTHER,
                          "The first name on the %s is missing.", noun);
    if (!idn_date_valid(&d->dob))
        return unverified(c, IDN_CODE_DOCUMENT_UNVERIFIED_OTHER,
                          "The date of birth on the %s is missing or not a date.", noun);
    if (idn_date_cmp(&d->dob, &in->today) > 0)
        return unverified(c, IDN_CODE_DOCUMENT_UNVERIFIED_OTHER,
                          "The date of birth on the %s is in the future.", noun);
    if (!given(d->number))
        return unverified(c, IDN_CODE_DOCUMENT_UNVERIFIED_OTHER, "The number of the %s is missing.",
                          noun);
    if (!is_alpha2(d->issuing_country))
        return unverified(c, IDN_CODE_DOCUMENT_UNVERIFIED_OTHER,
                          "The country that issued the %s is missing.", noun);
    if (!idn_date_valid(&d->expiry))
        return unverified(c, IDN_CODE_DOCUMENT_UNVERIFIED_OTHER,
                          "The expiry date of the %s is missing or not a date.", noun);
    return 0;
}

/* The MRZ must read and agree with everything typed. */
static int document_mrz(const struct idn_submission *in, struct idn_check *c, struct idn_outputs *o)
{
    const struct idn_document_data *d = &in->document;
    const char *noun = document_noun(in->document_type);
    struct idn_mrz m;
    struct idn_mrz_error e;
    char number[IDN_IDNUMBER_MAX + 1];
    const char *country;
    bool passport_zone;

    if (!given(in->mrz)) {
        if (in->document_type == IDN_DOC_PASSPORT)
            return unverified(c, IDN_CODE_DOCUMENT_UNVERIFIED_OTHER,
                              "The machine-readable zone of the passport is missing.");
        return 0;
    }
    if (in->document_type == IDN_DOC_DRIVING_LICENSE)
        return unverified(c, IDN_CODE_DOCUMENT_UNVERIFIED_OTHER,
                          "A driving license has no machine-readable zone to check.");
    if (idn_mrz_parse(in->mrz, &in->today, &m, &e) < 0)
        return unverified(c, IDN_CODE_DOCUMENT_UNVERIFIED_OTHER,
                          "The machine-readable zone could not be verified: %s.", e.message);
    passport_zone = m.format == IDN_MRZ_TD3;
    if (passport_zone != (in->document_type == IDN_DOC_PASSPORT))
        return unverified(c, IDN_CODE_DOCUMENT_UNVERIFIED_OTHER,
                          "The machine-readable zone is not that of a %s.", noun);
    if (names_match(d->last_name, m.surname, false, m.names_truncated) != 1)
        return unverified(c, IDN_CODE_DOCUMENT_UNVERIFIED_OTHER,
                          "The last name does not match the machine-readable zone.");
    if (names_match(d->first_name, m.given_names, true, m.names_truncated) != 1)
        return unverified(c, IDN_CODE_DOCUMENT_UNVERIFIED_OTHER,
                          "The first name does not match the machine-readable zone.");
    if (idn_date_cmp(&d->dob, &m.birth_date) != 0)
        return unverified(c, IDN_CODE_DOCUMENT_UNVERIFIED_OTHER,
                          "The date of birth does not match the machine-readable zone.");
    if (idn_date_cmp(&d->expiry, &m.expiry_date) != 0)
        return unverified(c, IDN_CODE_DOCUMENT_UNVERIFIED_OTHER,
                          "The expiry date does not match the machine-readable zone.");
    if (idn_idnumber_normalize(d->number, number, sizeof(number), NULL) < 0 ||
        strcmp(number, m.document_number) != 0)
        return unverified(c, IDN_CODE_DOCUMENT_UNVERIFIED_OTHER,
                          "The document number does not match the machine-readable zone.");
    country = idn_mrz_country_alpha2(m.issuing_state);
    if (country == NULL)
        return unverified(c, IDN_CODE_DOCUMENT_UNVERIFIED_OTHER,
                          "The %s was issued by %s, which is not a country we can verify.", noun,
                          m.issuing_state);
    if (strcmp(country, d->issuing_country) != 0)
        return unverified(c, IDN_CODE_DOCUMENT_UNVERIFIED_OTHER,
                          "The issuing country does not match the machine-readable zone.");
    o->sex = m.sex == 'M' ? "male" : m.sex == 'F' ? "female" : "unknown";
    o->unparsed_sex[0] = m.sex == 'X' ? '<' : m.sex;
    o->unparsed_sex[1] = '\0';
    return 0;
}

static int document_rules(const struct idn_submission *in, const struct idn_checker *checker,
                          struct idn_check *c, struct idn_outputs *o)
{
    unsigned allowed = in->options.allowed_types != 0 ? in->options.allowed_types : IDN_DOC_ALL;
    const char *noun = document_noun(in->document_type);
    char reason[200] = "";
    int age;

    if (idn_document_type_name(in->document_type) == NULL)
        return unverified(c, IDN_CODE_DOCUMENT_UNVERIFIED_OTHER, "No document type was chosen.");
    if ((allowed & in->document_type) == 0)
        return unverified(c, IDN_CODE_DOCUMENT_TYPE_NOT_SUPPORTED,
                          "A %s is not accepted for this verification.", noun);
    if (in->front.data == NULL)
        return unverified(c, IDN_CODE_DOCUMENT_UNVERIFIED_OTHER, "The front of the %s is missing.",
                          noun);
    if (in->document_type != IDN_DOC_PASSPORT && in->back.data == NULL)
        return unverified(c, IDN_CODE_DOCUMENT_UNVERIFIED_OTHER, "The back of the %s is missing.",
                          noun);
    if (in->options.require_live_capture && !in->live_capture)
        return unverified(c, IDN_CODE_DOCUMENT_UNVERIFIED_OTHER,
                          "The %s must be photographed with the device's camera, not uploaded.",
                          noun);
    if (document_fields(in, c) < 0 || document_mrz(in, c, o) < 0)
        return -1;
    switch (checker->document_authenticity(checker->ctx, &in->front,
                                           in->document_type == IDN_DOC_PASSPORT ? NULL : &in->back,
                                           reason, sizeof(reason))) {
    case IDN_VERDICT_PASS:
        break;
    case IDN_VERDICT_UNAVAILABLE:
        return unverified(c, IDN_CODE_DOCUMENT_UNVERIFIED_OTHER, "The %s could not be checked: %s.",
                          noun, reason);
    default:
        return unverified(c, IDN_CODE_DOCUMENT_UNVERIFIED_OTHER,
                          "The %s could not be verified: %s.", noun, reason);
    }
    if (idn_date_cmp(&in->document.expiry, &in->today) < 0)
        /* No date: a reason is plain text in the session, its report and its
         * events, and the expiry date is the person's. */
        return unverified(c, IDN_CODE_DOCUMENT_EXPIRED, "The %s has expired.", noun);
    age = idn_date_age(&in->document.dob, &in->today);
    if (in->options.min_age > 0 && age < in->options.min_age)
        return unverified(c, IDN_CODE_UNDER_SUPPORTED_AGE,
                          "You must be at least %d years old to complete this verification.",
                          in->options.min_age);
    verified(c);
    return 0;
}

/* The document's data as the outputs show it, whatever the verdict. */
static void document_outputs(const struct idn_submission *in, struct idn_outputs *o,
                             bool test_defaults)
{
    const struct idn_document_data *d = &in->document;
    const struct idn_address *a = &d->address;

    copy(o->first_name, sizeof(o->first_name),
         given(d->first_name) || !test_defaults ? d->first_name : IDN_TEST_FIRST_NAME);
    copy(o->last_name, sizeof(o->last_name),
         given(d->last_name) || !test_defaults ? d->last_name : IDN_TEST_LAST_NAME);
    if (idn_date_valid(&d->dob))
        o->dob = d->dob;
    else if (test_defaults)
        o->dob = (struct idn_date){1901, 1, 1};
    if (given(a->line1)) {
        o->has_address = true;
        copy(o->address.line1, sizeof(o->address.line1), a->line1);
        copy(o->address.line2, sizeof(o->address.line2), a->line2);
        copy(o->address.city, sizeof(o->address.city), a->city);
        copy(o->address.state, sizeof(o->address.state), a->state);
        copy(o->address.postal_code, sizeof(o->address.postal_code), a->postal_code);
        copy(o->address.country, sizeof(o->address.country),
             is_alpha2(a->country) ? a->country : "");
    }
    o->document_type =
        idn_document_type_name(in->document_type) != NULL ? in->document_type : IDN_DOC_NONE;
    if (idn_idnumber_normalize(given(d->number) ? d->number : "", o->document_number,
                               sizeof(o->document_number), NULL) < 0)
        o->document_number[0] = '\0';
    if (idn_date_valid(&d->expiry))
        o->expiry = d->expiry;
    copy(o->issuing_country, sizeof(o->issuing_country),
         is_alpha2(d->issuing_country) ? d->issuing_country : "");
}

static void run_document(const struct idn_submission *in, const struct idn_checker *checker,
                         const struct forced *forced, struct idn_result *r)
{
    if (forced != NULL)
        apply_forced(&r->document, forced);
    else
        document_rules(in, checker, &r->document, &r->outputs);
    document_outputs(in, &r->outputs, forced != NULL);
}

/* ---- id_number ---- */

/* What the number itself says about its holder. */
static int id_number_encoded(const struct idn_idnumber *id, const char *last_name,
                             const struct idn_date *dob, struct idn_check *c)
{
    char key[256];

    if (id->type == IDN_IDNUMBER_SG_NRIC && (id->number[0] == 'S' || id->number[0] == 'T') &&
        (id->number[0] == 'T') != (dob->year >= 2000))
        return unverified(c, IDN_CODE_ID_NUMBER_MISMATCH,
                          "An NRIC starting with %c belongs to someone born %s 2000.",
                          id->number[0], id->number[0] == 'T' ? "in or after" : "before");
    if (id->type == IDN_IDNUMBER_IN_PAN &&
        (name_key(last_name, false, key, sizeof(key)) < 0 || key[0] != id->number[4]))
        return unverified(c, IDN_CODE_ID_NUMBER_MISMATCH,
                          "The PAN's 5th letter must be the first letter of the last name.");
    return 0;
}

static int id_number_rules(const struct idn_submission *in, struct idn_check *c,
                           struct idn_outputs *o)
{
    const struct idn_id_number_data *f = &in->id_number;
    struct idn_idnumber id;
    struct idn_idnumber_error e;
    const char *last = f->last_name;
    const struct idn_date *dob = &f->dob;

    if (!given(f->number))
        return unverified(c, IDN_CODE_ID_NUMBER_UNVERIFIED_OTHER, "No ID number was entered.");
    if (idn_idnumber_parse(f->country, f->number, &id, &e) < 0)
        return unverified(c, IDN_CODE_ID_NUMBER_UNVERIFIED_OTHER, "%s.", e.message);
    copy(o->id_number, sizeof(o->id_number), id.number);
    copy(o->id_number_display, sizeof(o->id_number_display), id.display);
    o->id_number_type = idn_idnumber_wire_type(id.type);
    if (in->type == IDN_SESSION_DOCUMENT) {
        const struct idn_document_data *d = &in->document;

        /* The number is checked with the document's name and date of birth;
         * what the form says besides must agree with them. */
        if (!given(d->first_name) || !given(d->last_name) || !idn_date_valid(&d->dob))
            return unverified(c, IDN_CODE_ID_NUMBER_INSUFFICIENT_DOCUMENT_DATA,
                              "The document does not show the name and date of birth needed "
                              "to check the ID number.");
        if ((given(f->first_name) &&
             names_match(f->first_name, d->first_name, false, false) != 1) ||
            (given(f->last_name) && names_match(f->last_name, d->last_name, false, false) != 1) ||
            (idn_date_valid(&f->dob) && idn_date_cmp(&f->dob, &d->dob) != 0))
            return unverified(c, IDN_CODE_ID_NUMBER_MISMATCH,
                              "The name or date of birth given with the ID number does not match "
                              "the document.");
        last = d->last_name, dob = &d->dob;
    } else if (!given(f->first_name) || !given(last) || !idn_date_valid(dob) ||
               idn_date_cmp(dob, &in->today) > 0) {
        return unverified(c, IDN_CODE_ID_NUMBER_INSUFFICIENT_DOCUMENT_DATA,
                          "A first name, last name and date of birth are needed to check the "
                          "ID number.");
    }
    if (id_number_encoded(&id, last, dob, c) < 0)
        return -1;
    if (in->type == IDN_SESSION_ID_NUMBER && in->options.min_age > 0 &&
        idn_date_age(dob, &in->today) < in->options.min_age)
        return unverified(c, IDN_CODE_UNDER_SUPPORTED_AGE,
                          "You must be at least %d years old to complete this verification.",
                          in->options.min_age);
    verified(c);
    return 0;
}

static void run_id_number(const struct idn_submission *in, struct idn_result *r)
{
    const struct idn_id_number_data *f = &in->id_number;
    struct idn_outputs *o = &r->outputs;
    const struct forced *forced;

    forced = find_forced(in, f->number, forced_id_number,
                         sizeof(forced_id_number) / sizeof(forced_id_number[0]));
    if (forced != NULL) {
        apply_forced(&r->id_number, forced);
        idn_idnumber_normalize(f->number, o->id_number, sizeof(o->id_number), NULL);
        copy(o->id_number_display, sizeof(o->id_number_display), o->id_number);
        o->id_number_type = NULL;
    } else {
        id_number_rules(in, &r->id_number, o);
    }
    if (in->type != IDN_SESSION_ID_NUMBER)
        return;
    copy(o->first_name, sizeof(o->first_name),
         given(f->first_name) || forced == NULL ? f->first_name : IDN_TEST_FIRST_NAME);
    copy(o->last_name, sizeof(o->last_name),
         given(f->last_name) || forced == NULL ? f->last_name : IDN_TEST_LAST_NAME);
    if (idn_date_valid(&f->dob))
        o->dob = f->dob;
    else if (forced != NULL)
        o->dob = (struct idn_date){1901, 1, 1};
}

/* ---- selfie ---- */

static void run_selfie(const struct idn_submission *in, const struct idn_checker *checker,
                       const struct forced *forced, struct idn_check *c)
{
    char reason[200] = "";

    if (forced != NULL) {
        apply_forced(c, forced);
        return;
    }
    if (in->front.data == NULL) {
        unverified(c, IDN_CODE_SELFIE_DOCUMENT_MISSING_PHOTO,
                   "There is no photo of the document to compare the selfie with.");
        return;
    }
    if (in->selfie.data == NULL) {
        unverified(c, IDN_CODE_SELFIE_UNVERIFIED_OTHER, "No selfie was taken.");
        return;
    }
    switch (checker->face_match(checker->ctx, &in->front, &in->selfie, reason, sizeof(reason))) {
    case IDN_VERDICT_PASS:
        verified(c);
        break;
    case IDN_VERDICT_FAIL:
        unverified(c, IDN_CODE_SELFIE_FACE_MISMATCH,
                   "The selfie does not match the photo on the document.");
        break;
    case IDN_VERDICT_MANIPULATED:
        unverified(c, IDN_CODE_SELFIE_MANIPULATED, "The selfie looks manipulated: %s.", reason);
        break;
    case IDN_VERDICT_NO_PHOTO:
        unverified(c, IDN_CODE_SELFIE_DOCUMENT_MISSING_PHOTO,
                   "The document has no photo to compare the selfie with: %s.", reason);
        break;
    case IDN_VERDICT_UNAVAILABLE:
        unverified(c, IDN_CODE_SELFIE_UNVERIFIED_OTHER, "The selfie could not be checked: %s.",
                   reason);
        break;
    }
}

int idn_checks_run(const struct idn_submission *in, const struct idn_checker *checker,
                   struct idn_result *out, struct cm_err *err)
{
    const struct idn_check *order[3];

    if (!idn_date_valid(&in->today))
        return cm_err_internal(err, "idn_checks_run: today is not a date");
    if (in->type != IDN_SESSION_DOCUMENT && in->type != IDN_SESSION_ID_NUMBER)
        return cm_err_internal(err, "idn_checks_run: unknown session type %d", (int)in->type);
    if (checker == NULL)
        checker = idn_checker_builtin();
    memset(out, 0, sizeof(*out));
    if (in->type == IDN_SESSION_DOCUMENT) {
        const struct forced *doc_forced =
            find_forced(in, in->document.number, forced_document,
                        sizeof(forced_document) / sizeof(forced_document[0]));
        const struct forced *selfie_forced =
            find_forced(in, in->document.number, forced_selfie,
                        sizeof(forced_selfie) / sizeof(forced_selfie[0]));

        /* A selfie test value verifies the document; a document test value
         * verifies the selfie. */
        run_document(in, checker, selfie_forced != NULL ? &forced_document[0] : doc_forced, out);
        if (in->options.require_id_number)
            run_id_number(in, out);
        if (selfie_forced != NULL || in->options.require_matching_selfie)
            run_selfie(in, checker,
                       selfie_forced != NULL ? selfie_forced
                       : doc_forced != NULL  ? &forced_document[0]
                                             : NULL,
                       &out->selfie);
    } else {
        run_id_number(in, out);
    }
    order[0] = &out->document, order[1] = &out->id_number, order[2] = &out->selfie;
    out->verified = true;
    for (int i = 0; i < 3; i++) {
        if (order[i]->status != IDN_CHECK_UNVERIFIED)
            continue;
        out->verified = false;
        out->last_error = order[i]->code;
        copy(out->last_error_reason, sizeof(out->last_error_reason), order[i]->reason);
        break;
    }
    return 0;
}
