/* calendars: the business calendars SLA clocks run in, by name: a time zone (the
 * system's tzdata through tzfile.c), working hours per weekday, holidays, and the
 * routing teams whose clocks run in each. */
#include "section.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config/tzfile.h"

#define CALENDAR(field) offsetof(hf_calendar_t, field)

/* timezone: an IANA zone from the system's tzdata, into the calendar's hf_tz_t. */
static void parse_timezone(cfgmap_ctx_t *ctx, const cfgmap_entry_t *e, const yaml_node_t *node,
                           const cfgmap_path_t *path, void *field)
{
    hf_tz_t *tz = field;
    const char *s = cfgmap_scalar(node);
    if (!s || cfgmap_is_null(node) || !*s) {
        cfgmap_error_got(ctx, node, path,
                         "expected an IANA time zone name such as America/New_York");
        return;
    }
    char err[512] = "";
    hf_tz_t loaded;
    int rc = tzfile_load(&loaded, s, NULL, err, sizeof(err));
    if (rc == -ENOMEM) {
        ctx->oom = true;
        return;
    }
    if (rc < 0) {
        cfgmap_error(ctx, node, path, "%s", *err ? err : "cannot load the time zone");
        return;
    }
    hf_tz_free(tz);
    *tz = loaded;
}

/* Weekdays by hf_day_hours_t index (0 = Sunday); ranges run forward through the
 * week from the first day to the second, so "sun-thu" is a Middle East week. */
static const char *const weekday_names[7] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};

#define WEEKDAYS_ALL 0x7fu
#define WEEKDAYS_MON_FRI 0x3eu
#define WEEKDAYS_WEEKEND 0x41u

static int weekday_parse(const char *s, size_t n)
{
    for (int d = 0; d < 7; d++)
        if (n == 3 && strncasecmp(s, weekday_names[d], 3) == 0)
            return d;
    return -1;
}

/* The days (bit 1 << weekday) an hours key names, or 0. */
static unsigned weekdays_of_key(const char *key)
{
    if (strcasecmp(key, "daily") == 0)
        return WEEKDAYS_ALL;
    if (strcasecmp(key, "weekdays") == 0)
        return WEEKDAYS_MON_FRI;
    if (strcasecmp(key, "weekend") == 0)
        return WEEKDAYS_WEEKEND;
    const char *dash = strchr(key, '-');
    int first = weekday_parse(key, dash ? (size_t)(dash - key) : strlen(key));
    if (first < 0)
        return 0;
    if (!dash)
        return 1u << first;
    int last = weekday_parse(dash + 1, strlen(dash + 1));
    if (last < 0)
        return 0;
    unsigned days = 0;
    for (int d = first;; d = (d + 1) % 7) {
        days |= 1u << d;
        if (d == last)
            break;
    }
    return days;
}

/* "H:MM" or "HH:MM" at *@p, 24:00 only when @end; advances *@p. */
static bool clock_parse(const char **p, bool end, int32_t *out_s)
{
    const char *s = *p;
    int hours = 0, digits = 0;
    while (*s >= '0' && *s <= '9' && digits < 2) {
        hours = hours * 10 + (*s++ - '0');
        digits++;
    }
    if (digits == 0 || *s++ != ':')
        return false;
    if (!(s[0] >= '0' && s[0] <= '5' && s[1] >= '0' && s[1] <= '9'))
        return false;
    int minutes = (s[0] - '0') * 10 + (s[1] - '0');
    s += 2;
    if (hours > 24 || (hours == 24 && (minutes != 0 || !end)))
        return false;
    *out_s = (int32_t)(hours * 3600 + minutes * 60);
    *p = s;
    return true;
}

/* "09:00-17:00" (spaces around the dash allowed), opening before closing. */
static bool span_parse(const char *s, int32_t *open_s, int32_t *close_s)
{
    if (!clock_parse(&s, false, open_s))
        return false;
    while (*s == ' ')
        s++;
    if (*s++ != '-')
        return false;
    while (*s == ' ')
        s++;
    return clock_parse(&s, true, close_s) && *s == 0 && *open_s < *close_s;
}

