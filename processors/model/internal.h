/* Records between stages that are not processors' output (docs/CONTRACTS.md,
 * schemas/internal/): the daemon's stage 2 sends them to itself to merge two contacts.
 * Their siblings MemberUpdate and RosterUpdate are hf_member_update_t and hf_roster_t
 * of output.h, which processors emit.  Every pointer is borrowed. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* MergeRequest, keyed by the loser: hand your journey over to the survivor. */
typedef struct hf_merge_request {
    const char *event_id; /* of the merge event; NULL = absent */
    int64_t at_ms;
    const char *survivor_id;
    const char *loser_id;
    bool survivor_known;
    bool bounced; /* sent back with the roles swapped: the known contact survives */
} hf_merge_request_t;

/* MergeState, keyed by the survivor: the loser's journey to fold in. */
typedef struct hf_merge_state {
    const char *event_id;
    int64_t at_ms;
    const char *survivor_id;
    const char *loser_id;
    const void *state; /* a ContactState body */
    size_t state_len;
} hf_merge_state_t;
