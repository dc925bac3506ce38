#include "stage_contact.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dlq.h"
#include "merge.h"
#include "outputs.h"
#include "stage_account.h"
#include "stage_digest.h"

void *stage_contact_create(const char *id)
{
    return contact_state_new(id);
}

/* ---- summaries owed to accounts ------------------------------------------------ */

static bool coalesced(const stage_ctx_t *c)
{
    return stage_rules(c)->accounts.member_updates == HF_MEMBER_UPDATES_COALESCED;
}

/* The owed summaries of contact partition @partition (grown to it), or NULL on out
 * of memory. */
static stage_owed_part_t *owed_part(stage_ctx_t *c, int32_t partition)
{
    stage_owed_t *o = &c->owed;
    if (partition < 0)
        partition = 0;
    if ((size_t)partition >= o->part_count) {
        size_t n = (size_t)partition + 1;
        stage_owed_part_t *grown = realloc(o->parts, n * sizeof(*grown));
        if (!grown)
            return NULL;
        memset(grown + o->part_count, 0, (n - o->part_count) * sizeof(*grown));
        o->parts = grown;
        o->part_count = n;
    }
    return &o->parts[partition];
}

static int32_t contact_partition(stage_ctx_t *c, const char *id)
{
    return c->out.partition(c->out.opaque, ROLE_BY_CONTACT, id);
}

static int owed_append(stage_ctx_t *c, stage_owed_part_t *pt, const char *id)
{
    if (pt->count == pt->cap) {
        size_t cap = pt->cap ? pt->cap * 2 : 64;
        char **grown = realloc(pt->ids, cap * sizeof(*grown));
        if (!grown)
            return -ENOMEM;
        pt->ids = grown;
        pt->cap = cap;
    }
    if (!(pt->ids[pt->count] = strdup(id)))
        return -ENOMEM;
    pt->count++;
    pt->dirty = true;
    c->owed.total++;
    return 0;
}

/* Forgets @pt's list and count (not its memory). */
static void owed_part_reset(stage_owed_part_t *pt)
{
    for (size_t i = 0; i < pt->count; i++)
        free(pt->ids[i]);
    pt->count = 0;
    pt->records = 0;
    pt->due = false;
    pt->dirty = false;
}

int stage_contact_owe(stage_ctx_t *c, const contact_state_t *s)
{
    if (!contact_state_summary_pending(s))
        return 0;
    stage_owed_part_t *pt = owed_part(c, contact_partition(c, contact_state_id(s)));
    return pt ? owed_append(c, pt, contact_state_id(s)) : -ENOMEM;
}

size_t stage_contact_owed_count(const stage_ctx_t *c)
{
    return c->owed.total;
}

void stage_contact_owed_clear(stage_ctx_t *c)
{
    for (size_t p = 0; p < c->owed.part_count; p++)
        owed_part_reset(&c->owed.parts[p]);
    c->owed.total = 0;
    c->owed.due = false;
}

/* One more contact record folded into a contact of @contact's partition
 * (coalesced): the partition is due once it folded member_update_records. */
static int count_record(stage_ctx_t *c, const char *contact)
{
    stage_owed_part_t *pt = owed_part(c, contact_partition(c, contact));
    if (!pt)
        return -ENOMEM;
    uint32_t every = stage_rules(c)->accounts.member_update_records;
    if (pt->records < UINT32_MAX)
        pt->records++;
    pt->dirty = true;
    if (pt->records >= (every ? every : 1))
        pt->due = c->owed.due = true;
    return 0;
}

int stage_contact_owed_write(stage_ctx_t *c, store_batch_t *batch)
{
    hf_buf_t val = HF_BUF_INIT;
    int r = 0;
    for (size_t p = 0; p < c->owed.part_count && r == 0; p++) {
        stage_owed_part_t *pt = &c->owed.parts[p];
        if (!pt->dirty)
            continue;
        uint8_t key[STORE_OWED_KEY_SIZE];
        store_owed_key(key, (int32_t)p);
        if (pt->count == 0 && pt->records == 0)
            store_batch_delete(batch, STORE_CF_OWED, key, sizeof key);
        else if ((r = store_owed_encode(&val, pt->records, pt->ids, pt->count)) == 0)
            store_batch_put(batch, STORE_CF_OWED, key, sizeof key, val.data, val.len);
        pt->dirty = r != 0;
    }
    hf_buf_free(&val);
    return r;
}

typedef struct owed_load {
    stage_ctx_t *c;
    stage_owed_part_t *pt;
} owed_load_t;

static int load_id(void *opaque, const char *id)
{
    owed_load_t *l = opaque;
    return owed_append(l->c, l->pt, id);
}

