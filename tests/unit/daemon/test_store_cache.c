/* Unit tests of the daemon's state plumbing: the RocksDB store, the record cache in
 * front of it, and the persisted counters. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <rocksdb/c.h>
#include <unistd.h>

#include "daemon/cache.h"
#include "daemon/metrics.h"
#include "daemon/store.h"
#include "processors/model/state.h"
#include "tmp_store.h"

typedef tmp_store_t fixture_t;

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof(*f));
    tmp_store_open(f);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    tmp_store_remove(f);
    free(f);
    return 0;
}

static void reopen(fixture_t *f, bool read_only)
{
    char err[256];
    store_close(f->store);
    f->store = NULL;
    assert_int_equal(store_open(&f->store, f->dir, read_only, err, sizeof(err)), 0);
}

static void test_batch_is_atomic_and_durable(void **state)
{
    fixture_t *f = *state;
    char err[256];
    hf_buf_t val = HF_BUF_INIT, key = HF_BUF_INIT;
    store_batch_t *b = store_batch_new(f->store);
    store_batch_put(b, STORE_CF_CONTACT, "c-1", 3, "state-1", 7);
    store_batch_put(b, STORE_CF_IDENTITY, "a-1", 3, "anon", 4);
    uint8_t off[8];
    store_put_be64(off, 42);
    store_offset_key(&key, "mkt.web.visits", 3);
    store_batch_put(b, STORE_CF_OFFSETS, key.data, key.len, off, 8);
    uint8_t off2[STORE_OFFSET_VALUE_SIZE];
    store_offset_encode(&(store_offset_t){7, -1700000000000LL}, off2);
    store_offset_key(&key, "mkt.forms", 0);
    store_batch_put(b, STORE_CF_OFFSETS, key.data, key.len, off2, sizeof off2);
    assert_int_equal(store_batch_count(b), 4);

    /* Nothing is visible before the write. */
    assert_int_equal(store_get(f->store, STORE_CF_CONTACT, "c-1", 3, &val, err, sizeof(err)),
                     STORE_NOT_FOUND);
    assert_int_equal(store_write(f->store, b, err, sizeof(err)), 0);
    assert_int_equal(store_batch_count(b), 0);
    store_batch_free(b);

    reopen(f, false);
    assert_int_equal(store_get(f->store, STORE_CF_CONTACT, "c-1", 3, &val, err, sizeof(err)), 0);
    assert_int_equal(val.len, 7);
    assert_memory_equal(val.data, "state-1", 7);
    /* Column families are separate key spaces. */
    assert_int_equal(store_get(f->store, STORE_CF_IDENTITY, "c-1", 3, &val, err, sizeof(err)),
                     STORE_NOT_FOUND);
    store_offset_t next = {-1, 0};
    assert_int_equal(store_offset_get(f->store, "mkt.web.visits", 3, &next, err, sizeof(err)), 0);
    assert_int_equal(next.next, 42);
    assert_true(next.partition_time == INT64_MIN); /* an 8-byte row, as older versions wrote */
    assert_int_equal(store_offset_get(f->store, "mkt.forms", 0, &next, err, sizeof(err)), 0);
    assert_int_equal(next.next, 7);
    assert_true(next.partition_time == -1700000000000LL);
    assert_int_equal(store_offset_get(f->store, "mkt.web.visits", 4, &next, err, sizeof(err)),
                     STORE_NOT_FOUND);
    /* A topic whose name is a prefix of another does not collide. */
    assert_int_equal(store_offset_get(f->store, "mkt.web", 3, &next, err, sizeof(err)),
                     STORE_NOT_FOUND);
    hf_buf_free(&val);
    hf_buf_free(&key);
}

static int count_rows(void *opaque, const void *k, size_t kl, const void *v, size_t vl)
{
    (void)k;
    (void)kl;
    (void)v;
    (void)vl;
    (*(int *)opaque)++;
    return 0;
}

static void test_read_only_beside_writer(void **state)
{
    fixture_t *f = *state;
    char err[256];
    store_batch_t *b = store_batch_new(f->store);
    for (int i = 0; i < 10; i++) {
        char k[16];
        int n = snprintf(k, sizeof(k), "c-%d", i);
        store_batch_put(b, STORE_CF_CONTACT, k, (size_t)n, "x", 1);
    }
    assert_int_equal(store_write(f->store, b, err, sizeof(err)), 0);
    store_batch_free(b);

    /* The daemon holds the lock; a read-only open (handoffctl dump) still works and
     * sees what was written, even without a flush. */
    store_t *ro = NULL;
    assert_int_equal(store_open(&ro, f->dir, true, err, sizeof(err)), 0);
    int rows = 0;
    assert_int_equal(store_scan(ro, STORE_CF_CONTACT, count_rows, &rows, err, sizeof(err)), 0);
    assert_int_equal(rows, 10);
    store_close(ro);

    /* A second writer is refused with a message. */
    store_t *second = NULL;
    assert_true(store_open(&second, f->dir, false, err, sizeof(err)) < 0);
    assert_null(second);
    assert_non_null(strstr(err, "lock"));
}

