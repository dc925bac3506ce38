/* Stage 3: the account journey.  Keyed by account id.
 *
 * Folds the member updates stage 2 sends for the contacts of one account: keeps the
 * members (role, score, last activity, what they did), computes the account score
 * (weighted sum of member scores, decayed, capped), the roles covered and the
 * account fit, evaluates the account conversation-ready rules (one handoff per
 * qualification cycle) and pushes the engaged roster back to the members when it
 * changes, so that a contact's handoff can show who else is looking. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"
#include "util/result.h"
#include "processors/model/lifecycle.h"
#include "processors/model/output.h"
#include "processors/rules/rules.h"
#include "processors/model/state.h"

typedef struct account_state account_state_t;

/* A new, empty account (stage "known"); NULL on out of memory. */
account_state_t *account_state_new(const char *account_id);
void account_state_free(account_state_t *s);

/* Avro binary of schemas/state/AccountState.avsc appended to @out: 0 or -ENOMEM. */
int account_state_encode(const account_state_t *s, hf_buf_t *out);
/* 0, -ENOMEM or HF_STATE_CORRUPT; *out only on success. */
int account_state_decode(account_state_t **out, const void *buf, size_t len);

const char *account_state_id(const account_state_t *s);
hf_stage_t account_state_stage(const account_state_t *s);
/* Account score at @at_ms under @rules (weighted, decayed, capped). */
double account_state_score(const account_state_t *s, const hf_rules_t *rules, int64_t at_ms);
/* The account's newest activity: the newest last_active of its members, or 0. */
int64_t account_state_last_active_ms(const account_state_t *s);
size_t account_state_member_count(const account_state_t *s);
/* Members engaged at the account's newest activity, under @rules. */
size_t account_state_engaged_count(const account_state_t *s, const hf_rules_t *rules);
uint32_t account_state_cycle(const account_state_t *s);
bool account_state_handed_off(const account_state_t *s);

/* Positive results of this module, numbered from HF_RESULT_BASE_ACCOUNT
 * (util/result.h). */
typedef enum account_fold_result {
    ACCOUNT_FOLD_APPLIED = 0,
    /* version not newer than the one applied: nothing changed */
    ACCOUNT_FOLD_STALE = HF_RESULT_BASE_ACCOUNT + 1,
    /* account_fold_sales(): an event id applied before: nothing changed */
    ACCOUNT_FOLD_DUPLICATE = HF_RESULT_BASE_ACCOUNT + 2,
    /* account_fold_sales(): names no handoff of this account (counted, nothing
     * changed; the caller keeps the record as a dead letter) */
    ACCOUNT_FOLD_UNKNOWN_HANDOFF = HF_RESULT_BASE_ACCOUNT + 3,
} account_fold_result_t;

/* Applies @u (last-writer-wins per contact by version; a leave removes the member),
 * then re-evaluates: lifecycle changes and at most one account handoff go to @sink,
 * and a roster to every engaged member when the engaged set or their roles changed.
 * Returns ACCOUNT_FOLD_APPLIED, ACCOUNT_FOLD_STALE, -ENOMEM or the sink's errno. */
int account_fold_member(account_state_t *s, const hf_member_update_t *u, const hf_rules_t *rules,
                        int64_t now_ms, const hf_sink_t *sink);

/* Applies SalesActivity @ev for the account (sla.h), dropping a repeated event id.
 * Returns ACCOUNT_FOLD_APPLIED, ACCOUNT_FOLD_DUPLICATE, ACCOUNT_FOLD_UNKNOWN_HANDOFF,
 * -ENOMEM or the sink's errno. */
int account_fold_sales(account_state_t *s, const hf_event_t *ev, const hf_rules_t *rules,
                       int64_t now_ms, const hf_sink_t *sink);

/* SLA clocks of the account: as contact_sla_fire(), contact_state_next_due() and
 * contact_sla_reschedule(). */
int account_sla_fire(account_state_t *s, const hf_rules_t *rules, int64_t now_ms,
                     const hf_sink_t *sink);
int64_t account_state_next_due(const account_state_t *s);
bool account_sla_reschedule(account_state_t *s, const hf_rules_t *rules);
