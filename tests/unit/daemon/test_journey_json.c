/* daemon/journey_json.c: the JSON the journey lookup answers with, read back with
 * jansson.  States are built through the processors' own folds (the processors'
 * test kits), so the numbers checked here are the ones the pipeline would store. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "daemon/journey_json.h"
#include "tests/unit/processors/samples.h"
#include "processors/account/account_priv.h"
#include "tests/unit/processors/test_account_kit.h"
#include "tests/unit/processors/testkit.h"

#define AS_OF (TK_T0 + 5 * TK_DAY_MS + 123)

/* ---- helpers ---- */

static json_t *parse(const hf_buf_t *b)
{
    json_error_t e;
    json_t *j = json_loadb((const char *)b->data, b->len, 0, &e);
    if (!j)
        fail_msg("not JSON (%s at %d): %.*s", e.text, e.position, (int)b->len,
                 (const char *)b->data);
    return j;
}

/* The value at a path of object keys and array indices: "journey", "top_pages", "#0",
 * "url" ... (NULL-terminated). */
static json_t *at(json_t *j, ...)
{
    va_list ap;
    va_start(ap, j);
    for (const char *k = va_arg(ap, const char *); k && j; k = va_arg(ap, const char *))
        j = k[0] == '#' ? json_array_get(j, (size_t)atoi(k + 1)) : json_object_get(j, k);
    va_end(ap);
    return j;
}

static void assert_str_at(json_t *v, const char *want)
{
    if (!want) {
        assert_true(v && json_is_null(v));
        return;
    }
    assert_true(v && json_is_string(v));
    assert_string_equal(json_string_value(v), want);
}

static void assert_int_at(json_t *v, json_int_t want)
{
    assert_true(v && json_is_integer(v));
    assert_int_equal(json_integer_value(v), want);
}

static const char *iso(int64_t ms, char buf[32])
{
    journey_json_iso8601(buf, ms);
    return buf;
}

/* ---- the writer ---- */

static void test_writer_escapes_and_nests(void **state)
{
    (void)state;
    hf_buf_t b = HF_BUF_INIT;
    journey_json_writer_t w;
    journey_json_init(&w, &b);
    journey_json_object(&w, NULL);
    journey_json_str(&w, "quote", "a\"b\\c\n\t\x01");
    journey_json_str(&w, "utf8", "Gr\xc3\xbc\xc3\x9f \xe2\x82\xac \xf0\x9f\x98\x80");
    /* a lone continuation byte, an overlong '/', a surrogate, a cut sequence */
    journey_json_str(&w, "bad", "x\x80y\xc0\xafz\xed\xa0\x80w\xe2\x82");
    journey_json_str(&w, "none", NULL);
    journey_json_array(&w, "list");
    journey_json_int(&w, NULL, -5);
    journey_json_uint(&w, NULL, 42);
    journey_json_num(&w, NULL, 0.25);
    journey_json_num(&w, NULL, NAN);
    journey_json_bool(&w, NULL, false);
    journey_json_time(&w, NULL, 0);
    journey_json_time(&w, NULL, TK_T0 + 1);
    journey_json_end(&w);
    journey_json_end(&w);
    assert_int_equal(journey_json_finish(&w), 0);

    json_t *j = parse(&b);
    assert_str_at(at(j, "quote", NULL), "a\"b\\c\n\t\x01");
    assert_str_at(at(j, "utf8", NULL), "Gr\xc3\xbc\xc3\x9f \xe2\x82\xac \xf0\x9f\x98\x80");
    /* every invalid byte is one U+FFFD (EF BF BD); the valid ones stay */
    assert_str_at(at(j, "bad", NULL), "x\xef\xbf\xbdy\xef\xbf\xbd\xef\xbf\xbdz\xef\xbf\xbd\xef\xbf"
                                      "\xbd\xef\xbf\xbdw\xef\xbf\xbd\xef\xbf\xbd");
    assert_str_at(at(j, "none", NULL), NULL);
    assert_int_at(at(j, "list", "#0", NULL), -5);
    assert_true(json_is_real(at(j, "list", "#2", NULL)));
    assert_true(json_real_value(at(j, "list", "#2", NULL)) == 0.25);
    assert_true(json_is_null(at(j, "list", "#3", NULL)));
    assert_true(json_is_false(at(j, "list", "#4", NULL)));
    assert_true(json_is_null(at(j, "list", "#5", NULL)));
    assert_str_at(at(j, "list", "#6", NULL), "2026-03-01T00:00:00.001Z");
    assert_int_at(at(j, "list", "#1", NULL), 42);
    json_decref(j);

    /* counters go up to UINT64_MAX (beyond what jansson reads) */
    hf_buf_reset(&b);
    journey_json_init(&w, &b);
    journey_json_uint(&w, NULL, UINT64_MAX);
    assert_int_equal(journey_json_finish(&w), 0);
    assert_int_equal(b.len, strlen("18446744073709551615"));
    assert_memory_equal(b.data, "18446744073709551615", b.len);
    hf_buf_free(&b);
}

