#include "pipeline_priv.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <librdkafka/rdkafka.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "processors/contact/contact.h"
#include "processors/identity/identity.h"
#include "cache.h"
#include "codec/codec.h"
#include "kafka.h"
#include "log.h"
#include "metrics.h"
#include "outcomes.h"
#include "pgroup.h"
#include "store.h"

int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t wall_ms(void *opaque)
{
    (void)opaque;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void pipeline_fail(pipeline_t *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void pipeline_fail(pipeline_t *p, const char *fmt, ...)
{
    if (p->fatal)
        return; /* keep the first cause */
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->fatal_err, sizeof(p->fatal_err), fmt, ap);
    va_end(ap);
    p->fatal = true;
    log_error(LOG_PIPE, "%s", p->fatal_err);
}

/* ---- producing ------------------------------------------------------------- */

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    pipeline_t *p = opaque;
    (void)rk;
    if (m->err) {
        if (!p->delivery_failed)
            snprintf(p->delivery_err, sizeof(p->delivery_err), "%s [%" PRId32 "]: %s",
                     rd_kafka_topic_name(m->rkt), m->partition, rd_kafka_err2str(m->err));
        p->delivery_failed = true;
        return;
    }
    p->delivered++;
}

/* Queues one record; waits for room while the producer queue is full.  Returns 0,
 * or -EIO after marking the pipeline failed. */
int produce_to(pipeline_t *p, out_topic_t t, int32_t partition, int64_t timestamp_ms,
               const void *key, size_t key_len, const void *val, size_t val_len)
{
    int64_t deadline = mono_ms() + FLUSH_TIMEOUT_MS;
    for (;;) {
        rd_kafka_resp_err_t e = rd_kafka_producev(
            p->producer, RD_KAFKA_V_RKT(p->out_rkt[t]), RD_KAFKA_V_PARTITION(partition),
            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_VALUE((void *)val, val_len),
            RD_KAFKA_V_KEY(key, key_len), RD_KAFKA_V_TIMESTAMP(timestamp_ms > 0 ? timestamp_ms : 0),
            RD_KAFKA_V_END);
        if (!e) {
            p->produced++;
            return 0;
        }
        if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL || mono_ms() > deadline) {
            pipeline_fail(p, "producing to %s: %s", rd_kafka_topic_name(p->out_rkt[t]),
                          rd_kafka_err2str(e));
            return -EIO;
        }
        rd_kafka_poll(p->producer, 10);
    }
}

/* An output, keyed by entity; the partitioner (murmur2) picks the partition. */
int produce(pipeline_t *p, out_topic_t t, const void *key, size_t key_len, const void *val,
            size_t val_len)
{
    return produce_to(p, t, RD_KAFKA_PARTITION_UA, 0, key, key_len, val, val_len);
}

static void set_paused(pipeline_t *p, role_t role, int32_t partition, bool pause)
{
    size_t q = queue_index(p, role, partition);
    if (p->paused[q] == pause)
        return;
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, p->role_topic[role], partition);
    rd_kafka_resp_err_t e = pause ? rd_kafka_pause_partitions(p->consumer, l)
                                  : rd_kafka_resume_partitions(p->consumer, l);
    rd_kafka_topic_partition_list_destroy(l);
    if (e)
        log_warn(LOG_KAFKA, "%s %s [%" PRId32 "]: %s", pause ? "pausing" : "resuming",
                 p->role_topic[role], partition, rd_kafka_err2str(e));
    else
        p->paused[q] = pause;
}

static role_t topic_role(pipeline_t *p, const rd_kafka_topic_t *rkt)
{
    for (int r = 0; r < ROLE__COUNT; r++)
        if (p->role_rkt[r] == rkt)
            return (role_t)r;
    const char *name = rd_kafka_topic_name(rkt);
    for (int r = 0; r < ROLE__COUNT; r++) {
        if (strcmp(p->role_topic[r], name) == 0) {
            p->role_rkt[r] = rkt;
            return (role_t)r;
        }
    }
    return ROLE__COUNT;
}

/* Takes a fetched record into the partition group (or handles a consumer error).
 * Takes ownership of @m. */
static void intake(pipeline_t *p, rd_kafka_message_t *m)
{
    if (m->err) {
        if (m->err == RD_KAFKA_RESP_ERR__FATAL) {
            char reason[256];
            rd_kafka_fatal_error(p->consumer, reason, sizeof(reason));
            pipeline_fail(p, "consumer: %s", reason);
        } else if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            log_warn(LOG_KAFKA, "consumer: %s", rd_kafka_message_errstr(m));
        }
        rd_kafka_message_destroy(m);
        return;
    }
    role_t role = topic_role(p, m->rkt);
    if (role == ROLE__COUNT || m->partition < 0 || m->partition >= p->role_partitions[role]) {
        log_warn(LOG_KAFKA, "record from unexpected %s [%" PRId32 "] ignored",
                 rd_kafka_topic_name(m->rkt), m->partition);
        rd_kafka_message_destroy(m);
        return;
    }
    /* A record whose time cannot be read goes first: it is bound for the DLQ. */
    int64_t ts;
    if (!m->payload || codec_peek_time(p->codec, m->payload, m->len, &ts) < 0)
        ts = INT64_MIN;
    size_t q = queue_index(p, role, m->partition);
    p->fetched_next[q] = m->offset + 1;
    if (pgroup_push(p->pg, q, m, ts) < 0) {
        rd_kafka_message_destroy(m);
        pipeline_fail(p, "out of memory buffering records");
        return;
    }
    if (pgroup_queue_len(p->pg, q) >= PAUSE_AT)
        set_paused(p, role, m->partition, true);
}

