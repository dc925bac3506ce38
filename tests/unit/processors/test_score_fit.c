/* Behaviour score (decay, caps, floor, overall cap, late events) and fit grades. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "processors/contact/contact.h"
#include "testkit.h"

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

/* Folds a visit at @at_ms with a fresh event id. */
static void visit(fixture_t *f, int64_t at_ms)
{
    char id[32];
    snprintf(id, sizeof id, "v-%d", f->seq++);
    hf_event_t ev = tk_visit(id, at_ms, NULL, "c-1", "s", "/pricing", "Pricing");
    assert_int_equal(contact_fold(f->s, &ev, f->rules, at_ms, &f->sink), CONTACT_FOLD_APPLIED);
}

static void fold(fixture_t *f, const hf_event_t *ev)
{
    assert_int_equal(contact_fold(f->s, ev, f->rules, ev->occurred_at_ms, &f->sink),
                     CONTACT_FOLD_APPLIED);
}

/* The formula of processors/journey/score.h, written again here as the oracle. */
typedef struct model {
    double s;
    int64_t t_ref;
    int has_ref;
    int64_t half_life_ms;
    double lo, hi;
} model_t;

static double model_clamp(const model_t *m, double v)
{
    return v < m->lo ? m->lo : v > m->hi ? m->hi : v;
}

static void model_award(model_t *m, int64_t t, double p)
{
    double hl = (double)m->half_life_ms;
    if (!m->has_ref || t >= m->t_ref) {
        if (m->has_ref)
            m->s *= pow(2.0, -(double)(t - m->t_ref) / hl);
        m->t_ref = t;
        m->has_ref = 1;
        m->s = model_clamp(m, m->s + p);
    } else {
        m->s = model_clamp(m, m->s + p * pow(2.0, -(double)(m->t_ref - t) / hl));
    }
}

static double model_at(const model_t *m, int64_t t)
{
    return m->s * pow(2.0, -(double)(t - m->t_ref) / (double)m->half_life_ms);
}

static void test_decay_exact(void **state)
{
    fixture_t *f = *state;
    f->rules->scoring.half_life_ms = TK_DAY_MS;
    tk_score_rule(f->rules, "visit", 10);
    model_t m = {.half_life_ms = TK_DAY_MS, .lo = 0, .hi = 1000};
    const int64_t at[] = {0, TK_DAY_MS, 3 * TK_DAY_MS, 3 * TK_DAY_MS + 7 * TK_HOUR_MS};
    for (size_t i = 0; i < 4; i++) {
        visit(f, TK_T0 + at[i]);
        model_award(&m, TK_T0 + at[i], 10);
        assert_float_equal(contact_state_score(f->s, f->rules, TK_T0 + at[i]),
                           model_at(&m, TK_T0 + at[i]), 1e-9);
    }
    double at4 = contact_state_score(f->s, f->rules, TK_T0 + 10 * TK_DAY_MS);
    assert_float_equal(at4, model_at(&m, TK_T0 + 10 * TK_DAY_MS), 1e-9);
    /* asked before the newest event: the newest event's time is used */
    assert_float_equal(contact_state_score(f->s, f->rules, TK_T0), model_at(&m, TK_T0 + at[3]),
                       1e-9);
}

static void test_decay_hand_values(void **state)
{
    fixture_t *f = *state;
    f->rules->scoring.half_life_ms = TK_DAY_MS;
    tk_score_rule(f->rules, "visit", 10);
    visit(f, TK_T0);
    assert_float_equal(contact_state_score(f->s, f->rules, TK_T0), 10.0, 1e-12);
    visit(f, TK_T0 + TK_DAY_MS);
    assert_float_equal(contact_state_score(f->s, f->rules, TK_T0 + TK_DAY_MS), 15.0, 1e-12);
    visit(f, TK_T0 + 3 * TK_DAY_MS);
    assert_float_equal(contact_state_score(f->s, f->rules, TK_T0 + 3 * TK_DAY_MS), 13.75, 1e-12);
    assert_float_equal(contact_state_score(f->s, f->rules, TK_T0 + 4 * TK_DAY_MS), 6.875, 1e-12);
    /* half_life 0: no decay at all */
    f->rules->scoring.half_life_ms = 0;
    assert_float_equal(contact_state_score(f->s, f->rules, TK_T0 + 400 * TK_DAY_MS), 13.75, 1e-12);
}