static const char span_expected[] =
    "expected working hours such as \"09:00-17:00\" (opening before closing, from 00:00 to "
    "24:00), a list of them, or \"closed\"";

/* The working hours of one day: "closed", a span, or a list of spans.  False (a
 * problem recorded) if the value is not acceptable. */
static bool day_hours_parse(cfgmap_ctx_t *ctx, const yaml_node_t *node, const cfgmap_path_t *path,
                            hf_day_hours_t *out)
{
    *out = (hf_day_hours_t){0};
    const char *s = cfgmap_scalar(node);
    if (s && !cfgmap_is_null(node) && strcasecmp(s, "closed") == 0)
        return true;
    bool list = node->type == YAML_SEQUENCE_NODE;
    if (!list && (!s || cfgmap_is_null(node))) {
        cfgmap_error_got(ctx, node, path, "%s", span_expected);
        return false;
    }
    size_t count =
        list ? (size_t)(node->data.sequence.items.top - node->data.sequence.items.start) : 1;
    if (count == 0) {
        cfgmap_error(ctx, node, path, "expected at least one span (\"closed\" for a closed day)");
        return false;
    }
    if (count > HF_CALENDAR_SPANS) {
        cfgmap_error(ctx, node, path, "at most %d spans a day, got %zu", HF_CALENDAR_SPANS, count);
        return false;
    }
    bool ok = true;
    for (size_t i = 0; i < count && cfgmap_visit(ctx); i++) {
        const yaml_node_t *item = list ? cfgmap_item(ctx, node, i) : node;
        cfgmap_path_t item_path = {path, NULL, i};
        const cfgmap_path_t *where = list ? &item_path : path;
        const char *text = cfgmap_scalar(item);
        int32_t open_s, close_s;
        if (!text || cfgmap_is_null(item) || !span_parse(text, &open_s, &close_s)) {
            cfgmap_error_got(ctx, item, where, "%s", span_expected);
            ok = false;
            continue;
        }
        uint32_t n = out->span_count;
        if (n > 0 && open_s < out->close_s[n - 1]) {
            cfgmap_error(ctx, item, where,
                         "overlaps the span before it, which closes at %02d:%02d; spans are "
                         "listed in order and do not overlap",
                         (int)(out->close_s[n - 1] / 3600), (int)(out->close_s[n - 1] % 3600 / 60));
            ok = false;
            continue;
        }
        out->open_s[n] = open_s;
        out->close_s[n] = close_s;
        out->span_count = n + 1;
    }
    return ok;
}

/* hours: "always", or a map of weekdays (mon, mon-fri, daily, weekdays, weekend) to
 * their working hours; a day not listed is closed. */
static void parse_hours(cfgmap_ctx_t *ctx, const cfgmap_entry_t *e, const yaml_node_t *node,
                        const cfgmap_path_t *path, void *field)
{
    hf_calendar_t *cal = field; /* offset 0: the whole calendar */
    const char *s = cfgmap_scalar(node);
    if (s && !cfgmap_is_null(node) && strcmp(s, "always") == 0) {
        cal->always = true;
        return;
    }
    if (node->type != YAML_MAPPING_NODE) {
        cfgmap_error_got(ctx, node, path,
                         "expected a map of weekdays to working hours, or \"always\"");
        return;
    }
    int problems = ctx->problems;
    const char *given_by[7] = {NULL};
    for (yaml_node_pair_t *p = node->data.mapping.pairs.start; p < node->data.mapping.pairs.top;
         p++) {
        if (!cfgmap_visit(ctx))
            return;
        const yaml_node_t *key = cfgmap_node(ctx, p->key);
        const yaml_node_t *value = cfgmap_node(ctx, p->value);
        const char *name = cfgmap_scalar(key);
        unsigned days = name && !cfgmap_is_null(key) ? weekdays_of_key(name) : 0;
        if (!days) {
            cfgmap_error_got(ctx, key, path,
                             "expected a weekday (mon, tue, wed, thu, fri, sat, sun), a range "
                             "such as mon-fri, daily, weekdays or weekend");
            continue;
        }
        cfgmap_path_t at = {path, name, 0};
        int twice = -1;
        for (int d = 0; d < 7 && twice < 0; d++)
            if ((days & (1u << d)) && given_by[d])
                twice = d;
        if (twice >= 0) {
            cfgmap_error(ctx, key, &at, "%s is given twice (also by \"%s\")", weekday_names[twice],
                         given_by[twice]);
            continue;
        }
        hf_day_hours_t hours;
        bool ok = value && day_hours_parse(ctx, value, &at, &hours);
        for (int d = 0; d < 7; d++) {
            if (!(days & (1u << d)))
                continue;
            given_by[d] = name;
            if (ok)
                cal->hours[d] = hours;
        }
    }
    if (ctx->problems != problems)
        return;
    uint32_t spans = 0;
    for (int d = 0; d < 7; d++)
        spans += cal->hours[d].span_count;
    if (spans == 0)
        cfgmap_error(ctx, node, path,
                     "no working time in the week: every day is closed (\"always\" for round "
                     "the clock)");
}

