/* The payload of an account ConversationReady: the rule's conditions and each
 * member's contribution as reasons, the buying group, the members' journeys merged,
 * their interests summed, routing and SLA.
 *
 * - reasons: the rule's conditions (points 0, count 0), then every member by weighted
 *   score ("member:<contact id>", points = weighted score rounded, count 1, detail
 *   "<role>, score <score> x <weight>"), then the matching account fit rules
 *   ("fit:<name>") and the target tier ("target_account").
 * - journey: touches, downloads and webinars of every member merged newest first (ties:
 *   the higher-ranked member, then the member's own order) and cut at the journey
 *   bounds; a touch's detail names its member ("c-1" or "c-1: <detail>").  Counts
 *   summed; first_seen the oldest member's; known_since when the first member came.
 * - interests: each member's topics decayed from its score_at to the account's newest
 *   activity, summed by topic, the interests_top strongest. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "account_priv.h"
#include "resolve.h"
#include "processors/journey/fit.h"
#include "processors/journey/score.h"
#include "util/strpool.h"
#include "util/timespan.h"

/* Everything a handoff points to, owned until the sink returns. */
typedef struct build {
    strpool_t pool;
    hf_buf_t text;
    hf_reason_t *reasons;
    size_t reason_count, reason_cap;
    hf_touch_t *recent;
    hf_download_t *downloads;
    hf_webinar_t *webinars;
    hf_interest_t *interests;
    hf_member_t *members;
} build_t;

static void build_free(build_t *b)
{
    strpool_free(&b->pool);
    hf_buf_free(&b->text);
    free(b->reasons);
    free(b->recent);
    free(b->downloads);
    free(b->webinars);
    free(b->interests);
    free(b->members);
}

static int add_reason(build_t *b, const char *rule, int32_t points, int32_t count,
                      const char *detail)
{
    if (!rule || !detail)
        return -ENOMEM; /* a failed strpool_printf */
    if (b->reason_count == b->reason_cap) {
        size_t cap = b->reason_cap ? b->reason_cap * 2 : 16;
        hf_reason_t *r = realloc(b->reasons, cap * sizeof *r);
        if (!r)
            return -ENOMEM;
        b->reasons = r;
        b->reason_cap = cap;
    }
    b->reasons[b->reason_count++] = (hf_reason_t){rule, points, count, detail};
    return 0;
}

/* ", "-separated @items appended to b->text. */
static int join(build_t *b, const char *const *items, size_t n)
{
    int r = 0;
    for (size_t i = 0; i < n && r == 0; i++)
        r = hf_buf_printf(&b->text, "%s%s", i ? ", " : "", items[i] ? items[i] : "");
    return r;
}

/* A condition reason: @prefix, then the list @items, then @suffix. */
static int list_reason(build_t *b, const char *rule, const char *prefix, const char *const *items,
                       size_t n, const char *suffix)
{
    hf_buf_reset(&b->text);
    int r = hf_buf_printf(&b->text, "%s", prefix);
    if (r == 0)
        r = join(b, items, n);
    if (r == 0)
        r = hf_buf_printf(&b->text, "%s", suffix);
    if (r < 0)
        return r;
    return add_reason(b, rule, 0, 0, strpool_printf(&b->pool, "%s", (const char *)b->text.data));
}

static bool listed(const char *const *items, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++)
        if (items[i] && strcmp(items[i], s) == 0)
            return true;
    return false;
}

