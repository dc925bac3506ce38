/* Unit tests of the config sections calendars, sla, recycle and
 * lifecycle.disqualified_reset_on_identify.  Environment (set by meson):
 * HF_CONFIG_DEFAULT = config/handoff.yaml.  Time zones come from the system's
 * tzdata. */
#include "cfgtest.h"

#include <stdio.h>
#include <stdlib.h>

#include "processors/sla/calendar.h"

#define SECOND_MS 1000LL
#define HOUR_MS (3600LL * 1000)
#define DAY_MS (24 * HOUR_MS)

/* Routing teams the calendars below may name. */
#define ROUTING                                                                                    \
    "routing:\n"                                                                                   \
    "  - { team: na, country: US }\n"                                                              \
    "  - { team: emea, region: EMEA }\n"                                                           \
    "  - { team: apac }\n"

static int32_t date(int64_t y, int32_t m, int32_t d)
{
    return (int32_t)hf_days_from_civil(y, m, d);
}

static int32_t hm(int h, int m)
{
    return (int32_t)(h * 3600 + m * 60);
}

static void assert_day(const hf_day_hours_t *day, uint32_t spans, const int32_t *open_close)
{
    assert_int_equal(day->span_count, spans);
    for (uint32_t i = 0; i < spans; i++) {
        assert_int_equal(day->open_s[i], open_close[2 * i]);
        assert_int_equal(day->close_s[i], open_close[2 * i + 1]);
    }
}

static void assert_sla(const hf_sla_rule_t *s, int64_t within_ms, uint32_t attempts,
                       uint32_t escalate_count, const int64_t *escalate_ms)
{
    assert_int_equal(s->within_ms, within_ms);
    assert_int_equal(s->attempts, attempts);
    assert_int_equal(s->escalate_count, escalate_count);
    for (uint32_t i = 0; i < escalate_count; i++)
        assert_int_equal(s->escalate_ms[i], escalate_ms[i]);
}

static char *print_ok(const hf_config_t *cfg)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_non_null(f);
    config_print_ok(cfg, "t.yaml", f);
    fclose(f);
    return text;
}

/* ---- defaults ---- */

static void test_defaults(void **state)
{
    (void)state;
    static const char *const texts[] = {"", "calendars:\nsla:\nrecycle:\nlifecycle:\n",
                                        "calendars: {}\nsla: { accept: {}, follow_up: {} }\n"};
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        loaded_t l = load_ok(texts[i]);
        const hf_rules_t *r = l.cfg->rules;
        assert_int_equal(r->calendars.count, 0);
        assert_int_equal(r->calendars.team_count, 0);
        assert_int_equal(r->calendars.default_index, -1);
        assert_null(hf_rules_team_calendar(r, "na"));
        assert_null(hf_rules_team_calendar(r, NULL));
        assert_sla(&r->sla.clocks[HF_SLA_ACCEPT], 4 * HOUR_MS, 1, 1, (int64_t[]){4 * HOUR_MS});
        assert_sla(&r->sla.clocks[HF_SLA_FIRST_TOUCH], 8 * HOUR_MS, 1, 1, (int64_t[]){8 * HOUR_MS});
        assert_sla(&r->sla.clocks[HF_SLA_FOLLOW_UP], 24 * HOUR_MS, 3, 0, NULL);
        assert_false(r->sla.recompute_on_reload);
        assert_int_equal(r->recycle.score_policy, HF_RECYCLE_SCORE_HALVE);
        assert_int_equal(r->recycle.cooldown_ms, 30 * DAY_MS);
        assert_int_equal(r->recycle.new_points, 10);
        assert_true(r->recycle.hand_raisers_bypass);
        assert_int_equal(r->recycle.no_response_ms, 40 * HOUR_MS);
        assert_true(r->lifecycle.disqualified_reset_on_identify);
        char *ok = print_ok(l.cfg);
        assert_non_null(
            strstr(ok, "; 0 calendars, SLA accept 4h/first touch 8h/follow-up 3 in 24h)\n"));
        free(ok);
        drop(&l);
    }
}

/* ---- the shipped file ---- */

/* The shipped handoff.yaml, loaded; it must be valid. */
static hf_config_t *load_shipped(void)
{
    const char *path = getenv("HF_CONFIG_DEFAULT");
    assert_non_null(path);
    hf_config_t *cfg = NULL;
    hf_buf_t errors = HF_BUF_INIT;
    int rc = config_load(&cfg, path, &errors);
    if (rc != 0)
        print_error("%s\n", errors.data ? (char *)errors.data : "");
    assert_int_equal(rc, 0);
    hf_buf_free(&errors);
    return cfg;
}

