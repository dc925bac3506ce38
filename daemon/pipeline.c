#include "pipeline.h"

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

#include "../processors/contact.h"
#include "../processors/identity.h"
#include "cache.h"
#include "codec.h"
#include "kafka.h"
#include "log.h"
#include "metrics.h"
#include "pgroup.h"
#include "store.h"

/* Topics the pipeline consumes, by what it does with them. */
typedef enum role {
    ROLE_WEB = 0,
    ROLE_FORM,
    ROLE_DOWNLOAD,
    ROLE_WEBINAR,
    ROLE_EMAIL,
    ROLE_IDENTITY,
    ROLE_SALES,
    ROLE_BY_ANON,
    ROLE_BY_CONTACT,
    ROLE__COUNT
} role_t;

/* Topics the pipeline produces to. */
typedef enum out_topic {
    OUT_BY_ANON = 0,
    OUT_BY_CONTACT,
    OUT_READY,
    OUT_LIFECYCLE,
    OUT_DLQ,
    OUT__COUNT
} out_topic_t;

#define CONSUME_BATCH 1024
/* A partition whose buffer in the partition group reaches PAUSE_AT records stops
 * fetching until it drains to RESUME_AT: bounded memory while waiting for
 * another partition to catch up in event time. */
#define PAUSE_AT 5000
#define RESUME_AT 1000
/* How long the oldest partition may hold the others back (max.task.idle.ms). */
#define MAX_ORDER_WAIT_MS 500
#define STARTUP_ORDER_WAIT_MS 500
#define FLUSH_TIMEOUT_MS 60000
#define METADATA_TIMEOUT_MS 15000

struct pipeline {
    const hf_config_t *cfg;
    pipeline_clock_fn clock;
    void *clock_opaque;
    char *brokers;
    int64_t exit_when_idle_ms;
    int64_t progress_every_ms;

    store_t *store;
    store_batch_t *batch;
    codec_t *codec;
    cache_t *anon_cache;
    cache_t *contact_cache;
    metrics_t *metrics;
    uint64_t *ctr;

    rd_kafka_t *consumer;
    rd_kafka_t *producer;
    rd_kafka_queue_t *queue;

    const char *role_topic[ROLE__COUNT];
    int32_t role_partitions[ROLE__COUNT];
    const rd_kafka_topic_t *role_rkt[ROLE__COUNT]; /* learnt from messages, for fast lookup */
    rd_kafka_topic_t *out_rkt[OUT__COUNT];

    /* Next offset to consume per role and partition (-1: nothing consumed yet in
     * this assignment), and whether it changed since the last commit. */
    int64_t *next_offset[ROLE__COUNT];
    bool *offset_dirty[ROLE__COUNT];

    /* Records fetched but not processed yet, released in event-time order.  Queue
     * index = role * max_partitions + partition.  Per queue: the offset after the
     * last record fetched (-1 unknown), whether it is assigned, whether paused. */
    pgroup_t *pg;
    int32_t max_partitions;
    int64_t *fetched_next;
    bool *assigned;
    bool *paused;
    int64_t current_ts; /* event time of the record being processed */
    const rd_kafka_message_t *current_msg;
    codec_t *local_codec; /* decodes records re-keyed inside this process */

    /* Producer acknowledgements (delivery reports run on this thread, inside
     * rd_kafka_poll / rd_kafka_flush). */
    uint64_t produced;
    uint64_t delivered;
    bool delivery_failed;
    char delivery_err[256];

    bool fatal;
    char fatal_err[512];

    int64_t last_commit_mono_ms;
    hf_buf_t out_buf;
    hf_buf_t key_buf;
    char errbuf[512];

    /* This run, for the summary. */
    uint64_t run_consumed;
    uint64_t run_handoffs;
    uint64_t run_folded;
    int64_t run_first_mono_ms;
    int64_t run_last_mono_ms;
    int64_t assigned_mono_ms; /* last assignment: idle time counts from here too */
};

static int64_t mono_ms(void)
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

