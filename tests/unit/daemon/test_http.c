/* Unit tests of the HTTP server's pure parts (daemon/http_route.h): routes, bearer
 * tokens in headers and files, the request bounds; the http section of the config
 * (listen addresses, the token rule, ${VAR}); and the status rules /healthz and
 * /readyz answer by (daemon/status.h), with snapshots outliving their
 * replacement while read. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "daemon/http_route.h"
#include "daemon/status.h"

/* ---- routes --------------------------------------------------------------------- */

static int handler(void *opaque, const http_request_t *req, http_response_t *resp)
{
    (void)opaque, (void)req, (void)resp;
    return 0;
}

static http_route_t route(const char *method, const char *prefix)
{
    http_route_t r = {.prefix = (char *)prefix, .prefix_len = strlen(prefix), .fn = handler};
    snprintf(r.method, sizeof(r.method), "%s", method);
    return r;
}

static void test_prefix_matches_at_segment_boundaries(void **state)
{
    (void)state;
    assert_true(http_route_prefix_matches("/metrics", 8, "/metrics"));
    assert_true(http_route_prefix_matches("/metrics", 8, "/metrics/x"));
    assert_false(http_route_prefix_matches("/metrics", 8, "/metricsx"));
    assert_false(http_route_prefix_matches("/metrics", 8, "/metric"));
    assert_false(http_route_prefix_matches("/metrics", 8, "/"));
    /* a prefix ending in '/' serves what is under it, not itself without it */
    assert_true(http_route_prefix_matches("/v1/contacts/", 13, "/v1/contacts/c-1"));
    assert_true(http_route_prefix_matches("/v1/contacts/", 13, "/v1/contacts/"));
    assert_false(http_route_prefix_matches("/v1/contacts/", 13, "/v1/contacts"));
    assert_true(http_route_prefix_matches("/", 1, "/anything"));
    assert_false(http_route_prefix_matches("", 0, "/"));
}

static void test_longest_prefix_wins_and_head_is_get(void **state)
{
    (void)state;
    http_route_t routes[] = {
        route("GET", "/"),
        route("GET", "/v1/"),
        route("GET", "/v1/contacts/"),
        route("GET", "/v1/contacts/"),
        route("POST", "/v1/contacts/x"),
        route("GET", "/metrics"),
    };
    size_t n = sizeof(routes) / sizeof(routes[0]);
    assert_int_equal(http_route_find(routes, n, "GET", "/v1/contacts/c-1"),
                     2); /* first of equals */
    assert_int_equal(http_route_find(routes, n, "HEAD", "/v1/contacts/c-1"), 2);
    assert_int_equal(http_route_find(routes, n, "GET", "/v1/accounts/a"), 1);
    assert_int_equal(http_route_find(routes, n, "GET", "/metrics"), 5);
    assert_int_equal(http_route_find(routes, n, "GET", "/metricsx"), 0); /* "/" catches it */
    /* another method's route never serves */
    assert_int_equal(http_route_find(routes, n, "GET", "/v1/contacts/x"), 2);
    assert_int_equal(http_route_find(routes, n, "POST", "/v1/contacts/x"), 4);
    assert_int_equal(http_route_find(routes, n, "DELETE", "/metrics"), -1);
    assert_int_equal(http_route_find(routes + 1, n - 1, "GET", "/healthz"), -1);
    assert_int_equal(http_route_find(routes, 0, "GET", "/"), -1);
}

/* ---- tokens ----------------------------------------------------------------------- */

static void expect_bearer(const char *header, const char *token)
{
    const char *tok = NULL;
    size_t len = 0;
    bool ok = http_bearer_parse(header, &tok, &len);
    if (!token) {
        assert_false(ok);
        return;
    }
    assert_true(ok);
    assert_int_equal(len, strlen(token));
    assert_memory_equal(tok, token, len);
}

