#include "stage_account.h"

#include "processors/account/account.h"
#include "dlq.h"
#include "outputs.h"
#include "stage_digest.h"

static void *new_account(const char *id)
{
    return account_state_new(id);
}

int stage_account_member(stage_ctx_t *c, const stage_origin_t *origin, const hf_member_update_t *u)
{
    if (!u->account_id || hf_id_blocked(u->account_id))
        return dlq_send(c, origin, "blocked_id", "member update without an account");
    int r;
    cache_entry_t *e = stage_state_of(c, c->account_cache, origin, u->account_id, new_account, &r);
    if (!e)
        return r > 0 ? 0 : r;
    hf_sink_t sink;
    stage_digest_watch_t watch;
    if ((r = stage_digest_watch(c, &watch, HF_ENTITY_ACCOUNT, e->state)) < 0)
        return r;
    r = account_fold_member(e->state, u, stage_rules(c), stage_now_ms(c), outputs_sink(c, &sink));
    if (r < 0) {
        stage_digest_unwatch(&watch);
        return r;
    }
    int t = stage_digest_tell(c, &watch, HF_ENTITY_ACCOUNT, e->state, -1);
    if (t < 0)
        return t;
    if (r == ACCOUNT_FOLD_APPLIED)
        cache_entry_touch(e);
    return timers_set(c->timers, HF_ENTITY_ACCOUNT, u->account_id,
                      account_state_next_due(e->state));
}

int stage_account_sales(stage_ctx_t *c, const stage_origin_t *origin, const hf_event_t *ev,
                        const void *raw, size_t len, bool direct)
{
    const char *account = ev->entity_id;
    if (!account || hf_id_blocked(account))
        return dlq_send(c, origin, "blocked_id", "account id is missing or blocked (%s%s%s)",
                        account ? "\"" : "", account ? account : "null", account ? "\"" : "");
    /* from sales.activity: to the account's stage-3 partition (the mailbox when this
     * process owns it, which it does for a record partitioned by murmur2) */
    if (direct)
        return stage_forward_input(c, ROLE_BY_ACCOUNT, account, raw, len);
    int r;
    cache_entry_t *e = stage_state_of(c, c->account_cache, origin, account, new_account, &r);
    if (!e)
        return r > 0 ? 0 : r;
    hf_sink_t sink;
    stage_digest_watch_t watch;
    if ((r = stage_digest_watch(c, &watch, HF_ENTITY_ACCOUNT, e->state)) < 0)
        return r;
    r = account_fold_sales(e->state, ev, stage_rules(c), stage_now_ms(c), outputs_sink(c, &sink));
    if (r < 0) {
        stage_digest_unwatch(&watch);
        return r;
    }
    int w = stage_digest_tell(c, &watch, HF_ENTITY_ACCOUNT, e->state, (int)ev->sales_action);
    if (w < 0)
        return w;
    if (r == ACCOUNT_FOLD_DUPLICATE) {
        c->ctr[M_DUPLICATES]++;
        return 0;
    }
    cache_entry_touch(e);
    int t = timers_set(c->timers, HF_ENTITY_ACCOUNT, account, account_state_next_due(e->state));
    if (t < 0)
        return t;
    if (r == ACCOUNT_FOLD_UNKNOWN_HANDOFF)
        return dlq_send(c, origin, "unknown_handoff",
                        "sales activity for account %s names handoff %s, which is none of "
                        "its handoffs (cycles 1..%u)",
                        account, ev->handoff_id, (unsigned)account_state_cycle(e->state));
    c->ctr[M_FEEDBACK]++;
    return 0;
}
