#include "rules.h"

#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

static inline unsigned char fold(unsigned char c)
{
    return c >= 'A' && c <= 'Z' ? (unsigned char)(c - 'A' + 'a') : c;
}

/* fnmatch(pattern, value, FNM_CASEFOLD) in the C locale, for patterns made of
 * literals, '*' and '?' (every pattern of a realistic config): the greedy match
 * with one backtrack point, linear in practice.  A bracket expression or an escape
 * hands the whole match to fnmatch(3), which is several times slower on the hot
 * path (rule matching runs for every rule on every event).  Handing over when one
 * is reached is exact: until then every step was a literal, '?' or '*', which
 * fnmatch treats alike, and a match never ends before the pattern does. */
bool hf_glob_match(const char *pattern, const char *value)
{
    const unsigned char *p = (const unsigned char *)pattern, *v = (const unsigned char *)value;
    const unsigned char *star = NULL, *resume = NULL;
    for (;;) {
        unsigned char pc = *p;
        if (pc == '[' || pc == '\\')
            return fnmatch(pattern, value, FNM_CASEFOLD) == 0;
        if (pc == '*') {
            while (*p == '*')
                p++;
            if (!*p)
                return true; /* a trailing star matches the rest */
            star = p;
            resume = v;
        } else if (*v && (pc == '?' || (pc && fold(pc) == fold(*v)))) {
            p++;
            v++;
            continue;
        } else if (!pc && !*v) {
            return true;
        } else if (!star || !*resume) {
            return false;
        } else {
            /* the last star swallows one more character; retry from after it */
            p = star;
            v = ++resume;
        }
        /* after a star: skip ahead to where its next literal can start (strchr and
         * strpbrk scan many bytes at a time) */
        pc = *star;
        if (pc != '?' && pc != '[' && pc != '\\') {
            unsigned char lo = fold(pc), up = lo >= 'a' && lo <= 'z' ? lo - 'a' + 'A' : lo;
            const char *at;
            if (lo == up) {
                at = strchr((const char *)v, lo);
            } else {
                const char both[3] = {(char)lo, (char)up, 0};
                at = strpbrk((const char *)v, both);
            }
            if (!at)
                return false;
            v = (const unsigned char *)at;
            resume = v;
        }
    }
}

bool hf_globs_match(const hf_globs_t *globs, const char *value)
{
    if (!globs->count)
        return true;
    if (!value)
        return false;
    for (size_t i = 0; i < globs->count; i++)
        if (globs->patterns[i] && hf_glob_match(globs->patterns[i], value))
            return true;
    return false;
}

const char *hf_globs_first_match(const hf_globs_t *globs, const char *value)
{
    if (!value)
        return NULL;
    for (size_t i = 0; i < globs->count; i++)
        if (globs->patterns[i] && hf_glob_match(globs->patterns[i], value))
            return globs->patterns[i];
    return NULL;
}

static bool bit_match(uint32_t set, bool applies, unsigned value)
{
    if (!set)
        return true;
    return applies && value < 32 && (set & (1u << value));
}

/* The title-like field of the event: page title, asset title or webinar title. */
static const char *event_title(const hf_event_t *ev)
{
    switch (ev->kind) {
    case HF_EV_WEB_VISIT:
        return ev->title;
    case HF_EV_DOWNLOAD:
        return ev->asset_title;
    case HF_EV_WEBINAR:
        return ev->webinar_title;
    default:
        return NULL;
    }
}

static bool tags_match(const hf_globs_t *globs, const hf_event_t *ev)
{
    if (!globs->count)
        return true;
    for (size_t i = 0; i < ev->tag_count; i++)
        if (ev->tags[i] && hf_globs_match(globs, ev->tags[i]))
            return true;
    return false;
}

