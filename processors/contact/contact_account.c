/* Stage 2's side of accounts: which account a contact is in, the member updates it
 * sends there (stage 2 -> 3) and the roster it gets back (stage 3 -> 2). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "processors/account/resolve.h"
#include "contact_priv.h"
#include "util/vec.h"

const char *contact_state_account(const contact_state_t *s)
{
    return s->account_id;
}

const char *contact_state_role(const contact_state_t *s, const hf_rules_t *rules)
{
    hf_traits_t view;
    fit_view(&s->traits, &view);
    return hf_role_of(rules, &view, NULL);
}

bool contact_state_known(const contact_state_t *s)
{
    return s->has_known_since;
}

const char *contact_state_redirect(const contact_state_t *s)
{
    return s->redirect_to;
}

static bool same_id(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

void contact_roster_free(contact_roster_t *r)
{
    free(r->account_id);
    for (size_t i = 0; i < r->member_count; i++) {
        free(r->members[i].contact_id);
        free(r->members[i].role);
    }
    free(r->members);
    for (size_t i = 0; i < r->roles_covered_count; i++)
        free(r->roles_covered[i]);
    free(r->roles_covered);
    *r = (contact_roster_t){0};
}

const contact_roster_t *contact_current_roster(const contact_state_t *s)
{
    if (!s->account_id || !same_id(s->roster.account_id, s->account_id))
        return NULL;
    return &s->roster;
}

/* A copy of @in, all or nothing.  Returns 0 or -ENOMEM (@out untouched). */
static int roster_copy(contact_roster_t *out, const hf_roster_t *in)
{
    contact_roster_t r = {.version = in->version};
    r.account_id = strdup(in->account_id);
    /* n + 1: never a zero-size request, whose NULL would read as failure */
    r.members = calloc(in->member_count + 1, sizeof *r.members);
    r.roles_covered = calloc(in->roles_covered_count + 1, sizeof *r.roles_covered);
    if (!r.account_id || !r.members || !r.roles_covered)
        goto fail;
    for (size_t i = 0; i < in->member_count; i++) {
        const hf_member_t *m = &in->members[i];
        contact_roster_member_t *c = &r.members[r.member_count++];
        *c = (contact_roster_member_t){.score = m->score, .last_active_ms = m->last_active_ms};
        c->contact_id = strdup(m->contact_id ? m->contact_id : "");
        c->role = strdup(m->role ? m->role : "");
        if (!c->contact_id || !c->role)
            goto fail;
    }
    for (size_t i = 0; i < in->roles_covered_count; i++) {
        r.roles_covered[r.roles_covered_count] =
            strdup(in->roles_covered[i] ? in->roles_covered[i] : "");
        if (!r.roles_covered[r.roles_covered_count++])
            goto fail;
    }
    *out = r;
    return 0;
fail:
    contact_roster_free(&r);
    return -ENOMEM;
}

int contact_apply_roster(contact_state_t *s, const hf_roster_t *roster)
{
    /* A roster of another account is one the contact has left (it crossed a move on
     * the way): versions of two accounts do not compare, and the old account's
     * members are not this contact's buying group any more. */
    if (s->redirect_to || !roster->account_id || !same_id(roster->account_id, s->account_id))
        return 0;
    if (same_id(s->roster.account_id, roster->account_id) && roster->version <= s->roster.version)
        return 0;
    contact_roster_t copy;
    int r = roster_copy(&copy, roster);
    if (r < 0)
        return r;
    contact_roster_free(&s->roster);
    s->roster = copy;
    return 0;
}

int contact_update_account(contact_state_t *s, const hf_rules_t *rules, int64_t at_ms,
                           const hf_sink_t *sink)
{
    const char *now = hf_account_resolve(rules, fit_get(&s->traits, FIT_ACCOUNT_ID),
                                         fit_get(&s->traits, FIT_EMAIL_DOMAIN));
    if (same_id(now, s->account_id))
        return 0;
    char *copy = NULL;
    if (now && !(copy = strdup(now)))
        return -ENOMEM;
    char *old = s->account_id;
    s->account_id = copy;
    contact_roster_free(&s->roster);
    int r = 0;
    if (old) {
        s->member_version++;
        r = contact_send_member_update(s, rules, old, true, s->member_version, at_ms, sink);
    }
    free(old);
    return r;
}

