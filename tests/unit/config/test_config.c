/* Unit tests of the configuration loader (config/).
 *
 * Environment (set by meson): HF_CONFIG_DEFAULT = config/handoff.yaml,
 * HF_CONFIG_DOC = docs/CONFIG.md.  Run with --describe to print the generated
 * reference that docs/CONFIG.md embeds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/cfgmap.h"
#include "config/config.h"
#include "cfgtest.h"

/* ---- helpers ---- */

static size_t count_lines_starting(const char *text, const char *prefix)
{
    size_t n = 0;
    size_t plen = strlen(prefix);
    for (const char *p = text; *p;) {
        if (strncmp(p, prefix, plen) == 0)
            n++;
        const char *nl = strchr(p, '\n');
        if (!nl)
            break;
        p = nl + 1;
    }
    return n;
}

/* ---- defaults ---- */

static void test_defaults(void **state)
{
    (void)state;
    static const char *const empties[] = {"", "{}", "# only a comment\n", "~\n",
                                          "kafka:\nscoring:\n"};
    for (size_t i = 0; i < sizeof(empties) / sizeof(empties[0]); i++) {
        loaded_t l = load_ok(empties[i]);
        const hf_config_t *c = l.cfg;
        assert_string_equal(c->path, "t.yaml");
        assert_string_equal(c->app_id, "handoff");
        assert_string_equal(c->brokers, "127.0.0.1:9092");
        assert_int_equal(c->partitions, 6);
        assert_int_equal(c->guarantee, HF_GUARANTEE_AT_LEAST_ONCE);
        assert_int_equal(c->kafka_prop_count, 0);
        assert_string_equal(c->topics.web_visits, "mkt.web.visits");
        assert_string_equal(c->topics.form_submissions, "mkt.form.submissions");
        assert_string_equal(c->topics.content_downloads, "mkt.content.downloads");
        assert_string_equal(c->topics.webinar_attendance, "mkt.webinar.attendance");
        assert_string_equal(c->topics.email_engagement, "mkt.email.engagement");
        assert_string_equal(c->topics.identity, "mkt.identity");
        assert_string_equal(c->topics.sales_activity, "sales.activity");
        assert_string_equal(c->topics.conversation_ready, "handoff.conversation-ready");
        assert_string_equal(c->topics.sla_breach, "handoff.sla-breach");
        assert_string_equal(c->topics.lifecycle, "handoff.lifecycle");
        assert_string_equal(c->topics.dlq, "handoff.dlq");
        assert_string_equal(c->topics.by_anonymous, "handoff.by-anonymous");
        assert_string_equal(c->topics.by_contact, "handoff.by-contact");
        assert_string_equal(c->topics.by_account, "handoff.by-account");
        assert_string_equal(c->state_dir, "./handoff-state");
        assert_int_equal(c->commit_interval_ms, 5000);
        assert_int_equal(c->cache_max_entries, 200000);
        assert_int_equal(c->ordering.allowed_lateness_ms, 5000);
        assert_int_equal(c->ordering.idle_timeout_ms, 20);
        assert_string_equal(c->email_hash_key_file, "./handoff-state/email-hash.key");
        assert_int_equal(c->output_format, HF_OUTPUT_AVRO);
        assert_int_equal(c->max_record_bytes, 65536);
        assert_int_equal(c->max_field_bytes, 2048);
        assert_int_equal(c->max_tags, 32);
        assert_int_equal(c->log_level, 1);
        assert_int_equal(c->log_format, HF_LOG_TEXT);

        const hf_rules_t *r = c->rules;
        assert_non_null(r);
        assert_int_equal(r->stitching.max_events, 200);
        assert_int_equal(r->stitching.max_age_ms, 30LL * 86400000);
        assert_int_equal(r->dedupe.max_ids, 256);
        assert_int_equal(r->dedupe.window_ms, 7LL * 86400000);
        assert_int_equal(r->journey.recent_max, 20);
        assert_int_equal(r->journey.pages_max, 50);
        assert_int_equal(r->journey.top_pages, 5);
        assert_int_equal(r->journey.downloads_max, 10);
        assert_int_equal(r->journey.webinars_max, 10);
        assert_int_equal(r->journey.sessions_max, 64);
        assert_int_equal(r->scoring.half_life_ms, 30LL * 86400000);
        assert_int_equal(r->scoring.max_score, 200);
        assert_int_equal(r->scoring.min_score, 0);
        assert_int_equal(r->scoring.rule_count, 0);
        assert_int_equal(r->fit.grade_count, 5);
        static const char *const letters[] = {"A", "B", "C", "D", "F"};
        static const int mins[] = {80, 60, 40, 20, 0};
        for (size_t g = 0; g < 5; g++) {
            assert_string_equal(r->fit.grades[g].letter, letters[g]);
            assert_int_equal(r->fit.grades[g].min_points, mins[g]);
        }
        assert_int_equal(r->fit.rule_count, 0);
        assert_int_equal(r->fit.exclusion_count, 0);
        assert_int_equal(r->lifecycle.engaged_score, 30);
        assert_int_equal(r->qualify.contact_rule_count, 0);
        assert_int_equal(r->qualify.hand_raiser_forms,
                         (1u << HF_FORM_DEMO_REQUEST) | (1u << HF_FORM_CONTACT_SALES));
        assert_string_equal(r->qualify.hand_raiser_rule, "hand_raiser");
        assert_true(r->qualify.hand_raisers_respect_exclusions);
        assert_int_equal(r->qualify.grace_ms, 3600000);
        assert_int_equal(r->sla.clocks[HF_SLA_ACCEPT].within_ms, 4LL * 3600000);
        assert_int_equal(r->sla.clocks[HF_SLA_FIRST_TOUCH].within_ms, 8LL * 3600000);
        assert_int_equal(r->calendars.count, 0);
        assert_int_equal(r->calendars.default_index, -1);
        assert_int_equal(r->accounts.member_updates, HF_MEMBER_UPDATES_COALESCED);
        assert_int_equal(r->accounts.member_update_records, 5000);
        assert_int_equal(errs(&l)[0], 0);
        drop(&l);
    }
}

