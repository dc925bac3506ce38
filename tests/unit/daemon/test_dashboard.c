/* Unit tests of the dashboard (daemon/dashboard.c): the filter of its query, the
 * counters per day and team and their window, the sums under a filter, the JSON
 * (read back with jansson) and the page's HTML, escaped. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/dashboard.h"
#include "daemon/metrics.h"
#include "tmp_store.h"

#define DAY_MS (24LL * 3600 * 1000)
/* 2026-03-02T09:00:00Z */
#define T0 1772442000000LL

/* ---- the filter ---- */

static void test_filter_parse(void **state)
{
    (void)state;
    dashboard_filter_t f;
    assert_null(dashboard_filter_parse(NULL, &f));
    assert_string_equal(f.team, "");
    assert_int_equal(f.from_day, 0);
    assert_null(
        dashboard_filter_parse("team=na%2Dcommercial+x&from=2026-03-02&to=2026-03-09&x=1", &f));
    assert_string_equal(f.team, "na-commercial x");
    assert_int_equal(f.from_day, 20260302);
    assert_int_equal(f.to_day, 20260309);
    assert_null(dashboard_filter_parse("team=&from=&to=", &f));
    assert_string_equal(f.team, "");
    assert_int_equal(f.to_day, 0);

    f.from_day = 7; /* untouched on a refusal */
    assert_non_null(dashboard_filter_parse("from=2026-13-01", &f));
    assert_non_null(dashboard_filter_parse("from=2026-3-1", &f));
    assert_non_null(dashboard_filter_parse("to=2026-03-0x", &f));
    assert_non_null(dashboard_filter_parse("from=2026-03-09&to=2026-03-02", &f));
    assert_non_null(dashboard_filter_parse("team=a%0Ab", &f)); /* a control character */
    assert_non_null(dashboard_filter_parse("team=a%4", &f));   /* cut short */
    assert_non_null(dashboard_filter_parse("team=%zz", &f));
    char long_team[200] = "team=";
    memset(long_team + 5, 'a', 97);
    assert_non_null(dashboard_filter_parse(long_team, &f));
    assert_int_equal(f.from_day, 7);
    long_team[5 + 96] = 0;
    assert_null(dashboard_filter_parse(long_team, &f));
    assert_int_equal(strlen(f.team), 96);
}

/* ---- counting ---- */

static void test_day(void **state)
{
    (void)state;
    char d[9];
    dashboard_day(d, T0);
    assert_string_equal(d, "20260302");
    dashboard_day(d, T0 + 15 * 3600 * 1000LL - 1); /* 23:59:59.999 */
    assert_string_equal(d, "20260302");
    dashboard_day(d, T0 + 15 * 3600 * 1000LL);
    assert_string_equal(d, "20260303");
    dashboard_day(d, T0 + 365 * DAY_MS);
    assert_string_equal(d, "20270302");
}

/* Every counter of the dashboard's groups of @m into @d, by its full name. */
typedef struct feed {
    dashboard_t *d;
    const char *group;
} feed_t;

static int feed_one(void *opaque, const char *name, uint64_t value)
{
    feed_t *f = opaque;
    char key[300];
    snprintf(key, sizeof key, "%s.%s", f->group, name);
    assert_int_equal(dashboard_add_counter(f->d, key, value), 0);
    return 0;
}

static dashboard_t *dashboard_of(metrics_t *m, const char *query)
{
    dashboard_filter_t f;
    assert_null(dashboard_filter_parse(query, &f));
    dashboard_t *d = dashboard_new(&f);
    assert_non_null(d);
    feed_t a = {d, DASHBOARD_GROUP}, b = {d, DASHBOARD_GROUP_STAGE};
    metrics_each_named(m, DASHBOARD_GROUP, feed_one, &a);
    metrics_each_named(m, DASHBOARD_GROUP_STAGE, feed_one, &b);
    assert_int_equal(dashboard_add_counter(d, "outcome.all|*|handoff", 5), 0); /* not ours */
    return d;
}

static json_t *json_of(const dashboard_t *d, int64_t now_ms)
{
    hf_buf_t out = HF_BUF_INIT;
    assert_int_equal(dashboard_json(d, &out, now_ms, now_ms), 0);
    json_error_t e;
    json_t *j = json_loadb((const char *)out.data, out.len, 0, &e);
    if (!j)
        fail_msg("not JSON: %s: %.*s", e.text, (int)out.len, (const char *)out.data);
    hf_buf_free(&out);
    return j;
}

