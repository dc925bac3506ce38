#include "contact.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "contact_priv.h"
#include "util/hash.h"
#include "qualify.h"

contact_state_t *contact_state_new(const char *contact_id)
{
    contact_state_t *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->contact_id = strdup(contact_id);
    if (!s->contact_id) {
        free(s);
        return NULL;
    }
    s->stage = HF_STAGE_KNOWN;
    s->cycle = 1;
    sla_history_init(&s->history);
    return s;
}

void contact_state_free_parts(contact_state_t *s)
{
    free(s->contact_id);
    score_free(&s->score);
    fit_free(&s->traits);
    dedupe_free(&s->dedupe);
    journey_free(&s->journey);
    interests_free(&s->interests);
    free(s->account_id);
    contact_roster_free(&s->roster);
    free(s->redirect_to);
    free(s->source);
    free(s->first_campaign);
    free(s->last_campaign);
    sla_state_free(&s->sla);
    sla_history_free(&s->history);
}

void contact_state_free(contact_state_t *s)
{
    if (!s)
        return;
    contact_state_free_parts(s);
    free(s);
}

const char *contact_state_id(const contact_state_t *s)
{
    return s->contact_id;
}

hf_stage_t contact_state_stage(const contact_state_t *s)
{
    return s->stage;
}

double contact_state_score(const contact_state_t *s, const hf_rules_t *rules, int64_t at_ms)
{
    if (s->events && at_ms < s->last_event_ms)
        at_ms = s->last_event_ms;
    return score_value_at(&s->score, rules, at_ms);
}

const char *contact_state_grade(const contact_state_t *s, const hf_rules_t *rules)
{
    fit_result_t fit;
    fit_eval(&s->traits, rules, &fit);
    return fit_grade_letter(rules, fit.grade);
}

int64_t contact_state_last_event_ms(const contact_state_t *s)
{
    return s->events ? s->last_event_ms : 0;
}

bool contact_state_stage_at(const contact_state_t *s, int64_t at_ms, hf_stage_t *out)
{
    return !s->redirect_to && sla_history_stage_at(&s->history, at_ms, out);
}

uint32_t contact_state_cycle(const contact_state_t *s)
{
    return s->cycle;
}

bool contact_state_handed_off(const contact_state_t *s)
{
    return s->handed_off;
}

int contact_set_stage(contact_state_t *s, hf_stage_t to, int64_t at_ms, const char *cause,
                      const hf_sink_t *sink)
{
    sla_entity_t e = contact_sla_entity(s);
    return sla_set_stage(&e, to, at_ms, cause, sink);
}

/* Lifecycle moves that need no rule: the first event makes the contact known (a new
 * state starts at "known"; the change from "anonymous" is announced now, when there is
 * an event to date it), a score at engaged_score makes it engaged. */
int contact_advance_stage(contact_state_t *s, const hf_event_t *ev, const hf_rules_t *rules,
                          bool first, const hf_sink_t *sink)
{
    char cause[96];
    int64_t t = ev->occurred_at_ms;
    if (first && s->stage == HF_STAGE_KNOWN) {
        s->stage = HF_STAGE_ANONYMOUS;
        snprintf(cause, sizeof cause, "first seen: %s", hf_event_kind_name(ev->kind));
        int r = contact_set_stage(s, HF_STAGE_KNOWN, t, cause, sink);
        if (r < 0)
            return r;
    }
    if (s->stage == HF_STAGE_KNOWN && rules->lifecycle.engaged_score > 0) {
        int32_t score = score_round(score_value_at(&s->score, rules, s->last_event_ms));
        if (score >= rules->lifecycle.engaged_score) {
            snprintf(cause, sizeof cause, "score %d >= engaged_score %d", (int)score,
                     (int)rules->lifecycle.engaged_score);
            return contact_set_stage(s, HF_STAGE_ENGAGED, t, cause, sink);
        }
    }
    return 0;
}

int contact_fold(contact_state_t *s, const hf_event_t *ev, const hf_rules_t *rules, int64_t now_ms,
                 const hf_sink_t *sink)
{
    /* what reaches a merged-away id belongs to the survivor: the caller forwards it,
     * and the survivor's dedupe memory (which took this one's) drops repeats */
    if (s->redirect_to)
        return CONTACT_FOLD_REDIRECT;
    int64_t t = ev->occurred_at_ms;
    if (ev->event_id) {
        uint64_t h = hash_fnv1a64_str(ev->event_id);
        if (dedupe_contains(&s->dedupe, h))
            return CONTACT_FOLD_DUPLICATE;
        /* Repeats come from delivery (tracker retries, a stage re-sending after a
         * crash), so ids age in processing time, from when they were seen, not
         * from when the event happened: a re-sent copy of month-old stitched
         * history is recognised as surely as a retry of a click.  A replay of a
         * backlog, processed in minutes, forgets ids only by count. */
        int r =
            dedupe_remember(&s->dedupe, h, now_ms, rules->dedupe.max_ids, rules->dedupe.window_ms);
        if (r < 0)
            return r;
    }
    /* sales feedback moves the lifecycle and the SLA clocks, not the journey */
    if (ev->kind == HF_EV_SALES)
        return contact_feedback(s, ev, rules, now_ms, sink);

    bool first = s->events == 0;
    bool carries_contact = !hf_id_blocked(ev->contact_id);
    /* replayed anonymous history (and later anonymous visits dated before the
     * identify) is the "before we knew them" part of the journey */
    bool before_known = !carries_contact && (!s->has_known_since || t < s->known_since_ms);
    s->events++;
    if (first || t < s->first_seen_ms)
        s->first_seen_ms = t;
    if (first || t > s->last_event_ms)
        s->last_event_ms = t;
    if (carries_contact && (!s->has_known_since || t < s->known_since_ms)) {
        s->has_known_since = true;
        s->known_since_ms = t;
    }

    int r = fit_fold(&s->traits, ev);
    /* points earned after a recycle are the new evidence a requalification needs */
    bool gate = s->sla.recycled;
    double before = gate ? score_value_at(&s->score, rules, t) : 0;
    if (r == 0)
        r = score_fold(&s->score, ev, rules, NULL);
    if (r == 0 && gate)
        sla_note_points(&s->sla, t, score_value_at(&s->score, rules, t) - before);
    if (r == 0)
        r = contact_note_attribution(s, ev);
    if (r == 0)
        r = journey_fold(&s->journey, ev, rules, before_known);
    if (r == 0)
        r = interests_fold(&s->interests, ev, rules);
    /* the account first, so that a handoff names the account the contact is in now */
    if (r == 0)
        r = contact_update_account(s, rules, t, sink);
    /* a disqualified contact identifying itself again starts over (per config) */
    if (r == 0 && (ev->kind == HF_EV_FORM ||
                   (ev->kind == HF_EV_IDENTITY && ev->identity_kind == HF_IDENTITY_IDENTIFY))) {
        sla_entity_t e = contact_sla_entity(s);
        r = sla_identify_reset(&e, rules, t, sink);
        r = r == SLA_IDENTIFY_RESET ? 0 : r;
    }
    if (r == 0)
        r = contact_advance_stage(s, ev, rules, first, sink);
    if (r == 0)
        r = qualify_fold(s, ev, rules, now_ms, sink);
    /* ... and the summary last, so that it carries the stage this event led to */
    if (r == 0)
        r = contact_send_summary(s, rules, t, sink);
    return r < 0 ? r : CONTACT_FOLD_APPLIED;
}
