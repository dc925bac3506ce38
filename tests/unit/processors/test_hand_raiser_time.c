/* Hand-raisers are judged at their event time (docs/ARCHITECTURE.md "Conversation-
 * ready"): a demo request dated before the sales feedback that moved the contact on
 * still makes its handoff, whatever the order the two were folded in; one dated
 * after it does not.  Through contact_fold(), contact_sla_fire() and the state codec,
 * with a driven wall clock (f->now) and a sink that records everything emitted.
 *
 * The rules are tk_rules_new()'s (accept 4h, first touch 24h, follow-up off, 24x7,
 * grace 0, recycle halve / 30d / 10 points / hand-raisers bypass, reset on identify)
 * with demo_request forms as hand-raisers ("hand_raiser"). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "contact_state_v3.h"
#include "processors/contact/contact.h"
#include "testkit.h"

/* 2026-03-11T10:00:00Z: the demo request; sales' answers follow it */
#define T1 (TK_T0 + 10 * TK_DAY_MS + 10 * TK_HOUR_MS)
#define T2 (T1 + 30 * TK_MINUTE_MS)

typedef struct fixture {
    hf_rules_t *rules;
    contact_state_t *s; /* "c-1" */
    tk_rec_t rec;
    hf_sink_t sink;
    int64_t now; /* the wall clock */
    int seq;
    char ho[HF_HANDOFF_ID_SIZE];  /* c-1's handoff id of cycle 1 */
    char ho2[HF_HANDOFF_ID_SIZE]; /* ... and of cycle 2 */
} fixture_t;

static int setup(void **state)
{
    static fixture_t f;
    f = (fixture_t){0};
    f.rules = tk_rules_new();
    tk_hand_raisers(f.rules, "hand_raiser", 1u << HF_FORM_DEMO_REQUEST, false);
    f.s = contact_state_new("c-1");
    f.sink = tk_sink(&f.rec);
    f.now = T1;
    if (hf_handoff_id(f.ho, sizeof f.ho, HF_ENTITY_CONTACT, "c-1", 1) <= 0 ||
        hf_handoff_id(f.ho2, sizeof f.ho2, HF_ENTITY_CONTACT, "c-1", 2) <= 0)
        return -1;
    *state = &f;
    return f.s ? 0 : -1;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    tk_rec_clear(&f->rec);
    contact_state_free(f->s);
    tk_rules_free(f->rules);
    return 0;
}

/* A new c-1, nothing recorded, the clock back at T1. */
static void restart(fixture_t *f)
{
    contact_state_free(f->s);
    f->s = contact_state_new("c-1");
    assert_non_null(f->s);
    tk_rec_clear(&f->rec);
    f->now = T1;
}

/* The wall clock is never behind what it folds: @at_ms plus five minutes at least. */
static void clock_after(fixture_t *f, int64_t at_ms)
{
    if (f->now < at_ms + 5 * TK_MINUTE_MS)
        f->now = at_ms + 5 * TK_MINUTE_MS;
}

/* c-1's demo request, dated @at_ms: applied. */
static void form(fixture_t *f, int64_t at_ms)
{
    char id[32];
    snprintf(id, sizeof id, "hr-form-%d", f->seq++);
    hf_event_t ev = tk_form(id, at_ms, NULL, "c-1", HF_FORM_DEMO_REQUEST);
    clock_after(f, at_ms);
    assert_int_equal(contact_fold(f->s, &ev, f->rules, f->now, &f->sink), CONTACT_FOLD_APPLIED);
}

/* c-1 visits /blog at @at_ms: applied. */
static void visit(fixture_t *f, int64_t at_ms)
{
    char id[32];
    snprintf(id, sizeof id, "hr-visit-%d", f->seq++);
    hf_event_t ev = tk_visit(id, at_ms, NULL, "c-1", "s-1", "/blog", NULL);
    clock_after(f, at_ms);
    assert_int_equal(contact_fold(f->s, &ev, f->rules, f->now, &f->sink), CONTACT_FOLD_APPLIED);
}

/* rep-1's @action about c-1 at @at_ms, naming @handoff_id (NULL: none): applied. */
static void say_on(fixture_t *f, int64_t at_ms, hf_sales_action_t action, const char *handoff_id,
                   const char *reason)
{
    char id[32];
    snprintf(id, sizeof id, "hr-sales-%d", f->seq++);
    hf_event_t ev =
        tk_sales(id, at_ms, HF_ENTITY_CONTACT, "c-1", action, handoff_id, "rep-1", reason);
    clock_after(f, at_ms);
    assert_int_equal(contact_fold(f->s, &ev, f->rules, f->now, &f->sink), CONTACT_FOLD_APPLIED);
}

