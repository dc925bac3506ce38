/* Accounts, roles, tiers and routing (accounts.c), and interests (interests.c). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "processors/account/resolve.h"
#include "processors/journey/interests.h"
#include "testkit.h"

static void test_account_from_domain_and_free_mail(void **state)
{
    (void)state;
    hf_rules_t *r = tk_rules_new();
    /* no free-mail list: every domain makes an account */
    assert_string_equal(hf_account_resolve(r, NULL, "gmail.com"), "gmail.com");
    tk_globs(&r->accounts.free_mail_domains, "gmail.com", "outlook.*", "*.mailinator.com", NULL);
    assert_string_equal(hf_account_resolve(r, NULL, "acme.com"), "acme.com");
    assert_null(hf_account_resolve(r, NULL, "gmail.com"));
    assert_null(hf_account_resolve(r, NULL, "GMail.COM"));
    assert_null(hf_account_resolve(r, NULL, "outlook.de"));
    assert_null(hf_account_resolve(r, NULL, "x.mailinator.com"));
    /* a domain that only contains a free-mail name is a company's */
    assert_string_equal(hf_account_resolve(r, NULL, "notgmail.com"), "notgmail.com");
    /* nothing to go by, or placeholders */
    assert_null(hf_account_resolve(r, NULL, NULL));
    assert_null(hf_account_resolve(r, NULL, ""));
    assert_null(hf_account_resolve(r, NULL, "null"));
    assert_null(hf_account_resolve(r, "undefined", NULL));
    tk_rules_free(r);
}

static void test_account_domain_map(void **state)
{
    (void)state;
    hf_rules_t *r = tk_rules_new();
    tk_domain_account(r, "acme.com", "acct-acme");
    tk_domain_account(r, "acme.co.uk", "acct-acme");
    tk_domain_account(r, "initech.com", "acct-initech");
    assert_string_equal(hf_account_resolve(r, NULL, "acme.com"), "acct-acme");
    assert_string_equal(hf_account_resolve(r, NULL, "ACME.co.uk"), "acct-acme");
    assert_string_equal(hf_account_resolve(r, NULL, "initech.com"), "acct-initech");
    /* not in the map: the domain itself; no subdomain matching */
    assert_string_equal(hf_account_resolve(r, NULL, "eu.acme.com"), "eu.acme.com");
    /* a free-mail domain never makes an account, even if mapped */
    tk_domain_account(r, "gmail.com", "acct-google");
    tk_globs(&r->accounts.free_mail_domains, "gmail.com", NULL);
    assert_null(hf_account_resolve(r, NULL, "gmail.com"));
    tk_rules_free(r);
}

static void test_account_id_trait_wins(void **state)
{
    (void)state;
    hf_rules_t *r = tk_rules_new();
    tk_domain_account(r, "acme.com", "acct-acme");
    tk_globs(&r->accounts.free_mail_domains, "gmail.com", NULL);
    assert_string_equal(hf_account_resolve(r, "acct-9", "acme.com"), "acct-9");
    /* the trait names the account even for a free-mail address */
    assert_string_equal(hf_account_resolve(r, "acct-9", "gmail.com"), "acct-9");
    assert_string_equal(hf_account_resolve(r, "acct-9", NULL), "acct-9");
    tk_rules_free(r);
}

static void test_blocked_account_ids(void **state)
{
    (void)state;
    hf_rules_t *r = tk_rules_new();
    tk_domain_account(r, "acme.com", "acct-acme");
    tk_globs(&r->accounts.free_mail_domains, "gmail.com", NULL);
    const char *blocked[] = {"", "null", "NULL", " undefined ", "anonymous", "0", "-1"};
    for (size_t i = 0; i < sizeof blocked / sizeof blocked[0]; i++) {
        assert_string_equal(hf_account_resolve(r, blocked[i], "acme.com"), "acct-acme");
        assert_null(hf_account_resolve(r, blocked[i], "gmail.com"));
        assert_null(hf_account_resolve(r, blocked[i], NULL));
    }
    tk_rules_free(r);
}

