/* The Avro binary layer every record goes through (util/binenc.c): varints at their
 * edges, every way a reader refuses bytes (cut short or corrupt, each told apart),
 * sticky errors, bounded block counts, and a writer that leaves nothing half-written. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "util/binenc.h"

static void reader_of(binenc_reader_t *r, const hf_buf_t *b)
{
    binenc_reader_init(r, b->data, b->len);
}

static void test_varints(void **state)
{
    (void)state;
    static const int64_t values[] = {0,         -1,        1,           63,        -64,
                                     64,        -65,       INT32_MAX,   INT32_MIN, INT64_MAX,
                                     INT64_MIN, 1ll << 62, -(1ll << 62)};
    static const size_t sizes[] = {1, 1, 1, 1, 1, 2, 2, 5, 5, 10, 10, 10, 9};
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        hf_buf_t b = HF_BUF_INIT;
        binenc_writer_t w = BINENC_WRITER(&b);
        binenc_put_long(&w, values[i]);
        assert_int_equal(binenc_writer_end(&w), 0);
        assert_int_equal(b.len, sizes[i]);
        binenc_reader_t r;
        reader_of(&r, &b);
        assert_true(binenc_get_long(&r) == values[i]);
        assert_int_equal(binenc_reader_end(&r), 0);
        /* every cut is short, never corrupt */
        for (size_t cut = 0; cut < b.len; cut++) {
            binenc_reader_init(&r, b.data, cut);
            assert_int_equal(binenc_get_long(&r), 0);
            assert_int_equal(r.err, BINENC_TRUNCATED);
        }
        hf_buf_free(&b);
    }
}

static void test_varint_past_64_bits(void **state)
{
    (void)state;
    binenc_reader_t r;
    /* INT64_MIN is nine 0xff and a 1; a tenth byte of 2 carries a 65th bit */
    uint8_t tenth[10];
    memset(tenth, 0xff, 9);
    tenth[9] = 0x01;
    binenc_reader_init(&r, tenth, sizeof tenth);
    assert_true(binenc_get_long(&r) == INT64_MIN);
    tenth[9] = 0x02;
    binenc_reader_init(&r, tenth, sizeof tenth);
    assert_int_equal(binenc_get_long(&r), 0);
    assert_int_equal(r.err, BINENC_CORRUPT);
    uint8_t eleven[11];
    memset(eleven, 0xff, sizeof eleven);
    binenc_reader_init(&r, eleven, sizeof eleven);
    binenc_get_long(&r);
    assert_int_equal(r.err, BINENC_CORRUPT);
    assert_ptr_equal(r.pos, eleven); /* a failed read consumes nothing */
}

static void test_values_out_of_range(void **state)
{
    (void)state;
    binenc_reader_t r;
    static const uint8_t big[] = {0x80, 0x80, 0x80, 0x80, 0x10}; /* 2^31 */
    binenc_reader_init(&r, big, sizeof big);
    assert_int_equal(binenc_get_int(&r), 0);
    assert_int_equal(r.err, BINENC_CORRUPT);
    static const uint8_t five[] = {0x0a};
    binenc_reader_init(&r, five, sizeof five);
    assert_int_equal(binenc_get_int_range(&r, 0, 4), 0);
    assert_int_equal(r.err, BINENC_CORRUPT);
    static const uint8_t two[] = {0x02};
    binenc_reader_init(&r, two, sizeof two);
    assert_false(binenc_get_bool(&r));
    assert_int_equal(r.err, BINENC_CORRUPT);
    binenc_reader_init(&r, two, 0);
    assert_false(binenc_get_bool(&r));
    assert_int_equal(r.err, BINENC_TRUNCATED);
    static const uint8_t branch[] = {0x04};
    binenc_reader_init(&r, branch, sizeof branch);
    assert_int_equal(binenc_get_union(&r, 2), -1);
    assert_int_equal(r.err, BINENC_CORRUPT);
}