static void test_bearer_header_parsing(void **state)
{
    (void)state;
    expect_bearer("Bearer abc123", "abc123");
    expect_bearer("bearer abc123", "abc123");
    expect_bearer("BEARER   a-b.c_d~e+f/g==  ", "a-b.c_d~e+f/g==");
    expect_bearer("Bearer abc\t", "abc");
    expect_bearer(NULL, NULL);
    expect_bearer("", NULL);
    expect_bearer("Bearer", NULL);
    expect_bearer("Bearer ", NULL);
    expect_bearer("Bearerabc", NULL);
    expect_bearer("Basic YWxhZGRpbjpvcGVuc2VzYW1l", NULL);
    expect_bearer("Bearer abc def", NULL); /* two tokens */
    expect_bearer("Bearer a=b", NULL);     /* '=' only at the end */
    expect_bearer("Bearer abc,", NULL);
    expect_bearer("Bearer \"abc\"", NULL);
    char big[HTTP_TOKEN_MAX + 16];
    memcpy(big, "Bearer ", 7);
    memset(big + 7, 'a', HTTP_TOKEN_MAX + 1);
    big[7 + HTTP_TOKEN_MAX + 1] = 0;
    expect_bearer(big, NULL);
    big[7 + HTTP_TOKEN_MAX] = 0;
    const char *tok;
    size_t len;
    assert_true(http_bearer_parse(big, &tok, &len));
    assert_int_equal(len, HTTP_TOKEN_MAX);
}

static void test_token_comparison(void **state)
{
    (void)state;
    assert_true(http_token_equal("s3cret", 6, "s3cret", 6));
    assert_false(http_token_equal("s3creT", 6, "s3cret", 6));
    assert_false(http_token_equal("s3cre", 5, "s3cret", 6));
    assert_false(http_token_equal("s3crets3cret", 12, "s3cret", 6));
    /* a token that repeats the expected one's start is not it */
    assert_false(http_token_equal("ab", 2, "abab", 4));
    assert_false(http_token_equal("", 0, "s3cret", 6));
    assert_false(http_token_equal("", 0, "", 0)); /* no token is never a match */
}

static void expect_file_token(const char *text, const char *token)
{
    size_t start = 99, len = 99;
    const char *why = http_token_from_file(text, strlen(text), &start, &len);
    if (!token) {
        assert_non_null(why);
        /* the file's contents are never in the message */
        if (strlen(text) > 3)
            assert_null(strstr(why, text));
        return;
    }
    assert_null(why);
    assert_int_equal(len, strlen(token));
    assert_memory_equal(text + start, token, len);
}

static void test_token_files(void **state)
{
    (void)state;
    expect_file_token("s3cret\n", "s3cret");
    expect_file_token("  s3cret \r\n\n", "s3cret");
    expect_file_token("abc==\n", "abc==");
    expect_file_token("", NULL);
    expect_file_token(" \n\t\n", NULL);
    expect_file_token("two words\n", NULL);
    expect_file_token("line1\nline2\n", NULL);
    expect_file_token("caf\xc3\xa9\n", NULL);
    char *big = malloc(HTTP_TOKEN_MAX + 2);
    memset(big, 'x', HTTP_TOKEN_MAX + 1);
    big[HTTP_TOKEN_MAX + 1] = 0;
    expect_file_token(big, NULL);
    big[HTTP_TOKEN_MAX] = 0;
    size_t start, len;
    assert_null(http_token_from_file(big, HTTP_TOKEN_MAX, &start, &len));
    free(big);
}

/* ---- bounds and paths ---------------------------------------------------------------- */

