/* Stage 2: the contact journey.  Keyed by contact id.
 *
 * Folds every event of one contact into its state: drops repeated event ids, applies
 * behaviour-score rules (caps, decay on event time), recomputes the fit grade from
 * traits, keeps the bounded journey timeline, moves the lifecycle and evaluates the
 * conversation-ready rules, firing one handoff per qualification cycle. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"
#include "util/result.h"
#include "processors/model/event.h"
#include "processors/model/lifecycle.h"
#include "processors/model/output.h"
#include "processors/rules/rules.h"
#include "processors/model/state.h"

typedef struct contact_state contact_state_t;

/* A new state for @contact_id (copied), at stage "known" with nothing seen yet.
 * NULL on out of memory. */
contact_state_t *contact_state_new(const char *contact_id);
void contact_state_free(contact_state_t *s);

/* Serialises @s (Avro binary of schemas/state/ContactState.avsc) appended to @out.
 * Returns 0 or -ENOMEM. */
int contact_state_encode(const contact_state_t *s, hf_buf_t *out);

/* Parses what contact_state_encode() wrote.  On success *out is a new state owned by
 * the caller.  Returns 0, -ENOMEM, or HF_STATE_CORRUPT. */
int contact_state_decode(contact_state_t **out, const void *buf, size_t len);

/* Read-only views, for the daemon's logs, dumps and tests. */
const char *contact_state_id(const contact_state_t *s);
hf_stage_t contact_state_stage(const contact_state_t *s);
/* Behaviour score decayed to @at_ms (not before the newest event folded). */
double contact_state_score(const contact_state_t *s, const hf_rules_t *rules, int64_t at_ms);
/* Fit grade letter under @rules (the last grade when excluded). */
const char *contact_state_grade(const contact_state_t *s, const hf_rules_t *rules);
/* Newest event time folded, or 0. */
int64_t contact_state_last_event_ms(const contact_state_t *s);
/* The stage the contact was in at event time @at_ms, as the history of its current
 * cycle tells it (docs/ARCHITECTURE.md "Lifecycle"): true and *@out set, or false when
 * the history cannot tell (a time before the cycle began, a history cut by its bound or
 * a merge, a state stored before the history was kept); the stage as known applies
 * then. */
bool contact_state_stage_at(const contact_state_t *s, int64_t at_ms, hf_stage_t *out);
/* Qualification cycle (1-based) and whether its handoff was emitted. */
uint32_t contact_state_cycle(const contact_state_t *s);
bool contact_state_handed_off(const contact_state_t *s);

/* The account the contact belongs to now (account_id trait, else its e-mail
 * domain's account; never a free-mail domain), or NULL. */
const char *contact_state_account(const contact_state_t *s);
/* Its buying-group role under @rules. */
const char *contact_state_role(const contact_state_t *s, const hf_rules_t *rules);
/* True once an event carrying its contact id was folded (not only anonymous
 * history). */
bool contact_state_known(const contact_state_t *s);
/* The contact this one was merged into, or NULL. */
const char *contact_state_redirect(const contact_state_t *s);

/* Positive results of this module, numbered from HF_RESULT_BASE_CONTACT
 * (util/result.h). */
typedef enum contact_fold_result {
    CONTACT_FOLD_APPLIED = 0,
    /* event_id seen before: nothing changed */
    CONTACT_FOLD_DUPLICATE = HF_RESULT_BASE_CONTACT + 1,
    /* @s is a merge's redirect (contact_state_redirect()): nothing changed; the event
     * belongs to the survivor */
    CONTACT_FOLD_REDIRECT = HF_RESULT_BASE_CONTACT + 2,
    /* sales feedback naming no handoff of this contact: counted, nothing changed; the
     * caller keeps the record (dead letter) */
    CONTACT_FOLD_UNKNOWN_HANDOFF = HF_RESULT_BASE_CONTACT + 3,
} contact_fold_result_t;

/* Folds @ev into @s.  @now_ms is wall time: emitted_at, SLA deadlines, and the
 * age of remembered event ids, since repeats are a matter of delivery; everything else
 * runs on ev->occurred_at_ms.  Emits lifecycle changes and at most one handoff
 * into @sink, and, when the contact has an account, a member update after every
 * applied event (a leave to the old account first when the account changed).
 * Returns CONTACT_FOLD_APPLIED, CONTACT_FOLD_DUPLICATE, CONTACT_FOLD_REDIRECT, -ENOMEM,
 * or the sink's negative errno. */
int contact_fold(contact_state_t *s, const hf_event_t *ev, const hf_rules_t *rules, int64_t now_ms,
                 const hf_sink_t *sink);

/* Applies a roster from stage 3 (a stale @version changes nothing).  It is what a
 * later contact handoff lists as buying_group and roles_covered.  Returns 0 or
 * -ENOMEM. */
int contact_apply_roster(contact_state_t *s, const hf_roster_t *roster);

/* Merge (CRM deduplication): folds the journey of @loser -- timeline, score
 * contributions, interests, traits, dedupe memory -- into @survivor, and sends the
 * member updates that follow (the loser leaves its account, the survivor's account
 * gets the survivor's new summary).  If either had handed off in its current cycle
 * the survivor counts as handed off: a merge never produces a second handoff for the
 * same cycle.  Re-evaluates qualification at @at_ms (event time of the merge).
 * @loser is not changed.  The survivor remembers the loser's id with its event ids
 * (same bounds): the same loser merged again (a journey re-sent after a crash) is
 * dropped and CONTACT_MERGE_REPEAT returned.  Returns 0, CONTACT_MERGE_REPEAT,
 * -ENOMEM or the sink's negative errno. */
#define CONTACT_MERGE_REPEAT (HF_RESULT_BASE_CONTACT + 4)
int contact_merge(contact_state_t *survivor, const contact_state_t *loser, const hf_rules_t *rules,
                  int64_t at_ms, int64_t now_ms, const hf_sink_t *sink);

/* With rules->member_updates other than HF_MEMBER_UPDATES_EVERY_EVENT, folds only
 * note that the contact's account is owed its summary: true until
 * contact_flush_summary().  The caller decides when to flush (on_commit: before
 * every commit; coalesced: at points of the input's order); the flag and the time
 * of the newest change are part of the encoded state (version 5), so a summary
 * owed across a commit survives a restart. */
bool contact_state_summary_pending(const contact_state_t *s);

/* Sends the owed summary (the next version, dated by the newest change) to the
 * contact's account through @sink->member_update and clears the flag; nothing when
 * none is owed, the contact left every account or was merged away.  Returns 0,
 * -ENOMEM or the sink's negative errno. */
int contact_flush_summary(contact_state_t *s, const hf_rules_t *rules, const hf_sink_t *sink);

/* SLA clocks (sla.h): fires what fell due by @now_ms (breaches, escalations, the
 * no-response recycle).  Returns 0, -ENOMEM or the sink's errno. */
int contact_sla_fire(contact_state_t *s, const hf_rules_t *rules, int64_t now_ms,
                     const hf_sink_t *sink);

/* When contact_sla_fire() has something to do next (wall ms), 0 for never. */
int64_t contact_state_next_due(const contact_state_t *s);

/* With rules->sla.recompute_on_reload, after a reload: running clocks take the new
 * durations.  True when a deadline changed. */
bool contact_sla_reschedule(contact_state_t *s, const hf_rules_t *rules);

/* Turns @s into the redirect left behind by a merge: it keeps only its id, the
 * survivor's id and its dedupe memory.  Returns 0 or -ENOMEM. */
int contact_state_make_redirect(contact_state_t *s, const char *survivor_id);
