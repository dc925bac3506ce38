/* Stage 3's members: kept last-writer-wins by the version of each contact's member
 * update, departures remembered (so that a late, older update changes nothing), and
 * bounded by accounts.members_max.  Semantics: account_priv.h. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "account_priv.h"
#include "util/vec.h"

void account_member_free(account_member_t *m)
{
    free(m->contact_id);
    free(m->role);
    free(m->stage);
    free(m->fit_grade);
    free(m->placement);
    free(m->company_name);
    free(m->industry);
    free(m->country);
    free(m->region);
    for (size_t i = 0; i < m->interest_count; i++)
        free(m->interests[i].topic);
    free(m->interests);
    for (size_t i = 0; i < m->contribution_count; i++) {
        free(m->contributions[i].rule);
        free(m->contributions[i].detail);
    }
    free(m->contributions);
    for (size_t i = 0; i < m->touch_count; i++) {
        free(m->touches[i].type);
        free(m->touches[i].title);
        free(m->touches[i].detail);
    }
    free(m->touches);
    for (size_t i = 0; i < m->download_count; i++) {
        free(m->downloads[i].asset_id);
        free(m->downloads[i].title);
        free(m->downloads[i].type);
    }
    free(m->downloads);
    for (size_t i = 0; i < m->webinar_count; i++) {
        free(m->webinars[i].webinar_id);
        free(m->webinars[i].title);
        free(m->webinars[i].action);
    }
    free(m->webinars);
    *m = (account_member_t){0};
}

bool account_dup_str(char **out, const char *s)
{
    *out = strdup(s ? s : "");
    return *out != NULL;
}

/* ---- finding, departures ---- */

size_t account_member_find(const account_state_t *s, const char *contact_id)
{
    for (size_t i = 0; i < s->member_count; i++)
        if (strcmp(s->members[i].contact_id, contact_id) == 0)
            return i;
    return ACCOUNT_NOT_FOUND;
}

static size_t find_departed(const account_state_t *s, const char *contact_id)
{
    for (size_t i = 0; i < s->departed_count; i++)
        if (strcmp(s->departed[i].contact_id, contact_id) == 0)
            return i;
    return ACCOUNT_NOT_FOUND;
}

static void remove_departed(account_state_t *s, size_t i)
{
    free(s->departed[i].contact_id);
    vec_remove(s->departed, s->departed_count, i, sizeof *s->departed);
    s->departed_count--;
}

/* Remembers that @contact_id left at @version (bounded by accounts.members_max, the
 * oldest departure forgotten first).  Returns 0 or -ENOMEM (nothing changed). */
static int note_departure(account_state_t *s, const char *contact_id, uint64_t version,
                          const hf_rules_t *rules)
{
    size_t i = find_departed(s, contact_id);
    if (i != ACCOUNT_NOT_FOUND) {
        if (version > s->departed[i].version)
            s->departed[i].version = version;
        return 0;
    }
    size_t max = rules->accounts.members_max;
    if (!max)
        return 0;
    char *copy = strdup(contact_id);
    if (!copy)
        return -ENOMEM;
    if (s->departed_count < max) {
        account_departed_t *grown =
            vec_grow(s->departed, &s->departed_cap, s->departed_count + 1, sizeof *s->departed);
        if (!grown) {
            free(copy);
            return -ENOMEM;
        }
        s->departed = grown;
    }
    /* a reload may have lowered the bound: forget the oldest beyond it */
    while (s->departed_count && s->departed_count + 1 > max)
        remove_departed(s, 0);
    s->departed[s->departed_count++] = (account_departed_t){copy, version};
    return 0;
}

static void remove_member(account_state_t *s, size_t i)
{
    account_member_free(&s->members[i]);
    vec_remove(s->members, s->member_count, i, sizeof *s->members);
    s->member_count--;
}

/* ---- a member made of an update ---- */

static size_t min_size(size_t a, size_t b)
{
    return a < b ? a : b;
}

static bool dup_opt(char **out, const char *s)
{
    *out = s ? strdup(s) : NULL;
    return !s || *out;
}

static double finite_or_zero(double v)
{
    return isfinite(v) ? v : 0;
}

