/* SLA clocks falling due: the entities the timers index (timers.h) says need
 * attention by now are fired (breaches, escalations, the no-response recycle) and
 * indexed again at their next due time; after a reload whose rules say
 * sla.on_reload: recompute, every running clock takes the new deadlines
 * (docs/ARCHITECTURE.md, "Sales feedback and SLA clocks"). */
#pragma once

#include "stage.h"

/* Fires the clocks that fell due by @now_ms (wall time; at most @max entities) and
 * what that sets off in this process.  Returns 0 or a negative errno. */
int clocks_fire(stage_ctx_t *c, int64_t now_ms, unsigned max);

/* Gives every running clock the deadlines of the rules in force.  Returns 0 or a
 * negative errno. */
int clocks_reschedule(stage_ctx_t *c);

/* Gives every team its next digest instant by the rules in force (digest.at, the
 * calendars), after any reload.  Returns 0 or a negative errno. */
int clocks_reschedule_digests(stage_ctx_t *c);
