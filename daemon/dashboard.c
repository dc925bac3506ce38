/* The dashboard's counting, filter and rendering: see dashboard.h. */
#include "dashboard.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "journey_json.h"
#include "lookup.h"
#include "util/isotime.h"

/* ---- days --------------------------------------------------------------------------- */

void dashboard_day(char out[9], int64_t ms)
{
    int64_t days = ms / 86400000 - (ms % 86400000 < 0), y;
    int32_t m, d;
    hf_civil_from_days(days, &y, &m, &d);
    if (y < 0)
        y = 0;
    if (y > 9999)
        y = 9999;
    char buf[16];
    snprintf(buf, sizeof buf, "%04d%02d%02d", (int)y, (int)m, (int)d);
    memcpy(out, buf, 8);
    out[8] = 0;
}

/* YYYYMMDD as days since 1970-01-01 (proleptic Gregorian), for the retention. */
static int64_t day_number(int32_t ymd)
{
    return hf_days_from_civil(ymd / 10000, (ymd / 100) % 100, ymd % 100);
}

/* The YYYYMMDD at the start of @name ("20261207|..."), or 0. */
static int32_t name_day(const char *name)
{
    int32_t v = 0;
    for (int i = 0; i < 8; i++) {
        if (name[i] < '0' || name[i] > '9')
            return 0;
        v = v * 10 + (name[i] - '0');
    }
    return name[8] == '|' ? v : 0;
}

/* @s with '|' replaced and cut to @max bytes, into @out (room for max + 1). */
static void key_part(char *out, size_t max, const char *s)
{
    size_t n = s ? strnlen(s, max) : 0;
    memcpy(out, s ? s : "", n);
    out[n] = 0;
    for (char *p = out; *p; p++)
        if (*p == '|')
            *p = '/';
}

/* Bytes of an outcome counter's name kept: "dash." (5), the day and '|' (9), the
 * team and '|' (41) and this make the metrics store's 250. */
#define OUTCOME_NAME_MAX 195
/* Bytes of a detail (a rejection reason) kept when the name is too long. */
#define DETAIL_KEEP 48

/* @name ("<dim>|<value>|<metric>[|<detail>]") into @out, cut to fit: the detail
 * first, then the value, never the metric (a histogram's bucket is a detail, but
 * a short one).  False when @name is not an outcome counter's. */
static bool outcome_key(char out[OUTCOME_NAME_MAX + 1], const char *name)
{
    size_t len = strlen(name);
    if (len <= OUTCOME_NAME_MAX) {
        memcpy(out, name, len + 1);
        return true;
    }
    const char *p1 = strchr(name, '|'), *p2 = p1 ? strchr(p1 + 1, '|') : NULL;
    if (!p2)
        return false;
    const char *p3 = strchr(p2 + 1, '|');
    size_t head = (size_t)(p1 - name) + 1, value = (size_t)(p2 - p1 - 1);
    size_t tail = strlen(p2);
    if (p3 && tail > (size_t)(p3 - p2) + 1 + DETAIL_KEEP)
        tail = (size_t)(p3 - p2) + 1 + DETAIL_KEEP;
    if (head + tail + 1 > OUTCOME_NAME_MAX)
        return false; /* a dimension or metric name this long is none of ours */
    if (head + value + tail > OUTCOME_NAME_MAX)
        value = OUTCOME_NAME_MAX - head - tail;
    memcpy(out, name, head);
    memcpy(out + head, p1 + 1, value);
    memcpy(out + head + value, p2, tail);
    out[head + value + tail] = 0;
    return true;
}

int dashboard_count_outcome(metrics_t *m, int64_t at_ms, const char *team, const char *outcome_name)
{
    char day[9], t[41], outcome[OUTCOME_NAME_MAX + 1], name[256];
    if (!outcome_key(outcome, outcome_name))
        return 0;
    dashboard_day(day, at_ms);
    key_part(t, 40, team ? team : "(no team)");
    snprintf(name, sizeof name, "%s|%s|%s", day, t, outcome);
    return metrics_add_named(m, DASHBOARD_GROUP, name, 1);
}

int dashboard_count_stage(metrics_t *m, int64_t at_ms, const char *entity_type, const char *stage)
{
    char day[9], name[96];
    dashboard_day(day, at_ms);
    snprintf(name, sizeof name, "%s|%.16s|%.32s", day, entity_type, stage);
    return metrics_add_named(m, DASHBOARD_GROUP_STAGE, name, 1);
}

static bool ends_with(const char *s, const char *tail)
{
    size_t n = strlen(s), t = strlen(tail);
    return n >= t && memcmp(s + n - t, tail, t) == 0;
}

/* The newest day of a handoff made (dash) or a contact becoming known or engaged
 * (dash_stage): days of event time.  An SLA clock falling due counts on the wall
 * clock's day, which in a replay of old events lies far ahead of them: it must not
 * push their days out of the window. */
static int newest_day(void *opaque, const char *name, uint64_t value)
{
    (void)value;
    int32_t *newest = opaque, d = name_day(name);
    bool event_time = ends_with(name, "|all|*|handoff") || ends_with(name, "|contact|known") ||
                      ends_with(name, "|contact|engaged");
    if (event_time && d > *newest)
        *newest = d;
    return 0;
}

static bool too_old(void *opaque, const char *name)
{
    int64_t oldest = *(const int64_t *)opaque;
    int32_t d = name_day(name);
    return d != 0 && day_number(d) < oldest;
}

