/* Journey lookup answers as JSON: see journey_json.h. */
#include "journey_json.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The states' bodies.  processors/ exports no read-only view of a whole state, and
 * the answer shows most of it; these headers are read here and nothing is changed
 * through them (every pointer below is const).  account_view_build() is the same
 * ranking the account rules and handoffs use, so the buying group shown here is
 * the one a handoff would carry. */
#include "processors/account/account_priv.h"
#include "processors/contact/contact_priv.h"
#include "processors/journey/fit.h"
#include "processors/journey/interests.h"
#include "processors/journey/journey.h"
#include "processors/journey/score.h"
#include "processors/sla/sla.h"

/* ---- the writer ------------------------------------------------------------------- */

void journey_json_init(journey_json_writer_t *w, hf_buf_t *out)
{
    *w = (journey_json_writer_t){.out = out};
}

static void put(journey_json_writer_t *w, const void *s, size_t n)
{
    if (!w->err && hf_buf_append(w->out, s, n) < 0)
        w->err = -ENOMEM;
}

/* Length of the valid UTF-8 sequence at @p (at most @n bytes), or 0 when it is not
 * one (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF). */
static size_t utf8_len(const unsigned char *p, size_t n)
{
    unsigned char c = p[0];
    size_t len;
    unsigned char lo = 0x80, hi = 0xBF; /* allowed range of the second byte */
    if (c >= 0xC2 && c <= 0xDF)
        len = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        if (c == 0xE0)
            lo = 0xA0;
        else if (c == 0xED)
            hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        if (c == 0xF0)
            lo = 0x90;
        else if (c == 0xF4)
            hi = 0x8F;
    } else
        return 0;
    if (n < len || p[1] < lo || p[1] > hi)
        return 0;
    for (size_t i = 2; i < len; i++)
        if (p[i] < 0x80 || p[i] > 0xBF)
            return 0;
    return len;
}

static void put_string(journey_json_writer_t *w, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strlen(s);
    put(w, "\"", 1);
    size_t run = 0; /* bytes at p that go out as they are */
    for (size_t i = 0; i < n;) {
        unsigned char c = p[i];
        const char *esc = NULL;
        char ubuf[8];
        size_t adv = 1;
        if (c == '"')
            esc = "\\\"";
        else if (c == '\\')
            esc = "\\\\";
        else if (c == '\n')
            esc = "\\n";
        else if (c == '\r')
            esc = "\\r";
        else if (c == '\t')
            esc = "\\t";
        else if (c < 0x20) {
            snprintf(ubuf, sizeof ubuf, "\\u%04x", c);
            esc = ubuf;
        } else if (c >= 0x80 && !(adv = utf8_len(p + i, n - i))) {
            esc = "\\ufffd";
            adv = 1;
        }
        if (esc) {
            put(w, p + i - run, run);
            run = 0;
            put(w, esc, strlen(esc));
        } else {
            run += adv;
        }
        i += adv;
    }
    put(w, p + n - run, run);
    put(w, "\"", 1);
}

/* The separator and the member name before a value. */
static void begin_value(journey_json_writer_t *w, const char *key)
{
    if (w->err)
        return;
    if (w->need_comma[w->depth])
        put(w, ",", 1);
    w->need_comma[w->depth] = true;
    if (key) {
        put_string(w, key);
        put(w, ":", 1);
    }
}

static void open_nested(journey_json_writer_t *w, const char *key, char open, char close)
{
    if (!w->err && w->depth >= JOURNEY_JSON_DEPTH_MAX)
        w->err = -EINVAL;
    begin_value(w, key);
    put(w, &open, 1);
    if (w->err)
        return;
    w->depth++;
    w->need_comma[w->depth] = false;
    w->closer[w->depth] = close;
}

void journey_json_object(journey_json_writer_t *w, const char *key)
{
    open_nested(w, key, '{', '}');
}

void journey_json_array(journey_json_writer_t *w, const char *key)
{
    open_nested(w, key, '[', ']');
}

