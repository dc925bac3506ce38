/* The timers store: see timers.h.
 *
 * Entries are keyed by "<c|a><entity id>", the store key as well.  A chained hash
 * table holds each entry's due time and whether it changed since the last flush; a
 * binary min-heap of (due, entry) finds the earliest.  Changing an entry's due time
 * pushes a new heap item and leaves the old one behind; a popped item whose due time
 * is not its entry's any more is dropped (lazy deletion), and the heap is rebuilt
 * when stale items outnumber live ones. */
#include "timers.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/hash.h"
#include "util/vec.h"

typedef struct entry {
    struct entry *next; /* in its bucket */
    int64_t due_ms;     /* 0: removed (kept until flushed, so the store hears of it) */
    bool dirty;
    bool listed; /* on the dirty list */
    size_t key_len;
    char key[]; /* "c..." or "a...", NUL-terminated */
} entry_t;

typedef struct heap_item {
    int64_t due_ms;
    entry_t *e;
} heap_item_t;

struct timers {
    entry_t **buckets;
    size_t bucket_count; /* power of two */
    size_t live;         /* entries with due_ms != 0 */
    size_t entries;      /* all entries, removed ones awaiting a flush included */
    heap_item_t *heap;
    size_t heap_len, heap_cap;
    entry_t **dirty;
    size_t dirty_len, dirty_cap;
};

static char type_char(hf_entity_type_t type)
{
    return type == HF_ENTITY_ACCOUNT ? 'a' : type == TIMERS_TEAM ? 't' : 'c';
}

static hf_entity_type_t type_of(char c)
{
    return c == 'a' ? HF_ENTITY_ACCOUNT : c == 't' ? TIMERS_TEAM : HF_ENTITY_CONTACT;
}

timers_t *timers_new(void)
{
    timers_t *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->bucket_count = 1024;
    t->buckets = calloc(t->bucket_count, sizeof *t->buckets);
    if (!t->buckets) {
        free(t);
        return NULL;
    }
    return t;
}

void timers_clear(timers_t *t)
{
    for (size_t b = 0; b < t->bucket_count; b++) {
        for (entry_t *e = t->buckets[b], *next; e; e = next) {
            next = e->next;
            free(e);
        }
        t->buckets[b] = NULL;
    }
    t->live = t->entries = 0;
    t->heap_len = 0;
    t->dirty_len = 0;
}

void timers_free(timers_t *t)
{
    if (!t)
        return;
    timers_clear(t);
    free(t->buckets);
    free(t->heap);
    free(t->dirty);
    free(t);
}

static entry_t **slot_of(const timers_t *t, const char *key, size_t len)
{
    uint64_t h = hash_fnv1a64_update(hash_fnv1a64_str(""), key, len);
    entry_t **slot = &t->buckets[h & (t->bucket_count - 1)];
    while (*slot && ((*slot)->key_len != len || memcmp((*slot)->key, key, len) != 0))
        slot = &(*slot)->next;
    return slot;
}

static int grow_buckets(timers_t *t)
{
    size_t n = t->bucket_count * 2;
    entry_t **b = calloc(n, sizeof *b);
    if (!b)
        return -ENOMEM;
    for (size_t i = 0; i < t->bucket_count; i++) {
        for (entry_t *e = t->buckets[i], *next; e; e = next) {
            next = e->next;
            uint64_t h = hash_fnv1a64_update(hash_fnv1a64_str(""), e->key, e->key_len);
            e->next = b[h & (n - 1)];
            b[h & (n - 1)] = e;
        }
    }
    free(t->buckets);
    t->buckets = b;
    t->bucket_count = n;
    return 0;
}

/* ---- the heap ---- */

static void heap_swap(heap_item_t *h, size_t a, size_t b)
{
    heap_item_t x = h[a];
    h[a] = h[b];
    h[b] = x;
}

static void sift_up(heap_item_t *h, size_t i)
{
    while (i > 0 && h[(i - 1) / 2].due_ms > h[i].due_ms) {
        heap_swap(h, i, (i - 1) / 2);
        i = (i - 1) / 2;
    }
}

