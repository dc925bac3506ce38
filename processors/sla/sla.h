/* Sales feedback and SLA clocks (docs/ARCHITECTURE.md "SLA and feedback"), for
 * contacts and accounts alike.
 *
 * Every handoff opens a *case*: the handoff id, when it was made, the calendar its
 * clocks run in (its routing team's), what marketing's numbers attribute it to
 * (rule, source, first- and last-touch campaign, team), and three clocks:
 *
 *   accept       satisfied by accepted, contacted, meeting, opportunity, won, rejected,
 *                disqualified, lost or recycled (any answer);
 *   first_touch  satisfied by the first contacted (or meeting/opportunity/won);
 *   follow_up    satisfied by the `attempts`-th contacted (or meeting/opportunity/won).
 *
 * A clock's level-1 deadline is `within` business time after the handoff; when it
 * passes unsatisfied, sla_fire() emits a SlaBreach at level 1, then one per
 * escalation delay until the last level.  The timestamps feedback is judged by are
 * its event times (when the rep acted), capped at the wall clock; a clock whose
 * answer comes after its deadline but before the breach was emitted (the daemon was
 * down) emits that breach then, so each level of each clock is breached at most
 * once and never silently skipped.
 *
 * Feedback names a handoff: the current cycle's open case (applied); the current
 * cycle's id before its handoff was made (parked, applied right after the handoff;
 * bounded by SLA_PARKED_MAX, the oldest then applied unparked: counted
 * "feedback_early"); an earlier cycle's id (stale: counted, changes nothing); an id
 * of no cycle of this entity (unknown: counted, and the caller dead-letters the
 * record so it is kept); no id (applied to the entity as it is, with no clock).
 *
 * Lifecycle moves forward only (accepted < qualified < opportunity < customer),
 * backward only by recycling: rejected, lost (via "lost"), recycled, and no response
 * within `no_response_after` of the last follow-up attempt.  A recycle starts a new
 * qualification cycle, whose handoff needs the cooldown *and* new evidence
 * (sla_may_qualify).  Disqualified is terminal until an identify resets it (per
 * config, behind the same gate) or sales recycle it; customer is terminal for
 * qualification.
 *
 * A contact also keeps the history of its current cycle's stages (sla_history_t): each
 * lifecycle change with the event time it happened at, and each sales answer with the
 * stage it puts the contact in, so that a hand-raiser can be judged at its own event
 * time, by sla_history_stage_at, and the answers sales gave before a case existed can
 * be applied to the case such a hand-raiser opens late (sla_replay_history). */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "util/binenc.h"
#include "util/result.h"
#include "processors/model/event.h"
#include "processors/model/lifecycle.h"
#include "processors/model/output.h"
#include "processors/rules/rules.h"

/* Feedback kept for a handoff not made yet. */
#define SLA_PARKED_MAX 16

typedef struct sla_clock {
    int64_t deadline_ms; /* level-1 deadline (wall); 0 = this clock is not running */
    int64_t due_ms;      /* when the next level falls due; 0 = nothing more to fire */
    int32_t level;       /* breaches emitted */
    bool done;           /* satisfied or cancelled */
} sla_clock_t;

typedef struct sla_parked {
    char *event_id; /* owned, may be NULL */
    hf_sales_action_t action;
    int64_t at_ms;
    char *owner_id, *reason, *channel; /* owned, may be NULL */
} sla_parked_t;

typedef struct sla_state {
    /* the case of the current cycle's handoff; handoff_id NULL = none open */
    char *handoff_id;
    int64_t handoff_at_ms; /* wall time the clocks started */
    char *calendar;        /* name of the calendar the clocks run in; NULL = 24x7 UTC */
    char *team, *rule, *source, *first_campaign, *last_campaign; /* attribution */
    char *owner_id;                                              /* latest owner heard of */
    sla_clock_t clocks[HF_SLA__COUNT];
    int32_t attempts;           /* contacted, this case */
    int64_t no_response_due_ms; /* recycle then unless progress; 0 = none */
    int64_t last_attempt_at_ms; /* event time of the attempt that scheduled it */
    bool accepted, touched;

    /* the recycle gate for the next handoff (event time) */
    bool recycled;
    int64_t recycled_at_ms;
    double new_points; /* behaviour points earned by events after the recycle */

    sla_parked_t *parked; /* oldest first */
    size_t parked_count;
} sla_state_t;

/* One answer of sales, dated @at_ms (event time capped at the wall clock it was folded
 * at).  Strings borrowed. */
typedef struct sla_answer {
    hf_sales_action_t action;
    int64_t at_ms;
    const char *owner_id, *reason, *channel;
} sla_answer_t;

