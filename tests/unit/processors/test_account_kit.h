/* Helpers for the stage-3 tests (test_account*.c and the AccountState schema check):
 * account rules on top of testkit's rules, member updates, and a sample account with
 * every part of its state populated. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "processors/account/account.h"
#include "testkit.h"

/* Appends an account rule with no conditions (min_grade -1); returns it (valid until
 * the next append).  Freed by tk_rules_free(). */
hf_account_rule_t *ta_account_rule(hf_rules_t *r, const char *name);
/* Sets a NULL-terminated list of roles (copied) into *@roles / *@count. */
void ta_roles(char ***roles, size_t *count, ...);
/* Sets a -1-terminated list of tiers into @ar. */
void ta_tiers(hf_account_rule_t *ar, ...);
/* Appends an account fit rule. */
hf_fit_rule_t *ta_account_fit_rule(hf_rules_t *r, const char *name, int32_t points);

/* A member update of @contact_id for "acct-1": score @score at @at_ms, which is also
 * its at, last_active and first_seen; stage "engaged", fit grade "B", nothing else.
 * Strings borrowed. */
hf_member_update_t ta_update(const char *contact_id, uint64_t version, int64_t at_ms, double score,
                             const char *role);

/* Rules for the sample: roles decision_maker (3) / champion (2) / user (1, default),
 * engaged at 30 within 14 days, account cap 1000, members 8, buying group 5, grades
 * A 50 / B 20 / F 0, account fit "software" (industry) 20, target "acct-1" tier 1 worth
 * 10, route "emea" for DE, a rule "buying_group" (2 engaged, 2 roles), journey
 * bounds 10, interests top 3 of 8. */
hf_rules_t *ta_sample_rules_new(void);

/* "acct-1" with members c-1 (decision_maker), c-2 (champion) and c-3 (user, not
 * engaged), each with interests, contributions, touches, downloads, webinars and
 * traits; c-4 left; handed off under "buying_group"; a roster sent.  Aborts on
 * failure. */
account_state_t *ta_sample_account_new(const hf_rules_t *rules, tk_rec_t *rec);
