/* The stages in-process over recorded input; see replay.h. */
#include "replay.h"

#include <errno.h>
#include <ftw.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"
#include "clocks.h"
#include "kafka.h"
#include "metrics.h"
#include "stage_contact.h"
#include "store.h"
#include "timers.h"

/* The record caches evict only states that were written to the store, so the
 * scratch store is written when a cache holds more than its bound (state.
 * cache_entries), looked at every REPLAY_CHECK_RECORDS records: a run whose
 * entities all fit never writes.  With accounts.member_updates: on_commit the
 * owed summaries go at a "commit", so then one falls every REPLAY_COMMIT_RECORDS
 * records (about a daemon's commit interval at its rate). */
#define REPLAY_CHECK_RECORDS 4096u
#define REPLAY_COMMIT_RECORDS 200000u

/* SLA clocks fired per record at most (the daemon fires 10000 per turn). */
#define REPLAY_CLOCKS_MAX 1000000u

struct replay {
    const hf_config_t *cfg;
    int32_t partitions[ROLE__COUNT];
    char dir[4096];
    bool dir_made;
    store_t *store;
    store_batch_t *batch;
    bool write_inflight;
    codec_t *codec;
    codec_t *enc_codec;
    cache_t *anon_cache;
    cache_t *contact_cache;
    cache_t *account_cache;
    timers_t *timers;
    metrics_t *metrics;
    stage_ctx_t stage;
    bool stage_ready;
    int64_t now_ms;        /* the stages' clock: the stream time */
    int64_t fired_to_ms;   /* SLA clocks fired up to this time */
    uint32_t since_commit; /* records since the last write */
    char err[512];
};

static int64_t replay_clock(void *opaque)
{
    return ((const replay_t *)opaque)->now_ms;
}

/* Nothing leaves the process: outputs were seen (on_handoff) and are dropped. */
static int replay_produce(void *opaque, stage_out_t out, int32_t partition, int64_t timestamp_ms,
                          const void *key, size_t key_len, const void *value, size_t value_len,
                          char *err, size_t errsz)
{
    (void)opaque, (void)out, (void)partition, (void)timestamp_ms, (void)key, (void)key_len;
    (void)value, (void)value_len, (void)err, (void)errsz;
    return 0;
}

static int32_t replay_partition(void *opaque, stage_role_t role, const char *key)
{
    const replay_t *r = opaque;
    return kafka_murmur2_partition(key, strlen(key), r->partitions[role]);
}

/* One process owns every partition: everything re-keyed goes through the mailbox. */
static bool replay_owns(void *opaque, stage_role_t role, int32_t partition)
{
    (void)opaque, (void)role, (void)partition;
    return true;
}

/* The e-mail hash key only makes hashes comparable within the run (a person's
 * address hashes the same every time); no hash leaves the process. */
static int open_codecs(replay_t *r, char *err, size_t errsz)
{
    static const uint8_t key[32] = "handoffctl backtest: scratch key";
    const hf_config_t *cfg = r->cfg;
    codec_opts_t copts = {
        .max_record_bytes = cfg->max_record_bytes,
        .max_field_bytes = cfg->max_field_bytes,
        .max_tags = cfg->max_tags,
        .email_key = key,
        .email_key_len = sizeof key,
        .output_format = cfg->output_format,
    };
    int rc = codec_new(&r->codec, &copts, err, errsz);
    if (rc == 0)
        rc = codec_new(&r->enc_codec, &copts, err, errsz);
    return rc;
}

