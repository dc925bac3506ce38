/* The HTTP server (http.h) on libmicrohttpd: one internal polling thread, our own
 * listening socket (so that a bind error names its cause and port 0 can be
 * reported), request bounds checked before any handler runs, routing by method
 * and longest prefix, and the bearer token. */
#include "http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "http_route.h"
#include "log.h"

/* A token file larger than this is not a token file. */
#define TOKEN_FILE_MAX 4096

struct http {
    hf_http_config_t cfg; /* copied strings */
    hf_http_listen_t listen;
    http_route_t *routes;
    size_t route_count, route_cap;

    pthread_mutex_t token_mu; /* the token may be replaced by a reload */
    char *token;              /* NULL: none required */
    size_t token_len;

    struct MHD_Daemon *mhd;
    char address[64]; /* as bound; "" before http_start() */
};

/* One request, from the raw URI (MHD's URI log callback) to its completion. */
typedef struct http_req {
    size_t uri_len;
    char *query;  /* the raw query string, or NULL */
    bool checked; /* the bounds were checked (the first call of the handler) */
    uint64_t body_bytes;
    int64_t started_ms;
} http_req_t;

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- the token ------------------------------------------------------------------- */

/* Reads the token of @path into *@tok (malloc'd) and *@len.  0 or -errno with @err;
 * the file's contents are never quoted. */
static int read_token(const char *path, char **tok, size_t *len, char *err, size_t errsz)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        snprintf(err, errsz, "http.token_file %s: %s", path, strerror(e));
        return -e;
    }
    char buf[TOKEN_FILE_MAX + 1];
    size_t n = 0;
    ssize_t got;
    while (n < sizeof(buf) && (got = read(fd, buf + n, sizeof(buf) - n)) != 0) {
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            int e = errno;
            close(fd);
            snprintf(err, errsz, "http.token_file %s: %s", path, strerror(e));
            return -e;
        }
        n += (size_t)got;
    }
    struct stat st;
    bool shared = fstat(fd, &st) == 0 && (st.st_mode & 077);
    close(fd);
    size_t start, tlen;
    const char *why = n > TOKEN_FILE_MAX ? "larger than 4 KiB: not a token file"
                                         : http_token_from_file(buf, n, &start, &tlen);
    if (why) {
        explicit_bzero(buf, sizeof(buf));
        snprintf(err, errsz, "http.token_file %s: %s", path, why);
        return -EINVAL;
    }
    if (shared)
        log_warn(LOG_MAIN, "http.token_file %s can be read by others than its owner (chmod 600)",
                 path);
    *tok = strndup(buf + start, tlen);
    explicit_bzero(buf, sizeof(buf));
    if (!*tok) {
        snprintf(err, errsz, "out of memory");
        return -ENOMEM;
    }
    *len = tlen;
    return 0;
}

static void token_free(char *tok, size_t len)
{
    if (tok)
        explicit_bzero(tok, len);
    free(tok);
}

int http_reload_token(http_t *h, const char *token_file, char *err, size_t errsz)
{
    char *tok = NULL;
    size_t len = 0;
    if (!h->cfg.listen)
        return 0; /* no server, nothing to guard */
    if (!token_file && !h->listen.loopback) {
        snprintf(err, errsz, "http.token_file is required for http.listen %s", h->cfg.listen);
        return -EINVAL;
    }
    int r = token_file ? read_token(token_file, &tok, &len, err, errsz) : 0;
    if (r < 0)
        return r;
    pthread_mutex_lock(&h->token_mu);
    char *old = h->token;
    size_t old_len = h->token_len;
    h->token = tok;
    h->token_len = len;
    pthread_mutex_unlock(&h->token_mu);
    token_free(old, old_len);
    return 0;
}

/* Whether @conn presents the token in force (true when none is required).
 * *@presented says whether it tried (a wrong token rather than none). */
static bool authorized(http_t *h, struct MHD_Connection *conn, bool *presented)
{
    const char *header = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization");
    const char *got = NULL;
    size_t got_len = 0;
    *presented = header != NULL;
    bool parsed = http_bearer_parse(header, &got, &got_len);
    pthread_mutex_lock(&h->token_mu);
    bool ok = !h->token || (parsed && http_token_equal(got, got_len, h->token, h->token_len));
    pthread_mutex_unlock(&h->token_mu);
    return ok;
}

