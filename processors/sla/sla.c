/* Sales feedback and SLA clocks (semantics in sla.h): the case a handoff opens, what
 * goes to the sink, and the clocks with their escalation.  Sales' answers are in
 * sla_feedback.c, recycling and the recycle gate in sla_gate.c, the state's
 * encoding in sla_codec.c. */
#include "sla.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sla_priv.h"

/* ---- the case ---- */

void sla_parked_free(sla_parked_t *p)
{
    free(p->event_id);
    free(p->owner_id);
    free(p->reason);
    free(p->channel);
}

void sla_case_clear(sla_state_t *s)
{
    free(s->handoff_id);
    free(s->calendar);
    free(s->team);
    free(s->rule);
    free(s->source);
    free(s->first_campaign);
    free(s->last_campaign);
    free(s->owner_id);
    s->handoff_id = s->calendar = s->team = s->rule = s->source = NULL;
    s->first_campaign = s->last_campaign = s->owner_id = NULL;
    s->handoff_at_ms = 0;
    memset(s->clocks, 0, sizeof s->clocks);
    s->attempts = 0;
    s->no_response_due_ms = 0;
    s->last_attempt_at_ms = 0;
    s->accepted = s->touched = false;
}

void sla_state_free(sla_state_t *s)
{
    sla_case_clear(s);
    for (size_t i = 0; i < s->parked_count; i++)
        sla_parked_free(&s->parked[i]);
    free(s->parked);
    s->parked = NULL;
    s->parked_count = 0;
}

char *sla_dup_opt(const char *v, bool *ok)
{
    if (!v)
        return NULL;
    char *d = strdup(v);
    if (!d)
        *ok = false;
    return d;
}

const hf_calendar_t *sla_case_calendar(const sla_state_t *s, const hf_rules_t *rules)
{
    const hf_calendar_t *cal = s->calendar ? hf_rules_calendar(rules, s->calendar) : NULL;
    return cal ? cal : hf_rules_team_calendar(rules, s->team);
}

/* ---- what goes to the sink ---- */

int sla_set_stage(const sla_entity_t *e, hf_stage_t to, int64_t at_ms, const char *cause,
                  const hf_sink_t *sink)
{
    hf_stage_t from = *e->stage;
    *e->stage = to;
    /* a replayed answer's change was emitted (and noted) when it was folded */
    if (e->replay)
        return 0;
    /* an answer's changes are noted as the answer's, once it is applied */
    if (e->history && !e->answer) {
        int r = sla_history_note(e->history, to, at_ms, NULL, false);
        if (r < 0)
            return r;
    }
    if (!sink || !sink->lifecycle)
        return 0;
    hf_lifecycle_t lc = {
        .entity_type = e->type,
        .entity_id = e->id,
        .from_stage = hf_stage_name(from),
        .to_stage = hf_stage_name(to),
        .at_ms = at_ms,
        .cause = cause,
    };
    return sink->lifecycle(sink->opaque, &lc);
}

/* Marketing's numbers are about handoffs: what became of the entity while it has no
 * case (sales working a lead marketing never handed over, or after a recycle) is
 * counted as "feedback_no_handoff" instead, once per answer. */
static bool about_a_case(const char *metric)
{
    return strncmp(metric, "feedback_", 9) == 0 || strcmp(metric, "handoff") == 0;
}

int sla_outcome(const sla_entity_t *e, const char *metric, const char *detail, int64_t duration_ms,
                const hf_sink_t *sink)
{
    if (!sink || !sink->outcome)
        return 0;
    const sla_state_t *s = e->sla;
    if (!s->handoff_id && !about_a_case(metric))
        return 0;
    /* a replayed answer was counted under feedback_* when it was folded */
    if (e->replay && strncmp(metric, "feedback_", 9) == 0)
        return 0;
    hf_outcome_t o = {
        .entity_type = e->type,
        .metric = metric,
        .detail = detail,
        .rule = s->rule,
        .source = s->source,
        .first_campaign = s->first_campaign,
        .last_campaign = s->last_campaign,
        .team = s->team,
        .owner = s->owner_id,
        .duration_ms = duration_ms,
    };
    return sink->outcome(sink->opaque, &o);
}

static int emit_breach(const sla_entity_t *e, int kind, int32_t level, int64_t due_ms,
                       int64_t now_ms, const hf_sink_t *sink)
{
    const sla_state_t *s = e->sla;
    char id[HF_BREACH_ID_SIZE];
    int r = hf_breach_id(id, sizeof id, s->handoff_id, kind, level);
    if (r < 0)
        return r;
    if (sink && sink->breach) {
        hf_breach_t b = {
            .breach_id = id,
            .handoff_id = s->handoff_id,
            .entity_type = e->type,
            .entity_id = e->id,
            .owner_id = s->owner_id,
            .sla = kind,
            .due_at_ms = due_ms,
            .breached_at_ms = now_ms,
            .level = level,
        };
        if ((r = sink->breach(sink->opaque, &b)) < 0)
            return r;
    }
    return level == 1 ? sla_outcome(e, "sla_breached", hf_sla_kind_name(kind), 0, sink) : 0;
}

/* ---- clocks ---- */

int sla_satisfy(const sla_entity_t *e, int kind, int64_t at_ms, int64_t now_ms,
                const hf_sink_t *sink)
{
    sla_clock_t *c = &e->sla->clocks[kind];
    if (!c->deadline_ms || c->done)
        return 0;
    c->done = true;
    c->due_ms = 0;
    if (c->level > 0)
        return 0;
    if (at_ms <= c->deadline_ms)
        return sla_outcome(e, "sla_met", hf_sla_kind_name(kind), 0, sink);
    c->level = 1;
    return emit_breach(e, kind, 1, c->deadline_ms, now_ms, sink);
}

