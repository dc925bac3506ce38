/* Unit tests of the config sections interests, buying_group, accounts and routing.
 * Environment (set by meson): HF_CONFIG_DEFAULT = config/handoff.yaml. */
#include "cfgtest.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "config/cfgmap.h"
#include "processors/account/resolve.h"

#define DAY_MS (24LL * 3600 * 1000)

/* ---- defaults ---- */

static void test_defaults(void **state)
{
    (void)state;
    static const char *const texts[] = {"", "accounts:\nbuying_group:\ninterests:\nrouting:\n",
                                        "accounts: {}\nrouting: []\n"};
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        loaded_t l = load_ok(texts[i]);
        const hf_rules_t *r = l.cfg->rules;
        assert_int_equal(r->interests.half_life_ms, 30 * DAY_MS);
        assert_int_equal(r->interests.tracked, 20);
        assert_int_equal(r->interests.top, 3);
        assert_int_equal(r->interests.rule_count, 0);

        /* the shipped free-mail list */
        assert_int_equal(r->accounts.free_mail_domains.count, 45);
        assert_string_equal(r->accounts.free_mail_domains.patterns[0], "gmail.com");
        assert_string_equal(r->accounts.free_mail_domains.patterns[44], "getnada.com");
        static const char *const free_mail[] = {
            "gmail.com", "GoogleMail.com", "outlook.com",    "yahoo.co.uk", "proton.me",
            "web.de",    "163.com",        "mailinator.com", "maildrop.cc", "10minutemail.com"};
        for (size_t k = 0; k < sizeof free_mail / sizeof free_mail[0]; k++) {
            if (!hf_globs_match(&r->accounts.free_mail_domains, free_mail[k]))
                print_error("not free-mail: %s\n", free_mail[k]);
            assert_true(hf_globs_match(&r->accounts.free_mail_domains, free_mail[k]));
        }
        assert_false(hf_globs_match(&r->accounts.free_mail_domains, "acme.example"));
        assert_false(hf_globs_match(&r->accounts.free_mail_domains, "gmail.company.example"));

        assert_int_equal(r->accounts.domain_count, 0);
        assert_int_equal(r->accounts.target_count, 0);
        assert_int_equal(r->buying_group.role_count, 0);
        assert_string_equal(r->buying_group.default_role, "user");
        assert_true(r->buying_group.default_role_weight == 1.0f);
        assert_int_equal(r->accounts.max_score, 1000);
        assert_int_equal(r->accounts.engaged_member_score, 30);
        assert_int_equal(r->accounts.engaged_member_within_ms, 30 * DAY_MS);
        assert_int_equal(r->accounts.members_max, 50);
        assert_int_equal(r->accounts.buying_group_max, 8);
        assert_int_equal(r->accounts.fit_rule_count, 0);
        assert_int_equal(r->accounts.rule_count, 0);
        assert_int_equal(r->routing.rule_count, 0);
        drop(&l);
    }
}

/* ---- values ---- */

/* A file setting every key of the sections these tests are about. */
static const char values_text[] =
    "interests:\n"
    "  half_life: 2w\n"
    "  tracked: 5\n"
    "  top: 2\n"
    "  rules:\n"
    "    - topic: reduce churn\n"
    "      weight: 2.5\n"
    "      when: { tags: [churn, retention] }\n"
    "    - topic: SOC 2 readiness\n"
    "      when: { event: web_visit, url: \"*/security*\" }\n"
    "buying_group:\n"
    "  default_role: { role: end_user, weight: 0.5 }\n"
    "  roles:\n"
    "    - role: decision_maker\n"
    "      weight: 3\n"
    "      when: { title: [\"*vp*\", \"chief *\"] }\n"
    "    - role: decision_maker\n"
    "      weight: 3.0\n"
    "      when: { seniority: executive }\n"
    "    - role: champion\n"
    "      weight: 2\n"
    "      when: { title: \"*director*\", department: [sales, marketing] }\n"
    "accounts:\n"
    "  extra_free_mail_domains: [pm.me]\n"
    "  free_mail_domains: [corp-mail.example, \"*.free.example\"]\n"
    "  domains:\n"
    "    Acme-Corp.Example: acct-acme\n"
    "    acme.example: acct-acme\n"
    "  targets:\n"
    "    - { account: acct-acme, tier: 1, points: 30 }\n"
    "    - { account: globex.example, tier: 2 }\n"
    "  max_score: 500\n"
    "  engaged_member: { score: 40, within: 0 }\n"
    "  members_max: 20\n"
    "  buying_group_max: 20\n"
    "  fit:\n"
    "    - name: software\n"
    "      points: 30\n"
    "      when: { industry: \"*software*\", employees: { min: 200 } }\n"
    "  rules:\n"
    "    - name: group\n"
    "      min_engaged: 3\n"
    "      min_roles: 2\n"
    "      roles_all: decision_maker\n"
    "      roles_any: [champion, end_user]\n"
    "      min_score: 150\n"
    "      min_grade: B\n"
    "      tiers: [0, 1, 2]\n"
    "    - { name: named, tiers: 1 }\n"
    "routing:\n"
    "  - team: emea-enterprise\n"
    "    country: [DE, FR, GB]\n"
    "    region: EMEA\n"
    "    tiers: [1, 2]\n"
    "  - team: rest\n";