void journey_json_end(journey_json_writer_t *w)
{
    if (!w->err && w->depth == 0)
        w->err = -EINVAL;
    if (w->err)
        return;
    put(w, &w->closer[w->depth], 1);
    w->depth--;
}

void journey_json_str(journey_json_writer_t *w, const char *key, const char *s)
{
    begin_value(w, key);
    if (s)
        put_string(w, s);
    else
        put(w, "null", 4);
}

static void put_text(journey_json_writer_t *w, const char *key, const char *text)
{
    begin_value(w, key);
    put(w, text, strlen(text));
}

void journey_json_int(journey_json_writer_t *w, const char *key, int64_t v)
{
    char b[24];
    snprintf(b, sizeof b, "%" PRId64, v);
    put_text(w, key, b);
}

void journey_json_uint(journey_json_writer_t *w, const char *key, uint64_t v)
{
    char b[24];
    snprintf(b, sizeof b, "%" PRIu64, v);
    put_text(w, key, b);
}

void journey_json_num(journey_json_writer_t *w, const char *key, double v)
{
    char b[32];
    if (!isfinite(v))
        snprintf(b, sizeof b, "null");
    else
        snprintf(b, sizeof b, "%.6g", v); /* what a person reads; enough for weights */
    put_text(w, key, b);
}

void journey_json_bool(journey_json_writer_t *w, const char *key, bool v)
{
    put_text(w, key, v ? "true" : "false");
}

void journey_json_null(journey_json_writer_t *w, const char *key)
{
    put_text(w, key, "null");
}

/* @ms as ISO 8601 UTC, with milliseconds or in whole seconds (the form a handoff's
 * reason details use). */
