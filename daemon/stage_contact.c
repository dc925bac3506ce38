#include "stage_contact.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dlq.h"
#include "merge.h"
#include "outputs.h"
#include "stage_account.h"

void *stage_contact_create(const char *id)
{
    return contact_state_new(id);
}

int stage_contact_owe(stage_ctx_t *c, const contact_state_t *s)
{
    if (!contact_state_summary_pending(s))
        return 0;
    stage_owed_t *o = &c->owed;
    if (o->count == o->cap) {
        size_t cap = o->cap ? o->cap * 2 : 256;
        char **grown = realloc(o->ids, cap * sizeof(*grown));
        if (!grown)
            return -ENOMEM;
        o->ids = grown;
        o->cap = cap;
    }
    if (!(o->ids[o->count] = strdup(contact_state_id(s))))
        return -ENOMEM;
    o->count++;
    return 0;
}

void stage_contact_owed_clear(stage_ctx_t *c)
{
    for (size_t i = 0; i < c->owed.count; i++)
        free(c->owed.ids[i]);
    c->owed.count = 0;
}

/* What an applied (or repeated, or redirected) event means beyond the state. */
static int after_fold(stage_ctx_t *c, const stage_origin_t *origin, const hf_event_t *ev,
                      const void *raw, size_t len, const char *contact, cache_entry_t *e,
                      contact_fold_result_t result, bool known_before)
{
    switch (result) {
    case CONTACT_FOLD_DUPLICATE:
        c->ctr[M_DUPLICATES]++;
        return 0;
    case CONTACT_FOLD_UNKNOWN_HANDOFF:
        cache_entry_touch(e); /* the event id is remembered: a repeat is a repeat */
        return dlq_send(c, origin, "unknown_handoff",
                        "sales activity for contact %s names handoff %s, which is none of "
                        "its handoffs (cycles 1..%u)",
                        contact, ev->handoff_id, (unsigned)contact_state_cycle(e->state));
    case CONTACT_FOLD_REDIRECT: {
        /* Merged away: the survivor's journey gets it (and drops a repeat). */
        c->ctr[M_REDIRECTED]++;
        const char *survivor = contact_state_redirect(e->state);
        return stage_forward_input(c, ROLE_BY_CONTACT, survivor, raw, len);
    }
    case CONTACT_FOLD_APPLIED:
        break;
    }
    cache_entry_touch(e);
    c->ctr[M_FOLDED]++;
    c->run.folded++;
    if (ev->kind == HF_EV_SALES) {
        c->ctr[M_FEEDBACK]++;
        return 0;
    }
    if (ev->kind == HF_EV_IDENTITY && ev->identity_kind == HF_IDENTITY_MERGE)
        return merge_start(c, e->state, ev, known_before);
    return 0;
}

int stage_contact_event(stage_ctx_t *c, const stage_origin_t *origin, stage_role_t role,
                        const hf_event_t *ev, const void *raw, size_t len, const char *contact,
                        bool direct)
{
    if (ev->kind == HF_EV_SALES && ev->entity_type == HF_ENTITY_ACCOUNT)
        return stage_account_sales(c, origin, ev, raw, len, direct);
    if (!contact || hf_id_blocked(contact)) {
        const char *named = ev->kind == HF_EV_SALES ? ev->entity_id : ev->contact_id;
        return dlq_send(c, origin, "blocked_id", "contact id is missing or blocked (%s%s%s)",
                        named ? "\"" : "", named ? named : "null", named ? "\"" : "");
    }
    if (direct && c->out.partition(c->out.opaque, role, contact) != origin->partition)
        return stage_forward_input(c, ROLE_BY_CONTACT, contact, raw, len);

    int r;
    cache_entry_t *e =
        stage_state_of(c, c->contact_cache, origin, contact, stage_contact_create, &r);
    if (!e)
        return r > 0 ? 0 : r;
    hf_sink_t sink;
    bool known_before = contact_state_known(e->state);
    bool owed_before = contact_state_summary_pending(e->state);
    r = contact_fold(e->state, ev, stage_rules(c), stage_now_ms(c), outputs_sink(c, &sink));
    if (r < 0)
        return r;
    if (!owed_before) {
        int t = stage_contact_owe(c, e->state);
        if (t < 0)
            return t;
    }
    int t = timers_set(c->timers, HF_ENTITY_CONTACT, contact, contact_state_next_due(e->state));
    if (t < 0)
        return t;
    return after_fold(c, origin, ev, raw, len, contact, e, (contact_fold_result_t)r, known_before);
}

int stage_contact_roster(stage_ctx_t *c, const stage_origin_t *origin, const char *contact,
                         const hf_roster_t *roster)
{
    int r;
    cache_entry_t *e = stage_state_of(c, c->contact_cache, origin, contact, NULL, &r);
    if (!e)
        return r > 0 ? 0 : r; /* no journey (yet): nothing to show it to */
    if (contact_state_redirect(e->state))
        return 0; /* its survivor gets rosters of its own */
    r = contact_apply_roster(e->state, roster);
    if (r < 0)
        return r;
    cache_entry_touch(e);
    return 0;
}

int stage_contact_flush_owed(stage_ctx_t *c)
{
    if (!c->owed.count)
        return 0;
    /* What goes wrong from here on names the internal topic, at no offset: the
     * records were made inside the process at commit time. */
    stage_origin_t origin = stage_internal_origin(c, ROLE_BY_ACCOUNT);
    unsigned budget = c->mail_budget * 1024u;
    hf_sink_t sink;
    outputs_sink(c, &sink);
    int r = 0;
    size_t sent = 0;
    for (size_t i = 0; i < c->owed.count && r >= 0; i++) {
        cache_entry_t *e;
        char why[512];
        r = cache_get(c->contact_cache, c->owed.ids[i], &e, why, sizeof(why));
        if (r > 0) /* cannot be: the entry is dirty, so still in memory */
            r = stage_fail(c, -EIO, "%s", why);
        if (r == 0 && e->state)
            r = contact_flush_summary(e->state, stage_rules(c), &sink);
        /* keep the mailbox short: drain every so often */
        if (r >= 0 && ++sent % 1024 == 0)
            r = stage_drain(c, &origin, budget);
    }
    if (r >= 0)
        r = stage_drain(c, &origin, budget);
    stage_contact_owed_clear(c);
    if (r < 0)
        stage_abandon(c);
    return r < 0 ? r : 0;
}
