/* Sales feedback and SLA clocks of an account (processors/sla.c through
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
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "processors/account.h"
#include "test_account_kit.h"
#include "testkit.h"

#define T0 (TK_T0 + 10 * TK_DAY_MS) /* where the wall clock starts */

/* ---- the recording sink: testkit's, plus breaches and outcomes ---- */

typedef struct rec_breach {
    char *breach_id, *handoff_id, *entity_id, *owner_id; /* owned */
    hf_entity_type_t entity_type;
    int sla;
    int64_t due_at_ms, breached_at_ms;
    int32_t level;
} rec_breach_t;

typedef struct rec_outcome {
    hf_entity_type_t entity_type;
    char *metric, *detail, *rule, *team, *owner; /* owned */
    int64_t duration_ms;
} rec_outcome_t;

typedef struct sla_rec {
    tk_rec_t tk; /* first: testkit's callbacks get a pointer to the whole */
    rec_breach_t breaches[16];
    size_t breach_count;
    rec_outcome_t outcomes[64];
    size_t outcome_count;
} sla_rec_t;

static char *dup_or_null(const char *s)
{
    if (!s)
        return NULL;
    char *d = strdup(s);
    if (!d)
        abort();
    return d;
}

static int rec_breach(void *opaque, const hf_breach_t *b)
{
    sla_rec_t *rec = opaque;
    if (rec->breach_count == sizeof rec->breaches / sizeof rec->breaches[0])
        abort();
    rec->breaches[rec->breach_count++] = (rec_breach_t){
        .breach_id = dup_or_null(b->breach_id),
        .handoff_id = dup_or_null(b->handoff_id),
        .entity_id = dup_or_null(b->entity_id),
        .owner_id = dup_or_null(b->owner_id),
        .entity_type = b->entity_type,
        .sla = b->sla,
        .due_at_ms = b->due_at_ms,
        .breached_at_ms = b->breached_at_ms,
        .level = b->level,
    };
    return 0;
}

static int rec_outcome(void *opaque, const hf_outcome_t *o)
{
    sla_rec_t *rec = opaque;
    if (rec->outcome_count == sizeof rec->outcomes / sizeof rec->outcomes[0])
        abort();
    rec->outcomes[rec->outcome_count++] = (rec_outcome_t){
        .entity_type = o->entity_type,
        .metric = dup_or_null(o->metric),
        .detail = dup_or_null(o->detail),
        .rule = dup_or_null(o->rule),
        .team = dup_or_null(o->team),
        .owner = dup_or_null(o->owner),
        .duration_ms = o->duration_ms,
    };
    return 0;
}

static void rec_clear(sla_rec_t *rec)
{
    tk_rec_clear(&rec->tk);
    for (size_t i = 0; i < rec->breach_count; i++) {
        free(rec->breaches[i].breach_id);
        free(rec->breaches[i].handoff_id);
        free(rec->breaches[i].entity_id);
        free(rec->breaches[i].owner_id);
    }
    for (size_t i = 0; i < rec->outcome_count; i++) {
        free(rec->outcomes[i].metric);
        free(rec->outcomes[i].detail);
        free(rec->outcomes[i].rule);
        free(rec->outcomes[i].team);
        free(rec->outcomes[i].owner);
    }
    rec->breach_count = rec->outcome_count = 0;
}

/* Outcomes @metric counted, with @detail when it is not NULL. */
static size_t count_outcomes(const sla_rec_t *rec, const char *metric, const char *detail)
{
    size_t n = 0;
    for (size_t i = 0; i < rec->outcome_count; i++) {
        const rec_outcome_t *o = &rec->outcomes[i];
        if (strcmp(o->metric, metric) == 0 &&
            (!detail || (o->detail && strcmp(o->detail, detail) == 0)))
            n++;
    }
    return n;
}

static const rec_outcome_t *last_outcome(const sla_rec_t *rec, const char *metric)
{
    for (size_t i = rec->outcome_count; i-- > 0;)
        if (strcmp(rec->outcomes[i].metric, metric) == 0)
            return &rec->outcomes[i];
    return NULL;
}

/* ---- the fixture ---- */

