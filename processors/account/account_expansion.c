/* Expansion: a customer account whose people engage with a product it does not have yet
 * is handed to its account managers (expansion in docs/ARCHITECTURE.md).
 *
 * - Only an account at stage customer (sales' won) is evaluated, after each member
 *   update applied to it, under the same grace as the account rules (the update's at_ms
 *   within qualify.grace of the account's newest activity).
 * - Engagement with a product: each item of a member's journey as stage 3 keeps it (web
 *   visits and forms among its touches, its downloads and webinars), dated within the
 *   rule's `within` before the account's newest activity, earns the points of every
 *   signal of the product it matches; a member with at least one such item is engaged
 *   with the product.  A rule holds when the engaged members reach min_engaged and the
 *   points summed over them reach min_points; per product, the first rule (in file
 *   order) that applies to it and holds raises the handoff.
 * - Never a product the account has: a won deal naming it (SalesActivity.product, or a
 *   won answering its expansion handoff) makes the account have it from then on, and a
 *   product it has is never evaluated, whatever its people read.
 * - One per product per cycle: a product's expansion cycle starts at 1; its handoff is
 *   marked made before it is emitted, with a deterministic id per account, product and
 *   cycle.  Sales answering it with rejected, lost, recycled or disqualified start the
 *   product's next cycle, which may be raised again once expansion.cooldown of event
 *   time has passed since that answer; won makes the account have the product; any
 *   other answer changes nothing.  An answer naming an earlier cycle's handoff changes
 *   nothing.
 * - Each expansion handoff opens a case of its own in the product's entry, run by sla.c
 *   with the clocks of expansion.sla and the account managers' team as attribution;
 *   answers naming it stop its clocks and are counted as any case's.  The account's
 *   lifecycle stays customer (sla.c gets a sink without a lifecycle callback), and the
 *   account's own case and clocks are untouched.
 * - Answers are recognised for the product's current cycle and the
 *   ACCOUNT_EXPANSION_STALE_CYCLES before it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "account_priv.h"
#include "util/strpool.h"
#include "util/timespan.h"

/* Earlier expansion cycles of a product whose handoff ids feedback is recognised by
 * (as stale): the scan per answer stays bounded whatever cycle a state reached. */
#define ACCOUNT_EXPANSION_STALE_CYCLES 64

void account_products_free(account_product_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(p[i].product);
        sla_state_free(&p[i].sla);
    }
    free(p);
}

/* The rules an expansion's case runs under: every rule as it is, the clocks
 * expansion.sla's.  A shallow copy: it owns nothing. */
static hf_rules_t case_rules(const hf_rules_t *rules)
{
    hf_rules_t r = *rules;
    memcpy(r.sla.clocks, rules->expansion.clocks, sizeof r.sla.clocks);
    return r;
}

/* The case of product @p as sla.c sees it: the account's id (breaches and outcomes
 * name the account), the product's own stage and case, and a cycle and handed-off
 * flag of @scratch's that sla.c may move (the product's cycle follows the answers in
 * account_expansion_feedback, not sla.c's recycle gate). */
typedef struct case_scratch {
    uint32_t cycle;
    bool handed_off;
} case_scratch_t;

static sla_entity_t case_entity(account_state_t *s, account_product_t *p, case_scratch_t *scratch)
{
    *scratch = (case_scratch_t){p->cycle, p->handed_off};
    return (sla_entity_t){
        .type = HF_ENTITY_ACCOUNT,
        .id = s->account_id,
        .stage = &p->stage,
        .cycle = &scratch->cycle,
        .handed_off = &scratch->handed_off,
        .sla = &p->sla,
    };
}

/* @sink without its lifecycle callback: an expansion's stage is its own, the
 * account's lifecycle stays "customer". */
static hf_sink_t case_sink(const hf_sink_t *sink)
{
    hf_sink_t out = sink ? *sink : (hf_sink_t){0};
    out.lifecycle = NULL;
    return out;
}

