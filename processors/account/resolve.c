#include "resolve.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

/* Role of a contact when the rules name no default (the config always names one; a
 * hand-built hf_rules_t may not), so a member update never carries a NULL role. */
#define ROLE_FALLBACK "unknown"

static bool is_set(const char *s)
{
    return s && *s;
}

const char *hf_account_resolve(const hf_rules_t *rules, const char *account_id_trait,
                               const char *email_domain)
{
    if (!hf_id_blocked(account_id_trait))
        return account_id_trait;
    /* "null" or "0" as a domain is the same kind of placeholder as such an id */
    if (hf_id_blocked(email_domain))
        return NULL;
    /* an empty list means no free-mail domains, not "every domain" as elsewhere */
    if (rules->accounts.free_mail_domains.count &&
        hf_globs_match(&rules->accounts.free_mail_domains, email_domain))
        return NULL;
    for (size_t i = 0; i < rules->accounts.domain_count; i++) {
        const hf_domain_account_t *da = &rules->accounts.domains[i];
        if (da->domain && da->account_id && strcasecmp(da->domain, email_domain) == 0)
            return da->account_id;
    }
    return email_domain;
}

/* Index of the first role rule the traits match, or -1. */
static long role_rule_index(const hf_rules_t *rules, const hf_traits_t *traits)
{
    for (size_t i = 0; i < rules->buying_group.role_count; i++) {
        const hf_role_rule_t *rr = &rules->buying_group.roles[i];
        if (rr->role && hf_trait_match(&rr->match, traits))
            return (long)i;
    }
    return -1;
}

static const char *default_role(const hf_rules_t *rules)
{
    return rules->buying_group.default_role ? rules->buying_group.default_role : ROLE_FALLBACK;
}

const char *hf_role_of(const hf_rules_t *rules, const hf_traits_t *traits, float *weight)
{
    long i = role_rule_index(rules, traits);
    if (i >= 0) {
        if (weight)
            *weight = rules->buying_group.roles[i].weight;
        return rules->buying_group.roles[i].role;
    }
    if (weight)
        *weight = rules->buying_group.default_role_weight;
    return default_role(rules);
}

int hf_role_placement(const hf_rules_t *rules, const hf_traits_t *traits, hf_buf_t *out)
{
    long i = role_rule_index(rules, traits);
    if (i < 0)
        return hf_buf_printf(out, "default role (%s)", default_role(rules));
    const hf_role_rule_t *rr = &rules->buying_group.roles[i];
    int r = hf_buf_printf(out, "role rule %ld (%s): ", i + 1, rr->role);
    return r < 0 ? r : hf_trait_match_explain(&rr->match, traits, out);
}

float hf_role_weight(const hf_rules_t *rules, const char *role)
{
    if (role)
        for (size_t i = 0; i < rules->buying_group.role_count; i++)
            if (rules->buying_group.roles[i].role &&
                strcmp(rules->buying_group.roles[i].role, role) == 0)
                return rules->buying_group.roles[i].weight;
    return rules->buying_group.default_role_weight;
}

int32_t hf_account_tier(const hf_rules_t *rules, const char *account_id, int32_t *points)
{
    if (account_id)
        for (size_t i = 0; i < rules->accounts.target_count; i++) {
            const hf_target_account_t *t = &rules->accounts.targets[i];
            if (t->account_id && strcmp(t->account_id, account_id) == 0) {
                if (points)
                    *points = t->points;
                return t->tier;
            }
        }
    if (points)
        *points = 0;
    return 0;
}

static bool tier_listed(const int32_t *tiers, size_t count, int32_t tier)
{
    if (!count)
        return true;
    for (size_t i = 0; i < count; i++)
        if (tiers[i] == tier)
            return true;
    return false;
}

const char *hf_route(const hf_rules_t *rules, const char *country, const char *region, int32_t tier,
                     char *note, size_t notesz)
{
    if (note && notesz)
        note[0] = '\0';
    for (size_t i = 0; i < rules->routing.rule_count; i++) {
        const hf_route_rule_t *rr = &rules->routing.rules[i];
        if (rr->team && hf_globs_match(&rr->country, country) &&
            hf_globs_match(&rr->region, region) && tier_listed(rr->tiers, rr->tier_count, tier))
            return rr->team;
    }
    /* without any route rule routing is simply not in use: nothing to flag */
    if (!rules->routing.rule_count || !note || !notesz)
        return NULL;
    /* the tier is named when there is one: a country may be covered for other tiers */
    char tier_part[32] = "";
    if (tier > 0)
        snprintf(tier_part, sizeof tier_part, " (tier %d)", (int)tier);
    if (is_set(country))
        snprintf(note, notesz, "no team covers country %s%s", country, tier_part);
    else if (is_set(region))
        snprintf(note, notesz, "no team covers region %s%s", region, tier_part);
    else
        snprintf(note, notesz, "no team covers leads without a country%s", tier_part);
    return NULL;
}
