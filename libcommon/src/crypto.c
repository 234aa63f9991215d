/* AES-256-GCM envelopes and the keyring they are sealed under. The key file
 * is read whole into one buffer that is parsed in place and wiped before it
 * is freed, so key material exists only there and in the keyring, which is
 * sized once from the file length (every key line is at least 66 bytes) and
 * never reallocated: a realloc could leave a stale copy of the keys in freed
 * memory. Every path out of the cipher code frees its EVP_CIPHER_CTX, and a
 * plaintext buffer that failed authentication is wiped before it is freed. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "cm/crypto.h"
#include "cm/ids.h"
#include "cm/sig.h"
#include "cm/banned.h"

#define KEY_LEN      32
#define KEY_HEX_LEN  (2 * KEY_LEN)
#define KEY_FILE_MAX (64 * 1024)
#define MIN_LINE_LEN (1 + 1 + KEY_HEX_LEN)

struct key {
    char id[CM_KEY_ID_MAX + 1];
    unsigned char bytes[KEY_LEN];
};

struct cm_keyring {
    size_t n;   /* keys[n - 1] is the active key */
    size_t cap; /* entries allocated, wiped on free */
    struct key keys[];
};

static void wipe_free(void *p, size_t len)
{
    if (p != NULL)
        OPENSSL_cleanse(p, len);
    free(p);
}

void cm_keyring_free(struct cm_keyring *kr)
{
    if (kr != NULL)
        wipe_free(kr, sizeof(*kr) + kr->cap * sizeof(kr->keys[0]));
}

/* Reads the whole file at path into a new NUL-terminated buffer of *len
 * bytes after checking that it is a private regular file. */
static char *read_key_file(const char *path, size_t *len, struct cm_err *err)
{
    struct stat st;
    char *buf = NULL;
    size_t got = 0;
    int fd;

    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        cm_err_internal(err, "key file %s: %s", path, strerror(errno));
        return NULL;
    }
    /* fstat on the open descriptor: what we check is what we read. */
    if (fstat(fd, &st) != 0) {
        cm_err_internal(err, "key file %s: %s", path, strerror(errno));
        goto fail;
    }
    if (!S_ISREG(st.st_mode)) {
        cm_err_internal(err, "key file %s: not a regular file", path);
        goto fail;
    }
    if ((st.st_mode & 077) != 0) {
        cm_err_internal(err, "key file %s: mode %04o gives group or others access; chmod 600 it",
                        path, (unsigned)(st.st_mode & 07777));
        goto fail;
    }
    if (st.st_size > KEY_FILE_MAX) {
        cm_err_internal(err, "key file %s: larger than %d bytes", path, KEY_FILE_MAX);
        goto fail;
    }
    buf = malloc((size_t)st.st_size + 1);
    if (buf == NULL) {
        cm_err_internal(err, "key file %s: out of memory", path);
        goto fail;
    }
    /* One byte more than fstat promised, to notice a file growing under us. */
    while (got <= (size_t)st.st_size) {
        ssize_t r = read(fd, buf + got, (size_t)st.st_size + 1 - got);

        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            cm_err_internal(err, "key file %s: %s", path, strerror(errno));
            goto fail;
        }
        if (r == 0)
            break;
        got += (size_t)r;
    }
    if (got != (size_t)st.st_size) {
        cm_err_internal(err, "key file %s: changed while being read", path);
        goto fail;
    }
    close(fd);
    buf[got] = '\0';
    *len = got;
    return buf;
fail:
    close(fd);
    wipe_free(buf, buf != NULL ? (size_t)st.st_size + 1 : 0);
    return NULL;
}

static int is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r';
}

static int is_id_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
}

static const struct key *find_key(const struct cm_keyring *kr, const char *id)
{
    for (size_t i = 0; i < kr->n; i++) {
        if (strcmp(kr->keys[i].id, id) == 0)
            return &kr->keys[i];
    }
    return NULL;
}

/* Parses one line (NUL-terminated, its '\n' already cut) into kr: adds a key
 * or skips a blank or comment line. The messages name the fault but never
 * quote the line, which may hold key material. */
static int parse_line(struct cm_keyring *kr, char *line, const char *path, size_t lineno,
                      struct cm_err *err)
{
    struct key *k = &kr->keys[kr->n];
    char *p = line;
    char *end;
    size_t idlen = 0;

