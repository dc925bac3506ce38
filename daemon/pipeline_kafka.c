/* The pipeline's Kafka side: the producer as the stages' output (stage.h), its
 * delivery reports, intake of fetched records into the partition group, pausing
 * partitions whose buffer is full, and rebalances. */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "kafka.h"
#include "log.h"
#include "pipeline_priv.h"
#include "stage_contact.h"

_Static_assert(STAGE_NO_PARTITION == RD_KAFKA_PARTITION_UA, "a stage's 'any partition'");
_Static_assert(STAGE_NO_OFFSET == RD_KAFKA_OFFSET_INVALID, "a stage's 'no offset'");

/* ---- the stages' output -------------------------------------------------------- */

/* Queues one record; waits for room while the producer queue is full. */
static int produce(void *opaque, stage_out_t t, int32_t partition, int64_t timestamp_ms,
                   const void *key, size_t key_len, const void *val, size_t val_len, char *err,
                   size_t errsz)
{
    pipeline_t *p = opaque;
    rd_kafka_topic_t *rkt = p->kafka.out_rkt[t];
    int64_t deadline = pipeline_mono_ms() + FLUSH_TIMEOUT_MS;
    for (;;) {
        rd_kafka_resp_err_t e = rd_kafka_producev(
            p->kafka.producer, RD_KAFKA_V_RKT(rkt), RD_KAFKA_V_PARTITION(partition),
            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_VALUE((void *)val, val_len),
            RD_KAFKA_V_KEY(key, key_len), RD_KAFKA_V_TIMESTAMP(timestamp_ms > 0 ? timestamp_ms : 0),
            RD_KAFKA_V_END);
        if (!e) {
            p->delivery.produced++;
            return 0;
        }
        if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL || pipeline_mono_ms() > deadline) {
            if (!err[0])
                snprintf(err, errsz, "producing to %s: %s", rd_kafka_topic_name(rkt),
                         rd_kafka_err2str(e));
            return -EIO;
        }
        rd_kafka_poll(p->kafka.producer, 10);
    }
}

/* Where the producer's partitioner (murmur2) puts @key. */
static int32_t partition_of(void *opaque, stage_role_t role, const char *key)
{
    pipeline_t *p = opaque;
    return kafka_murmur2_partition(key, strlen(key), p->kafka.role_partitions[role]);
}

static bool owns(void *opaque, stage_role_t role, int32_t partition)
{
    pipeline_t *p = opaque;
    return p->intake.assigned[pipeline_queue_index(p, role, partition)];
}

stage_output_t pipeline_kafka_output(pipeline_t *p)
{
    return (stage_output_t){
        .opaque = p, .produce = produce, .partition = partition_of, .owns = owns};
}

void pipeline_kafka_on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    pipeline_t *p = opaque;
    (void)rk;
    if (m->err) {
        if (!p->delivery.failed)
            snprintf(p->delivery.err, sizeof(p->delivery.err), "%s [%" PRId32 "]: %s",
                     rd_kafka_topic_name(m->rkt), m->partition, rd_kafka_err2str(m->err));
        p->delivery.failed = true;
        return;
    }
    p->delivery.delivered++;
}

/* ---- intake -------------------------------------------------------------------- */

void pipeline_kafka_set_paused(pipeline_t *p, stage_role_t role, int32_t partition, bool pause)
{
    size_t q = pipeline_queue_index(p, role, partition);
    if (p->intake.paused[q] == pause)
        return;
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, p->kafka.role_topic[role], partition);
    rd_kafka_resp_err_t e = pause ? rd_kafka_pause_partitions(p->kafka.consumer, l)
                                  : rd_kafka_resume_partitions(p->kafka.consumer, l);
    rd_kafka_topic_partition_list_destroy(l);
    if (e)
        log_record(LOG_LEVEL_WARN, LOG_KAFKA,
                   LOG_FIELDS(LOG_STR("topic", p->kafka.role_topic[role]),
                              LOG_INT("partition", partition),
                              LOG_STR("error", rd_kafka_err2str(e))),
                   "%s %s [%" PRId32 "]: %s", pause ? "pausing" : "resuming",
                   p->kafka.role_topic[role], partition, rd_kafka_err2str(e));
    else
        p->intake.paused[q] = pause;
}

