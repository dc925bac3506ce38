/* Unit tests of /metrics' rendering (daemon/status_prom.h): a fixed snapshot in,
 * the exposition text out, family by family; label values escaped; floats as
 * Prometheus reads them; histograms cumulative with +Inf equal to the count. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/status_prom.h"

static char *render(const status_prom_input_t *in)
{
    hf_buf_t out = HF_BUF_INIT;
    assert_int_equal(status_prom_render(&out, in), 0);
    return (char *)out.data;
}

/* The lines of @text from "# HELP @name " to the next family's "# HELP". */
static char *family_of(const char *text, const char *name)
{
    char head[128];
    snprintf(head, sizeof(head), "# HELP %s ", name);
    const char *a = strstr(text, head);
    if (!a)
        return NULL;
    const char *b = strstr(a + 1, "# HELP ");
    size_t n = b ? (size_t)(b - a) : strlen(a);
    char *f = malloc(n + 1);
    memcpy(f, a, n);
    f[n] = 0;
    return f;
}

static void expect_family(const char *text, const char *name, const char *expected)
{
    char *f = family_of(text, name);
    if (!f || strcmp(f, expected) != 0)
        print_error("family %s:\n%s\nexpected:\n%s\n", name, f ? f : "(absent)", expected);
    assert_non_null(f);
    assert_string_equal(f, expected);
    free(f);
}

static status_snapshot_t *sample_snapshot(void)
{
    metrics_t *m = metrics_new();
    uint64_t *c = metrics_counters(m);
    c[M_FOLDED] = 120;
    c[M_DUPLICATES] = 3;
    metrics_add_named(m, "dlq", "decode", 2);
    metrics_add_named(m, "dlq", "a \"quoted\"\\reason\nwith newline", 1);
    metrics_add_named(m, METRICS_GROUP_HANDOFF_TYPES, "contact|high_intent", 4);
    metrics_add_named(m, METRICS_GROUP_HANDOFF_TYPES, "account|buying_group", 1);
    metrics_add_named(m, METRICS_GROUP_BREACH_LEVELS, "accept|1", 2);
    metrics_observe(m, MH_EVENT_TO_HANDOFF, 0.002);
    metrics_observe(m, MH_EVENT_TO_HANDOFF, 0.3);
    metrics_observe(m, MH_EVENT_TO_HANDOFF, 0.3);
    metrics_observe(m, MH_EVENT_TO_HANDOFF, 100000); /* above the last bound */
    metrics_observe(m, MH_EVENT_TO_HANDOFF, -5);     /* counted as 0 */
    status_snapshot_t *snap = status_snapshot_new();
    assert_int_equal(status_snapshot_take_metrics(snap, m), 0);
    metrics_free(m);
    status_partition_t parts[] = {
        {.topic = "mkt.web.visits",
         .partition = 0,
         .assigned = true,
         .position = 10,
         .high_watermark = 25,
         .consumed = 10},
        {.topic = "mkt.web.visits",
         .partition = 1,
         .assigned = true,
         .position = -1,
         .high_watermark = -1,
         .consumed = 0},
        {.topic = "mkt.identity",
         .partition = 2,
         .assigned = false,
         .position = 7,
         .high_watermark = 9,
         .consumed = 7},
        {.topic = "mkt.identity",
         .partition = 3,
         .assigned = true,
         .position = 9,
         .high_watermark = 5,
         .consumed = 9}, /* a stale watermark: no negative lag */
    };
    for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++)
        assert_int_equal(status_snapshot_add_partition(snap, &parts[i]), 0);
    snap->sla_clocks_pending = 17;
    snap->store_bytes = 123456;
    snap->block_cache_bytes = -1;
    return snap;
}

