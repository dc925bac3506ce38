/* Unit tests of the partition group: the order released (partition time, queue,
 * offset) whatever the fetch interleaving, holding back for lagging queues however
 * long, caught-up queues within the allowed lateness until their idle timeout, late
 * records, partition times restored after a restart. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>

#include "daemon/pgroup.h"

#define NO_LATENESS ((pgroup_opts_t){.idle_timeout_ms = 0, .allowed_lateness_ms = 0})
#define HOUR 3600000LL

typedef struct lagging {
    bool lag[16];
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

/* The wall clock the tests' records are judged by: 0 unless a test sets it, so that
 * they are all old (a backlog) and never wait for caught-up queues. */
static int64_t wall;
/* When the records pushed next were fetched (monotonic ms). */
static int64_t fetched_at;

static int64_t take_item(pgroup_t *g, int64_t now, pgroup_item_t *it)
{
    assert_int_equal(pgroup_next(g, now, wall, it), PGROUP_READY);
    int64_t ts = *(int64_t *)it->record;
    assert_true(ts == it->ts);
    free(it->record);
    return ts;
}

static int64_t take(pgroup_t *g, int64_t now, size_t *q)
{
    pgroup_item_t it;
    int64_t ts = take_item(g, now, &it);
    *q = it.q;
    return ts;
}

static pgroup_next_result_t peek(pgroup_t *g, int64_t now)
{
    pgroup_item_t it;
    pgroup_next_result_t r = pgroup_next(g, now, wall, &it);
    assert_int_not_equal(r, PGROUP_READY);
    return r;
}

static void test_partition_time_order_offset_order_kept(void **state)
{
    (void)state;
    lagging_t lag = {{false}};
    pgroup_t *g = pgroup_new(3, &NO_LATENESS, lag_of, &lag);
    /* Unknown until the lag is first read: nothing goes before that. */
    pgroup_push(g, 1, rec(5), 5, fetched_at);
    assert_int_equal(peek(g, 1), PGROUP_WAIT);
    pgroup_refresh(g, 1);
    /* Queue 0 is out of order inside: offset order wins within a queue, and its 20
     * is keyed at its partition time, 50. */
    int64_t q0[] = {10, 50, 20}, q1[] = {30, 60}, q2[] = {40};
    for (int i = 0; i < 3; i++)
        pgroup_push(g, 0, rec(q0[i]), q0[i], fetched_at);
    for (int i = 0; i < 2; i++)
        pgroup_push(g, 1, rec(q1[i]), q1[i], fetched_at);
    pgroup_push(g, 2, rec(q2[0]), q2[0], fetched_at);
    assert_int_equal(pgroup_total(g), 7);
    int64_t want[] = {5, 10, 30, 40, 50, 20, 60};
    int64_t want_key[] = {5, 10, 30, 40, 50, 50, 60};
    size_t want_q[] = {1, 0, 1, 2, 0, 0, 1};
    for (int i = 0; i < 7; i++) {
        pgroup_item_t it;
        assert_int_equal(take_item(g, 1, &it), want[i]);
        assert_int_equal(it.q, want_q[i]);
        assert_int_equal(it.key, want_key[i]);
        /* no lateness allowed: 20 after 50 is 30 ms late */
        assert_int_equal(it.late, want[i] == 20);
        assert_int_equal(it.behind_ms, want[i] == 20 ? 30 : 0);
    }
    assert_int_equal(pgroup_stream_time(g), 60);
    assert_int_equal(pgroup_partition_time(g, 0), 50);
    assert_int_equal(peek(g, 1), PGROUP_EMPTY);
    pgroup_free(g, free);
}