/* ... naming no handoff: sales working the lead as it is. */
static void say(fixture_t *f, int64_t at_ms, hf_sales_action_t action, const char *reason)
{
    say_on(f, at_ms, action, NULL, reason);
}

static void fire_at(fixture_t *f, int64_t now_ms)
{
    f->now = now_ms;
    assert_int_equal(contact_sla_fire(f->s, f->rules, f->now, &f->sink), 0);
}

static size_t count_feedback_outcomes(const tk_rec_t *rec)
{
    size_t n = 0;
    for (size_t i = 0; i < rec->outcome_count; i++)
        n += strncmp(rec->outcomes[i].metric, "feedback_", 9) == 0;
    return n;
}

static hf_buf_t encode(const contact_state_t *s)
{
    hf_buf_t b = HF_BUF_INIT;
    assert_int_equal(contact_state_encode(s, &b), 0);
    return b;
}

/* ---- 1. the form first, as it happened ---- */

static void test_form_then_accepted(void **state)
{
    fixture_t *f = *state;
    form(f, T1);
    assert_int_equal(f->rec.handoff_count, 1);
    assert_string_equal(f->rec.handoffs[0].handoff_id, f->ho);
    assert_int_equal(contact_state_stage(f->s), HF_STAGE_CONVERSATION_READY);
    say(f, T2, HF_SALES_ACCEPTED, NULL);
    assert_int_equal(f->rec.handoff_count, 1);
    assert_int_equal(contact_state_stage(f->s), HF_STAGE_ACCEPTED);
    assert_int_equal(tk_count_outcomes(&f->rec, "accepted", NULL), 1);
    assert_int_equal(tk_count_outcomes(&f->rec, "sla_met", "accept"), 1);
}

/* ---- 2. the acceptance folded first ---- */

static void test_accepted_then_earlier_form(void **state)
{
    fixture_t *f = *state;
    visit(f, T1 - TK_HOUR_MS);
    say(f, T2, HF_SALES_ACCEPTED, NULL);
    assert_int_equal(contact_state_stage(f->s), HF_STAGE_ACCEPTED);
    assert_int_equal(tk_count_outcomes(&f->rec, "feedback_no_handoff", "accepted"), 1);
    /* the history tells what the stage was when */
    hf_stage_t then;
    assert_true(contact_state_stage_at(f->s, T1, &then));
    assert_int_equal(then, HF_STAGE_KNOWN);
    assert_true(contact_state_stage_at(f->s, T2 + 1, &then));
    assert_int_equal(then, HF_STAGE_ACCEPTED);
    tk_rec_clear(&f->rec);

    /* the demo request of 10:00 arrives after the rep's acceptance of 10:30 */
    form(f, T1);
    assert_int_equal(f->rec.handoff_count, 1);
    const tk_handoff_t *h = &f->rec.handoffs[0];
    int64_t handoff_at = f->now;
    assert_string_equal(h->handoff_id, f->ho);
    assert_string_equal(h->rule, "hand_raiser");
    assert_string_equal(h->reasons[0].rule, "hand_raiser");
    assert_string_equal(h->reasons[0].detail, "demo_request form");
    assert_int_equal(h->qualified_at_ms, T1);
    assert_int_equal(h->emitted_at_ms, handoff_at);
    assert_string_equal(h->stage_before, "known");
    assert_int_equal(h->accept_by_ms, handoff_at + 4 * TK_HOUR_MS);
    assert_int_equal(h->first_touch_by_ms, handoff_at + 24 * TK_HOUR_MS);
    /* sales had it further already: the lifecycle stays where sales put it */
    assert_int_equal(f->rec.change_count, 0);
    assert_int_equal(contact_state_stage(f->s), HF_STAGE_ACCEPTED);
    assert_true(contact_state_handed_off(f->s));
    assert_int_equal(contact_state_cycle(f->s), 1);

    /* the acceptance answers the case the form opened: counted once, with it */
    assert_int_equal(tk_count_outcomes(&f->rec, "handoff", NULL), 1);
    assert_int_equal(tk_count_outcomes(&f->rec, "accepted", NULL), 1);
    assert_int_equal(tk_count_outcomes(&f->rec, "sla_met", "accept"), 1);
    assert_int_equal(tk_count_outcomes(&f->rec, "time_to_accept", NULL), 1);
    const tk_outcome_t *o = tk_last_outcome(&f->rec, "accepted");
    assert_string_equal(o->rule, "hand_raiser");
    assert_string_equal(o->owner, "rep-1");
    assert_int_equal(tk_last_outcome(&f->rec, "time_to_accept")->duration_ms, 0);
    assert_int_equal(count_feedback_outcomes(&f->rec), 0);

    /* no accept breach, ever; the first touch is still owed (nobody contacted) */
    assert_int_equal(contact_state_next_due(f->s), handoff_at + 24 * TK_HOUR_MS);
    fire_at(f, handoff_at + 5 * TK_HOUR_MS);
    assert_int_equal(f->rec.breach_count, 0);
    fire_at(f, handoff_at + 24 * TK_HOUR_MS);
    assert_int_equal(tk_count_breaches(&f->rec, HF_SLA_ACCEPT), 0);
    assert_int_equal(tk_count_breaches(&f->rec, HF_SLA_FIRST_TOUCH), 1);
    assert_string_equal(f->rec.breaches[0].owner_id, "rep-1");

    /* the rep accepting again, now naming the handoff, counts nothing twice */
    say_on(f, f->now, HF_SALES_ACCEPTED, f->ho, NULL);
    assert_int_equal(tk_count_outcomes(&f->rec, "accepted", NULL), 1);
    assert_int_equal(f->rec.handoff_count, 1);
}