/* The count of funnel stage @stage, -1 for null. */
static json_int_t stage_count(json_t *j, const char *stage)
{
    size_t i;
    json_t *s;
    json_array_foreach(json_object_get(j, "funnel"), i, s)
    {
        if (strcmp(json_string_value(json_object_get(s, "stage")), stage) == 0) {
            json_t *c = json_object_get(s, "count");
            return json_is_null(c) ? -1 : json_integer_value(c);
        }
    }
    fail_msg("no stage %s", stage);
    return -2;
}

static void count(metrics_t *m, int64_t at, const char *team, const char *name)
{
    assert_int_equal(dashboard_count_outcome(m, at, team, name), 0);
}

/* Two days, two teams: what each filter sums. */
static metrics_t *two_days(void)
{
    metrics_t *m = metrics_new();
    assert_non_null(m);
    for (int i = 0; i < 3; i++)
        assert_int_equal(dashboard_count_stage(m, T0, "contact", "known"), 0);
    assert_int_equal(dashboard_count_stage(m, T0 + DAY_MS, "contact", "known"), 0);
    assert_int_equal(dashboard_count_stage(m, T0 + DAY_MS, "contact", "engaged"), 0);
    assert_int_equal(dashboard_count_stage(m, T0, "account", "engaged"), 0);
    /* day 1: a handoff of team emea, accepted; day 2: one of team apac, rejected */
    count(m, T0, "emea", "all|*|handoff");
    count(m, T0, "emea", "rule|hand_raiser|handoff");
    count(m, T0, "emea", "all|*|accepted");
    count(m, T0, "emea", "rule|hand_raiser|accepted");
    count(m, T0, "emea", "team|emea|sla_met|accept");
    count(m, T0, "emea", "team|emea|time_to_accept|b3");
    count(m, T0 + DAY_MS, "apac", "all|*|handoff");
    count(m, T0 + DAY_MS, "apac", "rule|hand_raiser|handoff");
    count(m, T0 + DAY_MS, "apac", "all|*|rejected|bad timing");
    count(m, T0 + DAY_MS, "apac", "rule|hand_raiser|rejected|bad timing");
    count(m, T0 + DAY_MS, "apac", "team|apac|sla_breached|accept");
    count(m, T0 + DAY_MS, NULL, "all|*|handoff");
    return m;
}

static void test_sums_under_filters(void **state)
{
    (void)state;
    metrics_t *m = two_days();
    dashboard_t *d = dashboard_of(m, NULL);
    json_t *j = json_of(d, T0);
    assert_int_equal(stage_count(j, "known"), 4);
    assert_int_equal(stage_count(j, "engaged"), 1); /* contacts only */
    assert_int_equal(stage_count(j, "conversation_ready"), 3);
    assert_int_equal(stage_count(j, "accepted"), 1);
    json_t *totals = json_object_get(json_object_get(j, "outcomes"), "totals");
    assert_int_equal(json_integer_value(json_object_get(totals, "rejected")), 1);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(totals, "rejected_because"),
                                                        "bad timing")),
                     1);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "exits"), "rejected")),
                     1);
    json_t *days = json_object_get(j, "days");
    assert_string_equal(json_string_value(json_object_get(days, "first")), "2026-03-02");
    assert_string_equal(json_string_value(json_object_get(days, "last")), "2026-03-03");
    /* accepted of handed off: 1 of 3 */
    json_t *acc = json_array_get(json_object_get(j, "funnel"), 3);
    assert_true(fabs(json_real_value(json_object_get(acc, "conversion")) - 1.0 / 3) < 1e-3);
    /* the SLA rows carry their histograms' buckets: [low, high, count] */
    json_t *emea =
        json_array_get(json_object_get(json_object_get(j, "outcomes"), "sla_by_team"), 0);
    assert_string_equal(json_string_value(json_object_get(emea, "team")), "emea");
    json_t *b = json_array_get(json_object_get(emea, "accept_buckets"), 0);
    assert_true(json_number_value(json_array_get(b, 0)) == 3.0);
    assert_true(json_number_value(json_array_get(b, 1)) == 4.0);
    assert_int_equal(json_integer_value(json_array_get(b, 2)), 1);
    json_decref(j);
    dashboard_free(d);

    /* one team: its numbers only; the stages before a handoff have no team */
    d = dashboard_of(m, "team=apac");
    j = json_of(d, T0);
    assert_int_equal(stage_count(j, "known"), -1);
    assert_int_equal(stage_count(j, "conversation_ready"), 1);
    assert_int_equal(stage_count(j, "accepted"), 0);
    assert_string_equal(json_string_value(json_object_get(json_object_get(j, "filter"), "team")),
                        "apac");
    json_decref(j);
    dashboard_free(d);
    d = dashboard_of(m, "team=%28no+team%29");
    j = json_of(d, T0);
    assert_int_equal(stage_count(j, "conversation_ready"), 1);
    json_decref(j);
    dashboard_free(d);

    /* one day */
    d = dashboard_of(m, "from=2026-03-02&to=2026-03-02");
    j = json_of(d, T0);
    assert_int_equal(stage_count(j, "known"), 3);
    assert_int_equal(stage_count(j, "conversation_ready"), 1);
    assert_int_equal(stage_count(j, "accepted"), 1);
    json_decref(j);
    dashboard_free(d);
    d = dashboard_of(m, "from=2026-03-03");
    j = json_of(d, T0);
    assert_int_equal(stage_count(j, "known"), 1);
    assert_int_equal(stage_count(j, "conversation_ready"), 2);
    json_decref(j);
    dashboard_free(d);
    metrics_free(m);
}

