#include "pgroup.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* A ring buffer of (record, event time, key, arrival). */
typedef struct ring {
    void **records;
    int64_t *ts;
    int64_t *keys;
    int64_t *arrived; /* monotonic ms it was pushed */
    size_t head, count, cap;
} ring_t;

/* Where an empty or non-empty queue stands (pgroup.h). */
typedef enum queue_set {
    SET_BUFFERED,  /* has records: competes with its head */
    SET_LAGGING,   /* empty, records on the broker: holds back, however long */
    SET_CAUGHT_UP, /* empty, caught up, not idle yet: holds back the newest records */
    SET_IDLE,      /* empty, caught up for the idle timeout: holds back nothing */
    SET__COUNT,
} queue_set_t;

#define HEAPS SET_IDLE /* the sets kept as heaps */

typedef struct queue {
    ring_t buffered;
    int64_t partition_time; /* newest event time pushed (INT64_MIN: none) */
    int64_t released_key;   /* key of the last record handed out (INT64_MIN: none) */
    int64_t idle_since;     /* monotonic ms it ran dry caught up (SET_CAUGHT_UP) */
    int64_t key;            /* its key in its heap */
    queue_set_t set;
    int heap_pos;
} queue_t;

typedef struct heap {
    int *items; /* queue indices, min-heap on (key, index) */
    size_t len;
} heap_t;

struct pgroup {
    queue_t *queues;
    size_t queue_count;
    heap_t heaps[HEAPS];
    size_t total;
    int64_t stream_time; /* largest key released */
    long stream_queue;   /* the queue it came from last (-1: none, or restored) */
    long waiting_on;
    pgroup_opts_t opts;
    pgroup_lag_fn lag;
    void *opaque;
};

/* @a - @b for @b >= 0, saturating at INT64_MIN. */
static int64_t sat_sub(int64_t a, int64_t b)
{
    return a < INT64_MIN + b ? INT64_MIN : a - b;
}

/* @a (of @n elements of @size, starting at @head of a ring of @cap) copied to the
 * start of a new array of @new_cap; NULL on out of memory. */
static void *ring_regrow(const void *a, size_t size, size_t head, size_t n, size_t cap,
                         size_t new_cap)
{
    char *out = malloc(new_cap * size);
    if (!out)
        return NULL;
    for (size_t i = 0; i < n; i++)
        memcpy(out + i * size, (const char *)a + ((head + i) % cap) * size, size);
    return out;
}

static int ring_push(ring_t *r, void *record, int64_t ts, int64_t key, int64_t arrived)
{
    if (r->count == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 64;
        int64_t *ts_new = ring_regrow(r->ts, sizeof(int64_t), r->head, r->count, r->cap, cap);
        int64_t *keys_new = ring_regrow(r->keys, sizeof(int64_t), r->head, r->count, r->cap, cap);
        int64_t *arr_new = ring_regrow(r->arrived, sizeof(int64_t), r->head, r->count, r->cap, cap);
        void **rec_new = ring_regrow(r->records, sizeof(void *), r->head, r->count, r->cap, cap);
        if (!ts_new || !keys_new || !arr_new || !rec_new) {
            free(ts_new);
            free(keys_new);
            free(arr_new);
            free(rec_new);
            return -ENOMEM;
        }
        free(r->ts);
        free(r->keys);
        free(r->arrived);
        free(r->records);
        r->ts = ts_new;
        r->keys = keys_new;
        r->arrived = arr_new;
        r->records = rec_new;
        r->head = 0;
        r->cap = cap;
    }
    size_t at = (r->head + r->count) % r->cap;
    r->ts[at] = ts;
    r->keys[at] = key;
    r->arrived[at] = arrived;
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
    free(r->keys);
    free(r->arrived);
    free(r->records);
    memset(r, 0, sizeof(*r));
}

/* ---- the heaps -------------------------------------------------------------- */

static bool queue_less(const pgroup_t *g, int a, int b)
{
    const queue_t *qa = &g->queues[a], *qb = &g->queues[b];
    return qa->key < qb->key || (qa->key == qb->key && a < b);
}

static void heap_swap(pgroup_t *g, heap_t *h, size_t i, size_t j)
{
    int t = h->items[i];
    h->items[i] = h->items[j];
    h->items[j] = t;
    g->queues[h->items[i]].heap_pos = (int)i;
    g->queues[h->items[j]].heap_pos = (int)j;
}

static void sift_up(pgroup_t *g, heap_t *h, size_t i)
{
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!queue_less(g, h->items[i], h->items[parent]))
            break;
        heap_swap(g, h, i, parent);
        i = parent;
    }
}