/* The conditions that made @ar fire, as reasons with no points. */
static int condition_reasons(build_t *b, const hf_account_rule_t *ar, const account_view_t *v,
                             const hf_rules_t *rules)
{
    const char *rule = ar->name;
    int r = 0;
    if (ar->min_engaged > 0)
        r = add_reason(b, rule, 0, 0,
                       strpool_printf(&b->pool, "engaged members %zu >= %u", v->engaged_count,
                                      (unsigned)ar->min_engaged));
    if (r == 0 && ar->min_roles > 0) {
        char prefix[64];
        snprintf(prefix, sizeof prefix, "roles %zu >= %u: ", v->role_count,
                 (unsigned)ar->min_roles);
        r = list_reason(b, rule, prefix, v->roles, v->role_count, "");
    }
    if (r == 0 && ar->roles_all_count)
        r = list_reason(b, rule, "all of roles covered: ", (const char *const *)ar->roles_all,
                        ar->roles_all_count, "");
    if (r == 0 && ar->roles_any_count) {
        /* which of the listed roles are covered, in the rule's order */
        const char **covered = calloc(ar->roles_any_count, sizeof *covered);
        if (!covered)
            return -ENOMEM;
        size_t n = 0;
        for (size_t i = 0; i < ar->roles_any_count; i++)
            if (ar->roles_any[i] && listed(v->roles, v->role_count, ar->roles_any[i]))
                covered[n++] = ar->roles_any[i];
        r = list_reason(b, rule, "any of roles covered: ", covered, n, "");
        free(covered);
    }
    if (r == 0 && ar->min_score > 0)
        r = add_reason(b, rule, 0, 0,
                       strpool_printf(&b->pool, "account score %d >= %d", (int)v->score_points,
                                      (int)ar->min_score));
    if (r == 0 && ar->min_grade >= 0)
        r = add_reason(b, rule, 0, 0,
                       strpool_printf(&b->pool, "fit grade %s (>= %s)",
                                      fit_grade_letter(rules, v->grade),
                                      fit_grade_letter(rules, ar->min_grade)));
    if (r == 0 && ar->tier_count) {
        hf_buf_reset(&b->text);
        r = hf_buf_printf(&b->text, "tier %d in ", (int)v->tier);
        for (size_t i = 0; i < ar->tier_count && r == 0; i++)
            r = hf_buf_printf(&b->text, "%s%d", i ? ", " : "", (int)ar->tiers[i]);
        if (r == 0)
            r = add_reason(b, rule, 0, 0,
                           strpool_printf(&b->pool, "%s", (const char *)b->text.data));
    }
    return r;
}

/* Each member's part of the account score, strongest first. */
static int member_reasons(build_t *b, const account_view_t *v)
{
    int r = 0;
    for (size_t i = 0; i < v->count && r == 0; i++) {
        const account_ranked_t *rk = &v->ranked[i];
        r = add_reason(b, strpool_printf(&b->pool, "member:%s", rk->m->contact_id),
                       score_round(rk->weighted), 1,
                       strpool_printf(&b->pool, "%s, score %d x %g", rk->m->role,
                                      (int)rk->score_points, (double)rk->weight));
    }
    return r;
}

/* Matching account fit rules and the target tier. */
static int fit_reasons(build_t *b, const account_view_t *v, const hf_rules_t *rules)
{
    int r = 0;
    for (size_t i = 0; i < rules->accounts.fit_rule_count && r == 0; i++) {
        const hf_fit_rule_t *fr = &rules->accounts.fit_rules[i];
        if (!fr->name || !hf_trait_match(&fr->match, &v->traits))
            continue;
        hf_buf_reset(&b->text);
        r = hf_trait_match_describe(&fr->match, &v->traits, &b->text);
        if (r == 0)
            r = add_reason(
                b, strpool_printf(&b->pool, "fit:%s", fr->name), fr->points, 1,
                strpool_printf(&b->pool, "%s", b->text.len ? (const char *)b->text.data : ""));
    }
    if (r == 0 && v->tier > 0)
        r = add_reason(b, "target_account", v->tier_points, 1,
                       strpool_printf(&b->pool, "tier %d", (int)v->tier));
    return r;
}

/* One item of a member's newest-first list, for merging them. */
typedef struct item_ref {
    int64_t at_ms;
    size_t rank; /* of its member */
    size_t idx;  /* in its member's list */
} item_ref_t;