/* What sales did before the case existed satisfies its clocks at the time they did it:
 * contacted, then a meeting. */
static void test_earlier_form_after_contact_and_meeting(void **state)
{
    fixture_t *f = *state;
    say(f, T2, HF_SALES_CONTACTED, NULL);
    say(f, T2 + TK_HOUR_MS, HF_SALES_MEETING_BOOKED, NULL);
    assert_int_equal(contact_state_stage(f->s), HF_STAGE_QUALIFIED);
    tk_rec_clear(&f->rec);
    form(f, T1);
    assert_int_equal(f->rec.handoff_count, 1);
    assert_string_equal(f->rec.handoffs[0].handoff_id, f->ho);
    assert_int_equal(f->rec.change_count, 0);
    assert_int_equal(contact_state_stage(f->s), HF_STAGE_QUALIFIED);
    assert_int_equal(tk_count_outcomes(&f->rec, "accepted", NULL), 1);
    assert_int_equal(tk_count_outcomes(&f->rec, "qualified", NULL), 1);
    assert_int_equal(tk_count_outcomes(&f->rec, "sla_met", "accept"), 1);
    assert_int_equal(tk_count_outcomes(&f->rec, "sla_met", "first_touch"), 1);
    assert_int_equal(tk_count_outcomes(&f->rec, "time_to_first_touch", NULL), 1);
    assert_int_equal(count_feedback_outcomes(&f->rec), 0);
    /* every clock answered */
    assert_int_equal(contact_state_next_due(f->s), 0);
    fire_at(f, f->now + 30 * TK_DAY_MS);
    assert_int_equal(f->rec.breach_count, 0);
}

/* ---- 3. disqualified after the form ---- */

static void test_disqualified_then_earlier_form(void **state)
{
    fixture_t *f = *state;
    say(f, T2, HF_SALES_DISQUALIFIED, "student");
    assert_int_equal(contact_state_stage(f->s), HF_STAGE_DISQUALIFIED);
    tk_rec_clear(&f->rec);

    /* a form is an identify, but one dated before the disqualification does not undo it */
    form(f, T1);
    assert_int_equal(f->rec.handoff_count, 1);
    assert_string_equal(f->rec.handoffs[0].handoff_id, f->ho);
    assert_string_equal(f->rec.handoffs[0].rule, "hand_raiser");
    assert_string_equal(f->rec.handoffs[0].stage_before, "known");
    assert_int_equal(f->rec.change_count, 0);
    assert_int_equal(contact_state_stage(f->s), HF_STAGE_DISQUALIFIED);
    assert_int_equal(contact_state_cycle(f->s), 1);
    /* the disqualification closes the case it opened, counted with it */
    assert_int_equal(tk_count_outcomes(&f->rec, "disqualified", "student"), 1);
    assert_string_equal(tk_last_outcome(&f->rec, "disqualified")->rule, "hand_raiser");
    assert_int_equal(tk_count_outcomes(&f->rec, "sla_met", "accept"), 1);
    assert_int_equal(count_feedback_outcomes(&f->rec), 0);
    assert_int_equal(contact_state_next_due(f->s), 0);
    fire_at(f, f->now + 30 * TK_DAY_MS);
    assert_int_equal(f->rec.breach_count, 0);

    /* an identify dated after the disqualification starts it over, as before */
    hf_event_t id = tk_identify("id-1", T2 + TK_DAY_MS, "a-1", "c-1");
    assert_int_equal(contact_fold(f->s, &id, f->rules, f->now, &f->sink), CONTACT_FOLD_APPLIED);
    assert_int_equal(contact_state_stage(f->s), HF_STAGE_KNOWN);
    assert_int_equal(contact_state_cycle(f->s), 2);
}