void sla_cancel(sla_state_t *s, int kind)
{
    if (!s->clocks[kind].deadline_ms)
        return;
    s->clocks[kind].done = true;
    s->clocks[kind].due_ms = 0;
}

int sla_start(const sla_entity_t *e, const char *handoff_id, const sla_attribution_t *attr,
              const hf_rules_t *rules, int64_t now_ms, int64_t *accept_by, int64_t *first_touch_by,
              const hf_sink_t *sink)
{
    sla_state_t *s = e->sla;
    sla_case_clear(s);
    bool ok = true;
    s->handoff_id = sla_dup_opt(handoff_id, &ok);
    s->rule = sla_dup_opt(attr->rule, &ok);
    s->source = sla_dup_opt(attr->source, &ok);
    s->first_campaign = sla_dup_opt(attr->first_campaign, &ok);
    s->last_campaign = sla_dup_opt(attr->last_campaign, &ok);
    s->team = sla_dup_opt(attr->team, &ok);
    const hf_calendar_t *cal = hf_rules_team_calendar(rules, attr->team);
    s->calendar = sla_dup_opt(cal ? cal->name : NULL, &ok);
    if (!ok)
        return -ENOMEM;
    s->handoff_at_ms = now_ms;
    for (int k = 0; k < HF_SLA__COUNT; k++) {
        if (rules->sla.clocks[k].within_ms <= 0)
            continue;
        int64_t deadline = hf_calendar_add(cal, now_ms, rules->sla.clocks[k].within_ms);
        s->clocks[k] = (sla_clock_t){.deadline_ms = deadline, .due_ms = deadline};
    }
    /* the recycle gate is passed: a new cycle's evidence starts from scratch */
    s->recycled = false;
    s->new_points = 0;
    *accept_by = s->clocks[HF_SLA_ACCEPT].deadline_ms;
    *first_touch_by = s->clocks[HF_SLA_FIRST_TOUCH].deadline_ms;
    return sla_outcome(e, "handoff", NULL, 0, sink);
}

int64_t sla_next_due(const sla_state_t *s)
{
    int64_t next = s->no_response_due_ms;
    for (int k = 0; k < HF_SLA__COUNT; k++) {
        const sla_clock_t *c = &s->clocks[k];
        if (!c->done && c->due_ms && (!next || c->due_ms < next))
            next = c->due_ms;
    }
    return next;
}

bool sla_reschedule(sla_state_t *s, const hf_rules_t *rules)
{
    if (!s->handoff_id)
        return false;
    const hf_calendar_t *cal = sla_case_calendar(s, rules);
    bool changed = false;
    for (int k = 0; k < HF_SLA__COUNT; k++) {
        sla_clock_t *c = &s->clocks[k];
        if (!c->deadline_ms || c->done || c->level > 0)
            continue;
        if (rules->sla.clocks[k].within_ms <= 0) {
            sla_cancel(s, k);
            changed = true;
            continue;
        }
        int64_t deadline = hf_calendar_add(cal, s->handoff_at_ms, rules->sla.clocks[k].within_ms);
        if (deadline != c->deadline_ms) {
            c->deadline_ms = c->due_ms = deadline;
            changed = true;
        }
    }
    return changed;
}

/* Emits the breaches of clock @kind that fell due by @now_ms, one per level, each
 * scheduling the next escalation.  0, -ENOMEM or the sink's errno. */
static int fire_clock(const sla_entity_t *e, int kind, const hf_calendar_t *cal,
                      const hf_rules_t *rules, int64_t now_ms, const hf_sink_t *sink)
{
    sla_clock_t *c = &e->sla->clocks[kind];
    const hf_sla_rule_t *rule = &rules->sla.clocks[kind];
    /* bounded: one breach per level */
    for (int n = 0; !c->done && c->due_ms && c->due_ms <= now_ms && n <= HF_SLA_ESCALATIONS_MAX;
         n++) {
        int64_t due = c->due_ms;
        c->level++;
        uint32_t step = (uint32_t)c->level - 1;
        c->due_ms = step < rule->escalate_count && step < HF_SLA_ESCALATIONS_MAX
                        ? hf_calendar_add(cal, due, rule->escalate_ms[step])
                        : 0;
        int r = emit_breach(e, kind, c->level, due, now_ms, sink);
        if (r < 0)
            return r;
    }
    return 0;
}

int sla_fire(const sla_entity_t *e, const hf_rules_t *rules, int64_t now_ms, const hf_sink_t *sink,
             bool *recycled)
{
    *recycled = false;
    sla_state_t *s = e->sla;
    if (!s->handoff_id)
        return 0;
    const hf_calendar_t *cal = sla_case_calendar(s, rules);
    for (int k = 0; k < HF_SLA__COUNT; k++) {
        int r = fire_clock(e, k, cal, rules, now_ms, sink);
        if (r < 0)
            return r;
    }
    if (s->no_response_due_ms && s->no_response_due_ms <= now_ms) {
        char cause[160];
        snprintf(cause, sizeof cause, "no response after %d attempts", (int)s->attempts);
        /* the change happens now; the gate counts from the last attempt (event time),
         * like every other recycle */
        return sla_recycle(e, now_ms, s->last_attempt_at_ms, "no response", cause, sink, recycled);
    }
    return 0;
}
