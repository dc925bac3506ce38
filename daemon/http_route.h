/* The HTTP server's decisions that need no socket, as pure functions (unit-tested
 * and fuzzed in tests/fuzz/http_fuzz.c): matching a route, reading a bearer
 * token from a header or a file, comparing tokens in constant time, and the
 * checks on a request's size and path.  Internal to http.c. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http.h"

typedef struct http_route {
    char method[8];
    char *prefix; /* owned */
    size_t prefix_len;
    bool public_;
    http_handler_fn fn;
    void *opaque;
} http_route_t;

/* Whether @prefix (of @prefix_len bytes) serves @path, per http_add_route(). */
bool http_route_prefix_matches(const char *prefix, size_t prefix_len, const char *path);

/* Index of the route of @routes serving @method and @path (HEAD as GET; the
 * longest matching prefix wins, the first registered among equals), or -1. */
int http_route_find(const http_route_t *routes, size_t n, const char *method, const char *path);

/* Whether @c may appear in a token (RFC 6750's b64token: letters, digits and
 * "-._~+/", with '=' only at the end). */
bool http_token_char(char c);

/* The token of an Authorization header value: "Bearer" (any case), at least one
 * space, a token of http_token_char() characters ('=' padding only at its end),
 * then optional spaces.  Returns true with *@tok pointing into @header and *@len,
 * false for anything else. */
bool http_bearer_parse(const char *header, const char **tok, size_t *len);

/* Whether the @got_len bytes at @got equal the @want_len bytes at @want, in a time
 * that depends on @want_len only (a wrong token reveals nothing of the right one
 * through the answer's timing). */
bool http_token_equal(const char *got, size_t got_len, const char *want, size_t want_len);

/* The token in the @len bytes of a token file: surrounding whitespace (a final
 * newline) trimmed, then 1 to HTTP_TOKEN_MAX token characters.  Returns NULL with
 * *@start and *@tok_len set, or why the file is refused (never quoting it). */
const char *http_token_from_file(const char *text, size_t len, size_t *start, size_t *tok_len);

/* Why a decoded request path is refused (400), or NULL: it must start with '/'
 * and hold no control characters. */
const char *http_path_problem(const char *path);

/* What a request over http.max_request_bytes (@max) is answered: 414 for a raw
 * URI of @uri_len bytes, 431 for headers of @header_bytes, 413 for a body declared
 * of @body_len bytes (-1: none declared), 0 when within bounds. */
int http_size_status(size_t uri_len, size_t header_bytes, int64_t body_len, size_t max);