static int open_store(replay_t *r, const char *parent, char *err, size_t errsz)
{
    if (!parent) {
        const char *tmp = getenv("TMPDIR");
        parent = tmp && *tmp ? tmp : "/tmp";
    }
    int n = snprintf(r->dir, sizeof r->dir, "%s/handoff-backtest-XXXXXX", parent);
    if (n < 0 || (size_t)n >= sizeof r->dir) {
        snprintf(err, errsz, "scratch directory: %s: name too long", parent);
        return -ENAMETOOLONG;
    }
    if (!mkdtemp(r->dir)) {
        int e = errno;
        snprintf(err, errsz, "scratch directory in %s: %s", parent, strerror(e));
        return -e;
    }
    r->dir_made = true;
    int rc = store_open(&r->store, r->dir, false, err, errsz);
    if (rc < 0)
        return rc;
    const hf_config_t *cfg = r->cfg;
    r->batch = store_batch_new(r->store);
    r->metrics = metrics_new();
    r->anon_cache =
        cache_new(&stage_anon_ops, r->store, STORE_CF_IDENTITY, cfg->cache_max_entries / 4);
    r->contact_cache =
        cache_new(&stage_contact_ops, r->store, STORE_CF_CONTACT, cfg->cache_max_entries);
    r->account_cache =
        cache_new(&stage_account_ops, r->store, STORE_CF_ACCOUNT, cfg->cache_max_entries / 4);
    r->timers = timers_new();
    if (!r->batch || !r->metrics || !r->anon_cache || !r->contact_cache || !r->account_cache ||
        !r->timers) {
        snprintf(err, errsz, "out of memory");
        return -ENOMEM;
    }
    return 0;
}

static int open_stage(replay_t *r, const replay_opts_t *opts)
{
    stage_ctx_t *c = &r->stage;
    c->rules = &r->cfg->rules;
    c->clock = replay_clock;
    c->clock_opaque = r;
    c->codec = r->codec;
    c->enc_codec = r->enc_codec;
    c->anon_cache = r->anon_cache;
    c->contact_cache = r->contact_cache;
    c->account_cache = r->account_cache;
    c->timers = r->timers;
    c->metrics = r->metrics;
    c->out = (stage_output_t){r, replay_produce, replay_partition, replay_owns};
    const hf_topics_t *t = &r->cfg->topics;
    const char *topics[ROLE__COUNT] = {
        t->web_visits,       t->form_submissions, t->content_downloads, t->webinar_attendance,
        t->email_engagement, t->identity,         t->sales_activity,    t->by_anonymous,
        t->by_contact,       t->by_account,
    };
    memcpy(c->role_topic, topics, sizeof topics);
    c->on_handoff = opts->on_handoff;
    c->on_handoff_opaque = opts->opaque;
    c->err = r->err;
    c->errsz = sizeof r->err;
    int rc = stage_ctx_init(c);
    r->stage_ready = rc == 0;
    return rc;
}

int replay_new(replay_t **out, const replay_opts_t *opts, char *err, size_t errsz)
{
    replay_t *r = calloc(1, sizeof(*r));
    if (!r) {
        snprintf(err, errsz, "out of memory");
        return -ENOMEM;
    }
    r->cfg = opts->cfg;
    for (int i = 0; i < ROLE__COUNT; i++)
        r->partitions[i] = opts->partitions[i] > 0 ? opts->partitions[i] : 1;
    r->now_ms = INT64_MIN;
    r->fired_to_ms = INT64_MIN;
    int rc;
    if ((rc = open_store(r, opts->scratch_parent, err, errsz)) < 0 ||
        (rc = open_codecs(r, err, errsz)) < 0)
        goto fail;
    if ((rc = open_stage(r, opts)) < 0) {
        snprintf(err, errsz, "out of memory");
        goto fail;
    }
    *out = r;
    return 0;
fail:
    replay_free(r);
    return rc;
}

/* Writes the states that changed into the scratch store so that the record caches
 * may evict (they evict only what was written), as a daemon commit does; with
 * accounts.member_updates: on_commit the owed summaries go first, as there. */