/* Sales sent the expansion back (rejected, lost, recycled, disqualified, no response)
 * at event time @at_ms: the product's next cycle, behind expansion.cooldown. */
static void product_recycle(account_product_t *p, int64_t at_ms)
{
    p->cycle++;
    p->handed_off = false;
    p->recycled = true;
    p->recycled_at_ms = at_ms;
}

int account_expansion_id(char *out, size_t outsz, const char *account_id, const char *product,
                         uint32_t cycle)
{
    size_t len = strlen(account_id) + strlen(product) +
                 sizeof "\x1f"
                        "expansion"
                        "\x1f";
    char *key = malloc(len);
    if (!key)
        return -ENOMEM;
    snprintf(key, len,
             "%s\x1f"
             "expansion"
             "\x1f%s",
             account_id, product);
    int r = hf_handoff_id(out, outsz, HF_ENTITY_ACCOUNT, key, cycle);
    free(key);
    return r;
}

static account_product_t *product_find(account_state_t *s, const char *name)
{
    for (size_t i = 0; i < s->product_count; i++)
        if (strcmp(s->products[i].product, name) == 0)
            return &s->products[i];
    return NULL;
}

/* The entry of @name, added (cycle 1) when new; NULL when there is no room (the bound)
 * or no memory (*@oom). */
static account_product_t *product_get(account_state_t *s, const char *name, bool *oom)
{
    account_product_t *p = product_find(s, name);
    if (p || s->product_count >= ACCOUNT_PRODUCTS_MAX)
        return p;
    account_product_t *grown = realloc(s->products, (s->product_count + 1) * sizeof *grown);
    if (!grown) {
        *oom = true;
        return NULL;
    }
    s->products = grown;
    p = &s->products[s->product_count];
    *p = (account_product_t){.cycle = 1, .stage = HF_STAGE_CUSTOMER};
    if (!(p->product = strdup(name))) {
        *oom = true;
        return NULL;
    }
    s->product_count++;
    return p;
}

/* ---- engagement ---- */

/* The journey items of @m as the events the signals' conditions read. */
static int32_t item_points(const hf_product_t *p, const hf_event_t *ev)
{
    int32_t points = 0;
    for (size_t i = 0; i < p->signal_count; i++)
        if (hf_event_match(&p->signals[i].match, ev))
            points += p->signals[i].points;
    return points;
}

typedef struct engagement {
    int32_t points;
    int32_t items;
    int64_t last_ms;
    const char *last_title; /* borrowed from the member */
} engagement_t;

static void engage(engagement_t *e, const hf_product_t *p, const hf_event_t *ev, const char *title)
{
    int32_t points = item_points(p, ev);
    if (!points)
        return;
    e->points += points;
    e->items++;
    if (!e->last_title || ev->occurred_at_ms > e->last_ms) {
        e->last_ms = ev->occurred_at_ms;
        e->last_title = title;
    }
}

static bool in_window(int64_t at_ms, int64_t ref_ms, int64_t within_ms)
{
    return within_ms <= 0 || !timespan_older_than(at_ms, ref_ms, within_ms);
}

