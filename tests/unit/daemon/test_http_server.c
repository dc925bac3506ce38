/* Unit tests of the HTTP server (daemon/http.h) on a loopback port the kernel
 * picks: what handlers see, what they answer, and what the server answers without
 * them (404, 405, 413, 414, 431, 401, 500 for an error or an oversized body), keep-
 * alive, HEAD, and a token replaced by a reload.  Every socket operation has a
 * 5 s timeout; every read loop is bounded by the response's size. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "daemon/http.h"
#include "daemon/log.h"

#define MAX_REQ 2048
#define RESPONSE_MAX (HTTP_MAX_RESPONSE_BYTES + 65536)

typedef struct server {
    http_t *h;
    char dir[64];
    char token_file[128];
    int port;
    int calls; /* handler calls */
} server_t;

static int on_echo(void *opaque, const http_request_t *req, http_response_t *resp)
{
    server_t *s = opaque;
    s->calls++;
    resp->content_type = "text/plain";
    return hf_buf_printf(&resp->body, "%s|%s|%s|%s", req->method, req->path,
                         req->query ? req->query : "(none)", req->remote);
}

static int on_fail(void *opaque, const http_request_t *req, http_response_t *resp)
{
    (void)req;
    ((server_t *)opaque)->calls++;
    hf_buf_printf(&resp->body, "partial");
    return -EIO;
}

static int on_big(void *opaque, const http_request_t *req, http_response_t *resp)
{
    (void)req;
    ((server_t *)opaque)->calls++;
    if (hf_buf_reserve(&resp->body, HTTP_MAX_RESPONSE_BYTES + 1) < 0)
        return -ENOMEM;
    memset(resp->body.data, 'x', HTTP_MAX_RESPONSE_BYTES + 1);
    resp->body.len = HTTP_MAX_RESPONSE_BYTES + 1;
    return 0;
}

