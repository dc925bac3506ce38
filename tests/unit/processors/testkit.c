#include "testkit.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/* Tests stop at the first allocation failure: they cannot do anything useful then. */
static void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p)
        abort();
    return p;
}

static void *xgrow(void *p, size_t count, size_t size)
{
    p = realloc(p, (count ? count : 1) * size);
    if (!p)
        abort();
    return p;
}

static char *xstrdup(const char *s)
{
    if (!s)
        return NULL;
    char *d = strdup(s);
    if (!d)
        abort();
    return d;
}

hf_rules_t *tk_rules_new(void)
{
    hf_rules_t *r = xcalloc(1, sizeof *r);
    r->scoring.half_life_ms = 0;
    r->scoring.max_score = 1000;
    r->scoring.min_score = 0;
    r->lifecycle.engaged_score = 0;
    r->qualify.grace_ms = 0;
    r->stitching.max_events = 100;
    r->stitching.max_age_ms = 0;
    r->dedupe.max_ids = 1000;
    r->dedupe.window_ms = 0;
    r->journey.recent_max = 10;
    r->journey.pages_max = 10;
    r->journey.top_pages = 3;
    r->journey.downloads_max = 10;
    r->journey.webinars_max = 10;
    r->journey.sessions_max = 10;
    r->accounts.member_journey = 10;
    /* SLA clocks as the shipped defaults, 24x7 (no calendars) */
    r->calendars.default_index = -1;
    r->sla.clocks[HF_SLA_ACCEPT].within_ms = 4 * TK_HOUR_MS;
    r->sla.clocks[HF_SLA_ACCEPT].attempts = 1;
    r->sla.clocks[HF_SLA_FIRST_TOUCH].within_ms = 24 * TK_HOUR_MS;
    r->sla.clocks[HF_SLA_FIRST_TOUCH].attempts = 1;
    r->sla.clocks[HF_SLA_FOLLOW_UP].attempts = 3;
    r->recycle.score_policy = HF_RECYCLE_SCORE_HALVE;
    r->recycle.cooldown_ms = 30 * 24 * TK_HOUR_MS;
    r->recycle.new_points = 10;
    r->recycle.hand_raisers_bypass = true;
    r->lifecycle.disqualified_reset_on_identify = true;
    return r;
}

void tk_globs(hf_globs_t *g, ...)
{
    va_list ap;
    va_start(ap, g);
    for (const char *p = va_arg(ap, const char *); p; p = va_arg(ap, const char *)) {
        g->patterns = xgrow(g->patterns, g->count + 1, sizeof *g->patterns);
        g->patterns[g->count++] = xstrdup(p);
    }
    va_end(ap);
}

hf_score_rule_t *tk_score_rule(hf_rules_t *r, const char *name, int32_t points)
{
    r->scoring.rules = xgrow(r->scoring.rules, r->scoring.rule_count + 1, sizeof *r->scoring.rules);
    hf_score_rule_t *s = &r->scoring.rules[r->scoring.rule_count++];
    *s = (hf_score_rule_t){.name = xstrdup(name), .points = points};
    return s;
}

void tk_grades(hf_rules_t *r, ...)
{
    va_list ap;
    va_start(ap, r);
    for (const char *l = va_arg(ap, const char *); l; l = va_arg(ap, const char *)) {
        int min = va_arg(ap, int);
        r->fit.grades = xgrow(r->fit.grades, r->fit.grade_count + 1, sizeof *r->fit.grades);
        r->fit.grades[r->fit.grade_count++] = (hf_grade_t){xstrdup(l), min};
    }
    va_end(ap);
}

hf_fit_rule_t *tk_fit_rule(hf_rules_t *r, const char *name, int32_t points)
{
    r->fit.rules = xgrow(r->fit.rules, r->fit.rule_count + 1, sizeof *r->fit.rules);
    hf_fit_rule_t *f = &r->fit.rules[r->fit.rule_count++];
    *f = (hf_fit_rule_t){.name = xstrdup(name), .points = points};
    return f;
}

