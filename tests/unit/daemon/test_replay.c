/* Unit tests of the in-process replay (daemon/replay.h): the stages run on the
 * stream time, not the wall clock -- a handoff is emitted at the time of the record
 * that released it, its SLA clocks fall due when the stream time passes them --,
 * the same records give the same handoffs, and the scratch store is gone after
 * replay_free(). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/log.h"
#include "daemon/metrics.h"
#include "daemon/replay.h"
#include "stage_kit.h"

#define DAY_MS (24 * KIT_HOUR_MS)

typedef struct seen {
    int fail_with; /* what on_handoff returns */
    int handoffs;
    char handoff_id[64];
    int64_t emitted_at_ms, qualified_at_ms;
} seen_t;

static int on_handoff(void *opaque, const hf_handoff_t *h)
{
    seen_t *s = opaque;
    s->handoffs++;
    snprintf(s->handoff_id, sizeof s->handoff_id, "%s", h->handoff_id);
    s->emitted_at_ms = h->emitted_at_ms;
    s->qualified_at_ms = h->qualified_at_ms;
    return s->fail_with;
}

static size_t entries(const char *dir)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    size_t n = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;)
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

/* Encodes @ev and replays it from @role's partition 0 at stream time @stream_ms. */
static void feed(replay_t *r, codec_t *codec, stage_role_t role, const hf_event_t *ev,
                 const char *key, int64_t offset, int64_t stream_ms)
{
    hf_buf_t buf = HF_BUF_INIT;
    assert_int_equal(codec_encode_input(codec, ev, &buf), 0);
    int rc = replay_record(r, role, 0, offset, key, strlen(key), buf.data, buf.len, stream_ms);
    if (rc != 0)
        print_error("%s\n", replay_error(r));
    assert_int_equal(rc, 0);
    hf_buf_free(&buf);
}

/* A demo request on Monday, then nothing of that person for a week: the handoff
 * carries the request's time as emitted_at, and its SLA clocks breach once a later
 * record (of anyone) moves the stream time past their deadlines. */
static void run_once(const char *parent, seen_t *seen, uint64_t *breaches)
{
    hf_config_t *cfg = NULL;
    hf_buf_t errors = HF_BUF_INIT;
    assert_int_equal(config_load_string(&cfg, "replay.yaml", "", 0, &errors), 0);
    hf_buf_free(&errors);
    static const uint8_t key[32] = "another key for the e-mail hash";
    codec_opts_t copts = {.email_key = key, .email_key_len = sizeof key};
    codec_t *codec = NULL;
    char err[256];
    assert_int_equal(codec_new(&codec, &copts, err, sizeof err), 0);

    replay_opts_t opts = {
        .cfg = cfg, .scratch_parent = parent, .on_handoff = on_handoff, .opaque = seen};
    for (int i = 0; i < ROLE__COUNT; i++)
        opts.partitions[i] = 4;
    replay_t *r = NULL;
    assert_int_equal(replay_new(&r, &opts, err, sizeof err), 0);
    assert_int_equal(entries(parent), 1); /* its scratch store */

    hf_event_t form =
        kit_form("f-1", KIT_T0, "a-1", "c-1", HF_FORM_DEMO_REQUEST, "kim@globex.example");
    feed(r, codec, ROLE_FORM, &form, "a-1", 0, KIT_T0);
    assert_int_equal(seen->handoffs, 1);
    assert_int_equal(replay_counters(r)[M_BREACHES], 0);

    hf_event_t visit = kit_visit("v-1", KIT_T0 + 7 * DAY_MS, "a-2", NULL, "https://x.example/");
    feed(r, codec, ROLE_WEB, &visit, "a-2", 0, KIT_T0 + 7 * DAY_MS);
    assert_int_equal(replay_finish(r, KIT_T0 + 7 * DAY_MS), 0);
    *breaches = replay_counters(r)[M_BREACHES];
    assert_int_equal(replay_counters(r)[M_CONSUMED], 2);

    replay_free(r);
    assert_int_equal(entries(parent), 0);
    codec_free(codec);
    config_free(cfg);
}

static void test_event_time_and_determinism(void **state)
{
    (void)state;
    log_min_level = LOG_LEVEL_WARN; /* a line per handoff and breach otherwise */
    char parent[] = "/tmp/hf-replay-test-XXXXXX";
    assert_non_null(mkdtemp(parent));
    seen_t a = {0}, b = {0};
    uint64_t breaches_a = 0, breaches_b = 0;
    run_once(parent, &a, &breaches_a);
    run_once(parent, &b, &breaches_b);
    assert_int_equal(a.qualified_at_ms, KIT_T0);
    assert_int_equal(a.emitted_at_ms, KIT_T0); /* the stream time, not today's date */
    assert_true(breaches_a > 0);               /* deadlines within the week fired */
    assert_string_equal(a.handoff_id, b.handoff_id);
    assert_int_equal(b.emitted_at_ms, a.emitted_at_ms);
    assert_int_equal(breaches_b, breaches_a);
    rmdir(parent);
}

/* An observer that fails (out of memory keeping the handoff) fails the record that
 * made the handoff, as a failed output would; freeing still removes the store. */
static void test_observer_failure_fails_the_record(void **state)
{
    (void)state;
    log_min_level = LOG_LEVEL_ERROR;
    char parent[] = "/tmp/hf-replay-test-XXXXXX";
    assert_non_null(mkdtemp(parent));
    hf_config_t *cfg = NULL;
    hf_buf_t errors = HF_BUF_INIT;
    assert_int_equal(config_load_string(&cfg, "replay.yaml", "", 0, &errors), 0);
    hf_buf_free(&errors);
    static const uint8_t key[32] = "another key for the e-mail hash";
    codec_opts_t copts = {.email_key = key, .email_key_len = sizeof key};
    codec_t *codec = NULL;
    char err[256];
    assert_int_equal(codec_new(&codec, &copts, err, sizeof err), 0);
    seen_t seen = {.fail_with = -ENOMEM};
    replay_opts_t opts = {
        .cfg = cfg, .scratch_parent = parent, .on_handoff = on_handoff, .opaque = &seen};
    for (int i = 0; i < ROLE__COUNT; i++)
        opts.partitions[i] = 4;
    replay_t *r = NULL;
    assert_int_equal(replay_new(&r, &opts, err, sizeof err), 0);
    hf_event_t form =
        kit_form("f-1", KIT_T0, "a-1", "c-1", HF_FORM_DEMO_REQUEST, "kim@globex.example");
    hf_buf_t buf = HF_BUF_INIT;
    assert_int_equal(codec_encode_input(codec, &form, &buf), 0);
    assert_int_equal(replay_record(r, ROLE_FORM, 0, 0, "a-1", 3, buf.data, buf.len, KIT_T0),
                     -ENOMEM);
    assert_int_equal(seen.handoffs, 1);
    hf_buf_free(&buf);
    replay_free(r);
    assert_int_equal(entries(parent), 0);
    codec_free(codec);
    config_free(cfg);
    rmdir(parent);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_event_time_and_determinism),
        cmocka_unit_test(test_observer_failure_fails_the_record),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
