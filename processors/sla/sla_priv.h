/* What the parts of the SLA module share: sla.c (the case, what goes to the sink, the
 * clocks and their escalation), sla_feedback.c (sales' answers and which handoff
 * they name, and their replay onto a case opened late), sla_gate.c (recycling, the
 * recycle gate and the history of the cycle's stages) and sla_codec.c.  Not for use
 * outside processors/sla/. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "calendar.h"
#include "sla.h"

/* Closes the case (the parked feedback stays: it waits for this cycle's handoff). */
void sla_case_clear(sla_state_t *s);

/* The calendar the case's clocks run in: the one named at the start, else (it was
 * removed by a reload) the team's under the current rules. */
const hf_calendar_t *sla_case_calendar(const sla_state_t *s, const hf_rules_t *rules);

/* strdup of NULL is NULL; *ok goes false on out of memory. */
char *sla_dup_opt(const char *v, bool *ok);

void sla_parked_free(sla_parked_t *p);

/* A new zeroed entry at the end of @h (which must have fewer than SLA_HISTORY_MAX), or
 * NULL on out of memory. */
sla_stage_entry_t *sla_history_slot(sla_history_t *h);

/* Counts outcome @metric (hf_outcome_t) with the case's attribution.  Funnel outcomes
 * of an entity without a case are not counted (0).  0 or the sink's errno. */
int sla_outcome(const sla_entity_t *e, const char *metric, const char *detail, int64_t duration_ms,
                const hf_sink_t *sink);

/* Clock @kind answered at @at_ms (event time, capped at @now_ms): met when in time;
 * an answer after the deadline whose breach was not emitted yet emits it now.
 * 0, -ENOMEM or the sink's errno. */
int sla_satisfy(const sla_entity_t *e, int kind, int64_t at_ms, int64_t now_ms,
                const hf_sink_t *sink);

/* Stops clock @kind without an answer (the case closed). */
void sla_cancel(sla_state_t *s, int kind);

/* Back to nurture: the case closes, a new cycle begins, the recycle gate shuts.
 * @at_ms dates the lifecycle change; @gate_ms (event time) is what the cooldown and
 * the new evidence count from; @why is the "recycled" outcome's detail and @cause the
 * lifecycle change's.  Sets *recycled.  0 or the sink's errno. */
int sla_recycle(const sla_entity_t *e, int64_t at_ms, int64_t gate_ms, const char *why,
                const char *cause, const hf_sink_t *sink, bool *recycled);
