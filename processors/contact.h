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

#include "buf.h"
#include "event.h"
#include "lifecycle.h"
#include "output.h"
#include "rules.h"
#include "state.h"

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
/* Qualification cycle (1-based) and whether its handoff was emitted. */
uint32_t contact_state_cycle(const contact_state_t *s);
bool contact_state_handed_off(const contact_state_t *s);

typedef enum contact_fold_result {
    CONTACT_FOLD_APPLIED = 0,
    CONTACT_FOLD_DUPLICATE = 1, /* event_id seen before: nothing changed */
} contact_fold_result_t;

/* Folds @ev into @s.  @now_ms is wall time: emitted_at, SLA deadlines, and the
 * age of remembered event ids, since repeats are a matter of delivery; everything else
 * runs on ev->occurred_at_ms.  Emits lifecycle changes and at most one handoff
 * into @sink.  Returns CONTACT_FOLD_APPLIED, CONTACT_FOLD_DUPLICATE, -ENOMEM, or the
 * sink's negative errno. */
int contact_fold(contact_state_t *s, const hf_event_t *ev, const hf_rules_t *rules, int64_t now_ms,
                 const hf_sink_t *sink);