static void test_roles(void **state)
{
    (void)state;
    hf_rules_t *r = tk_rules_new();
    hf_traits_t t = {.present = true};
    float w = -1;
    /* no rules and no default role: a fixed fallback, never NULL */
    assert_string_equal(hf_role_of(r, &t, &w), "unknown");

    tk_globs(&tk_role_rule(r, "decision_maker", 3.0f)->match.seniority, "vp", "c-level", NULL);
    hf_role_rule_t *champion = tk_role_rule(r, "champion", 2.0f);
    tk_globs(&champion->match.title, "*manager*", "*head of*", NULL);
    hf_role_rule_t *influencer = tk_role_rule(r, "influencer", 1.5f);
    tk_globs(&influencer->match.department, "it", "security", NULL);
    tk_globs(&influencer->match.title, "*engineer*", NULL);
    tk_default_role(r, "user", 1.0f);

    /* first rule that matches wins, in rule order */
    t.seniority = "VP";
    t.title = "Product Manager";
    assert_string_equal(hf_role_of(r, &t, &w), "decision_maker");
    assert_float_equal(w, 3.0, 0);
    t.seniority = "senior";
    assert_string_equal(hf_role_of(r, &t, &w), "champion");
    assert_float_equal(w, 2.0, 0);
    /* every condition of a rule must hold */
    t.title = "Security Engineer";
    t.department = "Sales";
    assert_string_equal(hf_role_of(r, &t, &w), "user");
    assert_float_equal(w, 1.0, 0);
    t.department = "security";
    assert_string_equal(hf_role_of(r, &t, NULL), "influencer");
    /* nothing known: the default */
    hf_traits_t none = {.present = true};
    assert_string_equal(hf_role_of(r, &none, &w), "user");

    assert_float_equal(hf_role_weight(r, "decision_maker"), 3.0, 0);
    assert_float_equal(hf_role_weight(r, "influencer"), 1.5, 0);
    assert_float_equal(hf_role_weight(r, "user"), 1.0, 0);
    assert_float_equal(hf_role_weight(r, "no-such-role"), 1.0, 0);
    assert_float_equal(hf_role_weight(r, NULL), 1.0, 0);
    tk_rules_free(r);
}

/* hf_role_placement() of @t under @r, as a string (owned by a static buffer). */
static const char *placement(const hf_rules_t *r, const hf_traits_t *t)
{
    static char text[256];
    hf_buf_t b = HF_BUF_INIT;
    assert_int_equal(hf_role_placement(r, t, &b), 0);
    assert_true(b.len < sizeof text);
    memcpy(text, b.data, b.len);
    text[b.len] = '\0';
    hf_buf_free(&b);
    return text;
}

