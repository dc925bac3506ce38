#include "identity.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/binenc.h"
#include "util/timespan.h"
#include "util/vec.h"

#define ANON_STATE_SCHEMA_VERSION 1

/* A record seen while the anonymous id was unknown. */
typedef struct anon_record {
    int64_t occurred_at_ms;
    uint8_t *raw; /* owned copy of the original record bytes */
    size_t raw_len;
    size_t arrival; /* position in arrival order, for a stable sort; not stored */
} anon_record_t;

struct anon_state {
    char *contact_id; /* NULL until an identify names one */
    bool seen;        /* first_seen_ms / last_seen_ms are set */
    int64_t first_seen_ms;
    int64_t last_seen_ms;
    anon_record_t *records; /* in arrival order */
    size_t record_count;
    size_t record_cap;
};

anon_state_t *anon_state_new(void)
{
    return calloc(1, sizeof(anon_state_t));
}

static void records_clear(anon_state_t *s)
{
    for (size_t i = 0; i < s->record_count; i++)
        free(s->records[i].raw);
    s->record_count = 0;
}

void anon_state_free(anon_state_t *s)
{
    if (!s)
        return;
    records_clear(s);
    free(s->records);
    free(s->contact_id);
    free(s);
}

const char *anon_state_contact(const anon_state_t *s)
{
    return s->contact_id;
}

size_t anon_state_buffered(const anon_state_t *s)
{
    return s->record_count;
}

/* Appends a copy of @raw.  Returns 0 or -ENOMEM (state unchanged). */
static int records_push(anon_state_t *s, int64_t at_ms, const void *raw, size_t raw_len)
{
    anon_record_t *grown =
        vec_grow(s->records, &s->record_cap, s->record_count + 1, sizeof *s->records);
    if (!grown)
        return -ENOMEM;
    s->records = grown;
    uint8_t *copy = malloc(raw_len ? raw_len : 1);
    if (!copy)
        return -ENOMEM;
    if (raw_len)
        memcpy(copy, raw, raw_len);
    s->records[s->record_count++] = (anon_record_t){at_ms, copy, raw_len, 0};
    return 0;
}

/* Drops what the bounds do not allow, keeping arrival order: first records older than
 * the newest by more than stitching.max_age_ms, then the oldest (ties: earliest arrival)
 * while over stitching.max_events.  Returns how many were dropped. */
static uint32_t records_evict(anon_state_t *s, const hf_rules_t *rules)
{
    uint32_t evicted = 0;
    if (!s->record_count)
        return 0;
    if (rules->stitching.max_age_ms > 0) {
        int64_t newest = s->records[0].occurred_at_ms;
        for (size_t i = 1; i < s->record_count; i++)
            if (s->records[i].occurred_at_ms > newest)
                newest = s->records[i].occurred_at_ms;
        size_t kept = 0;
        for (size_t i = 0; i < s->record_count; i++) {
            anon_record_t *rec = &s->records[i];
            if (timespan_older_than(rec->occurred_at_ms, newest, rules->stitching.max_age_ms)) {
                free(rec->raw);
                evicted++;
            } else {
                s->records[kept++] = *rec;
            }
        }
        s->record_count = kept;
    }
    while (s->record_count > rules->stitching.max_events) {
        size_t oldest = 0;
        for (size_t i = 1; i < s->record_count; i++)
            if (s->records[i].occurred_at_ms < s->records[oldest].occurred_at_ms)
                oldest = i;
        free(s->records[oldest].raw);
        vec_remove(s->records, s->record_count, oldest, sizeof *s->records);
        s->record_count--;
        evicted++;
    }
    return evicted;
}

static int record_cmp(const void *a, const void *b)
{
    const anon_record_t *x = a, *y = b;
    if (x->occurred_at_ms != y->occurred_at_ms)
        return x->occurred_at_ms < y->occurred_at_ms ? -1 : 1;
    return x->arrival < y->arrival ? -1 : x->arrival > y->arrival;
}

static int forward(const identity_sink_t *sink, const char *contact_id, const void *raw,
                   size_t raw_len, identity_result_t *res)
{
    int r = sink->forward(sink->opaque, contact_id, raw, raw_len);
    if (r == 0)
        res->forwarded++;
    return r;
}

/* The anonymous id is identified as @contact_id: replays the buffer in event-time
 * order (stable), then clears it.  On a sink error the buffer is kept. */