hf_fit_exclusion_t *tk_exclusion(hf_rules_t *r, const char *name)
{
    r->fit.exclusions =
        xgrow(r->fit.exclusions, r->fit.exclusion_count + 1, sizeof *r->fit.exclusions);
    hf_fit_exclusion_t *e = &r->fit.exclusions[r->fit.exclusion_count++];
    *e = (hf_fit_exclusion_t){.name = xstrdup(name)};
    return e;
}

hf_contact_rule_t *tk_contact_rule(hf_rules_t *r, const char *name, int32_t min_score,
                                   const char *min_grade, int64_t within_ms, ...)
{
    r->qualify.contact_rules = xgrow(r->qualify.contact_rules, r->qualify.contact_rule_count + 1,
                                     sizeof *r->qualify.contact_rules);
    hf_contact_rule_t *c = &r->qualify.contact_rules[r->qualify.contact_rule_count++];
    *c = (hf_contact_rule_t){.name = xstrdup(name),
                             .min_score = min_score,
                             .min_grade = min_grade ? hf_rules_grade_index(r, min_grade) : -1,
                             .within_ms = within_ms};
    va_list ap;
    va_start(ap, within_ms);
    for (const char *q = va_arg(ap, const char *); q; q = va_arg(ap, const char *)) {
        c->requires = xgrow(c->requires, c->requires_count + 1, sizeof *c->requires);
        c->requires[c->requires_count++] = xstrdup(q);
    }
    va_end(ap);
    return c;
}

void tk_hand_raisers(hf_rules_t *r, const char *rule, uint32_t form_mask, bool respect_exclusions)
{
    free(r->qualify.hand_raiser_rule);
    r->qualify.hand_raiser_rule = xstrdup(rule);
    r->qualify.hand_raiser_forms = form_mask;
    r->qualify.hand_raisers_respect_exclusions = respect_exclusions;
}

hf_interest_rule_t *tk_interest_rule(hf_rules_t *r, const char *topic, float weight)
{
    r->interests.rules =
        xgrow(r->interests.rules, r->interests.rule_count + 1, sizeof *r->interests.rules);
    hf_interest_rule_t *i = &r->interests.rules[r->interests.rule_count++];
    *i = (hf_interest_rule_t){.topic = xstrdup(topic), .weight = weight};
    return i;
}

hf_role_rule_t *tk_role_rule(hf_rules_t *r, const char *role, float weight)
{
    r->buying_group.roles =
        xgrow(r->buying_group.roles, r->buying_group.role_count + 1, sizeof *r->buying_group.roles);
    hf_role_rule_t *rr = &r->buying_group.roles[r->buying_group.role_count++];
    *rr = (hf_role_rule_t){.role = xstrdup(role), .weight = weight};
    return rr;
}

void tk_default_role(hf_rules_t *r, const char *role, float weight)
{
    free(r->buying_group.default_role);
    r->buying_group.default_role = xstrdup(role);
    r->buying_group.default_role_weight = weight;
}

void tk_domain_account(hf_rules_t *r, const char *domain, const char *account_id)
{
    r->accounts.domains =
        xgrow(r->accounts.domains, r->accounts.domain_count + 1, sizeof *r->accounts.domains);
    r->accounts.domains[r->accounts.domain_count++] =
        (hf_domain_account_t){xstrdup(domain), xstrdup(account_id)};
}

void tk_target(hf_rules_t *r, const char *account_id, int32_t tier, int32_t points)
{
    r->accounts.targets =
        xgrow(r->accounts.targets, r->accounts.target_count + 1, sizeof *r->accounts.targets);
    r->accounts.targets[r->accounts.target_count++] =
        (hf_target_account_t){xstrdup(account_id), tier, points};
}

hf_route_rule_t *tk_route_rule(hf_rules_t *r, const char *team, ...)
{
    r->routing.rules = xgrow(r->routing.rules, r->routing.rule_count + 1, sizeof *r->routing.rules);
    hf_route_rule_t *rr = &r->routing.rules[r->routing.rule_count++];
    *rr = (hf_route_rule_t){.team = xstrdup(team)};
    va_list ap;
    va_start(ap, team);
    for (int t = va_arg(ap, int); t >= 0; t = va_arg(ap, int)) {
        rr->tiers = xgrow(rr->tiers, rr->tier_count + 1, sizeof *rr->tiers);
        rr->tiers[rr->tier_count++] = t;
    }
    va_end(ap);
    return rr;
}