static void test_topics(void **state)
{
    (void)state;
    loaded_t l = load_ok("app: { id: acme-prod }\n"
                         "topics: { dlq: acme.dead, web_visits: web }\n");
    const char *names[CONFIG_TOPIC_COUNT + 2];
    size_t n = config_topics(l.cfg, names, CONFIG_TOPIC_COUNT + 2);
    assert_int_equal(n, CONFIG_TOPIC_COUNT);
    assert_string_equal(names[0], "web");
    assert_string_equal(names[6], "sales.activity");
    assert_string_equal(names[7], "handoff.conversation-ready");
    assert_string_equal(names[10], "acme.dead");
    assert_string_equal(names[11], "acme-prod.by-anonymous");
    assert_string_equal(names[12], "acme-prod.by-contact");
    assert_string_equal(names[13], "acme-prod.by-account");
    assert_string_equal(names[14], "handoff.digest");
    /* a short array gets a prefix */
    assert_int_equal(config_topics(l.cfg, names, 3), 3);
    assert_string_equal(names[2], "mkt.content.downloads");
    drop(&l);

    expect_errors("topics:\n"
                  "  dlq: mkt.identity\n",
                  1,
                  "t.yaml:2:8: topics.dlq: topic \"mkt.identity\" is also the topic of "
                  "topics.identity\n"
                  "    dlq: mkt.identity\n"
                  "         ^\n");
    expect_errors("app:\n"
                  "  id: x\n"
                  "topics:\n"
                  "  lifecycle: x.by-contact\n",
                  1,
                  "t.yaml:4:14: topics.lifecycle: topic \"x.by-contact\" is also the topic of "
                  "app.id (an internal topic)\n"
                  "    lifecycle: x.by-contact\n"
                  "               ^\n");
    expect_containing("topics: { dlq: \"bad topic\" }\n", 1,
                      "t.yaml:1:16: topics.dlq: expected a Kafka topic name (letters, digits, "
                      "'.', '_' and '-'), got \"bad topic\"",
                      NULL);
}