static void test_writer_refuses_bad_nesting(void **state)
{
    (void)state;
    hf_buf_t b = HF_BUF_INIT;
    journey_json_writer_t w;
    journey_json_init(&w, &b);
    journey_json_end(&w); /* nothing to end */
    assert_int_equal(journey_json_finish(&w), -EINVAL);

    hf_buf_reset(&b);
    journey_json_init(&w, &b);
    for (int i = 0; i <= JOURNEY_JSON_DEPTH_MAX; i++)
        journey_json_array(&w, NULL);
    assert_int_equal(journey_json_finish(&w), -EINVAL);

    hf_buf_reset(&b);
    journey_json_init(&w, &b);
    journey_json_object(&w, NULL); /* never ended */
    assert_int_equal(journey_json_finish(&w), -EINVAL);
    hf_buf_free(&b);
}

static void test_iso8601(void **state)
{
    (void)state;
    char b[32];
    assert_string_equal(iso(TK_T0, b), "2026-03-01T00:00:00.000Z");
    assert_string_equal(iso(-1, b), "1969-12-31T23:59:59.999Z");
    assert_string_equal(iso(INT64_C(253402300799999), b), "9999-12-31T23:59:59.999Z");
    assert_string_equal(iso(INT64_C(253402300800000), b), "253402300800000ms");
}

/* ---- a contact ---- */

/* c-1 visits /pricing twice and the blog once (pricing 30, blog 10: "mql" at 50 fires
 * on the second pricing visit, at T0 + 2 min), downloads a white paper, and rep-7
 * accepts the handoff at T0 + 10 min.  Wall clock = event time. */
typedef struct contact_fixture {
    hf_rules_t *rules;
    contact_state_t *s;
    tk_rec_t rec;
    char ho[HF_HANDOFF_ID_SIZE];
} contact_fixture_t;

static void fold_at(contact_fixture_t *f, hf_event_t ev)
{
    hf_sink_t sink = tk_sink(&f->rec);
    assert_int_equal(contact_fold(f->s, &ev, f->rules, ev.occurred_at_ms, &sink), 0);
}

