#include "store.h"

#include <pthread.h>

#include <errno.h>
#include <rocksdb/c.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static const char *const cf_names[STORE_CF__COUNT] = {
    [STORE_CF_META] = "default",    [STORE_CF_IDENTITY] = "identity",
    [STORE_CF_CONTACT] = "contact", [STORE_CF_ACCOUNT] = "account",
    [STORE_CF_TIMERS] = "timers",   [STORE_CF_OFFSETS] = "offsets",
    [STORE_CF_METRICS] = "metrics", [STORE_CF_OWED] = "owed",
    [STORE_CF_TEAM] = "team",
};

/* The background writer: one batch at a time (store_write_submit/_wait). */
typedef struct store_writer {
    pthread_t thread;
    bool started;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    store_batch_t *batch; /* submitted, not yet written */
    bool busy;            /* a batch is submitted or being written */
    bool stop;
    int result; /* of the last write */
    char err[512];
} store_writer_t;

struct store {
    store_writer_t writer;
    rocksdb_t *db;
    rocksdb_options_t *options;
    rocksdb_block_based_table_options_t *table_options;
    rocksdb_cache_t *block_cache;
    rocksdb_filterpolicy_t *filter; /* owned by table_options once set */
    rocksdb_readoptions_t *read_options;
    rocksdb_writeoptions_t *write_options;
    rocksdb_column_family_handle_t *cf[STORE_CF__COUNT];
    /* wall time of the last durable write (or of the open), for snapshot readers on
     * other threads */
    _Atomic int64_t written_ms;
};

struct store_batch {
    rocksdb_writebatch_t *wb;
    store_t *store; /* column family handles belong to the store */
};

const char *store_cf_name(store_cf_t cf)
{
    return (unsigned)cf < STORE_CF__COUNT ? cf_names[cf] : NULL;
}

/* Takes ownership of the RocksDB error string @rerr. */
static int store_fail(char *rerr, const char *what, char *err, size_t errsz)
{
    snprintf(err, errsz, "%s: %s", what, rerr ? rerr : "unknown RocksDB error");
    rocksdb_free(rerr);
    return -EIO;
}

/* Opens @dir read-only with the column families it has: one added by a newer
 * version (and so not created yet by the daemon that wrote the store) keeps a NULL
 * handle and reads as empty. */
static rocksdb_t *open_read_only(store_t *s, const char *dir,
                                 const rocksdb_options_t *const cf_opts[STORE_CF__COUNT],
                                 char **rerr)
{
    size_t have_n = 0;
    char **have = rocksdb_list_column_families(s->options, dir, &have_n, rerr);
    if (*rerr) {
        /* the list is allocated even when it fails (empty) */
        if (have)
            rocksdb_list_column_families_destroy(have, have_n);
        return NULL;
    }
    const char *names[STORE_CF__COUNT];
    const rocksdb_options_t *opts[STORE_CF__COUNT];
    rocksdb_column_family_handle_t *handles[STORE_CF__COUNT];
    int which[STORE_CF__COUNT], n = 0;
    for (int i = 0; i < STORE_CF__COUNT; i++) {
        bool present = i == STORE_CF_META; /* "default" is always there */
        for (size_t k = 0; k < have_n && !present; k++)
            present = strcmp(have[k], cf_names[i]) == 0;
        if (!present)
            continue;
        names[n] = cf_names[i];
        opts[n] = cf_opts[i];
        which[n++] = i;
    }
    rocksdb_list_column_families_destroy(have, have_n);
    rocksdb_t *db = rocksdb_open_for_read_only_column_families(s->options, dir, n, names, opts,
                                                               handles, 0, rerr);
    if (db)
        for (int k = 0; k < n; k++)
            s->cf[which[k]] = handles[k];
    return db;
}

