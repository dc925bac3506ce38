/* The pipeline: set-up, the loop and the run's summary.  The loop turns like an
 * event loop with a cron beside it: each turn fetches what the consumer has into
 * the partition group (pipeline_step_fetch), processes what the group releases in
 * event-time order (pipeline_step_process), then does what is due whether records
 * came or not (pipeline_cron: delivery reports, SLA clocks, a reload, the commit
 * interval, the progress line, the idle exit). */
#include "pipeline_priv.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "clocks.h"
#include "kafka.h"
#include "log.h"
#include "outcomes.h"
#include "stage_contact.h"

static int64_t wall_ms(void *opaque)
{
    (void)opaque;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int pipeline_error(pipeline_t *p, int code, const char *fmt, ...)
{
    assert(code < 0);
    if (!p->err[0]) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(p->err, sizeof(p->err), fmt, ap);
        va_end(ap);
    }
    if (!p->failed) {
        p->failed = code;
        log_error(LOG_PIPE, "%s", p->err);
    }
    return code;
}

static int outcome_counter(void *opaque, const char *name, uint64_t value)
{
    return outcomes_add(opaque, name, value) < 0 ? -ENOMEM : 0;
}

outcomes_t *pipeline_outcomes(pipeline_t *p)
{
    outcomes_t *o = outcomes_new();
    if (o && metrics_each_named(p->metrics, "outcome", outcome_counter, o) != 0) {
        outcomes_free(o);
        o = NULL;
    }
    return o;
}

/* ---- set-up ---------------------------------------------------------------- */

static void take_options(pipeline_t *p, const pipeline_opts_t *opts)
{
    const hf_config_t *cfg = opts->cfg;
    p->cfg = cfg;
    p->clock = opts->clock ? opts->clock : wall_ms;
    p->clock_opaque = opts->clock_opaque;
    p->exit_when_idle_ms = opts->exit_when_idle_ms;
    p->reload = opts->reload;
    p->reload_fn = opts->reload_fn;
    p->reload_opaque = opts->reload_opaque;
    p->progress_every_ms = opts->progress_every_ms;
    p->publish.status = opts->status;
    p->brokers = strdup(opts->brokers ? opts->brokers : cfg->brokers);
    const hf_topics_t *t = &cfg->topics;
    const char *roles[ROLE__COUNT] = {
        [ROLE_WEB] = t->web_visits,
        [ROLE_FORM] = t->form_submissions,
        [ROLE_DOWNLOAD] = t->content_downloads,
        [ROLE_WEBINAR] = t->webinar_attendance,
        [ROLE_EMAIL] = t->email_engagement,
        [ROLE_IDENTITY] = t->identity,
        [ROLE_SALES] = t->sales_activity,
        [ROLE_BY_ANON] = t->by_anonymous,
        [ROLE_BY_CONTACT] = t->by_contact,
        [ROLE_BY_ACCOUNT] = t->by_account,
    };
    memcpy(p->kafka.role_topic, roles, sizeof(roles));
}

/* The store, its batches, the counters, the record caches and the timers index. */
static int open_state(pipeline_t *p, char *err, size_t errsz)
{
    const hf_config_t *cfg = p->cfg;
    int r;
    if ((r = pipeline_setup_mkdir(cfg->state_dir, err, errsz)) < 0)
        return r;
    if ((r = store_open(&p->store, cfg->state_dir, false, err, errsz)) < 0)
        return r;
    p->batches.filling = store_batch_new(p->store);
    p->batches.spare = store_batch_new(p->store);
    p->metrics = metrics_new();
    p->anon_cache =
        cache_new(&stage_anon_ops, p->store, STORE_CF_IDENTITY, cfg->cache_max_entries / 4);
    p->contact_cache =
        cache_new(&stage_contact_ops, p->store, STORE_CF_CONTACT, cfg->cache_max_entries);
    p->account_cache =
        cache_new(&stage_account_ops, p->store, STORE_CF_ACCOUNT, cfg->cache_max_entries / 4);
    p->team_cache = cache_new(&stage_team_ops, p->store, STORE_CF_TEAM, 1024);
    p->timers = timers_new();
    if (!p->brokers || !p->batches.filling || !p->batches.spare || !p->metrics || !p->anon_cache ||
        !p->contact_cache || !p->account_cache || !p->team_cache || !p->timers) {
        snprintf(err, errsz, "out of memory");
        return -ENOMEM;
    }
    p->ctr = metrics_counters(p->metrics);
    return metrics_load(p->metrics, p->store, err, errsz);
}