static int key_length(void *opaque, const char *name, uint64_t value)
{
    (void)value;
    size_t *longest = opaque;
    if (strlen(name) > *longest)
        *longest = strlen(name);
    return 0;
}

static void test_long_values_fit_a_key(void **state)
{
    (void)state;
    metrics_t *m = metrics_new();
    char name[300], team[200];
    memset(team, 't', sizeof team - 1);
    team[sizeof team - 1] = 0;
    snprintf(name, sizeof name, "rule|%.200s|handoff", team);
    count(m, T0, team, name);
    count(m, T0, "a|b", "all|*|handoff"); /* '|' in a team cannot make another column */
    /* a long value and a long reason: cut, the reason first, still counted as rejected */
    char reason[300];
    snprintf(reason, sizeof reason, "rule|%.90s|rejected|%.150s", team, team);
    count(m, T0, "x", reason);
    /* every key ("dash." and the name) fits the metrics store's 250 bytes */
    size_t longest = 0;
    metrics_each_named(m, DASHBOARD_GROUP, key_length, &longest);
    assert_true(longest > 200 && strlen(DASHBOARD_GROUP ".") + longest <= 250);
    /* a filter names the team as the rules do; it is kept as the counters keep it */
    dashboard_t *d = dashboard_of(m, "team=a%7Cb");
    json_t *j = json_of(d, T0);
    assert_int_equal(stage_count(j, "conversation_ready"), 1);
    json_decref(j);
    dashboard_free(d);
    char query[300];
    snprintf(query, sizeof query, "team=%.96s", team);
    d = dashboard_of(m, query);
    j = json_of(d, T0);
    assert_int_equal(stage_count(j, "conversation_ready"), 0); /* no "all" row counted */
    json_t *rules = json_object_get(json_object_get(j, "outcomes"), "by_rule");
    assert_int_equal(json_array_size(rules), 1);
    json_decref(j);
    dashboard_free(d);
    d = dashboard_of(m, "team=x");
    j = json_of(d, T0);
    rules = json_object_get(json_object_get(j, "outcomes"), "by_rule");
    assert_int_equal(json_array_size(rules), 1);
    json_t *r0 = json_array_get(rules, 0);
    assert_int_equal(strlen(json_string_value(json_object_get(r0, "rule"))), 90);
    assert_int_equal(json_integer_value(json_object_get(r0, "rejected")), 1);
    const char *cut = NULL;
    json_t *v;
    json_object_foreach(json_object_get(r0, "rejected_because"), cut, v) break;
    assert_non_null(cut);
    assert_true(strlen(cut) <= 48 && strlen(cut) > 0);
    json_decref(j);
    dashboard_free(d);
    metrics_free(m);
}

/* ---- the window ---- */

static int count_names(void *opaque, const char *name, uint64_t value)
{
    (void)name, (void)value;
    (*(size_t *)opaque)++;
    return 0;
}

