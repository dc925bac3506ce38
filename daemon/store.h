/* The state store: RocksDB, one column family per store (docs/CONTRACTS.md, "State
 * records").
 *
 * Entity state and the input offsets it reflects are written together in one atomic
 * batch per commit interval (store_write), so after any crash the offsets in the store
 * say exactly which inputs the state has folded.
 *
 * Thread: a store handle is used by one thread at a time, except for the snapshot
 * readers at the end of this file, which any thread may use beside it. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"
#include "util/result.h"

typedef enum store_cf {
    STORE_CF_META = 0, /* RocksDB's "default": format version, topology */
    STORE_CF_IDENTITY, /* stage 1: anonymous id -> AnonState */
    STORE_CF_CONTACT,  /* stage 2: contact id -> ContactState */
    STORE_CF_ACCOUNT,  /* stage 3: account id -> AccountState */
    STORE_CF_TIMERS,   /* SLA clocks by deadline */
    STORE_CF_OFFSETS,  /* topic \0 partition(be32) -> next offset (be64), partition time (be64) */
    STORE_CF_METRICS,  /* counter name -> value (be64) */
    STORE_CF_OWED,     /* contact partition (be32) -> summaries owed to accounts (below) */
    STORE_CF_TEAM,     /* routing team -> TeamState (the daily digest) */
    STORE_CF__COUNT
} store_cf_t;

/* Positive results, numbered from HF_RESULT_BASE_STORE (util/result.h): of
 * store_get() and store_offset_get(), and of store_owed_decode(). */
#define STORE_NOT_FOUND (HF_RESULT_BASE_STORE + 1)
#define STORE_MALFORMED (HF_RESULT_BASE_STORE + 2)

typedef struct store store_t;
typedef struct store_batch store_batch_t;

/* Name of a column family ("identity", ...). */
const char *store_cf_name(store_cf_t cf);

/* Opens (creating if needed, unless @read_only) the store in directory @dir; a
 * column family the store does not have yet is created, or, @read_only, read as
 * empty (a store written by an older version).  Returns 0 and sets *out, or -errno
 * with RocksDB's message in @err. */
int store_open(store_t **out, const char *dir, bool read_only, char *err, size_t errsz);
void store_close(store_t *s);

/* Reads @key of @cf into @val (replacing its contents).  Returns 0, STORE_NOT_FOUND,
 * or -EIO with the message in @err. */
int store_get(store_t *s, store_cf_t cf, const void *key, size_t key_len, hf_buf_t *val, char *err,
              size_t errsz);

/* A batch for @s (column family handles are per store).  NULL on out of memory. */
store_batch_t *store_batch_new(store_t *s);
void store_batch_free(store_batch_t *b);
void store_batch_put(store_batch_t *b, store_cf_t cf, const void *key, size_t key_len,
                     const void *val, size_t val_len);
void store_batch_delete(store_batch_t *b, store_cf_t cf, const void *key, size_t key_len);
size_t store_batch_count(const store_batch_t *b);
void store_batch_clear(store_batch_t *b);

/* Writes @b atomically (then clears it).  Returns 0 or -EIO with @err. */
int store_write(store_t *s, store_batch_t *b, char *err, size_t errsz);

/* The same on the store's writer thread (started on first use), so that the caller
 * goes on processing while RocksDB inserts: waits until the previous batch is
 * written, then hands @b over; @b belongs to the writer until store_write_wait()
 * returns (it comes back cleared).  Nothing is read from @b meanwhile.  Returns 0 or
 * a negative errno (@err says why) if the thread cannot start. */
int store_write_submit(store_t *s, store_batch_t *b, char *err, size_t errsz);

/* Waits until the submitted batch (if any) is written.  Returns 0, or the failed
 * write's negative errno with @err set.  store_close() waits too. */
int store_write_wait(store_t *s, char *err, size_t errsz);

/* Key of the offsets store for one topic-partition, into @key (replaced). */
void store_offset_key(hf_buf_t *key, const char *topic, int32_t partition);

/* Where an input partition stands at a commit: the next offset to consume, and its
 * partition time (the key of the last record processed, daemon/pgroup.h; INT64_MIN:
 * none, or a value written before partition times were kept). */
typedef struct store_offset {
    int64_t next;
    int64_t partition_time;
} store_offset_t;

#define STORE_OFFSET_VALUE_SIZE 16

/* The value of an offsets row for @o, into @out. */
void store_offset_encode(const store_offset_t *o, uint8_t out[STORE_OFFSET_VALUE_SIZE]);

