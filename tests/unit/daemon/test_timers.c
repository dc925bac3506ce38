/* Unit tests of the timers store (daemon/timers.c): the index of SLA deadlines by
 * time, in memory and in the store's `timers` column family. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/store.h"
#include "daemon/timers.h"
#include "tmp_store.h"

typedef struct fixture {
    tmp_store_t tmp;
    store_t *store; /* tmp.store */
    timers_t *t;
} fixture_t;

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof(*f));
    tmp_store_open(&f->tmp);
    f->store = f->tmp.store;
    f->t = timers_new();
    assert_non_null(f->t);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    timers_free(f->t);
    tmp_store_remove(&f->tmp);
    free(f);
    return 0;
}

/* Writes what changed since the last flush to the store. */
static void flush(fixture_t *f)
{
    char err[256];
    store_batch_t *b = store_batch_new(f->store);
    assert_non_null(b);
    timers_flush(f->t, b);
    assert_int_equal(store_write(f->store, b, err, sizeof err), 0);
    store_batch_free(b);
}

/* Pops everything due by @now into @ids ("c:<id>" / "a:<id>", in order). */
static size_t pop_all(timers_t *t, int64_t now, char ids[][32], size_t max)
{
    size_t n = 0;
    hf_entity_type_t type;
    const char *id;
    while (n < max && timers_pop_due(t, now, &type, &id))
        snprintf(ids[n++], 32, "%c:%s", type == HF_ENTITY_ACCOUNT ? 'a' : 'c', id);
    return n;
}

static bool own_all(void *opaque, hf_entity_type_t type, const char *id)
{
    (void)opaque;
    (void)type;
    (void)id;
    return true;
}

static bool own_contacts(void *opaque, hf_entity_type_t type, const char *id)
{
    (void)opaque;
    (void)id;
    return type == HF_ENTITY_CONTACT;
}

/* Earliest first, whatever the order of setting; a moved deadline counts once. */
static void test_pops_in_due_order(void **state)
{
    fixture_t *f = *state;
    assert_int_equal(timers_set(f->t, HF_ENTITY_CONTACT, "c-3", 300), 0);
    assert_int_equal(timers_set(f->t, HF_ENTITY_CONTACT, "c-1", 100), 0);
    assert_int_equal(timers_set(f->t, HF_ENTITY_ACCOUNT, "acme", 200), 0);
    assert_int_equal(timers_set(f->t, HF_ENTITY_CONTACT, "c-2", 50), 0);
    assert_int_equal(timers_set(f->t, HF_ENTITY_CONTACT, "c-2", 250), 0); /* moved later */
    assert_int_equal(timers_set(f->t, HF_ENTITY_CONTACT, "c-3", 0), 0);   /* removed */
    assert_int_equal(timers_count(f->t), 3);
    assert_int_equal(timers_next(f->t), 100);
    assert_int_equal(timers_get(f->t, HF_ENTITY_CONTACT, "c-2"), 250);

    char ids[8][32];
    assert_int_equal(pop_all(f->t, 99, ids, 8), 0);
    assert_int_equal(pop_all(f->t, 1000, ids, 8), 3);
    assert_string_equal(ids[0], "c:c-1");
    assert_string_equal(ids[1], "a:acme");
    assert_string_equal(ids[2], "c:c-2");
    assert_int_equal(timers_count(f->t), 0);
    assert_int_equal(timers_next(f->t), 0);
}

/* The store keeps what was flushed; a popped entity not set again is deleted; a load
 * takes only what the filter owns. */
static void test_flush_and_load(void **state)
{
    fixture_t *f = *state;
    char err[256], ids[8][32];
    timers_set(f->t, HF_ENTITY_CONTACT, "c-1", 100);
    timers_set(f->t, HF_ENTITY_CONTACT, "c-2", 200);
    timers_set(f->t, HF_ENTITY_ACCOUNT, "acme", 300);
    flush(f);
    /* c-1 fires and has nothing more; c-2's deadline moves */
    assert_int_equal(pop_all(f->t, 150, ids, 8), 1);
    timers_set(f->t, HF_ENTITY_CONTACT, "c-2", 400);
    flush(f);

    timers_t *again = timers_new();
    assert_int_equal(timers_load(again, f->store, own_all, NULL, err, sizeof err), 2);
    assert_int_equal(timers_get(again, HF_ENTITY_CONTACT, "c-1"), 0);
    assert_int_equal(timers_get(again, HF_ENTITY_CONTACT, "c-2"), 400);
    assert_int_equal(timers_get(again, HF_ENTITY_ACCOUNT, "acme"), 300);
    timers_clear(again);
    assert_int_equal(timers_count(again), 0);
    assert_int_equal(timers_load(again, f->store, own_contacts, NULL, err, sizeof err), 1);
    assert_int_equal(timers_next(again), 400);
    /* a loaded entry is not written again until it changes */
    store_batch_t *b = store_batch_new(f->store);
    timers_flush(again, b);
    assert_int_equal(store_batch_count(b), 0);
    store_batch_free(b);
    timers_free(again);
}

