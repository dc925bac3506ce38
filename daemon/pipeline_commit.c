/* Commits: what was processed since the last commit becomes durable.  Outputs are
 * acknowledged first, then state, the summaries owed to accounts, offsets and
 * counters go to the store in one atomic batch; the batch is encoded here and written on the
 * store's writer thread while processing goes on (as Kafka Streams flushes while the next records
 * are processed); the next commit waits for it. */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "log.h"
#include "dashboard.h"
#include "outcomes.h"
#include "pipeline_priv.h"
#include "stage_contact.h"

/* Waits for the batch on the writer thread, then does what follows its being
 * durable: clean entries may be evicted, the offsets go to the group coordinator
 * (for lag monitoring only). */
static int commit_finish(pipeline_t *p)
{
    pipeline_batches_t *b = &p->batches;
    if (!b->write_inflight)
        return 0;
    b->write_inflight = false;
    char why[512];
    int r = store_write_wait(p->store, why, sizeof(why));
    rd_kafka_topic_partition_list_t *committed = b->inflight_offsets;
    b->inflight_offsets = NULL;
    if (r < 0) {
        rd_kafka_topic_partition_list_destroy(committed);
        return pipeline_error(p, -EIO, "state store: %s", why);
    }
    cache_commit(p->anon_cache);
    cache_commit(p->contact_cache);
    cache_commit(p->account_cache);
    cache_commit(p->team_cache);
    if (committed->cnt)
        rd_kafka_commit(p->kafka.consumer, committed, 1);
    rd_kafka_topic_partition_list_destroy(committed);
    return 0;
}

/* What the interval's changes owe stage 3 (and what that sets off) with
 * accounts.member_updates: on_commit -- coalesced sends at points of the input's
 * order instead, never here --, then every output acknowledged. */
static int settle_outputs(pipeline_t *p)
{
    int r = stage_contact_before_commit(&p->stage);
    if (r < 0)
        return pipeline_error(p, -EIO, "sending contact summaries to their accounts: %s",
                              strerror(-r));
    rd_kafka_resp_err_t e = rd_kafka_flush(p->kafka.producer, FLUSH_TIMEOUT_MS);
    if (e)
        return pipeline_error(
            p, -EIO, "outputs not acknowledged within %d s (%d in flight): %s; state not committed",
            FLUSH_TIMEOUT_MS / 1000, rd_kafka_outq_len(p->kafka.producer), rd_kafka_err2str(e));
    if (p->delivery.failed)
        return pipeline_error(p, -EIO, "an output was not delivered (%s); state not committed",
                              p->delivery.err);
    return 0;
}

/* Puts the dirty states, the summaries they owe their accounts, the timers index
 * and the offsets consumed into the batch; @written gets the states per store,
 * *@committed the offsets for the coordinator. */
static int fill_batch(pipeline_t *p, long written[3], rd_kafka_topic_partition_list_t **committed)
{
    store_batch_t *batch = p->batches.filling;
    cache_t *caches[3] = {p->anon_cache, p->contact_cache, p->account_cache};
    char why[512];
    for (int i = 0; i < 3; i++)
        if ((written[i] = cache_flush(caches[i], batch, why, sizeof(why))) < 0)
            return pipeline_error(p, -EIO, "%s", why);
    /* the team states of the daily digest: the last digest day commits with the
     * offsets, so a digest is emitted again only if its commit did not happen */
    if (cache_flush(p->team_cache, batch, why, sizeof(why)) < 0)
        return pipeline_error(p, -EIO, "%s", why);
    /* owed lists and counts with the states that owe: a restart sends them at the
     * same points of the input as an uninterrupted run */
    if (stage_contact_owed_write(&p->stage, batch) < 0)
        return pipeline_error(p, -ENOMEM, "out of memory writing the owed summaries");
    timers_flush(p->timers, batch);
    rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(16);
    hf_buf_t key = HF_BUF_INIT;
    uint8_t v[STORE_OFFSET_VALUE_SIZE];
    for (int r = 0; r < ROLE__COUNT; r++) {
        for (int32_t part = 0; part < p->kafka.role_partitions[r]; part++) {
            if (!p->offsets.dirty[r][part])
                continue;
            store_offset_key(&key, p->kafka.role_topic[r], part);
            store_offset_t o = {
                .next = p->offsets.next[r][part],
                .partition_time = pgroup_partition_time(
                    p->intake.pg, pipeline_queue_index(p, (stage_role_t)r, part)),
            };
            store_offset_encode(&o, v);
            store_batch_put(batch, STORE_CF_OFFSETS, key.data, key.len, v, sizeof v);
            rd_kafka_topic_partition_list_add(list, p->kafka.role_topic[r], part)->offset =
                p->offsets.next[r][part];
        }
    }
    hf_buf_free(&key);
    *committed = list;
    return 0;
}

/* The "all" row of the outcomes as log fields: the funnel under its column names
 * ("handoff" as "handoffs"), SLAs met and breached, the medians when there are. */
typedef struct outcome_fields {
    log_kv_t kv[OUTCOMES_FUNNEL_N + 4];
    size_t n;
} outcome_fields_t;

