/* The sample-traffic model of hf-gen; see model.h (what it makes) and internal.h
 * (how its files divide the work).  This file: the batch storage (an arena of
 * strings, the record vector), the records, and the batches: each person's
 * journey placed in time, then the batch merged by event time.
 *
 * Allocation failures are sticky: an out-of-memory arena or record vector sets
 * m->oom and hands out a scratch slot, so the scripts stay free of error checks;
 * gen_model_next_batch() reports -ENOMEM at the end of the batch. */
#include "model.h"

#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "tools/gen/rng.h"

#define ARENA_BLOCK_BYTES (256 * 1024)

struct gen_arena_block {
    struct gen_arena_block *next;
    size_t used;
    size_t cap;
    char data[];
};

static void *arena_alloc(gen_model_t *m, size_t n)
{
    n = (n + 7) & ~(size_t)7;
    gen_arena_block_t *b = m->arena_cur;
    while (b && b->used + n > b->cap)
        b = b->next;
    if (!b) {
        size_t cap = n > ARENA_BLOCK_BYTES ? n : ARENA_BLOCK_BYTES;
        b = malloc(sizeof(*b) + cap);
        if (!b) {
            m->oom = true;
            return NULL;
        }
        b->used = 0;
        b->cap = cap;
        /* Keep the chain in allocation order so a reset reuses every block. */
        if (m->arena_cur) {
            b->next = m->arena_cur->next;
            m->arena_cur->next = b;
        } else {
            b->next = NULL;
            m->arena_first = b;
        }
    }
    m->arena_cur = b;
    void *p = b->data + b->used;
    b->used += n;
    return p;
}

static void arena_reset(gen_model_t *m)
{
    for (gen_arena_block_t *b = m->arena_first; b; b = b->next)
        b->used = 0;
    m->arena_cur = m->arena_first;
}

const char *gen_model_printf(gen_model_t *m, const char *fmt, ...)
{
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    if (n < 0)
        return "";
    char *s = arena_alloc(m, (size_t)n + 1);
    if (!s)
        return "";
    if ((size_t)n < sizeof(small)) {
        memcpy(s, small, (size_t)n + 1);
    } else {
        va_start(ap, fmt);
        vsnprintf(s, (size_t)n + 1, fmt, ap);
        va_end(ap);
    }
    return s;
}

char *gen_model_strdup(gen_model_t *m, const char *src)
{
    size_t n = strlen(src);
    char *s = arena_alloc(m, n + 1);
    if (s)
        memcpy(s, src, n + 1);
    return s;
}

char *gen_model_filler(gen_model_t *m, size_t len, char c)
{
    char *s = arena_alloc(m, len + 1);
    if (s) {
        memset(s, c, len);
        s[len] = 0;
    }
    return s;
}

/* A random identifier shaped like a UUID (trackers' event and cookie ids). */
const char *gen_model_uuid(gen_model_t *m, gen_rng_t *r)
{
    uint64_t a = gen_rng_next(r), b = gen_rng_next(r);
    return gen_model_printf(m, "%08x-%04x-4%03x-%04x-%012llx", (unsigned)(a >> 32),
                            (unsigned)((a >> 16) & 0xffff), (unsigned)(a & 0xfff),
                            (unsigned)(0x8000 | ((b >> 48) & 0x3fff)),
                            (unsigned long long)(b & 0xffffffffffffULL));
}

const char *gen_model_hex_id(gen_model_t *m, gen_rng_t *r, const char *prefix)
{
    return gen_model_printf(m, "%s%012llx", prefix,
                            (unsigned long long)(gen_rng_next(r) & 0xffffffffffffULL));
}

void gen_model_slug_append(char *dst, size_t dstsz, const char *word)
{
    size_t n = strlen(dst);
    for (const char *c = word; *c && n + 1 < dstsz; c++) {
        char ch = *c;
        if (ch >= 'A' && ch <= 'Z')
            ch = (char)(ch - 'A' + 'a');
        dst[n++] = ch == ' ' ? '-' : ch;
    }
    dst[n] = 0;
}