bool hf_event_match(const hf_event_match_t *m, const hf_event_t *ev)
{
    if (!bit_match(m->kinds, true, (unsigned)ev->kind))
        return false;
    if (!bit_match(m->form_types, ev->kind == HF_EV_FORM, (unsigned)ev->form_type))
        return false;
    if (!bit_match(m->webinar_actions, ev->kind == HF_EV_WEBINAR, (unsigned)ev->webinar_action))
        return false;
    if (!bit_match(m->email_actions, ev->kind == HF_EV_EMAIL, (unsigned)ev->email_action))
        return false;

    /* Declarative: each glob condition and the event field it reads. */
    const struct {
        const hf_globs_t *globs;
        const char *value;
    } conds[] = {
        {&m->url, ev->url},
        {&m->title, event_title(ev)},
        {&m->referrer, ev->referrer},
        {&m->utm_source, ev->utm_source},
        {&m->utm_medium, ev->utm_medium},
        {&m->utm_campaign, ev->utm_campaign},
        {&m->form_id, ev->form_id},
        {&m->asset_id, ev->asset_id},
        {&m->asset_type, ev->asset_type},
        {&m->webinar_id, ev->webinar_id},
        {&m->campaign, ev->campaign},
        {&m->link_url, ev->link_url},
        {&m->source, ev->source},
    };
    for (size_t i = 0; i < sizeof conds / sizeof conds[0]; i++)
        if (!hf_globs_match(conds[i].globs, conds[i].value))
            return false;
    if (!tags_match(&m->tags, ev))
        return false;
    if (m->min_duration_ms > 0 &&
        !(ev->kind == HF_EV_WEB_VISIT && ev->duration_ms >= m->min_duration_ms))
        return false;
    if (m->min_minutes > 0 &&
        !(ev->kind == HF_EV_WEBINAR && ev->minutes_attended >= m->min_minutes))
        return false;
    return true;
}

/* The trait conditions of @m with the stored value each reads, in a fixed order
 * (also the order hf_trait_match_describe() names them in). */
#define TRAIT_GLOB_COUNT 8
static void trait_globs(const hf_trait_match_t *m, const hf_traits_t *t,
                        const hf_globs_t *globs[TRAIT_GLOB_COUNT],
                        const char *values[TRAIT_GLOB_COUNT], const char *names[TRAIT_GLOB_COUNT])
{
    const hf_globs_t *g[TRAIT_GLOB_COUNT] = {&m->title,    &m->seniority,    &m->department,
                                             &m->industry, &m->company_name, &m->country,
                                             &m->region,   &m->email_domain};
    const char *v[TRAIT_GLOB_COUNT] = {t->title,    t->seniority,    t->department,
                                       t->industry, t->company_name, t->country,
                                       t->region,   t->email_domain};
    static const char *const n[TRAIT_GLOB_COUNT] = {"title",    "seniority",    "department",
                                                    "industry", "company_name", "country",
                                                    "region",   "email_domain"};
    for (int i = 0; i < TRAIT_GLOB_COUNT; i++) {
        globs[i] = g[i];
        values[i] = v[i];
        names[i] = n[i];
    }
}

bool hf_trait_match(const hf_trait_match_t *m, const hf_traits_t *t)
{
    const hf_globs_t *globs[TRAIT_GLOB_COUNT];
    const char *values[TRAIT_GLOB_COUNT];
    const char *names[TRAIT_GLOB_COUNT];
    trait_globs(m, t, globs, values, names);
    for (int i = 0; i < TRAIT_GLOB_COUNT; i++)
        if (!hf_globs_match(globs[i], values[i]))
            return false;
    if (m->has_employees_range &&
        !(t->has_employees && t->employees >= m->employees_min && t->employees <= m->employees_max))
        return false;
    return true;
}

int hf_trait_match_describe(const hf_trait_match_t *m, const hf_traits_t *t, hf_buf_t *out)
{
    const hf_globs_t *globs[TRAIT_GLOB_COUNT];
    const char *values[TRAIT_GLOB_COUNT];
    const char *names[TRAIT_GLOB_COUNT];
    trait_globs(m, t, globs, values, names);
    const char *sep = "";
    int r = 0;
    for (int i = 0; i < TRAIT_GLOB_COUNT && r == 0; i++) {
        if (!globs[i]->count || !values[i])
            continue;
        r = hf_buf_printf(out, "%s%s %s", sep, names[i], values[i]);
        sep = ", ";
    }
    if (r == 0 && m->has_employees_range && t->has_employees) {
        r = hf_buf_printf(out, "%semployees %d", sep, (int)t->employees);
        sep = ", ";
    }
    if (r == 0 && !*sep)
        r = hf_buf_append_str(out, "any contact");
    return r;
}

