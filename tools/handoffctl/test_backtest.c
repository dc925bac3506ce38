/* handoffctl backtest's report (backtest_report.c): which handoffs differ between
 * two runs, the totals, the times it reads and the weeks it counts by. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "backtest.h"

/* 2026-03-02T00:00:00Z, a Monday */
#define T0 INT64_C(1772409600000)
#define DAY INT64_C(86400000)

static void add(bt_run_t *run, const char *id, const char *rule, int64_t at, const char *team,
                const char *detail)
{
    hf_reason_t reasons[2] = {{.rule = rule, .points = 0, .count = 0, .detail = detail},
                              {.rule = "pricing_page", .points = 55, .count = 6, .detail = NULL}};
    char handoff_id[64];
    snprintf(handoff_id, sizeof handoff_id, "ho_%s_%s_%lld", id, rule, (long long)at);
    hf_handoff_t h = {.handoff_id = handoff_id,
                      .entity_type = HF_ENTITY_CONTACT,
                      .entity_id = id,
                      .rule = rule,
                      .qualified_at_ms = at,
                      .routing_team = team,
                      .reasons = reasons,
                      .reason_count = 2};
    assert_int_equal(bt_run_add(run, &h), 0);
}

static const bt_header_t header = {.baseline_path = "base.yaml",
                                   .proposed_path = "new.yaml",
                                   .records = 10,
                                   .first_ms = T0,
                                   .last_ms = T0 + 9 * DAY,
                                   .dead_letters = {1, 1},
                                   .sla_breaches = {3, 4}};

static char *render(bool json, bt_run_t *a, bt_run_t *b)
{
    hf_buf_t out = HF_BUF_INIT;
    int r = json ? bt_report_json(a, b, &header, &out) : bt_report_text(a, b, &header, &out);
    assert_int_equal(r, 0);
    assert_int_equal(hf_buf_append(&out, "", 1), 0);
    return (char *)out.data;
}

/* Runs where: c-1 is handed off under both; c-2 only under the baseline (by
 * demo_request); c-3 only under the proposal (high_intent); c-4 under both, a day
 * later under the proposal. */
static void fill(bt_run_t *a, bt_run_t *b)
{
    add(a, "c-1", "high_intent", T0, "emea", "score 103 >= 100");
    add(a, "c-2", "demo_request", T0 + DAY, "amer", "form demo_request");
    add(a, "c-4", "high_intent", T0 + 2 * DAY, NULL, "score 100 >= 100");
    /* the same set in another order: the report sorts */
    add(b, "c-4", "high_intent", T0 + 3 * DAY, NULL, "score 140 >= 140");
    add(b, "c-3", "high_intent", T0 + 8 * DAY, "emea", "score 150 >= 140");
    add(b, "c-1", "high_intent", T0, "emea", "score 103 >= 100");
}

static void test_json_differences(void **state)
{
    (void)state;
    bt_run_t a = {0}, b = {0};
    fill(&a, &b);
    char *json = render(true, &a, &b);
    /* c-2 only under the baseline, under its rule, with its reasons */
    const char *demo = strstr(json, "{\"rule\":\"demo_request\",\"only_baseline\":[");
    assert_non_null(demo);
    assert_non_null(strstr(demo, "\"entity_id\":\"c-2\""));
    assert_non_null(strstr(json, "\"detail\":\"form demo_request\""));
    assert_non_null(strstr(json, "\"only_proposed\":[],\"moved\":[]}"));
    /* c-3 only under the proposal, c-4 moved, c-1 nowhere in the differences */
    const char *hi =
        strstr(json, "{\"rule\":\"high_intent\",\"only_baseline\":[],\"only_proposed\":[");
    assert_non_null(hi);
    assert_non_null(strstr(hi, "\"entity_id\":\"c-3\""));
    assert_non_null(strstr(hi, "\"moved\":[{\"baseline\":{\"handoff_id\":\"ho_c-4"));
    assert_null(strstr(strstr(json, "\"rules\":["), "\"c-1\""));
    free(json);
    /* c-1 at the same time but routed to another team: listed as moved too */
    free(b.items[0].team); /* b is sorted now: c-1 first */
    b.items[0].team = strdup("amer");
    json = render(true, &a, &b);
    assert_non_null(strstr(json, "\"moved\":[{\"baseline\":{\"handoff_id\":\"ho_c-1"));
    free(json);
    b.items[0].team = (free(b.items[0].team), strdup("emea"));
    json = render(true, &a, &b);
    /* totals side by side with the difference */
    assert_non_null(strstr(json, "\"rule\":[{\"name\":\"demo_request\",\"baseline\":1,"
                                 "\"proposed\":0,\"difference\":-1},{\"name\":\"high_intent\","
                                 "\"baseline\":2,\"proposed\":3,\"difference\":1}]"));
    assert_non_null(strstr(json, "\"team\":[{\"name\":\"(none)\",\"baseline\":1,\"proposed\":1,"
                                 "\"difference\":0},{\"name\":\"amer\",\"baseline\":1,"
                                 "\"proposed\":0,\"difference\":-1},{\"name\":\"emea\","
                                 "\"baseline\":1,\"proposed\":2,\"difference\":1}]"));
    /* c-3 on Tuesday of the next week */
    assert_non_null(strstr(json, "{\"name\":\"2026-W11\",\"baseline\":0,\"proposed\":1,"
                                 "\"difference\":1}"));
    assert_non_null(strstr(json, "\"baseline\":{\"file\":\"base.yaml\",\"handoffs\":3,"
                                 "\"dead_letters\":1,\"sla_breaches\":3}"));
    free(json);
    bt_run_free(&a);
    bt_run_free(&b);
}