static void test_role_placement(void **state)
{
    (void)state;
    hf_rules_t *r = tk_rules_new();
    hf_traits_t t = {.present = true, .title = "VP Finance"};
    /* no rules and no default role: the fallback, as hf_role_of() gives it */
    assert_string_equal(placement(r, &t), "default role (unknown)");

    tk_globs(&tk_role_rule(r, "user", 1.0f)->match.title, "intern", "* intern", NULL);
    tk_globs(&tk_role_rule(r, "decision_maker", 3.0f)->match.title, "chief *", "*vp*", NULL);
    hf_role_rule_t *champion = tk_role_rule(r, "champion", 2.0f);
    tk_globs(&champion->match.title, "*manager*", "*director*", NULL);
    tk_globs(&champion->match.department, "*sales*", "*marketing*", NULL);
    hf_role_rule_t *sized = tk_role_rule(r, "influencer", 1.5f);
    tk_globs(&sized->match.email_domain, "*.example", NULL);
    sized->match.has_employees_range = true;
    sized->match.employees_min = 200;
    sized->match.employees_max = 5000;
    hf_role_rule_t *big = tk_role_rule(r, "influencer", 1.5f);
    big->match.has_employees_range = true;
    big->match.employees_min = 5001;
    big->match.employees_max = INT32_MAX;
    tk_default_role(r, "user", 1.0f);
    /* the rules array grew under the pointers taken while it was filled */
    champion = &r->buying_group.roles[2];
    sized = &r->buying_group.roles[3];

    /* the rule's number (from 1, in the file's order), its role, and the first pattern
     * each condition's value matched */
    assert_string_equal(placement(r, &t),
                        "role rule 2 (decision_maker): title \"VP Finance\" matched \"*vp*\"");
    t.title = "Chief VP of Things";
    assert_string_equal(placement(r, &t), "role rule 2 (decision_maker): title \"Chief VP of "
                                          "Things\" matched \"chief *\"");
    t.title = "Marketing Intern";
    assert_string_equal(placement(r, &t),
                        "role rule 1 (user): title \"Marketing Intern\" matched \"* intern\"");
    /* every condition of the rule, in the traits' order (title, ..., department) */
    t.title = "Sales Director";
    t.department = "Field Sales";
    assert_string_equal(placement(r, &t),
                        "role rule 3 (champion): title \"Sales Director\" matched \"*director*\", "
                        "department \"Field Sales\" matched \"*sales*\"");
    /* a rule that does not hold is never named: the next one that does */
    t.department = "Finance";
    assert_string_equal(placement(r, &t), "default role (user)");
    /* the domain, never an address; employees with the range it fell in */
    t.email_domain = "acme.example";
    t.has_employees = true;
    t.employees = 300;
    assert_string_equal(placement(r, &t),
                        "role rule 4 (influencer): email_domain \"acme.example\" matched "
                        "\"*.example\", employees 300 in [200, 5000]");
    t.employees = 9000;
    assert_string_equal(placement(r, &t), "role rule 5 (influencer): employees 9000 >= 5001");
    /* what it names is what hf_role_of() gives */
    assert_string_equal(hf_role_of(r, &t, NULL), "influencer");
    hf_traits_t none = {.present = true};
    assert_string_equal(placement(r, &none), "default role (user)");
    assert_string_equal(hf_role_of(r, &none, NULL), "user");

    /* the pieces: first match in list order; no value, no list, no match: NULL */
    const hf_globs_t *g = &champion->match.title;
    assert_string_equal(hf_globs_first_match(g, "Sales Manager, Director"), "*manager*");
    assert_null(hf_globs_first_match(g, "Engineer"));
    assert_null(hf_globs_first_match(g, NULL));
    assert_null(hf_globs_first_match(&champion->match.region, "emea"));
    /* conditions the traits do not satisfy say so (never the case for a rule that
     * matched), and a match without conditions holds for anyone */
    hf_buf_t b = HF_BUF_INIT;
    assert_int_equal(hf_trait_match_explain(&champion->match, &none, &b), 0);
    assert_int_equal(hf_buf_append(&b, "", 1), 0);
    assert_string_equal((char *)b.data, "title did not match, department did not match");
    hf_buf_reset(&b);
    hf_traits_t small = {
        .present = true, .email_domain = "a.example", .has_employees = true, .employees = 10};
    assert_int_equal(hf_trait_match_explain(&sized->match, &small, &b), 0);
    assert_int_equal(hf_buf_append(&b, "", 1), 0);
    assert_string_equal(
        (char *)b.data,
        "email_domain \"a.example\" matched \"*.example\", employees did not match");
    hf_buf_reset(&b);
    hf_trait_match_t anyone = {0};
    assert_int_equal(hf_trait_match_explain(&anyone, &none, &b), 0);
    assert_int_equal(hf_buf_append(&b, "", 1), 0);
    assert_string_equal((char *)b.data, "any contact");
    hf_buf_free(&b);
    tk_rules_free(r);
}

static void test_tiers(void **state)
{
    (void)state;
    hf_rules_t *r = tk_rules_new();
    int32_t points = -1;
    assert_int_equal(hf_account_tier(r, "acct-1", &points), 0);
    assert_int_equal(points, 0);
    tk_target(r, "acct-1", 1, 30);
    tk_target(r, "acct-2", 2, 10);
    assert_int_equal(hf_account_tier(r, "acct-1", &points), 1);
    assert_int_equal(points, 30);
    assert_int_equal(hf_account_tier(r, "acct-2", &points), 2);
    assert_int_equal(points, 10);
    assert_int_equal(hf_account_tier(r, "acct-3", &points), 0);
    assert_int_equal(points, 0);
    assert_int_equal(hf_account_tier(r, NULL, &points), 0);
    assert_int_equal(hf_account_tier(r, "acct-2", NULL), 2);
    tk_rules_free(r);
}

