#include "qualify.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "processors/account/resolve.h"
#include "util/strpool.h"
#include "util/timespan.h"

#define HAND_RAISER_DEFAULT_RULE "hand_raiser"

/* "30d", "12h", "90m", "45s" or "1500ms": the largest unit that divides exactly. */
static void format_duration(char *buf, size_t n, int64_t ms)
{
    static const struct {
        int64_t ms;
        const char *unit;
    } units[] = {{86400000, "d"}, {3600000, "h"}, {60000, "m"}, {1000, "s"}};
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (ms != 0 && ms % units[i].ms == 0) {
            snprintf(buf, n, "%" PRId64 "%s", ms / units[i].ms, units[i].unit);
            return;
        }
    snprintf(buf, n, "%" PRId64 "ms", ms);
}

/* What the contact looks like to the rules right now. */
typedef struct qualify_view {
    int32_t score; /* decayed to the newest event, rounded */
    fit_result_t fit;
} qualify_view_t;

static bool requirement_holds(const contact_state_t *s, const char *rule, int64_t t,
                              int64_t within_ms)
{
    const score_rule_stat_t *st = score_find(&s->score, rule);
    if (!st || !st->has_last_matched || !sla_fresh_evidence(&s->sla, st->last_matched_ms))
        return false;
    if (within_ms <= 0)
        return true;
    /* "within the last within_ms": a match after a late event's time is recent too */
    int64_t a = st->last_matched_ms;
    return a >= t || timespan_ms(t, a) <= (uint64_t)within_ms;
}

static bool contact_rule_holds(const contact_state_t *s, const hf_contact_rule_t *cr,
                               const hf_rules_t *rules, const qualify_view_t *v, int64_t t)
{
    if (v->fit.excluded >= 0)
        return false;
    if (cr->min_score > 0 && v->score < cr->min_score)
        return false;
    if (cr->min_grade >= 0 && (v->fit.grade < 0 || v->fit.grade > cr->min_grade ||
                               (size_t)cr->min_grade >= rules->fit.grade_count))
        return false;
    for (size_t i = 0; i < cr->requires_count; i++)
        if (!cr->requires[i] || !requirement_holds(s, cr->requires[i], t, cr -> within_ms))
            return false;
    return true;
}

/* Everything a handoff points to, owned until the sink returns. */
typedef struct handoff_build {
    strpool_t pool;
    hf_reason_t *reasons;
    size_t reason_count;
    size_t reason_cap;
    hf_page_t *pages;
    hf_download_t *downloads;
    hf_webinar_t *webinars;
    hf_touch_t *recent;
    size_t *page_idx;
    hf_interest_t *interests;
    hf_member_t *members;
    const char **roles;
} handoff_build_t;

static void build_free(handoff_build_t *b)
{
    strpool_free(&b->pool);
    free(b->reasons);
    free(b->pages);
    free(b->downloads);
    free(b->webinars);
    free(b->recent);
    free(b->page_idx);
    free(b->interests);
    free(b->members);
    free(b->roles);
}

static int add_reason(handoff_build_t *b, const char *rule, int32_t points, int32_t count,
                      const char *detail)
{
    if (!rule || !detail)
        return -ENOMEM; /* a failed strpool_printf */
    if (b->reason_count == b->reason_cap) {
        size_t cap = b->reason_cap ? b->reason_cap * 2 : 16;
        hf_reason_t *r = realloc(b->reasons, cap * sizeof *r);
        if (!r)
            return -ENOMEM;
        b->reasons = r;
        b->reason_cap = cap;
    }
    b->reasons[b->reason_count++] = (hf_reason_t){rule, points, count, detail};
    return 0;
}

/* The conditions that made the rule fire, as reasons with no points. */
static int condition_reasons(handoff_build_t *b, const hf_event_t *ev, const hf_contact_rule_t *cr,
                             const char *rule_name, const hf_rules_t *rules,
                             const qualify_view_t *v)
{
    int r = 0;
    if (!cr) {
        const char *form = hf_form_type_name(ev->form_type);
        return add_reason(b, rule_name, 0, 0,
                          strpool_printf(&b->pool, "%s form", form ? form : "hand-raiser"));
    }
    if (cr->min_score > 0)
        r = add_reason(
            b, rule_name, 0, 0,
            strpool_printf(&b->pool, "score %d >= %d", (int)v->score, (int)cr->min_score));
    if (r == 0 && cr->min_grade >= 0)
        r = add_reason(b, rule_name, 0, 0,
                       strpool_printf(&b->pool, "fit grade %s (>= %s)",
                                      fit_grade_letter(rules, v->fit.grade),
                                      fit_grade_letter(rules, cr->min_grade)));
    for (size_t i = 0; r == 0 && i < cr->requires_count; i++) {
        char dur[32];
        format_duration(dur, sizeof dur, cr->within_ms);
        const char *detail = cr->within_ms > 0
                                 ? strpool_printf(&b->pool, "%s within %s", cr->requires[i], dur)
                                 : strpool_printf(&b->pool, "%s matched", cr->requires[i]);
        r = add_reason(b, rule_name, 0, 0, detail);
    }
    return r;
}

