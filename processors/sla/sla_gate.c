/* Recycling and the recycle gate (sla.h): a recycle closes the case and starts a new
 * qualification cycle, whose handoff waits for the cooldown and new evidence; an
 * identify can reset a disqualified entity behind the same gate. */
#include "sla.h"

#include "sla_priv.h"
#include "util/timespan.h"

/* Feedback parked for this cycle's handoff can never apply once the cycle is over:
 * counted as stale and dropped. */
static int drop_parked(const sla_entity_t *e, const hf_sink_t *sink)
{
    sla_state_t *s = e->sla;
    int r = 0;
    for (size_t i = 0; i < s->parked_count; i++) {
        if (r == 0)
            r = sla_outcome(e, "feedback_stale", hf_sales_action_name(s->parked[i].action), 0,
                            sink);
        sla_parked_free(&s->parked[i]);
    }
    s->parked_count = 0;
    return r;
}

/* The case closes and a new cycle begins behind the gate, counted from @gate_ms. */
static void new_cycle(const sla_entity_t *e, int64_t gate_ms)
{
    sla_state_t *s = e->sla;
    sla_case_clear(s);
    (*e->cycle)++;
    *e->handed_off = false;
    s->recycled = true;
    s->recycled_at_ms = gate_ms;
    s->new_points = 0;
}

int sla_recycle(const sla_entity_t *e, int64_t at_ms, int64_t gate_ms, const char *why,
                const char *cause, const hf_sink_t *sink, bool *recycled)
{
    int r = sla_outcome(e, "recycled", why, 0, sink);
    if (r == 0)
        r = sla_set_stage(e, HF_STAGE_RECYCLED, at_ms, cause, sink);
    if (r == 0)
        r = drop_parked(e, sink);
    if (r < 0)
        return r;
    new_cycle(e, gate_ms);
    *recycled = true;
    return 0;
}

void sla_note_points(sla_state_t *s, int64_t at_ms, double points)
{
    if (s->recycled && points > 0 && at_ms > s->recycled_at_ms)
        s->new_points += points;
}

bool sla_may_qualify(const sla_state_t *s, const hf_rules_t *rules, int64_t t, bool hand_raiser)
{
    if (!s->recycled)
        return true;
    if (hand_raiser && rules->recycle.hand_raisers_bypass)
        return true;
    if (t < timespan_add_sat(s->recycled_at_ms, rules->recycle.cooldown_ms))
        return false;
    return s->new_points >= (double)rules->recycle.new_points && s->new_points > 0;
}

bool sla_fresh_evidence(const sla_state_t *s, int64_t last_matched_ms)
{
    return !s->recycled || last_matched_ms > s->recycled_at_ms;
}

int sla_identify_reset(const sla_entity_t *e, const hf_rules_t *rules, int64_t at_ms,
                       const hf_sink_t *sink)
{
    if (*e->stage != HF_STAGE_DISQUALIFIED || !rules->lifecycle.disqualified_reset_on_identify)
        return 0;
    int r =
        sla_set_stage(e, HF_STAGE_KNOWN, at_ms, "identified again after disqualification", sink);
    if (r == 0)
        r = drop_parked(e, sink);
    if (r < 0)
        return r;
    /* a fresh start, not a free pass: the next handoff passes the recycle gate */
    new_cycle(e, at_ms);
    return SLA_IDENTIFY_RESET;
}