/* A file setting keys of every kind of value. */
static const char values_text[] =
    "kafka:\n"
    "  partitions: 12\n"
    "  processing_guarantee: at_least_once\n"
    "state: { path: /var/lib/h, commit_interval: 250 }\n"
    "output: { format: json }\n"
    "log: { level: error, format: json }\n"
    "scoring:\n"
    "  half_life: 0\n"
    "  rules:\n"
    "    - name: p\n"
    "      points: -7\n"
    "      max_per: { count: 3, period: 1d }\n"
    "      when:\n"
    "        url: [\"*/pricing*\", \"*/plans*\"]\n"
    "        min_duration: 1m30s\n"
    "    - name: f\n"
    "      points: 4\n"
    "      when: { form_type: [demo_request, newsletter] }\n"
    "    - name: e\n"
    "      points: 1\n"
    "      when: { event: [email, webinar], campaign: spring* }\n"
    "    - name: s\n"
    "      points: 2\n"
    "      when: { source: salesforce }\n"
    "fit:\n"
    "  grades: [{grade: Z, min: 0}, {grade: A+, min: 90}, {grade: M, min: 50}]\n"
    "  rules:\n"
    "    - name: size\n"
    "      points: 20\n"
    "      when: { employees: { min: 200 }, country: [US, CA] }\n"
    "  exclude:\n"
    "    - { name: rivals, when: { email_domain: rival.example } }\n"
    "qualify:\n"
    "  hand_raisers: { forms: [], respect_exclusions: no }\n"
    "  contact_rules:\n"
    "    - { name: mql, min_score: 50, min_grade: M, requires: p, within: 2w }\n"
    "    - { name: any, min_score: 10 }\n";

static void test_values(void **state)
{
    (void)state;
    loaded_t l = load_ok(values_text);
    const hf_config_t *c = l.cfg;
    assert_int_equal(c->partitions, 12);
    assert_int_equal(c->guarantee, HF_GUARANTEE_AT_LEAST_ONCE);
    assert_string_equal(c->state_dir, "/var/lib/h");
    assert_string_equal(c->email_hash_key_file, "/var/lib/h/email-hash.key");
    assert_int_equal(c->commit_interval_ms, 250);
    assert_int_equal(c->output_format, HF_OUTPUT_JSON);
    assert_int_equal(c->log_level, 3);
    assert_int_equal(c->log_format, HF_LOG_JSON);

    const hf_rules_t *r = c->rules;
    assert_int_equal(r->scoring.half_life_ms, 0);
    assert_int_equal(r->scoring.rule_count, 4);
    const hf_score_rule_t *p = &r->scoring.rules[0];
    assert_string_equal(p->name, "p");
    assert_int_equal(p->points, -7);
    assert_int_equal(p->cap_count, 3);
    assert_int_equal(p->cap_period_ms, 86400000);
    assert_int_equal(p->match.url.count, 2);
    assert_string_equal(p->match.url.patterns[0], "*/pricing*");
    assert_string_equal(p->match.url.patterns[1], "*/plans*");
    assert_int_equal(p->match.min_duration_ms, 90000);
    /* kinds implied by the conditions: url and min_duration -> web visits */
    assert_int_equal(p->match.kinds, 1u << HF_EV_WEB_VISIT);
    const hf_score_rule_t *f = &r->scoring.rules[1];
    assert_int_equal(f->cap_count, 0);
    assert_int_equal(f->match.form_types,
                     (1u << HF_FORM_DEMO_REQUEST) | (1u << HF_FORM_NEWSLETTER));
    assert_int_equal(f->match.kinds, 1u << HF_EV_FORM);
    const hf_score_rule_t *e = &r->scoring.rules[2];
    assert_int_equal(e->match.kinds, (1u << HF_EV_EMAIL) | (1u << HF_EV_WEBINAR));
    assert_int_equal(e->match.campaign.count, 1);
    assert_string_equal(e->match.campaign.patterns[0], "spring*");
    assert_int_equal(r->scoring.rules[3].match.kinds, 0); /* source: any kind */
    drop(&l);
}

static void test_values_fit_and_qualify(void **state)
{
    (void)state;
    loaded_t l = load_ok(values_text);
    const hf_rules_t *r = l.cfg->rules;

    /* grades sorted by min, highest first */
    assert_int_equal(r->fit.grade_count, 3);
    assert_string_equal(r->fit.grades[0].letter, "A+");
    assert_string_equal(r->fit.grades[1].letter, "M");
    assert_string_equal(r->fit.grades[2].letter, "Z");
    assert_int_equal(r->fit.rule_count, 1);
    assert_true(r->fit.rules[0].match.has_employees_range);
    assert_int_equal(r->fit.rules[0].match.employees_min, 200);
    assert_int_equal(r->fit.rules[0].match.employees_max, INT32_MAX);
    assert_int_equal(r->fit.rules[0].match.country.count, 2);
    assert_int_equal(r->fit.exclusion_count, 1);
    assert_false(r->fit.exclusions[0].match.has_employees_range);
    assert_string_equal(r->fit.exclusions[0].match.email_domain.patterns[0], "rival.example");

    assert_int_equal(r->qualify.hand_raiser_forms, 0);
    assert_false(r->qualify.hand_raisers_respect_exclusions);
    assert_int_equal(r->qualify.contact_rule_count, 2);
    const hf_contact_rule_t *mql = &r->qualify.contact_rules[0];
    assert_string_equal(mql->name, "mql");
    assert_int_equal(mql->min_score, 50);
    assert_int_equal(mql->min_grade, 1); /* index of M after sorting */
    assert_int_equal(mql->requires_count, 1);
    assert_string_equal(mql->requires[0], "p");
    assert_int_equal(mql->within_ms, 14LL * 86400000);
    assert_int_equal(r->qualify.contact_rules[1].min_grade, -1);
    assert_int_equal(r->qualify.contact_rules[1].requires_count, 0);
    drop(&l);
}

