/* Conversation-ready rules of stage 2 (internal): hand-raisers and contact rules,
 * one handoff per qualification cycle, and the handoff's payload. */
#pragma once

#include <stdint.h>

#include "contact_priv.h"

/* Called after @ev was folded into @s.  When the cycle has not handed off yet, the
 * stage is known, engaged or recycled, @ev is within grace of the newest event, the
 * recycle gate lets it through (sla.h), and a hand-raiser or contact rule holds:
 * emits the handoff into @sink, then moves the stage to conversation_ready.  A
 * hand-raiser is judged at its event time: when sales feedback dated after it moved
 * the stage on before it was folded, the stage the history gives for its time decides
 * instead; the handoff is made, the stage stays where sales put it, and their answers
 * are applied to the case it opens (sla_replay_history).  Returns 0, -ENOMEM or the
 * sink's negative errno. */
int qualify_fold(contact_state_t *s, const hf_event_t *ev, const hf_rules_t *rules, int64_t now_ms,
                 const hf_sink_t *sink);