static int contact_setup(void **state)
{
    static contact_fixture_t f;
    f = (contact_fixture_t){0};
    f.rules = tk_rules_new();
    tk_globs(&tk_score_rule(f.rules, "pricing", 30)->match.url, "/pricing*", NULL);
    tk_globs(&tk_score_rule(f.rules, "blog", 10)->match.url, "/blog*", NULL);
    tk_contact_rule(f.rules, "mql", 50, NULL, 0, NULL);
    tk_globs(&tk_interest_rule(f.rules, "pricing", 2.0f)->match.url, "/pricing*", NULL);
    f.rules->interests.tracked = 4;
    f.rules->interests.top = 3;
    tk_grades(f.rules, "A", 10, "F", 0, NULL);
    tk_fit_rule(f.rules, "anyone", 20);
    f.s = contact_state_new("c-1");
    assert_non_null(f.s);
    fold_at(&f, tk_visit("e1", TK_T0, "a-1", "c-1", "s1", "/pricing", "Pricing"));
    fold_at(&f, tk_visit("e2", TK_T0 + TK_MINUTE_MS, "a-1", "c-1", "s1", "/blog/x", NULL));
    fold_at(&f,
            tk_visit("e3", TK_T0 + 2 * TK_MINUTE_MS, "a-1", "c-1", "s1", "/pricing", "Pricing"));
    fold_at(&f, tk_download("e4", TK_T0 + 3 * TK_MINUTE_MS, "c-1", "wp-1", "Whitepaper"));
    assert_int_equal(f.rec.handoff_count, 1);
    assert_int_equal(hf_handoff_id(f.ho, sizeof f.ho, HF_ENTITY_CONTACT, "c-1", 1), 19);
    fold_at(&f, tk_sales("e5", TK_T0 + 10 * TK_MINUTE_MS, HF_ENTITY_CONTACT, "c-1",
                         HF_SALES_ACCEPTED, f.ho, "rep-7", NULL));
    *state = &f;
    return 0;
}

static int contact_teardown(void **state)
{
    contact_fixture_t *f = *state;
    contact_state_free(f->s);
    tk_rec_clear(&f->rec);
    tk_rules_free(f->rules);
    return 0;
}

static json_t *render_contact(const contact_fixture_t *f, int64_t now_ms)
{
    hf_buf_t b = HF_BUF_INIT;
    assert_int_equal(journey_json_contact(&b, f->s, f->rules, now_ms, AS_OF), 0);
    json_t *j = parse(&b);
    hf_buf_free(&b);
    return j;
}

static void test_contact_identity_score_and_interests(void **state)
{
    contact_fixture_t *f = *state;
    char t[32];
    json_t *j = render_contact(f, TK_T0 + 10 * TK_MINUTE_MS);
    assert_int_at(at(j, "version", NULL), 1);
    assert_str_at(at(j, "entity_type", NULL), "contact");
    assert_str_at(at(j, "id", NULL), "c-1");
    assert_str_at(at(j, "stage", NULL), "accepted");
    assert_true(json_is_true(at(j, "known", NULL)));
    assert_int_at(at(j, "score", "value", NULL), 70);
    assert_str_at(at(j, "score", "as_of", NULL), iso(TK_T0 + 3 * TK_MINUTE_MS, t));
    /* the handoff's reason order and detail: largest first, words of qualify.c */
    assert_int_equal(json_array_size(at(j, "score", "contributions", NULL)), 2);
    assert_str_at(at(j, "score", "contributions", "#0", "rule", NULL), "pricing");
    assert_int_at(at(j, "score", "contributions", "#0", "points", NULL), 60);
    assert_int_at(at(j, "score", "contributions", "#0", "count", NULL), 2);
    assert_str_at(at(j, "score", "contributions", "#0", "detail", NULL),
                  "2 matches, last 2026-03-01T00:02:00Z");
    assert_str_at(at(j, "score", "contributions", "#1", "rule", NULL), "blog");
    assert_int_at(at(j, "score", "contributions", "#1", "points", NULL), 10);
    assert_str_at(at(j, "fit_grade", NULL), "A");
    assert_int_equal(json_array_size(at(j, "interests", NULL)), 1);
    assert_str_at(at(j, "interests", "#0", "topic", NULL), "pricing");
    assert_true(json_number_value(at(j, "interests", "#0", "weight", NULL)) == 4.0);
    assert_str_at(at(j, "as_of", NULL), iso(AS_OF, t));
    assert_true(json_is_null(at(j, "account", NULL)));
    assert_str_at(at(j, "attribution", "source", NULL), "test"); /* the kit's events' */
    json_decref(j);
}