static void tk_globs_free(hf_globs_t *g)
{
    for (size_t i = 0; i < g->count; i++)
        free(g->patterns[i]);
    free(g->patterns);
    *g = (hf_globs_t){0};
}

static void tk_trait_match_free(hf_trait_match_t *m)
{
    hf_globs_t *all[] = {&m->title,        &m->seniority, &m->department, &m->industry,
                         &m->company_name, &m->country,   &m->region,     &m->email_domain};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        tk_globs_free(all[i]);
}

static void tk_event_match_free(hf_event_match_t *m)
{
    hf_globs_t *all[] = {&m->url,        &m->title,        &m->referrer,   &m->utm_source,
                         &m->utm_medium, &m->utm_campaign, &m->form_id,    &m->asset_id,
                         &m->asset_type, &m->tags,         &m->webinar_id, &m->campaign,
                         &m->link_url,   &m->source};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        tk_globs_free(all[i]);
}

void tk_rules_free(hf_rules_t *r)
{
    if (!r)
        return;
    /* Freed and zeroed here, so this works whether or not hf_rules_free() frees the
     * interest, account, role and routing fields too. */
    for (size_t i = 0; i < r->interests.rule_count; i++) {
        free(r->interests.rules[i].topic);
        tk_event_match_free(&r->interests.rules[i].match);
    }
    free(r->interests.rules);
    r->interests.rules = NULL;
    r->interests.rule_count = 0;
    tk_globs_free(&r->accounts.free_mail_domains);
    for (size_t i = 0; i < r->accounts.domain_count; i++) {
        free(r->accounts.domains[i].domain);
        free(r->accounts.domains[i].account_id);
    }
    free(r->accounts.domains);
    r->accounts.domains = NULL;
    r->accounts.domain_count = 0;
    for (size_t i = 0; i < r->accounts.target_count; i++)
        free(r->accounts.targets[i].account_id);
    free(r->accounts.targets);
    r->accounts.targets = NULL;
    r->accounts.target_count = 0;
    for (size_t i = 0; i < r->buying_group.role_count; i++) {
        free(r->buying_group.roles[i].role);
        tk_trait_match_free(&r->buying_group.roles[i].match);
    }
    free(r->buying_group.roles);
    r->buying_group.roles = NULL;
    r->buying_group.role_count = 0;
    free(r->buying_group.default_role);
    r->buying_group.default_role = NULL;
    for (size_t i = 0; i < r->accounts.fit_rule_count; i++) {
        free(r->accounts.fit_rules[i].name);
        tk_trait_match_free(&r->accounts.fit_rules[i].match);
    }
    free(r->accounts.fit_rules);
    r->accounts.fit_rules = NULL;
    r->accounts.fit_rule_count = 0;
    for (size_t i = 0; i < r->accounts.rule_count; i++) {
        hf_account_rule_t *a = &r->accounts.rules[i];
        free(a->name);
        for (size_t j = 0; j < a->roles_all_count; j++)
            free(a->roles_all[j]);
        free(a->roles_all);
        for (size_t j = 0; j < a->roles_any_count; j++)
            free(a->roles_any[j]);
        free(a->roles_any);
        free(a->tiers);
    }
    free(r->accounts.rules);
    r->accounts.rules = NULL;
    r->accounts.rule_count = 0;
    for (size_t i = 0; i < r->routing.rule_count; i++) {
        hf_route_rule_t *rr = &r->routing.rules[i];
        free(rr->team);
        tk_globs_free(&rr->country);
        tk_globs_free(&rr->region);
        free(rr->tiers);
    }
    free(r->routing.rules);
    r->routing.rules = NULL;
    r->routing.rule_count = 0;
    hf_rules_free(r);
}

static hf_event_t base_event(hf_event_kind_t kind, const char *event_id, int64_t at_ms)
{
    return (hf_event_t){
        .kind = kind, .event_id = event_id, .occurred_at_ms = at_ms, .source = "test"};
}

