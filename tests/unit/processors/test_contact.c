/* Stage 2: dedupe, lifecycle, qualification and the handoff payload. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "processors/contact/contact.h"
#include "testkit.h"

#define NOW_MS (TK_T0 + 400 * TK_DAY_MS) /* wall time, unrelated to event time */

typedef struct fixture {
    hf_rules_t *rules;
    contact_state_t *s;
    tk_rec_t rec;
    hf_sink_t sink;
    int seq;
} fixture_t;

static int setup(void **state)
{
    static fixture_t f;
    f = (fixture_t){0};
    f.rules = tk_rules_new();
    f.s = contact_state_new("c-1");
    f.sink = tk_sink(&f.rec);
    *state = &f;
    return f.s ? 0 : -1;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    tk_rec_clear(&f->rec);
    contact_state_free(f->s);
    hf_rules_free(f->rules);
    return 0;
}

static int fold(fixture_t *f, const hf_event_t *ev)
{
    return contact_fold(f->s, ev, f->rules, NOW_MS, &f->sink);
}

static void visit_url(fixture_t *f, int64_t at_ms, const char *url)
{
    char id[32];
    snprintf(id, sizeof id, "v-%d", f->seq++);
    hf_event_t ev = tk_visit(id, at_ms, NULL, "c-1", "s-1", url, NULL);
    assert_int_equal(fold(f, &ev), CONTACT_FOLD_APPLIED);
}

static void visit(fixture_t *f, int64_t at_ms)
{
    visit_url(f, at_ms, "/blog");
}

static hf_buf_t encode(const contact_state_t *s)
{
    hf_buf_t b = HF_BUF_INIT;
    assert_int_equal(contact_state_encode(s, &b), 0);
    return b;
}

static void test_repeat_changes_nothing(void **state)
{
    fixture_t *f = *state;
    tk_score_rule(f->rules, "visit", 10);
    tk_contact_rule(f->rules, "mql", 30, NULL, 0, NULL);
    hf_event_t a = tk_visit("dup", TK_T0, NULL, "c-1", "s", "/a", "A");
    assert_int_equal(fold(f, &a), CONTACT_FOLD_APPLIED);
    visit(f, TK_T0 + 1);
    size_t changes = f->rec.change_count;
    hf_buf_t before = encode(f->s);
    /* the repeat, even at another time and with another payload, is dropped whole */
    hf_event_t again = tk_visit("dup", TK_T0 + 2, NULL, "c-1", "s2", "/b", "B");
    assert_int_equal(fold(f, &again), CONTACT_FOLD_DUPLICATE);
    assert_int_equal(fold(f, &a), CONTACT_FOLD_DUPLICATE);
    hf_buf_t after = encode(f->s);
    assert_int_equal(before.len, after.len);
    assert_memory_equal(before.data, after.data, before.len);
    assert_int_equal(f->rec.change_count, changes);
    assert_int_equal(f->rec.handoff_count, 0);
    assert_float_equal(contact_state_score(f->s, f->rules, 0), 20, 1e-12);
    visit(f, TK_T0 + 3); /* a new id still counts, and qualifies */
    assert_int_equal(f->rec.handoff_count, 1);
    hf_buf_free(&before);
    hf_buf_free(&after);
}

static void test_dedupe_bounds(void **state)
{
    fixture_t *f = *state;
    tk_score_rule(f->rules, "visit", 1);
    f->rules->dedupe.max_ids = 2;
    hf_event_t e1 = tk_visit("e1", TK_T0 + 1, NULL, "c-1", "s", "/", NULL);
    hf_event_t e2 = tk_visit("e2", TK_T0 + 2, NULL, "c-1", "s", "/", NULL);
    hf_event_t e3 = tk_visit("e3", TK_T0 + 3, NULL, "c-1", "s", "/", NULL);
    assert_int_equal(fold(f, &e2), CONTACT_FOLD_APPLIED);
    assert_int_equal(fold(f, &e1), CONTACT_FOLD_APPLIED);
    /* forgets e2, the first seen (ids age from when they were seen, not from when
     * they happened) */
    assert_int_equal(fold(f, &e3), CONTACT_FOLD_APPLIED);
    assert_int_equal(fold(f, &e1), CONTACT_FOLD_DUPLICATE);
    assert_int_equal(fold(f, &e3), CONTACT_FOLD_DUPLICATE);
    assert_int_equal(fold(f, &e2), CONTACT_FOLD_APPLIED);

    /* by age, in processing time: an id seen more than the window ago is
     * forgotten, whenever the event itself happened */
    f->rules->dedupe.max_ids = 100;
    f->rules->dedupe.window_ms = TK_HOUR_MS;
    hf_event_t old = tk_visit("old", TK_T0 + 10, NULL, "c-1", "s", "/", NULL);
    hf_event_t newer = tk_visit("new", TK_T0 + 10 + TK_HOUR_MS, NULL, "c-1", "s", "/", NULL);
    hf_event_t newest = tk_visit("newest", TK_T0 + 11 + TK_HOUR_MS, NULL, "c-1", "s", "/", NULL);
    int64_t seen = NOW_MS + 1000;
    assert_int_equal(contact_fold(f->s, &old, f->rules, seen, &f->sink), CONTACT_FOLD_APPLIED);
    assert_int_equal(contact_fold(f->s, &newer, f->rules, seen + 1, &f->sink),
                     CONTACT_FOLD_APPLIED);
    /* exactly the window after it was seen: kept */
    assert_int_equal(contact_fold(f->s, &old, f->rules, seen + TK_HOUR_MS, &f->sink),
                     CONTACT_FOLD_DUPLICATE);
    assert_int_equal(contact_fold(f->s, &newest, f->rules, seen + TK_HOUR_MS + 1, &f->sink),
                     CONTACT_FOLD_APPLIED);
    /* now one ms too old */
    assert_int_equal(contact_fold(f->s, &old, f->rules, seen + TK_HOUR_MS + 1, &f->sink),
                     CONTACT_FOLD_APPLIED);

    /* An event that happened long before the window but is re-sent soon after it
     * was first seen (a stitched replay sent again across a crash) is a repeat. */
    hf_event_t ancient = tk_visit("ancient", TK_T0 - 30 * TK_HOUR_MS, NULL, "c-1", "s", "/", NULL);
    assert_int_equal(contact_fold(f->s, &ancient, f->rules, seen + 2 * TK_HOUR_MS, &f->sink),
                     CONTACT_FOLD_APPLIED);
    assert_int_equal(contact_fold(f->s, &ancient, f->rules, seen + 2 * TK_HOUR_MS + 5, &f->sink),
                     CONTACT_FOLD_DUPLICATE);
}

