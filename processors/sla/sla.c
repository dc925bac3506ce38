/* Sales feedback and SLA clocks: see sla.h for the semantics. */
#include "sla.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calendar.h"
#include "util/timespan.h"
#include "util/vec.h"

/* Cycles searched for the handoff an old id names. */
#define SLA_STALE_SEARCH_MAX 10000

/* ---- the case ---- */

static void parked_free(sla_parked_t *p)
{
    free(p->event_id);
    free(p->owner_id);
    free(p->reason);
    free(p->channel);
}

/* Closes the case (the parked feedback stays: it waits for this cycle's handoff). */
static void case_clear(sla_state_t *s)
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
    case_clear(s);
    for (size_t i = 0; i < s->parked_count; i++)
        parked_free(&s->parked[i]);
    free(s->parked);
    s->parked = NULL;
    s->parked_count = 0;
}

/* strdup of NULL is NULL; *ok goes false on out of memory. */
static char *dup_opt(const char *v, bool *ok)
{
    if (!v)
        return NULL;
    char *d = strdup(v);
    if (!d)
        *ok = false;
    return d;
}

/* The calendar the case's clocks run in: the one named at the start, else (it was
 * removed by a reload) the team's under the current rules. */
static const hf_calendar_t *case_calendar(const sla_state_t *s, const hf_rules_t *rules)
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

static int outcome(const sla_entity_t *e, const char *metric, const char *detail,
                   int64_t duration_ms, const hf_sink_t *sink)
{
    if (!sink || !sink->outcome)
        return 0;
    const sla_state_t *s = e->sla;
    if (!s->handoff_id && !about_a_case(metric))
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
    return level == 1 ? outcome(e, "sla_breached", hf_sla_kind_name(kind), 0, sink) : 0;
}

/* ---- clocks ---- */

/* Clock @kind answered at @at_ms (event time, capped at @now_ms): met when in time;
 * an answer after the deadline whose breach was not emitted yet emits it now. */
static int satisfy(const sla_entity_t *e, int kind, int64_t at_ms, int64_t now_ms,
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
        return outcome(e, "sla_met", hf_sla_kind_name(kind), 0, sink);
    c->level = 1;
    return emit_breach(e, kind, 1, c->deadline_ms, now_ms, sink);
}

static void cancel(sla_state_t *s, int kind)
{
    if (!s->clocks[kind].deadline_ms)
        return;
    s->clocks[kind].done = true;
    s->clocks[kind].due_ms = 0;
}

static int64_t since_handoff(const sla_state_t *s, int64_t at_ms)
{
    return at_ms > s->handoff_at_ms ? at_ms - s->handoff_at_ms : 0;
}

int sla_start(const sla_entity_t *e, const char *handoff_id, const sla_attribution_t *attr,
              const hf_rules_t *rules, int64_t now_ms, int64_t *accept_by, int64_t *first_touch_by,
              const hf_sink_t *sink)
{
    sla_state_t *s = e->sla;
    case_clear(s);
    bool ok = true;
    s->handoff_id = dup_opt(handoff_id, &ok);
    s->rule = dup_opt(attr->rule, &ok);
    s->source = dup_opt(attr->source, &ok);
    s->first_campaign = dup_opt(attr->first_campaign, &ok);
    s->last_campaign = dup_opt(attr->last_campaign, &ok);
    s->team = dup_opt(attr->team, &ok);
    const hf_calendar_t *cal = hf_rules_team_calendar(rules, attr->team);
    s->calendar = dup_opt(cal ? cal->name : NULL, &ok);
    if (!ok)
        return -ENOMEM;
    s->handoff_at_ms = now_ms;
    for (int k = 0; k < HF_SLA__COUNT; k++) {
        if (rules->sla[k].within_ms <= 0)
            continue;
        int64_t deadline = hf_calendar_add(cal, now_ms, rules->sla[k].within_ms);
        s->clocks[k] = (sla_clock_t){.deadline_ms = deadline, .due_ms = deadline};
    }
    /* the recycle gate is passed: a new cycle's evidence starts from scratch */
    s->recycled = false;
    s->new_points = 0;
    *accept_by = s->clocks[HF_SLA_ACCEPT].deadline_ms;
    *first_touch_by = s->clocks[HF_SLA_FIRST_TOUCH].deadline_ms;
    return outcome(e, "handoff", NULL, 0, sink);
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
    const hf_calendar_t *cal = case_calendar(s, rules);
    bool changed = false;
    for (int k = 0; k < HF_SLA__COUNT; k++) {
        sla_clock_t *c = &s->clocks[k];
        if (!c->deadline_ms || c->done || c->level > 0)
            continue;
        if (rules->sla[k].within_ms <= 0) {
            cancel(s, k);
            changed = true;
            continue;
        }
        int64_t deadline = hf_calendar_add(cal, s->handoff_at_ms, rules->sla[k].within_ms);
        if (deadline != c->deadline_ms) {
            c->deadline_ms = c->due_ms = deadline;
            changed = true;
        }
    }
    return changed;
}

