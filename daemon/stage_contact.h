/* Stage 2: the contact journey, keyed by contact id (processors/contact/contact.h):
 * events, rosters from stage 3, and the summaries each changed contact owes its
 * account, sent once per commit (accounts.member_updates: on_commit).  Merges of
 * two contacts are merge.h's. */
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

/* Remembers that @s owes its account a summary, if it does (once per commit: the
 * caller checked it did not before the change).  0 or -ENOMEM. */
int stage_contact_owe(stage_ctx_t *c, const contact_state_t *s);

/* Sends every owed summary to its account and processes what that sets off in this
 * process (stage 3, rosters back to stage 2); run first in every commit.  Returns 0
 * or a negative errno. */
int stage_contact_flush_owed(stage_ctx_t *c);

/* Forgets the owed summaries. */
void stage_contact_owed_clear(stage_ctx_t *c);