static void test_values_interests_and_roles(void **state)
{
    (void)state;
    loaded_t l = load_ok(values_text);
    const hf_rules_t *r = l.cfg->rules;

    assert_int_equal(r->interests.half_life_ms, 14 * DAY_MS);
    assert_int_equal(r->interests.tracked, 5);
    assert_int_equal(r->interests.top, 2);
    assert_int_equal(r->interests.rule_count, 2);
    const hf_interest_rule_t *churn = &r->interests.rules[0];
    assert_string_equal(churn->topic, "reduce churn");
    assert_true(churn->weight == 2.5f);
    /* `when` is the scoring rules' own: tags imply downloads */
    assert_int_equal(churn->match.kinds, 1u << HF_EV_DOWNLOAD);
    assert_int_equal(churn->match.tags.count, 2);
    assert_string_equal(churn->match.tags.patterns[1], "retention");
    assert_string_equal(r->interests.rules[1].topic, "SOC 2 readiness");
    assert_true(r->interests.rules[1].weight == 1.0f);
    assert_int_equal(r->interests.rules[1].match.kinds, 1u << HF_EV_WEB_VISIT);

    assert_string_equal(r->buying_group.default_role, "end_user");
    assert_true(r->buying_group.default_role_weight == 0.5f);
    assert_int_equal(r->buying_group.role_count, 3);
    assert_string_equal(r->buying_group.roles[0].role, "decision_maker");
    assert_true(r->buying_group.roles[0].weight == 3.0f);
    assert_int_equal(r->buying_group.roles[0].match.title.count, 2);
    assert_int_equal(r->buying_group.roles[1].match.seniority.count, 1);
    assert_string_equal(r->buying_group.roles[2].role, "champion");
    assert_true(r->buying_group.roles[2].weight == 2.0f);
    assert_int_equal(r->buying_group.roles[2].match.department.count, 2);
    drop(&l);
}

static void test_values_accounts(void **state)
{
    (void)state;
    loaded_t l = load_ok(values_text);
    const hf_rules_t *r = l.cfg->rules;

    /* free_mail_domains replaces the shipped list; extra_ adds to it, whatever the order */
    assert_int_equal(r->accounts.free_mail_domains.count, 3);
    assert_string_equal(r->accounts.free_mail_domains.patterns[0], "corp-mail.example");
    assert_string_equal(r->accounts.free_mail_domains.patterns[1], "*.free.example");
    assert_string_equal(r->accounts.free_mail_domains.patterns[2], "pm.me");
    assert_false(hf_globs_match(&r->accounts.free_mail_domains, "gmail.com"));

    /* domains are stored in lower case */
    assert_int_equal(r->accounts.domain_count, 2);
    assert_string_equal(r->accounts.domains[0].domain, "acme-corp.example");
    assert_string_equal(r->accounts.domains[0].account_id, "acct-acme");
    assert_string_equal(r->accounts.domains[1].domain, "acme.example");

    assert_int_equal(r->accounts.target_count, 2);
    assert_string_equal(r->accounts.targets[0].account_id, "acct-acme");
    assert_int_equal(r->accounts.targets[0].tier, 1);
    assert_int_equal(r->accounts.targets[0].points, 30);
    assert_string_equal(r->accounts.targets[1].account_id, "globex.example");
    assert_int_equal(r->accounts.targets[1].tier, 2);
    assert_int_equal(r->accounts.targets[1].points, 0);

    assert_int_equal(r->accounts.max_score, 500);
    assert_int_equal(r->accounts.engaged_member_score, 40);
    assert_int_equal(r->accounts.engaged_member_within_ms, 0);
    assert_int_equal(r->accounts.members_max, 20);
    assert_int_equal(r->accounts.buying_group_max, 20);
    assert_int_equal(r->accounts.fit_rule_count, 1);
    assert_string_equal(r->accounts.fit_rules[0].name, "software");
    assert_int_equal(r->accounts.fit_rules[0].points, 30);
    assert_true(r->accounts.fit_rules[0].match.has_employees_range);
    assert_int_equal(r->accounts.fit_rules[0].match.employees_min, 200);

    assert_int_equal(r->accounts.rule_count, 2);
    const hf_account_rule_t *group = &r->accounts.rules[0];
    assert_string_equal(group->name, "group");
    assert_int_equal(group->min_engaged, 3);
    assert_int_equal(group->min_roles, 2);
    assert_int_equal(group->roles_all_count, 1);
    assert_string_equal(group->roles_all[0], "decision_maker");
    assert_int_equal(group->roles_any_count, 2);
    assert_string_equal(group->roles_any[0], "champion");
    assert_string_equal(group->roles_any[1], "end_user");
    assert_int_equal(group->min_score, 150);
    assert_int_equal(group->min_grade, hf_rules_grade_index(r, "B"));
    assert_int_equal(group->tier_count, 3);
    assert_int_equal(group->tiers[0], 0);
    assert_int_equal(group->tiers[2], 2);
    const hf_account_rule_t *named = &r->accounts.rules[1];
    assert_int_equal(named->min_engaged, 0);
    assert_int_equal(named->min_roles, 0);
    assert_int_equal(named->roles_all_count, 0);
    assert_null(named->roles_all);
    assert_int_equal(named->min_score, 0);
    assert_int_equal(named->min_grade, -1);
    assert_int_equal(named->tier_count, 1);
    assert_int_equal(named->tiers[0], 1);
    drop(&l);
}

