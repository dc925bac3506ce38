/* Sales feedback, SLA clocks and the recycle gate (processors/sla/sla.c) as a contact
 * sees them: through contact_fold(), contact_sla_fire() and contact_state_next_due(),
 * with a driven wall clock (f->now) and a sink that records every record emitted.
 *
 * Unless a test says otherwise, events happen at the wall clock (occurred_at ==
 * now), the rules are tk_rules_new()'s (accept 4h, first touch 24h, follow-up off,
 * 24x7, recycle halve / 30d / 10 points / hand-raisers bypass, reset on identify),
 * a visit to /blog* scores 10 and "mql" needs 30. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "processors/contact/contact.h"
#include "testkit.h"

#define T0 (TK_T0 + 10 * TK_DAY_MS) /* where the wall clock starts */

/* ---- the fixture ---- */

typedef struct fixture {
    hf_rules_t *rules;
    contact_state_t *s; /* "c-1" */
    tk_rec_t rec;
    hf_sink_t sink;
    int64_t now;        /* the wall clock */
    int64_t handoff_at; /* wall time of the last hand_off() */
    int seq;
    char sales_id[32];              /* event id of the last sales() */
    char ho[HF_HANDOFF_ID_SIZE];    /* c-1's handoff id of cycle 1 */
    char ho2[HF_HANDOFF_ID_SIZE];   /* ... and of cycle 2 */
    char other[HF_HANDOFF_ID_SIZE]; /* c-2's of cycle 1 */
} fixture_t;

