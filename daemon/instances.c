/* The map of instances and the partitions they hold: see instances.h.  One thread
 * consumes <app.id>.instances into the map, publishes this instance's claim, and
 * ages entries out; the getters copy from the map under its mutex. */
#include "instances.h"

#include <errno.h>
#include <inttypes.h>
#include <librdkafka/rdkafka.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "kafka.h"
#include "log.h"

/* How often the thread looks at the status snapshot (itself rebuilt about once a
 * second), and at the topics' metadata (partition counts, the topic's existence). */
#define STATUS_EVERY_MS 500
#define METADATA_EVERY_MS 60000
#define METADATA_TIMEOUT_MS 5000
#define POLL_MS 200
#define TOMBSTONE_WAIT_MS 3000

typedef struct entry {
    instances_claim_t claim;
    bool used;
} entry_t;

struct instances {
    const hf_config_t *cfg;
    status_t *status;
    char *brokers;
    hf_buf_t topic;                             /* <app.id>.instances, NUL-terminated */
    const char *stage_topic[INSTANCES__STAGES]; /* cfg's by-contact, by-account */
    rd_kafka_t *producer;
    rd_kafka_t *consumer;
    pthread_t thread;
    bool started;
    atomic_bool stop;
    _Atomic int32_t counts[INSTANCES__STAGES]; /* partition counts; -1 unknown */

    /* the thread's own */
    instances_claim_t self; /* this instance's claim as last published */
    bool consuming;         /* the instances topic is assigned to the consumer */
    bool warned_missing;
    int64_t status_mono_ms, metadata_mono_ms, published_mono_ms;

    pthread_mutex_t mu; /* guards the map */
    entry_t map[INSTANCES_MAX];
};

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Liveness and claims are compared across hosts on the real clock (not the
 * daemon's HANDOFF_CLOCK, which only SLA clocks run on). */
static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int instances_topic(const hf_config_t *cfg, hf_buf_t *out)
{
    hf_buf_reset(out);
    return hf_buf_printf(out, "%s.instances", cfg->app_id);
}

/* ---- the map ------------------------------------------------------------------------ */

static int cmp_parts(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return x < y ? -1 : x > y;
}

static bool holds(const instances_claim_t *c, instances_stage_t st, int32_t p)
{
    size_t lo = 0, hi = c->part_count[st];
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (c->parts[st][mid] == p)
            return true;
        if (c->parts[st][mid] < p)
            lo = mid + 1;
        else
            hi = mid;
    }
    return false;
}

static entry_t *find_locked(instances_t *in, const char *instance)
{
    for (size_t i = 0; i < INSTANCES_MAX; i++)
        if (in->map[i].used && strcmp(in->map[i].claim.instance, instance) == 0)
            return &in->map[i];
    return NULL;
}

static void drop_locked(entry_t *e)
{
    instances_claim_free(&e->claim);
    e->used = false;
}

/* A record of instance @key read from the topic: its claim, or (@claim NULL) its
 * tombstone.  Takes @claim (its parts are moved into the map or freed); a claim
 * already stale (an old record read from the beginning) only removes. */
static void apply_claim(instances_t *in, const char *key, instances_claim_t *claim)
{
    pthread_mutex_lock(&in->mu);
    entry_t *e = find_locked(in, key);
    if (e)
        drop_locked(e);
    if (claim && claim->at_ms >= wall_ms() - INSTANCES_STALE_MS) {
        for (size_t i = 0; i < INSTANCES_MAX && !e; i++)
            if (!in->map[i].used)
                e = &in->map[i];
        if (e) {
            e->claim = *claim;
            e->used = true;
            *claim = (instances_claim_t){0};
        }
    }
    pthread_mutex_unlock(&in->mu);
    if (claim)
        instances_claim_free(claim);
}

static void age_out(instances_t *in)
{
    int64_t oldest = wall_ms() - INSTANCES_STALE_MS;
    pthread_mutex_lock(&in->mu);
    for (size_t i = 0; i < INSTANCES_MAX; i++)
        if (in->map[i].used && in->map[i].claim.at_ms < oldest)
            drop_locked(&in->map[i]);
    pthread_mutex_unlock(&in->mu);
}