/* ---- set-up ------------------------------------------------------------------------ */

int http_new(http_t **out, const hf_http_config_t *cfg, char *err, size_t errsz)
{
    http_t *h = calloc(1, sizeof(*h));
    if (!h || pthread_mutex_init(&h->token_mu, NULL) != 0) {
        free(h);
        snprintf(err, errsz, "out of memory");
        return -ENOMEM;
    }
    h->cfg = *cfg;
    h->cfg.listen = cfg->listen ? strdup(cfg->listen) : NULL;
    h->cfg.token_file = NULL; /* read below, not kept: a reload names the file again */
    h->cfg.advertised = cfg->advertised ? strdup(cfg->advertised) : NULL;
    int r = 0;
    const char *why = NULL;
    if ((cfg->listen && !h->cfg.listen) || (cfg->advertised && !h->cfg.advertised)) {
        snprintf(err, errsz, "out of memory");
        r = -ENOMEM;
    } else if (h->cfg.listen && (why = config_http_parse_listen(h->cfg.listen, &h->listen))) {
        snprintf(err, errsz, "http.listen %s: %s", h->cfg.listen, why);
        r = -EINVAL;
    } else if (h->cfg.listen) {
        r = http_reload_token(h, cfg->token_file, err, errsz);
    }
    if (r < 0) {
        http_free(h);
        return r;
    }
    *out = h;
    return 0;
}

int http_add_route(http_t *h, const char *method, const char *prefix, bool public_,
                   http_handler_fn fn, void *opaque)
{
    if (strlen(method) >= sizeof(h->routes[0].method))
        return -EINVAL;
    if (h->route_count == h->route_cap) {
        size_t cap = h->route_cap ? h->route_cap * 2 : 8;
        http_route_t *p = realloc(h->routes, cap * sizeof(*p));
        if (!p)
            return -ENOMEM;
        h->routes = p;
        h->route_cap = cap;
    }
    http_route_t *r = &h->routes[h->route_count];
    *r = (http_route_t){.public_ = public_, .fn = fn, .opaque = opaque};
    snprintf(r->method, sizeof(r->method), "%s", method);
    r->prefix = strdup(prefix);
    if (!r->prefix)
        return -ENOMEM;
    r->prefix_len = strlen(prefix);
    h->route_count++;
    return 0;
}

const char *http_address(const http_t *h)
{
    return h && h->address[0] ? h->address : NULL;
}

const char *http_advertised(const http_t *h)
{
    return h && h->cfg.advertised ? h->cfg.advertised : http_address(h);
}

/* ---- answers ---------------------------------------------------------------------- */

static enum MHD_Result send_response(struct MHD_Connection *conn, int status,
                                     const char *content_type, hf_buf_t *body, const char *location,
                                     const char *allow_origin)
{
    struct MHD_Response *resp;
    if (body->len) {
        resp = MHD_create_response_from_buffer(body->len, body->data, MHD_RESPMEM_MUST_FREE);
    } else {
        hf_buf_free(body);
        resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    }
    if (!resp) {
        hf_buf_free(body);
        return MHD_NO; /* out of memory: the connection is closed */
    }
    *body = (hf_buf_t)HF_BUF_INIT; /* the response owns it */
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    if (location && *location)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_LOCATION, location);
    if (allow_origin && *allow_origin) {
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ACCESS_CONTROL_ALLOW_ORIGIN, allow_origin);
        MHD_add_response_header(resp, "Vary", "Origin");
        if (status == MHD_HTTP_NO_CONTENT) { /* the answer to a preflight */
            MHD_add_response_header(resp, "Access-Control-Allow-Methods", "GET");
            MHD_add_response_header(resp, "Access-Control-Allow-Headers", "Authorization");
            MHD_add_response_header(resp, "Access-Control-Max-Age", "600");
        }
    }
    if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
    enum MHD_Result r = MHD_queue_response(conn, (unsigned)status, resp);
    MHD_destroy_response(resp);
    return r;
}