/* A team's digest instant (TIMERS_TEAM) beside a contact and an account of the same
 * id: three entries, popped, flushed and loaded with their types. */
static void test_team_entries(void **state)
{
    fixture_t *f = *state;
    char err[256];
    assert_int_equal(timers_set(f->t, TIMERS_TEAM, "emea", 100), 0);
    assert_int_equal(timers_set(f->t, HF_ENTITY_ACCOUNT, "emea", 200), 0);
    assert_int_equal(timers_set(f->t, HF_ENTITY_CONTACT, "emea", 300), 0);
    assert_int_equal(timers_count(f->t), 3);
    assert_int_equal(timers_get(f->t, TIMERS_TEAM, "emea"), 100);
    flush(f);
    hf_entity_type_t type;
    const char *id;
    assert_true(timers_pop_due(f->t, 150, &type, &id));
    assert_int_equal(type, TIMERS_TEAM);
    assert_string_equal(id, "emea");
    assert_int_equal(timers_set(f->t, TIMERS_TEAM, "emea", 1000), 0);
    flush(f);

    timers_t *again = timers_new();
    assert_int_equal(timers_load(again, f->store, own_all, NULL, err, sizeof err), 3);
    assert_int_equal(timers_get(again, TIMERS_TEAM, "emea"), 1000);
    assert_int_equal(timers_get(again, HF_ENTITY_ACCOUNT, "emea"), 200);
    timers_clear(again);
    /* the filter sees the team's type */
    assert_int_equal(timers_load(again, f->store, own_contacts, NULL, err, sizeof err), 1);
    assert_int_equal(timers_get(again, TIMERS_TEAM, "emea"), 0);
    timers_free(again);
}

/* Many deadlines set, moved and removed across flushes: the heap never keeps an item
 * of an entry a flush freed (ASan checks the reads), and every live deadline pops
 * once, in order. */
static void test_churn_across_flushes(void **state)
{
    fixture_t *f = *state;
    enum { N = 2000 };
    char id[32];
    for (int round = 0; round < 4; round++) {
        for (int i = 0; i < N; i++) {
            snprintf(id, sizeof id, "c-%d", i);
            /* even ids removed in odd rounds, all moved in even rounds */
            int64_t due = round % 2 && i % 2 == 0 ? 0 : 1000 + (int64_t)((i * 7919 + round) % N);
            assert_int_equal(timers_set(f->t, HF_ENTITY_CONTACT, id, due), 0);
        }
        flush(f);
        /* set again after the flush: pushes that rebuild the heap */
        for (int i = 0; i < N / 2; i++) {
            snprintf(id, sizeof id, "c-%d", i);
            assert_int_equal(timers_set(f->t, HF_ENTITY_CONTACT, id, 5000 + i), 0);
        }
    }
    size_t live = timers_count(f->t);
    assert_int_equal(live, N / 2 + N / 4); /* the first half, and the odd ids above it */
    int64_t last = 0;
    size_t popped = 0;
    hf_entity_type_t type;
    const char *p;
    for (size_t n = 0; n < 2 * N && timers_pop_due(f->t, INT64_MAX - 1, &type, &p); n++) {
        int64_t due = timers_next(f->t);
        assert_true(due == 0 || due >= last);
        last = due;
        popped++;
    }
    assert_int_equal(popped, live);
    flush(f);
    char err[256];
    timers_t *again = timers_new();
    assert_int_equal(timers_load(again, f->store, own_all, NULL, err, sizeof err), 0);
    timers_free(again);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_pops_in_due_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_flush_and_load, setup, teardown),
        cmocka_unit_test_setup_teardown(test_churn_across_flushes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_team_entries, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