static void test_shipped_file(void **state)
{
    (void)state;
    hf_config_t *cfg = load_shipped();
    const hf_rules_t *r = cfg->rules;

    assert_int_equal(r->calendars.count, 3);
    const hf_calendar_t *na = hf_rules_calendar(r, "na");
    const hf_calendar_t *emea = hf_rules_calendar(r, "emea");
    const hf_calendar_t *apac = hf_rules_calendar(r, "apac");
    assert_non_null(na);
    assert_non_null(emea);
    assert_non_null(apac);
    assert_string_equal(na->tz.name, "America/New_York");
    assert_string_equal(emea->tz.name, "Europe/Berlin");
    assert_string_equal(apac->tz.name, "Australia/Sydney");
    assert_false(na->always || emea->always || apac->always);

    /* hours: Monday to Friday; the weekend closed */
    static const int32_t nine_to_five[] = {9 * 3600, 17 * 3600};
    static const int32_t with_lunch[] = {9 * 3600, 12 * 3600 + 1800, 13 * 3600 + 1800,
                                         17 * 3600 + 1800};
    for (int d = 1; d <= 5; d++) {
        assert_day(&na->hours[d], 1, nine_to_five);
        assert_day(&emea->hours[d], 2, with_lunch);
        assert_day(&apac->hours[d], 1, nine_to_five);
    }
    for (int d = 0; d < 7; d += 6) {
        assert_int_equal(na->hours[d].span_count, 0);
        assert_int_equal(emea->hours[d].span_count, 0);
        assert_int_equal(apac->hours[d].span_count, 0);
    }
    config_free(cfg);
}

static void test_shipped_holidays(void **state)
{
    (void)state;
    hf_config_t *cfg = load_shipped();
    const hf_rules_t *r = cfg->rules;
    const hf_calendar_t *na = hf_rules_calendar(r, "na");
    const hf_calendar_t *emea = hf_rules_calendar(r, "emea");
    const hf_calendar_t *apac = hf_rules_calendar(r, "apac");

    /* holidays: sorted, on weekdays, the US ones as promised */
    const hf_calendar_t *cals[] = {na, emea, apac};
    for (size_t c = 0; c < 3; c++) {
        assert_true(cals[c]->holiday_count >= 5);
        for (size_t i = 0; i < cals[c]->holiday_count; i++) {
            int32_t day = cals[c]->holidays[i];
            if (i > 0)
                assert_true(cals[c]->holidays[i - 1] < day);
            int64_t weekday = ((day % 7) + 7 + 4) % 7; /* 1970-01-01 was a Thursday */
            assert_true(weekday >= 1 && weekday <= 5);
        }
    }
    static const int32_t us[][3] = {
        {2026, 1, 1}, {2026, 5, 25}, {2026, 7, 3}, {2026, 9, 7}, {2026, 11, 26}, {2026, 12, 25},
        {2027, 1, 1}, {2027, 5, 31}, {2027, 7, 5}, {2027, 9, 6}, {2027, 11, 25}, {2027, 12, 24},
    };
    for (size_t i = 0; i < sizeof us / sizeof us[0]; i++) {
        int32_t day = date(us[i][0], us[i][1], us[i][2]);
        bool found = false;
        for (size_t k = 0; k < na->holiday_count && !found; k++)
            found = na->holidays[k] == day;
        if (!found)
            print_error("not a holiday: %d-%02d-%02d\n", us[i][0], us[i][1], us[i][2]);
        assert_true(found);
    }
    config_free(cfg);
}