static void test_prune_keeps_the_window(void **state)
{
    (void)state;
    tmp_store_t t;
    tmp_store_open(&t);
    metrics_t *m = metrics_new();
    assert_int_equal(metrics_add_named(m, "outcome", "all|*|handoff", 1), 0);
    count(m, T0, "emea", "all|*|handoff");
    assert_int_equal(dashboard_count_stage(m, T0, "contact", "known"), 0);
    count(m, T0 + (DASHBOARD_DAYS - 1) * DAY_MS, "emea", "all|*|handoff");
    store_batch_t *b = store_batch_new(t.store);
    char err[256];
    /* the first and the newest day are DASHBOARD_DAYS days: nothing goes */
    assert_int_equal(dashboard_prune(m, b), 0);
    metrics_flush(m, b);
    assert_int_equal(store_write(t.store, b, err, sizeof err), 0);
    store_batch_clear(b);

    /* an SLA clock falling due on the wall clock's day, a year ahead of the events
     * (a replayed backlog): it does not move the window */
    count(m, T0 + 365 * DAY_MS, "emea", "team|emea|sla_breached|accept");
    assert_int_equal(dashboard_prune(m, b), 0);

    /* one day more: the first day's counters go, from memory and from the store */
    count(m, T0 + DASHBOARD_DAYS * DAY_MS, "emea", "all|*|handoff");
    assert_int_equal(dashboard_prune(m, b), 2);
    metrics_flush(m, b);
    assert_int_equal(store_write(t.store, b, err, sizeof err), 0);
    store_batch_free(b);
    size_t n = 0;
    metrics_each_named(m, DASHBOARD_GROUP, count_names, &n);
    assert_int_equal(n, 3);
    n = 0;
    metrics_each_named(m, DASHBOARD_GROUP_STAGE, count_names, &n);
    assert_int_equal(n, 0);
    /* the rest is untouched, and still found by name after the slots were rebuilt */
    assert_int_equal(metrics_named(m, "outcome", "all|*|handoff"), 1);
    char day[9], name[64];
    dashboard_day(day, T0 + DASHBOARD_DAYS * DAY_MS);
    snprintf(name, sizeof name, "%s|emea|all|*|handoff", day);
    assert_int_equal(metrics_named(m, DASHBOARD_GROUP, name), 1);
    metrics_free(m);

    /* what a restart loads: the same */
    m = metrics_new();
    assert_int_equal(metrics_load(m, t.store, err, sizeof err), 0);
    n = 0;
    metrics_each_named(m, DASHBOARD_GROUP, count_names, &n);
    assert_int_equal(n, 3);
    n = 0;
    metrics_each_named(m, DASHBOARD_GROUP_STAGE, count_names, &n);
    assert_int_equal(n, 0);
    size_t longest = 0;
    metrics_each_named(m, DASHBOARD_GROUP, key_length, &longest);
    assert_true(longest < 250);
    metrics_free(m);
    tmp_store_remove(&t);
}

/* ---- cases ---- */

static dashboard_case_t a_case(const char *id, const char *team, int64_t due_ms, const char *state)
{
    dashboard_case_t c = {
        .entity_type = "contact",
        .id = id,
        .handoff_id = "ho_1",
        .rule = "hand_raiser",
        .team = team,
        .reason = "form_fill +20 (1x)",
        .interests = {"pricing", "security"},
        .interest_count = 2,
        .opened_ms = T0,
        .clock_count = 1,
    };
    c.clocks[0] = (dashboard_clock_t){.sla = "accept", .state = state, .due_ms = due_ms};
    return c;
}

static void test_cases_bounded_earliest_first(void **state)
{
    (void)state;
    dashboard_filter_t f = {{0}};
    dashboard_t *d = dashboard_new(&f);
    char id[32];
    for (int i = DASHBOARD_CASES_MAX + 50; i > 0; i--) {
        snprintf(id, sizeof id, "c-%03d", i);
        dashboard_case_t c = a_case(id, "emea", T0 + i * 60000LL, i <= 3 ? "breached" : "running");
        assert_int_equal(dashboard_add_case(d, &c), 0);
    }
    dashboard_case_t met = a_case("c-met", "emea", T0, "met");
    assert_int_equal(dashboard_add_case(d, &met), 0); /* nothing left to wait for: not listed */
    json_t *j = json_of(d, T0 + 2 * 60000LL);
    json_t *w = json_object_get(j, "waiting");
    assert_int_equal(json_array_size(w), DASHBOARD_CASES_MAX);
    assert_int_equal(json_integer_value(json_object_get(j, "waiting_total")),
                     DASHBOARD_CASES_MAX + 50);
    json_t *first = json_array_get(w, 0);
    assert_string_equal(json_string_value(json_object_get(first, "id")), "c-001");
    assert_string_equal(json_string_value(json_array_get(json_object_get(first, "interests"), 1)),
                        "security");
    json_t *clock = json_array_get(json_object_get(first, "clocks"), 0);
    assert_true(json_number_value(json_object_get(clock, "seconds_left")) == -60.0);
    assert_string_equal(json_string_value(json_object_get(json_array_get(w, 99), "id")), "c-100");
    /* breaches: the latest due first */
    json_t *br = json_object_get(j, "breaches");
    assert_int_equal(json_array_size(br), 3);
    assert_string_equal(json_string_value(json_object_get(json_array_get(br, 0), "id")), "c-003");
    json_decref(j);
    dashboard_free(d);

    /* a team filter keeps that team's cases */
    assert_null(dashboard_filter_parse("team=apac", &f));
    d = dashboard_new(&f);
    dashboard_case_t c = a_case("c-1", "emea", T0, "running");
    assert_int_equal(dashboard_add_case(d, &c), 0);
    c = a_case("c-2", "apac", T0, "running");
    assert_int_equal(dashboard_add_case(d, &c), 0);
    c = a_case("c-3", NULL, T0, "running");
    assert_int_equal(dashboard_add_case(d, &c), 0);
    j = json_of(d, T0);
    assert_int_equal(json_array_size(json_object_get(j, "waiting")), 1);
    json_decref(j);
    dashboard_free(d);
}