/* Sales activity moves the lifecycle (test_sla.c has every transition), never the
 * journey or the score; a repeat is dropped. */
static void test_sales_activity_moves_lifecycle_only(void **state)
{
    fixture_t *f = *state;
    tk_score_rule(f->rules, "anything", 10);
    hf_event_t sales = {.kind = HF_EV_SALES,
                        .event_id = "s1",
                        .occurred_at_ms = TK_T0,
                        .entity_type = HF_ENTITY_CONTACT,
                        .entity_id = "c-1",
                        .sales_action = HF_SALES_CONTACTED};
    assert_int_equal(fold(f, &sales), CONTACT_FOLD_APPLIED);
    assert_int_equal(fold(f, &sales), CONTACT_FOLD_DUPLICATE);
    assert_float_equal(contact_state_score(f->s, f->rules, 0), 0, 1e-12);
    assert_int_equal(contact_state_last_event_ms(f->s), 0);
    /* a contact attempt without a handoff accepts the lead all the same */
    assert_int_equal(f->rec.change_count, 1);
    assert_int_equal(contact_state_stage(f->s), HF_STAGE_ACCEPTED);
}

static void test_lifecycle_emissions(void **state)
{
    fixture_t *f = *state;
    f->rules->lifecycle.engaged_score = 30;
    tk_score_rule(f->rules, "visit", 10);
    assert_int_equal(contact_state_stage(f->s), HF_STAGE_KNOWN);
    visit(f, TK_T0);
    assert_int_equal(f->rec.change_count, 1);
    assert_string_equal(f->rec.changes[0].entity_id, "c-1");
    assert_string_equal(f->rec.changes[0].from, "anonymous");
    assert_string_equal(f->rec.changes[0].to, "known");
    assert_string_equal(f->rec.changes[0].cause, "first seen: web_visit");
    assert_int_equal(f->rec.changes[0].at_ms, TK_T0);
    visit(f, TK_T0 + 1);
    assert_int_equal(f->rec.change_count, 1);
    visit(f, TK_T0 + 2);
    assert_int_equal(f->rec.change_count, 2);
    assert_string_equal(f->rec.changes[1].from, "known");
    assert_string_equal(f->rec.changes[1].to, "engaged");
    assert_string_equal(f->rec.changes[1].cause, "score 30 >= engaged_score 30");
    assert_int_equal(f->rec.changes[1].at_ms, TK_T0 + 2);
    assert_int_equal(contact_state_stage(f->s), HF_STAGE_ENGAGED);
    visit(f, TK_T0 + 3);
    assert_int_equal(f->rec.change_count, 2);
    assert_int_equal(f->rec.handoff_count, 0);
}