static void sift_down(pgroup_t *g, heap_t *h, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < h->len && queue_less(g, h->items[l], h->items[m]))
            m = l;
        if (r < h->len && queue_less(g, h->items[r], h->items[m]))
            m = r;
        if (m == i)
            return;
        heap_swap(g, h, i, m);
        i = m;
    }
}

/* Takes queue @qi out of the heap of its set (if that set is a heap). */
static void set_leave(pgroup_t *g, size_t qi)
{
    queue_t *q = &g->queues[qi];
    if (q->set >= HEAPS)
        return;
    heap_t *h = &g->heaps[q->set];
    size_t i = (size_t)q->heap_pos, last = h->len - 1;
    if (i != last) {
        heap_swap(g, h, i, last);
        h->len--;
        sift_down(g, h, i);
        sift_up(g, h, i);
    } else {
        h->len--;
    }
    q->heap_pos = -1;
    q->set = SET_IDLE;
}

/* Puts queue @qi into @set with @key. */
static void set_enter(pgroup_t *g, size_t qi, queue_set_t set, int64_t key)
{
    queue_t *q = &g->queues[qi];
    if (q->set == set && q->key == key)
        return;
    set_leave(g, qi);
    q->set = set;
    q->key = key;
    if (set >= HEAPS)
        return;
    heap_t *h = &g->heaps[set];
    q->heap_pos = (int)h->len;
    h->items[h->len++] = (int)qi;
    sift_up(g, h, (size_t)q->heap_pos);
}

static long heap_top(const pgroup_t *g, queue_set_t set)
{
    return g->heaps[set].len ? g->heaps[set].items[0] : -1;
}

/* Where an empty queue @qi stands now. */
static void empty_update(pgroup_t *g, size_t qi, int64_t now_ms)
{
    queue_t *q = &g->queues[qi];
    if (g->lag && g->lag(g->opaque, qi)) {
        set_enter(g, qi, SET_LAGGING, q->partition_time);
    } else if (q->set == SET_LAGGING || q->set == SET_BUFFERED) {
        /* it just ran dry, or just caught up: idle from now */
        q->idle_since = now_ms;
        set_enter(g, qi, g->opts.idle_timeout_ms > 0 ? SET_CAUGHT_UP : SET_IDLE, q->partition_time);
    }
    /* caught up or idle already: stays so (its idle clock keeps running) */
}

/* ---- API ------------------------------------------------------------------- */

pgroup_t *pgroup_new(size_t queue_count, const pgroup_opts_t *opts, pgroup_lag_fn lag, void *opaque)
{
    pgroup_t *g = calloc(1, sizeof(*g));
    if (!g)
        return NULL;
    size_t n = queue_count ? queue_count : 1;
    g->queues = calloc(n, sizeof(*g->queues));
    bool ok = g->queues != NULL;
    for (int s = 0; s < HEAPS; s++)
        ok = ok && (g->heaps[s].items = calloc(n, sizeof(int))) != NULL;
    if (!ok) {
        pgroup_free(g, NULL);
        return NULL;
    }
    g->queue_count = queue_count;
    g->opts = *opts;
    if (g->opts.allowed_lateness_ms < 0)
        g->opts.allowed_lateness_ms = 0;
    g->lag = lag;
    g->opaque = opaque;
    pgroup_clear(g, NULL);
    return g;
}

void pgroup_set_partition_time(pgroup_t *g, size_t qi, int64_t key)
{
    queue_t *q = &g->queues[qi];
    if (key > q->partition_time)
        q->partition_time = key;
    if (key > q->released_key)
        q->released_key = key;
    if (key > g->stream_time) {
        g->stream_time = key;
        g->stream_queue = -1;
    }
    if (q->set == SET_LAGGING || q->set == SET_CAUGHT_UP)
        set_enter(g, qi, q->set, q->partition_time);
}

int64_t pgroup_partition_time(const pgroup_t *g, size_t qi)
{
    return g->queues[qi].released_key;
}

int pgroup_push(pgroup_t *g, size_t qi, void *record, int64_t ts_ms, int64_t now_ms)
{
    queue_t *q = &g->queues[qi];
    int64_t key = ts_ms > q->partition_time ? ts_ms : q->partition_time;
    int r = ring_push(&q->buffered, record, ts_ms, key, now_ms);
    if (r < 0)
        return r;
    g->total++;
    q->partition_time = key;
    if (q->buffered.count == 1)
        set_enter(g, qi, SET_BUFFERED, key);
    return 0;
}

/* Whether the queues that are empty let the head of queue @c go; else *@wait is
 * the one to wait for.  Caught-up queues past their idle timeout become idle. */
