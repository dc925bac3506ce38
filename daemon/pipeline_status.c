/* What the pipeline thread publishes (status.h) and tells the service manager
 * (notify.h): the heartbeat and watchdog every turn, readiness where the
 * assignment and the brokers' reachability change, and about once a second a
 * snapshot of the counters, histograms and partitions for /metrics.  Everything
 * here runs on the pipeline thread and never waits on a reader. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "notify.h"
#include "pipeline_priv.h"

/* How often a snapshot is taken, the status line sent, unreachable brokers probed. */
#define SNAPSHOT_EVERY_MS 1000
#define NOTIFY_STATUS_EVERY_MS 5000
#define PROBE_EVERY_MS 2000
#define PROBE_TIMEOUT_MS 200

int pipeline_status_start(pipeline_t *p)
{
    pipeline_publish_t *pub = &p->publish;
    if (!pub->status)
        return 0;
    size_t queues = (size_t)ROLE__COUNT * (size_t)p->intake.max_partitions;
    pub->consumed = calloc(queues ? queues : 1, sizeof(uint64_t));
    if (!pub->consumed)
        return pipeline_error(p, -ENOMEM, "out of memory");
    pub->notify_mono_ms = pipeline_mono_ms();
    status_set_assignment(pub->status, STATUS_UNASSIGNED, 0);
    status_set_phase(pub->status, STATUS_RUNNING);
    status_beat(pub->status, pipeline_mono_ms());
    return 0;
}

void pipeline_status_beat(pipeline_t *p)
{
    status_beat(p->publish.status, pipeline_mono_ms());
    notify_watchdog();
}

/* One partition of the snapshot: where processing is, the broker's high watermark
 * (librdkafka's cached one: no request), and the records processed since start. */
static int add_partition(pipeline_t *p, status_snapshot_t *snap, stage_role_t role, int32_t part)
{
    size_t q = pipeline_queue_index(p, role, part);
    bool assigned = p->intake.assigned[q];
    if (!assigned && !p->publish.consumed[q])
        return 0;
    status_partition_t sp = {
        .topic = (char *)p->kafka.role_topic[role],
        .partition = part,
        .assigned = assigned,
        .position = -1,
        .high_watermark = -1,
        .consumed = p->publish.consumed[q],
    };
    int64_t lo = -1, hi = -1;
    if (assigned && !rd_kafka_get_watermark_offsets(p->kafka.consumer, sp.topic, part, &lo, &hi) &&
        hi >= 0) {
        sp.high_watermark = hi;
        /* nothing processed in this assignment: from the start of what the broker has */
        int64_t next = p->offsets.next[role][part];
        sp.position = next >= 0 ? next : lo;
        if (sp.position >= 0 && hi > sp.position)
            p->publish.lag += (uint64_t)(hi - sp.position);
    }
    return status_snapshot_add_partition(snap, &sp);
}

static status_snapshot_t *take_snapshot(pipeline_t *p, int64_t now)
{
    status_snapshot_t *snap = status_snapshot_new();
    if (!snap || status_snapshot_take_metrics(snap, p->metrics) < 0)
        goto oom;
    snap->taken_mono_ms = now;
    p->publish.lag = 0;
    for (int r = 0; r < ROLE__COUNT; r++)
        for (int32_t part = 0; part < p->kafka.role_partitions[r]; part++)
            if (add_partition(p, snap, (stage_role_t)r, part) < 0)
                goto oom;
    snap->sla_clocks_pending = timers_count(p->timers);
    int64_t sst = store_property_uint(p->store, "rocksdb.total-sst-files-size");
    int64_t mem = store_property_uint(p->store, "rocksdb.cur-size-all-mem-tables");
    snap->store_bytes = sst >= 0 && mem >= 0 ? sst + mem : -1;
    snap->block_cache_bytes = (int64_t)store_block_cache_usage(p->store);
    return snap;
oom:
    /* /metrics keeps the previous snapshot: better old figures than none */
    log_warn(LOG_PIPE, "out of memory taking the status snapshot");
    status_snapshot_free(snap);
    return NULL;
}

/* While the brokers are unreachable: whether a metadata request gets an answer
 * (librdkafka says when every connection is down, not when one is up again). */
static void probe_brokers(pipeline_t *p, int64_t now)
{
    if (!p->publish.broker_down || now - p->publish.probe_mono_ms < PROBE_EVERY_MS)
        return;
    p->publish.probe_mono_ms = now;
    const struct rd_kafka_metadata *md = NULL;
    if (rd_kafka_metadata(p->kafka.consumer, 0, NULL, &md, PROBE_TIMEOUT_MS) ==
        RD_KAFKA_RESP_ERR_NO_ERROR) {
        rd_kafka_metadata_destroy(md);
        pipeline_status_broker(p, NULL);
    }
}

/* "N records/s, M handoffs, lag L" for `systemctl status`. */
static void notify_line(pipeline_t *p, int64_t now)
{
    pipeline_publish_t *pub = &p->publish;
    if (now - pub->notify_mono_ms < NOTIFY_STATUS_EVERY_MS)
        return;
    double secs = (double)(now - pub->notify_mono_ms) / 1000.0;
    double rate = (double)(p->run.consumed - pub->notify_consumed) / secs;
    pub->notify_mono_ms = now;
    pub->notify_consumed = p->run.consumed;
    notify_status("%.0f records/s, %" PRIu64 " handoffs, lag %" PRIu64, rate, p->ctr[M_HANDOFFS],
                  pub->lag);
}

void pipeline_status_turn(pipeline_t *p)
{
    pipeline_status_beat(p);
    pipeline_publish_t *pub = &p->publish;
    if (!pub->status)
        return;
    int64_t now = pipeline_mono_ms();
    probe_brokers(p, now);
    if (now - pub->snapshot_mono_ms >= SNAPSHOT_EVERY_MS) {
        pub->snapshot_mono_ms = now;
        status_publish(pub->status, take_snapshot(p, now));
    }
    notify_line(p, now);
}

void pipeline_status_assigning(pipeline_t *p, int partitions)
{
    status_count_rebalance(p->publish.status);
    status_set_assignment(p->publish.status, STATUS_LOADING, partitions);
}

void pipeline_status_assigned(pipeline_t *p, int partitions)
{
    status_set_assignment(p->publish.status, STATUS_ASSIGNED, partitions);
    /* the next turn publishes the new partitions */
    p->publish.snapshot_mono_ms = 0;
    if (!p->publish.ready_sent) {
        p->publish.ready_sent = true;
        notify_ready();
    }
}

void pipeline_status_revoked(pipeline_t *p)
{
    status_set_assignment(p->publish.status, STATUS_UNASSIGNED, 0);
}

void pipeline_status_broker(pipeline_t *p, const char *why)
{
    if (p->publish.broker_down == (why != NULL))
        return;
    p->publish.broker_down = why != NULL;
    p->publish.probe_mono_ms = pipeline_mono_ms();
    status_set_broker_down(p->publish.status, why);
    if (why)
        log_warn(LOG_KAFKA, "brokers unreachable: %s (not ready until they answer)", why);
    else
        log_info(LOG_KAFKA, "brokers reachable again");
}

void pipeline_status_stopping(pipeline_t *p)
{
    status_set_phase(p->publish.status, STATUS_STOPPING);
    notify_stopping(); /* before the last commit, which may take a while */
}

void pipeline_status_free(pipeline_t *p)
{
    free(p->publish.consumed);
    p->publish.consumed = NULL;
}
