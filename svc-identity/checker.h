/* The vendor interface of the checks engine: the two judgements that need a
 * trained model, document authenticity and face match, behind a struct of
 * function pointers with a context pointer. A deployment that has a vendor
 * fills in its own struct idn_checker and hands it to idn_checks_run(); one
 * that has none uses idn_checker_builtin(), which is honest about its limits:
 *
 *  - authenticity: PASS when every image given is a complete JPEG or PNG
 *    header (parsed here, no image library) of plausible dimensions, FAIL
 *    otherwise. It does not detect forgeries.
 *  - face match: UNAVAILABLE when there is no selfie; NO_PHOTO when the
 *    document image does not read; UNAVAILABLE when the selfie does not
 *    read; PASS when both read. It does not compare faces.
 *
 * Also the image header probe, which the upload handlers use to check type
 * and size before they store a file. */
#ifndef IDN_CHECKER_H
#define IDN_CHECKER_H

#include <stddef.h>

/* Image bytes, borrowed for the duration of a call. data NULL: no image. */
struct idn_image {
    const unsigned char *data;
    size_t len;
};

enum idn_image_format {
    IDN_IMAGE_JPEG,
    IDN_IMAGE_PNG,
};

struct idn_image_info {
    enum idn_image_format format;
    unsigned width;
    unsigned height;
};

/* Plausible sides of a photo of a document or a face, in pixels. */
#define IDN_IMAGE_MIN_SIDE 200
#define IDN_IMAGE_MAX_SIDE 12000

/* Reads the header of a JPEG (SOI, then segments up to the first SOFn frame
 * header) or a PNG (signature, IHDR, and IEND as the last chunk, so that a
 * truncated upload fails) and checks the dimensions against the bounds
 * above. Returns 0 and fills *info, or -1 with a reason fit to show a
 * person written to reason (reason_size bytes). */
int idn_image_probe(const struct idn_image *img, struct idn_image_info *info, char *reason,
                    size_t reason_size);

enum idn_verdict {
    IDN_VERDICT_PASS,
    IDN_VERDICT_FAIL,        /* authenticity: not genuine; face: another person */
    IDN_VERDICT_MANIPULATED, /* face: the selfie is a screen, a print, a mask or an edit */
    IDN_VERDICT_NO_PHOTO,    /* face: the document shows no usable face */
    IDN_VERDICT_UNAVAILABLE, /* the checker cannot tell (no input, vendor unreachable) */
};

struct idn_checker {
    void *ctx; /* passed back to each call; the deployment owns it */

    /* Is the document genuine, judged from its images? back has data NULL
     * for passports. Writes a reason (English, for the person) when the
     * verdict is not PASS. */
    enum idn_verdict (*document_authenticity)(void *ctx, const struct idn_image *front,
                                              const struct idn_image *back, char *reason,
                                              size_t reason_size);

    /* Is the face on the document's front the face in the selfie? selfie
     * has data NULL when none was taken. Reason as above. */
    enum idn_verdict (*face_match)(void *ctx, const struct idn_image *document_front,
                                   const struct idn_image *selfie, char *reason,
                                   size_t reason_size);
};

/* The built-in checker described above; ctx is unused. Static, never freed. */
const struct idn_checker *idn_checker_builtin(void);

#endif
