/* Stage 2's side of accounts: member updates, rosters, the account context of a
 * contact handoff (interests, buying group, routing), merges and redirects. */
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

#define NOW_MS (TK_T0 + 400 * TK_DAY_MS) /* wall time, unrelated to event time */

typedef struct fixture {
    hf_rules_t *rules;
    contact_state_t *s;     /* "c-1" */
    contact_state_t *other; /* "c-2" */
    tk_rec_t rec;
    hf_sink_t sink;
} fixture_t;

static int setup(void **state)
{
    static fixture_t f;
    f = (fixture_t){0};
    hf_rules_t *r = f.rules = tk_rules_new();
    tk_score_rule(r, "any", 10);
    tk_globs(&r->accounts.free_mail_domains, "gmail.com", NULL);
    tk_domain_account(r, "acme.com", "acct-acme");
    tk_globs(&tk_role_rule(r, "decision_maker", 3.0f)->match.seniority, "vp", NULL);
    tk_default_role(r, "user", 1.0f);
    r->interests.tracked = 4;
    r->interests.top = 2;
    r->accounts.buying_group_max = 5;
    tk_hand_raisers(r, "hand_raiser", 1u << HF_FORM_DEMO_REQUEST, false);
    f.s = contact_state_new("c-1");
    f.other = contact_state_new("c-2");
    f.sink = tk_sink(&f.rec);
    *state = &f;
    return f.s && f.other ? 0 : -1;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    tk_rec_clear(&f->rec);
    contact_state_free(f->s);
    contact_state_free(f->other);
    tk_rules_free(f->rules);
    return 0;
}

static int fold_into(fixture_t *f, contact_state_t *s, const hf_event_t *ev)
{
    return contact_fold(s, ev, f->rules, NOW_MS, &f->sink);
}

/* A form of @contact_id with the traits given (NULL = absent). */
static hf_event_t form_with(const char *event_id, int64_t at_ms, const char *contact_id,
                            hf_form_type_t type, const char *email_domain, const char *account_id)
{
    hf_event_t ev = tk_form(event_id, at_ms, NULL, contact_id, type);
    ev.traits.email_domain = email_domain;
    ev.traits.account_id = account_id;
    return ev;
}

static void test_member_updates(void **state)
{
    fixture_t *f = *state;
    /* no account yet: nothing for stage 3 */
    hf_event_t v1 = tk_visit("v-1", TK_T0, NULL, "c-1", "s-1", "/blog", NULL);
    assert_int_equal(fold_into(f, f->s, &v1), CONTACT_FOLD_APPLIED);
    assert_int_equal(f->rec.update_total, 0);
    assert_null(contact_state_account(f->s));

    hf_event_t form =
        form_with("f-1", TK_T0 + TK_HOUR_MS, "c-1", HF_FORM_CONTENT_GATE, "acme.com", NULL);
    form.traits.seniority = "VP";
    form.traits.company_name = "Acme";
    form.traits.industry = "banking";
    form.traits.has_employees = true;
    form.traits.employees = 500;
    form.traits.country = "DE";
    form.traits.region = "emea";
    assert_int_equal(fold_into(f, f->s, &form), CONTACT_FOLD_APPLIED);
    assert_string_equal(contact_state_account(f->s), "acct-acme");
    assert_string_equal(contact_state_role(f->s, f->rules), "decision_maker");
    assert_int_equal(f->rec.update_count, 1);
    const tk_member_update_t *u = &f->rec.updates[0];
    assert_string_equal(u->contact_id, "c-1");
    assert_string_equal(u->account_id, "acct-acme");
    assert_false(u->leave);
    assert_int_equal(u->version, 1);
    assert_int_equal(u->at_ms, TK_T0 + TK_HOUR_MS);
    assert_float_equal(u->score, 20.0, 0);
    assert_int_equal(u->score_at_ms, TK_T0 + TK_HOUR_MS);
    assert_string_equal(u->role, "decision_maker");
    /* how: the rule and the pattern its seniority matched */
    assert_string_equal(u->placement,
                        "role rule 1 (decision_maker): seniority \"VP\" matched \"vp\"");
    assert_string_equal(u->stage, "known");
    assert_string_equal(u->fit_grade, "");
    assert_int_equal(u->first_seen_ms, TK_T0);
    assert_int_equal(u->last_active_ms, TK_T0 + TK_HOUR_MS);
    assert_string_equal(u->company_name, "Acme");
    assert_string_equal(u->industry, "banking");
    assert_true(u->has_employees);
    assert_int_equal(u->employees, 500);
    assert_string_equal(u->country, "DE");
    assert_string_equal(u->region, "emea");
    assert_int_equal(u->contribution_count, 1);
    assert_string_equal(u->contributions[0].rule, "any");
    assert_int_equal(u->contributions[0].points, 20);
    assert_int_equal(u->contributions[0].count, 2);
    assert_string_equal(u->contributions[0].detail, "2 matches");
    assert_int_equal(u->touch_count, 2);
    assert_string_equal(u->touches[0].type, "form");
    assert_string_equal(u->touches[1].type, "web_visit");
    assert_int_equal(u->sessions, 1);
    assert_int_equal(u->page_views, 1);

    /* every applied event sends the summary again, with the next version */
    hf_event_t v2 = tk_visit("v-2", TK_T0 + 2 * TK_HOUR_MS, NULL, "c-1", "s-1", "/docs", NULL);
    assert_int_equal(fold_into(f, f->s, &v2), CONTACT_FOLD_APPLIED);
    assert_int_equal(f->rec.update_count, 2);
    assert_int_equal(f->rec.updates[1].version, 2);
    assert_float_equal(f->rec.updates[1].score, 30.0, 0);
    /* a repeat, and sales activity that moves nothing (it names no handoff of this
     * contact), change nothing and send nothing */
    assert_int_equal(fold_into(f, f->s, &v2), CONTACT_FOLD_DUPLICATE);
    hf_event_t sales = {.kind = HF_EV_SALES,
                        .event_id = "sa-1",
                        .occurred_at_ms = TK_T0 + 3 * TK_HOUR_MS,
                        .entity_type = HF_ENTITY_CONTACT,
                        .entity_id = "c-1",
                        .handoff_id = "ho_0000000000000000",
                        .sales_action = HF_SALES_CONTACTED};
    assert_int_equal(fold_into(f, f->s, &sales), CONTACT_FOLD_UNKNOWN_HANDOFF);
    assert_int_equal(f->rec.update_total, 2);
    /* versions go on increasing */
    hf_event_t v3 = tk_visit("v-3", TK_T0 + 4 * TK_HOUR_MS, NULL, "c-1", "s-1", "/docs", NULL);
    assert_int_equal(fold_into(f, f->s, &v3), CONTACT_FOLD_APPLIED);
    assert_int_equal(f->rec.updates[2].version, 3);
    /* the stage an event leads to is in its update */
    hf_event_t demo =
        form_with("f-2", TK_T0 + 5 * TK_HOUR_MS, "c-1", HF_FORM_DEMO_REQUEST, NULL, NULL);
    assert_int_equal(fold_into(f, f->s, &demo), CONTACT_FOLD_APPLIED);
    assert_int_equal(f->rec.handoff_count, 1);
    assert_int_equal(f->rec.updates[3].version, 4);
    assert_string_equal(f->rec.updates[3].stage, "conversation_ready");
}