/* ---- 4. a form after the feedback ---- */

static void test_accepted_then_later_form(void **state)
{
    fixture_t *f = *state;
    say(f, T2, HF_SALES_ACCEPTED, NULL);
    tk_rec_clear(&f->rec);
    form(f, T2 + 30 * TK_MINUTE_MS);
    assert_int_equal(f->rec.handoff_count, 0);
    assert_int_equal(f->rec.change_count, 0);
    assert_int_equal(contact_state_stage(f->s), HF_STAGE_ACCEPTED);
    assert_false(contact_state_handed_off(f->s));

    /* nor after a disqualification (no reset without reset_on_identify) */
    restart(f);
    f->rules->lifecycle.disqualified_reset_on_identify = false;
    say(f, T2, HF_SALES_DISQUALIFIED, "student");
    form(f, T2 + TK_MINUTE_MS);
    assert_int_equal(f->rec.handoff_count, 0);
    assert_int_equal(contact_state_stage(f->s), HF_STAGE_DISQUALIFIED);
}

/* ---- 5. in sales' hands at the form's time ---- */

static void test_form_between_acceptance_and_win(void **state)
{
    fixture_t *f = *state;
    int64_t t0 = T1 - TK_HOUR_MS, t2 = T1 + TK_HOUR_MS;
    say(f, t0, HF_SALES_ACCEPTED, NULL);
    say(f, t2, HF_SALES_WON, NULL);
    assert_int_equal(contact_state_stage(f->s), HF_STAGE_CUSTOMER);
    hf_stage_t then;
    assert_true(contact_state_stage_at(f->s, T1, &then));
    assert_int_equal(then, HF_STAGE_ACCEPTED);
    form(f, T1);
    assert_int_equal(f->rec.handoff_count, 0);
    assert_int_equal(contact_state_stage(f->s), HF_STAGE_CUSTOMER);

    /* the same when the win was folded before the acceptance (which a customer ignores:
     * it still tells when sales had the lead) */
    restart(f);
    say(f, t2, HF_SALES_WON, NULL);
    say(f, t0, HF_SALES_ACCEPTED, NULL);
    assert_int_equal(tk_count_outcomes(&f->rec, "feedback_ignored", "accepted"), 1);
    form(f, T1);
    assert_int_equal(f->rec.handoff_count, 0);
    assert_int_equal(contact_state_stage(f->s), HF_STAGE_CUSTOMER);
}

/* ---- 6. the order of arrival does not matter ---- */

typedef struct outcome_of_order {
    char handoff_ids[4][HF_HANDOFF_ID_SIZE];
    size_t handoff_count;
    hf_stage_t stage;
    uint32_t cycle;
    bool handed_off;
    int64_t qualified_at;
    size_t accepted, qualified, met, breached;
} outcome_of_order_t;

typedef struct input {
    bool is_form;
    int64_t at_ms;
    hf_sales_action_t action;
} input_t;

static outcome_of_order_t fold_in_order(fixture_t *f, const input_t *in, size_t n, bool reverse)
{
    restart(f);
    visit(f, T1 - 2 * TK_HOUR_MS);
    for (size_t k = 0; k < n; k++) {
        const input_t *x = &in[reverse ? n - 1 - k : k];
        f->now += TK_MINUTE_MS;
        if (x->is_form)
            form(f, x->at_ms);
        else
            say(f, x->at_ms, x->action, "why");
    }
    /* every clock's chance to run out */
    fire_at(f, f->now + 30 * TK_DAY_MS);
    outcome_of_order_t o = {
        .handoff_count = f->rec.handoff_count,
        .stage = contact_state_stage(f->s),
        .cycle = contact_state_cycle(f->s),
        .handed_off = contact_state_handed_off(f->s),
        .accepted = tk_count_outcomes(&f->rec, "accepted", NULL),
        .qualified = tk_count_outcomes(&f->rec, "qualified", NULL),
        .met = tk_count_outcomes(&f->rec, "sla_met", NULL),
        .breached = tk_count_outcomes(&f->rec, "sla_breached", NULL),
    };
    for (size_t i = 0; i < f->rec.handoff_count && i < 4; i++) {
        snprintf(o.handoff_ids[i], sizeof o.handoff_ids[i], "%s", f->rec.handoffs[i].handoff_id);
        o.qualified_at = f->rec.handoffs[i].qualified_at_ms;
    }
    return o;
}

