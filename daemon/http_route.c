/* The HTTP server's pure decisions (http_route.h). */
#include "http_route.h"

#include <string.h>
#include <strings.h>

bool http_route_prefix_matches(const char *prefix, size_t prefix_len, const char *path)
{
    if (prefix_len == 0 || strncmp(path, prefix, prefix_len) != 0)
        return false;
    /* "/metrics" must not serve "/metricsx"; "/v1/contacts/" serves what is under it */
    return prefix[prefix_len - 1] == '/' || path[prefix_len] == 0 || path[prefix_len] == '/';
}

int http_route_find(const http_route_t *routes, size_t n, const char *method, const char *path)
{
    if (strcmp(method, "HEAD") == 0)
        method = "GET";
    int best = -1;
    for (size_t i = 0; i < n; i++) {
        const http_route_t *r = &routes[i];
        if (strcmp(r->method, method) != 0 ||
            !http_route_prefix_matches(r->prefix, r->prefix_len, path))
            continue;
        if (best < 0 || r->prefix_len > routes[best].prefix_len)
            best = (int)i;
    }
    return best;
}

bool http_token_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~' || c == '+' || c == '/';
}

/* Length of the token at @s: at least one token character, then '=' padding. */
static size_t token_span(const char *s, size_t max)
{
    size_t n = 0;
    while (n < max && http_token_char(s[n]))
        n++;
    while (n > 0 && n < max && s[n] == '=')
        n++;
    return n;
}

bool http_bearer_parse(const char *header, const char **tok, size_t *len)
{
    if (!header || strncasecmp(header, "Bearer", 6) != 0 || header[6] != ' ')
        return false;
    const char *p = header + 6;
    while (*p == ' ')
        p++;
    size_t rest = strlen(p);
    size_t n = token_span(p, rest);
    if (n == 0 || n > HTTP_TOKEN_MAX)
        return false;
    for (size_t i = n; i < rest; i++)
        if (p[i] != ' ' && p[i] != '\t')
            return false;
    *tok = p;
    *len = n;
    return true;
}

bool http_token_equal(const char *got, size_t got_len, const char *want, size_t want_len)
{
    /* Every byte of @want is compared against some byte, whatever @got is. */
    unsigned diff = (unsigned)(got_len != want_len);
    for (size_t i = 0; i < want_len; i++) {
        unsigned char g = got_len ? (unsigned char)got[i % got_len] : 0;
        diff |= (unsigned)(g ^ (unsigned char)want[i]);
    }
    return want_len > 0 && diff == 0;
}

_Static_assert(HTTP_TOKEN_MAX == 1024, "the message below");

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

const char *http_token_from_file(const char *text, size_t len, size_t *start, size_t *tok_len)
{
    size_t a = 0, b = len;
    while (a < b && is_space(text[a]))
        a++;
    while (b > a && is_space(text[b - 1]))
        b--;
    if (a == b)
        return "the file is empty";
    if (b - a > HTTP_TOKEN_MAX)
        return "the token is longer than 1024 characters";
    if (token_span(text + a, b - a) != b - a)
        return "the token may hold only letters, digits and -._~+/ (and = at its end), on one "
               "line";
    *start = a;
    *tok_len = b - a;
    return NULL;
}

const char *http_path_problem(const char *path)
{
    if (!path || path[0] != '/')
        return "the path must start with /";
    for (const unsigned char *p = (const unsigned char *)path; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return "the path holds a control character";
    return NULL;
}

int http_size_status(size_t uri_len, size_t header_bytes, int64_t body_len, size_t max)
{
    if (uri_len > max)
        return 414;
    if (header_bytes > max)
        return 431;
    if (body_len > 0 && (uint64_t)body_len > max)
        return 413;
    return 0;
}