static void test_frequency_cap(void **state)
{
    fixture_t *f = *state;
    hf_score_rule_t *r = tk_score_rule(f->rules, "pricing", 10);
    r->cap_count = 2;
    r->cap_period_ms = TK_DAY_MS;
    tk_score_rule(f->rules, "any", 1); /* uncapped, counts every event */
    for (int h = 0; h < 5; h++)
        visit(f, TK_T0 + h * TK_HOUR_MS);
    /* 2 awards of 10, 3 capped; 5 of 1 */
    assert_float_equal(contact_state_score(f->s, f->rules, 0), 25, 1e-12);
    /* (t - 1d, t] at t = 24h30m holds the 1h award only: one more allowed */
    visit(f, TK_T0 + 24 * TK_HOUR_MS + 30 * TK_MINUTE_MS);
    assert_float_equal(contact_state_score(f->s, f->rules, 0), 36, 1e-12);
    visit(f, TK_T0 + 24 * TK_HOUR_MS + 40 * TK_MINUTE_MS);
    assert_float_equal(contact_state_score(f->s, f->rules, 0), 37, 1e-12);
    /* exactly one period after the 24h30m award it has left the window (open bound) */
    visit(f, TK_T0 + 48 * TK_HOUR_MS + 30 * TK_MINUTE_MS);
    assert_float_equal(contact_state_score(f->s, f->rules, 0), 48, 1e-12);
}

static void test_cap_window_is_open_at_its_start(void **state)
{
    fixture_t *f = *state;
    hf_score_rule_t *r = tk_score_rule(f->rules, "daily", 10);
    r->cap_count = 1;
    r->cap_period_ms = TK_DAY_MS;
    visit(f, TK_T0);                 /* award */
    visit(f, TK_T0 + TK_DAY_MS - 1); /* capped: the award lies in (t - 1d, t] */
    assert_float_equal(contact_state_score(f->s, f->rules, 0), 10, 1e-12);
    visit(f, TK_T0 + TK_DAY_MS); /* the award at T0 is exactly one period back: out */
    assert_float_equal(contact_state_score(f->s, f->rules, 0), 20, 1e-12);
    visit(f, TK_T0 + 2 * TK_DAY_MS - 1); /* capped again */
    assert_float_equal(contact_state_score(f->s, f->rules, 0), 20, 1e-12);
}

static void test_lifetime_cap(void **state)
{
    fixture_t *f = *state;
    hf_score_rule_t *r = tk_score_rule(f->rules, "once", 7);
    r->cap_count = 1;
    r->cap_period_ms = 0;
    for (int d = 0; d < 4; d++)
        visit(f, TK_T0 + d * 30 * TK_DAY_MS);
    assert_float_equal(contact_state_score(f->s, f->rules, 0), 7, 1e-12);
}