static void test_request_bounds(void **state)
{
    (void)state;
    assert_int_equal(http_size_status(1024, 1024, 1024, 1024), 0);
    assert_int_equal(http_size_status(1024, 1024, -1, 1024), 0);
    assert_int_equal(http_size_status(1025, 0, -1, 1024), 414);
    assert_int_equal(http_size_status(10, 1025, -1, 1024), 431);
    assert_int_equal(http_size_status(10, 10, 1025, 1024), 413);
    assert_int_equal(http_size_status(10, 10, INT64_MAX, 1024), 413); /* chunked: unknown */
    /* the URI is judged first, then the headers, then the body */
    assert_int_equal(http_size_status(2000, 2000, 2000, 1024), 414);
    assert_int_equal(http_size_status(10, 2000, 2000, 1024), 431);

    assert_null(http_path_problem("/"));
    assert_null(http_path_problem("/v1/contacts/c%20x"));
    assert_non_null(http_path_problem(""));
    assert_non_null(http_path_problem("metrics"));
    assert_non_null(http_path_problem("/a\nb"));
    assert_non_null(http_path_problem("/a\x7f"));
    assert_non_null(http_path_problem(NULL));
}

/* ---- the config's http section ------------------------------------------------------- */

static void expect_listen(const char *text, const char *host, int port, bool v6, bool loopback)
{
    hf_http_listen_t l;
    const char *why = config_http_parse_listen(text, &l);
    if (!host) {
        assert_non_null(why);
        return;
    }
    assert_null(why);
    assert_string_equal(l.host, host);
    assert_int_equal(l.port, port);
    assert_int_equal(l.ipv6, v6);
    assert_int_equal(l.loopback, loopback);
}

static void test_listen_addresses(void **state)
{
    (void)state;
    expect_listen("127.0.0.1:8686", "127.0.0.1", 8686, false, true);
    expect_listen("127.1.2.3:0", "127.1.2.3", 0, false, true);
    expect_listen("localhost:80", "127.0.0.1", 80, false, true);
    expect_listen("0.0.0.0:8686", "0.0.0.0", 8686, false, false);
    expect_listen("10.1.2.3:65535", "10.1.2.3", 65535, false, false);
    expect_listen("[::1]:8686", "::1", 8686, true, true);
    expect_listen("[::]:8686", "::", 8686, true, false);
    expect_listen("[fe80::1]:1", "fe80::1", 1, true, false);
    expect_listen("127.0.0.1", NULL, 0, false, false);
    expect_listen("127.0.0.1:", NULL, 0, false, false);
    expect_listen("127.0.0.1:65536", NULL, 0, false, false);
    expect_listen("127.0.0.1:-1", NULL, 0, false, false);
    expect_listen("127.0.0.1:80x", NULL, 0, false, false);
    expect_listen(":8686", NULL, 0, false, false);
    expect_listen("::1:8686", NULL, 0, false, false);
    expect_listen("[::1]8686", NULL, 0, false, false);
    expect_listen("[127.0.0.1]:80", NULL, 0, false, false);
    expect_listen("example.com:80", NULL, 0, false, false);
    expect_listen("256.0.0.1:80", NULL, 0, false, false);
}

/* Loads @yaml; returns the problem count and the messages in @errors (freed by the
 * caller), *@cfg on success. */
static int load(const char *yaml, hf_config_t **cfg, hf_buf_t *errors)
{
    *cfg = NULL;
    return config_load_string(cfg, "t.yaml", yaml, strlen(yaml), errors);
}

static void expect_problem(const char *yaml, const char *needle)
{
    hf_config_t *cfg;
    hf_buf_t errors = HF_BUF_INIT;
    int r = load(yaml, &cfg, &errors);
    if (r != 1 || !strstr((char *)errors.data, needle))
        print_error("%s\n", errors.data ? (char *)errors.data : "(no problem)");
    assert_int_equal(r, 1);
    assert_non_null(strstr((char *)errors.data, needle));
    hf_buf_free(&errors);
}