static void test_shipped_teams_and_clocks(void **state)
{
    (void)state;
    hf_config_t *cfg = load_shipped();
    const hf_rules_t *r = cfg->rules;
    const hf_calendar_t *na = hf_rules_calendar(r, "na");
    const hf_calendar_t *emea = hf_rules_calendar(r, "emea");
    const hf_calendar_t *apac = hf_rules_calendar(r, "apac");

    /* every routing team in one calendar; sla.calendar is na */
    assert_int_equal(r->calendars.team_count, 5);
    assert_ptr_equal(hf_rules_team_calendar(r, "na-enterprise"), na);
    assert_ptr_equal(hf_rules_team_calendar(r, "na-commercial"), na);
    assert_ptr_equal(hf_rules_team_calendar(r, "emea-enterprise"), emea);
    assert_ptr_equal(hf_rules_team_calendar(r, "emea-commercial"), emea);
    assert_ptr_equal(hf_rules_team_calendar(r, "apac"), apac);
    assert_ptr_equal(&r->calendars.items[r->calendars.default_index], na);
    assert_ptr_equal(hf_rules_team_calendar(r, NULL), na);
    assert_ptr_equal(hf_rules_team_calendar(r, "latam"), na);

    assert_sla(&r->sla.clocks[HF_SLA_ACCEPT], 4 * HOUR_MS, 1, 1, (int64_t[]){4 * HOUR_MS});
    assert_sla(&r->sla.clocks[HF_SLA_FIRST_TOUCH], 8 * HOUR_MS, 1, 1, (int64_t[]){8 * HOUR_MS});
    assert_sla(&r->sla.clocks[HF_SLA_FOLLOW_UP], 24 * HOUR_MS, 3, 0, NULL);
    assert_false(r->sla.recompute_on_reload);
    assert_int_equal(r->recycle.score_policy, HF_RECYCLE_SCORE_HALVE);
    assert_int_equal(r->recycle.cooldown_ms, 30 * DAY_MS);
    assert_int_equal(r->recycle.new_points, 10);
    assert_true(r->recycle.hand_raisers_bypass);
    assert_int_equal(r->recycle.no_response_ms, 40 * HOUR_MS);
    assert_true(r->lifecycle.disqualified_reset_on_identify);

    /* "8h = one business day": a handoff on Friday 2026-03-06 at 16:00 in New York
     * (21:00 UTC) is due to be accepted on Monday at 12:00, after clocks went
     * forward on Sunday (16:00 UTC) */
    int64_t friday_ms = (int64_t)date(2026, 3, 6) * DAY_MS + 21 * HOUR_MS;
    assert_int_equal(hf_calendar_add(na, friday_ms, 4 * HOUR_MS),
                     (int64_t)date(2026, 3, 9) * DAY_MS + 16 * HOUR_MS);
    /* ... and Thanksgiving is closed: Wednesday 16:00 EST + 8h is 1h on Wednesday and
     * 7h on Friday, due at 16:00 EST (21:00 UTC) */
    int64_t wednesday_ms = (int64_t)date(2026, 11, 25) * DAY_MS + 21 * HOUR_MS;
    assert_int_equal(hf_calendar_add(na, wednesday_ms, 8 * HOUR_MS),
                     (int64_t)date(2026, 11, 27) * DAY_MS + 21 * HOUR_MS);

    char *ok = print_ok(cfg);
    assert_non_null(
        strstr(ok, "; 3 calendars, SLA accept 4h/first touch 8h/follow-up 3 in 24h)\n"));
    free(ok);
    config_free(cfg);
}

/* ---- values ---- */

/* A file setting every key of calendars, sla and recycle. */
static const char values_text[] =
    ROUTING "calendars:\n"
            "  gulf:\n"
            "    timezone: Asia/Dubai\n"
            "    hours:\n"
            "      sun-thu: \"08:00 - 16:00\"\n"
            "      SAT: closed\n"
            "    holidays: [2026-12-02, \"2026-03-20\", 2026-12-02]\n"
            "    teams: emea\n"
            "  desk:\n"
            "    hours:\n"
            "      weekdays: [\"0:00-8:00\", \"8:00-12:00\", \"13:00-24:00\"]\n"
            "      weekend: \"10:00-14:00\"\n"
            "    holidays: []\n"
            "  sun:\n"
            "    hours: always\n"
            "    teams: [apac, na]\n"
            "  open:\n"
            "    hours: { daily: \"06:00-22:00\" }\n"
            "sla:\n"
            "  calendar: desk\n"
            "  accept: { within: 30s, escalate_after: 2h }\n"
            "  first_touch: { within: 0, escalate_after: [] }\n"
            "  follow_up:\n"
            "    attempts: 5\n"
            "    within: 1h30m\n"
            "    escalate_after: [1s, 1h, 1d, 2d, 3d, 4d, 5d, 6d]\n"
            "  on_reload: recompute\n"
            "recycle:\n"
            "  score: reset\n"
            "  cooldown: 0\n"
            "  new_evidence_points: 0\n"
            "  hand_raisers_bypass: false\n"
            "  no_response_after: 0\n"
            "lifecycle: { disqualified_reset_on_identify: false }\n";