/* ---- lifecycle moves ---- */

/* Order of the forward stages; recycled and lost are back in nurture. */
static int stage_rank(hf_stage_t st)
{
    switch (st) {
    case HF_STAGE_ANONYMOUS:
        return 0;
    case HF_STAGE_KNOWN:
        return 1;
    case HF_STAGE_ENGAGED:
    case HF_STAGE_RECYCLED:
    case HF_STAGE_LOST:
        return 2;
    case HF_STAGE_CONVERSATION_READY:
        return 3;
    case HF_STAGE_ACCEPTED:
        return 4;
    case HF_STAGE_QUALIFIED:
        return 5;
    case HF_STAGE_OPPORTUNITY:
        return 6;
    case HF_STAGE_CUSTOMER:
        return 7;
    default:
        return 8; /* disqualified */
    }
}

/* Feedback parked for this cycle's handoff can never apply once the cycle is over:
 * counted as stale and dropped. */
static int drop_parked(const sla_entity_t *e, const hf_sink_t *sink)
{
    sla_state_t *s = e->sla;
    int r = 0;
    for (size_t i = 0; i < s->parked_count; i++) {
        if (r == 0)
            r = outcome(e, "feedback_stale", hf_sales_action_name(s->parked[i].action), 0, sink);
        parked_free(&s->parked[i]);
    }
    s->parked_count = 0;
    return r;
}

/* Back to nurture: the case closes, a new cycle begins, the recycle gate shuts. */
/* @at_ms dates the lifecycle change; @gate_ms (event time) is what the cooldown and
 * the new evidence count from. */
static int recycle(const sla_entity_t *e, int64_t at_ms, int64_t gate_ms, const char *why,
                   const char *cause, const hf_sink_t *sink, bool *recycled)
{
    sla_state_t *s = e->sla;
    int r = outcome(e, "recycled", why, 0, sink);
    if (r == 0)
        r = sla_set_stage(e, HF_STAGE_RECYCLED, at_ms, cause, sink);
    if (r == 0)
        r = drop_parked(e, sink);
    if (r < 0)
        return r;
    case_clear(s);
    (*e->cycle)++;
    *e->handed_off = false;
    s->recycled = true;
    s->recycled_at_ms = gate_ms;
    s->new_points = 0;
    *recycled = true;
    return 0;
}

/* A forward move to @to (nothing when the entity is there or further already). */
static int advance(const sla_entity_t *e, hf_stage_t to, int64_t at_ms, const char *cause,
                   const hf_sink_t *sink, bool *moved)
{
    *moved = stage_rank(*e->stage) < stage_rank(to);
    return *moved ? sla_set_stage(e, to, at_ms, cause, sink) : 0;
}

/* One answer of sales, dated @at_ms (event time capped at @now_ms). */
typedef struct answer {
    hf_sales_action_t action;
    int64_t at_ms;
    const char *owner_id, *reason, *channel;
} answer_t;

/* accepted (explicitly, or by contacting): the accept clock stops. */
static int take_accept(const sla_entity_t *e, const answer_t *a, int64_t now_ms,
                       const hf_sink_t *sink)
{
    sla_state_t *s = e->sla;
    int r = satisfy(e, HF_SLA_ACCEPT, a->at_ms, now_ms, sink);
    if (r < 0 || s->accepted)
        return r;
    s->accepted = true;
    r = outcome(e, "accepted", NULL, 0, sink);
    if (r == 0 && s->handoff_id)
        r = outcome(e, "time_to_accept", NULL, since_handoff(s, a->at_ms), sink);
    return r;
}