/* A store written before a column family existed (the "owed" one came with
 * accounts.member_updates: coalesced): the daemon creates it on open; a read-only
 * open (handoffctl dump beside an older daemon) reads it as empty. */
static void test_column_family_added_later(void **state)
{
    fixture_t *f = *state;
    char err[256];
    store_batch_t *b = store_batch_new(f->store);
    store_batch_put(b, STORE_CF_CONTACT, "c-1", 3, "x", 1);
    assert_int_equal(store_write(f->store, b, err, sizeof(err)), 0);
    store_batch_free(b);
    store_close(f->store);
    f->store = NULL;

    /* the store as an older version left it: without "owed" */
    rocksdb_options_t *o = rocksdb_options_create();
    const char *names[STORE_CF__COUNT];
    const rocksdb_options_t *opts[STORE_CF__COUNT];
    rocksdb_column_family_handle_t *h[STORE_CF__COUNT];
    for (int i = 0; i < STORE_CF__COUNT; i++) {
        names[i] = store_cf_name((store_cf_t)i);
        opts[i] = o;
    }
    char *rerr = NULL;
    rocksdb_t *db = rocksdb_open_column_families(o, f->dir, STORE_CF__COUNT, names, opts, h, &rerr);
    assert_null(rerr);
    rocksdb_drop_column_family(db, h[STORE_CF_OWED], &rerr);
    assert_null(rerr);
    /* nor "team" (the daily digest's) */
    rocksdb_drop_column_family(db, h[STORE_CF_TEAM], &rerr);
    assert_null(rerr);
    for (int i = 0; i < STORE_CF__COUNT; i++)
        rocksdb_column_family_handle_destroy(h[i]);
    rocksdb_close(db);
    rocksdb_options_destroy(o);

    reopen(f, true);
    int rows = 0;
    assert_int_equal(store_scan(f->store, STORE_CF_OWED, count_rows, &rows, err, sizeof(err)), 0);
    assert_int_equal(rows, 0);
    assert_int_equal(store_scan(f->store, STORE_CF_TEAM, count_rows, &rows, err, sizeof(err)), 0);
    assert_int_equal(rows, 0);
    assert_int_equal(store_scan(f->store, STORE_CF_CONTACT, count_rows, &rows, err, sizeof(err)),
                     0);
    assert_int_equal(rows, 1);
    hf_buf_t v = HF_BUF_INIT;
    uint8_t key[STORE_OWED_KEY_SIZE];
    store_owed_key(key, 0);
    assert_int_equal(store_get(f->store, STORE_CF_OWED, key, sizeof key, &v, err, sizeof(err)),
                     STORE_NOT_FOUND);
    assert_true(store_property_uint(f->store, "rocksdb.estimate-num-keys") >= 1);

    /* the daemon's open creates it, and it is written like any other */
    reopen(f, false);
    b = store_batch_new(f->store);
    store_batch_put(b, STORE_CF_OWED, key, sizeof key, "\0\0\0\1\0\0\0\0", 8);
    store_batch_put(b, STORE_CF_TEAM, "emea", 4, "t", 1);
    assert_int_equal(store_write(f->store, b, err, sizeof(err)), 0);
    store_batch_free(b);
    reopen(f, true);
    assert_int_equal(store_get(f->store, STORE_CF_OWED, key, sizeof key, &v, err, sizeof(err)), 0);
    assert_int_equal(v.len, 8);
    assert_int_equal(store_get(f->store, STORE_CF_TEAM, "emea", 4, &v, err, sizeof(err)), 0);
    assert_int_equal(v.len, 1);
    hf_buf_free(&v);
}

/* ---- cache ------------------------------------------------------------------ */

/* A state of the tests: a counter, serialised as decimal text. */
typedef struct counter {
    int value;
} counter_t;

static int frees;

static int counter_encode(const void *s, hf_buf_t *out)
{
    return hf_buf_printf(out, "%d", ((const counter_t *)s)->value);
}

static int counter_decode(void **out, const void *buf, size_t len)
{
    char text[32];
    if (len == 0 || len >= sizeof(text))
        return HF_STATE_CORRUPT;
    memcpy(text, buf, len);
    text[len] = 0;
    char *end;
    long v = strtol(text, &end, 10);
    if (*end)
        return HF_STATE_CORRUPT;
    counter_t *c = malloc(sizeof(*c));
    if (!c)
        return -ENOMEM;
    c->value = (int)v;
    *out = c;
    return 0;
}