static void test_contact_journey(void **state)
{
    contact_fixture_t *f = *state;
    char t[32];
    json_t *j = render_contact(f, TK_T0 + 10 * TK_MINUTE_MS);
    json_t *jr = at(j, "journey", NULL);
    assert_str_at(at(jr, "first_seen", NULL), iso(TK_T0, t));
    assert_str_at(at(jr, "known_since", NULL), iso(TK_T0, t));
    assert_str_at(at(jr, "last_seen", NULL), iso(TK_T0 + 3 * TK_MINUTE_MS, t));
    assert_int_at(at(jr, "sessions", NULL), 1);
    assert_int_at(at(jr, "page_views", NULL), 3);
    assert_str_at(at(jr, "top_pages", "#0", "url", NULL), "/pricing");
    assert_str_at(at(jr, "top_pages", "#0", "title", NULL), "Pricing");
    assert_int_at(at(jr, "top_pages", "#0", "views", NULL), 2);
    assert_str_at(at(jr, "top_pages", "#1", "title", NULL), NULL);
    assert_str_at(at(jr, "downloads", "#0", "asset_id", NULL), "wp-1");
    assert_str_at(at(jr, "downloads", "#0", "title", NULL), "Whitepaper");
    assert_str_at(at(jr, "downloads", "#0", "at", NULL), iso(TK_T0 + 3 * TK_MINUTE_MS, t));
    assert_int_equal(json_array_size(at(jr, "webinars", NULL)), 0);
    assert_int_at(at(jr, "email", "opens", NULL), 0);
    assert_str_at(at(jr, "email", "last_campaign", NULL), NULL);
    /* newest first */
    assert_int_equal(json_array_size(at(jr, "recent", NULL)), 4);
    assert_str_at(at(jr, "recent", "#0", "type", NULL), "download");
    assert_str_at(at(jr, "recent", "#0", "title", NULL), "Whitepaper");
    assert_str_at(at(jr, "recent", "#0", "detail", NULL), "whitepaper");
    assert_str_at(at(jr, "recent", "#1", "detail", NULL), "/pricing");
    assert_str_at(at(jr, "recent", "#3", "at", NULL), iso(TK_T0, t));
    json_decref(j);
}

static void test_contact_open_case_and_clocks(void **state)
{
    contact_fixture_t *f = *state;
    char t[32];
    const int64_t opened = TK_T0 + 2 * TK_MINUTE_MS; /* the wall clock at the handoff */
    json_t *j = render_contact(f, TK_T0 + 10 * TK_MINUTE_MS);
    json_t *c = at(j, "open_case", NULL);
    assert_str_at(at(c, "handoff_id", NULL), f->ho);
    assert_str_at(at(c, "rule", NULL), "mql");
    assert_str_at(at(c, "opened_at", NULL), iso(opened, t));
    assert_str_at(at(c, "owner", NULL), "rep-7");
    assert_str_at(at(c, "team", NULL), NULL);
    assert_int_equal(json_array_size(at(c, "clocks", NULL)), 2); /* follow-up is off */
    assert_str_at(at(c, "clocks", "#0", "sla", NULL), "accept");
    assert_str_at(at(c, "clocks", "#0", "due_at", NULL), iso(opened + 4 * TK_HOUR_MS, t));
    assert_str_at(at(c, "clocks", "#0", "state", NULL), "met");
    assert_int_at(at(c, "clocks", "#0", "level", NULL), 0);
    assert_str_at(at(c, "clocks", "#1", "sla", NULL), "first_touch");
    assert_str_at(at(c, "clocks", "#1", "due_at", NULL), iso(opened + 24 * TK_HOUR_MS, t));
    assert_str_at(at(c, "clocks", "#1", "state", NULL), "running");
    assert_str_at(at(j, "lifecycle", "stage", NULL), "accepted");
    assert_int_at(at(j, "lifecycle", "cycle", NULL), 1);
    assert_true(json_is_true(at(j, "lifecycle", "handed_off", NULL)));
    assert_true(json_is_null(at(j, "lifecycle", "recycled", NULL)));
    json_decref(j);

    /* past the first-touch deadline: breached, before and after the breach fired */
    int64_t late = opened + 25 * TK_HOUR_MS;
    j = render_contact(f, late);
    assert_str_at(at(j, "open_case", "clocks", "#1", "state", NULL), "breached");
    assert_int_at(at(j, "open_case", "clocks", "#1", "level", NULL), 0);
    json_decref(j);
    hf_sink_t sink = tk_sink(&f->rec);
    assert_int_equal(contact_sla_fire(f->s, f->rules, late, &sink), 0);
    j = render_contact(f, late);
    assert_str_at(at(j, "open_case", "clocks", "#1", "state", NULL), "breached");
    assert_int_at(at(j, "open_case", "clocks", "#1", "level", NULL), 1);
    assert_str_at(at(j, "open_case", "clocks", "#0", "state", NULL), "met");
    json_decref(j);
}