static void test_values(void **state)
{
    (void)state;
    loaded_t l = load_ok(values_text);
    const hf_rules_t *r = l.cfg->rules;
    assert_int_equal(r->calendars.count, 4);

    const hf_calendar_t *gulf = &r->calendars.items[0];
    assert_string_equal(gulf->name, "gulf");
    assert_string_equal(gulf->tz.name, "Asia/Dubai");
    static const int32_t eight_to_four[] = {8 * 3600, 16 * 3600};
    for (int d = 0; d <= 4; d++) /* Sunday to Thursday: a range across the week's end */
        assert_day(&gulf->hours[d], 1, eight_to_four);
    assert_int_equal(gulf->hours[5].span_count, 0);
    assert_int_equal(gulf->hours[6].span_count, 0);
    assert_int_equal(gulf->holiday_count, 2); /* sorted, each once */
    assert_int_equal(gulf->holidays[0], date(2026, 3, 20));
    assert_int_equal(gulf->holidays[1], date(2026, 12, 2));

    const hf_calendar_t *desk = &r->calendars.items[1];
    assert_string_equal(desk->name, "desk");
    assert_string_equal(desk->tz.name, "UTC"); /* no timezone */
    assert_int_equal(desk->tz.trans_count, 0);
    assert_int_equal(desk->tz.initial_offset_s, 0);
    const int32_t weekday[] = {0, hm(8, 0), hm(8, 0), hm(12, 0), hm(13, 0), hm(24, 0)};
    const int32_t weekend[] = {hm(10, 0), hm(14, 0)};
    for (int d = 1; d <= 5; d++)
        assert_day(&desk->hours[d], 3, weekday);
    assert_day(&desk->hours[0], 1, weekend);
    assert_day(&desk->hours[6], 1, weekend);
    assert_int_equal(desk->holiday_count, 0);

    const hf_calendar_t *sun = &r->calendars.items[2];
    assert_true(sun->always);
    assert_string_equal(sun->tz.name, "UTC");
    const hf_calendar_t *open = &r->calendars.items[3];
    const int32_t six_to_ten[] = {hm(6, 0), hm(22, 0)};
    for (int d = 0; d < 7; d++)
        assert_day(&open->hours[d], 1, six_to_ten);
    drop(&l);
}

static void test_values_teams_and_clocks(void **state)
{
    (void)state;
    loaded_t l = load_ok(values_text);
    const hf_rules_t *r = l.cfg->rules;
    const hf_calendar_t *gulf = &r->calendars.items[0];
    const hf_calendar_t *desk = &r->calendars.items[1];
    const hf_calendar_t *sun = &r->calendars.items[2];

    assert_int_equal(r->calendars.team_count, 3);
    assert_ptr_equal(hf_rules_team_calendar(r, "emea"), gulf);
    assert_ptr_equal(hf_rules_team_calendar(r, "apac"), sun);
    assert_ptr_equal(hf_rules_team_calendar(r, "na"), sun);
    assert_int_equal(r->calendars.default_index, 1);
    assert_ptr_equal(hf_rules_team_calendar(r, "other"), desk);

    assert_sla(&r->sla.clocks[HF_SLA_ACCEPT], 30 * SECOND_MS, 1, 1, (int64_t[]){2 * HOUR_MS});
    assert_sla(&r->sla.clocks[HF_SLA_FIRST_TOUCH], 0, 1, 0, NULL);
    assert_sla(&r->sla.clocks[HF_SLA_FOLLOW_UP], 90 * 60 * SECOND_MS, 5, 8,
               (int64_t[]){SECOND_MS, HOUR_MS, DAY_MS, 2 * DAY_MS, 3 * DAY_MS, 4 * DAY_MS,
                           5 * DAY_MS, 6 * DAY_MS});
    assert_true(r->sla.recompute_on_reload);
    assert_int_equal(r->recycle.score_policy, HF_RECYCLE_SCORE_RESET);
    assert_int_equal(r->recycle.cooldown_ms, 0);
    assert_int_equal(r->recycle.new_points, 0);
    assert_false(r->recycle.hand_raisers_bypass);
    assert_int_equal(r->recycle.no_response_ms, 0);
    assert_false(r->lifecycle.disqualified_reset_on_identify);

    char *ok = print_ok(l.cfg);
    assert_non_null(
        strstr(ok, "; 4 calendars, SLA accept 30s/first touch off/follow-up 5 in 90m)\n"));
    free(ok);
    drop(&l);
}

static void test_values_one_calendar(void **state)
{
    (void)state;
    loaded_t l = load_ok("recycle: { score: keep }\n"
                         "calendars: { one: { hours: { mon: \"09:00-10:00\" } } }\n");
    assert_int_equal(l.cfg->rules->recycle.score_policy, HF_RECYCLE_SCORE_KEEP);
    assert_int_equal(l.cfg->rules->calendars.default_index, -1);
    char *one = print_ok(l.cfg);
    assert_non_null(strstr(one, "; 1 calendar, SLA"));
    free(one);
    drop(&l);
}

/* ---- errors ---- */

static void test_timezone_errors(void **state)
{
    (void)state;
    /* the reason comes from tzfile_load (and names the directory it looked in) */
    expect_containing("calendars:\n"
                      "  mars:\n"
                      "    timezone: Mars/Olympus\n"
                      "    hours: always\n",
                      1,
                      "t.yaml:3:15: calendars.mars.timezone: unknown time zone \"Mars/Olympus\": ",
                      "    timezone: Mars/Olympus\n"
                      "              ^\n",
                      NULL);
    expect_containing("calendars: { x: { timezone: ../etc/passwd, hours: always } }\n", 1,
                      "t.yaml:1:29: calendars.x.timezone: ", NULL);
    expect_errors("calendars: { x: { timezone: [UTC], hours: always } }\n", 1,
                  "t.yaml:1:29: calendars.x.timezone: expected an IANA time zone name such as "
                  "America/New_York, got a list\n"
                  "    calendars: { x: { timezone: [UTC], hours: always } }\n"
                  "                                ^\n");
}