typedef struct fixture {
    hf_rules_t *rules;
    account_state_t *s; /* "acct-1" */
    sla_rec_t rec;
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
    f.rules->engaged_member_score = 30;
    f.rules->account_members_max = 10;
    f.rules->buying_group_max = 5;
    ta_account_rule(f.rules, "two_engaged")->min_engaged = 2;
    f.s = account_state_new("acct-1");
    f.sink = tk_sink(&f.rec.tk);
    f.sink.breach = rec_breach;
    f.sink.outcome = rec_outcome;
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
    rec_clear(&f->rec);
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
    assert_int_equal(f->rec.tk.handoff_count, 0);
    f->now += TK_MINUTE_MS;
    member(f, "c-2", 1, 50);
    assert_int_equal(f->rec.tk.handoff_count, 1);
    f->handoff_at = f->now;
}

static hf_event_t sales(fixture_t *f, hf_sales_action_t action, const char *handoff_id,
                        const char *owner, const char *reason)
{
    snprintf(f->sales_id, sizeof f->sales_id, "sa-%d", f->seq++);
    return (hf_event_t){
        .kind = HF_EV_SALES,
        .event_id = f->sales_id,
        .occurred_at_ms = f->now,
        .source = "crm",
        .entity_type = HF_ENTITY_ACCOUNT,
        .entity_id = "acct-1",
        .handoff_id = handoff_id,
        .owner_id = owner,
        .sales_action = action,
        .reason = reason,
    };
}

static int fold_sales(fixture_t *f, const hf_event_t *ev)
{
    return account_fold_sales(f->s, ev, f->rules, f->now, &f->sink);
}

static int say(fixture_t *f, hf_sales_action_t action, const char *handoff_id, const char *owner,
               const char *reason)
{
    hf_event_t ev = sales(f, action, handoff_id, owner, reason);
    return fold_sales(f, &ev);
}

static void fire(fixture_t *f)
{
    assert_int_equal(account_sla_fire(f->s, f->rules, f->now, &f->sink), 0);
}

static void assert_change(const fixture_t *f, size_t i, const char *from, const char *to,
                          const char *cause, int64_t at_ms)
{
    assert_true(i < f->rec.tk.change_count);
    const tk_lifecycle_t *c = &f->rec.tk.changes[i];
    assert_string_equal(c->entity_id, "acct-1");
    assert_string_equal(c->from, from);
    assert_string_equal(c->to, to);
    assert_string_equal(c->cause, cause);
    assert_int_equal(c->at_ms, at_ms);
}

static hf_buf_t encode(const account_state_t *s)
{
    hf_buf_t b = HF_BUF_INIT;
    assert_int_equal(account_state_encode(s, &b), 0);
    return b;
}

static void assert_same_bytes(const hf_buf_t *a, const hf_buf_t *b)
{
    assert_int_equal(a->len, b->len);
    assert_memory_equal(a->data, b->data, a->len);
}

/* encode, decode, encode: the same bytes.  Returns the decoded copy (the caller's). */
static account_state_t *round_trip(const account_state_t *s)
{
    hf_buf_t first = encode(s);
    account_state_t *copy = NULL;
    assert_int_equal(account_state_decode(&copy, first.data, first.len), 0);
    assert_non_null(copy);
    hf_buf_t second = encode(copy);
    assert_same_bytes(&first, &second);
    hf_buf_free(&first);
    hf_buf_free(&second);
    return copy;
}

/* ---- tests ---- */

static void test_account_accepted(void **state)
{
    fixture_t *f = *state;
    hand_off(f);
    const tk_handoff_t *h = &f->rec.tk.handoffs[0];
    assert_string_equal(h->handoff_id, f->ho);
    assert_int_equal(h->accept_by_ms, f->handoff_at + 4 * TK_HOUR_MS);
    assert_int_equal(h->first_touch_by_ms, f->handoff_at + 24 * TK_HOUR_MS);
    assert_int_equal(account_state_next_due(f->s), f->handoff_at + 4 * TK_HOUR_MS);
    const rec_outcome_t *o = last_outcome(&f->rec, "handoff");
    assert_non_null(o);
    assert_int_equal(o->entity_type, HF_ENTITY_ACCOUNT);
    assert_string_equal(o->rule, "two_engaged");
    rec_clear(&f->rec);

    f->now += TK_HOUR_MS;
    assert_int_equal(say(f, HF_SALES_ACCEPTED, f->ho, "rep-1", NULL), ACCOUNT_FOLD_APPLIED);
    assert_int_equal(f->rec.tk.change_count, 1);
    assert_change(f, 0, "conversation_ready", "accepted", "accepted by rep-1", f->now);
    assert_int_equal(account_state_stage(f->s), HF_STAGE_ACCEPTED);
    assert_int_equal(count_outcomes(&f->rec, "sla_met", "accept"), 1);
    o = last_outcome(&f->rec, "accepted");
    assert_non_null(o);
    assert_int_equal(o->entity_type, HF_ENTITY_ACCOUNT);
    assert_string_equal(o->rule, "two_engaged");
    assert_string_equal(o->owner, "rep-1");
    assert_int_equal(last_outcome(&f->rec, "time_to_accept")->duration_ms, TK_HOUR_MS);
    assert_int_equal(account_state_next_due(f->s), f->handoff_at + 24 * TK_HOUR_MS);
}

