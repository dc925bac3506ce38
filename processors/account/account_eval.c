/* Stage 3 as the rules see it: member scores decayed to the account's newest activity,
 * engaged members, roles covered, account score, traits, fit and grade, and which
 * account rule holds.  Everything here is recomputed from the members under the
 * current rules, so a reload re-evaluates every account. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "account_priv.h"
#include "resolve.h"
#include "processors/journey/score.h"
#include "util/timespan.h"

int64_t account_newest_activity(const account_state_t *s)
{
    int64_t newest = 0;
    for (size_t i = 0; i < s->member_count; i++)
        if (i == 0 || s->members[i].last_active_ms > newest)
            newest = s->members[i].last_active_ms;
    return newest;
}

double account_member_score_at(const account_member_t *m, const hf_rules_t *rules, int64_t at_ms)
{
    if (at_ms <= m->score_at_ms)
        return m->score;
    return m->score *
           score_decay((double)timespan_ms(at_ms, m->score_at_ms), rules->scoring.half_life_ms);
}

bool account_member_engaged(const account_member_t *m, const hf_rules_t *rules, int64_t ref_ms)
{
    if (score_round(account_member_score_at(m, rules, ref_ms)) <
        rules->accounts.engaged_member_score)
        return false;
    return rules->accounts.engaged_member_within_ms <= 0 ||
           !timespan_older_than(m->last_active_ms, ref_ms,
                                rules->accounts.engaged_member_within_ms);
}

static int ranked_cmp(const void *a, const void *b)
{
    const account_ranked_t *x = a, *y = b;
    if (x->weighted != y->weighted)
        return x->weighted > y->weighted ? -1 : 1;
    return strcmp(x->m->contact_id, y->m->contact_id);
}

/* True when member @a's traits are preferred to @b's (newer activity, then id). */
static bool traits_newer(const account_member_t *a, const account_member_t *b)
{
    if (!b)
        return true;
    if (a->last_active_ms != b->last_active_ms)
        return a->last_active_ms > b->last_active_ms;
    return strcmp(a->contact_id, b->contact_id) < 0;
}

static void build_traits(account_view_t *v, const account_state_t *s)
{
    const account_member_t *company = NULL, *industry = NULL, *country = NULL, *region = NULL,
                           *employees = NULL;
    for (size_t i = 0; i < s->member_count; i++) {
        const account_member_t *m = &s->members[i];
        if (m->company_name && traits_newer(m, company))
            company = m;
        if (m->industry && traits_newer(m, industry))
            industry = m;
        if (m->country && traits_newer(m, country))
            country = m;
        if (m->region && traits_newer(m, region))
            region = m;
        if (m->has_employees && traits_newer(m, employees))
            employees = m;
    }
    v->traits = (hf_traits_t){.present = true};
    v->traits.company_name = company ? company->company_name : NULL;
    v->traits.industry = industry ? industry->industry : NULL;
    v->traits.country = country ? country->country : NULL;
    v->traits.region = region ? region->region : NULL;
    v->traits.has_employees = employees != NULL;
    v->traits.employees = employees ? employees->employees : 0;
}

static void build_fit(account_view_t *v, const account_state_t *s, const hf_rules_t *rules)
{
    v->tier = hf_account_tier(rules, s->account_id, &v->tier_points);
    int64_t points = v->tier_points;
    for (size_t i = 0; i < rules->accounts.fit_rule_count; i++)
        if (hf_trait_match(&rules->accounts.fit_rules[i].match, &v->traits))
            points += rules->accounts.fit_rules[i].points;
    v->fit_points = points > INT32_MAX   ? INT32_MAX
                    : points < INT32_MIN ? INT32_MIN
                                         : (int32_t)points;
    v->grade = -1;
    if (!rules->fit.grade_count)
        return;
    /* the floor grade unless a higher one is earned */
    v->grade = (int)rules->fit.grade_count - 1;
    for (size_t i = 0; i < rules->fit.grade_count; i++)
        if (rules->fit.grades[i].min_points <= v->fit_points) {
            v->grade = (int)i;
            break;
        }
}