int store_open(store_t **out, const char *dir, bool read_only, char *err, size_t errsz)
{
    store_t *s = calloc(1, sizeof(*s));
    if (!s) {
        snprintf(err, errsz, "out of memory");
        return -ENOMEM;
    }
    pthread_mutex_init(&s->writer.mu, NULL);
    pthread_cond_init(&s->writer.cv, NULL);
    s->options = rocksdb_options_create();
    rocksdb_options_set_create_if_missing(s->options, !read_only);
    rocksdb_options_set_create_missing_column_families(s->options, !read_only);
    rocksdb_options_increase_parallelism(s->options, 2);
    rocksdb_options_set_compression(s->options, rocksdb_lz4_compression);
    rocksdb_options_set_max_open_files(s->options, 512);
    /* Most lookups are for entities seen for the first time: bloom filters make
     * those misses cheap. */
    s->table_options = rocksdb_block_based_options_create();
    s->block_cache = rocksdb_cache_create_lru(64u << 20);
    rocksdb_block_based_options_set_block_cache(s->table_options, s->block_cache);
    s->filter = rocksdb_filterpolicy_create_bloom_full(10);
    rocksdb_block_based_options_set_filter_policy(s->table_options, s->filter);
    rocksdb_options_set_block_based_table_factory(s->options, s->table_options);

    const rocksdb_options_t *cf_opts[STORE_CF__COUNT];
    for (int i = 0; i < STORE_CF__COUNT; i++)
        cf_opts[i] = s->options;
    char *rerr = NULL;
    if (read_only)
        s->db = open_read_only(s, dir, cf_opts, &rerr);
    else
        s->db = rocksdb_open_column_families(s->options, dir, STORE_CF__COUNT, cf_names, cf_opts,
                                             s->cf, &rerr);
    if (rerr || !s->db) {
        int r = store_fail(rerr, dir, err, errsz);
        store_close(s);
        return r;
    }
    s->read_options = rocksdb_readoptions_create();
    s->write_options = rocksdb_writeoptions_create();
    /* Process crashes (kill -9) keep everything in the WAL written by the OS; an
     * fsync per commit interval would only guard against power loss. */
    rocksdb_writeoptions_set_sync(s->write_options, 0);
    atomic_store(&s->written_ms, wall_ms());
    *out = s;
    return 0;
}

static void writer_stop(store_t *s);

void store_close(store_t *s)
{
    if (!s)
        return;
    writer_stop(s);
    pthread_mutex_destroy(&s->writer.mu);
    pthread_cond_destroy(&s->writer.cv);
    for (int i = 0; i < STORE_CF__COUNT; i++)
        if (s->cf[i])
            rocksdb_column_family_handle_destroy(s->cf[i]);
    if (s->db)
        rocksdb_close(s->db);
    if (s->read_options)
        rocksdb_readoptions_destroy(s->read_options);
    if (s->write_options)
        rocksdb_writeoptions_destroy(s->write_options);
    if (s->table_options)
        rocksdb_block_based_options_destroy(s->table_options); /* also the filter */
    if (s->block_cache)
        rocksdb_cache_destroy(s->block_cache);
    if (s->options)
        rocksdb_options_destroy(s->options);
    free(s);
}

int store_get(store_t *s, store_cf_t cf, const void *key, size_t key_len, hf_buf_t *val, char *err,
              size_t errsz)
{
    if (!s->cf[cf])
        return STORE_NOT_FOUND; /* read-only, a column family the store does not have */
    char *rerr = NULL;
    size_t len = 0;
    char *v = rocksdb_get_cf(s->db, s->read_options, s->cf[cf], key, key_len, &len, &rerr);
    if (rerr)
        return store_fail(rerr, "get", err, errsz);
    if (!v)
        return STORE_NOT_FOUND;
    hf_buf_reset(val);
    int r = hf_buf_append(val, v, len);
    rocksdb_free(v);
    if (r < 0) {
        snprintf(err, errsz, "out of memory");
        return r;
    }
    return 0;
}

store_batch_t *store_batch_new(store_t *s)
{
    store_batch_t *b = calloc(1, sizeof(*b));
    if (!b)
        return NULL;
    b->wb = rocksdb_writebatch_create();
    b->store = s;
    return b;
}

void store_batch_free(store_batch_t *b)
{
    if (!b)
        return;
    rocksdb_writebatch_destroy(b->wb);
    free(b);
}

void store_batch_put(store_batch_t *b, store_cf_t cf, const void *key, size_t key_len,
                     const void *val, size_t val_len)
{
    rocksdb_writebatch_put_cf(b->wb, b->store->cf[cf], key, key_len, val, val_len);
}