    while (is_blank(*p))
        p++;
    if (*p == '\0' || *p == '#')
        return 0;
    while (is_id_char(p[idlen]))
        idlen++;
    if (idlen == 0 || idlen > CM_KEY_ID_MAX || !is_blank(p[idlen]))
        return cm_err_internal(err,
                               "key file %s line %zu: expected a key id of 1 to %d "
                               "characters [A-Za-z0-9_-], blanks, then 64 hex digits",
                               path, lineno, CM_KEY_ID_MAX);
    memcpy(k->id, p, idlen);
    k->id[idlen] = '\0';
    p += idlen;
    while (is_blank(*p))
        p++;
    end = p;
    while (*end != '\0' && !is_blank(*end))
        end++;
    for (char *q = end; *q != '\0'; q++) {
        if (!is_blank(*q))
            return cm_err_internal(err, "key file %s line %zu: unexpected text after the key", path,
                                   lineno);
    }
    *end = '\0';
    if (cm_hex_decode(p, k->bytes, KEY_LEN) != 0)
        return cm_err_internal(err, "key file %s line %zu: key '%s' is not 64 hex digits", path,
                               lineno, k->id);
    if (find_key(kr, k->id) != NULL)
        return cm_err_internal(err, "key file %s line %zu: duplicate key id '%s'", path, lineno,
                               k->id);
    kr->n++;
    return 0;
}

struct cm_keyring *cm_keyring_load(const char *path, struct cm_err *err)
{
    struct cm_keyring *kr = NULL;
    char *buf = NULL;
    char *line;
    size_t len = 0;
    size_t cap;
    size_t lineno = 0;

    buf = read_key_file(path, &len, err);
    if (buf == NULL)
        return NULL;
    cap = len / MIN_LINE_LEN + 1;
    kr = calloc(1, sizeof(*kr) + cap * sizeof(kr->keys[0]));
    if (kr == NULL) {
        cm_err_internal(err, "key file %s: out of memory", path);
        goto fail;
    }
    kr->cap = cap;
    for (line = buf; line != NULL;) {
        char *nl = strchr(line, '\n');

        if (nl != NULL)
            *nl = '\0';
        if (parse_line(kr, line, path, ++lineno, err) != 0)
            goto fail;
        line = nl != NULL ? nl + 1 : NULL;
    }
    if (kr->n == 0) {
        cm_err_internal(err, "key file %s: no keys", path);
        goto fail;
    }
    wipe_free(buf, len + 1);
    return kr;
fail:
    wipe_free(buf, len + 1);
    cm_keyring_free(kr);
    return NULL;
}

const char *cm_keyring_active_id(const struct cm_keyring *kr)
{
    return kr->keys[kr->n - 1].id;
}

int cm_keyring_has(const struct cm_keyring *kr, const char *key_id)
{
    return find_key(kr, key_id) != NULL;
}

/* AES-256-GCM, fetched once and kept for the process's life: the
 * EVP_aes_256_gcm() handle makes every EVP_*Init_ex fetch it again, under
 * the provider store's lock. */
static EVP_CIPHER *aes_gcm;
static pthread_once_t aes_gcm_once = PTHREAD_ONCE_INIT;

static void fetch_aes_gcm(void)
{
    aes_gcm = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
}

static const EVP_CIPHER *cipher(void)
{
    pthread_once(&aes_gcm_once, fetch_aes_gcm);
    return aes_gcm;
}

int cm_seal(const struct cm_keyring *kr, const void *aad, size_t aadlen, const void *plain,
            size_t len, unsigned char **out, size_t *outlen, const char **key_id_out,
            struct cm_err *err)
{
    const struct key *k = &kr->keys[kr->n - 1];
    const EVP_CIPHER *aes = cipher();
    EVP_CIPHER_CTX *ctx = NULL;
    unsigned char *blob = NULL;
    unsigned char *ct;
    int n;
    int ret = -1;

    if (len > INT_MAX - CM_SEAL_OVERHEAD || aadlen > INT_MAX)
        return cm_err_internal(err, "seal: input too large");
    blob = malloc(len + CM_SEAL_OVERHEAD);
    ctx = EVP_CIPHER_CTX_new();
    if (blob == NULL || ctx == NULL) {
        cm_err_internal(err, "seal: out of memory");
        goto out;
    }
    ct = blob + CM_SEAL_NONCE;
    /* GCM's default IV length is the 12 bytes we use, so key and nonce can
     * go in with the cipher. */
    if (aes == NULL || cm_random_bytes(blob, CM_SEAL_NONCE) != 0 ||
        EVP_EncryptInit_ex(ctx, aes, NULL, k->bytes, blob) != 1 ||
        (aadlen > 0 && EVP_EncryptUpdate(ctx, NULL, &n, aad, (int)aadlen) != 1) ||
        (len > 0 && EVP_EncryptUpdate(ctx, ct, &n, plain, (int)len) != 1) ||
        EVP_EncryptFinal_ex(ctx, ct + len, &n) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, CM_SEAL_TAG, ct + len) != 1) {
        cm_err_internal(err, "seal under key '%s': OpenSSL failure", k->id);
        goto out;
    }
    *out = blob;
    *outlen = len + CM_SEAL_OVERHEAD;
    if (key_id_out != NULL)
        *key_id_out = k->id;
    blob = NULL;
    ret = 0;
