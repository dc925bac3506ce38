#include "pgroup.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* A ring buffer of (record, event time). */
typedef struct ring {
    void **records; /* NULL for rings of times only */
    int64_t *ts;
    size_t head, count, cap;
} ring_t;

typedef struct queue {
    ring_t buffered;
    int64_t last_ts; /* time of the newest record seen on the queue */
    bool seen;
    bool lagging;          /* empty with records on the broker: holds back, however long */
    bool skipped;          /* caught up and idle long enough: not holding back until news */
    int64_t waiting_since; /* monotonic ms since it holds the group back; 0 = not */
    int64_t key;
    int heap_pos; /* -1: not in the heap */
} queue_t;

struct pgroup {
    queue_t *queues;
    size_t queue_count;
    int *heap; /* queue indices, min-heap on (key, index) */
    size_t heap_len;
    size_t total;
    int64_t idle_timeout_ms;
    pgroup_lag_fn lag;
    void *opaque;
};

static int ring_push(ring_t *r, void *record, int64_t ts, bool with_records)
{
    if (r->count == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 64;
        int64_t *ts_new = malloc(cap * sizeof(*ts_new));
        void **rec_new = with_records ? malloc(cap * sizeof(*rec_new)) : NULL;
        if (!ts_new || (with_records && !rec_new)) {
            free(ts_new);
            free(rec_new);
            return -ENOMEM;
        }
        for (size_t i = 0; i < r->count; i++) {
            size_t from = (r->head + i) % (r->cap ? r->cap : 1);
            ts_new[i] = r->ts[from];
            if (with_records)
                rec_new[i] = r->records[from];
        }
        free(r->ts);
        free(r->records);
        r->ts = ts_new;
        r->records = rec_new;
        r->head = 0;
        r->cap = cap;
    }
    size_t at = (r->head + r->count) % r->cap;
    r->ts[at] = ts;
    if (with_records)
        r->records[at] = record;
    r->count++;
    return 0;
}

static void ring_pop(ring_t *r)
{
    r->head = (r->head + 1) % r->cap;
    r->count--;
}

static void ring_free(ring_t *r)
{
    free(r->ts);
    free(r->records);
    memset(r, 0, sizeof(*r));
}

/* ---- the heap ---------------------------------------------------------------- */

static bool heap_less(const pgroup_t *g, int a, int b)
{
    const queue_t *qa = &g->queues[a], *qb = &g->queues[b];
    return qa->key < qb->key || (qa->key == qb->key && a < b);
}

static void heap_swap(pgroup_t *g, size_t i, size_t j)
{
    int t = g->heap[i];
    g->heap[i] = g->heap[j];
    g->heap[j] = t;
    g->queues[g->heap[i]].heap_pos = (int)i;
    g->queues[g->heap[j]].heap_pos = (int)j;
}

static void sift_up(pgroup_t *g, size_t i)
{
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!heap_less(g, g->heap[i], g->heap[parent]))
            break;
        heap_swap(g, i, parent);
        i = parent;
    }
}

static void sift_down(pgroup_t *g, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < g->heap_len && heap_less(g, g->heap[l], g->heap[m]))
            m = l;
        if (r < g->heap_len && heap_less(g, g->heap[r], g->heap[m]))
            m = r;
        if (m == i)
            return;
        heap_swap(g, i, m);
        i = m;
    }
}

static void heap_remove(pgroup_t *g, queue_t *q)
{
    size_t i = (size_t)q->heap_pos;
    size_t last = g->heap_len - 1;
    if (i != last) {
        heap_swap(g, i, last);
        g->heap_len--;
        q->heap_pos = -1;
        sift_down(g, i);
        sift_up(g, i);
    } else {
        g->heap_len--;
        q->heap_pos = -1;
    }
}

/* Puts queue @qi where its state says: in the heap with its current key, or out.
 * An empty queue is a member while its next record could be the oldest: always
 * while it lags (it has records on the broker not fetched yet), and for the idle
 * timeout once it is caught up.  A queue that starts holding the others back starts
 * its waiting clock at @now_ms, so that all queues blocked at once time out
 * together, not one after another. */