void store_batch_delete(store_batch_t *b, store_cf_t cf, const void *key, size_t key_len)
{
    rocksdb_writebatch_delete_cf(b->wb, b->store->cf[cf], key, key_len);
}

size_t store_batch_count(const store_batch_t *b)
{
    return (size_t)rocksdb_writebatch_count(b->wb);
}

void store_batch_clear(store_batch_t *b)
{
    rocksdb_writebatch_clear(b->wb);
}

int store_write(store_t *s, store_batch_t *b, char *err, size_t errsz)
{
    char *rerr = NULL;
    rocksdb_write(s->db, s->write_options, b->wb, &rerr);
    if (rerr)
        return store_fail(rerr, "write", err, errsz);
    atomic_store(&s->written_ms, wall_ms());
    rocksdb_writebatch_clear(b->wb);
    return 0;
}

static void *writer_main(void *arg)
{
    store_t *s = arg;
    store_writer_t *w = &s->writer;
    pthread_mutex_lock(&w->mu);
    for (;;) {
        while (!w->batch && !w->stop)
            pthread_cond_wait(&w->cv, &w->mu);
        if (!w->batch)
            break; /* stopping, nothing left to write */
        store_batch_t *b = w->batch;
        pthread_mutex_unlock(&w->mu);
        char err[512] = "";
        int r = store_write(s, b, err, sizeof(err));
        pthread_mutex_lock(&w->mu);
        w->result = r;
        snprintf(w->err, sizeof(w->err), "%s", err);
        w->batch = NULL;
        w->busy = false;
        pthread_cond_broadcast(&w->cv);
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

int store_write_submit(store_t *s, store_batch_t *b, char *err, size_t errsz)
{
    store_writer_t *w = &s->writer;
    if (!w->started) {
        int e = pthread_create(&w->thread, NULL, writer_main, s);
        if (e) {
            snprintf(err, errsz, "starting the store writer: %s", strerror(e));
            return -e;
        }
        w->started = true;
    }
    pthread_mutex_lock(&w->mu);
    while (w->busy)
        pthread_cond_wait(&w->cv, &w->mu);
    w->batch = b;
    w->busy = true;
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
    return 0;
}

int store_write_wait(store_t *s, char *err, size_t errsz)
{
    store_writer_t *w = &s->writer;
    if (!w->started)
        return 0;
    pthread_mutex_lock(&w->mu);
    while (w->busy)
        pthread_cond_wait(&w->cv, &w->mu);
    int r = w->result;
    if (r < 0)
        snprintf(err, errsz, "%s", w->err);
    w->result = 0;
    pthread_mutex_unlock(&w->mu);
    return r;
}

static void writer_stop(store_t *s)
{
    store_writer_t *w = &s->writer;
    if (!w->started)
        return;
    pthread_mutex_lock(&w->mu);
    while (w->busy) /* a submitted batch is written before the store closes */
        pthread_cond_wait(&w->cv, &w->mu);
    w->stop = true;
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->thread, NULL);
    w->started = false;
}

void store_put_be64(uint8_t out[8], uint64_t v)
{
    for (int i = 7; i >= 0; i--) {
        out[i] = (uint8_t)v;
        v >>= 8;
    }
}

uint64_t store_get_be64(const uint8_t in[8])
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = (v << 8) | in[i];
    return v;
}

void store_offset_key(hf_buf_t *key, const char *topic, int32_t partition)
{
    hf_buf_reset(key);
    uint8_t p[5] = {0, (uint8_t)((uint32_t)partition >> 24), (uint8_t)((uint32_t)partition >> 16),
                    (uint8_t)((uint32_t)partition >> 8), (uint8_t)partition};
    /* Out of memory here leaves the key short; the get then finds nothing and the
     * write fails loudly, which is the right outcome for a process out of memory. */
    (void)hf_buf_append_str(key, topic);
    (void)hf_buf_append(key, p, sizeof(p));
}

void store_offset_encode(const store_offset_t *o, uint8_t out[STORE_OFFSET_VALUE_SIZE])
{
    store_put_be64(out, (uint64_t)o->next);
    store_put_be64(out + 8, (uint64_t)o->partition_time);
}

bool store_offset_decode(const void *val, size_t len, store_offset_t *o)
{
    if (len != 8 && len != STORE_OFFSET_VALUE_SIZE)
        return false;
    o->next = (int64_t)store_get_be64(val);
    o->partition_time = len == 8 ? INT64_MIN : (int64_t)store_get_be64((const uint8_t *)val + 8);
    return true;
}