static bool role_listed(const char *const *roles, size_t count, const char *role)
{
    for (size_t i = 0; i < count; i++)
        if (roles[i] && strcmp(roles[i], role) == 0)
            return true;
    return false;
}

int account_view_build(account_view_t *v, const account_state_t *s, const hf_rules_t *rules)
{
    *v = (account_view_t){.ref_ms = account_newest_activity(s), .grade = -1};
    /* n + 1: never a zero-size request, whose NULL would read as failure */
    account_ranked_t *ranked = calloc(s->member_count + 1, sizeof *ranked);
    const char **roles = calloc(s->member_count + 1, sizeof *roles);
    if (!ranked || !roles) {
        free(ranked);
        free(roles);
        return -ENOMEM;
    }
    double sum = 0;
    for (size_t i = 0; i < s->member_count; i++) {
        const account_member_t *m = &s->members[i];
        account_ranked_t *r = &ranked[i];
        r->m = m;
        r->score = account_member_score_at(m, rules, v->ref_ms);
        r->score_points = score_round(r->score);
        r->weight = hf_role_weight(rules, m->role);
        r->weighted = r->score * (double)r->weight;
        r->engaged = account_member_engaged(m, rules, v->ref_ms);
        sum += r->weighted;
    }
    qsort(ranked, s->member_count, sizeof *ranked, ranked_cmp);
    for (size_t i = 0; i < s->member_count; i++) {
        if (!ranked[i].engaged)
            continue;
        v->engaged_count++;
        if (!role_listed(roles, v->role_count, ranked[i].m->role))
            roles[v->role_count++] = ranked[i].m->role;
    }
    if (rules->accounts.max_score > 0 && sum > rules->accounts.max_score)
        sum = rules->accounts.max_score;
    v->ranked = ranked;
    v->count = s->member_count;
    v->roles = roles;
    v->score = sum;
    v->score_points = score_round(sum);
    build_traits(v, s);
    build_fit(v, s, rules);
    return 0;
}

void account_view_free(account_view_t *v)
{
    free(v->ranked);
    free(v->roles);
    *v = (account_view_t){0};
}

static bool tier_listed(const hf_account_rule_t *ar, int32_t tier)
{
    if (!ar->tier_count)
        return true;
    for (size_t i = 0; i < ar->tier_count; i++)
        if (ar->tiers[i] == tier)
            return true;
    return false;
}

static bool account_rule_holds(const hf_account_rule_t *ar, const account_view_t *v,
                               const hf_rules_t *rules)
{
    if (ar->min_engaged > 0 && v->engaged_count < ar->min_engaged)
        return false;
    if (ar->min_roles > 0 && v->role_count < ar->min_roles)
        return false;
    for (size_t i = 0; i < ar->roles_all_count; i++)
        if (!ar->roles_all[i] || !role_listed(v->roles, v->role_count, ar->roles_all[i]))
            return false;
    if (ar->roles_any_count) {
        bool any = false;
        for (size_t i = 0; i < ar->roles_any_count && !any; i++)
            any = ar->roles_any[i] && role_listed(v->roles, v->role_count, ar->roles_any[i]);
        if (!any)
            return false;
    }
    if (ar->min_score > 0 && v->score_points < ar->min_score)
        return false;
    if (ar->min_grade >= 0 && (v->grade < 0 || v->grade > ar->min_grade ||
                               (size_t)ar->min_grade >= rules->fit.grade_count))
        return false;
    return tier_listed(ar, v->tier);
}

const hf_account_rule_t *account_rule_match(const account_view_t *v, const hf_rules_t *rules)
{
    /* an account nobody belongs to any more has no one to hand off */
    if (!v->count)
        return NULL;
    for (size_t i = 0; i < rules->accounts.rule_count; i++) {
        const hf_account_rule_t *ar = &rules->accounts.rules[i];
        if (ar->name && account_rule_holds(ar, v, rules))
            return ar;
    }
    return NULL;
}