/* What @m did with @p's material within @within_ms before @ref_ms. */
static engagement_t member_engagement(const account_member_t *m, const hf_product_t *p,
                                      int64_t ref_ms, int64_t within_ms)
{
    engagement_t e = {0};
    for (size_t i = 0; i < m->touch_count; i++) {
        const journey_touch_t *t = &m->touches[i];
        if (!in_window(t->at_ms, ref_ms, within_ms) || !t->type)
            continue;
        hf_event_t ev = {.occurred_at_ms = t->at_ms};
        if (strcmp(t->type, "web_visit") == 0) {
            ev.kind = HF_EV_WEB_VISIT;
            ev.url = t->detail;
            ev.title = t->title;
        } else if (strcmp(t->type, "form") == 0) {
            ev.kind = HF_EV_FORM;
            ev.form_id = t->title;
        } else {
            continue; /* downloads and webinars: their own lists, below */
        }
        engage(&e, p, &ev, t->title);
    }
    for (size_t i = 0; i < m->download_count; i++) {
        const journey_download_t *d = &m->downloads[i];
        if (!in_window(d->at_ms, ref_ms, within_ms))
            continue;
        hf_event_t ev = {.kind = HF_EV_DOWNLOAD,
                         .occurred_at_ms = d->at_ms,
                         .asset_id = d->asset_id,
                         .asset_title = d->title,
                         .title = d->title,
                         .asset_type = d->type};
        engage(&e, p, &ev, d->title ? d->title : d->asset_id);
    }
    for (size_t i = 0; i < m->webinar_count; i++) {
        const journey_webinar_t *w = &m->webinars[i];
        if (!in_window(w->at_ms, ref_ms, within_ms))
            continue;
        int action = w->action ? hf_webinar_action_parse(w->action) : -1;
        if (action < 0)
            continue;
        hf_event_t ev = {.kind = HF_EV_WEBINAR,
                         .occurred_at_ms = w->at_ms,
                         .webinar_id = w->webinar_id,
                         .webinar_title = w->title,
                         .title = w->title,
                         .webinar_action = (hf_webinar_action_t)action,
                         .minutes_attended = w->minutes};
        engage(&e, p, &ev, w->title ? w->title : w->webinar_id);
    }
    return e;
}

static bool rule_applies(const hf_expansion_rule_t *rule, const char *product)
{
    if (!rule->product_count)
        return true;
    for (size_t i = 0; i < rule->product_count; i++)
        if (strcmp(rule->products[i], product) == 0)
            return true;
    return false;
}

/* Reasons of an expansion: the conditions, then every engaged member
 * ("product:<contact id>", its points, its items, "<product>: last <title>"). */
typedef struct reasons {
    strpool_t pool;
    hf_reason_t *items;
    size_t count, cap;
} reasons_t;

static int reasons_add(reasons_t *rs, const char *rule, int32_t points, int32_t count,
                       const char *detail)
{
    if (!rule || !detail)
        return -ENOMEM;
    if (rs->count == rs->cap) {
        size_t cap = rs->cap ? rs->cap * 2 : 8;
        hf_reason_t *grown = realloc(rs->items, cap * sizeof *grown);
        if (!grown)
            return -ENOMEM;
        rs->items = grown;
        rs->cap = cap;
    }
    rs->items[rs->count++] = (hf_reason_t){rule, points, count, detail};
    return 0;
}

static void reasons_free(reasons_t *rs)
{
    strpool_free(&rs->pool);
    free(rs->items);
}

/* Evaluates @rule for @p: true when it holds, with the reasons in @rs. */
static int rule_holds(const hf_expansion_rule_t *rule, const hf_product_t *p,
                      const account_view_t *v, reasons_t *rs, bool *holds)
{
    *holds = false;
    engagement_t *per = calloc(v->count + 1, sizeof *per);
    if (!per)
        return -ENOMEM;
    uint32_t engaged = 0;
    int64_t points = 0;
    for (size_t i = 0; i < v->count; i++) {
        per[i] = member_engagement(v->ranked[i].m, p, v->ref_ms, rule->within_ms);
        engaged += per[i].items > 0;
        points += per[i].points;
    }
    int r = 0;
    if (engaged == 0 || engaged < rule->min_engaged || points < rule->min_points)
        goto out;
    *holds = true;
    rs->count = 0;
    if (rule->min_engaged > 0)
        r = reasons_add(rs, rule->name, 0, 0,
                        strpool_printf(&rs->pool, "members engaged with %s %u >= %u", p->name,
                                       (unsigned)engaged, (unsigned)rule->min_engaged));
    if (r == 0 && rule->min_points > 0)
        r = reasons_add(rs, rule->name, 0, 0,
                        strpool_printf(&rs->pool, "%s points %lld >= %d", p->name,
                                       (long long)points, (int)rule->min_points));
    if (r == 0)
        r = reasons_add(rs, rule->name, 0, 0,
                        strpool_printf(&rs->pool, "customer without %s", p->name));
    for (size_t i = 0; i < v->count && r == 0; i++) {
        if (!per[i].items)
            continue;
        r = reasons_add(rs, strpool_printf(&rs->pool, "product:%s", v->ranked[i].m->contact_id),
                        per[i].points, per[i].items,
                        strpool_printf(&rs->pool, "%s: last %s", p->name,
                                       per[i].last_title ? per[i].last_title : "?"));
    }
out:
    free(per);
    return r;
}