static void test_qualify_by_score_once_per_cycle(void **state)
{
    fixture_t *f = *state;
    f->rules->lifecycle.engaged_score = 20;
    tk_score_rule(f->rules, "visit", 10);
    tk_contact_rule(f->rules, "mql", 50, NULL, 0, NULL);
    for (int i = 0; i < 4; i++)
        visit(f, TK_T0 + i);
    assert_int_equal(f->rec.handoff_count, 0);
    assert_false(contact_state_handed_off(f->s));
    visit(f, TK_T0 + 4);
    assert_int_equal(f->rec.handoff_count, 1);
    const tk_handoff_t *h = &f->rec.handoffs[0];
    assert_string_equal(h->rule, "mql");
    assert_int_equal(h->score, 50);
    assert_string_equal(h->stage_before, "engaged");
    assert_int_equal(h->qualified_at_ms, TK_T0 + 4);
    assert_non_null(tk_find_reason(h, "mql", "score 50 >= 50"));
    assert_string_equal(h->reasons[0].rule, "mql");
    assert_int_equal(h->reasons[0].points, 0);
    assert_int_equal(h->reasons[0].count, 0);
    /* lifecycle: anonymous->known, known->engaged, engaged->conversation_ready */
    assert_int_equal(f->rec.change_count, 3);
    assert_string_equal(f->rec.changes[2].from, "engaged");
    assert_string_equal(f->rec.changes[2].to, "conversation_ready");
    assert_string_equal(f->rec.changes[2].cause, "rule mql");
    assert_int_equal(contact_state_stage(f->s), HF_STAGE_CONVERSATION_READY);
    assert_true(contact_state_handed_off(f->s));
    assert_int_equal(contact_state_cycle(f->s), 1);

    /* more qualifying events: no second handoff, no more changes */
    for (int i = 5; i < 10; i++)
        visit(f, TK_T0 + i);
    hf_event_t demo = tk_form("demo", TK_T0 + 20, "a", "c-1", HF_FORM_DEMO_REQUEST);
    tk_hand_raisers(f->rules, "hand_raiser", 1u << HF_FORM_DEMO_REQUEST, false);
    assert_int_equal(fold(f, &demo), CONTACT_FOLD_APPLIED);
    assert_int_equal(f->rec.handoff_count, 1);
    assert_int_equal(f->rec.change_count, 3);
}

static hf_event_t traits_form(const char *id, int64_t at, const char *title, const char *domain)
{
    hf_event_t ev = tk_form(id, at, "a-1", "c-1", HF_FORM_CONTENT_GATE);
    ev.traits.title = title;
    ev.traits.email_domain = domain;
    return ev;
}

static void test_qualify_by_grade(void **state)
{
    fixture_t *f = *state;
    tk_grades(f->rules, "A", 50, "B", 30, "C", 10, "F", 0, NULL);
    tk_globs(&tk_fit_rule(f->rules, "director", 30)->match.title, "*director*", NULL);
    tk_globs(&tk_fit_rule(f->rules, "vp", 50)->match.title, "*vp*", NULL);
    tk_globs(&tk_fit_rule(f->rules, "manager", 10)->match.title, "*manager*", NULL);
    tk_globs(&tk_exclusion(f->rules, "competitor")->match.email_domain, "rival.com", NULL);
    tk_contact_rule(f->rules, "good_fit", 0, "B", 0, NULL);

    hf_event_t c = traits_form("f1", TK_T0, "Manager", NULL);
    assert_int_equal(fold(f, &c), CONTACT_FOLD_APPLIED); /* C */
    hf_event_t ex = traits_form("f2", TK_T0 + 1, "VP Sales", "rival.com");
    assert_int_equal(fold(f, &ex), CONTACT_FOLD_APPLIED); /* A, but excluded */
    assert_int_equal(f->rec.handoff_count, 0);
    assert_string_equal(contact_state_grade(f->s, f->rules), "F");
    hf_event_t ok = traits_form("f3", TK_T0 + 2, "Director", "acme.com");
    assert_int_equal(fold(f, &ok), CONTACT_FOLD_APPLIED); /* B, no longer excluded */
    assert_int_equal(f->rec.handoff_count, 1);
    const tk_handoff_t *h = &f->rec.handoffs[0];
    assert_string_equal(h->rule, "good_fit");
    assert_string_equal(h->fit_grade, "B");
    assert_non_null(tk_find_reason(h, "good_fit", "fit grade B (>= B)"));
    const tk_reason_t *fit = tk_find_reason(h, "fit:director", "title Director");
    assert_non_null(fit);
    assert_int_equal(fit->points, 30);
    assert_int_equal(fit->count, 1);
    assert_null(tk_find_reason(h, "fit:vp", NULL));
}

static void test_qualify_requires_within(void **state)
{
    fixture_t *f = *state;
    hf_score_rule_t *pricing = tk_score_rule(f->rules, "pricing", 10);
    tk_globs(&pricing->match.url, "*/pricing*", NULL);
    pricing->cap_count = 1;
    pricing->cap_period_ms = 30 * TK_DAY_MS;
    tk_score_rule(f->rules, "visit", 5);
    tk_contact_rule(f->rules, "pricing_intent", 25, NULL, 7 * TK_DAY_MS, "pricing", NULL);

    visit_url(f, TK_T0, "/pricing"); /* 15 */
    visit(f, TK_T0 + 8 * TK_DAY_MS); /* 20 */
    visit(f, TK_T0 + 9 * TK_DAY_MS); /* 25, but pricing was 9 days ago */
    assert_int_equal(f->rec.handoff_count, 0);
    /* a capped pricing visit awards nothing from the rule, yet is the behaviour */
    visit_url(f, TK_T0 + 10 * TK_DAY_MS, "/pricing/enterprise"); /* 30 */
    assert_int_equal(f->rec.handoff_count, 1);
    const tk_handoff_t *h = &f->rec.handoffs[0];
    assert_string_equal(h->rule, "pricing_intent");
    assert_int_equal(h->score, 30);
    assert_non_null(tk_find_reason(h, "pricing_intent", "score 30 >= 25"));
    assert_non_null(tk_find_reason(h, "pricing_intent", "pricing within 7d"));
    const tk_reason_t *p = tk_find_reason(h, "pricing", NULL);
    assert_non_null(p);
    assert_int_equal(p->points, 10);
    assert_int_equal(p->count, 1);
    assert_string_equal(p->detail, "2 matches, 1 over cap, last 2026-03-11T00:00:00Z");
}

