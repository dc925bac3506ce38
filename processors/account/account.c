/* Stage 3: the account journey.  The account's state and lifecycle, qualification once
 * per cycle, sales feedback and SLA clocks; what one member update does, in order.
 * The members (last-writer-wins by version) are in account_members.c, the rosters
 * pushed back to them in account_roster.c.  Semantics: account_priv.h. */
#include "account.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "account_priv.h"
#include "resolve.h"
#include "util/hash.h"
#include "util/timespan.h"

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
    account_roster_entries_free(s->roster, s->roster_count);
    dedupe_free(&s->dedupe);
    sla_state_free(&s->sla);
    account_products_free(s->products, s->product_count);
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
    if (rules->accounts.max_score > 0 && sum > rules->accounts.max_score)
        sum = rules->accounts.max_score;
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
             top->m->contact_id, (int)top->score_points, (int)rules->accounts.engaged_member_score);
    return set_stage(s, HF_STAGE_ENGAGED, at_ms, cause, sink);
}

static int qualify(account_state_t *s, const account_view_t *v, const hf_rules_t *rules,
                   int64_t at_ms, int64_t now_ms, const hf_sink_t *sink)
{
    if (s->handed_off || (s->stage != HF_STAGE_KNOWN && s->stage != HF_STAGE_ENGAGED &&
                          s->stage != HF_STAGE_RECYCLED))
        return 0;
    int64_t grace_ms = rules->qualify.grace_ms > 0 ? rules->qualify.grace_ms : 0;
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
    size_t at = account_member_find(s, u->contact_id);
    double before =
        at == ACCOUNT_NOT_FOUND ? 0 : account_member_score_at(&s->members[at], rules, u->at_ms);
    int r = account_members_apply(s, u, rules);
    if (r == ACCOUNT_FOLD_APPLIED && !u->leave &&
        (at = account_member_find(s, u->contact_id)) != ACCOUNT_NOT_FOUND)
        sla_note_points(&s->sla, u->at_ms,
                        account_member_score_at(&s->members[at], rules, u->at_ms) - before);
    if (r != ACCOUNT_FOLD_APPLIED)
        return r;
    s->updates++;
    if (first) {
        s->has_known_since = true;
        s->known_since_ms = u->at_ms;
    }
    if (!u->leave && (r = account_members_evict_over_bound(s, rules)) < 0)
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
        r = account_expansion_evaluate(s, &v, rules, u->at_ms, now_ms, sink);
    if (r == 0)
        r = account_roster_push(s, &v, rules, u->leave ? u->contact_id : NULL, sink);
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
            dedupe_remember(&s->dedupe, h, now_ms, rules->dedupe.max_ids, rules->dedupe.window_ms);
        if (r < 0)
            return r;
    }
    /* an answer to an expansion handoff concerns its product only (account_expansion.c) */
    bool expansion = false;
    int r = account_expansion_feedback(s, ev, rules, now_ms, sink, &expansion);
    if (r < 0 || expansion)
        return r < 0 ? r : ACCOUNT_FOLD_APPLIED;
    sla_entity_t e = account_sla_entity(s);
    bool recycled = false;
    r = sla_feedback(&e, ev, rules, now_ms, sink, &recycled);
    if (r < 0)
        return r;
    if (r == SLA_FEEDBACK_UNKNOWN)
        return ACCOUNT_FOLD_UNKNOWN_HANDOFF;
    /* a won deal naming a product: the account has it (never raised for expansion) */
    if ((r = account_expansion_won(s, ev)) < 0)
        return r;
    return ACCOUNT_FOLD_APPLIED;
}

int account_sla_fire(account_state_t *s, const hf_rules_t *rules, int64_t now_ms,
                     const hf_sink_t *sink)
{
    sla_entity_t e = account_sla_entity(s);
    bool recycled = false;
    int r = sla_fire(&e, rules, now_ms, sink, &recycled);
    return r < 0 ? r : account_expansion_fire(s, rules, now_ms, sink);
}

int64_t account_state_next_due(const account_state_t *s)
{
    int64_t own = sla_next_due(&s->sla), expansion = account_expansion_next_due(s);
    return !own || (expansion && expansion < own) ? expansion : own;
}

bool account_sla_reschedule(account_state_t *s, const hf_rules_t *rules)
{
    bool own = sla_reschedule(&s->sla, rules);
    return account_expansion_reschedule(s, rules) || own;
}