gen_record_t *gen_model_emit(gen_model_t *m, gen_person_t *p, hf_event_kind_t kind,
                             const char *source)
{
    gen_record_t *r = &m->scratch;
    if (m->rec_count == m->rec_cap) {
        size_t cap = m->rec_cap ? m->rec_cap * 2 : 4096;
        gen_record_t *grown = realloc(m->recs, cap * sizeof(*grown));
        if (!grown)
            m->oom = true;
        else {
            m->recs = grown;
            m->rec_cap = cap;
        }
    }
    if (m->rec_count < m->rec_cap)
        r = &m->recs[m->rec_count++];
    memset(r, 0, sizeof(*r));
    r->ev.kind = kind;
    r->ev.event_id = gen_model_uuid(m, &p->rng);
    r->ev.occurred_at_ms = p->t_ms;
    r->ev.source = source;
    r->person = p->index;
    r->seq = p->seq++;
    return r;
}

/* Places person @person's journey (relative times from 0, @journey_ms long, its
 * records from @first_rec on) in [start, start + span]:
 * journeys start in person order, so the stream as a whole moves forward in time;
 * a journey longer than the span is compressed into it. */
static void place_journey(gen_model_t *m, uint32_t person, int64_t journey_ms, size_t first_rec)
{
    assert(person < m->opts.contacts && first_rec <= m->rec_count);
    int64_t length_ms = journey_ms > 0 ? journey_ms : 0;
    int64_t span_ms = m->opts.span_ms;
    double scale = length_ms > span_ms && length_ms > 0 ? (double)span_ms / (double)length_ms : 1.0;
    int64_t scaled_ms = (int64_t)((double)length_ms * scale);
    int64_t room_ms = scaled_ms < span_ms ? span_ms - scaled_ms : 0;
    gen_rng_t r;
    gen_rng_seed(&r, m->opts.seed, GEN_RNG_PLACE, person);
    double where = ((double)person + gen_rng_unit(&r)) / (double)m->opts.contacts;
    int64_t start_ms = m->opts.start_ms + (int64_t)(where * (double)room_ms);
    for (size_t i = first_rec; i < m->rec_count; i++) {
        hf_event_t *ev = &m->recs[i].ev;
        ev->occurred_at_ms = start_ms + (int64_t)((double)ev->occurred_at_ms * scale);
    }
}

static int record_cmp(const void *a, const void *b)
{
    const gen_record_t *x = a, *y = b;
    if (x->ev.occurred_at_ms != y->ev.occurred_at_ms)
        return x->ev.occurred_at_ms < y->ev.occurred_at_ms ? -1 : 1;
    if (x->person != y->person)
        return x->person < y->person ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

int gen_model_next_batch(gen_model_t *m, uint32_t max_people, const gen_record_t **recs,
                         size_t *count)
{
    arena_reset(m);
    m->rec_count = 0;
    uint32_t end = m->next_person + max_people;
    if (end > m->opts.contacts || end < m->next_person)
        end = m->opts.contacts;
    for (uint32_t i = m->next_person; i < end; i++) {
        size_t first_rec = m->rec_count;
        int64_t journey_ms = gen_persona_run(m, i);
        place_journey(m, i, journey_ms, first_rec);
    }
    m->next_person = end;
    if (m->oom)
        return -ENOMEM;
    qsort(m->recs, m->rec_count, sizeof(*m->recs), record_cmp);
    *recs = m->recs;
    *count = m->rec_count;
    return 0;
}

void gen_model_get_stats(const gen_model_t *m, gen_model_stats_t *stats)
{
    *stats = m->stats;
}

int gen_model_new(gen_model_t **out, const gen_model_opts_t *opts)
{
    if (opts->contacts == 0 || opts->accounts == 0 || opts->span_ms < 0)
        return -EINVAL;
    gen_model_t *m = calloc(1, sizeof(*m));
    if (!m)
        return -ENOMEM;
    m->opts = *opts;
    gen_rng_seed(&m->walk_rng, opts->seed, GEN_RNG_WALK, 0);
    m->walk_account = opts->accounts - 1; /* the first step moves to account 0 */
    *out = m;
    return 0;
}

void gen_model_free(gen_model_t *m)
{
    if (!m)
        return;
    gen_arena_block_t *b = m->arena_first;
    while (b) {
        gen_arena_block_t *next = b->next;
        free(b);
        b = next;
    }
    free(m->recs);
    free(m);
}
