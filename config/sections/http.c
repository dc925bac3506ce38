/* http: the HTTP server of handoffd (/healthz, /readyz, /metrics, the journey
 * lookup; docs/HTTP.md): where it listens, its bearer token, its limits, and the
 * address other instances reach it at.  A listen address other than loopback is
 * refused without a token: /metrics and the lookup would be open to the network. */
#include "section.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#define CFG(field) offsetof(hf_config_t, field)

/* "host:port" split at the last ':' ("[v6]:port" without the brackets); @port_text
 * points into @text.  NULL or why not. */
static const char *split_host_port(const char *text, char *host, size_t hostsz,
                                   const char **port_text)
{
    const char *colon;
    size_t host_len;
    if (text[0] == '[') {
        const char *close = strchr(text, ']');
        if (!close || close[1] != ':')
            return "expected \"[IPv6 address]:port\"";
        host_len = (size_t)(close - text - 1);
        text++;
        colon = close + 1;
    } else {
        colon = strrchr(text, ':');
        if (!colon)
            return "expected \"host:port\"";
        host_len = (size_t)(colon - text);
        if (memchr(text, ':', host_len))
            return "an IPv6 address goes in brackets: \"[::1]:8686\"";
    }
    if (host_len == 0)
        return "expected a host before the port";
    if (host_len >= hostsz)
        return "the host is too long";
    memcpy(host, text, host_len);
    host[host_len] = 0;
    *port_text = colon + 1;
    return NULL;
}

/* A port in [0, 65535] written as digits. */
static const char *parse_port(const char *s, uint16_t *port)
{
    long v = 0;
    size_t n = 0;
    for (; s[n] >= '0' && s[n] <= '9' && n < 6; n++)
        v = v * 10 + (s[n] - '0');
    if (n == 0 || s[n] || v > 65535)
        return "expected a port in [0, 65535] after the ':'";
    *port = (uint16_t)v;
    return NULL;
}

const char *config_http_parse_listen(const char *text, hf_http_listen_t *out)
{
    hf_http_listen_t l = {0};
    const char *port_text;
    const char *why = split_host_port(text, l.host, sizeof(l.host), &port_text);
    if (!why)
        why = parse_port(port_text, &l.port);
    if (why)
        return why;
    if (strcmp(l.host, "localhost") == 0)
        strcpy(l.host, "127.0.0.1");
    struct in_addr a4;
    struct in6_addr a6;
    if (text[0] != '[' && inet_pton(AF_INET, l.host, &a4) == 1) {
        l.loopback = (ntohl(a4.s_addr) >> 24) == 127;
    } else if (text[0] == '[' && inet_pton(AF_INET6, l.host, &a6) == 1) {
        l.ipv6 = true;
        l.loopback = memcmp(&a6, &in6addr_loopback, sizeof(a6)) == 0;
    } else {
        return text[0] == '[' ? "expected an IPv6 address in the brackets"
                              : "expected an IPv4 address, [IPv6 address] or localhost as host";
    }
    *out = l;
    return NULL;
}

/* listen: "off" (or empty) turns the server off (NULL); anything else must parse. */
static void parse_listen(cfgmap_ctx_t *ctx, const cfgmap_entry_t *e, const yaml_node_t *node,
                         const cfgmap_path_t *path, void *field)
{
    (void)e;
    char **listen = field;
    const char *text = cfgmap_scalar(node);
    if (!text) {
        cfgmap_error_got(ctx, node, path, "expected \"host:port\" or off");
        return;
    }
    free(*listen);
    *listen = NULL;
    if (!*text || strcmp(text, "off") == 0)
        return;
    hf_http_listen_t l;
    const char *why = config_http_parse_listen(text, &l);
    if (why) {
        cfgmap_error_got(ctx, node, path, "%s", why);
        return;
    }
    *listen = cfgmap_strdup(ctx, text);
}

/* token_file: a path, ${VAR} taken from the environment as in kafka.properties (a
 * service manager's $CREDENTIALS_DIRECTORY). */