static void test_excluded_never_qualifies_by_rule(void **state)
{
    fixture_t *f = *state;
    tk_score_rule(f->rules, "visit", 10);
    tk_globs(&tk_exclusion(f->rules, "competitor")->match.email_domain, "rival.com", NULL);
    tk_contact_rule(f->rules, "mql", 20, NULL, 0, NULL);
    hf_event_t form = tk_form("f", TK_T0, "a", "c-1", HF_FORM_NEWSLETTER);
    form.traits.email_domain = "rival.com";
    assert_int_equal(fold(f, &form), CONTACT_FOLD_APPLIED);
    for (int i = 1; i <= 5; i++)
        visit(f, TK_T0 + i);
    assert_float_equal(contact_state_score(f->s, f->rules, 0), 60, 1e-12);
    assert_int_equal(f->rec.handoff_count, 0);
}

static void test_requires_window_looks_back_from_the_event(void **state)
{
    fixture_t *f = *state;
    tk_globs(&tk_score_rule(f->rules, "pricing", 1)->match.url, "*/pricing", NULL);
    tk_score_rule(f->rules, "visit", 10);
    tk_contact_rule(f->rules, "hot", 40, NULL, TK_HOUR_MS, "pricing", NULL);
    visit_url(f, TK_T0, "/pricing");  /* 11 */
    visit(f, TK_T0 + 2 * TK_HOUR_MS); /* 21 */
    visit(f, TK_T0 + 3 * TK_HOUR_MS); /* 31 */
    visit(f, TK_T0 + 4 * TK_HOUR_MS); /* 41, but pricing was 4h before */
    assert_int_equal(f->rec.handoff_count, 0);
    visit(f, TK_T0 + TK_HOUR_MS); /* late, and out of grace: cannot qualify */
    assert_int_equal(f->rec.handoff_count, 0);
    visit_url(f, TK_T0 + 5 * TK_HOUR_MS, "/pricing"); /* 62 */
    assert_int_equal(f->rec.handoff_count, 1);
    assert_int_equal(f->rec.handoffs[0].qualified_at_ms, TK_T0 + 5 * TK_HOUR_MS);
    assert_non_null(tk_find_reason(&f->rec.handoffs[0], "hot", "pricing within 1h"));
}

static void test_requires_holds_for_late_event(void **state)
{
    fixture_t *f = *state;
    f->rules->qualify.grace_ms = 2 * TK_DAY_MS;
    tk_globs(&tk_score_rule(f->rules, "pricing", 1)->match.url, "*/pricing", NULL);
    tk_score_rule(f->rules, "visit", 10);
    tk_contact_rule(f->rules, "hot", 40, NULL, TK_HOUR_MS, "pricing", NULL);
    visit(f, TK_T0);
    visit(f, TK_T0 + 1);
    visit_url(f, TK_T0 + 10 * TK_HOUR_MS, "/pricing"); /* 31 */
    assert_int_equal(f->rec.handoff_count, 0);
    /* late (within grace); pricing matched after its time: recent enough */
    visit(f, TK_T0 + 8 * TK_HOUR_MS); /* 41 */
    assert_int_equal(f->rec.handoff_count, 1);
    assert_int_equal(f->rec.handoffs[0].qualified_at_ms, TK_T0 + 8 * TK_HOUR_MS);
}

static void test_requires_unknown_rule_never_holds(void **state)
{
    fixture_t *f = *state;
    tk_score_rule(f->rules, "visit", 5);
    tk_contact_rule(f->rules, "r", 0, NULL, 0, "no_such_rule", NULL);
    visit(f, TK_T0);
    assert_int_equal(f->rec.handoff_count, 0);
}

static void test_grace_for_late_events(void **state)
{
    fixture_t *f = *state;
    f->rules->qualify.grace_ms = TK_HOUR_MS;
    tk_score_rule(f->rules, "visit", 10);
    tk_contact_rule(f->rules, "mql", 30, NULL, 0, NULL);
    visit(f, TK_T0 + 10 * TK_HOUR_MS);
    visit(f, TK_T0 + 20 * TK_HOUR_MS);
    visit(f, TK_T0 + 18 * TK_HOUR_MS); /* score 30, but 2h late */
    assert_int_equal(f->rec.handoff_count, 0);
    visit(f, TK_T0 + 19 * TK_HOUR_MS); /* 1h late: within grace */
    assert_int_equal(f->rec.handoff_count, 1);
    assert_int_equal(f->rec.handoffs[0].qualified_at_ms, TK_T0 + 19 * TK_HOUR_MS);
    assert_int_equal(f->rec.handoffs[0].score, 40);
}