/* accounts.member_updates: on_commit -- folds only owe the summary; a flush sends
 * the newest, once, dated by the newest change; a move still leaves at once. */
static void test_member_updates_on_commit(void **state)
{
    fixture_t *f = *state;
    f->rules->accounts.member_updates = HF_MEMBER_UPDATES_ON_COMMIT;
    hf_event_t form = form_with("f-1", TK_T0 + TK_HOUR_MS, "c-1", HF_FORM_OTHER, "acme.com", NULL);
    hf_event_t v1 = tk_visit("v-1", TK_T0 + 2 * TK_HOUR_MS, NULL, "c-1", "s-1", "/docs", NULL);
    hf_event_t v0 = tk_visit("v-0", TK_T0, NULL, "c-1", "s-1", "/blog", NULL); /* late */
    assert_int_equal(fold_into(f, f->s, &form), CONTACT_FOLD_APPLIED);
    assert_int_equal(fold_into(f, f->s, &v1), CONTACT_FOLD_APPLIED);
    assert_int_equal(fold_into(f, f->s, &v0), CONTACT_FOLD_APPLIED);
    assert_int_equal(f->rec.update_total, 0);
    assert_true(contact_state_summary_pending(f->s));

    assert_int_equal(contact_flush_summary(f->s, f->rules, &f->sink), 0);
    assert_false(contact_state_summary_pending(f->s));
    assert_int_equal(f->rec.update_count, 1);
    const tk_member_update_t *u = &f->rec.updates[0];
    assert_string_equal(u->account_id, "acct-acme");
    assert_false(u->leave);
    assert_int_equal(u->version, 1);
    assert_int_equal(u->at_ms, TK_T0 + 2 * TK_HOUR_MS); /* the newest change, not the last fold */
    assert_int_equal(u->touch_count, 3);
    /* nothing owed: nothing sent */
    assert_int_equal(contact_flush_summary(f->s, f->rules, &f->sink), 0);
    assert_int_equal(f->rec.update_total, 1);

    /* a move: the leave goes at once (after the last version sent), the join is owed */
    hf_event_t b = form_with("f-2", TK_T0 + 3 * TK_HOUR_MS, "c-1", HF_FORM_OTHER, NULL, "acct-2");
    assert_int_equal(fold_into(f, f->s, &b), CONTACT_FOLD_APPLIED);
    assert_int_equal(f->rec.update_total, 2);
    assert_true(f->rec.updates[1].leave);
    assert_string_equal(f->rec.updates[1].account_id, "acct-acme");
    assert_int_equal(f->rec.updates[1].version, 2);
    assert_int_equal(contact_flush_summary(f->s, f->rules, &f->sink), 0);
    assert_int_equal(f->rec.update_total, 3);
    assert_string_equal(f->rec.updates[2].account_id, "acct-2");
    assert_int_equal(f->rec.updates[2].version, 3);

    /* owed, then merged away: the redirect owes nothing */
    hf_event_t v2 = tk_visit("v-2", TK_T0 + 4 * TK_HOUR_MS, NULL, "c-1", "s-1", "/docs", NULL);
    assert_int_equal(fold_into(f, f->s, &v2), CONTACT_FOLD_APPLIED);
    assert_true(contact_state_summary_pending(f->s));
    assert_int_equal(contact_state_make_redirect(f->s, "c-9"), 0);
    assert_false(contact_state_summary_pending(f->s));
    assert_int_equal(contact_flush_summary(f->s, f->rules, &f->sink), 0);
    assert_int_equal(f->rec.update_total, 3);
}