/* Each copy_*() below copies one list of an update into @m, cut at @n (the lists
 * arrive in the order kept: strongest or newest first).  Counts grow item by item so
 * that a failure leaves @m freeable.  They return false on out of memory. */

static bool copy_interests(account_member_t *m, const hf_member_update_t *u, size_t n)
{
    if (!(m->interests = calloc(n + 1, sizeof *m->interests)))
        return false;
    for (size_t i = 0; i < n; i++) {
        account_interest_t *it = &m->interests[i];
        if (!account_dup_str(&it->topic, u->interests[i].topic))
            return false;
        it->weight = finite_or_zero(u->interests[i].weight);
        m->interest_count++;
    }
    return true;
}

static bool copy_contributions(account_member_t *m, const hf_member_update_t *u, size_t n)
{
    if (!(m->contributions = calloc(n + 1, sizeof *m->contributions)))
        return false;
    for (size_t i = 0; i < n; i++) {
        const hf_reason_t *c = &u->contributions[i];
        account_contribution_t *ac = &m->contributions[i];
        ac->points = c->points;
        ac->count = c->count;
        bool ok = account_dup_str(&ac->rule, c->rule);
        ok = account_dup_str(&ac->detail, c->detail) && ok;
        m->contribution_count++;
        if (!ok)
            return false;
    }
    return true;
}

static bool copy_touches(account_member_t *m, const hf_member_update_t *u, size_t n)
{
    if (!(m->touches = calloc(n + 1, sizeof *m->touches)))
        return false;
    for (size_t i = 0; i < n; i++) {
        const hf_touch_t *t = &u->touches[i];
        journey_touch_t *jt = &m->touches[i];
        jt->at_ms = t->at_ms;
        bool ok = account_dup_str(&jt->type, t->type);
        ok = account_dup_str(&jt->title, t->title) && ok;
        ok = dup_opt(&jt->detail, t->detail) && ok;
        m->touch_count++;
        if (!ok)
            return false;
    }
    return true;
}

static bool copy_downloads(account_member_t *m, const hf_member_update_t *u, size_t n)
{
    if (!(m->downloads = calloc(n + 1, sizeof *m->downloads)))
        return false;
    for (size_t i = 0; i < n; i++) {
        const hf_download_t *d = &u->downloads[i];
        journey_download_t *jd = &m->downloads[i];
        jd->at_ms = d->at_ms;
        bool ok = account_dup_str(&jd->asset_id, d->asset_id);
        ok = account_dup_str(&jd->title, d->title) && ok;
        ok = account_dup_str(&jd->type, d->type) && ok;
        m->download_count++;
        if (!ok)
            return false;
    }
    return true;
}

static bool copy_webinars(account_member_t *m, const hf_member_update_t *u, size_t n)
{
    if (!(m->webinars = calloc(n + 1, sizeof *m->webinars)))
        return false;
    for (size_t i = 0; i < n; i++) {
        const hf_webinar_t *w = &u->webinars[i];
        journey_webinar_t *jw = &m->webinars[i];
        jw->at_ms = w->at_ms;
        jw->minutes = w->minutes;
        bool ok = account_dup_str(&jw->webinar_id, w->webinar_id);
        ok = account_dup_str(&jw->title, w->title) && ok;
        ok = account_dup_str(&jw->action, w->action) && ok;
        m->webinar_count++;
        if (!ok)
            return false;
    }
    return true;
}

/* The lists of @u into @m, cut at the account's bounds.  False on out of memory. */
static bool copy_lists(account_member_t *m, const hf_member_update_t *u, const hf_rules_t *rules)
{
    size_t journey_max = rules->accounts.member_journey;
    return copy_interests(m, u, min_size(u->interest_count, rules->interests.tracked)) &&
           copy_contributions(m, u,
                              min_size(u->contribution_count, ACCOUNT_MEMBER_CONTRIBUTIONS_MAX)) &&
           copy_touches(
               m, u, min_size(min_size(u->touch_count, rules->journey.recent_max), journey_max)) &&
           copy_downloads(
               m, u,
               min_size(min_size(u->download_count, rules->journey.downloads_max), journey_max)) &&
           copy_webinars(
               m, u,
               min_size(min_size(u->webinar_count, rules->journey.webinars_max), journey_max));
}