static int replay_commit(replay_t *r)
{
    char why[512];
    int rc = stage_contact_before_commit(&r->stage);
    if (rc < 0)
        return rc;
    if (r->write_inflight) {
        r->write_inflight = false;
        if (store_write_wait(r->store, why, sizeof why) < 0)
            return stage_fail(&r->stage, -EIO, "scratch store: %s", why);
        cache_commit(r->anon_cache);
        cache_commit(r->contact_cache);
        cache_commit(r->account_cache);
    }
    cache_t *caches[3] = {r->anon_cache, r->contact_cache, r->account_cache};
    for (int i = 0; i < 3; i++)
        if (cache_flush(caches[i], r->batch, why, sizeof why) < 0)
            return stage_fail(&r->stage, -EIO, "scratch store: %s", why);
    timers_flush(r->timers, r->batch);
    if (store_batch_count(r->batch) == 0)
        return 0;
    if (store_write_submit(r->store, r->batch, why, sizeof why) < 0)
        return stage_fail(&r->stage, -EIO, "scratch store: %s", why);
    r->write_inflight = true;
    return 0;
}

/* Whether a cache is over its bound, or an on_commit "commit" is due. */
static bool commit_due(const replay_t *r)
{
    size_t max = r->cfg->cache_max_entries;
    if (stage_rules(&r->stage)->accounts.member_updates == HF_MEMBER_UPDATES_ON_COMMIT &&
        r->since_commit >= REPLAY_COMMIT_RECORDS)
        return true;
    return cache_size(r->contact_cache) > max || cache_size(r->anon_cache) > max / 4 ||
           cache_size(r->account_cache) > max / 4;
}

/* The clock moves to @stream_ms; the SLA clocks due by then fire. */
static int advance(replay_t *r, int64_t stream_ms)
{
    if (stream_ms > r->now_ms)
        r->now_ms = stream_ms;
    if (r->now_ms <= r->fired_to_ms || timers_count(r->timers) == 0)
        return 0;
    r->fired_to_ms = r->now_ms;
    return clocks_fire(&r->stage, r->now_ms, REPLAY_CLOCKS_MAX);
}

int replay_record(replay_t *r, stage_role_t role, int32_t partition, int64_t offset,
                  const void *key, size_t key_len, const void *value, size_t value_len,
                  int64_t stream_ms)
{
    r->err[0] = '\0';
    int rc = advance(r, stream_ms);
    if (rc < 0)
        return rc;
    stage_origin_t m = {
        .topic = r->stage.role_topic[role],
        .partition = partition,
        .offset = offset,
        .key = key,
        .key_len = key_len,
        .value = value,
        .value_len = value_len,
    };
    r->stage.ctr[M_CONSUMED]++;
    if ((rc = stage_process(&r->stage, &m, role)) < 0)
        return rc;
    if (++r->since_commit % REPLAY_CHECK_RECORDS == 0 && commit_due(r)) {
        r->since_commit = 0;
        rc = replay_commit(r);
    }
    return rc;
}

int replay_finish(replay_t *r, int64_t stream_ms)
{
    r->err[0] = '\0';
    int rc = advance(r, stream_ms);
    if (rc == 0)
        rc = stage_contact_caught_up(&r->stage);
    if (rc == 0)
        rc = stage_contact_before_commit(&r->stage);
    /* what the last summaries set off may have started clocks already due */
    if (rc == 0 && timers_count(r->timers))
        rc = clocks_fire(&r->stage, r->now_ms, REPLAY_CLOCKS_MAX);
    return rc;
}

const uint64_t *replay_counters(const replay_t *r)
{
    return r->stage.ctr;
}

const char *replay_error(const replay_t *r)
{
    return r->err[0] ? r->err : "unknown error";
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

void replay_free(replay_t *r)
{
    if (!r)
        return;
    if (r->stage_ready)
        stage_ctx_release(&r->stage);
    char why[512];
    if (r->write_inflight)
        store_write_wait(r->store, why, sizeof why);
    cache_free(r->anon_cache);
    cache_free(r->contact_cache);
    cache_free(r->account_cache);
    timers_free(r->timers);
    metrics_free(r->metrics);
    store_batch_free(r->batch);
    store_close(r->store);
    codec_free(r->codec);
    codec_free(r->enc_codec);
    if (r->dir_made)
        nftw(r->dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(r);
}
