/* Stage 3: the account journey, keyed by account id
 * (processors/account/account.h): member updates from stage 2 and sales activity
 * about the account. */
#pragma once

#include "stage.h"

/* Applies a member update of the account it names.  Returns 0 or a negative errno. */
int stage_account_member(stage_ctx_t *c, const stage_origin_t *origin, const hf_member_update_t *u);

/* Applies sales activity about an account (@raw its original bytes).  @direct: read
 * from the sales topic, so it is first re-keyed to the account's stage-3 partition.
 * Returns 0 or a negative errno. */
int stage_account_sales(stage_ctx_t *c, const stage_origin_t *origin, const hf_event_t *ev,
                        const void *raw, size_t len, bool direct);
