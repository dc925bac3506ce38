#include "samples.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

hf_rules_t *samples_rules_new(void)
{
    hf_rules_t *r = tk_rules_new();
    r->scoring.half_life_ms = 14 * TK_DAY_MS;
    r->lifecycle.engaged_score = 15;
    r->journey.recent_max = 8;
    r->journey.pages_max = 3;
    r->journey.sessions_max = 3;
    tk_grades(r, "A", 50, "B", 30, "F", 0, NULL);
    tk_globs(&tk_fit_rule(r, "vp", 40)->match.title, "*vp*", NULL);
    hf_score_rule_t *pricing = tk_score_rule(r, "pricing", 20);
    tk_globs(&pricing->match.url, "*/pricing*", NULL);
    pricing->cap_count = 2;
    pricing->cap_period_ms = TK_DAY_MS;
    tk_score_rule(r, "any", 1);
    tk_contact_rule(r, "mql", 60, "B", 30 * TK_DAY_MS, "pricing", NULL);
    /* interests, roles */
    r->interests.half_life_ms = 7 * TK_DAY_MS;
    r->interests.tracked = 4;
    r->interests.top = 2;
    tk_globs(&tk_interest_rule(r, "pricing", 2.0f)->match.url, "*/pricing*", NULL);
    tk_globs(&tk_interest_rule(r, "reduce churn", 1.5f)->match.asset_id, "wp-*", NULL);
    tk_globs(&tk_role_rule(r, "decision_maker", 3.0f)->match.seniority, "vp", "c-level", NULL);
    tk_default_role(r, "user", 1.0f);
    r->accounts.buying_group_max = 5;
    return r;
}

contact_state_t *samples_contact_new(const hf_rules_t *rules, tk_rec_t *rec)
{
    contact_state_t *s = contact_state_new("c-1");
    if (!s)
        abort();
    hf_sink_t sink = tk_sink(rec);
    char ids[16][16];
    const char *urls[] = {"/pricing", "/blog/a", "/pricing", "/docs", "/blog/b", "/pricing"};
    const char *sessions[] = {"s-1", "s-1", "s-2", "s-3", "s-4", "s-4"};
    /* anonymous history first (no contact id), then known activity */
    for (int i = 0; i < 6; i++) {
        snprintf(ids[i], sizeof ids[i], "v-%d", i);
        hf_event_t ev = tk_visit(ids[i], TK_T0 + i * TK_HOUR_MS, "a-1", i < 2 ? NULL : "c-1",
                                 sessions[i], urls[i], i % 2 ? "A title" : NULL);
        contact_fold(s, &ev, rules, TK_T0, &sink);
    }
    hf_event_t form = tk_form("f-1", TK_T0 + TK_DAY_MS, "a-1", "c-1", HF_FORM_CONTENT_GATE);
    form.traits.title = "VP Finance";
    form.traits.email_domain = "acme.com";
    form.traits.email_hash = "00ff";
    form.traits.full_name = "Pat Doe";
    form.traits.seniority = "vp";
    form.traits.department = "finance";
    form.traits.company_name = "Acme";
    form.traits.account_id = "acct-1";
    form.traits.industry = "banking";
    form.traits.has_employees = true;
    form.traits.employees = 1200;
    form.traits.country = "DE";
    form.traits.region = "emea";
    contact_fold(s, &form, rules, TK_T0, &sink);
    hf_event_t dl = tk_download("d-1", TK_T0 + TK_DAY_MS + 1, "c-1", "wp-1", "Playbook");
    contact_fold(s, &dl, rules, TK_T0, &sink);
    hf_event_t wb = tk_webinar("w-1", TK_T0 + TK_DAY_MS + 2, "c-1", HF_WEBINAR_REGISTERED, 0);
    contact_fold(s, &wb, rules, TK_T0, &sink);
    hf_event_t em = tk_email("e-1", TK_T0 + TK_DAY_MS + 3, "c-1", HF_EMAIL_CLICKED, "spring");
    contact_fold(s, &em, rules, TK_T0, &sink);
    hf_event_t pr = tk_visit("v-9", TK_T0 + 2 * TK_DAY_MS, NULL, "c-1", "s-5", "/pricing", NULL);
    contact_fold(s, &pr, rules, TK_T0, &sink);
    const hf_member_t others[] = {{"c-2", "champion", 55, TK_T0 + TK_DAY_MS},
                                  {"c-3", "user", 20, TK_T0 + 2 * TK_HOUR_MS}};
    const char *const roles[] = {"decision_maker", "champion", "user"};
    hf_roster_t roster = {"acct-1", 7, others, 2, roles, 3};
    if (contact_apply_roster(s, &roster) != 0)
        abort();
    return s;
}

contact_state_t *samples_redirect_new(const hf_rules_t *rules, tk_rec_t *rec)
{
    contact_state_t *s = samples_contact_new(rules, rec);
    if (contact_state_make_redirect(s, "c-9") != 0)
        abort();
    return s;
}

anon_state_t *samples_anon_new(const hf_rules_t *rules, tk_rec_t *rec, bool identified)
{
    anon_state_t *s = anon_state_new();
    if (!s)
        abort();
    identity_sink_t sink = tk_identity_sink(rec);
    const int64_t at[] = {5, 1, 3, 3, 2};
    char raw[8];
    for (int i = 0; i < 5; i++) {
        int n = snprintf(raw, sizeof raw, "r%d", i);
        hf_event_t ev = tk_visit("v", TK_T0 + at[i] * TK_MINUTE_MS, "a-1", NULL, "s", "/", NULL);
        identity_fold(s, &ev, raw, (size_t)n, rules, &sink, NULL);
    }
    /* a record with no bytes at all */
    hf_event_t empty = tk_visit("v", TK_T0, "a-1", NULL, "s", "/", NULL);
    identity_fold(s, &empty, "", 0, rules, &sink, NULL);
    if (identified) {
        hf_event_t id = tk_identify("i", TK_T0 + TK_HOUR_MS, "a-1", "c-1");
        identity_fold(s, &id, "id", 2, rules, &sink, NULL);
    }
    return s;
}