hf_event_t tk_visit(const char *event_id, int64_t at_ms, const char *anonymous_id,
                    const char *contact_id, const char *session_id, const char *url,
                    const char *title)
{
    hf_event_t ev = base_event(HF_EV_WEB_VISIT, event_id, at_ms);
    ev.anonymous_id = anonymous_id;
    ev.contact_id = contact_id;
    ev.session_id = session_id;
    ev.url = url;
    ev.title = title;
    ev.duration_ms = 1000;
    return ev;
}

hf_event_t tk_form(const char *event_id, int64_t at_ms, const char *anonymous_id,
                   const char *contact_id, hf_form_type_t type)
{
    hf_event_t ev = base_event(HF_EV_FORM, event_id, at_ms);
    ev.anonymous_id = anonymous_id;
    ev.contact_id = contact_id;
    ev.form_id = "form-1";
    ev.form_type = type;
    ev.traits.present = true;
    return ev;
}

hf_event_t tk_identify(const char *event_id, int64_t at_ms, const char *anonymous_id,
                       const char *contact_id)
{
    hf_event_t ev = base_event(HF_EV_IDENTITY, event_id, at_ms);
    ev.identity_kind = HF_IDENTITY_IDENTIFY;
    ev.anonymous_id = anonymous_id;
    ev.contact_id = contact_id;
    return ev;
}

hf_event_t tk_download(const char *event_id, int64_t at_ms, const char *contact_id,
                       const char *asset_id, const char *title)
{
    hf_event_t ev = base_event(HF_EV_DOWNLOAD, event_id, at_ms);
    ev.contact_id = contact_id;
    ev.asset_id = asset_id;
    ev.asset_title = title;
    ev.asset_type = "whitepaper";
    return ev;
}

hf_event_t tk_webinar(const char *event_id, int64_t at_ms, const char *contact_id,
                      hf_webinar_action_t action, int32_t minutes)
{
    hf_event_t ev = base_event(HF_EV_WEBINAR, event_id, at_ms);
    ev.contact_id = contact_id;
    ev.webinar_id = "wb-1";
    ev.webinar_title = "Churn in practice";
    ev.webinar_action = action;
    ev.minutes_attended = minutes;
    return ev;
}

hf_event_t tk_email(const char *event_id, int64_t at_ms, const char *contact_id,
                    hf_email_action_t action, const char *campaign)
{
    hf_event_t ev = base_event(HF_EV_EMAIL, event_id, at_ms);
    ev.contact_id = contact_id;
    ev.email_id = "em-1";
    ev.campaign = campaign;
    ev.email_action = action;
    return ev;
}

hf_event_t tk_sales(const char *event_id, int64_t at_ms, hf_entity_type_t entity_type,
                    const char *entity_id, hf_sales_action_t action, const char *handoff_id,
                    const char *owner_id, const char *reason)
{
    hf_event_t ev = base_event(HF_EV_SALES, event_id, at_ms);
    ev.source = "crm";
    ev.entity_type = entity_type;
    ev.entity_id = entity_id;
    ev.handoff_id = handoff_id;
    ev.owner_id = owner_id;
    ev.sales_action = action;
    ev.reason = reason;
    return ev;
}

static tk_interest_t *copy_interests(const hf_interest_t *in, size_t n)
{
    tk_interest_t *out = xcalloc(n, sizeof *out);
    for (size_t i = 0; i < n; i++)
        out[i] = (tk_interest_t){xstrdup(in[i].topic), in[i].weight};
    return out;
}

static tk_member_t *copy_members(const hf_member_t *in, size_t n)
{
    tk_member_t *out = xcalloc(n, sizeof *out);
    for (size_t i = 0; i < n; i++)
        out[i] = (tk_member_t){xstrdup(in[i].contact_id), xstrdup(in[i].role), in[i].score,
                               in[i].last_active_ms, xstrdup(in[i].placement)};
    return out;
}

static char **copy_strings(const char *const *in, size_t n)
{
    char **out = xcalloc(n, sizeof *out);
    for (size_t i = 0; i < n; i++)
        out[i] = xstrdup(in[i]);
    return out;
}

static void free_interests(tk_interest_t *in, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(in[i].topic);
    free(in);
}