static void test_routing(void **state)
{
    (void)state;
    hf_rules_t *r = tk_rules_new();
    char note[128] = "x";
    /* no routing configured: no team, nothing to flag */
    assert_null(hf_route(r, "BR", NULL, 0, note, sizeof note));
    assert_string_equal(note, "");

    tk_globs(&tk_route_rule(r, "dach", -1)->country, "DE", "AT", "CH", NULL);
    tk_globs(&tk_route_rule(r, "us-enterprise", 1, 2, -1)->country, "US", NULL);
    tk_globs(&tk_route_rule(r, "us", -1)->country, "US", NULL);
    tk_globs(&tk_route_rule(r, "emea", -1)->region, "emea", NULL);
    hf_route_rule_t *apac = tk_route_rule(r, "apac-strategic", 1, -1);
    tk_globs(&apac->region, "apac", NULL);
    tk_globs(&apac->country, "J?", "SG", NULL);

    assert_string_equal(hf_route(r, "DE", "emea", 0, note, sizeof note), "dach");
    assert_string_equal(note, "");
    assert_string_equal(hf_route(r, "de", NULL, 3, note, sizeof note), "dach");
    assert_string_equal(hf_route(r, "US", NULL, 1, note, sizeof note), "us-enterprise");
    assert_string_equal(hf_route(r, "US", NULL, 2, note, sizeof note), "us-enterprise");
    assert_string_equal(hf_route(r, "US", NULL, 0, note, sizeof note), "us");
    assert_string_equal(hf_route(r, "FR", "EMEA", 0, note, sizeof note), "emea");
    assert_string_equal(hf_route(r, "JP", "apac", 1, note, sizeof note), "apac-strategic");

    /* not covered: flagged with a note, never dropped */
    assert_null(hf_route(r, "BR", "latam", 0, note, sizeof note));
    assert_string_equal(note, "no team covers country BR");
    assert_null(hf_route(r, "JP", "apac", 2, note, sizeof note));
    assert_string_equal(note, "no team covers country JP (tier 2)");
    assert_null(hf_route(r, NULL, "latam", 0, note, sizeof note));
    assert_string_equal(note, "no team covers region latam");
    assert_null(hf_route(r, NULL, NULL, 0, note, sizeof note));
    assert_string_equal(note, "no team covers leads without a country");
    /* a short buffer is cut, a missing one is fine */
    char tiny[8];
    assert_null(hf_route(r, "BR", NULL, 0, tiny, sizeof tiny));
    assert_string_equal(tiny, "no team");
    assert_null(hf_route(r, "BR", NULL, 0, NULL, 0));
    tk_rules_free(r);
}

/* Interests -------------------------------------------------------------------- */

static double weight_of(const interests_t *in, const hf_rules_t *r, const char *topic,
                        int64_t at_ms)
{
    for (size_t i = 0; i < in->count; i++)
        if (strcmp(in->items[i].topic, topic) == 0)
            return interests_weight_at(&in->items[i], r, at_ms);
    return -1; /* not tracked */
}

static void test_interest_decay_exact(void **state)
{
    (void)state;
    hf_rules_t *r = tk_rules_new();
    r->interests.half_life_ms = TK_DAY_MS;
    r->interests.tracked = 8;
    interests_t in = {0};
    assert_int_equal(interests_add(&in, "churn", 4.0, TK_T0, r), 0);
    assert_float_equal(weight_of(&in, r, "churn", TK_T0), 4.0, 1e-12);
    assert_float_equal(weight_of(&in, r, "churn", TK_T0 + TK_DAY_MS), 2.0, 1e-12);
    assert_float_equal(weight_of(&in, r, "churn", TK_T0 + 3 * TK_DAY_MS), 0.5, 1e-12);
    /* never "grows back" before its reference time */
    assert_float_equal(weight_of(&in, r, "churn", TK_T0 - TK_DAY_MS), 4.0, 1e-12);

    /* an addition one day later: 4 * 1/2 + 1 = 3 at T0 + 1d */
    assert_int_equal(interests_add(&in, "churn", 1.0, TK_T0 + TK_DAY_MS, r), 0);
    assert_float_equal(weight_of(&in, r, "churn", TK_T0 + TK_DAY_MS), 3.0, 1e-12);
    assert_float_equal(weight_of(&in, r, "churn", TK_T0 + 3 * TK_DAY_MS), 0.75, 1e-12);
    /* a late one (dated T0) counts decayed to the reference time: 3 + 2 * 1/2 = 4 */
    assert_int_equal(interests_add(&in, "churn", 2.0, TK_T0, r), 0);
    assert_float_equal(weight_of(&in, r, "churn", TK_T0 + TK_DAY_MS), 4.0, 1e-12);
    assert_int_equal(in.items[0].at_ms, TK_T0 + TK_DAY_MS);
    /* half an hour of a 1-day half-life: 2^(-1/48) */
    assert_float_equal(weight_of(&in, r, "churn", TK_T0 + TK_DAY_MS + 30 * TK_MINUTE_MS),
                       4.0 * 0.98566319864018, 1e-12);

    /* no half-life: no decay */
    r->interests.half_life_ms = 0;
    assert_float_equal(weight_of(&in, r, "churn", TK_T0 + 300 * TK_DAY_MS), 4.0, 0);
    interests_free(&in);
    tk_rules_free(r);
}