static void test_lagging_queue_holds_back_only_newer_records(void **state)
{
    (void)state;
    lagging_t lag = {{false}};
    pgroup_t *g = pgroup_new(2, &NO_LATENESS, lag_of, &lag);
    size_t q;
    pgroup_refresh(g, 1);
    /* Queue 1 has seen time 25, is empty now and has more on the broker. */
    pgroup_push(g, 1, rec(25), 25, fetched_at);
    assert_int_equal(take(g, 1, &q), 25);
    lag.lag[1] = true;
    pgroup_refresh(g, 1);
    pgroup_push(g, 0, rec(20), 20, fetched_at);
    pgroup_push(g, 0, rec(30), 30, fetched_at);
    /* 20 is older than anything queue 1 can bring: go. */
    assert_int_equal(take(g, 10, &q), 20);
    /* 30 might come after queue 1's next record: wait, however long the fetch takes
     * (a replay must not depend on it) ... */
    assert_int_equal(peek(g, 10), PGROUP_WAIT);
    assert_int_equal(pgroup_waiting_on(g), 1);
    assert_int_equal(peek(g, 24 * HOUR), PGROUP_WAIT);
    /* ... until it arrives. */
    pgroup_push(g, 1, rec(27), 27, fetched_at);
    assert_int_equal(take(g, 24 * HOUR, &q), 27);
    assert_int_equal(q, 1);
    /* Caught up now: with no idle timeout it is passed over at once. */
    lag.lag[1] = false;
    pgroup_refresh(g, 24 * HOUR);
    assert_int_equal(take(g, 24 * HOUR, &q), 30);
    pgroup_push(g, 1, rec(45), 45, fetched_at);
    assert_int_equal(take(g, 24 * HOUR + 1, &q), 45);
    pgroup_free(g, free);
}

static void test_never_seen_lagging_queue_waits(void **state)
{
    (void)state;
    lagging_t lag = {{false, true}};
    pgroup_t *g = pgroup_new(2, &NO_LATENESS, lag_of, &lag);
    size_t q;
    pgroup_refresh(g, 990);
    pgroup_push(g, 0, rec(-5), -5, fetched_at);
    /* Nothing is known of queue 1's next record: it could be older than anything. */
    assert_int_equal(peek(g, 1000), PGROUP_WAIT);
    assert_int_equal(peek(g, 1000 + 24 * HOUR), PGROUP_WAIT);
    /* Its partition turns out empty (the first fetch said so): go. */
    lag.lag[1] = false;
    pgroup_refresh(g, 2000);
    assert_int_equal(take(g, 2000, &q), -5);
    pgroup_free(g, free);
}

/* A caught-up queue holds back the live records (within the allowed lateness of the
 * wall clock) for its idle timeout; older records go at once. */
static void test_caught_up_queue_holds_live_records_until_idle(void **state)
{
    (void)state;
    lagging_t lag = {{false}};
    pgroup_opts_t o = {.idle_timeout_ms = 100, .allowed_lateness_ms = 1000};
    pgroup_t *g = pgroup_new(3, &o, lag_of, &lag);
    size_t q;
    wall = 10000; /* records newer than 9000 are live */
    pgroup_refresh(g, 0);
    pgroup_push(g, 1, rec(9500), 9500, fetched_at);
    /* Queues 0 and 2 are caught up from 0 and may bring something older: 9500 waits
     * for them until their idle timeout. */
    assert_int_equal(peek(g, 99), PGROUP_WAIT);
    assert_int_equal(take(g, 100, &q), 9500);
    assert_int_equal(peek(g, 150), PGROUP_EMPTY);
    /* Queue 0 gets news; queue 1, dry since 100, may still bring something older. */
    fetched_at = 150;
    pgroup_push(g, 0, rec(9600), 9600, fetched_at);
    assert_int_equal(peek(g, 199), PGROUP_WAIT);
    assert_int_equal(pgroup_waiting_on(g), 1);
    assert_int_equal(take(g, 200, &q), 9600);
    /* Queue 0 is dry from 200: caught up, not idle. */
    fetched_at = 205;
    pgroup_push(g, 1, rec(9200), 9200, fetched_at); /* behind the stream: late */
    pgroup_push(g, 1, rec(9900), 9900, fetched_at);
    /* 9200 is behind queue 0's partition time: it goes; 9900 is newer, and queue 0 may
     * still bring something older. */
    pgroup_item_t it;
    assert_int_equal(take_item(g, 210, &it), 9200);
    assert_true(it.late); /* released after 9600 of another partition: out of order */
    assert_int_equal(it.behind_ms, 400);
    assert_int_equal(peek(g, 210), PGROUP_WAIT);
    assert_int_equal(pgroup_waiting_on(g), 0);
    /* Its news comes in time and is merged in order. */
    fetched_at = 215;
    pgroup_push(g, 0, rec(9700), 9700, fetched_at);
    assert_int_equal(take(g, 220, &q), 9700);
    assert_int_equal(q, 0);
    /* Dry again from 220, queue 0 would hold 9900 until 320; but no record waits
     * longer than the idle timeout since it was fetched (205): 9900 goes at 305. */
    assert_int_equal(peek(g, 304), PGROUP_WAIT);
    assert_int_equal(take(g, 305, &q), 9900);
    /* 9950, fetched at 310, waits for queue 0 until it has been dry for the idle
     * timeout (320) ... */
    fetched_at = 310;
    pgroup_push(g, 1, rec(9950), 9950, fetched_at);
    assert_int_equal(peek(g, 319), PGROUP_WAIT);
    assert_int_equal(take(g, 320, &q), 9950);
    /* ... and once idle, it holds nothing back until its next record. */
    fetched_at = 320;
    pgroup_push(g, 1, rec(9960), 9960, fetched_at);
    assert_int_equal(take(g, 321, &q), 9960);
    /* Ten seconds later those times are old: a record of then does not wait for
     * queue 1, caught up at 321 with an older partition time. */
    wall = 20000;
    pgroup_push(g, 0, rec(9990), 9990, fetched_at);
    assert_int_equal(take(g, 322, &q), 9990);
    wall = 0;
    fetched_at = 0;
    pgroup_free(g, free);
}