static void counter_free(void *s)
{
    frees++;
    free(s);
}

static const cache_ops_t counter_ops = {counter_encode, counter_decode, counter_free};

static void bump(cache_t *c, const char *key)
{
    char err[256];
    cache_entry_t *e;
    assert_int_equal(cache_get(c, key, &e, err, sizeof(err)), 0);
    if (!e->state) {
        counter_t *n = calloc(1, sizeof(*n));
        cache_entry_set(c, e, n);
    }
    ((counter_t *)e->state)->value++;
    cache_entry_touch(e);
}

static int commit(fixture_t *f, cache_t *c)
{
    char err[256];
    store_batch_t *b = store_batch_new(f->store);
    long n = cache_flush(c, b, err, sizeof(err));
    assert_true(n >= 0);
    assert_int_equal(store_write(f->store, b, err, sizeof(err)), 0);
    store_batch_free(b);
    cache_commit(c);
    return (int)n;
}

static int stored_value(fixture_t *f, const char *key)
{
    char err[256];
    hf_buf_t v = HF_BUF_INIT;
    int r = store_get(f->store, STORE_CF_CONTACT, key, strlen(key), &v, err, sizeof(err));
    int value = r == 0 ? atoi((const char *)v.data) : -1;
    hf_buf_free(&v);
    return value;
}

static void test_cache_writes_each_dirty_key_once(void **state)
{
    fixture_t *f = *state;
    cache_t *c = cache_new(&counter_ops, f->store, STORE_CF_CONTACT, 100);
    for (int i = 0; i < 50; i++)
        bump(c, "c-hot");
    bump(c, "c-cold");
    /* Nothing reaches the store before a commit; then one write per key. */
    assert_int_equal(stored_value(f, "c-hot"), -1);
    assert_int_equal(commit(f, c), 2);
    assert_int_equal(stored_value(f, "c-hot"), 50);
    assert_int_equal(stored_value(f, "c-cold"), 1);
    /* Clean entries are not written again. */
    assert_int_equal(commit(f, c), 0);
    bump(c, "c-cold");
    assert_int_equal(commit(f, c), 1);
    assert_int_equal(stored_value(f, "c-cold"), 2);
    cache_free(c);
}

static void test_cache_evicts_clean_lru_and_reloads(void **state)
{
    fixture_t *f = *state;
    cache_t *c = cache_new(&counter_ops, f->store, STORE_CF_CONTACT, 3);
    char key[16];
    for (int i = 0; i < 10; i++) {
        snprintf(key, sizeof(key), "c-%d", i);
        bump(c, key);
    }
    /* Dirty entries are never evicted before they are written. */
    assert_int_equal(cache_size(c), 10);
    assert_int_equal(commit(f, c), 10);
    assert_int_equal(cache_size(c), 3);
    /* An evicted key comes back from the store with its value. */
    bump(c, "c-0");
    assert_int_equal(commit(f, c), 1);
    assert_int_equal(stored_value(f, "c-0"), 2);
    /* The most recently used survive: c-9 was bumped last before the commit. */
    frees = 0;
    cache_clear(c);
    assert_int_equal(cache_size(c), 0);
    assert_true(frees >= 1);
    bump(c, "c-9");
    assert_int_equal(commit(f, c), 1);
    assert_int_equal(stored_value(f, "c-9"), 2);
    cache_free(c);
}

/* The commit protocol with the writer thread: flush (entries clean), hand the batch
 * over, go on changing entries, wait, then evict.  An entry changed while its
 * previous value was being written stays in memory (dirty) and goes into the next
 * batch; nothing is read back stale. */
static void test_cache_with_background_writes(void **state)
{
    fixture_t *f = *state;
    char err[256];
    cache_t *c = cache_new(&counter_ops, f->store, STORE_CF_CONTACT, 2);
    store_batch_t *b1 = store_batch_new(f->store), *b2 = store_batch_new(f->store);
    for (int round = 0; round < 50; round++) {
        char key[16];
        for (int i = 0; i < 6; i++) {
            snprintf(key, sizeof(key), "c-%d", i);
            bump(c, key);
        }
        store_batch_t *b = round % 2 ? b2 : b1;
        assert_int_equal(cache_flush(c, b, err, sizeof(err)), 6);
        assert_int_equal(store_write_submit(f->store, b, err, sizeof(err)), 0);
        /* while it is written: c-0 and c-5 change again */
        bump(c, "c-0");
        bump(c, "c-5");
        assert_int_equal(store_write_wait(f->store, err, sizeof(err)), 0);
        assert_int_equal(store_batch_count(b), 0);
        cache_commit(c);
        /* the bound is 2: the clean ones went, the changed ones stayed */
        assert_int_equal(cache_size(c), 2);
        assert_int_equal(stored_value(f, "c-3"), round + 1);
        assert_int_equal(stored_value(f, "c-0"), 2 * round + 1);
        store_batch_t *next = round % 2 ? b1 : b2;
        assert_int_equal(cache_flush(c, next, err, sizeof(err)), 2);
        assert_int_equal(store_write_submit(f->store, next, err, sizeof(err)), 0);
        assert_int_equal(store_write_wait(f->store, err, sizeof(err)), 0);
        cache_commit(c);
        assert_int_equal(stored_value(f, "c-0"), 2 * round + 2);
        assert_int_equal(stored_value(f, "c-5"), 2 * round + 2);
    }
    /* nothing submitted: waiting returns at once */
    assert_int_equal(store_write_wait(f->store, err, sizeof(err)), 0);
    store_batch_free(b1);
    store_batch_free(b2);
    cache_free(c);
}

