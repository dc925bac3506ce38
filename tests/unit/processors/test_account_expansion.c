/* Expansion handoffs of customer accounts (processors/account/account_expansion.c,
 * through account_fold_member() and account_fold_sales()).
 *
 * "acct-1" qualifies for new business under "two_engaged" (two members at 30); sales
 * win it (the account's own handoff) for the product "crm", so it is a customer that
 * has crm.  expansion.products: "analytics" (visits of analytics pages 10 points,
 * downloads of wp-analytics assets 20) and "crm" (visits of crm pages 10); the rule "expand":
 * two engaged members and 20 points within 30 days. */
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

#include "processors/account/account.h"
#include "processors/account/account_priv.h"
#include "test_account_kit.h"
#include "testkit.h"

#define T0 (TK_T0 + 10 * TK_DAY_MS)

typedef struct fixture {
    hf_rules_t *rules;
    account_state_t *s;
    tk_rec_t rec;
    hf_sink_t sink;
    int64_t now;
    int seq;
    uint64_t version;
    char sales_id[32];
    char ho[HF_HANDOFF_ID_SIZE];   /* the account's own handoff, cycle 1 */
    char ex1[HF_HANDOFF_ID_SIZE];  /* analytics' expansion, cycle 1 */
    char ex2[HF_HANDOFF_ID_SIZE];  /* ... cycle 2 */
    char crm1[HF_HANDOFF_ID_SIZE]; /* crm's expansion, cycle 1 */
} fixture_t;

static char *xstrdup(const char *s)
{
    char *d = strdup(s);
    assert_non_null(d);
    return d;
}

/* Appends a signal of @points on @url (or, with @asset, on downloads of @asset). */
static void signal(hf_product_t *p, int32_t points, const char *url, const char *asset)
{
    p->signals = realloc(p->signals, (p->signal_count + 1) * sizeof *p->signals);
    assert_non_null(p->signals);
    hf_expansion_signal_t *sig = &p->signals[p->signal_count++];
    *sig = (hf_expansion_signal_t){.points = points};
    if (url) {
        sig->match.kinds = 1u << HF_EV_WEB_VISIT;
        tk_globs(&sig->match.url, url, NULL);
    } else {
        sig->match.kinds = 1u << HF_EV_DOWNLOAD;
        tk_globs(&sig->match.asset_id, asset, NULL);
    }
}