static stage_role_t topic_role(pipeline_t *p, const rd_kafka_topic_t *rkt)
{
    for (int r = 0; r < ROLE__COUNT; r++)
        if (p->kafka.role_rkt[r] == rkt)
            return (stage_role_t)r;
    const char *name = rd_kafka_topic_name(rkt);
    for (int r = 0; r < ROLE__COUNT; r++) {
        if (strcmp(p->kafka.role_topic[r], name) == 0) {
            p->kafka.role_rkt[r] = rkt;
            return (stage_role_t)r;
        }
    }
    return ROLE__COUNT;
}

void pipeline_kafka_on_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    pipeline_t *p = opaque;
    if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN)
        pipeline_status_broker(p, reason);
    else /* what librdkafka logs when no one listens; fatal ones also come as records */
        log_warn(LOG_KAFKA, "%s: %s", rd_kafka_name(rk), reason);
}

/* A consumer error delivered as a record: fatal ones end the run. */
static int consumer_error(pipeline_t *p, rd_kafka_message_t *m)
{
    int r = 0;
    if (m->err == RD_KAFKA_RESP_ERR__FATAL) {
        char reason[256];
        rd_kafka_fatal_error(p->kafka.consumer, reason, sizeof(reason));
        r = pipeline_error(p, -EIO, "consumer: %s", reason);
    } else if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        log_warn(LOG_KAFKA, "consumer: %s", rd_kafka_message_errstr(m));
    }
    rd_kafka_message_destroy(m);
    return r;
}

int pipeline_kafka_intake(pipeline_t *p, rd_kafka_message_t *m)
{
    if (m->err)
        return consumer_error(p, m);
    if (p->publish.broker_down) /* a record came: they answer again */
        pipeline_status_broker(p, NULL);
    stage_role_t role = topic_role(p, m->rkt);
    if (role == ROLE__COUNT || m->partition < 0 || m->partition >= p->kafka.role_partitions[role]) {
        log_record(LOG_LEVEL_WARN, LOG_KAFKA,
                   LOG_FIELDS(LOG_STR("topic", rd_kafka_topic_name(m->rkt)),
                              LOG_INT("partition", m->partition), LOG_INT("offset", m->offset)),
                   "record from unexpected %s [%" PRId32 "] ignored", rd_kafka_topic_name(m->rkt),
                   m->partition);
        rd_kafka_message_destroy(m);
        return 0;
    }
    /* A record whose time cannot be read goes first: it is bound for the DLQ. */
    int64_t ts;
    if (!m->payload || codec_peek_time(p->codec, m->payload, m->len, &ts) < 0)
        ts = INT64_MIN;
    size_t q = pipeline_queue_index(p, role, m->partition);
    p->intake.fetched_next[q] = m->offset + 1;
    int32_t partition = m->partition;
    if (pgroup_push(p->intake.pg, q, m, ts, pipeline_mono_ms()) < 0) {
        rd_kafka_message_destroy(m);
        return pipeline_error(p, -ENOMEM, "out of memory buffering records");
    }
    if (pgroup_queue_len(p->intake.pg, q) >= PAUSE_AT)
        pipeline_kafka_set_paused(p, role, partition, true);
    return 0;
}

/* Whether @role's partition @partition, not assigned to this process, should be:
 * the group assigns co-partitioned topics (the same partition count) together, so
 * holding partition @partition of another of them means the assignment is not
 * complete yet (a topic whose metadata the consumer did not have when it joined;
 * the group rebalances once it has).  Its records may be older than any other:
 * nothing newer than them goes before it is assigned and fetched. */