static void test_negative_points_and_floor(void **state)
{
    fixture_t *f = *state;
    hf_score_rule_t *v = tk_score_rule(f->rules, "visit", 10);
    v->match.kinds = 1u << HF_EV_WEB_VISIT;
    hf_score_rule_t *u = tk_score_rule(f->rules, "unsubscribe", -50);
    u->match.kinds = 1u << HF_EV_EMAIL;
    u->match.email_actions = 1u << HF_EMAIL_UNSUBSCRIBED;
    visit(f, TK_T0);
    visit(f, TK_T0 + 1);
    hf_event_t unsub = tk_email("u1", TK_T0 + 2, "c-1", HF_EMAIL_UNSUBSCRIBED, "news");
    fold(f, &unsub);
    assert_float_equal(contact_state_score(f->s, f->rules, 0), 0, 1e-12); /* 20 - 50 floored */
    visit(f, TK_T0 + 3);
    assert_float_equal(contact_state_score(f->s, f->rules, 0), 10, 1e-12);

    /* a negative floor lets the score go below zero, down to it */
    f->rules->scoring.min_score = -20;
    hf_event_t unsub2 = tk_email("u2", TK_T0 + 4, "c-1", HF_EMAIL_UNSUBSCRIBED, "news");
    fold(f, &unsub2);
    assert_float_equal(contact_state_score(f->s, f->rules, 0), -20, 1e-12);
    hf_event_t open = tk_email("o", TK_T0 + 5, "c-1", HF_EMAIL_OPENED, "news");
    fold(f, &open); /* matches neither rule: unchanged */
    assert_float_equal(contact_state_score(f->s, f->rules, 0), -20, 1e-12);
}

static void test_overall_cap_and_every_rule(void **state)
{
    fixture_t *f = *state;
    f->rules->scoring.max_score = 25;
    tk_score_rule(f->rules, "a", 10);
    tk_score_rule(f->rules, "b", 5);
    visit(f, TK_T0); /* both rules apply: 15 */
    assert_float_equal(contact_state_score(f->s, f->rules, 0), 15, 1e-12);
    visit(f, TK_T0 + 1); /* 25, then 30 capped to 25 */
    assert_float_equal(contact_state_score(f->s, f->rules, 0), 25, 1e-12);
    visit(f, TK_T0 + 2);
    assert_float_equal(contact_state_score(f->s, f->rules, 0), 25, 1e-12);

    /* with decay the cap applies when points are added */
    f->rules->scoring.half_life_ms = TK_DAY_MS;
    tk_score_rule(f->rules, "c", -40)->match.kinds = 1u << HF_EV_EMAIL;
    visit(f, TK_T0 + 2 + TK_DAY_MS); /* 12.5 + 10 = 22.5, + 5 = 27.5 -> 25 */
    assert_float_equal(contact_state_score(f->s, f->rules, 0), 25, 1e-12);
}

static void test_late_events(void **state)
{
    fixture_t *f = *state;
    f->rules->scoring.half_life_ms = TK_DAY_MS;
    f->rules->scoring.max_score = 100;
    tk_score_rule(f->rules, "visit", 10);
    model_t m = {.half_life_ms = TK_DAY_MS, .lo = 0, .hi = 100};
    visit(f, TK_T0 + 2 * TK_DAY_MS);
    model_award(&m, TK_T0 + 2 * TK_DAY_MS, 10);
    visit(f, TK_T0); /* late by 2 days: worth a quarter */
    model_award(&m, TK_T0, 10);
    assert_float_equal(contact_state_score(f->s, f->rules, 0), 12.5, 1e-12);
    assert_int_equal(contact_state_last_event_ms(f->s), TK_T0 + 2 * TK_DAY_MS);
    visit(f, TK_T0 + 3 * TK_DAY_MS);
    model_award(&m, TK_T0 + 3 * TK_DAY_MS, 10);
    assert_float_equal(contact_state_score(f->s, f->rules, 0), 16.25, 1e-12);
    /* a pseudo-random mix of in-order and late events against the oracle */
    uint32_t x = 12345;
    for (int i = 0; i < 200; i++) {
        x = x * 1103515245u + 12345u;
        int64_t t = TK_T0 + (int64_t)((x >> 8) % (30 * 24)) * TK_HOUR_MS;
        visit(f, t);
        model_award(&m, t, 10);
        int64_t newest = contact_state_last_event_ms(f->s);
        assert_float_equal(contact_state_score(f->s, f->rules, newest), model_at(&m, newest), 1e-9);
    }
}