static void test_values_routing(void **state)
{
    (void)state;
    loaded_t l = load_ok(values_text);
    const hf_rules_t *r = l.cfg->rules;

    assert_int_equal(r->routing.rule_count, 2);
    const hf_route_rule_t *emea = &r->routing.rules[0];
    assert_string_equal(emea->team, "emea-enterprise");
    assert_int_equal(emea->country.count, 3);
    assert_string_equal(emea->country.patterns[2], "GB");
    assert_int_equal(emea->region.count, 1);
    assert_int_equal(emea->tier_count, 2);
    assert_int_equal(emea->tiers[1], 2);
    assert_string_equal(r->routing.rules[1].team, "rest");
    assert_int_equal(r->routing.rules[1].country.count, 0);
    assert_int_equal(r->routing.rules[1].tier_count, 0);

    /* the compiled rules behave as the file says */
    assert_string_equal(hf_account_resolve(r, NULL, "ACME.example"), "acct-acme");
    assert_null(hf_account_resolve(r, NULL, "x.free.example"));
    assert_null(hf_account_resolve(r, NULL, "pm.me"));
    assert_string_equal(hf_account_resolve(r, NULL, "gmail.com"), "gmail.com");
    hf_traits_t t = {0};
    t.title = "Director of Sales";
    t.department = "Sales";
    float weight = 0;
    assert_string_equal(hf_role_of(r, &t, &weight), "champion");
    assert_true(weight == 2.0f);
    t.title = "Engineer";
    assert_string_equal(hf_role_of(r, &t, &weight), "end_user");
    assert_true(weight == 0.5f);
    int32_t points = 0;
    assert_int_equal(hf_account_tier(r, "acct-acme", &points), 1);
    assert_int_equal(points, 30);
    char note[64];
    assert_string_equal(hf_route(r, "de", "EMEA", 2, note, sizeof note), "emea-enterprise");
    assert_string_equal(hf_route(r, "DE", "EMEA", 0, note, sizeof note), "rest");
    drop(&l);
}

static void test_free_mail_lists(void **state)
{
    (void)state;
    loaded_t l;
    /* an empty list turns free-mail off; a single pattern is a list of one */
    l = load_ok("accounts: { free_mail_domains: [] }\n");
    assert_int_equal(l.cfg->rules->accounts.free_mail_domains.count, 0);
    drop(&l);
    l = load_ok("accounts: { extra_free_mail_domains: pm.me }\n");
    assert_int_equal(l.cfg->rules->accounts.free_mail_domains.count, 46);
    assert_string_equal(l.cfg->rules->accounts.free_mail_domains.patterns[0], "gmail.com");
    assert_string_equal(l.cfg->rules->accounts.free_mail_domains.patterns[45], "pm.me");
    drop(&l);
}

/* ---- numbers ---- */

static void test_float_parse(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        double value;
    } good[] = {{"1", 1},
                {"2.5", 2.5},
                {"0.25", 0.25},
                {"-3.75", -3.75},
                {"+4", 4},
                {"007.50", 7.5},
                {"0.1", 0.1},
                {"100", 100},
                {"0", 0},
                {"0.000", 0},
                {"123456789012345", 123456789012345.0}};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        double v = -1;
        assert_int_equal(cfgmap_float_parse(good[i].text, &v), 0);
        if (v != good[i].value)
            print_error("%s -> %.17g\n", good[i].text, v);
        assert_true(v == good[i].value);
    }
    static const char *const bad[] = {"",     ".",   ".5",   "1.", "1e3", "1,5", "abc",
                                      "1..2", "--1", "0x10", " 1", "1 ",  "nan", "inf"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        double v = 42;
        assert_int_equal(cfgmap_float_parse(bad[i], &v), -EINVAL);
        assert_true(v == 42); /* untouched */
    }
    double v;
    assert_int_equal(cfgmap_float_parse("1234567890123456", &v), -ERANGE);
    assert_int_equal(cfgmap_float_parse("0.00000000000000000000001", &v), -ERANGE);
}