static void free_members(tk_member_t *m, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(m[i].contact_id);
        free(m[i].role);
        free(m[i].placement);
    }
    free(m);
}

static void free_strings(char **s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(s[i]);
    free(s);
}

static int rec_handoff(void *opaque, const hf_handoff_t *h)
{
    tk_rec_t *rec = opaque;
    if (rec->fail_with)
        return rec->fail_with;
    if (rec->handoff_count == sizeof rec->handoffs / sizeof rec->handoffs[0])
        abort();
    tk_handoff_t *c = &rec->handoffs[rec->handoff_count++];
    *c = (tk_handoff_t){
        .handoff_id = xstrdup(h->handoff_id),
        .entity_id = xstrdup(h->entity_id),
        .account_id = xstrdup(h->account_id),
        .rule = xstrdup(h->rule),
        .fit_grade = xstrdup(h->fit_grade),
        .stage_before = xstrdup(h->stage_before),
        .region = xstrdup(h->routing_region),
        .qualified_at_ms = h->qualified_at_ms,
        .emitted_at_ms = h->emitted_at_ms,
        .accept_by_ms = h->sla_accept_by_ms,
        .first_touch_by_ms = h->sla_first_touch_by_ms,
        .score = h->score,
        .first_seen_ms = h->journey.first_seen_ms,
        .has_known_since = h->journey.has_known_since,
        .known_since_ms = h->journey.known_since_ms,
        .sessions = h->journey.sessions,
        .page_views = h->journey.page_views,
        .email_opens = h->journey.email_opens,
        .email_clicks = h->journey.email_clicks,
        .email_last_campaign = xstrdup(h->journey.email_last_campaign),
        .download_count = h->journey.download_count,
        .webinar_count = h->journey.webinar_count,
    };
    c->reasons = xcalloc(h->reason_count, sizeof *c->reasons);
    c->reason_count = h->reason_count;
    for (size_t i = 0; i < h->reason_count; i++)
        c->reasons[i] = (tk_reason_t){xstrdup(h->reasons[i].rule), h->reasons[i].points,
                                      h->reasons[i].count, xstrdup(h->reasons[i].detail)};
    c->top_page_count = h->journey.top_page_count;
    c->top_page_urls = xcalloc(c->top_page_count, sizeof *c->top_page_urls);
    c->top_page_views = xcalloc(c->top_page_count, sizeof *c->top_page_views);
    for (size_t i = 0; i < c->top_page_count; i++) {
        c->top_page_urls[i] = xstrdup(h->journey.top_pages[i].url);
        c->top_page_views[i] = h->journey.top_pages[i].views;
    }
    c->recent_count = h->journey.recent_count;
    c->recent = xcalloc(c->recent_count, sizeof *c->recent);
    for (size_t i = 0; i < c->recent_count; i++) {
        const hf_touch_t *t = &h->journey.recent[i];
        c->recent[i] =
            (tk_touch_t){t->at_ms, xstrdup(t->type), xstrdup(t->title), xstrdup(t->detail)};
    }
    c->routing_team = xstrdup(h->routing_team);
    c->routing_note = xstrdup(h->routing_note);
    c->kind = xstrdup(h->kind);
    c->product = xstrdup(h->product);
    c->interests = copy_interests(h->interests, h->interest_count);
    c->interest_count = h->interest_count;
    c->buying_group = copy_members(h->buying_group, h->buying_group_count);
    c->buying_group_count = h->buying_group_count;
    c->roles_covered = copy_strings(h->roles_covered, h->roles_covered_count);
    c->roles_covered_count = h->roles_covered_count;
    return 0;
}

