#include "stage_resolve.h"

#include "processors/identity/identity.h"
#include "dlq.h"

static void *new_anon(const char *id)
{
    (void)id;
    return anon_state_new();
}

/* Stage 1's output: the record under its contact id. */
static int forward_to_contact(void *opaque, const char *contact_id, const void *raw, size_t len)
{
    return stage_forward_input(opaque, ROLE_BY_CONTACT, contact_id, raw, len);
}

int stage_resolve(stage_ctx_t *c, const stage_origin_t *origin, const hf_event_t *ev,
                  const void *raw, size_t len)
{
    if (hf_id_blocked(ev->anonymous_id)) {
        /* No stitching on an id that means "unknown"; a record that also names its
         * contact still reaches the journey. */
        const char *contact = ev->contact_id;
        if (contact && !hf_id_blocked(contact))
            return forward_to_contact(c, contact, raw, len);
        return dlq_send(c, origin, "blocked_id", "anonymous_id is missing or blocked (%s%s%s)",
                        ev->anonymous_id ? "\"" : "", ev->anonymous_id ? ev->anonymous_id : "null",
                        ev->anonymous_id ? "\"" : "");
    }
    int r;
    cache_entry_t *e = stage_state_of(c, c->anon_cache, origin, ev->anonymous_id, new_anon, &r);
    if (!e)
        return r > 0 ? 0 : r;
    identity_sink_t sink = {c, forward_to_contact};
    identity_result_t res = {0};
    r = identity_fold(e->state, ev, raw, len, stage_rules(c), &sink, &res);
    if (r < 0)
        return r;
    cache_entry_touch(e);
    c->ctr[M_BUFFERED] += res.buffered;
    c->ctr[M_EVICTED] += res.evicted;
    c->ctr[M_IDENTIFIED] += res.identified;
    c->ctr[M_RELINKED] += res.relinked;
    return 0;
}