/* a contact attempt: first touch, follow-up count, the no-response clock */
static int take_contact(const sla_entity_t *e, const answer_t *a, const hf_rules_t *rules,
                        int64_t now_ms, const hf_sink_t *sink)
{
    sla_state_t *s = e->sla;
    s->attempts++;
    int r = satisfy(e, HF_SLA_FIRST_TOUCH, a->at_ms, now_ms, sink);
    if (r == 0 && !s->touched) {
        s->touched = true;
        if (s->handoff_id)
            r = outcome(e, "time_to_first_touch", NULL, since_handoff(s, a->at_ms), sink);
    }
    uint32_t needed =
        rules->sla[HF_SLA_FOLLOW_UP].attempts ? rules->sla[HF_SLA_FOLLOW_UP].attempts : 1;
    if (r == 0 && (uint32_t)s->attempts >= needed) {
        r = satisfy(e, HF_SLA_FOLLOW_UP, a->at_ms, now_ms, sink);
        /* every attempt made and still no meeting: recycled if nothing follows */
        if (r == 0 && s->handoff_id && rules->recycle_no_response_ms > 0) {
            s->no_response_due_ms =
                hf_calendar_add(case_calendar(s, rules), now_ms, rules->recycle_no_response_ms);
            s->last_attempt_at_ms = a->at_ms;
        }
    }
    return r;
}

/* meeting, opportunity, won: progress answers every clock */
static int take_progress(const sla_entity_t *e, const answer_t *a, int64_t now_ms,
                         const hf_sink_t *sink)
{
    sla_state_t *s = e->sla;
    int r = take_accept(e, a, now_ms, sink);
    if (r == 0)
        r = satisfy(e, HF_SLA_FIRST_TOUCH, a->at_ms, now_ms, sink);
    if (r == 0)
        r = satisfy(e, HF_SLA_FOLLOW_UP, a->at_ms, now_ms, sink);
    s->no_response_due_ms = 0;
    return r;
}

/* rejected, lost, disqualified, recycled: an answer that closes the case */
static int take_close(const sla_entity_t *e, const answer_t *a, int64_t now_ms,
                      const hf_sink_t *sink)
{
    sla_state_t *s = e->sla;
    int r = satisfy(e, HF_SLA_ACCEPT, a->at_ms, now_ms, sink);
    cancel(s, HF_SLA_FIRST_TOUCH);
    cancel(s, HF_SLA_FOLLOW_UP);
    s->no_response_due_ms = 0;
    return r;
}