/* The open case as the dashboard lists it: the same clocks, a one-line reason from
 * the two largest contributions, the top interests. */
static void test_contact_case_for_the_dashboard(void **state)
{
    contact_fixture_t *f = *state;
    const int64_t opened = TK_T0 + 2 * TK_MINUTE_MS;
    dashboard_case_t c;
    char reason[200];
    hf_interest_t interests[DASHBOARD_INTERESTS_MAX];
    assert_int_equal(journey_json_contact_case(f->s, f->rules, TK_T0 + 10 * TK_MINUTE_MS, &c,
                                               reason, sizeof reason, interests),
                     0);
    assert_string_equal(c.entity_type, "contact");
    assert_string_equal(c.id, "c-1");
    assert_string_equal(c.handoff_id, f->ho);
    assert_string_equal(c.rule, "mql");
    assert_string_equal(c.owner, "rep-7");
    assert_null(c.team);
    assert_true(c.accepted);
    assert_int_equal(c.opened_ms, opened);
    assert_int_equal(c.score, 70);
    assert_string_equal(c.reason, "pricing +60 (2\xc3\x97), blog +10 (1\xc3\x97)");
    assert_int_equal(c.interest_count, 1);
    assert_string_equal(c.interests[0], "pricing");
    assert_int_equal(c.clock_count, 2);
    assert_string_equal(c.clocks[0].sla, "accept");
    assert_string_equal(c.clocks[0].state, "met");
    assert_int_equal(c.clocks[0].due_ms, opened + 4 * TK_HOUR_MS);
    assert_int_equal(c.clocks[0].next_due_ms, 0); /* answered */
    assert_string_equal(c.clocks[1].sla, "first_touch");
    assert_string_equal(c.clocks[1].state, "running");
    assert_int_equal(c.clocks[1].next_due_ms, opened + 24 * TK_HOUR_MS);
    /* a short buffer: the reason is cut, never overrun */
    char tiny[8];
    assert_int_equal(
        journey_json_contact_case(f->s, f->rules, TK_T0, &c, tiny, sizeof tiny, interests), 0);
    assert_true(strlen(c.reason) < sizeof tiny);

    /* no open case: 1 */
    contact_state_t *none = contact_state_new("c-2");
    assert_int_equal(
        journey_json_contact_case(none, f->rules, TK_T0, &c, reason, sizeof reason, interests), 1);
    contact_state_free(none);
}

static void test_contact_recycled_gate(void **state)
{
    contact_fixture_t *f = *state;
    char t[32];
    int64_t at_ms = TK_T0 + 20 * TK_MINUTE_MS;
    fold_at(f, tk_sales("e6", at_ms, HF_ENTITY_CONTACT, "c-1", HF_SALES_REJECTED, f->ho, "rep-7",
                        "no budget"));
    json_t *j = render_contact(f, at_ms);
    assert_str_at(at(j, "stage", NULL), "recycled");
    assert_true(json_is_null(at(j, "open_case", NULL)));
    assert_int_at(at(j, "lifecycle", "cycle", NULL), 2);
    assert_true(json_is_false(at(j, "lifecycle", "handed_off", NULL)));
    assert_str_at(at(j, "lifecycle", "recycled", "at", NULL), iso(at_ms, t));
    assert_str_at(at(j, "lifecycle", "recycled", "cooldown_until", NULL),
                  iso(at_ms + 30 * TK_DAY_MS, t));
    assert_int_at(at(j, "lifecycle", "recycled", "new_points_needed", NULL), 10);
    /* the halved score */
    assert_int_at(at(j, "score", "value", NULL), 35);
    json_decref(j);
}