/* accounts.member_updates: the three modes; member_update_records, its bounds. */
static void test_member_updates(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        int mode;
        uint32_t records;
    } ok[] = {
        {"accounts: { member_updates: coalesced }\n", HF_MEMBER_UPDATES_COALESCED, 5000},
        {"accounts: { member_updates: on_commit }\n", HF_MEMBER_UPDATES_ON_COMMIT, 5000},
        {"accounts: { member_updates: every_event }\n", HF_MEMBER_UPDATES_EVERY_EVENT, 5000},
        {"accounts: { member_update_records: 1 }\n", HF_MEMBER_UPDATES_COALESCED, 1},
        {"accounts: { member_updates: coalesced, member_update_records: 250 }\n",
         HF_MEMBER_UPDATES_COALESCED, 250},
        {"accounts: { member_update_records: 100000000 }\n", HF_MEMBER_UPDATES_COALESCED,
         100000000},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        loaded_t l = load_ok(ok[i].text);
        assert_int_equal(l.cfg->rules->accounts.member_updates, ok[i].mode);
        assert_int_equal(l.cfg->rules->accounts.member_update_records, ok[i].records);
        drop(&l);
    }
    expect_errors("accounts:\n  member_updates: per_commit\n", 1,
                  "t.yaml:2:19: accounts.member_updates: expected every_event, on_commit or "
                  "coalesced, got \"per_commit\"\n"
                  "    member_updates: per_commit\n"
                  "                    ^\n");
    expect_errors("accounts:\n  member_update_records: 0\n", 1,
                  "t.yaml:2:26: accounts.member_update_records: expected integer in [1, "
                  "100000000], got \"0\"\n"
                  "    member_update_records: 0\n"
                  "                           ^\n");
    expect_containing("accounts: { member_update_records: 100000001 }\n", 1,
                      "accounts.member_update_records", "expected integer in [1, 100000000]", NULL);
    expect_containing("accounts: { member_update_records: -5 }\n", 1,
                      "accounts.member_update_records", NULL);
    expect_containing("accounts: { member_update_records: 1k }\n", 1,
                      "accounts.member_update_records", NULL);
}

/* ---- type errors: exact position, message, line and caret ---- */

static void test_type_errors(void **state)
{
    (void)state;
    expect_errors("scoring:\n"
                  "  rules:\n"
                  "    - name: a\n"
                  "      when: { event: web_visit }\n"
                  "      points: 1O\n",
                  1,
                  "t.yaml:5:15: scoring.rules[0].points: expected integer in [-1000, 1000], "
                  "got \"1O\"\n"
                  "    points: 1O\n"
                  "            ^\n");
    expect_errors("kafka:\n  partitions: 2000\n", 1,
                  "t.yaml:2:15: kafka.partitions: expected integer in [1, 1024], got \"2000\"\n"
                  "    partitions: 2000\n"
                  "                ^\n");
    expect_errors("state:\n  cache_entries: -1\n", 1,
                  "t.yaml:2:18: state.cache_entries: expected integer in [1, 100000000], got "
                  "\"-1\"\n"
                  "    cache_entries: -1\n"
                  "                   ^\n");
    expect_errors("qualify:\n  hand_raisers:\n    respect_exclusions: maybe\n", 1,
                  "t.yaml:3:25: qualify.hand_raisers.respect_exclusions: expected true or false, "
                  "got \"maybe\"\n"
                  "    respect_exclusions: maybe\n"
                  "                        ^\n");
    expect_errors("state: { commit_interval: 1h }\n", 1,
                  "t.yaml:1:27: state.commit_interval: expected duration (500ms, 30s, 15m, 4h, "
                  "14d, 2w) in [10ms, 10m], got \"1h\"\n"
                  "    state: { commit_interval: 1h }\n"
                  "                              ^\n");
    expect_errors("log:\n  level: verbose\n", 1,
                  "t.yaml:2:10: log.level: expected debug, info, warn or error, got \"verbose\"\n"
                  "    level: verbose\n"
                  "           ^\n");
    expect_errors("app:\n  id: [a, b]\n", 1,
                  "t.yaml:2:7: app.id: expected a non-empty string, got a list\n"
                  "    id: [a, b]\n"
                  "        ^\n");
    expect_errors("app:\n  id:\n", 1,
                  "t.yaml:2:6: app.id: expected a non-empty string, got null\n"
                  "    id:\n"
                  "       ^\n");
}