static void test_hours_errors(void **state)
{
    (void)state;
    static const struct {
        const char *value;
        const char *col_and_got;
    } bad_spans[] = {
        {"\"9-5\"", "12: calendars.x.hours.mon: %s, got \"9-5\"\n"},
        {"\"09:00-25:00\"", "12: calendars.x.hours.mon: %s, got \"09:00-25:00\"\n"},
        {"\"17:00-09:00\"", "12: calendars.x.hours.mon: %s, got \"17:00-09:00\"\n"},
        {"\"09:00-09:00\"", "12: calendars.x.hours.mon: %s, got \"09:00-09:00\"\n"},
        {"\"24:00-24:00\"", "12: calendars.x.hours.mon: %s, got \"24:00-24:00\"\n"},
        {"\"09:60-10:00\"", "12: calendars.x.hours.mon: %s, got \"09:60-10:00\"\n"},
        {"\"09:00-17:00x\"", "12: calendars.x.hours.mon: %s, got \"09:00-17:00x\"\n"},
        {"[\"09:00-12:00\", 13]", "28: calendars.x.hours.mon[1]: %s, got \"13\"\n"},
        {"{ a: b }", "12: calendars.x.hours.mon: %s, got a map\n"},
    };
    static const char expected_span[] =
        "expected working hours such as \"09:00-17:00\" (opening before closing, from 00:00 to "
        "24:00), a list of them, or \"closed\"";
    for (size_t i = 0; i < sizeof bad_spans / sizeof bad_spans[0]; i++) {
        char text[256], message[1024], line[256], caret[64];
        snprintf(text, sizeof text, "calendars:\n  x:\n    hours:\n      mon: %s\n",
                 bad_spans[i].value);
        char col_and_got[512];
        snprintf(col_and_got, sizeof col_and_got, bad_spans[i].col_and_got, expected_span);
        snprintf(line, sizeof line, "    mon: %s\n", bad_spans[i].value);
        int col = atoi(col_and_got);
        snprintf(caret, sizeof caret, "%*s^\n", 4 + col - 1 - 6, ""); /* shown indented by 4 */
        snprintf(message, sizeof message, "t.yaml:4:%s%s%s", col_and_got, line, caret);
        expect_errors(text, 1, message);
    }
}

static void test_week_errors(void **state)
{
    (void)state;
    expect_errors("calendars:\n"
                  "  x:\n"
                  "    hours:\n"
                  "      weekdays: \"09:00-17:00\"\n"
                  "      sat: [\"10:00-12:00\", \"11:30-13:00\"]\n",
                  1,
                  "t.yaml:5:28: calendars.x.hours.sat[1]: overlaps the span before it, which "
                  "closes at 12:00; spans are listed in order and do not overlap\n"
                  "    sat: [\"10:00-12:00\", \"11:30-13:00\"]\n"
                  "                         ^\n");
    expect_errors("calendars:\n"
                  "  x:\n"
                  "    hours:\n"
                  "      sat: [\"13:00-14:00\", \"10:00-12:00\"]\n",
                  1,
                  "t.yaml:4:28: calendars.x.hours.sat[1]: overlaps the span before it, which "
                  "closes at 14:00; spans are listed in order and do not overlap\n"
                  "    sat: [\"13:00-14:00\", \"10:00-12:00\"]\n"
                  "                         ^\n");
    expect_errors("calendars:\n"
                  "  x:\n"
                  "    hours:\n"
                  "      daily: [\"1:00-2:00\", \"3:00-4:00\", \"5:00-6:00\", \"7:00-8:00\", "
                  "\"9:00-10:00\"]\n",
                  1,
                  "t.yaml:4:14: calendars.x.hours.daily: at most 4 spans a day, got 5\n"
                  "    daily: [\"1:00-2:00\", \"3:00-4:00\", \"5:00-6:00\", \"7:00-8:00\", "
                  "\"9:00-10:00\"]\n"
                  "           ^\n");
    expect_errors("calendars:\n  x:\n    hours:\n      sun: []\n", 1,
                  "t.yaml:4:12: calendars.x.hours.sun: expected at least one span (\"closed\" "
                  "for a closed day)\n"
                  "    sun: []\n"
                  "         ^\n");
    /* a week without working time, unless it is "always" */
    expect_errors("calendars:\n  x:\n    hours: { weekdays: closed, weekend: closed }\n", 1,
                  "t.yaml:3:12: calendars.x.hours: no working time in the week: every day is "
                  "closed (\"always\" for round the clock)\n"
                  "    hours: { weekdays: closed, weekend: closed }\n"
                  "           ^\n");
    expect_errors("calendars:\n  x:\n    hours: {}\n", 1,
                  "t.yaml:3:12: calendars.x.hours: no working time in the week: every day is "
                  "closed (\"always\" for round the clock)\n"
                  "    hours: {}\n"
                  "           ^\n");
    expect_errors("calendars:\n  x:\n    timezone: UTC\n", 1,
                  "t.yaml:3:5: calendars.x: missing required key \"hours\"\n"
                  "    timezone: UTC\n"
                  "    ^\n");
    expect_errors("calendars:\n  x:\n    hours: sometimes\n", 1,
                  "t.yaml:3:12: calendars.x.hours: expected a map of weekdays to working hours, "
                  "or \"always\", got \"sometimes\"\n"
                  "    hours: sometimes\n"
                  "           ^\n");
    expect_errors("calendars:\n  x:\n    hours:\n      mon-fri: \"09:00-17:00\"\n"
                  "      monday: \"09:00-17:00\"\n      fri: closed\n",
                  2,
                  "t.yaml:5:7: calendars.x.hours: expected a weekday (mon, tue, wed, thu, fri, "
                  "sat, sun), a range such as mon-fri, daily, weekdays or weekend, got "
                  "\"monday\"\n"
                  "    monday: \"09:00-17:00\"\n"
                  "    ^\n"
                  "t.yaml:6:7: calendars.x.hours.fri: fri is given twice (also by \"mon-fri\")\n"
                  "    fri: closed\n"
                  "    ^\n");
}