/* A record of an idle queue that comes later than the allowed lateness behind the
 * stream, or behind its own partition, is late. */
static void test_late_records(void **state)
{
    (void)state;
    lagging_t lag = {{false}};
    pgroup_opts_t o = {.idle_timeout_ms = 10, .allowed_lateness_ms = 1000};
    pgroup_t *g = pgroup_new(2, &o, lag_of, &lag);
    pgroup_refresh(g, 0);
    pgroup_item_t it;
    pgroup_push(g, 0, rec(10000), 10000, fetched_at);
    assert_int_equal(take_item(g, 20, &it), 10000);
    /* queue 1 was passed over as idle; its record is 2 s behind the stream */
    pgroup_push(g, 1, rec(8000), 8000, fetched_at);
    assert_int_equal(take_item(g, 21, &it), 8000);
    assert_true(it.late);
    assert_int_equal(it.behind_ms, 2000);
    /* 9500, after 10000 of another partition, is late however little behind */
    pgroup_push(g, 1, rec(9500), 9500, fetched_at);
    assert_int_equal(take_item(g, 22, &it), 9500);
    assert_true(it.late);
    /* within its own partition, only beyond the allowed lateness */
    pgroup_push(g, 1, rec(10500), 10500, fetched_at);
    pgroup_push(g, 1, rec(10000), 10000, fetched_at);
    assert_int_equal(take_item(g, 22, &it), 10500);
    assert_int_equal(take_item(g, 22, &it), 10000);
    assert_false(it.late);
    /* behind its own partition by more than the lateness (a delayed batch): late,
     * keyed at the partition's time */
    pgroup_push(g, 0, rec(12000), 12000, fetched_at);
    pgroup_push(g, 0, rec(10500), 10500, fetched_at);
    assert_int_equal(take_item(g, 40, &it), 12000);
    assert_int_equal(take_item(g, 40, &it), 10500);
    assert_true(it.late);
    assert_int_equal(it.key, 12000);
    /* an unknown time (bound for the dead letters) is never late */
    pgroup_push(g, 0, rec(INT64_MIN), INT64_MIN, fetched_at);
    assert_int_equal(take_item(g, 60, &it), INT64_MIN);
    assert_false(it.late);
    assert_int_equal(it.key, 12000);
    pgroup_free(g, free);
}

/* Equal keys go in the order of their queues, as a backlog releases them: a record
 * that ties the stream time but whose queue comes before the one released last was
 * passed over, and is late though not behind at all. */
static void test_tie_after_a_later_queue_is_late(void **state)
{
    (void)state;
    lagging_t lag = {{false}};
    pgroup_opts_t o = {.idle_timeout_ms = 10, .allowed_lateness_ms = 1000};
    pgroup_t *g = pgroup_new(3, &o, lag_of, &lag);
    pgroup_refresh(g, 0);
    pgroup_item_t it;
    pgroup_push(g, 1, rec(10000), 10000, fetched_at);
    assert_int_equal(take_item(g, 20, &it), 10000);
    assert_false(it.late);
    /* queue 2 after queue 1 at the same time: the backlog's order too */
    pgroup_push(g, 2, rec(10000), 10000, fetched_at);
    assert_int_equal(take_item(g, 21, &it), 10000);
    assert_false(it.late);
    /* queue 0 at the same time, after queue 2: a backlog would have put it first */
    pgroup_push(g, 0, rec(10000), 10000, fetched_at);
    assert_int_equal(take_item(g, 22, &it), 10000);
    assert_true(it.late);
    assert_int_equal(it.behind_ms, 0);
    /* queue 2 again at that time: in order (the last released came from it) */
    pgroup_push(g, 2, rec(10000), 10000, fetched_at);
    assert_int_equal(take_item(g, 23, &it), 10000);
    assert_false(it.late);
    /* a newer time starts the order afresh: queue 0 first is in order */
    pgroup_push(g, 0, rec(10001), 10001, fetched_at);
    assert_int_equal(take_item(g, 24, &it), 10001);
    assert_false(it.late);
    pgroup_free(g, free);
}