static void test_type_errors_in_structure(void **state)
{
    (void)state;
    expect_errors("kafka: 5\n", 1,
                  "t.yaml:1:8: kafka: expected a map, got \"5\"\n"
                  "    kafka: 5\n"
                  "           ^\n");
    expect_errors("scoring:\n  rules: { name: a }\n", 1,
                  "t.yaml:2:10: scoring.rules: expected a list, got a map\n"
                  "    rules: { name: a }\n"
                  "           ^\n");
    expect_errors("scoring:\n  rules:\n    - pricing\n", 1,
                  "t.yaml:3:7: scoring.rules[0]: expected a map, got \"pricing\"\n"
                  "    - pricing\n"
                  "      ^\n");
    expect_errors("fit:\n  rules:\n    - name: t\n      points: 1\n"
                  "      when: { title: [\"*vp*\", {x: 1}] }\n",
                  1,
                  "t.yaml:5:31: fit.rules[0].when.title[1]: expected a pattern (a non-empty "
                  "string), got a map\n"
                  "    when: { title: [\"*vp*\", {x: 1}] }\n"
                  "                            ^\n");
    expect_errors("scoring:\n  rules:\n    - name: w\n      points: 1\n"
                  "      when:\n        webinar_action: [attended, slept]\n",
                  1,
                  "t.yaml:6:36: scoring.rules[0].when.webinar_action[1]: unknown webinar action "
                  "\"slept\"; allowed: registered, attended, no_show, watched_recording\n"
                  "    webinar_action: [attended, slept]\n"
                  "                               ^\n");
    expect_errors("[1, 2]\n", 1,
                  "t.yaml:1:1: expected a map at the top level, got a list\n"
                  "    [1, 2]\n"
                  "    ^\n");
    expect_errors("scoring:\n  rules:\n    - name: \"has space\"\n      points: 1\n"
                  "      when: { event: email }\n",
                  1,
                  "t.yaml:3:13: scoring.rules[0].name: expected a name of letters, digits, '_', "
                  "'-' and '.', got \"has space\"\n"
                  "    - name: \"has space\"\n"
                  "            ^\n");
    /* columns count characters, not bytes */
    expect_errors("app: { id: \"é\" }\nlog: { level: \"é\" }\n", 2,
                  "t.yaml:1:12: app.id: expected a Kafka topic name (letters, digits, '.', '_' "
                  "and '-'), got \"é\"\n"
                  "    app: { id: \"é\" }\n"
                  "               ^\n"
                  "t.yaml:2:15: log.level: expected debug, info, warn or error, got \"é\"\n"
                  "    log: { level: \"é\" }\n"
                  "                  ^\n");
}

static void test_unknown_and_duplicate_keys(void **state)
{
    (void)state;
    expect_errors("log:\n  level: info\n  colour: true\n", 1,
                  "t.yaml:3:3: log: unknown key \"colour\"; allowed: level, format\n"
                  "    colour:\n"
                  "    ^\n");
    expect_errors("sla:\n  acept: { within: 2h }\n", 1,
                  "t.yaml:2:3: sla: unknown key \"acept\" (did you mean \"accept\"?); allowed: "
                  "calendar, accept, first_touch, follow_up, on_reload\n"
                  "    acept:\n"
                  "    ^\n");
    expect_errors("logs: {}\n", 1,
                  "t.yaml:1:1: unknown key \"logs\" (did you mean \"log\"?); allowed: app, kafka, "
                  "topics, state, ordering, output, limits, log, http, stitching, dedupe, journey, "
                  "scoring, fit, lifecycle, qualify, interests, buying_group, accounts, routing, "
                  "calendars, sla, recycle, expansion, digest\n"
                  "    logs:\n"
                  "    ^\n");
    expect_errors("state:\n  path: /a\n  commit_interval: 2s\n  path: /b\n", 1,
                  "t.yaml:4:3: state.path: duplicate key \"path\" (first at line 2)\n"
                  "    path: /b\n"
                  "    ^\n");
    expect_errors("log: {}\nlog: {}\n", 1,
                  "t.yaml:2:1: log: duplicate key \"log\" (first at line 1)\n"
                  "    log: {}\n"
                  "    ^\n");
    expect_errors("kafka:\n  properties:\n    client.id: a\n    client.id: b\n", 1,
                  "t.yaml:4:5: kafka.properties.client.id: duplicate key \"client.id\"\n"
                  "    client.id:\n"
                  "    ^\n");
    expect_errors("scoring:\n  rules:\n    - points: 1\n      when: { event: email }\n", 1,
                  "t.yaml:3:7: scoring.rules[0]: missing required key \"name\"\n"
                  "    - points: 1\n"
                  "      ^\n");
}

