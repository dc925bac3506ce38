/* Fuzz target of the HTTP server's pure decisions (daemon/http_route.h) and of the
 * http.listen parser (config.h).  The first byte picks what the rest is given to:
 *
 *   0  http_bearer_parse() as an Authorization header
 *   1  http_route_find() as a path, against a fixed table, checked by brute force
 *   2  http_token_from_file() as a token file
 *   3  config_http_parse_listen() as an http.listen value
 *   4  http_token_equal() on its two halves
 *   5  http_path_problem() as a path
 *   6  dashboard_filter_parse() as the query of GET /v1/dashboard
 *
 * and every answer is checked against the function's contract.
 *
 * Built normally (as meson does) it has a replay main() that runs every file of the
 * directories or files named on the command line, so the corpus is also an ordinary
 * test (suite 'fuzz'); the seeds in tests/fuzz/corpus/http are written by hand.
 * For a libFuzzer run:
 *
 *     clang -g -O1 -DHF_FUZZING -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -I. \
 *         tests/fuzz/http_fuzz.c daemon/http_route.c daemon/dashboard_filter.c \
 *         $(find config processors util -name '*.c') -lyaml -lrdkafka -lm -o http_fuzz
 *     ./http_fuzz -max_len=4096 tests/fuzz/corpus/http
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config/config.h"
#include "daemon/dashboard.h"
#include "daemon/http_route.h"
#include "replay.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int no_handler(void *opaque, const http_request_t *req, http_response_t *resp)
{
    (void)opaque, (void)req, (void)resp;
    return 0;
}

#define ROUTE(m, p)                                                                                \
    {                                                                                              \
        .method = m, .prefix = (char *)p, .prefix_len = sizeof(p) - 1, .fn = no_handler            \
    }

static const http_route_t routes[] = {
    ROUTE("GET", "/healthz"),      ROUTE("GET", "/readyz"),        ROUTE("GET", "/metrics"),
    ROUTE("GET", "/v1/"),          ROUTE("GET", "/v1/contacts/"),  ROUTE("GET", "/v1/accounts/"),
    ROUTE("GET", "/v1/contacts/"), ROUTE("POST", "/v1/contacts/"), ROUTE("GET", "/"),
};
#define ROUTE_COUNT (sizeof(routes) / sizeof(routes[0]))

static bool token_or_pad(char c)
{
    return http_token_char(c) || c == '=';
}

static void check_bearer(const char *s)
{
    const char *tok;
    size_t len;
    if (!http_bearer_parse(s, &tok, &len))
        return;
    if (strncasecmp(s, "Bearer ", 7) != 0 || tok < s + 7 || len == 0 || len > HTTP_TOKEN_MAX ||
        tok + len > s + strlen(s))
        abort();
    for (size_t i = 0; i < len; i++)
        if (!token_or_pad(tok[i]) || (i > 0 && tok[i - 1] == '=' && tok[i] != '='))
            abort();
    if (tok[0] == '=')
        abort();
}

static void check_route(const char *path)
{
    const char *methods[] = {"GET", "HEAD", "POST", "PUT"};
    for (size_t m = 0; m < sizeof(methods) / sizeof(methods[0]); m++) {
        int got = http_route_find(routes, ROUTE_COUNT, methods[m], path);
        const char *as = strcmp(methods[m], "HEAD") == 0 ? "GET" : methods[m];
        int want = -1;
        for (size_t i = 0; i < ROUTE_COUNT; i++) {
            bool serves = strcmp(routes[i].method, as) == 0 &&
                          strncmp(path, routes[i].prefix, routes[i].prefix_len) == 0 &&
                          (routes[i].prefix[routes[i].prefix_len - 1] == '/' ||
                           path[routes[i].prefix_len] == 0 || path[routes[i].prefix_len] == '/');
            if (serves && (want < 0 || routes[i].prefix_len > routes[want].prefix_len))
                want = (int)i;
        }
        if (got != want)
            abort();
    }
}

static void check_token_file(const char *text, size_t len)
{
    size_t start, tlen;
    if (http_token_from_file(text, len, &start, &tlen) != NULL)
        return;
    if (tlen == 0 || tlen > HTTP_TOKEN_MAX || start + tlen > len)
        abort();
    for (size_t i = 0; i < tlen; i++)
        if (!token_or_pad(text[start + i]))
            abort();
}

static void check_listen(const char *s)
{
    hf_http_listen_t l;
    if (config_http_parse_listen(s, &l) != NULL)
        return;
    unsigned char addr[16];
    if (!l.host[0] || inet_pton(l.ipv6 ? AF_INET6 : AF_INET, l.host, addr) != 1)
        abort();
    bool loopback = l.ipv6 ? memcmp(addr, &in6addr_loopback, 16) == 0 : addr[0] == 127;
    if (loopback != l.loopback)
        abort();
}

static void check_equal(const char *data, size_t size)
{
    size_t half = size / 2;
    bool same = half == size - half && half > 0 && memcmp(data, data + half, half) == 0;
    if (http_token_equal(data, half, data + half, size - half) != same)
        abort();
}

static void check_path(const char *s)
{
    bool bad = s[0] != '/';
    for (const char *p = s; *p; p++)
        bad |= (unsigned char)*p < 0x20 || *p == 0x7f;
    if ((http_path_problem(s) != NULL) != bad)
        abort();
}

/* A filter the parser accepted: a team of at most DASHBOARD_TEAM_MAX bytes without
 * control characters, days that are dates (or 0), in order; a refusal leaves the
 * filter as it was. */
static void check_filter(const char *s)
{
    dashboard_filter_t f, before;
    memset(&f, 0x5a, sizeof f);
    before = f;
    if (dashboard_filter_parse(s, &f)) {
        if (memcmp(&f, &before, sizeof f) != 0)
            abort();
        return;
    }
    size_t n = strnlen(f.team, sizeof f.team);
    if (n > DASHBOARD_TEAM_MAX)
        abort();
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)f.team[i] < 0x20 || f.team[i] == 0x7f)
            abort();
    int32_t days[2] = {f.from_day, f.to_day};
    for (int i = 0; i < 2; i++)
        if (days[i] && (days[i] < 19700101 || days[i] > 99991231 || days[i] / 100 % 100 < 1 ||
                        days[i] / 100 % 100 > 12 || days[i] % 100 < 1 || days[i] % 100 > 31))
            abort();
    if (f.from_day && f.to_day && f.from_day > f.to_day)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    /* the rest, NUL-terminated (an embedded NUL ends the string where C would) */
    char *s = malloc(size);
    if (!s)
        return 0;
    memcpy(s, data + 1, size - 1);
    s[size - 1] = 0;
    switch (data[0] % 7) {
    case 0:
        check_bearer(s);
        break;
    case 1:
        check_route(s);
        break;
    case 2:
        check_token_file(s, size - 1);
        break;
    case 3:
        check_listen(s);
        break;
    case 4:
        check_equal(s, size - 1);
        break;
    case 5:
        check_path(s);
        break;
    default:
        check_filter(s);
        break;
    }
    free(s);
    return 0;
}

#ifndef HF_FUZZING

int main(int argc, char **argv)
{
    return fuzz_replay_main("http_fuzz", argc, argv);
}

#endif
