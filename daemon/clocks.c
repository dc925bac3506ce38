#include "clocks.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "processors/account/account.h"
#include "processors/contact/contact.h"
#include "util/vec.h"
#include "outputs.h"
#include "stage_contact.h"
#include "stage_digest.h"

/* What goes wrong while clocks fire names the internal topic of the entity's stage
 * at no offset: nothing was consumed. */
static stage_origin_t origin_of(const stage_ctx_t *c, hf_entity_type_t type)
{
    return stage_internal_origin(c, type == HF_ENTITY_ACCOUNT ? ROLE_BY_ACCOUNT : ROLE_BY_CONTACT);
}

/* The cached state of a timer's entity, or NULL with *r as for stage_state_of(). */
static cache_entry_t *entity_of(stage_ctx_t *c, hf_entity_type_t type, const char *id,
                                const stage_origin_t *origin, int *r)
{
    cache_t *cache = type == HF_ENTITY_ACCOUNT ? c->account_cache : c->contact_cache;
    return stage_state_of(c, cache, origin, id, NULL, r);
}

static int64_t next_due_of(hf_entity_type_t type, const void *state)
{
    return type == HF_ENTITY_ACCOUNT ? account_state_next_due(state)
                                     : contact_state_next_due(state);
}

/* Fires @id's clocks and indexes its next due time. */
static int fire_one(stage_ctx_t *c, hf_entity_type_t type, const char *id, int64_t now_ms,
                    const hf_sink_t *sink)
{
    assert(type == HF_ENTITY_CONTACT || type == HF_ENTITY_ACCOUNT);
    stage_origin_t origin = origin_of(c, type);
    c->current_ts = now_ms;
    int r;
    cache_entry_t *e = entity_of(c, type, id, &origin, &r);
    if (!e)
        return r > 0 ? 0 : r; /* gone or corrupt (dead-lettered): nothing to fire */
    c->ctr[M_TIMERS_FIRED]++;
    bool owed_before = type == HF_ENTITY_CONTACT && contact_state_summary_pending(e->state);
    const hf_rules_t *rules = stage_rules(c);
    stage_digest_watch_t watch;
    if ((r = stage_digest_watch(c, &watch, type, e->state)) < 0)
        return r;
    r = type == HF_ENTITY_ACCOUNT ? account_sla_fire(e->state, rules, now_ms, sink)
                                  : contact_sla_fire(e->state, rules, now_ms, sink);
    if (r < 0) {
        stage_digest_unwatch(&watch);
        return r;
    }
    cache_entry_touch(e);
    if ((r = stage_digest_tell(c, &watch, type, e->state, -1)) < 0)
        return r; /* breaches and a no-response recycle are the team's news */
    /* never again for the same instant: a clock that cannot move on stops here */
    int64_t next = next_due_of(type, e->state);
    r = timers_set(c->timers, type, id, next > now_ms ? next : 0);
    if (r == 0 && type == HF_ENTITY_CONTACT && !owed_before)
        r = stage_contact_owe(c, e->state); /* a recycle changed its stage */
    if (r == 0)
        r = stage_drain(c, &origin, c->mail_budget);
    return r;
}

/* A team's digest instant (stage_digest.c): what it sets off is an output only. */
static int fire_team(stage_ctx_t *c, const char *team, int64_t now_ms)
{
    c->current_ts = now_ms;
    c->ctr[M_TIMERS_FIRED]++;
    return stage_digest_fire(c, team, now_ms);
}

int clocks_fire(stage_ctx_t *c, int64_t now_ms, unsigned max)
{
    hf_entity_type_t type;
    const char *popped;
    hf_sink_t sink;
    outputs_sink(c, &sink);
    int r = 0;
    for (unsigned n = 0; r >= 0 && n < max && timers_pop_due(c->timers, now_ms, &type, &popped);
         n++) {
        char id[4096];
        snprintf(id, sizeof id, "%s", popped); /* firing changes the index */
        r = type == TIMERS_TEAM ? fire_team(c, id, now_ms) : fire_one(c, type, id, now_ms, &sink);
    }
    if (r < 0)
        stage_abandon(c);
    return r < 0 ? r : 0;
}

/* The entities of the timers index, copied out (rescheduling changes the index). */
typedef struct due_list {
    struct due_item {
        hf_entity_type_t type;
        char *id;
    } * items;
    size_t n, cap;
} due_list_t;

static int collect_due(void *opaque, hf_entity_type_t type, const char *id)
{
    due_list_t *l = opaque;
    struct due_item *g = vec_grow(l->items, &l->cap, l->n + 1, sizeof *g);
    if (!g)
        return -ENOMEM;
    l->items = g;
    if (!(l->items[l->n].id = strdup(id)))
        return -ENOMEM;
    l->items[l->n++].type = type;
    return 0;
}

static int reschedule_one(stage_ctx_t *c, hf_entity_type_t type, const char *id)
{
    if (type == TIMERS_TEAM)
        return stage_digest_reschedule(c, id);
    stage_origin_t origin = origin_of(c, type);
    int r;
    cache_entry_t *e = entity_of(c, type, id, &origin, &r);
    if (!e)
        return r < 0 ? r : 0;
    const hf_rules_t *rules = stage_rules(c);
    bool changed = type == HF_ENTITY_ACCOUNT ? account_sla_reschedule(e->state, rules)
                                             : contact_sla_reschedule(e->state, rules);
    if (!changed)
        return 0;
    cache_entry_touch(e);
    return timers_set(c->timers, type, id, next_due_of(type, e->state));
}

static int reschedule(stage_ctx_t *c, bool teams_only)
{
    due_list_t l = {0};
    int r = timers_each(c->timers, collect_due, &l);
    for (size_t i = 0; i < l.n; i++) {
        if (r == 0 && (!teams_only || l.items[i].type == TIMERS_TEAM))
            r = reschedule_one(c, l.items[i].type, l.items[i].id);
        free(l.items[i].id);
    }
    free(l.items);
    if (r < 0)
        return stage_fail(c, r, "rescheduling SLA clocks: %s", strerror(-r));
    return r;
}

int clocks_reschedule(stage_ctx_t *c)
{
    return reschedule(c, false);
}

int clocks_reschedule_digests(stage_ctx_t *c)
{
    return reschedule(c, true);
}