/* {"error":"<what>"} with @status; @what is one of our fixed texts (no escaping). */
static enum MHD_Result send_error(struct MHD_Connection *conn, int status, const char *what)
{
    hf_buf_t body = HF_BUF_INIT;
    hf_buf_printf(&body, "{\"error\":\"%s\"}\n", what);
    return send_response(conn, status, "application/json", &body, NULL, NULL);
}

static enum MHD_Result send_unauthorized(struct MHD_Connection *conn, bool presented)
{
    hf_buf_t body = HF_BUF_INIT;
    hf_buf_printf(&body, "{\"error\":\"%s\"}\n",
                  presented ? "invalid bearer token" : "a bearer token is required");
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(body.len, body.data, MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        hf_buf_free(&body);
        return MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
                            presented ? "Bearer realm=\"handoffd\", error=\"invalid_token\""
                                      : "Bearer realm=\"handoffd\"");
    enum MHD_Result r = MHD_queue_response(conn, MHD_HTTP_UNAUTHORIZED, resp);
    MHD_destroy_response(resp);
    return r;
}

/* ---- a request ---------------------------------------------------------------------- */

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
    (void)conn;
    http_t *h = cls;
    http_req_t *req = calloc(1, sizeof(*req));
    if (!req)
        return NULL;
    req->started_ms = mono_ms();
    req->uri_len = strlen(uri);
    const char *q = strchr(uri, '?');
    if (q && req->uri_len <= h->cfg.max_request_bytes)
        req->query = strdup(q + 1); /* NULL on out of memory: as if there were none */
    return req;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls, (void)conn, (void)toe;
    http_req_t *req = *con_cls;
    if (req)
        free(req->query);
    free(req);
    *con_cls = NULL;
}

static enum MHD_Result add_header_bytes(void *cls, enum MHD_ValueKind kind, const char *key,
                                        const char *value)
{
    (void)kind;
    size_t *sum = cls;
    *sum += strlen(key) + (value ? strlen(value) : 0) + 4; /* ": " and CRLF */
    return MHD_YES;
}

/* The body the client declares: Content-Length, INT64_MAX for a chunked one, -1 for
 * none. */
static int64_t declared_body(struct MHD_Connection *conn)
{
    const char *len = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
    if (MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Transfer-Encoding"))
        return INT64_MAX;
    if (!len)
        return -1;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(len, &end, 10);
    return *end || errno || v > INT64_MAX ? INT64_MAX : (int64_t)v;
}

/* The bounds on a request: 0, or the status it is refused with. */
static int check_bounds(http_t *h, struct MHD_Connection *conn, const http_req_t *req,
                        const char *method, const char *url)
{
    size_t header_bytes = 0;
    MHD_get_connection_values(conn, MHD_HEADER_KIND, add_header_bytes, &header_bytes);
    int status = http_size_status(req->uri_len, header_bytes, -1, h->cfg.max_request_bytes);
    if (status)
        return status;
    /* OPTIONS only where a route takes it: a browser's preflight before a page of
     * another origin reads the route with a bearer token (lookup_dashboard.c) */
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0 &&
        !(strcmp(method, "OPTIONS") == 0 &&
          http_route_find(h->routes, h->route_count, method, url) >= 0))
        return MHD_HTTP_METHOD_NOT_ALLOWED;
    return http_size_status(0, 0, declared_body(conn), h->cfg.max_request_bytes);
}

static const char *status_text(int status)
{
    switch (status) {
    case 400:
        return "bad request";
    case 404:
        return "not found";
    case 405:
        return "method not allowed (GET and HEAD only)";
    case 413:
        return "request body too large";
    case 414:
        return "URI too long";
    case 431:
        return "request headers too large";
    default:
        return "internal error";
    }
}

static void remote_text(struct MHD_Connection *conn, char *out, size_t outsz)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    snprintf(out, outsz, "?");
    if (!ci || !ci->client_addr)
        return;
    const struct sockaddr *sa = ci->client_addr;
    if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, out,
                  (socklen_t)outsz);
    else if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, out,
                  (socklen_t)outsz);
}