static int outcome_totals(void *opaque, const outcomes_row_t *row)
{
    outcome_fields_t *f = opaque;
    for (size_t k = 0; k < OUTCOMES_FUNNEL_N; k++)
        f->kv[f->n++] =
            (log_kv_t)LOG_UINT(k == 0 ? "handoffs" : outcomes_funnel_name(k), row->funnel[k]);
    uint64_t met = 0, breached = 0;
    for (size_t k = 0; k < OUTCOMES_SLA_N; k++) {
        met += row->met[k];
        breached += row->breached[k];
    }
    f->kv[f->n++] = (log_kv_t)LOG_UINT("sla_met", met);
    f->kv[f->n++] = (log_kv_t)LOG_UINT("sla_breached", breached);
    if (row->median_accept_ms >= 0)
        f->kv[f->n++] = (log_kv_t)LOG_INT("median_accept_ms", row->median_accept_ms);
    if (row->median_first_touch_ms >= 0)
        f->kv[f->n++] = (log_kv_t)LOG_INT("median_first_touch_ms", row->median_first_touch_ms);
    return 1; /* one "all" row */
}

/* The outcomes for marketing, once per commit interval in which they moved. */
static void log_outcomes(pipeline_t *p)
{
    if (!p->stage.outcomes_changed)
        return;
    p->stage.outcomes_changed = false;
    if (LOG_LEVEL_INFO < log_min_level)
        return;
    outcomes_t *o = pipeline_outcomes(p);
    if (o) {
        outcome_fields_t f = {.n = 0};
        outcomes_each(o, "all", outcome_totals, &f);
        log_write_kv(LOG_LEVEL_INFO, LOG_PIPE, f.kv, f.n, "outcomes");
        outcomes_free(o);
    }
}

/* Hands the filled batch to the writer thread; the next commit fills the other.
 * Takes @committed. */
static int submit(pipeline_t *p, rd_kafka_topic_partition_list_t *committed)
{
    pipeline_batches_t *b = &p->batches;
    char why[512];
    if (store_write_submit(p->store, b->filling, why, sizeof(why)) < 0) {
        rd_kafka_topic_partition_list_destroy(committed);
        return pipeline_error(p, -EIO, "state store: %s", why);
    }
    store_batch_t *spare = b->spare;
    b->spare = b->filling;
    b->filling = spare;
    b->write_inflight = true;
    b->inflight_offsets = committed;
    for (int r = 0; r < ROLE__COUNT; r++)
        memset(p->offsets.dirty[r], 0, sizeof(bool) * (size_t)p->kafka.role_partitions[r]);
    return 0;
}

/* Where the commit's time goes in the summary. */
static void note_commit_time(pipeline_t *p, int64_t started, int64_t took)
{
    pipeline_run_stats_t *run = &p->run;
    if (run->last_mono_ms && run->last_mono_ms <= started &&
        run->tail_for_ms != run->last_mono_ms) {
        run->tail_for_ms = run->last_mono_ms;
        run->tail_commit_ms = took;
    }
    run->commits++;
    run->commit_ms += took;
    if (took > run->commit_max_ms)
        run->commit_max_ms = took;
}

/* Seconds since @t0 on the monotonic clock, finer than pipeline_mono_ms() for the
 * commit-duration histogram (most commits take less than a millisecond). */
static double seconds_since(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

int pipeline_commit(pipeline_t *p, bool sync)
{
    if (p->failed)
        return p->failed; /* nothing past the last commit is acknowledged */
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int64_t started = pipeline_mono_ms();
    int r;
    if ((r = settle_outputs(p)) < 0)
        return r;
    /* one batch in flight at a time: the previous one first */
    if ((r = commit_finish(p)) < 0)
        return r;
    long n[3];
    rd_kafka_topic_partition_list_t *committed = NULL;
    if ((r = fill_batch(p, n, &committed)) < 0)
        return r;
    if (store_batch_count(p->batches.filling) == 0) {
        rd_kafka_topic_partition_list_destroy(committed);
        p->batches.last_commit_mono_ms = pipeline_mono_ms();
        return 0;
    }
    p->ctr[M_COMMITS]++;
    log_outcomes(p);
    /* the dashboard's days beyond its window go in the batch that counts the newest */
    dashboard_prune(p->metrics, p->batches.filling);
    metrics_flush(p->metrics, p->batches.filling);
    size_t ops = store_batch_count(p->batches.filling);
    metrics_observe(p->metrics, MH_COMMIT_BYTES, (double)store_batch_bytes(p->batches.filling));
    if ((r = submit(p, committed)) < 0)
        return r;
    if (sync && (r = commit_finish(p)) < 0)
        return r;
    p->batches.last_commit_mono_ms = pipeline_mono_ms();
    int64_t took = p->batches.last_commit_mono_ms - started;
    note_commit_time(p, started, took);
    metrics_observe(p->metrics, MH_COMMIT_SECONDS, seconds_since(&t0));
    log_record(LOG_LEVEL_DEBUG, LOG_STORE,
               LOG_FIELDS(LOG_UINT("writes", ops), LOG_INT("identity", n[0]),
                          LOG_INT("contact", n[1]), LOG_INT("account", n[2]),
                          LOG_INT("took_ms", took), LOG_BOOL("sync", sync)),
               "committed");
    return 0;
}