/* Every scoring rule's contribution, largest magnitude first. */
static int score_reasons(handoff_build_t *b, const contact_state_t *s, const hf_rules_t *rules)
{
    size_t n = s->score.stat_count;
    if (!n)
        return 0;
    score_contribution_t *c = calloc(n, sizeof *c);
    if (!c)
        return -ENOMEM;
    score_contributions(s->score.stats, n, rules, s->last_event_ms, c);
    int r = 0;
    for (size_t i = 0; i < n && r == 0; i++) {
        char detail[160];
        score_contribution_detail(detail, sizeof detail, c[i].stat);
        r = add_reason(b, c[i].stat->rule, c[i].points, c[i].count,
                       strpool_printf(&b->pool, "%s", detail));
    }
    free(c);
    return r;
}

/* Matching fit rules ("fit:<name>"), and the exclusion if one applies. */
static int fit_reasons(handoff_build_t *b, const contact_state_t *s, const hf_rules_t *rules,
                       const qualify_view_t *v)
{
    hf_traits_t view;
    fit_view(&s->traits, &view);
    hf_buf_t detail = HF_BUF_INIT;
    int r = 0;
    for (size_t i = 0; i < rules->fit.rule_count && r == 0; i++) {
        const hf_fit_rule_t *fr = &rules->fit.rules[i];
        if (!hf_trait_match(&fr->match, &view))
            continue;
        hf_buf_reset(&detail);
        r = hf_trait_match_describe(&fr->match, &view, &detail);
        if (r == 0)
            r = add_reason(b, strpool_printf(&b->pool, "fit:%s", fr->name), fr->points, 1,
                           strpool_printf(&b->pool, "%s", (const char *)detail.data));
    }
    if (r == 0 && v->fit.excluded >= 0) {
        const hf_fit_exclusion_t *ex = &rules->fit.exclusions[v->fit.excluded];
        hf_buf_reset(&detail);
        r = hf_trait_match_describe(&ex->match, &view, &detail);
        if (r == 0)
            r = add_reason(b, strpool_printf(&b->pool, "exclusion:%s", ex->name), 0, 1,
                           strpool_printf(&b->pool, "%s", (const char *)detail.data));
    }
    hf_buf_free(&detail);
    return r;
}

static int build_journey(handoff_build_t *b, const contact_state_t *s, const hf_rules_t *rules,
                         hf_journey_t *out)
{
    const journey_t *j = &s->journey;
    *out = (hf_journey_t){
        .first_seen_ms = s->first_seen_ms,
        .has_known_since = s->has_known_since,
        .known_since_ms = s->known_since_ms,
        .sessions = j->sessions,
        .page_views = j->page_views,
        .email_opens = j->email_opens,
        .email_clicks = j->email_clicks,
        .email_last_campaign = j->email_last_campaign,
    };
    size_t top =
        rules->journey.top_pages < j->page_count ? rules->journey.top_pages : j->page_count;
    /* calloc(n + 1): never a zero-size request, whose NULL would read as failure */
    b->page_idx = calloc(top + 1, sizeof *b->page_idx);
    b->pages = calloc(top + 1, sizeof *b->pages);
    b->downloads = calloc(j->download_count + 1, sizeof *b->downloads);
    b->webinars = calloc(j->webinar_count + 1, sizeof *b->webinars);
    b->recent = calloc(j->recent_count + 1, sizeof *b->recent);
    if (!b->page_idx || !b->pages || !b->downloads || !b->webinars || !b->recent)
        return -ENOMEM;
    size_t n = journey_top_pages(j, b->page_idx, top);
    for (size_t i = 0; i < n; i++) {
        const journey_page_t *p = &j->pages[b->page_idx[i]];
        b->pages[i] = (hf_page_t){p->url, p->title, p->views};
    }
    for (size_t i = 0; i < j->download_count; i++) {
        const journey_download_t *d = &j->downloads[i];
        b->downloads[i] = (hf_download_t){d->asset_id, d->title, d->type, d->at_ms};
    }
    for (size_t i = 0; i < j->webinar_count; i++) {
        const journey_webinar_t *w = &j->webinars[i];
        b->webinars[i] = (hf_webinar_t){w->webinar_id, w->title, w->action, w->minutes, w->at_ms};
    }
    for (size_t i = 0; i < j->recent_count; i++) {
        const journey_touch_t *t = &j->recent[i];
        b->recent[i] = (hf_touch_t){t->at_ms, t->type, t->title, t->detail};
    }
    out->top_pages = b->pages;
    out->top_page_count = n;
    out->downloads = b->downloads;
    out->download_count = j->download_count;
    out->webinars = b->webinars;
    out->webinar_count = j->webinar_count;
    out->recent = b->recent;
    out->recent_count = j->recent_count;
    return 0;
}