static int rec_member_update(void *opaque, const hf_member_update_t *u)
{
    tk_rec_t *rec = opaque;
    if (rec->fail_with)
        return rec->fail_with;
    /* long journeys send more updates than tests look at: the first ones are kept */
    rec->update_total++;
    if (rec->update_count == sizeof rec->updates / sizeof rec->updates[0])
        return 0;
    tk_member_update_t *c = &rec->updates[rec->update_count++];
    *c = (tk_member_update_t){
        .contact_id = xstrdup(u->contact_id),
        .account_id = xstrdup(u->account_id),
        .role = xstrdup(u->role),
        .stage = xstrdup(u->stage),
        .fit_grade = xstrdup(u->fit_grade),
        .company_name = xstrdup(u->company_name),
        .industry = xstrdup(u->industry),
        .country = xstrdup(u->country),
        .region = xstrdup(u->region),
        .placement = xstrdup(u->placement),
        .leave = u->leave,
        .version = u->version,
        .at_ms = u->at_ms,
        .score_at_ms = u->score_at_ms,
        .first_seen_ms = u->first_seen_ms,
        .last_active_ms = u->last_active_ms,
        .score = u->score,
        .has_employees = u->has_employees,
        .employees = u->employees,
        .interests = copy_interests(u->interests, u->interest_count),
        .interest_count = u->interest_count,
        .contribution_count = u->contribution_count,
        .touch_count = u->touch_count,
        .download_count = u->download_count,
        .webinar_count = u->webinar_count,
        .sessions = u->sessions,
        .page_views = u->page_views,
        .email_opens = u->email_opens,
        .email_clicks = u->email_clicks,
    };
    c->contributions = xcalloc(u->contribution_count, sizeof *c->contributions);
    for (size_t i = 0; i < u->contribution_count; i++)
        c->contributions[i] =
            (tk_reason_t){xstrdup(u->contributions[i].rule), u->contributions[i].points,
                          u->contributions[i].count, xstrdup(u->contributions[i].detail)};
    c->touches = xcalloc(u->touch_count, sizeof *c->touches);
    for (size_t i = 0; i < u->touch_count; i++) {
        const hf_touch_t *t = &u->touches[i];
        c->touches[i] =
            (tk_touch_t){t->at_ms, xstrdup(t->type), xstrdup(t->title), xstrdup(t->detail)};
    }
    return 0;
}

static int rec_roster(void *opaque, const char *contact_id, const hf_roster_t *r)
{
    tk_rec_t *rec = opaque;
    if (rec->fail_with)
        return rec->fail_with;
    if (rec->roster_count == sizeof rec->rosters / sizeof rec->rosters[0])
        abort();
    rec->rosters[rec->roster_count++] = (tk_roster_t){
        .to_contact_id = xstrdup(contact_id),
        .account_id = xstrdup(r->account_id),
        .version = r->version,
        .members = copy_members(r->members, r->member_count),
        .member_count = r->member_count,
        .roles_covered = copy_strings(r->roles_covered, r->roles_covered_count),
        .roles_covered_count = r->roles_covered_count,
    };
    return 0;
}

static int rec_lifecycle(void *opaque, const hf_lifecycle_t *lc)
{
    tk_rec_t *rec = opaque;
    if (rec->fail_with)
        return rec->fail_with;
    if (rec->change_count == sizeof rec->changes / sizeof rec->changes[0])
        abort();
    rec->changes[rec->change_count++] =
        (tk_lifecycle_t){xstrdup(lc->entity_id), xstrdup(lc->from_stage), xstrdup(lc->to_stage),
                         xstrdup(lc->cause), lc->at_ms};
    return 0;
}

static int rec_forward(void *opaque, const char *contact_id, const void *raw, size_t raw_len)
{
    tk_rec_t *rec = opaque;
    if (rec->fail_with)
        return rec->fail_with;
    if (rec->forward_count == sizeof rec->forwards / sizeof rec->forwards[0])
        abort();
    tk_forward_t *f = &rec->forwards[rec->forward_count++];
    f->contact_id = xstrdup(contact_id);
    f->raw = xcalloc(raw_len + 1, 1);
    memcpy(f->raw, raw, raw_len);
    f->raw_len = raw_len;
    return 0;
}

static int rec_breach(void *opaque, const hf_breach_t *b)
{
    tk_rec_t *rec = opaque;
    if (rec->fail_with)
        return rec->fail_with;
    if (rec->breach_count == sizeof rec->breaches / sizeof rec->breaches[0])
        abort();
    rec->breaches[rec->breach_count++] = (tk_breach_t){
        .breach_id = xstrdup(b->breach_id),
        .handoff_id = xstrdup(b->handoff_id),
        .entity_id = xstrdup(b->entity_id),
        .owner_id = xstrdup(b->owner_id),
        .entity_type = b->entity_type,
        .sla = b->sla,
        .due_at_ms = b->due_at_ms,
        .breached_at_ms = b->breached_at_ms,
        .level = b->level,
    };
    return 0;
}