size_t dashboard_prune(metrics_t *m, store_batch_t *b)
{
    int32_t newest = 0;
    metrics_each_named(m, DASHBOARD_GROUP, newest_day, &newest);
    metrics_each_named(m, DASHBOARD_GROUP_STAGE, newest_day, &newest);
    if (!newest)
        return 0;
    int64_t oldest = day_number(newest) - (DASHBOARD_DAYS - 1);
    return metrics_drop_named(m, DASHBOARD_GROUP, too_old, &oldest, b) +
           metrics_drop_named(m, DASHBOARD_GROUP_STAGE, too_old, &oldest, b);
}

/* ---- the answer --------------------------------------------------------------------- */

/* Stages entered, per entity type. */
typedef struct stage_count {
    char entity_type[17], stage[33];
    uint64_t n;
} stage_count_t;

/* A case, its strings owned. */
typedef struct held_case {
    dashboard_case_t c;
    int64_t next_ms; /* the earliest unanswered deadline: the list's order */
} held_case_t;

struct dashboard {
    dashboard_filter_t filter;
    char team_key[41]; /* the filter's team as the counters keep it (key_part()) */
    outcomes_t *outcomes;
    stage_count_t *stages;
    size_t stage_count;
    int32_t first_day, last_day; /* of the counters seen, whatever the filter */
    held_case_t cases[DASHBOARD_CASES_MAX];
    size_t case_count;
    size_t cases_seen; /* also those beyond the list */
    char *self;
    char **peers;
    size_t peer_count;
};

dashboard_t *dashboard_new(const dashboard_filter_t *f)
{
    dashboard_t *d = calloc(1, sizeof *d);
    if (!d || !(d->outcomes = outcomes_new())) {
        free(d);
        return NULL;
    }
    d->filter = *f;
    key_part(d->team_key, 40, f->team);
    return d;
}

static void case_release(dashboard_case_t *c)
{
    free((char *)c->id);
    free((char *)c->handoff_id);
    free((char *)c->rule);
    free((char *)c->team);
    free((char *)c->owner);
    free((char *)c->account);
    free((char *)c->reason);
    for (size_t i = 0; i < c->interest_count; i++)
        free((char *)c->interests[i]);
    *c = (dashboard_case_t){0};
}

void dashboard_free(dashboard_t *d)
{
    if (!d)
        return;
    outcomes_free(d->outcomes);
    free(d->stages);
    for (size_t i = 0; i < d->case_count; i++)
        case_release(&d->cases[i].c);
    free(d->self);
    for (size_t i = 0; i < d->peer_count; i++)
        free(d->peers[i]);
    free(d->peers);
    free(d);
}

static bool day_in_range(const dashboard_t *d, int32_t day)
{
    return (!d->filter.from_day || day >= d->filter.from_day) &&
           (!d->filter.to_day || day <= d->filter.to_day);
}

static int add_stage(dashboard_t *d, const char *rest, uint64_t n)
{
    const char *bar = strchr(rest, '|');
    if (!bar || bar - rest > 16 || strlen(bar + 1) > 32)
        return 0;
    for (size_t i = 0; i < d->stage_count; i++) {
        stage_count_t *s = &d->stages[i];
        if (strlen(s->entity_type) == (size_t)(bar - rest) &&
            memcmp(s->entity_type, rest, (size_t)(bar - rest)) == 0 &&
            strcmp(s->stage, bar + 1) == 0) {
            s->n += n;
            return 0;
        }
    }
    stage_count_t *g = realloc(d->stages, (d->stage_count + 1) * sizeof *g);
    if (!g)
        return -ENOMEM;
    d->stages = g;
    stage_count_t *s = &d->stages[d->stage_count++];
    memset(s, 0, sizeof *s);
    memcpy(s->entity_type, rest, (size_t)(bar - rest));
    snprintf(s->stage, sizeof s->stage, "%s", bar + 1);
    s->n = n;
    return 0;
}

int dashboard_add_counter(dashboard_t *d, const char *key, uint64_t n)
{
    static const char out_prefix[] = DASHBOARD_GROUP ".";
    static const char stage_prefix[] = DASHBOARD_GROUP_STAGE ".";
    bool stage = strncmp(key, stage_prefix, sizeof stage_prefix - 1) == 0;
    if (!stage && strncmp(key, out_prefix, sizeof out_prefix - 1) != 0)
        return 0;
    const char *name = key + (stage ? sizeof stage_prefix - 1 : sizeof out_prefix - 1);
    int32_t day = name_day(name);
    if (!day)
        return 0;
    if (!d->first_day || day < d->first_day)
        d->first_day = day;
    if (day > d->last_day)
        d->last_day = day;
    if (!day_in_range(d, day))
        return 0;
    const char *rest = name + 9;
    if (stage)
        return add_stage(d, rest, n);
    const char *bar = strchr(rest, '|');
    if (!bar)
        return 0;
    size_t tlen = (size_t)(bar - rest);
    if (d->filter.team[0] && (strlen(d->team_key) != tlen || memcmp(d->team_key, rest, tlen) != 0))
        return 0;
    return outcomes_add(d->outcomes, bar + 1, n);
}