static int setup(void **state)
{
    static fixture_t f;
    f = (fixture_t){0};
    f.rules = tk_rules_new();
    tk_globs(&tk_score_rule(f.rules, "blog", 10)->match.url, "/blog*", NULL);
    tk_contact_rule(f.rules, "mql", 30, NULL, 0, NULL);
    f.s = contact_state_new("c-1");
    f.sink = tk_sink(&f.rec);
    f.now = T0;
    if (hf_handoff_id(f.ho, sizeof f.ho, HF_ENTITY_CONTACT, "c-1", 1) <= 0 ||
        hf_handoff_id(f.ho2, sizeof f.ho2, HF_ENTITY_CONTACT, "c-1", 2) <= 0 ||
        hf_handoff_id(f.other, sizeof f.other, HF_ENTITY_CONTACT, "c-2", 1) <= 0)
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

/* A new c-1, nothing recorded, the clock back at T0 (tests that compare settings). */
static void restart(fixture_t *f)
{
    contact_state_free(f->s);
    f->s = contact_state_new("c-1");
    assert_non_null(f->s);
    tk_rec_clear(&f->rec);
    f->now = T0;
}

static int fold(fixture_t *f, const hf_event_t *ev)
{
    return contact_fold(f->s, ev, f->rules, f->now, &f->sink);
}

/* c-1 visits @url now. */
static void visit(fixture_t *f, const char *url)
{
    char id[32];
    snprintf(id, sizeof id, "v-%d", f->seq++);
    hf_event_t ev = tk_visit(id, f->now, NULL, "c-1", "s-1", url, NULL);
    assert_int_equal(fold(f, &ev), CONTACT_FOLD_APPLIED);
}

/* c-1 identifies (again) now, from anonymous a-1. */
static void identify(fixture_t *f)
{
    hf_event_t ev = tk_identify("id-1", f->now, "a-1", "c-1");
    assert_int_equal(fold(f, &ev), CONTACT_FOLD_APPLIED);
}

/* Two blog visits a minute apart: 20 points (a visit short of "mql" at first). */
static void visit_blog_twice(fixture_t *f)
{
    visit(f, "/blog");
    f->now += TK_MINUTE_MS;
    visit(f, "/blog");
}

/* Three blog visits a minute apart: score 30, and the handoff at the third. */
static void hand_off(fixture_t *f)
{
    size_t before = f->rec.handoff_count;
    visit_blog_twice(f);
    f->now += TK_MINUTE_MS;
    visit(f, "/blog");
    assert_int_equal(f->rec.handoff_count, before + 1);
    f->handoff_at = f->now;
}

/* After the recycle cooldown (31 days on), a blog visit: cycle 2's handoff, the only
 * one recorded. */
static void hand_off_after_cooldown(fixture_t *f)
{
    f->now += 31 * TK_DAY_MS;
    visit(f, "/blog");
    assert_int_equal(f->rec.handoff_count, 1);
    assert_string_equal(f->rec.handoffs[0].handoff_id, f->ho2);
}

/* A SalesActivity for c-1 happening now, with a new event id (f->sales_id). */
static hf_event_t sales(fixture_t *f, hf_sales_action_t action, const char *handoff_id,
                        const char *owner, const char *reason)
{
    snprintf(f->sales_id, sizeof f->sales_id, "sa-%d", f->seq++);
    return tk_sales(f->sales_id, f->now, HF_ENTITY_CONTACT, "c-1", action, handoff_id, owner,
                    reason);
}

/* Folds sales(): applied. */
static void say(fixture_t *f, hf_sales_action_t action, const char *handoff_id, const char *owner,
                const char *reason)
{
    hf_event_t ev = sales(f, action, handoff_id, owner, reason);
    assert_int_equal(fold(f, &ev), CONTACT_FOLD_APPLIED);
}

/* Folds sales() without an event id (so that not even the dedupe memory changes). */
static int say_without_id(fixture_t *f, hf_sales_action_t action, const char *handoff_id,
                          const char *owner, const char *reason)
{
    hf_event_t ev = sales(f, action, handoff_id, owner, reason);
    ev.event_id = NULL;
    return fold(f, &ev);
}

/* @owner contacted c-1 via @channel now: applied. */
static void say_contacted_via(fixture_t *f, const char *handoff_id, const char *owner,
                              const char *channel)
{
    hf_event_t ev = sales(f, HF_SALES_CONTACTED, handoff_id, owner, NULL);
    ev.channel = channel;
    assert_int_equal(fold(f, &ev), CONTACT_FOLD_APPLIED);
}

/* @n contact attempts by rep-1 on cycle 1's handoff, an hour apart. */
static void attempts(fixture_t *f, int n)
{
    for (int i = 0; i < n; i++) {
        f->now += TK_HOUR_MS;
        say(f, HF_SALES_CONTACTED, f->ho, "rep-1", NULL);
    }
}

/* The handoff, then rep-1's @action on it an hour later; what they emitted is
 * cleared. */
static void hand_off_and_answer(fixture_t *f, hf_sales_action_t action, const char *reason)
{
    hand_off(f);
    f->now += TK_HOUR_MS;
    say(f, action, f->ho, "rep-1", reason);
    tk_rec_clear(&f->rec);
}

static void fire(fixture_t *f)
{
    assert_int_equal(contact_sla_fire(f->s, f->rules, f->now, &f->sink), 0);
}

/* The wall clock moves to @now_ms, where c-1's SLA clocks are fired. */
static void fire_at(fixture_t *f, int64_t now_ms)
{
    f->now = now_ms;
    fire(f);
}

/* No clock is left running: nothing falls due, not even @later_ms on. */
static void assert_no_clock_left(fixture_t *f, int64_t later_ms)
{
    assert_int_equal(contact_state_next_due(f->s), 0);
    f->now += later_ms;
    fire(f);
    assert_int_equal(f->rec.breach_count, 0);
}

/* The accept clock escalates 2h after its deadline and, at @levels 2, 4h after that. */
static void escalate_accept(fixture_t *f, uint32_t levels)
{
    hf_sla_rule_t *accept = &f->rules->sla.clocks[HF_SLA_ACCEPT];
    accept->escalate_ms[0] = 2 * TK_HOUR_MS;
    if (levels > 1)
        accept->escalate_ms[1] = 4 * TK_HOUR_MS;
    accept->escalate_count = levels;
}

static void assert_change(const fixture_t *f, size_t i, const char *from, const char *to,
                          const char *cause, int64_t at_ms)
{
    tk_assert_change(&f->rec, i, "c-1", from, to, cause, at_ms);
}

/* Every field of breach @i: of @handoff_id's clock @sla at @level. */
static void assert_breach(const fixture_t *f, size_t i, const char *handoff_id, int sla,
                          int32_t level, int64_t due_at_ms, int64_t breached_at_ms,
                          const char *owner)
{
    tk_assert_breach(&f->rec, i, HF_ENTITY_CONTACT, "c-1", handoff_id, sla, level, due_at_ms,
                     breached_at_ms, owner);
}

static hf_buf_t encode(const contact_state_t *s)
{
    hf_buf_t b = HF_BUF_INIT;
    assert_int_equal(contact_state_encode(s, &b), 0);
    return b;
}

/* @s encodes to the bytes of @expected, which this frees. */
static void assert_encodes_to(const contact_state_t *s, hf_buf_t *expected)
{
    hf_buf_t got = encode(s);
    tk_assert_same_bytes(expected, &got);
    hf_buf_free(expected);
    hf_buf_free(&got);
}

/* encode, decode, encode: the same bytes.  Returns the decoded copy (the caller's). */
static contact_state_t *round_trip(const contact_state_t *s)
{
    hf_buf_t first = encode(s);
    contact_state_t *copy = NULL;
    assert_int_equal(contact_state_decode(&copy, first.data, first.len), 0);
    assert_non_null(copy);
    assert_encodes_to(copy, &first);
    return copy;
}

/* ---- 1. lifecycle from feedback ---- */

static void test_accepted(void **state)
{
    fixture_t *f = *state;
    hand_off(f);
    assert_int_equal(contact_state_stage(f->s), HF_STAGE_CONVERSATION_READY);
    tk_rec_clear(&f->rec);
    f->now += 90 * TK_MINUTE_MS;
    say(f, HF_SALES_ACCEPTED, f->ho, "rep-1", NULL);
    assert_int_equal(f->rec.change_count, 1);
    assert_change(f, 0, "conversation_ready", "accepted", "accepted by rep-1", f->now);
    assert_int_equal(contact_state_stage(f->s), HF_STAGE_ACCEPTED);
    assert_int_equal(tk_count_outcomes(&f->rec, "sla_met", "accept"), 1);
    assert_int_equal(tk_count_outcomes(&f->rec, "accepted", NULL), 1);
    assert_int_equal(tk_count_outcomes(&f->rec, "time_to_accept", NULL), 1);
    assert_int_equal(f->rec.breach_count, 0);
    /* the first touch is still owed */
    assert_int_equal(contact_state_next_due(f->s), f->handoff_at + 24 * TK_HOUR_MS);

    /* accepted again: nothing moves, nothing is counted twice */
    f->now += TK_MINUTE_MS;
    say(f, HF_SALES_ACCEPTED, f->ho, "rep-1", NULL);
    assert_int_equal(f->rec.change_count, 1);
    assert_int_equal(tk_count_outcomes(&f->rec, "accepted", NULL), 1);
    assert_int_equal(tk_count_outcomes(&f->rec, "sla_met", NULL), 1);
}

static void test_contacted_implies_accepted_and_first_touch(void **state)
{
    fixture_t *f = *state;
    hand_off(f);
    tk_rec_clear(&f->rec);
    f->now += 2 * TK_HOUR_MS;
    say_contacted_via(f, f->ho, "rep-1", "phone");
    /* one change: accepted is implied, there is no "contacted" stage */
    assert_int_equal(f->rec.change_count, 1);
    assert_change(f, 0, "conversation_ready", "accepted", "contacted by rep-1 via phone", f->now);
    assert_int_equal(tk_count_outcomes(&f->rec, "sla_met", "accept"), 1);
    assert_int_equal(tk_count_outcomes(&f->rec, "sla_met", "first_touch"), 1);
    assert_int_equal(tk_count_outcomes(&f->rec, "accepted", NULL), 1);
    assert_int_equal(tk_last_outcome(&f->rec, "time_to_accept")->duration_ms, 2 * TK_HOUR_MS);
    assert_int_equal(tk_last_outcome(&f->rec, "time_to_first_touch")->duration_ms, 2 * TK_HOUR_MS);
    /* follow-up is off (within 0): nothing more to fire */
    assert_no_clock_left(f, 100 * TK_DAY_MS);

    /* a second attempt, without a channel: no change, no second first touch */
    say(f, HF_SALES_CONTACTED, f->ho, "rep-1", NULL);
    assert_int_equal(f->rec.change_count, 1);
    assert_int_equal(tk_count_outcomes(&f->rec, "time_to_first_touch", NULL), 1);
}

static void test_progress_moves_forward_only(void **state)
{
    fixture_t *f = *state;
    hand_off(f);
    tk_rec_clear(&f->rec);
    f->now += TK_HOUR_MS;
    say(f, HF_SALES_MEETING_BOOKED, f->ho, "rep-1", NULL);
    assert_change(f, 0, "conversation_ready", "qualified", "meeting booked by rep-1", f->now);
    assert_int_equal(tk_count_outcomes(&f->rec, "qualified", NULL), 1);
    /* a meeting answers every clock */
    assert_int_equal(tk_count_outcomes(&f->rec, "sla_met", "accept"), 1);
    assert_int_equal(tk_count_outcomes(&f->rec, "sla_met", "first_touch"), 1);
    assert_int_equal(contact_state_next_due(f->s), 0);

    f->now += TK_DAY_MS;
    say(f, HF_SALES_OPPORTUNITY_CREATED, f->ho, "rep-1", NULL);
    assert_change(f, 1, "qualified", "opportunity", "opportunity created by rep-1", f->now);
    assert_int_equal(tk_count_outcomes(&f->rec, "opportunity", NULL), 1);

    /* late news of earlier steps moves nothing back */
    f->now += TK_HOUR_MS;
    say(f, HF_SALES_MEETING_BOOKED, f->ho, "rep-1", NULL);
    say(f, HF_SALES_ACCEPTED, f->ho, "rep-1", NULL);
    say(f, HF_SALES_CONTACTED, f->ho, "rep-1", NULL);
    assert_int_equal(f->rec.change_count, 2);
    assert_int_equal(tk_count_outcomes(&f->rec, "qualified", NULL), 1);
    assert_int_equal(contact_state_stage(f->s), HF_STAGE_OPPORTUNITY);

    f->now += TK_DAY_MS;
    say(f, HF_SALES_WON, f->ho, "rep-1", NULL);
    assert_change(f, 2, "opportunity", "customer", "won by rep-1", f->now);
    assert_int_equal(tk_count_outcomes(&f->rec, "won", NULL), 1);

    /* a customer is one: a later loss is ignored, counted as such */
    say(f, HF_SALES_LOST, f->ho, "rep-1", "churned");
    assert_int_equal(f->rec.change_count, 3);
    assert_int_equal(tk_count_outcomes(&f->rec, "feedback_ignored", "lost"), 1);
    assert_int_equal(contact_state_stage(f->s), HF_STAGE_CUSTOMER);
    assert_int_equal(contact_state_cycle(f->s), 1);
    assert_true(contact_state_handed_off(f->s));
}

static void test_lost_then_recycled(void **state)
{
    fixture_t *f = *state;
    hand_off_and_answer(f, HF_SALES_ACCEPTED, NULL);
    f->now += 10 * TK_DAY_MS;
    say(f, HF_SALES_LOST, f->ho, "rep-1", "no budget");
    /* two changes, so that a consumer sees the loss */
    assert_int_equal(f->rec.change_count, 2);
    assert_change(f, 0, "accepted", "lost", "lost: no budget", f->now);
    assert_change(f, 1, "lost", "recycled", "recycled to nurture after lost", f->now);
    assert_int_equal(tk_count_outcomes(&f->rec, "lost", "no budget"), 1);
    assert_int_equal(tk_count_outcomes(&f->rec, "recycled", "lost"), 1);
    assert_int_equal(contact_state_stage(f->s), HF_STAGE_RECYCLED);
    assert_int_equal(contact_state_cycle(f->s), 2);
    assert_false(contact_state_handed_off(f->s));
    assert_float_equal(contact_state_score(f->s, f->rules, f->now), 15, 1e-9);
    assert_int_equal(contact_state_next_due(f->s), 0);
}

static void test_rejected_recycles_with_the_score_policy(void **state)
{
    fixture_t *f = *state;
    static const struct {
        int policy;
        double score;
        const char *reason, *cause, *detail;
    } cases[] = {
        {HF_RECYCLE_SCORE_HALVE, 15, "wrong region", "rejected by rep-2: wrong region",
         "wrong region"},
        {HF_RECYCLE_SCORE_RESET, 0, "student", "rejected by rep-2: student", "student"},
        {HF_RECYCLE_SCORE_KEEP, 30, NULL, "rejected by rep-2: no reason given", "no reason given"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        restart(f);
        f->rules->recycle.score_policy = cases[i].policy;
        hand_off(f);
        tk_rec_clear(&f->rec);
        f->now += TK_HOUR_MS;
        say(f, HF_SALES_REJECTED, f->ho, "rep-2", cases[i].reason);
        assert_int_equal(f->rec.change_count, 1);
        assert_change(f, 0, "conversation_ready", "recycled", cases[i].cause, f->now);
        assert_int_equal(contact_state_cycle(f->s), 2);
        assert_false(contact_state_handed_off(f->s));
        assert_float_equal(contact_state_score(f->s, f->rules, f->now), cases[i].score, 1e-9);
        assert_int_equal(tk_count_outcomes(&f->rec, "rejected", cases[i].detail), 1);
        assert_int_equal(tk_count_outcomes(&f->rec, "recycled", "rejected"), 1);
        /* an answer, in time */
        assert_int_equal(tk_count_outcomes(&f->rec, "sla_met", "accept"), 1);
        assert_no_clock_left(f, 100 * TK_DAY_MS);
    }
}

static void test_disqualified_is_terminal_until_identify(void **state)
{
    fixture_t *f = *state;
    hand_off(f);
    tk_rec_clear(&f->rec);
    f->now += TK_HOUR_MS;
    say(f, HF_SALES_DISQUALIFIED, f->ho, "rep-1", "student");
    assert_int_equal(f->rec.change_count, 1);
    assert_change(f, 0, "conversation_ready", "disqualified", "disqualified by rep-1: student",
                  f->now);
    assert_int_equal(tk_count_outcomes(&f->rec, "disqualified", "student"), 1);
    assert_int_equal(contact_state_next_due(f->s), 0);

    /* every further answer but sales recycling it is ignored, with its id or without
     * (test_disqualified_recycled_by_sales has that one) */
    static const hf_sales_action_t later[] = {HF_SALES_ACCEPTED, HF_SALES_MEETING_BOOKED,
                                              HF_SALES_REJECTED, HF_SALES_LOST, HF_SALES_WON};
    for (size_t i = 0; i < sizeof later / sizeof later[0]; i++) {
        f->now += TK_MINUTE_MS;
        say(f, later[i], i % 2 ? NULL : f->ho, "rep-1", NULL);
    }
    assert_int_equal(f->rec.change_count, 1);
    assert_int_equal(tk_count_outcomes(&f->rec, "feedback_ignored", NULL), 5);
    assert_int_equal(tk_count_outcomes(&f->rec, "feedback_ignored", "accepted"), 1);
    assert_int_equal(tk_count_outcomes(&f->rec, "feedback_ignored", "lost"), 1);
    assert_int_equal(contact_state_stage(f->s), HF_STAGE_DISQUALIFIED);
    assert_int_equal(contact_state_cycle(f->s), 1);
    /* nor does behaviour qualify it */
    f->now += 40 * TK_DAY_MS;
    visit(f, "/blog");
    assert_int_equal(f->rec.handoff_count, 0);
    assert_int_equal(contact_state_stage(f->s), HF_STAGE_DISQUALIFIED);

    /* an identify starts it over, as known, in a new cycle */
    f->now += TK_HOUR_MS;
    identify(f);
    assert_change(f, 1, "disqualified", "known", "identified again after disqualification", f->now);
    assert_int_equal(contact_state_cycle(f->s), 2);
    /* a fresh start behind the recycle gate: the score it kept (40) meets "mql", but
     * not before the cooldown is over and new behaviour was seen */
    assert_int_equal(f->rec.handoff_count, 0);
    assert_false(contact_state_handed_off(f->s));
    hand_off_after_cooldown(f);
    assert_string_equal(f->rec.handoffs[0].stage_before, "known");
    assert_true(contact_state_handed_off(f->s));
}

/* "until sales says otherwise": sales may recycle a disqualified lead to nurture. */
static void test_disqualified_recycled_by_sales(void **state)
{
    fixture_t *f = *state;
    f->rules->lifecycle.disqualified_reset_on_identify = false;
    hand_off_and_answer(f, HF_SALES_DISQUALIFIED, "no budget");
    f->now += TK_HOUR_MS;
    say(f, HF_SALES_RECYCLED, NULL, "rep-1", "budget next year");
    assert_int_equal(f->rec.change_count, 1);
    assert_change(f, 0, "disqualified", "recycled", "recycled by rep-1: budget next year", f->now);
    assert_int_equal(contact_state_cycle(f->s), 2);
    assert_int_equal(tk_count_outcomes(&f->rec, "feedback_ignored", NULL), 0);
}

static void test_disqualified_stays_without_reset_on_identify(void **state)
{
    fixture_t *f = *state;
    f->rules->lifecycle.disqualified_reset_on_identify = false;
    hand_off_and_answer(f, HF_SALES_DISQUALIFIED, "competitor");
    f->now += TK_HOUR_MS;
    identify(f);
    f->now += TK_HOUR_MS;
    hf_event_t form = tk_form("fm-1", f->now, NULL, "c-1", HF_FORM_CONTENT_GATE);
    assert_int_equal(fold(f, &form), CONTACT_FOLD_APPLIED);
    assert_int_equal(f->rec.change_count, 0);
    assert_int_equal(f->rec.handoff_count, 0);
    assert_int_equal(contact_state_stage(f->s), HF_STAGE_DISQUALIFIED);
    assert_int_equal(contact_state_cycle(f->s), 1);
}

static void test_recycled_by_sales(void **state)
{
    fixture_t *f = *state;
    hand_off_and_answer(f, HF_SALES_CONTACTED, NULL);
    f->now += TK_DAY_MS;
    say(f, HF_SALES_RECYCLED, f->ho, "rep-1", "not this quarter");
    assert_int_equal(f->rec.change_count, 1);
    assert_change(f, 0, "accepted", "recycled", "recycled by rep-1: not this quarter", f->now);
    assert_int_equal(tk_count_outcomes(&f->rec, "recycled", "by sales"), 1);
    assert_int_equal(contact_state_cycle(f->s), 2);
    assert_false(contact_state_handed_off(f->s));
    assert_float_equal(contact_state_score(f->s, f->rules, f->now), 15, 1e-9);
}

/* ---- 2. which handoff feedback names ---- */

static void test_feedback_without_handoff_id_applies_to_the_case(void **state)
{
    fixture_t *f = *state;
    hand_off(f);
    tk_rec_clear(&f->rec);
    f->now += TK_HOUR_MS;
    say(f, HF_SALES_CONTACTED, NULL, "rep-1", NULL);
    assert_change(f, 0, "conversation_ready", "accepted", "contacted by rep-1", f->now);
    assert_int_equal(tk_count_outcomes(&f->rec, "sla_met", NULL), 2);
    /* a blocked id ("", "null", ...) is no id */
    f->now += TK_HOUR_MS;
    say(f, HF_SALES_MEETING_BOOKED, "null", "rep-1", NULL);
    assert_change(f, 1, "accepted", "qualified", "meeting booked by rep-1", f->now);
    assert_int_equal(tk_count_outcomes(&f->rec, "feedback_unknown", NULL), 0);
}

static void test_feedback_without_handoff_id_before_any_handoff(void **state)
{
    fixture_t *f = *state;
    visit_blog_twice(f);
    tk_rec_clear(&f->rec);
    f->now += TK_MINUTE_MS;
    /* sales working a lead marketing did not hand over: no case, no clock */
    say(f, HF_SALES_ACCEPTED, NULL, "rep-1", NULL);
    assert_change(f, 0, "known", "accepted", "accepted by rep-1", f->now);
    /* marketing's funnel counts handoffs: this is counted apart */
    assert_int_equal(f->rec.outcome_count, 1);
    assert_int_equal(tk_count_outcomes(&f->rec, "feedback_no_handoff", "accepted"), 1);
    assert_string_equal(f->rec.outcomes[0].owner, "rep-1");
    assert_null(f->rec.outcomes[0].rule);
    assert_int_equal(contact_state_next_due(f->s), 0);
    /* it is sales' now: marketing does not hand it over */
    f->now += TK_MINUTE_MS;
    visit(f, "/blog");
    assert_int_equal(f->rec.handoff_count, 0);
    assert_false(contact_state_handed_off(f->s));
}

static void test_early_feedback_is_parked_until_the_handoff(void **state)
{
    fixture_t *f = *state;
    visit_blog_twice(f);
    tk_rec_clear(&f->rec);
    /* the CRM answers the handoff of cycle 1 before it reached us */
    f->now += 30 * 1000;
    int64_t answered_at = f->now;
    say(f, HF_SALES_ACCEPTED, f->ho, "rep-1", NULL);
    assert_int_equal(tk_count_outcomes(&f->rec, "feedback_early", "accepted"), 1);
    assert_int_equal(f->rec.change_count, 0);
    assert_int_equal(tk_count_outcomes(&f->rec, "accepted", NULL), 0);
    assert_int_equal(contact_state_stage(f->s), HF_STAGE_KNOWN);
    assert_false(contact_state_handed_off(f->s));
    assert_int_equal(contact_state_next_due(f->s), 0);

    /* the handoff, then at once the answer parked for it */
    f->now += 30 * 1000;
    visit(f, "/blog");
    assert_int_equal(f->rec.handoff_count, 1);
    assert_string_equal(f->rec.handoffs[0].handoff_id, f->ho);
    assert_int_equal(f->rec.change_count, 2);
    assert_change(f, 0, "known", "conversation_ready", "rule mql", f->now);
    assert_change(f, 1, "conversation_ready", "accepted", "accepted by rep-1", answered_at);
    assert_int_equal(contact_state_stage(f->s), HF_STAGE_ACCEPTED);
    assert_int_equal(tk_count_outcomes(&f->rec, "sla_met", "accept"), 1);
    assert_int_equal(tk_count_outcomes(&f->rec, "accepted", NULL), 1);
    assert_int_equal(tk_last_outcome(&f->rec, "time_to_accept")->duration_ms, 0);
    /* the accept clock is met: only the first touch is left */
    assert_int_equal(contact_state_next_due(f->s), f->now + 24 * TK_HOUR_MS);
    f->now += 4 * TK_HOUR_MS;
    fire(f);
    assert_int_equal(f->rec.breach_count, 0);
}

static void test_stale_feedback_changes_nothing(void **state)
{
    fixture_t *f = *state;
    hand_off_and_answer(f, HF_SALES_REJECTED, "too early");
    assert_int_equal(contact_state_cycle(f->s), 2);
    hf_buf_t before = encode(f->s);

    /* a late answer for last cycle's handoff, without an event id (so that not even
     * the dedupe memory changes) */
    static const hf_sales_action_t late[] = {HF_SALES_ACCEPTED, HF_SALES_REJECTED,
                                             HF_SALES_DISQUALIFIED, HF_SALES_WON};
    for (size_t i = 0; i < sizeof late / sizeof late[0]; i++) {
        f->now += TK_MINUTE_MS;
        assert_int_equal(say_without_id(f, late[i], f->ho, "rep-1", NULL), CONTACT_FOLD_APPLIED);
    }
    assert_int_equal(tk_count_outcomes(&f->rec, "feedback_stale", NULL), 4);
    assert_int_equal(tk_count_outcomes(&f->rec, "feedback_stale", "rejected"), 1);
    assert_int_equal(f->rec.outcome_count, 4);
    assert_int_equal(f->rec.change_count, 0);
    assert_int_equal(f->rec.breach_count, 0);
    assert_encodes_to(f->s, &before);
    assert_int_equal(contact_state_stage(f->s), HF_STAGE_RECYCLED);
    assert_int_equal(contact_state_cycle(f->s), 2);
}

static void test_unknown_handoff_changes_nothing(void **state)
{
    fixture_t *f = *state;
    hand_off(f);
    tk_rec_clear(&f->rec);
    hf_buf_t before = encode(f->s);
    char future[HF_HANDOFF_ID_SIZE];
    assert_true(hf_handoff_id(future, sizeof future, HF_ENTITY_CONTACT, "c-1", 3) > 0);
    /* garbage, another contact's handoff, a cycle that has not begun */
    const char *ids[] = {"ho_0123456789abcdef", "not-a-handoff", f->other, future};
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
        f->now += TK_MINUTE_MS;
        assert_int_equal(say_without_id(f, HF_SALES_REJECTED, ids[i], "rep-1", "spam"),
                         CONTACT_FOLD_UNKNOWN_HANDOFF);
    }
    assert_int_equal(tk_count_outcomes(&f->rec, "feedback_unknown", "rejected"), 4);
    assert_int_equal(f->rec.outcome_count, 4);
    assert_int_equal(f->rec.change_count, 0);
    assert_encodes_to(f->s, &before);
    assert_int_equal(contact_state_stage(f->s), HF_STAGE_CONVERSATION_READY);
    assert_int_equal(contact_state_cycle(f->s), 1);
    assert_int_equal(contact_state_next_due(f->s), f->handoff_at + 4 * TK_HOUR_MS);

    /* with an event id: unknown once, then a repeat */
    hf_event_t ev = sales(f, HF_SALES_ACCEPTED, "ho_garbage", "rep-1", NULL);
    assert_int_equal(fold(f, &ev), CONTACT_FOLD_UNKNOWN_HANDOFF);
    assert_int_equal(fold(f, &ev), CONTACT_FOLD_DUPLICATE);
    assert_int_equal(tk_count_outcomes(&f->rec, "feedback_unknown", NULL), 5);
}

static void test_repeated_event_id_is_a_duplicate(void **state)
{
    fixture_t *f = *state;
    hand_off(f);
    tk_rec_clear(&f->rec);
    f->now += TK_HOUR_MS;
    hf_event_t ev = sales(f, HF_SALES_ACCEPTED, f->ho, "rep-1", NULL);
    assert_int_equal(fold(f, &ev), CONTACT_FOLD_APPLIED);
    size_t outcomes = f->rec.outcome_count;
    assert_int_equal(fold(f, &ev), CONTACT_FOLD_DUPLICATE);
    /* the same id with another action (a CRM re-sending a corrected record) */
    ev.sales_action = HF_SALES_REJECTED;
    ev.reason = "changed my mind";
    assert_int_equal(fold(f, &ev), CONTACT_FOLD_DUPLICATE);
    assert_int_equal(f->rec.outcome_count, outcomes);
    assert_int_equal(f->rec.change_count, 1);
    assert_int_equal(contact_state_stage(f->s), HF_STAGE_ACCEPTED);
    assert_int_equal(contact_state_cycle(f->s), 1);
}

/* The accepted parked for cycle 1's handoff names a handoff that will never be made
 * once a recycle without a handoff id starts cycle 2: stale then (sla.h: "an earlier
 * cycle's id"), never applied to cycle 2's handoff. */
static void test_parked_feedback_is_stale_after_a_recycle(void **state)
{
    fixture_t *f = *state;
    f->rules->recycle.score_policy = HF_RECYCLE_SCORE_KEEP;
    visit_blog_twice(f);
    f->now += TK_MINUTE_MS;
    say(f, HF_SALES_ACCEPTED, f->ho, "rep-1", NULL);
    assert_int_equal(tk_count_outcomes(&f->rec, "feedback_early", "accepted"), 1);
    /* sales recycle the lead on their own (no handoff id): cycle 2 */
    f->now += TK_MINUTE_MS;
    say(f, HF_SALES_RECYCLED, NULL, "rep-1", "not now");
    assert_int_equal(contact_state_stage(f->s), HF_STAGE_RECYCLED);
    assert_int_equal(contact_state_cycle(f->s), 2);
    size_t changes = f->rec.change_count;

    /* cycle 2 qualifies after the cooldown, with new points */
    hand_off_after_cooldown(f);
    /* cycle 1's answer does not accept cycle 2's handoff: it was stale */
    assert_int_equal(tk_count_outcomes(&f->rec, "accepted", NULL), 0);
    assert_int_equal(tk_count_outcomes(&f->rec, "sla_met", NULL), 0);
    assert_int_equal(tk_count_outcomes(&f->rec, "feedback_stale", "accepted"), 1);
    assert_int_equal(f->rec.change_count, changes + 1);
    assert_int_equal(contact_state_stage(f->s), HF_STAGE_CONVERSATION_READY);
    assert_int_equal(contact_state_next_due(f->s), f->now + 4 * TK_HOUR_MS);
}

/* The same through a disqualification (no handoff id) and the identify that resets
 * it. */
static void test_parked_feedback_is_stale_after_an_identify_reset(void **state)
{
    fixture_t *f = *state;
    visit_blog_twice(f);
    f->now += TK_MINUTE_MS;
    say(f, HF_SALES_ACCEPTED, f->ho, "rep-1", NULL);
    f->now += TK_MINUTE_MS;
    say(f, HF_SALES_DISQUALIFIED, NULL, "rep-1", "wrong person");
    f->now += TK_MINUTE_MS;
    identify(f);
    assert_int_equal(contact_state_stage(f->s), HF_STAGE_KNOWN);
    assert_int_equal(contact_state_cycle(f->s), 2);

    /* cycle 2's handoff, once through the recycle gate, gets nothing of cycle 1's */
    assert_int_equal(tk_count_outcomes(&f->rec, "feedback_stale", "accepted"), 1);
    hand_off_after_cooldown(f);
    assert_int_equal(tk_count_outcomes(&f->rec, "accepted", NULL), 0);
    assert_int_equal(contact_state_stage(f->s), HF_STAGE_CONVERSATION_READY);
}

/* Parked feedback is bounded: the 17th applies the oldest as it is.  When that oldest
 * is a rejection, cycle 1 is over, and the answer that made room names its handoff:
 * stale, not parked for cycle 2's handoff. */
static void test_parked_overflow_that_recycles_parks_nothing_for_the_next_cycle(void **state)
{
    fixture_t *f = *state;
    f->rules->recycle.score_policy = HF_RECYCLE_SCORE_KEEP;
    visit_blog_twice(f);
    f->now += TK_MINUTE_MS;
    say(f, HF_SALES_REJECTED, f->ho, "rep-1", "not yet");
    for (int i = 1; i < 16; i++) {
        f->now += TK_MINUTE_MS;
        say(f, HF_SALES_CONTACTED, f->ho, "rep-1", NULL);
    }
    assert_int_equal(tk_count_outcomes(&f->rec, "feedback_early", NULL), 16);
    assert_int_equal(contact_state_cycle(f->s), 1);
    f->now += TK_MINUTE_MS;
    say(f, HF_SALES_ACCEPTED, f->ho, "rep-1", NULL);
    /* the rejection, applied unparked, recycled it */
    assert_int_equal(contact_state_stage(f->s), HF_STAGE_RECYCLED);
    assert_int_equal(contact_state_cycle(f->s), 2);

    /* cycle 2's handoff finds nothing of cycle 1's waiting */
    size_t changes = f->rec.change_count;
    hand_off_after_cooldown(f);
    assert_int_equal(f->rec.change_count, changes + 1);
    assert_int_equal(contact_state_stage(f->s), HF_STAGE_CONVERSATION_READY);
    assert_int_equal(tk_count_outcomes(&f->rec, "accepted", NULL), 0);
    assert_int_equal(tk_count_outcomes(&f->rec, "feedback_stale", NULL), 16);
    assert_int_equal(contact_state_next_due(f->s), f->now + 4 * TK_HOUR_MS);
}

/* ---- 3. SLA clocks ---- */

static void test_handoff_carries_the_deadlines(void **state)
{
    fixture_t *f = *state;
    hand_off(f);
    const tk_handoff_t *h = &f->rec.handoffs[0];
    int64_t accept_by = f->handoff_at + 4 * TK_HOUR_MS;
    int64_t first_touch_by = f->handoff_at + 24 * TK_HOUR_MS;
    assert_string_equal(h->handoff_id, f->ho);
    assert_int_equal(h->emitted_at_ms, f->handoff_at);
    assert_int_equal(h->accept_by_ms, accept_by);
    assert_int_equal(h->first_touch_by_ms, first_touch_by);
    assert_int_equal(contact_state_next_due(f->s), accept_by);

    /* a clock that is off is carried as 0 */
    restart(f);
    f->rules->sla.clocks[HF_SLA_FIRST_TOUCH].within_ms = 0;
    hand_off(f);
    assert_int_equal(f->rec.handoffs[0].accept_by_ms, f->handoff_at + 4 * TK_HOUR_MS);
    assert_int_equal(f->rec.handoffs[0].first_touch_by_ms, 0);
}

static void test_breach_fires_once_at_the_deadline(void **state)
{
    fixture_t *f = *state;
    hand_off(f);
    int64_t accept_by = f->handoff_at + 4 * TK_HOUR_MS;
    int64_t first_touch_by = f->handoff_at + 24 * TK_HOUR_MS;

    fire_at(f, accept_by - 1);
    assert_int_equal(f->rec.breach_count, 0);

    fire_at(f, accept_by);
    assert_int_equal(f->rec.breach_count, 1);
    assert_breach(f, 0, f->ho, HF_SLA_ACCEPT, 1, accept_by, accept_by, NULL);
    assert_int_equal(tk_count_outcomes(&f->rec, "sla_breached", "accept"), 1);

    /* again at the same time, and later: no escalation configured */
    fire(f);
    fire_at(f, accept_by + 5 * TK_HOUR_MS);
    assert_int_equal(f->rec.breach_count, 1);
    assert_int_equal(contact_state_next_due(f->s), first_touch_by);

    fire_at(f, first_touch_by + 1);
    assert_int_equal(f->rec.breach_count, 2);
    assert_breach(f, 1, f->ho, HF_SLA_FIRST_TOUCH, 1, first_touch_by, first_touch_by + 1, NULL);
    assert_int_equal(tk_count_outcomes(&f->rec, "sla_breached", "first_touch"), 1);
    assert_int_equal(contact_state_next_due(f->s), 0);
    assert_int_equal(contact_state_stage(f->s), HF_STAGE_CONVERSATION_READY);
}

static void test_escalation_levels(void **state)
{
    fixture_t *f = *state;
    escalate_accept(f, 2);
    f->rules->sla.clocks[HF_SLA_FIRST_TOUCH].within_ms = 0;
    hand_off(f);
    int64_t accept_by = f->handoff_at + 4 * TK_HOUR_MS;

    fire_at(f, accept_by);
    assert_int_equal(f->rec.breach_count, 1);
    assert_breach(f, 0, f->ho, HF_SLA_ACCEPT, 1, accept_by, accept_by, NULL);
    assert_int_equal(contact_state_next_due(f->s), accept_by + 2 * TK_HOUR_MS);

    fire_at(f, accept_by + 2 * TK_HOUR_MS - 1);
    assert_int_equal(f->rec.breach_count, 1);
    fire_at(f, accept_by + 2 * TK_HOUR_MS);
    fire(f);
    assert_int_equal(f->rec.breach_count, 2);
    assert_breach(f, 1, f->ho, HF_SLA_ACCEPT, 2, accept_by + 2 * TK_HOUR_MS, f->now, NULL);
    assert_int_equal(contact_state_next_due(f->s), accept_by + 6 * TK_HOUR_MS);

    fire_at(f, accept_by + 6 * TK_HOUR_MS + 10);
    assert_int_equal(f->rec.breach_count, 3);
    assert_breach(f, 2, f->ho, HF_SLA_ACCEPT, 3, accept_by + 6 * TK_HOUR_MS, f->now, NULL);
    /* the last level: nothing more, ever */
    assert_int_equal(contact_state_next_due(f->s), 0);
    f->now += 365 * TK_DAY_MS;
    fire(f);
    assert_int_equal(f->rec.breach_count, 3);
    /* outcomes count the breach once, at level 1 */
    assert_int_equal(tk_count_outcomes(&f->rec, "sla_breached", NULL), 1);
}

static void test_accept_in_time_stops_the_clock(void **state)
{
    fixture_t *f = *state;
    escalate_accept(f, 1);
    hand_off(f);
    int64_t accept_by = f->handoff_at + 4 * TK_HOUR_MS;
    f->now = accept_by; /* exactly at the deadline is in time */
    say(f, HF_SALES_ACCEPTED, f->ho, "rep-1", NULL);
    assert_int_equal(tk_count_outcomes(&f->rec, "sla_met", "accept"), 1);
    fire_at(f, accept_by + 100 * TK_HOUR_MS);
    assert_int_equal(tk_count_breaches(&f->rec, HF_SLA_ACCEPT), 0);
    assert_int_equal(tk_count_outcomes(&f->rec, "sla_breached", "accept"), 0);
    assert_int_equal(tk_count_breaches(&f->rec, HF_SLA_FIRST_TOUCH), 1);
}

static void test_late_answer_emits_the_missed_breach_once(void **state)
{
    fixture_t *f = *state;
    escalate_accept(f, 2);
    hand_off(f);
    int64_t accept_by = f->handoff_at + 4 * TK_HOUR_MS;
    /* the daemon was down at the deadline; the answer comes an hour late */
    f->now = accept_by + TK_HOUR_MS;
    say(f, HF_SALES_ACCEPTED, f->ho, "rep-1", NULL);
    assert_int_equal(f->rec.breach_count, 1);
    assert_breach(f, 0, f->ho, HF_SLA_ACCEPT, 1, accept_by, f->now, "rep-1");
    assert_int_equal(tk_count_outcomes(&f->rec, "sla_breached", "accept"), 1);
    assert_int_equal(tk_count_outcomes(&f->rec, "sla_met", "accept"), 0);
    assert_int_equal(tk_last_outcome(&f->rec, "time_to_accept")->duration_ms, 5 * TK_HOUR_MS);
    assert_int_equal(contact_state_stage(f->s), HF_STAGE_ACCEPTED);
    /* answered: no escalation follows */
    assert_int_equal(contact_state_next_due(f->s), f->handoff_at + 24 * TK_HOUR_MS);
    fire_at(f, accept_by + 10 * TK_HOUR_MS);
    assert_int_equal(tk_count_breaches(&f->rec, HF_SLA_ACCEPT), 1);

    /* a CRM sync running late is judged by when the rep acted (event time) */
    restart(f);
    hand_off(f);
    accept_by = f->handoff_at + 4 * TK_HOUR_MS;
    f->now = accept_by + 3 * TK_HOUR_MS;
    hf_event_t ev = sales(f, HF_SALES_ACCEPTED, f->ho, "rep-1", NULL);
    ev.occurred_at_ms = accept_by - TK_HOUR_MS;
    assert_int_equal(fold(f, &ev), CONTACT_FOLD_APPLIED);
    assert_int_equal(f->rec.breach_count, 0);
    assert_int_equal(tk_count_outcomes(&f->rec, "sla_met", "accept"), 1);
    assert_int_equal(tk_last_outcome(&f->rec, "time_to_accept")->duration_ms, 3 * TK_HOUR_MS);
}

static void test_owner_appears_on_later_breaches(void **state)
{
    fixture_t *f = *state;
    hand_off(f);
    int64_t first_touch_by = f->handoff_at + 24 * TK_HOUR_MS;
    f->now += TK_HOUR_MS;
    say(f, HF_SALES_ACCEPTED, f->ho, "rep-7", NULL);
    fire_at(f, first_touch_by);
    assert_int_equal(f->rec.breach_count, 1);
    assert_breach(f, 0, f->ho, HF_SLA_FIRST_TOUCH, 1, first_touch_by, first_touch_by, "rep-7");
    assert_string_equal(tk_last_outcome(&f->rec, "sla_breached")->owner, "rep-7");

    /* the latest owner heard of; a blocked one changes nothing */
    restart(f);
    hand_off(f);
    first_touch_by = f->handoff_at + 24 * TK_HOUR_MS;
    f->now += TK_HOUR_MS;
    say(f, HF_SALES_ACCEPTED, f->ho, "rep-7", NULL);
    f->now += TK_HOUR_MS;
    say(f, HF_SALES_ACCEPTED, f->ho, "rep-8", NULL);
    f->now += TK_HOUR_MS;
    say(f, HF_SALES_ACCEPTED, f->ho, "null", NULL);
    fire_at(f, first_touch_by);
    assert_breach(f, 0, f->ho, HF_SLA_FIRST_TOUCH, 1, first_touch_by, first_touch_by, "rep-8");
}

static void test_firing_late_emits_every_level_once(void **state)
{
    fixture_t *f = *state;
    escalate_accept(f, 2);
    hand_off(f);
    int64_t accept_by = f->handoff_at + 4 * TK_HOUR_MS;
    int64_t first_touch_by = f->handoff_at + 24 * TK_HOUR_MS;
    /* the daemon was down for days */
    fire_at(f, f->handoff_at + 100 * TK_HOUR_MS);
    assert_int_equal(f->rec.breach_count, 4);
    assert_breach(f, 0, f->ho, HF_SLA_ACCEPT, 1, accept_by, f->now, NULL);
    assert_breach(f, 1, f->ho, HF_SLA_ACCEPT, 2, accept_by + 2 * TK_HOUR_MS, f->now, NULL);
    assert_breach(f, 2, f->ho, HF_SLA_ACCEPT, 3, accept_by + 6 * TK_HOUR_MS, f->now, NULL);
    assert_breach(f, 3, f->ho, HF_SLA_FIRST_TOUCH, 1, first_touch_by, f->now, NULL);
    assert_int_equal(contact_state_next_due(f->s), 0);
    f->now += TK_DAY_MS;
    fire(f);
    assert_int_equal(f->rec.breach_count, 4);
    assert_int_equal(tk_count_outcomes(&f->rec, "sla_breached", NULL), 2);
}

static void test_follow_up_breached(void **state)
{
    fixture_t *f = *state;
    f->rules->sla.clocks[HF_SLA_FOLLOW_UP].within_ms = 24 * TK_HOUR_MS;
    hand_off(f);
    int64_t follow_up_by = f->handoff_at + 24 * TK_HOUR_MS;
    attempts(f, 2);
    assert_int_equal(contact_state_next_due(f->s), follow_up_by);
    fire_at(f, follow_up_by - 1);
    assert_int_equal(f->rec.breach_count, 0);
    fire_at(f, follow_up_by);
    assert_int_equal(f->rec.breach_count, 1);
    assert_breach(f, 0, f->ho, HF_SLA_FOLLOW_UP, 1, follow_up_by, follow_up_by, "rep-1");
    assert_int_equal(tk_count_outcomes(&f->rec, "sla_breached", "follow_up"), 1);
    assert_int_equal(tk_count_outcomes(&f->rec, "sla_met", "first_touch"), 1);
    /* the third attempt, late: the breach stands, nothing is counted as met */
    f->now += TK_HOUR_MS;
    say(f, HF_SALES_CONTACTED, f->ho, "rep-1", NULL);
    assert_int_equal(f->rec.breach_count, 1);
    assert_int_equal(tk_count_outcomes(&f->rec, "sla_met", "follow_up"), 0);
}

static void test_follow_up_met(void **state)
{
    fixture_t *f = *state;
    f->rules->sla.clocks[HF_SLA_FOLLOW_UP].within_ms = 24 * TK_HOUR_MS;
    hand_off(f);
    for (int i = 0; i < 3; i++) {
        attempts(f, 1);
        assert_int_equal(tk_count_outcomes(&f->rec, "sla_met", "follow_up"), i == 2);
    }
    assert_no_clock_left(f, 10 * TK_DAY_MS);
}

static void test_no_response_recycles(void **state)
{
    fixture_t *f = *state;
    f->rules->recycle.no_response_ms = 40 * TK_HOUR_MS;
    hand_off(f);
    attempts(f, 3);
    int64_t due = f->now + 40 * TK_HOUR_MS;
    assert_int_equal(contact_state_next_due(f->s), due);
    tk_rec_clear(&f->rec);
    fire_at(f, due - 1);
    assert_int_equal(f->rec.change_count, 0);
    fire_at(f, due);
    assert_int_equal(f->rec.change_count, 1);
    assert_change(f, 0, "accepted", "recycled", "no response after 3 attempts", due);
    assert_int_equal(tk_count_outcomes(&f->rec, "recycled", "no response"), 1);
    assert_int_equal(contact_state_cycle(f->s), 2);
    assert_false(contact_state_handed_off(f->s));
    assert_float_equal(contact_state_score(f->s, f->rules, f->now), 15, 1e-9);
    assert_int_equal(contact_state_next_due(f->s), 0);
    f->now += TK_DAY_MS;
    fire(f);
    assert_int_equal(f->rec.change_count, 1);

    /* a meeting after the attempts keeps it */
    restart(f);
    hand_off(f);
    attempts(f, 3);
    f->now += TK_HOUR_MS;
    say(f, HF_SALES_MEETING_BOOKED, f->ho, "rep-1", NULL);
    assert_int_equal(contact_state_next_due(f->s), 0);
    f->now += 100 * TK_HOUR_MS;
    fire(f);
    assert_int_equal(contact_state_stage(f->s), HF_STAGE_QUALIFIED);
    assert_int_equal(contact_state_cycle(f->s), 1);
}

/* sla.on_reload: recompute -- clocks not yet breached take the new durations from
 * their original start; a breached one keeps its deadline. */
static void test_reload_reschedules_running_clocks(void **state)
{
    fixture_t *f = *state;
    f->rules->sla.clocks[HF_SLA_FOLLOW_UP].within_ms = 48 * TK_HOUR_MS;
    hand_off(f);
    int64_t h = f->handoff_at;
    fire_at(f, h + 4 * TK_HOUR_MS);
    assert_int_equal(tk_count_breaches(&f->rec, HF_SLA_ACCEPT), 1);
    assert_false(contact_sla_reschedule(f->s, f->rules));

    f->rules->sla.clocks[HF_SLA_ACCEPT].within_ms = 8 * TK_HOUR_MS;
    f->rules->sla.clocks[HF_SLA_FIRST_TOUCH].within_ms = 12 * TK_HOUR_MS;
    f->rules->sla.clocks[HF_SLA_FOLLOW_UP].within_ms = 0;
    assert_true(contact_sla_reschedule(f->s, f->rules));
    assert_false(contact_sla_reschedule(f->s, f->rules));
    /* follow-up is off now; first touch falls due at h + 12h */
    assert_int_equal(contact_state_next_due(f->s), h + 12 * TK_HOUR_MS);
    fire_at(f, h + 12 * TK_HOUR_MS);
    assert_int_equal(f->rec.breach_count, 2);
    assert_breach(f, 1, f->ho, HF_SLA_FIRST_TOUCH, 1, h + 12 * TK_HOUR_MS, f->now, NULL);
    /* the accept clock, breached before the reload, was not breached again */
    assert_int_equal(tk_count_breaches(&f->rec, HF_SLA_ACCEPT), 1);
    fire_at(f, h + 100 * TK_HOUR_MS);
    assert_int_equal(f->rec.breach_count, 2);
    assert_int_equal(contact_state_next_due(f->s), 0);
}

/* ---- 4. the recycle gate ---- */

/* Handed off, then rejected an hour later: returns the time of the recycle. */
static int64_t hand_off_and_reject(fixture_t *f)
{
    hand_off_and_answer(f, HF_SALES_REJECTED, "not yet");
    assert_int_equal(contact_state_stage(f->s), HF_STAGE_RECYCLED);
    return f->now;
}

static void test_gate_cooldown(void **state)
{
    fixture_t *f = *state;
    f->rules->recycle.score_policy = HF_RECYCLE_SCORE_KEEP; /* "mql" holds all along */
    int64_t recycled_at = hand_off_and_reject(f);
    /* the rule holds, and with new points, but within the cooldown */
    for (int day = 1; day <= 2; day++) {
        f->now = recycled_at + day * TK_DAY_MS;
        visit(f, "/blog");
    }
    f->now = recycled_at + 30 * TK_DAY_MS - 1;
    visit(f, "/careers"); /* no points */
    assert_int_equal(f->rec.handoff_count, 0);
    assert_int_equal(contact_state_stage(f->s), HF_STAGE_RECYCLED);

    /* the cooldown is over (event time) */
    f->now = recycled_at + 30 * TK_DAY_MS;
    visit(f, "/careers");
    assert_int_equal(f->rec.handoff_count, 1);
    const tk_handoff_t *h = &f->rec.handoffs[0];
    assert_string_equal(h->handoff_id, f->ho2);
    assert_string_equal(h->rule, "mql");
    assert_string_equal(h->stage_before, "recycled");
    assert_int_equal(h->accept_by_ms, f->now + 4 * TK_HOUR_MS);
    assert_change(f, 0, "recycled", "conversation_ready", "rule mql", f->now);
    assert_int_equal(contact_state_cycle(f->s), 2);
    assert_true(contact_state_handed_off(f->s));
}

static void test_gate_needs_new_points(void **state)
{
    fixture_t *f = *state;
    f->rules->recycle.score_policy = HF_RECYCLE_SCORE_KEEP;
    tk_globs(&tk_score_rule(f->rules, "docs", 5)->match.url, "/docs*", NULL);
    int64_t recycled_at = hand_off_and_reject(f);
    f->now = recycled_at + 31 * TK_DAY_MS;
    visit(f, "/careers");
    assert_int_equal(f->rec.handoff_count, 0);
    f->now += TK_MINUTE_MS;
    visit(f, "/docs"); /* 5 < 10 */
    assert_int_equal(f->rec.handoff_count, 0);
    f->now += TK_MINUTE_MS;
    visit(f, "/docs"); /* 10 */
    assert_int_equal(f->rec.handoff_count, 1);
    assert_string_equal(f->rec.handoffs[0].handoff_id, f->ho2);

    /* halved (the default): the rule itself must hold again too */
    restart(f);
    f->rules->recycle.score_policy = HF_RECYCLE_SCORE_HALVE;
    recycled_at = hand_off_and_reject(f);
    f->now = recycled_at + 31 * TK_DAY_MS;
    visit(f, "/blog"); /* 25: new points, but under 30 */
    assert_int_equal(f->rec.handoff_count, 0);
    f->now += TK_MINUTE_MS;
    visit(f, "/blog");
    assert_int_equal(f->rec.handoff_count, 1);
    assert_string_equal(f->rec.handoffs[0].handoff_id, f->ho2);
}

static void test_gate_requires_fresh_match(void **state)
{
    fixture_t *f = *state;
    hf_rules_t *r = f->rules;
    r->recycle.score_policy = HF_RECYCLE_SCORE_KEEP;
    /* "mql" out of reach: only "demo", which requires pricing, fires */
    r->qualify.contact_rules[0].min_score = 1000;
    tk_globs(&tk_score_rule(r, "pricing", 20)->match.url, "/pricing*", NULL);
    tk_contact_rule(r, "demo", 30, NULL, 0, "pricing", NULL);
    visit(f, "/pricing");
    f->now += TK_MINUTE_MS;
    visit(f, "/blog");
    assert_int_equal(f->rec.handoff_count, 1);
    assert_string_equal(f->rec.handoffs[0].rule, "demo");
    f->now += TK_HOUR_MS;
    say(f, HF_SALES_REJECTED, f->ho, "rep-1", NULL);
    int64_t recycled_at = f->now;
    tk_rec_clear(&f->rec);

    /* after the cooldown, with new points, but pricing was seen before the recycle */
    f->now = recycled_at + 31 * TK_DAY_MS;
    visit_blog_twice(f);
    assert_int_equal(f->rec.handoff_count, 0);
    f->now += TK_MINUTE_MS;
    visit(f, "/pricing");
    assert_int_equal(f->rec.handoff_count, 1);
    assert_string_equal(f->rec.handoffs[0].rule, "demo");
    assert_string_equal(f->rec.handoffs[0].handoff_id, f->ho2);
}

static void test_gate_hand_raisers(void **state)
{
    fixture_t *f = *state;
    for (int bypass = 1; bypass >= 0; bypass--) {
        restart(f);
        tk_hand_raisers(f->rules, "hand_raiser", 1u << HF_FORM_DEMO_REQUEST, false);
        f->rules->recycle.hand_raisers_bypass = bypass;
        int64_t recycled_at = hand_off_and_reject(f);
        f->now = recycled_at + TK_DAY_MS;
        char id[16];
        snprintf(id, sizeof id, "fm-%d", bypass);
        hf_event_t form = tk_form(id, f->now, NULL, "c-1", HF_FORM_DEMO_REQUEST);
        assert_int_equal(fold(f, &form), CONTACT_FOLD_APPLIED);
        if (bypass) {
            assert_int_equal(f->rec.handoff_count, 1);
            assert_string_equal(f->rec.handoffs[0].rule, "hand_raiser");
            assert_string_equal(f->rec.handoffs[0].handoff_id, f->ho2);
            assert_int_equal(contact_state_stage(f->s), HF_STAGE_CONVERSATION_READY);
        } else {
            assert_int_equal(f->rec.handoff_count, 0);
            assert_int_equal(contact_state_stage(f->s), HF_STAGE_RECYCLED);
        }
    }
}

/* ---- 5. the state ---- */

/* Feedback is parked only while the cycle has no handoff, and a handoff opens the
 * case and passes the recycle gate, so no one state holds all three: the round trip
 * is checked on an open case, then on a shut gate with parked answers. */

static void test_state_round_trip(void **state)
{
    fixture_t *f = *state;
    hf_rules_t *r = f->rules;
    escalate_accept(f, 1);
    r->sla.clocks[HF_SLA_FOLLOW_UP].within_ms = 48 * TK_HOUR_MS;
    r->sla.clocks[HF_SLA_FOLLOW_UP].escalate_ms[0] = TK_DAY_MS;
    r->sla.clocks[HF_SLA_FOLLOW_UP].escalate_count = 1;
    r->recycle.no_response_ms = 40 * TK_HOUR_MS;
    hf_event_t em = tk_email("em-1", f->now, "c-1", HF_EMAIL_CLICKED, "spring");
    em.source = "marketo";
    assert_int_equal(fold(f, &em), CONTACT_FOLD_APPLIED);
    f->now += TK_MINUTE_MS;
    hand_off(f);

    /* an open case: accept breached at level 1, an owner, attempts made */
    fire_at(f, f->handoff_at + 4 * TK_HOUR_MS);
    f->now += TK_HOUR_MS;
    say_contacted_via(f, f->ho, "rep-1", "email");
    contact_state_t *copy = round_trip(f->s);
    assert_int_equal(contact_state_next_due(copy), contact_state_next_due(f->s));
    /* the copy goes on exactly like the original */
    int64_t follow_up_by = f->handoff_at + 48 * TK_HOUR_MS;
    size_t before = f->rec.breach_count;
    fire_at(f, follow_up_by);
    assert_int_equal(contact_sla_fire(copy, r, f->now, &f->sink), 0);
    assert_int_equal(f->rec.breach_count, before + 2);
    assert_string_equal(f->rec.breaches[before].breach_id, f->rec.breaches[before + 1].breach_id);
    assert_string_equal(f->rec.breaches[before + 1].owner_id, "rep-1");
    contact_state_free(copy);

    /* the recycle gate shut, and an answer parked for cycle 2's handoff */
    f->now += TK_HOUR_MS;
    say(f, HF_SALES_REJECTED, f->ho, "rep-1", "no budget");
    int64_t recycled_at = f->now;
    f->now += TK_HOUR_MS;
    say_contacted_via(f, f->ho2, "rep-2", "phone");
    f->now += TK_HOUR_MS;
    say(f, HF_SALES_ACCEPTED, f->ho2, NULL, NULL);
    assert_int_equal(tk_count_outcomes(&f->rec, "feedback_early", NULL), 2);
    f->now += TK_DAY_MS;
    visit(f, "/blog"); /* new points, within the cooldown */
    copy = round_trip(f->s);
    hf_buf_t original = encode(f->s);
    assert_encodes_to(copy, &original);

    /* the copy keeps the gate shut and the answers parked */
    contact_state_free(f->s);
    f->s = copy;
    tk_rec_clear(&f->rec);
    f->now = recycled_at + 29 * TK_DAY_MS;
    visit(f, "/blog");
    assert_int_equal(f->rec.handoff_count, 0);
    f->now = recycled_at + 30 * TK_DAY_MS;
    visit(f, "/careers");
    assert_int_equal(f->rec.handoff_count, 1);
    assert_string_equal(f->rec.handoffs[0].handoff_id, f->ho2);
    assert_int_equal(contact_state_stage(f->s), HF_STAGE_ACCEPTED);
    assert_int_equal(tk_count_outcomes(&f->rec, "sla_met", "first_touch"), 1);
}

/* ---- 7. outcomes ---- */

static void test_handoff_outcome_attribution(void **state)
{
    fixture_t *f = *state;
    tk_route_rule(f->rules, "emea", -1);
    hf_event_t v1 = tk_visit("v-a", f->now, NULL, "c-1", "s-1", "/blog", NULL);
    v1.utm_source = "google";
    v1.utm_campaign = "spring";
    assert_int_equal(fold(f, &v1), CONTACT_FOLD_APPLIED);
    f->now += TK_HOUR_MS;
    hf_event_t v2 = tk_visit("v-b", f->now, NULL, "c-1", "s-1", "/blog", NULL);
    v2.utm_campaign = "summer";
    assert_int_equal(fold(f, &v2), CONTACT_FOLD_APPLIED);
    /* the earliest event, arriving late: an e-mail, no utm_source */
    hf_event_t em = tk_email("em-1", T0 - TK_DAY_MS, "c-1", HF_EMAIL_OPENED, "winter");
    em.source = "marketo";
    assert_int_equal(fold(f, &em), CONTACT_FOLD_APPLIED);
    f->now += TK_HOUR_MS;
    visit(f, "/blog");
    assert_int_equal(f->rec.handoff_count, 1);
    assert_int_equal(tk_count_outcomes(&f->rec, "handoff", NULL), 1);
    const tk_outcome_t *o = tk_last_outcome(&f->rec, "handoff");
    assert_int_equal(o->entity_type, HF_ENTITY_CONTACT);
    assert_null(o->detail);
    assert_string_equal(o->rule, "mql");
    assert_string_equal(o->source, "marketo");
    assert_string_equal(o->first_campaign, "winter");
    assert_string_equal(o->last_campaign, "summer");
    assert_string_equal(o->team, "emea");
    assert_null(o->owner);
    assert_int_equal(o->duration_ms, 0);

    /* the earliest event's utm_source wins over its envelope source */
    restart(f);
    hf_event_t v = tk_visit("v-c", f->now, NULL, "c-1", "s-1", "/blog", NULL);
    v.source = "tracker";
    v.utm_source = "linkedin";
    assert_int_equal(fold(f, &v), CONTACT_FOLD_APPLIED);
    f->now += TK_MINUTE_MS;
    visit_blog_twice(f);
    o = tk_last_outcome(&f->rec, "handoff");
    assert_non_null(o);
    assert_string_equal(o->source, "linkedin");
    assert_null(o->first_campaign);
    assert_null(o->last_campaign);
}

static void test_feedback_outcomes(void **state)
{
    fixture_t *f = *state;
    hand_off(f);
    f->now = f->handoff_at + 90 * TK_MINUTE_MS;
    say(f, HF_SALES_ACCEPTED, f->ho, "rep-1", NULL);
    const tk_outcome_t *o = tk_last_outcome(&f->rec, "accepted");
    assert_non_null(o);
    assert_null(o->detail);
    assert_string_equal(o->rule, "mql");
    assert_string_equal(o->source, "test");
    assert_string_equal(o->owner, "rep-1");
    o = tk_last_outcome(&f->rec, "time_to_accept");
    assert_non_null(o);
    assert_int_equal(o->duration_ms, 90 * TK_MINUTE_MS);
    assert_string_equal(o->rule, "mql");
    o = tk_last_outcome(&f->rec, "sla_met");
    assert_string_equal(o->detail, "accept");
    assert_string_equal(o->owner, "rep-1");
    assert_int_equal(o->duration_ms, 0);

    fire_at(f, f->handoff_at + 24 * TK_HOUR_MS);
    o = tk_last_outcome(&f->rec, "sla_breached");
    assert_non_null(o);
    assert_string_equal(o->detail, "first_touch");
    assert_string_equal(o->owner, "rep-1");
    assert_string_equal(o->rule, "mql");

    f->now += TK_HOUR_MS;
    say(f, HF_SALES_REJECTED, f->ho, "rep-1", "bad timing");
    o = tk_last_outcome(&f->rec, "rejected");
    assert_non_null(o);
    assert_string_equal(o->detail, "bad timing");
    assert_string_equal(o->rule, "mql");
    assert_string_equal(o->owner, "rep-1");
    /* the recycle is counted with the attribution of the case it closes */
    o = tk_last_outcome(&f->rec, "recycled");
    assert_string_equal(o->detail, "rejected");
    assert_string_equal(o->rule, "mql");
    assert_int_equal(tk_count_outcomes(&f->rec, "sla_met", NULL), 1);
    assert_int_equal(tk_count_outcomes(&f->rec, "sla_breached", NULL), 1);
    for (size_t i = 0; i < f->rec.outcome_count; i++)
        assert_int_equal(f->rec.outcomes[i].entity_type, HF_ENTITY_CONTACT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_accepted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_contacted_implies_accepted_and_first_touch, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_progress_moves_forward_only, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lost_then_recycled, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rejected_recycles_with_the_score_policy, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_disqualified_is_terminal_until_identify, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_disqualified_recycled_by_sales, setup, teardown),
        cmocka_unit_test_setup_teardown(test_disqualified_stays_without_reset_on_identify, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_recycled_by_sales, setup, teardown),
        cmocka_unit_test_setup_teardown(test_feedback_without_handoff_id_applies_to_the_case, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_feedback_without_handoff_id_before_any_handoff, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_early_feedback_is_parked_until_the_handoff, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_stale_feedback_changes_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_handoff_changes_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_repeated_event_id_is_a_duplicate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_parked_feedback_is_stale_after_a_recycle, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_parked_feedback_is_stale_after_an_identify_reset,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_parked_overflow_that_recycles_parks_nothing_for_the_next_cycle, setup, teardown),
        cmocka_unit_test_setup_teardown(test_handoff_carries_the_deadlines, setup, teardown),
        cmocka_unit_test_setup_teardown(test_breach_fires_once_at_the_deadline, setup, teardown),
        cmocka_unit_test_setup_teardown(test_escalation_levels, setup, teardown),
        cmocka_unit_test_setup_teardown(test_accept_in_time_stops_the_clock, setup, teardown),
        cmocka_unit_test_setup_teardown(test_late_answer_emits_the_missed_breach_once, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_owner_appears_on_later_breaches, setup, teardown),
        cmocka_unit_test_setup_teardown(test_firing_late_emits_every_level_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_follow_up_breached, setup, teardown),
        cmocka_unit_test_setup_teardown(test_follow_up_met, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_response_recycles, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reload_reschedules_running_clocks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gate_cooldown, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gate_needs_new_points, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gate_requires_fresh_match, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gate_hand_raisers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_state_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_handoff_outcome_attribution, setup, teardown),
        cmocka_unit_test_setup_teardown(test_feedback_outcomes, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