/* Whether this instance's status snapshot has partition @p of @st assigned. */
static bool self_holds(instances_t *in, instances_stage_t st, int32_t p)
{
    const status_snapshot_t *snap = status_acquire(in->status);
    bool found = false;
    for (size_t i = 0; snap && i < snap->partition_count && !found; i++) {
        const status_partition_t *sp = &snap->partitions[i];
        found = sp->assigned && sp->partition == p && strcmp(sp->topic, in->stage_topic[st]) == 0;
    }
    status_release(in->status, snap);
    return found;
}

instances_owner_t instances_owner(instances_t *in, instances_stage_t st, int32_t p, char *addr,
                                  size_t addrsz)
{
    if (self_holds(in, st, p))
        return INSTANCES_OWNER_SELF;
    int64_t oldest = wall_ms() - INSTANCES_STALE_MS;
    const entry_t *best = NULL;
    pthread_mutex_lock(&in->mu);
    for (size_t i = 0; i < INSTANCES_MAX; i++) {
        const entry_t *e = &in->map[i];
        if (!e->used || e->claim.at_ms < oldest ||
            strcmp(e->claim.instance, in->self.instance) == 0 || !holds(&e->claim, st, p))
            continue;
        /* after a rebalance the newest assignment is the one in force; a claim the
         * previous owner has not taken back yet is older */
        if (!best || e->claim.assigned_at_ms > best->claim.assigned_at_ms)
            best = e;
    }
    if (best)
        snprintf(addr, addrsz, "%s", best->claim.http);
    pthread_mutex_unlock(&in->mu);
    return best ? INSTANCES_OWNER_OTHER : INSTANCES_OWNER_UNKNOWN;
}

int32_t instances_partition_count(instances_t *in, instances_stage_t st)
{
    return atomic_load(&in->counts[st]);
}

/* ---- Kafka -------------------------------------------------------------------------- */

static const char *const PRODUCER_DEFAULTS[] = {
    "partitioner", "murmur2_random", "linger.ms", "0", "message.timeout.ms", "30000", NULL,
};
/* The whole topic read from the beginning by every instance, without a group. */
static const char *const CONSUMER_DEFAULTS[] = {
    "enable.auto.commit", "false", "enable.auto.offset.store", "false", "auto.offset.reset",
    "earliest",           NULL,
};

static rd_kafka_t *client(instances_t *in, rd_kafka_type_t type, char *err, size_t errsz)
{
    rd_kafka_conf_t *conf = kafka_conf_new(
        in->cfg, in->brokers, type == RD_KAFKA_PRODUCER ? PRODUCER_DEFAULTS : CONSUMER_DEFAULTS,
        err, errsz);
    if (!conf)
        return NULL;
    if (type == RD_KAFKA_CONSUMER) {
        /* librdkafka assigns partitions only to a consumer with a group id; this one
         * never joins it (assign, not subscribe) and never commits: a name of its own */
        char group[256];
        snprintf(group, sizeof group, "%s.%s", (const char *)in->topic.data, in->self.instance);
        if (kafka_conf_set(conf, "group.id", group, err, errsz) < 0) {
            rd_kafka_conf_destroy(conf);
            return NULL;
        }
    }
    char rkerr[256];
    rd_kafka_t *rk = rd_kafka_new(type, conf, rkerr, sizeof rkerr);
    if (!rk)
        snprintf(err, errsz, "instances: %s", rkerr);
    return rk;
}

/* Creates the topic (compacted, one partition, the broker's replication factor).
 * 0 or -EIO with @err. */