/* Reads an offsets row's value (16 bytes, or the 8 of the next offset alone that
 * older versions wrote).  Returns false when it is neither. */
bool store_offset_decode(const void *val, size_t len, store_offset_t *o);

/* Where @topic/@partition stood at the last commit.  Returns 0, STORE_NOT_FOUND, or
 * -EIO. */
int store_offset_get(store_t *s, const char *topic, int32_t partition, store_offset_t *o, char *err,
                     size_t errsz);

/* The summaries one partition of the contact topic owes stage 3
 * (accounts.member_updates: coalesced), written with the states at every commit
 * and read back when the partition is assigned, so that its next sends fall where
 * they would have without the restart.  Key: the partition (be32).  Value: the
 * contact records the partition folded since it last sent (be32), the number of
 * contacts owed (be32), then their ids in the order they first changed, each
 * NUL-terminated. */
#define STORE_OWED_KEY_SIZE 4

/* The key of @partition's row. */
void store_owed_key(uint8_t out[STORE_OWED_KEY_SIZE], int32_t partition);

/* The partition a row's key names; false when @key is not one. */
bool store_owed_key_decode(const void *key, size_t len, int32_t *partition);

/* The value of a row: @records and the @count ids of @ids, into @out (replaced).
 * Returns 0 or -ENOMEM. */
int store_owed_encode(hf_buf_t *out, uint32_t records, char *const *ids, size_t count);

/* Reads a row's value: *@records, *@count, and @fn (may be NULL) called with each
 * id in order (NUL-terminated, pointing into @val) -- only once the whole value was
 * found well-formed.  Returns 0, STORE_MALFORMED (nothing called), or @fn's first
 * non-zero value. */
int store_owed_decode(const void *val, size_t len, uint32_t *records, size_t *count,
                      int (*fn)(void *opaque, const char *id), void *opaque);

/* Calls @fn for every key of @cf in key order until it returns non-zero (which is
 * then returned).  Returns 0, @fn's value, or -EIO. */
typedef int (*store_visit_fn)(void *opaque, const void *key, size_t key_len, const void *val,
                              size_t val_len);
int store_scan(store_t *s, store_cf_t cf, store_visit_fn fn, void *opaque, char *err, size_t errsz);

/* ---- for /metrics (status.h's snapshot) ---- */

/* Bytes of @b as RocksDB will write it. */
size_t store_batch_bytes(const store_batch_t *b);

/* The integer RocksDB property @name ("rocksdb.total-sst-files-size",
 * "rocksdb.cur-size-all-mem-tables", ...) summed over every column family, or -1
 * when RocksDB does not know it.  Thread: any (RocksDB reads its properties under
 * its own locks). */
int64_t store_property_uint(store_t *s, const char *name);

/* Bytes held by the block cache. */
uint64_t store_block_cache_usage(store_t *s);

/* Big-endian helpers for fixed-width values in keys and counters. */
void store_put_be64(uint8_t out[8], uint64_t v);
uint64_t store_get_be64(const uint8_t in[8]);

/* ---- Reading from another thread (journey lookups) ---------------------------
 * What the functions below read is what the writes made durable: the last commit,
 * never part of a batch.  RocksDB handles are safe for concurrent reads; each
 * snapshot has read options of its own, so these may run on any thread while the
 * pipeline thread reads and writes through the functions above.  The store must
 * outlive every snapshot. */
typedef struct store_snapshot store_snapshot_t;

/* A consistent view of @s as of now.  Returns 0 and sets *out, or -ENOMEM. */
int store_snapshot_new(store_snapshot_t **out, store_t *s);
void store_snapshot_free(store_snapshot_t *snap);

/* Wall time (CLOCK_REALTIME, ms) when the newest write the snapshot includes was
 * made durable, or when the store was opened if this process has written nothing
 * yet.  (A write that lands within nanoseconds of the snapshot may be included
 * while this still names the one before it.) */
int64_t store_snapshot_written_ms(const store_snapshot_t *snap);

/* As store_get(), from the snapshot: 0, STORE_NOT_FOUND, -ENOMEM or -EIO with @err. */
int store_snapshot_get(const store_snapshot_t *snap, store_cf_t cf, const void *key, size_t key_len,
                       hf_buf_t *val, char *err, size_t errsz);

/* Calls @fn for every key of @cf that starts with @prefix, in key order, until it
 * returns non-zero (then returned).  Returns 0, @fn's value, or -EIO with @err. */
int store_snapshot_scan_prefix(const store_snapshot_t *snap, store_cf_t cf, const void *prefix,
                               size_t prefix_len, store_visit_fn fn, void *opaque, char *err,
                               size_t errsz);