static void test_account_rejected_recycles_behind_the_gate(void **state)
{
    fixture_t *f = *state;
    hand_off(f);
    rec_clear(&f->rec);
    f->now += TK_HOUR_MS;
    assert_int_equal(say(f, HF_SALES_REJECTED, f->ho, "rep-1", "too small"), ACCOUNT_FOLD_APPLIED);
    int64_t recycled_at = f->now;
    assert_int_equal(f->rec.tk.change_count, 1);
    assert_change(f, 0, "conversation_ready", "recycled", "rejected by rep-1: too small", f->now);
    assert_int_equal(count_outcomes(&f->rec, "rejected", "too small"), 1);
    assert_int_equal(count_outcomes(&f->rec, "recycled", "rejected"), 1);
    assert_int_equal(account_state_cycle(f->s), 2);
    assert_false(account_state_handed_off(f->s));
    assert_int_equal(account_state_next_due(f->s), 0);
    /* no score policy for accounts: the members' scores stand */
    assert_float_equal(account_state_score(f->s, f->rules, f->now), 90, 1e-9);

    /* a late answer for cycle 1: stale */
    f->now += TK_MINUTE_MS;
    assert_int_equal(say(f, HF_SALES_ACCEPTED, f->ho, "rep-1", NULL), ACCOUNT_FOLD_APPLIED);
    assert_int_equal(count_outcomes(&f->rec, "feedback_stale", "accepted"), 1);
    assert_int_equal(f->rec.tk.change_count, 1);

    /* the rule holds, a member's score rose (new evidence), but within the cooldown */
    f->now = recycled_at + TK_DAY_MS;
    member(f, "c-1", 2, 60);
    f->now = recycled_at + 30 * TK_DAY_MS - 1;
    member(f, "c-2", 2, 50);
    assert_int_equal(f->rec.tk.handoff_count, 0);
    assert_int_equal(account_state_stage(f->s), HF_STAGE_RECYCLED);
    f->now = recycled_at + 30 * TK_DAY_MS;
    member(f, "c-2", 3, 50);
    assert_int_equal(f->rec.tk.handoff_count, 1);
    assert_string_equal(f->rec.tk.handoffs[0].handoff_id, f->ho2);
    assert_string_equal(f->rec.tk.handoffs[0].stage_before, "recycled");
    assert_int_equal(account_state_stage(f->s), HF_STAGE_CONVERSATION_READY);
}

static void test_account_gate_needs_new_points(void **state)
{
    fixture_t *f = *state;
    hand_off(f);
    f->now += TK_HOUR_MS;
    assert_int_equal(say(f, HF_SALES_REJECTED, f->ho, "rep-1", NULL), ACCOUNT_FOLD_APPLIED);
    int64_t recycled_at = f->now;
    /* after the cooldown, but nobody's score rose */
    f->now = recycled_at + 31 * TK_DAY_MS;
    member(f, "c-1", 2, 40);
    member(f, "c-2", 2, 45);
    assert_int_equal(f->rec.tk.handoff_count, 1);
    member(f, "c-2", 3, 54); /* +9 */
    assert_int_equal(f->rec.tk.handoff_count, 1);
    member(f, "c-1", 3, 41); /* +10 in all */
    assert_int_equal(f->rec.tk.handoff_count, 2);
    assert_string_equal(f->rec.tk.handoffs[1].handoff_id, f->ho2);
}