static int create_topic(instances_t *in, char *err, size_t errsz)
{
    char e[256];
    rd_kafka_NewTopic_t *nt =
        rd_kafka_NewTopic_new((const char *)in->topic.data, 1, -1, e, sizeof e);
    if (!nt) {
        snprintf(err, errsz, "%s", e);
        return -EIO;
    }
    rd_kafka_NewTopic_set_config(nt, "cleanup.policy", "compact");
    rd_kafka_queue_t *q = rd_kafka_queue_new(in->producer);
    rd_kafka_CreateTopics(in->producer, &nt, 1, NULL, q);
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, METADATA_TIMEOUT_MS * 2);
    int r = -EIO;
    snprintf(err, errsz, "no answer from the brokers");
    const rd_kafka_CreateTopics_result_t *res = ev ? rd_kafka_event_CreateTopics_result(ev) : NULL;
    if (ev && rd_kafka_event_error(ev)) {
        snprintf(err, errsz, "%s", rd_kafka_event_error_string(ev));
    } else if (res) {
        size_t n = 0;
        const rd_kafka_topic_result_t **tr = rd_kafka_CreateTopics_result_topics(res, &n);
        rd_kafka_resp_err_t te =
            n ? rd_kafka_topic_result_error(tr[0]) : RD_KAFKA_RESP_ERR_NO_ERROR;
        if (!te || te == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS)
            r = 0;
        else
            snprintf(err, errsz, "%s", rd_kafka_err2str(te));
    }
    if (ev)
        rd_kafka_event_destroy(ev);
    rd_kafka_queue_destroy(q);
    rd_kafka_NewTopic_destroy(nt);
    return r;
}

/* The partition counts of the stages' topics; the instances topic created if it is
 * missing, and read from the beginning once it is there. */
static void refresh_metadata(instances_t *in)
{
    const char *names[3] = {in->stage_topic[0], in->stage_topic[1], (const char *)in->topic.data};
    int32_t counts[3];
    char err[512];
    if (kafka_partition_counts(in->producer, names, 3, counts, METADATA_TIMEOUT_MS, err,
                               sizeof err) < 0) {
        log_warn(LOG_KAFKA, "instance map: %s (retrying)", err);
        return;
    }
    for (int st = 0; st < INSTANCES__STAGES; st++)
        atomic_store(&in->counts[st], counts[st]);
    if (counts[2] < 0 && create_topic(in, err, sizeof err) < 0) {
        if (!in->warned_missing)
            log_warn(LOG_KAFKA,
                     "instance map: topic %s is missing and could not be created (%s): lookups "
                     "of keys held by other instances answer 503 until it exists",
                     (const char *)in->topic.data, err);
        in->warned_missing = true;
        return;
    }
    if (counts[2] < 0) {
        log_info(LOG_KAFKA, "instance map: created topic %s", (const char *)in->topic.data);
        in->metadata_mono_ms = 0; /* look again at once for its partitions */
        return;
    }
    if (in->consuming)
        return;
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(counts[2]);
    for (int32_t p = 0; p < counts[2]; p++)
        rd_kafka_topic_partition_list_add(parts, names[2], p)->offset = RD_KAFKA_OFFSET_BEGINNING;
    rd_kafka_resp_err_t e = rd_kafka_assign(in->consumer, parts);
    rd_kafka_topic_partition_list_destroy(parts);
    if (e)
        log_warn(LOG_KAFKA, "instance map: reading %s: %s", names[2], rd_kafka_err2str(e));
    else
        in->consuming = true;
}