static void test_lengths(void **state)
{
    (void)state;
    binenc_reader_t r;
    size_t len = 99;
    static const uint8_t negative[] = {0x05, 'a', 'b'};
    binenc_reader_init(&r, negative, sizeof negative);
    assert_null(binenc_get_bytes(&r, &len));
    assert_int_equal(len, 0);
    assert_int_equal(r.err, BINENC_CORRUPT);
    static const uint8_t too_long[] = {0x08, 'a', 'b', 'c'};
    binenc_reader_init(&r, too_long, sizeof too_long);
    assert_null(binenc_get_bytes(&r, &len));
    assert_int_equal(r.err, BINENC_TRUNCATED);
    static const uint8_t with_nul[] = {0x06, 'a', 0, 'c'};
    binenc_reader_init(&r, with_nul, sizeof with_nul);
    assert_null(binenc_get_string(&r));
    assert_int_equal(r.err, BINENC_CORRUPT);
    binenc_reader_init(&r, with_nul, sizeof with_nul);
    const uint8_t *view = binenc_get_bytes(&r, &len); /* bytes may hold a NUL */
    assert_ptr_equal(view, with_nul + 1);
    assert_int_equal(len, 3);
    assert_int_equal(binenc_reader_end(&r), 0);
}

static void test_block_counts(void **state)
{
    (void)state;
    binenc_reader_t r;
    /* a negative count, then the block's size in bytes */
    static const uint8_t sized[] = {0x03, 0x04, 'x', 'y'};
    binenc_reader_init(&r, sized, sizeof sized);
    assert_int_equal(binenc_get_block(&r), 2);
    static const uint8_t negative_size[] = {0x03, 0x03, 'x', 'y'};
    binenc_reader_init(&r, negative_size, sizeof negative_size);
    assert_int_equal(binenc_get_block(&r), 0);
    assert_int_equal(r.err, BINENC_CORRUPT);
    uint8_t most_negative[10];
    memset(most_negative, 0xff, 9);
    most_negative[9] = 0x01;
    binenc_reader_init(&r, most_negative, sizeof most_negative);
    binenc_get_block(&r);
    assert_int_equal(r.err, BINENC_CORRUPT);
    /* more items than the bytes left can hold */
    static const uint8_t claim[] = {0x0a, 1, 2, 3, 4, 5, 6, 7, 8, 9};
    binenc_reader_init(&r, claim, sizeof claim);
    assert_int_equal(binenc_get_block_min(&r, 2), 0);
    assert_int_equal(r.err, BINENC_TRUNCATED);
    binenc_reader_init(&r, claim, sizeof claim);
    assert_int_equal(binenc_get_block_min(&r, 1), 5);
    /* items of no bytes are bounded across the whole reader */
    hf_buf_t b = HF_BUF_INIT;
    binenc_writer_t w = BINENC_WRITER(&b);
    binenc_put_long(&w, BINENC_MAX_EMPTY_ITEMS);
    binenc_put_long(&w, 1);
    assert_int_equal(binenc_writer_end(&w), 0);
    reader_of(&r, &b);
    assert_int_equal(binenc_get_block_min(&r, 0), BINENC_MAX_EMPTY_ITEMS);
    assert_int_equal(binenc_get_block_min(&r, 0), 0);
    assert_int_equal(r.err, BINENC_CORRUPT);
    hf_buf_free(&b);
}

static void test_sticky_errors(void **state)
{
    (void)state;
    static const uint8_t bytes[] = {0x02, 0x02, 0x06, 'a', 'b', 'c'};
    binenc_reader_t r;
    binenc_reader_init(&r, bytes, sizeof bytes);
    assert_int_equal(binenc_get_long(&r), 1);
    binenc_fail(&r);
    const uint8_t *at = r.pos;
    assert_int_equal(binenc_get_long(&r), 0);
    assert_null(binenc_get_string(&r));
    assert_int_equal(binenc_get_block(&r), 0);
    assert_ptr_equal(r.pos, at);
    binenc_fail_truncated(&r); /* the first error stays */
    assert_int_equal(r.err, BINENC_CORRUPT);
    assert_int_equal(binenc_reader_end(&r), BINENC_CORRUPT);
    /* a reader that stops early, or is out of memory, ends that way */
    binenc_reader_init(&r, bytes, sizeof bytes);
    binenc_get_long(&r);
    assert_int_equal(binenc_reader_end(&r), BINENC_CORRUPT);
    r.err = -ENOMEM;
    assert_int_equal(binenc_reader_end(&r), -ENOMEM);
    binenc_reader_init(&r, NULL, 0);
    assert_int_equal(binenc_reader_end(&r), 0);
    binenc_get_long(&r);
    assert_int_equal(binenc_reader_end(&r), BINENC_CORRUPT);
}