/* Interests, the buying group from the roster of the contact's account, routing. */
static int build_account_context(handoff_build_t *b, const contact_state_t *s,
                                 const hf_rules_t *rules, hf_handoff_t *h, char *note,
                                 size_t notesz)
{
    size_t top = rules->interests.top;
    if (top > s->interests.count)
        top = s->interests.count;
    b->interests = calloc(top + 1, sizeof *b->interests);
    if (!b->interests)
        return -ENOMEM;
    /* at the newest event, the time the score the rules saw was decayed to */
    h->interest_count = interests_top(&s->interests, rules, s->last_event_ms, b->interests, top);
    h->interests = b->interests;

    const contact_roster_t *ro = contact_current_roster(s);
    if (ro) {
        b->members = calloc(ro->member_count + 1, sizeof *b->members);
        b->roles = calloc(ro->roles_covered_count + 1, sizeof *b->roles);
        if (!b->members || !b->roles)
            return -ENOMEM;
        size_t n = 0;
        for (size_t i = 0; i < ro->member_count && n < rules->accounts.buying_group_max; i++) {
            const contact_roster_member_t *m = &ro->members[i];
            if (strcmp(m->contact_id, s->contact_id) == 0)
                continue; /* the rep has the contact itself already */
            b->members[n++] = (hf_member_t){m->contact_id, m->role, m->score, m->last_active_ms};
        }
        for (size_t i = 0; i < ro->roles_covered_count; i++)
            b->roles[i] = ro->roles_covered[i];
        h->buying_group = b->members;
        h->buying_group_count = n;
        h->roles_covered = b->roles;
        h->roles_covered_count = ro->roles_covered_count;
    }

    int32_t tier = hf_account_tier(rules, s->account_id, NULL);
    h->routing_team = hf_route(rules, fit_get(&s->traits, FIT_COUNTRY),
                               fit_get(&s->traits, FIT_REGION), tier, note, notesz);
    h->routing_note = note[0] ? note : NULL;
    return 0;
}

static int emit_handoff(contact_state_t *s, const hf_event_t *ev, const hf_rules_t *rules,
                        const hf_contact_rule_t *cr, const char *rule_name, const qualify_view_t *v,
                        hf_stage_t stage_before, int64_t now_ms, const hf_sink_t *sink)
{
    handoff_build_t b = {0};
    char handoff_id[HF_HANDOFF_ID_SIZE];
    int r =
        hf_handoff_id(handoff_id, sizeof handoff_id, HF_ENTITY_CONTACT, s->contact_id, s->cycle);
    if (r < 0)
        goto out;
    hf_handoff_t h = {
        .handoff_id = handoff_id,
        .entity_type = HF_ENTITY_CONTACT,
        .entity_id = s->contact_id,
        .account_id = s->account_id,
        .rule = rule_name,
        .qualified_at_ms = ev->occurred_at_ms,
        .emitted_at_ms = now_ms,
        .score = v->score,
        .fit_grade = fit_grade_letter(rules, v->fit.grade),
        .stage_before = hf_stage_name(stage_before),
        .routing_region = fit_get(&s->traits, FIT_REGION),
        .kind = "new_business",
    };
    r = condition_reasons(&b, ev, cr, rule_name, rules, v);
    if (r == 0)
        r = score_reasons(&b, s, rules);
    if (r == 0)
        r = fit_reasons(&b, s, rules, v);
    if (r == 0)
        r = build_journey(&b, s, rules, &h.journey);
    char note[160];
    if (r == 0)
        r = build_account_context(&b, s, rules, &h, note, sizeof note);
    /* the case opens and its clocks start in the routing team's calendar */
    sla_entity_t e = contact_sla_entity(s);
    sla_attribution_t attr = {rule_name, s->source, s->first_campaign, s->last_campaign,
                              h.routing_team};
    if (r == 0)
        r = sla_start(&e, handoff_id, &attr, rules, now_ms, &h.sla_accept_by_ms,
                      &h.sla_first_touch_by_ms, sink);
    if (r < 0)
        goto out;
    h.reasons = b.reasons;
    h.reason_count = b.reason_count;
    if (sink && sink->handoff)
        r = sink->handoff(sink->opaque, &h);
out:
    build_free(&b);
    return r;
}

