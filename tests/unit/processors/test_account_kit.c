#include "test_account_kit.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void *xgrow(void *p, size_t count, size_t size)
{
    void *q = realloc(p, count * size);
    if (!q)
        abort();
    return q;
}

static char *xstrdup(const char *s)
{
    char *c = strdup(s);
    if (!c)
        abort();
    return c;
}

hf_account_rule_t *ta_account_rule(hf_rules_t *r, const char *name)
{
    r->accounts.rules =
        xgrow(r->accounts.rules, r->accounts.rule_count + 1, sizeof *r->accounts.rules);
    hf_account_rule_t *ar = &r->accounts.rules[r->accounts.rule_count++];
    *ar = (hf_account_rule_t){.name = xstrdup(name), .min_grade = -1};
    return ar;
}

void ta_roles(char ***roles, size_t *count, ...)
{
    va_list ap;
    va_start(ap, count);
    for (const char *p = va_arg(ap, const char *); p; p = va_arg(ap, const char *)) {
        *roles = xgrow(*roles, *count + 1, sizeof **roles);
        (*roles)[(*count)++] = xstrdup(p);
    }
    va_end(ap);
}

void ta_tiers(hf_account_rule_t *ar, ...)
{
    va_list ap;
    va_start(ap, ar);
    for (int t = va_arg(ap, int); t >= 0; t = va_arg(ap, int)) {
        ar->tiers = xgrow(ar->tiers, ar->tier_count + 1, sizeof *ar->tiers);
        ar->tiers[ar->tier_count++] = t;
    }
    va_end(ap);
}

hf_fit_rule_t *ta_account_fit_rule(hf_rules_t *r, const char *name, int32_t points)
{
    r->accounts.fit_rules =
        xgrow(r->accounts.fit_rules, r->accounts.fit_rule_count + 1, sizeof *r->accounts.fit_rules);
    hf_fit_rule_t *fr = &r->accounts.fit_rules[r->accounts.fit_rule_count++];
    *fr = (hf_fit_rule_t){.name = xstrdup(name), .points = points};
    return fr;
}

hf_member_update_t ta_update(const char *contact_id, uint64_t version, int64_t at_ms, double score,
                             const char *role)
{
    return (hf_member_update_t){
        .contact_id = contact_id,
        .account_id = "acct-1",
        .version = version,
        .at_ms = at_ms,
        .score = score,
        .score_at_ms = at_ms,
        .role = role,
        .stage = "engaged",
        .fit_grade = "B",
        .first_seen_ms = at_ms,
        .last_active_ms = at_ms,
    };
}

hf_rules_t *ta_sample_rules_new(void)
{
    hf_rules_t *r = tk_rules_new();
    tk_globs(&tk_role_rule(r, "decision_maker", 3.0f)->match.seniority, "vp", "c-level", NULL);
    tk_globs(&tk_role_rule(r, "champion", 2.0f)->match.seniority, "manager", NULL);
    tk_default_role(r, "user", 1.0f);
    r->accounts.engaged_member_score = 30;
    r->accounts.engaged_member_within_ms = 14 * TK_DAY_MS;
    r->accounts.max_score = 1000;
    r->accounts.members_max = 8;
    r->accounts.buying_group_max = 5;
    r->interests.tracked = 8;
    r->interests.top = 3;
    tk_grades(r, "A", 50, "B", 20, "F", 0, NULL);
    tk_globs(&ta_account_fit_rule(r, "software", 20)->match.industry, "software", NULL);
    tk_target(r, "acct-1", 1, 10);
    tk_globs(&tk_route_rule(r, "emea", -1)->country, "DE", "FR", NULL);
    hf_account_rule_t *ar = ta_account_rule(r, "buying_group");
    ar->min_engaged = 2;
    ar->min_roles = 2;
    return r;
}

static void fold_or_abort(account_state_t *s, const hf_member_update_t *u, const hf_rules_t *rules,
                          tk_rec_t *rec)
{
    hf_sink_t sink = tk_sink(rec);
    if (account_fold_member(s, u, rules, TK_T0 + 400 * TK_DAY_MS, &sink) != ACCOUNT_FOLD_APPLIED) {
        fprintf(stderr, "sample: %s was not applied\n", u->contact_id);
        abort();
    }
}

account_state_t *ta_sample_account_new(const hf_rules_t *rules, tk_rec_t *rec)
{
    account_state_t *s = account_state_new("acct-1");
    if (!s)
        abort();
    int64_t t = TK_T0 + 2 * TK_DAY_MS;

    const hf_interest_t i1[] = {{"reduce churn", 2.5f}, {"soc 2", 1.0f}};
    const hf_reason_t c1[] = {{"pricing", 30, 2, "2 matches"}, {"webinar", 15, 1, "1 match"}};
    const hf_touch_t t1[] = {{t, "download", "Churn playbook", "ebook"},
                             {t - TK_HOUR_MS, "web_visit", "Pricing", NULL}};
    const hf_download_t d1[] = {{"wp-1", "Churn playbook", "ebook", t}};
    const hf_webinar_t w1[] = {{"wb-1", "SOC 2 in practice", "attended", 45, t - TK_DAY_MS}};
    hf_member_update_t u = ta_update("c-1", 3, t, 45.5, "decision_maker");
    u.first_seen_ms = TK_T0;
    u.company_name = "Acme";
    u.industry = "software";
    u.has_employees = true;
    u.employees = 1200;
    u.country = "DE";
    u.region = "emea";
    u.interests = i1;
    u.interest_count = 2;
    u.contributions = c1;
    u.contribution_count = 2;
    u.touches = t1;
    u.touch_count = 2;
    u.downloads = d1;
    u.download_count = 1;
    u.webinars = w1;
    u.webinar_count = 1;
    u.sessions = 3;
    u.page_views = 7;
    u.email_opens = 2;
    u.email_clicks = 1;
    u.placement = "role rule 1 (decision_maker): title \"VP Finance\" matched \"*vp*\"";
    fold_or_abort(s, &u, rules, rec);

    hf_member_update_t u4 = ta_update("c-4", 1, t, 5, "user");
    fold_or_abort(s, &u4, rules, rec);
    u4 = ta_update("c-4", 2, t, 5, "user");
    u4.leave = true;
    fold_or_abort(s, &u4, rules, rec);

    const hf_interest_t i2[] = {{"reduce churn", 1.0f}};
    const hf_touch_t t2[] = {{t + TK_HOUR_MS, "email", "spring", "clicked"}};
    hf_member_update_t u2 = ta_update("c-2", 7, t + TK_HOUR_MS, 60, "champion");
    u2.first_seen_ms = TK_T0 + TK_DAY_MS;
    u2.interests = i2;
    u2.interest_count = 1;
    u2.touches = t2;
    u2.touch_count = 1;
    u2.sessions = 1;
    fold_or_abort(s, &u2, rules, rec);

    hf_member_update_t u3 = ta_update("c-3", 1, t, 10, "user");
    u3.country = "FR";
    u3.placement = "default role (user)";
    fold_or_abort(s, &u3, rules, rec);
    return s;
}