/* accounts.member_journey: only the newest touches go to the account */
static void test_member_journey_bound(void **state)
{
    fixture_t *f = *state;
    f->rules->accounts.member_journey = 2;
    hf_event_t form = form_with("f-1", TK_T0, "c-1", HF_FORM_OTHER, "acme.com", NULL);
    hf_event_t v1 = tk_visit("v-1", TK_T0 + 1, NULL, "c-1", "s-1", "/docs", NULL);
    hf_event_t v2 = tk_visit("v-2", TK_T0 + 2, NULL, "c-1", "s-1", "/pricing", NULL);
    assert_int_equal(fold_into(f, f->s, &form), CONTACT_FOLD_APPLIED);
    assert_int_equal(fold_into(f, f->s, &v1), CONTACT_FOLD_APPLIED);
    assert_int_equal(fold_into(f, f->s, &v2), CONTACT_FOLD_APPLIED);
    const tk_member_update_t *u = &f->rec.updates[f->rec.update_count - 1];
    assert_int_equal(u->touch_count, 2);
    assert_int_equal(u->touches[0].at_ms, TK_T0 + 2);
    assert_int_equal(u->touches[1].at_ms, TK_T0 + 1);
}

static void test_no_account_no_updates(void **state)
{
    fixture_t *f = *state;
    hf_event_t form = form_with("f-1", TK_T0, "c-1", HF_FORM_CONTENT_GATE, "gmail.com", NULL);
    assert_int_equal(fold_into(f, f->s, &form), CONTACT_FOLD_APPLIED);
    hf_event_t v = tk_visit("v-1", TK_T0 + 1, NULL, "c-1", "s-1", "/blog", NULL);
    assert_int_equal(fold_into(f, f->s, &v), CONTACT_FOLD_APPLIED);
    assert_null(contact_state_account(f->s));
    assert_int_equal(f->rec.update_total, 0);
    /* an account_id trait makes an account even for a free-mail address */
    hf_event_t named = form_with("f-2", TK_T0 + 2, "c-1", HF_FORM_OTHER, NULL, "acct-7");
    assert_int_equal(fold_into(f, f->s, &named), CONTACT_FOLD_APPLIED);
    assert_string_equal(contact_state_account(f->s), "acct-7");
    assert_int_equal(f->rec.update_count, 1);
    assert_int_equal(f->rec.updates[0].version, 1);
    assert_false(f->rec.updates[0].leave);
}

static void test_leave_on_account_change(void **state)
{
    fixture_t *f = *state;
    hf_event_t a = form_with("f-1", TK_T0, "c-1", HF_FORM_OTHER, "acme.com", NULL);
    assert_int_equal(fold_into(f, f->s, &a), CONTACT_FOLD_APPLIED);
    assert_int_equal(f->rec.update_count, 1);

    /* the account_id trait wins over the domain: leave acct-acme, join acct-2 */
    hf_event_t b = form_with("f-2", TK_T0 + 1, "c-1", HF_FORM_OTHER, NULL, "acct-2");
    assert_int_equal(fold_into(f, f->s, &b), CONTACT_FOLD_APPLIED);
    assert_int_equal(f->rec.update_count, 3);
    assert_true(f->rec.updates[1].leave);
    assert_string_equal(f->rec.updates[1].account_id, "acct-acme");
    assert_int_equal(f->rec.updates[1].version, 2);
    /* a leave places nobody; a join does, even by the default role */
    assert_null(f->rec.updates[1].placement);
    assert_string_equal(f->rec.updates[2].placement, "default role (user)");
    assert_false(f->rec.updates[2].leave);
    assert_string_equal(f->rec.updates[2].account_id, "acct-2");
    assert_int_equal(f->rec.updates[2].version, 3);
    tk_rec_clear(&f->rec);

    /* a blocked account id does not count: back to the domain's account */
    hf_event_t c = form_with("f-3", TK_T0 + 2, "c-1", HF_FORM_OTHER, NULL, "null");
    assert_int_equal(fold_into(f, f->s, &c), CONTACT_FOLD_APPLIED);
    assert_string_equal(contact_state_account(f->s), "acct-acme");
    assert_int_equal(f->rec.update_count, 2);
    assert_true(f->rec.updates[0].leave);
    assert_string_equal(f->rec.updates[0].account_id, "acct-2");
    assert_string_equal(f->rec.updates[1].account_id, "acct-acme");
    assert_int_equal(f->rec.updates[1].version, 5);
    tk_rec_clear(&f->rec);

    /* to a free-mail address and no account: only the leave */
    hf_event_t d = form_with("f-4", TK_T0 + 3, "c-1", HF_FORM_OTHER, "gmail.com", NULL);
    assert_int_equal(fold_into(f, f->s, &d), CONTACT_FOLD_APPLIED);
    assert_null(contact_state_account(f->s));
    assert_int_equal(f->rec.update_count, 1);
    assert_true(f->rec.updates[0].leave);
    assert_string_equal(f->rec.updates[0].account_id, "acct-acme");
    assert_int_equal(f->rec.updates[0].version, 6);

    /* a reload that maps the domain elsewhere moves the contact on its next event */
    tk_domain_account(f->rules, "example.org", "acct-ex");
    hf_event_t e = form_with("f-5", TK_T0 + 4, "c-1", HF_FORM_OTHER, "example.org", NULL);
    assert_int_equal(fold_into(f, f->s, &e), CONTACT_FOLD_APPLIED);
    assert_string_equal(contact_state_account(f->s), "acct-ex");
}

static hf_roster_t roster_of(const char *account_id, uint64_t version, const hf_member_t *members,
                             size_t n, const char *const *roles, size_t role_count)
{
    return (hf_roster_t){account_id, version, members, n, roles, role_count};
}