static void sift_down(heap_item_t *h, size_t n, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < n && h[l].due_ms < h[m].due_ms)
            m = l;
        if (r < n && h[r].due_ms < h[m].due_ms)
            m = r;
        if (m == i)
            return;
        heap_swap(h, i, m);
        i = m;
    }
}

/* Drops stale items (their entry's due time moved on) and re-heapifies. */
static void heap_rebuild(timers_t *t)
{
    size_t n = 0;
    for (size_t i = 0; i < t->heap_len; i++)
        if (t->heap[i].e->due_ms == t->heap[i].due_ms)
            t->heap[n++] = t->heap[i];
    t->heap_len = n;
    for (size_t i = n / 2; i-- > 0;)
        sift_down(t->heap, n, i);
}

static int heap_push(timers_t *t, entry_t *e)
{
    if (t->heap_len > 64 && t->heap_len > 2 * t->live)
        heap_rebuild(t);
    heap_item_t *h = vec_grow(t->heap, &t->heap_cap, t->heap_len + 1, sizeof *h);
    if (!h)
        return -ENOMEM;
    t->heap = h;
    t->heap[t->heap_len] = (heap_item_t){e->due_ms, e};
    sift_up(t->heap, t->heap_len++);
    return 0;
}

/* ---- entries ---- */

static int mark_dirty(timers_t *t, entry_t *e)
{
    e->dirty = true;
    if (e->listed)
        return 0;
    entry_t **d = vec_grow(t->dirty, &t->dirty_cap, t->dirty_len + 1, sizeof *d);
    if (!d)
        return -ENOMEM;
    t->dirty = d;
    t->dirty[t->dirty_len++] = e;
    e->listed = true;
    return 0;
}

/* Sets @key's due time; @persist: the store must hear of it. */
static int set_key(timers_t *t, const char *key, size_t len, int64_t due_ms, bool persist)
{
    entry_t **slot = slot_of(t, key, len);
    entry_t *e = *slot;
    if (!e) {
        if (!due_ms)
            return 0;
        if (t->entries >= t->bucket_count && grow_buckets(t) < 0)
            return -ENOMEM;
        e = calloc(1, sizeof *e + len + 1);
        if (!e)
            return -ENOMEM;
        memcpy(e->key, key, len);
        e->key_len = len;
        slot = slot_of(t, key, len);
        *slot = e;
        t->entries++;
    } else if (e->due_ms == due_ms) {
        return 0;
    }
    if (e->due_ms && !due_ms)
        t->live--;
    else if (!e->due_ms && due_ms)
        t->live++;
    e->due_ms = due_ms;
    int r = persist ? mark_dirty(t, e) : 0;
    if (r == 0 && due_ms)
        r = heap_push(t, e);
    return r;
}

static int key_of(char *buf, size_t bufsz, hf_entity_type_t type, const char *id, size_t *len)
{
    size_t n = strlen(id);
    if (n + 2 > bufsz)
        return -ENAMETOOLONG;
    buf[0] = type_char(type);
    memcpy(buf + 1, id, n + 1);
    *len = n + 1;
    return 0;
}

int timers_set(timers_t *t, hf_entity_type_t type, const char *id, int64_t due_ms)
{
    if (!due_ms && !t->entries)
        return 0; /* nothing to remove: the common case of an entity with no case */
    char key[4096];
    size_t len;
    int r = key_of(key, sizeof key, type, id, &len);
    return r < 0 ? r : set_key(t, key, len, due_ms, true);
}

int64_t timers_get(const timers_t *t, hf_entity_type_t type, const char *id)
{
    char key[4096];
    size_t len;
    if (key_of(key, sizeof key, type, id, &len) < 0)
        return 0;
    entry_t *e = *slot_of(t, key, len);
    return e ? e->due_ms : 0;
}