static void assert_same_outcome(const outcome_of_order_t *a, const outcome_of_order_t *b)
{
    assert_int_equal(a->handoff_count, b->handoff_count);
    for (size_t i = 0; i < a->handoff_count && i < 4; i++)
        assert_string_equal(a->handoff_ids[i], b->handoff_ids[i]);
    assert_int_equal(a->stage, b->stage);
    assert_int_equal(a->cycle, b->cycle);
    assert_int_equal(a->handed_off, b->handed_off);
    assert_int_equal(a->qualified_at, b->qualified_at);
    assert_int_equal(a->accepted, b->accepted);
    assert_int_equal(a->qualified, b->qualified);
    assert_int_equal(a->met, b->met);
    assert_int_equal(a->breached, b->breached);
}

static void test_both_orders_agree(void **state)
{
    fixture_t *f = *state;
    const input_t accepted[] = {{true, T1, 0}, {false, T2, HF_SALES_ACCEPTED}};
    const input_t contacted[] = {{true, T1, 0},
                                 {false, T2, HF_SALES_CONTACTED},
                                 {false, T2 + TK_HOUR_MS, HF_SALES_MEETING_BOOKED}};
    const input_t disqualified[] = {{true, T1, 0}, {false, T2, HF_SALES_DISQUALIFIED}};
    /* feedback at the very instant of the form: the form is taken first */
    const input_t same_instant[] = {{true, T1, 0}, {false, T1, HF_SALES_ACCEPTED}};
    const struct {
        const input_t *in;
        size_t n;
        size_t handoffs;
        hf_stage_t stage;
    } cases[] = {
        {accepted, 2, 1, HF_STAGE_ACCEPTED},
        {contacted, 3, 1, HF_STAGE_QUALIFIED},
        {disqualified, 2, 1, HF_STAGE_DISQUALIFIED},
        {same_instant, 2, 1, HF_STAGE_ACCEPTED},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        outcome_of_order_t a = fold_in_order(f, cases[c].in, cases[c].n, false);
        outcome_of_order_t b = fold_in_order(f, cases[c].in, cases[c].n, true);
        assert_int_equal(a.handoff_count, cases[c].handoffs);
        assert_int_equal(a.stage, cases[c].stage);
        if (cases[c].handoffs) {
            assert_string_equal(a.handoff_ids[0], f->ho);
            assert_int_equal(a.qualified_at, T1);
        }
        assert_same_outcome(&a, &b);
    }
}

/* ---- the rules that keep applying ---- */

static void test_grace_exclusions_and_gate_still_apply(void **state)
{
    fixture_t *f = *state;
    /* grace: a later visit makes the form too old (grace 0), then grace lets it in */
    say(f, T2, HF_SALES_ACCEPTED, NULL);
    visit(f, T2 + TK_HOUR_MS);
    form(f, T1);
    assert_int_equal(f->rec.handoff_count, 0);
    restart(f);
    f->rules->qualify.grace_ms = 2 * TK_HOUR_MS;
    say(f, T2, HF_SALES_ACCEPTED, NULL);
    visit(f, T2 + TK_HOUR_MS);
    form(f, T1);
    assert_int_equal(f->rec.handoff_count, 1);
    f->rules->qualify.grace_ms = 0;

    /* an exclusion that stops hand-raisers stops this one */
    restart(f);
    f->rules->qualify.hand_raisers_respect_exclusions = true;
    tk_globs(&tk_exclusion(f->rules, "students")->match.email_domain, "*.edu", NULL);
    say(f, T2, HF_SALES_ACCEPTED, NULL);
    char id[32];
    snprintf(id, sizeof id, "hr-form-%d", f->seq++);
    hf_event_t ev = tk_form(id, T1, NULL, "c-1", HF_FORM_DEMO_REQUEST);
    ev.traits.email_domain = "school.edu";
    assert_int_equal(contact_fold(f->s, &ev, f->rules, f->now, &f->sink), CONTACT_FOLD_APPLIED);
    assert_int_equal(f->rec.handoff_count, 0);
    f->rules->qualify.hand_raisers_respect_exclusions = false;

    /* not a hand-raiser: contact rules judge the contact as it is */
    restart(f);
    say(f, T2, HF_SALES_ACCEPTED, NULL);
    snprintf(id, sizeof id, "hr-form-%d", f->seq++);
    ev = tk_form(id, T1, NULL, "c-1", HF_FORM_NEWSLETTER);
    tk_contact_rule(f->rules, "anything", 0, NULL, 0, NULL);
    assert_int_equal(contact_fold(f->s, &ev, f->rules, f->now, &f->sink), CONTACT_FOLD_APPLIED);
    assert_int_equal(f->rec.handoff_count, 0);
}