/* Whether the broker holds records of queue @q that were not fetched yet. */
static bool queue_lags(void *opaque, size_t q)
{
    pipeline_t *p = opaque;
    if (!p->assigned[q])
        return false;
    role_t role = (role_t)(q / (size_t)p->max_partitions);
    int32_t partition = (int32_t)(q % (size_t)p->max_partitions);
    int64_t lo, hi;
    if (rd_kafka_get_watermark_offsets(p->consumer, p->role_topic[role], partition, &lo, &hi) ||
        hi < 0)
        /* Nothing fetched yet: unknown.  Worth waiting for only right after the
         * assignment, while the first fetches are under way. */
        return mono_ms() - p->assigned_mono_ms < STARTUP_ORDER_WAIT_MS;
    int64_t next = p->fetched_next[q] >= 0 ? p->fetched_next[q] : lo;
    return next < hi;
}

/* Processes one record the partition group released.  Takes ownership of @m. */
static void handle_message(pipeline_t *p, rd_kafka_message_t *m, size_t q)
{
    role_t role = (role_t)(q / (size_t)p->max_partitions);
    int64_t expected = p->next_offset[role][m->partition];
    if (expected >= 0 && m->offset > expected)
        metrics_add_named(p->metrics, "gaps", p->role_topic[role],
                          (uint64_t)(m->offset - expected));

    p->ctr[M_CONSUMED]++;
    p->run_consumed++;
    /* The run's rate spans the first to the last record processed (not fetched:
     * the partition group may hold fetched records back). */
    p->run_last_mono_ms = mono_ms();
    if (!p->run_first_mono_ms)
        p->run_first_mono_ms = p->run_last_mono_ms;
    int r = stages_process(p, m, role);
    if (r < 0) {
        if (!p->fatal)
            pipeline_fail(p, "processing %s [%" PRId32 "] @%" PRId64 ": %s",
                          rd_kafka_topic_name(m->rkt), m->partition, m->offset, strerror(-r));
    } else {
        p->next_offset[role][m->partition] = m->offset + 1;
        p->offset_dirty[role][m->partition] = true;
        if (p->paused[q] && pgroup_queue_len(p->pg, q) <= RESUME_AT)
            set_paused(p, role, m->partition, false);
    }
    rd_kafka_message_destroy(m);
}

static void destroy_message(void *m)
{
    rd_kafka_message_destroy(m);
}

/* ---- commit ---------------------------------------------------------------- */

/* Waits for the batch on the writer thread, then does what follows its being
 * durable: clean entries may be evicted, the offsets go to the group coordinator
 * (for lag monitoring only).  Returns 0 or -EIO (pipeline failed). */
static int commit_finish(pipeline_t *p)
{
    if (!p->write_inflight)
        return 0;
    p->write_inflight = false;
    int r = store_write_wait(p->store, p->errbuf, sizeof(p->errbuf));
    rd_kafka_topic_partition_list_t *committed = p->inflight_offsets;
    p->inflight_offsets = NULL;
    if (r < 0) {
        rd_kafka_topic_partition_list_destroy(committed);
        pipeline_fail(p, "state store: %s", p->errbuf);
        return -EIO;
    }
    cache_commit(p->anon_cache);
    cache_commit(p->contact_cache);
    cache_commit(p->account_cache);
    if (committed->cnt)
        rd_kafka_commit(p->consumer, committed, 1);
    rd_kafka_topic_partition_list_destroy(committed);
    return 0;
}

/* Makes the work since the last commit durable: outputs acknowledged first, then
 * state, offsets and counters in one atomic batch.  The batch is encoded here and
 * written on the store's writer thread while processing goes on (as Kafka Streams
 * flushes while the next records are processed); the next commit, or @sync, waits
 * for it.  Returns 0 or -EIO (pipeline failed). */