static void test_roster_lww_and_handoff(void **state)
{
    fixture_t *f = *state;
    hf_event_t a = form_with("f-1", TK_T0, "c-1", HF_FORM_OTHER, "acme.com", NULL);
    assert_int_equal(fold_into(f, f->s, &a), CONTACT_FOLD_APPLIED);

    const hf_member_t v3[] = {{"c-2", "champion", 40, TK_T0 - TK_DAY_MS},
                              {"c-1", "decision_maker", 20, TK_T0},
                              {"c-3", "user", 10, TK_T0 - 2 * TK_DAY_MS}};
    const char *const roles3[] = {"decision_maker", "champion", "user"};
    const hf_member_t v2[] = {{"c-9", "user", 99, TK_T0}};
    const char *const roles2[] = {"user"};
    hf_roster_t r3 = roster_of("acct-acme", 3, v3, 3, roles3, 3);
    hf_roster_t r2 = roster_of("acct-acme", 2, v2, 1, roles2, 1);
    hf_roster_t r3b = roster_of("acct-acme", 3, v2, 1, roles2, 1);
    hf_roster_t other = roster_of("acct-other", 9, v2, 1, roles2, 1);
    assert_int_equal(contact_apply_roster(f->s, &r3), 0);
    /* older, a repeat of the version, or another account's: nothing changes */
    assert_int_equal(contact_apply_roster(f->s, &r2), 0);
    assert_int_equal(contact_apply_roster(f->s, &r3b), 0);
    assert_int_equal(contact_apply_roster(f->s, &other), 0);

    hf_event_t demo = form_with("f-2", TK_T0 + 1, "c-1", HF_FORM_DEMO_REQUEST, NULL, NULL);
    assert_int_equal(fold_into(f, f->s, &demo), CONTACT_FOLD_APPLIED);
    assert_int_equal(f->rec.handoff_count, 1);
    const tk_handoff_t *h = &f->rec.handoffs[0];
    assert_string_equal(h->account_id, "acct-acme");
    /* the roster's order, without the contact itself */
    assert_int_equal(h->buying_group_count, 2);
    assert_string_equal(h->buying_group[0].contact_id, "c-2");
    assert_string_equal(h->buying_group[0].role, "champion");
    assert_int_equal(h->buying_group[0].score, 40);
    assert_int_equal(h->buying_group[0].last_active_ms, TK_T0 - TK_DAY_MS);
    assert_string_equal(h->buying_group[1].contact_id, "c-3");
    assert_int_equal(h->roles_covered_count, 3);
    assert_string_equal(h->roles_covered[0], "decision_maker");
    assert_string_equal(h->roles_covered[2], "user");
}

static void test_roster_newer_replaces_and_bounds(void **state)
{
    fixture_t *f = *state;
    f->rules->accounts.buying_group_max = 1;
    hf_event_t a = form_with("f-1", TK_T0, "c-1", HF_FORM_OTHER, "acme.com", NULL);
    assert_int_equal(fold_into(f, f->s, &a), CONTACT_FOLD_APPLIED);
    const hf_member_t v1[] = {{"c-9", "user", 99, TK_T0}};
    const hf_member_t v5[] = {{"c-4", "champion", 50, TK_T0}, {"c-5", "user", 30, TK_T0}};
    const char *const roles[] = {"champion", "user"};
    hf_roster_t r1 = roster_of("acct-acme", 1, v1, 1, roles, 1);
    hf_roster_t r5 = roster_of("acct-acme", 5, v5, 2, roles, 2);
    assert_int_equal(contact_apply_roster(f->s, &r1), 0);
    assert_int_equal(contact_apply_roster(f->s, &r5), 0);
    hf_event_t demo = form_with("f-2", TK_T0 + 1, "c-1", HF_FORM_DEMO_REQUEST, NULL, NULL);
    assert_int_equal(fold_into(f, f->s, &demo), CONTACT_FOLD_APPLIED);
    const tk_handoff_t *h = &f->rec.handoffs[0];
    /* buying_group_max bounds the list, the ranking decides who is on it */
    assert_int_equal(h->buying_group_count, 1);
    assert_string_equal(h->buying_group[0].contact_id, "c-4");
    assert_int_equal(h->roles_covered_count, 2);
}

static void test_roster_dropped_on_account_change(void **state)
{
    fixture_t *f = *state;
    hf_event_t a = form_with("f-1", TK_T0, "c-1", HF_FORM_OTHER, "acme.com", NULL);
    assert_int_equal(fold_into(f, f->s, &a), CONTACT_FOLD_APPLIED);
    const hf_member_t m[] = {{"c-2", "champion", 40, TK_T0}};
    const char *const roles[] = {"champion"};
    hf_roster_t r = roster_of("acct-acme", 4, m, 1, roles, 1);
    assert_int_equal(contact_apply_roster(f->s, &r), 0);
    hf_event_t b = form_with("f-2", TK_T0 + 1, "c-1", HF_FORM_OTHER, NULL, "acct-2");
    assert_int_equal(fold_into(f, f->s, &b), CONTACT_FOLD_APPLIED);
    /* a late roster of the old account does not come back either */
    assert_int_equal(contact_apply_roster(f->s, &r), 0);
    hf_event_t demo = form_with("f-3", TK_T0 + 2, "c-1", HF_FORM_DEMO_REQUEST, NULL, NULL);
    assert_int_equal(fold_into(f, f->s, &demo), CONTACT_FOLD_APPLIED);
    assert_int_equal(f->rec.handoff_count, 1);
    assert_string_equal(f->rec.handoffs[0].account_id, "acct-2");
    assert_int_equal(f->rec.handoffs[0].buying_group_count, 0);
    assert_int_equal(f->rec.handoffs[0].roles_covered_count, 0);
}