/* Entries a stage history keeps: beyond it the oldest goes, and the history no longer
 * tells (sla_history_stage_at). */
#define SLA_HISTORY_MAX 16

/* A stage the entity was in from @at_ms on (event time): a lifecycle change, or the
 * stage a sales answer puts it in (accepted for accepted and contacted, qualified for a
 * meeting, ...), whether or not the answer moved it (a contact after the acceptance, an
 * answer ignored because sales had put it further already still tell when sales had
 * it). */
typedef struct sla_stage_entry {
    hf_stage_t stage;
    int64_t at_ms;
    bool sales;               /* a sales answer: the fields below are its */
    hf_sales_action_t action; /* meaningful when sales */
    bool ignored;             /* the answer changed nothing (SLA_FEEDBACK_IGNORED) */
    char *owner_id, *reason;  /* owned, may be NULL */
} sla_stage_entry_t;

/* The stages of the current qualification cycle, in the order they were folded (not
 * event time), at most SLA_HISTORY_MAX.  @complete: nothing of the cycle is missing
 * (false once an entry was dropped for the bound, after a merge, or in a state stored
 * before the history was kept); @has_since: the cycle began at @since_ms (event time of
 * the recycle or reset that started it), else it began with the entity, at "known". */
typedef struct sla_history {
    sla_stage_entry_t *entries;
    size_t count;
    bool complete;
    bool has_since;
    int64_t since_ms;
} sla_history_t;

/* The entity as this module sees it: its lifecycle fields and its case. */
typedef struct sla_entity {
    hf_entity_type_t type;
    const char *id;
    hf_stage_t *stage;
    uint32_t *cycle;
    bool *handed_off;
    sla_state_t *sla;
    /* the history of its cycle's stages, kept up by every change; NULL = none kept
     * (accounts) */
    sla_history_t *history;
    /* internal to sla/: the answer being applied (its changes are the answer's in the
     * history), and whether it is replayed onto a case opened after it (no lifecycle
     * change, no feedback_* outcome: both were emitted when it was folded) */
    const sla_answer_t *answer;
    bool replay;
} sla_entity_t;

/* Attribution of a handoff (borrowed). */
typedef struct sla_attribution {
    const char *rule, *source, *first_campaign, *last_campaign, *team;
} sla_attribution_t;

void sla_state_free(sla_state_t *s);

/* The case's fields of schemas/state/{Contact,Account}State.avsc ("sla"). */
void sla_encode(binenc_writer_t *w, const sla_state_t *s);
void sla_decode(binenc_reader_t *r, sla_state_t *s);

/* Moves @e to @to, telling @sink with @cause.  0 or the sink's errno. */
int sla_set_stage(const sla_entity_t *e, hf_stage_t to, int64_t at_ms, const char *cause,
                  const hf_sink_t *sink);

/* At a handoff (before it is emitted): opens the case and starts the clocks at
 * @now_ms in the calendar of @attr->team; *accept_by / *first_touch_by get the
 * deadlines the handoff carries.  Counts the "handoff" outcome.  0, -ENOMEM or the
 * sink's errno. */
int sla_start(const sla_entity_t *e, const char *handoff_id, const sla_attribution_t *attr,
              const hf_rules_t *rules, int64_t now_ms, int64_t *accept_by, int64_t *first_touch_by,
              const hf_sink_t *sink);

/* After the handoff and its lifecycle change: applies the feedback parked for it.
 * *recycled is set when that recycled the entity.  0, -ENOMEM or the sink's errno. */
int sla_apply_parked(const sla_entity_t *e, const hf_rules_t *rules, int64_t now_ms,
                     const hf_sink_t *sink, bool *recycled);

/* Positive results of this module, numbered from HF_RESULT_BASE_SLA (util/result.h). */
typedef enum sla_feedback_result {
    SLA_FEEDBACK_APPLIED = 0,
    /* names the handoff this cycle has not made yet */
    SLA_FEEDBACK_PARKED = HF_RESULT_BASE_SLA + 1,
    /* names an earlier cycle's handoff: nothing changed */
    SLA_FEEDBACK_STALE = HF_RESULT_BASE_SLA + 2,
    /* names no handoff of this entity: nothing changed */
    SLA_FEEDBACK_UNKNOWN = HF_RESULT_BASE_SLA + 3,
    /* terminal stage (disqualified) or a move backwards */
    SLA_FEEDBACK_IGNORED = HF_RESULT_BASE_SLA + 4,
} sla_feedback_result_t;

/* Applies SalesActivity @ev (already deduplicated) at wall time @now_ms.  *recycled
 * is set when it recycled the entity (the caller applies its score policy).
 * Returns an sla_feedback_result_t, -ENOMEM or the sink's errno. */