/* Two codecs: one decodes what the stages process and encodes outputs, the other
 * encodes records between stages while the first one's decoded strings are in use. */
static int open_codecs(pipeline_t *p, char *err, size_t errsz)
{
    const hf_config_t *cfg = p->cfg;
    uint8_t key[64];
    size_t key_len = 0;
    int r = pipeline_setup_email_key(cfg->email_hash_key_file, key, &key_len, err, errsz);
    if (r < 0)
        return r;
    codec_opts_t copts = {
        .max_record_bytes = cfg->max_record_bytes,
        .max_field_bytes = cfg->max_field_bytes,
        .max_tags = cfg->max_tags,
        .email_key = key,
        .email_key_len = key_len,
        .output_format = cfg->output_format,
    };
    r = codec_new(&p->codec, &copts, err, errsz);
    if (r == 0)
        r = codec_new(&p->enc_codec, &copts, err, errsz);
    memset(key, 0, sizeof(key));
    return r;
}

static int open_producer(pipeline_t *p, char *err, size_t errsz)
{
    rd_kafka_conf_t *conf =
        kafka_conf_new(p->cfg, p->brokers, pipeline_setup_producer_defaults, err, errsz);
    if (!conf)
        return -EINVAL;
    rd_kafka_conf_set_opaque(conf, p);
    rd_kafka_conf_set_dr_msg_cb(conf, pipeline_kafka_on_delivery);
    char rkerr[256];
    p->kafka.producer = rd_kafka_new(RD_KAFKA_PRODUCER, conf, rkerr, sizeof(rkerr));
    if (!p->kafka.producer) {
        snprintf(err, errsz, "producer: %s", rkerr);
        return -EINVAL;
    }
    const hf_topics_t *t = &p->cfg->topics;
    const char *out_names[OUT__COUNT] = {
        [OUT_BY_ANON] = t->by_anonymous,  [OUT_BY_CONTACT] = t->by_contact,
        [OUT_BY_ACCOUNT] = t->by_account, [OUT_READY] = t->conversation_ready,
        [OUT_LIFECYCLE] = t->lifecycle,   [OUT_DLQ] = t->dlq,
        [OUT_SLA] = t->sla_breach,        [OUT_DIGEST] = t->digest,
    };
    for (int i = 0; i < OUT__COUNT; i++)
        p->kafka.out_rkt[i] = rd_kafka_topic_new(p->kafka.producer, out_names[i], NULL);
    return 0;
}

/* What the stages see: the caches, codecs, timers and counters above, the producer
 * as their output, and the pipeline's error buffer. */
static int open_stage(pipeline_t *p, char *err, size_t errsz)
{
    stage_ctx_t *c = &p->stage;
    c->rules = &p->cfg->rules;
    c->clock = p->clock;
    c->clock_opaque = p->clock_opaque;
    c->codec = p->codec;
    c->enc_codec = p->enc_codec;
    c->anon_cache = p->anon_cache;
    c->contact_cache = p->contact_cache;
    c->account_cache = p->account_cache;
    c->team_cache = p->team_cache;
    c->timers = p->timers;
    c->metrics = p->metrics;
    c->out = pipeline_kafka_output(p);
    memcpy(c->role_topic, p->kafka.role_topic, sizeof(c->role_topic));
    c->err = p->err;
    c->errsz = sizeof(p->err);
    if (stage_ctx_init(c) < 0) {
        snprintf(err, errsz, "out of memory");
        return -ENOMEM;
    }
    return 0;
}