static int apply(const sla_entity_t *e, const answer_t *a, const hf_rules_t *rules, int64_t now_ms,
                 const hf_sink_t *sink, bool *recycled)
{
    sla_state_t *s = e->sla;
    int rank = stage_rank(*e->stage);
    if ((rank == 8 && a->action != HF_SALES_RECYCLED) || (rank == 7 && a->action != HF_SALES_WON)) {
        /* disqualified stays so until an identify resets it (per config) or sales
         * recycle it; a customer is one */
        int r = outcome(e, "feedback_ignored", hf_sales_action_name(a->action), 0, sink);
        return r < 0 ? r : SLA_FEEDBACK_IGNORED;
    }
    if (a->owner_id && !hf_id_blocked(a->owner_id)) {
        char *owner = strdup(a->owner_id);
        if (!owner)
            return -ENOMEM;
        free(s->owner_id);
        s->owner_id = owner;
    }
    if (!s->handoff_id) {
        int r = outcome(e, "feedback_no_handoff", hf_sales_action_name(a->action), 0, sink);
        if (r < 0)
            return r;
    }
    const char *who = s->owner_id ? s->owner_id : "sales";
    const char *reason = a->reason ? a->reason : "no reason given";
    char cause[256];
    bool moved = false;
    int r = 0;
    switch (a->action) {
    case HF_SALES_ACCEPTED:
        snprintf(cause, sizeof cause, "accepted by %s", who);
        r = take_accept(e, a, now_ms, sink);
        if (r == 0)
            r = advance(e, HF_STAGE_ACCEPTED, a->at_ms, cause, sink, &moved);
        break;
    case HF_SALES_CONTACTED:
        snprintf(cause, sizeof cause, "contacted by %s%s%s", who, a->channel ? " via " : "",
                 a->channel ? a->channel : "");
        r = take_accept(e, a, now_ms, sink);
        if (r == 0)
            r = take_contact(e, a, rules, now_ms, sink);
        if (r == 0)
            r = advance(e, HF_STAGE_ACCEPTED, a->at_ms, cause, sink, &moved);
        break;
    case HF_SALES_MEETING_BOOKED:
    case HF_SALES_OPPORTUNITY_CREATED:
    case HF_SALES_WON: {
        static const struct {
            hf_stage_t to;
            const char *what, *metric;
        } progress[] = {
            [HF_SALES_MEETING_BOOKED] = {HF_STAGE_QUALIFIED, "meeting booked", "qualified"},
            [HF_SALES_OPPORTUNITY_CREATED] = {HF_STAGE_OPPORTUNITY, "opportunity created",
                                              "opportunity"},
            [HF_SALES_WON] = {HF_STAGE_CUSTOMER, "won", "won"},
        };
        snprintf(cause, sizeof cause, "%s by %s", progress[a->action].what, who);
        r = take_progress(e, a, now_ms, sink);
        if (r == 0)
            r = advance(e, progress[a->action].to, a->at_ms, cause, sink, &moved);
        if (r == 0 && moved)
            r = outcome(e, progress[a->action].metric, NULL, 0, sink);
        break;
    }
    case HF_SALES_LOST:
        snprintf(cause, sizeof cause, "lost: %s", reason);
        r = take_close(e, a, now_ms, sink);
        if (r == 0)
            r = outcome(e, "lost", a->reason, 0, sink);
        if (r == 0)
            r = sla_set_stage(e, HF_STAGE_LOST, a->at_ms, cause, sink);
        if (r == 0)
            r = recycle(e, a->at_ms, a->at_ms, "lost", "recycled to nurture after lost", sink,
                        recycled);
        break;
    case HF_SALES_REJECTED:
        snprintf(cause, sizeof cause, "rejected by %s: %s", who, reason);
        r = take_close(e, a, now_ms, sink);
        if (r == 0)
            r = outcome(e, "rejected", reason, 0, sink);
        if (r == 0)
            r = recycle(e, a->at_ms, a->at_ms, "rejected", cause, sink, recycled);
        break;
    case HF_SALES_RECYCLED:
        snprintf(cause, sizeof cause, "recycled by %s: %s", who, reason);
        r = take_close(e, a, now_ms, sink);
        if (r == 0)
            r = recycle(e, a->at_ms, a->at_ms, "by sales", cause, sink, recycled);
        break;
    case HF_SALES_DISQUALIFIED:
        snprintf(cause, sizeof cause, "disqualified by %s: %s", who, reason);
        r = take_close(e, a, now_ms, sink);
        if (r == 0)
            r = outcome(e, "disqualified", a->reason, 0, sink);
        if (r == 0)
            r = sla_set_stage(e, HF_STAGE_DISQUALIFIED, a->at_ms, cause, sink);
        break;
    default:
        break;
    }
    return r < 0 ? r : SLA_FEEDBACK_APPLIED;
}

/* ---- feedback ---- */