static uint64_t stage_entered(const dashboard_t *d, const char *entity_type, const char *stage)
{
    uint64_t n = 0;
    for (size_t i = 0; i < d->stage_count; i++)
        if (strcmp(d->stages[i].entity_type, entity_type) == 0 &&
            strcmp(d->stages[i].stage, stage) == 0)
            n += d->stages[i].n;
    return n;
}

/* The earliest deadline of @c still unanswered (a breached one too), or 0 when
 * every clock was answered. */
static int64_t case_next_ms(const dashboard_case_t *c)
{
    int64_t next = 0;
    for (size_t k = 0; k < c->clock_count; k++) {
        const dashboard_clock_t *cl = &c->clocks[k];
        if (strcmp(cl->state, "met") == 0)
            continue;
        int64_t at = cl->next_due_ms ? cl->next_due_ms : cl->due_ms;
        if (!next || at < next)
            next = at;
    }
    return next;
}

static char *dup_or_null(const char *s, bool *failed)
{
    if (!s)
        return NULL;
    char *c = strdup(s);
    if (!c)
        *failed = true;
    return c;
}

int dashboard_add_case(dashboard_t *d, const dashboard_case_t *c)
{
    if (d->filter.team[0]) {
        /* matched as the counters key it, "(no team)" included */
        char t[41];
        key_part(t, 40, c->team ? c->team : "(no team)");
        if (strcmp(t, d->team_key) != 0)
            return 0;
    }
    int64_t next = case_next_ms(c);
    if (!next)
        return 0;
    d->cases_seen++;
    size_t slot = d->case_count;
    if (slot == DASHBOARD_CASES_MAX) {
        /* full: the new one replaces the latest due, if it is due earlier */
        size_t latest = 0;
        for (size_t i = 1; i < d->case_count; i++)
            if (d->cases[i].next_ms > d->cases[latest].next_ms)
                latest = i;
        if (d->cases[latest].next_ms <= next)
            return 0;
        case_release(&d->cases[latest].c);
        slot = latest;
    }
    held_case_t *h = &d->cases[slot];
    bool failed = false;
    h->c = *c;
    h->next_ms = next;
    h->c.id = dup_or_null(c->id, &failed);
    h->c.handoff_id = dup_or_null(c->handoff_id, &failed);
    h->c.rule = dup_or_null(c->rule, &failed);
    h->c.team = dup_or_null(c->team, &failed);
    h->c.owner = dup_or_null(c->owner, &failed);
    h->c.account = dup_or_null(c->account, &failed);
    h->c.reason = dup_or_null(c->reason, &failed);
    if (h->c.interest_count > DASHBOARD_INTERESTS_MAX)
        h->c.interest_count = DASHBOARD_INTERESTS_MAX;
    for (size_t i = 0; i < h->c.interest_count; i++)
        h->c.interests[i] = dup_or_null(c->interests[i], &failed);
    if (h->c.clock_count > DASHBOARD_CLOCKS_MAX)
        h->c.clock_count = DASHBOARD_CLOCKS_MAX;
    if (slot == d->case_count)
        d->case_count++;
    return failed ? -ENOMEM : 0;
}

int dashboard_set_instance(dashboard_t *d, const char *self)
{
    free(d->self);
    d->self = self ? strdup(self) : NULL;
    return self && !d->self ? -ENOMEM : 0;
}

int dashboard_add_peer(dashboard_t *d, const char *addr)
{
    char **g = realloc(d->peers, (d->peer_count + 1) * sizeof *g);
    if (!g)
        return -ENOMEM;
    d->peers = g;
    if (!(g[d->peer_count] = strdup(addr)))
        return -ENOMEM;
    d->peer_count++;
    return 0;
}

/* ---- what both renderings show ------------------------------------------------------- */

/* The funnel's stages: where each is counted.  @outcome: the column of the outcomes'
 * funnel (a handoff is a conversation made ready), else the contacts entering
 * @stage (counted for every team together: a team is known from the handoff on). */
typedef struct funnel_stage {
    const char *stage, *label;
    int outcome; /* index in outcomes_funnel_name(), or -1 */
} funnel_stage_t;

static const funnel_stage_t FUNNEL[] = {
    {"known", "known", -1},
    {"engaged", "engaged", -1},
    {"conversation_ready", "conversation ready", 0},
    {"accepted", "accepted", 1},
    {"qualified", "qualified", 4},
    {"opportunity", "opportunity", 5},
    {"customer", "customer", 6},
};
#define FUNNEL_STAGES (sizeof FUNNEL / sizeof FUNNEL[0])

/* The exits of the funnel, columns of the outcomes' funnel. */
static const struct {
    const char *key;
    int outcome;
} EXITS[] = {{"rejected", 2}, {"recycled", 3}, {"disqualified", 8}, {"lost", 7}};
#define EXITS_N (sizeof EXITS / sizeof EXITS[0])

static int take_all(void *opaque, const outcomes_row_t *row)
{
    memcpy(opaque, row->funnel, OUTCOMES_FUNNEL_N * sizeof(uint64_t));
    return 1;
}

/* The funnel's counts (-1: not counted under the filter) and exits. */
static void funnel_counts(const dashboard_t *d, int64_t counts[FUNNEL_STAGES],
                          uint64_t exits[EXITS_N])
{
    uint64_t all[OUTCOMES_FUNNEL_N] = {0};
    outcomes_each(d->outcomes, "all", take_all, all);
    for (size_t i = 0; i < FUNNEL_STAGES; i++)
        counts[i] = FUNNEL[i].outcome >= 0 ? (int64_t)all[FUNNEL[i].outcome]
                    : d->filter.team[0]    ? -1
                                           : (int64_t)stage_entered(d, "contact", FUNNEL[i].stage);
    for (size_t i = 0; i < EXITS_N; i++)
        exits[i] = all[EXITS[i].outcome];
}