static void test_type_errors(void **state)
{
    (void)state;
    expect_errors("buying_group:\n"
                  "  roles:\n"
                  "    - role: champion\n"
                  "      weight: 0\n"
                  "      when: { title: \"*director*\" }\n",
                  1,
                  "t.yaml:4:15: buying_group.roles[0].weight: expected a number in (0, 100], got "
                  "\"0\"\n"
                  "    weight: 0\n"
                  "            ^\n");
    expect_errors("buying_group:\n  default_role: { weight: \"1,5\" }\n", 1,
                  "t.yaml:2:27: buying_group.default_role.weight: expected a number in (0, 100], "
                  "got \"1,5\"\n"
                  "    default_role: { weight: \"1,5\" }\n"
                  "                            ^\n");
    expect_errors("interests:\n"
                  "  rules:\n"
                  "    - { topic: churn, weight: 100.5, when: { tags: churn } }\n",
                  1,
                  "t.yaml:3:31: interests.rules[0].weight: expected a number in (0, 100], got "
                  "\"100.5\"\n"
                  "    - { topic: churn, weight: 100.5, when: { tags: churn } }\n"
                  "                              ^\n");
    expect_errors("accounts:\n"
                  "  rules:\n"
                  "    - { name: r, tiers: [1, x, -1] }\n"
                  "  targets: [{ account: a.example, tier: 1 }]\n",
                  2,
                  "t.yaml:3:29: accounts.rules[0].tiers[1]: expected integer in [0, 100], got "
                  "\"x\"\n"
                  "    - { name: r, tiers: [1, x, -1] }\n"
                  "                            ^\n"
                  "t.yaml:3:32: accounts.rules[0].tiers[2]: expected integer in [0, 100], got "
                  "\"-1\"\n"
                  "    - { name: r, tiers: [1, x, -1] }\n"
                  "                               ^\n");
}

static void test_type_errors_routing(void **state)
{
    (void)state;
    expect_errors("routing:\n  - { team: t, tiers: [] }\n", 1,
                  "t.yaml:2:23: routing[0].tiers: expected at least one integer\n"
                  "    - { team: t, tiers: [] }\n"
                  "                        ^\n");
    expect_errors("routing:\n  - { team: t, tiers: { a: 1 } }\n", 1,
                  "t.yaml:2:23: routing[0].tiers: expected integer in [0, 100] or a list of "
                  "them, got a map\n"
                  "    - { team: t, tiers: { a: 1 } }\n"
                  "                        ^\n");
    expect_errors("routing:\n  team: emea\n", 1,
                  "t.yaml:2:3: routing: expected a list, got a map\n"
                  "    team: emea\n"
                  "    ^\n");
    expect_errors("routing:\n  - { team: \"emea team\" }\n", 1,
                  "t.yaml:2:13: routing[0].team: expected a name of letters, digits, '_', '-' "
                  "and '.', got \"emea team\"\n"
                  "    - { team: \"emea team\" }\n"
                  "              ^\n");
    expect_errors("routing:\n  - { country: DE }\n", 1,
                  "t.yaml:2:5: routing[0]: missing required key \"team\"\n"
                  "    - { country: DE }\n"
                  "      ^\n");
}

static void test_type_errors_targets_and_interests(void **state)
{
    (void)state;
    expect_errors("accounts:\n  targets:\n    - { account: acct-a, tier: 0 }\n", 1,
                  "t.yaml:3:32: accounts.targets[0].tier: expected integer in [1, 100], got "
                  "\"0\"\n"
                  "    - { account: acct-a, tier: 0 }\n"
                  "                               ^\n");
    expect_errors("accounts:\n  targets:\n    - { account: undefined, tier: 1 }\n", 1,
                  "t.yaml:3:18: accounts.targets[0].account: expected an account id, not a "
                  "placeholder for an unknown one (null, 0, ...), got \"undefined\"\n"
                  "    - { account: undefined, tier: 1 }\n"
                  "                 ^\n");
    expect_errors("interests:\n  rules:\n    - { topic: \" churn\", when: { tags: x } }\n", 1,
                  "t.yaml:3:16: interests.rules[0].topic: expected a topic without leading or "
                  "trailing spaces, got \" churn\"\n"
                  "    - { topic: \" churn\", when: { tags: x } }\n"
                  "               ^\n");
    expect_errors("interests:\n  rules:\n    - { topic: churn }\n", 1,
                  "t.yaml:3:7: interests.rules[0]: missing required key \"when\"\n"
                  "    - { topic: churn }\n"
                  "      ^\n");
    /* the scoring rules' `when`, with its checks */
    expect_errors("interests:\n"
                  "  rules:\n"
                  "    - { topic: churn, when: { event: email, url: \"*/churn*\" } }\n",
                  1,
                  "t.yaml:3:45: interests.rules[0].when.url: \"url\" applies to web_visit, form "
                  "events only, and \"event\" names none of them\n"
                  "    - { topic: churn, when: { event: email, url: \"*/churn*\" } }\n"
                  "                                            ^\n");
    expect_errors("accounts:\n  fit:\n    - { name: vp, points: 5, when: { title: \"*vp*\" } }\n",
                  1,
                  "t.yaml:3:38: accounts.fit[0].when: unknown key \"title\"; allowed: industry, "
                  "company_name, country, region, employees\n"
                  "    - { name: vp, points: 5, when: { title:\n" /* the value is not shown */
                  "                                     ^\n");
    expect_errors("accounts:\n  bogus_key: 1\n", 1,
                  "t.yaml:2:3: accounts: unknown key \"bogus_key\"; allowed: free_mail_domains, "
                  "extra_free_mail_domains, domains, targets, max_score, engaged_member, "
                  "members_max, buying_group_max, member_journey, member_updates, "
                  "member_update_records, fit, rules\n"
                  "    bogus_key:\n"
                  "    ^\n");
}