static void parse_token_file(cfgmap_ctx_t *ctx, const cfgmap_entry_t *e, const yaml_node_t *node,
                             const cfgmap_path_t *path, void *field)
{
    (void)e;
    char **file = field;
    if (cfgmap_is_null(node))
        return;
    char *expanded = config_kafka_expand_env(ctx, node, path);
    if (!expanded)
        return;
    if (!*expanded) {
        cfgmap_error(ctx, node, path, "expected the path of a file holding the token");
        free(expanded);
        return;
    }
    free(*file);
    *file = expanded;
}

/* advertised: "host:port" where host may be a DNS name (others connect to it). */
static const char *advertised_problem(const char *s)
{
    char host[256];
    const char *port_text;
    uint16_t port;
    const char *why = split_host_port(s, host, sizeof(host), &port_text);
    if (!why)
        why = parse_port(port_text, &port);
    if (!why && port == 0)
        why = "expected a port other than 0: other instances connect to it";
    for (const char *p = host; !why && *p; p++)
        if (*p == '/' || *p == ' ' || *p == '@' || *p == '?' || *p == '#')
            why = "expected \"host:port\" without a scheme or a path";
    return why;
}

static void http_check(cfgmap_ctx_t *ctx, const yaml_node_t *map, const cfgmap_path_t *path,
                       void *base)
{
    const hf_config_t *cfg = base;
    hf_http_listen_t l;
    if (!cfg->http.listen || config_http_parse_listen(cfg->http.listen, &l) != NULL)
        return;
    if (!l.loopback && !cfg->http.token_file)
        config_section_error_at_key(
            ctx, map, path, "listen",
            "a listen address other than loopback needs http.token_file: /metrics and the "
            "journey lookup would be open to anyone who reaches it");
}

static const cfgmap_entry_t http_entries[] = {
    {.key = "listen",
     .type = CFGMAP_CUSTOM,
     .def = "127.0.0.1:8686",
     .offset = CFG(http.listen),
     .parse = parse_listen,
     .doc_type = "`host:port` or `off`",
     .help = "Address of the HTTP server (/healthz, /readyz, /metrics, the journey lookup): an "
             "IPv4 address, `[IPv6 address]` or `localhost`, and a port (`0`: any free one, "
             "logged). `off` (or empty) runs no server. An address other than loopback needs "
             "`token_file`."},
    {.key = "token_file",
     .type = CFGMAP_CUSTOM,
     .offset = CFG(http.token_file),
     .parse = parse_token_file,
     .doc_type = "path",
     .help = "File holding the bearer token every endpoint but /healthz and /readyz then "
             "requires (`Authorization: Bearer <token>`); read at start and on every reload "
             "(SIGHUP), never logged. `${VAR}` is taken from the environment as in "
             "`kafka.properties` (`${CREDENTIALS_DIRECTORY}/http-token`)."},
    {.key = "max_request_bytes",
     .type = CFGMAP_UINT32,
     .def = "16384",
     .min = 1024,
     .max = 1 << 20,
     .offset = CFG(http.max_request_bytes),
     .help = "Largest URL, headers and body each of a request: 414, 431 and 413 beyond."},
    {.key = "timeout",
     .type = CFGMAP_DURATION,
     .def = "10s",
     .min = 1000,
     .max = 3600 * 1000,
     .offset = CFG(http.timeout_ms),
     .help = "A connection idle for this long is closed (whole seconds)."},
    {.key = "advertised",
     .type = CFGMAP_STRING,
     .offset = CFG(http.advertised),
     .valid = advertised_problem,
     .doc_type = "`host:port`",
     .help = "Where other instances of the group reach this one (the journey lookup sends a "
             "client to the instance that owns the key). Default: the address listened on."},
};

static const cfgmap_table_t http_table = CFGMAP_TABLE(http_entries, http_check, NULL);

const cfgmap_entry_t config_http_section = {
    .key = "http", .type = CFGMAP_MAP, .table = &http_table, .help = "The HTTP server."};