/* A contact with nothing folded: every time it never got is null. */
static void test_contact_empty(void **state)
{
    (void)state;
    hf_rules_t *rules = tk_rules_new();
    contact_state_t *s = contact_state_new("c-0");
    hf_buf_t b = HF_BUF_INIT;
    assert_int_equal(journey_json_contact(&b, s, rules, TK_T0, AS_OF), 0);
    json_t *j = parse(&b);
    assert_true(json_is_null(at(j, "score", "as_of", NULL)));
    assert_int_at(at(j, "score", "value", NULL), 0);
    assert_int_equal(json_array_size(at(j, "score", "contributions", NULL)), 0);
    assert_true(json_is_null(at(j, "journey", "first_seen", NULL)));
    assert_true(json_is_null(at(j, "journey", "known_since", NULL)));
    assert_true(json_is_null(at(j, "open_case", NULL)));
    assert_true(json_is_false(at(j, "known", NULL)));
    json_decref(j);
    hf_buf_free(&b);
    contact_state_free(s);
    tk_rules_free(rules);
}

/* The processors' sample: anonymous history, caps, an account and its roster. */
static void test_contact_sample_with_account(void **state)
{
    (void)state;
    hf_rules_t *rules = samples_rules_new();
    tk_rec_t rec = {0};
    contact_state_t *s = samples_contact_new(rules, &rec);
    hf_buf_t b = HF_BUF_INIT;
    assert_int_equal(journey_json_contact(&b, s, rules, TK_T0 + 30 * TK_DAY_MS, AS_OF), 0);
    json_t *j = parse(&b);
    assert_str_at(at(j, "account", "id", NULL), "acct-1");
    assert_str_at(at(j, "account", "role", NULL), contact_state_role(s, rules));
    assert_str_at(at(j, "account", "buying_group", "#0", "contact_id", NULL), "c-2");
    assert_str_at(at(j, "account", "buying_group", "#1", "contact_id", NULL), "c-3");
    assert_true(json_array_size(at(j, "account", "roles_covered", NULL)) > 0);
    /* anonymous history first: known later than first seen */
    char t[32];
    assert_str_at(at(j, "journey", "first_seen", NULL), iso(TK_T0, t));
    assert_str_at(at(j, "journey", "known_since", NULL), iso(TK_T0 + 2 * TK_HOUR_MS, t));
    /* the rule was capped: the detail counts the matches over the cap */
    json_t *c0 = at(j, "score", "contributions", "#0", NULL);
    assert_str_at(at(c0, "rule", NULL), "pricing");
    assert_non_null(strstr(json_string_value(at(c0, "detail", NULL)), "over cap"));
    json_decref(j);
    hf_buf_free(&b);
    contact_state_free(s);
    tk_rec_clear(&rec);
    tk_rules_free(rules);
}

/* ---- an account ---- */

/* The processors' sample account: c-1 decision maker (45.5 x 3), c-2 champion (60 x
 * 2), c-3 user (10, not engaged), c-4 left; handed off under "buying_group". */