/* Runs the route's handler and sends what it answered (500 for an error or a body
 * over HTTP_MAX_RESPONSE_BYTES). */
static enum MHD_Result run_handler(const http_route_t *route, struct MHD_Connection *conn,
                                   const http_request_t *rq, int *status)
{
    http_response_t resp = {.status = 200, .content_type = "application/json"};
    int r = route->fn(route->opaque, rq, &resp);
    const char *problem = r < 0                                     ? "internal error"
                          : resp.body.len > HTTP_MAX_RESPONSE_BYTES ? "response too large"
                          : resp.status < 100 || resp.status > 599  ? "internal error"
                                                                    : NULL;
    if (problem) {
        log_warn(LOG_MAIN, "http %s %s: %s%s%s", rq->method, rq->path, problem, r < 0 ? ": " : "",
                 r < 0 ? strerror(-r) : "");
        hf_buf_free(&resp.body);
        *status = 500;
        return send_error(conn, 500, problem);
    }
    resp.location[sizeof(resp.location) - 1] = 0;
    resp.allow_origin[sizeof(resp.allow_origin) - 1] = 0;
    *status = resp.status;
    return send_response(conn, resp.status, resp.content_type ? resp.content_type : "text/plain",
                         &resp.body, resp.status >= 300 && resp.status < 400 ? resp.location : NULL,
                         resp.allow_origin);
}

/* The route of the request, its token, its handler. */
static enum MHD_Result dispatch(http_t *h, struct MHD_Connection *conn, const http_req_t *req,
                                const char *method, const char *path, int *status)
{
    if (http_path_problem(path)) {
        *status = 400;
        return send_error(conn, 400, status_text(400));
    }
    int i = http_route_find(h->routes, h->route_count, method, path);
    if (i < 0) {
        *status = 404;
        return send_error(conn, 404, status_text(404));
    }
    bool presented = false;
    bool token_ok = authorized(h, conn, &presented);
    if (!h->routes[i].public_ && !token_ok) {
        *status = 401;
        return send_unauthorized(conn, presented);
    }
    char remote[INET6_ADDRSTRLEN];
    remote_text(conn, remote, sizeof(remote));
    http_request_t rq = {.method = method,
                         .path = path,
                         .query = req->query,
                         .remote = remote,
                         .origin = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Origin"),
                         .token_ok = token_ok};
    return run_handler(&h->routes[i], conn, &rq, status);
}

static void log_request(const http_req_t *req, const char *method, const char *path, int status)
{
    /* a decoded path may hold a newline: never let it forge a log line */
    log_debug(LOG_MAIN, "http %s %s -> %d in %" PRId64 " ms", method,
              http_path_problem(path) ? "(a path with control characters)" : path, status,
              mono_ms() - req->started_ms);
}

/* libmicrohttpd calls this once the headers are in (*upload_data_size 0: the
 * bounds are checked), once per piece of body, and once more after the body (the
 * request is answered). */
static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    (void)version, (void)upload_data;
    http_t *h = cls;
    http_req_t *req = *con_cls;
    if (!req)
        return send_error(conn, 500, "out of memory");
    int status = 0;
    if (!req->checked) {
        req->checked = true;
        if ((status = check_bounds(h, conn, req, method, url)) != 0) {
            log_request(req, method, url, status);
            return send_error(conn, status, status_text(status));
        }
        /* answered on the next call, once any body is read (and dropped): an answer
         * queued now, before the request is complete, closes the connection */
        return MHD_YES;
    }
    if (*upload_data_size) {
        req->body_bytes += *upload_data_size;
        *upload_data_size = 0;
        if (req->body_bytes <= h->cfg.max_request_bytes)
            return MHD_YES;
        /* a chunked body grew past the bound: no answer can be queued while it
         * uploads, so the connection is closed */
        log_request(req, method, url, 413);
        return MHD_NO;
    }
    enum MHD_Result r = dispatch(h, conn, req, method, url, &status);
    log_request(req, method, url, status);
    return r;
}

