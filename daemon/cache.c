#include "cache.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Chained hash table plus an intrusive LRU list; each node holds its key inline. */
typedef struct node {
    cache_entry_t entry; /* first: entry pointers convert back to nodes */
    struct node *next_in_bucket;
    struct node *lru_prev, *lru_next; /* head = most recently used */
    uint64_t hash;
    size_t key_len;
    char key[];
} node_t;

struct cache {
    const cache_ops_t *ops;
    store_t *store;
    store_cf_t cf;
    size_t max_entries;
    node_t **buckets;
    size_t bucket_count; /* power of two */
    size_t count;
    node_t *lru_head, *lru_tail;
    hf_buf_t scratch;
};

static uint64_t key_hash(const char *k, size_t len)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)k[i];
        h *= 1099511628211ull;
    }
    return h;
}

cache_t *cache_new(const cache_ops_t *ops, store_t *store, store_cf_t cf, size_t max_entries)
{
    cache_t *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    c->ops = ops;
    c->store = store;
    c->cf = cf;
    c->max_entries = max_entries ? max_entries : 1;
    c->bucket_count = 1024;
    c->buckets = calloc(c->bucket_count, sizeof(*c->buckets));
    if (!c->buckets) {
        free(c);
        return NULL;
    }
    return c;
}

static void lru_unlink(cache_t *c, node_t *n)
{
    if (n->lru_prev)
        n->lru_prev->lru_next = n->lru_next;
    else
        c->lru_head = n->lru_next;
    if (n->lru_next)
        n->lru_next->lru_prev = n->lru_prev;
    else
        c->lru_tail = n->lru_prev;
    n->lru_prev = n->lru_next = NULL;
}

static void lru_push_front(cache_t *c, node_t *n)
{
    n->lru_prev = NULL;
    n->lru_next = c->lru_head;
    if (c->lru_head)
        c->lru_head->lru_prev = n;
    c->lru_head = n;
    if (!c->lru_tail)
        c->lru_tail = n;
}

static void node_free(cache_t *c, node_t *n)
{
    if (n->entry.state)
        c->ops->free(n->entry.state);
    free(n);
}

static void cache_remove(cache_t *c, node_t *n)
{
    node_t **pp = &c->buckets[n->hash & (c->bucket_count - 1)];
    while (*pp != n)
        pp = &(*pp)->next_in_bucket;
    *pp = n->next_in_bucket;
    lru_unlink(c, n);
    c->count--;
    node_free(c, n);
}

static int cache_grow(cache_t *c)
{
    size_t nb = c->bucket_count * 2;
    node_t **b = calloc(nb, sizeof(*b));
    if (!b)
        return -ENOMEM;
    for (size_t i = 0; i < c->bucket_count; i++) {
        node_t *n = c->buckets[i];
        while (n) {
            node_t *next = n->next_in_bucket;
            node_t **slot = &b[n->hash & (nb - 1)];
            n->next_in_bucket = *slot;
            *slot = n;
            n = next;
        }
    }
    free(c->buckets);
    c->buckets = b;
    c->bucket_count = nb;
    return 0;
}

int cache_get(cache_t *c, const char *key, cache_entry_t **out, char *err, size_t errsz)
{
    size_t len = strlen(key);
    uint64_t h = key_hash(key, len);
    for (node_t *n = c->buckets[h & (c->bucket_count - 1)]; n; n = n->next_in_bucket) {
        if (n->hash == h && n->key_len == len && memcmp(n->key, key, len) == 0) {
            if (c->lru_head != n) {
                lru_unlink(c, n);
                lru_push_front(c, n);
            }
            *out = &n->entry;
            return 0;
        }
    }

    void *state = NULL;
    int r = store_get(c->store, c->cf, key, len, &c->scratch, err, errsz);
    if (r < 0)
        return r;
    if (r == 0) {
        r = c->ops->decode(&state, c->scratch.data, c->scratch.len);
        if (r < 0) {
            snprintf(err, errsz, "out of memory");
            return r;
        }
        if (r > 0) {
            snprintf(err, errsz, "%s state of key '%s' does not decode (%zu bytes)",
                     store_cf_name(c->cf), key, c->scratch.len);
            return r;
        }
    }

    if (c->count >= c->bucket_count && cache_grow(c) < 0) {
        if (state)
            c->ops->free(state);
        snprintf(err, errsz, "out of memory");
        return -ENOMEM;
    }
    node_t *n = calloc(1, sizeof(*n) + len + 1);
    if (!n) {
        if (state)
            c->ops->free(state);
        snprintf(err, errsz, "out of memory");
        return -ENOMEM;
    }
    memcpy(n->key, key, len + 1);
    n->key_len = len;
    n->hash = h;
    n->entry.state = state;
    node_t **slot = &c->buckets[h & (c->bucket_count - 1)];
    n->next_in_bucket = *slot;
    *slot = n;
    lru_push_front(c, n);
    c->count++;
    *out = &n->entry;
    return 0;
}

void cache_entry_set(cache_t *c, cache_entry_t *e, void *state)
{
    if (e->state && e->state != state)
        c->ops->free(e->state);
    e->state = state;
    e->dirty = true;
}

long cache_flush(cache_t *c, store_batch_t *batch, char *err, size_t errsz)
{
    long written = 0;
    for (node_t *n = c->lru_head; n; n = n->lru_next) {
        if (!n->entry.dirty)
            continue;
        if (!n->entry.state) {
            store_batch_delete(batch, c->cf, n->key, n->key_len);
        } else {
            hf_buf_reset(&c->scratch);
            int r = c->ops->encode(n->entry.state, &c->scratch);
            if (r < 0) {
                snprintf(err, errsz, "encoding %s state: %s", store_cf_name(c->cf), strerror(-r));
                return r;
            }
            store_batch_put(batch, c->cf, n->key, n->key_len, c->scratch.data, c->scratch.len);
        }
        /* in the batch now: dirty again only if touched before it is durable */
        n->entry.dirty = false;
        written++;
    }
    return written;
}

void cache_commit(cache_t *c)
{
    /* least recently used first; an entry changed since the flush stays */
    node_t *n = c->lru_tail;
    while (c->count > c->max_entries && n) {
        node_t *prev = n->lru_prev;
        if (!n->entry.dirty)
            cache_remove(c, n);
        n = prev;
    }
}

void cache_clear(cache_t *c)
{
    while (c->lru_tail)
        cache_remove(c, c->lru_tail);
}

size_t cache_size(const cache_t *c)
{
    return c->count;
}

void cache_free(cache_t *c)
{
    if (!c)
        return;
    cache_clear(c);
    free(c->buckets);
    hf_buf_free(&c->scratch);
    free(c);
}