/* ---- YAML syntax errors ---- */

static void test_syntax_errors(void **state)
{
    (void)state;
    expect_errors("scoring:\n"
                  "  rules:\n"
                  "    - name: a\n"
                  "      points: 1: 2\n",
                  1,
                  "t.yaml:4:16: scoring.rules[0]: mapping values are not allowed in this context\n"
                  "    points: 1: 2\n"
                  "             ^\n");
    expect_errors("app:\n  id: \"open\n", 1,
                  "t.yaml:3:1: app.id: found unexpected end of stream (while scanning a quoted "
                  "scalar at line 2, column 7)\n");
    expect_errors("log:\n  level: [info\nsla: {}\n", 1,
                  "t.yaml:3:4: log.level[1]: did not find expected ',' or ']' (while parsing a "
                  "flow sequence at line 2, column 10)\n"
                  "    sla: {}\n"
                  "       ^\n");
    expect_errors("state:\n  path: *nowhere\n", 1,
                  "t.yaml:2:9: state.path: found undefined alias\n"
                  "    path: *nowhere\n"
                  "          ^\n");
    expect_errors("log: {}\n---\nlog: {}\n", 1,
                  "t.yaml:2:1: expected one YAML document, found a second one\n"
                  "    ---\n"
                  "    ^\n");
    expect_errors(
        "log:\n\tlevel: info\n", 1,
        "t.yaml:2:1: log: found character that cannot start any token (while scanning for "
        "the next token at line 2, column 1)\n"
        "    \tlevel: info\n"
        "    ^\n");
    /* broken UTF-8 is reported at its byte and never copied out raw */
    expect_errors("app:\n  id: a\xff\n", 1,
                  "t.yaml:2:8: invalid leading UTF-8 octet (#xFF)\n"
                  "    id: a?\n"
                  "         ^\n");
}

/* ---- durations ---- */

static void test_duration_parse(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        int64_t ms;
    } good[] = {
        {"0", 0},
        {"250", 250},
        {"500ms", 500},
        {"30s", 30000},
        {"15m", 900000},
        {"4h", 14400000},
        {"14d", 1209600000},
        {"2w", 1209600000},
        {"1h30m", 5400000},
        {"1m1ms", 60001},
        {"0s", 0},
        {"9223372036854775807", INT64_MAX},
    };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        int64_t ms = -1;
        assert_int_equal(cfgmap_duration_parse(good[i].text, &ms), 0);
        assert_int_equal(ms, good[i].ms);
    }
    static const char *const bad[] = {"",    "s",  "1x", "1.5h", "-1s", "-5", "1 h",
                                      "1mo", "h1", "1H", "1hh",  "ms",  "1h-"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int64_t ms = 42;
        int r = cfgmap_duration_parse(bad[i], &ms);
        if (r == 0)
            print_error("\"%s\" parsed as %lld\n", bad[i], (long long)ms);
        assert_true(r < 0);
        assert_int_equal(ms, 42);
    }
    int64_t ms;
    assert_int_equal(cfgmap_duration_parse("9223372036854775808", &ms), -ERANGE);
    assert_int_equal(cfgmap_duration_parse("99999999999999999w", &ms), -ERANGE);
    assert_int_equal(cfgmap_duration_parse("1000000000000d1000000000000d", &ms), -ERANGE);

    static const struct {
        int64_t ms;
        const char *text;
    } fmt[] = {{0, "0"},        {10, "10ms"},     {1000, "1s"},       {90000, "90s"},
               {600000, "10m"}, {86400000, "1d"}, {1209600000, "2w"}, {1001, "1001ms"}};
    for (size_t i = 0; i < sizeof(fmt) / sizeof(fmt[0]); i++) {
        hf_buf_t b = HF_BUF_INIT;
        cfgmap_duration_format(&b, fmt[i].ms);
        assert_string_equal((char *)b.data, fmt[i].text);
        hf_buf_free(&b);
    }

    /* through the file: bounds are checked in ms, whatever the unit */
    loaded_t l = load_ok("state: { commit_interval: 10m }\nqualify: { grace: 90m }\n");
    assert_int_equal(l.cfg->commit_interval_ms, 600000);
    assert_int_equal(l.cfg->rules->qualify.grace_ms, 5400000);
    drop(&l);
    expect_containing("state: { commit_interval: 10m1ms }\n", 1,
                      "state.commit_interval: expected duration (500ms, 30s, 15m, 4h, 14d, 2w) "
                      "in [10ms, 10m], got \"10m1ms\"",
                      NULL);
    expect_containing("state: { commit_interval: 9ms }\n", 1, "got \"9ms\"", NULL);

    l = load_ok("ordering: { allowed_lateness: 2d, idle_timeout: 0s }\n");
    assert_int_equal(l.cfg->ordering.allowed_lateness_ms, 2 * 86400000LL);
    assert_int_equal(l.cfg->ordering.idle_timeout_ms, 0);
    drop(&l);
    expect_containing("ordering:\n  idle_timeout: 11m\n", 1,
                      "t.yaml:2:17: ordering.idle_timeout: expected duration", NULL);
    expect_containing("ordering: { allowed_lateness: -1s }\n", 1, "ordering.allowed_lateness",
                      NULL);
}