static void test_families_of_a_snapshot(void **state)
{
    (void)state;
    status_snapshot_t *snap = sample_snapshot();
    status_prom_input_t in = {
        .snap = snap,
        .rebalances = 2,
        .reloads_ok = 1,
        .reloads_rejected = 3,
        .ready = true,
        .last_turn_seconds = 1796000000.25,
        .process = {.resident_bytes = 1048576,
                    .cpu_seconds = 1.25,
                    .start_time_seconds = -1,
                    .open_fds = -1},
        .version = "0.1.0",
        .librdkafka_version = "2.0.2",
    };
    char *text = render(&in);
    expect_family(text, "handoff_build_info",
                  "# HELP handoff_build_info The running handoffd's version; always 1.\n"
                  "# TYPE handoff_build_info gauge\n"
                  "handoff_build_info{version=\"0.1.0\",librdkafka=\"2.0.2\"} 1\n");
    expect_family(text, "handoff_records_consumed_total",
                  "# HELP handoff_records_consumed_total Records processed per input partition "
                  "since the process started.\n"
                  "# TYPE handoff_records_consumed_total counter\n"
                  "handoff_records_consumed_total{topic=\"mkt.web.visits\",partition=\"0\"} 10\n"
                  "handoff_records_consumed_total{topic=\"mkt.web.visits\",partition=\"1\"} 0\n"
                  "handoff_records_consumed_total{topic=\"mkt.identity\",partition=\"2\"} 7\n"
                  "handoff_records_consumed_total{topic=\"mkt.identity\",partition=\"3\"} 9\n");
    /* assigned partitions with both offsets known only */
    expect_family(text, "handoff_consumer_lag",
                  "# HELP handoff_consumer_lag Records of an assigned partition not processed yet "
                  "(high watermark minus position).\n"
                  "# TYPE handoff_consumer_lag gauge\n"
                  "handoff_consumer_lag{topic=\"mkt.web.visits\",partition=\"0\"} 15\n"
                  "handoff_consumer_lag{topic=\"mkt.identity\",partition=\"3\"} 0\n");
    expect_family(text, "handoff_assigned_partitions",
                  "# HELP handoff_assigned_partitions Partitions assigned to this process.\n"
                  "# TYPE handoff_assigned_partitions gauge\n"
                  "handoff_assigned_partitions 3\n");
    expect_family(text, "handoff_events_folded_total",
                  "# HELP handoff_events_folded_total Events folded into a journey.\n"
                  "# TYPE handoff_events_folded_total counter\n"
                  "handoff_events_folded_total 120\n");
    expect_family(text, "handoff_dead_letters_total",
                  "# HELP handoff_dead_letters_total Records sent to the dead-letter topic, by "
                  "reason.\n"
                  "# TYPE handoff_dead_letters_total counter\n"
                  "handoff_dead_letters_total{reason=\"decode\"} 2\n"
                  "handoff_dead_letters_total{reason=\"a \\\"quoted\\\"\\\\reason\\nwith "
                  "newline\"} 1\n");
    expect_family(text, "handoff_handoffs_total",
                  "# HELP handoff_handoffs_total ConversationReady handoffs emitted, by entity "
                  "type and rule.\n"
                  "# TYPE handoff_handoffs_total counter\n"
                  "handoff_handoffs_total{entity_type=\"contact\",rule=\"high_intent\"} 4\n"
                  "handoff_handoffs_total{entity_type=\"account\",rule=\"buying_group\"} 1\n");
    expect_family(text, "handoff_sla_breaches_total",
                  "# HELP handoff_sla_breaches_total SLA breaches emitted, by SLA clock and "
                  "escalation level.\n"
                  "# TYPE handoff_sla_breaches_total counter\n"
                  "handoff_sla_breaches_total{sla=\"accept\",level=\"1\"} 2\n");
    expect_family(text, "handoff_sla_clocks_pending",
                  "# HELP handoff_sla_clocks_pending Entities of the assigned partitions with "
                  "SLA clocks running.\n"
                  "# TYPE handoff_sla_clocks_pending gauge\n"
                  "handoff_sla_clocks_pending 17\n");
    expect_family(text, "handoff_reloads_total",
                  "# HELP handoff_reloads_total Reloads of the rules file (SIGHUP), applied (ok) "
                  "or rejected.\n"
                  "# TYPE handoff_reloads_total counter\n"
                  "handoff_reloads_total{result=\"ok\"} 1\n"
                  "handoff_reloads_total{result=\"rejected\"} 3\n");
    expect_family(text, "process_cpu_seconds_total",
                  "# HELP process_cpu_seconds_total Total user and system CPU time spent in "
                  "seconds.\n"
                  "# TYPE process_cpu_seconds_total counter\n"
                  "process_cpu_seconds_total 1.25\n");
    assert_non_null(strstr(text, "\nhandoff_store_size_bytes 123456\n"));
    assert_non_null(strstr(text, "\nhandoff_ready 1\n"));
    assert_non_null(strstr(text, "\nhandoff_last_loop_turn_timestamp_seconds 1796000000.25\n"));
    assert_non_null(strstr(text, "\nhandoff_rebalances_total 2\n"));
    assert_non_null(strstr(text, "\nprocess_resident_memory_bytes 1048576\n"));
    /* unknown values leave their family out */
    assert_null(strstr(text, "block_cache"));
    assert_null(strstr(text, "process_start_time_seconds"));
    assert_null(strstr(text, "process_open_fds"));
    free(text);
    status_snapshot_free(snap);
}