static void day_text(char out[11], int32_t day)
{
    unsigned u = (unsigned)day % 100000000u;
    char buf[40];
    snprintf(buf, sizeof buf, "%04u-%02u-%02u", u / 10000, (u / 100) % 100, u % 100);
    memcpy(out, buf, 10);
    out[10] = 0;
}

/* Recent breaches: (case, clock) pairs in state breached, the latest due first. */
typedef struct breach_ref {
    const dashboard_case_t *c;
    const dashboard_clock_t *clock;
} breach_ref_t;

static int breach_newest_first(const void *a, const void *b)
{
    int64_t x = ((const breach_ref_t *)a)->clock->due_ms,
            y = ((const breach_ref_t *)b)->clock->due_ms;
    return x < y ? 1 : x > y ? -1 : 0;
}

static size_t recent_breaches(const dashboard_t *d, breach_ref_t out[DASHBOARD_BREACHES_MAX])
{
    breach_ref_t all[DASHBOARD_CASES_MAX * DASHBOARD_CLOCKS_MAX];
    size_t n = 0;
    for (size_t i = 0; i < d->case_count; i++)
        for (size_t k = 0; k < d->cases[i].c.clock_count; k++)
            if (strcmp(d->cases[i].c.clocks[k].state, "breached") == 0)
                all[n++] = (breach_ref_t){&d->cases[i].c, &d->cases[i].c.clocks[k]};
    qsort(all, n, sizeof all[0], breach_newest_first);
    if (n > DASHBOARD_BREACHES_MAX)
        n = DASHBOARD_BREACHES_MAX;
    memcpy(out, all, n * sizeof all[0]);
    return n;
}

static int case_earliest_first(const void *a, const void *b)
{
    int64_t x = (*(const held_case_t *const *)a)->next_ms;
    int64_t y = (*(const held_case_t *const *)b)->next_ms;
    return x < y ? -1 : x > y ? 1 : 0;
}

static size_t sorted_cases(const dashboard_t *d, const held_case_t *out[DASHBOARD_CASES_MAX])
{
    for (size_t i = 0; i < d->case_count; i++)
        out[i] = &d->cases[i];
    qsort(out, d->case_count, sizeof out[0], case_earliest_first);
    return d->case_count;
}

/* ---- JSON ------------------------------------------------------------------------------ */

static void json_day(journey_json_writer_t *w, const char *key, int32_t day)
{
    char t[11];
    if (!day) {
        journey_json_null(w, key);
        return;
    }
    day_text(t, day);
    journey_json_str(w, key, t);
}

static void json_case(journey_json_writer_t *w, const dashboard_case_t *c, int64_t now_ms)
{
    journey_json_object(w, NULL);
    journey_json_str(w, "entity_type", c->entity_type);
    journey_json_str(w, "id", c->id);
    journey_json_str(w, "handoff_id", c->handoff_id);
    journey_json_str(w, "rule", c->rule);
    journey_json_str(w, "team", c->team);
    journey_json_str(w, "owner", c->owner);
    journey_json_str(w, "account", c->account);
    journey_json_str(w, "reason", c->reason);
    journey_json_array(w, "interests");
    for (size_t i = 0; i < c->interest_count; i++)
        journey_json_str(w, NULL, c->interests[i]);
    journey_json_end(w);
    journey_json_int(w, "score", c->score);
    journey_json_time(w, "opened_at", c->opened_ms);
    journey_json_bool(w, "accepted", c->accepted);
    journey_json_array(w, "clocks");
    for (size_t k = 0; k < c->clock_count; k++) {
        const dashboard_clock_t *cl = &c->clocks[k];
        journey_json_object(w, NULL);
        journey_json_str(w, "sla", cl->sla);
        journey_json_str(w, "state", cl->state);
        journey_json_time(w, "due_at", cl->due_ms);
        if (strcmp(cl->state, "met") == 0)
            journey_json_null(w, "seconds_left");
        else
            journey_json_num(w, "seconds_left", (double)(cl->due_ms - now_ms) / 1000.0);
        journey_json_int(w, "level", cl->level);
        journey_json_time(w, "next_due_at", cl->next_due_ms);
        journey_json_end(w);
    }
    journey_json_end(w);
    journey_json_end(w);
}