int account_expansion_evaluate(account_state_t *s, const account_view_t *v, const hf_rules_t *rules,
                               int64_t at_ms, int64_t now_ms, const hf_sink_t *sink)
{
    const hf_rules_expansion_t *x = &rules->expansion;
    if (s->stage != HF_STAGE_CUSTOMER || !x->rule_count || !v->count)
        return 0;
    int64_t grace_ms = rules->qualify.grace_ms > 0 ? rules->qualify.grace_ms : 0;
    if (timespan_older_than(at_ms, v->ref_ms, grace_ms))
        return 0;
    reasons_t rs = {0};
    int r = 0;
    for (size_t i = 0; i < x->product_count && r == 0; i++) {
        const hf_product_t *p = &x->products[i];
        account_product_t *have = product_find(s, p->name);
        if (have && (have->owned || have->handed_off))
            continue;
        /* sent back by sales: raised again once the cooldown is over */
        if (have && have->recycled &&
            !timespan_older_than(have->recycled_at_ms, at_ms,
                                 x->cooldown_ms > 0 ? x->cooldown_ms : 0))
            continue;
        const hf_expansion_rule_t *fired = NULL;
        for (size_t k = 0; k < x->rule_count && !fired && r == 0; k++) {
            bool holds = false;
            if (!rule_applies(&x->rules[k], p->name))
                continue;
            r = rule_holds(&x->rules[k], p, v, &rs, &holds);
            if (holds)
                fired = &x->rules[k];
        }
        if (!fired || r < 0)
            continue;
        bool oom = false;
        account_product_t *entry = product_get(s, p->name, &oom);
        if (oom) {
            r = -ENOMEM;
            break;
        }
        if (!entry)
            continue; /* no room to remember it: never raised */
        char handoff_id[HF_HANDOFF_ID_SIZE];
        r = account_expansion_id(handoff_id, sizeof handoff_id, s->account_id, p->name,
                                 entry->cycle);
        if (r < 0)
            break;
        /* once per product and cycle: marked before the sink runs */
        entry->handed_off = true;
        entry->raised_at_ms = at_ms;
        entry->stage = HF_STAGE_CONVERSATION_READY;
        /* its own case and clocks, in the account managers' calendar */
        hf_rules_t xr = case_rules(rules);
        case_scratch_t scratch;
        sla_entity_t e = case_entity(s, entry, &scratch);
        sla_attribution_t attr = {.rule = fired->name, .team = x->team};
        hf_sink_t cs = case_sink(sink);
        int64_t accept_by = 0, first_touch_by = 0;
        r = sla_start(&e, handoff_id, &attr, &xr, now_ms, &accept_by, &first_touch_by, &cs);
        if (r == 0)
            r = account_emit_expansion(s, v, handoff_id, fired->name, p->name, rs.items, rs.count,
                                       rules, at_ms, now_ms, accept_by, first_touch_by, sink);
    }
    reasons_free(&rs);
    return r < 0 ? r : 0;
}

/* ---- sales feedback ---- */