/* After a restart the partition times of the last commit key and judge the next
 * records as the uninterrupted run did. */
static void test_partition_time_restored(void **state)
{
    (void)state;
    lagging_t lag = {{false}};
    pgroup_t *g = pgroup_new(2, &NO_LATENESS, lag_of, &lag);
    pgroup_set_partition_time(g, 0, 500);
    pgroup_set_partition_time(g, 1, INT64_MIN); /* nothing committed: no effect */
    pgroup_refresh(g, 0);
    assert_int_equal(pgroup_stream_time(g), 500);
    pgroup_push(g, 0, rec(300), 300, fetched_at);
    pgroup_push(g, 1, rec(400), 400, fetched_at);
    pgroup_item_t it;
    /* 300 is keyed at 500, behind queue 1's 400 */
    assert_int_equal(take_item(g, 1, &it), 400);
    assert_true(it.late); /* 100 behind the stream time of the commit */
    assert_int_equal(take_item(g, 1, &it), 300);
    assert_int_equal(it.key, 500);
    assert_true(it.late);
    assert_int_equal(pgroup_partition_time(g, 0), 500);
    assert_int_equal(pgroup_partition_time(g, 1), 400);
    pgroup_free(g, free);
}

/* Caught up: nothing buffered and no queue lagging -- not while a queue's lag is
 * unknown (a fresh group, after a clear), nor while records wait, buffered or on
 * the broker. */
static void test_caught_up(void **state)
{
    (void)state;
    lagging_t lag = {{false, true}};
    pgroup_t *g = pgroup_new(2, &NO_LATENESS, lag_of, &lag);
    assert_false(pgroup_caught_up(g)); /* nothing known yet */
    pgroup_refresh(g, 0);
    assert_false(pgroup_caught_up(g)); /* queue 1 has records on the broker */
    pgroup_push(g, 1, rec(7), 7, fetched_at);
    lag.lag[1] = false;
    assert_false(pgroup_caught_up(g)); /* fetched, not processed */
    size_t q;
    assert_int_equal(take(g, 1, &q), 7);
    assert_true(pgroup_caught_up(g)); /* it ran dry at its end */
    lag.lag[0] = true;
    assert_true(pgroup_caught_up(g)); /* as of the last refresh */
    pgroup_refresh(g, 2);
    assert_false(pgroup_caught_up(g));
    lag.lag[0] = false;
    pgroup_refresh(g, 3);
    assert_true(pgroup_caught_up(g));
    pgroup_clear(g, free);
    assert_false(pgroup_caught_up(g));
    pgroup_free(g, free);
}

static void test_clear_drops_everything(void **state)
{
    (void)state;
    lagging_t lag = {{false}};
    pgroup_t *g = pgroup_new(3, &NO_LATENESS, lag_of, &lag);
    pgroup_refresh(g, 0);
    for (int i = 0; i < 200; i++)
        pgroup_push(g, (size_t)(i % 3), rec(i), i, fetched_at);
    assert_int_equal(pgroup_queue_len(g, 0), 67);
    pgroup_clear(g, free);
    assert_int_equal(pgroup_total(g), 0);
    assert_true(pgroup_stream_time(g) == INT64_MIN);
    assert_int_equal(peek(g, 1), PGROUP_EMPTY);
    /* Usable again afterwards, and the ring grew past its first size. */
    pgroup_refresh(g, 1);
    for (int i = 300; i > 0; i--)
        pgroup_push(g, 1, rec(i), i, fetched_at);
    size_t q;
    assert_int_equal(take(g, 1, &q), 300);
    assert_int_equal(take(g, 1, &q), 299);
    pgroup_free(g, free);
}