int hf_trait_match_explain(const hf_trait_match_t *m, const hf_traits_t *t, hf_buf_t *out)
{
    const hf_globs_t *globs[TRAIT_GLOB_COUNT];
    const char *values[TRAIT_GLOB_COUNT];
    const char *names[TRAIT_GLOB_COUNT];
    trait_globs(m, t, globs, values, names);
    const char *sep = "";
    int r = 0;
    for (int i = 0; i < TRAIT_GLOB_COUNT && r == 0; i++) {
        if (!globs[i]->count)
            continue;
        const char *pattern = hf_globs_first_match(globs[i], values[i]);
        if (pattern)
            r = hf_buf_printf(out, "%s%s \"%s\" matched \"%s\"", sep, names[i], values[i], pattern);
        else
            r = hf_buf_printf(out, "%s%s did not match", sep, names[i]);
        sep = ", ";
    }
    if (r == 0 && m->has_employees_range) {
        if (!t->has_employees || t->employees < m->employees_min || t->employees > m->employees_max)
            r = hf_buf_printf(out, "%semployees did not match", sep);
        else if (m->employees_max == INT32_MAX)
            r = hf_buf_printf(out, "%semployees %d >= %d", sep, (int)t->employees,
                              (int)m->employees_min);
        else
            r = hf_buf_printf(out, "%semployees %d in [%d, %d]", sep, (int)t->employees,
                              (int)m->employees_min, (int)m->employees_max);
        sep = ", ";
    }
    if (r == 0 && !*sep)
        r = hf_buf_append_str(out, "any contact");
    return r;
}

int hf_rules_grade_index(const hf_rules_t *r, const char *letter)
{
    if (!letter)
        return -1;
    for (size_t i = 0; i < r->fit.grade_count; i++)
        if (r->fit.grades[i].letter && strcmp(r->fit.grades[i].letter, letter) == 0)
            return (int)i;
    return -1;
}

int hf_rules_score_rule_index(const hf_rules_t *r, const char *name)
{
    if (!name)
        return -1;
    for (size_t i = 0; i < r->scoring.rule_count; i++)
        if (r->scoring.rules[i].name && strcmp(r->scoring.rules[i].name, name) == 0)
            return (int)i;
    return -1;
}

static void globs_free(hf_globs_t *g)
{
    for (size_t i = 0; i < g->count; i++)
        free(g->patterns[i]);
    free(g->patterns);
    g->patterns = NULL;
    g->count = 0;
}

static void event_match_free(hf_event_match_t *m)
{
    hf_globs_t *all[] = {&m->url,        &m->title,        &m->referrer,   &m->utm_source,
                         &m->utm_medium, &m->utm_campaign, &m->form_id,    &m->asset_id,
                         &m->asset_type, &m->tags,         &m->webinar_id, &m->campaign,
                         &m->link_url,   &m->source};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        globs_free(all[i]);
}

static void trait_match_free(hf_trait_match_t *m)
{
    hf_globs_t *all[] = {&m->title,        &m->seniority, &m->department, &m->industry,
                         &m->company_name, &m->country,   &m->region,     &m->email_domain};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        globs_free(all[i]);
}