static bool may_release(pgroup_t *g, int c, int64_t now_ms, int64_t wall_ms, long *wait)
{
    long l = heap_top(g, SET_LAGGING);
    if (l >= 0 && queue_less(g, (int)l, c)) {
        *wait = l;
        return false;
    }
    /* A caught-up queue's next record is expected no further behind the wall clock
     * than the allowed lateness (it is live): it holds back only what is within
     * that, and a record no longer than the idle timeout since it arrived.  Older
     * records — a backlog — never wait for a caught-up queue. */
    const queue_t *cq = &g->queues[c];
    if (cq->key <= sat_sub(wall_ms, g->opts.allowed_lateness_ms) ||
        now_ms - cq->buffered.arrived[cq->buffered.head] >= g->opts.idle_timeout_ms)
        return true;
    for (long u; (u = heap_top(g, SET_CAUGHT_UP)) >= 0 && queue_less(g, (int)u, c);) {
        queue_t *q = &g->queues[u];
        if (now_ms - q->idle_since < g->opts.idle_timeout_ms) {
            *wait = u;
            return false;
        }
        set_enter(g, (size_t)u, SET_IDLE, q->partition_time);
    }
    return true;
}

pgroup_next_result_t pgroup_next(pgroup_t *g, int64_t now_ms, int64_t wall_ms, pgroup_item_t *item)
{
    long c = heap_top(g, SET_BUFFERED);
    g->waiting_on = -1;
    if (c < 0)
        return PGROUP_EMPTY;
    long wait;
    if (!may_release(g, (int)c, now_ms, wall_ms, &wait)) {
        g->waiting_on = wait;
        return PGROUP_WAIT;
    }
    queue_t *q = &g->queues[c];
    ring_t *ring = &q->buffered;
    int64_t key = ring->keys[ring->head], ts = ring->ts[ring->head];
    /* behind its own partition (delivered late into it), or behind the stream
     * (its partition was idle and passed over): before the last record released in
     * the order (key, queue), which a tie of keys breaks by the queue, as a backlog
     * would have released them */
    int64_t before = q->released_key > g->stream_time ? q->released_key : g->stream_time;
    int64_t lateness = g->opts.allowed_lateness_ms;
    *item = (pgroup_item_t){
        .record = ring->records[ring->head],
        .q = (size_t)c,
        .ts = ts,
        .key = key,
        .behind_ms = ts != INT64_MIN && ts < before ? before - ts : 0,
        .late =
            ts != INT64_MIN && (ts < sat_sub(q->released_key, lateness) || key < g->stream_time ||
                                (key == g->stream_time && c < g->stream_queue)),
    };
    ring_pop(ring);
    g->total--;
    q->released_key = key;
    if (key > g->stream_time || (key == g->stream_time && c > g->stream_queue)) {
        g->stream_time = key;
        g->stream_queue = c;
    }
    if (ring->count)
        set_enter(g, (size_t)c, SET_BUFFERED, ring->keys[ring->head]);
    else
        empty_update(g, (size_t)c, now_ms);
    return PGROUP_READY;
}

long pgroup_waiting_on(const pgroup_t *g)
{
    return g->waiting_on;
}

int64_t pgroup_stream_time(const pgroup_t *g)
{
    return g->stream_time;
}

void pgroup_refresh(pgroup_t *g, int64_t now_ms)
{
    for (size_t i = 0; i < g->queue_count; i++)
        if (g->queues[i].buffered.count == 0)
            empty_update(g, i, now_ms);
}

bool pgroup_caught_up(const pgroup_t *g)
{
    return g->heaps[SET_BUFFERED].len == 0 && g->heaps[SET_LAGGING].len == 0;
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
        q->partition_time = INT64_MIN;
        q->released_key = INT64_MIN;
        q->idle_since = 0;
        q->key = INT64_MIN;
        /* unknown until the first refresh: as if it had just run dry while lagging */
        q->set = SET_LAGGING;
        q->heap_pos = (int)i;
        g->heaps[SET_LAGGING].items[i] = (int)i;
    }
    g->heaps[SET_LAGGING].len = g->queue_count;
    g->heaps[SET_BUFFERED].len = 0;
    g->heaps[SET_CAUGHT_UP].len = 0;
    g->total = 0;
    g->stream_time = INT64_MIN;
    g->stream_queue = -1;
    g->waiting_on = -1;
}

void pgroup_free(pgroup_t *g, void (*free_record)(void *))
{
    if (!g)
        return;
    if (g->queues && g->heaps[SET_BUFFERED].items && g->heaps[SET_LAGGING].items &&
        g->heaps[SET_CAUGHT_UP].items) {
        pgroup_clear(g, free_record);
        for (size_t i = 0; i < g->queue_count; i++)
            ring_free(&g->queues[i].buffered);
    }
    free(g->queues);
    for (int s = 0; s < HEAPS; s++)
        free(g->heaps[s].items);
    free(g);
}
