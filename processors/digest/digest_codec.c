/* A team's digest state in the store (schemas/state/TeamState.avsc). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "digest.h"

static void put_case(binenc_writer_t *w, const void *item)
{
    const digest_case_t *c = item;
    binenc_put_string(w, c->handoff_id);
    binenc_put_string(w, hf_entity_type_name(c->entity_type));
    binenc_put_string(w, c->entity_id);
    binenc_put_opt_string(w, c->owner_id);
    binenc_put_int(w, (int32_t)c->status);
    binenc_put_opt_string(w, c->reason);
    binenc_put_array_start(w, c->interest_count);
    for (uint32_t i = 0; i < c->interest_count; i++)
        binenc_put_string(w, c->interests[i]);
    binenc_put_array_end(w);
    binenc_put_long(w, c->at_ms);
    binenc_put_long(w, c->handed_off_at_ms);
    binenc_put_long(w, c->next_deadline_ms);
    binenc_put_long(w, c->accepted_at_ms);
    binenc_put_long(w, c->touched_at_ms);
    binenc_put_long(w, c->closed_at_ms);
    binenc_put_array_start(w, HF_SLA__COUNT);
    for (int k = 0; k < HF_SLA__COUNT; k++)
        binenc_put_int(w, c->breach_level[k]);
    binenc_put_array_end(w);
    binenc_put_bool(w, c->counted_sla);
    binenc_put_bool(w, c->counted_accept);
    binenc_put_bool(w, c->counted_touch);
}

static void put_mark(binenc_writer_t *w, const void *item)
{
    const digest_mark_t *m = item;
    binenc_put_int(w, (int32_t)m->kind);
    binenc_put_string(w, m->handoff_id);
    binenc_put_string(w, m->entity_id);
    binenc_put_opt_string(w, m->owner_id);
    binenc_put_int(w, m->sla);
    binenc_put_int(w, m->level);
    binenc_put_long(w, m->at_ms);
}

static void put_samples(binenc_writer_t *w, const int64_t *ring, uint32_t n)
{
    uint32_t k = n < DIGEST_SAMPLES ? n : DIGEST_SAMPLES;
    binenc_put_array_start(w, k);
    for (uint32_t i = 0; i < k; i++)
        binenc_put_long(w, ring[i]);
    binenc_put_array_end(w);
    binenc_put_long(w, n);
}

static void put_owner(binenc_writer_t *w, const void *item)
{
    const digest_owner_t *o = item;
    binenc_put_string(w, o->owner_id);
    binenc_put_int(w, (int32_t)o->met);
    binenc_put_int(w, (int32_t)o->breached);
    put_samples(w, o->accept_ms, o->accept_n);
    put_samples(w, o->touch_ms, o->touch_n);
}

int digest_team_encode(const digest_team_t *t, binenc_writer_t *w)
{
    binenc_put_int(w, DIGEST_STATE_VERSION);
    binenc_put_string(w, t->team);
    binenc_put_array(w, t->cases, t->case_count, sizeof *t->cases, put_case);
    binenc_put_array(w, t->marks, t->mark_count, sizeof *t->marks, put_mark);
    binenc_put_array(w, t->owners, t->owner_count, sizeof *t->owners, put_owner);
    binenc_put_long(w, t->next_at_ms);
    binenc_put_long(w, t->last_day);
    binenc_put_long(w, t->last_at_ms);
    binenc_put_long(w, (int64_t)t->dropped);
    return binenc_writer_end(w);
}

static int64_t get_time(binenc_reader_t *r)
{
    int64_t v = binenc_get_long(r);
    if (v < 0)
        binenc_fail(r);
    return v;
}

static void read_case(binenc_reader_t *r, void *item)
{
    digest_case_t *c = item;
    c->handoff_id = binenc_get_string(r);
    char *type = binenc_get_string(r);
    if (type && strcmp(type, "account") == 0)
        c->entity_type = HF_ENTITY_ACCOUNT;
    else if (type && strcmp(type, "contact") != 0)
        binenc_fail(r);
    free(type);
    c->entity_id = binenc_get_string(r);
    c->owner_id = binenc_get_opt_string(r);
    c->status = (digest_status_t)binenc_get_int_range(r, 0, DIGEST__STATUS_COUNT - 1);
    c->reason = binenc_get_opt_string(r);
    for (size_t n; !r->err && (n = binenc_get_block(r)) > 0;)
        for (size_t i = 0; i < n && !r->err; i++) {
            char *s = binenc_get_string(r);
            if (c->interest_count < DIGEST_INTERESTS)
                c->interests[c->interest_count++] = s;
            else {
                free(s);
                binenc_fail(r);
            }
        }
    c->at_ms = get_time(r);
    c->handed_off_at_ms = get_time(r);
    c->next_deadline_ms = get_time(r);
    c->accepted_at_ms = get_time(r);
    c->touched_at_ms = get_time(r);
    c->closed_at_ms = get_time(r);
    size_t k = 0;
    for (size_t n; !r->err && (n = binenc_get_block(r)) > 0;)
        for (size_t i = 0; i < n && !r->err; i++, k++) {
            int32_t level = binenc_get_int_range(r, 0, INT32_MAX);
            if (k < HF_SLA__COUNT)
                c->breach_level[k] = level;
        }
    if (k != HF_SLA__COUNT)
        binenc_fail(r);
    c->counted_sla = binenc_get_bool(r);
    c->counted_accept = binenc_get_bool(r);
    c->counted_touch = binenc_get_bool(r);
}

static void read_mark(binenc_reader_t *r, void *item)
{
    digest_mark_t *m = item;
    m->kind = (digest_mark_kind_t)binenc_get_int_range(r, 0, DIGEST_MARK_LOST);
    m->handoff_id = binenc_get_string(r);
    m->entity_id = binenc_get_string(r);
    m->owner_id = binenc_get_opt_string(r);
    m->sla = binenc_get_int_range(r, -1, HF_SLA__COUNT - 1);
    m->level = binenc_get_int_range(r, 0, INT32_MAX);
    m->at_ms = get_time(r);
}

static void read_samples(binenc_reader_t *r, int64_t *ring, uint32_t *n)
{
    size_t k = 0;
    for (size_t b; !r->err && (b = binenc_get_block(r)) > 0;)
        for (size_t i = 0; i < b && !r->err; i++, k++) {
            int64_t v = get_time(r);
            if (k < DIGEST_SAMPLES)
                ring[k] = v;
            else
                binenc_fail(r);
        }
    int64_t total = binenc_get_long(r);
    if (total < (int64_t)k || total > UINT32_MAX || (k < DIGEST_SAMPLES && total != (int64_t)k))
        binenc_fail(r);
    *n = (uint32_t)(total < 0 ? 0 : total);
}

static void read_owner(binenc_reader_t *r, void *item)
{
    digest_owner_t *o = item;
    o->owner_id = binenc_get_string(r);
    o->met = (uint32_t)binenc_get_int_range(r, 0, INT32_MAX);
    o->breached = (uint32_t)binenc_get_int_range(r, 0, INT32_MAX);
    read_samples(r, o->accept_ms, &o->accept_n);
    read_samples(r, o->touch_ms, &o->touch_n);
}

int digest_team_decode(digest_team_t **out, const void *buf, size_t len)
{
    binenc_reader_t r;
    binenc_reader_init(&r, buf, len);
    digest_team_t *t = calloc(1, sizeof *t);
    if (!t)
        return -ENOMEM;
    int32_t version = binenc_get_int(&r);
    if (version != DIGEST_STATE_VERSION)
        binenc_fail(&r);
    t->team = binenc_get_string(&r);
    binenc_get_array(&r, (void **)&t->cases, &t->case_count, sizeof *t->cases, read_case);
    binenc_get_array(&r, (void **)&t->marks, &t->mark_count, sizeof *t->marks, read_mark);
    binenc_get_array(&r, (void **)&t->owners, &t->owner_count, sizeof *t->owners, read_owner);
    if (t->case_count > DIGEST_CASES_MAX || t->mark_count > DIGEST_MARKS_MAX ||
        t->owner_count > DIGEST_OWNERS_MAX)
        binenc_fail(&r);
    t->next_at_ms = get_time(&r);
    t->last_day = binenc_get_long(&r);
    if (t->last_day < -1)
        binenc_fail(&r);
    t->last_at_ms = get_time(&r);
    t->dropped = (uint64_t)get_time(&r);
    int err = binenc_reader_end(&r);
    if (err || !t->team) {
        digest_team_free(t);
        return err ? err : BINENC_CORRUPT;
    }
    *out = t;
    return 0;
}