static hf_event_t traits_form(const char *id, int64_t at, const char *title, const char *industry,
                              int32_t employees, const char *domain)
{
    hf_event_t ev = tk_form(id, at, "a-1", "c-1", HF_FORM_CONTENT_GATE);
    ev.traits.title = title;
    ev.traits.industry = industry;
    ev.traits.has_employees = employees > 0;
    ev.traits.employees = employees;
    ev.traits.email_domain = domain;
    return ev;
}

static void test_fit_grades(void **state)
{
    fixture_t *f = *state;
    tk_grades(f->rules, "A", 50, "B", 30, "C", 10, "F", 0, NULL);
    tk_globs(&tk_fit_rule(f->rules, "vp", 30)->match.title, "*VP*", "chief*", NULL);
    tk_globs(&tk_fit_rule(f->rules, "software", 20)->match.industry, "software", NULL);
    hf_fit_rule_t *size = tk_fit_rule(f->rules, "mid-market", 10);
    size->match.has_employees_range = true;
    size->match.employees_min = 100;
    size->match.employees_max = 5000;
    tk_globs(&tk_exclusion(f->rules, "students")->match.email_domain, "*.edu", NULL);

    assert_string_equal(contact_state_grade(f->s, f->rules), "F"); /* nothing known */
    hf_event_t a = traits_form("f1", TK_T0 + 10, "VP Marketing", "Software", 200, "acme.com");
    fold(f, &a);
    assert_string_equal(contact_state_grade(f->s, f->rules), "A"); /* 60 */

    /* a later event changes the title: 30 */
    hf_event_t b = traits_form("f2", TK_T0 + 20, "Intern", NULL, 0, NULL);
    fold(f, &b);
    assert_string_equal(contact_state_grade(f->s, f->rules), "B");

    /* an older event does not override the newer value */
    hf_event_t c = traits_form("f3", TK_T0 + 5, "Chief Revenue Officer", NULL, 0, NULL);
    fold(f, &c);
    assert_string_equal(contact_state_grade(f->s, f->rules), "B");

    /* same time: the later fold wins */
    hf_event_t d = traits_form("f4", TK_T0 + 20, "chief of staff", NULL, 0, NULL);
    fold(f, &d);
    assert_string_equal(contact_state_grade(f->s, f->rules), "A");

    /* identity events carry traits too; an exclusion forces the floor grade */
    hf_event_t e = tk_identify("i1", TK_T0 + 30, NULL, "c-1");
    e.identity_kind = HF_IDENTITY_TRAITS;
    e.traits.present = true;
    e.traits.email_domain = "uni.edu";
    fold(f, &e);
    assert_string_equal(contact_state_grade(f->s, f->rules), "F");

    /* traits of other kinds of events are ignored */
    hf_event_t g = tk_visit("v", TK_T0 + 40, NULL, "c-1", "s", "/", NULL);
    g.traits.present = true;
    g.traits.email_domain = "acme.com";
    fold(f, &g);
    assert_string_equal(contact_state_grade(f->s, f->rules), "F");

    /* grades are computed under the rules asked with (a reload regrades) */
    f->rules->fit.exclusion_count = 0;
    assert_string_equal(contact_state_grade(f->s, f->rules), "A");
    f->rules->fit.exclusion_count = 1;

    hf_rules_t *none = tk_rules_new();
    assert_string_equal(contact_state_grade(f->s, none), "");
    hf_rules_free(none);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_decay_exact, setup, teardown),
        cmocka_unit_test_setup_teardown(test_decay_hand_values, setup, teardown),
        cmocka_unit_test_setup_teardown(test_frequency_cap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cap_window_is_open_at_its_start, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lifetime_cap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_negative_points_and_floor, setup, teardown),
        cmocka_unit_test_setup_teardown(test_overall_cap_and_every_rule, setup, teardown),
        cmocka_unit_test_setup_teardown(test_late_events, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fit_grades, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