static void iso8601(char out[32], int64_t ms, bool with_ms)
{
    int64_t secs = ms / 1000, rem = ms % 1000;
    if (rem < 0) { /* floor towards the past for times before 1970 */
        rem += 1000;
        secs--;
    }
    time_t tt = (time_t)secs;
    struct tm tm;
    if ((int64_t)tt != secs || !gmtime_r(&tt, &tm) || tm.tm_year + 1900 < 0 ||
        tm.tm_year + 1900 > 9999) {
        snprintf(out, 32, "%" PRId64 "ms", ms); /* out of ISO 8601's plain range */
        return;
    }
    char b[80]; /* what the compiler cannot bound; the year is 0..9999 here */
    int n = snprintf(b, sizeof b, "%04d-%02d-%02dT%02d:%02d:%02d", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    if (with_ms)
        snprintf(b + n, sizeof b - (size_t)n, ".%03dZ", (int)rem);
    else
        snprintf(b + n, sizeof b - (size_t)n, "Z");
    snprintf(out, 32, "%.31s", b);
}

void journey_json_iso8601(char out[32], int64_t ms)
{
    iso8601(out, ms, true);
}

void journey_json_time(journey_json_writer_t *w, const char *key, int64_t ms)
{
    if (!ms) {
        journey_json_null(w, key);
        return;
    }
    char b[32];
    journey_json_iso8601(b, ms);
    journey_json_str(w, key, b);
}

int journey_json_finish(const journey_json_writer_t *w)
{
    if (w->err)
        return w->err;
    return w->depth == 0 ? 0 : -EINVAL;
}

/* ---- parts both entities have: the case and the lifecycle -------------------------- */

/* "running", "met" or "breached" of clock @c at @now_ms: breached once its level-1
 * deadline passed unanswered (the breach may not be out yet when the state was
 * committed) or a breach was emitted, met when answered in time. */
static const char *clock_state(const sla_clock_t *c, int64_t now_ms)
{
    if (c->level > 0 || (!c->done && now_ms >= c->deadline_ms))
        return "breached";
    return c->done ? "met" : "running";
}

static void render_clocks(journey_json_writer_t *w, const sla_state_t *sla, int64_t now_ms)
{
    journey_json_array(w, "clocks");
    for (int k = 0; k < HF_SLA__COUNT; k++) {
        const sla_clock_t *c = &sla->clocks[k];
        if (!c->deadline_ms)
            continue; /* this clock is off in the rules the case opened under */
        journey_json_object(w, NULL);
        journey_json_str(w, "sla", hf_sla_kind_name(k));
        journey_json_time(w, "due_at", c->deadline_ms);
        journey_json_str(w, "state", clock_state(c, now_ms));
        journey_json_int(w, "level", c->level);
        /* the next escalation, while the clock is still unanswered */
        journey_json_time(w, "next_due_at", !c->done ? c->due_ms : 0);
        journey_json_end(w);
    }
    journey_json_end(w);
}

/* The open case of the current cycle's handoff, or null. */
static void render_case(journey_json_writer_t *w, const sla_state_t *sla, int64_t now_ms)
{
    if (!sla->handoff_id) {
        journey_json_null(w, "open_case");
        return;
    }
    journey_json_object(w, "open_case");
    journey_json_str(w, "handoff_id", sla->handoff_id);
    journey_json_str(w, "rule", sla->rule);
    journey_json_time(w, "opened_at", sla->handoff_at_ms);
    journey_json_str(w, "owner", sla->owner_id);
    journey_json_str(w, "team", sla->team);
    journey_json_str(w, "calendar", sla->calendar);
    journey_json_bool(w, "accepted", sla->accepted);
    journey_json_int(w, "attempts", sla->attempts);
    render_clocks(w, sla, now_ms);
    journey_json_time(w, "no_response_recycle_at", sla->no_response_due_ms);
    journey_json_object(w, "attribution");
    journey_json_str(w, "source", sla->source);
    journey_json_str(w, "first_campaign", sla->first_campaign);
    journey_json_str(w, "last_campaign", sla->last_campaign);
    journey_json_end(w);
    journey_json_end(w);
}

static void render_lifecycle(journey_json_writer_t *w, hf_stage_t stage, uint32_t cycle,
                             bool handed_off, const sla_state_t *sla, const hf_rules_t *rules)
{
    journey_json_object(w, "lifecycle");
    journey_json_str(w, "stage", hf_stage_name(stage));
    journey_json_int(w, "cycle", cycle);
    journey_json_bool(w, "handed_off", handed_off);
    if (sla->recycled) {
        /* the gate the next handoff waits behind (sla.h) */
        journey_json_object(w, "recycled");
        journey_json_time(w, "at", sla->recycled_at_ms);
        journey_json_time(w, "cooldown_until", sla->recycled_at_ms + rules->recycle.cooldown_ms);
        journey_json_num(w, "new_points", sla->new_points);
        journey_json_int(w, "new_points_needed", rules->recycle.new_points);
        journey_json_end(w);
    } else {
        journey_json_null(w, "recycled");
    }
    journey_json_uint(w, "parked_feedback", sla->parked_count);
    journey_json_end(w);
}

/* ---- contacts ----------------------------------------------------------------------- */

/* The score the rules compare (decayed to the newest event, rounded) and what each
 * scoring rule contributed to it. */
static int render_score(journey_json_writer_t *w, const contact_state_t *s, const hf_rules_t *rules)
{
    size_t n = s->score.stat_count;
    score_contribution_t *c = calloc(n + 1, sizeof *c); /* + 1: never a zero-size request */
    if (!c)
        return -ENOMEM;
    score_contributions(s->score.stats, n, rules, s->last_event_ms, c);
    journey_json_object(w, "score");
    journey_json_int(w, "value", score_round(contact_state_score(s, rules, s->last_event_ms)));
    journey_json_time(w, "as_of", s->events > 0 ? s->last_event_ms : 0);
    journey_json_array(w, "contributions");
    for (size_t i = 0; i < n; i++) {
        char detail[160];
        score_contribution_detail(detail, sizeof detail, c[i].stat);
        journey_json_object(w, NULL);
        journey_json_str(w, "rule", c[i].stat->rule);
        journey_json_int(w, "points", c[i].points);
        journey_json_int(w, "count", c[i].count);
        journey_json_str(w, "detail", detail);
        journey_json_end(w);
    }
    journey_json_end(w);
    journey_json_end(w);
    free(c);
    return 0;
}

/* The interests.top strongest topics at the newest event, strongest first. */
static int render_interests(journey_json_writer_t *w, const contact_state_t *s,
                            const hf_rules_t *rules)
{
    size_t top = rules->interests.top;
    if (top > s->interests.count)
        top = s->interests.count;
    hf_interest_t *in = calloc(top + 1, sizeof *in);
    if (!in)
        return -ENOMEM;
    size_t n = interests_top(&s->interests, rules, s->last_event_ms, in, top);
    journey_json_array(w, "interests");
    for (size_t i = 0; i < n; i++) {
        journey_json_object(w, NULL);
        journey_json_str(w, "topic", in[i].topic);
        journey_json_num(w, "weight", in[i].weight);
        journey_json_end(w);
    }
    journey_json_end(w);
    free(in);
    return 0;
}

static void render_touches(journey_json_writer_t *w, const char *key, const journey_touch_t *t,
                           size_t n)
{
    journey_json_array(w, key);
    for (size_t i = 0; i < n; i++) {
        journey_json_object(w, NULL);
        journey_json_time(w, "at", t[i].at_ms);
        journey_json_str(w, "type", t[i].type);
        journey_json_str(w, "title", t[i].title);
        journey_json_str(w, "detail", t[i].detail);
        journey_json_end(w);
    }
    journey_json_end(w);
}

static void render_downloads(journey_json_writer_t *w, const journey_download_t *d, size_t n)
{
    journey_json_array(w, "downloads");
    for (size_t i = 0; i < n; i++) {
        journey_json_object(w, NULL);
        journey_json_str(w, "asset_id", d[i].asset_id);
        journey_json_str(w, "title", d[i].title);
        journey_json_str(w, "type", d[i].type);
        journey_json_time(w, "at", d[i].at_ms);
        journey_json_end(w);
    }
    journey_json_end(w);
}

static void render_webinars(journey_json_writer_t *w, const journey_webinar_t *x, size_t n)
{
    journey_json_array(w, "webinars");
    for (size_t i = 0; i < n; i++) {
        journey_json_object(w, NULL);
        journey_json_str(w, "webinar_id", x[i].webinar_id);
        journey_json_str(w, "title", x[i].title);
        journey_json_str(w, "action", x[i].action);
        journey_json_int(w, "minutes", x[i].minutes);
        journey_json_time(w, "at", x[i].at_ms);
        journey_json_end(w);
    }
    journey_json_end(w);
}

static void render_top_pages(journey_json_writer_t *w, const journey_t *j, const size_t *idx,
                             size_t n)
{
    journey_json_array(w, "top_pages");
    for (size_t i = 0; i < n; i++) {
        const journey_page_t *p = &j->pages[idx[i]];
        journey_json_object(w, NULL);
        journey_json_str(w, "url", p->url);
        journey_json_str(w, "title", p->title);
        journey_json_int(w, "views", p->views);
        journey_json_end(w);
    }
    journey_json_end(w);
}

/* ConversationReady's Journey, with last_seen beside first_seen. */
static int render_journey(journey_json_writer_t *w, const contact_state_t *s,
                          const hf_rules_t *rules)
{
    const journey_t *j = &s->journey;
    size_t top =
        rules->journey.top_pages < j->page_count ? rules->journey.top_pages : j->page_count;
    size_t *idx = calloc(top + 1, sizeof *idx);
    if (!idx)
        return -ENOMEM;
    size_t n = journey_top_pages(j, idx, top);
    journey_json_object(w, "journey");
    journey_json_time(w, "first_seen", s->events > 0 ? s->first_seen_ms : 0);
    journey_json_time(w, "known_since", s->has_known_since ? s->known_since_ms : 0);
    journey_json_time(w, "last_seen", s->events > 0 ? s->last_event_ms : 0);
    journey_json_int(w, "sessions", j->sessions);
    journey_json_int(w, "page_views", j->page_views);
    render_top_pages(w, j, idx, n);
    render_downloads(w, j->downloads, j->download_count);
    render_webinars(w, j->webinars, j->webinar_count);
    journey_json_object(w, "email");
    journey_json_int(w, "opens", j->email_opens);
    journey_json_int(w, "clicks", j->email_clicks);
    journey_json_str(w, "last_campaign", j->email_last_campaign);
    journey_json_end(w);
    render_touches(w, "recent", j->recent, j->recent_count);
    journey_json_end(w);
    free(idx);
    return 0;
}

/* The contact's account and role, and the others of its buying group as the
 * account's last roster named them (a handoff's buying_group and roles_covered). */
static void render_contact_account(journey_json_writer_t *w, const contact_state_t *s,
                                   const hf_rules_t *rules)
{
    const char *account = contact_state_account(s);
    if (!account) {
        journey_json_null(w, "account");
        return;
    }
    journey_json_object(w, "account");
    journey_json_str(w, "id", account);
    journey_json_str(w, "role", contact_state_role(s, rules));
    const contact_roster_t *ro = contact_current_roster(s);
    journey_json_array(w, "buying_group");
    size_t listed = 0;
    for (size_t i = 0; ro && i < ro->member_count && listed < rules->accounts.buying_group_max;
         i++) {
        const contact_roster_member_t *m = &ro->members[i];
        if (strcmp(m->contact_id, s->contact_id) == 0)
            continue;
        journey_json_object(w, NULL);
        journey_json_str(w, "contact_id", m->contact_id);
        journey_json_str(w, "role", m->role);
        journey_json_int(w, "score", m->score);
        journey_json_time(w, "last_active", m->last_active_ms);
        journey_json_end(w);
        listed++;
    }
    journey_json_end(w);
    journey_json_array(w, "roles_covered");
    for (size_t i = 0; ro && i < ro->roles_covered_count; i++)
        journey_json_str(w, NULL, ro->roles_covered[i]);
    journey_json_end(w);
    journey_json_end(w);
}

int journey_json_contact(hf_buf_t *out, const contact_state_t *s, const hf_rules_t *rules,
                         int64_t now_ms, int64_t as_of_ms)
{
    journey_json_writer_t w;
    journey_json_init(&w, out);
    journey_json_object(&w, NULL);
    journey_json_int(&w, "version", JOURNEY_JSON_VERSION);
    journey_json_str(&w, "entity_type", "contact");
    journey_json_str(&w, "id", s->contact_id);
    journey_json_str(&w, "stage", hf_stage_name(s->stage));
    journey_json_bool(&w, "known", contact_state_known(s));
    int r = render_score(&w, s, rules);
    journey_json_str(&w, "fit_grade", contact_state_grade(s, rules));
    if (r == 0)
        r = render_interests(&w, s, rules);
    if (r == 0)
        r = render_journey(&w, s, rules);
    render_contact_account(&w, s, rules);
    journey_json_object(&w, "attribution");
    journey_json_str(&w, "source", s->source);
    journey_json_str(&w, "first_campaign", s->first_campaign);
    journey_json_str(&w, "last_campaign", s->last_campaign);
    journey_json_end(&w);
    render_case(&w, &s->sla, now_ms);
    render_lifecycle(&w, s->stage, s->cycle, s->handed_off, &s->sla, rules);
    journey_json_time(&w, "as_of", as_of_ms);
    journey_json_end(&w);
    return r < 0 ? r : journey_json_finish(&w);
}

/* ---- accounts ----------------------------------------------------------------------- */

/* How a member came by its role: stage 2 gives each contact the first
 * buying_group.roles rule its traits match, else the default role.  NULL when the
 * role is neither any more (the rules were reloaded since). */
static const char *placed_by(const hf_rules_t *rules, const char *role)
{
    for (size_t i = 0; i < rules->buying_group.role_count; i++)
        if (rules->buying_group.roles[i].role &&
            strcmp(rules->buying_group.roles[i].role, role) == 0)
            return "role rule";
    if (rules->buying_group.default_role && strcmp(rules->buying_group.default_role, role) == 0)
        return "default role";
    return NULL;
}

/* The engaged members by weighted score, at most accounts.buying_group_max (what an
 * account handoff lists), and the roles they cover. */
static void render_buying_group(journey_json_writer_t *w, const account_view_t *v,
                                const hf_rules_t *rules)
{
    journey_json_array(w, "buying_group");
    size_t listed = 0;
    for (size_t i = 0; i < v->count && listed < rules->accounts.buying_group_max; i++) {
        const account_ranked_t *r = &v->ranked[i];
        if (!r->engaged)
            continue;
        journey_json_object(w, NULL);
        journey_json_str(w, "contact_id", r->m->contact_id);
        journey_json_str(w, "role", r->m->role);
        journey_json_int(w, "score", r->score_points);
        journey_json_time(w, "last_active", r->m->last_active_ms);
        journey_json_num(w, "weight", r->weight);
        journey_json_int(w, "weighted_score", score_round(r->weighted));
        journey_json_str(w, "stage", r->m->stage);
        journey_json_str(w, "placed_by", placed_by(rules, r->m->role));
        /* which rule and patterns, as stage 2 resolved it: under the rules of the
         * member's last update, null for one stored before it was sent */
        journey_json_str(w, "placement", r->m->placement);
        journey_json_end(w);
        listed++;
    }
    journey_json_end(w);
    journey_json_array(w, "roles_covered");
    for (size_t i = 0; i < v->role_count; i++)
        journey_json_str(w, NULL, v->roles[i]);
    journey_json_end(w);
}

/* The products the account has or was raised for (expansion), each with its
 * expansion's cycle and case. */
static void render_products(journey_json_writer_t *w, const account_state_t *s,
                            const hf_rules_t *rules, int64_t now_ms)
{
    journey_json_array(w, "products");
    for (size_t i = 0; i < s->product_count; i++) {
        const account_product_t *p = &s->products[i];
        journey_json_object(w, NULL);
        journey_json_str(w, "product", p->product);
        journey_json_bool(w, "owned", p->owned);
        journey_json_time(w, "owned_at", p->owned ? p->owned_at_ms : 0);
        journey_json_int(w, "expansion_cycle", p->cycle);
        journey_json_bool(w, "handed_off", p->handed_off);
        journey_json_time(w, "raised_at", p->handed_off ? p->raised_at_ms : 0);
        journey_json_str(w, "stage", p->sla.handoff_id ? hf_stage_name(p->stage) : NULL);
        journey_json_time(
            w, "cooldown_until",
            p->recycled && !p->handed_off ? p->recycled_at_ms + rules->expansion.cooldown_ms : 0);
        render_case(w, &p->sla, now_ms);
        journey_json_end(w);
    }
    journey_json_end(w);
}

int journey_json_account(hf_buf_t *out, const account_state_t *s, const hf_rules_t *rules,
                         int64_t now_ms, int64_t as_of_ms)
{
    account_view_t v;
    int r = account_view_build(&v, s, rules);
    if (r < 0)
        return r;
    journey_json_writer_t w;
    journey_json_init(&w, out);
    journey_json_object(&w, NULL);
    journey_json_int(&w, "version", JOURNEY_JSON_VERSION);
    journey_json_str(&w, "entity_type", "account");
    journey_json_str(&w, "id", s->account_id);
    journey_json_str(&w, "stage", hf_stage_name(s->stage));
    /* the score the account rules compare: at the newest activity of its members */
    journey_json_object(&w, "score");
    journey_json_int(&w, "value", v.score_points);
    journey_json_time(&w, "as_of", v.ref_ms);
    journey_json_end(&w);
    journey_json_str(&w, "fit_grade", v.grade >= 0 ? fit_grade_letter(rules, v.grade) : NULL);
    journey_json_int(&w, "tier", v.tier);
    journey_json_time(&w, "known_since", s->has_known_since ? s->known_since_ms : 0);
    journey_json_time(&w, "last_active", v.ref_ms);
    journey_json_uint(&w, "member_count", v.count);
    journey_json_uint(&w, "engaged_count", v.engaged_count);
    render_buying_group(&w, &v, rules);
    render_case(&w, &s->sla, now_ms);
    render_lifecycle(&w, s->stage, s->cycle, s->handed_off, &s->sla, rules);
    render_products(&w, s, rules, now_ms);
    journey_json_time(&w, "as_of", as_of_ms);
    journey_json_end(&w);
    account_view_free(&v);
    return journey_json_finish(&w);
}

int journey_json_merged(hf_buf_t *out, const char *id, const char *merged_into,
                        const char *survivor, const char *location, int64_t as_of_ms)
{
    journey_json_writer_t w;
    journey_json_init(&w, out);
    journey_json_object(&w, NULL);
    journey_json_int(&w, "version", JOURNEY_JSON_VERSION);
    journey_json_str(&w, "entity_type", "contact");
    journey_json_str(&w, "id", id);
    journey_json_str(&w, "merged_into", merged_into);
    journey_json_str(&w, "survivor", survivor);
    journey_json_str(&w, "location", location);
    journey_json_time(&w, "as_of", as_of_ms);
    journey_json_end(&w);
    return journey_json_finish(&w);
}

/* ---- open cases, for the dashboard ------------------------------------------------- */

/* The clocks and attribution of the case in @sla into @out. */
static void case_from_sla(dashboard_case_t *out, const sla_state_t *sla, int64_t now_ms)
{
    out->handoff_id = sla->handoff_id;
    out->rule = sla->rule;
    out->team = sla->team;
    out->owner = sla->owner_id;
    out->opened_ms = sla->handoff_at_ms;
    out->accepted = sla->accepted;
    out->clock_count = 0;
    for (int k = 0; k < HF_SLA__COUNT && out->clock_count < DASHBOARD_CLOCKS_MAX; k++) {
        const sla_clock_t *c = &sla->clocks[k];
        if (!c->deadline_ms)
            continue;
        out->clocks[out->clock_count++] = (dashboard_clock_t){
            .sla = hf_sla_kind_name(k),
            .state = clock_state(c, now_ms),
            .due_ms = c->deadline_ms,
            .next_due_ms = !c->done ? c->due_ms : 0,
            .level = c->level,
        };
    }
}

int journey_json_contact_case(const contact_state_t *s, const hf_rules_t *rules, int64_t now_ms,
                              dashboard_case_t *out, char *reason, size_t reasonsz,
                              hf_interest_t interests[DASHBOARD_INTERESTS_MAX])
{
    if (!s->sla.handoff_id)
        return 1;
    *out = (dashboard_case_t){.entity_type = "contact", .id = s->contact_id};
    case_from_sla(out, &s->sla, now_ms);
    out->account = contact_state_account(s);
    out->score = score_round(contact_state_score(s, rules, s->last_event_ms));
    /* one line: the two largest score contributions */
    size_t n = s->score.stat_count;
    score_contribution_t *c = calloc(n + 1, sizeof *c);
    if (!c)
        return -ENOMEM;
    score_contributions(s->score.stats, n, rules, s->last_event_ms, c);
    size_t used = 0;
    reason[0] = 0;
    for (size_t i = 0; i < n && i < 2 && used < reasonsz; i++) {
        int w = snprintf(reason + used, reasonsz - used, "%s%s %+d (%d\xc3\x97)", i ? ", " : "",
                         c[i].stat->rule, (int)c[i].points, (int)c[i].count);
        used += w > 0 ? (size_t)w : 0;
    }
    free(c);
    out->reason = reason;
    out->interest_count =
        interests_top(&s->interests, rules, s->last_event_ms, interests, DASHBOARD_INTERESTS_MAX);
    for (size_t i = 0; i < out->interest_count; i++)
        out->interests[i] = interests[i].topic;
    return 0;
}

int journey_json_account_case(const account_state_t *s, int64_t now_ms, dashboard_case_t *out)
{
    if (!s->sla.handoff_id)
        return 1;
    *out = (dashboard_case_t){.entity_type = "account", .id = s->account_id};
    case_from_sla(out, &s->sla, now_ms);
    out->account = s->account_id;
    return 0;
}
