/* Accounts, roles, tiers and routing: the pure lookups stage 2 and stage 3 share.
 * Everything here is a function of traits and rules. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "processors/model/event.h"
#include "processors/rules/rules.h"

/* The account a contact belongs to: @account_id_trait when set (and not blocked),
 * else the account of @email_domain (the configured domain -> account map, otherwise
 * the domain itself), never a free-mail or disposable domain.  NULL when none.
 * The result points into the arguments or the rules. */
const char *hf_account_resolve(const hf_rules_t *rules, const char *account_id_trait,
                               const char *email_domain);

/* The buying-group role of a contact with these traits (first matching role rule,
 * else rules->default_role), and its weight. */
const char *hf_role_of(const hf_rules_t *rules, const hf_traits_t *traits, float *weight);

/* Appends to @out how hf_role_of() placed a contact with these traits: the role
 * rule, numbered from 1 in the file's order, with its role and what each of its
 * conditions matched, `role rule 2 (decision_maker): title "VP Finance" matched
 * "*vp*"`, or `default role (user)` when no rule matches.  Returns 0 or -ENOMEM
 * (@out may then hold part of it). */
int hf_role_placement(const hf_rules_t *rules, const hf_traits_t *traits, hf_buf_t *out);

/* Weight of @role under @rules (the default role's weight for unknown roles). */
float hf_role_weight(const hf_rules_t *rules, const char *role);

/* Tier of @account_id (0 = not a target account), and the fit points it earns. */
int32_t hf_account_tier(const hf_rules_t *rules, const char *account_id, int32_t *points);

/* The team of a lead from @country / @region of an account of @tier: the first
 * route rule that matches, or NULL.  @note receives a short reason when no team
 * covers it ("no team covers country BR"), else "". */
const char *hf_route(const hf_rules_t *rules, const char *country, const char *region, int32_t tier,
                     char *note, size_t notesz);