/* A recycle starts the next cycle's history: a form dated before it is judged by the
 * stage as known; one dated after it by the new cycle's history, behind its gate. */
static void test_new_cycle(void **state)
{
    fixture_t *f = *state;
    for (int bypass = 1; bypass >= 0; bypass--) {
        restart(f);
        f->rules->recycle.hand_raisers_bypass = bypass;
        form(f, T1);
        assert_int_equal(f->rec.handoff_count, 1);
        int64_t t_rejected = T1 + TK_DAY_MS;
        say_on(f, t_rejected, HF_SALES_REJECTED, f->ho, "bad timing");
        assert_int_equal(contact_state_cycle(f->s), 2);
        say(f, t_rejected + 2 * TK_DAY_MS, HF_SALES_ACCEPTED, NULL);
        assert_int_equal(contact_state_stage(f->s), HF_STAGE_ACCEPTED);
        hf_stage_t then;
        assert_false(contact_state_stage_at(f->s, t_rejected - 1, &then));
        assert_true(contact_state_stage_at(f->s, t_rejected + TK_DAY_MS, &then));
        assert_int_equal(then, HF_STAGE_RECYCLED);
        tk_rec_clear(&f->rec);

        /* dated in cycle 1 (its case was open then) */
        form(f, T1 + TK_HOUR_MS);
        assert_int_equal(f->rec.handoff_count, 0);
        /* dated between the recycle and sales taking it up again */
        form(f, t_rejected + TK_DAY_MS);
        if (bypass) {
            assert_int_equal(f->rec.handoff_count, 1);
            assert_string_equal(f->rec.handoffs[0].handoff_id, f->ho2);
            assert_string_equal(f->rec.handoffs[0].stage_before, "recycled");
            assert_int_equal(tk_count_outcomes(&f->rec, "accepted", NULL), 1);
        } else {
            /* within the cooldown */
            assert_int_equal(f->rec.handoff_count, 0);
        }
        assert_int_equal(contact_state_stage(f->s), HF_STAGE_ACCEPTED);
    }
}

/* ---- the bound ---- */

static void test_bounded_history(void **state)
{
    fixture_t *f = *state;
    for (int over = 0; over <= 1; over++) {
        restart(f);
        /* known, accepted and 14 contacts: 16 entries, all kept; one more drops the
         * oldest, and the history no longer tells */
        visit(f, T1 - TK_HOUR_MS);
        say(f, T2, HF_SALES_ACCEPTED, NULL);
        for (int i = 0; i < 14 + over; i++)
            say(f, T2 + (i + 1) * TK_MINUTE_MS, HF_SALES_CONTACTED, NULL);
        hf_stage_t then;
        assert_int_equal(contact_state_stage_at(f->s, T1, &then), !over);
        tk_rec_clear(&f->rec);
        form(f, T1);
        assert_int_equal(f->rec.handoff_count, over ? 0 : 1);
        if (!over) {
            /* every answer satisfied what it would have: the follow-up (3 attempts) too */
            assert_int_equal(tk_count_outcomes(&f->rec, "sla_met", NULL), 2);
            assert_int_equal(tk_count_outcomes(&f->rec, "accepted", NULL), 1);
        }
        assert_int_equal(contact_state_stage(f->s), HF_STAGE_ACCEPTED);
    }
}

/* A merge with a contact sales already had leaves the survivor's history unable to tell
 * when. */
static void test_merge_makes_the_history_incomplete(void **state)
{
    fixture_t *f = *state;
    contact_state_t *loser = contact_state_new("c-2");
    assert_non_null(loser);
    hf_event_t v = tk_visit("lv-1", T1 - TK_HOUR_MS, NULL, "c-2", "s-2", "/blog", NULL);
    clock_after(f, T2);
    assert_int_equal(contact_fold(loser, &v, f->rules, f->now, &f->sink), CONTACT_FOLD_APPLIED);
    hf_event_t a =
        tk_sales("lsa-1", T2, HF_ENTITY_CONTACT, "c-2", HF_SALES_ACCEPTED, NULL, "rep-2", NULL);
    assert_int_equal(contact_fold(loser, &a, f->rules, f->now, &f->sink), CONTACT_FOLD_APPLIED);
    visit(f, T1 - 2 * TK_HOUR_MS);
    assert_int_equal(contact_merge(f->s, loser, f->rules, T2, f->now, &f->sink), 0);
    assert_int_equal(contact_state_stage(f->s), HF_STAGE_ACCEPTED);
    hf_stage_t then;
    assert_false(contact_state_stage_at(f->s, T1, &then));
    tk_rec_clear(&f->rec);
    form(f, T1);
    assert_int_equal(f->rec.handoff_count, 0);
    contact_state_free(loser);
}