bool timers_pop_due(timers_t *t, int64_t now_ms, hf_entity_type_t *type, const char **id)
{
    while (t->heap_len) {
        heap_item_t top = t->heap[0];
        if (top.e->due_ms == top.due_ms && top.due_ms > now_ms)
            return false;
        t->heap[0] = t->heap[--t->heap_len];
        sift_down(t->heap, t->heap_len, 0);
        if (top.e->due_ms != top.due_ms)
            continue; /* stale */
        /* removed from the index until the caller sets the next due time; the
         * store is told only if that stays 0 (mark_dirty on the next set) */
        top.e->due_ms = 0;
        t->live--;
        mark_dirty(t, top.e);
        *type = type_of(top.e->key[0]);
        *id = top.e->key + 1;
        return true;
    }
    return false;
}

int64_t timers_next(timers_t *t)
{
    while (t->heap_len && t->heap[0].e->due_ms != t->heap[0].due_ms) {
        t->heap[0] = t->heap[--t->heap_len];
        sift_down(t->heap, t->heap_len, 0);
    }
    return t->heap_len ? t->heap[0].due_ms : 0;
}

size_t timers_count(const timers_t *t)
{
    return t->live;
}

void timers_flush(timers_t *t, store_batch_t *b)
{
    for (size_t i = 0; i < t->dirty_len; i++) {
        entry_t *e = t->dirty[i];
        e->listed = false;
        if (!e->dirty)
            continue;
        e->dirty = false;
        if (e->due_ms) {
            uint8_t v[8];
            store_put_be64(v, (uint64_t)e->due_ms);
            store_batch_put(b, STORE_CF_TIMERS, e->key, e->key_len, v, sizeof v);
        } else {
            store_batch_delete(b, STORE_CF_TIMERS, e->key, e->key_len);
        }
    }
    t->dirty_len = 0;
    /* No heap item may point to an entry freed below: the items of a removed entry
     * (due 0) are all stale, and the rebuild drops exactly those, so it must come
     * first -- it reads every item's entry. */
    heap_rebuild(t);
    /* removed entries are gone from the store now (once the batch is written) */
    for (size_t bkt = 0; bkt < t->bucket_count; bkt++) {
        entry_t **slot = &t->buckets[bkt];
        while (*slot) {
            entry_t *e = *slot;
            if (!e->due_ms && !e->listed) {
                *slot = e->next;
                t->entries--;
                free(e);
            } else {
                slot = &e->next;
            }
        }
    }
}

typedef struct load_ctx {
    timers_t *t;
    timers_owned_fn owned;
    void *opaque;
    long loaded;
    int err;
} load_ctx_t;

static int load_one(void *opaque, const void *key, size_t key_len, const void *val, size_t val_len)
{
    load_ctx_t *c = opaque;
    const char *k = key;
    if (key_len < 2 || val_len != 8 || (k[0] != 'a' && k[0] != 'c' && k[0] != 't') ||
        key_len >= 4096)
        return 0; /* not an entry this version wrote */
    char id[4096];
    memcpy(id, k + 1, key_len - 1);
    id[key_len - 1] = 0;
    hf_entity_type_t type = type_of(k[0]);
    if (!c->owned(c->opaque, type, id))
        return 0;
    int64_t due = (int64_t)store_get_be64(val);
    if (due <= 0)
        return 0;
    if ((c->err = set_key(c->t, k, key_len, due, false)) < 0)
        return 1;
    c->loaded++;
    return 0;
}

long timers_load(timers_t *t, store_t *s, timers_owned_fn owned, void *opaque, char *err,
                 size_t errsz)
{
    load_ctx_t c = {t, owned, opaque, 0, 0};
    int r = store_scan(s, STORE_CF_TIMERS, load_one, &c, err, errsz);
    if (c.err < 0) {
        snprintf(err, errsz, "loading timers: %s", strerror(-c.err));
        return c.err;
    }
    return r < 0 ? r : c.loaded;
}

int timers_each(const timers_t *t, timers_visit_fn fn, void *opaque)
{
    for (size_t b = 0; b < t->bucket_count; b++)
        for (entry_t *e = t->buckets[b]; e; e = e->next) {
            if (!e->due_ms)
                continue;
            int r = fn(opaque, type_of(e->key[0]), e->key + 1);
            if (r)
                return r;
        }
    return 0;
}