/* ---- HTML ---- */

static char *text_of(hf_buf_t *b)
{
    assert_int_equal(hf_buf_append(b, "", 1), 0);
    return (char *)b->data;
}

static void test_html_escapes_everything(void **state)
{
    (void)state;
    hf_buf_t out = HF_BUF_INIT;
    assert_int_equal(dashboard_html_escape(&out, "<a href=\"x\">&'</a>"), 0);
    assert_string_equal(text_of(&out), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;");
    hf_buf_free(&out);

    metrics_t *m = metrics_new();
    count(m, T0, "<b>team</b>", "all|*|handoff");
    count(m, T0, "<b>team</b>", "rule|<script>alert(1)</script>|handoff");
    count(m, T0, "<b>team</b>", "team|<b>team</b>|sla_met|accept");
    dashboard_t *d = dashboard_of(m, "team=%3Cb%3Eteam%3C%2Fb%3E");
    dashboard_case_t c = a_case("c-<i>", "<b>team</b>", T0 + 60000, "running");
    c.reason = "\"quoted\" & <tagged>";
    assert_int_equal(dashboard_add_case(d, &c), 0);
    assert_int_equal(dashboard_set_instance(d, "127.0.0.1:8686"), 0);
    assert_int_equal(dashboard_html(d, &out,
                                    "<style>@STYLE@</style>@BODY@<script>@SCRIPT@</script>",
                                    "body{}", "var x=1;", NULL, T0, T0),
                     0);
    const char *page = text_of(&out);
    assert_non_null(strstr(page, "<style>body{}</style>"));
    assert_non_null(strstr(page, "<script>var x=1;</script>"));
    assert_null(strstr(page, "<script>alert"));
    assert_null(strstr(page, "<b>team"));
    assert_null(strstr(page, "<i>"));
    assert_non_null(strstr(page, "&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert_non_null(strstr(page, "value=\"&lt;b&gt;team&lt;/b&gt;\""));
    assert_non_null(strstr(page, "&quot;quoted&quot; &amp; &lt;tagged&gt;"));
    /* the number cells the page's script and the browser test read */
    assert_non_null(strstr(page, "data-key=\"funnel.conversation_ready\">1<"));
    assert_non_null(strstr(page, "data-key=\"sla_by_team.&lt;b&gt;team&lt;/b&gt;.accept.met\">1<"));
    assert_non_null(strstr(page, "accept: 1m 00s"));
    hf_buf_free(&out);
    dashboard_free(d);
    metrics_free(m);

    /* no numbers, a notice (the token case) */
    assert_int_equal(dashboard_html(NULL, &out, "@BODY@", "", "", "needs <the> token", T0, T0), 0);
    page = text_of(&out);
    assert_non_null(strstr(page, "needs &lt;the&gt; token"));
    assert_null(strstr(page, "data-key"));
    hf_buf_free(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_filter_parse),
        cmocka_unit_test(test_day),
        cmocka_unit_test(test_sums_under_filters),
        cmocka_unit_test(test_long_values_fit_a_key),
        cmocka_unit_test(test_prune_keeps_the_window),
        cmocka_unit_test(test_cases_bounded_earliest_first),
        cmocka_unit_test(test_html_escapes_everything),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