int sla_feedback(const sla_entity_t *e, const hf_event_t *ev, const hf_rules_t *rules,
                 int64_t now_ms, const hf_sink_t *sink, bool *recycled);

/* Fires whatever fell due by @now_ms: breaches (and their escalations) and the
 * no-response recycle.  *recycled as above.  0, -ENOMEM or the sink's errno. */
int sla_fire(const sla_entity_t *e, const hf_rules_t *rules, int64_t now_ms, const hf_sink_t *sink,
             bool *recycled);

/* When sla_fire() has something to do next (wall ms), or 0 for never. */
int64_t sla_next_due(const sla_state_t *s);

/* With rules->sla.recompute_on_reload: the clocks not yet breached take the
 * deadlines @rules give them (same start, new durations and calendar).  Returns true
 * when a deadline changed. */
bool sla_reschedule(sla_state_t *s, const hf_rules_t *rules);

/* Notes @points (> 0) of behaviour earned by an event at event time @at_ms (new
 * evidence when it is after a recycle). */
void sla_note_points(sla_state_t *s, int64_t at_ms, double points);

/* May the entity qualify at event time @t?  Always without a recycle; after one
 * only once the cooldown is over and new_points reach recycle.new_points, or at
 * once for a hand-raiser when recycle.hand_raisers_bypass. */
bool sla_may_qualify(const sla_state_t *s, const hf_rules_t *rules, int64_t t, bool hand_raiser);

/* A required behaviour last seen at @last_matched_ms counts for the next
 * qualification: after the recycle, if there was one. */
bool sla_fresh_evidence(const sla_state_t *s, int64_t last_matched_ms);

/* An identify for a disqualified entity with rules->disqualified_reset_on_identify:
 * back to known, a new cycle behind the recycle gate (cooldown and new evidence, from
 * @at_ms; hand-raisers pass per config).  Not when the history shows the
 * disqualification dated after @at_ms (the identify came before it, however late it
 * arrived).  Returns SLA_IDENTIFY_RESET when it reset, 0 when not, -ENOMEM or the
 * sink's errno. */
#define SLA_IDENTIFY_RESET (HF_RESULT_BASE_SLA + 5)
int sla_identify_reset(const sla_entity_t *e, const hf_rules_t *rules, int64_t at_ms,
                       const hf_sink_t *sink);

/* ---- the history of the cycle's stages (sla_gate.c; encoding in sla_codec.c) ---- */

/* A new entity's history: empty and complete (its first cycle began with it). */
void sla_history_init(sla_history_t *h);
void sla_history_free(sla_history_t *h);

/* Appends @stage from @at_ms, the stage @a puts the entity in when @a is not NULL
 * (@ignored: the answer changed nothing).  A full history drops its oldest entry and
 * is no longer complete.  0 or -ENOMEM. */
int sla_history_note(sla_history_t *h, hf_stage_t stage, int64_t at_ms, const sla_answer_t *a,
                     bool ignored);

/* A new cycle began at @at_ms in @stage (recycled, or known after a reset), caused by
 * @a (NULL: not an answer): the history holds that alone.  0 or -ENOMEM. */
int sla_history_restart(sla_history_t *h, hf_stage_t stage, int64_t at_ms, const sla_answer_t *a);

/* What happened in the cycle is no longer all known (a merge). */
void sla_history_forget(sla_history_t *h);

/* The stage at event time @t: of the entries dated up to @t the furthest along
 * (hf_stage_rank; a tie goes to the later one), a sales answer dated exactly @t taken as
 * after it; "known" before the first of a first cycle.  False when the history cannot
 * tell: incomplete, or @t before the cycle began. */
bool sla_history_stage_at(const sla_history_t *h, int64_t t, hf_stage_t *out);

/* The stage sales answer @action puts an entity in. */
hf_stage_t sla_answer_stage(hf_sales_action_t action);

/* The history's fields of schemas/state/ContactState.avsc (version 4). */
void sla_history_encode(binenc_writer_t *w, const sla_history_t *h);
void sla_history_decode(binenc_reader_t *r, sla_history_t *h);

/* After a handoff made for a hand-raiser dated before the answers sales gave this
 * cycle without a case (the contact had moved on when the form was folded): applies
 * them to the case just opened, in event-time order, as if they had come after it --
 * the clocks they answer are satisfied at their times, the funnel outcomes are counted
 * with the case -- without moving the lifecycle (it is where they put it already) and
 * without counting the feedback_* outcomes they were counted under when folded.
 * Answers that were ignored, and the recycle that began the cycle, are not applied.
 * 0, -ENOMEM or the sink's errno. */
int sla_replay_history(const sla_entity_t *e, const hf_rules_t *rules, int64_t now_ms,
                       const hf_sink_t *sink);