int dashboard_json(const dashboard_t *d, hf_buf_t *out, int64_t now_ms, int64_t as_of_ms)
{
    journey_json_writer_t w;
    journey_json_init(&w, out);
    journey_json_object(&w, NULL);
    journey_json_int(&w, "version", JOURNEY_JSON_VERSION);
    journey_json_object(&w, "filter");
    journey_json_str(&w, "team", d->filter.team[0] ? d->filter.team : NULL);
    json_day(&w, "from", d->filter.from_day);
    json_day(&w, "to", d->filter.to_day);
    journey_json_end(&w);
    journey_json_object(&w, "days");
    json_day(&w, "first", d->first_day);
    json_day(&w, "last", d->last_day);
    journey_json_int(&w, "kept", DASHBOARD_DAYS);
    journey_json_end(&w);
    journey_json_str(&w, "instance", d->self);
    journey_json_array(&w, "peers");
    for (size_t i = 0; i < d->peer_count; i++)
        journey_json_str(&w, NULL, d->peers[i]);
    journey_json_end(&w);

    int64_t counts[FUNNEL_STAGES];
    uint64_t exits[EXITS_N];
    funnel_counts(d, counts, exits);
    journey_json_array(&w, "funnel");
    for (size_t i = 0; i < FUNNEL_STAGES; i++) {
        journey_json_object(&w, NULL);
        journey_json_str(&w, "stage", FUNNEL[i].stage);
        if (counts[i] < 0)
            journey_json_null(&w, "count");
        else
            journey_json_int(&w, "count", counts[i]);
        if (i > 0 && counts[i] >= 0 && counts[i - 1] > 0)
            journey_json_num(&w, "conversion", (double)counts[i] / (double)counts[i - 1]);
        else
            journey_json_null(&w, "conversion");
        journey_json_end(&w);
    }
    journey_json_end(&w);
    journey_json_object(&w, "exits");
    for (size_t i = 0; i < EXITS_N; i++)
        journey_json_uint(&w, EXITS[i].key, exits[i]);
    journey_json_end(&w);

    journey_json_object(&w, "outcomes");
    lookup_outcomes_members((struct journey_json_writer *)&w, d->outcomes, true);
    journey_json_end(&w);

    const held_case_t *cases[DASHBOARD_CASES_MAX];
    size_t n = sorted_cases(d, cases);
    journey_json_uint(&w, "waiting_total", d->cases_seen);
    journey_json_array(&w, "waiting");
    for (size_t i = 0; i < n; i++)
        json_case(&w, &cases[i]->c, now_ms);
    journey_json_end(&w);

    breach_ref_t br[DASHBOARD_BREACHES_MAX];
    size_t nb = recent_breaches(d, br);
    journey_json_array(&w, "breaches");
    for (size_t i = 0; i < nb; i++) {
        journey_json_object(&w, NULL);
        journey_json_str(&w, "entity_type", br[i].c->entity_type);
        journey_json_str(&w, "id", br[i].c->id);
        journey_json_str(&w, "handoff_id", br[i].c->handoff_id);
        journey_json_str(&w, "rule", br[i].c->rule);
        journey_json_str(&w, "team", br[i].c->team);
        journey_json_str(&w, "owner", br[i].c->owner);
        journey_json_str(&w, "sla", br[i].clock->sla);
        journey_json_int(&w, "level", br[i].clock->level);
        journey_json_time(&w, "due_at", br[i].clock->due_ms);
        journey_json_end(&w);
    }
    journey_json_end(&w);
    journey_json_time(&w, "now", now_ms);
    journey_json_time(&w, "as_of", as_of_ms);
    journey_json_end(&w);
    return journey_json_finish(&w);
}

/* ---- HTML ------------------------------------------------------------------------------ */

int dashboard_html_escape(hf_buf_t *out, const char *s)
{
    int r = 0;
    for (const char *p = s ? s : ""; *p && r == 0; p++) {
        switch (*p) {
        case '&':
            r = hf_buf_append_str(out, "&amp;");
            break;
        case '<':
            r = hf_buf_append_str(out, "&lt;");
            break;
        case '>':
            r = hf_buf_append_str(out, "&gt;");
            break;
        case '"':
            r = hf_buf_append_str(out, "&quot;");
            break;
        case '\'':
            r = hf_buf_append_str(out, "&#39;");
            break;
        default:
            r = hf_buf_append(out, p, 1);
        }
    }
    return r;
}

/* The renderer: the first failure sticks. */
typedef struct html {
    hf_buf_t *out;
    int err;
} html_t;

static void raw(html_t *h, const char *s)
{
    if (!h->err)
        h->err = hf_buf_append_str(h->out, s);
}

static void text(html_t *h, const char *s)
{
    if (!h->err)
        h->err = dashboard_html_escape(h->out, s);
}

static void __attribute__((format(printf, 2, 3))) rawf(html_t *h, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    raw(h, buf);
}

/* A number cell the page's script and the tests find by @key. */
static void num_cell(html_t *h, const char *key, uint64_t n)
{
    raw(h, "<td class=\"n\" data-key=\"");
    text(h, key);
    rawf(h, "\">%" PRIu64 "</td>", n);
}

static void pct_cell(html_t *h, uint64_t part, uint64_t whole)
{
    if (!whole)
        raw(h, "<td class=\"n\">&ndash;</td>");
    else
        rawf(h, "<td class=\"n\">%.1f%%</td>", 100.0 * (double)part / (double)whole);
}

static void duration_text(char *buf, size_t n, int64_t ms)
{
    int64_t s = (ms < 0 ? -ms : ms) / 1000;
    const char *sign = ms < 0 ? "-" : "";
    if (s < 60)
        snprintf(buf, n, "%s%" PRId64 "s", sign, s);
    else if (s < 3600)
        snprintf(buf, n, "%s%" PRId64 "m %02" PRId64 "s", sign, s / 60, s % 60);
    else if (s < 86400)
        snprintf(buf, n, "%s%" PRId64 "h %02" PRId64 "m", sign, s / 3600, (s % 3600) / 60);
    else
        snprintf(buf, n, "%s%" PRId64 "d %02" PRId64 "h", sign, s / 86400, (s % 86400) / 3600);
}