static void test_account_buying_group_and_case(void **state)
{
    (void)state;
    char t[32], ho[HF_HANDOFF_ID_SIZE];
    hf_rules_t *rules = ta_sample_rules_new();
    tk_rec_t rec = {0};
    account_state_t *s = ta_sample_account_new(rules, &rec);
    hf_buf_t b = HF_BUF_INIT;
    assert_int_equal(journey_json_account(&b, s, rules, TK_T0 + 400 * TK_DAY_MS, AS_OF), 0);
    json_t *j = parse(&b);
    assert_int_at(at(j, "version", NULL), 1);
    assert_str_at(at(j, "entity_type", NULL), "account");
    assert_str_at(at(j, "id", NULL), "acct-1");
    assert_str_at(at(j, "stage", NULL), "conversation_ready");
    assert_int_at(at(j, "score", "value", NULL), 267); /* 136.5 + 120 + 10 */
    assert_str_at(at(j, "score", "as_of", NULL), iso(TK_T0 + 2 * TK_DAY_MS + TK_HOUR_MS, t));
    assert_str_at(at(j, "fit_grade", NULL), "B"); /* software 20 + tier 1's 10 */
    assert_int_at(at(j, "tier", NULL), 1);
    assert_int_at(at(j, "member_count", NULL), 3);
    assert_int_at(at(j, "engaged_count", NULL), 2);

    json_t *bg = at(j, "buying_group", NULL);
    assert_int_equal(json_array_size(bg), 2);
    assert_str_at(at(bg, "#0", "contact_id", NULL), "c-1");
    assert_str_at(at(bg, "#0", "role", NULL), "decision_maker");
    assert_int_at(at(bg, "#0", "score", NULL), 46);
    assert_int_at(at(bg, "#0", "weighted_score", NULL), 137);
    assert_true(json_number_value(at(bg, "#0", "weight", NULL)) == 3.0);
    assert_str_at(at(bg, "#0", "last_active", NULL), iso(TK_T0 + 2 * TK_DAY_MS, t));
    assert_str_at(at(bg, "#0", "placed_by", NULL), "role rule");
    /* which rule and what matched, as stage 2 sent it; c-2's update carried none */
    assert_str_at(at(bg, "#0", "placement", NULL),
                  "role rule 1 (decision_maker): title \"VP Finance\" matched \"*vp*\"");
    assert_str_at(at(bg, "#1", "contact_id", NULL), "c-2");
    assert_str_at(at(bg, "#1", "role", NULL), "champion");
    assert_str_at(at(bg, "#1", "placement", NULL), NULL);
    assert_str_at(at(j, "roles_covered", "#0", NULL), "decision_maker");
    assert_str_at(at(j, "roles_covered", "#1", NULL), "champion");

    assert_int_equal(hf_handoff_id(ho, sizeof ho, HF_ENTITY_ACCOUNT, "acct-1", 1), 19);
    assert_str_at(at(j, "open_case", "handoff_id", NULL), ho);
    assert_str_at(at(j, "open_case", "rule", NULL), "buying_group");
    assert_str_at(at(j, "open_case", "opened_at", NULL), iso(TK_T0 + 400 * TK_DAY_MS, t));
    assert_str_at(at(j, "open_case", "team", NULL), "emea");
    assert_str_at(at(j, "open_case", "clocks", "#0", "state", NULL), "running");
    assert_str_at(at(j, "as_of", NULL), iso(AS_OF, t));
    assert_int_equal(json_array_size(at(j, "products", NULL)), 0);
    json_decref(j);

    /* a product it has, and one raised for expansion (its own case) */
    account_product_t *p = calloc(2, sizeof *p);
    assert_non_null(p);
    p[0] = (account_product_t){.product = strdup("crm"),
                               .owned = true,
                               .owned_at_ms = TK_T0,
                               .cycle = 1,
                               .stage = HF_STAGE_CUSTOMER};
    p[1] = (account_product_t){.product = strdup("analytics"),
                               .cycle = 1,
                               .handed_off = true,
                               .raised_at_ms = TK_T0 + TK_DAY_MS,
                               .stage = HF_STAGE_CONVERSATION_READY};
    p[1].sla.handoff_id = strdup("ho_00000000000000aa");
    p[1].sla.rule = strdup("expand");
    s->products = p;
    s->product_count = 2;
    hf_buf_reset(&b);
    assert_int_equal(journey_json_account(&b, s, rules, TK_T0 + 400 * TK_DAY_MS, AS_OF), 0);
    j = parse(&b);
    assert_str_at(at(j, "products", "#0", "product", NULL), "crm");
    assert_true(json_is_true(at(j, "products", "#0", "owned", NULL)));
    assert_str_at(at(j, "products", "#0", "owned_at", NULL), iso(TK_T0, t));
    assert_true(json_is_null(at(j, "products", "#0", "open_case", NULL)));
    assert_str_at(at(j, "products", "#1", "product", NULL), "analytics");
    assert_true(json_is_false(at(j, "products", "#1", "owned", NULL)));
    assert_int_at(at(j, "products", "#1", "expansion_cycle", NULL), 1);
    assert_str_at(at(j, "products", "#1", "stage", NULL), "conversation_ready");
    assert_str_at(at(j, "products", "#1", "raised_at", NULL), iso(TK_T0 + TK_DAY_MS, t));
    assert_str_at(at(j, "products", "#1", "open_case", "handoff_id", NULL), "ho_00000000000000aa");
    assert_str_at(at(j, "products", "#1", "open_case", "rule", NULL), "expand");
    json_decref(j);
    hf_buf_free(&b);
    account_state_free(s);
    tk_rec_clear(&rec);
    tk_rules_free(rules);
}