static void test_http_section(void **state)
{
    (void)state;
    hf_config_t *cfg;
    hf_buf_t errors = HF_BUF_INIT;
    assert_int_equal(load("{}", &cfg, &errors), 0);
    assert_string_equal(cfg->http.listen, "127.0.0.1:8686");
    assert_null(cfg->http.token_file);
    assert_null(cfg->http.advertised);
    assert_int_equal(cfg->http.max_request_bytes, 16384);
    assert_int_equal(cfg->http.timeout_ms, 10000);
    config_free(cfg);

    assert_int_equal(load("http: {listen: \"off\"}", &cfg, &errors), 0);
    assert_null(cfg->http.listen);
    config_free(cfg);
    assert_int_equal(load("http: {listen: \"\"}", &cfg, &errors), 0);
    assert_null(cfg->http.listen);
    config_free(cfg);

    setenv("HF_TEST_CREDS", "/run/creds", 1);
    assert_int_equal(load("http:\n  listen: \"0.0.0.0:9000\"\n  token_file: ${HF_TEST_CREDS}/tok\n"
                          "  advertised: handoff-1.internal:9000\n  timeout: 30s\n",
                          &cfg, &errors),
                     0);
    assert_string_equal(cfg->http.token_file, "/run/creds/tok");
    assert_string_equal(cfg->http.advertised, "handoff-1.internal:9000");
    assert_int_equal(cfg->http.timeout_ms, 30000);
    config_free(cfg);
    hf_buf_free(&errors);

    expect_problem("http:\n  listen: \"0.0.0.0:8686\"\n",
                   "t.yaml:2:11: http.listen: a listen address other than loopback needs "
                   "http.token_file");
    expect_problem("http:\n  listen: \"[::]:8686\"\n", "needs http.token_file");
    expect_problem("http:\n  listen: \"example.com:80\"\n", "t.yaml:2:11: http.listen: expected");
    expect_problem("http:\n  token_file: ${HF_TEST_UNSET_VARIABLE}\n",
                   "environment variable HF_TEST_UNSET_VARIABLE is not set");
    expect_problem("http:\n  advertised: \"http://a:1\"\n", "http.advertised");
    expect_problem("http:\n  advertised: \"a:0\"\n", "other than 0");
    expect_problem("http:\n  max_request_bytes: 10\n", "http.max_request_bytes");
    expect_problem("http:\n  timeout: 10ms\n", "http.timeout");
}

/* ---- status ------------------------------------------------------------------------- */

static void test_health_is_the_heartbeat_age(void **state)
{
    (void)state;
    status_t *st = status_new();
    char why[128];
    status_beat(st, 50000);
    assert_true(status_healthy(st, 50000, 10000, why, sizeof(why)));
    assert_true(status_healthy(st, 60000, 10000, why, sizeof(why)));
    assert_false(status_healthy(st, 60001, 10000, why, sizeof(why)));
    assert_string_equal(why, "the pipeline loop last turned 10.0 s ago");
    assert_false(status_healthy(st, 62345, 10000, why, sizeof(why)));
    assert_string_equal(why, "the pipeline loop last turned 12.3 s ago");
    status_beat(st, 62000);
    assert_true(status_healthy(st, 62345, 10000, why, sizeof(why)));
    assert_int_equal(status_heartbeat_ms(st), 62000);
    status_free(st);
    assert_false(status_healthy(NULL, 0, 10000, why, sizeof(why)));
}

static void expect_ready(status_t *st, bool ready, const char *reason)
{
    char text[256];
    assert_int_equal(status_ready(st, text, sizeof(text)), ready);
    assert_string_equal(text, reason);
}