/* The same runs, whatever order their handoffs came in, give the same bytes. */
static void test_deterministic(void **state)
{
    (void)state;
    bt_run_t a = {0}, b = {0}, c = {0}, d = {0};
    fill(&a, &b);
    /* c, d: the same handoffs, added in reverse */
    for (size_t i = a.count; i-- > 0;) {
        const bt_handoff_t *x = &a.items[i];
        add(&c, x->entity_id, x->rule, x->at_ms, x->team, x->reasons[0].detail);
    }
    for (size_t i = b.count; i-- > 0;) {
        const bt_handoff_t *x = &b.items[i];
        add(&d, x->entity_id, x->rule, x->at_ms, x->team, x->reasons[0].detail);
    }
    for (int json = 0; json < 2; json++) {
        char *one = render(json, &a, &b);
        char *two = render(json, &c, &d);
        assert_string_equal(one, two);
        free(one);
        free(two);
    }
    bt_run_free(&a);
    bt_run_free(&b);
    bt_run_free(&c);
    bt_run_free(&d);
}

/* Twice handed off under a rule in one run, once in the other: one difference. */
static void test_repeated_handoffs(void **state)
{
    (void)state;
    bt_run_t a = {0}, b = {0};
    add(&a, "c-9", "hand_raiser", T0, "emea", "form");
    add(&a, "c-9", "hand_raiser", T0 + 40 * DAY, "emea", "form again");
    add(&b, "c-9", "hand_raiser", T0, "emea", "form");
    char *text = render(false, &a, &b);
    assert_non_null(strstr(text, "rule hand_raiser: 1 only under the baseline, 0 only under the "
                                 "proposal\n"));
    assert_non_null(strstr(text, "form again"));
    assert_non_null(strstr(text, "  total "));
    free(text);
    bt_run_free(&a);
    bt_run_free(&b);

    bt_run_t e = {0}, f = {0};
    add(&e, "c-1", "high_intent", T0, NULL, "x");
    add(&f, "c-1", "high_intent", T0, NULL, "x");
    text = render(false, &e, &f);
    assert_non_null(strstr(text, "no difference"));
    free(text);
    bt_run_free(&e);
    bt_run_free(&f);
}

static void test_times(void **state)
{
    (void)state;
    int64_t ms;
    assert_true(bt_parse_time("2026-03-02", &ms));
    assert_int_equal(ms, T0);
    assert_true(bt_parse_time("2026-03-02T09:30:15.250Z", &ms));
    assert_int_equal(ms, T0 + 9 * 3600000 + 30 * 60000 + 15250);
    assert_true(bt_parse_time("2026-03-02T10:00+01:00", &ms));
    assert_int_equal(ms, T0 + 9 * 3600000);
    assert_true(bt_parse_time("2026-03-02 00:00:00Z", &ms));
    assert_int_equal(ms, T0);
    assert_true(bt_parse_time("1772409600000", &ms));
    assert_int_equal(ms, T0);
    assert_true(bt_parse_time("2024-02-29", &ms));
    const char *bad[] = {"",           "yesterday",        "2026-02-29",
                         "2026-13-01", "2026-03-02T09:00", "2026-03-02T25:00Z",
                         "2026-3-2",   "2026-03-02Z",      "12abc"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_false(bt_parse_time(bad[i], &ms));

    char week[16];
    bt_iso_week(T0, week);
    assert_string_equal(week, "2026-W10");
    bt_iso_week(T0 - 1, week); /* Sunday 23:59:59.999 */
    assert_string_equal(week, "2026-W09");
    assert_true(bt_parse_time("2021-01-03", &ms)); /* a Sunday: 2020's week 53 */
    bt_iso_week(ms, week);
    assert_string_equal(week, "2020-W53");
    assert_true(bt_parse_time("2024-12-30", &ms)); /* a Monday: 2025's week 1 */
    bt_iso_week(ms, week);
    assert_string_equal(week, "2025-W01");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_differences),
        cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_repeated_handoffs),
        cmocka_unit_test(test_times),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