/* Frees @n strings of @v and @v itself. */
static void strings_free(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

/* scoring, fit and exclusions: what the contact's score and grade come from */
static void scoring_free(hf_rules_t *r)
{
    for (size_t i = 0; i < r->scoring.rule_count; i++) {
        free(r->scoring.rules[i].name);
        event_match_free(&r->scoring.rules[i].match);
    }
    free(r->scoring.rules);
    for (size_t i = 0; i < r->fit.grade_count; i++)
        free(r->fit.grades[i].letter);
    free(r->fit.grades);
    for (size_t i = 0; i < r->fit.rule_count; i++) {
        free(r->fit.rules[i].name);
        trait_match_free(&r->fit.rules[i].match);
    }
    free(r->fit.rules);
    for (size_t i = 0; i < r->fit.exclusion_count; i++) {
        free(r->fit.exclusions[i].name);
        trait_match_free(&r->fit.exclusions[i].match);
    }
    free(r->fit.exclusions);
}

/* the contact rules and the hand-raiser rule */
static void qualification_free(hf_rules_t *r)
{
    for (size_t i = 0; i < r->qualify.contact_rule_count; i++) {
        hf_contact_rule_t *c = &r->qualify.contact_rules[i];
        free(c->name);
        strings_free(c->requires, c->requires_count);
    }
    free(r->qualify.contact_rules);
    free(r->qualify.hand_raiser_rule);
}

/* interests, account resolution and buying-group roles */
static void membership_free(hf_rules_t *r)
{
    for (size_t i = 0; i < r->interests.rule_count; i++) {
        free(r->interests.rules[i].topic);
        event_match_free(&r->interests.rules[i].match);
    }
    free(r->interests.rules);
    globs_free(&r->accounts.free_mail_domains);
    for (size_t i = 0; i < r->accounts.domain_count; i++) {
        free(r->accounts.domains[i].domain);
        free(r->accounts.domains[i].account_id);
    }
    free(r->accounts.domains);
    for (size_t i = 0; i < r->accounts.target_count; i++)
        free(r->accounts.targets[i].account_id);
    free(r->accounts.targets);
    for (size_t i = 0; i < r->buying_group.role_count; i++) {
        free(r->buying_group.roles[i].role);
        trait_match_free(&r->buying_group.roles[i].match);
    }
    free(r->buying_group.roles);
    free(r->buying_group.default_role);
}

/* account fit, the account rules and routing */
static void account_rules_free(hf_rules_t *r)
{
    for (size_t i = 0; i < r->accounts.fit_rule_count; i++) {
        free(r->accounts.fit_rules[i].name);
        trait_match_free(&r->accounts.fit_rules[i].match);
    }
    free(r->accounts.fit_rules);
    for (size_t i = 0; i < r->accounts.rule_count; i++) {
        hf_account_rule_t *a = &r->accounts.rules[i];
        free(a->name);
        strings_free(a->roles_all, a->roles_all_count);
        strings_free(a->roles_any, a->roles_any_count);
        free(a->tiers);
    }
    free(r->accounts.rules);
    for (size_t i = 0; i < r->routing.rule_count; i++) {
        hf_route_rule_t *route = &r->routing.rules[i];
        free(route->team);
        globs_free(&route->country);
        globs_free(&route->region);
        free(route->tiers);
    }
    free(r->routing.rules);
}

/* the business calendars and which team's clocks run in which */
static void calendars_free(hf_rules_t *r)
{
    for (size_t i = 0; i < r->calendars.count; i++)
        hf_calendar_free(&r->calendars.items[i]);
    free(r->calendars.items);
    for (size_t i = 0; i < r->calendars.team_count; i++)
        free(r->calendars.teams[i].team);
    free(r->calendars.teams);
}

/* products and expansion rules */
static void expansion_free(hf_rules_t *r)
{
    for (size_t i = 0; i < r->expansion.product_count; i++) {
        hf_product_t *p = &r->expansion.products[i];
        free(p->name);
        for (size_t j = 0; j < p->signal_count; j++)
            event_match_free(&p->signals[j].match);
        free(p->signals);
    }
    free(r->expansion.products);
    for (size_t i = 0; i < r->expansion.rule_count; i++) {
        free(r->expansion.rules[i].name);
        strings_free(r->expansion.rules[i].products, r->expansion.rules[i].product_count);
    }
    free(r->expansion.rules);
    free(r->expansion.team);
}

const hf_product_t *hf_rules_product(const hf_rules_t *r, const char *name)
{
    for (size_t i = 0; name && i < r->expansion.product_count; i++)
        if (strcmp(r->expansion.products[i].name, name) == 0)
            return &r->expansion.products[i];
    return NULL;
}

void hf_rules_free(hf_rules_t *r)
{
    if (!r)
        return;
    scoring_free(r);
    qualification_free(r);
    membership_free(r);
    account_rules_free(r);
    calendars_free(r);
    expansion_free(r);
    free(r);
}

const hf_calendar_t *hf_rules_calendar(const hf_rules_t *r, const char *name)
{
    for (size_t i = 0; name && i < r->calendars.count; i++)
        if (r->calendars.items[i].name && strcmp(r->calendars.items[i].name, name) == 0)
            return &r->calendars.items[i];
    return NULL;
}

const hf_calendar_t *hf_rules_team_calendar(const hf_rules_t *r, const char *team)
{
    for (size_t i = 0; team && i < r->calendars.team_count; i++) {
        const hf_team_calendar_t *tc = &r->calendars.teams[i];
        if (tc->team && strcmp(tc->team, team) == 0 && tc->calendar >= 0 &&
            (size_t)tc->calendar < r->calendars.count)
            return &r->calendars.items[tc->calendar];
    }
    if (r->calendars.default_index >= 0 && (size_t)r->calendars.default_index < r->calendars.count)
        return &r->calendars.items[r->calendars.default_index];
    return NULL;
}