int contact_send_summary(contact_state_t *s, const hf_rules_t *rules, int64_t at_ms,
                         const hf_sink_t *sink)
{
    if (!s->account_id)
        return 0;
    if (rules->accounts.member_updates != HF_MEMBER_UPDATES_EVERY_EVENT) {
        /* owed, as of the newest change: contact_flush_summary() sends it when stage 2
         * flushes (on_commit: at the commit; coalesced: at a point of the input's
         * order, which may come after several commits: the flag is stored) */
        if (!s->summary_pending || at_ms > s->summary_at_ms)
            s->summary_at_ms = at_ms;
        s->summary_pending = true;
        return 0;
    }
    s->member_version++;
    return contact_send_member_update(s, rules, s->account_id, false, s->member_version, at_ms,
                                      sink);
}

bool contact_state_summary_pending(const contact_state_t *s)
{
    return s->summary_pending;
}

int contact_flush_summary(contact_state_t *s, const hf_rules_t *rules, const hf_sink_t *sink)
{
    if (!s->summary_pending)
        return 0;
    s->summary_pending = false;
    /* merged away, or left every account since: nothing is owed */
    if (s->redirect_to || !s->account_id)
        return 0;
    s->member_version++;
    return contact_send_member_update(s, rules, s->account_id, false, s->member_version,
                                      s->summary_at_ms, sink);
}

/* What a member update points to, owned until the sink returns. */
typedef struct update_build {
    hf_interest_t *interests;
    hf_reason_t *contributions;
    char (*details)[64];
    hf_touch_t *touches;
    hf_download_t *downloads;
    hf_webinar_t *webinars;
    hf_buf_t placement;
} update_build_t;

static void update_build_free(update_build_t *b)
{
    free(b->interests);
    free(b->contributions);
    free(b->details);
    free(b->touches);
    free(b->downloads);
    free(b->webinars);
    hf_buf_free(&b->placement);
}

static int contribution_cmp(const void *a, const void *b)
{
    const hf_reason_t *x = a, *y = b;
    int64_t ax = x->points < 0 ? -(int64_t)x->points : x->points;
    int64_t ay = y->points < 0 ? -(int64_t)y->points : y->points;
    if (ax != ay)
        return ax > ay ? -1 : 1;
    return strcmp(x->rule, y->rule);
}

/* The lists a member update points to, sized for @s; all or nothing.  Returns 0 or
 * -ENOMEM (@b then needs no free). */
static int update_build_alloc(update_build_t *b, const contact_state_t *s)
{
    const journey_t *j = &s->journey;
    size_t stats = s->score.stat_count;
    *b = (update_build_t){
        .interests = calloc(s->interests.count + 1, sizeof *b->interests),
        .contributions = calloc(stats + 1, sizeof *b->contributions),
        .details = calloc(stats + 1, sizeof *b->details),
        .touches = calloc(j->recent_count + 1, sizeof *b->touches),
        .downloads = calloc(j->download_count + 1, sizeof *b->downloads),
        .webinars = calloc(j->webinar_count + 1, sizeof *b->webinars),
        .placement = HF_BUF_INIT,
    };
    if (b->interests && b->contributions && b->details && b->touches && b->downloads && b->webinars)
        return 0;
    update_build_free(b);
    return -ENOMEM;
}

