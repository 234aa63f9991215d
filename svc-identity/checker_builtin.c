/* The built-in checker: what can honestly be judged without a model. It
 * proves that the uploads are whole images of a believable size, which stops
 * empty, truncated and mislabelled files, and no more; checker.h says what
 * each verdict does and does not mean. The header parsing is our own so that
 * no image library parses untrusted bytes in this process. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "checker.h"
#include "cm/banned.h"

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static unsigned be16(const unsigned char *p)
{
    return (unsigned)p[0] << 8 | p[1];
}

static int refuse(char *reason, size_t size, const char *text)
{
    if (reason != NULL && size > 0)
        snprintf(reason, size, "%s", text);
    return -1;
}

static bool png_depth_ok(unsigned color, unsigned depth)
{
    switch (color) {
    case 0: /* greyscale */
        return depth == 1 || depth == 2 || depth == 4 || depth == 8 || depth == 16;
    case 3: /* palette */
        return depth == 1 || depth == 2 || depth == 4 || depth == 8;
    case 2: /* RGB */
    case 4: /* grey + alpha */
    case 6: /* RGBA */
        return depth == 8 || depth == 16;
    default:
        return false;
    }
}

static int probe_png(const unsigned char *p, size_t len, struct idn_image_info *info, char *reason,
                     size_t size)
{
    static const unsigned char iend[] = {0, 0, 0, 0, 'I', 'E', 'N', 'D', 0xae, 0x42, 0x60, 0x82};

    /* signature (8), IHDR chunk (4 + 4 + 13 + 4), at least IEND (12) */
    if (len < 8 + 25 + 12 || be32(p + 8) != 13 || memcmp(p + 12, "IHDR", 4) != 0)
        return refuse(reason, size, "The PNG image has no valid header");
    if (!png_depth_ok(p[25], p[24]) || p[26] != 0 || p[27] != 0 || p[28] > 1)
        return refuse(reason, size, "The PNG image has an invalid header");
    if (memcmp(p + len - sizeof(iend), iend, sizeof(iend)) != 0)
        return refuse(reason, size, "The PNG image is incomplete");
    info->format = IDN_IMAGE_PNG;
    info->width = be32(p + 16) > UINT32_MAX / 2 ? 0 : (unsigned)be32(p + 16);
    info->height = be32(p + 20) > UINT32_MAX / 2 ? 0 : (unsigned)be32(p + 20);
    return 0;
}

/* SOF0-SOF15 carry the frame size, except C4 (DHT), C8 (JPG) and CC (DAC). */
static bool is_sof(unsigned char m)
{
    return m >= 0xc0 && m <= 0xcf && m != 0xc4 && m != 0xc8 && m != 0xcc;
}

static int probe_jpeg(const unsigned char *p, size_t len, struct idn_image_info *info, char *reason,
                      size_t size)
{
    size_t i = 2;

    while (i < len) {
        unsigned char m;
        unsigned seglen;

        if (p[i] != 0xff)
            return refuse(reason, size, "The JPEG image is damaged");
        while (i < len && p[i] == 0xff) /* fill bytes */
            i++;
        if (i >= len)
            break;
        m = p[i++];
        if (m == 0x01 || (m >= 0xd0 && m <= 0xd7)) /* TEM, RSTn: no length */
            continue;
        if (m == 0xd8 || m == 0xd9 || m == 0xda || m == 0x00)
            return refuse(reason, size, "The JPEG image has no frame header");
        if (i + 2 > len)
            break;
        seglen = be16(p + i);
        if (seglen < 2 || i + seglen > len)
            break;
        if (is_sof(m)) {
            if (seglen < 8)
                return refuse(reason, size, "The JPEG image has an invalid frame header");
            info->format = IDN_IMAGE_JPEG;
            info->height = be16(p + i + 3);
            info->width = be16(p + i + 5);
            return 0;
        }
        i += seglen;
    }
    return refuse(reason, size, "The JPEG image is incomplete");
}

int idn_image_probe(const struct idn_image *img, struct idn_image_info *info, char *reason,
                    size_t reason_size)
{
    static const unsigned char png_sig[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    const unsigned char *p = img->data;
    size_t len = img->len;
    int rc;

    if (p == NULL || len == 0)
        return refuse(reason, reason_size, "The image is empty");
    if (len >= 3 && p[0] == 0xff && p[1] == 0xd8 && p[2] == 0xff)
        rc = probe_jpeg(p, len, info, reason, reason_size);
    else if (len >= sizeof(png_sig) && memcmp(p, png_sig, sizeof(png_sig)) == 0)
        rc = probe_png(p, len, info, reason, reason_size);
    else
        return refuse(reason, reason_size, "The file is not a JPEG or PNG image");
    if (rc < 0)
        return -1;
    if (info->width < IDN_IMAGE_MIN_SIDE || info->height < IDN_IMAGE_MIN_SIDE)
        return refuse(reason, reason_size, "The image is too small to read");
    if (info->width > IDN_IMAGE_MAX_SIDE || info->height > IDN_IMAGE_MAX_SIDE)
        return refuse(reason, reason_size, "The image is too large");
    return 0;
}

static enum idn_verdict authenticity(void *ctx, const struct idn_image *front,
                                     const struct idn_image *back, char *reason, size_t reason_size)
{
    struct idn_image_info info;

    (void)ctx;
    if (idn_image_probe(front, &info, reason, reason_size) < 0)
        return IDN_VERDICT_FAIL;
    if (back != NULL && back->data != NULL && idn_image_probe(back, &info, reason, reason_size) < 0)
        return IDN_VERDICT_FAIL;
    return IDN_VERDICT_PASS;
}

static enum idn_verdict face_match(void *ctx, const struct idn_image *document_front,
                                   const struct idn_image *selfie, char *reason, size_t reason_size)
{
    struct idn_image_info info;

    (void)ctx;
    if (selfie == NULL || selfie->data == NULL) {
        refuse(reason, reason_size, "No selfie was taken");
        return IDN_VERDICT_UNAVAILABLE;
    }
    if (idn_image_probe(document_front, &info, reason, reason_size) < 0)
        return IDN_VERDICT_NO_PHOTO;
    if (idn_image_probe(selfie, &info, reason, reason_size) < 0)
        return IDN_VERDICT_UNAVAILABLE;
    return IDN_VERDICT_PASS;
}

static const struct idn_checker builtin = {
    .ctx = NULL,
    .document_authenticity = authenticity,
    .face_match = face_match,
};

const struct idn_checker *idn_checker_builtin(void)
{
    return &builtin;
}
