/* Sales feedback and SLA clocks of an account (processors/sla/sla.c through
 * account_fold_sales(), account_sla_fire() and account_state_next_due()), with a
 * driven wall clock.  The contact side is test_sla.c; this file checks what the
 * account adds: its own dedupe, its handoff ids, its recycle gate fed by members'
 * scores, and its state codec.
 *
 * The account "acct-1" qualifies under "two_engaged" when c-1 (40) and c-2 (50) are
 * engaged (30); member updates happen at the wall clock. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "processors/account/account.h"
#include "test_account_kit.h"
#include "testkit.h"

#define T0 (TK_T0 + 10 * TK_DAY_MS) /* where the wall clock starts */

/* ---- the fixture ---- */

typedef struct fixture {
    hf_rules_t *rules;
    account_state_t *s; /* "acct-1" */
    tk_rec_t rec;
    hf_sink_t sink;
    int64_t now;        /* the wall clock */
    int64_t handoff_at; /* wall time of hand_off() */
    int seq;
    char sales_id[32];
    char ho[HF_HANDOFF_ID_SIZE];  /* acct-1's handoff id of cycle 1 */
    char ho2[HF_HANDOFF_ID_SIZE]; /* ... of cycle 2 */
} fixture_t;

static int setup(void **state)
{
    static fixture_t f;
    f = (fixture_t){0};
    f.rules = tk_rules_new();
    tk_default_role(f.rules, "user", 1.0f);
    f.rules->accounts.engaged_member_score = 30;
    f.rules->accounts.members_max = 10;
    f.rules->accounts.buying_group_max = 5;
    ta_account_rule(f.rules, "two_engaged")->min_engaged = 2;
    f.s = account_state_new("acct-1");
    f.sink = tk_sink(&f.rec);
    f.now = T0;
    if (hf_handoff_id(f.ho, sizeof f.ho, HF_ENTITY_ACCOUNT, "acct-1", 1) <= 0 ||
        hf_handoff_id(f.ho2, sizeof f.ho2, HF_ENTITY_ACCOUNT, "acct-1", 2) <= 0)
        return -1;
    *state = &f;
    return f.s ? 0 : -1;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    tk_rec_clear(&f->rec);
    account_state_free(f->s);
    tk_rules_free(f->rules);
    return 0;
}

/* Member @contact_id's summary, version @version, with @score, now. */
static void member(fixture_t *f, const char *contact_id, uint64_t version, double score)
{
    hf_member_update_t u = ta_update(contact_id, version, f->now, score, "user");
    assert_int_equal(account_fold_member(f->s, &u, f->rules, f->now, &f->sink),
                     ACCOUNT_FOLD_APPLIED);
}

/* c-1 and c-2 engaged, a minute apart: the handoff of cycle 1. */
static void hand_off(fixture_t *f)
{
    member(f, "c-1", 1, 40);
    assert_int_equal(f->rec.handoff_count, 0);
    f->now += TK_MINUTE_MS;
    member(f, "c-2", 1, 50);
    assert_int_equal(f->rec.handoff_count, 1);
    f->handoff_at = f->now;
}

static hf_event_t sales(fixture_t *f, hf_sales_action_t action, const char *handoff_id,
                        const char *owner, const char *reason)
{
    snprintf(f->sales_id, sizeof f->sales_id, "sa-%d", f->seq++);
    return tk_sales(f->sales_id, f->now, HF_ENTITY_ACCOUNT, "acct-1", action, handoff_id, owner,
                    reason);
}

static int fold_sales(fixture_t *f, const hf_event_t *ev)
{
    return account_fold_sales(f->s, ev, f->rules, f->now, &f->sink);
}

/* Folds sales(): applied. */
static void say(fixture_t *f, hf_sales_action_t action, const char *handoff_id, const char *owner,
                const char *reason)
{
    hf_event_t ev = sales(f, action, handoff_id, owner, reason);
    assert_int_equal(fold_sales(f, &ev), ACCOUNT_FOLD_APPLIED);
}

static void fire(fixture_t *f)
{
    assert_int_equal(account_sla_fire(f->s, f->rules, f->now, &f->sink), 0);
}

static void assert_change(const fixture_t *f, size_t i, const char *from, const char *to,
                          const char *cause, int64_t at_ms)
{
    tk_assert_change(&f->rec, i, "acct-1", from, to, cause, at_ms);
}

static hf_buf_t encode(const account_state_t *s)
{
    hf_buf_t b = HF_BUF_INIT;
    assert_int_equal(account_state_encode(s, &b), 0);
    return b;
}