/* ---- accounts.domains ---- */

static void test_domains(void **state)
{
    (void)state;
    expect_errors("accounts:\n"
                  "  domains:\n"
                  "    acme.example: acct-acme\n"
                  "    ACME.example: acct-other\n"
                  "    gmail.com: acct-g\n"
                  "    \"*.acme.example\": acct-acme\n"
                  "    globex.example: [a]\n"
                  "    initech.example: \"null\"\n",
                  5,
                  "t.yaml:4:5: accounts.domains.ACME.example: duplicate domain \"acme.example\"\n"
                  "    ACME.example: acct-other\n"
                  "    ^\n"
                  "t.yaml:5:5: accounts.domains.gmail.com: is a free-mail domain "
                  "(accounts.free_mail_domains): its contacts never make an account\n"
                  "    gmail.com: acct-g\n"
                  "    ^\n"
                  "t.yaml:6:5: accounts.domains.*.acme.example: expected an e-mail domain such as "
                  "acme.example (letters, digits, '-' and '.'), got \"*.acme.example\"\n"
                  "    \"*.acme.example\": acct-acme\n"
                  "    ^\n"
                  "t.yaml:7:21: accounts.domains.globex.example: expected an account id, got a "
                  "list\n"
                  "    globex.example: [a]\n"
                  "                    ^\n"
                  "t.yaml:8:22: accounts.domains.initech.example: expected an account id, not a "
                  "placeholder for an unknown one (null, 0, ...), got \"null\"\n"
                  "    initech.example: \"null\"\n"
                  "                     ^\n");
    expect_errors("accounts:\n  domains: [acme.example]\n", 1,
                  "t.yaml:2:12: accounts.domains: expected a map of e-mail domain to account id, "
                  "got a list\n"
                  "    domains: [acme.example]\n"
                  "             ^\n");
    /* free-mail domains are checked against the list in force: extra ones too */
    expect_containing("accounts:\n"
                      "  domains: { pm.me: acct-pm }\n"
                      "  extra_free_mail_domains: \"pm.*\"\n",
                      1, "t.yaml:2:14: accounts.domains.pm.me: is a free-mail domain", NULL);
    /* and a list that no longer has gmail.com allows it */
    loaded_t l = load_ok("accounts:\n"
                         "  free_mail_domains: [yahoo.com]\n"
                         "  domains: { gmail.com: acct-google }\n");
    assert_string_equal(hf_account_resolve(l.cfg->rules, NULL, "gmail.com"), "acct-google");
    drop(&l);
}

/* ---- cross-checks ---- */

static const char roles_prefix[] =
    "buying_group:\n"
    "  roles:\n"
    "    - { role: decision_maker, weight: 3, when: { title: \"*vp*\" } }\n"
    "    - { role: champion, weight: 2, when: { title: \"*director*\" } }\n";

static void test_role_weights(void **state)
{
    (void)state;
    /* a role has one weight */
    expect_errors("buying_group:\n"
                  "  roles:\n"
                  "    - { role: dm, weight: 3, when: { title: \"*vp*\" } }\n"
                  "    - { role: dm, weight: 2, when: { seniority: exec } }\n"
                  "    - { role: user, weight: 2.5, when: { title: \"*analyst*\" } }\n",
                  2,
                  "t.yaml:4:27: buying_group.roles[1].weight: role \"dm\" has weight 3 at item "
                  "[0]; a role has one weight\n"
                  "    - { role: dm, weight: 2, when: { seniority: exec } }\n"
                  "                          ^\n"
                  "t.yaml:5:29: buying_group.roles[2].weight: role \"user\" is also "
                  "buying_group.default_role, with weight 1; a role has one weight\n"
                  "    - { role: user, weight: 2.5, when: { title: \"*analyst*\" } }\n"
                  "                            ^\n");
    expect_errors("buying_group:\n"
                  "  default_role: { role: member, weight: 0.5 }\n"
                  "  roles:\n"
                  "    - { role: member, when: { title: \"*analyst*\" } }\n",
                  1,
                  "t.yaml:4:15: buying_group.roles[0].role: role \"member\" is also "
                  "buying_group.default_role, with weight 0.5; a role has one weight\n"
                  "    - { role: member, when: { title: \"*analyst*\" } }\n"
                  "              ^\n");
    loaded_t same = load_ok("buying_group:\n"
                            "  roles:\n"
                            "    - { role: dm, weight: 3, when: { title: \"*vp*\" } }\n"
                            "    - { role: dm, weight: 3.0, when: { seniority: exec } }\n"
                            "    - { role: user, when: { title: \"*analyst*\" } }\n");
    drop(&same);
}