static void test_interest_rules_on_events(void **state)
{
    (void)state;
    hf_rules_t *r = tk_rules_new();
    r->interests.half_life_ms = TK_DAY_MS;
    r->interests.tracked = 8;
    tk_globs(&tk_interest_rule(r, "soc2", 2.0f)->match.url, "*/security/*", NULL);
    tk_globs(&tk_interest_rule(r, "soc2", 1.0f)->match.title, "*SOC 2*", NULL);
    tk_globs(&tk_interest_rule(r, "churn", 1.0f)->match.tags, "retention", NULL);
    hf_interest_rule_t *webinar = tk_interest_rule(r, "churn", 3.0f);
    webinar->match.kinds = 1u << HF_EV_WEBINAR;
    webinar->match.webinar_actions = 1u << HF_WEBINAR_ATTENDED;

    interests_t in = {0};
    /* both soc2 rules match one event: their weights add up */
    hf_event_t v = tk_visit("v", TK_T0, NULL, "c-1", "s", "/security/soc2", "SOC 2 guide");
    assert_int_equal(interests_fold(&in, &v, r), 0);
    assert_float_equal(weight_of(&in, r, "soc2", TK_T0), 3.0, 1e-12);
    assert_float_equal(weight_of(&in, r, "churn", TK_T0), -1, 0);

    const char *tags[] = {"pricing", "retention"};
    hf_event_t d = tk_download("d", TK_T0 + TK_DAY_MS, "c-1", "wp-1", "Playbook");
    d.tags = tags;
    d.tag_count = 2;
    assert_int_equal(interests_fold(&in, &d, r), 0);
    hf_event_t registered = tk_webinar("w1", TK_T0 + TK_DAY_MS, "c-1", HF_WEBINAR_REGISTERED, 0);
    assert_int_equal(interests_fold(&in, &registered, r), 0);
    hf_event_t attended = tk_webinar("w2", TK_T0 + TK_DAY_MS, "c-1", HF_WEBINAR_ATTENDED, 40);
    assert_int_equal(interests_fold(&in, &attended, r), 0);
    assert_float_equal(weight_of(&in, r, "churn", TK_T0 + TK_DAY_MS), 4.0, 1e-12);
    assert_float_equal(weight_of(&in, r, "soc2", TK_T0 + TK_DAY_MS), 1.5, 1e-12);

    hf_interest_t top[4];
    assert_int_equal(interests_top(&in, r, TK_T0 + TK_DAY_MS, top, 4), 2);
    assert_string_equal(top[0].topic, "churn");
    assert_float_equal(top[0].weight, 4.0, 1e-6);
    assert_string_equal(top[1].topic, "soc2");
    assert_float_equal(top[1].weight, 1.5, 1e-6);
    assert_int_equal(interests_top(&in, r, TK_T0 + TK_DAY_MS, top, 1), 1);
    assert_string_equal(top[0].topic, "churn");
    assert_int_equal(interests_top(&in, r, TK_T0 + TK_DAY_MS, top, 0), 0);
    interests_free(&in);
    tk_rules_free(r);
}