static int setup(void **state)
{
    static fixture_t f;
    f = (fixture_t){0};
    f.rules = tk_rules_new();
    hf_rules_t *r = f.rules;
    tk_default_role(r, "user", 1.0f);
    r->accounts.engaged_member_score = 30;
    r->accounts.members_max = 10;
    r->accounts.buying_group_max = 5;
    ta_account_rule(r, "two_engaged")->min_engaged = 2;
    tk_route_rule(r, "new_business", -1);

    hf_rules_expansion_t *x = &r->expansion;
    x->team = xstrdup("account_management");
    x->cooldown_ms = 30 * TK_DAY_MS;
    x->products = calloc(2, sizeof *x->products);
    assert_non_null(x->products);
    x->product_count = 2;
    x->products[0].name = xstrdup("analytics");
    signal(&x->products[0], 10, "*/analytics*", NULL);
    signal(&x->products[0], 20, NULL, "wp-analytics-*");
    x->products[1].name = xstrdup("crm");
    signal(&x->products[1], 10, "*/crm*", NULL);
    x->rules = calloc(1, sizeof *x->rules);
    assert_non_null(x->rules);
    x->rule_count = 1;
    x->rules[0] = (hf_expansion_rule_t){
        .name = xstrdup("expand"), .min_engaged = 2, .min_points = 20, .within_ms = 30 * TK_DAY_MS};

    f.s = account_state_new("acct-1");
    f.sink = tk_sink(&f.rec);
    f.now = T0;
    if (hf_handoff_id(f.ho, sizeof f.ho, HF_ENTITY_ACCOUNT, "acct-1", 1) <= 0 ||
        account_expansion_id(f.ex1, sizeof f.ex1, "acct-1", "analytics", 1) <= 0 ||
        account_expansion_id(f.ex2, sizeof f.ex2, "acct-1", "analytics", 2) <= 0 ||
        account_expansion_id(f.crm1, sizeof f.crm1, "acct-1", "crm", 1) <= 0)
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

/* @contact_id's summary now, score 40, with one web visit of @url (NULL: none) and one
 * download of @asset (NULL: none), both now. */
static int update(fixture_t *f, const char *contact_id, const char *url, const char *asset)
{
    hf_member_update_t u = ta_update(contact_id, ++f->version, f->now, 40, "user");
    hf_touch_t touch = {f->now, "web_visit", url, url};
    hf_download_t download = {asset, "Analytics whitepaper", "whitepaper", f->now};
    if (url) {
        u.touches = &touch;
        u.touch_count = 1;
    }
    if (asset) {
        u.downloads = &download;
        u.download_count = 1;
    }
    return account_fold_member(f->s, &u, f->rules, f->now, &f->sink);
}

static void member(fixture_t *f, const char *contact_id, const char *url, const char *asset)
{
    assert_int_equal(update(f, contact_id, url, asset), ACCOUNT_FOLD_APPLIED);
}

static int answer(fixture_t *f, hf_sales_action_t action, const char *handoff_id,
                  const char *product)
{
    snprintf(f->sales_id, sizeof f->sales_id, "sa-%d", f->seq++);
    hf_event_t ev = tk_sales(f->sales_id, f->now, HF_ENTITY_ACCOUNT, "acct-1", action, handoff_id,
                             "am-7", NULL);
    ev.product = product;
    return account_fold_sales(f->s, &ev, f->rules, f->now, &f->sink);
}

/* The account's own handoff (new business), then won for crm: a customer with crm. */
static void make_customer(fixture_t *f)
{
    member(f, "c-1", NULL, NULL);
    f->now += TK_MINUTE_MS;
    member(f, "c-2", NULL, NULL);
    assert_int_equal(f->rec.handoff_count, 1);
    assert_string_equal(f->rec.handoffs[0].kind, "new_business");
    assert_null(f->rec.handoffs[0].product);
    assert_string_equal(f->rec.handoffs[0].routing_team, "new_business");
    f->now += TK_HOUR_MS;
    assert_int_equal(answer(f, HF_SALES_WON, f->ho, "crm"), ACCOUNT_FOLD_APPLIED);
    assert_int_equal(account_state_stage(f->s), HF_STAGE_CUSTOMER);
    tk_rec_clear(&f->rec);
}

/* c-1 and c-2 read analytics pages, a minute apart. */
static void read_analytics(fixture_t *f)
{
    f->now += TK_DAY_MS;
    member(f, "c-1", "https://ex.com/products/analytics", NULL);
    f->now += TK_MINUTE_MS;
    member(f, "c-2", "https://ex.com/products/analytics/pricing", NULL);
}

static void test_customer_engaging_with_another_product_raises_expansion(void **state)
{
    fixture_t *f = *state;
    make_customer(f);
    f->now += TK_DAY_MS;
    member(f, "c-1", "https://ex.com/products/analytics", NULL);
    assert_int_equal(f->rec.handoff_count, 0); /* one member, 10 points */
    f->now += TK_MINUTE_MS;
    member(f, "c-2", "https://ex.com/products/analytics/pricing", NULL);
    assert_int_equal(f->rec.handoff_count, 1);
    const tk_handoff_t *h = &f->rec.handoffs[0];
    assert_string_equal(h->kind, "expansion");
    assert_string_equal(h->product, "analytics");
    assert_string_equal(h->rule, "expand");
    assert_string_equal(h->handoff_id, f->ex1);
    assert_string_not_equal(h->handoff_id, f->ho);
    assert_string_equal(h->entity_id, "acct-1");
    assert_string_equal(h->stage_before, "customer");
    /* to the account managers, never the new-business team */
    assert_string_equal(h->routing_team, "account_management");
    assert_string_equal(h->routing_note, "account owner am-7");
    assert_int_equal(h->qualified_at_ms, f->now);
    assert_int_equal(h->accept_by_ms, 0);
    assert_non_null(tk_find_reason(h, "expand", "members engaged with analytics 2 >= 2"));
    assert_non_null(tk_find_reason(h, "expand", "analytics points 20 >= 20"));
    assert_non_null(tk_find_reason(h, "expand", "customer without analytics"));
    const tk_reason_t *c1 = tk_find_reason(h, "product:c-1", "analytics: last");
    assert_non_null(c1);
    assert_int_equal(c1->points, 10);
    assert_int_equal(c1->count, 1);
    assert_non_null(tk_find_reason(h, "product:c-2", NULL));
    assert_int_equal(h->buying_group_count, 2);
    assert_true(h->recent_count >= 2);
    /* the account stays a customer: no lifecycle change, no second handoff */
    assert_int_equal(f->rec.change_count, 0);
    assert_int_equal(account_state_stage(f->s), HF_STAGE_CUSTOMER);
    f->now += TK_MINUTE_MS;
    member(f, "c-1", "https://ex.com/products/analytics/demo", NULL);
    assert_int_equal(f->rec.handoff_count, 1);
}

static void test_product_it_has_is_never_raised(void **state)
{
    fixture_t *f = *state;
    make_customer(f);
    f->now += TK_DAY_MS;
    member(f, "c-1", "https://ex.com/products/crm", NULL);
    f->now += TK_MINUTE_MS;
    member(f, "c-2", "https://ex.com/products/crm/pricing", NULL);
    f->now += TK_MINUTE_MS;
    member(f, "c-3", "https://ex.com/products/crm/demo", NULL);
    assert_int_equal(f->rec.handoff_count, 0);

    /* a product bought without naming a handoff, before its expansion: never raised */
    assert_int_equal(answer(f, HF_SALES_WON, NULL, "analytics"), ACCOUNT_FOLD_APPLIED);
    read_analytics(f);
    assert_int_equal(f->rec.handoff_count, 0);
}

static void test_only_customers(void **state)
{
    fixture_t *f = *state;
    /* engaged, then handed off for new business: never an expansion */
    f->now += TK_DAY_MS;
    member(f, "c-1", "https://ex.com/products/analytics", NULL);
    f->now += TK_MINUTE_MS;
    member(f, "c-2", "https://ex.com/products/analytics", NULL);
    assert_int_equal(f->rec.handoff_count, 1);
    assert_string_equal(f->rec.handoffs[0].kind, "new_business");
    f->now += TK_MINUTE_MS;
    member(f, "c-3", "https://ex.com/products/analytics", NULL);
    assert_int_equal(f->rec.handoff_count, 1);
    assert_int_equal(account_state_stage(f->s), HF_STAGE_CONVERSATION_READY);
    /* an opportunity is not a customer yet */
    assert_int_equal(answer(f, HF_SALES_OPPORTUNITY_CREATED, f->ho, NULL), ACCOUNT_FOLD_APPLIED);
    read_analytics(f);
    assert_int_equal(f->rec.handoff_count, 1);
}

static void test_one_per_product_per_cycle(void **state)
{
    fixture_t *f = *state;
    make_customer(f);
    read_analytics(f);
    assert_int_equal(f->rec.handoff_count, 1);
    assert_string_equal(f->rec.handoffs[0].handoff_id, f->ex1);

    /* an answer to it concerns the product only: accepted changes nothing */
    f->now += TK_HOUR_MS;
    assert_int_equal(answer(f, HF_SALES_ACCEPTED, f->ex1, NULL), ACCOUNT_FOLD_APPLIED);
    assert_int_equal(account_state_stage(f->s), HF_STAGE_CUSTOMER);
    read_analytics(f);
    assert_int_equal(f->rec.handoff_count, 1);

    /* rejected: the next cycle, after the cooldown */
    assert_int_equal(answer(f, HF_SALES_REJECTED, f->ex1, NULL), ACCOUNT_FOLD_APPLIED);
    assert_int_equal(account_state_stage(f->s), HF_STAGE_CUSTOMER);
    int64_t rejected_at = f->now;
    read_analytics(f);
    assert_int_equal(f->rec.handoff_count, 1);
    /* a repeat of the rejection (stale now) changes nothing */
    assert_int_equal(answer(f, HF_SALES_REJECTED, f->ex1, NULL), ACCOUNT_FOLD_APPLIED);
    f->now = rejected_at + 30 * TK_DAY_MS;
    read_analytics(f);
    assert_int_equal(f->rec.handoff_count, 2);
    assert_string_equal(f->rec.handoffs[1].handoff_id, f->ex2);
    assert_string_equal(f->rec.handoffs[1].product, "analytics");
    read_analytics(f);
    assert_int_equal(f->rec.handoff_count, 2);

    /* won: the account has it from then on */
    assert_int_equal(answer(f, HF_SALES_WON, f->ex2, NULL), ACCOUNT_FOLD_APPLIED);
    assert_int_equal(answer(f, HF_SALES_RECYCLED, f->ex2, NULL), ACCOUNT_FOLD_APPLIED);
    f->now += 60 * TK_DAY_MS;
    read_analytics(f);
    assert_int_equal(f->rec.handoff_count, 2);

    /* an id of no handoff is still unknown (dead-lettered by the caller) */
    assert_int_equal(answer(f, HF_SALES_WON, "ho_0000000000000000", NULL),
                     ACCOUNT_FOLD_UNKNOWN_HANDOFF);
}

static void test_bought_after_raise_cancels(void **state)
{
    fixture_t *f = *state;
    f->rules->expansion.clocks[HF_SLA_ACCEPT] =
        (hf_sla_rule_t){.within_ms = 2 * TK_HOUR_MS, .attempts = 1};
    make_customer(f);
    read_analytics(f);
    assert_int_equal(f->rec.handoff_count, 1);
    assert_true(account_state_next_due(f->s) > 0); /* the expansion's accept clock runs */
    /* a won deal naming the product, on the account's own case */
    f->now += TK_HOUR_MS;
    assert_int_equal(answer(f, HF_SALES_WON, NULL, "analytics"), ACCOUNT_FOLD_APPLIED);
    /* sales then close the expansion as lost: the product stays had, never raised */
    assert_int_equal(answer(f, HF_SALES_LOST, f->ex1, NULL), ACCOUNT_FOLD_APPLIED);
    /* ... and that answer stopped the expansion's clocks */
    assert_int_equal(account_state_next_due(f->s), 0);
    f->now += 60 * TK_DAY_MS;
    read_analytics(f);
    assert_int_equal(f->rec.handoff_count, 1);
}

static void test_window_and_points(void **state)
{
    fixture_t *f = *state;
    make_customer(f);
    /* c-1 read analytics 40 days before the newest activity: out of the window */
    f->now += TK_DAY_MS;
    member(f, "c-1", "https://ex.com/products/analytics", NULL);
    f->now += 40 * TK_DAY_MS;
    member(f, "c-2", "https://ex.com/products/analytics", NULL);
    assert_int_equal(f->rec.handoff_count, 0);
    /* c-1 downloads the analytics whitepaper (20 points): two members, 30 points */
    f->now += TK_MINUTE_MS;
    member(f, "c-1", NULL, "wp-analytics-2026");
    assert_int_equal(f->rec.handoff_count, 1);
    assert_non_null(tk_find_reason(&f->rec.handoffs[0], "expand", "analytics points 30 >= 20"));
    const tk_reason_t *c1 = tk_find_reason(&f->rec.handoffs[0], "product:c-1", NULL);
    assert_non_null(c1);
    assert_int_equal(c1->points, 20);
    assert_string_equal(c1->detail, "analytics: last Analytics whitepaper");
}

static void test_state_keeps_the_products(void **state)
{
    fixture_t *f = *state;
    make_customer(f);
    read_analytics(f);
    assert_int_equal(f->rec.handoff_count, 1);
    hf_buf_t b = HF_BUF_INIT;
    assert_int_equal(account_state_encode(f->s, &b), 0);
    account_state_t *copy = NULL;
    assert_int_equal(account_state_decode(&copy, b.data, b.len), 0);
    account_state_free(f->s);
    f->s = copy;
    assert_int_equal(f->s->product_count, 2);
    assert_string_equal(f->s->products[0].product, "crm");
    assert_true(f->s->products[0].owned);
    assert_string_equal(f->s->products[1].product, "analytics");
    assert_true(f->s->products[1].handed_off);
    /* the decoded state raises nothing twice, and still knows the expansion's id */
    read_analytics(f);
    assert_int_equal(f->rec.handoff_count, 1);
    assert_int_equal(answer(f, HF_SALES_REJECTED, f->ex1, NULL), ACCOUNT_FOLD_APPLIED);
    assert_int_equal(f->s->products[1].cycle, 2);
    hf_buf_free(&b);
}

static void test_sink_error_never_leads_to_a_second_expansion(void **state)
{
    fixture_t *f = *state;
    make_customer(f);
    f->now += TK_DAY_MS;
    member(f, "c-1", "https://ex.com/products/analytics", NULL);
    f->rec.fail_with = -EIO;
    f->now += TK_MINUTE_MS;
    assert_int_equal(update(f, "c-2", "https://ex.com/products/analytics", NULL), -EIO);
    f->rec.fail_with = 0;
    tk_rec_clear(&f->rec);
    read_analytics(f);
    assert_int_equal(f->rec.handoff_count, 0);
}

/* The expansion's own clocks (expansion.sla), apart from the account's case: its
 * deadlines in the handoff, a breach of the expansion's handoff, answers that stop
 * them, outcomes under the expansion rule and the account managers' team, and never
 * a lifecycle change of the account. */
static void test_expansion_sla(void **state)
{
    fixture_t *f = *state;
    f->rules->expansion.clocks[HF_SLA_ACCEPT] =
        (hf_sla_rule_t){.within_ms = 2 * TK_HOUR_MS, .attempts = 1};
    f->rules->expansion.clocks[HF_SLA_FIRST_TOUCH] =
        (hf_sla_rule_t){.within_ms = 6 * TK_HOUR_MS, .attempts = 1};
    make_customer(f);
    assert_int_equal(account_state_next_due(f->s), 0); /* the won met the account's clocks */
    read_analytics(f);
    assert_int_equal(f->rec.handoff_count, 1);
    const tk_handoff_t *h = &f->rec.handoffs[0];
    assert_int_equal(h->accept_by_ms, f->now + 2 * TK_HOUR_MS);
    assert_int_equal(h->first_touch_by_ms, f->now + 6 * TK_HOUR_MS);
    assert_int_equal(account_state_next_due(f->s), h->accept_by_ms);
    const tk_outcome_t *o = tk_last_outcome(&f->rec, "handoff");
    assert_non_null(o);
    assert_string_equal(o->rule, "expand");
    assert_string_equal(o->team, "account_management");

    /* the accept clock runs out: a breach of the expansion's handoff */
    int64_t accept_by = h->accept_by_ms;
    f->now = accept_by;
    assert_int_equal(account_sla_fire(f->s, f->rules, f->now, &f->sink), 0);
    assert_int_equal(f->rec.breach_count, 1);
    /* nobody has answered the expansion yet: no owner */
    tk_assert_breach(&f->rec, 0, HF_ENTITY_ACCOUNT, "acct-1", f->ex1, HF_SLA_ACCEPT, 1, accept_by,
                     accept_by, NULL);
    assert_int_equal(account_state_next_due(f->s), accept_by + 4 * TK_HOUR_MS);

    /* contacted: both clocks stop; the account stays a customer, no lifecycle change */
    f->now += TK_HOUR_MS;
    assert_int_equal(answer(f, HF_SALES_CONTACTED, f->ex1, NULL), ACCOUNT_FOLD_APPLIED);
    assert_int_equal(account_state_next_due(f->s), 0);
    assert_int_equal(f->s->products[1].stage, HF_STAGE_ACCEPTED);
    assert_int_equal(account_state_stage(f->s), HF_STAGE_CUSTOMER);
    assert_int_equal(f->rec.change_count, 0);
    assert_int_equal(tk_count_outcomes(&f->rec, "accepted", NULL), 1);
    assert_int_equal(tk_count_outcomes(&f->rec, "sla_breached", NULL), 1);

    /* won: counted under the expansion, the product is the account's */
    assert_int_equal(answer(f, HF_SALES_WON, f->ex1, NULL), ACCOUNT_FOLD_APPLIED);
    o = tk_last_outcome(&f->rec, "won");
    assert_non_null(o);
    assert_string_equal(o->rule, "expand");
    assert_true(f->s->products[1].owned);
    assert_int_equal(f->rec.change_count, 0);

    /* the clocks survive the state codec */
    hf_buf_t b = HF_BUF_INIT;
    assert_int_equal(account_state_encode(f->s, &b), 0);
    account_state_t *copy = NULL;
    assert_int_equal(account_state_decode(&copy, b.data, b.len), 0);
    assert_string_equal(copy->products[1].sla.handoff_id, f->ex1);
    assert_int_equal(copy->products[1].stage, HF_STAGE_CUSTOMER);
    account_state_free(copy);
    hf_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_customer_engaging_with_another_product_raises_expansion, setup, teardown),
        cmocka_unit_test_setup_teardown(test_product_it_has_is_never_raised, setup, teardown),
        cmocka_unit_test_setup_teardown(test_only_customers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_one_per_product_per_cycle, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bought_after_raise_cancels, setup, teardown),
        cmocka_unit_test_setup_teardown(test_window_and_points, setup, teardown),
        cmocka_unit_test_setup_teardown(test_state_keeps_the_products, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sink_error_never_leads_to_a_second_expansion, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_expansion_sla, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