static void test_account_duplicate_and_unknown(void **state)
{
    fixture_t *f = *state;
    hand_off(f);
    rec_clear(&f->rec);
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
    hf_buf_t after = encode(f->s);
    assert_same_bytes(&before, &after);
    assert_int_equal(count_outcomes(&f->rec, "feedback_unknown", "rejected"), 2);
    assert_int_equal(f->rec.tk.change_count, 1);
    assert_int_equal(account_state_cycle(f->s), 1);
    hf_buf_free(&before);
    hf_buf_free(&after);
    /* with an event id: unknown, then a repeat */
    hf_event_t bad = sales(f, HF_SALES_REJECTED, "ho_garbage", "rep-1", NULL);
    assert_int_equal(fold_sales(f, &bad), ACCOUNT_FOLD_UNKNOWN_HANDOFF);
    assert_int_equal(fold_sales(f, &bad), ACCOUNT_FOLD_DUPLICATE);
}

static void test_account_sla_fire(void **state)
{
    fixture_t *f = *state;
    hf_sla_rule_t *accept = &f->rules->sla[HF_SLA_ACCEPT];
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
    const rec_breach_t *b = &f->rec.breaches[0];
    char id[HF_BREACH_ID_SIZE];
    assert_true(hf_breach_id(id, sizeof id, f->ho, HF_SLA_ACCEPT, 1) > 0);
    assert_string_equal(b->breach_id, id);
    assert_string_equal(b->handoff_id, f->ho);
    assert_int_equal(b->entity_type, HF_ENTITY_ACCOUNT);
    assert_string_equal(b->entity_id, "acct-1");
    assert_null(b->owner_id);
    assert_int_equal(b->sla, HF_SLA_ACCEPT);
    assert_int_equal(b->level, 1);
    assert_int_equal(b->due_at_ms, accept_by);
    assert_int_equal(b->breached_at_ms, accept_by);
    const rec_outcome_t *o = last_outcome(&f->rec, "sla_breached");
    assert_non_null(o);
    assert_string_equal(o->detail, "accept");
    assert_int_equal(o->entity_type, HF_ENTITY_ACCOUNT);
    assert_int_equal(account_state_next_due(f->s), accept_by + 2 * TK_HOUR_MS);

    /* accepted before the escalation: no level 2 */
    f->now += TK_HOUR_MS;
    assert_int_equal(say(f, HF_SALES_ACCEPTED, f->ho, "rep-1", NULL), ACCOUNT_FOLD_APPLIED);
    f->now = f->handoff_at + 24 * TK_HOUR_MS;
    fire(f);
    assert_int_equal(f->rec.breach_count, 2);
    b = &f->rec.breaches[1];
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
    assert_int_equal(say(f, HF_SALES_CONTACTED, f->ho, "rep-1", NULL), ACCOUNT_FOLD_APPLIED);
    assert_int_equal(count_outcomes(&f->rec, "feedback_early", "contacted"), 1);
    assert_int_equal(account_state_stage(f->s), HF_STAGE_ENGAGED);
    size_t changes = f->rec.tk.change_count;
    f->now += TK_MINUTE_MS;
    member(f, "c-2", 1, 50);
    assert_int_equal(f->rec.tk.handoff_count, 1);
    assert_int_equal(f->rec.tk.change_count, changes + 2);
    assert_change(f, changes, "engaged", "conversation_ready", "rule two_engaged", f->now);
    assert_change(f, changes + 1, "conversation_ready", "accepted", "contacted by rep-1",
                  answered_at);
    assert_int_equal(count_outcomes(&f->rec, "sla_met", "accept"), 1);
    assert_int_equal(count_outcomes(&f->rec, "sla_met", "first_touch"), 1);
    assert_int_equal(account_state_next_due(f->s), 0);
}

static void test_account_state_round_trip(void **state)
{
    fixture_t *f = *state;
    f->rules->sla[HF_SLA_FOLLOW_UP].within_ms = 48 * TK_HOUR_MS;
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
    assert_int_equal(say(f, HF_SALES_REJECTED, f->ho, "rep-1", "no budget"), ACCOUNT_FOLD_APPLIED);
    f->now += TK_HOUR_MS;
    assert_int_equal(say(f, HF_SALES_ACCEPTED, f->ho2, "rep-2", NULL), ACCOUNT_FOLD_APPLIED);
    f->now += TK_DAY_MS;
    member(f, "c-1", 2, 55);
    copy = round_trip(f->s);
    account_state_free(f->s);
    f->s = copy;
    rec_clear(&f->rec);
    f->now += 30 * TK_DAY_MS;
    member(f, "c-2", 2, 50);
    assert_int_equal(f->rec.tk.handoff_count, 1);
    assert_string_equal(f->rec.tk.handoffs[0].handoff_id, f->ho2);
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