static void test_handoff_interests_and_routing(void **state)
{
    fixture_t *f = *state;
    hf_rules_t *r = f->rules;
    r->interests.half_life_ms = TK_DAY_MS;
    tk_globs(&tk_interest_rule(r, "pricing", 2.0f)->match.url, "*/pricing*", NULL);
    tk_globs(&tk_interest_rule(r, "reduce churn", 1.5f)->match.asset_id, "wp-*", NULL);
    tk_globs(&tk_interest_rule(r, "security", 0.5f)->match.asset_id, "wp-sec*", NULL);
    tk_target(r, "acct-acme", 1, 20);
    tk_route_rule(r, "strategic", 1, -1);
    tk_globs(&tk_route_rule(r, "dach", -1)->country, "DE", "AT", "CH", NULL);

    hf_event_t v = tk_visit("v-1", TK_T0, NULL, "c-1", "s-1", "/pricing", NULL);
    assert_int_equal(fold_into(f, f->s, &v), CONTACT_FOLD_APPLIED);
    hf_event_t d = tk_download("d-1", TK_T0 + TK_DAY_MS, "c-1", "wp-churn", "Churn playbook");
    assert_int_equal(fold_into(f, f->s, &d), CONTACT_FOLD_APPLIED);
    hf_event_t d2 = tk_download("d-2", TK_T0 + TK_DAY_MS, "c-1", "wp-sec", "SOC 2");
    assert_int_equal(fold_into(f, f->s, &d2), CONTACT_FOLD_APPLIED);
    hf_event_t demo =
        form_with("f-1", TK_T0 + TK_DAY_MS, "c-1", HF_FORM_DEMO_REQUEST, "acme.com", NULL);
    demo.traits.country = "DE";
    demo.traits.region = "emea";
    assert_int_equal(fold_into(f, f->s, &demo), CONTACT_FOLD_APPLIED);
    assert_int_equal(f->rec.handoff_count, 1);
    const tk_handoff_t *h = &f->rec.handoffs[0];
    /* the two strongest at qualification: churn 1.5 + 1.5 (wp-sec matches "wp-*" too),
     * then pricing 2 decayed one half-life; security (0.5) is third */
    assert_int_equal(h->interest_count, 2);
    assert_string_equal(h->interests[0].topic, "reduce churn");
    assert_float_equal(h->interests[0].weight, 3.0, 1e-6);
    assert_string_equal(h->interests[1].topic, "pricing");
    assert_float_equal(h->interests[1].weight, 1.0, 1e-6);
    /* a tier-1 account goes to the strategic team before the country's */
    assert_string_equal(h->routing_team, "strategic");
    assert_null(h->routing_note);
    assert_string_equal(h->region, "emea");

    /* another contact, not of a target account, from a country nobody covers */
    hf_event_t other = form_with("f-9", TK_T0, "c-2", HF_FORM_DEMO_REQUEST, "initech.com", NULL);
    other.traits.country = "BR";
    assert_int_equal(fold_into(f, f->other, &other), CONTACT_FOLD_APPLIED);
    assert_int_equal(f->rec.handoff_count, 2);
    h = &f->rec.handoffs[1];
    assert_string_equal(h->account_id, "initech.com");
    assert_null(h->routing_team);
    assert_string_equal(h->routing_note, "no team covers country BR");
    assert_int_equal(h->interest_count, 0);
}

/* Merge ------------------------------------------------------------------------- */

/* Survivor c-1: form (acme.com) at T0, /blog at T0 + 1h.  Loser c-2: /pricing at
 * T0 + 1d, then a form naming account acct-L.  Scores with a 1-day half-life: "any"
 * 10 per event, "pricing" 40. */
static void two_journeys(fixture_t *f)
{
    hf_rules_t *r = f->rules;
    r->scoring.half_life_ms = TK_DAY_MS;
    tk_globs(&tk_score_rule(r, "pricing", 40)->match.url, "*/pricing*", NULL);
    tk_contact_rule(r, "mql", 100, NULL, 0, NULL);
    hf_event_t s1 = form_with("s-f", TK_T0, "c-1", HF_FORM_OTHER, "acme.com", NULL);
    s1.traits.title = "Analyst";
    hf_event_t s2 = tk_visit("s-v", TK_T0 + TK_HOUR_MS, NULL, "c-1", "s-1", "/blog", NULL);
    hf_event_t l1 = tk_visit("l-v", TK_T0 + TK_DAY_MS, NULL, "c-2", "s-2", "/pricing", "Pricing");
    hf_event_t l2 = form_with("l-f", TK_T0 + TK_DAY_MS, "c-2", HF_FORM_OTHER, NULL, "acct-L");
    l2.traits.title = "VP Sales";
    l2.traits.seniority = "vp";
    assert_int_equal(fold_into(f, f->s, &s1), CONTACT_FOLD_APPLIED);
    assert_int_equal(fold_into(f, f->s, &s2), CONTACT_FOLD_APPLIED);
    assert_int_equal(fold_into(f, f->other, &l1), CONTACT_FOLD_APPLIED);
    assert_int_equal(fold_into(f, f->other, &l2), CONTACT_FOLD_APPLIED);
    tk_rec_clear(&f->rec);
}

