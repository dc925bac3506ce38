/* Sales feedback (sla.h): which handoff an answer names (the open case, one not made
 * yet, an earlier cycle's, none), feedback parked for a handoff not made yet, and
 * what each answer does to the clocks, the lifecycle and marketing's numbers. */
#include "sla.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sla_priv.h"
#include "util/vec.h"

/* Cycles searched for the handoff an old id names. */
#define SLA_STALE_SEARCH_MAX 10000

/* One answer of sales (sla.h). */
typedef sla_answer_t answer_t;

static int64_t since_handoff(const sla_state_t *s, int64_t at_ms)
{
    return at_ms > s->handoff_at_ms ? at_ms - s->handoff_at_ms : 0;
}

/* A forward move to @to (nothing when the entity is there or further already). */
static int advance(const sla_entity_t *e, hf_stage_t to, int64_t at_ms, const char *cause,
                   const hf_sink_t *sink, bool *moved)
{
    *moved = hf_stage_rank(*e->stage) < hf_stage_rank(to);
    return *moved ? sla_set_stage(e, to, at_ms, cause, sink) : 0;
}

/* ---- what an answer does to the clocks ---- */

/* accepted (explicitly, or by contacting): the accept clock stops. */
static int take_accept(const sla_entity_t *e, const answer_t *a, int64_t now_ms,
                       const hf_sink_t *sink)
{
    sla_state_t *s = e->sla;
    int r = sla_satisfy(e, HF_SLA_ACCEPT, a->at_ms, now_ms, sink);
    if (r < 0 || s->accepted)
        return r;
    s->accepted = true;
    r = sla_outcome(e, "accepted", NULL, 0, sink);
    if (r == 0 && s->handoff_id)
        r = sla_outcome(e, "time_to_accept", NULL, since_handoff(s, a->at_ms), sink);
    return r;
}

