/* A minimal FastCGI client for tests: sends one request to a responder on a
 * unix socket and collects its stdout. */
#ifndef TEST_FCGI_CLIENT_H
#define TEST_FCGI_CLIENT_H

#include <stddef.h>

struct fcgi_reply {
    char *out; /* new (free()): the raw CGI response, headers and body */
    size_t len;
    int status; /* parsed from "Status: NNN"; 0 when absent */
};

/* params: NULL-terminated array of "NAME=value" strings. Returns 0, or -1 on
 * a connection or protocol failure. */
int fcgi_request(const char *socket_path, const char *const *params, const char *body,
                 size_t body_len, struct fcgi_reply *reply);

/* The value of a response header (case-insensitive name) copied into out,
 * or -1 when absent. */
int fcgi_header(const struct fcgi_reply *reply, const char *name, char *out, size_t cap);

/* The response body (borrowed from reply). */
const char *fcgi_body(const struct fcgi_reply *reply);

#endif