typedef struct pair {
    char *name;
    double weight;
} pair_t;

static void put_pair(binenc_writer_t *w, const void *item)
{
    const pair_t *p = item;
    binenc_put_string(w, p->name);
    binenc_put_double(w, p->weight);
}

static void get_pair(binenc_reader_t *r, void *item)
{
    pair_t *p = item;
    p->name = binenc_get_string(r);
    p->weight = binenc_get_double(r);
}

static void test_round_trip(void **state)
{
    (void)state;
    pair_t pairs[] = {{"a", 0.5}, {"bc", -INFINITY}, {"", 1e300}};
    hf_buf_t b = HF_BUF_INIT;
    binenc_writer_t w = BINENC_WRITER(&b);
    binenc_put_bool(&w, true);
    binenc_put_float(&w, 0.25f);
    binenc_put_opt_string(&w, NULL);
    binenc_put_opt_string(&w, "x");
    binenc_put_opt_long(&w, true, -7);
    binenc_put_array(&w, pairs, 3, sizeof pairs[0], put_pair);
    binenc_put_array(&w, NULL, 0, sizeof pairs[0], put_pair);
    assert_int_equal(binenc_writer_end(&w), 0);

    binenc_reader_t r;
    reader_of(&r, &b);
    assert_true(binenc_get_bool(&r));
    assert_true(binenc_get_float(&r) == 0.25f);
    assert_null(binenc_get_opt_string(&r));
    char *x = binenc_get_opt_string(&r);
    assert_string_equal(x, "x");
    free(x);
    int64_t v;
    assert_true(binenc_get_opt_long(&r, &v));
    assert_int_equal(v, -7);
    pair_t *got = NULL;
    size_t count = 0;
    binenc_get_array(&r, (void **)&got, &count, sizeof *got, get_pair);
    assert_int_equal(count, 3);
    for (size_t i = 0; i < count; i++) {
        assert_string_equal(got[i].name, pairs[i].name);
        assert_true(got[i].weight == pairs[i].weight);
        free(got[i].name);
    }
    free(got);
    pair_t *none = NULL;
    count = 0;
    binenc_get_array(&r, (void **)&none, &count, sizeof *none, get_pair);
    assert_int_equal(count, 0);
    assert_null(none);
    assert_int_equal(binenc_reader_end(&r), 0);
    hf_buf_free(&b);
}

static void test_writer_leaves_nothing_half_written(void **state)
{
    (void)state;
    hf_buf_t b = HF_BUF_INIT;
    hf_buf_append(&b, "kept", 4);
    binenc_writer_t w = BINENC_WRITER(&b);
    binenc_put_string(&w, "some");
    binenc_put_string(&w, NULL); /* a required string missing */
    binenc_put_long(&w, 1);
    assert_int_equal(w.err, -EINVAL);
    assert_int_equal(binenc_writer_end(&w), -EINVAL);
    assert_int_equal(b.len, 4);
    assert_memory_equal(b.data, "kept", 5); /* still NUL-terminated */
    binenc_writer_fail(&w, -ENOMEM);        /* the first error stays */
    assert_int_equal(w.err, -EINVAL);
    hf_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_varints),
        cmocka_unit_test(test_varint_past_64_bits),
        cmocka_unit_test(test_values_out_of_range),
        cmocka_unit_test(test_lengths),
        cmocka_unit_test(test_block_counts),
        cmocka_unit_test(test_sticky_errors),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_writer_leaves_nothing_half_written),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