static hf_buf_t encoded(const contact_state_t *s)
{
    hf_buf_t b = HF_BUF_INIT;
    assert_int_equal(contact_state_encode(s, &b), 0);
    return b;
}

static void test_merge_journeys(void **state)
{
    fixture_t *f = *state;
    two_journeys(f);
    hf_buf_t loser_before = encoded(f->other);
    const int64_t merge_at = TK_T0 + 2 * TK_DAY_MS;
    assert_int_equal(contact_merge(f->s, f->other, f->rules, merge_at, NOW_MS, &f->sink), 0);

    /* the loser is not changed */
    hf_buf_t loser_after = encoded(f->other);
    assert_int_equal(loser_before.len, loser_after.len);
    assert_memory_equal(loser_before.data, loser_after.data, loser_before.len);
    hf_buf_free(&loser_before);
    hf_buf_free(&loser_after);

    /* score: the survivor's (10 at T0, +10 at T0 + 1h) decayed to the loser's later
     * reference time T0 + 1d, plus the loser's 60 there */
    double survivor_at_1d = 10 * pow(2, -1.0) + 10 * pow(2, -23.0 / 24);
    assert_float_equal(contact_state_score(f->s, f->rules, TK_T0 + TK_DAY_MS), survivor_at_1d + 60,
                       1e-9);
    assert_int_equal(contact_state_last_event_ms(f->s), TK_T0 + TK_DAY_MS);
    /* not enough for mql (100): no handoff */
    assert_int_equal(f->rec.handoff_count, 0);

    /* traits: the newest of each wins; the loser's seniority makes a decision maker,
     * and its account_id trait (which wins over the survivor's domain) moves the
     * survivor to acct-L */
    assert_string_equal(contact_state_role(f->s, f->rules), "decision_maker");
    assert_string_equal(contact_state_account(f->s), "acct-L");

    /* member updates: the loser leaves acct-L with the version after its last one (it
     * sent 1 when it joined), the survivor leaves acct-acme (moved by the merged
     * traits) and joins acct-L */
    assert_int_equal(f->rec.update_count, 3);
    const tk_member_update_t *leave = &f->rec.updates[0];
    assert_string_equal(leave->contact_id, "c-2");
    assert_string_equal(leave->account_id, "acct-L");
    assert_true(leave->leave);
    assert_int_equal(leave->version, 2);
    assert_int_equal(leave->at_ms, merge_at);
    assert_string_equal(f->rec.updates[1].contact_id, "c-1");
    assert_true(f->rec.updates[1].leave);
    assert_string_equal(f->rec.updates[1].account_id, "acct-acme");
    assert_int_equal(f->rec.updates[1].version, 3);
    const tk_member_update_t *sum = &f->rec.updates[2];
    assert_string_equal(sum->contact_id, "c-1");
    assert_string_equal(sum->account_id, "acct-L");
    assert_false(sum->leave);
    assert_int_equal(sum->version, 4);
    assert_float_equal(sum->score, survivor_at_1d + 60, 1e-9);
    assert_int_equal(sum->first_seen_ms, TK_T0);
    /* contributions per rule: "any" = the survivor's 2 awards decayed + the loser's 20 */
    assert_int_equal(sum->contribution_count, 2);
    assert_string_equal(sum->contributions[0].rule, "pricing");
    assert_int_equal(sum->contributions[0].points, 40);
    assert_int_equal(sum->contributions[0].count, 1);
    assert_string_equal(sum->contributions[1].rule, "any");
    assert_int_equal(sum->contributions[1].points, (int)lround(survivor_at_1d + 20));
    assert_int_equal(sum->contributions[1].count, 4);
    /* the timeline: both, newest first; the loser's ties in the loser's order */
    assert_int_equal(sum->touch_count, 4);
    assert_string_equal(sum->touches[0].type, "form");
    assert_int_equal(sum->touches[0].at_ms, TK_T0 + TK_DAY_MS);
    assert_string_equal(sum->touches[1].title, "Pricing");
    assert_int_equal(sum->touches[1].at_ms, TK_T0 + TK_DAY_MS);
    assert_string_equal(sum->touches[2].title, "/blog");
    assert_int_equal(sum->touches[3].at_ms, TK_T0);
    assert_int_equal(sum->sessions, 2);
    assert_int_equal(sum->page_views, 2);

    /* dedupe memory is the union: the loser's events are repeats for the survivor */
    hf_event_t again = tk_visit("l-v", TK_T0 + TK_DAY_MS, NULL, "c-1", "s-2", "/pricing", NULL);
    assert_int_equal(fold_into(f, f->s, &again), CONTACT_FOLD_DUPLICATE);
    hf_event_t own = tk_visit("s-v", TK_T0 + TK_HOUR_MS, NULL, "c-1", "s-1", "/blog", NULL);
    assert_int_equal(fold_into(f, f->s, &own), CONTACT_FOLD_DUPLICATE);
}

