/* Unit tests of the configuration loader (config/): checks that span keys or
 * sections (names rules refer to, bounds between keys, grades, conditions no event
 * can satisfy), and kafka.properties (${VAR} from the environment, what librdkafka
 * refuses, secrets never shown). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "cfgtest.h"

/* ---- cross-checks ---- */

static const char rules_prefix[] = "scoring:\n"
                                   "  rules:\n"
                                   "    - name: pricing\n"
                                   "      points: 10\n"
                                   "      when: { url: \"*/pricing*\" }\n"
                                   "    - name: demo\n"
                                   "      points: 5\n"
                                   "      when: { url: \"*/demo*\" }\n";

static void test_rule_names(void **state)
{
    (void)state;
    char text[2048];

    snprintf(text, sizeof(text),
             "%s    - name: pricing\n      points: 1\n      when: { event: email }\n",
             rules_prefix);
    expect_errors(text, 1,
                  "t.yaml:9:13: scoring.rules[2].name: duplicate name \"pricing\" (also item "
                  "[0])\n"
                  "    - name: pricing\n"
                  "            ^\n");

    snprintf(text, sizeof(text),
             "%squalify:\n"
             "  contact_rules:\n"
             "    - name: mql\n"
             "      min_score: 50\n"
             "      requires: [pricing, demo, webinar]\n",
             rules_prefix);
    expect_errors(text, 1,
                  "t.yaml:13:33: qualify.contact_rules[0].requires[2]: unknown scoring rule "
                  "\"webinar\"; scoring.rules has pricing, demo\n"
                  "    requires: [pricing, demo, webinar]\n"
                  "                              ^\n");

    expect_errors("qualify:\n"
                  "  contact_rules:\n"
                  "    - name: mql\n"
                  "      min_grade: Z\n",
                  1,
                  "t.yaml:4:18: qualify.contact_rules[0].min_grade: unknown grade \"Z\"; "
                  "fit.grades has A, B, C, D, F\n"
                  "    min_grade: Z\n"
                  "               ^\n");
}

static void test_bounds_between_keys(void **state)
{
    (void)state;
    expect_errors("scoring:\n  min: 50\n  max: 50\n", 1,
                  "t.yaml:3:8: scoring.max: must be greater than scoring.min (50)\n"
                  "    max: 50\n"
                  "         ^\n");

    expect_errors("qualify:\n  hand_raisers:\n    forms: [demo_request, pricing]\n", 1,
                  "t.yaml:3:27: qualify.hand_raisers.forms[1]: unknown form type \"pricing\"; "
                  "allowed: demo_request, contact_sales, content_gate, webinar_registration, "
                  "newsletter, other\n"
                  "    forms: [demo_request, pricing]\n"
                  "                          ^\n");

    expect_errors("qualify:\n"
                  "  hand_raisers: { rule: mql }\n"
                  "  contact_rules:\n"
                  "    - { name: mql, min_score: 10 }\n",
                  1,
                  "t.yaml:4:15: qualify.contact_rules[0].name: \"mql\" is also "
                  "qualify.hand_raisers.rule\n"
                  "    - { name: mql, min_score: 10 }\n"
                  "              ^\n");

    expect_errors("qualify:\n  contact_rules:\n    - { name: empty }\n", 1,
                  "t.yaml:3:7: qualify.contact_rules[0]: expected at least one condition: "
                  "min_score, min_grade or requires\n"
                  "    - { name: empty }\n"
                  "      ^\n");

    expect_containing("qualify:\n  contact_rules:\n    - { name: w, min_score: 5, within: 1d }\n",
                      1,
                      "t.yaml:3:40: qualify.contact_rules[0].within: applies to \"requires\", "
                      "which this rule does not have",
                      NULL);
    expect_containing("qualify:\n  contact_rules:\n    - { name: w, min_score: 500 }\n", 1,
                      "qualify.contact_rules[0].min_score: is above scoring.max (200)", NULL);
    expect_containing("scoring: { max: 20 }\n", 1,
                      "t.yaml:1:17: scoring.max: is below lifecycle.engaged_score (30)", NULL);
    expect_containing("lifecycle: { engaged_score: 300 }\n", 1,
                      "t.yaml:1:29: lifecycle.engaged_score: is above scoring.max (200)", NULL);
    expect_containing("journey: { pages_tracked: 3 }\n", 1,
                      "t.yaml:1:10: journey.top_pages: must not exceed journey.pages_tracked (3)",
                      NULL);
    expect_containing("limits: { max_field_bytes: 100000 }\n", 1,
                      "t.yaml:1:28: limits.max_field_bytes: must not exceed "
                      "limits.max_record_bytes (65536)",
                      NULL);
}

