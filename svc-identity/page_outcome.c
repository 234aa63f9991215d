/* Session options for the checks engine and the test-mode outcomes
 * (page_outcome.h). The reasons mirror what the real checks say in spirit:
 * short, addressed to the person, saying what to do next. */
#include <string.h>

#include "page_outcome.h"
#include "cm/banned.h"

void idn_outcome_options(const json_t *options, struct idn_options *out)
{
    const json_t *doc = json_object_get(options, "document");
    const json_t *types = json_object_get(doc, "allowed_types");
    size_t i;
    json_t *t;

    memset(out, 0, sizeof(*out));
    out->min_age = IDN_MIN_AGE;
    json_array_foreach(types, i, t)
    {
        const char *name = json_string_value(t);

        if (name == NULL)
            continue;
        if (strcmp(name, "driving_license") == 0)
            out->allowed_types |= IDN_DOC_DRIVING_LICENSE;
        else if (strcmp(name, "id_card") == 0)
            out->allowed_types |= IDN_DOC_ID_CARD;
        else if (strcmp(name, "passport") == 0)
            out->allowed_types |= IDN_DOC_PASSPORT;
    }
    out->require_id_number = json_is_true(json_object_get(doc, "require_id_number"));
    out->require_live_capture = json_is_true(json_object_get(doc, "require_live_capture"));
    out->require_matching_selfie = json_is_true(json_object_get(doc, "require_matching_selfie"));
}

int idn_outcome_session_type(const char *name, enum idn_session_type *type)
{
    if (name != NULL && strcmp(name, "document") == 0)
        *type = IDN_SESSION_DOCUMENT;
    else if (name != NULL && strcmp(name, "id_number") == 0)
        *type = IDN_SESSION_ID_NUMBER;
    else
        return -1;
    return 0;
}

size_t idn_outcome_codes(enum idn_session_type type, const struct idn_options *opt,
                         enum idn_code out[IDN_OUTCOME_MAX_CODES])
{
    static const enum idn_code document[] = {
        IDN_CODE_DOCUMENT_EXPIRED, IDN_CODE_DOCUMENT_TYPE_NOT_SUPPORTED,
        IDN_CODE_DOCUMENT_UNVERIFIED_OTHER, IDN_CODE_UNDER_SUPPORTED_AGE};
    static const enum idn_code selfie[] = {
        IDN_CODE_SELFIE_DOCUMENT_MISSING_PHOTO, IDN_CODE_SELFIE_FACE_MISMATCH,
        IDN_CODE_SELFIE_MANIPULATED, IDN_CODE_SELFIE_UNVERIFIED_OTHER};
    static const enum idn_code id_number[] = {IDN_CODE_ID_NUMBER_INSUFFICIENT_DOCUMENT_DATA,
                                              IDN_CODE_ID_NUMBER_MISMATCH,
                                              IDN_CODE_ID_NUMBER_UNVERIFIED_OTHER};
    size_t n = 0;

#define ADD(list)                                                                                  \
    for (size_t i = 0; i < sizeof(list) / sizeof(list[0]); i++)                                    \
        out[n++] = list[i];
    if (type == IDN_SESSION_ID_NUMBER) {
        ADD(id_number);
        out[n++] = IDN_CODE_UNDER_SUPPORTED_AGE;
        return n;
    }
    ADD(document);
    if (opt->require_matching_selfie)
        ADD(selfie);
    if (opt->require_id_number)
        ADD(id_number);
#undef ADD
    return n;
}

int idn_outcome_valid(enum idn_session_type type, const struct idn_options *opt, const char *name)
{
    enum idn_code codes[IDN_OUTCOME_MAX_CODES];
    size_t n;

    if (name == NULL)
        return 0;
    if (strcmp(name, IDN_OUTCOME_VERIFIED) == 0 || strcmp(name, IDN_OUTCOME_DELAY) == 0)
        return 1;
    n = idn_outcome_codes(type, opt, codes);
    for (size_t i = 0; i < n; i++)
        if (strcmp(idn_code_name(codes[i]), name) == 0)
            return 1;
    return 0;
}

enum idn_code idn_outcome_code(const char *name)
{
    for (int c = IDN_CODE_NONE + 1; c <= IDN_CODE_UNDER_SUPPORTED_AGE; c++)
        if (name != NULL && strcmp(idn_code_name((enum idn_code)c), name) == 0)
            return (enum idn_code)c;
    return IDN_CODE_NONE;
}

const char *idn_outcome_reason(enum idn_code code)
{
    switch (code) {
    case IDN_CODE_DOCUMENT_EXPIRED:
        return "The document has expired. Please use a document that is still valid.";
    case IDN_CODE_DOCUMENT_TYPE_NOT_SUPPORTED:
        return "This type of document is not accepted. Please use another document.";
    case IDN_CODE_DOCUMENT_UNVERIFIED_OTHER:
        return "The document could not be verified. Please try again with clear photos.";
    case IDN_CODE_UNDER_SUPPORTED_AGE:
        return "The person is under the minimum age this verification supports.";
    case IDN_CODE_SELFIE_DOCUMENT_MISSING_PHOTO:
        return "The document does not show a photo of a face to compare the selfie with.";
    case IDN_CODE_SELFIE_FACE_MISMATCH:
        return "The selfie does not match the face on the document.";
    case IDN_CODE_SELFIE_MANIPULATED:
        return "The selfie appears to have been manipulated.";
    case IDN_CODE_SELFIE_UNVERIFIED_OTHER:
        return "The selfie could not be verified. Please try again.";
    case IDN_CODE_ID_NUMBER_INSUFFICIENT_DOCUMENT_DATA:
        return "There is not enough data to verify the ID number.";
    case IDN_CODE_ID_NUMBER_MISMATCH:
        return "The ID number does not match the name and date of birth given.";
    case IDN_CODE_ID_NUMBER_UNVERIFIED_OTHER:
        return "The ID number could not be verified.";
    case IDN_CODE_CONSENT_DECLINED:
        return "The person declined to share their identity information.";
    default:
        return "The verification could not be completed. Please try again.";
    }
}