static void test_interest_eviction(void **state)
{
    (void)state;
    hf_rules_t *r = tk_rules_new();
    r->interests.tracked = 2;
    interests_t in = {0};
    assert_int_equal(interests_add(&in, "a", 5.0, TK_T0, r), 0);
    assert_int_equal(interests_add(&in, "b", 1.0, TK_T0, r), 0);
    /* a third topic evicts the weakest */
    assert_int_equal(interests_add(&in, "c", 3.0, TK_T0, r), 0);
    assert_int_equal(in.count, 2);
    assert_float_equal(weight_of(&in, r, "b", TK_T0), -1, 0);
    assert_float_equal(weight_of(&in, r, "c", TK_T0), 3.0, 0);
    /* a new topic weaker than every kept one is not kept */
    assert_int_equal(interests_add(&in, "d", 0.5, TK_T0, r), 0);
    assert_int_equal(in.count, 2);
    assert_float_equal(weight_of(&in, r, "d", TK_T0), -1, 0);
    /* equal weights: the least recently added to goes */
    assert_int_equal(interests_add(&in, "e", 3.0, TK_T0 + 1, r), 0);
    assert_float_equal(weight_of(&in, r, "c", TK_T0), -1, 0);
    assert_float_equal(weight_of(&in, r, "e", TK_T0), 3.0, 0);
    interests_free(&in);

    /* weakest after decay, at the newest reference time */
    r->interests.half_life_ms = TK_DAY_MS;
    assert_int_equal(interests_add(&in, "old", 5.0, TK_T0, r), 0);
    assert_int_equal(interests_add(&in, "new", 1.0, TK_T0 + 3 * TK_DAY_MS, r), 0);
    /* "old" is 0.625 at T0 + 3d: it goes, not "new" (1.0) */
    assert_int_equal(interests_add(&in, "newer", 0.7, TK_T0 + 3 * TK_DAY_MS, r), 0);
    assert_float_equal(weight_of(&in, r, "old", TK_T0), -1, 0);
    assert_float_equal(weight_of(&in, r, "new", TK_T0 + 3 * TK_DAY_MS), 1.0, 1e-12);
    assert_float_equal(weight_of(&in, r, "newer", TK_T0 + 3 * TK_DAY_MS), 0.7, 1e-12);
    /* adding to a kept topic never evicts */
    assert_int_equal(interests_add(&in, "new", 1.0, TK_T0 + 3 * TK_DAY_MS, r), 0);
    assert_int_equal(in.count, 2);
    interests_free(&in);

    /* nothing tracked at all */
    r->interests.tracked = 0;
    assert_int_equal(interests_add(&in, "a", 5.0, TK_T0, r), 0);
    assert_int_equal(in.count, 0);
    interests_free(&in);
    tk_rules_free(r);
}

static void test_interest_top_order(void **state)
{
    (void)state;
    hf_rules_t *r = tk_rules_new();
    r->interests.tracked = 8;
    interests_t in = {0};
    assert_int_equal(interests_add(&in, "zeta", 2.0, TK_T0, r), 0);
    assert_int_equal(interests_add(&in, "alpha", 2.0, TK_T0, r), 0);
    assert_int_equal(interests_add(&in, "big", 9.0, TK_T0, r), 0);
    assert_int_equal(interests_add(&in, "negative", -1.0, TK_T0, r), 0);
    assert_int_equal(interests_add(&in, "zero", 0.0, TK_T0, r), 0);
    hf_interest_t top[8];
    /* strongest first, ties by topic, no topic without a positive weight */
    assert_int_equal(interests_top(&in, r, TK_T0, top, 8), 3);
    assert_string_equal(top[0].topic, "big");
    assert_string_equal(top[1].topic, "alpha");
    assert_string_equal(top[2].topic, "zeta");
    assert_int_equal(interests_top(&in, r, TK_T0, top, 2), 2);
    assert_string_equal(top[1].topic, "alpha");
    interests_free(&in);
    tk_rules_free(r);
}

static void test_interest_merge(void **state)
{
    (void)state;
    hf_rules_t *r = tk_rules_new();
    r->interests.half_life_ms = TK_DAY_MS;
    r->interests.tracked = 8;
    interests_t a = {0}, b = {0};
    assert_int_equal(interests_add(&a, "churn", 4.0, TK_T0, r), 0);
    assert_int_equal(interests_add(&b, "churn", 2.0, TK_T0 + TK_DAY_MS, r), 0);
    assert_int_equal(interests_add(&b, "soc2", 1.0, TK_T0, r), 0);
    assert_int_equal(interests_merge(&a, &b, r), 0);
    /* 4 decayed one day (2) + 2 */
    assert_float_equal(weight_of(&a, r, "churn", TK_T0 + TK_DAY_MS), 4.0, 1e-12);
    assert_float_equal(weight_of(&a, r, "soc2", TK_T0), 1.0, 1e-12);
    interests_free(&a);
    interests_free(&b);
    tk_rules_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_account_from_domain_and_free_mail),
        cmocka_unit_test(test_account_domain_map),
        cmocka_unit_test(test_account_id_trait_wins),
        cmocka_unit_test(test_blocked_account_ids),
        cmocka_unit_test(test_roles),
        cmocka_unit_test(test_role_placement),
        cmocka_unit_test(test_tiers),
        cmocka_unit_test(test_routing),
        cmocka_unit_test(test_interest_decay_exact),
        cmocka_unit_test(test_interest_rules_on_events),
        cmocka_unit_test(test_interest_eviction),
        cmocka_unit_test(test_interest_top_order),
        cmocka_unit_test(test_interest_merge),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
