/* Recycling and the recycle gate (sla.h): a recycle closes the case and starts a new
 * qualification cycle, whose handoff waits for the cooldown and new evidence; an
 * identify can reset a disqualified entity behind the same gate.  And the history of
 * the cycle's stages, which a new cycle starts over. */
#include "sla.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sla_priv.h"
#include "util/timespan.h"
#include "util/vec.h"

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

/* The case closes and a new cycle begins behind the gate, counted from @gate_ms; its
 * history begins with the change at @at_ms to the stage the entity is in now.  0 or
 * -ENOMEM. */
static int new_cycle(const sla_entity_t *e, int64_t at_ms, int64_t gate_ms)
{
    sla_state_t *s = e->sla;
    sla_case_clear(s);
    (*e->cycle)++;
    *e->handed_off = false;
    s->recycled = true;
    s->recycled_at_ms = gate_ms;
    s->new_points = 0;
    return e->history && !e->replay ? sla_history_restart(e->history, *e->stage, at_ms, e->answer)
                                    : 0;
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
    *recycled = true;
    return new_cycle(e, at_ms, gate_ms);
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
    /* an identify dated before the disqualification, however late it arrived, is not
     * "again" */
    hf_stage_t then;
    if (e->history && sla_history_stage_at(e->history, at_ms, &then) &&
        then != HF_STAGE_DISQUALIFIED)
        return 0;
    int r =
        sla_set_stage(e, HF_STAGE_KNOWN, at_ms, "identified again after disqualification", sink);
    if (r == 0)
        r = drop_parked(e, sink);
    /* a fresh start, not a free pass: the next handoff passes the recycle gate */
    if (r == 0)
        r = new_cycle(e, at_ms, at_ms);
    return r < 0 ? r : SLA_IDENTIFY_RESET;
}

/* ---- the history of the cycle's stages ---- */

void sla_history_init(sla_history_t *h)
{
    *h = (sla_history_t){.complete = true};
}

static void entry_free(sla_stage_entry_t *x)
{
    free(x->owner_id);
    free(x->reason);
}

static void history_clear(sla_history_t *h)
{
    for (size_t i = 0; i < h->count; i++)
        entry_free(&h->entries[i]);
    h->count = 0;
}

void sla_history_free(sla_history_t *h)
{
    history_clear(h);
    free(h->entries);
    h->entries = NULL;
}

sla_stage_entry_t *sla_history_slot(sla_history_t *h)
{
    /* the capacity vec_grow() gave for this count: 4, 8, 16 */
    size_t cap = 0;
    if (h->count)
        for (cap = 4; cap < h->count; cap *= 2)
            ;
    sla_stage_entry_t *grown = vec_grow(h->entries, &cap, h->count + 1, sizeof *grown);
    if (!grown)
        return NULL;
    h->entries = grown;
    sla_stage_entry_t *x = &h->entries[h->count++];
    *x = (sla_stage_entry_t){0};
    return x;
}

int sla_history_note(sla_history_t *h, hf_stage_t stage, int64_t at_ms, const sla_answer_t *a,
                     bool ignored)
{
    sla_stage_entry_t x = {.stage = stage, .at_ms = at_ms};
    if (a) {
        bool ok = true;
        x.sales = true;
        x.action = a->action;
        x.ignored = ignored;
        x.owner_id =
            sla_dup_opt(a->owner_id && !hf_id_blocked(a->owner_id) ? a->owner_id : NULL, &ok);
        x.reason = sla_dup_opt(a->reason, &ok);
        if (!ok) {
            entry_free(&x);
            return -ENOMEM;
        }
    }
    if (h->count == SLA_HISTORY_MAX) {
        /* bounded: the oldest goes, and with it the certainty of what came when */
        entry_free(&h->entries[0]);
        memmove(h->entries, h->entries + 1, (h->count - 1) * sizeof *h->entries);
        h->count--;
        h->complete = false;
    }
    sla_stage_entry_t *slot = sla_history_slot(h);
    if (!slot) {
        entry_free(&x);
        return -ENOMEM;
    }
    *slot = x;
    return 0;
}

int sla_history_restart(sla_history_t *h, hf_stage_t stage, int64_t at_ms, const sla_answer_t *a)
{
    history_clear(h);
    h->complete = true;
    h->has_since = true;
    h->since_ms = at_ms;
    return sla_history_note(h, stage, at_ms, a, false);
}

void sla_history_forget(sla_history_t *h)
{
    h->complete = false;
}

bool sla_history_stage_at(const sla_history_t *h, int64_t t, hf_stage_t *out)
{
    if (!h->complete || (h->has_since && t < h->since_ms))
        return false;
    /* forward only within a cycle: the furthest stage reached by @t is the stage at @t,
     * whatever order the changes were folded in */
    hf_stage_t best = HF_STAGE_KNOWN;
    hf_stage_rank_t best_rank = hf_stage_rank(best);
    int64_t best_at = INT64_MIN;
    for (size_t i = 0; i < h->count; i++) {
        const sla_stage_entry_t *x = &h->entries[i];
        /* sales acting at the very instant of @t: taken as after it */
        if (x->at_ms > t || (x->at_ms == t && x->sales))
            continue;
        hf_stage_rank_t rank = hf_stage_rank(x->stage);
        if (rank > best_rank || (rank == best_rank && x->at_ms >= best_at)) {
            best = x->stage;
            best_rank = rank;
            best_at = x->at_ms;
        }
    }
    *out = best;
    return true;
}
