/* Stage 2: the contact journey, keyed by contact id (processors/contact/contact.h):
 * events, rosters from stage 3, and the summaries each changed contact owes its
 * account (accounts.member_updates: coalesced, the default, sends them at points of
 * the input's order, on_commit before every commit; stage.h's stage_owed_t).
 * Merges of two contacts are merge.h's. */
#pragma once

#include "processors/contact/contact.h"
#include "stage.h"

/* A new contact state for @id, for stage_state_of(). */
void *stage_contact_create(const char *id);

/* Folds @ev (@raw its original bytes) into @contact's journey.  @direct: the record
 * came from an input topic of @role keyed by contact (not from the repartition
 * topic or the mailbox), so it is folded here only if it sits on the partition
 * murmur2 assigns to its contact; otherwise it is re-keyed, so that a producer with
 * another partitioner cannot split a journey across instances.  Account sales
 * activity goes to stage 3.  Returns 0 or a negative errno. */
int stage_contact_event(stage_ctx_t *c, const stage_origin_t *origin, stage_role_t role,
                        const hf_event_t *ev, const void *raw, size_t len, const char *contact,
                        bool direct);

/* Applies the roster of @contact's account.  Returns 0 or a negative errno. */
int stage_contact_roster(stage_ctx_t *c, const stage_origin_t *origin, const char *contact,
                         const hf_roster_t *roster);

/* Remembers that @s owes its account a summary, if it does, on the list of its
 * contact partition (once per summary owed: the caller checked it did not before
 * the change).  0 or -ENOMEM. */
int stage_contact_owe(stage_ctx_t *c, const contact_state_t *s);

/* Contacts owed a summary, over every contact partition. */
size_t stage_contact_owed_count(const stage_ctx_t *c);

/* Sends every contact partition's owed summaries (each in the order its contacts
 * first changed, a contact evicted from the record cache read back) and processes
 * what that sets off in this process (stage 3, rosters back to stage 2); every
 * partition's count of contact records starts over.  Returns 0 or a negative
 * errno. */
int stage_contact_flush_owed(stage_ctx_t *c);

/* The same for the partitions that folded accounts.member_update_records contact
 * records since they last sent (coalesced): run after every record, by
 * stage_process().  A contact record is one stage_contact_event() folds into a
 * contact of the partition -- applied, a repeat, or sales feedback naming no
 * handoff; one for a merged-away contact counts where its survivor folds it.
 * Returns 0 or a negative errno. */
int stage_contact_flush_due(stage_ctx_t *c);

/* Run first in every commit: on_commit (and every_event, for summaries a reload
 * left owed) sends every owed summary; coalesced sends nothing (a commit is a
 * moment of the wall clock) -- its lists go into the batch instead. */
int stage_contact_before_commit(stage_ctx_t *c);

/* The process is caught up (nothing buffered, nothing left on the broker): with
 * coalesced every owed summary goes now, so live traffic reaches the accounts
 * without waiting for a partition's count; in a backlog that is only at its end.
 * Returns 0 or a negative errno. */
int stage_contact_caught_up(stage_ctx_t *c);

/* Puts the owed lists and counts that changed since the last commit into @batch
 * (STORE_CF_OWED; an empty one is deleted).  0 or -ENOMEM. */
int stage_contact_owed_write(stage_ctx_t *c, store_batch_t *batch);

/* Replaces contact partition @partition's owed list and count with the stored row
 * @val (NULL: none stored: nothing owed), when the partition is assigned.  Returns
 * 0, STORE_MALFORMED (nothing owed then), or -ENOMEM. */
int stage_contact_owed_load(stage_ctx_t *c, int32_t partition, const void *val, size_t len);

/* Forgets the owed lists and counts in memory (the store keeps what was committed):
 * after a revoke, or a failure. */
void stage_contact_owed_clear(stage_ctx_t *c);