/* A member whose role is the default one, and one whose role no rule gives any more. */
static void test_account_placed_by(void **state)
{
    (void)state;
    hf_rules_t *rules = ta_sample_rules_new();
    tk_rec_t rec = {0};
    account_state_t *s = account_state_new("acct-2");
    hf_sink_t sink = tk_sink(&rec);
    hf_member_update_t u = ta_update("c-7", 1, TK_T0, 50, "user");
    u.account_id = "acct-2";
    assert_int_equal(account_fold_member(s, &u, rules, TK_T0, &sink), 0);
    u = ta_update("c-8", 1, TK_T0, 40, "influencer");
    u.account_id = "acct-2";
    assert_int_equal(account_fold_member(s, &u, rules, TK_T0, &sink), 0);
    hf_buf_t b = HF_BUF_INIT;
    assert_int_equal(journey_json_account(&b, s, rules, TK_T0, AS_OF), 0);
    json_t *j = parse(&b);
    assert_str_at(at(j, "buying_group", "#0", "contact_id", NULL), "c-7");
    assert_str_at(at(j, "buying_group", "#0", "placed_by", NULL), "default role");
    assert_str_at(at(j, "buying_group", "#1", "contact_id", NULL), "c-8");
    assert_str_at(at(j, "buying_group", "#1", "placed_by", NULL), NULL);
    json_decref(j);
    hf_buf_free(&b);
    account_state_free(s);
    tk_rec_clear(&rec);
    tk_rules_free(rules);
}

/* ---- a merged contact ---- */

static void test_merged(void **state)
{
    (void)state;
    char t[32];
    hf_buf_t b = HF_BUF_INIT;
    assert_int_equal(
        journey_json_merged(&b, "c-old", "c-mid", "c-new", "/v1/contacts/c-new", AS_OF), 0);
    json_t *j = parse(&b);
    assert_int_at(at(j, "version", NULL), 1);
    assert_str_at(at(j, "id", NULL), "c-old");
    assert_str_at(at(j, "merged_into", NULL), "c-mid");
    assert_str_at(at(j, "survivor", NULL), "c-new");
    assert_str_at(at(j, "location", NULL), "/v1/contacts/c-new");
    assert_str_at(at(j, "as_of", NULL), iso(AS_OF, t));
    json_decref(j);
    hf_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_writer_escapes_and_nests),
        cmocka_unit_test(test_writer_refuses_bad_nesting),
        cmocka_unit_test(test_iso8601),
        cmocka_unit_test_setup_teardown(test_contact_identity_score_and_interests, contact_setup,
                                        contact_teardown),
        cmocka_unit_test_setup_teardown(test_contact_journey, contact_setup, contact_teardown),
        cmocka_unit_test_setup_teardown(test_contact_open_case_and_clocks, contact_setup,
                                        contact_teardown),
        cmocka_unit_test_setup_teardown(test_contact_case_for_the_dashboard, contact_setup,
                                        contact_teardown),
        cmocka_unit_test_setup_teardown(test_contact_recycled_gate, contact_setup,
                                        contact_teardown),
        cmocka_unit_test(test_contact_empty),
        cmocka_unit_test(test_contact_sample_with_account),
        cmocka_unit_test(test_account_buying_group_and_case),
        cmocka_unit_test(test_account_placed_by),
        cmocka_unit_test(test_merged),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
