/* Unit tests of the partition group: event-time order across queues, holding back
 * for lagging queues however long, the idle timeout of caught-up ones. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>

#include "daemon/pgroup.h"

typedef struct lagging {
    bool lag[8];
} lagging_t;

static bool lag_of(void *opaque, size_t q)
{
    return ((lagging_t *)opaque)->lag[q];
}

/* Records are their own time, boxed. */
static void *rec(int64_t ts)
{
    int64_t *r = malloc(sizeof(*r));
    *r = ts;
    return r;
}

static int64_t take(pgroup_t *g, int64_t now, size_t *q)
{
    void *r = NULL;
    assert_int_equal(pgroup_next(g, now, &r, q), PGROUP_READY);
    int64_t ts = *(int64_t *)r;
    free(r);
    return ts;
}

static void test_oldest_head_first_offset_order_kept(void **state)
{
    (void)state;
    lagging_t lag = {{false}};
    pgroup_t *g = pgroup_new(3, 0, lag_of, &lag);
    /* Queue 0 is out of order inside: offset order must win within a queue. */
    int64_t q0[] = {10, 50, 20}, q1[] = {5, 30, 60}, q2[] = {40};
    for (int i = 0; i < 3; i++)
        pgroup_push(g, 0, rec(q0[i]), q0[i]);
    for (int i = 0; i < 3; i++)
        pgroup_push(g, 1, rec(q1[i]), q1[i]);
    pgroup_push(g, 2, rec(q2[0]), q2[0]);
    assert_int_equal(pgroup_total(g), 7);
    int64_t want[] = {5, 10, 30, 40, 50, 20, 60};
    size_t want_q[] = {1, 0, 1, 2, 0, 0, 1};
    for (int i = 0; i < 7; i++) {
        size_t q;
        assert_int_equal(take(g, 1, &q), want[i]);
        assert_int_equal(q, want_q[i]);
    }
    void *r;
    size_t q;
    assert_int_equal(pgroup_next(g, 1, &r, &q), PGROUP_EMPTY);
    pgroup_free(g, free);
}

static void test_lagging_queue_holds_back_only_newer_records(void **state)
{
    (void)state;
    lagging_t lag = {{false}};
    pgroup_t *g = pgroup_new(2, 0, lag_of, &lag);
    size_t q;
    void *r;
    /* Queue 1 has seen time 25, is empty now and has more on the broker. */
    pgroup_push(g, 1, rec(25), 25);
    assert_int_equal(take(g, 1, &q), 25);
    lag.lag[1] = true;
    pgroup_refresh(g, 1);
    pgroup_push(g, 0, rec(20), 20);
    pgroup_push(g, 0, rec(30), 30);
    /* 20 is older than anything queue 1 can bring: go. */
    assert_int_equal(take(g, 10, &q), 20);
    /* 30 might come after queue 1's next record: wait, however long the fetch takes
     * (a replay must not depend on it) ... */
    assert_int_equal(pgroup_next(g, 10, &r, &q), PGROUP_WAIT);
    assert_int_equal(pgroup_waiting_on(g), 1);
    assert_int_equal(pgroup_next(g, 3600 * 1000, &r, &q), PGROUP_WAIT);
    /* ... until it arrives. */
    pgroup_push(g, 1, rec(27), 27);
    assert_int_equal(take(g, 3600 * 1000, &q), 27);
    assert_int_equal(q, 1);
    /* Caught up now: with no idle timeout it is passed over at once. */
    lag.lag[1] = false;
    pgroup_refresh(g, 3600 * 1000);
    assert_int_equal(take(g, 3600 * 1000, &q), 30);
    pgroup_push(g, 1, rec(45), 45);
    assert_int_equal(take(g, 3600 * 1000 + 1, &q), 45);
    pgroup_push(g, 0, rec(90), 90);
    assert_int_equal(take(g, 3600 * 1000 + 2, &q), 90);
    pgroup_free(g, free);
}

static void test_never_seen_lagging_queue_waits(void **state)
{
    (void)state;
    lagging_t lag = {{false, true}};
    pgroup_t *g = pgroup_new(2, 0, lag_of, &lag);
    size_t q;
    void *r;
    pgroup_refresh(g, 990);
    pgroup_push(g, 0, rec(-5), -5);
    /* Nothing is known of queue 1's next record: it could be older than anything. */
    assert_int_equal(pgroup_next(g, 1000, &r, &q), PGROUP_WAIT);
    assert_int_equal(pgroup_next(g, 1000 + 24 * 3600 * 1000LL, &r, &q), PGROUP_WAIT);
    /* Its partition turns out empty (the first fetch said so): go. */
    lag.lag[1] = false;
    pgroup_refresh(g, 2000);
    assert_int_equal(take(g, 2000, &q), -5);
    pgroup_free(g, free);
}

static void test_idle_caught_up_queues_time_out_together(void **state)
{
    (void)state;
    lagging_t lag = {{false}};
    pgroup_t *g = pgroup_new(4, 100, lag_of, &lag);
    size_t q;
    void *r;
    pgroup_refresh(g, 1000);
    pgroup_push(g, 0, rec(7), 7);
    /* Caught-up queues 1-3 may still be handed a record older than 7: with an idle
     * timeout they hold back for that long, one bound for the three of them. */
    assert_int_equal(pgroup_next(g, 1050, &r, &q), PGROUP_WAIT);
    assert_int_equal(take(g, 1100, &q), 7);
    assert_int_equal(q, 0);
    /* Passed over, they do not hold back again until they get news; queue 0, idle
     * once it gave its record, holds back for the timeout like any other. */
    pgroup_push(g, 0, rec(9), 9);
    assert_int_equal(take(g, 1101, &q), 9);
    pgroup_push(g, 2, rec(8), 8); /* news on queue 2: merged from where the others are */
    pgroup_push(g, 0, rec(10), 10);
    assert_int_equal(take(g, 1102, &q), 8);
    assert_int_equal(q, 2);
    /* Queue 2 is idle again and its next record could be older than 10. */
    assert_int_equal(pgroup_next(g, 1103, &r, &q), PGROUP_WAIT);
    assert_int_equal(pgroup_waiting_on(g), 2);
    assert_int_equal(take(g, 1202, &q), 10);
    pgroup_free(g, free);
}

static void test_clear_drops_everything(void **state)
{
    (void)state;
    lagging_t lag = {{false}};
    pgroup_t *g = pgroup_new(3, 10, lag_of, &lag);
    for (int i = 0; i < 200; i++)
        pgroup_push(g, (size_t)(i % 3), rec(i), i);
    assert_int_equal(pgroup_queue_len(g, 0), 67);
    pgroup_clear(g, free);
    assert_int_equal(pgroup_total(g), 0);
    void *r;
    size_t q;
    assert_int_equal(pgroup_next(g, 1, &r, &q), PGROUP_EMPTY);
    /* Usable again afterwards, and the ring grew past its first size. */
    for (int i = 300; i > 0; i--)
        pgroup_push(g, 1, rec(i), i);
    assert_int_equal(take(g, 1, &q), 300);
    pgroup_free(g, free);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_oldest_head_first_offset_order_kept),
        cmocka_unit_test(test_lagging_queue_holds_back_only_newer_records),
        cmocka_unit_test(test_never_seen_lagging_queue_waits),
        cmocka_unit_test(test_idle_caught_up_queues_time_out_together),
        cmocka_unit_test(test_clear_drops_everything),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