out:
    EVP_CIPHER_CTX_free(ctx);
    free(blob);
    return ret;
}

int cm_open(const struct cm_keyring *kr, const char *key_id, const void *aad, size_t aadlen,
            const unsigned char *blob, size_t bloblen, char **plain, size_t *plainlen,
            struct cm_err *err)
{
    const struct key *k = find_key(kr, key_id);
    const EVP_CIPHER *aes = cipher();
    EVP_CIPHER_CTX *ctx = NULL;
    unsigned char tag[CM_SEAL_TAG];
    unsigned char *pt = NULL;
    size_t ctlen;
    int n;
    int ret = -1;

    if (k == NULL)
        return cm_err_internal(err, "open: unknown key id '%s'", key_id);
    if (bloblen < CM_SEAL_OVERHEAD)
        return cm_err_internal(err,
                               "open under key '%s': blob of %zu bytes is shorter than "
                               "nonce and tag",
                               k->id, bloblen);
    if (bloblen > INT_MAX || aadlen > INT_MAX)
        return cm_err_internal(err, "open under key '%s': input too large", k->id);
    ctlen = bloblen - CM_SEAL_OVERHEAD;
    /* The tag is copied out because EVP_CTRL_GCM_SET_TAG takes a non-const
     * pointer. */
    memcpy(tag, blob + CM_SEAL_NONCE + ctlen, CM_SEAL_TAG);
    pt = malloc(ctlen + 1);
    ctx = EVP_CIPHER_CTX_new();
    if (pt == NULL || ctx == NULL) {
        cm_err_internal(err, "open under key '%s': out of memory", k->id);
        goto out;
    }
    if (aes == NULL || EVP_DecryptInit_ex(ctx, aes, NULL, k->bytes, blob) != 1 ||
        (aadlen > 0 && EVP_DecryptUpdate(ctx, NULL, &n, aad, (int)aadlen) != 1) ||
        (ctlen > 0 && EVP_DecryptUpdate(ctx, pt, &n, blob + CM_SEAL_NONCE, (int)ctlen) != 1) ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, CM_SEAL_TAG, tag) != 1) {
        cm_err_internal(err, "open under key '%s': OpenSSL failure", k->id);
        goto out;
    }
    if (EVP_DecryptFinal_ex(ctx, pt + ctlen, &n) != 1) {
        cm_err_internal(err,
                        "open under key '%s': authentication failed (wrong key or "
                        "associated data, or altered blob)",
                        k->id);
        goto out;
    }
    pt[ctlen] = '\0';
    *plain = (char *)pt;
    *plainlen = ctlen;
    pt = NULL;
    ret = 0;
out:
    EVP_CIPHER_CTX_free(ctx);
    wipe_free(pt, ctlen + 1);
    return ret;
}

unsigned char *cm_aad_build(size_t *outlen, size_t nparts, const char *const *parts)
{
    unsigned char *buf;
    unsigned char *p;
    size_t total = 0;

    for (size_t i = 0; i < nparts; i++) {
        size_t len;

        if (parts[i] == NULL)
            return NULL;
        len = strlen(parts[i]);
        if (len > UINT32_MAX || len > SIZE_MAX - 4 - total)
            return NULL;
        total += 4 + len;
    }
    /* malloc(0) may return NULL, which would read as failure. */
    buf = malloc(total > 0 ? total : 1);
    if (buf == NULL)
        return NULL;
    p = buf;
    for (size_t i = 0; i < nparts; i++) {
        size_t len = strlen(parts[i]);

        p[0] = (unsigned char)(len >> 24);
        p[1] = (unsigned char)(len >> 16);
        p[2] = (unsigned char)(len >> 8);
        p[3] = (unsigned char)len;
        memcpy(p + 4, parts[i], len);
        p += 4 + len;
    }
    *outlen = total;
    return buf;
}