static int pipeline_commit(pipeline_t *p, bool sync)
{
    if (p->fatal)
        return -EIO;
    int64_t started = mono_ms();
    /* first what the interval's changes owe stage 3 (and what that sets off) */
    int fr = stages_flush_owed(p);
    if (fr < 0) {
        if (!p->fatal)
            pipeline_fail(p, "sending contact summaries to their accounts: %s", strerror(-fr));
        return -EIO;
    }
    rd_kafka_resp_err_t e = rd_kafka_flush(p->producer, FLUSH_TIMEOUT_MS);
    if (e) {
        pipeline_fail(p,
                      "outputs not acknowledged within %d s (%d in flight): %s; state not "
                      "committed",
                      FLUSH_TIMEOUT_MS / 1000, rd_kafka_outq_len(p->producer), rd_kafka_err2str(e));
        return -EIO;
    }
    if (p->delivery_failed) {
        pipeline_fail(p, "an output was not delivered (%s); state not committed", p->delivery_err);
        return -EIO;
    }
    /* one batch in flight at a time: the previous one first */
    if (commit_finish(p) < 0)
        return -EIO;

    long n1 = cache_flush(p->anon_cache, p->batch, p->errbuf, sizeof(p->errbuf));
    long n2 = n1 < 0 ? n1 : cache_flush(p->contact_cache, p->batch, p->errbuf, sizeof(p->errbuf));
    long n3 = n2 < 0 ? n2 : cache_flush(p->account_cache, p->batch, p->errbuf, sizeof(p->errbuf));
    if (n1 < 0 || n2 < 0 || n3 < 0) {
        pipeline_fail(p, "%s", p->errbuf);
        return -EIO;
    }

    timers_flush(p->timers, p->batch);
    rd_kafka_topic_partition_list_t *committed = rd_kafka_topic_partition_list_new(16);
    uint8_t v[8];
    for (int r = 0; r < ROLE__COUNT; r++) {
        for (int32_t part = 0; part < p->role_partitions[r]; part++) {
            if (!p->offset_dirty[r][part])
                continue;
            store_offset_key(&p->key_buf, p->role_topic[r], part);
            store_put_be64(v, (uint64_t)p->next_offset[r][part]);
            store_batch_put(p->batch, STORE_CF_OFFSETS, p->key_buf.data, p->key_buf.len, v, 8);
            rd_kafka_topic_partition_list_add(committed, p->role_topic[r], part)->offset =
                p->next_offset[r][part];
        }
    }
    if (store_batch_count(p->batch) == 0) {
        rd_kafka_topic_partition_list_destroy(committed);
        p->last_commit_mono_ms = mono_ms();
        return 0;
    }
    p->ctr[M_COMMITS]++;
    if (p->outcomes_changed) {
        /* outcomes for marketing, once per commit interval in which they moved */
        p->outcomes_changed = false;
        outcomes_t *o = outcomes_of(p);
        if (o) {
            char line[512];
            outcomes_line(o, line, sizeof line);
            log_info(LOG_PIPE, "outcomes: %s", line);
            outcomes_free(o);
        }
    }
    metrics_flush(p->metrics, p->batch);
    size_t ops = store_batch_count(p->batch);
    if (store_write_submit(p->store, p->batch, p->errbuf, sizeof(p->errbuf)) < 0) {
        rd_kafka_topic_partition_list_destroy(committed);
        pipeline_fail(p, "state store: %s", p->errbuf);
        return -EIO;
    }
    /* the writer has that batch now; the next commit fills the other */
    store_batch_t *spare = p->batch_spare;
    p->batch_spare = p->batch;
    p->batch = spare;
    p->write_inflight = true;
    p->inflight_offsets = committed;
    for (int r = 0; r < ROLE__COUNT; r++)
        memset(p->offset_dirty[r], 0, sizeof(bool) * (size_t)p->role_partitions[r]);
    if (sync && commit_finish(p) < 0)
        return -EIO;
    p->last_commit_mono_ms = mono_ms();
    int64_t took = p->last_commit_mono_ms - started;
    if (p->run_last_mono_ms && p->run_last_mono_ms <= started &&
        p->run_tail_for_ms != p->run_last_mono_ms) {
        p->run_tail_for_ms = p->run_last_mono_ms;
        p->run_tail_commit_ms = took;
    }
    p->run_commits++;
    p->run_commit_ms += took;
    if (took > p->run_commit_max_ms)
        p->run_commit_max_ms = took;
    log_debug(LOG_STORE,
              "committed %zu writes (%ld identity, %ld contact, %ld account) in %" PRId64 " ms%s",
              ops, n1, n2, n3, took, sync ? "" : " (writing on)");
    return 0;
}

static int outcome_counter(void *opaque, const char *name, uint64_t value)
{
    return outcomes_add(opaque, name, value) < 0 ? -ENOMEM : 0;
}

/* The outcomes table from the counters in memory (NULL on out of memory). */
outcomes_t *outcomes_of(pipeline_t *p)
{
    outcomes_t *o = outcomes_new();
    if (o && metrics_each_named(p->metrics, "outcome", outcome_counter, o) != 0) {
        outcomes_free(o);
        o = NULL;
    }
    return o;
}

/* ---- rebalance ------------------------------------------------------------- */