static void test_holiday_errors(void **state)
{
    (void)state;
    expect_errors("calendars:\n"
                  "  x:\n"
                  "    hours: always\n"
                  "    holidays: [2026-12-25]\n",
                  1,
                  "t.yaml:4:15: calendars.x.holidays: an \"always\" calendar is never closed: "
                  "holidays do not apply to it\n"
                  "    holidays: [2026-12-25]\n"
                  "              ^\n");
    expect_errors("calendars:\n"
                  "  x:\n"
                  "    hours: { mon: \"09:00-17:00\" }\n"
                  "    holidays: [2026-02-29, 2026-13-01, 2026-1-1, 1969-12-31, 2028-02-29,\n"
                  "               2026-04-31, tomorrow, [2026-01-01]]\n",
                  7,
                  "t.yaml:4:16: calendars.x.holidays[0]: expected a date YYYY-MM-DD (no such day "
                  "in that month), got \"2026-02-29\"\n"
                  "    holidays: [2026-02-29, 2026-13-01, 2026-1-1, 1969-12-31, 2028-02-29,\n"
                  "               ^\n"
                  "t.yaml:4:28: calendars.x.holidays[1]: expected a date YYYY-MM-DD (no such "
                  "month), got \"2026-13-01\"\n"
                  "    holidays: [2026-02-29, 2026-13-01, 2026-1-1, 1969-12-31, 2028-02-29,\n"
                  "                           ^\n"
                  "t.yaml:4:40: calendars.x.holidays[2]: expected a date YYYY-MM-DD, got "
                  "\"2026-1-1\"\n"
                  "    holidays: [2026-02-29, 2026-13-01, 2026-1-1, 1969-12-31, 2028-02-29,\n"
                  "                                       ^\n"
                  "t.yaml:4:50: calendars.x.holidays[3]: expected a date YYYY-MM-DD from 1970 "
                  "on, got \"1969-12-31\"\n"
                  "    holidays: [2026-02-29, 2026-13-01, 2026-1-1, 1969-12-31, 2028-02-29,\n"
                  "                                                 ^\n"
                  "t.yaml:5:16: calendars.x.holidays[5]: expected a date YYYY-MM-DD (no such day "
                  "in that month), got \"2026-04-31\"\n"
                  "    2026-04-31, tomorrow, [2026-01-01]]\n"
                  "    ^\n"
                  "t.yaml:5:28: calendars.x.holidays[6]: expected a date YYYY-MM-DD, got "
                  "\"tomorrow\"\n"
                  "    2026-04-31, tomorrow, [2026-01-01]]\n"
                  "                ^\n"
                  "t.yaml:5:38: calendars.x.holidays[7]: expected a date YYYY-MM-DD, got a list\n"
                  "    2026-04-31, tomorrow, [2026-01-01]]\n"
                  "                          ^\n");
}

