/* Merges of two contacts (CRM deduplication), between stage-2 partitions: the merge
 * event, folded at the survivor, sends a MergeRequest to the loser's partition; the
 * loser hands its journey over in a MergeState to the survivor's partition and
 * leaves a redirect behind; the survivor folds it in.  The known contact always
 * survives an anonymous one (a request bounces with the roles swapped), and a
 * journey sent again after a crash is dropped as a repeat
 * (docs/ARCHITECTURE.md, "Merges across partitions"). */
#pragma once

#include "processors/contact/contact.h"
#include "stage.h"

/* After the merge event @ev was folded into @survivor: asks the loser it names to
 * hand its journey over.  @known_before: whether the survivor was known before the
 * merge record itself (which carries the survivor's id, so makes it "known") was
 * folded.  Returns 0 or a negative errno. */
int merge_start(stage_ctx_t *c, const contact_state_t *survivor, const hf_event_t *ev,
                bool known_before);

/* At the loser's partition: hands the journey over to the survivor (or bounces the
 * request to the known contact).  Returns 0 or a negative errno. */
int merge_request_in(stage_ctx_t *c, const stage_origin_t *origin, const hf_merge_request_t *req);

/* At the survivor's partition: folds the loser's journey in (@raw: the MergeState
 * record, passed on as it is when the survivor itself was merged away meanwhile).
 * Returns 0 or a negative errno. */
int merge_state_in(stage_ctx_t *c, const stage_origin_t *origin, const hf_merge_state_t *ms,
                   const void *raw, size_t len);