static void test_merge_qualifies_once(void **state)
{
    fixture_t *f = *state;
    two_journeys(f);
    /* one more pricing visit for the survivor: the merged journey makes mql */
    hf_event_t p = tk_visit("s-p", TK_T0 + TK_DAY_MS, NULL, "c-1", "s-1", "/pricing", NULL);
    assert_int_equal(fold_into(f, f->s, &p), CONTACT_FOLD_APPLIED);
    assert_int_equal(f->rec.handoff_count, 0);
    tk_rec_clear(&f->rec);
    const int64_t merge_at = TK_T0 + TK_DAY_MS;
    assert_int_equal(contact_merge(f->s, f->other, f->rules, merge_at, NOW_MS, &f->sink), 0);
    assert_int_equal(f->rec.handoff_count, 1);
    assert_string_equal(f->rec.handoffs[0].rule, "mql");
    assert_string_equal(f->rec.handoffs[0].entity_id, "c-1");
    assert_int_equal(f->rec.handoffs[0].qualified_at_ms, merge_at);
    assert_true(contact_state_handed_off(f->s));
    assert_int_equal(contact_state_stage(f->s), HF_STAGE_CONVERSATION_READY);
    /* merging again (a journey re-sent after a crash) is a repeat: no second
     * handoff, nothing counted twice */
    hf_buf_t before = HF_BUF_INIT, after = HF_BUF_INIT;
    assert_int_equal(contact_state_encode(f->s, &before), 0);
    tk_rec_clear(&f->rec);
    assert_int_equal(contact_merge(f->s, f->other, f->rules, merge_at, NOW_MS, &f->sink),
                     CONTACT_MERGE_REPEAT);
    assert_int_equal(f->rec.handoff_count, 0);
    assert_int_equal(f->rec.change_count, 0);
    assert_int_equal(f->rec.update_count, 0);
    assert_int_equal(contact_state_encode(f->s, &after), 0);
    assert_int_equal(after.len, before.len);
    assert_memory_equal(after.data, before.data, before.len);
    hf_buf_free(&before);
    hf_buf_free(&after);
}

static void test_merge_keeps_handed_off_cycle(void **state)
{
    fixture_t *f = *state;
    two_journeys(f);
    /* the loser raised its hand and was handed off */
    hf_event_t demo = form_with("l-d", TK_T0 + TK_DAY_MS, "c-2", HF_FORM_DEMO_REQUEST, NULL, NULL);
    assert_int_equal(fold_into(f, f->other, &demo), CONTACT_FOLD_APPLIED);
    assert_int_equal(f->rec.handoff_count, 1);
    assert_true(contact_state_handed_off(f->other));
    /* the survivor would make mql after the merge too */
    hf_event_t p = tk_visit("s-p", TK_T0 + TK_DAY_MS, NULL, "c-1", "s-1", "/pricing", NULL);
    assert_int_equal(fold_into(f, f->s, &p), CONTACT_FOLD_APPLIED);
    tk_rec_clear(&f->rec);

    assert_int_equal(contact_merge(f->s, f->other, f->rules, TK_T0 + TK_DAY_MS, NOW_MS, &f->sink),
                     0);
    /* the person was handed off already: no second handoff, the stage follows */
    assert_int_equal(f->rec.handoff_count, 0);
    assert_true(contact_state_handed_off(f->s));
    assert_int_equal(contact_state_cycle(f->s), 1);
    assert_int_equal(contact_state_stage(f->s), HF_STAGE_CONVERSATION_READY);
    assert_int_equal(f->rec.change_count, 1);
    assert_string_equal(f->rec.changes[0].entity_id, "c-1");
    assert_string_equal(f->rec.changes[0].to, "conversation_ready");
    assert_string_equal(f->rec.changes[0].cause, "merged with c-2");
    /* later events qualify nothing either */
    hf_event_t later = tk_visit("s-q", TK_T0 + TK_DAY_MS + 1, NULL, "c-1", "s-1", "/pricing", NULL);
    assert_int_equal(fold_into(f, f->s, &later), CONTACT_FOLD_APPLIED);
    assert_int_equal(f->rec.handoff_count, 0);
}

static void test_merge_survivor_handed_off_stays(void **state)
{
    fixture_t *f = *state;
    two_journeys(f);
    hf_event_t demo =
        form_with("s-d", TK_T0 + 2 * TK_HOUR_MS, "c-1", HF_FORM_DEMO_REQUEST, NULL, NULL);
    assert_int_equal(fold_into(f, f->s, &demo), CONTACT_FOLD_APPLIED);
    assert_int_equal(f->rec.handoff_count, 1);
    tk_rec_clear(&f->rec);
    assert_int_equal(contact_merge(f->s, f->other, f->rules, TK_T0 + TK_DAY_MS, NOW_MS, &f->sink),
                     0);
    assert_int_equal(f->rec.handoff_count, 0);
    assert_int_equal(f->rec.change_count, 0);
    assert_int_equal(contact_state_stage(f->s), HF_STAGE_CONVERSATION_READY);
}

static void test_merge_bounds_and_sink_errors(void **state)
{
    fixture_t *f = *state;
    two_journeys(f);
    f->rules->journey.recent_max = 3;
    f->rules->dedupe.max_ids = 3;
    assert_int_equal(contact_merge(f->s, f->other, f->rules, TK_T0 + TK_DAY_MS, NOW_MS, &f->sink),
                     0);
    const tk_member_update_t *sum = &f->rec.updates[f->rec.update_count - 1];
    assert_int_equal(sum->touch_count, 3);
    assert_int_equal(sum->touches[2].at_ms, TK_T0 + TK_HOUR_MS);
    /* the oldest id (dedupe memory ages in processing time: all NOW_MS here, so the
     * first remembered goes) was forgotten, the loser's are kept */
    hf_event_t again = tk_visit("l-f", TK_T0, NULL, "c-1", "s-2", "/x", NULL);
    assert_int_equal(fold_into(f, f->s, &again), CONTACT_FOLD_DUPLICATE);
    hf_event_t forgotten = tk_visit("s-f", TK_T0, NULL, "c-1", "s-2", "/x", NULL);
    assert_int_equal(fold_into(f, f->s, &forgotten), CONTACT_FOLD_APPLIED);

    /* a failing sink fails the merge */
    contact_state_t *s2 = contact_state_new("c-3");
    assert_non_null(s2);
    f->rec.fail_with = -EIO;
    assert_int_equal(contact_merge(s2, f->other, f->rules, TK_T0 + TK_DAY_MS, NOW_MS, &f->sink),
                     -EIO);
    f->rec.fail_with = 0;
    contact_state_free(s2);
}