int stage_contact_owed_load(stage_ctx_t *c, int32_t partition, const void *val, size_t len)
{
    stage_owed_part_t *pt = owed_part(c, partition);
    if (!pt)
        return -ENOMEM;
    c->owed.total -= pt->count;
    owed_part_reset(pt);
    if (!val)
        return 0;
    uint32_t records;
    size_t count;
    owed_load_t l = {c, pt};
    int r = store_owed_decode(val, len, &records, &count, load_id, &l);
    if (r == 0) {
        pt->records = records;
        uint32_t every = stage_rules(c)->accounts.member_update_records;
        /* written due, not sent yet: member_update_records was lowered by a reload */
        pt->due = coalesced(c) && records >= (every ? every : 1);
        c->owed.due = c->owed.due || pt->due;
    } else {
        c->owed.total -= pt->count;
        owed_part_reset(pt);
    }
    pt->dirty = false; /* as stored */
    return r;
}

/* Sends the summaries contact partition @p owes, in the order the contacts first
 * changed, and starts its count over.  A contact evicted from the record cache since
 * it was committed is read back. */
static int flush_part(stage_ctx_t *c, size_t p, const stage_origin_t *origin, unsigned budget,
                      const hf_sink_t *sink, size_t *sent)
{
    stage_owed_part_t *pt = &c->owed.parts[p];
    /* taken: anything owed while these are sent goes on a list of its own */
    char **ids = pt->ids;
    size_t n = pt->count;
    c->owed.total -= n;
    pt->ids = NULL;
    pt->count = pt->cap = 0;
    pt->records = 0;
    pt->due = false;
    pt->dirty = true;
    int r = 0;
    for (size_t i = 0; i < n; i++) {
        if (r >= 0) {
            cache_entry_t *e = stage_state_of(c, c->contact_cache, origin, ids[i], NULL, &r);
            if (e && contact_state_summary_pending(e->state)) {
                r = contact_flush_summary(e->state, stage_rules(c), sink);
                cache_entry_touch(e); /* no longer owed, the version moved */
            } else if (!e && r > 0) {
                r = 0; /* its state does not decode: dead-lettered, nothing to send */
            }
            /* keep the mailbox short: drain every so often */
            if (r >= 0 && ++*sent % 1024 == 0)
                r = stage_drain(c, origin, budget);
        }
        free(ids[i]);
    }
    free(ids);
    return r;
}

/* Sends what the partitions @all (else those due) owe, then processes what that sets
 * off in this process (stage 3, rosters back to stage 2). */
static int flush(stage_ctx_t *c, bool all)
{
    /* What goes wrong from here on names the internal topic, at no offset: the
     * records are made inside the process. */
    stage_origin_t origin = stage_internal_origin(c, ROLE_BY_ACCOUNT);
    unsigned budget = c->mail_budget * 1024u;
    hf_sink_t sink;
    outputs_sink(c, &sink);
    int r = 0;
    size_t sent = 0;
    for (size_t p = 0; p < c->owed.part_count && r >= 0; p++) {
        stage_owed_part_t *pt = &c->owed.parts[p];
        if (all ? pt->count || pt->records : pt->due)
            r = flush_part(c, p, &origin, budget, &sink, &sent);
    }
    c->owed.due = false;
    if (r >= 0)
        r = stage_drain(c, &origin, budget);
    if (r < 0)
        stage_abandon(c);
    return r < 0 ? r : 0;
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
    stage_digest_watch_t watch;
    if ((r = stage_digest_watch(c, &watch, HF_ENTITY_CONTACT, e->state)) < 0)
        return r;
    r = contact_fold(e->state, ev, stage_rules(c), stage_now_ms(c), outputs_sink(c, &sink));
    if (r < 0) {
        stage_digest_unwatch(&watch);
        return r;
    }
    /* a handoff, an answer of sales: the case changed (a redirect folds nothing) */
    int t = stage_digest_tell(c, &watch, HF_ENTITY_CONTACT, e->state,
                              ev->kind == HF_EV_SALES ? (int)ev->sales_action : -1);
    if (t < 0)
        return t;
    if (!owed_before) {
        t = stage_contact_owe(c, e->state);
        if (t < 0)
            return t;
    }
    t = timers_set(c->timers, HF_ENTITY_CONTACT, contact, contact_state_next_due(e->state));
    if (t < 0)
        return t;
    /* a contact record of its partition: applied, a repeat, or an answer naming no
     * handoff; a record for a merged-away contact counts where its survivor folds it */
    if (r != CONTACT_FOLD_REDIRECT && coalesced(c) && (t = count_record(c, contact)) < 0)
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
    if (!c->owed.total && !c->owed.due) {
        /* nothing to send; counts start over all the same */
        for (size_t p = 0; p < c->owed.part_count; p++) {
            stage_owed_part_t *pt = &c->owed.parts[p];
            if (pt->records) {
                pt->records = 0;
                pt->dirty = true;
            }
        }
        return 0;
    }
    return flush(c, true);
}

int stage_contact_flush_due(stage_ctx_t *c)
{
    return c->owed.due ? flush(c, false) : 0;
}

int stage_contact_before_commit(stage_ctx_t *c)
{
    return coalesced(c) ? 0 : stage_contact_flush_owed(c);
}

int stage_contact_caught_up(stage_ctx_t *c)
{
    return coalesced(c) ? stage_contact_flush_owed(c) : 0;
}