static int rec_outcome(void *opaque, const hf_outcome_t *o)
{
    tk_rec_t *rec = opaque;
    if (rec->fail_with)
        return rec->fail_with;
    if (rec->outcome_count == sizeof rec->outcomes / sizeof rec->outcomes[0])
        abort();
    rec->outcomes[rec->outcome_count++] = (tk_outcome_t){
        .entity_type = o->entity_type,
        .metric = xstrdup(o->metric),
        .detail = xstrdup(o->detail),
        .rule = xstrdup(o->rule),
        .source = xstrdup(o->source),
        .first_campaign = xstrdup(o->first_campaign),
        .last_campaign = xstrdup(o->last_campaign),
        .team = xstrdup(o->team),
        .owner = xstrdup(o->owner),
        .duration_ms = o->duration_ms,
    };
    return 0;
}

hf_sink_t tk_sink(tk_rec_t *rec)
{
    return (hf_sink_t){.opaque = rec,
                       .handoff = rec_handoff,
                       .lifecycle = rec_lifecycle,
                       .member_update = rec_member_update,
                       .roster = rec_roster,
                       .breach = rec_breach,
                       .outcome = rec_outcome};
}

identity_sink_t tk_identity_sink(tk_rec_t *rec)
{
    return (identity_sink_t){rec, rec_forward};
}

void tk_rec_clear(tk_rec_t *rec)
{
    for (size_t i = 0; i < rec->handoff_count; i++) {
        tk_handoff_t *h = &rec->handoffs[i];
        free(h->handoff_id);
        free(h->entity_id);
        free(h->account_id);
        free(h->rule);
        free(h->fit_grade);
        free(h->stage_before);
        free(h->region);
        free(h->email_last_campaign);
        for (size_t j = 0; j < h->reason_count; j++) {
            free(h->reasons[j].rule);
            free(h->reasons[j].detail);
        }
        free(h->reasons);
        for (size_t j = 0; j < h->top_page_count; j++)
            free(h->top_page_urls[j]);
        free(h->top_page_urls);
        free(h->top_page_views);
        for (size_t j = 0; j < h->recent_count; j++) {
            free(h->recent[j].type);
            free(h->recent[j].title);
            free(h->recent[j].detail);
        }
        free(h->recent);
        free(h->routing_team);
        free(h->routing_note);
        free(h->kind);
        free(h->product);
        free_interests(h->interests, h->interest_count);
        free_members(h->buying_group, h->buying_group_count);
        free_strings(h->roles_covered, h->roles_covered_count);
    }
    for (size_t i = 0; i < rec->update_count; i++) {
        tk_member_update_t *u = &rec->updates[i];
        char *strs[] = {u->contact_id,   u->account_id, u->role,    u->stage,  u->fit_grade,
                        u->company_name, u->industry,   u->country, u->region, u->placement};
        for (size_t j = 0; j < sizeof strs / sizeof strs[0]; j++)
            free(strs[j]);
        free_interests(u->interests, u->interest_count);
        for (size_t j = 0; j < u->contribution_count; j++) {
            free(u->contributions[j].rule);
            free(u->contributions[j].detail);
        }
        free(u->contributions);
        for (size_t j = 0; j < u->touch_count; j++) {
            free(u->touches[j].type);
            free(u->touches[j].title);
            free(u->touches[j].detail);
        }
        free(u->touches);
    }
    for (size_t i = 0; i < rec->roster_count; i++) {
        tk_roster_t *r = &rec->rosters[i];
        free(r->to_contact_id);
        free(r->account_id);
        free_members(r->members, r->member_count);
        free_strings(r->roles_covered, r->roles_covered_count);
    }
    for (size_t i = 0; i < rec->change_count; i++) {
        free(rec->changes[i].entity_id);
        free(rec->changes[i].from);
        free(rec->changes[i].to);
        free(rec->changes[i].cause);
    }
    for (size_t i = 0; i < rec->forward_count; i++) {
        free(rec->forwards[i].contact_id);
        free(rec->forwards[i].raw);
    }
    for (size_t i = 0; i < rec->breach_count; i++) {
        tk_breach_t *b = &rec->breaches[i];
        free(b->breach_id);
        free(b->handoff_id);
        free(b->entity_id);
        free(b->owner_id);
    }
    for (size_t i = 0; i < rec->outcome_count; i++) {
        tk_outcome_t *o = &rec->outcomes[i];
        char *strs[] = {o->metric,         o->detail,        o->rule, o->source,
                        o->first_campaign, o->last_campaign, o->team, o->owner};
        for (size_t j = 0; j < sizeof strs / sizeof strs[0]; j++)
            free(strs[j]);
    }
    int fail_with = rec->fail_with;
    *rec = (tk_rec_t){0};
    rec->fail_with = fail_with;
}

