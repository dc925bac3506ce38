/* Sample states with every field populated, for the codec tests and the Avro schema
 * check (dump_states + check_state_schemas.py). */
#pragma once

#include <stdbool.h>

#include "testkit.h"

/* Rules that exercise every part of the contact state. */
hf_rules_t *samples_rules_new(void);

/* A contact that was anonymous, identified, scored (with caps), graded, and handed
 * off; every journey list is non-empty; it has interests, the account "acct-1" and a
 * roster from it (version 7, members c-2 and c-3). */
contact_state_t *samples_contact_new(const hf_rules_t *rules, tk_rec_t *rec);

/* That contact after it was merged into "c-9" (a redirect). */
contact_state_t *samples_redirect_new(const hf_rules_t *rules, tk_rec_t *rec);

/* An anonymous id with buffered records (anonymous id "a-1"); identified as "c-1" when
 * @identified. */
anon_state_t *samples_anon_new(const hf_rules_t *rules, tk_rec_t *rec, bool identified);