static void test_role_names(void **state)
{
    (void)state;
    char text[2048];

    /* roles_all / roles_any name roles of buying_group */
    snprintf(text, sizeof text,
             "%saccounts:\n"
             "  rules:\n"
             "    - { name: r, roles_all: [decision_maker, cfo], roles_any: chamion }\n",
             roles_prefix);
    expect_errors(text, 2,
                  "t.yaml:7:46: accounts.rules[0].roles_all[1]: unknown role \"cfo\"; "
                  "buying_group has decision_maker, champion, user\n"
                  "    - { name: r, roles_all: [decision_maker, cfo], roles_any: chamion }\n"
                  "                                             ^\n"
                  "t.yaml:7:63: accounts.rules[0].roles_any: unknown role \"chamion\"; "
                  "buying_group has decision_maker, champion, user\n"
                  "    - { name: r, roles_all: [decision_maker, cfo], roles_any: chamion }\n"
                  "                                                              ^\n");
    expect_errors("accounts:\n  rules:\n    - { name: r, roles_any: [] }\n", 1,
                  "t.yaml:3:29: accounts.rules[0].roles_any: expected at least one role name\n"
                  "    - { name: r, roles_any: [] }\n"
                  "                            ^\n");
    expect_containing("accounts:\n  rules:\n    - { name: r, roles_all: { a: 1 } }\n", 1,
                      "t.yaml:3:29: accounts.rules[0].roles_all: expected a role name or a list "
                      "of them, got a map",
                      NULL);
    expect_errors("accounts:\n  rules:\n    - { name: r, min_grade: Z }\n", 1,
                  "t.yaml:3:29: accounts.rules[0].min_grade: unknown grade \"Z\"; fit.grades has "
                  "A, B, C, D, F\n"
                  "    - { name: r, min_grade: Z }\n"
                  "                            ^\n");
}

static void test_account_rule_conditions(void **state)
{
    (void)state;
    char text[2048];

    /* every account rule has a condition that can hold */
    expect_errors("accounts:\n  rules:\n    - { name: empty }\n", 1,
                  "t.yaml:3:7: accounts.rules[0]: expected at least one condition: min_engaged, "
                  "min_roles, roles_all, roles_any, min_score, min_grade or tiers\n"
                  "    - { name: empty }\n"
                  "      ^\n");
    expect_errors("accounts:\n"
                  "  rules:\n"
                  "    - name: never\n"
                  "      min_score: 2000\n"
                  "      min_engaged: 51\n"
                  "      min_roles: 2\n"
                  "      tiers: [2, 3]\n",
                  4,
                  "t.yaml:4:18: accounts.rules[0].min_score: is above accounts.max_score (1000): "
                  "the rule could never hold\n"
                  "    min_score: 2000\n"
                  "               ^\n"
                  "t.yaml:5:20: accounts.rules[0].min_engaged: is above accounts.members_max "
                  "(50): the rule could never hold\n"
                  "    min_engaged: 51\n"
                  "                 ^\n"
                  "t.yaml:6:18: accounts.rules[0].min_roles: is more than the 1 role "
                  "buying_group has (user): the rule could never hold\n"
                  "    min_roles: 2\n"
                  "               ^\n"
                  "t.yaml:7:14: accounts.rules[0].tiers: no account can have any of these tiers: "
                  "accounts.targets has no tiers (and 0 is every other account)\n"
                  "    tiers: [2, 3]\n"
                  "           ^\n");
    snprintf(text, sizeof text,
             "%saccounts:\n"
             "  targets: [{ account: a.example, tier: 1 }, { account: b.example, tier: 4 }]\n"
             "  max_score: 3000\n"
             "  members_max: 60\n"
             "  rules:\n"
             "    - { name: ok, min_score: 2000, min_engaged: 51, min_roles: 3, tiers: [2, 4] }\n"
             "    - { name: other, min_roles: 4, tiers: [2, 3] }\n",
             roles_prefix);
    expect_errors(text, 2,
                  "t.yaml:11:33: accounts.rules[1].min_roles: is more than the 3 roles "
                  "buying_group has (decision_maker, champion, user): the rule could never hold\n"
                  "    - { name: other, min_roles: 4, tiers: [2, 3] }\n"
                  "                                ^\n"
                  "t.yaml:11:43: accounts.rules[1].tiers: no account can have any of these "
                  "tiers: accounts.targets has tiers 1, 4 (and 0 is every other account)\n"
                  "    - { name: other, min_roles: 4, tiers: [2, 3] }\n"
                  "                                          ^\n");
}