static void reset_offsets(pipeline_t *p)
{
    for (int r = 0; r < ROLE__COUNT; r++) {
        for (int32_t part = 0; part < p->role_partitions[r]; part++) {
            p->next_offset[r][part] = -1;
            p->offset_dirty[r][part] = false;
        }
    }
}

static bool owns(void *opaque, hf_entity_type_t type, const char *id)
{
    return stages_owns(opaque, type, id);
}

/* The store, not the group coordinator, says where each partition resumes: its
 * offsets were written in the same batch as the state that folded them. */
static void on_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *parts, void *opaque)
{
    pipeline_t *p = opaque;
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        for (int i = 0; i < parts->cnt; i++) {
            rd_kafka_topic_partition_t *tp = &parts->elems[i];
            int64_t next;
            int r = store_offset_get(p->store, tp->topic, tp->partition, &next, p->errbuf,
                                     sizeof(p->errbuf));
            if (r < 0) {
                pipeline_fail(p, "reading offsets: %s", p->errbuf);
                next = RD_KAFKA_OFFSET_INVALID;
            }
            tp->offset = r == 0 ? next : RD_KAFKA_OFFSET_BEGINNING;
            role_t role = ROLE__COUNT;
            for (int k = 0; k < ROLE__COUNT; k++)
                if (strcmp(p->role_topic[k], tp->topic) == 0)
                    role = (role_t)k;
            if (role == ROLE__COUNT || tp->partition >= p->role_partitions[role])
                continue;
            size_t q = queue_index(p, role, tp->partition);
            p->assigned[q] = true;
            p->paused[q] = false;
            p->fetched_next[q] = r == 0 ? next : -1;
            if (r == 0)
                p->next_offset[role][tp->partition] = next;
        }
        p->assigned_mono_ms = mono_ms();
        long clocks = timers_load(p->timers, p->store, owns, p, p->errbuf, sizeof(p->errbuf));
        if (clocks < 0)
            pipeline_fail(p, "reading the timers store: %s", p->errbuf);
        log_info(LOG_KAFKA,
                 "assigned %d partitions; resuming from the offsets in the store, %ld SLA "
                 "clocks pending",
                 parts->cnt, clocks < 0 ? 0 : clocks);
        rd_kafka_assign(rk, parts);
    } else {
        log_info(LOG_KAFKA, "revoking %d partitions: committing first", parts->cnt);
        pipeline_commit(p, true);
        cache_clear(p->anon_cache);
        cache_clear(p->contact_cache);
        cache_clear(p->account_cache);
        timers_clear(p->timers);
        /* Fetched but unprocessed records are fetched again, from the committed
         * offsets, by whoever owns their partitions next. */
        pgroup_clear(p->pg, destroy_message);
        reset_offsets(p);
        size_t queues = (size_t)ROLE__COUNT * (size_t)p->max_partitions;
        memset(p->assigned, 0, queues * sizeof(bool));
        memset(p->paused, 0, queues * sizeof(bool));
        rd_kafka_assign(rk, NULL);
    }
}

/* ---- set-up ---------------------------------------------------------------- */

/* The e-mail hash key: read from the configured file, created with random bytes on
 * first start so hashes stay stable across restarts. */
static int load_email_key(const char *path, uint8_t *key, size_t *key_len, char *err, size_t errsz)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT) {
        uint8_t fresh[32];
        if (getrandom(fresh, sizeof(fresh), 0) != (ssize_t)sizeof(fresh)) {
            snprintf(err, errsz, "getrandom: %s", strerror(errno));
            return -EIO;
        }
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0 || write(fd, fresh, sizeof(fresh)) != (ssize_t)sizeof(fresh)) {
            int e = errno;
            snprintf(err, errsz, "creating %s: %s", path, strerror(e));
            if (fd >= 0)
                close(fd);
            return -e;
        }
        close(fd);
        fd = open(path, O_RDONLY | O_CLOEXEC);
    }
    if (fd < 0) {
        int e = errno;
        snprintf(err, errsz, "%s: %s", path, strerror(e));
        return -e;
    }
    ssize_t n = read(fd, key, 64);
    close(fd);
    if (n < 16) {
        snprintf(err, errsz, "%s: a key needs at least 16 bytes", path);
        return -EINVAL;
    }
    *key_len = (size_t)n;
    return 0;
}

static int mkdir_p(const char *dir, char *err, size_t errsz)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s", dir);
    for (char *s = path + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = 0;
        if (mkdir(path, 0700) < 0 && errno != EEXIST)
            goto fail;
        *s = '/';
    }
    if (mkdir(path, 0700) < 0 && errno != EEXIST)
        goto fail;
    return 0;
fail:;
    int e = errno;
    snprintf(err, errsz, "creating %s: %s", path, strerror(e));
    return -e;
}

/* Every topic exists and co-partitioned topics have equal partition counts (as
 * Kafka Streams checks): a stage's inputs keyed by the same id must put partition p
 * of each on the same instance. */
