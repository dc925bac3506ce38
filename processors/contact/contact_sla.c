/* Stage 2's side of feedback and SLA clocks: the contact as an sla_entity_t, its
 * attribution, and the score policy of a recycle. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "contact_priv.h"

sla_entity_t contact_sla_entity(contact_state_t *s)
{
    return (sla_entity_t){
        .type = HF_ENTITY_CONTACT,
        .id = s->contact_id,
        .stage = &s->stage,
        .cycle = &s->cycle,
        .handed_off = &s->handed_off,
        .sla = &s->sla,
        .history = &s->history,
    };
}

/* Replaces *@slot with a copy of @v when @take.  0 or -ENOMEM. */
static int take_value(char **slot, int64_t *slot_at, const char *v, int64_t at_ms, bool take)
{
    if (!take)
        return 0;
    *slot_at = at_ms;
    if (*slot && strcmp(*slot, v) == 0)
        return 0; /* the same campaign again: only its time moves */
    char *copy = strdup(v);
    if (!copy)
        return -ENOMEM;
    free(*slot);
    *slot = copy;
    *slot_at = at_ms;
    return 0;
}

int contact_note_attribution(contact_state_t *s, const hf_event_t *ev)
{
    int64_t t = ev->occurred_at_ms;
    const char *source = ev->utm_source ? ev->utm_source : ev->source;
    const char *campaign = ev->kind == HF_EV_WEB_VISIT ? ev->utm_campaign : ev->campaign;
    int r = 0;
    if (source && *source)
        r = take_value(&s->source, &s->source_at_ms, source, t, !s->source || t < s->source_at_ms);
    if (r == 0 && campaign && *campaign)
        r = take_value(&s->first_campaign, &s->first_campaign_at_ms, campaign, t,
                       !s->first_campaign || t < s->first_campaign_at_ms);
    if (r == 0 && campaign && *campaign)
        r = take_value(&s->last_campaign, &s->last_campaign_at_ms, campaign, t,
                       !s->last_campaign || t >= s->last_campaign_at_ms);
    return r;
}

void contact_recycled(contact_state_t *s, const hf_rules_t *rules)
{
    switch (rules->recycle.score_policy) {
    case HF_RECYCLE_SCORE_RESET:
        score_scale(&s->score, rules, 0.0);
        break;
    case HF_RECYCLE_SCORE_HALVE:
        score_scale(&s->score, rules, 0.5);
        break;
    default:
        break;
    }
}

int contact_feedback(contact_state_t *s, const hf_event_t *ev, const hf_rules_t *rules,
                     int64_t now_ms, const hf_sink_t *sink)
{
    sla_entity_t e = contact_sla_entity(s);
    bool recycled = false;
    hf_stage_t before = s->stage;
    int r = sla_feedback(&e, ev, rules, now_ms, sink, &recycled);
    if (r < 0)
        return r;
    if (recycled)
        contact_recycled(s, rules);
    /* the account hears of the new stage (and score) */
    int sr = s->stage != before ? contact_send_summary(s, rules, ev->occurred_at_ms, sink) : 0;
    if (sr < 0)
        return sr;
    return r == SLA_FEEDBACK_UNKNOWN ? CONTACT_FOLD_UNKNOWN_HANDOFF : CONTACT_FOLD_APPLIED;
}

int contact_sla_fire(contact_state_t *s, const hf_rules_t *rules, int64_t now_ms,
                     const hf_sink_t *sink)
{
    if (s->redirect_to)
        return 0;
    sla_entity_t e = contact_sla_entity(s);
    bool recycled = false;
    int r = sla_fire(&e, rules, now_ms, sink, &recycled);
    if (r == 0 && recycled) {
        contact_recycled(s, rules);
        r = contact_send_summary(s, rules, s->events ? s->last_event_ms : now_ms, sink);
    }
    return r;
}

int64_t contact_state_next_due(const contact_state_t *s)
{
    return s->redirect_to ? 0 : sla_next_due(&s->sla);
}

bool contact_sla_reschedule(contact_state_t *s, const hf_rules_t *rules)
{
    return !s->redirect_to && sla_reschedule(&s->sla, rules);
}