static bool assignment_incomplete(const pipeline_t *p, stage_role_t role, int32_t partition)
{
    if (partition >= p->kafka.role_partitions[role])
        return false;
    for (int k = 0; k < ROLE__COUNT; k++)
        if (k != (int)role && p->kafka.role_partitions[k] == p->kafka.role_partitions[role] &&
            p->intake.assigned[pipeline_queue_index(p, (stage_role_t)k, partition)])
            return true;
    return false;
}

bool pipeline_kafka_queue_lags(void *opaque, size_t q)
{
    pipeline_t *p = opaque;
    stage_role_t role = (stage_role_t)(q / (size_t)p->intake.max_partitions);
    int32_t partition = (int32_t)(q % (size_t)p->intake.max_partitions);
    if (!p->intake.assigned[q])
        return assignment_incomplete(p, role, partition);
    int64_t lo, hi;
    if (rd_kafka_get_watermark_offsets(p->kafka.consumer, p->kafka.role_topic[role], partition, &lo,
                                       &hi) ||
        hi < 0)
        /* Nothing fetched yet: unknown, so it may hold the oldest record.  The first
         * fetch response tells (an empty partition answers with its watermarks too). */
        return true;
    int64_t next = p->intake.fetched_next[q] >= 0 ? p->intake.fetched_next[q] : lo;
    return next < hi;
}

void pipeline_kafka_destroy_message(void *m)
{
    rd_kafka_message_destroy(m);
}

/* ---- rebalance ------------------------------------------------------------- */

void pipeline_kafka_reset_offsets(pipeline_t *p)
{
    for (int r = 0; r < ROLE__COUNT; r++) {
        for (int32_t part = 0; part < p->kafka.role_partitions[r]; part++) {
            p->offsets.next[r][part] = -1;
            p->offsets.dirty[r][part] = false;
        }
    }
}

static bool owns_entity(void *opaque, hf_entity_type_t type, const char *id)
{
    pipeline_t *p = opaque;
    return stage_owns(&p->stage, type, id);
}

/* The summaries contact partition @partition owed its accounts at the last commit
 * (accounts.member_updates: coalesced), with its count of records since it last
 * sent them: they go where they would have gone without the restart. */
static void load_owed(pipeline_t *p, int32_t partition)
{
    uint8_t key[STORE_OWED_KEY_SIZE];
    store_owed_key(key, partition);
    hf_buf_t val = HF_BUF_INIT;
    char why[512];
    int r = store_get(p->store, STORE_CF_OWED, key, sizeof key, &val, why, sizeof(why));
    if (r < 0) {
        pipeline_error(p, -EIO, "reading the summaries owed by %s [%" PRId32 "]: %s",
                       p->kafka.role_topic[ROLE_BY_CONTACT], partition, why);
    } else {
        r = stage_contact_owed_load(&p->stage, partition, r == 0 ? val.data : NULL, val.len);
        if (r < 0)
            pipeline_error(p, r, "reading the summaries owed by %s [%" PRId32 "]: out of memory",
                           p->kafka.role_topic[ROLE_BY_CONTACT], partition);
        else if (r > 0)
            pipeline_error(p, -EIO,
                           "the summaries owed by %s [%" PRId32 "] in the store are malformed",
                           p->kafka.role_topic[ROLE_BY_CONTACT], partition);
    }
    hf_buf_free(&val);
}

/* Where partition @tp resumes: the offset in the store, or the beginning. */
static void assign_one(pipeline_t *p, rd_kafka_topic_partition_t *tp)
{
    store_offset_t at = {RD_KAFKA_OFFSET_INVALID, INT64_MIN};
    char why[512];
    int r = store_offset_get(p->store, tp->topic, tp->partition, &at, why, sizeof(why));
    if (r < 0)
        pipeline_error(p, -EIO, "reading offsets: %s", why);
    int64_t next = at.next;
    tp->offset = r == 0 ? next : RD_KAFKA_OFFSET_BEGINNING;
    stage_role_t role = ROLE__COUNT;
    for (int k = 0; k < ROLE__COUNT; k++)
        if (strcmp(p->kafka.role_topic[k], tp->topic) == 0)
            role = (stage_role_t)k;
    if (role == ROLE__COUNT || tp->partition >= p->kafka.role_partitions[role])
        return;
    size_t q = pipeline_queue_index(p, role, tp->partition);
    p->intake.assigned[q] = true;
    p->intake.paused[q] = false;
    p->intake.fetched_next[q] = r == 0 ? next : -1;
    if (r == 0) {
        p->offsets.next[role][tp->partition] = next;
        /* ordered and judged late as before the restart */
        pgroup_set_partition_time(p->intake.pg, q, at.partition_time);
    }
    if (role == ROLE_BY_CONTACT)
        load_owed(p, tp->partition);
}