/* ---- 7. the state ---- */

static void test_state_round_trip(void **state)
{
    fixture_t *f = *state;
    visit(f, T1 - TK_HOUR_MS);
    say(f, T2, HF_SALES_DISQUALIFIED, "student");
    say(f, T2 + TK_MINUTE_MS, HF_SALES_ACCEPTED, NULL); /* ignored: disqualified */
    hf_buf_t first = encode(f->s);
    contact_state_t *copy = NULL;
    assert_int_equal(contact_state_decode(&copy, first.data, first.len), 0);
    hf_buf_t second = encode(copy);
    tk_assert_same_bytes(&first, &second);
    hf_buf_free(&first);
    hf_buf_free(&second);
    hf_stage_t a, b;
    for (int64_t t = T1 - 2 * TK_HOUR_MS; t <= T2 + TK_HOUR_MS; t += TK_MINUTE_MS) {
        assert_true(contact_state_stage_at(f->s, t, &a));
        assert_true(contact_state_stage_at(copy, t, &b));
        assert_int_equal(a, b);
    }
    /* the copy goes on like the original: the earlier form makes the handoff */
    contact_state_free(f->s);
    f->s = copy;
    tk_rec_clear(&f->rec);
    form(f, T1);
    assert_int_equal(f->rec.handoff_count, 1);
    assert_string_equal(f->rec.handoffs[0].handoff_id, f->ho);
    assert_int_equal(tk_count_outcomes(&f->rec, "disqualified", "student"), 1);
    assert_int_equal(tk_count_outcomes(&f->rec, "accepted", NULL), 0);

    /* a fresh contact's history round-trips too */
    contact_state_t *fresh = contact_state_new("c-fresh");
    first = encode(fresh);
    contact_state_t *fresh_copy = NULL;
    assert_int_equal(contact_state_decode(&fresh_copy, first.data, first.len), 0);
    second = encode(fresh_copy);
    tk_assert_same_bytes(&first, &second);
    assert_true(contact_state_stage_at(fresh_copy, T1, &a));
    assert_int_equal(a, HF_STAGE_KNOWN);
    hf_buf_free(&first);
    hf_buf_free(&second);
    contact_state_free(fresh);
    contact_state_free(fresh_copy);
}

/* A state stored by version 3 decodes with an empty history that cannot tell: the stage
 * as known applies until the next cycle. */
static void test_version_3_state(void **state)
{
    fixture_t *f = *state;
    contact_state_t *v3 = NULL;
    assert_int_equal(
        contact_state_decode(&v3, contact_state_v3_accepted, sizeof contact_state_v3_accepted), 0);
    assert_string_equal(contact_state_id(v3), "c-1");
    assert_int_equal(contact_state_stage(v3), HF_STAGE_ACCEPTED);
    assert_int_equal(contact_state_cycle(v3), 1);
    assert_false(contact_state_handed_off(v3));
    hf_stage_t then;
    assert_false(contact_state_stage_at(v3, TK_T0 + 10 * TK_DAY_MS + TK_HOUR_MS, &then));

    /* written as the current version from then on: version 3 is a prefix (after the
     * version byte) of the same state written now */
    hf_buf_t b = encode(v3);
    assert_true(b.len > sizeof contact_state_v3_accepted);
    assert_int_equal(b.data[0], 5 * 2); /* zig-zag 5 */
    assert_memory_equal(b.data + 1, contact_state_v3_accepted + 1,
                        sizeof contact_state_v3_accepted - 1);
    contact_state_t *again = NULL;
    assert_int_equal(contact_state_decode(&again, b.data, b.len), 0);
    hf_buf_t c = encode(again);
    tk_assert_same_bytes(&b, &c);
    hf_buf_free(&b);
    hf_buf_free(&c);
    contact_state_free(again);

    /* a form dated before the acceptance it holds: the stage as known (accepted) */
    contact_state_free(f->s);
    f->s = v3;
    tk_rec_clear(&f->rec);
    form(f, TK_T0 + 10 * TK_DAY_MS + TK_HOUR_MS);
    assert_int_equal(f->rec.handoff_count, 0);
    assert_int_equal(contact_state_stage(f->s), HF_STAGE_ACCEPTED);

    /* the next cycle keeps a history again */
    int64_t rejected_at = TK_T0 + 11 * TK_DAY_MS;
    say(f, rejected_at, HF_SALES_REJECTED, "not now");
    assert_int_equal(contact_state_cycle(f->s), 2);
    say(f, rejected_at + 2 * TK_HOUR_MS, HF_SALES_ACCEPTED, NULL);
    form(f, rejected_at + TK_HOUR_MS);
    assert_int_equal(f->rec.handoff_count, 1);
    assert_string_equal(f->rec.handoffs[0].handoff_id, f->ho2);
}

