/* Stage 1: resolve, keyed by anonymous id.  Remembers which contact an anonymous
 * id turned out to be and hands its history, then each of its records, over to
 * stage 2 under that contact (processors/identity/identity.h). */
#pragma once

#include "stage.h"

/* Folds @ev (a web visit, form or identify; @raw its original bytes) into the state
 * of its anonymous id; a blocked anonymous id goes straight to the contact it names,
 * or to the DLQ.  Returns 0 or a negative errno. */
int stage_resolve(stage_ctx_t *c, const stage_origin_t *origin, const hf_event_t *ev,
                  const void *raw, size_t len);