/* ---- the server --------------------------------------------------------------------- */

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char msg[512];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    for (size_t n = strlen(msg); n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' '); n--)
        msg[n - 1] = 0;
    log_debug(LOG_MAIN, "http: %s", msg);
}

/* A listening socket on h->listen; h->address says where.  0 or -errno with @err. */
static int open_listener(http_t *h, int *out, char *err, size_t errsz)
{
    const hf_http_listen_t *l = &h->listen;
    struct sockaddr_storage ss = {0};
    socklen_t sl;
    if (l->ipv6) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
        a->sin6_family = AF_INET6;
        a->sin6_port = htons(l->port);
        inet_pton(AF_INET6, l->host, &a->sin6_addr);
        sl = sizeof(*a);
    } else {
        struct sockaddr_in *a = (struct sockaddr_in *)&ss;
        a->sin_family = AF_INET;
        a->sin_port = htons(l->port);
        inet_pton(AF_INET, l->host, &a->sin_addr);
        sl = sizeof(*a);
    }
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
        (l->ipv6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0) ||
        bind(fd, (struct sockaddr *)&ss, sl) < 0 || listen(fd, HTTP_MAX_CONNECTIONS) < 0 ||
        getsockname(fd, (struct sockaddr *)&ss, &sl) < 0) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        snprintf(err, errsz, "http.listen %s: %s", h->cfg.listen, strerror(e));
        return -e;
    }
    uint16_t port = ntohs(l->ipv6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                  : ((struct sockaddr_in *)&ss)->sin_port);
    snprintf(h->address, sizeof(h->address), l->ipv6 ? "[%s]:%u" : "%s:%u", l->host,
             (unsigned)port);
    *out = fd;
    return 0;
}

int http_start(http_t *h, char *err, size_t errsz)
{
    if (!h->cfg.listen) {
        log_info(LOG_MAIN, "http: off (http.listen)");
        return 0;
    }
    int fd = -1;
    int r = open_listener(h, &fd, err, errsz);
    if (r < 0)
        return r;
    /* room for our own bounds to decide (414, 431) before libmicrohttpd's */
    size_t pool = 2 * (size_t)h->cfg.max_request_bytes + 16384;
    unsigned timeout_s = (unsigned)((h->cfg.timeout_ms + 999) / 1000);
    unsigned flags =
        MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG | (h->listen.ipv6 ? MHD_USE_IPv6 : 0);
    h->mhd =
        MHD_start_daemon(flags, 0, NULL, NULL, on_request, h, MHD_OPTION_EXTERNAL_LOGGER,
                         on_mhd_log, h, MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_CONNECTION_LIMIT,
                         (unsigned)HTTP_MAX_CONNECTIONS, MHD_OPTION_CONNECTION_TIMEOUT, timeout_s,
                         MHD_OPTION_CONNECTION_MEMORY_LIMIT, pool, MHD_OPTION_URI_LOG_CALLBACK,
                         on_uri, h, MHD_OPTION_NOTIFY_COMPLETED, on_completed, h, MHD_OPTION_END);
    if (!h->mhd) {
        close(fd);
        h->address[0] = 0;
        snprintf(err, errsz, "http.listen %s: libmicrohttpd did not start", h->cfg.listen);
        return -EIO;
    }
    pthread_mutex_lock(&h->token_mu);
    bool token = h->token != NULL;
    pthread_mutex_unlock(&h->token_mu);
    log_info(LOG_MAIN, "http: listening on %s (%s)", h->address,
             token ? "bearer token required but for /healthz and /readyz" : "no token");
    return 0;
}

void http_stop(http_t *h)
{
    if (!h || !h->mhd)
        return;
    MHD_stop_daemon(h->mhd); /* joins its thread and closes the listening socket */
    h->mhd = NULL;
}

void http_free(http_t *h)
{
    if (!h)
        return;
    http_stop(h);
    for (size_t i = 0; i < h->route_count; i++)
        free(h->routes[i].prefix);
    free(h->routes);
    token_free(h->token, h->token_len);
    free(h->cfg.listen);
    free(h->cfg.advertised);
    pthread_mutex_destroy(&h->token_mu);
    free(h);
}