/* @s encodes to the bytes of @expected, which this frees. */
static void assert_encodes_to(const account_state_t *s, hf_buf_t *expected)
{
    hf_buf_t got = encode(s);
    tk_assert_same_bytes(expected, &got);
    hf_buf_free(expected);
    hf_buf_free(&got);
}

/* encode, decode, encode: the same bytes.  Returns the decoded copy (the caller's). */
static account_state_t *round_trip(const account_state_t *s)
{
    hf_buf_t first = encode(s);
    account_state_t *copy = NULL;
    assert_int_equal(account_state_decode(&copy, first.data, first.len), 0);
    assert_non_null(copy);
    assert_encodes_to(copy, &first);
    return copy;
}

/* ---- tests ---- */

static void test_account_accepted(void **state)
{
    fixture_t *f = *state;
    hand_off(f);
    const tk_handoff_t *h = &f->rec.handoffs[0];
    assert_string_equal(h->handoff_id, f->ho);
    assert_int_equal(h->accept_by_ms, f->handoff_at + 4 * TK_HOUR_MS);
    assert_int_equal(h->first_touch_by_ms, f->handoff_at + 24 * TK_HOUR_MS);
    assert_int_equal(account_state_next_due(f->s), f->handoff_at + 4 * TK_HOUR_MS);
    const tk_outcome_t *o = tk_last_outcome(&f->rec, "handoff");
    assert_non_null(o);
    assert_int_equal(o->entity_type, HF_ENTITY_ACCOUNT);
    assert_string_equal(o->rule, "two_engaged");
    tk_rec_clear(&f->rec);

    f->now += TK_HOUR_MS;
    say(f, HF_SALES_ACCEPTED, f->ho, "rep-1", NULL);
    assert_int_equal(f->rec.change_count, 1);
    assert_change(f, 0, "conversation_ready", "accepted", "accepted by rep-1", f->now);
    assert_int_equal(account_state_stage(f->s), HF_STAGE_ACCEPTED);
    assert_int_equal(tk_count_outcomes(&f->rec, "sla_met", "accept"), 1);
    o = tk_last_outcome(&f->rec, "accepted");
    assert_non_null(o);
    assert_int_equal(o->entity_type, HF_ENTITY_ACCOUNT);
    assert_string_equal(o->rule, "two_engaged");
    assert_string_equal(o->owner, "rep-1");
    assert_int_equal(tk_last_outcome(&f->rec, "time_to_accept")->duration_ms, TK_HOUR_MS);
    assert_int_equal(account_state_next_due(f->s), f->handoff_at + 24 * TK_HOUR_MS);
}

static void test_account_rejected_recycles_behind_the_gate(void **state)
{
    fixture_t *f = *state;
    hand_off(f);
    tk_rec_clear(&f->rec);
    f->now += TK_HOUR_MS;
    say(f, HF_SALES_REJECTED, f->ho, "rep-1", "too small");
    int64_t recycled_at = f->now;
    assert_int_equal(f->rec.change_count, 1);
    assert_change(f, 0, "conversation_ready", "recycled", "rejected by rep-1: too small", f->now);
    assert_int_equal(tk_count_outcomes(&f->rec, "rejected", "too small"), 1);
    assert_int_equal(tk_count_outcomes(&f->rec, "recycled", "rejected"), 1);
    assert_int_equal(account_state_cycle(f->s), 2);
    assert_false(account_state_handed_off(f->s));
    assert_int_equal(account_state_next_due(f->s), 0);
    /* no score policy for accounts: the members' scores stand */
    assert_float_equal(account_state_score(f->s, f->rules, f->now), 90, 1e-9);

    /* a late answer for cycle 1: stale */
    f->now += TK_MINUTE_MS;
    say(f, HF_SALES_ACCEPTED, f->ho, "rep-1", NULL);
    assert_int_equal(tk_count_outcomes(&f->rec, "feedback_stale", "accepted"), 1);
    assert_int_equal(f->rec.change_count, 1);

    /* the rule holds, a member's score rose (new evidence), but within the cooldown */
    f->now = recycled_at + TK_DAY_MS;
    member(f, "c-1", 2, 60);
    f->now = recycled_at + 30 * TK_DAY_MS - 1;
    member(f, "c-2", 2, 50);
    assert_int_equal(f->rec.handoff_count, 0);
    assert_int_equal(account_state_stage(f->s), HF_STAGE_RECYCLED);
    f->now = recycled_at + 30 * TK_DAY_MS;
    member(f, "c-2", 3, 50);
    assert_int_equal(f->rec.handoff_count, 1);
    assert_string_equal(f->rec.handoffs[0].handoff_id, f->ho2);
    assert_string_equal(f->rec.handoffs[0].stage_before, "recycled");
    assert_int_equal(account_state_stage(f->s), HF_STAGE_CONVERSATION_READY);
}