static void test_team_errors(void **state)
{
    (void)state;
    /* a team's clocks run in one calendar */
    expect_errors(ROUTING "calendars:\n"
                          "  a: { hours: always, teams: [na, emea] }\n"
                          "  b: { hours: always, teams: [apac, emea] }\n",
                  1,
                  "t.yaml:7:37: calendars.b.teams[1]: team \"emea\" is also in calendar \"a\"; a "
                  "team's clocks run in one calendar\n"
                  "    b: { hours: always, teams: [apac, emea] }\n"
                  "                                      ^\n");
    expect_errors(ROUTING "calendars:\n"
                          "  a: { hours: always, teams: [na, na] }\n",
                  1,
                  "t.yaml:6:35: calendars.a.teams[1]: duplicate team \"na\"\n"
                  "    a: { hours: always, teams: [na, na] }\n"
                  "                                    ^\n");
    /* every team is one routing names */
    expect_errors(ROUTING "calendars:\n"
                          "  a: { hours: always, teams: [na, latam] }\n",
                  1,
                  "t.yaml:6:35: calendars.a.teams[1]: no routing rule names team \"latam\"; "
                  "routing has na, emea, apac\n"
                  "    a: { hours: always, teams: [na, latam] }\n"
                  "                                    ^\n");
    expect_errors("calendars:\n"
                  "  a: { hours: always, teams: na }\n",
                  1,
                  "t.yaml:2:30: calendars.a.teams: no routing rule names team \"na\"; routing "
                  "has none\n"
                  "    a: { hours: always, teams: na }\n"
                  "                               ^\n");
    expect_errors(ROUTING "calendars:\n"
                          "  a: { hours: always, teams: [\"n a\"] }\n",
                  1,
                  "t.yaml:6:31: calendars.a.teams[0]: expected a name of letters, digits, '_', "
                  "'-' and '.', got \"n a\"\n"
                  "    a: { hours: always, teams: [\"n a\"] }\n"
                  "                                ^\n");
}

static void test_calendar_name_errors(void **state)
{
    (void)state;
    expect_errors("calendars:\n"
                  "  us east: { hours: always }\n"
                  "  a: { hours: always }\n"
                  "  a: { hours: always }\n",
                  2,
                  "t.yaml:2:3: calendars.us east: expected a name of letters, digits, '_', '-' "
                  "and '.', got \"us east\"\n"
                  "    us east: { hours: always }\n"
                  "    ^\n"
                  "t.yaml:4:3: calendars.a: duplicate key \"a\" (first at line 3)\n"
                  "    a: { hours: always }\n"
                  "    ^\n");
    expect_errors("calendars: [a, b]\n", 1,
                  "t.yaml:1:12: calendars: expected a map of names to maps, got a list\n"
                  "    calendars: [a, b]\n"
                  "               ^\n");
    expect_errors("calendars:\n  a: always\n", 1,
                  "t.yaml:2:6: calendars.a: expected a map, got \"always\"\n"
                  "    a: always\n"
                  "       ^\n");
    expect_errors("calendars:\n  a: { hours: always, hour: x }\n", 1,
                  "t.yaml:2:23: calendars.a: unknown key \"hour\" (did you mean \"hours\"?); "
                  "allowed: timezone, hours, holidays, teams\n"
                  "    a: { hours: always, hour:\n"
                  "                        ^\n");
}

static void test_sla_errors(void **state)
{
    (void)state;
    expect_errors("calendars: { a: { hours: always }, b: { hours: always } }\n"
                  "sla: { calendar: c }\n",
                  1,
                  "t.yaml:2:18: sla.calendar: unknown calendar \"c\"; calendars has a, b\n"
                  "    sla: { calendar: c }\n"
                  "                     ^\n");
    expect_errors("sla: { calendar: us }\n", 1,
                  "t.yaml:1:18: sla.calendar: unknown calendar \"us\"; calendars has none\n"
                  "    sla: { calendar: us }\n"
                  "                     ^\n");
    expect_errors("sla:\n"
                  "  accept: { escalate_after: [1h, 1h, 1h, 1h, 1h, 1h, 1h, 1h, 1h] }\n",
                  1,
                  "t.yaml:2:29: sla.accept.escalate_after: at most 8 escalations, got 9\n"
                  "    accept: { escalate_after: [1h, 1h, 1h, 1h, 1h, 1h, 1h, 1h, 1h] }\n"
                  "                              ^\n");
    expect_errors("sla:\n"
                  "  first_touch: { escalate_after: [1h, 500ms, 366d] }\n",
                  2,
                  "t.yaml:2:39: sla.first_touch.escalate_after[1]: expected duration (500ms, 30s, "
                  "15m, 4h, 14d, 2w) in [1s, 365d], got \"500ms\"\n"
                  "    first_touch: { escalate_after: [1h, 500ms, 366d] }\n"
                  "                                        ^\n"
                  "t.yaml:2:46: sla.first_touch.escalate_after[2]: expected duration (500ms, 30s, "
                  "15m, 4h, 14d, 2w) in [1s, 365d], got \"366d\"\n"
                  "    first_touch: { escalate_after: [1h, 500ms, 366d] }\n"
                  "                                               ^\n");
    expect_errors("sla:\n"
                  "  accept: { within: 999 }\n"
                  "  follow_up: { within: 366d, attempts: 101 }\n",
                  3,
                  "t.yaml:2:21: sla.accept.within: expected 0 (no such clock) or at least 1s\n"
                  "    accept: { within: 999 }\n"
                  "                      ^\n"
                  "t.yaml:3:24: sla.follow_up.within: expected duration (500ms, 30s, 15m, 4h, "
                  "14d, 2w) in [0, 365d], got \"366d\"\n"
                  "    follow_up: { within: 366d, attempts: 101 }\n"
                  "                         ^\n"
                  "t.yaml:3:40: sla.follow_up.attempts: expected integer in [1, 100], got "
                  "\"101\"\n"
                  "    follow_up: { within: 366d, attempts: 101 }\n"
                  "                                         ^\n");
    expect_errors("sla:\n  accept: { attempts: 2 }\n  on_reload: restart\n", 2,
                  "t.yaml:2:13: sla.accept: unknown key \"attempts\"; allowed: within, "
                  "escalate_after\n"
                  "    accept: { attempts:\n"
                  "              ^\n"
                  "t.yaml:3:14: sla.on_reload: expected keep or recompute, got \"restart\"\n"
                  "    on_reload: restart\n"
                  "               ^\n");
}

