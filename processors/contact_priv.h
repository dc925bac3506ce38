/* The body of contact_state_t, shared by the modules of stage 2 (contact.c,
 * contact_codec.c, qualify.c).  Not for use outside processors/. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "contact.h"
#include "dedupe.h"
#include "fit.h"
#include "journey.h"
#include "score.h"

#define CONTACT_STATE_SCHEMA_VERSION 1

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
};

/* Moves @s to @to and tells the sink, with @cause.  Returns 0 or the sink's errno. */
int contact_set_stage(contact_state_t *s, hf_stage_t to, int64_t at_ms, const char *cause,
                      const hf_sink_t *sink);
