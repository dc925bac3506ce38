/* The case's fields of schemas/state/{Contact,Account}State.avsc ("sla"), written
 * and read inside the contact's and the account's state; and the contact's history of
 * its cycle's stages (stage_history_*). */
#include "sla.h"

#include <errno.h>
#include <stdlib.h>

#include "sla_priv.h"
#include "util/vec.h"

void sla_encode(binenc_writer_t *w, const sla_state_t *s)
{
    binenc_put_opt_string(w, s->handoff_id);
    binenc_put_long(w, s->handoff_at_ms);
    binenc_put_opt_string(w, s->calendar);
    binenc_put_opt_string(w, s->team);
    binenc_put_opt_string(w, s->rule);
    binenc_put_opt_string(w, s->source);
    binenc_put_opt_string(w, s->first_campaign);
    binenc_put_opt_string(w, s->last_campaign);
    binenc_put_opt_string(w, s->owner_id);
    binenc_put_array_start(w, HF_SLA__COUNT);
    for (int k = 0; k < HF_SLA__COUNT; k++) {
        binenc_put_long(w, s->clocks[k].deadline_ms);
        binenc_put_long(w, s->clocks[k].due_ms);
        binenc_put_int(w, s->clocks[k].level);
        binenc_put_bool(w, s->clocks[k].done);
    }
    binenc_put_array_end(w);
    binenc_put_int(w, s->attempts);
    binenc_put_long(w, s->no_response_due_ms);
    binenc_put_long(w, s->last_attempt_at_ms);
    binenc_put_bool(w, s->accepted);
    binenc_put_bool(w, s->touched);
    binenc_put_bool(w, s->recycled);
    binenc_put_long(w, s->recycled_at_ms);
    binenc_put_double(w, s->new_points);
    binenc_put_array_start(w, s->parked_count);
    for (size_t i = 0; i < s->parked_count; i++) {
        const sla_parked_t *p = &s->parked[i];
        binenc_put_opt_string(w, p->event_id);
        binenc_put_string(w, hf_sales_action_name(p->action));
        binenc_put_long(w, p->at_ms);
        binenc_put_opt_string(w, p->owner_id);
        binenc_put_opt_string(w, p->reason);
        binenc_put_opt_string(w, p->channel);
    }
    binenc_put_array_end(w);
}

void sla_decode(binenc_reader_t *r, sla_state_t *s)
{
    s->handoff_id = binenc_get_opt_string(r);
    s->handoff_at_ms = binenc_get_long(r);
    s->calendar = binenc_get_opt_string(r);
    s->team = binenc_get_opt_string(r);
    s->rule = binenc_get_opt_string(r);
    s->source = binenc_get_opt_string(r);
    s->first_campaign = binenc_get_opt_string(r);
    s->last_campaign = binenc_get_opt_string(r);
    s->owner_id = binenc_get_opt_string(r);
    size_t k = 0;
    for (size_t n = binenc_get_block(r); n && !r->err; n = binenc_get_block(r)) {
        for (size_t i = 0; i < n && !r->err; i++, k++) {
            sla_clock_t c = {0};
            c.deadline_ms = binenc_get_long(r);
            c.due_ms = binenc_get_long(r);
            c.level = binenc_get_int_range(r, 0, HF_SLA_ESCALATIONS_MAX + 1);
            c.done = binenc_get_bool(r);
            if (k < HF_SLA__COUNT)
                s->clocks[k] = c;
        }
    }
    if (k != HF_SLA__COUNT)
        binenc_fail(r);
    s->attempts = binenc_get_int_range(r, 0, INT32_MAX);
    s->no_response_due_ms = binenc_get_long(r);
    s->last_attempt_at_ms = binenc_get_long(r);
    s->accepted = binenc_get_bool(r);
    s->touched = binenc_get_bool(r);
    s->recycled = binenc_get_bool(r);
    s->recycled_at_ms = binenc_get_long(r);
    s->new_points = binenc_get_double(r);
    size_t cap = 0;
    for (size_t n = binenc_get_block(r); n && !r->err; n = binenc_get_block(r)) {
        sla_parked_t *grown = vec_grow(s->parked, &cap, s->parked_count + n, sizeof *grown);
        if (!grown) {
            r->err = -ENOMEM;
            return;
        }
        s->parked = grown;
        for (size_t i = 0; i < n && !r->err; i++) {
            sla_parked_t *p = &s->parked[s->parked_count++];
            *p = (sla_parked_t){0};
            p->event_id = binenc_get_opt_string(r);
            char *action = binenc_get_string(r);
            int act = hf_sales_action_parse(action);
            free(action);
            if (act < 0)
                binenc_fail(r);
            p->action = act < 0 ? HF_SALES_ACCEPTED : (hf_sales_action_t)act;
            p->at_ms = binenc_get_long(r);
            p->owner_id = binenc_get_opt_string(r);
            p->reason = binenc_get_opt_string(r);
            p->channel = binenc_get_opt_string(r);
        }
    }
}

/* ---- the history of the cycle's stages (ContactState version 4) ---- */

void sla_history_encode(binenc_writer_t *w, const sla_history_t *h)
{
    binenc_put_bool(w, h->complete);
    binenc_put_opt_long(w, h->has_since, h->since_ms);
    binenc_put_array_start(w, h->count);
    for (size_t i = 0; i < h->count; i++) {
        const sla_stage_entry_t *x = &h->entries[i];
        binenc_put_string(w, hf_stage_name(x->stage));
        binenc_put_long(w, x->at_ms);
        binenc_put_opt_string(w, x->sales ? hf_sales_action_name(x->action) : NULL);
        binenc_put_bool(w, x->ignored);
        binenc_put_opt_string(w, x->owner_id);
        binenc_put_opt_string(w, x->reason);
    }
    binenc_put_array_end(w);
}

void sla_history_decode(binenc_reader_t *r, sla_history_t *h)
{
    h->complete = binenc_get_bool(r);
    h->has_since = binenc_get_opt_long(r, &h->since_ms);
    for (size_t n = binenc_get_block(r); n && !r->err; n = binenc_get_block(r)) {
        if (n > SLA_HISTORY_MAX - h->count) {
            binenc_fail(r);
            return;
        }
        for (size_t i = 0; i < n && !r->err; i++) {
            sla_stage_entry_t *x = sla_history_slot(h);
            if (!x) {
                r->err = -ENOMEM;
                return;
            }
            char *stage = binenc_get_string(r);
            int st = hf_stage_parse(stage);
            free(stage);
            x->stage = st < 0 ? HF_STAGE_KNOWN : (hf_stage_t)st;
            x->at_ms = binenc_get_long(r);
            char *action = binenc_get_opt_string(r);
            int act = action ? hf_sales_action_parse(action) : -1;
            x->sales = action != NULL;
            x->action = act < 0 ? HF_SALES_ACCEPTED : (hf_sales_action_t)act;
            free(action);
            x->ignored = binenc_get_bool(r);
            x->owner_id = binenc_get_opt_string(r);
            x->reason = binenc_get_opt_string(r);
            /* only a sales answer has an answer's fields */
            if (st < 0 || (x->sales && act < 0) ||
                (!x->sales && (x->ignored || x->owner_id || x->reason)))
                binenc_fail(r);
        }
    }
}
