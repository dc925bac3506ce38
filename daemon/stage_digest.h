/* The daily digest of each routing team (processors/digest/digest.h,
 * docs/ARCHITECTURE.md "Daily digests"), with `digest.enabled`.
 *
 * The contact and account stages watch the case of the entity a record (or a clock)
 * changes: its snapshot before, compared with the one after, tells the team what
 * changed as a CaseUpdate keyed by the routing team, delivered like a member update
 * through `<app>.by-account` (stage_deliver()).  The team's state lives in the
 * `team` column family behind its own record cache, and its digest instant in the
 * timers index (type TIMERS_TEAM), fired on the wall clock by clocks.c like the SLA
 * clocks; each digest is produced to `topics.digest`, keyed by team.
 *
 * Thread: the pipeline's. */
#pragma once

#include "processors/digest/digest.h"
#include "stage.h"

/* The case of an entity before a fold (a watch that is off when digests are). */
typedef struct stage_digest_watch {
    bool on;
    digest_snap_t before;
} stage_digest_watch_t;

/* Notes the case of @s (a contact_state_t or an account_state_t, by @type).  0 or
 * -ENOMEM. */
int stage_digest_watch(stage_ctx_t *c, stage_digest_watch_t *w, hf_entity_type_t type,
                       const void *s);

/* After the fold: sends what changed in the case of @s since stage_digest_watch()
 * to its team (@action: the sales answer folded, -1 none), and ends the watch.
 * 0 or a negative errno. */
int stage_digest_tell(stage_ctx_t *c, stage_digest_watch_t *w, hf_entity_type_t type, const void *s,
                      int action);

/* Ends a watch without telling (the fold failed). */
void stage_digest_unwatch(stage_digest_watch_t *w);

/* Applies a CaseUpdate to its team's state.  0 or a negative errno. */
int stage_digest_case(stage_ctx_t *c, const stage_origin_t *origin, const digest_update_t *u);

/* Fires @team's digest if its instant came by @now_ms, and indexes the next one.
 * 0 or a negative errno. */
int stage_digest_fire(stage_ctx_t *c, const char *team, int64_t now_ms);

/* After a reload: @team's next digest by the rules in force.  0 or a negative
 * errno. */
int stage_digest_reschedule(stage_ctx_t *c, const char *team);