static void queue_update(pgroup_t *g, size_t qi, int64_t now_ms)
{
    queue_t *q = &g->queues[qi];
    bool member = true;
    int64_t key = 0;
    q->lagging = false;
    if (q->buffered.count) {
        key = q->buffered.ts[q->buffered.head];
    } else if (g->lag && g->lag(g->opaque, qi)) {
        q->lagging = true;
        q->skipped = false;
        key = q->seen ? q->last_ts : INT64_MIN;
    } else if (!q->skipped && g->idle_timeout_ms > 0) {
        key = q->seen ? q->last_ts : INT64_MIN;
    } else {
        member = false;
    }
    if (!member) {
        q->waiting_since = 0;
        if (q->heap_pos >= 0)
            heap_remove(g, q);
        return;
    }
    if (!q->buffered.count && !q->waiting_since)
        q->waiting_since = now_ms ? now_ms : 1;
    if (q->heap_pos < 0) {
        q->key = key;
        q->heap_pos = (int)g->heap_len;
        g->heap[g->heap_len++] = (int)qi;
        sift_up(g, (size_t)q->heap_pos);
    } else if (key != q->key) {
        q->key = key;
        sift_up(g, (size_t)q->heap_pos);
        sift_down(g, (size_t)q->heap_pos);
    }
}

/* ---- API ------------------------------------------------------------------- */

pgroup_t *pgroup_new(size_t queue_count, int64_t idle_timeout_ms, pgroup_lag_fn lag, void *opaque)
{
    pgroup_t *g = calloc(1, sizeof(*g));
    if (!g)
        return NULL;
    g->queues = calloc(queue_count ? queue_count : 1, sizeof(*g->queues));
    g->heap = calloc(queue_count ? queue_count : 1, sizeof(*g->heap));
    if (!g->queues || !g->heap) {
        free(g->queues);
        free(g->heap);
        free(g);
        return NULL;
    }
    g->queue_count = queue_count;
    g->idle_timeout_ms = idle_timeout_ms;
    g->lag = lag;
    g->opaque = opaque;
    for (size_t i = 0; i < queue_count; i++)
        g->queues[i].heap_pos = -1;
    return g;
}

int pgroup_push(pgroup_t *g, size_t qi, void *record, int64_t ts_ms)
{
    queue_t *q = &g->queues[qi];
    int r = ring_push(&q->buffered, record, ts_ms, true);
    if (r < 0)
        return r;
    g->total++;
    if (!q->seen || ts_ms > q->last_ts)
        q->last_ts = ts_ms;
    q->seen = true;
    q->skipped = false;
    q->waiting_since = 0;
    if (q->buffered.count == 1)
        queue_update(g, qi, 0);
    return 0;
}

pgroup_next_result_t pgroup_next(pgroup_t *g, int64_t now_ms, void **record, size_t *qi_out)
{
    while (g->heap_len) {
        size_t qi = (size_t)g->heap[0];
        queue_t *q = &g->queues[qi];
        if (q->buffered.count) {
            *record = q->buffered.records[q->buffered.head];
            *qi_out = qi;
            ring_pop(&q->buffered);
            g->total--;
            queue_update(g, qi, now_ms);
            return PGROUP_READY;
        }
        /* The oldest record may be the one this queue is waiting for: while it lags,
         * it will come, however long the fetch takes; a caught-up queue is passed
         * over once it has been idle for the timeout. */
        if (q->lagging || now_ms - q->waiting_since < g->idle_timeout_ms)
            return PGROUP_WAIT;
        q->skipped = true;
        queue_update(g, qi, now_ms);
    }
    return PGROUP_EMPTY;
}

long pgroup_waiting_on(const pgroup_t *g)
{
    return g->heap_len ? g->heap[0] : -1;
}

void pgroup_refresh(pgroup_t *g, int64_t now_ms)
{
    for (size_t i = 0; i < g->queue_count; i++)
        if (g->queues[i].buffered.count == 0)
            queue_update(g, i, now_ms);
}

size_t pgroup_queue_len(const pgroup_t *g, size_t qi)
{
    return g->queues[qi].buffered.count;
}

size_t pgroup_total(const pgroup_t *g)
{
    return g->total;
}

void pgroup_clear(pgroup_t *g, void (*free_record)(void *))
{
    for (size_t i = 0; i < g->queue_count; i++) {
        queue_t *q = &g->queues[i];
        while (q->buffered.count) {
            if (free_record)
                free_record(q->buffered.records[q->buffered.head]);
            ring_pop(&q->buffered);
        }
        q->seen = false;
        q->lagging = false;
        q->skipped = false;
        q->waiting_since = 0;
        q->heap_pos = -1;
    }
    g->heap_len = 0;
    g->total = 0;
}

void pgroup_free(pgroup_t *g, void (*free_record)(void *))
{
    if (!g)
        return;
    pgroup_clear(g, free_record);
    for (size_t i = 0; i < g->queue_count; i++) {
        ring_free(&g->queues[i].buffered);
    }
    free(g->queues);
    free(g->heap);
    free(g);
}