static int check_topology(pipeline_t *p, char *err, size_t errsz)
{
    const hf_topics_t *t = &p->cfg->topics;
    const char *names[ROLE__COUNT + OUT__COUNT];
    for (int r = 0; r < ROLE__COUNT; r++)
        names[r] = p->role_topic[r];
    const char *outs[] = {t->conversation_ready, t->lifecycle, t->dlq, t->sla_breach};
    size_t n = ROLE__COUNT;
    for (size_t i = 0; i < sizeof(outs) / sizeof(outs[0]); i++)
        names[n++] = outs[i];
    int32_t counts[ROLE__COUNT + OUT__COUNT];
    int r = kafka_partition_counts(p->producer, names, n, counts, METADATA_TIMEOUT_MS, err, errsz);
    if (r < 0)
        return r;
    char missing[1024] = "";
    size_t used = 0;
    for (size_t i = 0; i < n; i++) {
        if (counts[i] > 0)
            continue;
        int w =
            snprintf(missing + used, sizeof(missing) - used, "%s%s", used ? ", " : "", names[i]);
        if (w > 0 && (size_t)w < sizeof(missing) - used)
            used += (size_t)w;
    }
    if (used) {
        snprintf(err, errsz,
                 "topics missing on the cluster: %s (create them with %d partitions, or run "
                 "tools/hf-broker for a local cluster)",
                 missing, p->cfg->partitions);
        return -ENOENT;
    }
    /* Stage 3 reads account feedback from sales.activity, keyed by account. */
    static const role_t groups[3][6] = {
        {ROLE_WEB, ROLE_FORM, ROLE_BY_ANON, ROLE__COUNT},
        {ROLE_BY_CONTACT, ROLE_DOWNLOAD, ROLE_WEBINAR, ROLE_EMAIL, ROLE_IDENTITY, ROLE_SALES},
        {ROLE_BY_ACCOUNT, ROLE_SALES, ROLE__COUNT},
    };
    for (int g = 0; g < 3; g++) {
        role_t first = groups[g][0];
        for (int i = 1; i < 6 && groups[g][i] != ROLE__COUNT; i++) {
            role_t other = groups[g][i];
            if (counts[other] != counts[first]) {
                snprintf(err, errsz,
                         "topic %s has %d partitions but %s has %d: topics read by the same "
                         "stage must be co-partitioned (equal partition counts)",
                         names[other], counts[other], names[first], counts[first]);
                return -EINVAL;
            }
        }
    }
    for (int k = 0; k < ROLE__COUNT; k++) {
        p->role_partitions[k] = counts[k];
        p->next_offset[k] = malloc(sizeof(int64_t) * (size_t)counts[k]);
        p->offset_dirty[k] = calloc((size_t)counts[k], sizeof(bool));
        if (!p->next_offset[k] || !p->offset_dirty[k]) {
            snprintf(err, errsz, "out of memory");
            return -ENOMEM;
        }
    }
    reset_offsets(p);

    for (int k = 0; k < ROLE__COUNT; k++)
        if (counts[k] > p->max_partitions)
            p->max_partitions = counts[k];
    size_t queues = (size_t)ROLE__COUNT * (size_t)p->max_partitions;
    p->fetched_next = malloc(queues * sizeof(int64_t));
    p->assigned = calloc(queues, sizeof(bool));
    p->paused = calloc(queues, sizeof(bool));
    p->pg = pgroup_new(queues, MAX_ORDER_WAIT_MS, queue_lags, p);
    if (!p->fetched_next || !p->assigned || !p->paused || !p->pg) {
        snprintf(err, errsz, "out of memory");
        return -ENOMEM;
    }
    for (size_t q = 0; q < queues; q++)
        p->fetched_next[q] = -1;
    return 0;
}

static const char *const producer_defaults[] = {
    "enable.idempotence",
    "true",
    "linger.ms",
    "5",
    "partitioner",
    "murmur2_random", /* keys land where Java and Python producers put them */
    "queue.buffering.max.messages",
    "1000000",
    "queue.buffering.max.kbytes",
    "1048576",
    "message.max.bytes",
    "4000000",
    NULL,
};

static const char *const consumer_defaults[] = {
    "enable.auto.commit",
    "false",
    "enable.auto.offset.store",
    "false",
    "auto.offset.reset",
    "earliest",
    "partition.assignment.strategy",
    "range",
    "isolation.level",
    "read_committed",
    "session.timeout.ms",
    "10000",
    "heartbeat.interval.ms",
    "1000",
    /* librdkafka 2.0.2 stalls ~0.5 s whenever its fetch queue fills: keep it large. */
    "queued.min.messages",
    "200000",
    "queued.max.messages.kbytes",
    "262144",
    "fetch.wait.max.ms",
    "10",
    NULL,
};