static int park(const sla_entity_t *e, const hf_event_t *ev, const answer_t *a,
                const hf_rules_t *rules, int64_t now_ms, const hf_sink_t *sink, bool *recycled)
{
    sla_state_t *s = e->sla;
    if (s->parked_count == SLA_PARKED_MAX) {
        /* bounded: the oldest is applied as it is, without waiting any longer */
        sla_parked_t old = s->parked[0];
        vec_remove(s->parked, s->parked_count--, 0, sizeof *s->parked);
        answer_t oa = {old.action, old.at_ms, old.owner_id, old.reason, old.channel};
        int r = apply(e, &oa, rules, now_ms, sink, recycled);
        parked_free(&old);
        if (r < 0)
            return r;
        if (*recycled) /* the cycle this one names is over */
            return outcome(e, "feedback_stale", hf_sales_action_name(a->action), 0, sink) < 0
                       ? -ENOMEM
                       : SLA_FEEDBACK_STALE;
    }
    size_t cap = s->parked_count;
    sla_parked_t *grown = vec_grow(s->parked, &cap, s->parked_count + 1, sizeof *grown);
    if (!grown)
        return -ENOMEM;
    s->parked = grown;
    bool ok = true;
    sla_parked_t p = {
        .event_id = dup_opt(ev->event_id, &ok),
        .action = a->action,
        .at_ms = a->at_ms,
        .owner_id = dup_opt(a->owner_id, &ok),
        .reason = dup_opt(a->reason, &ok),
        .channel = dup_opt(a->channel, &ok),
    };
    if (!ok) {
        parked_free(&p);
        return -ENOMEM;
    }
    s->parked[s->parked_count++] = p;
    return 0;
}

int sla_apply_parked(const sla_entity_t *e, const hf_rules_t *rules, int64_t now_ms,
                     const hf_sink_t *sink, bool *recycled)
{
    sla_state_t *s = e->sla;
    sla_parked_t *list = s->parked;
    size_t n = s->parked_count;
    s->parked = NULL;
    s->parked_count = 0;
    int r = 0;
    bool recycled_here = false;
    for (size_t i = 0; i < n; i++) {
        if (r >= 0 && recycled_here) {
            /* named the handoff this recycle just closed: too late now */
            r = outcome(e, "feedback_stale", hf_sales_action_name(list[i].action), 0, sink);
        } else if (r >= 0) {
            answer_t a = {list[i].action, list[i].at_ms, list[i].owner_id, list[i].reason,
                          list[i].channel};
            r = apply(e, &a, rules, now_ms, sink, &recycled_here);
        }
        parked_free(&list[i]);
    }
    free(list);
    if (recycled_here)
        *recycled = true;
    return r < 0 ? r : 0;
}

/* Which handoff @id is: 0 the open case's, 1 this cycle's not made yet, 2 an
 * earlier cycle's, 3 none of this entity's. */
static int which_handoff(const sla_entity_t *e, const char *id)
{
    const sla_state_t *s = e->sla;
    if (s->handoff_id && strcmp(id, s->handoff_id) == 0)
        return 0;
    char cur[HF_HANDOFF_ID_SIZE];
    if (hf_handoff_id(cur, sizeof cur, e->type, e->id, *e->cycle) > 0 && strcmp(id, cur) == 0)
        return *e->handed_off ? 0 : 1;
    uint32_t first = *e->cycle > SLA_STALE_SEARCH_MAX ? *e->cycle - SLA_STALE_SEARCH_MAX : 1;
    for (uint32_t c = *e->cycle; c-- > first;)
        if (hf_handoff_id(cur, sizeof cur, e->type, e->id, c) > 0 && strcmp(id, cur) == 0)
            return 2;
    return 3;
}

int sla_feedback(const sla_entity_t *e, const hf_event_t *ev, const hf_rules_t *rules,
                 int64_t now_ms, const hf_sink_t *sink, bool *recycled)
{
    *recycled = false;
    answer_t a = {
        .action = ev->sales_action,
        .at_ms = ev->occurred_at_ms < now_ms ? ev->occurred_at_ms : now_ms,
        .owner_id = ev->owner_id,
        .reason = ev->reason,
        .channel = ev->channel,
    };
    if ((unsigned)a.action >= HF_SALES__COUNT)
        return SLA_FEEDBACK_IGNORED;
    const char *action = hf_sales_action_name(a.action);
    int r;
    switch (ev->handoff_id && !hf_id_blocked(ev->handoff_id) ? which_handoff(e, ev->handoff_id)
                                                             : 0) {
    case 0:
        return apply(e, &a, rules, now_ms, sink, recycled);
    case 1:
        r = park(e, ev, &a, rules, now_ms, sink, recycled);
        if (r == 0)
            r = outcome(e, "feedback_early", action, 0, sink);
        return r < 0 ? r : r == SLA_FEEDBACK_STALE ? r : SLA_FEEDBACK_PARKED;
    case 2:
        r = outcome(e, "feedback_stale", action, 0, sink);
        return r < 0 ? r : SLA_FEEDBACK_STALE;
    default:
        r = outcome(e, "feedback_unknown", action, 0, sink);
        return r < 0 ? r : SLA_FEEDBACK_UNKNOWN;
    }
}

