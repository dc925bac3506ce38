/* The record cache in front of one state store (as Kafka Streams' record cache):
 * hot entity state lives in memory; RocksDB is read once on a miss and written once
 * per dirty key per commit.  Bounded in entries; only clean entries are evicted, in
 * least-recently-used order, once a commit is durable.
 *
 * Thread: the pipeline thread only. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "util/buf.h"
#include "store.h"

typedef struct cache_ops {
    /* Append the serialised @state to @out.  0 or -errno. */
    int (*encode)(const void *state, hf_buf_t *out);
    /* Parse bytes into a new state.  0, -errno, or positive (corrupt). */
    int (*decode)(void **out, const void *buf, size_t len);
    void (*free)(void *state);
} cache_ops_t;

typedef struct cache cache_t;

typedef struct cache_entry {
    void *state; /* NULL: the key has no state yet (a remembered miss) */
    bool dirty;
} cache_entry_t;

/* A cache of @cf in @store holding at most @max_entries clean entries after a
 * commit.  NULL on out of memory. */
cache_t *cache_new(const cache_ops_t *ops, store_t *store, store_cf_t cf, size_t max_entries);
void cache_free(cache_t *c);

/* The entry for @key (NUL-terminated), read from the store on a miss.  The pointer
 * stays valid until the next cache_commit() or cache_clear().  Returns 0 with *out
 * set, -EIO/-ENOMEM (@err says why), or positive HF_STATE_CORRUPT when the stored
 * bytes do not decode (@err names the key). */
int cache_get(cache_t *c, const char *key, cache_entry_t **out, char *err, size_t errsz);

/* Replaces the entry's state (freeing the old one) and marks it dirty.  Takes
 * ownership of @state. */
void cache_entry_set(cache_t *c, cache_entry_t *e, void *state);

static inline void cache_entry_touch(cache_entry_t *e)
{
    e->dirty = true;
}

/* Appends every dirty entry to @batch and marks it clean (an entry touched after
 * this is dirty again and goes into the next batch).  Returns the number written,
 * or -errno. */
long cache_flush(cache_t *c, store_batch_t *batch, char *err, size_t errsz);

/* After the batch of cache_flush() is durable: evicts clean entries, least recently
 * used first, down to the bound.  Until then nothing is evicted, so an entry whose
 * write is in flight is never read back from the store. */
void cache_commit(cache_t *c);

/* Drops every entry, dirty or not (after a rebalance revoked partitions, once their
 * state was committed). */
void cache_clear(cache_t *c);

size_t cache_size(const cache_t *c);