static void test_merge_edge_cases(void **state)
{
    fixture_t *f = *state;
    two_journeys(f);
    /* into itself: nothing */
    assert_int_equal(contact_merge(f->s, f->s, f->rules, TK_T0, NOW_MS, &f->sink), 0);
    assert_int_equal(f->rec.update_total, 0);

    /* a redirect merges only its ids; it has no account to leave */
    contact_state_t *c3 = contact_state_new("c-3");
    assert_non_null(c3);
    hf_event_t e = tk_visit("c3-v", TK_T0, NULL, "c-3", "s-3", "/a", NULL);
    assert_int_equal(fold_into(f, c3, &e), CONTACT_FOLD_APPLIED);
    assert_int_equal(contact_state_make_redirect(c3, "c-2"), 0);
    tk_rec_clear(&f->rec);
    double before = contact_state_score(f->s, f->rules, TK_T0 + TK_DAY_MS);
    assert_int_equal(contact_merge(f->s, c3, f->rules, TK_T0 + TK_DAY_MS, NOW_MS, &f->sink), 0);
    assert_float_equal(contact_state_score(f->s, f->rules, TK_T0 + TK_DAY_MS), before, 0);
    assert_int_equal(f->rec.update_count, 1); /* the survivor's summary only */
    assert_string_equal(f->rec.updates[0].contact_id, "c-1");
    hf_event_t again = tk_visit("c3-v", TK_T0, NULL, "c-1", "s-3", "/a", NULL);
    assert_int_equal(fold_into(f, f->s, &again), CONTACT_FOLD_DUPLICATE);

    /* never into a redirect */
    assert_int_equal(contact_merge(c3, f->s, f->rules, TK_T0, NOW_MS, &f->sink), -EINVAL);
    contact_state_free(c3);
}

static void test_redirect_state(void **state)
{
    fixture_t *f = *state;
    two_journeys(f);
    assert_true(contact_state_known(f->other));
    assert_null(contact_state_redirect(f->other));
    assert_int_equal(contact_state_make_redirect(f->other, "c-1"), 0);
    assert_string_equal(contact_state_id(f->other), "c-2");
    assert_string_equal(contact_state_redirect(f->other), "c-1");
    assert_null(contact_state_account(f->other));
    assert_false(contact_state_known(f->other));
    assert_int_equal(contact_state_last_event_ms(f->other), 0);

    /* it folds nothing, whatever comes */
    hf_buf_t before = encoded(f->other);
    hf_event_t v = tk_visit("new", TK_T0 + 3 * TK_DAY_MS, NULL, "c-2", "s", "/pricing", NULL);
    assert_int_equal(fold_into(f, f->other, &v), CONTACT_FOLD_REDIRECT);
    hf_event_t old = tk_visit("l-v", TK_T0 + TK_DAY_MS, NULL, "c-2", "s", "/pricing", NULL);
    assert_int_equal(fold_into(f, f->other, &old), CONTACT_FOLD_REDIRECT);
    const hf_member_t m[] = {{"c-5", "user", 1, TK_T0}};
    hf_roster_t r = roster_of("acct-L", 99, m, 1, NULL, 0);
    assert_int_equal(contact_apply_roster(f->other, &r), 0);
    hf_buf_t after = encoded(f->other);
    assert_int_equal(before.len, after.len);
    assert_memory_equal(before.data, after.data, before.len);
    assert_int_equal(f->rec.update_total + f->rec.handoff_count + f->rec.change_count, 0);

    /* and it survives the store */
    contact_state_t *d = NULL;
    assert_int_equal(contact_state_decode(&d, after.data, after.len), 0);
    assert_string_equal(contact_state_redirect(d), "c-1");
    assert_int_equal(fold_into(f, d, &v), CONTACT_FOLD_REDIRECT);
    contact_state_free(d);
    hf_buf_free(&before);
    hf_buf_free(&after);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_member_updates, setup, teardown),
        cmocka_unit_test_setup_teardown(test_member_updates_on_commit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_member_journey_bound, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_account_no_updates, setup, teardown),
        cmocka_unit_test_setup_teardown(test_leave_on_account_change, setup, teardown),
        cmocka_unit_test_setup_teardown(test_roster_lww_and_handoff, setup, teardown),
        cmocka_unit_test_setup_teardown(test_roster_newer_replaces_and_bounds, setup, teardown),
        cmocka_unit_test_setup_teardown(test_roster_dropped_on_account_change, setup, teardown),
        cmocka_unit_test_setup_teardown(test_handoff_interests_and_routing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_merge_journeys, setup, teardown),
        cmocka_unit_test_setup_teardown(test_merge_qualifies_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_merge_keeps_handed_off_cycle, setup, teardown),
        cmocka_unit_test_setup_teardown(test_merge_survivor_handed_off_stays, setup, teardown),
        cmocka_unit_test_setup_teardown(test_merge_bounds_and_sink_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_merge_edge_cases, setup, teardown),
        cmocka_unit_test_setup_teardown(test_redirect_state, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