static void test_account_gate_needs_new_points(void **state)
{
    fixture_t *f = *state;
    hand_off(f);
    f->now += TK_HOUR_MS;
    say(f, HF_SALES_REJECTED, f->ho, "rep-1", NULL);
    int64_t recycled_at = f->now;
    /* after the cooldown, but nobody's score rose */
    f->now = recycled_at + 31 * TK_DAY_MS;
    member(f, "c-1", 2, 40);
    member(f, "c-2", 2, 45);
    assert_int_equal(f->rec.handoff_count, 1);
    member(f, "c-2", 3, 54); /* +9 */
    assert_int_equal(f->rec.handoff_count, 1);
    member(f, "c-1", 3, 41); /* +10 in all */
    assert_int_equal(f->rec.handoff_count, 2);
    assert_string_equal(f->rec.handoffs[1].handoff_id, f->ho2);
}

static void test_account_duplicate_and_unknown(void **state)
{
    fixture_t *f = *state;
    hand_off(f);
    tk_rec_clear(&f->rec);
    f->now += TK_HOUR_MS;
    hf_event_t ev = sales(f, HF_SALES_ACCEPTED, f->ho, "rep-1", NULL);
    assert_int_equal(fold_sales(f, &ev), ACCOUNT_FOLD_APPLIED);
    size_t outcomes = f->rec.outcome_count;
    assert_int_equal(fold_sales(f, &ev), ACCOUNT_FOLD_DUPLICATE);
    ev.sales_action = HF_SALES_REJECTED;
    assert_int_equal(fold_sales(f, &ev), ACCOUNT_FOLD_DUPLICATE);
    assert_int_equal(f->rec.outcome_count, outcomes);
    assert_int_equal(account_state_stage(f->s), HF_STAGE_ACCEPTED);

    /* ids of no handoff of this account: a contact's with the same id, garbage */
    char contact_ho[HF_HANDOFF_ID_SIZE];
    assert_true(hf_handoff_id(contact_ho, sizeof contact_ho, HF_ENTITY_CONTACT, "acct-1", 1) > 0);
    hf_buf_t before = encode(f->s);
    const char *ids[] = {contact_ho, "ho_ffffffffffffffff"};
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
        hf_event_t bad = sales(f, HF_SALES_REJECTED, ids[i], "rep-1", "spam");
        bad.event_id = NULL;
        assert_int_equal(fold_sales(f, &bad), ACCOUNT_FOLD_UNKNOWN_HANDOFF);
    }
    assert_encodes_to(f->s, &before);
    assert_int_equal(tk_count_outcomes(&f->rec, "feedback_unknown", "rejected"), 2);
    assert_int_equal(f->rec.change_count, 1);
    assert_int_equal(account_state_cycle(f->s), 1);
    /* with an event id: unknown, then a repeat */
    hf_event_t bad = sales(f, HF_SALES_REJECTED, "ho_garbage", "rep-1", NULL);
    assert_int_equal(fold_sales(f, &bad), ACCOUNT_FOLD_UNKNOWN_HANDOFF);
    assert_int_equal(fold_sales(f, &bad), ACCOUNT_FOLD_DUPLICATE);
}

static void test_account_sla_fire(void **state)
{
    fixture_t *f = *state;
    hf_sla_rule_t *accept = &f->rules->sla.clocks[HF_SLA_ACCEPT];
    accept->escalate_ms[0] = 2 * TK_HOUR_MS;
    accept->escalate_count = 1;
    hand_off(f);
    int64_t accept_by = f->handoff_at + 4 * TK_HOUR_MS;
    f->now = accept_by - 1;
    fire(f);
    assert_int_equal(f->rec.breach_count, 0);
    f->now = accept_by;
    fire(f);
    fire(f);
    assert_int_equal(f->rec.breach_count, 1);
    tk_assert_breach(&f->rec, 0, HF_ENTITY_ACCOUNT, "acct-1", f->ho, HF_SLA_ACCEPT, 1, accept_by,
                     accept_by, NULL);
    const tk_outcome_t *o = tk_last_outcome(&f->rec, "sla_breached");
    assert_non_null(o);
    assert_string_equal(o->detail, "accept");
    assert_int_equal(o->entity_type, HF_ENTITY_ACCOUNT);
    assert_int_equal(account_state_next_due(f->s), accept_by + 2 * TK_HOUR_MS);

    /* accepted before the escalation: no level 2 */
    f->now += TK_HOUR_MS;
    say(f, HF_SALES_ACCEPTED, f->ho, "rep-1", NULL);
    f->now = f->handoff_at + 24 * TK_HOUR_MS;
    fire(f);
    assert_int_equal(f->rec.breach_count, 2);
    const tk_breach_t *b = &f->rec.breaches[1];
    assert_int_equal(b->sla, HF_SLA_FIRST_TOUCH);
    assert_string_equal(b->owner_id, "rep-1");
    assert_int_equal(b->due_at_ms, f->handoff_at + 24 * TK_HOUR_MS);
    assert_int_equal(account_state_next_due(f->s), 0);
}

