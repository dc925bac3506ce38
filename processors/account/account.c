/* Stage 3: the account journey.  Members last-writer-wins by version, the account's
 * lifecycle, qualification once per cycle, and the roster pushed back to the members
 * whenever the engaged set or a role changes.  Semantics: account_priv.h. */
#include "account.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "account_priv.h"
#include "resolve.h"
#include "util/hash.h"
#include "util/timespan.h"
#include "util/vec.h"

#define NOT_FOUND SIZE_MAX

account_state_t *account_state_new(const char *account_id)
{
    account_state_t *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->account_id = strdup(account_id);
    if (!s->account_id) {
        free(s);
        return NULL;
    }
    s->stage = HF_STAGE_KNOWN;
    s->cycle = 1;
    return s;
}

void account_member_free(account_member_t *m)
{
    free(m->contact_id);
    free(m->role);
    free(m->stage);
    free(m->fit_grade);
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

static void roster_entries_free(account_roster_entry_t *e, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(e[i].contact_id);
        free(e[i].role);
    }
    free(e);
}

void account_state_free(account_state_t *s)
{
    if (!s)
        return;
    free(s->account_id);
    for (size_t i = 0; i < s->member_count; i++)
        account_member_free(&s->members[i]);
    free(s->members);
    for (size_t i = 0; i < s->departed_count; i++)
        free(s->departed[i].contact_id);
    free(s->departed);
    roster_entries_free(s->roster, s->roster_count);
    dedupe_free(&s->dedupe);
    sla_state_free(&s->sla);
    free(s);
}

const char *account_state_id(const account_state_t *s)
{
    return s->account_id;
}

hf_stage_t account_state_stage(const account_state_t *s)
{
    return s->stage;
}

double account_state_score(const account_state_t *s, const hf_rules_t *rules, int64_t at_ms)
{
    double sum = 0;
    for (size_t i = 0; i < s->member_count; i++)
        sum += account_member_score_at(&s->members[i], rules, at_ms) *
               (double)hf_role_weight(rules, s->members[i].role);
    if (rules->account_max_score > 0 && sum > rules->account_max_score)
        sum = rules->account_max_score;
    return sum;
}

int64_t account_state_last_active_ms(const account_state_t *s)
{
    return account_newest_activity(s);
}

size_t account_state_member_count(const account_state_t *s)
{
    return s->member_count;
}

size_t account_state_engaged_count(const account_state_t *s, const hf_rules_t *rules)
{
    int64_t ref_ms = account_newest_activity(s);
    size_t n = 0;
    for (size_t i = 0; i < s->member_count; i++)
        n += account_member_engaged(&s->members[i], rules, ref_ms);
    return n;
}

uint32_t account_state_cycle(const account_state_t *s)
{
    return s->cycle;
}

bool account_state_handed_off(const account_state_t *s)
{
    return s->handed_off;
}

/* ---- members, last-writer-wins ---- */

static size_t find_member(const account_state_t *s, const char *contact_id)
{
    for (size_t i = 0; i < s->member_count; i++)
        if (strcmp(s->members[i].contact_id, contact_id) == 0)
            return i;
    return NOT_FOUND;
}

static size_t find_departed(const account_state_t *s, const char *contact_id)
{
    for (size_t i = 0; i < s->departed_count; i++)
        if (strcmp(s->departed[i].contact_id, contact_id) == 0)
            return i;
    return NOT_FOUND;
}

static void remove_departed(account_state_t *s, size_t i)
{
    free(s->departed[i].contact_id);
    vec_remove(s->departed, s->departed_count, i, sizeof *s->departed);
    s->departed_count--;
}

/* Remembers that @contact_id left at @version (bounded by account_members_max, the
 * oldest departure forgotten first).  Returns 0 or -ENOMEM (nothing changed). */
