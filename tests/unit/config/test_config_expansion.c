/* The expansion section: products, their signals (the event conditions a member's
 * journey can answer), the rules and their product names; errors at file:line:col. */
#include "cfgtest.h"

#include "processors/rules/rules.h"

static void test_defaults(void **state)
{
    (void)state;
    loaded_t l = load_ok("app: { id: t }\n");
    const hf_rules_expansion_t *x = &l.cfg->rules->expansion;
    assert_int_equal(x->product_count, 0);
    assert_int_equal(x->rule_count, 0);
    assert_string_equal(x->team, "account-management");
    assert_int_equal(x->cooldown_ms, 90LL * 24 * 3600 * 1000);
    drop(&l);
}

static void test_values(void **state)
{
    (void)state;
    loaded_t l = load_ok("expansion:\n"
                         "  team: am_emea\n"
                         "  cooldown: 30d\n"
                         "  products:\n"
                         "    - name: analytics\n"
                         "      signals:\n"
                         "        - { points: 10, when: { url: '*/analytics*' } }\n"
                         "        - { points: 25, when: { asset_id: [wp-analytics-*, eb-an-*] } }\n"
                         "        - when: { webinar_id: web-analytics-*, min_minutes: 20 }\n"
                         "    - name: crm\n"
                         "      signals: [{ when: { title: '*CRM*' } }]\n"
                         "  rules:\n"
                         "    - { name: expand_analytics, products: analytics, min_engaged: 2,"
                         " min_points: 30, within: 14d }\n"
                         "    - { name: expand_any, min_points: 50 }\n");
    const hf_rules_t *r = l.cfg->rules;
    const hf_rules_expansion_t *x = &r->expansion;
    assert_string_equal(x->team, "am_emea");
    assert_int_equal(x->cooldown_ms, 30LL * 24 * 3600 * 1000);
    assert_int_equal(x->product_count, 2);
    const hf_product_t *p = hf_rules_product(r, "analytics");
    assert_non_null(p);
    assert_int_equal(p->signal_count, 3);
    assert_int_equal(p->signals[0].points, 10);
    assert_int_equal(p->signals[0].match.kinds,
                     (1u << HF_EV_WEB_VISIT) | (1u << HF_EV_FORM)); /* what url applies to */
    assert_int_equal(p->signals[1].match.asset_id.count, 2);
    assert_int_equal(p->signals[1].match.kinds, 1u << HF_EV_DOWNLOAD);
    assert_int_equal(p->signals[2].points, 1);
    assert_int_equal(p->signals[2].match.min_minutes, 20);
    /* title applies to visits, downloads and webinars */
    assert_int_equal(hf_rules_product(r, "crm")->signals[0].match.kinds,
                     (1u << HF_EV_WEB_VISIT) | (1u << HF_EV_DOWNLOAD) | (1u << HF_EV_WEBINAR));
    assert_null(hf_rules_product(r, "erp"));
    assert_int_equal(x->rule_count, 2);
    assert_string_equal(x->rules[0].name, "expand_analytics");
    assert_int_equal(x->rules[0].product_count, 1);
    assert_string_equal(x->rules[0].products[0], "analytics");
    assert_int_equal(x->rules[0].min_engaged, 2);
    assert_int_equal(x->rules[0].min_points, 30);
    assert_int_equal(x->rules[0].within_ms, 14LL * 24 * 3600 * 1000);
    assert_int_equal(x->rules[1].product_count, 0);
    assert_int_equal(x->rules[1].within_ms, 30LL * 24 * 3600 * 1000);
    drop(&l);
}

static void test_errors(void **state)
{
    (void)state;
    expect_errors(
        "expansion:\n"
        "  products:\n"
        "    - name: analytics\n"
        "      signals:\n"
        "        - { points: 0, when: { tags: [a] } }\n"
        "        - { when: { event: email } }\n"
        "    - { name: analytics, signals: [{ when: { url: x } }] }\n"
        "  rules:\n"
        "    - { name: r1, products: [analytics, erp], min_engaged: 2 }\n"
        "    - { name: r2 }\n",
        6,
        "t.yaml:5:21: expansion.products[0].signals[0].points: expected integer in [1, 1000], got "
        "\"0\"\n"
        "    - { points: 0, when: { tags: [a] } }\n"
        "                ^\n"
        "t.yaml:5:32: expansion.products[0].signals[0].when.tags: not kept in the members' "
        "journeys the expansion rules read; use url, title, form_id, asset_id, asset_type, "
        "webinar_id, webinar_action or min_minutes\n"
        "    - { points: 0, when: { tags: [a] } }\n"
        "                           ^\n"
        "t.yaml:6:21: expansion.products[0].signals[1].when.event: expansion signals match web "
        "visits, forms, downloads or webinars only\n"
        "    - { when: { event: email } }\n"
        "                ^\n"
        "t.yaml:7:15: expansion.products[1].name: duplicate name \"analytics\" (also item [0])\n"
        "    - { name: analytics, signals: [{ when: { url: x } }] }\n"
        "              ^\n"
        "t.yaml:9:41: expansion.rules[0].products: unknown product \"erp\"; expansion.products has "
        "analytics, analytics\n"
        "    - { name: r1, products: [analytics, erp], min_engaged: 2 }\n"
        "                                        ^\n"
        "t.yaml:10:7: expansion.rules[1]: expected at least one condition: min_engaged or "
        "min_points\n"
        "    - { name: r2 }\n"
        "      ^\n");
}

/* expansion.team is never a routing team; a calendar may list it. */
static void test_team(void **state)
{
    (void)state;
    expect_containing("routing: [{ team: na }]\n"
                      "expansion: { team: na }\n",
                      1,
                      "t.yaml:2:20: expansion.team: \"na\" is a routing team (routing[0]); "
                      "expansion handoffs go to the account managers, a team of their own",
                      NULL);
    loaded_t l = load_ok("routing: [{ team: na }]\n"
                         "calendars:\n"
                         "  am: { hours: always, teams: [am-east] }\n"
                         "  us: { hours: always, teams: [na] }\n"
                         "expansion: { team: am-east }\n");
    const hf_rules_t *r = l.cfg->rules;
    const hf_calendar_t *cal = hf_rules_team_calendar(r, r->expansion.team);
    assert_non_null(cal);
    assert_string_equal(cal->name, "am");
    drop(&l);
    /* the default team too */
    l = load_ok("calendars: { am: { hours: always, teams: [account-management] } }\n");
    assert_string_equal(hf_rules_team_calendar(l.cfg->rules, "account-management")->name, "am");
    drop(&l);
    /* a team that is neither routed nor the expansion team */
    expect_containing("calendars: { am: { hours: always, teams: [am-west] } }\n"
                      "expansion: { team: am-east }\n",
                      1, "calendars.am.teams[0]: no routing rule names team \"am-west\"", NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_values),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_team),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