/* ---- the shipped file ---- */

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
    assert_non_null(cfg);
    const hf_rules_t *rules = cfg->rules;
    /* what the file promises in its comments */
    assert_in_range(rules->scoring.rule_count, 10, 30);
    size_t negative = 0;
    for (size_t i = 0; i < rules->scoring.rule_count; i++)
        negative += rules->scoring.rules[i].points < 0;
    assert_true(negative >= 3);
    assert_true(rules->fit.rule_count >= 5);
    assert_true(rules->fit.exclusion_count >= 2);
    assert_true(rules->qualify.contact_rule_count >= 2);
    assert_true(rules->qualify.hand_raiser_forms & (1u << HF_FORM_DEMO_REQUEST));
    assert_true(hf_rules_score_rule_index(rules, "pricing_page") >= 0);
    assert_true(hf_rules_grade_index(rules, "F") == (int)rules->fit.grade_count - 1);
    config_free(cfg);
    hf_buf_free(&errors);
}

/* ---- accumulation, files ---- */

static void test_errors_accumulate(void **state)
{
    (void)state;
    loaded_t l = load("kafka:\n"
                      "  partitions: many\n"
                      "log:\n"
                      "  level: loud\n"
                      "sla:\n"
                      "  accept: { within: soon }\n");
    assert_int_equal(l.r, 3);
    assert_int_equal(count_lines_starting(errs(&l), "t.yaml:"), 3);
    assert_non_null(strstr(errs(&l), "t.yaml:2:15: kafka.partitions:"));
    assert_non_null(strstr(errs(&l), "t.yaml:4:10: log.level:"));
    assert_non_null(strstr(errs(&l), "t.yaml:6:21: sla.accept.within:"));
    /* sorted by position */
    assert_true(strstr(errs(&l), "t.yaml:2:") < strstr(errs(&l), "t.yaml:4:"));
    assert_true(strstr(errs(&l), "t.yaml:4:") < strstr(errs(&l), "t.yaml:6:"));
    drop(&l);

    /* many problems: all counted, the first CFGMAP_MAX_RENDERED shown */
    hf_buf_t text = HF_BUF_INIT;
    hf_buf_append_str(&text, "scoring:\n  rules:\n");
    for (int i = 0; i < 150; i++)
        hf_buf_printf(&text, "    - { name: r%d, points: 5000, when: { event: email } }\n", i);
    l = load((const char *)text.data);
    assert_int_equal(l.r, 150);
    assert_int_equal(count_lines_starting(errs(&l), "t.yaml:"), CFGMAP_MAX_RENDERED + 1);
    assert_non_null(strstr(errs(&l), "t.yaml: ... and 50 more problems\n"));
    drop(&l);
    hf_buf_free(&text);
}