static int subscribe(pipeline_t *p, char *err, size_t errsz)
{
    rd_kafka_topic_partition_list_t *subs = rd_kafka_topic_partition_list_new(ROLE__COUNT);
    for (int i = 0; i < ROLE__COUNT; i++)
        rd_kafka_topic_partition_list_add(subs, p->kafka.role_topic[i], RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t e = rd_kafka_subscribe(p->kafka.consumer, subs);
    rd_kafka_topic_partition_list_destroy(subs);
    if (e) {
        snprintf(err, errsz, "subscribe: %s", rd_kafka_err2str(e));
        return -EINVAL;
    }
    return 0;
}

static int open_consumer(pipeline_t *p, char *err, size_t errsz)
{
    rd_kafka_conf_t *conf =
        kafka_conf_new(p->cfg, p->brokers, pipeline_setup_consumer_defaults, err, errsz);
    if (!conf)
        return -EINVAL;
    int r = kafka_conf_set(conf, "group.id", p->cfg->app_id, err, errsz);
    if (r < 0) {
        rd_kafka_conf_destroy(conf);
        return r;
    }
    rd_kafka_conf_set_opaque(conf, p);
    rd_kafka_conf_set_rebalance_cb(conf, pipeline_kafka_on_rebalance);
    rd_kafka_conf_set_error_cb(conf, pipeline_kafka_on_error);
    char rkerr[256];
    p->kafka.consumer = rd_kafka_new(RD_KAFKA_CONSUMER, conf, rkerr, sizeof(rkerr));
    if (!p->kafka.consumer) {
        snprintf(err, errsz, "consumer: %s", rkerr);
        return -EINVAL;
    }
    rd_kafka_poll_set_consumer(p->kafka.consumer);
    p->kafka.queue = rd_kafka_queue_get_consumer(p->kafka.consumer);
    return subscribe(p, err, errsz);
}

int pipeline_new(pipeline_t **out, const pipeline_opts_t *opts, char *err, size_t errsz)
{
    pipeline_t *p = calloc(1, sizeof(*p));
    if (!p) {
        snprintf(err, errsz, "out of memory");
        return -ENOMEM;
    }
    take_options(p, opts);
    /* Config validation refuses exactly_once (Kafka transactions are not built). */
    assert(p->cfg->guarantee == HF_GUARANTEE_AT_LEAST_ONCE);
    int r;
    if ((r = open_state(p, err, errsz)) < 0 || (r = open_codecs(p, err, errsz)) < 0 ||
        (r = open_producer(p, err, errsz)) < 0 ||
        (r = pipeline_setup_topology(p, err, errsz)) < 0 || (r = open_stage(p, err, errsz)) < 0 ||
        (r = open_consumer(p, err, errsz)) < 0)
        goto fail;
    log_record(LOG_LEVEL_INFO, LOG_MAIN,
               LOG_FIELDS(LOG_INT("topics", ROLE__COUNT), LOG_STR("group", p->cfg->app_id),
                          LOG_STR("brokers", p->brokers), LOG_STR("state_dir", p->cfg->state_dir)),
               "consuming %d topics as group %s from %s; state in %s", ROLE__COUNT, p->cfg->app_id,
               p->brokers, p->cfg->state_dir);
    *out = p;
    return 0;
fail:
    pipeline_free(p);
    return r;
}

/* ---- the loop ---------------------------------------------------------------- */

/* Fetches what the consumer has into the partition group: blocks only until the
 * first record arrives, then takes what is there (rd_kafka_consume_batch_queue()
 * with a timeout waits for a full batch).  Rebalances run in here. */
static int pipeline_step_fetch(pipeline_t *p)
{
    rd_kafka_message_t *msgs[CONSUME_BATCH];
    ssize_t n = 0;
    int timeout_ms = p->marks.consume_timeout_ms;
    int64_t wait_from = timeout_ms < 100 ? pipeline_mono_ms() : 0;
    rd_kafka_message_t *first = rd_kafka_consume_queue(p->kafka.queue, timeout_ms);
    if (wait_from) /* held back by a lagging partition (pgroup said wait) */
        p->run.wait_ms += pipeline_mono_ms() - wait_from;
    if (first) {
        msgs[0] = first;
        n = 1 + rd_kafka_consume_batch_queue(p->kafka.queue, 0, msgs + 1, CONSUME_BATCH - 1);
        if (n < 1)
            n = 1;
    }
    int r = p->failed; /* a rebalance that failed */
    for (ssize_t i = 0; i < n; i++) {
        int ri = pipeline_kafka_intake(p, msgs[i]);
        if (r == 0)
            r = ri;
    }
    /* Lag of empty partitions changes with fetches, not per record: reading
     * every watermark after every batch would cost a lock per partition. */
    if (pipeline_mono_ms() - p->marks.refresh_mono_ms >= 10) {
        pgroup_refresh(p->intake.pg, pipeline_mono_ms());
        p->marks.refresh_mono_ms = pipeline_mono_ms();
    }
    return r;
}

/* A record released later than the allowed lateness: applied as it comes, counted
 * per topic. */
static void count_late(pipeline_t *p, const rd_kafka_message_t *m, stage_role_t role,
                       const pgroup_item_t *it)
{
    metrics_add_named(p->metrics, "late", p->kafka.role_topic[role], 1);
    log_record(LOG_LEVEL_DEBUG, LOG_PIPE,
               LOG_FIELDS(LOG_STR("topic", p->kafka.role_topic[role]),
                          LOG_INT("partition", m->partition), LOG_INT("offset", m->offset),
                          LOG_INT("behind_ms", it->behind_ms)),
               "late record %s [%" PRId32 "] @%" PRId64 ": %" PRId64 " ms behind",
               p->kafka.role_topic[role], m->partition, m->offset, it->behind_ms);
}

/* Processes one record the partition group released.  Takes ownership of it. */
static int handle_message(pipeline_t *p, const pgroup_item_t *it)
{
    rd_kafka_message_t *m = it->record;
    size_t q = it->q;
    stage_role_t role = (stage_role_t)(q / (size_t)p->intake.max_partitions);
    assert(role < ROLE__COUNT && m->partition < p->kafka.role_partitions[role]);
    int64_t expected = p->offsets.next[role][m->partition];
    if (expected >= 0 && m->offset > expected)
        metrics_add_named(p->metrics, "gaps", p->kafka.role_topic[role],
                          (uint64_t)(m->offset - expected));
    if (it->late)
        count_late(p, m, role, it);

    p->ctr[M_CONSUMED]++;
    p->run.consumed++;
    pipeline_status_consumed(p, q);
    /* The run's rate spans the first to the last record processed (not fetched:
     * the partition group may hold fetched records back). */
    p->run.last_mono_ms = pipeline_mono_ms();
    if (!p->run.first_mono_ms)
        p->run.first_mono_ms = p->run.last_mono_ms;
    stage_origin_t origin = {
        .topic = rd_kafka_topic_name(m->rkt),
        .partition = m->partition,
        .offset = m->offset,
        .key = m->key,
        .key_len = m->key_len,
        .value = m->payload,
        .value_len = m->len,
    };
    int r = stage_process(&p->stage, &origin, role);
    if (r < 0) {
        r = pipeline_error(p, r, "processing %s [%" PRId32 "] @%" PRId64 ": %s", origin.topic,
                           m->partition, m->offset, strerror(-r));
    } else {
        p->offsets.next[role][m->partition] = m->offset + 1;
        p->offsets.dirty[role][m->partition] = true;
        if (p->intake.paused[q] && pgroup_queue_len(p->intake.pg, q) <= RESUME_AT)
            pipeline_kafka_set_paused(p, role, m->partition, false);
    }
    rd_kafka_message_destroy(m);
    return r;
}

static bool commit_due(const pipeline_t *p)
{
    return pipeline_mono_ms() - p->batches.last_commit_mono_ms >= p->cfg->commit_interval_ms;
}

/* Whether the records processed last are live: the stream time is within
 * ordering.allowed_lateness of the wall clock. */
static bool live_stream(pipeline_t *p)
{
    int64_t t = pgroup_stream_time(p->intake.pg);
    return t != INT64_MIN && t >= stage_now_ms(&p->stage) - p->cfg->ordering.allowed_lateness_ms;
}

/* Processes in event-time order as far as what was fetched allows; every 1024
 * records serves delivery reports, commits when the interval passed and looks at
 * @stop.  Caught up, sends the summaries contacts still owe their accounts. */
static int pipeline_step_process(pipeline_t *p, volatile sig_atomic_t *stop)
{
    p->marks.consume_timeout_ms = 100;
    int64_t mono_ms = 0, wall_ms = 0;
    for (unsigned k = 0;; k++) {
        /* the clocks of the idle timeout and the allowed lateness, read every 64
         * records rather than for each (both count in milliseconds) */
        if ((k & 63) == 0) {
            mono_ms = pipeline_mono_ms();
            wall_ms = stage_now_ms(&p->stage);
        }
        pgroup_item_t it;
        pgroup_next_result_t next = pgroup_next(p->intake.pg, mono_ms, wall_ms, &it);
        if (next == PGROUP_WAIT) {
            p->marks.consume_timeout_ms = 5;
            long wq = pgroup_waiting_on(p->intake.pg);
            log_record(
                LOG_LEVEL_DEBUG, LOG_PIPE,
                LOG_FIELDS(LOG_STR("topic", p->kafka.role_topic[wq / p->intake.max_partitions]),
                           LOG_INT("partition", wq % p->intake.max_partitions),
                           LOG_INT("fetched_next", p->intake.fetched_next[wq])),
                "waiting for %s [%ld] (fetched up to %" PRId64 ")",
                p->kafka.role_topic[wq / p->intake.max_partitions], wq % p->intake.max_partitions,
                p->intake.fetched_next[wq]);
        }
        if ((next == PGROUP_EMPTY && pgroup_caught_up(p->intake.pg)) ||
            (next != PGROUP_READY && live_stream(p))) {
            /* nothing buffered and nothing on the broker, or a live stream that has to
             * wait for its next record (some partition always has a record on its way
             * at thousands of events a second): the summaries still owed go now
             * (coalesced), so that live traffic does not wait for a count.  A backlog
             * is neither until its end, so a replay sends at the same records. */
            int r = stage_contact_caught_up(&p->stage);
            if (r < 0)
                return pipeline_error(p, r, "sending contact summaries to their accounts: %s",
                                      strerror(-r));
        }
        if (next != PGROUP_READY)
            return 0;
        int r = handle_message(p, &it);
        if (r < 0)
            return r;
        if ((k & 1023) == 1023) {
            pipeline_status_beat(p); /* a long batch is a live loop too */
            rd_kafka_poll(p->kafka.producer, 0);
            if (commit_due(p) && (r = pipeline_commit(p, false)) < 0)
                return r;
            if (*stop)
                return 0;
        }
    }
}

/* SIGHUP: the new rules apply from the next record on. */
static int cron_reload(pipeline_t *p)
{
    if (!p->reload || !*p->reload || !p->reload_fn)
        return 0;
    *p->reload = 0;
    if (p->reload_fn(p->reload_opaque) <= 0)
        return 0;
    /* every team's next digest follows digest.at and its calendar; SLA clocks only
     * with sla.on_reload: recompute */
    int r = p->cfg->rules->sla.recompute_on_reload ? clocks_reschedule(&p->stage)
                                                   : clocks_reschedule_digests(&p->stage);
    if (r < 0)
        return pipeline_error(p, r, "rescheduling SLA clocks: %s", strerror(-r));
    return 0;
}

static void cron_progress(pipeline_t *p, int64_t now)
{
    if (p->progress_every_ms <= 0 || now - p->marks.progress_mono_ms < p->progress_every_ms)
        return;
    p->marks.progress_mono_ms = now;
    log_record(LOG_LEVEL_INFO, LOG_PIPE,
               LOG_FIELDS(LOG_UINT("consumed", p->ctr[M_CONSUMED]),
                          LOG_UINT("folded", p->ctr[M_FOLDED]),
                          LOG_UINT("handoffs", p->ctr[M_HANDOFFS]),
                          LOG_UINT("dead_letters", p->ctr[M_DLQ]),
                          LOG_UINT("cached_contacts", cache_size(p->contact_cache))),
               "progress");
}

/* Whether nothing was consumed for exit_when_idle_ms since the last record or the
 * last assignment. */
static bool cron_idle(const pipeline_t *p, int64_t now)
{
    int64_t assigned = p->intake.assigned_mono_ms;
    int64_t active = p->run.last_mono_ms > assigned ? p->run.last_mono_ms : assigned;
    if (p->exit_when_idle_ms <= 0 || assigned <= 0 || now - active < p->exit_when_idle_ms)
        return false;
    log_record(LOG_LEVEL_INFO, LOG_PIPE, LOG_FIELDS(LOG_INT("idle_ms", p->exit_when_idle_ms)),
               "idle for %" PRId64 " ms: stopping", p->exit_when_idle_ms);
    return true;
}

/* What is due every turn, whether records came or not; *@idle says the run may
 * stop. */
static int pipeline_cron(pipeline_t *p, bool *idle)
{
    rd_kafka_poll(p->kafka.producer, 0);
    if (p->delivery.failed)
        return pipeline_error(p, -EIO, "an output was not delivered (%s)", p->delivery.err);
    /* SLA clocks run on the wall clock, whether records arrive or not */
    int r = clocks_fire(&p->stage, p->clock(p->clock_opaque), CLOCKS_PER_TURN);
    if (r < 0)
        return pipeline_error(p, r, "firing SLA clocks failed");
    if ((r = cron_reload(p)) < 0)
        return r;
    if (commit_due(p) && (r = pipeline_commit(p, false)) < 0)
        return r;
    int64_t now = pipeline_mono_ms();
    cron_progress(p, now);
    *idle = cron_idle(p, now);
    return 0;
}

/* The last commit, then leaving the group (which revokes, so commits again:
 * nothing is left to write by then). */
static int leave(pipeline_t *p)
{
    int r = pipeline_commit(p, true);
    pgroup_clear(p->intake.pg, pipeline_kafka_destroy_message);
    p->run.clocks_at_stop = timers_count(p->timers); /* leaving the group drops the index */
    if (p->kafka.consumer)
        rd_kafka_consumer_close(p->kafka.consumer);
    return r < 0 ? r : p->failed;
}

int pipeline_run(pipeline_t *p, volatile sig_atomic_t *stop, char *err, size_t errsz)
{
    p->batches.last_commit_mono_ms = pipeline_mono_ms();
    p->marks.progress_mono_ms = pipeline_mono_ms();
    p->marks.consume_timeout_ms = 100;
    int r = pipeline_status_start(p);
    bool idle = false;
    while (r == 0 && !idle && !*stop) {
        r = pipeline_step_fetch(p);
        if (r == 0)
            r = pipeline_step_process(p, stop);
        if (r == 0)
            r = pipeline_cron(p, &idle);
        pipeline_status_turn(p);
    }
    pipeline_status_stopping(p);
    if (r == 0)
        r = leave(p);
    if (r < 0) {
        pipeline_error(p, r, "%s", strerror(-r)); /* the reason was written on the way up */
        snprintf(err, errsz, "%s", p->err);
        return r;
    }
    return 0;
}

/* ---- summary ------------------------------------------------------------------ */

/* "this run:" and "totals:" lines. */
static void print_run(pipeline_t *p, FILE *out)
{
    /* busy time: from the first record to the last, and the commit that made the
     * state of the last one durable */
    const pipeline_run_stats_t *run = &p->run;
    int64_t tail = run->tail_for_ms == run->last_mono_ms ? run->tail_commit_ms : 0;
    double secs = (double)(run->last_mono_ms - run->first_mono_ms + tail) / 1000.0;
    fprintf(out, "\n== handoffd summary ==\n");
    fprintf(out,
            "this run: %" PRIu64 " records consumed, %" PRIu64 " events folded, %" PRIu64
            " handoffs",
            run->consumed, p->stage.run.folded, p->stage.run.handoffs);
    if (secs > 0)
        fprintf(out, " in %.1f s (%.0f records/s)", secs, (double)run->consumed / secs);
    fprintf(out, "\n");
    const uint64_t *c = p->ctr;
    fprintf(out,
            "totals:   consumed %" PRIu64 ", folded %" PRIu64 ", duplicates dropped %" PRIu64
            ", re-keyed %" PRIu64 " (%" PRIu64 " through repartition topics)\n",
            c[M_CONSUMED], c[M_FOLDED], c[M_DUPLICATES], c[M_FORWARDED], c[M_REMOTE]);
}

/* The lines of what the stages did: identity, handoffs, accounts, lifecycle, dead
 * letters, feedback and SLA. */
static void print_stages(pipeline_t *p, FILE *out)
{
    const uint64_t *c = p->ctr;
    fprintf(out,
            "identity: %" PRIu64 " anonymous ids identified, %" PRIu64 " relinked, %" PRIu64
            " buffered, %" PRIu64 " dropped by stitching bounds\n",
            c[M_IDENTIFIED], c[M_RELINKED], c[M_BUFFERED], c[M_EVICTED]);
    char text[1024];
    uint64_t sum = metrics_group_text(p->metrics, "handoffs", text, sizeof(text));
    fprintf(out, "handoffs: %" PRIu64 "%s%s%s\n", sum, sum ? " (" : "", text, sum ? ")" : "");
    fprintf(out,
            "accounts: %" PRIu64 " member updates, %" PRIu64 " rosters, %" PRIu64
            " merges, %" PRIu64 " events redirected to a survivor\n",
            c[M_MEMBER_UPDATES], c[M_ROSTERS], c[M_MERGES], c[M_REDIRECTED]);
    sum = metrics_group_text(p->metrics, "lifecycle", text, sizeof(text));
    fprintf(out, "lifecycle changes: %" PRIu64 "%s%s%s\n", c[M_LIFECYCLE], sum ? " (" : "", text,
            sum ? ")" : "");
    sum = metrics_group_text(p->metrics, "late", text, sizeof(text));
    fprintf(out, "late: %" PRIu64 "%s%s%s\n", sum, sum ? " (" : "", text, sum ? ")" : "");
    sum = metrics_group_text(p->metrics, "dlq", text, sizeof(text));
    fprintf(out, "dead letters: %" PRIu64 "%s%s%s\n", sum, sum ? " (" : "", text, sum ? ")" : "");
    sum = metrics_group_text(p->metrics, "breaches", text, sizeof(text));
    fprintf(out,
            "sales feedback: %" PRIu64 " applied; SLA breaches %" PRIu64 "%s%s%s; %zu clocks "
            "pending\n",
            c[M_FEEDBACK], c[M_BREACHES], sum ? " (" : "", text, sum ? ")" : "",
            p->run.clocks_at_stop ? p->run.clocks_at_stop : timers_count(p->timers));
}

void pipeline_print_summary(pipeline_t *p, FILE *out)
{
    print_run(p, out);
    print_stages(p, out);
    char text[1024];
    outcomes_t *o = pipeline_outcomes(p);
    if (o) {
        outcomes_line(o, text, sizeof(text));
        fprintf(out, "outcomes: %s\n", text);
        outcomes_free(o);
    }
    const pipeline_run_stats_t *run = &p->run;
    if (run->commits)
        fprintf(out,
                "time: %" PRId64 " commits took %" PRId64 " ms (longest %" PRId64
                " ms); waiting on lagging partitions %" PRId64 " ms\n",
                run->commits, run->commit_ms, run->commit_max_ms, run->wait_ms);
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) == 0)
        fprintf(out, "peak RSS: %.1f MiB\n", (double)ru.ru_maxrss / 1024.0);
    uint64_t sum = metrics_group_text(p->metrics, "gaps", text, sizeof(text));
    if (sum)
        fprintf(out, "offset gaps (records the broker no longer had): %" PRIu64 " (%s)\n", sum,
                text);
}