static void test_unique_names(void **state)
{
    (void)state;
    /* unique names and accounts */
    expect_errors("accounts:\n"
                  "  targets:\n"
                  "    - { account: acct-a, tier: 1 }\n"
                  "    - { account: acct-b, tier: 2 }\n"
                  "    - { account: acct-a, tier: 2 }\n"
                  "  fit:\n"
                  "    - { name: f, points: 1, when: { industry: x } }\n"
                  "    - { name: f, points: 2, when: { country: DE } }\n"
                  "  rules:\n"
                  "    - { name: r, min_score: 10 }\n"
                  "    - { name: r, min_engaged: 2 }\n",
                  3,
                  "t.yaml:5:18: accounts.targets[2].account: duplicate account \"acct-a\" (also "
                  "item [0])\n"
                  "    - { account: acct-a, tier: 2 }\n"
                  "                 ^\n"
                  "t.yaml:8:15: accounts.fit[1].name: duplicate name \"f\" (also item [0])\n"
                  "    - { name: f, points: 2, when: { country: DE } }\n"
                  "              ^\n"
                  "t.yaml:11:15: accounts.rules[1].name: duplicate name \"r\" (also item [0])\n"
                  "    - { name: r, min_engaged: 2 }\n"
                  "              ^\n");
}

static void test_bounds(void **state)
{
    (void)state;
    /* bounds between keys */
    expect_errors("interests: { tracked: 2, top: 3 }\n", 1,
                  "t.yaml:1:31: interests.top: must not exceed interests.tracked (2)\n"
                  "    interests: { tracked: 2, top: 3 }\n"
                  "                                  ^\n");
    /* where the file makes the other too small, against a default */
    expect_errors("interests: { tracked: 2 }\n", 1,
                  "t.yaml:1:23: interests.tracked: is below interests.top (3, its default)\n"
                  "    interests: { tracked: 2 }\n"
                  "                          ^\n");
    expect_errors("accounts:\n  members_max: 5\n  buying_group_max: 6\n", 1,
                  "t.yaml:3:21: accounts.buying_group_max: must not exceed accounts.members_max "
                  "(5)\n"
                  "    buying_group_max: 6\n"
                  "                      ^\n");
    expect_errors("accounts:\n  members_max: 5\n", 1,
                  "t.yaml:2:16: accounts.members_max: is below accounts.buying_group_max (8, its "
                  "default)\n"
                  "    members_max: 5\n"
                  "                 ^\n");
    expect_errors("accounts:\n  engaged_member: { score: 300 }\n", 1,
                  "t.yaml:2:28: accounts.engaged_member.score: is above scoring.max (200): no "
                  "member would be engaged\n"
                  "    engaged_member: { score: 300 }\n"
                  "                             ^\n");
    expect_errors("scoring: { max: 25 }\nlifecycle: { engaged_score: 20 }\n", 1,
                  "t.yaml:1:17: scoring.max: is below accounts.engaged_member.score (30): no "
                  "account member would be engaged\n"
                  "    scoring: { max: 25 }\n"
                  "                    ^\n");
}

static void test_routing_order(void **state)
{
    (void)state;
    /* routing: first match wins, so nothing may follow a rule without conditions */
    expect_errors("routing:\n"
                  "  - { team: emea, region: EMEA }\n"
                  "  - { team: everyone }\n"
                  "  - { team: apac, region: APAC }\n"
                  "  - { team: late, tiers: 7 }\n",
                  3,
                  "t.yaml:4:5: routing[2]: never used: routing[1] has no condition and takes "
                  "every lead first\n"
                  "    - { team: apac, region: APAC }\n"
                  "      ^\n"
                  "t.yaml:5:5: routing[3]: never used: routing[1] has no condition and takes "
                  "every lead first\n"
                  "    - { team: late, tiers: 7 }\n"
                  "      ^\n"
                  "t.yaml:5:26: routing[3].tiers: no account can have any of these tiers: "
                  "accounts.targets has no tiers (and 0 is every other account)\n"
                  "    - { team: late, tiers: 7 }\n"
                  "                           ^\n");
    /* several rules may name one team; topics may repeat; a last catch-all is fine */
    loaded_t l = load_ok("accounts: { targets: [{ account: a.example, tier: 1 }] }\n"
                         "interests:\n"
                         "  rules:\n"
                         "    - { topic: churn, when: { tags: churn } }\n"
                         "    - { topic: churn, when: { url: \"*/churn*\" } }\n"
                         "routing:\n"
                         "  - { team: emea, country: DE, tiers: 1 }\n"
                         "  - { team: emea, region: EMEA }\n"
                         "  - { team: everyone }\n");
    drop(&l);
}