static void test_missing_file(void **state)
{
    (void)state;
    hf_config_t *cfg = (hf_config_t *)0x1; /* must stay untouched */
    hf_buf_t errors = HF_BUF_INIT;
    int r = config_load(&cfg, "/nonexistent/handoff.yaml", &errors);
    assert_int_equal(r, -ENOENT);
    assert_ptr_equal(cfg, (hf_config_t *)0x1);
    assert_string_equal((char *)errors.data,
                        "/nonexistent/handoff.yaml: cannot open: No such file or directory\n");
    hf_buf_free(&errors);
}

/* Aliases can make a short file stand for a huge one; the loader bounds its work. */
static void test_alias_expansion_bounded(void **state)
{
    (void)state;
    hf_buf_t text = HF_BUF_INIT;
    /* 500 patterns in each of 500 rules: 250000 nodes to visit from 1500 in the file */
    hf_buf_append_str(&text, "scoring:\n  rules:\n    - &r { name: r, points: 1, when: { "
                             "campaign: [x");
    for (int i = 1; i < 500; i++)
        hf_buf_append_str(&text, ", x");
    hf_buf_append_str(&text, "] } }\n");
    for (int i = 1; i < 500; i++)
        hf_buf_append_str(&text, "    - *r\n");
    loaded_t l = load((const char *)text.data);
    assert_true(l.r > 0);
    assert_non_null(strstr(errs(&l), "the document is too complex"));
    drop(&l);
    hf_buf_free(&text);
}

static void test_null_sections_and_lists(void **state)
{
    (void)state;
    loaded_t l = load_ok("kafka:\n"
                         "  properties:\n"
                         "scoring:\n"
                         "  rules:\n"
                         "    # every rule commented out\n"
                         "fit:\n"
                         "  exclude: []\n");
    assert_int_equal(l.cfg->kafka_prop_count, 0);
    assert_int_equal(l.cfg->rules->scoring.rule_count, 0);
    assert_int_equal(l.cfg->rules->fit.grade_count, 5);
    drop(&l);
}

/* ---- the reference in docs/CONFIG.md ---- */

#define DOC_BEGIN "<!-- BEGIN config_describe() -->\n"
#define DOC_END "<!-- END config_describe() -->"

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    hf_buf_t b = HF_BUF_INIT;
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        hf_buf_append(&b, chunk, n);
    fclose(f);
    hf_buf_append(&b, "", 0);
    return (char *)b.data;
}

static void test_reference_doc_in_step(void **state)
{
    (void)state;
    const char *path = getenv("HF_CONFIG_DOC");
    assert_non_null(path);
    char *doc = read_file(path);
    assert_non_null(doc);
    char *begin = strstr(doc, DOC_BEGIN);
    char *end = strstr(doc, DOC_END);
    assert_non_null(begin);
    assert_non_null(end);
    begin += strlen(DOC_BEGIN);
    assert_true(begin <= end);
    hf_buf_t ref = HF_BUF_INIT;
    config_describe(&ref);
    hf_buf_append(&ref, "", 0);
    size_t n = (size_t)(end - begin);
    bool same = n == ref.len && memcmp(begin, ref.data, n) == 0;
    if (!same)
        print_error("docs/CONFIG.md is out of date; regenerate the block with "
                    "test_config --describe\n");
    assert_true(same);
    /* and the reference names what the tables hold */
    assert_non_null(strstr((char *)ref.data, "| `scoring.rules[].when.min_duration` |"));
    assert_non_null(
        strstr((char *)ref.data, "| `kafka.partitions` | integer in [1, 1024] | `6` |"));
    hf_buf_free(&ref);
    free(doc);
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--describe") == 0) {
        hf_buf_t ref = HF_BUF_INIT;
        config_describe(&ref);
        fwrite(ref.data, 1, ref.len, stdout);
        hf_buf_free(&ref);
        return 0;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_topics),
        cmocka_unit_test(test_values),
        cmocka_unit_test(test_values_fit_and_qualify),
        cmocka_unit_test(test_member_updates),
        cmocka_unit_test(test_type_errors),
        cmocka_unit_test(test_type_errors_in_structure),
        cmocka_unit_test(test_unknown_and_duplicate_keys),
        cmocka_unit_test(test_syntax_errors),
        cmocka_unit_test(test_duration_parse),
        cmocka_unit_test(test_shipped_config),
        cmocka_unit_test(test_errors_accumulate),
        cmocka_unit_test(test_missing_file),
        cmocka_unit_test(test_alias_expansion_bounded),
        cmocka_unit_test(test_null_sections_and_lists),
        cmocka_unit_test(test_reference_doc_in_step),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