static int item_ref_cmp(const void *a, const void *b)
{
    const item_ref_t *x = a, *y = b;
    if (x->at_ms != y->at_ms)
        return x->at_ms > y->at_ms ? -1 : 1;
    if (x->rank != y->rank)
        return x->rank < y->rank ? -1 : 1;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

enum list_kind { LIST_TOUCHES, LIST_DOWNLOADS, LIST_WEBINARS };

static size_t list_count(const account_member_t *m, enum list_kind kind)
{
    return kind == LIST_TOUCHES     ? m->touch_count
           : kind == LIST_DOWNLOADS ? m->download_count
                                    : m->webinar_count;
}

static int64_t list_at(const account_member_t *m, enum list_kind kind, size_t i)
{
    return kind == LIST_TOUCHES     ? m->touches[i].at_ms
           : kind == LIST_DOWNLOADS ? m->downloads[i].at_ms
                                    : m->webinars[i].at_ms;
}

/* The items of every member's @kind list, newest first, at most @max: *@out (owned by
 * the caller), *@n.  Returns 0 or -ENOMEM. */
static int merge_lists(const account_view_t *v, enum list_kind kind, size_t max, item_ref_t **out,
                       size_t *n)
{
    size_t total = 0;
    for (size_t i = 0; i < v->count; i++)
        total += list_count(v->ranked[i].m, kind);
    item_ref_t *refs = calloc(total + 1, sizeof *refs);
    if (!refs)
        return -ENOMEM;
    size_t k = 0;
    for (size_t i = 0; i < v->count; i++)
        for (size_t j = 0; j < list_count(v->ranked[i].m, kind); j++)
            refs[k++] = (item_ref_t){list_at(v->ranked[i].m, kind, j), i, j};
    qsort(refs, total, sizeof *refs, item_ref_cmp);
    *out = refs;
    *n = total < max ? total : max;
    return 0;
}

static int32_t add_sat(int32_t a, int32_t b)
{
    int64_t s = (int64_t)a + b;
    return s > INT32_MAX ? INT32_MAX : s < INT32_MIN ? INT32_MIN : (int32_t)s;
}

static int build_journey(build_t *b, const account_state_t *s, const account_view_t *v,
                         const hf_rules_t *rules, hf_journey_t *j)
{
    *j = (hf_journey_t){
        .has_known_since = s->has_known_since,
        .known_since_ms = s->known_since_ms,
    };
    for (size_t i = 0; i < v->count; i++) {
        const account_member_t *m = v->ranked[i].m;
        if (i == 0 || m->first_seen_ms < j->first_seen_ms)
            j->first_seen_ms = m->first_seen_ms;
        j->sessions = add_sat(j->sessions, m->sessions);
        j->page_views = add_sat(j->page_views, m->page_views);
        j->email_opens = add_sat(j->email_opens, m->email_opens);
        j->email_clicks = add_sat(j->email_clicks, m->email_clicks);
    }

    item_ref_t *refs = NULL;
    size_t n = 0;
    int r = merge_lists(v, LIST_TOUCHES, rules->journey.recent_max, &refs, &n);
    if (r < 0)
        return r;
    b->recent = calloc(n + 1, sizeof *b->recent);
    for (size_t i = 0; b->recent && i < n; i++) {
        const account_member_t *m = v->ranked[refs[i].rank].m;
        const journey_touch_t *t = &m->touches[refs[i].idx];
        const char *detail = t->detail
                                 ? strpool_printf(&b->pool, "%s: %s", m->contact_id, t->detail)
                                 : m->contact_id;
        if (!detail) {
            r = -ENOMEM;
            break;
        }
        b->recent[i] = (hf_touch_t){t->at_ms, t->type, t->title, detail};
    }
    free(refs);
    if (!b->recent || r < 0)
        return -ENOMEM;
    j->recent = b->recent;
    j->recent_count = n;

    if ((r = merge_lists(v, LIST_DOWNLOADS, rules->journey.downloads_max, &refs, &n)) < 0)
        return r;
    b->downloads = calloc(n + 1, sizeof *b->downloads);
    for (size_t i = 0; b->downloads && i < n; i++) {
        const journey_download_t *d = &v->ranked[refs[i].rank].m->downloads[refs[i].idx];
        b->downloads[i] = (hf_download_t){d->asset_id, d->title, d->type, d->at_ms};
    }
    free(refs);
    if (!b->downloads)
        return -ENOMEM;
    j->downloads = b->downloads;
    j->download_count = n;

    if ((r = merge_lists(v, LIST_WEBINARS, rules->journey.webinars_max, &refs, &n)) < 0)
        return r;
    b->webinars = calloc(n + 1, sizeof *b->webinars);
    for (size_t i = 0; b->webinars && i < n; i++) {
        const journey_webinar_t *w = &v->ranked[refs[i].rank].m->webinars[refs[i].idx];
        b->webinars[i] = (hf_webinar_t){w->webinar_id, w->title, w->action, w->minutes, w->at_ms};
    }
    free(refs);
    if (!b->webinars)
        return -ENOMEM;
    j->webinars = b->webinars;
    j->webinar_count = n;
    return 0;
}

typedef struct topic_sum {
    const char *topic;
    double weight;
} topic_sum_t;

static int topic_sum_cmp(const void *a, const void *b)
{
    const topic_sum_t *x = a, *y = b;
    if (x->weight != y->weight)
        return x->weight > y->weight ? -1 : 1;
    return strcmp(x->topic, y->topic);
}

static int build_interests(build_t *b, const account_view_t *v, const hf_rules_t *rules,
                           hf_handoff_t *h)
{
    size_t total = 0;
    for (size_t i = 0; i < v->count; i++)
        total += v->ranked[i].m->interest_count;
    topic_sum_t *sums = calloc(total + 1, sizeof *sums);
    b->interests = calloc(rules->interests.top + 1, sizeof *b->interests);
    if (!sums || !b->interests) {
        free(sums);
        return -ENOMEM;
    }
    size_t n = 0;
    for (size_t i = 0; i < v->count; i++) {
        const account_member_t *m = v->ranked[i].m;
        double decay = v->ref_ms > m->score_at_ms
                           ? score_decay((double)timespan_ms(v->ref_ms, m->score_at_ms),
                                         rules->interests.half_life_ms)
                           : 1.0;
        for (size_t k = 0; k < m->interest_count; k++) {
            const account_interest_t *it = &m->interests[k];
            size_t t = 0;
            while (t < n && strcmp(sums[t].topic, it->topic) != 0)
                t++;
            if (t == n)
                sums[n++] = (topic_sum_t){it->topic, 0};
            sums[t].weight += it->weight * decay;
        }
    }
    qsort(sums, n, sizeof *sums, topic_sum_cmp);
    size_t k = 0;
    for (size_t i = 0; i < n && k < rules->interests.top; i++)
        if (sums[i].weight > 0)
            b->interests[k++] = (hf_interest_t){sums[i].topic, (float)sums[i].weight};
    free(sums);
    h->interests = b->interests;
    h->interest_count = k;
    return 0;
}

static int build_buying_group(build_t *b, const account_view_t *v, const hf_rules_t *rules,
                              hf_handoff_t *h)
{
    b->members = calloc(v->engaged_count + 1, sizeof *b->members);
    if (!b->members)
        return -ENOMEM;
    size_t n = 0;
    for (size_t i = 0; i < v->count && n < rules->accounts.buying_group_max; i++) {
        const account_ranked_t *rk = &v->ranked[i];
        if (rk->engaged)
            b->members[n++] = (hf_member_t){rk->m->contact_id, rk->m->role, rk->score_points,
                                            rk->m->last_active_ms, rk->m->placement};
    }
    h->buying_group = b->members;
    h->buying_group_count = n;
    h->roles_covered = v->roles;
    h->roles_covered_count = v->role_count;
    return 0;
}

int account_emit_handoff(account_state_t *s, const account_view_t *v, const hf_account_rule_t *rule,
                         const hf_rules_t *rules, hf_stage_t stage_before, int64_t qualified_at_ms,
                         int64_t now_ms, const hf_sink_t *sink)
{
    build_t b = {.text = HF_BUF_INIT};
    char handoff_id[HF_HANDOFF_ID_SIZE];
    char note[160];
    int r =
        hf_handoff_id(handoff_id, sizeof handoff_id, HF_ENTITY_ACCOUNT, s->account_id, s->cycle);
    if (r < 0)
        goto out;
    hf_handoff_t h = {
        .handoff_id = handoff_id,
        .entity_type = HF_ENTITY_ACCOUNT,
        .entity_id = s->account_id,
        .account_id = s->account_id,
        .rule = rule->name,
        .qualified_at_ms = qualified_at_ms,
        .emitted_at_ms = now_ms,
        .score = v->score_points,
        .fit_grade = fit_grade_letter(rules, v->grade),
        .stage_before = hf_stage_name(stage_before),
        .routing_region = v->traits.region,
        .kind = "new_business",
    };
    r = condition_reasons(&b, rule, v, rules);
    if (r == 0)
        r = member_reasons(&b, v);
    if (r == 0)
        r = fit_reasons(&b, v, rules);
    if (r == 0)
        r = build_journey(&b, s, v, rules, &h.journey);
    if (r == 0)
        r = build_interests(&b, v, rules, &h);
    if (r == 0)
        r = build_buying_group(&b, v, rules, &h);
    if (r < 0)
        goto out;
    h.reasons = b.reasons;
    h.reason_count = b.reason_count;
    h.routing_team =
        hf_route(rules, v->traits.country, v->traits.region, v->tier, note, sizeof note);
    h.routing_note = note[0] ? note : NULL;
    /* the case opens and its clocks start in the routing team's calendar */
    sla_entity_t e = account_sla_entity(s);
    sla_attribution_t attr = {.rule = rule->name, .team = h.routing_team};
    r = sla_start(&e, handoff_id, &attr, rules, now_ms, &h.sla_accept_by_ms,
                  &h.sla_first_touch_by_ms, sink);
    if (r == 0 && sink && sink->handoff)
        r = sink->handoff(sink->opaque, &h);
out:
    build_free(&b);
    return r;
}

int account_emit_expansion(const account_state_t *s, const account_view_t *v,
                           const char *handoff_id, const char *rule_name, const char *product,
                           const hf_reason_t *conditions, size_t condition_count,
                           const hf_rules_t *rules, int64_t qualified_at_ms, int64_t now_ms,
                           int64_t accept_by_ms, int64_t first_touch_by_ms, const hf_sink_t *sink)
{
    build_t b = {0};
    int r = 0;
    hf_handoff_t h = {
        .handoff_id = handoff_id,
        .entity_type = HF_ENTITY_ACCOUNT,
        .entity_id = s->account_id,
        .account_id = s->account_id,
        .rule = rule_name,
        .qualified_at_ms = qualified_at_ms,
        .emitted_at_ms = now_ms,
        .score = v->score_points,
        .fit_grade = fit_grade_letter(rules, v->grade),
        .stage_before = hf_stage_name(s->stage),
        .routing_region = v->traits.region,
        /* the account managers, never a new-business routing team */
        .routing_team = rules->expansion.team,
        .sla_accept_by_ms = accept_by_ms,
        .sla_first_touch_by_ms = first_touch_by_ms,
        .kind = "expansion",
        .product = product,
    };
    for (size_t i = 0; i < condition_count && r == 0; i++)
        r = add_reason(&b, conditions[i].rule, conditions[i].points, conditions[i].count,
                       conditions[i].detail);
    if (r == 0)
        r = fit_reasons(&b, v, rules);
    if (r == 0)
        r = build_journey(&b, s, v, rules, &h.journey);
    if (r == 0)
        r = build_interests(&b, v, rules, &h);
    if (r == 0)
        r = build_buying_group(&b, v, rules, &h);
    if (r == 0 && s->sla.owner_id)
        h.routing_note = strpool_printf(&b.pool, "account owner %s", s->sla.owner_id);
    if (r < 0)
        goto out;
    h.reasons = b.reasons;
    h.reason_count = b.reason_count;
    if (sink && sink->handoff)
        r = sink->handoff(sink->opaque, &h);
out:
    build_free(&b);
    return r;
}