static void pipeline_fail(pipeline_t *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void pipeline_fail(pipeline_t *p, const char *fmt, ...)
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

/* ---- state stores ---------------------------------------------------------- */

static int anon_encode(const void *s, hf_buf_t *out)
{
    return anon_state_encode(s, out);
}
static int anon_decode(void **out, const void *buf, size_t len)
{
    return anon_state_decode((anon_state_t **)out, buf, len);
}
static void anon_free(void *s)
{
    anon_state_free(s);
}
static const cache_ops_t anon_ops = {anon_encode, anon_decode, anon_free};

static int contact_encode(const void *s, hf_buf_t *out)
{
    return contact_state_encode(s, out);
}
static int contact_decode(void **out, const void *buf, size_t len)
{
    return contact_state_decode((contact_state_t **)out, buf, len);
}
static void contact_free(void *s)
{
    contact_state_free(s);
}
static const cache_ops_t contact_ops = {contact_encode, contact_decode, contact_free};

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
static int produce_to(pipeline_t *p, out_topic_t t, int32_t partition, int64_t timestamp_ms,
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
static int produce(pipeline_t *p, out_topic_t t, const void *key, size_t key_len, const void *val,
                   size_t val_len)
{
    return produce_to(p, t, RD_KAFKA_PARTITION_UA, 0, key, key_len, val, val_len);
}

static size_t queue_index(const pipeline_t *p, role_t role, int32_t partition)
{
    return (size_t)role * (size_t)p->max_partitions + (size_t)partition;
}

/* Re-keys a record through a repartition topic to the instance that owns its new
 * key, with its event time as the record timestamp. */
static int rekey_remote(pipeline_t *p, role_t via, int32_t partition, const char *key,
                        const void *raw, size_t len)
{
    int64_t ts;
    if (codec_peek_time(p->codec, raw, len, &ts) < 0)
        ts = p->current_ts;
    p->ctr[M_FORWARDED]++;
    p->ctr[M_REMOTE]++;
    return produce_to(p, via == ROLE_BY_ANON ? OUT_BY_ANON : OUT_BY_CONTACT, partition, ts, key,
                      strlen(key), raw, len);
}

/* The partition of repartition topic @via that @key belongs to, and whether this
 * process owns it (then the next stage runs here, at once). */
static int32_t rekey_partition(const pipeline_t *p, role_t via, const char *key, bool *local)
{
    int32_t part = kafka_murmur2_partition(key, strlen(key), p->role_partitions[via]);
    *local = p->assigned[queue_index(p, via, part)];
    return part;
}

static int stage_journey(pipeline_t *p, const rd_kafka_message_t *m, role_t role,
                         const hf_event_t *ev, const char *contact, bool direct);

/* Stage 1's output: the record's original bytes under its contact id.  When this
 * process owns the contact's stage-2 partition the record is folded right here,
 * in the same commit as the stage-1 state that produced it, so no round trip
 * through Kafka can reorder it behind newer events (see docs/ARCHITECTURE.md
 * "Local re-keying"); otherwise it goes through <app>.by-contact. */
static int forward_to_contact(void *opaque, const char *contact_id, const void *raw, size_t len)
{
    pipeline_t *p = opaque;
    bool local;
    int32_t part = rekey_partition(p, ROLE_BY_CONTACT, contact_id, &local);
    if (!local)
        return rekey_remote(p, ROLE_BY_CONTACT, part, contact_id, raw, len);
    p->ctr[M_FORWARDED]++;
    /* A second decoder: the caller's event still points into the first one. */
    hf_event_t ev;
    char why[400];
    int r = codec_decode_input(p->local_codec, raw, len, &ev, why, sizeof(why));
    if (r != 0) {
        pipeline_fail(p, "re-decoding a record stage 1 accepted: %s", why);
        return -EIO;
    }
    return stage_journey(p, p->current_msg, ROLE_BY_CONTACT, &ev, contact_id, false);
}

/* One readable line per handoff: who, which rule, score, grade, the strongest
 * reasons.  Contact ids are pseudonymous; no e-mail ever appears here. */
static void log_handoff(const hf_handoff_t *h)
{
    char why[512];
    size_t used = 0;
    why[0] = 0;
    bool taken[64] = {false};
    size_t n = h->reason_count < 64 ? h->reason_count : 64;
    for (int pick = 0; pick < 3; pick++) {
        size_t best = n;
        for (size_t i = 0; i < n; i++) {
            /* Behaviour only: the grade is shown on its own. */
            if (taken[i] || h->reasons[i].points == 0 ||
                strncmp(h->reasons[i].rule, "fit:", 4) == 0)
                continue;
            if (best == n || abs(h->reasons[i].points) > abs(h->reasons[best].points))
                best = i;
        }
        if (best == n)
            break;
        taken[best] = true;
        int w = snprintf(why + used, sizeof(why) - used, "%s%s %+d (%dx)", used ? ", " : "",
                         h->reasons[best].rule, h->reasons[best].points, h->reasons[best].count);
        if (w > 0 && (size_t)w < sizeof(why) - used)
            used += (size_t)w;
    }
    const char *cause = h->reason_count && h->reasons[0].detail ? h->reasons[0].detail : "";
    log_info(LOG_HANDOFF, "%s %s  rule=%s score=%d grade=%s  because %s; top: %s",
             hf_entity_type_name(h->entity_type), h->entity_id, h->rule, h->score, h->fit_grade,
             cause, used ? why : "-");
}

static int emit_handoff(void *opaque, const hf_handoff_t *h)
{
    pipeline_t *p = opaque;
    hf_buf_reset(&p->out_buf);
    int r = codec_encode_handoff(p->codec, h, &p->out_buf);
    if (r < 0) {
        pipeline_fail(p, "encoding handoff %s: %s", h->handoff_id, strerror(-r));
        return r;
    }
    r = produce(p, OUT_READY, h->entity_id, strlen(h->entity_id), p->out_buf.data, p->out_buf.len);
    if (r < 0)
        return r;
    p->ctr[M_HANDOFFS]++;
    p->run_handoffs++;
    if (metrics_add_named(p->metrics, "handoffs", h->rule, 1) < 0)
        return -ENOMEM;
    log_handoff(h);
    return 0;
}

static int emit_lifecycle(void *opaque, const hf_lifecycle_t *lc)
{
    pipeline_t *p = opaque;
    hf_buf_reset(&p->out_buf);
    int r = codec_encode_lifecycle(p->codec, lc, &p->out_buf);
    if (r < 0) {
        pipeline_fail(p, "encoding lifecycle change: %s", strerror(-r));
        return r;
    }
    r = produce(p, OUT_LIFECYCLE, lc->entity_id, strlen(lc->entity_id), p->out_buf.data,
                p->out_buf.len);
    if (r < 0)
        return r;
    p->ctr[M_LIFECYCLE]++;
    log_debug(LOG_PIPE, "%s %s: %s -> %s (%s)", hf_entity_type_name(lc->entity_type), lc->entity_id,
              lc->from_stage, lc->to_stage, lc->cause);
    return 0;
}

/* A record that cannot be processed goes to the DLQ with its coordinates, its
 * original bytes and the reason; processing carries on.  @reason_class is a short
 * stable name for the counters. */
static int dead_letter(pipeline_t *p, const rd_kafka_message_t *m, const char *reason_class,
                       const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int dead_letter(pipeline_t *p, const rd_kafka_message_t *m, const char *reason_class,
                       const char *fmt, ...)
{
    char reason[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof(reason), fmt, ap);
    va_end(ap);

    hf_dead_letter_t dl = {
        .topic = rd_kafka_topic_name(m->rkt),
        .partition = m->partition,
        .offset = m->offset,
        .key = m->key,
        .key_len = m->key_len,
        .value = m->payload,
        .value_len = m->len,
        .error = reason,
        .at_ms = p->clock(p->clock_opaque),
    };
    hf_buf_reset(&p->out_buf);
    int r = codec_encode_dead_letter(p->codec, &dl, &p->out_buf);
    if (r < 0) {
        pipeline_fail(p, "encoding dead letter: %s", strerror(-r));
        return r;
    }
    r = produce(p, OUT_DLQ, m->key, m->key_len, p->out_buf.data, p->out_buf.len);
    if (r < 0)
        return r;
    p->ctr[M_DLQ]++;
    if (metrics_add_named(p->metrics, "dlq", reason_class, 1) < 0)
        return -ENOMEM;
    log_warn(LOG_PIPE, "dead letter %s [%" PRId32 "] @%" PRId64 ": %s", dl.topic, dl.partition,
             dl.offset, reason);
    return 0;
}

/* ---- stages ------------------------------------------------------------------ */

static const hf_sink_t *journey_sink(pipeline_t *p, hf_sink_t *sink)
{
    *sink = (hf_sink_t){0};
    sink->opaque = p;
    sink->handoff = emit_handoff;
    sink->lifecycle = emit_lifecycle;
    return sink;
}

/* Stage 1: resolve, keyed by anonymous id. */
static int stage_resolve(pipeline_t *p, const rd_kafka_message_t *m, const hf_event_t *ev)
{
    if (hf_id_blocked(ev->anonymous_id)) {
        /* No stitching on an id that means "unknown"; a record that also names its
         * contact still reaches the journey. */
        const char *contact = ev->contact_id;
        if (contact && !hf_id_blocked(contact))
            return forward_to_contact(p, contact, m->payload, m->len);
        return dead_letter(p, m, "blocked_id", "anonymous_id is missing or blocked (%s%s%s)",
                           ev->anonymous_id ? "\"" : "",
                           ev->anonymous_id ? ev->anonymous_id : "null",
                           ev->anonymous_id ? "\"" : "");
    }
    cache_entry_t *e;
    int r = cache_get(p->anon_cache, ev->anonymous_id, &e, p->errbuf, sizeof(p->errbuf));
    if (r > 0)
        return dead_letter(p, m, "state_corrupt", "%s", p->errbuf);
    if (r < 0) {
        pipeline_fail(p, "identity store: %s", p->errbuf);
        return r;
    }
    if (!e->state) {
        anon_state_t *s = anon_state_new();
        if (!s)
            return -ENOMEM;
        cache_entry_set(p->anon_cache, e, s);
    }
    identity_sink_t sink = {p, forward_to_contact};
    identity_result_t res = {0};
    r = identity_fold(e->state, ev, m->payload, m->len, p->cfg->rules, &sink, &res);
    if (r < 0)
        return r;
    cache_entry_touch(e);
    p->ctr[M_BUFFERED] += res.buffered;
    p->ctr[M_EVICTED] += res.evicted;
    p->ctr[M_IDENTIFIED] += res.identified;
    p->ctr[M_RELINKED] += res.relinked;
    return 0;
}

/* Stage 2: the contact journey.  @direct: the record came from an input topic
 * keyed by contact (not from the repartition topic), so it is processed here only
 * if it sits on the partition murmur2 assigns to its contact; otherwise it is
 * re-keyed through <app>.by-contact, so that a producer with another partitioner
 * cannot split a journey across instances. */
static int stage_journey(pipeline_t *p, const rd_kafka_message_t *m, role_t role,
                         const hf_event_t *ev, const char *contact, bool direct)
{
    if (ev->kind == HF_EV_SALES && ev->entity_type != HF_ENTITY_CONTACT) {
        /* Account feedback belongs to stage 3 (account journeys), not built yet. */
        p->ctr[M_DEFERRED]++;
        return 0;
    }
    if (!contact || hf_id_blocked(contact)) {
        const char *raw = ev->kind == HF_EV_SALES ? ev->entity_id : ev->contact_id;
        return dead_letter(p, m, "blocked_id", "contact id is missing or blocked (%s%s%s)",
                           raw ? "\"" : "", raw ? raw : "null", raw ? "\"" : "");
    }
    if (direct && kafka_murmur2_partition(contact, strlen(contact), p->role_partitions[role]) !=
                      m->partition) {
        bool local;
        int32_t part = rekey_partition(p, ROLE_BY_CONTACT, contact, &local);
        if (!local)
            return rekey_remote(p, ROLE_BY_CONTACT, part, contact, m->payload, m->len);
        p->ctr[M_FORWARDED]++;
    }

    cache_entry_t *e;
    int r = cache_get(p->contact_cache, contact, &e, p->errbuf, sizeof(p->errbuf));
    if (r > 0)
        return dead_letter(p, m, "state_corrupt", "%s", p->errbuf);
    if (r < 0) {
        pipeline_fail(p, "contact store: %s", p->errbuf);
        return r;
    }
    if (!e->state) {
        contact_state_t *s = contact_state_new(contact);
        if (!s)
            return -ENOMEM;
        cache_entry_set(p->contact_cache, e, s);
    }
    hf_sink_t sink;
    r = contact_fold(e->state, ev, p->cfg->rules, p->clock(p->clock_opaque),
                     journey_sink(p, &sink));
    if (r < 0)
        return r;
    if (r == CONTACT_FOLD_DUPLICATE) {
        p->ctr[M_DUPLICATES]++;
        return 0;
    }
    cache_entry_touch(e);
    p->ctr[M_FOLDED]++;
    p->run_folded++;
    return 0;
}

static const hf_event_kind_t role_kind[ROLE__COUNT] = {
    [ROLE_WEB] = HF_EV_WEB_VISIT,   [ROLE_FORM] = HF_EV_FORM,      [ROLE_DOWNLOAD] = HF_EV_DOWNLOAD,
    [ROLE_WEBINAR] = HF_EV_WEBINAR, [ROLE_EMAIL] = HF_EV_EMAIL,    [ROLE_IDENTITY] = HF_EV_IDENTITY,
    [ROLE_SALES] = HF_EV_SALES,     [ROLE_BY_ANON] = HF_EV__COUNT, [ROLE_BY_CONTACT] = HF_EV__COUNT,
};

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

static int process_record(pipeline_t *p, const rd_kafka_message_t *m, role_t role)
{
    if (!m->payload)
        return dead_letter(p, m, "empty", "record has no value");

    hf_event_t ev;
    char why[400];
    int r = codec_decode_input(p->codec, m->payload, m->len, &ev, why, sizeof(why));
    if (r > 0)
        return dead_letter(p, m, codec_error_name(r), "%s", why);
    if (r < 0) {
        pipeline_fail(p, "decoder: %s", why);
        return r;
    }

    p->current_ts = ev.occurred_at_ms;
    p->current_msg = m;
    hf_event_kind_t expected = role_kind[role];
    bool kind_ok = expected == HF_EV__COUNT ? ev.kind != HF_EV_SALES : ev.kind == expected;
    if (role == ROLE_BY_ANON)
        kind_ok = ev.kind == HF_EV_WEB_VISIT || ev.kind == HF_EV_FORM || ev.kind == HF_EV_IDENTITY;
    if (!kind_ok)
        return dead_letter(p, m, "wrong_topic", "a %s record does not belong on %s",
                           hf_event_record_name(ev.kind), rd_kafka_topic_name(m->rkt));

    switch (role) {
    case ROLE_WEB:
    case ROLE_FORM:
    case ROLE_BY_ANON:
        return stage_resolve(p, m, &ev);
    case ROLE_IDENTITY:
        if (ev.anonymous_id && !hf_id_blocked(ev.anonymous_id)) {
            /* Keyed by contact here; stage 1 needs it keyed by anonymous id. */
            bool local;
            int32_t part = rekey_partition(p, ROLE_BY_ANON, ev.anonymous_id, &local);
            if (local)
                return stage_resolve(p, m, &ev);
            return rekey_remote(p, ROLE_BY_ANON, part, ev.anonymous_id, m->payload, m->len);
        }
        return stage_journey(p, m, role, &ev, ev.contact_id, true);
    case ROLE_DOWNLOAD:
    case ROLE_WEBINAR:
    case ROLE_EMAIL:
    case ROLE_SALES:
        return stage_journey(p, m, role, &ev, hf_event_contact_key(&ev), true);
    case ROLE_BY_CONTACT: {
        /* The key is the resolved contact: replayed anonymous history carries none. */
        if (!m->key || m->key_len == 0 || memchr(m->key, 0, m->key_len))
            return dead_letter(p, m, "blocked_id", "repartitioned record without a valid key");
        hf_buf_reset(&p->key_buf);
        if (hf_buf_append(&p->key_buf, m->key, m->key_len) < 0)
            return -ENOMEM;
        return stage_journey(p, m, role, &ev, (const char *)p->key_buf.data, false);
    }
    case ROLE__COUNT:
        break;
    }
    return 0;
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
    int r = process_record(p, m, role);
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

/* Makes the work since the last commit durable: outputs acknowledged first, then
 * state, offsets and counters in one atomic batch, then (for lag monitoring only)
 * the offsets to the group coordinator.  Returns 0 or -EIO (pipeline failed). */
static int pipeline_commit(pipeline_t *p)
{
    if (p->fatal)
        return -EIO;
    int64_t started = mono_ms();
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

    long n1 = cache_flush(p->anon_cache, p->batch, p->errbuf, sizeof(p->errbuf));
    long n2 = n1 < 0 ? n1 : cache_flush(p->contact_cache, p->batch, p->errbuf, sizeof(p->errbuf));
    if (n1 < 0 || n2 < 0) {
        pipeline_fail(p, "%s", p->errbuf);
        return -EIO;
    }

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
    metrics_flush(p->metrics, p->batch);
    size_t ops = store_batch_count(p->batch);
    if (store_write(p->store, p->batch, p->errbuf, sizeof(p->errbuf)) < 0) {
        rd_kafka_topic_partition_list_destroy(committed);
        pipeline_fail(p, "state store: %s", p->errbuf);
        return -EIO;
    }
    for (int r = 0; r < ROLE__COUNT; r++)
        memset(p->offset_dirty[r], 0, sizeof(bool) * (size_t)p->role_partitions[r]);
    cache_commit(p->anon_cache);
    cache_commit(p->contact_cache);
    if (committed->cnt)
        rd_kafka_commit(p->consumer, committed, 1);
    rd_kafka_topic_partition_list_destroy(committed);
    p->last_commit_mono_ms = mono_ms();
    log_debug(LOG_STORE, "committed %zu writes (%ld identity, %ld contact) in %" PRId64 " ms", ops,
              n1, n2, p->last_commit_mono_ms - started);
    return 0;
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
        log_info(LOG_KAFKA, "assigned %d partitions; resuming from the offsets in the store",
                 parts->cnt);
        rd_kafka_assign(rk, parts);
    } else {
        log_info(LOG_KAFKA, "revoking %d partitions: committing first", parts->cnt);
        pipeline_commit(p);
        cache_clear(p->anon_cache);
        cache_clear(p->contact_cache);
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
    static const role_t groups[2][6] = {
        {ROLE_WEB, ROLE_FORM, ROLE_BY_ANON, ROLE__COUNT},
        {ROLE_BY_CONTACT, ROLE_DOWNLOAD, ROLE_WEBINAR, ROLE_EMAIL, ROLE_IDENTITY, ROLE_SALES},
    };
    for (int g = 0; g < 2; g++) {
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
    };
    memcpy(p->role_topic, roles, sizeof(roles));
    int r;

    if (cfg->guarantee == HF_GUARANTEE_EXACTLY_ONCE) {
        snprintf(err, errsz,
                 "kafka.processing_guarantee: exactly_once (Kafka transactions) is not "
                 "available in this version; use at_least_once (state is exactly-once either "
                 "way, outputs carry deterministic ids)");
        r = -ENOTSUP;
        goto fail;
    }

    if ((r = mkdir_p(cfg->state_dir, err, errsz)) < 0)
        goto fail;
    if ((r = store_open(&p->store, cfg->state_dir, false, err, errsz)) < 0)
        goto fail;
    p->batch = store_batch_new(p->store);
    p->metrics = metrics_new();
    p->anon_cache = cache_new(&anon_ops, p->store, STORE_CF_IDENTITY, cfg->cache_max_entries / 4);
    p->contact_cache = cache_new(&contact_ops, p->store, STORE_CF_CONTACT, cfg->cache_max_entries);
    if (!p->brokers || !p->batch || !p->metrics || !p->anon_cache || !p->contact_cache) {
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
        r = codec_new(&p->local_codec, &copts, err, errsz);
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
        [OUT_BY_ANON] = t->by_anonymous,
        [OUT_BY_CONTACT] = t->by_contact,
        [OUT_READY] = t->conversation_ready,
        [OUT_LIFECYCLE] = t->lifecycle,
        [OUT_DLQ] = t->dlq,
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
        rd_kafka_message_t *first = rd_kafka_consume_queue(p->queue, consume_timeout_ms);
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
                    pipeline_commit(p);
                if (*stop)
                    break;
            }
        }
        rd_kafka_poll(p->producer, 0);
        if (p->delivery_failed)
            pipeline_fail(p, "an output was not delivered (%s)", p->delivery_err);
        int64_t now = mono_ms();
        if (!p->fatal && now - p->last_commit_mono_ms >= p->cfg->commit_interval_ms)
            pipeline_commit(p);
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
        pipeline_commit(p);
        pgroup_clear(p->pg, destroy_message);
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
    double secs = (double)(p->run_last_mono_ms - p->run_first_mono_ms) / 1000.0;
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
    fprintf(out, "lifecycle changes: %" PRIu64 "\n", c[M_LIFECYCLE]);
    sum = metrics_group_text(p->metrics, "dlq", text, sizeof(text));
    fprintf(out, "dead letters: %" PRIu64 "%s%s%s\n", sum, sum ? " (" : "", text, sum ? ")" : "");
    if (c[M_DEFERRED])
        fprintf(out, "account feedback waiting for stage 3: %" PRIu64 "\n", c[M_DEFERRED]);
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
    metrics_free(p->metrics);
    store_batch_free(p->batch);
    store_close(p->store);
    codec_free(p->codec);
    codec_free(p->local_codec);
    free(p->fetched_next);
    free(p->assigned);
    free(p->paused);
    for (int r = 0; r < ROLE__COUNT; r++) {
        free(p->next_offset[r]);
        free(p->offset_dirty[r]);
    }
    hf_buf_free(&p->out_buf);
    hf_buf_free(&p->key_buf);
    free(p->brokers);
    free(p);
}