/* A member made of @u, all or nothing.  Returns 0 or -ENOMEM (@m then empty). */
static int member_from_update(account_member_t *m, const hf_member_update_t *u,
                              const hf_rules_t *rules)
{
    *m = (account_member_t){
        .version = u->version,
        .score = finite_or_zero(u->score),
        .score_at_ms = u->score_at_ms,
        .first_seen_ms = u->first_seen_ms,
        .last_active_ms = u->last_active_ms,
        .has_employees = u->has_employees,
        .employees = u->has_employees ? u->employees : 0,
        .sessions = u->sessions,
        .page_views = u->page_views,
        .email_opens = u->email_opens,
        .email_clicks = u->email_clicks,
    };
    bool ok = account_dup_str(&m->contact_id, u->contact_id);
    ok = account_dup_str(&m->role, u->role) && ok;
    ok = account_dup_str(&m->stage, u->stage) && ok;
    ok = account_dup_str(&m->fit_grade, u->fit_grade) && ok;
    ok = dup_opt(&m->company_name, u->company_name) && ok;
    ok = dup_opt(&m->industry, u->industry) && ok;
    ok = dup_opt(&m->country, u->country) && ok;
    ok = dup_opt(&m->region, u->region) && ok;
    ok = dup_opt(&m->placement, u->placement) && ok;
    ok = ok && copy_lists(m, u, rules);
    if (ok)
        return 0;
    account_member_free(m);
    return -ENOMEM;
}

/* ---- applying an update ---- */

int account_members_apply(account_state_t *s, const hf_member_update_t *u, const hf_rules_t *rules)
{
    size_t mi = account_member_find(s, u->contact_id);
    size_t di = find_departed(s, u->contact_id);
    if (mi != ACCOUNT_NOT_FOUND && u->version <= s->members[mi].version)
        return ACCOUNT_FOLD_STALE;
    if (di != ACCOUNT_NOT_FOUND && u->version <= s->departed[di].version)
        return ACCOUNT_FOLD_STALE;

    if (u->leave) {
        int r = note_departure(s, u->contact_id, u->version, rules);
        if (r < 0)
            return r;
        if (mi != ACCOUNT_NOT_FOUND)
            remove_member(s, mi);
        return ACCOUNT_FOLD_APPLIED;
    }

    account_member_t m;
    int r = member_from_update(&m, u, rules);
    if (r < 0)
        return r;
    if (mi != ACCOUNT_NOT_FOUND) {
        account_member_free(&s->members[mi]);
        s->members[mi] = m;
        return ACCOUNT_FOLD_APPLIED;
    }
    account_member_t *grown =
        vec_grow(s->members, &s->member_cap, s->member_count + 1, sizeof *s->members);
    if (!grown) {
        account_member_free(&m);
        return -ENOMEM;
    }
    s->members = grown;
    s->members[s->member_count++] = m;
    if (di != ACCOUNT_NOT_FOUND)
        remove_departed(s, di);
    return ACCOUNT_FOLD_APPLIED;
}

/* True when @a should go before @b: not engaged first, then the least recently
 * active, then the greater contact id. */
static bool evict_before(const account_ranked_t *a, const account_ranked_t *b)
{
    if (a->engaged != b->engaged)
        return !a->engaged;
    if (a->m->last_active_ms != b->m->last_active_ms)
        return a->m->last_active_ms < b->m->last_active_ms;
    return strcmp(a->m->contact_id, b->m->contact_id) > 0;
}

int account_members_evict_over_bound(account_state_t *s, const hf_rules_t *rules)
{
    while (s->member_count > rules->accounts.members_max) {
        account_view_t v;
        int r = account_view_build(&v, s, rules);
        if (r < 0)
            return r;
        const account_ranked_t *victim = &v.ranked[0];
        for (size_t i = 1; i < v.count; i++)
            if (evict_before(&v.ranked[i], victim))
                victim = &v.ranked[i];
        size_t idx = (size_t)(victim->m - s->members);
        account_view_free(&v);
        r = note_departure(s, s->members[idx].contact_id, s->members[idx].version, rules);
        if (r < 0)
            return r;
        remove_member(s, idx);
    }
    return 0;
}
