/* FastCGI 1.0 records (the spec's section 3): an 8-byte header, content and
 * padding. The client speaks just enough of it to drive a responder. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "fcgi_client.h"
#include "cm/banned.h"

enum { BEGIN = 1, END = 3, PARAMS = 4, STDIN = 5, STDOUT = 6, STDERR = 7 };

static int write_all(int fd, const void *p, size_t n)
{
    const char *c = p;

    while (n > 0) {
        ssize_t w = write(fd, c, n);
        if (w <= 0)
            return -1;
        c += w;
        n -= (size_t)w;
    }
    return 0;
}

static int read_all(int fd, void *p, size_t n)
{
    char *c = p;

    while (n > 0) {
        ssize_t r = read(fd, c, n);
        if (r <= 0)
            return -1;
        c += r;
        n -= (size_t)r;
    }
    return 0;
}

static int record(int fd, int type, const void *content, size_t len)
{
    unsigned char h[8] = {
        1, (unsigned char)type, 0, 1, (unsigned char)(len >> 8), (unsigned char)len, 0, 0};

    return write_all(fd, h, 8) || (len && write_all(fd, content, len)) ? -1 : 0;
}

static int stream(int fd, int type, const char *data, size_t len)
{
    while (len > 0) {
        size_t n = len > 65535 ? 65535 : len;
        if (record(fd, type, data, n) < 0)
            return -1;
        data += n;
        len -= n;
    }
    return record(fd, type, NULL, 0);
}

static size_t put_len(unsigned char *p, size_t n)
{
    if (n < 128) {
        p[0] = (unsigned char)n;
        return 1;
    }
    p[0] = (unsigned char)((n >> 24) | 0x80);
    p[1] = (unsigned char)(n >> 16);
    p[2] = (unsigned char)(n >> 8);
    p[3] = (unsigned char)n;
    return 4;
}

int fcgi_request(const char *socket_path, const char *const *params, const char *body,
                 size_t body_len, struct fcgi_reply *reply)
{
    static const unsigned char begin[8] = {0, 1, 0, 0, 0, 0, 0, 0}; /* responder, no keep-conn */
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    unsigned char *pbuf = NULL;
    size_t plen = 0, pcap = 0;
    int fd, ret = -1;

    memset(reply, 0, sizeof(*reply));
    fd = socket(AF_UNIX, SOCK_STREAM, 0);
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", socket_path);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
        goto out;
    for (const char *const *p = params; *p; p++) {
        const char *eq = strchr(*p, '=');
        size_t nl = (size_t)(eq - *p), vl = strlen(eq + 1);
        if (plen + nl + vl + 8 > pcap) {
            pcap = (plen + nl + vl + 8) * 2;
            pbuf = realloc(pbuf, pcap);
            if (pbuf == NULL)
                goto out;
        }
        plen += put_len(pbuf + plen, nl);
        plen += put_len(pbuf + plen, vl);
        memcpy(pbuf + plen, *p, nl);
        memcpy(pbuf + plen + nl, eq + 1, vl);
        plen += nl + vl;
    }
    if (record(fd, BEGIN, begin, 8) < 0 || stream(fd, PARAMS, (char *)pbuf, plen) < 0 ||
        stream(fd, STDIN, body ? body : "", body_len) < 0)
        goto out;
    for (;;) {
        unsigned char h[8];
        size_t clen, padded;
        char *c;
        if (read_all(fd, h, 8) < 0)
            goto out;
        clen = (size_t)h[4] << 8 | h[5];
        padded = clen + h[6];
        c = malloc(padded + 1);
        if (c == NULL || (padded && read_all(fd, c, padded) < 0)) {
            free(c);
            goto out;
        }
        if (h[1] == STDOUT && clen) {
            char *o = realloc(reply->out, reply->len + clen + 1);
            if (o == NULL) {
                free(c);
                goto out;
            }
            memcpy(o + reply->len, c, clen);
            reply->out = o;
            reply->len += clen;
            o[reply->len] = '\0';
        }
        free(c);
        if (h[1] == END)
            break;
    }
    if (reply->out != NULL && strncmp(reply->out, "Status: ", 8) == 0)
        reply->status = atoi(reply->out + 8);
    ret = 0;
out:
    free(pbuf);
    if (fd >= 0)
        close(fd);
    return ret;
}

int fcgi_header(const struct fcgi_reply *reply, const char *name, char *out, size_t cap)
{
    size_t nl = strlen(name);
    const char *end = reply->out ? strstr(reply->out, "\r\n\r\n") : NULL;

    for (const char *p = reply->out; p != NULL && p < end; p = strstr(p, "\r\n") + 2) {
        if (strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
            const char *v = p + nl + 2;
            size_t vl = (size_t)(strstr(v, "\r\n") - v);
            if (vl >= cap)
                vl = cap - 1;
            memcpy(out, v, vl);
            out[vl] = '\0';
            return 0;
        }
    }
    return -1;
}

const char *fcgi_body(const struct fcgi_reply *reply)
{
    const char *end = reply->out ? strstr(reply->out, "\r\n\r\n") : NULL;

    return end ? end + 4 : "";
}