static void test_grace_zero(void **state)
{
    fixture_t *f = *state;
    tk_score_rule(f->rules, "visit", 10);
    tk_contact_rule(f->rules, "mql", 20, NULL, 0, NULL);
    visit(f, TK_T0 + 10);
    visit(f, TK_T0 + 9); /* 1 ms late */
    assert_int_equal(f->rec.handoff_count, 0);
    visit(f, TK_T0 + 10); /* on time (equal to the newest) */
    assert_int_equal(f->rec.handoff_count, 1);
}

static void test_hand_raisers(void **state)
{
    fixture_t *f = *state;
    tk_hand_raisers(f->rules, "hand_raiser",
                    1u << HF_FORM_DEMO_REQUEST | 1u << HF_FORM_CONTACT_SALES, true);
    tk_grades(f->rules, "A", 50, "F", 0, NULL);
    tk_globs(&tk_exclusion(f->rules, "students")->match.email_domain, "*.edu", NULL);
    tk_contact_rule(f->rules, "never", 1000, NULL, 0, NULL);

    /* a form that is not a hand-raiser */
    hf_event_t news = tk_form("n", TK_T0, "a", "c-1", HF_FORM_NEWSLETTER);
    assert_int_equal(fold(f, &news), CONTACT_FOLD_APPLIED);
    assert_int_equal(f->rec.handoff_count, 0);

    /* excluded, and the rules say exclusions stop hand-raisers */
    hf_event_t demo = tk_form("d1", TK_T0 + 1, "a", "c-1", HF_FORM_DEMO_REQUEST);
    demo.traits.email_domain = "school.edu";
    assert_int_equal(fold(f, &demo), CONTACT_FOLD_APPLIED);
    assert_int_equal(f->rec.handoff_count, 0);

    /* the same with exclusions not applying to hand-raisers */
    f->rules->qualify.hand_raisers_respect_exclusions = false;
    hf_event_t sales = tk_form("d2", TK_T0 + 2, "a", "c-1", HF_FORM_CONTACT_SALES);
    assert_int_equal(fold(f, &sales), CONTACT_FOLD_APPLIED);
    assert_int_equal(f->rec.handoff_count, 1);
    const tk_handoff_t *h = &f->rec.handoffs[0];
    assert_string_equal(h->rule, "hand_raiser");
    assert_string_equal(h->reasons[0].rule, "hand_raiser");
    assert_string_equal(h->reasons[0].detail, "contact_sales form");
    assert_string_equal(h->fit_grade, "F");
    assert_non_null(tk_find_reason(h, "exclusion:students", "email_domain school.edu"));
    assert_string_equal(h->stage_before, "known");
}

static void test_hand_raiser_not_excluded(void **state)
{
    fixture_t *f = *state;
    tk_hand_raisers(f->rules, "demo", 1u << HF_FORM_DEMO_REQUEST, true);
    tk_globs(&tk_exclusion(f->rules, "students")->match.email_domain, "*.edu", NULL);
    hf_event_t demo = tk_form("d1", TK_T0, "a", "c-1", HF_FORM_DEMO_REQUEST);
    demo.traits.email_domain = "acme.com";
    assert_int_equal(fold(f, &demo), CONTACT_FOLD_APPLIED);
    assert_int_equal(f->rec.handoff_count, 1);
    assert_string_equal(f->rec.handoffs[0].rule, "demo");
    assert_string_equal(f->rec.handoffs[0].reasons[0].detail, "demo_request form");
}

static void test_recent_ties_later_fold_first(void **state)
{
    fixture_t *f = *state;
    tk_hand_raisers(f->rules, "hr", 1u << HF_FORM_DEMO_REQUEST, false);
    f->rules->journey.recent_max = 3;
    visit_url(f, TK_T0 + 5, "/first");
    visit_url(f, TK_T0 + 5, "/second");
    visit_url(f, TK_T0 + 1, "/older"); /* falls off the full list at once */
    visit_url(f, TK_T0 + 5, "/third"); /* pushes out /first, the oldest of the ties */
    hf_event_t demo = tk_form("d", TK_T0 + 5, "a", "c-1", HF_FORM_DEMO_REQUEST);
    assert_int_equal(fold(f, &demo), CONTACT_FOLD_APPLIED);
    assert_int_equal(f->rec.handoff_count, 1);
    const tk_handoff_t *h = &f->rec.handoffs[0];
    assert_int_equal(h->recent_count, 3);
    assert_string_equal(h->recent[0].type, "form");
    assert_string_equal(h->recent[1].title, "/third");
    assert_string_equal(h->recent[2].title, "/second");
}