static void median_cell(html_t *h, int64_t ms)
{
    char t[48];
    if (ms < 0) {
        raw(h, "<td class=\"n\">&ndash;</td>");
        return;
    }
    duration_text(t, sizeof t, ms);
    rawf(h, "<td class=\"n\">%s</td>", t);
}

static void html_funnel(html_t *h, const dashboard_t *d)
{
    int64_t counts[FUNNEL_STAGES];
    uint64_t exits[EXITS_N];
    funnel_counts(d, counts, exits);
    int64_t top = 1;
    for (size_t i = 0; i < FUNNEL_STAGES; i++)
        if (counts[i] > top)
            top = counts[i];
    raw(h, "<section id=\"funnel\"><h2>Funnel</h2>");
    rawf(h, "<svg class=\"chart\" viewBox=\"0 0 600 %zu\" role=\"img\" aria-label=\"funnel\">",
         FUNNEL_STAGES * 26);
    for (size_t i = 0; i < FUNNEL_STAGES; i++) {
        int64_t c = counts[i] < 0 ? 0 : counts[i];
        double wdt = 420.0 * (double)c / (double)top;
        rawf(h,
             "<text x=\"0\" y=\"%zu\" class=\"lbl\">%s</text><rect x=\"150\" y=\"%zu\" "
             "width=\"%.1f\" height=\"18\" class=\"bar\"/><text x=\"%.1f\" y=\"%zu\" "
             "class=\"val\">",
             i * 26 + 14, FUNNEL[i].label, i * 26 + 1, wdt, 156.0 + wdt, i * 26 + 14);
        if (counts[i] < 0)
            raw(h, "&ndash;</text>");
        else
            rawf(h, "%" PRId64 "</text>", c);
    }
    raw(h, "</svg><table><thead><tr><th>stage</th><th>count</th><th>from the stage "
           "before</th></tr></thead><tbody>");
    for (size_t i = 0; i < FUNNEL_STAGES; i++) {
        rawf(h, "<tr><td>%s</td>", FUNNEL[i].label);
        if (counts[i] < 0) {
            raw(h, "<td class=\"n\" title=\"counted for every team together\">&ndash;</td>");
        } else {
            char key[48];
            snprintf(key, sizeof key, "funnel.%s", FUNNEL[i].stage);
            num_cell(h, key, (uint64_t)counts[i]);
        }
        if (i > 0 && counts[i] >= 0 && counts[i - 1] > 0)
            pct_cell(h, (uint64_t)counts[i], (uint64_t)counts[i - 1]);
        else
            raw(h, "<td class=\"n\">&ndash;</td>");
        raw(h, "</tr>");
    }
    raw(h, "</tbody></table><table class=\"exits\"><thead><tr><th>exit</th><th>count</th></tr>"
           "</thead><tbody>");
    for (size_t i = 0; i < EXITS_N; i++) {
        char key[48];
        snprintf(key, sizeof key, "exits.%s", EXITS[i].key);
        rawf(h, "<tr><td>%s</td>", EXITS[i].key);
        num_cell(h, key, exits[i]);
        raw(h, "</tr>");
    }
    raw(h, "</tbody></table></section>");
}

static void html_clock(html_t *h, const dashboard_clock_t *cl, int64_t now_ms)
{
    char left[48];
    rawf(h, "<span class=\"clock %s\">%s: ", cl->state, cl->sla);
    if (strcmp(cl->state, "met") == 0) {
        raw(h, "met");
    } else {
        duration_text(left, sizeof left, cl->due_ms - now_ms);
        raw(h, cl->due_ms >= now_ms ? left : "breached ");
        if (cl->due_ms < now_ms) {
            duration_text(left, sizeof left, now_ms - cl->due_ms);
            raw(h, left);
            raw(h, " ago");
        }
    }
    raw(h, "</span> ");
}

static void html_waiting(html_t *h, const dashboard_t *d, int64_t now_ms)
{
    const held_case_t *cases[DASHBOARD_CASES_MAX];
    size_t n = sorted_cases(d, cases);
    rawf(h,
         "<section id=\"waiting\"><h2>Waiting for sales <small data-key=\"waiting_total\">%zu"
         "</small></h2>",
         d->cases_seen);
    if (!n) {
        raw(h, "<p class=\"empty\">No handoff is waiting.</p></section>");
        return;
    }
    raw(h, "<table><thead><tr><th>who</th><th>rule</th><th>why</th><th>interests</th>"
           "<th>team / owner</th><th>time left</th></tr></thead><tbody>");
    for (size_t i = 0; i < n; i++) {
        const dashboard_case_t *c = &cases[i]->c;
        raw(h, "<tr><td>");
        text(h, c->id);
        if (c->account) {
            raw(h, "<br><small>");
            text(h, c->account);
            raw(h, "</small>");
        }
        raw(h, "</td><td>");
        text(h, c->rule);
        raw(h, "</td><td>");
        text(h, c->reason);
        raw(h, "</td><td>");
        for (size_t k = 0; k < c->interest_count; k++) {
            if (k)
                raw(h, ", ");
            text(h, c->interests[k]);
        }
        raw(h, "</td><td>");
        text(h, c->team ? c->team : "(no team)");
        raw(h, " / ");
        text(h, c->owner ? c->owner : "(unassigned)");
        raw(h, "</td><td>");
        for (size_t k = 0; k < c->clock_count; k++)
            html_clock(h, &c->clocks[k], now_ms);
        raw(h, "</td></tr>");
    }
    raw(h, "</tbody></table></section>");
}