int sla_fire(const sla_entity_t *e, const hf_rules_t *rules, int64_t now_ms, const hf_sink_t *sink,
             bool *recycled)
{
    *recycled = false;
    sla_state_t *s = e->sla;
    if (!s->handoff_id)
        return 0;
    const hf_calendar_t *cal = case_calendar(s, rules);
    for (int k = 0; k < HF_SLA__COUNT; k++) {
        sla_clock_t *c = &s->clocks[k];
        const hf_sla_rule_t *rule = &rules->sla[k];
        /* bounded: one breach per level */
        for (int n = 0; !c->done && c->due_ms && c->due_ms <= now_ms && n <= HF_SLA_ESCALATIONS_MAX;
             n++) {
            int64_t due = c->due_ms;
            c->level++;
            uint32_t step = (uint32_t)c->level - 1;
            c->due_ms = step < rule->escalate_count && step < HF_SLA_ESCALATIONS_MAX
                            ? hf_calendar_add(cal, due, rule->escalate_ms[step])
                            : 0;
            int r = emit_breach(e, k, c->level, due, now_ms, sink);
            if (r < 0)
                return r;
        }
    }
    if (s->no_response_due_ms && s->no_response_due_ms <= now_ms) {
        char cause[160];
        snprintf(cause, sizeof cause, "no response after %d attempts", (int)s->attempts);
        /* the change happens now; the gate counts from the last attempt (event time),
         * like every other recycle */
        return recycle(e, now_ms, s->last_attempt_at_ms, "no response", cause, sink, recycled);
    }
    return 0;
}

/* ---- the recycle gate ---- */

void sla_note_points(sla_state_t *s, int64_t at_ms, double points)
{
    if (s->recycled && points > 0 && at_ms > s->recycled_at_ms)
        s->new_points += points;
}

bool sla_may_qualify(const sla_state_t *s, const hf_rules_t *rules, int64_t t, bool hand_raiser)
{
    if (!s->recycled)
        return true;
    if (hand_raiser && rules->recycle_hand_raisers_bypass)
        return true;
    if (t < timespan_add_sat(s->recycled_at_ms, rules->recycle_cooldown_ms))
        return false;
    return s->new_points >= (double)rules->recycle_new_points && s->new_points > 0;
}

bool sla_fresh_evidence(const sla_state_t *s, int64_t last_matched_ms)
{
    return !s->recycled || last_matched_ms > s->recycled_at_ms;
}

int sla_identify_reset(const sla_entity_t *e, const hf_rules_t *rules, int64_t at_ms,
                       const hf_sink_t *sink)
{
    if (*e->stage != HF_STAGE_DISQUALIFIED || !rules->disqualified_reset_on_identify)
        return 0;
    int r =
        sla_set_stage(e, HF_STAGE_KNOWN, at_ms, "identified again after disqualification", sink);
    if (r == 0)
        r = drop_parked(e, sink);
    if (r < 0)
        return r;
    case_clear(e->sla);
    (*e->cycle)++;
    *e->handed_off = false;
    /* a fresh start, not a free pass: the next handoff passes the recycle gate */
    e->sla->recycled = true;
    e->sla->recycled_at_ms = at_ms;
    e->sla->new_points = 0;
    return 1;
}

/* ---- state ---- */