int pipeline_new(pipeline_t **out, const pipeline_opts_t *opts, char *err, size_t errsz)
{
    const hf_config_t *cfg = opts->cfg;
    pipeline_t *p = calloc(1, sizeof(*p));
    if (!p) {
        snprintf(err, errsz, "out of memory");
        return -ENOMEM;
    }
    p->cfg = cfg;
    p->clock = opts->clock ? opts->clock : wall_ms;
    p->clock_opaque = opts->clock_opaque;
    p->exit_when_idle_ms = opts->exit_when_idle_ms;
    p->reload = opts->reload;
    p->reload_fn = opts->reload_fn;
    p->reload_opaque = opts->reload_opaque;
    p->progress_every_ms = opts->progress_every_ms;
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
    memcpy(p->role_topic, roles, sizeof(roles));
    int r;

    /* Config validation refuses exactly_once (Kafka transactions are not built). */
    assert(cfg->guarantee == HF_GUARANTEE_AT_LEAST_ONCE);

    if ((r = mkdir_p(cfg->state_dir, err, errsz)) < 0)
        goto fail;
    if ((r = store_open(&p->store, cfg->state_dir, false, err, errsz)) < 0)
        goto fail;
    p->batch = store_batch_new(p->store);
    p->batch_spare = store_batch_new(p->store);
    p->metrics = metrics_new();
    p->anon_cache =
        cache_new(&stages_anon_ops, p->store, STORE_CF_IDENTITY, cfg->cache_max_entries / 4);
    p->contact_cache =
        cache_new(&stages_contact_ops, p->store, STORE_CF_CONTACT, cfg->cache_max_entries);
    p->account_cache =
        cache_new(&stages_account_ops, p->store, STORE_CF_ACCOUNT, cfg->cache_max_entries / 4);
    p->timers = timers_new();
    if (!p->brokers || !p->batch || !p->batch_spare || !p->metrics || !p->anon_cache ||
        !p->contact_cache || !p->account_cache || !p->timers) {
        snprintf(err, errsz, "out of memory");
        r = -ENOMEM;
        goto fail;
    }
    p->ctr = metrics_counters(p->metrics);
    if ((r = metrics_load(p->metrics, p->store, err, errsz)) < 0)
        goto fail;

    uint8_t key[64];
    size_t key_len = 0;
    if ((r = load_email_key(cfg->email_hash_key_file, key, &key_len, err, errsz)) < 0)
        goto fail;
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
    if (r < 0)
        goto fail;

    rd_kafka_conf_t *pconf = kafka_conf_new(cfg, p->brokers, producer_defaults, err, errsz);
    if (!pconf) {
        r = -EINVAL;
        goto fail;
    }
    rd_kafka_conf_set_opaque(pconf, p);
    rd_kafka_conf_set_dr_msg_cb(pconf, on_delivery);
    char rkerr[256];
    p->producer = rd_kafka_new(RD_KAFKA_PRODUCER, pconf, rkerr, sizeof(rkerr));
    if (!p->producer) {
        snprintf(err, errsz, "producer: %s", rkerr);
        r = -EINVAL;
        goto fail;
    }
    const char *out_names[OUT__COUNT] = {
        [OUT_BY_ANON] = t->by_anonymous,  [OUT_BY_CONTACT] = t->by_contact,
        [OUT_BY_ACCOUNT] = t->by_account, [OUT_READY] = t->conversation_ready,
        [OUT_LIFECYCLE] = t->lifecycle,   [OUT_DLQ] = t->dlq,
        [OUT_SLA] = t->sla_breach,
    };
    for (int i = 0; i < OUT__COUNT; i++)
        p->out_rkt[i] = rd_kafka_topic_new(p->producer, out_names[i], NULL);

    if ((r = check_topology(p, err, errsz)) < 0)
        goto fail;

    rd_kafka_conf_t *cconf = kafka_conf_new(cfg, p->brokers, consumer_defaults, err, errsz);
    if (!cconf) {
        r = -EINVAL;
        goto fail;
    }
    if ((r = kafka_conf_set(cconf, "group.id", cfg->app_id, err, errsz)) < 0) {
        rd_kafka_conf_destroy(cconf);
        goto fail;
    }
    rd_kafka_conf_set_opaque(cconf, p);
    rd_kafka_conf_set_rebalance_cb(cconf, on_rebalance);
    p->consumer = rd_kafka_new(RD_KAFKA_CONSUMER, cconf, rkerr, sizeof(rkerr));
    if (!p->consumer) {
        snprintf(err, errsz, "consumer: %s", rkerr);
        r = -EINVAL;
        goto fail;
    }
    rd_kafka_poll_set_consumer(p->consumer);
    p->queue = rd_kafka_queue_get_consumer(p->consumer);

    rd_kafka_topic_partition_list_t *subs = rd_kafka_topic_partition_list_new(ROLE__COUNT);
    for (int i = 0; i < ROLE__COUNT; i++)
        rd_kafka_topic_partition_list_add(subs, p->role_topic[i], RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t e = rd_kafka_subscribe(p->consumer, subs);
    rd_kafka_topic_partition_list_destroy(subs);
    if (e) {
        snprintf(err, errsz, "subscribe: %s", rd_kafka_err2str(e));
        r = -EINVAL;
        goto fail;
    }
    log_info(LOG_MAIN, "consuming %d topics as group %s from %s; state in %s", ROLE__COUNT,
             cfg->app_id, p->brokers, cfg->state_dir);
    *out = p;
    return 0;
fail:
    pipeline_free(p);
    return r;
}

int pipeline_run(pipeline_t *p, volatile sig_atomic_t *stop, char *err, size_t errsz)
{
    rd_kafka_message_t *msgs[CONSUME_BATCH];
    p->last_commit_mono_ms = mono_ms();
    int64_t last_progress = mono_ms();
    int consume_timeout_ms = 100;
    int64_t last_refresh = 0;
    while (!*stop && !p->fatal) {
        /* Block only until the first record arrives, then take what is there:
         * rd_kafka_consume_batch_queue() with a timeout waits for a full batch. */
        ssize_t n = 0;
        int64_t wait_from = consume_timeout_ms < 100 ? mono_ms() : 0;
        rd_kafka_message_t *first = rd_kafka_consume_queue(p->queue, consume_timeout_ms);
        if (wait_from) /* held back by a lagging partition (pgroup said wait) */
            p->run_wait_ms += mono_ms() - wait_from;
        if (first) {
            msgs[0] = first;
            n = 1 + rd_kafka_consume_batch_queue(p->queue, 0, msgs + 1, CONSUME_BATCH - 1);
            if (n < 1)
                n = 1;
        }
        for (ssize_t i = 0; i < n; i++)
            intake(p, msgs[i]);
        /* Lag of empty partitions changes with fetches, not per record: reading
         * every watermark after every batch would cost a lock per partition. */
        if (mono_ms() - last_refresh >= 10) {
            pgroup_refresh(p->pg, mono_ms());
            last_refresh = mono_ms();
        }

        /* Process in event-time order as far as what was fetched allows. */
        consume_timeout_ms = 100;
        for (unsigned k = 0; !p->fatal; k++) {
            void *m;
            size_t q;
            pgroup_next_result_t r = pgroup_next(p->pg, mono_ms(), &m, &q);
            if (r != PGROUP_READY) {
                if (r == PGROUP_WAIT) {
                    consume_timeout_ms = 5;
                    long wq = pgroup_waiting_on(p->pg);
                    log_debug(LOG_PIPE, "waiting for %s [%ld] (fetched up to %" PRId64 ")",
                              p->role_topic[wq / p->max_partitions], wq % p->max_partitions,
                              p->fetched_next[wq]);
                }
                break;
            }
            handle_message(p, m, q);
            if ((k & 1023) == 1023) {
                rd_kafka_poll(p->producer, 0);
                if (mono_ms() - p->last_commit_mono_ms >= p->cfg->commit_interval_ms)
                    pipeline_commit(p, false);
                if (*stop)
                    break;
            }
        }
        rd_kafka_poll(p->producer, 0);
        if (p->delivery_failed)
            pipeline_fail(p, "an output was not delivered (%s)", p->delivery_err);
        /* SLA clocks run on the wall clock, whether records arrive or not */
        if (!p->fatal && stages_fire_timers(p, p->clock(p->clock_opaque), 10000) < 0 && !p->fatal)
            pipeline_fail(p, "firing SLA clocks failed");
        /* SIGHUP: the new rules apply from the next record on */
        if (p->reload && *p->reload && p->reload_fn) {
            *p->reload = 0;
            if (p->reload_fn(p->reload_opaque) > 0 && p->cfg->rules->sla_recompute_on_reload)
                stages_reschedule(p);
        }
        int64_t now = mono_ms();
        if (!p->fatal && now - p->last_commit_mono_ms >= p->cfg->commit_interval_ms)
            pipeline_commit(p, false);
        if (p->progress_every_ms > 0 && now - last_progress >= p->progress_every_ms) {
            last_progress = now;
            log_info(LOG_PIPE,
                     "progress: consumed %" PRIu64 ", folded %" PRIu64 ", handoffs %" PRIu64
                     ", dead letters %" PRIu64 ", cached %zu contacts",
                     p->ctr[M_CONSUMED], p->ctr[M_FOLDED], p->ctr[M_HANDOFFS], p->ctr[M_DLQ],
                     cache_size(p->contact_cache));
        }
        int64_t active =
            p->run_last_mono_ms > p->assigned_mono_ms ? p->run_last_mono_ms : p->assigned_mono_ms;
        if (p->exit_when_idle_ms > 0 && p->assigned_mono_ms > 0 &&
            now - active >= p->exit_when_idle_ms) {
            log_info(LOG_PIPE, "idle for %" PRId64 " ms: stopping", p->exit_when_idle_ms);
            break;
        }
    }
    if (!p->fatal) {
        pipeline_commit(p, true);
        pgroup_clear(p->pg, destroy_message);
        p->clocks_at_stop = timers_count(p->timers); /* leaving the group drops the index */
        if (p->consumer)
            rd_kafka_consumer_close(p->consumer);
    }
    if (p->fatal) {
        snprintf(err, errsz, "%s", p->fatal_err);
        return -EIO;
    }
    return 0;
}

void pipeline_print_summary(pipeline_t *p, FILE *out)
{
    /* busy time: from the first record to the last, and the commit that made the
     * state of the last one durable */
    int64_t tail = p->run_tail_for_ms == p->run_last_mono_ms ? p->run_tail_commit_ms : 0;
    double secs = (double)(p->run_last_mono_ms - p->run_first_mono_ms + tail) / 1000.0;
    fprintf(out, "\n== handoffd summary ==\n");
    fprintf(out,
            "this run: %" PRIu64 " records consumed, %" PRIu64 " events folded, %" PRIu64
            " handoffs",
            p->run_consumed, p->run_folded, p->run_handoffs);
    if (secs > 0)
        fprintf(out, " in %.1f s (%.0f records/s)", secs, (double)p->run_consumed / secs);
    fprintf(out, "\n");
    const uint64_t *c = p->ctr;
    fprintf(out,
            "totals:   consumed %" PRIu64 ", folded %" PRIu64 ", duplicates dropped %" PRIu64
            ", re-keyed %" PRIu64 " (%" PRIu64 " through repartition topics)\n",
            c[M_CONSUMED], c[M_FOLDED], c[M_DUPLICATES], c[M_FORWARDED], c[M_REMOTE]);
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
    sum = metrics_group_text(p->metrics, "dlq", text, sizeof(text));
    fprintf(out, "dead letters: %" PRIu64 "%s%s%s\n", sum, sum ? " (" : "", text, sum ? ")" : "");
    sum = metrics_group_text(p->metrics, "breaches", text, sizeof(text));
    fprintf(out,
            "sales feedback: %" PRIu64 " applied; SLA breaches %" PRIu64 "%s%s%s; %zu clocks "
            "pending\n",
            c[M_FEEDBACK], c[M_BREACHES], sum ? " (" : "", text, sum ? ")" : "",
            p->clocks_at_stop ? p->clocks_at_stop : timers_count(p->timers));
    outcomes_t *o = outcomes_of(p);
    if (o) {
        outcomes_line(o, text, sizeof(text));
        fprintf(out, "outcomes: %s\n", text);
        outcomes_free(o);
    }
    if (p->run_commits)
        fprintf(out,
                "time: %" PRId64 " commits took %" PRId64 " ms (longest %" PRId64
                " ms); waiting on lagging partitions %" PRId64 " ms\n",
                p->run_commits, p->run_commit_ms, p->run_commit_max_ms, p->run_wait_ms);
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) == 0)
        fprintf(out, "peak RSS: %.1f MiB\n", (double)ru.ru_maxrss / 1024.0);
    sum = metrics_group_text(p->metrics, "gaps", text, sizeof(text));
    if (sum)
        fprintf(out, "offset gaps (records the broker no longer had): %" PRIu64 " (%s)\n", sum,
                text);
}