static void test_before_known_only_before_identify(void **state)
{
    fixture_t *f = *state;
    tk_hand_raisers(f->rules, "hr", 1u << HF_FORM_DEMO_REQUEST, false);
    hf_event_t anon1 = tk_visit("a1", TK_T0, "anon", NULL, "s", "/early", NULL);
    hf_event_t anon0 = tk_visit("a0", TK_T0 - 100, "anon", NULL, "s", "/earliest", NULL);
    hf_event_t ident = tk_identify("i", TK_T0 + 10, "anon", "c-1");
    /* anonymous records that arrive after the identify: one dated before it (history)
     * and one after it (the same person, already known) */
    hf_event_t anon2 = tk_visit("a2", TK_T0 + 5, "anon", NULL, "s", "/late-history", NULL);
    hf_event_t anon3 = tk_visit("a3", TK_T0 + 20, "anon", NULL, "s", "/after", NULL);
    hf_event_t demo = tk_form("d", TK_T0 + 30, "anon", "c-1", HF_FORM_DEMO_REQUEST);
    const hf_event_t *all[] = {&anon1, &anon0, &ident, &anon2, &anon3, &demo};
    for (size_t i = 0; i < 6; i++)
        assert_int_equal(fold(f, all[i]), CONTACT_FOLD_APPLIED);
    assert_int_equal(f->rec.handoff_count, 1);
    const tk_handoff_t *h = &f->rec.handoffs[0];
    assert_int_equal(h->known_since_ms, TK_T0 + 10);
    assert_int_equal(h->first_seen_ms, TK_T0 - 100); /* the oldest, though folded late */
    assert_int_equal(h->recent_count, 5);            /* identity records are not touches */
    assert_string_equal(h->recent[1].title, "/after");
    assert_string_equal(h->recent[1].detail, "/after");
    assert_string_equal(h->recent[2].title, "/late-history");
    assert_string_equal(h->recent[2].detail, "before known");
    assert_string_equal(h->recent[3].detail, "before known");
    assert_string_equal(h->recent[4].title, "/earliest");
    assert_string_equal(h->recent[4].detail, "before known");
}

static void test_pages_bounded(void **state)
{
    fixture_t *f = *state;
    tk_hand_raisers(f->rules, "hr", 1u << HF_FORM_DEMO_REQUEST, false);
    f->rules->journey.pages_max = 3;
    f->rules->journey.top_pages = 5;
    visit_url(f, TK_T0 + 40, "/y");
    visit_url(f, TK_T0 + 10, "/x");
    visit_url(f, TK_T0 + 15, "/x"); /* 2 views, but the oldest */
    visit_url(f, TK_T0 + 30, "/v"); /* 1 view like /y, and older */
    visit_url(f, TK_T0 + 60, "/z"); /* evicts /v: fewest views, then least recent */
    hf_event_t demo = tk_form("d", TK_T0 + 90, "a", "c-1", HF_FORM_DEMO_REQUEST);
    assert_int_equal(fold(f, &demo), CONTACT_FOLD_APPLIED);
    const tk_handoff_t *h = &f->rec.handoffs[0];
    assert_int_equal(h->page_views, 5);
    assert_int_equal(h->top_page_count, 3);
    /* most viewed first, then the most recently viewed */
    assert_string_equal(h->top_page_urls[0], "/x");
    assert_int_equal(h->top_page_views[0], 2);
    assert_string_equal(h->top_page_urls[1], "/z");
    assert_string_equal(h->top_page_urls[2], "/y");
}

static void test_sink_errors_propagate(void **state)
{
    fixture_t *f = *state;
    f->rec.fail_with = -EIO;
    hf_event_t v = tk_visit("v", TK_T0, NULL, "c-1", "s", "/", NULL);
    assert_int_equal(fold(f, &v), -EIO); /* the anonymous -> known change */
    f->rec.fail_with = 0;
    tk_hand_raisers(f->rules, "hr", 1u << HF_FORM_DEMO_REQUEST, false);
    f->rec.fail_with = -EPIPE;
    hf_event_t demo = tk_form("d", TK_T0 + 1, "a", "c-1", HF_FORM_DEMO_REQUEST);
    assert_int_equal(fold(f, &demo), -EPIPE);
    /* never a second handoff from the same state, even after a failed emit */
    f->rec.fail_with = 0;
    hf_event_t demo2 = tk_form("d2", TK_T0 + 2, "a", "c-1", HF_FORM_DEMO_REQUEST);
    assert_int_equal(fold(f, &demo2), CONTACT_FOLD_APPLIED);
    assert_int_equal(f->rec.handoff_count, 0);
}