static void test_recycle_errors(void **state)
{
    (void)state;
    expect_errors("recycle:\n"
                  "  score: zero\n"
                  "  cooldown: forever\n"
                  "  new_evidence_points: -1\n"
                  "  hand_raisers_bypass: maybe\n"
                  "  no_response_after: 2y\n"
                  "lifecycle: { disqualified_reset_on_identify: 1 }\n",
                  6,
                  "t.yaml:2:10: recycle.score: expected reset, halve or keep, got \"zero\"\n"
                  "    score: zero\n"
                  "           ^\n"
                  "t.yaml:3:13: recycle.cooldown: expected duration (500ms, 30s, 15m, 4h, 14d, "
                  "2w) in [0, 365d], got \"forever\"\n"
                  "    cooldown: forever\n"
                  "              ^\n"
                  "t.yaml:4:24: recycle.new_evidence_points: expected integer in [0, 1000000], "
                  "got \"-1\"\n"
                  "    new_evidence_points: -1\n"
                  "                         ^\n"
                  "t.yaml:5:24: recycle.hand_raisers_bypass: expected true or false, got "
                  "\"maybe\"\n"
                  "    hand_raisers_bypass: maybe\n"
                  "                         ^\n"
                  "t.yaml:6:22: recycle.no_response_after: expected duration (500ms, 30s, 15m, "
                  "4h, 14d, 2w) in [0, 365d], got \"2y\"\n"
                  "    no_response_after: 2y\n"
                  "                       ^\n"
                  "t.yaml:7:46: lifecycle.disqualified_reset_on_identify: expected true or "
                  "false, got \"1\"\n"
                  "    lifecycle: { disqualified_reset_on_identify: 1 }\n"
                  "                                                 ^\n");
}

/* Every problem at once, and nothing leaks on the way (the suite also runs under
 * LeakSanitizer). */
static void test_many_errors_free_everything(void **state)
{
    (void)state;
    loaded_t l =
        load(ROUTING "calendars:\n"
                     "  a:\n"
                     "    timezone: Europe/Berlin\n"
                     "    hours: { mon-fri: \"09:00-17:00\", tue: x }\n"
                     "    holidays: [2026-12-25, 2026-12-32]\n"
                     "    teams: [na, nobody]\n"
                     "  b:\n"
                     "    timezone: Nowhere/Atall\n"
                     "    hours: { sat: [\"10:00-11:00\"] }\n"
                     "    holidays: [2027-01-01, 2026-01-01]\n"
                     "    teams: [na, emea]\n"
                     "  c: { timezone: America/New_York, hours: always, holidays: 2026-01-01 }\n"
                     "sla: { calendar: d, accept: { within: 1 } }\n");
    assert_int_equal(l.r, 8);
    assert_null(l.cfg);
    drop(&l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_shipped_file),
        cmocka_unit_test(test_shipped_holidays),
        cmocka_unit_test(test_shipped_teams_and_clocks),
        cmocka_unit_test(test_values),
        cmocka_unit_test(test_values_teams_and_clocks),
        cmocka_unit_test(test_values_one_calendar),
        cmocka_unit_test(test_timezone_errors),
        cmocka_unit_test(test_hours_errors),
        cmocka_unit_test(test_week_errors),
        cmocka_unit_test(test_holiday_errors),
        cmocka_unit_test(test_team_errors),
        cmocka_unit_test(test_calendar_name_errors),
        cmocka_unit_test(test_sla_errors),
        cmocka_unit_test(test_recycle_errors),
        cmocka_unit_test(test_many_errors_free_everything),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