int store_offset_get(store_t *s, const char *topic, int32_t partition, store_offset_t *o, char *err,
                     size_t errsz)
{
    hf_buf_t key = HF_BUF_INIT, val = HF_BUF_INIT;
    store_offset_key(&key, topic, partition);
    int r = store_get(s, STORE_CF_OFFSETS, key.data, key.len, &val, err, errsz);
    if (r == 0 && !store_offset_decode(val.data, val.len, o)) {
        snprintf(err, errsz, "offsets of %s/%d: %zu bytes, expected 8 or %d", topic, partition,
                 val.len, STORE_OFFSET_VALUE_SIZE);
        r = -EIO;
    }
    hf_buf_free(&key);
    hf_buf_free(&val);
    return r;
}

/* ---- summaries owed to accounts ------------------------------------------------ */

static void put_be32(uint8_t out[4], uint32_t v)
{
    out[0] = (uint8_t)(v >> 24);
    out[1] = (uint8_t)(v >> 16);
    out[2] = (uint8_t)(v >> 8);
    out[3] = (uint8_t)v;
}

static uint32_t get_be32(const uint8_t in[4])
{
    return (uint32_t)in[0] << 24 | (uint32_t)in[1] << 16 | (uint32_t)in[2] << 8 | in[3];
}

void store_owed_key(uint8_t out[STORE_OWED_KEY_SIZE], int32_t partition)
{
    put_be32(out, (uint32_t)partition);
}

bool store_owed_key_decode(const void *key, size_t len, int32_t *partition)
{
    if (len != STORE_OWED_KEY_SIZE)
        return false;
    uint32_t p = get_be32(key);
    if (p > INT32_MAX)
        return false;
    *partition = (int32_t)p;
    return true;
}

int store_owed_encode(hf_buf_t *out, uint32_t records, char *const *ids, size_t count)
{
    uint8_t head[8];
    put_be32(head, records);
    put_be32(head + 4, (uint32_t)count);
    hf_buf_reset(out);
    if (count > UINT32_MAX || hf_buf_append(out, head, sizeof head) < 0)
        return -ENOMEM;
    for (size_t i = 0; i < count; i++)
        if (hf_buf_append(out, ids[i], strlen(ids[i]) + 1) < 0)
            return -ENOMEM;
    return 0;
}

int store_owed_decode(const void *val, size_t len, uint32_t *records, size_t *count,
                      int (*fn)(void *opaque, const char *id), void *opaque)
{
    const uint8_t *b = val;
    if (len < 8)
        return STORE_MALFORMED;
    uint32_t n = get_be32(b + 4);
    /* n ids, each non-empty and NUL-terminated, and nothing after them */
    size_t seen = 0, at = 8;
    while (at < len) {
        const uint8_t *nul = memchr(b + at, 0, len - at);
        if (!nul || nul == b + at)
            return STORE_MALFORMED;
        at = (size_t)(nul - b) + 1;
        seen++;
    }
    if (seen != n)
        return STORE_MALFORMED;
    *records = get_be32(b);
    *count = n;
    for (at = 8; fn && at < len; at += strlen((const char *)b + at) + 1) {
        int r = fn(opaque, (const char *)b + at);
        if (r)
            return r;
    }
    return 0;
}

int store_scan(store_t *s, store_cf_t cf, store_visit_fn fn, void *opaque, char *err, size_t errsz)
{
    if (!s->cf[cf])
        return 0; /* read-only, a column family the store does not have */
    rocksdb_iterator_t *it = rocksdb_create_iterator_cf(s->db, s->read_options, s->cf[cf]);
    int r = 0;
    for (rocksdb_iter_seek_to_first(it); rocksdb_iter_valid(it); rocksdb_iter_next(it)) {
        size_t kl, vl;
        const char *k = rocksdb_iter_key(it, &kl);
        const char *v = rocksdb_iter_value(it, &vl);
        r = fn(opaque, k, kl, v, vl);
        if (r)
            break;
    }
    if (r == 0) {
        char *rerr = NULL;
        rocksdb_iter_get_error(it, &rerr);
        if (rerr)
            r = store_fail(rerr, "scan", err, errsz);
    }
    rocksdb_iter_destroy(it);
    return r;
}