/* ---- teardown ----------------------------------------------------------------- */

static void free_kafka(pipeline_t *p)
{
    if (p->kafka.queue)
        rd_kafka_queue_destroy(p->kafka.queue);
    /* a consumer that did not leave the group leaves it here, through the rebalance
     * callback, which clears the partition group: free that afterwards */
    if (p->kafka.consumer)
        rd_kafka_destroy(p->kafka.consumer);
    pgroup_free(p->intake.pg, pipeline_kafka_destroy_message);
    for (int i = 0; i < OUT__COUNT; i++)
        if (p->kafka.out_rkt[i])
            rd_kafka_topic_destroy(p->kafka.out_rkt[i]);
    if (p->kafka.producer) {
        rd_kafka_flush(p->kafka.producer, 5000);
        rd_kafka_destroy(p->kafka.producer);
    }
    free(p->intake.fetched_next);
    free(p->intake.assigned);
    free(p->intake.paused);
    for (int r = 0; r < ROLE__COUNT; r++) {
        free(p->offsets.next[r]);
        free(p->offsets.dirty[r]);
    }
}

store_t *pipeline_store(pipeline_t *p)
{
    return p->store;
}

void pipeline_free(pipeline_t *p)
{
    if (!p)
        return;
    free_kafka(p);
    stage_ctx_release(&p->stage);
    cache_free(p->anon_cache);
    cache_free(p->contact_cache);
    cache_free(p->account_cache);
    cache_free(p->team_cache);
    timers_free(p->timers);
    metrics_free(p->metrics);
    /* a batch still being written belongs to the writer until it is done */
    char why[512];
    if (p->store)
        store_write_wait(p->store, why, sizeof(why));
    if (p->batches.inflight_offsets)
        rd_kafka_topic_partition_list_destroy(p->batches.inflight_offsets);
    store_batch_free(p->batches.filling);
    store_batch_free(p->batches.spare);
    store_close(p->store);
    codec_free(p->codec);
    codec_free(p->enc_codec);
    pipeline_status_free(p);
    free(p->brokers);
    free(p);
}