static void test_cache_grows_past_initial_buckets(void **state)
{
    fixture_t *f = *state;
    cache_t *c = cache_new(&counter_ops, f->store, STORE_CF_CONTACT, 100000);
    char key[32];
    for (int i = 0; i < 5000; i++) {
        snprintf(key, sizeof(key), "contact-%d", i);
        bump(c, key);
        if (i % 2 == 0)
            bump(c, key);
    }
    assert_int_equal(cache_size(c), 5000);
    assert_int_equal(commit(f, c), 5000);
    assert_int_equal(stored_value(f, "contact-4998"), 2);
    assert_int_equal(stored_value(f, "contact-4999"), 1);
    cache_free(c);
}

static void test_cache_reports_corrupt_state(void **state)
{
    fixture_t *f = *state;
    char err[256];
    store_batch_t *b = store_batch_new(f->store);
    store_batch_put(b, STORE_CF_CONTACT, "c-bad", 5, "not a number", 12);
    assert_int_equal(store_write(f->store, b, err, sizeof(err)), 0);
    store_batch_free(b);
    cache_t *c = cache_new(&counter_ops, f->store, STORE_CF_CONTACT, 10);
    cache_entry_t *e = NULL;
    assert_int_equal(cache_get(c, "c-bad", &e, err, sizeof(err)), HF_STATE_CORRUPT);
    assert_non_null(strstr(err, "c-bad"));
    /* A miss is remembered as an entry without state. */
    assert_int_equal(cache_get(c, "c-new", &e, err, sizeof(err)), 0);
    assert_null(e->state);
    cache_free(c);
}

/* ---- metrics ---------------------------------------------------------------- */

static void test_metrics_survive_restart(void **state)
{
    fixture_t *f = *state;
    char err[256];
    metrics_t *m = metrics_new();
    metrics_inc(metrics_counters(m), M_HANDOFFS, 3);
    metrics_inc(metrics_counters(m), M_CONSUMED, 100);
    assert_int_equal(metrics_add_named(m, "handoffs", "hand_raiser", 2), 0);
    assert_int_equal(metrics_add_named(m, "handoffs", "high_intent", 1), 0);
    assert_int_equal(metrics_add_named(m, "dlq", "framing", 4), 0);
    store_batch_t *b = store_batch_new(f->store);
    metrics_flush(m, b);
    assert_int_equal(store_write(f->store, b, err, sizeof(err)), 0);
    /* Unchanged counters are not rewritten. */
    metrics_flush(m, b);
    assert_int_equal(store_batch_count(b), 0);
    store_batch_free(b);
    metrics_free(m);

    reopen(f, false);
    m = metrics_new();
    assert_int_equal(metrics_load(m, f->store, err, sizeof(err)), 0);
    assert_int_equal(metrics_counters(m)[M_HANDOFFS], 3);
    assert_int_equal(metrics_counters(m)[M_CONSUMED], 100);
    assert_int_equal(metrics_named(m, "handoffs", "hand_raiser"), 2);
    char text[256];
    assert_int_equal(metrics_group_text(m, "handoffs", text, sizeof(text)), 3);
    assert_string_equal(text, "hand_raiser=2, high_intent=1");
    assert_int_equal(metrics_group_text(m, "dlq", text, sizeof(text)), 4);
    assert_int_equal(metrics_group_text(m, "gaps", text, sizeof(text)), 0);
    assert_string_equal(text, "");
    metrics_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_batch_is_atomic_and_durable, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_only_beside_writer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_column_family_added_later, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cache_writes_each_dirty_key_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cache_evicts_clean_lru_and_reloads, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cache_with_background_writes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cache_grows_past_initial_buckets, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cache_reports_corrupt_state, setup, teardown),
        cmocka_unit_test_setup_teardown(test_metrics_survive_restart, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