/* A leaderboard row: the SLA row and its compliance (met of met and breached). */
typedef struct board_row {
    const char *name;
    uint64_t met[OUTCOMES_SLA_N], breached[OUTCOMES_SLA_N];
    int64_t median_accept_ms, median_touch_ms;
} board_row_t;

typedef struct board {
    board_row_t *rows;
    size_t n;
    char **names;
    int err;
} board_t;

static int take_board_row(void *opaque, const outcomes_row_t *row)
{
    board_t *b = opaque;
    board_row_t *g = realloc(b->rows, (b->n + 1) * sizeof *g);
    char **names = realloc(b->names, (b->n + 1) * sizeof *names);
    if (g)
        b->rows = g;
    if (names)
        b->names = names;
    char *name = g && names ? strdup(row->value) : NULL;
    if (!name) {
        b->err = -ENOMEM;
        return 1;
    }
    board_row_t *r = &b->rows[b->n];
    b->names[b->n++] = name;
    r->name = name;
    memcpy(r->met, row->met, sizeof r->met);
    memcpy(r->breached, row->breached, sizeof r->breached);
    r->median_accept_ms = row->median_accept_ms;
    r->median_touch_ms = row->median_first_touch_ms;
    return 0;
}

static double compliance(const board_row_t *r)
{
    uint64_t met = 0, all = 0;
    for (int k = 0; k < OUTCOMES_SLA_N; k++) {
        met += r->met[k];
        all += r->met[k] + r->breached[k];
    }
    return all ? (double)met / (double)all : -1;
}

static int best_first(const void *a, const void *b)
{
    double x = compliance(a), y = compliance(b);
    if (x != y)
        return x < y ? 1 : -1;
    return strcmp(((const board_row_t *)a)->name, ((const board_row_t *)b)->name);
}

static void html_board(html_t *h, const dashboard_t *d, const char *dim, const char *title)
{
    board_t b = {0};
    outcomes_each(d->outcomes, dim, take_board_row, &b);
    if (b.err)
        h->err = b.err;
    if (b.n)
        qsort(b.rows, b.n, sizeof b.rows[0], best_first);
    rawf(h, "<section id=\"sla-%s\"><h2>%s</h2>", dim, title);
    if (!b.n) {
        raw(h, "<p class=\"empty\">No SLA clock finished yet.</p>");
    } else {
        rawf(h,
             "<table><thead><tr><th>%s</th><th>accept met</th><th>accept breached</th>"
             "<th>first touch met</th><th>first touch breached</th><th>compliance</th>"
             "<th>median to accept</th><th>median to first touch</th></tr></thead><tbody>",
             dim);
        for (size_t i = 0; i < b.n; i++) {
            board_row_t *r = &b.rows[i];
            char key[160];
            raw(h, "<tr><td>");
            text(h, r->name);
            raw(h, "</td>");
            const char *cols[4] = {"accept.met", "accept.breached", "first_touch.met",
                                   "first_touch.breached"};
            uint64_t vals[4] = {r->met[0], r->breached[0], r->met[1], r->breached[1]};
            for (int k = 0; k < 4; k++) {
                snprintf(key, sizeof key, "sla_by_%s.%.96s.%s", dim, r->name, cols[k]);
                num_cell(h, key, vals[k]);
            }
            double c = compliance(r);
            if (c < 0)
                raw(h, "<td class=\"n\">&ndash;</td>");
            else
                rawf(h, "<td class=\"n\">%.1f%%</td>", 100.0 * c);
            median_cell(h, r->median_accept_ms);
            median_cell(h, r->median_touch_ms);
            raw(h, "</tr>");
        }
        raw(h, "</tbody></table>");
    }
    raw(h, "</section>");
    for (size_t i = 0; i < b.n; i++)
        free(b.names[i]);
    free(b.names);
    free(b.rows);
}

typedef struct outcome_table {
    html_t *h;
    const char *list;
} outcome_table_t;

static int html_outcome_row(void *opaque, const outcomes_row_t *row)
{
    outcome_table_t *t = opaque;
    html_t *h = t->h;
    char key[200];
    raw(h, "<tr><td>");
    text(h, row->value);
    raw(h, "</td>");
    static const int cols[] = {0, 1, 2, 6};
    static const char *const names[] = {"handoffs", "accepted", "rejected", "won"};
    for (int k = 0; k < 4; k++) {
        snprintf(key, sizeof key, "%s.%.96s.%s", t->list, row->value, names[k]);
        num_cell(h, key, row->funnel[cols[k]]);
        if (k == 1)
            pct_cell(h, row->funnel[1], row->funnel[0]);
    }
    pct_cell(h, row->funnel[6], row->funnel[0]);
    raw(h, "<td>");
    for (size_t k = 0; k < row->reason_count; k++) {
        if (k)
            raw(h, ", ");
        text(h, row->reasons[k]);
        rawf(h, " %" PRIu64, row->reason_counts[k]);
    }
    raw(h, "</td></tr>");
    return 0;
}