static void test_fit_grades(void **state)
{
    (void)state;
    expect_errors("fit:\n"
                  "  grades:\n"
                  "    - { grade: A, min: 50 }\n"
                  "    - { grade: B, min: 50 }\n"
                  "    - { grade: A, min: 0 }\n",
                  2,
                  "t.yaml:4:24: fit.grades[1].min: grades A and B have the same min (50)\n"
                  "    - { grade: B, min: 50 }\n"
                  "                       ^\n"
                  "t.yaml:5:16: fit.grades[2].grade: duplicate grade \"A\" (also item [0])\n"
                  "    - { grade: A, min: 0 }\n"
                  "               ^\n");
    expect_containing("fit:\n  grades: []\n", 1,
                      "t.yaml:2:11: fit.grades: expected at least one grade", NULL);
}

static void test_impossible_conditions(void **state)
{
    (void)state;
    /* conditions that no single event can satisfy */
    expect_errors("scoring:\n"
                  "  rules:\n"
                  "    - name: x\n"
                  "      points: 1\n"
                  "      when: { event: email, url: \"*/pricing\" }\n",
                  1,
                  "t.yaml:5:29: scoring.rules[0].when.url: \"url\" applies to web_visit, form "
                  "events only, and \"event\" names none of them\n"
                  "    when: { event: email, url: \"*/pricing\" }\n"
                  "                          ^\n");
    expect_containing("scoring:\n"
                      "  rules:\n"
                      "    - name: x\n"
                      "      points: 1\n"
                      "      when: { asset_type: ebook, email_action: opened }\n",
                      1,
                      "t.yaml:5:34: scoring.rules[0].when.email_action: \"email_action\" applies "
                      "to email events only, \"asset_type\" to download: no event can match both",
                      NULL);
    expect_containing("scoring:\n  rules:\n    - { name: x, points: 1, when: {} }\n", 1,
                      "t.yaml:3:35: scoring.rules[0].when: expected at least one condition; "
                      "allowed: event, url, title,",
                      NULL);
    expect_containing(
        "fit:\n  exclude:\n    - { name: x, when: { employees: { min: 9, max: 3 } } }\n", 1,
        "fit.exclude[0].when.employees: min (9) is greater than max (3)", NULL);
    expect_containing("scoring:\n  rules:\n    - { name: x, points: 1, when: { event: form },"
                      " max_per: { count: 2 } }\n",
                      1, "scoring.rules[0].max_per: missing required key \"period\"", NULL);
}

/* ---- kafka.properties and ${VAR} ---- */

static void test_env_substitution(void **state)
{
    (void)state;
    setenv("HF_TEST_USER", "svc-handoff", 1);
    setenv("HF_TEST_PASSWORD", "s3cr3t-pw", 1);
    unsetenv("HF_TEST_UNSET");
    loaded_t l = load_ok("kafka:\n"
                         "  properties:\n"
                         "    security.protocol: SASL_SSL\n"
                         "    sasl.username: ${HF_TEST_USER}\n"
                         "    sasl.password: \"pre-${HF_TEST_PASSWORD}-${HF_TEST_USER}\"\n"
                         "    client.id: \"$${HF_TEST_USER} costs $5\"\n"
                         "    linger.ms: 5\n");
    const hf_config_t *c = l.cfg;
    assert_int_equal(c->kafka_prop_count, 5);
    assert_string_equal(c->kafka_props[0].name, "security.protocol");
    assert_string_equal(c->kafka_props[0].value, "SASL_SSL");
    assert_string_equal(c->kafka_props[1].value, "svc-handoff");
    assert_string_equal(c->kafka_props[2].value, "pre-s3cr3t-pw-svc-handoff");
    assert_string_equal(c->kafka_props[3].name, "client.id");
    assert_string_equal(c->kafka_props[3].value, "${HF_TEST_USER} costs $5");
    assert_string_equal(c->kafka_props[4].name, "linger.ms");
    assert_string_equal(c->kafka_props[4].value, "5");
    drop(&l);

    expect_errors("kafka:\n  properties:\n    sasl.password: ${HF_TEST_UNSET}\n", 1,
                  "t.yaml:3:20: kafka.properties.sasl.password: environment variable "
                  "HF_TEST_UNSET is not set\n"
                  "    sasl.password:\n"
                  "                   ^\n");
    expect_containing("kafka:\n  properties:\n    sasl.password: \"x${HF_TEST_USER\"\n", 1,
                      "kafka.properties.sasl.password: unterminated ${ in the value", NULL);
    expect_containing("kafka:\n  properties:\n    sasl.password: \"${1BAD}\"\n", 1,
                      "kafka.properties.sasl.password: invalid variable name", NULL);
    expect_containing("kafka:\n  properties:\n    group.id: mine\n", 1,
                      "kafka.properties.group.id: not allowed here: it is app.id", NULL);
    expect_containing("kafka:\n  properties:\n    bootstrap.servers: h:1\n", 1,
                      "kafka.properties.bootstrap.servers: not allowed here: set kafka.brokers",
                      NULL);
    expect_containing("kafka:\n  properties: [a]\n", 1,
                      "t.yaml:2:15: kafka.properties: expected a map of property names to "
                      "values, got a list",
                      NULL);
}