static int day_cmp(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

static bool is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* "YYYY-MM-DD" into days since 1970-01-01, or a message saying what is wrong. */
static const char *date_parse(const char *s, int32_t *out_days)
{
    static const char format[] = "expected a date YYYY-MM-DD";
    for (int i = 0; i < 10; i++) {
        bool dash = i == 4 || i == 7;
        if (dash ? s[i] != '-' : !(s[i] >= '0' && s[i] <= '9'))
            return format;
    }
    if (s[10])
        return format;
    int64_t y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
    int32_t m = (s[5] - '0') * 10 + (s[6] - '0');
    int32_t d = (s[8] - '0') * 10 + (s[9] - '0');
    static const int32_t month_days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (y < 1970)
        return "expected a date YYYY-MM-DD from 1970 on";
    if (m < 1 || m > 12)
        return "expected a date YYYY-MM-DD (no such month)";
    if (d < 1 || d > month_days[m - 1] + (m == 2 && is_leap(y)))
        return "expected a date YYYY-MM-DD (no such day in that month)";
    *out_days = (int32_t)hf_days_from_civil(y, m, d);
    return NULL;
}

/* holidays: local dates, one or a list; stored sorted, each once. */
static void parse_holidays(cfgmap_ctx_t *ctx, const cfgmap_entry_t *e, const yaml_node_t *node,
                           const cfgmap_path_t *path, void *field)
{
    hf_calendar_t *cal = field; /* offset 0: the whole calendar */
    if (cfgmap_is_null(node))
        return;
    bool list = node->type == YAML_SEQUENCE_NODE;
    if (!list && node->type != YAML_SCALAR_NODE) {
        cfgmap_error_got(ctx, node, path, "expected a date YYYY-MM-DD or a list of them");
        return;
    }
    size_t count =
        list ? (size_t)(node->data.sequence.items.top - node->data.sequence.items.start) : 1;
    if (count == 0)
        return;
    int32_t *days = cfgmap_calloc(ctx, count, sizeof(*days));
    if (!days)
        return;
    free(cal->holidays);
    cal->holidays = days;
    cal->holiday_count = 0;
    for (size_t i = 0; i < count && cfgmap_visit(ctx); i++) {
        const yaml_node_t *item = list ? cfgmap_item(ctx, node, i) : node;
        cfgmap_path_t item_path = {path, NULL, i};
        const cfgmap_path_t *where = list ? &item_path : path;
        const char *s = cfgmap_scalar(item);
        const char *why = s && !cfgmap_is_null(item) ? date_parse(s, &days[cal->holiday_count])
                                                     : "expected a date YYYY-MM-DD";
        if (why) {
            cfgmap_error_got(ctx, item, where, "%s", why);
            continue;
        }
        cal->holiday_count++;
    }
    qsort(days, cal->holiday_count, sizeof(*days), day_cmp);
    size_t n = 0;
    for (size_t i = 0; i < cal->holiday_count; i++)
        if (n == 0 || days[n - 1] != days[i])
            days[n++] = days[i];
    cal->holiday_count = n;
}

/* True if a routing rule names @team. */
static bool team_routed(const hf_rules_t *r, const char *team)
{
    for (size_t i = 0; i < r->routing.rule_count; i++)
        if (r->routing.rules[i].team && strcmp(r->routing.rules[i].team, team) == 0)
            return true;
    return false;
}

/* The distinct teams of routing, appended to @out (at most CONFIG_SECTION_NAMES_LISTED_MAX). */
static void team_names(cfgmap_ctx_t *ctx, const hf_rules_t *r, hf_buf_t *out)
{
    size_t n = 0;
    for (size_t i = 0; i < r->routing.rule_count && cfgmap_spend(ctx, i); i++) {
        const char *team = r->routing.rules[i].team;
        bool earlier = false;
        for (size_t j = 0; team && j < i && !earlier; j++)
            earlier = r->routing.rules[j].team && strcmp(r->routing.rules[j].team, team) == 0;
        if (!team || earlier)
            continue;
        if (n < CONFIG_SECTION_NAMES_LISTED_MAX)
            hf_buf_printf(out, "%s%s", n ? ", " : "", team);
        n++;
    }
    if (n == 0)
        hf_buf_append_str(out, "none");
    if (n > CONFIG_SECTION_NAMES_LISTED_MAX)
        hf_buf_append_str(out, ", ...");
}

/* teams: routing teams (routing is applied before calendars), or the expansion team,
 * whose clocks run in this calendar, into hf_rules_t.team_calendars.  A team is in one
 * calendar. */
static void parse_teams(cfgmap_ctx_t *ctx, const cfgmap_entry_t *e, const yaml_node_t *node,
                        const cfgmap_path_t *path, void *field)
{
    hf_calendar_t *cal = field; /* offset 0: the whole calendar */
    hf_rules_t *r = config_section_rules(ctx);
    if (cfgmap_is_null(node))
        return;
    bool list = node->type == YAML_SEQUENCE_NODE;
    if (!list && node->type != YAML_SCALAR_NODE) {
        cfgmap_error_got(ctx, node, path, "expected a team name or a list of them");
        return;
    }
    size_t count =
        list ? (size_t)(node->data.sequence.items.top - node->data.sequence.items.start) : 1;
    if (count == 0)
        return;
    hf_team_calendar_t *grown =
        realloc(r->calendars.teams, (r->calendars.team_count + count) * sizeof(*grown));
    if (!grown) {
        ctx->oom = true;
        return;
    }
    r->calendars.teams = grown;
    int index = (int)(cal - r->calendars.items);
    for (size_t i = 0; i < count && cfgmap_spend(ctx, CFGMAP_VISIT_COST + r->calendars.team_count +
                                                          r->routing.rule_count);
         i++) {
        const yaml_node_t *item = list ? cfgmap_item(ctx, node, i) : node;
        cfgmap_path_t item_path = {path, NULL, i};
        const cfgmap_path_t *where = list ? &item_path : path;
        const char *team = cfgmap_scalar(item);
        const char *why =
            team && !cfgmap_is_null(item) ? config_section_valid_name(team) : "expected a team";
        if (why || !*team) {
            cfgmap_error_got(ctx, item, where, "%s", why ? why : "expected a team");
            continue;
        }
        size_t seen = 0;
        while (seen < r->calendars.team_count && strcmp(r->calendars.teams[seen].team, team) != 0)
            seen++;
        if (seen < r->calendars.team_count) {
            int other = r->calendars.teams[seen].calendar;
            if (other == index)
                cfgmap_error(ctx, item, where, "duplicate team \"%s\"", team);
            else
                cfgmap_error(ctx, item, where,
                             "team \"%s\" is also in calendar \"%s\"; a team's clocks run in one "
                             "calendar",
                             team, r->calendars.items[other].name);
            continue;
        }
        if (!team_routed(r, team) && !config_expansion_team_is(ctx, team)) {
            hf_buf_t msg = HF_BUF_INIT;
            hf_buf_append_str(&msg, "no routing rule names team ");
            cfgmap_quote(&msg, team, 64);
            hf_buf_append_str(&msg, "; routing has ");
            team_names(ctx, r, &msg);
            cfgmap_error(ctx, item, where, "%s", msg.data ? (char *)msg.data : "");
            hf_buf_free(&msg);
            continue;
        }
        hf_team_calendar_t *tc = &r->calendars.teams[r->calendars.team_count];
        if (!(tc->team = cfgmap_strdup(ctx, team)))
            return;
        tc->calendar = index;
        r->calendars.team_count++;
    }
}

static void calendar_check(cfgmap_ctx_t *ctx, const yaml_node_t *map, const cfgmap_path_t *path,
                           void *base)
{
    hf_calendar_t *cal = base;
    if (!cal->tz.name && !(cal->tz.name = cfgmap_strdup(ctx, "UTC")))
        return; /* no timezone (or one that did not load): UTC, no transitions */
    if (cal->always && cal->holiday_count > 0)
        config_section_error_at_key(
            ctx, map, path, "holidays",
            "an \"always\" calendar is never closed: holidays do not apply to it");
}

static const cfgmap_entry_t calendar_entries[] = {
    {.key = "timezone",
     .type = CFGMAP_CUSTOM,
     .offset = CALENDAR(tz),
     .parse = parse_timezone,
     .doc_type = "IANA time zone name",
     .help = "The zone its hours and holidays are in (`America/New_York`), read from the "
             "system's tzdata (`$TZDIR`, else `/usr/share/zoneinfo`); UTC when absent."},
    {.key = "hours",
     .type = CFGMAP_CUSTOM,
     .flags = CFGMAP_REQUIRED,
     .parse = parse_hours,
     .doc_type = "map of weekdays to working hours, or `always`",
     .help = "Working hours per weekday in local time, e.g. `{ mon-fri: \"09:00-17:00\" }`; a "
             "day not listed is closed. Keys: `mon` ... `sun`, a range such as `mon-fri` or "
             "`sun-thu`, `daily`, `weekdays`, `weekend`; values: `\"HH:MM-HH:MM\"` (closing up "
             "to `24:00`), a list of up to 4 such spans in order, or `closed`. `always` is 24x7 "
             "(business time is wall time)."},
    {.key = "holidays",
     .type = CFGMAP_CUSTOM,
     .parse = parse_holidays,
     .doc_type = "date or list of dates `YYYY-MM-DD`",
     .help = "Local dates closed all day."},
    {.key = "teams",
     .type = CFGMAP_CUSTOM,
     .parse = parse_teams,
     .doc_type = "team name or list of them",
     .help = "Routing teams whose SLA clocks run in this calendar; each named by a routing "
             "rule, and in one calendar only."},
};

static const cfgmap_table_t calendar_table = CFGMAP_TABLE(calendar_entries, calendar_check, NULL);

/* After routing, whose teams a calendar names, and before sla, which names a
 * calendar. */
const cfgmap_entry_t config_calendars_section = {
    .key = "calendars",
    .type = CFGMAP_NAMED,
    .flags = CFGMAP_DEREF,
    .deref_offset = offsetof(hf_config_t, rules),
    .offset = offsetof(hf_rules_t, calendars.items),
    .count_offset = offsetof(hf_rules_t, calendars.count),
    .elem_size = sizeof(hf_calendar_t),
    .name_offset = offsetof(hf_calendar_t, name),
    .valid = config_section_valid_name,
    .table = &calendar_table,
    .doc_type = "map of calendar names to calendars",
    .help = "Business calendars the SLA clocks run in, by name, e.g. `us-east: { timezone: "
            "America/New_York, hours: { mon-fri: \"09:00-17:00\" }, teams: [na-enterprise] "
            "}`. None by default: every clock runs round the clock in UTC.",
};