void pipeline_free(pipeline_t *p)
{
    if (!p)
        return;
    pgroup_free(p->pg, destroy_message);
    if (p->queue)
        rd_kafka_queue_destroy(p->queue);
    if (p->consumer)
        rd_kafka_destroy(p->consumer);
    for (int i = 0; i < OUT__COUNT; i++)
        if (p->out_rkt[i])
            rd_kafka_topic_destroy(p->out_rkt[i]);
    if (p->producer) {
        rd_kafka_flush(p->producer, 5000);
        rd_kafka_destroy(p->producer);
    }
    cache_free(p->anon_cache);
    cache_free(p->contact_cache);
    cache_free(p->account_cache);
    timers_free(p->timers);
    metrics_free(p->metrics);
    /* a batch still being written belongs to the writer until it is done */
    if (p->store)
        store_write_wait(p->store, p->errbuf, sizeof(p->errbuf));
    if (p->inflight_offsets)
        rd_kafka_topic_partition_list_destroy(p->inflight_offsets);
    store_batch_free(p->batch);
    store_batch_free(p->batch_spare);
    store_close(p->store);
    codec_free(p->codec);
    codec_free(p->enc_codec);
    stages_mail_clear(p);
    free(p->mail);
    free(p->owed);
    free(p->fetched_next);
    free(p->assigned);
    free(p->paused);
    for (int r = 0; r < ROLE__COUNT; r++) {
        free(p->next_offset[r]);
        free(p->offset_dirty[r]);
    }
    hf_buf_free(&p->out_buf);
    hf_buf_free(&p->enc_buf);
    hf_buf_free(&p->key_buf);
    free(p->brokers);
    free(p);
}