/* ---- the shipped handoff.yaml ---- */

static void test_shipped_config(void **state)
{
    (void)state;
    const char *path = getenv("HF_CONFIG_DEFAULT");
    assert_non_null(path);
    hf_config_t *cfg = NULL;
    hf_buf_t errors = HF_BUF_INIT;
    int r = config_load(&cfg, path, &errors);
    if (r != 0)
        print_error("%s\n", errors.data ? (char *)errors.data : "");
    assert_int_equal(r, 0);
    const hf_rules_t *rules = cfg->rules;

    /* about six interest topics */
    size_t topics = 0;
    for (size_t i = 0; i < rules->interests.rule_count; i++) {
        bool seen = false;
        for (size_t j = 0; j < i && !seen; j++)
            seen = strcmp(rules->interests.rules[i].topic, rules->interests.rules[j].topic) == 0;
        topics += !seen;
    }
    assert_int_equal(topics, 6);

    /* five roles, and what a few titles become */
    static const struct {
        const char *title, *department, *role;
        float weight;
    } people[] = {
        {"VP Sales", "Sales", "decision_maker", 3.0f},
        {"Chief Revenue Officer", NULL, "decision_maker", 3.0f},
        {"Director of Marketing", "Marketing", "champion", 2.0f},
        {"Security Engineer", "Security", "influencer", 1.5f},
        {"Procurement Manager", "Procurement", "gatekeeper", 1.0f},
        {"Account Executive", "Sales", "user", 1.0f},
    };
    for (size_t i = 0; i < sizeof people / sizeof people[0]; i++) {
        hf_traits_t t = {0};
        t.title = people[i].title;
        t.department = people[i].department;
        float weight = 0;
        const char *role = hf_role_of(rules, &t, &weight);
        if (strcmp(role, people[i].role) != 0)
            print_error("%s: %s\n", people[i].title, role);
        assert_string_equal(role, people[i].role);
        assert_true(weight == people[i].weight);
    }

    /* accounts: mapped domains, free mail, targets */
    assert_string_equal(hf_account_resolve(rules, NULL, "acme-corp.example"), "acct-acme");
    assert_string_equal(hf_account_resolve(rules, NULL, "acme.example"), "acct-acme");
    assert_null(hf_account_resolve(rules, NULL, "gmail.com"));
    assert_string_equal(hf_account_resolve(rules, NULL, "umbrella.example"), "umbrella.example");
    assert_true(rules->accounts.target_count >= 3);
    assert_int_equal(hf_account_tier(rules, "acct-acme", NULL), 1);
    assert_int_equal(hf_account_tier(rules, "umbrella.example", NULL), 2);
    assert_int_equal(rules->accounts.rule_count, 2);
    assert_true(rules->accounts.fit_rule_count >= 3);

    /* routing for NA, EMEA and APAC, by tier; uncovered countries flagged */
    char note[64];
    assert_string_equal(hf_route(rules, "US", NULL, 1, note, sizeof note), "na-enterprise");
    assert_string_equal(hf_route(rules, "US", NULL, 0, note, sizeof note), "na-commercial");
    assert_string_equal(hf_route(rules, "DE", NULL, 2, note, sizeof note), "emea-enterprise");
    assert_string_equal(hf_route(rules, "FR", NULL, 3, note, sizeof note), "emea-commercial");
    assert_string_equal(hf_route(rules, "JP", NULL, 0, note, sizeof note), "apac");
    assert_string_equal(hf_route(rules, NULL, "EMEA", 0, note, sizeof note), "emea-commercial");
    assert_null(hf_route(rules, "BR", NULL, 0, note, sizeof note));
    assert_string_equal(note, "no team covers country BR");

    config_free(cfg);
    hf_buf_free(&errors);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_values_interests_and_roles),
        cmocka_unit_test(test_values_accounts),
        cmocka_unit_test(test_values_routing),
        cmocka_unit_test(test_free_mail_lists),
        cmocka_unit_test(test_float_parse),
        cmocka_unit_test(test_type_errors),
        cmocka_unit_test(test_type_errors_routing),
        cmocka_unit_test(test_type_errors_targets_and_interests),
        cmocka_unit_test(test_domains),
        cmocka_unit_test(test_role_weights),
        cmocka_unit_test(test_role_names),
        cmocka_unit_test(test_account_rule_conditions),
        cmocka_unit_test(test_unique_names),
        cmocka_unit_test(test_bounds),
        cmocka_unit_test(test_routing_order),
        cmocka_unit_test(test_shipped_config),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