/* What the daemon would refuse at start-up for the file alone, validation refuses:
 * check, start-up and reload then agree, and the message points at the line. */
static void test_refused_as_not_runnable(void **state)
{
    (void)state;
    expect_errors("kafka:\n  processing_guarantee: exactly_once\n", 1,
                  "t.yaml:2:25: kafka.processing_guarantee: exactly_once (Kafka transactions) "
                  "is not built yet; use at_least_once (state is exactly-once either way, "
                  "outputs carry deterministic ids)\n"
                  "    processing_guarantee: exactly_once\n"
                  "                          ^\n");
    /* with other mistakes, all of them in order */
    expect_containing("kafka: { processing_guarantee: exactly_once, partitions: 0 }\n", 2,
                      "t.yaml:1:32: kafka.processing_guarantee: exactly_once",
                      "t.yaml:1:58: kafka.partitions:", NULL);
    loaded_t l = load_ok("kafka: { processing_guarantee: at_least_once }\n");
    assert_int_equal(l.cfg->guarantee, HF_GUARANTEE_AT_LEAST_ONCE);
    drop(&l);

    /* librdkafka is asked about every property, as the daemon's clients would be */
    expect_containing("kafka:\n  properties:\n    linger.ms: 5\n    lingr.ms: 5\n", 1,
                      "t.yaml:4:5: kafka.properties.lingr.ms: not a librdkafka property "
                      "(librdkafka ",
                      "\n    lingr.ms:\n"
                      "    ^\n",
                      NULL);
    expect_containing(
        "kafka:\n  properties:\n    linger.ms: soon\n", 1,
        "t.yaml:3:16: kafka.properties.linger.ms: librdkafka refuses the value: ", NULL);
    expect_containing("kafka:\n  properties:\n    acks: -5\n", 1,
                      "t.yaml:3:11: kafka.properties.acks: librdkafka refuses the value: ", NULL);
    /* names only librdkafka knows, for producers and consumers alike */
    l = load_ok("kafka:\n  properties:\n    enable.idempotence: \"true\"\n"
                "    fetch.wait.max.ms: 10\n    statistics.interval.ms: 0\n");
    assert_int_equal(l.cfg->kafka_prop_count, 3);
    drop(&l);
}

/* Values of kafka.properties never appear in messages, whatever goes wrong near them. */
static void test_secrets_never_shown(void **state)
{
    (void)state;
    static const char *const texts[] = {
        /* an error elsewhere on the same line */
        "kafka: { properties: { sasl.password: hunter2 }, partitions: 0 }\n",
        /* a value of the wrong kind */
        "kafka:\n  properties:\n    sasl.password: [hunter2]\n",
        "kafka:\n  properties:\n    sasl.password: { x: hunter2 }\n",
        "kafka:\n  properties: hunter2\n",
        /* syntax errors inside and after a value */
        "kafka:\n  properties:\n    sasl.password: \"hunter2\n",
        "kafka:\n  properties:\n    sasl.password: hunter2: x\n",
        "kafka:\n  properties:\n    sasl.password: 'hunter2' junk: [\n",
        "kafka: { properties: { sasl.password: hunter2 }, x: [ }\n",
        "kafka:\n  properties:\n    sasl.password: |\n      hunter2\n    bad: [\n",
        /* a repeated key on the secret's line */
        "kafka:\n  properties: { sasl.password: hunter2, sasl.password: hunter2 }\n",
        "kafka:\n  properties:\n    sasl.password: hunter2\n  properties: {}\n",
        /* a property indented one level too little, or misspelt "properties" */
        "kafka:\n  properties:\n    client.id: a\n  sasl.password: hunter2\n",
        "kafka:\n  properties:\n    client.id: a\n  sasl.password: \"hunter2\n",
        "kafka:\n  properties:\n    client.id: a\n  sasl.password: hunter2 : x\n",
        "kafka: { propertes: { sasl.password: hunter2 } }\n",
        /* a value librdkafka refuses: its message quotes the value, ours does not */
        "kafka:\n  properties:\n    security.protocol: hunter2\n",
        "kafka:\n  properties:\n    linger.ms: \"hunter2\"\n",
        /* the secret behind an alias */
        "app: { id: &pw hunter2 }\nkafka:\n  properties: { sasl.password: *pw, group.id: a }\n",
    };
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        loaded_t l = load(texts[i]);
        if (l.r <= 0 || strstr(errs(&l), "hunter2"))
            print_error("case %zu: r=%d\n%s\n", i, l.r, errs(&l));
        assert_true(l.r > 0);
        assert_null(strstr(errs(&l), "hunter2"));
        drop(&l);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rule_names),          cmocka_unit_test(test_bounds_between_keys),
        cmocka_unit_test(test_fit_grades),          cmocka_unit_test(test_impossible_conditions),
        cmocka_unit_test(test_env_substitution),    cmocka_unit_test(test_refused_as_not_runnable),
        cmocka_unit_test(test_secrets_never_shown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
