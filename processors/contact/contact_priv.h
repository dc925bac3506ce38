/* The body of contact_state_t, shared by the modules of stage 2 (contact.c,
 * contact_account.c, contact_merge.c, contact_codec.c, qualify.c).  Not for use
 * outside processors/. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "contact.h"
#include "processors/journey/dedupe.h"
#include "processors/journey/fit.h"
#include "processors/journey/interests.h"
#include "processors/journey/journey.h"
#include "processors/journey/score.h"
#include "processors/sla/sla.h"

/* 2: interests, account, member_version, roster and redirect_to appended.
 * 3: attribution (source, first and last campaign) and sla appended.
 * 4: the history of the cycle's stages appended (stage_history_complete,
 *    stage_history_since, stage_history).
 * 5: the summary owed to the account appended (summary_pending, summary_at).
 * Older states still decode, with the newer fields at their defaults (a version-3
 * state's history is empty and not complete: it cannot tell what came when; a
 * version-4 state owes nothing: that version sent every owed summary before it
 * committed). */
#define CONTACT_STATE_SCHEMA_VERSION 5

/* One member of the roster stage 3 sent (hf_member_t, owned). */
typedef struct contact_roster_member {
    char *contact_id;
    char *role;
    int32_t score;
    int64_t last_active_ms;
} contact_roster_member_t;

/* The last roster applied: the other engaged members of the contact's account. */
typedef struct contact_roster {
    char *account_id; /* owned; NULL = no roster */
    uint64_t version; /* per account */
    contact_roster_member_t *members;
    size_t member_count;
    char **roles_covered; /* owned */
    size_t roles_covered_count;
} contact_roster_t;

struct contact_state {
    char *contact_id; /* owned */
    hf_stage_t stage;
    uint32_t cycle;        /* qualification cycle, from 1 */
    bool handed_off;       /* the handoff of this cycle was emitted */
    int64_t events;        /* events folded (not repeats, not sales activity) */
    int64_t first_seen_ms; /* meaningful when events > 0 */
    int64_t last_event_ms; /* newest event time folded; meaningful when events > 0 */
    bool has_known_since;
    int64_t known_since_ms; /* oldest event time of a record carrying the contact id */
    score_t score;
    fit_traits_t traits;
    dedupe_t dedupe;
    journey_t journey;
    interests_t interests;
    char *account_id;        /* owned; the account at the last fold, NULL = none */
    uint64_t member_version; /* version of the last member update sent for this id */
    /* A summary owed to the account (accounts.member_updates other than
     * every_event), as of the event time summary_at_ms; sent by
     * contact_flush_summary().  Stored: with coalesced it may be owed across
     * commits. */
    bool summary_pending;
    int64_t summary_at_ms;
    contact_roster_t roster; /* of account_id only: cleared when the account changes */
    char *redirect_to;       /* owned; the survivor of a merge, NULL = not merged away */
    /* attribution for marketing's numbers (event time): the source of the earliest
     * event (its utm_source, else the producing system), the campaigns of the earliest
     * and the newest events that named one */
    char *source, *first_campaign, *last_campaign; /* owned; NULL = none yet */
    int64_t source_at_ms, first_campaign_at_ms, last_campaign_at_ms;
    sla_state_t sla; /* feedback, SLA clocks and the recycle gate */
    /* the current cycle's stages with their event times, and sales' answers: what the
     * stage was when a late hand-raiser raised their hand (sla.h) */
    sla_history_t history;
};

/* Frees every part @s owns, the contact id and the dedupe memory included, but not
 * @s itself: the one place that knows a contact state's owned fields (the caller
 * frees @s or overwrites it whole; a field stolen first is NULL or zeroed). */
void contact_state_free_parts(contact_state_t *s);

/* The contact as sla.c sees it. */
sla_entity_t contact_sla_entity(contact_state_t *s);

/* Notes @ev's source and campaign for attribution.  0 or -ENOMEM. */
int contact_note_attribution(contact_state_t *s, const hf_event_t *ev);

/* Applies the SalesActivity @ev (deduplicated already).  Returns CONTACT_FOLD_APPLIED,
 * CONTACT_FOLD_UNKNOWN_HANDOFF, -ENOMEM or the sink's errno. */
int contact_feedback(contact_state_t *s, const hf_event_t *ev, const hf_rules_t *rules,
                     int64_t now_ms, const hf_sink_t *sink);

/* After sla.c recycled the contact: the score policy of @rules. */
void contact_recycled(contact_state_t *s, const hf_rules_t *rules);

/* Lifecycle moves that need no rule, after @ev was folded (@first: it was the first
 * event).  Returns 0 or the sink's errno. */
int contact_advance_stage(contact_state_t *s, const hf_event_t *ev, const hf_rules_t *rules,
                          bool first, const hf_sink_t *sink);

/* Re-resolves the account from the traits under @rules; when it changed, the roster
 * is dropped and the old account gets a leave (at @at_ms).  Returns 0, -ENOMEM or the
 * sink's errno. */
int contact_update_account(contact_state_t *s, const hf_rules_t *rules, int64_t at_ms,
                           const hf_sink_t *sink);

/* Sends the contact's summary to its account (nothing without one), with the next
 * version.  Returns 0, -ENOMEM or the sink's errno. */
int contact_send_summary(contact_state_t *s, const hf_rules_t *rules, int64_t at_ms,
                         const hf_sink_t *sink);

/* Sends a member update of @s for @account_id, version @version: the summary, or a
 * leave.  Returns 0, -ENOMEM or the sink's errno. */
int contact_send_member_update(const contact_state_t *s, const hf_rules_t *rules,
                               const char *account_id, bool leave, uint64_t version, int64_t at_ms,
                               const hf_sink_t *sink);

/* The roster to list in a handoff: the roster of the current account, or NULL. */
const contact_roster_t *contact_current_roster(const contact_state_t *s);

void contact_roster_free(contact_roster_t *r);

/* Moves @s to @to and tells the sink, with @cause.  Returns 0 or the sink's errno. */
int contact_set_stage(contact_state_t *s, hf_stage_t to, int64_t at_ms, const char *cause,
                      const hf_sink_t *sink);