/* The whole payload: anonymous history replayed, then known activity. */
static void test_handoff_payload(void **state)
{
    fixture_t *f = *state;
    hf_rules_t *r = f->rules;
    r->journey.recent_max = 10;
    r->journey.top_pages = 2;
    tk_grades(r, "A", 40, "B", 20, "F", 0, NULL);
    tk_globs(&tk_fit_rule(r, "vp", 40)->match.title, "*vp*", NULL);
    tk_globs(&tk_fit_rule(r, "enterprise", 25)->match.industry, "banking", NULL);
    hf_score_rule_t *pricing = tk_score_rule(r, "pricing", 20);
    tk_globs(&pricing->match.url, "*/pricing", NULL);
    hf_score_rule_t *web = tk_score_rule(r, "web", 2);
    web->match.kinds = 1u << HF_EV_WEB_VISIT;
    tk_globs(&web->match.url, "*/pricing", "*/blog", NULL);
    web->cap_count = 2;
    web->cap_period_ms = TK_DAY_MS;
    hf_score_rule_t *dl = tk_score_rule(r, "download", 15);
    dl->match.kinds = 1u << HF_EV_DOWNLOAD;
    hf_score_rule_t *unsub = tk_score_rule(r, "unsubscribe", -25);
    unsub->match.email_actions = 1u << HF_EMAIL_UNSUBSCRIBED;
    tk_contact_rule(r, "mql", 50, "B", 30 * TK_DAY_MS, "pricing", "download", NULL);

    int64_t d = TK_DAY_MS;
    /* replayed anonymous history: no contact id on the records */
    hf_event_t a1 = tk_visit("a1", TK_T0, "anon-1", NULL, "s-1", "https://x.io/pricing", "Pricing");
    hf_event_t a2 = tk_visit("a2", TK_T0 + 1000, "anon-1", NULL, "s-1", "https://x.io/blog", NULL);
    hf_event_t a3 = tk_visit("a3", TK_T0 + 2000, "anon-1", NULL, "s-1", "https://x.io/pricing",
                             "Pricing & plans");
    /* the identify: the form carries the contact id */
    hf_event_t form = tk_form("f1", TK_T0 + d, "anon-1", "c-1", HF_FORM_CONTENT_GATE);
    form.traits.title = "VP Operations";
    form.traits.account_id = "acct-7";
    form.traits.region = "emea";
    form.traits.email_domain = "acme.com";
    hf_event_t k1 =
        tk_visit("k1", TK_T0 + d + 1000, NULL, "c-1", "s-2", "https://x.io/pricing", NULL);
    hf_event_t del = tk_email("m0", TK_T0 + d + 2000, "c-1", HF_EMAIL_DELIVERED, "spring");
    hf_event_t open = tk_email("m1", TK_T0 + d + 3000, "c-1", HF_EMAIL_OPENED, "spring");
    hf_event_t click = tk_email("m2", TK_T0 + d + 4000, "c-1", HF_EMAIL_CLICKED, "spring");
    hf_event_t unsub_ev = tk_email("m3", TK_T0 + d + 5000, "c-1", HF_EMAIL_UNSUBSCRIBED, "weekly");
    hf_event_t del2 = tk_email("m4", TK_T0 + d + 5500, "c-1", HF_EMAIL_DELIVERED, "promo");
    hf_event_t web1 = tk_webinar("w1", TK_T0 + d + 6000, "c-1", HF_WEBINAR_ATTENDED, 45);
    /* a late anonymous visit: forwarded after the identify, dated before it */
    hf_event_t late =
        tk_visit("a4", TK_T0 + 3000, "anon-1", NULL, "s-1", "https://x.io/docs", "Docs");
    hf_event_t down = tk_download("dl1", TK_T0 + d + 7000, "c-1", "wp-1", "Churn playbook");

    const hf_event_t *all[] = {&a1,    &a2,       &a3,   &form, &k1,   &del, &open,
                               &click, &unsub_ev, &del2, &web1, &late, &down};
    size_t n = sizeof all / sizeof all[0];
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(fold(f, all[i]), CONTACT_FOLD_APPLIED);
        assert_int_equal(f->rec.handoff_count, i + 1 == n ? 1 : 0);
    }
    const tk_handoff_t *h = &f->rec.handoffs[0];
    char id[HF_HANDOFF_ID_SIZE];
    assert_int_equal(hf_handoff_id(id, sizeof id, HF_ENTITY_CONTACT, "c-1", 1), 19);
    assert_string_equal(h->handoff_id, id);
    assert_memory_equal(h->handoff_id, "ho_", 3);
    assert_string_equal(h->entity_id, "c-1");
    assert_string_equal(h->account_id, "acct-7");
    assert_string_equal(h->region, "emea");
    assert_string_equal(h->rule, "mql");
    assert_int_equal(h->qualified_at_ms, TK_T0 + d + 7000);
    assert_int_equal(h->emitted_at_ms, NOW_MS);
    assert_int_equal(h->accept_by_ms, NOW_MS + 4 * TK_HOUR_MS);
    assert_int_equal(h->first_touch_by_ms, NOW_MS + 24 * TK_HOUR_MS);
    /* pricing a1 a3 k1 = 60; web a1 a2 k1 = 6 (a3 over the cap of 2 a day);
     * unsubscribe -25; download 15 */
    assert_int_equal(h->score, 56);
    assert_string_equal(h->fit_grade, "A");
    assert_string_equal(h->stage_before, "known");

    /* reasons: the rule's conditions, contributions by |points|, matching fit rules */
    static const struct {
        const char *rule;
        int32_t points, count;
        const char *detail;
    } want[] = {
        {"mql", 0, 0, "score 56 >= 50"},
        {"mql", 0, 0, "fit grade A (>= B)"},
        {"mql", 0, 0, "pricing within 30d"},
        {"mql", 0, 0, "download within 30d"},
        {"pricing", 60, 3, "3 matches, last 2026-03-02T00:00:01Z"},
        {"unsubscribe", -25, 1, "1 match, last 2026-03-02T00:00:05Z"},
        {"download", 15, 1, "1 match, last 2026-03-02T00:00:07Z"},
        {"web", 6, 3, "4 matches, 1 over cap, last 2026-03-02T00:00:01Z"},
        {"fit:vp", 40, 1, "title VP Operations"},
    };
    assert_int_equal(h->reason_count, sizeof want / sizeof want[0]);
    for (size_t i = 0; i < h->reason_count; i++) {
        assert_string_equal(h->reasons[i].rule, want[i].rule);
        assert_int_equal(h->reasons[i].points, want[i].points);
        assert_int_equal(h->reasons[i].count, want[i].count);
        assert_string_equal(h->reasons[i].detail, want[i].detail);
    }

    /* journey */
    assert_int_equal(h->first_seen_ms, TK_T0);
    assert_true(h->has_known_since);
    assert_int_equal(h->known_since_ms, TK_T0 + d);
    assert_int_equal(h->sessions, 2);
    assert_int_equal(h->page_views, 5);
    assert_int_equal(h->top_page_count, 2);
    assert_string_equal(h->top_page_urls[0], "https://x.io/pricing");
    assert_int_equal(h->top_page_views[0], 3);
    assert_string_equal(h->top_page_urls[1], "https://x.io/docs"); /* 1 view, most recent */
    assert_int_equal(h->top_page_views[1], 1);
    assert_int_equal(h->download_count, 1);
    assert_int_equal(h->webinar_count, 1);
    assert_int_equal(h->email_opens, 1);
    assert_int_equal(h->email_clicks, 1);
    assert_string_equal(h->email_last_campaign, "weekly");

    /* recent: newest first, bounded at 10 (a1, the oldest, fell off); no "delivered" */
    static const struct {
        int64_t at;
        const char *type, *title, *detail;
    } touches[] = {
        {TK_T0 + TK_DAY_MS + 7000, "download", "Churn playbook", "whitepaper"},
        {TK_T0 + TK_DAY_MS + 6000, "webinar", "Churn in practice", "attended, 45 min"},
        {TK_T0 + TK_DAY_MS + 5000, "email", "weekly", "unsubscribed"},
        {TK_T0 + TK_DAY_MS + 4000, "email", "spring", "clicked"},
        {TK_T0 + TK_DAY_MS + 3000, "email", "spring", "opened"},
        {TK_T0 + TK_DAY_MS + 1000, "web_visit", "https://x.io/pricing", "https://x.io/pricing"},
        {TK_T0 + TK_DAY_MS, "form", "form-1", "content_gate"},
        {TK_T0 + 3000, "web_visit", "Docs", "before known"},
        {TK_T0 + 2000, "web_visit", "Pricing & plans", "before known"},
        {TK_T0 + 1000, "web_visit", "https://x.io/blog", "before known"},
    };
    assert_int_equal(h->recent_count, sizeof touches / sizeof touches[0]);
    for (size_t i = 0; i < h->recent_count; i++) {
        assert_int_equal(h->recent[i].at_ms, touches[i].at);
        assert_string_equal(h->recent[i].type, touches[i].type);
        assert_string_equal(h->recent[i].title, touches[i].title);
        assert_string_equal(h->recent[i].detail, touches[i].detail);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_repeat_changes_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dedupe_bounds, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sales_activity_moves_lifecycle_only, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lifecycle_emissions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_qualify_by_score_once_per_cycle, setup, teardown),
        cmocka_unit_test_setup_teardown(test_qualify_by_grade, setup, teardown),
        cmocka_unit_test_setup_teardown(test_qualify_requires_within, setup, teardown),
        cmocka_unit_test_setup_teardown(test_excluded_never_qualifies_by_rule, setup, teardown),
        cmocka_unit_test_setup_teardown(test_requires_window_looks_back_from_the_event, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_requires_holds_for_late_event, setup, teardown),
        cmocka_unit_test_setup_teardown(test_requires_unknown_rule_never_holds, setup, teardown),
        cmocka_unit_test_setup_teardown(test_grace_for_late_events, setup, teardown),
        cmocka_unit_test_setup_teardown(test_grace_zero, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hand_raisers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hand_raiser_not_excluded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_recent_ties_later_fold_first, setup, teardown),
        cmocka_unit_test_setup_teardown(test_before_known_only_before_identify, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pages_bounded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sink_errors_propagate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_handoff_payload, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