/* A truncated or corrupt history is corrupt state, never a crash. */
static void test_history_corruption(void **state)
{
    fixture_t *f = *state;
    say(f, T2, HF_SALES_ACCEPTED, "x");
    hf_buf_t b = encode(f->s);
    for (size_t n = 0; n < b.len; n++) {
        contact_state_t *out = NULL;
        int r = contact_state_decode(&out, b.data, n);
        assert_int_not_equal(r, 0);
        assert_null(out);
    }
    hf_buf_free(&b);

    /* a fresh contact's encoding ends with its history: complete (01), no since (00), no
     * entries (00), then nothing owed (00 00, version 5); in its place, @n entries built
     * by hand */
    contact_state_t *fresh = contact_state_new("c-fresh");
    hf_buf_t base = encode(fresh);
    contact_state_free(fresh);
    assert_true(base.len > 5);
    assert_memory_equal(base.data + base.len - 5, "\x01\x00\x00\x00\x00", 5);
    static const struct {
        size_t n;
        const char *entry;
        size_t entry_len;
        bool valid;
    } cases[] = {
        /* stage "known", at 0, no action, not ignored, no owner, no reason */
        {16, "\x0aknown\x00\x00\x00\x00\x00", 11, true},
        {17, "\x0aknown\x00\x00\x00\x00\x00", 11, false}, /* over the bound */
        {1, "\x0aknowx\x00\x00\x00\x00\x00", 11, false},  /* no such stage */
        {1, "\x0aknown\x00\x00\x01\x00\x00", 11, false},  /* ignored, but no answer */
        /* an answer: "accepted", ignored, owner "r" */
        {1,
         "\x10"
         "accepted\x00\x02\x10"
         "accepted\x01\x02\x02r\x00",
         25, true},
        /* ... not ignored, no owner, reason "x" */
        {1,
         "\x10"
         "accepted\x00\x02\x10"
         "accepted\x00\x00\x02\x02x",
         25, true},
        {1,
         "\x10"
         "accepted\x00\x02\x10"
         "acceptex\x01\x02\x02r\x00",
         25, false},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        hf_buf_t x = HF_BUF_INIT;
        assert_int_equal(hf_buf_append(&x, base.data, base.len - 3), 0);
        uint8_t count = (uint8_t)(cases[c].n * 2); /* zig-zag, one byte below 64 */
        assert_int_equal(hf_buf_append(&x, &count, 1), 0);
        for (size_t i = 0; i < cases[c].n; i++)
            assert_int_equal(hf_buf_append(&x, cases[c].entry, cases[c].entry_len), 0);
        assert_int_equal(hf_buf_append(&x, "\x00\x00\x00", 3), 0);
        contact_state_t *out = NULL;
        int r = contact_state_decode(&out, x.data, x.len);
        if (cases[c].valid) {
            assert_int_equal(r, 0);
            hf_buf_t again = encode(out);
            tk_assert_same_bytes(&x, &again);
            hf_buf_free(&again);
            contact_state_free(out);
        } else {
            assert_int_equal(r, HF_STATE_CORRUPT);
            assert_null(out);
        }
        hf_buf_free(&x);
    }
    hf_buf_free(&base);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_form_then_accepted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_accepted_then_earlier_form, setup, teardown),
        cmocka_unit_test_setup_teardown(test_earlier_form_after_contact_and_meeting, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_disqualified_then_earlier_form, setup, teardown),
        cmocka_unit_test_setup_teardown(test_accepted_then_later_form, setup, teardown),
        cmocka_unit_test_setup_teardown(test_form_between_acceptance_and_win, setup, teardown),
        cmocka_unit_test_setup_teardown(test_both_orders_agree, setup, teardown),
        cmocka_unit_test_setup_teardown(test_grace_exclusions_and_gate_still_apply, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_new_cycle, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bounded_history, setup, teardown),
        cmocka_unit_test_setup_teardown(test_merge_makes_the_history_incomplete, setup, teardown),
        cmocka_unit_test_setup_teardown(test_state_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_version_3_state, setup, teardown),
        cmocka_unit_test_setup_teardown(test_history_corruption, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