int account_expansion_feedback(account_state_t *s, const hf_event_t *ev, const hf_rules_t *rules,
                               int64_t now_ms, const hf_sink_t *sink, bool *handled)
{
    *handled = false;
    if (!ev->handoff_id)
        return 0;
    for (size_t i = 0; i < s->product_count; i++) {
        account_product_t *p = &s->products[i];
        /* this cycle's handoff, or one of the ACCOUNT_EXPANSION_STALE_CYCLES before it
         * (an older one names no handoff: the caller keeps it as a dead letter) */
        uint32_t oldest = p->cycle > ACCOUNT_EXPANSION_STALE_CYCLES
                              ? p->cycle - ACCOUNT_EXPANSION_STALE_CYCLES
                              : 1;
        for (uint32_t c = p->cycle; c >= oldest; c--) {
            char id[HF_HANDOFF_ID_SIZE];
            int r = account_expansion_id(id, sizeof id, s->account_id, p->product, c);
            if (r < 0)
                return r;
            if (strcmp(id, ev->handoff_id) != 0)
                continue;
            *handled = true;
            /* an earlier cycle's (stale), or this cycle's before it was made (never
             * parked: an expansion is raised from the members' reading, not awaited).
             * A product bought since it was raised still takes its answers: they stop
             * its clocks (being owned, it is never raised again). */
            if (c != p->cycle || !p->handed_off)
                return 0;
            hf_rules_t xr = case_rules(rules);
            case_scratch_t scratch;
            sla_entity_t e = case_entity(s, p, &scratch);
            hf_sink_t cs = case_sink(sink);
            bool recycled = false;
            if ((r = sla_feedback(&e, ev, &xr, now_ms, &cs, &recycled)) < 0)
                return r;
            switch (ev->sales_action) {
            case HF_SALES_WON:
                p->owned = true;
                p->owned_at_ms = ev->occurred_at_ms;
                break;
            case HF_SALES_REJECTED:
            case HF_SALES_LOST:
            case HF_SALES_RECYCLED:
            case HF_SALES_DISQUALIFIED:
                product_recycle(p, ev->occurred_at_ms);
                break;
            default:
                break;
            }
            return 0;
        }
    }
    return 0;
}

int account_expansion_fire(account_state_t *s, const hf_rules_t *rules, int64_t now_ms,
                           const hf_sink_t *sink)
{
    hf_rules_t xr = case_rules(rules);
    hf_sink_t cs = case_sink(sink);
    for (size_t i = 0; i < s->product_count; i++) {
        account_product_t *p = &s->products[i];
        if (!p->sla.handoff_id)
            continue;
        case_scratch_t scratch;
        sla_entity_t e = case_entity(s, p, &scratch);
        bool recycled = false;
        int r = sla_fire(&e, &xr, now_ms, &cs, &recycled);
        if (r < 0)
            return r;
        /* no response after the last follow-up attempt: sent back like a rejection */
        if (recycled && p->handed_off)
            product_recycle(p, p->sla.recycled_at_ms);
    }
    return 0;
}

int64_t account_expansion_next_due(const account_state_t *s)
{
    int64_t next = 0;
    for (size_t i = 0; i < s->product_count; i++) {
        int64_t due = sla_next_due(&s->products[i].sla);
        if (due && (!next || due < next))
            next = due;
    }
    return next;
}

bool account_expansion_reschedule(account_state_t *s, const hf_rules_t *rules)
{
    hf_rules_t xr = case_rules(rules);
    bool changed = false;
    for (size_t i = 0; i < s->product_count; i++)
        changed |= sla_reschedule(&s->products[i].sla, &xr);
    return changed;
}

int account_expansion_won(account_state_t *s, const hf_event_t *ev)
{
    if (ev->sales_action != HF_SALES_WON || hf_id_blocked(ev->product))
        return 0;
    bool oom = false;
    account_product_t *p = product_get(s, ev->product, &oom);
    if (oom)
        return -ENOMEM;
    if (p && !p->owned) {
        p->owned = true;
        p->owned_at_ms = ev->occurred_at_ms;
    }
    return 0;
}