static void test_readiness_reasons(void **state)
{
    (void)state;
    status_t *st = status_new();
    expect_ready(st, false, "starting");
    status_set_phase(st, STATUS_RUNNING);
    expect_ready(st, false, "waiting for partition assignment");
    status_set_assignment(st, STATUS_LOADING, 7);
    expect_ready(st, false, "loading state of 7 partitions");
    status_set_assignment(st, STATUS_ASSIGNED, 7);
    expect_ready(st, true, "consuming 7 partitions");
    status_set_broker_down(st, "all broker connections are down");
    assert_true(status_broker_down(st));
    expect_ready(st, false, "broker unreachable: all broker connections are down");
    status_set_phase(st, STATUS_RELOADING);
    expect_ready(st, false, "reloading");
    status_set_phase(st, STATUS_RUNNING);
    status_set_broker_down(st, NULL);
    expect_ready(st, true, "consuming 7 partitions");
    status_set_assignment(st, STATUS_UNASSIGNED, 0);
    expect_ready(st, false, "waiting for partition assignment");
    status_set_assignment(st, STATUS_ASSIGNED, 1);
    expect_ready(st, true, "consuming 1 partition");
    status_set_phase(st, STATUS_STOPPING);
    expect_ready(st, false, "stopping");

    status_count_rebalance(st);
    status_count_reload(st, true);
    status_count_reload(st, false);
    status_count_reload(st, false);
    assert_int_equal(status_rebalances(st), 1);
    assert_int_equal(status_reloads(st, true), 1);
    assert_int_equal(status_reloads(st, false), 2);
    status_free(st);
    /* a pipeline without a status publishes to no one */
    status_beat(NULL, 1);
    status_set_phase(NULL, STATUS_RUNNING);
    status_publish(NULL, status_snapshot_new());
    assert_null(status_acquire(NULL));
}

static void test_snapshot_outlives_its_replacement_while_held(void **state)
{
    (void)state;
    status_t *st = status_new();
    assert_null(status_acquire(st));
    metrics_t *m = metrics_new();
    metrics_counters(m)[M_FOLDED] = 5;
    assert_int_equal(metrics_add_named(m, "dlq", "decode", 2), 0);
    assert_int_equal(metrics_add_named(m, METRICS_GROUP_HANDOFF_TYPES, "contact|hot", 1), 0);
    assert_int_equal(metrics_add_named(m, "outcome", "all|*|handoff", 1), 0); /* not copied */
    metrics_observe(m, MH_COMMIT_BYTES, 5000);
    status_snapshot_t *first = status_snapshot_new();
    assert_int_equal(status_snapshot_take_metrics(first, m), 0);
    status_partition_t part = {.topic = "t", .partition = 3, .assigned = true, .consumed = 9};
    assert_int_equal(status_snapshot_add_partition(first, &part), 0);
    status_publish(st, first);

    const status_snapshot_t *held = status_acquire(st);
    assert_ptr_equal(held, first);
    metrics_counters(m)[M_FOLDED] = 6;
    status_snapshot_t *second = status_snapshot_new();
    assert_int_equal(status_snapshot_take_metrics(second, m), 0);
    status_publish(st, second);
    /* the reader's copy is intact (ASan would see a use after free) */
    assert_int_equal(held->counters[M_FOLDED], 5);
    assert_int_equal(held->named_count[STATUS_GROUP_DLQ], 1);
    assert_string_equal(held->named[STATUS_GROUP_DLQ][0].name, "decode");
    assert_int_equal(held->named[STATUS_GROUP_DLQ][0].value, 2);
    assert_int_equal(held->named_count[STATUS_GROUP_HANDOFF_TYPES], 1);
    assert_int_equal(held->named_count[STATUS_GROUP_BREACH_LEVELS], 0);
    assert_int_equal(held->hists[MH_COMMIT_BYTES].count, 1);
    assert_string_equal(held->partitions[0].topic, "t");
    status_release(st, held);

    const status_snapshot_t *now = status_acquire(st);
    assert_int_equal(now->counters[M_FOLDED], 6);
    status_release(st, now);
    metrics_free(m);
    status_free(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_prefix_matches_at_segment_boundaries),
        cmocka_unit_test(test_longest_prefix_wins_and_head_is_get),
        cmocka_unit_test(test_bearer_header_parsing),
        cmocka_unit_test(test_token_comparison),
        cmocka_unit_test(test_token_files),
        cmocka_unit_test(test_request_bounds),
        cmocka_unit_test(test_listen_addresses),
        cmocka_unit_test(test_http_section),
        cmocka_unit_test(test_health_is_the_heartbeat_age),
        cmocka_unit_test(test_readiness_reasons),
        cmocka_unit_test(test_snapshot_outlives_its_replacement_while_held),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