static void test_account_early_feedback_parked(void **state)
{
    fixture_t *f = *state;
    member(f, "c-1", 1, 40);
    f->now += TK_MINUTE_MS;
    int64_t answered_at = f->now;
    say(f, HF_SALES_CONTACTED, f->ho, "rep-1", NULL);
    assert_int_equal(tk_count_outcomes(&f->rec, "feedback_early", "contacted"), 1);
    assert_int_equal(account_state_stage(f->s), HF_STAGE_ENGAGED);
    size_t changes = f->rec.change_count;
    f->now += TK_MINUTE_MS;
    member(f, "c-2", 1, 50);
    assert_int_equal(f->rec.handoff_count, 1);
    assert_int_equal(f->rec.change_count, changes + 2);
    assert_change(f, changes, "engaged", "conversation_ready", "rule two_engaged", f->now);
    assert_change(f, changes + 1, "conversation_ready", "accepted", "contacted by rep-1",
                  answered_at);
    assert_int_equal(tk_count_outcomes(&f->rec, "sla_met", "accept"), 1);
    assert_int_equal(tk_count_outcomes(&f->rec, "sla_met", "first_touch"), 1);
    assert_int_equal(account_state_next_due(f->s), 0);
}

static void test_account_state_round_trip(void **state)
{
    fixture_t *f = *state;
    f->rules->sla.clocks[HF_SLA_FOLLOW_UP].within_ms = 48 * TK_HOUR_MS;
    hand_off(f);
    /* an open case: breached, an owner, an attempt */
    f->now = f->handoff_at + 4 * TK_HOUR_MS;
    fire(f);
    f->now += TK_HOUR_MS;
    hf_event_t ev = sales(f, HF_SALES_CONTACTED, f->ho, "rep-1", NULL);
    ev.channel = "email";
    assert_int_equal(fold_sales(f, &ev), ACCOUNT_FOLD_APPLIED);
    account_state_t *copy = round_trip(f->s);
    assert_int_equal(account_state_next_due(copy), account_state_next_due(f->s));
    /* the dedupe memory came along */
    assert_int_equal(account_fold_sales(copy, &ev, f->rules, f->now, &f->sink),
                     ACCOUNT_FOLD_DUPLICATE);
    account_state_free(copy);

    /* recycled, with answers parked for cycle 2's handoff */
    f->now += TK_HOUR_MS;
    say(f, HF_SALES_REJECTED, f->ho, "rep-1", "no budget");
    f->now += TK_HOUR_MS;
    say(f, HF_SALES_ACCEPTED, f->ho2, "rep-2", NULL);
    f->now += TK_DAY_MS;
    member(f, "c-1", 2, 55);
    copy = round_trip(f->s);
    account_state_free(f->s);
    f->s = copy;
    tk_rec_clear(&f->rec);
    f->now += 30 * TK_DAY_MS;
    member(f, "c-2", 2, 50);
    assert_int_equal(f->rec.handoff_count, 1);
    assert_string_equal(f->rec.handoffs[0].handoff_id, f->ho2);
    assert_int_equal(account_state_stage(f->s), HF_STAGE_ACCEPTED);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_account_accepted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_account_rejected_recycles_behind_the_gate, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_account_gate_needs_new_points, setup, teardown),
        cmocka_unit_test_setup_teardown(test_account_duplicate_and_unknown, setup, teardown),
        cmocka_unit_test_setup_teardown(test_account_sla_fire, setup, teardown),
        cmocka_unit_test_setup_teardown(test_account_early_feedback_parked, setup, teardown),
        cmocka_unit_test_setup_teardown(test_account_state_round_trip, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