/* ---- the order is a function of the queues' contents ------------------------ */

#define PQ 6
#define PN 60

static uint64_t rnd(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

typedef struct src {
    lagging_t lag;
    int64_t ts[PQ][PN];
    size_t fetched[PQ];
} src_t;

/* Reads all queues, fetching each in random chunks at random moments (a queue
 * lags while it has unfetched records), and writes the order released into @out
 * as queue * PN + index. */
static void read_all(src_t *s, uint64_t seed, int *out, pgroup_opts_t o)
{
    for (size_t q = 0; q < PQ; q++) {
        s->fetched[q] = 0;
        s->lag.lag[q] = true;
    }
    pgroup_t *g = pgroup_new(PQ, &o, lag_of, &s->lag);
    int n = 0;
    int64_t now = 0;
    for (int turn = 0; n < PQ * PN && turn < 100000; turn++, now += 7) {
        size_t q = rnd(&seed) % PQ;
        size_t chunk = rnd(&seed) % 4;
        for (size_t k = 0; k < chunk && s->fetched[q] < PN; k++) {
            size_t i = s->fetched[q]++;
            int *tag = malloc(sizeof(int));
            *tag = (int)(q * PN + i);
            pgroup_push(g, q, tag, s->ts[q][i], now);
        }
        s->lag.lag[q] = s->fetched[q] < PN;
        pgroup_refresh(g, now);
        unsigned take_n = (unsigned)(rnd(&seed) % 8);
        for (unsigned k = 0; k < take_n; k++) {
            pgroup_item_t it;
            if (pgroup_next(g, now, o.allowed_lateness_ms ? s->ts[0][PN / 2] : 0, &it) !=
                PGROUP_READY)
                break;
            out[n++] = *(int *)it.record;
            free(it.record);
        }
    }
    assert_int_equal(n, PQ * PN);
    pgroup_free(g, free);
}

static void test_order_independent_of_fetch_timing(void **state)
{
    (void)state;
    static src_t s;
    uint64_t seed = 0x9e3779b97f4a7c15ULL;
    for (size_t q = 0; q < PQ; q++) {
        int64_t t = (int64_t)(rnd(&seed) % 1000);
        for (size_t i = 0; i < PN; i++) {
            /* mostly forward, sometimes a record from the past */
            t += (int64_t)(rnd(&seed) % 100);
            s.ts[q][i] = rnd(&seed) % 10 == 0 ? t - (int64_t)(rnd(&seed) % 500) : t;
        }
    }
    /* The expected order: sorted by (partition time, queue, offset). */
    static int want[PQ * PN];
    int64_t key[PQ * PN];
    for (size_t q = 0; q < PQ; q++) {
        int64_t pt = INT64_MIN;
        for (size_t i = 0; i < PN; i++) {
            pt = s.ts[q][i] > pt ? s.ts[q][i] : pt;
            key[q * PN + i] = pt;
        }
    }
    for (int i = 0; i < PQ * PN; i++)
        want[i] = i;
    for (int i = 1; i < PQ * PN; i++) { /* insertion sort on (key, queue, index) */
        int x = want[i], j = i - 1;
        while (j >= 0 && (key[want[j]] > key[x] || (key[want[j]] == key[x] && want[j] > x))) {
            want[j + 1] = want[j];
            j--;
        }
        want[j + 1] = x;
    }
    static int got[PQ * PN];
    pgroup_opts_t opts[] = {NO_LATENESS, {.idle_timeout_ms = 30, .allowed_lateness_ms = 200}};
    for (int run = 0; run < 40; run++) {
        read_all(&s, 1000 + (uint64_t)run, got, opts[run % 2]);
        assert_memory_equal(got, want, sizeof(want));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_partition_time_order_offset_order_kept),
        cmocka_unit_test(test_lagging_queue_holds_back_only_newer_records),
        cmocka_unit_test(test_never_seen_lagging_queue_waits),
        cmocka_unit_test(test_caught_up_queue_holds_live_records_until_idle),
        cmocka_unit_test(test_late_records),
        cmocka_unit_test(test_tie_after_a_later_queue_is_late),
        cmocka_unit_test(test_partition_time_restored),
        cmocka_unit_test(test_caught_up),
        cmocka_unit_test(test_clear_drops_everything),
        cmocka_unit_test(test_order_independent_of_fetch_timing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