static int on_redirect(void *opaque, const http_request_t *req, http_response_t *resp)
{
    (void)req;
    ((server_t *)opaque)->calls++;
    resp->status = 301;
    snprintf(resp->location, sizeof(resp->location), "/v1/contacts/c-2");
    return hf_buf_printf(&resp->body, "{\"survivor\":\"c-2\"}");
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static int setup(void **state)
{
    server_t *s = calloc(1, sizeof(*s));
    snprintf(s->dir, sizeof(s->dir), "/tmp/test_http_server.XXXXXX");
    assert_non_null(mkdtemp(s->dir));
    snprintf(s->token_file, sizeof(s->token_file), "%s/token", s->dir);
    write_file(s->token_file, "s3cret-token\n");
    hf_http_config_t cfg = {.listen = "127.0.0.1:0",
                            .token_file = s->token_file,
                            .max_request_bytes = MAX_REQ,
                            .timeout_ms = 5000};
    char err[256];
    assert_int_equal(http_new(&s->h, &cfg, err, sizeof(err)), 0);
    assert_int_equal(http_add_route(s->h, "GET", "/pub", true, on_echo, s), 0);
    assert_int_equal(http_add_route(s->h, "GET", "/priv", false, on_echo, s), 0);
    assert_int_equal(http_add_route(s->h, "GET", "/pub/fail", true, on_fail, s), 0);
    assert_int_equal(http_add_route(s->h, "GET", "/pub/big", true, on_big, s), 0);
    assert_int_equal(http_add_route(s->h, "GET", "/pub/old", true, on_redirect, s), 0);
    assert_null(http_address(s->h));
    assert_int_equal(http_start(s->h, err, sizeof(err)), 0);
    const char *addr = http_address(s->h);
    assert_non_null(addr);
    assert_int_equal(strncmp(addr, "127.0.0.1:", 10), 0);
    s->port = atoi(addr + 10);
    assert_true(s->port > 0);
    assert_string_equal(http_advertised(s->h), addr);
    *state = s;
    return 0;
}

static int teardown(void **state)
{
    server_t *s = *state;
    http_free(s->h);
    unlink(s->token_file);
    rmdir(s->dir);
    free(s);
    return 0;
}

static int connect_to(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct timeval tv = {5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    return fd;
}

typedef struct reply {
    int status;
    char head[4096];
    char *body;
    size_t body_len;
} reply_t;

/* Reads one response from @fd: the head, then Content-Length bytes of body (none
 * for HEAD).  Returns false when the connection ends before a whole response. */
static bool read_reply(int fd, reply_t *r, bool head_only)
{
    memset(r, 0, sizeof(*r));
    size_t n = 0;
    char *end = NULL;
    while (!end && n < sizeof(r->head) - 1) {
        ssize_t got = recv(fd, r->head + n, 1, 0); /* byte by byte: the head only */
        if (got <= 0)
            return false;
        n++;
        r->head[n] = 0;
        end = strstr(r->head, "\r\n\r\n");
    }
    if (!end)
        return false;
    r->status = atoi(r->head + 9);
    const char *cl = strcasestr(r->head, "\r\nContent-Length:");
    size_t want = cl && !head_only ? strtoul(cl + 17, NULL, 10) : 0;
    assert_true(want <= RESPONSE_MAX);
    r->body = calloc(1, want + 1);
    while (r->body_len < want) {
        ssize_t got = recv(fd, r->body + r->body_len, want - r->body_len, 0);
        if (got <= 0)
            return false;
        r->body_len += (size_t)got;
    }
    return true;
}

/* Sends @request (raw) on a new connection and reads the reply. */
static void ask(server_t *s, const char *request, reply_t *r)
{
    int fd = connect_to(s->port);
    size_t len = strlen(request);
    assert_int_equal(send(fd, request, len, MSG_NOSIGNAL), (ssize_t)len);
    assert_true(read_reply(fd, r, strncmp(request, "HEAD ", 5) == 0));
    close(fd);
}

static void ask_get(server_t *s, const char *target, const char *headers, reply_t *r)
{
    char req[8192];
    snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: t\r\n%s\r\n", target,
             headers ? headers : "");
    ask(s, req, r);
}

static void expect_status(server_t *s, const char *target, const char *headers, int status)
{
    reply_t r;
    ask_get(s, target, headers, &r);
    if (r.status != status)
        print_error("%s: %s%s\n", target, r.head, r.body);
    assert_int_equal(r.status, status);
    free(r.body);
}

static void test_handler_sees_the_request(void **state)
{
    server_t *s = *state;
    reply_t r;
    ask_get(s, "/pub/x%20y?a=1&b=%2F", NULL, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "GET|/pub/x y|a=1&b=%2F|127.0.0.1");
    assert_non_null(strstr(r.head, "Content-Type: text/plain\r\n"));
    assert_non_null(strstr(r.head, "Cache-Control: no-store\r\n"));
    free(r.body);
    ask_get(s, "/pub", NULL, &r);
    assert_string_equal(r.body, "GET|/pub|(none)|127.0.0.1");
    free(r.body);
    /* HEAD: a GET route, no body sent */
    ask(s, "HEAD /pub HTTP/1.1\r\nHost: t\r\n\r\n", &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.body_len, 0);
    free(r.body);
}

static void test_refused_before_any_handler(void **state)
{
    server_t *s = *state;
    s->calls = 0;
    expect_status(s, "/nothing-here", NULL, 404);
    expect_status(s, "/pubx", NULL, 404);
    expect_status(s, "/pub%0Aforged", NULL, 400);
    reply_t r;
    ask(s, "POST /pub HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n", &r);
    assert_int_equal(r.status, 405);
    assert_non_null(strstr(r.head, "Allow: GET, HEAD\r\n"));
    assert_string_equal(r.body, "{\"error\":\"method not allowed (GET and HEAD only)\"}\n");
    free(r.body);
    ask(s, "DELETE /pub HTTP/1.1\r\nHost: t\r\n\r\n", &r);
    assert_int_equal(r.status, 405);
    free(r.body);

    char target[MAX_REQ + 64];
    memset(target, 'a', sizeof(target) - 1);
    target[0] = '/';
    target[sizeof(target) - 1] = 0;
    expect_status(s, target, NULL, 414);
    target[MAX_REQ - 200] = 0; /* well within */
    expect_status(s, target, NULL, 404);

    char header[MAX_REQ + 64];
    snprintf(header, sizeof(header), "X-Big: %0*d\r\n", MAX_REQ, 0);
    expect_status(s, "/pub", header, 431);

    char req[MAX_REQ * 2];
    snprintf(req, sizeof(req), "GET /pub HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n\r\n%0*d",
             MAX_REQ + 1, MAX_REQ + 1, 0);
    ask(s, req, &r);
    assert_int_equal(r.status, 413);
    free(r.body);
    ask(s,
        "GET /pub HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
        &r);
    assert_int_equal(r.status, 413);
    free(r.body);
    assert_int_equal(s->calls, 0);
    /* a small body is read and dropped */
    ask(s, "GET /pub HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabc", &r);
    assert_int_equal(r.status, 200);
    free(r.body);
    assert_int_equal(s->calls, 1);
}

static void test_bearer_token(void **state)
{
    server_t *s = *state;
    s->calls = 0;
    reply_t r;
    ask_get(s, "/priv", NULL, &r);
    assert_int_equal(r.status, 401);
    assert_non_null(strstr(r.head, "WWW-Authenticate: Bearer realm=\"handoffd\"\r\n"));
    free(r.body);
    ask_get(s, "/priv", "Authorization: Bearer wrong\r\n", &r);
    assert_int_equal(r.status, 401);
    assert_non_null(strstr(r.head, "error=\"invalid_token\""));
    free(r.body);
    expect_status(s, "/priv", "Authorization: Basic czNjcmV0LXRva2Vu\r\n", 401);
    expect_status(s, "/priv", "Authorization: Bearer s3cret-token2\r\n", 401);
    expect_status(s, "/priv", "Authorization: Bearer s3cret-toke\r\n", 401);
    assert_int_equal(s->calls, 0);
    expect_status(s, "/priv", "Authorization: Bearer s3cret-token\r\n", 200);
    expect_status(s, "/priv/x", "authorization: bearer   s3cret-token  \r\n", 200);
    expect_status(s, "/pub", "Authorization: Bearer wrong\r\n", 200); /* public */
    assert_int_equal(s->calls, 3);

    /* a reload reads the file again; a file that cannot be read keeps the token */
    write_file(s->token_file, "n3w\n");
    char err[256];
    assert_int_equal(http_reload_token(s->h, s->token_file, err, sizeof(err)), 0);
    expect_status(s, "/priv", "Authorization: Bearer s3cret-token\r\n", 401);
    expect_status(s, "/priv", "Authorization: Bearer n3w\r\n", 200);
    write_file(s->token_file, "\n");
    assert_true(http_reload_token(s->h, s->token_file, err, sizeof(err)) < 0);
    assert_non_null(strstr(err, "the file is empty"));
    char missing[160];
    snprintf(missing, sizeof(missing), "%s/none", s->dir);
    assert_int_equal(http_reload_token(s->h, missing, err, sizeof(err)), -ENOENT);
    expect_status(s, "/priv", "Authorization: Bearer n3w\r\n", 200);
    /* on loopback the token may be dropped */
    assert_int_equal(http_reload_token(s->h, NULL, err, sizeof(err)), 0);
    expect_status(s, "/priv", NULL, 200);
    write_file(s->token_file, "s3cret-token\n");
    assert_int_equal(http_reload_token(s->h, s->token_file, err, sizeof(err)), 0);
}

static void test_handler_failures_and_redirects(void **state)
{
    server_t *s = *state;
    reply_t r;
    ask_get(s, "/pub/fail", NULL, &r);
    assert_int_equal(r.status, 500);
    assert_string_equal(r.body, "{\"error\":\"internal error\"}\n");
    free(r.body);
    ask_get(s, "/pub/big", NULL, &r);
    assert_int_equal(r.status, 500);
    assert_string_equal(r.body, "{\"error\":\"response too large\"}\n");
    free(r.body);
    ask_get(s, "/pub/old", NULL, &r);
    assert_int_equal(r.status, 301);
    assert_non_null(strstr(r.head, "Location: /v1/contacts/c-2\r\n"));
    assert_non_null(strstr(r.head, "Content-Type: application/json\r\n"));
    assert_string_equal(r.body, "{\"survivor\":\"c-2\"}");
    free(r.body);
}

static void test_keep_alive(void **state)
{
    server_t *s = *state;
    int fd = connect_to(s->port);
    const char *req = "GET /pub HTTP/1.1\r\nHost: t\r\n\r\n";
    for (int i = 0; i < 3; i++) {
        assert_int_equal(send(fd, req, strlen(req), MSG_NOSIGNAL), (ssize_t)strlen(req));
        reply_t r;
        assert_true(read_reply(fd, &r, false));
        assert_int_equal(r.status, 200);
        assert_null(strstr(r.head, "Connection: close"));
        free(r.body);
    }
    close(fd);
}

static void test_new_refuses_what_cannot_serve(void **state)
{
    (void)state;
    http_t *h = NULL;
    char err[256];
    hf_http_config_t cfg = {.listen = "0.0.0.0:0", .max_request_bytes = 4096, .timeout_ms = 1000};
    assert_int_equal(http_new(&h, &cfg, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "http.token_file is required"));
    cfg.token_file = "/nonexistent/token";
    assert_int_equal(http_new(&h, &cfg, err, sizeof(err)), -ENOENT);
    assert_non_null(strstr(err, "/nonexistent/token"));
    assert_null(h);
    /* off: no socket, routes may still be added */
    cfg = (hf_http_config_t){.listen = NULL, .max_request_bytes = 4096, .timeout_ms = 1000};
    assert_int_equal(http_new(&h, &cfg, err, sizeof(err)), 0);
    assert_int_equal(http_add_route(h, "GET", "/x", true, on_echo, NULL), 0);
    assert_int_equal(http_start(h, err, sizeof(err)), 0);
    assert_null(http_address(h));
    http_free(h);
}

static void test_port_in_use(void **state)
{
    server_t *s = *state;
    char listen[32], err[256];
    snprintf(listen, sizeof(listen), "127.0.0.1:%d", s->port);
    hf_http_config_t cfg = {.listen = listen, .max_request_bytes = 4096, .timeout_ms = 1000};
    http_t *h = NULL;
    assert_int_equal(http_new(&h, &cfg, err, sizeof(err)), 0);
    assert_int_equal(http_start(h, err, sizeof(err)), -EADDRINUSE);
    assert_non_null(strstr(err, listen));
    assert_non_null(strstr(err, "Address already in use"));
    http_free(h);
}

int main(void)
{
    log_setup(LOG_LEVEL_ERROR, HF_LOG_TEXT, stderr);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_handler_sees_the_request, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refused_before_any_handler, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bearer_token, setup, teardown),
        cmocka_unit_test_setup_teardown(test_handler_failures_and_redirects, setup, teardown),
        cmocka_unit_test_setup_teardown(test_keep_alive, setup, teardown),
        cmocka_unit_test(test_new_refuses_what_cannot_serve),
        cmocka_unit_test_setup_teardown(test_port_in_use, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