static int replay_buffer(anon_state_t *s, const char *contact_id, const identity_sink_t *sink,
                         identity_result_t *res)
{
    for (size_t i = 0; i < s->record_count; i++)
        s->records[i].arrival = i;
    /* sorting only reorders the buffer; a failed replay leaves it sorted, which is as
     * good as arrival order for every later use */
    if (s->record_count > 1)
        qsort(s->records, s->record_count, sizeof *s->records, record_cmp);
    for (size_t i = 0; i < s->record_count; i++) {
        int r = forward(sink, contact_id, s->records[i].raw, s->records[i].raw_len, res);
        if (r < 0)
            return r;
    }
    records_clear(s);
    return 0;
}

int identity_fold(anon_state_t *s, const hf_event_t *ev, const void *raw, size_t raw_len,
                  const hf_rules_t *rules, const identity_sink_t *sink, identity_result_t *result)
{
    identity_result_t res = {0};
    int r = 0;
    if (hf_id_blocked(ev->anonymous_id)) {
        r = -EINVAL;
        goto out;
    }

    int64_t t = ev->occurred_at_ms;
    if (!s->seen || t < s->first_seen_ms)
        s->first_seen_ms = t;
    if (!s->seen || t > s->last_seen_ms)
        s->last_seen_ms = t;
    s->seen = true;

    const char *named = hf_id_blocked(ev->contact_id) ? NULL : ev->contact_id;
    if (named) {
        if (!s->contact_id || strcmp(s->contact_id, named) != 0) {
            char *copy = strdup(named);
            if (!copy) {
                r = -ENOMEM;
                goto out;
            }
            if (!s->contact_id) {
                r = replay_buffer(s, named, sink, &res);
                if (r < 0) {
                    free(copy);
                    goto out;
                }
                res.identified = true;
            } else {
                /* a later identify names someone else: the newest one wins */
                res.relinked = 1;
            }
            free(s->contact_id);
            s->contact_id = copy;
        }
        r = forward(sink, s->contact_id, raw, raw_len, &res);
    } else if (s->contact_id) {
        r = forward(sink, s->contact_id, raw, raw_len, &res);
    } else {
        r = records_push(s, t, raw, raw_len);
        if (r < 0)
            goto out;
        res.buffered = 1;
        res.evicted = records_evict(s, rules);
    }
out:
    if (result)
        *result = res;
    return r;
}

int anon_state_encode(const anon_state_t *s, hf_buf_t *out)
{
    binenc_writer_t w = BINENC_WRITER(out);
    binenc_put_int(&w, ANON_STATE_SCHEMA_VERSION);
    binenc_put_opt_string(&w, s->contact_id);
    binenc_put_opt_long(&w, s->seen, s->first_seen_ms);
    binenc_put_opt_long(&w, s->seen, s->last_seen_ms);
    binenc_put_array_start(&w, s->record_count);
    for (size_t i = 0; i < s->record_count; i++) {
        binenc_put_long(&w, s->records[i].occurred_at_ms);
        binenc_put_bytes(&w, s->records[i].raw, s->records[i].raw_len);
    }
    binenc_put_array_end(&w);
    return binenc_writer_end(&w);
}

int anon_state_decode(anon_state_t **out, const void *buf, size_t len)
{
    binenc_reader_t r;
    binenc_reader_init(&r, buf, len);
    anon_state_t *s = anon_state_new();
    if (!s)
        return -ENOMEM;

    if (binenc_get_int(&r) != ANON_STATE_SCHEMA_VERSION)
        binenc_fail(&r);
    s->contact_id = binenc_get_opt_string(&r);
    if (s->contact_id && hf_id_blocked(s->contact_id))
        binenc_fail(&r);
    bool has_first = binenc_get_opt_long(&r, &s->first_seen_ms);
    bool has_last = binenc_get_opt_long(&r, &s->last_seen_ms);
    if (has_first != has_last || (has_first && s->first_seen_ms > s->last_seen_ms))
        binenc_fail(&r);
    s->seen = has_first;
    for (size_t n = binenc_get_block(&r); n; n = binenc_get_block(&r)) {
        for (size_t i = 0; i < n && !r.err; i++) {
            int64_t at = binenc_get_long(&r);
            size_t raw_len;
            const uint8_t *raw = binenc_get_bytes(&r, &raw_len);
            if (r.err)
                break;
            int pr = records_push(s, at, raw, raw_len);
            if (pr < 0)
                r.err = pr;
        }
    }
    /* an identified id keeps no buffer, and records imply a first/last seen */
    if ((s->contact_id || !s->seen) && s->record_count)
        binenc_fail(&r);
    int err = binenc_reader_end(&r);
    if (err) {
        anon_state_free(s);
        return err;
    }
    *out = s;
    return 0;
}