static void html_outcomes(html_t *h, const dashboard_t *d)
{
    static const struct {
        const char *dim, *list, *title;
    } lists[] = {
        {"rule", "by_rule", "by rule"},
        {"source", "by_source", "by source"},
        {"first_campaign", "by_first_campaign", "by first-touch campaign"},
        {"last_campaign", "by_last_campaign", "by last-touch campaign"},
    };
    raw(h, "<section id=\"outcomes\"><h2>Outcomes</h2>");
    for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++) {
        rawf(h,
             "<h3>%s</h3><table id=\"%s\"><thead><tr><th>%s</th><th>handoffs</th>"
             "<th>accepted</th><th>acceptance</th><th>rejected</th><th>won</th>"
             "<th>win rate</th><th>rejected because</th></tr></thead><tbody>",
             lists[i].title, lists[i].list, lists[i].dim);
        outcome_table_t t = {h, lists[i].list};
        outcomes_each(d->outcomes, lists[i].dim, html_outcome_row, &t);
        raw(h, "</tbody></table>");
    }
    raw(h, "</section>");
}

static void html_breaches(html_t *h, const dashboard_t *d)
{
    breach_ref_t br[DASHBOARD_BREACHES_MAX];
    size_t n = recent_breaches(d, br);
    raw(h, "<section id=\"breaches\"><h2>Recent breaches</h2>");
    if (!n) {
        raw(h, "<p class=\"empty\">No open case is in breach.</p></section>");
        return;
    }
    raw(h, "<table><thead><tr><th>due</th><th>who</th><th>clock</th><th>level</th>"
           "<th>team / owner</th><th>rule</th></tr></thead><tbody>");
    for (size_t i = 0; i < n; i++) {
        char at[32];
        journey_json_iso8601(at, br[i].clock->due_ms);
        rawf(h, "<tr><td>%s</td><td>", at);
        text(h, br[i].c->id);
        rawf(h, "</td><td>%s</td><td class=\"n\">%d</td><td>", br[i].clock->sla,
             (int)br[i].clock->level);
        text(h, br[i].c->team ? br[i].c->team : "(no team)");
        raw(h, " / ");
        text(h, br[i].c->owner ? br[i].c->owner : "(unassigned)");
        raw(h, "</td><td>");
        text(h, br[i].c->rule);
        raw(h, "</td></tr>");
    }
    raw(h, "</tbody></table></section>");
}

static void html_filter(html_t *h, const dashboard_t *d)
{
    char from[11] = "", to[11] = "";
    if (d && d->filter.from_day)
        day_text(from, d->filter.from_day);
    if (d && d->filter.to_day)
        day_text(to, d->filter.to_day);
    raw(h, "<form id=\"filter\" method=\"get\" action=\"/\"><label>team <input name=\"team\" "
           "value=\"");
    text(h, d ? d->filter.team : "");
    rawf(h,
         "\" placeholder=\"every team\"></label> <label>from <input type=\"date\" "
         "name=\"from\" value=\"%s\"></label> <label>to <input type=\"date\" name=\"to\" "
         "value=\"%s\"></label> <button type=\"submit\">show</button></form>",
         from, to);
}

static void html_body(html_t *h, const dashboard_t *d, const char *notice, int64_t now_ms,
                      int64_t as_of_ms)
{
    html_filter(h, d);
    raw(h, "<p id=\"notice\"");
    if (!notice)
        raw(h, " hidden");
    raw(h, ">");
    text(h, notice);
    raw(h, "</p><div id=\"view\">");
    if (d) {
        char a[32], f[11] = "", l[11] = "";
        journey_json_iso8601(a, as_of_ms);
        if (d->first_day)
            day_text(f, d->first_day);
        if (d->last_day)
            day_text(l, d->last_day);
        raw(h, "<p class=\"meta\">");
        if (d->self) {
            raw(h, "instance ");
            text(h, d->self);
            raw(h, " &middot; ");
        }
        rawf(h, "days counted %s &ndash; %s &middot; as of <span id=\"as-of\">%s</span></p>",
             f[0] ? f : "none", l[0] ? l : "none", a);
        html_funnel(h, d);
        html_waiting(h, d, now_ms);
        html_board(h, d, "team", "SLA by team");
        html_board(h, d, "owner", "SLA by owner");
        html_outcomes(h, d);
        html_breaches(h, d);
    }
    raw(h, "</div>");
}

/* Appends @tmpl up to @marker and returns what follows the marker, or NULL (nothing
 * appended) when it is missing. */
static const char *fill_marker(html_t *h, const char *tmpl, const char *marker)
{
    const char *at = strstr(tmpl, marker);
    if (!at)
        return NULL;
    if (!h->err)
        h->err = hf_buf_append(h->out, tmpl, (size_t)(at - tmpl));
    return at + strlen(marker);
}

int dashboard_html(const dashboard_t *d, hf_buf_t *out, const char *page_template,
                   const char *style, const char *script, const char *notice, int64_t now_ms,
                   int64_t as_of_ms)
{
    html_t h = {out, 0};
    const char *p = page_template;
    const char *rest;
    if ((rest = fill_marker(&h, p, "@STYLE@"))) {
        raw(&h, style);
        p = rest;
    }
    if ((rest = fill_marker(&h, p, "@BODY@"))) {
        html_body(&h, d, notice, now_ms, as_of_ms);
        p = rest;
    }
    if ((rest = fill_marker(&h, p, "@SCRIPT@"))) {
        raw(&h, script);
        p = rest;
    }
    raw(&h, p);
    return h.err;
}