/* a contact attempt: first touch, follow-up count, the no-response clock */
static int take_contact(const sla_entity_t *e, const answer_t *a, const hf_rules_t *rules,
                        int64_t now_ms, const hf_sink_t *sink)
{
    sla_state_t *s = e->sla;
    s->attempts++;
    int r = sla_satisfy(e, HF_SLA_FIRST_TOUCH, a->at_ms, now_ms, sink);
    if (r == 0 && !s->touched) {
        s->touched = true;
        if (s->handoff_id)
            r = sla_outcome(e, "time_to_first_touch", NULL, since_handoff(s, a->at_ms), sink);
    }
    uint32_t needed = rules->sla.clocks[HF_SLA_FOLLOW_UP].attempts
                          ? rules->sla.clocks[HF_SLA_FOLLOW_UP].attempts
                          : 1;
    if (r == 0 && (uint32_t)s->attempts >= needed) {
        r = sla_satisfy(e, HF_SLA_FOLLOW_UP, a->at_ms, now_ms, sink);
        /* every attempt made and still no meeting: recycled if nothing follows */
        if (r == 0 && s->handoff_id && rules->recycle.no_response_ms > 0) {
            s->no_response_due_ms =
                hf_calendar_add(sla_case_calendar(s, rules), now_ms, rules->recycle.no_response_ms);
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
        r = sla_satisfy(e, HF_SLA_FIRST_TOUCH, a->at_ms, now_ms, sink);
    if (r == 0)
        r = sla_satisfy(e, HF_SLA_FOLLOW_UP, a->at_ms, now_ms, sink);
    s->no_response_due_ms = 0;
    return r;
}

/* rejected, lost, disqualified, recycled: an answer that closes the case */
static int take_close(const sla_entity_t *e, const answer_t *a, int64_t now_ms,
                      const hf_sink_t *sink)
{
    sla_state_t *s = e->sla;
    int r = sla_satisfy(e, HF_SLA_ACCEPT, a->at_ms, now_ms, sink);
    sla_cancel(s, HF_SLA_FIRST_TOUCH);
    sla_cancel(s, HF_SLA_FOLLOW_UP);
    s->no_response_due_ms = 0;
    return r;
}

/* ---- what an answer does to the entity ---- */

/* Who a lifecycle change's cause names: the owner heard of last, else "sales". */
static const char *who_of(const sla_entity_t *e)
{
    return e->sla->owner_id ? e->sla->owner_id : "sales";
}

/* accepted, contacted: the entity is accepted. */
static int answer_accept(const sla_entity_t *e, const answer_t *a, const hf_rules_t *rules,
                         int64_t now_ms, const hf_sink_t *sink)
{
    char cause[256];
    int r;
    if (a->action == HF_SALES_CONTACTED) {
        snprintf(cause, sizeof cause, "contacted by %s%s%s", who_of(e), a->channel ? " via " : "",
                 a->channel ? a->channel : "");
        r = take_accept(e, a, now_ms, sink);
        if (r == 0)
            r = take_contact(e, a, rules, now_ms, sink);
    } else {
        snprintf(cause, sizeof cause, "accepted by %s", who_of(e));
        r = take_accept(e, a, now_ms, sink);
    }
    bool moved = false;
    if (r == 0)
        r = advance(e, HF_STAGE_ACCEPTED, a->at_ms, cause, sink, &moved);
    return r;
}

/* meeting booked, opportunity created, won: the funnel moves on (counted once). */
static int answer_progress(const sla_entity_t *e, const answer_t *a, int64_t now_ms,
                           const hf_sink_t *sink)
{
    static const struct {
        hf_stage_t to;
        const char *what, *metric;
    } progress[] = {
        [HF_SALES_MEETING_BOOKED] = {HF_STAGE_QUALIFIED, "meeting booked", "qualified"},
        [HF_SALES_OPPORTUNITY_CREATED] = {HF_STAGE_OPPORTUNITY, "opportunity created",
                                          "opportunity"},
        [HF_SALES_WON] = {HF_STAGE_CUSTOMER, "won", "won"},
    };
    char cause[256];
    snprintf(cause, sizeof cause, "%s by %s", progress[a->action].what, who_of(e));
    bool moved = false;
    int r = take_progress(e, a, now_ms, sink);
    if (r == 0)
        r = advance(e, progress[a->action].to, a->at_ms, cause, sink, &moved);
    if (r == 0 && moved)
        r = sla_outcome(e, progress[a->action].metric, NULL, 0, sink);
    return r;
}

/* lost, rejected, recycled by sales: back to nurture; disqualified: out until an
 * identify (per config) or sales recycle it. */
static int answer_close(const sla_entity_t *e, const answer_t *a, int64_t now_ms,
                        const hf_sink_t *sink, bool *recycled)
{
    const char *reason = a->reason ? a->reason : "no reason given";
    char cause[256];
    int r = take_close(e, a, now_ms, sink);
    switch (a->action) {
    case HF_SALES_LOST:
        snprintf(cause, sizeof cause, "lost: %s", reason);
        if (r == 0)
            r = sla_outcome(e, "lost", a->reason, 0, sink);
        if (r == 0)
            r = sla_set_stage(e, HF_STAGE_LOST, a->at_ms, cause, sink);
        if (r == 0)
            r = sla_recycle(e, a->at_ms, a->at_ms, "lost", "recycled to nurture after lost", sink,
                            recycled);
        return r;
    case HF_SALES_REJECTED:
        snprintf(cause, sizeof cause, "rejected by %s: %s", who_of(e), reason);
        if (r == 0)
            r = sla_outcome(e, "rejected", reason, 0, sink);
        if (r == 0)
            r = sla_recycle(e, a->at_ms, a->at_ms, "rejected", cause, sink, recycled);
        return r;
    case HF_SALES_RECYCLED:
        snprintf(cause, sizeof cause, "recycled by %s: %s", who_of(e), reason);
        if (r == 0)
            r = sla_recycle(e, a->at_ms, a->at_ms, "by sales", cause, sink, recycled);
        return r;
    default:
        assert(a->action == HF_SALES_DISQUALIFIED);
        snprintf(cause, sizeof cause, "disqualified by %s: %s", who_of(e), reason);
        if (r == 0)
            r = sla_outcome(e, "disqualified", a->reason, 0, sink);
        if (r == 0)
            r = sla_set_stage(e, HF_STAGE_DISQUALIFIED, a->at_ms, cause, sink);
        return r;
    }
}

/* The answers that close a case and recycle: rejected, lost, recycled. */
static bool recycles(hf_sales_action_t action)
{
    return action == HF_SALES_REJECTED || action == HF_SALES_LOST || action == HF_SALES_RECYCLED;
}

hf_stage_t sla_answer_stage(hf_sales_action_t action)
{
    switch (action) {
    case HF_SALES_ACCEPTED:
    case HF_SALES_CONTACTED:
        return HF_STAGE_ACCEPTED;
    case HF_SALES_MEETING_BOOKED:
        return HF_STAGE_QUALIFIED;
    case HF_SALES_OPPORTUNITY_CREATED:
        return HF_STAGE_OPPORTUNITY;
    case HF_SALES_WON:
        return HF_STAGE_CUSTOMER;
    case HF_SALES_DISQUALIFIED:
        return HF_STAGE_DISQUALIFIED;
    case HF_SALES_LOST:
        return HF_STAGE_LOST;
    default:
        return HF_STAGE_RECYCLED;
    }
}

/* Applies @a to the entity as it is (@e->answer is @a).  SLA_FEEDBACK_APPLIED,
 * SLA_FEEDBACK_IGNORED, -ENOMEM or the sink's errno. */
static int apply_answer(const sla_entity_t *e, const answer_t *a, const hf_rules_t *rules,
                        int64_t now_ms, const hf_sink_t *sink, bool *recycled)
{
    sla_state_t *s = e->sla;
    hf_stage_rank_t rank = hf_stage_rank(*e->stage);
    if ((rank == HF_STAGE_RANK_DISQUALIFIED && a->action != HF_SALES_RECYCLED) ||
        (rank == HF_STAGE_RANK_CUSTOMER && a->action != HF_SALES_WON)) {
        /* disqualified stays so until an identify resets it (per config) or sales
         * recycle it; a customer is one */
        int r = sla_outcome(e, "feedback_ignored", hf_sales_action_name(a->action), 0, sink);
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
        int r = sla_outcome(e, "feedback_no_handoff", hf_sales_action_name(a->action), 0, sink);
        if (r < 0)
            return r;
    }
    int r = 0;
    switch (a->action) {
    case HF_SALES_ACCEPTED:
    case HF_SALES_CONTACTED:
        r = answer_accept(e, a, rules, now_ms, sink);
        break;
    case HF_SALES_MEETING_BOOKED:
    case HF_SALES_OPPORTUNITY_CREATED:
    case HF_SALES_WON:
        r = answer_progress(e, a, now_ms, sink);
        break;
    case HF_SALES_LOST:
    case HF_SALES_REJECTED:
    case HF_SALES_RECYCLED:
    case HF_SALES_DISQUALIFIED:
        r = answer_close(e, a, now_ms, sink, recycled);
        break;
    default:
        break;
    }
    return r < 0 ? r : SLA_FEEDBACK_APPLIED;
}

/* Applies @a to the entity as it is, and notes in its history when sales put it where:
 * the stage the answer names, at its time, even when the entity was there or further
 * already, or the answer was ignored (a recycle began the next cycle's history with it
 * instead; an ignored recycle says nothing).  SLA_FEEDBACK_APPLIED,
 * SLA_FEEDBACK_IGNORED, -ENOMEM or the sink's errno. */
static int apply(const sla_entity_t *e, const answer_t *a, const hf_rules_t *rules, int64_t now_ms,
                 const hf_sink_t *sink, bool *recycled)
{
    sla_entity_t ea = *e;
    ea.answer = a;
    uint32_t cycle = *e->cycle;
    int r = apply_answer(&ea, a, rules, now_ms, sink, recycled);
    if (r < 0 || !e->history || e->replay || *e->cycle != cycle)
        return r;
    bool ignored = r == SLA_FEEDBACK_IGNORED;
    if (ignored && recycles(a->action))
        return r;
    int hr = sla_history_note(e->history, sla_answer_stage(a->action), a->at_ms, a, ignored);
    return hr < 0 ? hr : r;
}

int sla_replay_history(const sla_entity_t *e, const hf_rules_t *rules, int64_t now_ms,
                       const hf_sink_t *sink)
{
    const sla_history_t *h = e->history;
    if (!h || !e->sla->handoff_id)
        return 0;
    /* the answers applied this cycle, in event-time order (a tie in fold order) */
    size_t order[SLA_HISTORY_MAX];
    size_t n = 0;
    for (size_t i = 0; i < h->count && n < SLA_HISTORY_MAX; i++) {
        const sla_stage_entry_t *x = &h->entries[i];
        if (!x->sales || x->ignored || recycles(x->action))
            continue;
        size_t k = n++;
        for (; k > 0 && h->entries[order[k - 1]].at_ms > x->at_ms; k--)
            order[k] = order[k - 1];
        order[k] = i;
    }
    /* on the case as it just opened: the stage they move is a stand-in, the entity's
     * stays where they put it */
    hf_stage_t stage = HF_STAGE_CONVERSATION_READY;
    sla_entity_t replay = *e;
    replay.stage = &stage;
    replay.history = NULL;
    replay.replay = true;
    bool recycled = false;
    for (size_t k = 0; k < n && !recycled; k++) {
        const sla_stage_entry_t *x = &h->entries[order[k]];
        answer_t a = {x->action, x->at_ms, x->owner_id, x->reason, NULL};
        int r = apply(&replay, &a, rules, now_ms, sink, &recycled);
        if (r < 0)
            return r;
    }
    return 0;
}

/* ---- which handoff, and parking ---- */

static answer_t parked_answer(const sla_parked_t *p)
{
    return (answer_t){p->action, p->at_ms, p->owner_id, p->reason, p->channel};
}

static int park(const sla_entity_t *e, const hf_event_t *ev, const answer_t *a,
                const hf_rules_t *rules, int64_t now_ms, const hf_sink_t *sink, bool *recycled)
{
    sla_state_t *s = e->sla;
    if (s->parked_count == SLA_PARKED_MAX) {
        /* bounded: the oldest is applied as it is, without waiting any longer */
        sla_parked_t old = s->parked[0];
        vec_remove(s->parked, s->parked_count--, 0, sizeof *s->parked);
        answer_t oa = parked_answer(&old);
        int r = apply(e, &oa, rules, now_ms, sink, recycled);
        sla_parked_free(&old);
        if (r < 0)
            return r;
        if (*recycled) /* the cycle this one names is over */
            return sla_outcome(e, "feedback_stale", hf_sales_action_name(a->action), 0, sink) < 0
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
        .event_id = sla_dup_opt(ev->event_id, &ok),
        .action = a->action,
        .at_ms = a->at_ms,
        .owner_id = sla_dup_opt(a->owner_id, &ok),
        .reason = sla_dup_opt(a->reason, &ok),
        .channel = sla_dup_opt(a->channel, &ok),
    };
    if (!ok) {
        sla_parked_free(&p);
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
            r = sla_outcome(e, "feedback_stale", hf_sales_action_name(list[i].action), 0, sink);
        } else if (r >= 0) {
            answer_t a = parked_answer(&list[i]);
            r = apply(e, &a, rules, now_ms, sink, &recycled_here);
        }
        sla_parked_free(&list[i]);
    }
    free(list);
    if (recycled_here)
        *recycled = true;
    return r < 0 ? r : 0;
}

/* The handoff a SalesActivity names, as far as this entity knows it. */
typedef enum named_handoff {
    NAMED_CURRENT,     /* the open case's (or, with no id, the entity as it is) */
    NAMED_NOT_MADE,    /* this cycle's, before its handoff was made */
    NAMED_EARLIER,     /* an earlier cycle's */
    NAMED_NONE_OF_OURS /* no handoff of this entity */
} named_handoff_t;

static named_handoff_t which_handoff(const sla_entity_t *e, const char *id)
{
    const sla_state_t *s = e->sla;
    if (s->handoff_id && strcmp(id, s->handoff_id) == 0)
        return NAMED_CURRENT;
    char cur[HF_HANDOFF_ID_SIZE];
    if (hf_handoff_id(cur, sizeof cur, e->type, e->id, *e->cycle) > 0 && strcmp(id, cur) == 0)
        return *e->handed_off ? NAMED_CURRENT : NAMED_NOT_MADE;
    uint32_t first = *e->cycle > SLA_STALE_SEARCH_MAX ? *e->cycle - SLA_STALE_SEARCH_MAX : 1;
    for (uint32_t c = *e->cycle; c-- > first;)
        if (hf_handoff_id(cur, sizeof cur, e->type, e->id, c) > 0 && strcmp(id, cur) == 0)
            return NAMED_EARLIER;
    return NAMED_NONE_OF_OURS;
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
    bool names_one = ev->handoff_id && !hf_id_blocked(ev->handoff_id);
    int r;
    switch (names_one ? which_handoff(e, ev->handoff_id) : NAMED_CURRENT) {
    case NAMED_CURRENT:
        return apply(e, &a, rules, now_ms, sink, recycled);
    case NAMED_NOT_MADE:
        r = park(e, ev, &a, rules, now_ms, sink, recycled);
        if (r == 0)
            r = sla_outcome(e, "feedback_early", action, 0, sink);
        return r < 0 ? r : r == SLA_FEEDBACK_STALE ? r : SLA_FEEDBACK_PARKED;
    case NAMED_EARLIER:
        r = sla_outcome(e, "feedback_stale", action, 0, sink);
        return r < 0 ? r : SLA_FEEDBACK_STALE;
    default:
        r = sla_outcome(e, "feedback_unknown", action, 0, sink);
        return r < 0 ? r : SLA_FEEDBACK_UNKNOWN;
    }
}