static void assign_partitions(pipeline_t *p, rd_kafka_t *rk, rd_kafka_topic_partition_list_t *parts)
{
    pipeline_status_assigning(p, parts->cnt);
    for (int i = 0; i < parts->cnt; i++)
        assign_one(p, &parts->elems[i]);
    p->intake.assigned_mono_ms = pipeline_mono_ms();
    /* the lag of the partitions just assigned (not known yet: lagging), so that the
     * process does not count as caught up before their first fetch */
    pgroup_refresh(p->intake.pg, pipeline_mono_ms());
    char why[512];
    long clocks = timers_load(p->timers, p->store, owns_entity, p, why, sizeof(why));
    if (clocks < 0)
        pipeline_error(p, (int)clocks, "reading the timers store: %s", why);
    log_record(LOG_LEVEL_INFO, LOG_KAFKA,
               LOG_FIELDS(LOG_INT("partitions", parts->cnt),
                          LOG_INT("sla_clocks_pending", clocks < 0 ? 0 : clocks)),
               "assigned %d partitions; resuming from the offsets in the store, %ld SLA "
               "clocks pending",
               parts->cnt, clocks < 0 ? 0 : clocks);
    rd_kafka_assign(rk, parts);
    /* librdkafka keeps a partition's pause across a rebalance, while the intake
     * starts over unpaused: a partition paused with a full buffer before it was
     * revoked would never be fetched again, and the partition group would wait for
     * it for ever. */
    rd_kafka_resume_partitions(rk, parts);
    pipeline_status_assigned(p, parts->cnt);
}

static void revoke_partitions(pipeline_t *p, rd_kafka_t *rk, rd_kafka_topic_partition_list_t *parts)
{
    pipeline_status_revoked(p);
    log_record(LOG_LEVEL_INFO, LOG_KAFKA, LOG_FIELDS(LOG_INT("partitions", parts->cnt)),
               "revoking %d partitions: committing first", parts->cnt);
    /* a failure is the run's (p->failed); coalesced summaries still owed are not
     * sent (a rebalance is a moment of the wall clock): the commit stored them for
     * whoever is assigned their partition next */
    pipeline_commit(p, true);
    stage_contact_owed_clear(&p->stage);
    cache_clear(p->anon_cache);
    cache_clear(p->contact_cache);
    cache_clear(p->account_cache);
    cache_clear(p->team_cache);
    timers_clear(p->timers);
    /* Fetched but unprocessed records are fetched again, from the committed
     * offsets, by whoever owns their partitions next. */
    pgroup_clear(p->intake.pg, pipeline_kafka_destroy_message);
    pipeline_kafka_reset_offsets(p);
    size_t queues = (size_t)ROLE__COUNT * (size_t)p->intake.max_partitions;
    memset(p->intake.assigned, 0, queues * sizeof(bool));
    memset(p->intake.paused, 0, queues * sizeof(bool));
    rd_kafka_assign(rk, NULL);
}

/* The store, not the group coordinator, says where each partition resumes: its
 * offsets were written in the same batch as the state that folded them.  A
 * failure here cannot be returned: it marks the run failed, and the step that
 * polled the consumer returns it. */
void pipeline_kafka_on_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                                 rd_kafka_topic_partition_list_t *parts, void *opaque)
{
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS)
        assign_partitions(opaque, rk, parts);
    else
        revoke_partitions(opaque, rk, parts);
}
