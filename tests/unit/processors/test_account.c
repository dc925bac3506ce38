/* Stage 3: members last-writer-wins, account score, engaged members, account rules,
 * once per cycle, the handoff's payload, rosters and the members bound. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "processors/account/account.h"
#include "test_account_kit.h"
#include "testkit.h"

#define NOW_MS (TK_T0 + 400 * TK_DAY_MS) /* wall time, unrelated to event time */

/* What the handoff's downloads and webinars were (testkit keeps only their counts). */
typedef struct lists_seen {
    char download_ids[8][16];
    int64_t download_at[8];
    size_t download_count;
    char webinar_ids[8][16];
    size_t webinar_count;
} lists_seen_t;

typedef struct fixture {
    hf_rules_t *rules;
    account_state_t *s; /* "acct-1" */
    tk_rec_t rec;
    hf_sink_t inner; /* testkit's recorder */
    lists_seen_t lists;
    hf_sink_t sink; /* records the lists, then hands over to inner */
} fixture_t;

static int lists_handoff(void *opaque, const hf_handoff_t *h)
{
    fixture_t *f = opaque;
    lists_seen_t *l = &f->lists;
    l->download_count = h->journey.download_count;
    for (size_t i = 0; i < h->journey.download_count && i < 8; i++) {
        snprintf(l->download_ids[i], sizeof l->download_ids[i], "%s",
                 h->journey.downloads[i].asset_id);
        l->download_at[i] = h->journey.downloads[i].at_ms;
    }
    l->webinar_count = h->journey.webinar_count;
    for (size_t i = 0; i < h->journey.webinar_count && i < 8; i++)
        snprintf(l->webinar_ids[i], sizeof l->webinar_ids[i], "%s",
                 h->journey.webinars[i].webinar_id);
    return f->inner.handoff(f->inner.opaque, h);
}

static int lists_lifecycle(void *opaque, const hf_lifecycle_t *lc)
{
    fixture_t *f = opaque;
    return f->inner.lifecycle(f->inner.opaque, lc);
}

static int lists_roster(void *opaque, const char *contact_id, const hf_roster_t *r)
{
    fixture_t *f = opaque;
    return f->inner.roster(f->inner.opaque, contact_id, r);
}