void sla_encode(binenc_writer_t *w, const sla_state_t *s)
{
    binenc_put_opt_string(w, s->handoff_id);
    binenc_put_long(w, s->handoff_at_ms);
    binenc_put_opt_string(w, s->calendar);
    binenc_put_opt_string(w, s->team);
    binenc_put_opt_string(w, s->rule);
    binenc_put_opt_string(w, s->source);
    binenc_put_opt_string(w, s->first_campaign);
    binenc_put_opt_string(w, s->last_campaign);
    binenc_put_opt_string(w, s->owner_id);
    binenc_put_array_start(w, HF_SLA__COUNT);
    for (int k = 0; k < HF_SLA__COUNT; k++) {
        binenc_put_long(w, s->clocks[k].deadline_ms);
        binenc_put_long(w, s->clocks[k].due_ms);
        binenc_put_int(w, s->clocks[k].level);
        binenc_put_bool(w, s->clocks[k].done);
    }
    binenc_put_array_end(w);
    binenc_put_int(w, s->attempts);
    binenc_put_long(w, s->no_response_due_ms);
    binenc_put_long(w, s->last_attempt_at_ms);
    binenc_put_bool(w, s->accepted);
    binenc_put_bool(w, s->touched);
    binenc_put_bool(w, s->recycled);
    binenc_put_long(w, s->recycled_at_ms);
    binenc_put_double(w, s->new_points);
    binenc_put_array_start(w, s->parked_count);
    for (size_t i = 0; i < s->parked_count; i++) {
        const sla_parked_t *p = &s->parked[i];
        binenc_put_opt_string(w, p->event_id);
        binenc_put_string(w, hf_sales_action_name(p->action));
        binenc_put_long(w, p->at_ms);
        binenc_put_opt_string(w, p->owner_id);
        binenc_put_opt_string(w, p->reason);
        binenc_put_opt_string(w, p->channel);
    }
    binenc_put_array_end(w);
}

void sla_decode(binenc_reader_t *r, sla_state_t *s)
{
    s->handoff_id = binenc_get_opt_string(r);
    s->handoff_at_ms = binenc_get_long(r);
    s->calendar = binenc_get_opt_string(r);
    s->team = binenc_get_opt_string(r);
    s->rule = binenc_get_opt_string(r);
    s->source = binenc_get_opt_string(r);
    s->first_campaign = binenc_get_opt_string(r);
    s->last_campaign = binenc_get_opt_string(r);
    s->owner_id = binenc_get_opt_string(r);
    size_t k = 0;
    for (size_t n = binenc_get_block(r); n && !r->err; n = binenc_get_block(r)) {
        for (size_t i = 0; i < n && !r->err; i++, k++) {
            sla_clock_t c = {0};
            c.deadline_ms = binenc_get_long(r);
            c.due_ms = binenc_get_long(r);
            c.level = binenc_get_int_range(r, 0, HF_SLA_ESCALATIONS_MAX + 1);
            c.done = binenc_get_bool(r);
            if (k < HF_SLA__COUNT)
                s->clocks[k] = c;
        }
    }
    if (k != HF_SLA__COUNT)
        binenc_fail(r);
    s->attempts = binenc_get_int_range(r, 0, INT32_MAX);
    s->no_response_due_ms = binenc_get_long(r);
    s->last_attempt_at_ms = binenc_get_long(r);
    s->accepted = binenc_get_bool(r);
    s->touched = binenc_get_bool(r);
    s->recycled = binenc_get_bool(r);
    s->recycled_at_ms = binenc_get_long(r);
    s->new_points = binenc_get_double(r);
    size_t cap = 0;
    for (size_t n = binenc_get_block(r); n && !r->err; n = binenc_get_block(r)) {
        sla_parked_t *grown = vec_grow(s->parked, &cap, s->parked_count + n, sizeof *grown);
        if (!grown) {
            r->err = -ENOMEM;
            return;
        }
        s->parked = grown;
        for (size_t i = 0; i < n && !r->err; i++) {
            sla_parked_t *p = &s->parked[s->parked_count++];
            *p = (sla_parked_t){0};
            p->event_id = binenc_get_opt_string(r);
            char *action = binenc_get_string(r);
            int act = hf_sales_action_parse(action);
            free(action);
            if (act < 0)
                binenc_fail(r);
            p->action = act < 0 ? HF_SALES_ACCEPTED : (hf_sales_action_t)act;
            p->at_ms = binenc_get_long(r);
            p->owner_id = binenc_get_opt_string(r);
            p->reason = binenc_get_opt_string(r);
            p->channel = binenc_get_opt_string(r);
        }
    }
}