/* Every scoring rule's contribution at @ref_ms into @u (strongest first), in @b. */
static void put_contributions(hf_member_update_t *u, update_build_t *b, const score_t *sc,
                              const hf_rules_t *rules, int64_t ref_ms)
{
    for (size_t i = 0; i < sc->stat_count; i++) {
        const score_rule_stat_t *st = &sc->stats[i];
        uint64_t matches = (uint64_t)st->awards + st->capped;
        if (st->capped)
            snprintf(b->details[i], sizeof b->details[i],
                     "%" PRIu64 " match%s, %" PRIu32 " over cap", matches, matches == 1 ? "" : "es",
                     st->capped);
        else
            snprintf(b->details[i], sizeof b->details[i], "%" PRIu64 " match%s", matches,
                     matches == 1 ? "" : "es");
        b->contributions[i] = (hf_reason_t){
            .rule = st->rule,
            .points = score_round(score_contribution_at(st, rules, ref_ms)),
            .count = st->awards > INT32_MAX ? INT32_MAX : (int32_t)st->awards,
            .detail = b->details[i],
        };
    }
    qsort(b->contributions, sc->stat_count, sizeof *b->contributions, contribution_cmp);
    u->contributions = b->contributions;
    u->contribution_count = sc->stat_count;
}

static size_t min_size(size_t a, size_t b)
{
    return a < b ? a : b;
}

/* The newest @keep of each list of @j into @u, in @b: what the account's journey
 * shows of a member. */
static void put_journey(hf_member_update_t *u, update_build_t *b, const journey_t *j, size_t keep)
{
    size_t n = min_size(j->recent_count, keep);
    for (size_t i = 0; i < n; i++) {
        const journey_touch_t *t = &j->recent[i];
        b->touches[i] = (hf_touch_t){t->at_ms, t->type, t->title, t->detail};
    }
    u->touches = b->touches;
    u->touch_count = n;
    n = min_size(j->download_count, keep);
    for (size_t i = 0; i < n; i++) {
        const journey_download_t *d = &j->downloads[i];
        b->downloads[i] = (hf_download_t){d->asset_id, d->title, d->type, d->at_ms};
    }
    u->downloads = b->downloads;
    u->download_count = n;
    n = min_size(j->webinar_count, keep);
    for (size_t i = 0; i < n; i++) {
        const journey_webinar_t *w = &j->webinars[i];
        b->webinars[i] = (hf_webinar_t){w->webinar_id, w->title, w->action, w->minutes, w->at_ms};
    }
    u->webinars = b->webinars;
    u->webinar_count = n;
}

int contact_send_member_update(const contact_state_t *s, const hf_rules_t *rules,
                               const char *account_id, bool leave, uint64_t version, int64_t at_ms,
                               const hf_sink_t *sink)
{
    if (!sink || !sink->member_update)
        return 0;
    update_build_t b;
    int r = update_build_alloc(&b, s);
    if (r < 0)
        return r;

    /* everything at the newest event time, as the handoff's score is */
    const journey_t *j = &s->journey;
    int64_t ref_ms = s->events ? s->last_event_ms : at_ms;
    hf_traits_t view;
    fit_view(&s->traits, &view);
    hf_member_update_t u = {
        .contact_id = s->contact_id,
        .account_id = account_id,
        .leave = leave,
        .version = version,
        .at_ms = at_ms,
        .score = score_value_at(&s->score, rules, ref_ms),
        .score_at_ms = ref_ms,
        .role = hf_role_of(rules, &view, NULL),
        .stage = hf_stage_name(s->stage),
        .fit_grade = contact_state_grade(s, rules),
        .first_seen_ms = s->events ? s->first_seen_ms : at_ms,
        .last_active_ms = ref_ms,
        .company_name = view.company_name,
        .industry = view.industry,
        .has_employees = view.has_employees,
        .employees = view.employees,
        .country = view.country,
        .region = view.region,
        .sessions = j->sessions,
        .page_views = j->page_views,
        .email_opens = j->email_opens,
        .email_clicks = j->email_clicks,
    };
    u.interest_count = interests_top(&s->interests, rules, ref_ms, b.interests, s->interests.count);
    u.interests = b.interests;
    put_contributions(&u, &b, &s->score, rules, ref_ms);
    put_journey(&u, &b, j, rules->accounts.member_journey);
    /* a leave names no role worth explaining */
    if (!leave) {
        r = hf_role_placement(rules, &view, &b.placement);
        if (r == 0)
            r = hf_buf_append(&b.placement, "", 1);
        if (r == 0)
            u.placement = (const char *)b.placement.data;
    }

    if (r == 0)
        r = sink->member_update(sink->opaque, &u);
    update_build_free(&b);
    return r;
}