static int setup(void **state)
{
    static fixture_t f;
    f = (fixture_t){0};
    hf_rules_t *r = f.rules = tk_rules_new();
    tk_globs(&tk_role_rule(r, "decision_maker", 3.0f)->match.seniority, "vp", NULL);
    tk_globs(&tk_role_rule(r, "champion", 2.0f)->match.seniority, "manager", NULL);
    tk_default_role(r, "user", 1.0f);
    r->accounts.engaged_member_score = 30;
    r->accounts.members_max = 10;
    r->accounts.buying_group_max = 5;
    r->interests.tracked = 8;
    r->interests.top = 3;
    f.s = account_state_new("acct-1");
    f.inner = tk_sink(&f.rec);
    f.sink = (hf_sink_t){.opaque = &f,
                         .handoff = lists_handoff,
                         .lifecycle = lists_lifecycle,
                         .roster = lists_roster};
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

static int fold_into(fixture_t *f, account_state_t *s, const hf_member_update_t *u)
{
    return account_fold_member(s, u, f->rules, NOW_MS, &f->sink);
}

static int fold(fixture_t *f, const char *contact_id, uint64_t version, int64_t at_ms, double score,
                const char *role)
{
    hf_member_update_t u = ta_update(contact_id, version, at_ms, score, role);
    return fold_into(f, f->s, &u);
}

static int leave(fixture_t *f, const char *contact_id, uint64_t version, int64_t at_ms)
{
    hf_member_update_t u = ta_update(contact_id, version, at_ms, 0, "user");
    u.leave = true;
    return fold_into(f, f->s, &u);
}

static void encode(const account_state_t *s, hf_buf_t *out)
{
    hf_buf_reset(out);
    assert_int_equal(account_state_encode(s, out), 0);
}

/* ---- lifecycle ---- */

static void test_first_member_makes_the_account_known(void **state)
{
    fixture_t *f = *state;
    assert_int_equal(account_state_stage(f->s), HF_STAGE_KNOWN);
    assert_string_equal(account_state_id(f->s), "acct-1");
    assert_int_equal(account_state_member_count(f->s), 0);

    assert_int_equal(fold(f, "c-1", 1, TK_T0, 10, "user"), ACCOUNT_FOLD_APPLIED);
    assert_int_equal(f->rec.change_count, 1);
    assert_string_equal(f->rec.changes[0].entity_id, "acct-1");
    assert_string_equal(f->rec.changes[0].from, "anonymous");
    assert_string_equal(f->rec.changes[0].to, "known");
    assert_string_equal(f->rec.changes[0].cause, "first member: c-1");
    assert_int_equal(f->rec.changes[0].at_ms, TK_T0);
    assert_int_equal(f->rec.roster_count, 0); /* nobody engaged: no roster */
    assert_int_equal(account_state_engaged_count(f->s, f->rules), 0);

    /* the first engaged member makes it engaged */
    assert_int_equal(fold(f, "c-1", 2, TK_T0 + TK_HOUR_MS, 40, "user"), ACCOUNT_FOLD_APPLIED);
    assert_int_equal(f->rec.change_count, 2);
    assert_string_equal(f->rec.changes[1].from, "known");
    assert_string_equal(f->rec.changes[1].to, "engaged");
    assert_string_equal(f->rec.changes[1].cause,
                        "member c-1 engaged: score 40 >= engaged_member_score 30");
    assert_int_equal(f->rec.changes[1].at_ms, TK_T0 + TK_HOUR_MS);
    assert_int_equal(account_state_stage(f->s), HF_STAGE_ENGAGED);

    /* more members: no more changes without rules */
    assert_int_equal(fold(f, "c-2", 1, TK_T0 + 2 * TK_HOUR_MS, 50, "user"), ACCOUNT_FOLD_APPLIED);
    assert_int_equal(f->rec.change_count, 2);
    assert_int_equal(f->rec.handoff_count, 0);
    assert_int_equal(account_state_member_count(f->s), 2);
    assert_int_equal(account_state_engaged_count(f->s, f->rules), 2);
}

/* ---- last-writer-wins ---- */

static void test_repeats_and_older_versions_change_nothing(void **state)
{
    fixture_t *f = *state;
    ta_account_rule(f->rules, "three")->min_engaged = 3;
    assert_int_equal(fold(f, "c-1", 5, TK_T0, 40, "user"), ACCOUNT_FOLD_APPLIED);
    assert_int_equal(fold(f, "c-2", 3, TK_T0 + TK_HOUR_MS, 50, "decision_maker"),
                     ACCOUNT_FOLD_APPLIED);
    hf_buf_t before = HF_BUF_INIT, after = HF_BUF_INIT;
    encode(f->s, &before);
    tk_rec_clear(&f->rec);

    /* the same version again (even with other content), older ones, a leave as old */
    assert_int_equal(fold(f, "c-1", 5, TK_T0 + TK_DAY_MS, 99, "champion"), ACCOUNT_FOLD_STALE);
    assert_int_equal(fold(f, "c-1", 4, TK_T0 + TK_DAY_MS, 99, "user"), ACCOUNT_FOLD_STALE);
    assert_int_equal(fold(f, "c-2", 1, TK_T0, 10, "user"), ACCOUNT_FOLD_STALE);
    assert_int_equal(leave(f, "c-2", 3, TK_T0 + TK_DAY_MS), ACCOUNT_FOLD_STALE);
    /* a third engaged member would fire "three": a stale one must not */
    assert_int_equal(fold(f, "c-2", 2, TK_T0, 90, "user"), ACCOUNT_FOLD_STALE);
    encode(f->s, &after);
    assert_int_equal(after.len, before.len);
    assert_memory_equal(after.data, before.data, before.len);
    assert_int_equal(f->rec.change_count + f->rec.roster_count + f->rec.handoff_count, 0);

    /* a newer one applies */
    assert_int_equal(fold(f, "c-1", 6, TK_T0 + TK_DAY_MS, 99, "user"), ACCOUNT_FOLD_APPLIED);
    encode(f->s, &after);
    assert_true(after.len != before.len || memcmp(after.data, before.data, before.len) != 0);
    assert_float_equal(account_state_score(f->s, f->rules, TK_T0 + TK_DAY_MS), 99 + 50 * 3, 1e-9);
    hf_buf_free(&before);
    hf_buf_free(&after);
}

static void test_no_contact_id_is_nothing_to_apply(void **state)
{
    fixture_t *f = *state;
    assert_int_equal(fold(f, NULL, 1, TK_T0, 40, "user"), ACCOUNT_FOLD_STALE);
    assert_int_equal(fold(f, "null", 1, TK_T0, 40, "user"), ACCOUNT_FOLD_STALE);
    assert_int_equal(account_state_member_count(f->s), 0);
    assert_int_equal(f->rec.change_count, 0);
}

static void test_leave_removes_a_member(void **state)
{
    fixture_t *f = *state;
    assert_int_equal(fold(f, "c-1", 1, TK_T0, 40, "user"), ACCOUNT_FOLD_APPLIED);
    assert_int_equal(fold(f, "c-2", 1, TK_T0, 40, "user"), ACCOUNT_FOLD_APPLIED);
    assert_int_equal(account_state_member_count(f->s), 2);

    assert_int_equal(leave(f, "c-1", 2, TK_T0 + TK_HOUR_MS), ACCOUNT_FOLD_APPLIED);
    assert_int_equal(account_state_member_count(f->s), 1);
    assert_int_equal(account_state_engaged_count(f->s, f->rules), 1);
    assert_float_equal(account_state_score(f->s, f->rules, TK_T0), 40, 1e-9);

    /* an update older than the leave, arriving late, does not bring it back */
    assert_int_equal(fold(f, "c-1", 1, TK_T0, 40, "user"), ACCOUNT_FOLD_STALE);
    assert_int_equal(fold(f, "c-1", 2, TK_T0, 40, "user"), ACCOUNT_FOLD_STALE);
    assert_int_equal(account_state_member_count(f->s), 1);
    /* a newer one does (the contact came back) */
    assert_int_equal(fold(f, "c-1", 3, TK_T0 + 2 * TK_HOUR_MS, 40, "user"), ACCOUNT_FOLD_APPLIED);
    assert_int_equal(account_state_member_count(f->s), 2);

    /* a leave that overtook the contact's join: the join, older, changes nothing */
    assert_int_equal(leave(f, "c-9", 4, TK_T0), ACCOUNT_FOLD_APPLIED);
    assert_int_equal(fold(f, "c-9", 3, TK_T0, 40, "user"), ACCOUNT_FOLD_STALE);
    assert_int_equal(account_state_member_count(f->s), 2);
}

/* ---- score and engaged members ---- */

static void test_account_score(void **state)
{
    fixture_t *f = *state;
    f->rules->scoring.half_life_ms = 10 * TK_DAY_MS;
    assert_int_equal(fold(f, "c-1", 1, TK_T0 + 10 * TK_DAY_MS, 40, "decision_maker"),
                     ACCOUNT_FOLD_APPLIED);
    assert_int_equal(fold(f, "c-2", 1, TK_T0, 20, "user"), ACCOUNT_FOLD_APPLIED);

    /* 40 x 3 + 20 x 2^-1 x 1 */
    assert_float_equal(account_state_score(f->s, f->rules, TK_T0 + 10 * TK_DAY_MS), 130, 1e-9);
    /* 40 x 2^-1 x 3 + 20 x 2^-2 x 1 */
    assert_float_equal(account_state_score(f->s, f->rules, TK_T0 + 20 * TK_DAY_MS), 65, 1e-9);
    /* never decayed backwards: c-1's 40 holds before its own time */
    assert_float_equal(account_state_score(f->s, f->rules, TK_T0), 140, 1e-9);

    /* the cap */
    f->rules->accounts.max_score = 100;
    assert_float_equal(account_state_score(f->s, f->rules, TK_T0 + 10 * TK_DAY_MS), 100, 1e-9);
    assert_float_equal(account_state_score(f->s, f->rules, TK_T0 + 20 * TK_DAY_MS), 65, 1e-9);

    /* weights are the rules' of now: a reload re-weighs */
    f->rules->buying_group.roles[0].weight = 1.5f;
    assert_float_equal(account_state_score(f->s, f->rules, TK_T0 + 10 * TK_DAY_MS), 70, 1e-9);
    /* a role no rule names any more weighs as the default role */
    f->rules->buying_group.default_role_weight = 0.5f;
    free(f->rules->buying_group.roles[0].role);
    f->rules->buying_group.roles[0].role = strdup("economic_buyer");
    assert_non_null(f->rules->buying_group.roles[0].role);
    assert_float_equal(account_state_score(f->s, f->rules, TK_T0 + 10 * TK_DAY_MS), 25, 1e-9);
}

static void test_engaged_by_score_and_recency(void **state)
{
    fixture_t *f = *state;
    f->rules->accounts.engaged_member_within_ms = 7 * TK_DAY_MS;
    int64_t ref = TK_T0 + 10 * TK_DAY_MS;
    assert_int_equal(fold(f, "c-1", 1, ref, 50, "user"), 0);                   /* engaged */
    assert_int_equal(fold(f, "c-2", 1, TK_T0 + 2 * TK_DAY_MS, 50, "user"), 0); /* 8 days old */
    assert_int_equal(fold(f, "c-3", 1, ref, 29.4, "user"), 0);                 /* 29 < 30 */
    assert_int_equal(fold(f, "c-4", 1, ref - TK_DAY_MS, 29.5, "user"), 0);     /* rounds to 30 */
    assert_int_equal(fold(f, "c-5", 1, TK_T0 + 3 * TK_DAY_MS, 80, "user"), 0); /* exactly 7 days */
    assert_int_equal(account_state_member_count(f->s), 5);
    assert_int_equal(account_state_engaged_count(f->s, f->rules), 3);

    /* scores decay to the account's newest activity: 29.5 -> 14.75, 80 -> 80/128 */
    f->rules->scoring.half_life_ms = TK_DAY_MS;
    assert_int_equal(account_state_engaged_count(f->s, f->rules), 1);

    /* without a recency bound the 8-day-old member counts as well */
    f->rules->scoring.half_life_ms = 0;
    f->rules->accounts.engaged_member_within_ms = 0;
    assert_int_equal(account_state_engaged_count(f->s, f->rules), 4);
}

/* ---- account rules, each condition alone ---- */

static void test_rule_min_engaged(void **state)
{
    fixture_t *f = *state;
    ta_account_rule(f->rules, "two_engaged")->min_engaged = 2;
    assert_int_equal(fold(f, "c-1", 1, TK_T0, 40, "user"), 0);
    assert_int_equal(fold(f, "c-2", 1, TK_T0, 29, "user"), 0); /* a member, not engaged */
    assert_int_equal(f->rec.handoff_count, 0);
    assert_int_equal(fold(f, "c-3", 1, TK_T0, 30, "user"), 0);
    assert_int_equal(f->rec.handoff_count, 1);
    assert_string_equal(f->rec.handoffs[0].rule, "two_engaged");
    assert_non_null(tk_find_reason(&f->rec.handoffs[0], "two_engaged", "engaged members 2 >= 2"));
}

static void test_rule_min_roles(void **state)
{
    fixture_t *f = *state;
    ta_account_rule(f->rules, "two_roles")->min_roles = 2;
    assert_int_equal(fold(f, "c-1", 1, TK_T0, 40, "decision_maker"), 0);
    assert_int_equal(fold(f, "c-2", 1, TK_T0, 40, "decision_maker"), 0);
    assert_int_equal(fold(f, "c-3", 1, TK_T0, 10, "user"), 0); /* its role is not covered */
    assert_int_equal(f->rec.handoff_count, 0);
    assert_int_equal(fold(f, "c-3", 2, TK_T0, 40, "user"), 0);
    assert_int_equal(f->rec.handoff_count, 1);
    assert_non_null(
        tk_find_reason(&f->rec.handoffs[0], "two_roles", "roles 2 >= 2: decision_maker, user"));
}

static void test_rule_roles_all(void **state)
{
    fixture_t *f = *state;
    hf_account_rule_t *ar = ta_account_rule(f->rules, "dm_and_champion");
    ta_roles(&ar->roles_all, &ar->roles_all_count, "decision_maker", "champion", NULL);
    assert_int_equal(fold(f, "c-1", 1, TK_T0, 40, "decision_maker"), 0);
    assert_int_equal(fold(f, "c-2", 1, TK_T0, 40, "user"), 0);
    assert_int_equal(fold(f, "c-3", 1, TK_T0, 10, "champion"), 0); /* not engaged */
    assert_int_equal(f->rec.handoff_count, 0);
    assert_int_equal(fold(f, "c-3", 2, TK_T0, 35, "champion"), 0);
    assert_int_equal(f->rec.handoff_count, 1);
    assert_non_null(tk_find_reason(&f->rec.handoffs[0], "dm_and_champion",
                                   "all of roles covered: decision_maker, champion"));
}

static void test_rule_roles_any(void **state)
{
    fixture_t *f = *state;
    hf_account_rule_t *ar = ta_account_rule(f->rules, "dm_or_champion");
    ta_roles(&ar->roles_any, &ar->roles_any_count, "decision_maker", "champion", NULL);
    assert_int_equal(fold(f, "c-1", 1, TK_T0, 40, "user"), 0);
    assert_int_equal(fold(f, "c-2", 1, TK_T0, 10, "champion"), 0);
    assert_int_equal(f->rec.handoff_count, 0);
    assert_int_equal(fold(f, "c-2", 2, TK_T0, 30, "champion"), 0);
    assert_int_equal(f->rec.handoff_count, 1);
    assert_non_null(
        tk_find_reason(&f->rec.handoffs[0], "dm_or_champion", "any of roles covered: champion"));
}

static void test_rule_min_score(void **state)
{
    fixture_t *f = *state;
    ta_account_rule(f->rules, "score_100")->min_score = 100;
    assert_int_equal(fold(f, "c-1", 1, TK_T0, 30, "decision_maker"), 0); /* 90 */
    assert_int_equal(fold(f, "c-2", 1, TK_T0, 9.4, "user"), 0);          /* 99.4 -> 99 */
    assert_int_equal(f->rec.handoff_count, 0);
    assert_int_equal(fold(f, "c-2", 2, TK_T0, 10, "user"), 0); /* 100 */
    assert_int_equal(f->rec.handoff_count, 1);
    assert_int_equal(f->rec.handoffs[0].score, 100);
    assert_non_null(tk_find_reason(&f->rec.handoffs[0], "score_100", "account score 100 >= 100"));
}

static void test_rule_min_grade(void **state)
{
    fixture_t *f = *state;
    tk_grades(f->rules, "A", 50, "B", 20, "F", 0, NULL);
    tk_globs(&ta_account_fit_rule(f->rules, "software", 20)->match.industry, "software", NULL);
    ta_account_rule(f->rules, "fit_b")->min_grade = hf_rules_grade_index(f->rules, "B");
    assert_int_equal(fold(f, "c-1", 1, TK_T0, 40, "user"), 0);
    assert_int_equal(f->rec.handoff_count, 0);
    hf_member_update_t u = ta_update("c-2", 1, TK_T0, 0, "user");
    u.industry = "software";
    assert_int_equal(fold_into(f, f->s, &u), 0);
    assert_int_equal(f->rec.handoff_count, 1);
    assert_string_equal(f->rec.handoffs[0].fit_grade, "B");
    assert_non_null(tk_find_reason(&f->rec.handoffs[0], "fit_b", "fit grade B (>= B)"));
    const tk_reason_t *fit = tk_find_reason(&f->rec.handoffs[0], "fit:software", NULL);
    assert_non_null(fit);
    assert_int_equal(fit->points, 20);
    assert_string_equal(fit->detail, "industry software");
}

static void test_rule_tiers(void **state)
{
    fixture_t *f = *state;
    tk_target(f->rules, "acct-t", 1, 30);
    tk_target(f->rules, "acct-2", 2, 0);
    ta_tiers(ta_account_rule(f->rules, "tier_1"), 1, -1);
    /* not a target: tier 0 */
    assert_int_equal(fold(f, "c-1", 1, TK_T0, 40, "user"), 0);
    account_state_t *t2 = account_state_new("acct-2");
    account_state_t *t1 = account_state_new("acct-t");
    assert_non_null(t2);
    assert_non_null(t1);
    hf_member_update_t u = ta_update("c-2", 1, TK_T0, 40, "user");
    assert_int_equal(fold_into(f, t2, &u), 0);
    assert_int_equal(f->rec.handoff_count, 0);
    assert_int_equal(fold_into(f, t1, &u), 0);
    assert_int_equal(f->rec.handoff_count, 1);
    assert_string_equal(f->rec.handoffs[0].entity_id, "acct-t");
    assert_non_null(tk_find_reason(&f->rec.handoffs[0], "tier_1", "tier 1 in 1"));
    const tk_reason_t *target = tk_find_reason(&f->rec.handoffs[0], "target_account", "tier 1");
    assert_non_null(target);
    assert_int_equal(target->points, 30);
    account_state_free(t1);
    account_state_free(t2);
}

/* ---- qualification ---- */

static void test_once_per_cycle(void **state)
{
    fixture_t *f = *state;
    ta_account_rule(f->rules, "one_engaged")->min_engaged = 1;
    assert_int_equal(fold(f, "c-1", 1, TK_T0, 40, "user"), 0);
    assert_int_equal(f->rec.handoff_count, 1);
    assert_int_equal(f->rec.change_count, 3);
    assert_string_equal(f->rec.changes[2].from, "engaged");
    assert_string_equal(f->rec.changes[2].to, "conversation_ready");
    assert_string_equal(f->rec.changes[2].cause, "rule one_engaged");
    assert_int_equal(account_state_stage(f->s), HF_STAGE_CONVERSATION_READY);
    assert_true(account_state_handed_off(f->s));
    assert_int_equal(account_state_cycle(f->s), 1);
    char id[HF_HANDOFF_ID_SIZE];
    assert_true(hf_handoff_id(id, sizeof id, HF_ENTITY_ACCOUNT, "acct-1", 1) > 0);
    assert_string_equal(f->rec.handoffs[0].handoff_id, id);
    assert_string_equal(f->rec.handoffs[0].stage_before, "engaged");

    /* further updates of every kind: no second handoff, no stage change */
    assert_int_equal(fold(f, "c-2", 1, TK_T0 + TK_HOUR_MS, 90, "decision_maker"), 0);
    assert_int_equal(fold(f, "c-1", 2, TK_T0 + TK_DAY_MS, 95, "champion"), 0);
    assert_int_equal(leave(f, "c-1", 3, TK_T0 + TK_DAY_MS), 0);
    assert_int_equal(fold(f, "c-1", 4, TK_T0 + 2 * TK_DAY_MS, 99, "user"), 0);
    assert_int_equal(f->rec.handoff_count, 1);
    assert_int_equal(f->rec.change_count, 3);
    assert_int_equal(account_state_cycle(f->s), 1);
}

static void test_late_update_outside_grace_does_not_qualify(void **state)
{
    fixture_t *f = *state;
    f->rules->qualify.grace_ms = TK_HOUR_MS;
    ta_account_rule(f->rules, "two_engaged")->min_engaged = 2;
    assert_int_equal(fold(f, "c-1", 1, TK_T0 + 10 * TK_DAY_MS, 40, "user"), 0);
    assert_int_equal(fold(f, "c-2", 1, TK_T0, 40, "user"), 0); /* ten days late */
    assert_int_equal(account_state_engaged_count(f->s, f->rules), 2);
    assert_int_equal(f->rec.handoff_count, 0);
    /* the next update of its journey, dated now, does */
    hf_member_update_t u = ta_update("c-2", 2, TK_T0 + 10 * TK_DAY_MS, 40, "user");
    u.last_active_ms = u.score_at_ms = TK_T0;
    assert_int_equal(fold_into(f, f->s, &u), 0);
    assert_int_equal(f->rec.handoff_count, 1);
    assert_int_equal(f->rec.handoffs[0].qualified_at_ms, TK_T0 + 10 * TK_DAY_MS);
}

static void test_sink_error_never_leads_to_a_second_handoff(void **state)
{
    fixture_t *f = *state;
    ta_account_rule(f->rules, "two_engaged")->min_engaged = 2;
    assert_int_equal(fold(f, "c-1", 1, TK_T0, 40, "user"), 0);
    f->rec.fail_with = -EIO;
    assert_int_equal(fold(f, "c-2", 1, TK_T0, 40, "user"), -EIO);
    f->rec.fail_with = 0;
    assert_true(account_state_handed_off(f->s));
    assert_int_equal(fold(f, "c-3", 1, TK_T0, 50, "user"), 0);
    assert_int_equal(f->rec.handoff_count, 0);
}

/* The payload: a buying group of four, three engaged. */
static void test_handoff_payload(void **state)
{
    fixture_t *f = *state;
    hf_rules_t *r = f->rules;
    r->accounts.buying_group_max = 2;
    r->journey.recent_max = 4;
    r->journey.downloads_max = 2;
    r->interests.top = 2;
    tk_grades(r, "A", 50, "B", 20, "F", 0, NULL);
    tk_globs(&ta_account_fit_rule(r, "software", 20)->match.industry, "software", NULL);
    tk_target(r, "acct-1", 1, 10);
    tk_globs(&tk_route_rule(r, "emea", -1)->country, "DE", NULL);
    ta_account_rule(r, "buying_group")->min_engaged = 3;

    hf_member_update_t u4 = ta_update("c-4", 1, TK_T0, 10, "user");
    const hf_touch_t t4[] = {{TK_T0, "web_visit", "Home", NULL}};
    u4.touches = t4;
    u4.touch_count = 1;
    u4.country = "BR";
    assert_int_equal(fold_into(f, f->s, &u4), 0);

    int64_t t1 = TK_T0 + TK_DAY_MS;
    hf_member_update_t u1 = ta_update("c-1", 1, t1, 50, "decision_maker");
    u1.first_seen_ms = TK_T0 - 5 * TK_DAY_MS;
    const hf_interest_t i1[] = {{"reduce churn", 2.0f}, {"soc 2", 1.0f}};
    const hf_touch_t tc1[] = {{t1, "download", "Playbook", "ebook"},
                              {TK_T0 + 2 * TK_HOUR_MS, "web_visit", "Pricing", NULL}};
    const hf_download_t d1[] = {{"wp-1", "Playbook", "ebook", t1},
                                {"wp-0", "Intro", "datasheet", TK_T0 + 2 * TK_HOUR_MS}};
    u1.interests = i1;
    u1.interest_count = 2;
    u1.touches = tc1;
    u1.touch_count = 2;
    u1.downloads = d1;
    u1.download_count = 2;
    u1.sessions = 2;
    u1.page_views = 5;
    u1.email_opens = 1;
    u1.country = "DE";
    u1.region = "emea";
    u1.industry = "software";
    assert_int_equal(fold_into(f, f->s, &u1), 0);

    int64_t t2 = TK_T0 + 2 * TK_DAY_MS;
    hf_member_update_t u2 = ta_update("c-2", 1, t2, 80, "champion");
    u2.first_seen_ms = TK_T0 - TK_DAY_MS;
    const hf_interest_t i2[] = {{"reduce churn", 1.5f}};
    const hf_touch_t tc2[] = {{t2, "email", "spring", "clicked"}, {t1, "web_visit", "Docs", NULL}};
    const hf_download_t d2[] = {{"wp-2", "Case study", "case_study", t1 + 12 * TK_HOUR_MS}};
    u2.interests = i2;
    u2.interest_count = 1;
    u2.touches = tc2;
    u2.touch_count = 2;
    u2.downloads = d2;
    u2.download_count = 1;
    u2.sessions = 1;
    u2.page_views = 2;
    u2.email_clicks = 1;
    u2.placement = "role rule 2 (champion): title \"Marketing Manager\" matched \"*manager*\"";
    assert_int_equal(fold_into(f, f->s, &u2), 0);
    assert_int_equal(f->rec.handoff_count, 0);

    int64_t t3 = TK_T0 + 3 * TK_DAY_MS;
    hf_member_update_t u3 = ta_update("c-3", 1, t3, 90, "user");
    const hf_interest_t i3[] = {{"pricing", 1.0f}};
    const hf_touch_t tc3[] = {{t3, "form", "demo", NULL}};
    const hf_webinar_t w3[] = {{"wb-1", "Live demo", "attended", 30, t3}};
    u3.interests = i3;
    u3.interest_count = 1;
    u3.touches = tc3;
    u3.touch_count = 1;
    u3.webinars = w3;
    u3.webinar_count = 1;
    u3.sessions = 4;
    assert_int_equal(fold_into(f, f->s, &u3), 0);
    assert_int_equal(f->rec.handoff_count, 1);
    const tk_handoff_t *h = &f->rec.handoffs[0];

    char id[HF_HANDOFF_ID_SIZE];
    assert_true(hf_handoff_id(id, sizeof id, HF_ENTITY_ACCOUNT, "acct-1", 1) > 0);
    assert_string_equal(h->handoff_id, id);
    assert_string_equal(h->entity_id, "acct-1");
    assert_string_equal(h->account_id, "acct-1");
    assert_string_equal(h->rule, "buying_group");
    assert_string_equal(h->stage_before, "engaged");
    assert_int_equal(h->qualified_at_ms, t3);
    assert_int_equal(h->emitted_at_ms, NOW_MS);
    assert_int_equal(h->accept_by_ms, NOW_MS + 4 * TK_HOUR_MS);
    assert_int_equal(h->first_touch_by_ms, NOW_MS + 24 * TK_HOUR_MS);
    assert_int_equal(h->score, 160 + 150 + 90 + 10);
    assert_string_equal(h->fit_grade, "B"); /* software 20 + tier 10 */

    /* buying group: engaged members by weighted score, bounded */
    assert_int_equal(h->buying_group_count, 2);
    assert_string_equal(h->buying_group[0].contact_id, "c-2");
    assert_string_equal(h->buying_group[0].role, "champion");
    assert_int_equal(h->buying_group[0].score, 80);
    assert_int_equal(h->buying_group[0].last_active_ms, t2);
    /* each with how it got its role, as its last update said (none: NULL) */
    assert_string_equal(h->buying_group[0].placement, u2.placement);
    assert_string_equal(h->buying_group[1].contact_id, "c-1");
    assert_null(h->buying_group[1].placement);
    assert_int_equal(h->roles_covered_count, 3);
    assert_string_equal(h->roles_covered[0], "champion");
    assert_string_equal(h->roles_covered[1], "decision_maker");
    assert_string_equal(h->roles_covered[2], "user");

    /* reasons: the condition, each member, the fit */
    assert_int_equal(h->reason_count, 7);
    const struct {
        const char *rule;
        int32_t points, count;
        const char *detail;
    } want[] = {
        {"buying_group", 0, 0, "engaged members 3 >= 3"},
        {"member:c-2", 160, 1, "champion, score 80 x 2"},
        {"member:c-1", 150, 1, "decision_maker, score 50 x 3"},
        {"member:c-3", 90, 1, "user, score 90 x 1"},
        {"member:c-4", 10, 1, "user, score 10 x 1"},
        {"fit:software", 20, 1, "industry software"},
        {"target_account", 10, 1, "tier 1"},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        assert_string_equal(h->reasons[i].rule, want[i].rule);
        assert_int_equal(h->reasons[i].points, want[i].points);
        assert_int_equal(h->reasons[i].count, want[i].count);
        assert_string_equal(h->reasons[i].detail, want[i].detail);
    }

    /* journey: touches merged newest first (ties: the higher-ranked member), bounded */
    assert_int_equal(h->recent_count, 4);
    assert_int_equal(h->recent[0].at_ms, t3);
    assert_string_equal(h->recent[0].type, "form");
    assert_string_equal(h->recent[0].detail, "c-3");
    assert_int_equal(h->recent[1].at_ms, t2);
    assert_string_equal(h->recent[1].detail, "c-2: clicked");
    assert_int_equal(h->recent[2].at_ms, t1);
    assert_string_equal(h->recent[2].title, "Docs");
    assert_int_equal(h->recent[3].at_ms, t1);
    assert_string_equal(h->recent[3].title, "Playbook");
    assert_string_equal(h->recent[3].detail, "c-1: ebook");
    assert_int_equal(f->lists.download_count, 2);
    assert_string_equal(f->lists.download_ids[0], "wp-2");
    assert_string_equal(f->lists.download_ids[1], "wp-1");
    assert_int_equal(f->lists.webinar_count, 1);
    assert_string_equal(f->lists.webinar_ids[0], "wb-1");
    assert_int_equal(h->sessions, 7);
    assert_int_equal(h->page_views, 7);
    assert_int_equal(h->email_opens, 1);
    assert_int_equal(h->email_clicks, 1);
    assert_int_equal(h->first_seen_ms, TK_T0 - 5 * TK_DAY_MS);
    assert_true(h->has_known_since);
    assert_int_equal(h->known_since_ms, TK_T0);
    assert_int_equal(h->top_page_count, 0);

    /* interests summed by topic; ties by name */
    assert_int_equal(h->interest_count, 2);
    assert_string_equal(h->interests[0].topic, "reduce churn");
    assert_float_equal(h->interests[0].weight, 3.5, 1e-6);
    assert_string_equal(h->interests[1].topic, "pricing");
    assert_float_equal(h->interests[1].weight, 1.0, 1e-6);

    /* routing from the newest member's country */
    assert_string_equal(h->routing_team, "emea");
    assert_string_equal(h->region, "emea");
    assert_null(h->routing_note);
}

static void test_interests_decay_to_the_newest_activity(void **state)
{
    fixture_t *f = *state;
    f->rules->interests.half_life_ms = TK_DAY_MS;
    ta_account_rule(f->rules, "two_engaged")->min_engaged = 2;
    const hf_interest_t a[] = {{"churn", 4.0f}};
    const hf_interest_t b[] = {{"churn", 1.0f}, {"soc 2", 2.0f}};
    hf_member_update_t u = ta_update("c-1", 1, TK_T0, 40, "user");
    u.interests = a;
    u.interest_count = 1;
    assert_int_equal(fold_into(f, f->s, &u), 0);
    u = ta_update("c-2", 1, TK_T0 + 2 * TK_DAY_MS, 40, "user");
    u.interests = b;
    u.interest_count = 2;
    assert_int_equal(fold_into(f, f->s, &u), 0);
    assert_int_equal(f->rec.handoff_count, 1);
    const tk_handoff_t *h = &f->rec.handoffs[0];
    assert_int_equal(h->interest_count, 2);
    assert_string_equal(h->interests[0].topic, "churn"); /* 4 x 2^-2 + 1 = 2 */
    assert_float_equal(h->interests[0].weight, 2.0, 1e-6);
    assert_string_equal(h->interests[1].topic, "soc 2");
}

static void test_routing_flags_an_uncovered_country(void **state)
{
    fixture_t *f = *state;
    tk_globs(&tk_route_rule(f->rules, "emea", -1)->country, "DE", NULL);
    ta_account_rule(f->rules, "one_engaged")->min_engaged = 1;
    hf_member_update_t u = ta_update("c-1", 1, TK_T0, 40, "user");
    u.country = "BR";
    assert_int_equal(fold_into(f, f->s, &u), 0);
    assert_int_equal(f->rec.handoff_count, 1);
    assert_null(f->rec.handoffs[0].routing_team);
    assert_string_equal(f->rec.handoffs[0].routing_note, "no team covers country BR");
}

/* ---- rosters ---- */

static void test_rosters_when_the_engaged_set_or_a_role_changes(void **state)
{
    fixture_t *f = *state;
    tk_rec_t *rec = &f->rec;
    /* the first engaged member: a roster with nobody else */
    assert_int_equal(fold(f, "c-1", 1, TK_T0, 40, "decision_maker"), 0);
    assert_int_equal(rec->roster_count, 1);
    assert_string_equal(rec->rosters[0].to_contact_id, "c-1");
    assert_string_equal(rec->rosters[0].account_id, "acct-1");
    assert_int_equal(rec->rosters[0].version, 1);
    assert_int_equal(rec->rosters[0].member_count, 0);
    assert_int_equal(rec->rosters[0].roles_covered_count, 1);
    assert_string_equal(rec->rosters[0].roles_covered[0], "decision_maker");
    tk_rec_clear(rec);

    /* a score change of an engaged member, a member that is not engaged: nothing */
    assert_int_equal(fold(f, "c-1", 2, TK_T0 + TK_HOUR_MS, 60, "decision_maker"), 0);
    assert_int_equal(fold(f, "c-2", 1, TK_T0 + TK_HOUR_MS, 10, "user"), 0);
    assert_int_equal(rec->roster_count, 0);

    /* c-2 engaged: both hear of each other */
    assert_int_equal(fold(f, "c-2", 2, TK_T0 + 2 * TK_HOUR_MS, 35, "user"), 0);
    assert_int_equal(rec->roster_count, 2);
    assert_string_equal(rec->rosters[0].to_contact_id, "c-1");
    assert_int_equal(rec->rosters[0].version, 2);
    assert_int_equal(rec->rosters[0].member_count, 1);
    assert_string_equal(rec->rosters[0].members[0].contact_id, "c-2");
    assert_string_equal(rec->rosters[0].members[0].role, "user");
    assert_int_equal(rec->rosters[0].members[0].score, 35);
    assert_int_equal(rec->rosters[0].members[0].last_active_ms, TK_T0 + 2 * TK_HOUR_MS);
    assert_string_equal(rec->rosters[1].to_contact_id, "c-2");
    assert_int_equal(rec->rosters[1].version, 2);
    assert_int_equal(rec->rosters[1].member_count, 1);
    assert_string_equal(rec->rosters[1].members[0].contact_id, "c-1");
    assert_int_equal(rec->rosters[1].roles_covered_count, 2);
    assert_string_equal(rec->rosters[1].roles_covered[0], "decision_maker");
    assert_string_equal(rec->rosters[1].roles_covered[1], "user");
    tk_rec_clear(rec);

    /* a role change */
    assert_int_equal(fold(f, "c-2", 3, TK_T0 + 3 * TK_HOUR_MS, 35, "champion"), 0);
    assert_int_equal(rec->roster_count, 2);
    assert_int_equal(rec->rosters[0].version, 3);
    assert_string_equal(rec->rosters[0].members[0].role, "champion");
    tk_rec_clear(rec);

    /* c-1 stops being engaged: c-2 is told, and so is c-1 (itself not listed) */
    assert_int_equal(fold(f, "c-1", 3, TK_T0 + 3 * TK_HOUR_MS, 5, "decision_maker"), 0);
    assert_int_equal(rec->roster_count, 2);
    assert_string_equal(rec->rosters[0].to_contact_id, "c-2");
    assert_int_equal(rec->rosters[0].version, 4);
    assert_int_equal(rec->rosters[0].member_count, 0);
    assert_string_equal(rec->rosters[1].to_contact_id, "c-1");
    assert_int_equal(rec->rosters[1].member_count, 1);
    assert_string_equal(rec->rosters[1].members[0].contact_id, "c-2");
    assert_int_equal(rec->rosters[1].roles_covered_count, 1);
    assert_string_equal(rec->rosters[1].roles_covered[0], "champion");
    tk_rec_clear(rec);

    /* c-2 leaves: it is not in the account any more, c-1 is not engaged: nobody to
     * tell, but the next change is a new version */
    assert_int_equal(leave(f, "c-2", 4, TK_T0 + 4 * TK_HOUR_MS), 0);
    assert_int_equal(rec->roster_count, 0);
    assert_int_equal(fold(f, "c-1", 4, TK_T0 + 5 * TK_HOUR_MS, 50, "decision_maker"), 0);
    assert_int_equal(rec->roster_count, 1);
    assert_int_equal(rec->rosters[0].version, 6);
}

static void test_roster_lists_at_most_buying_group_max(void **state)
{
    fixture_t *f = *state;
    f->rules->accounts.buying_group_max = 2;
    assert_int_equal(fold(f, "c-1", 1, TK_T0, 40, "user"), 0);
    assert_int_equal(fold(f, "c-2", 1, TK_T0, 50, "user"), 0);
    assert_int_equal(fold(f, "c-3", 1, TK_T0, 60, "user"), 0);
    tk_rec_clear(&f->rec);
    assert_int_equal(fold(f, "c-4", 1, TK_T0, 70, "user"), 0);
    assert_int_equal(f->rec.roster_count, 4);
    /* to c-4 (first, the strongest): c-3 and c-2; to c-3: c-4 and c-2 */
    assert_string_equal(f->rec.rosters[0].to_contact_id, "c-4");
    assert_int_equal(f->rec.rosters[0].member_count, 2);
    assert_string_equal(f->rec.rosters[0].members[0].contact_id, "c-3");
    assert_string_equal(f->rec.rosters[0].members[1].contact_id, "c-2");
    assert_string_equal(f->rec.rosters[1].to_contact_id, "c-3");
    assert_string_equal(f->rec.rosters[1].members[0].contact_id, "c-4");
    assert_string_equal(f->rec.rosters[1].members[1].contact_id, "c-2");
}

/* ---- the members bound ---- */

static void test_members_bound(void **state)
{
    fixture_t *f = *state;
    f->rules->accounts.members_max = 3;
    assert_int_equal(fold(f, "c-1", 1, TK_T0, 40, "user"), 0);              /* engaged, oldest */
    assert_int_equal(fold(f, "c-2", 1, TK_T0 + TK_HOUR_MS, 10, "user"), 0); /* idle, older */
    assert_int_equal(fold(f, "c-3", 1, TK_T0 + 2 * TK_HOUR_MS, 10, "user"), 0); /* idle */
    assert_int_equal(fold(f, "c-4", 1, TK_T0 + 3 * TK_HOUR_MS, 10, "user"), 0);
    assert_int_equal(account_state_member_count(f->s), 3);
    /* c-2 went: the least recently active of those not engaged */
    assert_float_equal(account_state_score(f->s, f->rules, TK_T0), 60, 1e-9);
    assert_int_equal(fold(f, "c-2", 1, TK_T0 + TK_HOUR_MS, 10, "user"), ACCOUNT_FOLD_STALE);

    /* a newer update brings it back, and c-3 goes */
    assert_int_equal(fold(f, "c-2", 2, TK_T0 + 4 * TK_HOUR_MS, 11, "user"), 0);
    assert_int_equal(account_state_member_count(f->s), 3);
    assert_int_equal(fold(f, "c-3", 1, TK_T0, 10, "user"), ACCOUNT_FOLD_STALE);
    assert_float_equal(account_state_score(f->s, f->rules, TK_T0), 40 + 10 + 11, 1e-9);

    /* an idle member older than everyone is not kept at all */
    assert_int_equal(fold(f, "c-5", 1, TK_T0 - TK_DAY_MS, 1, "user"), 0);
    assert_int_equal(account_state_member_count(f->s), 3);
    assert_float_equal(account_state_score(f->s, f->rules, TK_T0), 61, 1e-9);

    /* everyone engaged: the least recently active goes, engaged or not */
    assert_int_equal(fold(f, "c-2", 3, TK_T0 + 5 * TK_HOUR_MS, 30, "user"), 0);
    assert_int_equal(fold(f, "c-4", 2, TK_T0 + 5 * TK_HOUR_MS, 30, "user"), 0);
    assert_int_equal(account_state_engaged_count(f->s, f->rules), 3);
    assert_int_equal(fold(f, "c-6", 1, TK_T0 + 6 * TK_HOUR_MS, 30, "user"), 0);
    assert_int_equal(account_state_member_count(f->s), 3);
    assert_int_equal(fold(f, "c-1", 1, TK_T0, 40, "user"), ACCOUNT_FOLD_STALE); /* c-1 went */
    assert_float_equal(account_state_score(f->s, f->rules, TK_T0), 90, 1e-9);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_first_member_makes_the_account_known, setup, teardown),
        cmocka_unit_test_setup_teardown(test_repeats_and_older_versions_change_nothing, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_no_contact_id_is_nothing_to_apply, setup, teardown),
        cmocka_unit_test_setup_teardown(test_leave_removes_a_member, setup, teardown),
        cmocka_unit_test_setup_teardown(test_account_score, setup, teardown),
        cmocka_unit_test_setup_teardown(test_engaged_by_score_and_recency, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rule_min_engaged, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rule_min_roles, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rule_roles_all, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rule_roles_any, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rule_min_score, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rule_min_grade, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rule_tiers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_once_per_cycle, setup, teardown),
        cmocka_unit_test_setup_teardown(test_late_update_outside_grace_does_not_qualify, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_sink_error_never_leads_to_a_second_handoff, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_handoff_payload, setup, teardown),
        cmocka_unit_test_setup_teardown(test_interests_decay_to_the_newest_activity, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_routing_flags_an_uncovered_country, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rosters_when_the_engaged_set_or_a_role_changes, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_roster_lists_at_most_buying_group_max, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_members_bound, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
