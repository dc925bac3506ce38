/* What processors emit, on its way out: handoffs, lifecycle changes and SLA
 * breaches encoded to their output topics (counted, and logged one line each),
 * outcome counters for marketing, and the records stage 2 and stage 3 send each
 * other (member updates, rosters). */
#pragma once

#include "processors/model/output.h"
#include "stage.h"

/* Fills @sink with the callbacks that emit into @c; returns @sink. */
const hf_sink_t *outputs_sink(stage_ctx_t *c, hf_sink_t *sink);