/* The stages a contact may qualify from. */
static bool may_qualify_from(hf_stage_t stage)
{
    return stage == HF_STAGE_KNOWN || stage == HF_STAGE_ENGAGED || stage == HF_STAGE_RECYCLED;
}

/* A form of a type the rules call a hand-raiser (exclusions aside). */
static bool hand_raiser_form(const hf_event_t *ev, const hf_rules_t *rules)
{
    return ev->kind == HF_EV_FORM && (unsigned)ev->form_type < 32 &&
           (rules->qualify.hand_raiser_forms & (1u << ev->form_type));
}

int qualify_fold(contact_state_t *s, const hf_event_t *ev, const hf_rules_t *rules, int64_t now_ms,
                 const hf_sink_t *sink)
{
    if (s->handed_off)
        return 0;
    int64_t t = ev->occurred_at_ms;
    /* A hand-raiser is judged at its event time: sales feedback dated after the form
     * that was folded before it (records arriving late or out of order) does not take
     * the handoff away.  The stage at @t comes from the cycle's history; when it cannot
     * tell, the stage as known applies. */
    hf_stage_t stage_then = s->stage;
    bool backdated = false;
    if (!may_qualify_from(s->stage)) {
        if (!hand_raiser_form(ev, rules) || !sla_history_stage_at(&s->history, t, &stage_then) ||
            !may_qualify_from(stage_then))
            return 0;
        backdated = true;
    }
    int64_t grace_ms = rules->qualify.grace_ms > 0 ? rules->qualify.grace_ms : 0;
    if (timespan_older_than(t, s->last_event_ms, grace_ms))
        return 0;

    qualify_view_t v;
    v.score = score_round(score_value_at(&s->score, rules, s->last_event_ms));
    fit_eval(&s->traits, rules, &v.fit);

    const hf_contact_rule_t *cr = NULL;
    const char *rule_name = NULL;
    bool hand_raiser = hand_raiser_form(ev, rules) &&
                       !(rules->qualify.hand_raisers_respect_exclusions && v.fit.excluded >= 0);
    /* after a recycle: the cooldown, and new behaviour since (sla.h) */
    if (!sla_may_qualify(&s->sla, rules, t, hand_raiser))
        return 0;
    if (hand_raiser) {
        rule_name = rules->qualify.hand_raiser_rule ? rules->qualify.hand_raiser_rule
                                                    : HAND_RAISER_DEFAULT_RULE;
    } else if (backdated) {
        return 0; /* contact rules judge the contact as it is */
    } else {
        for (size_t i = 0; i < rules->qualify.contact_rule_count && !cr; i++)
            if (rules->qualify.contact_rules[i].name &&
                contact_rule_holds(s, &rules->qualify.contact_rules[i], rules, &v, t))
                cr = &rules->qualify.contact_rules[i];
        if (!cr)
            return 0;
        rule_name = cr->name;
    }

    /* once per cycle: marked before the sink runs, so a sink error cannot lead to a
     * second handoff from the same state */
    s->handed_off = true;
    int r = emit_handoff(s, ev, rules, cr, rule_name, &v, stage_then, now_ms, sink);
    if (r < 0)
        return r;
    if (backdated) {
        /* sales have it further already: the lifecycle stays where they put it (no
         * change to conversation_ready, which ranks below), and what they answered
         * before the case existed answers it now, at the times they did */
        sla_entity_t e = contact_sla_entity(s);
        r = sla_replay_history(&e, rules, now_ms, sink);
    } else {
        char cause[160];
        snprintf(cause, sizeof cause, "rule %s", rule_name);
        r = contact_set_stage(s, HF_STAGE_CONVERSATION_READY, t, cause, sink);
    }
    if (r < 0 || !s->sla.parked_count)
        return r;
    /* sales answered before the handoff reached us: their answer applies now */
    sla_entity_t e = contact_sla_entity(s);
    bool recycled = false;
    r = sla_apply_parked(&e, rules, now_ms, sink, &recycled);
    if (r == 0 && recycled)
        contact_recycled(s, rules);
    return r;
}