static void test_histogram_is_cumulative(void **state)
{
    (void)state;
    status_snapshot_t *snap = sample_snapshot();
    status_prom_input_t in = {.snap = snap, .process = {-1, -1, -1, -1}};
    char *text = render(&in);
    char *f = family_of(text, "handoff_event_to_handoff_seconds");
    assert_non_null(f);
    assert_non_null(strstr(f, "# TYPE handoff_event_to_handoff_seconds histogram\n"));
    /* 0 and 0.002 in the first bucket, 0.3 twice in le=0.5, 100000 above 86400 */
    assert_non_null(strstr(f, "\nhandoff_event_to_handoff_seconds_bucket{le=\"0.005\"} 2\n"));
    assert_non_null(strstr(f, "\nhandoff_event_to_handoff_seconds_bucket{le=\"0.25\"} 2\n"));
    assert_non_null(strstr(f, "\nhandoff_event_to_handoff_seconds_bucket{le=\"0.5\"} 4\n"));
    assert_non_null(strstr(f, "\nhandoff_event_to_handoff_seconds_bucket{le=\"86400\"} 4\n"));
    assert_non_null(strstr(f, "\nhandoff_event_to_handoff_seconds_bucket{le=\"+Inf\"} 5\n"));
    assert_non_null(strstr(f, "\nhandoff_event_to_handoff_seconds_sum 100000.602\n"));
    assert_non_null(strstr(f, "\nhandoff_event_to_handoff_seconds_count 5\n"));
    /* the buckets never decrease */
    uint64_t last = 0;
    for (const char *p = strstr(f, "_bucket{"); p; p = strstr(p + 1, "_bucket{")) {
        uint64_t v = strtoull(strchr(p, '}') + 2, NULL, 10);
        assert_true(v >= last);
        last = v;
    }
    free(f);
    /* an empty histogram still has its series */
    f = family_of(text, "handoff_commit_duration_seconds");
    assert_non_null(strstr(f, "handoff_commit_duration_seconds_bucket{le=\"+Inf\"} 0\n"));
    assert_non_null(strstr(f, "handoff_commit_duration_seconds_count 0\n"));
    free(f);
    free(text);
    status_snapshot_free(snap);
}

static void test_without_snapshot(void **state)
{
    (void)state;
    status_prom_input_t in = {.ready = false, .last_turn_seconds = -1, .process = {-1, -1, -1, -1}};
    char *text = render(&in);
    assert_non_null(
        strstr(text, "handoff_build_info{version=\"unknown\",librdkafka=\"unknown\"} 1\n"));
    assert_non_null(strstr(text, "\nhandoff_ready 0\n"));
    assert_non_null(strstr(text, "\nhandoff_rebalances_total 0\n"));
    assert_null(strstr(text, "handoff_events_folded_total"));
    assert_null(strstr(text, "handoff_records_consumed_total"));
    assert_null(strstr(text, "handoff_last_loop_turn"));
    free(text);
}

static void expect_float(double v, const char *text)
{
    hf_buf_t out = HF_BUF_INIT;
    assert_int_equal(status_prom_float(&out, v), 0);
    assert_string_equal((char *)out.data, text);
    hf_buf_free(&out);
}

static void test_floats_and_labels(void **state)
{
    (void)state;
    expect_float(0, "0");
    expect_float(86400, "86400");
    expect_float(268435456, "268435456");
    expect_float(0.005, "0.005");
    expect_float(0.0025, "0.0025");
    expect_float(1.25, "1.25");
    expect_float(0.1 + 0.2, "0.30000000000000004");
    expect_float(1e300, "1e+300");
    expect_float(1.0 / 0.0, "+Inf");
    expect_float(-1.0 / 0.0, "-Inf");
    expect_float(0.0 / 0.0, "NaN");
    hf_buf_t out = HF_BUF_INIT;
    assert_int_equal(status_prom_label_value(&out, "a\\b\"c\nd{e}=f,g"), 0);
    assert_string_equal((char *)out.data, "a\\\\b\\\"c\\nd{e}=f,g");
    hf_buf_free(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_families_of_a_snapshot),
        cmocka_unit_test(test_histogram_is_cumulative),
        cmocka_unit_test(test_without_snapshot),
        cmocka_unit_test(test_floats_and_labels),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