/* Produces this instance's claim, or (@tombstone) its removal. */
static void publish(instances_t *in, bool tombstone)
{
    hf_buf_t val = HF_BUF_INIT;
    in->self.at_ms = wall_ms();
    if (!tombstone && instances_claim_encode(&in->self, in->stage_topic, &val) < 0) {
        hf_buf_free(&val);
        return; /* out of memory: the next refresh tries again */
    }
    rd_kafka_resp_err_t e =
        rd_kafka_producev(in->producer, RD_KAFKA_V_TOPIC((const char *)in->topic.data),
                          RD_KAFKA_V_KEY(in->self.instance, strlen(in->self.instance)),
                          RD_KAFKA_V_VALUE(tombstone ? NULL : val.data, tombstone ? 0 : val.len),
                          RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
    if (e)
        log_warn(LOG_KAFKA, "instance map: publishing to %s: %s", (const char *)in->topic.data,
                 rd_kafka_err2str(e));
    in->published_mono_ms = mono_ms();
    hf_buf_free(&val);
}

/* ---- the thread --------------------------------------------------------------------- */

/* The partitions of each stage's topic the status snapshot has assigned, into @c's
 * parts (ascending).  0 or -ENOMEM. */
static int read_assignment(instances_t *in, instances_claim_t *c)
{
    const status_snapshot_t *snap = status_acquire(in->status);
    int r = 0;
    for (int st = 0; st < INSTANCES__STAGES && r == 0; st++) {
        size_t n = snap ? snap->partition_count : 0;
        c->parts[st] = calloc(n + 1, sizeof(int32_t)); /* + 1: never a zero-size request */
        if (!c->parts[st]) {
            r = -ENOMEM;
            break;
        }
        for (size_t i = 0; i < n; i++) {
            const status_partition_t *sp = &snap->partitions[i];
            if (sp->assigned && strcmp(sp->topic, in->stage_topic[st]) == 0)
                c->parts[st][c->part_count[st]++] = sp->partition;
        }
        qsort(c->parts[st], c->part_count[st], sizeof(int32_t), cmp_parts);
    }
    status_release(in->status, snap);
    return r;
}

static bool same_parts(const instances_claim_t *a, const instances_claim_t *b)
{
    for (int st = 0; st < INSTANCES__STAGES; st++)
        if (a->part_count[st] != b->part_count[st] ||
            (a->part_count[st] &&
             memcmp(a->parts[st], b->parts[st], a->part_count[st] * sizeof(int32_t)) != 0))
            return false;
    return true;
}

/* Publishes when the assignment changed (with a new assignment time), else every
 * INSTANCES_REFRESH_MS. */
static void track_assignment(instances_t *in)
{
    instances_claim_t now = {0};
    if (read_assignment(in, &now) < 0) {
        instances_claim_free(&now);
        return;
    }
    if (!same_parts(&now, &in->self)) {
        for (int st = 0; st < INSTANCES__STAGES; st++) {
            free(in->self.parts[st]);
            in->self.parts[st] = now.parts[st];
            in->self.part_count[st] = now.part_count[st];
            now.parts[st] = NULL;
        }
        in->self.assigned_at_ms = wall_ms();
        log_info(LOG_KAFKA,
                 "instance map: this instance (%s, http %s) holds %zu contact and %zu account "
                 "partitions",
                 in->self.instance, in->self.http, in->self.part_count[0], in->self.part_count[1]);
        publish(in, false);
    } else if (mono_ms() - in->published_mono_ms >= INSTANCES_REFRESH_MS) {
        publish(in, false);
    }
    instances_claim_free(&now);
}

/* One record of the topic into the map. */
static void take_message(instances_t *in, const rd_kafka_message_t *m)
{
    char key[64];
    if (m->err || !m->key || !m->key_len || m->key_len >= sizeof key)
        return; /* a partition's end, or not an instance's record */
    memcpy(key, m->key, m->key_len);
    key[m->key_len] = 0;
    if (strcmp(key, in->self.instance) == 0)
        return; /* our own: this instance knows its assignment from its status */
    if (!m->payload) {
        apply_claim(in, key, NULL);
        return;
    }
    instances_claim_t c;
    int r = instances_claim_decode(&c, m->payload, m->len, in->stage_topic);
    if (r == 0 && strcmp(c.instance, key) == 0) {
        apply_claim(in, key, &c);
        return;
    }
    instances_claim_free(&c);
    log_debug(LOG_KAFKA, "instance map: a record of %s [%" PRId32 "] @%" PRId64 " is not one",
              rd_kafka_topic_name(m->rkt), m->partition, m->offset);
}

static void *instances_main(void *opaque)
{
    instances_t *in = opaque;
    while (!atomic_load(&in->stop)) {
        int64_t now = mono_ms();
        if (!in->metadata_mono_ms || now - in->metadata_mono_ms >= METADATA_EVERY_MS ||
            (!in->consuming && now - in->metadata_mono_ms >= METADATA_TIMEOUT_MS)) {
            in->metadata_mono_ms = now;
            refresh_metadata(in);
        }
        if (now - in->status_mono_ms >= STATUS_EVERY_MS) {
            in->status_mono_ms = now;
            track_assignment(in);
            age_out(in);
        }
        rd_kafka_poll(in->producer, 0);
        /* bounded: at most a batch of records per turn, then the clocks above again */
        for (int k = 0; k < 1000 && !atomic_load(&in->stop); k++) {
            rd_kafka_message_t *m = rd_kafka_consumer_poll(in->consumer, k ? 0 : POLL_MS);
            if (!m)
                break;
            take_message(in, m);
            rd_kafka_message_destroy(m);
        }
    }
    return NULL;
}

/* A random id for this run of the instance (16 hex digits). */
static int instance_id(char *out, size_t outsz)
{
    uint8_t b[8];
    if (getrandom(b, sizeof b, 0) != (ssize_t)sizeof b)
        return -EIO;
    snprintf(out, outsz, "%02x%02x%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2], b[3], b[4], b[5],
             b[6], b[7]);
    return 0;
}

static void instances_free(instances_t *in)
{
    if (in->consumer) {
        rd_kafka_consumer_close(in->consumer);
        rd_kafka_destroy(in->consumer);
    }
    if (in->producer)
        rd_kafka_destroy(in->producer);
    for (size_t i = 0; i < INSTANCES_MAX; i++)
        if (in->map[i].used)
            drop_locked(&in->map[i]);
    instances_claim_free(&in->self);
    pthread_mutex_destroy(&in->mu);
    hf_buf_free(&in->topic);
    free(in->brokers);
    free(in);
}

int instances_start(instances_t **out, const instances_opts_t *o, char *err, size_t errsz)
{
    instances_t *in = calloc(1, sizeof *in);
    if (!in) {
        snprintf(err, errsz, "out of memory");
        return -ENOMEM;
    }
    pthread_mutex_init(&in->mu, NULL);
    in->cfg = o->cfg;
    in->status = o->status;
    in->stage_topic[INSTANCES_CONTACT] = o->cfg->topics.by_contact;
    in->stage_topic[INSTANCES_ACCOUNT] = o->cfg->topics.by_account;
    for (int st = 0; st < INSTANCES__STAGES; st++)
        atomic_store(&in->counts[st], -1);
    snprintf(in->self.http, sizeof in->self.http, "%s", o->advertised);
    int r = -ENOMEM;
    in->brokers = strdup(o->brokers ? o->brokers : o->cfg->brokers);
    if (!in->brokers || instances_topic(o->cfg, &in->topic) < 0)
        snprintf(err, errsz, "out of memory");
    else if ((r = instance_id(in->self.instance, sizeof in->self.instance)) < 0)
        snprintf(err, errsz, "instance map: no random id: %s", strerror(-r));
    else if (!(in->producer = client(in, RD_KAFKA_PRODUCER, err, errsz)) ||
             !(in->consumer = client(in, RD_KAFKA_CONSUMER, err, errsz)))
        r = -EINVAL;
    else if ((r = -pthread_create(&in->thread, NULL, instances_main, in)) < 0)
        snprintf(err, errsz, "instance map: starting its thread: %s", strerror(-r));
    if (r < 0) {
        instances_free(in);
        return r;
    }
    in->started = true;
    *out = in;
    return 0;
}

void instances_stop(instances_t *in)
{
    if (!in)
        return;
    if (in->started) {
        atomic_store(&in->stop, true);
        pthread_join(in->thread, NULL);
        /* the others drop this instance now rather than when its record ages out */
        publish(in, true);
        rd_kafka_flush(in->producer, TOMBSTONE_WAIT_MS);
    }
    instances_free(in);
}