const tk_reason_t *tk_find_reason(const tk_handoff_t *h, const char *rule, const char *detail_part)
{
    for (size_t i = 0; i < h->reason_count; i++)
        if (strcmp(h->reasons[i].rule, rule) == 0 &&
            (!detail_part || strstr(h->reasons[i].detail, detail_part)))
            return &h->reasons[i];
    return NULL;
}

size_t tk_count_outcomes(const tk_rec_t *rec, const char *metric, const char *detail)
{
    size_t n = 0;
    for (size_t i = 0; i < rec->outcome_count; i++) {
        const tk_outcome_t *o = &rec->outcomes[i];
        if (strcmp(o->metric, metric) == 0 &&
            (!detail || (o->detail && strcmp(o->detail, detail) == 0)))
            n++;
    }
    return n;
}

const tk_outcome_t *tk_last_outcome(const tk_rec_t *rec, const char *metric)
{
    for (size_t i = rec->outcome_count; i-- > 0;)
        if (strcmp(rec->outcomes[i].metric, metric) == 0)
            return &rec->outcomes[i];
    return NULL;
}

size_t tk_count_breaches(const tk_rec_t *rec, int sla)
{
    size_t n = 0;
    for (size_t i = 0; i < rec->breach_count; i++)
        n += rec->breaches[i].sla == sla;
    return n;
}

void tk_assert_opt_string(const char *got, const char *want)
{
    if (!want)
        assert_null(got);
    else
        assert_string_equal(got, want);
}

void tk_assert_same_bytes(const hf_buf_t *a, const hf_buf_t *b)
{
    assert_int_equal(a->len, b->len);
    assert_memory_equal(a->data, b->data, a->len);
}

void tk_assert_change(const tk_rec_t *rec, size_t i, const char *entity_id, const char *from,
                      const char *to, const char *cause, int64_t at_ms)
{
    assert_true(i < rec->change_count);
    const tk_lifecycle_t *c = &rec->changes[i];
    assert_string_equal(c->entity_id, entity_id);
    assert_string_equal(c->from, from);
    assert_string_equal(c->to, to);
    assert_string_equal(c->cause, cause);
    assert_int_equal(c->at_ms, at_ms);
}

void tk_assert_breach(const tk_rec_t *rec, size_t i, hf_entity_type_t entity_type,
                      const char *entity_id, const char *handoff_id, int sla, int32_t level,
                      int64_t due_at_ms, int64_t breached_at_ms, const char *owner)
{
    assert_true(i < rec->breach_count);
    const tk_breach_t *b = &rec->breaches[i];
    char id[HF_BREACH_ID_SIZE];
    assert_true(hf_breach_id(id, sizeof id, handoff_id, sla, level) > 0);
    assert_string_equal(b->breach_id, id);
    assert_string_equal(b->handoff_id, handoff_id);
    assert_int_equal(b->entity_type, entity_type);
    assert_string_equal(b->entity_id, entity_id);
    tk_assert_opt_string(b->owner_id, owner);
    assert_int_equal(b->sla, sla);
    assert_int_equal(b->level, level);
    assert_int_equal(b->due_at_ms, due_at_ms);
    assert_int_equal(b->breached_at_ms, breached_at_ms);
}