/* ---- snapshot readers ------------------------------------------------------------ */

struct store_snapshot {
    store_t *store;
    const rocksdb_snapshot_t *snap;
    rocksdb_readoptions_t *read_options; /* with the snapshot set; this reader's own */
    int64_t written_ms;
};

int store_snapshot_new(store_snapshot_t **out, store_t *s)
{
    store_snapshot_t *v = calloc(1, sizeof(*v));
    if (!v)
        return -ENOMEM;
    v->store = s;
    v->read_options = rocksdb_readoptions_create();
    /* the time first: a write landing in between is then in the snapshot but not
     * named by the time, which errs on the old side */
    v->written_ms = atomic_load(&s->written_ms);
    v->snap = rocksdb_create_snapshot(s->db);
    if (!v->read_options || !v->snap) {
        store_snapshot_free(v);
        return -ENOMEM;
    }
    rocksdb_readoptions_set_snapshot(v->read_options, v->snap);
    *out = v;
    return 0;
}

void store_snapshot_free(store_snapshot_t *v)
{
    if (!v)
        return;
    if (v->snap)
        rocksdb_release_snapshot(v->store->db, v->snap);
    if (v->read_options)
        rocksdb_readoptions_destroy(v->read_options);
    free(v);
}

int64_t store_snapshot_written_ms(const store_snapshot_t *v)
{
    return v->written_ms;
}

int store_snapshot_get(const store_snapshot_t *v, store_cf_t cf, const void *key, size_t key_len,
                       hf_buf_t *val, char *err, size_t errsz)
{
    if (!v->store->cf[cf])
        return STORE_NOT_FOUND;
    char *rerr = NULL;
    size_t len = 0;
    char *got =
        rocksdb_get_cf(v->store->db, v->read_options, v->store->cf[cf], key, key_len, &len, &rerr);
    if (rerr)
        return store_fail(rerr, "get", err, errsz);
    if (!got)
        return STORE_NOT_FOUND;
    hf_buf_reset(val);
    int r = hf_buf_append(val, got, len);
    rocksdb_free(got);
    if (r < 0)
        snprintf(err, errsz, "out of memory");
    return r;
}

int store_snapshot_scan_prefix(const store_snapshot_t *v, store_cf_t cf, const void *prefix,
                               size_t prefix_len, store_visit_fn fn, void *opaque, char *err,
                               size_t errsz)
{
    if (!v->store->cf[cf])
        return 0;
    rocksdb_iterator_t *it =
        rocksdb_create_iterator_cf(v->store->db, v->read_options, v->store->cf[cf]);
    int r = 0;
    for (rocksdb_iter_seek(it, prefix, prefix_len); rocksdb_iter_valid(it); rocksdb_iter_next(it)) {
        size_t kl, vl;
        const char *k = rocksdb_iter_key(it, &kl);
        if (kl < prefix_len || memcmp(k, prefix, prefix_len) != 0)
            break; /* keys are in order: past the prefix */
        const char *val = rocksdb_iter_value(it, &vl);
        if ((r = fn(opaque, k, kl, val, vl)) != 0)
            break;
    }
    if (r == 0) {
        char *rerr = NULL;
        rocksdb_iter_get_error(it, &rerr);
        if (rerr)
            r = store_fail(rerr, "scan", err, errsz);
    }
    rocksdb_iter_destroy(it);
    return r;
}

/* ---- for /metrics ---- */

size_t store_batch_bytes(const store_batch_t *b)
{
    size_t size = 0;
    rocksdb_writebatch_data(b->wb, &size);
    return size;
}

int64_t store_property_uint(store_t *s, const char *name)
{
    uint64_t sum = 0;
    for (int i = 0; i < STORE_CF__COUNT; i++) {
        uint64_t v = 0;
        if (!s->cf[i])
            continue;
        if (rocksdb_property_int_cf(s->db, s->cf[i], name, &v) != 0)
            return -1;
        sum += v;
    }
    return (int64_t)sum;
}

uint64_t store_block_cache_usage(store_t *s)
{
    return (uint64_t)rocksdb_cache_get_usage(s->block_cache);
}