static int note_departure(account_state_t *s, const char *contact_id, uint64_t version,
                          const hf_rules_t *rules)
{
    size_t i = find_departed(s, contact_id);
    if (i != NOT_FOUND) {
        if (version > s->departed[i].version)
            s->departed[i].version = version;
        return 0;
    }
    size_t max = rules->account_members_max;
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

static size_t min_size(size_t a, size_t b)
{
    return a < b ? a : b;
}

static bool dup_str(char **out, const char *s)
{
    *out = strdup(s ? s : "");
    return *out != NULL;
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

/* The lists of @u into @m, cut at the account's bounds (they arrive in the order kept:
 * strongest or newest first).  Counts grow item by item so that a failure leaves @m
 * freeable.  Returns false on out of memory. */
static bool copy_lists(account_member_t *m, const hf_member_update_t *u, const hf_rules_t *rules)
{
    size_t n = min_size(u->interest_count, rules->interests_tracked);
    if (!(m->interests = calloc(n + 1, sizeof *m->interests)))
        return false;
    for (size_t i = 0; i < n; i++) {
        account_interest_t *it = &m->interests[i];
        if (!dup_str(&it->topic, u->interests[i].topic))
            return false;
        it->weight = finite_or_zero(u->interests[i].weight);
        m->interest_count++;
    }
    n = min_size(u->contribution_count, ACCOUNT_MEMBER_CONTRIBUTIONS_MAX);
    if (!(m->contributions = calloc(n + 1, sizeof *m->contributions)))
        return false;
    for (size_t i = 0; i < n; i++) {
        const hf_reason_t *c = &u->contributions[i];
        account_contribution_t *ac = &m->contributions[i];
        ac->points = c->points;
        ac->count = c->count;
        bool ok = dup_str(&ac->rule, c->rule);
        ok = dup_str(&ac->detail, c->detail) && ok;
        m->contribution_count++;
        if (!ok)
            return false;
    }
    n = min_size(min_size(u->touch_count, rules->journey_recent_max),
                 rules->account_member_journey);
    if (!(m->touches = calloc(n + 1, sizeof *m->touches)))
        return false;
    for (size_t i = 0; i < n; i++) {
        const hf_touch_t *t = &u->touches[i];
        journey_touch_t *jt = &m->touches[i];
        jt->at_ms = t->at_ms;
        bool ok = dup_str(&jt->type, t->type);
        ok = dup_str(&jt->title, t->title) && ok;
        ok = dup_opt(&jt->detail, t->detail) && ok;
        m->touch_count++;
        if (!ok)
            return false;
    }
    n = min_size(min_size(u->download_count, rules->journey_downloads_max),
                 rules->account_member_journey);
    if (!(m->downloads = calloc(n + 1, sizeof *m->downloads)))
        return false;
    for (size_t i = 0; i < n; i++) {
        const hf_download_t *d = &u->downloads[i];
        journey_download_t *jd = &m->downloads[i];
        jd->at_ms = d->at_ms;
        bool ok = dup_str(&jd->asset_id, d->asset_id);
        ok = dup_str(&jd->title, d->title) && ok;
        ok = dup_str(&jd->type, d->type) && ok;
        m->download_count++;
        if (!ok)
            return false;
    }
    n = min_size(min_size(u->webinar_count, rules->journey_webinars_max),
                 rules->account_member_journey);
    if (!(m->webinars = calloc(n + 1, sizeof *m->webinars)))
        return false;
    for (size_t i = 0; i < n; i++) {
        const hf_webinar_t *w = &u->webinars[i];
        journey_webinar_t *jw = &m->webinars[i];
        jw->at_ms = w->at_ms;
        jw->minutes = w->minutes;
        bool ok = dup_str(&jw->webinar_id, w->webinar_id);
        ok = dup_str(&jw->title, w->title) && ok;
        ok = dup_str(&jw->action, w->action) && ok;
        m->webinar_count++;
        if (!ok)
            return false;
    }
    return true;
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
    bool ok = dup_str(&m->contact_id, u->contact_id);
    ok = dup_str(&m->role, u->role) && ok;
    ok = dup_str(&m->stage, u->stage) && ok;
    ok = dup_str(&m->fit_grade, u->fit_grade) && ok;
    ok = dup_opt(&m->company_name, u->company_name) && ok;
    ok = dup_opt(&m->industry, u->industry) && ok;
    ok = dup_opt(&m->country, u->country) && ok;
    ok = dup_opt(&m->region, u->region) && ok;
    ok = ok && copy_lists(m, u, rules);
    if (ok)
        return 0;
    account_member_free(m);
    return -ENOMEM;
}

/* Applies @u last-writer-wins.  Returns ACCOUNT_FOLD_APPLIED, ACCOUNT_FOLD_STALE or
 * -ENOMEM (nothing changed). */
static int apply_update(account_state_t *s, const hf_member_update_t *u, const hf_rules_t *rules)
{
    size_t mi = find_member(s, u->contact_id);
    size_t di = find_departed(s, u->contact_id);
    if (mi != NOT_FOUND && u->version <= s->members[mi].version)
        return ACCOUNT_FOLD_STALE;
    if (di != NOT_FOUND && u->version <= s->departed[di].version)
        return ACCOUNT_FOLD_STALE;

    if (u->leave) {
        int r = note_departure(s, u->contact_id, u->version, rules);
        if (r < 0)
            return r;
        if (mi != NOT_FOUND)
            remove_member(s, mi);
        return ACCOUNT_FOLD_APPLIED;
    }

    account_member_t m;
    int r = member_from_update(&m, u, rules);
    if (r < 0)
        return r;
    if (mi != NOT_FOUND) {
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
    if (di != NOT_FOUND)
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

/* Evicts members beyond account_members_max.  Returns 0 or -ENOMEM. */
static int evict_over_bound(account_state_t *s, const hf_rules_t *rules)
{
    while (s->member_count > rules->account_members_max) {
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

/* ---- lifecycle ---- */

sla_entity_t account_sla_entity(account_state_t *s)
{
    return (sla_entity_t){
        .type = HF_ENTITY_ACCOUNT,
        .id = s->account_id,
        .stage = &s->stage,
        .cycle = &s->cycle,
        .handed_off = &s->handed_off,
        .sla = &s->sla,
    };
}

static int set_stage(account_state_t *s, hf_stage_t to, int64_t at_ms, const char *cause,
                     const hf_sink_t *sink)
{
    sla_entity_t e = account_sla_entity(s);
    return sla_set_stage(&e, to, at_ms, cause, sink);
}

/* known -> engaged with the first engaged member (the strongest, when several). */
static int advance_engaged(account_state_t *s, const account_view_t *v, const hf_rules_t *rules,
                           int64_t at_ms, const hf_sink_t *sink)
{
    if (s->stage != HF_STAGE_KNOWN || !v->engaged_count)
        return 0;
    const account_ranked_t *top = NULL;
    for (size_t i = 0; i < v->count && !top; i++)
        if (v->ranked[i].engaged)
            top = &v->ranked[i];
    char cause[160];
    snprintf(cause, sizeof cause, "member %s engaged: score %d >= engaged_member_score %d",
             top->m->contact_id, (int)top->score_points, (int)rules->engaged_member_score);
    return set_stage(s, HF_STAGE_ENGAGED, at_ms, cause, sink);
}

static int qualify(account_state_t *s, const account_view_t *v, const hf_rules_t *rules,
                   int64_t at_ms, int64_t now_ms, const hf_sink_t *sink)
{
    if (s->handed_off || (s->stage != HF_STAGE_KNOWN && s->stage != HF_STAGE_ENGAGED &&
                          s->stage != HF_STAGE_RECYCLED))
        return 0;
    int64_t grace_ms = rules->grace_ms > 0 ? rules->grace_ms : 0;
    if (timespan_older_than(at_ms, v->ref_ms, grace_ms))
        return 0;
    /* after a recycle: the cooldown, and members' new behaviour since (sla.h) */
    if (!sla_may_qualify(&s->sla, rules, at_ms, false))
        return 0;
    const hf_account_rule_t *ar = account_rule_match(v, rules);
    if (!ar)
        return 0;
    /* once per cycle: marked before the sink runs, so a sink error cannot lead to a
     * second handoff from the same state */
    hf_stage_t stage_before = s->stage;
    s->handed_off = true;
    int r = account_emit_handoff(s, v, ar, rules, stage_before, at_ms, now_ms, sink);
    if (r < 0)
        return r;
    char cause[160];
    snprintf(cause, sizeof cause, "rule %s", ar->name);
    r = set_stage(s, HF_STAGE_CONVERSATION_READY, at_ms, cause, sink);
    if (r < 0 || !s->sla.parked_count)
        return r;
    sla_entity_t e = account_sla_entity(s);
    bool recycled = false;
    return sla_apply_parked(&e, rules, now_ms, sink, &recycled);
}

/* ---- rosters ---- */

static bool roster_changed(const account_state_t *s, const account_view_t *v)
{
    if (s->roster_count != v->engaged_count)
        return true;
    for (size_t i = 0; i < v->count; i++) {
        const account_ranked_t *r = &v->ranked[i];
        if (!r->engaged)
            continue;
        bool same = false;
        for (size_t k = 0; k < s->roster_count && !same; k++)
            same = strcmp(s->roster[k].contact_id, r->m->contact_id) == 0 &&
                   strcmp(s->roster[k].role, r->m->role) == 0;
        if (!same)
            return true;
    }
    return false;
}

/* The engaged members of @v as stored roster entries, all or nothing. */
static int roster_entries(const account_view_t *v, account_roster_entry_t **out)
{
    account_roster_entry_t *e = calloc(v->engaged_count + 1, sizeof *e);
    if (!e)
        return -ENOMEM;
    size_t n = 0;
    bool ok = true;
    for (size_t i = 0; i < v->count && ok; i++) {
        if (!v->ranked[i].engaged)
            continue;
        ok = dup_str(&e[n].contact_id, v->ranked[i].m->contact_id);
        ok = dup_str(&e[n].role, v->ranked[i].m->role) && ok;
        n++;
    }
    if (!ok) {
        roster_entries_free(e, n);
        return -ENOMEM;
    }
    *out = e;
    return 0;
}

static bool engaged_in(const account_view_t *v, const char *contact_id)
{
    for (size_t i = 0; i < v->count; i++)
        if (v->ranked[i].engaged && strcmp(v->ranked[i].m->contact_id, contact_id) == 0)
            return true;
    return false;
}

/* The roster for @to: the engaged members of @engaged (@n, ranked) but @to, at most
 * buying_group_max of them, into @out. */
static size_t roster_for(const hf_member_t *engaged, size_t n, const char *to,
                         const hf_rules_t *rules, hf_member_t *out)
{
    size_t k = 0;
    for (size_t i = 0; i < n && k < rules->buying_group_max; i++)
        if (strcmp(engaged[i].contact_id, to) != 0)
            out[k++] = engaged[i];
    return k;
}

/* When the engaged set or a role changed: a new roster version to every engaged
 * member and to every member of the previous roster that is no longer engaged (but
 * not to @leaver, which is no longer in the account).  Returns 0, -ENOMEM or the
 * sink's errno. */
static int push_rosters(account_state_t *s, const account_view_t *v, const hf_rules_t *rules,
                        const char *leaver, const hf_sink_t *sink)
{
    if (!roster_changed(s, v))
        return 0;
    account_roster_entry_t *entries = NULL;
    hf_member_t *engaged = calloc(v->engaged_count + 1, sizeof *engaged);
    hf_member_t *listed = calloc(v->engaged_count + 1, sizeof *listed);
    int r = -ENOMEM;
    if (!engaged || !listed || roster_entries(v, &entries) < 0)
        goto out;
    size_t n = 0;
    for (size_t i = 0; i < v->count; i++) {
        const account_ranked_t *rk = &v->ranked[i];
        if (rk->engaged)
            engaged[n++] = (hf_member_t){rk->m->contact_id, rk->m->role, rk->score_points,
                                         rk->m->last_active_ms};
    }

    /* the state moves first, so that a failing sink cannot leave the old roster in it */
    account_roster_entry_t *old = s->roster;
    size_t old_count = s->roster_count;
    s->roster = entries;
    s->roster_count = v->engaged_count;
    s->roster_version++;

    hf_roster_t ro = {
        .account_id = s->account_id,
        .version = s->roster_version,
        .members = listed,
        .roles_covered = v->roles,
        .roles_covered_count = v->role_count,
    };
    r = 0;
    if (sink && sink->roster) {
        for (size_t i = 0; i < n && r == 0; i++) {
            ro.member_count = roster_for(engaged, n, engaged[i].contact_id, rules, listed);
            r = sink->roster(sink->opaque, engaged[i].contact_id, &ro);
        }
        for (size_t i = 0; i < old_count && r == 0; i++) {
            const char *to = old[i].contact_id;
            if (engaged_in(v, to) || (leaver && strcmp(leaver, to) == 0))
                continue;
            ro.member_count = roster_for(engaged, n, to, rules, listed);
            r = sink->roster(sink->opaque, to, &ro);
        }
    }
    roster_entries_free(old, old_count);
out:
    free(engaged);
    free(listed);
    return r;
}

int account_fold_member(account_state_t *s, const hf_member_update_t *u, const hf_rules_t *rules,
                        int64_t now_ms, const hf_sink_t *sink)
{
    /* a summary without a usable contact id cannot be told apart from another's:
     * nothing to apply (stage 2 never sends one) */
    if (hf_id_blocked(u->contact_id))
        return ACCOUNT_FOLD_STALE;
    bool first = !s->has_known_since && !u->leave;
    /* a member's score rising after a recycle is the new evidence the next handoff
     * needs */
    size_t at = find_member(s, u->contact_id);
    double before = at == NOT_FOUND ? 0 : account_member_score_at(&s->members[at], rules, u->at_ms);
    int r = apply_update(s, u, rules);
    if (r == ACCOUNT_FOLD_APPLIED && !u->leave && (at = find_member(s, u->contact_id)) != NOT_FOUND)
        sla_note_points(&s->sla, u->at_ms,
                        account_member_score_at(&s->members[at], rules, u->at_ms) - before);
    if (r != ACCOUNT_FOLD_APPLIED)
        return r;
    s->updates++;
    if (first) {
        s->has_known_since = true;
        s->known_since_ms = u->at_ms;
    }
    if (!u->leave && (r = evict_over_bound(s, rules)) < 0)
        return r;

    /* the first member makes the account known (a new state starts at "known"; the
     * change from "anonymous" is announced now, when there is an update to date it) */
    if (first && s->stage == HF_STAGE_KNOWN) {
        char cause[160];
        snprintf(cause, sizeof cause, "first member: %s", u->contact_id);
        s->stage = HF_STAGE_ANONYMOUS;
        if ((r = set_stage(s, HF_STAGE_KNOWN, u->at_ms, cause, sink)) < 0)
            return r;
    }

    account_view_t v;
    if ((r = account_view_build(&v, s, rules)) < 0)
        return r;
    r = advance_engaged(s, &v, rules, u->at_ms, sink);
    if (r == 0)
        r = qualify(s, &v, rules, u->at_ms, now_ms, sink);
    if (r == 0)
        r = push_rosters(s, &v, rules, u->leave ? u->contact_id : NULL, sink);
    account_view_free(&v);
    return r < 0 ? r : ACCOUNT_FOLD_APPLIED;
}

/* ---- sales feedback and SLA clocks (sla.h) ---- */

int account_fold_sales(account_state_t *s, const hf_event_t *ev, const hf_rules_t *rules,
                       int64_t now_ms, const hf_sink_t *sink)
{
    if (ev->event_id) {
        uint64_t h = hash_fnv1a64_str(ev->event_id);
        if (dedupe_contains(&s->dedupe, h))
            return ACCOUNT_FOLD_DUPLICATE;
        int r =
            dedupe_remember(&s->dedupe, h, now_ms, rules->dedupe_max_ids, rules->dedupe_window_ms);
        if (r < 0)
            return r;
    }
    sla_entity_t e = account_sla_entity(s);
    bool recycled = false;
    int r = sla_feedback(&e, ev, rules, now_ms, sink, &recycled);
    if (r < 0)
        return r;
    return r == SLA_FEEDBACK_UNKNOWN ? ACCOUNT_FOLD_UNKNOWN_HANDOFF : ACCOUNT_FOLD_APPLIED;
}

int account_sla_fire(account_state_t *s, const hf_rules_t *rules, int64_t now_ms,
                     const hf_sink_t *sink)
{
    sla_entity_t e = account_sla_entity(s);
    bool recycled = false;
    return sla_fire(&e, rules, now_ms, sink, &recycled);
}

int64_t account_state_next_due(const account_state_t *s)
{
    return sla_next_due(&s->sla);
}

bool account_sla_reschedule(account_state_t *s, const hf_rules_t *rules)
{
    return sla_reschedule(&s->sla, rules);
}
