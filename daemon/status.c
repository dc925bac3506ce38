/* The status the pipeline publishes for other threads (status.h). */
#include "status.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const group_names[STATUS_GROUP__COUNT] = {
    [STATUS_GROUP_DLQ] = "dlq",
    [STATUS_GROUP_HANDOFF_TYPES] = METRICS_GROUP_HANDOFF_TYPES,
    [STATUS_GROUP_BREACH_LEVELS] = METRICS_GROUP_BREACH_LEVELS,
    [STATUS_GROUP_LATE] = "late",
};

struct status {
    _Atomic int64_t heartbeat_ms;
    _Atomic uint64_t rebalances;
    _Atomic uint64_t reloads_ok, reloads_rejected;

    /* Below: under @mu, held only to read or write a few fields. */
    pthread_mutex_t mu;
    status_phase_t phase;
    status_assignment_t assignment;
    int partitions;
    bool broker_down;
    char broker_why[200];
    status_snapshot_t *snap; /* holds one reference while current */
};

const char *status_group_name(status_group_t g)
{
    return (unsigned)g < STATUS_GROUP__COUNT ? group_names[g] : NULL;
}

/* ---- snapshots ----------------------------------------------------------------- */

status_snapshot_t *status_snapshot_new(void)
{
    status_snapshot_t *snap = calloc(1, sizeof(*snap));
    if (!snap)
        return NULL;
    snap->store_bytes = -1;
    snap->block_cache_bytes = -1;
    return snap;
}

void status_snapshot_free(status_snapshot_t *snap)
{
    if (!snap)
        return;
    for (int g = 0; g < STATUS_GROUP__COUNT; g++) {
        for (size_t i = 0; i < snap->named_count[g]; i++)
            free(snap->named[g][i].name);
        free(snap->named[g]);
    }
    for (size_t i = 0; i < snap->partition_count; i++)
        free(snap->partitions[i].topic);
    free(snap->partitions);
    free(snap);
}

typedef struct copy_ctx {
    status_snapshot_t *snap;
    status_group_t g;
    size_t cap;
} copy_ctx_t;

static int copy_named(void *opaque, const char *name, uint64_t value)
{
    copy_ctx_t *c = opaque;
    status_snapshot_t *snap = c->snap;
    size_t *n = &snap->named_count[c->g];
    if (*n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 16;
        status_counter_t *p = realloc(snap->named[c->g], cap * sizeof(*p));
        if (!p)
            return -ENOMEM;
        snap->named[c->g] = p;
        c->cap = cap;
    }
    char *copy = strdup(name);
    if (!copy)
        return -ENOMEM;
    snap->named[c->g][(*n)++] = (status_counter_t){copy, value};
    return 0;
}

int status_snapshot_take_metrics(status_snapshot_t *snap, const metrics_t *m)
{
    memcpy(snap->counters, metrics_counters((metrics_t *)m), sizeof(snap->counters));
    for (int h = 0; h < MH__COUNT; h++)
        snap->hists[h] = *metrics_hist(m, (metric_hist_t)h);
    for (int g = 0; g < STATUS_GROUP__COUNT; g++) {
        copy_ctx_t c = {snap, (status_group_t)g, 0};
        int r = metrics_each_named(m, group_names[g], copy_named, &c);
        if (r)
            return r;
    }
    return 0;
}

int status_snapshot_add_partition(status_snapshot_t *snap, const status_partition_t *part)
{
    size_t n = snap->partition_count;
    if ((n & (n - 1)) == 0) { /* 0, 1, 2, 4, ...: grow at powers of two */
        status_partition_t *p = realloc(snap->partitions, (n ? n * 2 : 8) * sizeof(*p));
        if (!p)
            return -ENOMEM;
        snap->partitions = p;
    }
    char *topic = strdup(part->topic);
    if (!topic)
        return -ENOMEM;
    snap->partitions[n] = *part;
    snap->partitions[n].topic = topic;
    snap->partition_count = n + 1;
    return 0;
}

/* ---- the status -------------------------------------------------------------------- */

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

status_t *status_new(void)
{
    status_t *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    if (pthread_mutex_init(&s->mu, NULL) != 0) {
        free(s);
        return NULL;
    }
    atomic_store(&s->heartbeat_ms, mono_ms());
    return s;
}

void status_free(status_t *s)
{
    if (!s)
        return;
    status_snapshot_free(s->snap); /* nobody holds a reference any more */
    pthread_mutex_destroy(&s->mu);
    free(s);
}

void status_beat(status_t *s, int64_t now_ms)
{
    if (s)
        atomic_store_explicit(&s->heartbeat_ms, now_ms, memory_order_relaxed);
}

void status_set_assignment(status_t *s, status_assignment_t a, int partitions)
{
    if (!s)
        return;
    pthread_mutex_lock(&s->mu);
    s->assignment = a;
    s->partitions = partitions;
    pthread_mutex_unlock(&s->mu);
}

void status_set_phase(status_t *s, status_phase_t phase)
{
    if (!s)
        return;
    pthread_mutex_lock(&s->mu);
    s->phase = phase;
    pthread_mutex_unlock(&s->mu);
}

void status_set_broker_down(status_t *s, const char *why)
{
    if (!s)
        return;
    pthread_mutex_lock(&s->mu);
    s->broker_down = why != NULL;
    snprintf(s->broker_why, sizeof(s->broker_why), "%s", why ? why : "");
    pthread_mutex_unlock(&s->mu);
}

bool status_broker_down(status_t *s)
{
    if (!s)
        return false;
    pthread_mutex_lock(&s->mu);
    bool down = s->broker_down;
    pthread_mutex_unlock(&s->mu);
    return down;
}

void status_count_rebalance(status_t *s)
{
    if (s)
        atomic_fetch_add(&s->rebalances, 1);
}

void status_count_reload(status_t *s, bool applied)
{
    if (s)
        atomic_fetch_add(applied ? &s->reloads_ok : &s->reloads_rejected, 1);
}

/* Drops one reference of @snap (under s->mu); true when it was the last. */
static bool unref_locked(status_snapshot_t *snap)
{
    return snap && --snap->refs == 0;
}

void status_publish(status_t *s, status_snapshot_t *snap)
{
    if (!s || !snap) {
        status_snapshot_free(snap);
        return;
    }
    snap->refs = 1;
    pthread_mutex_lock(&s->mu);
    status_snapshot_t *old = s->snap;
    s->snap = snap;
    bool last = unref_locked(old);
    pthread_mutex_unlock(&s->mu);
    if (last)
        status_snapshot_free(old);
}

/* ---- readers ----------------------------------------------------------------------- */

int64_t status_heartbeat_ms(status_t *s)
{
    return s ? atomic_load_explicit(&s->heartbeat_ms, memory_order_relaxed) : 0;
}

bool status_healthy(status_t *s, int64_t now_mono_ms, int64_t max_age_ms, char *why, size_t whysz)
{
    if (!s) {
        snprintf(why, whysz, "no pipeline");
        return false;
    }
    int64_t age = now_mono_ms - status_heartbeat_ms(s);
    if (age <= max_age_ms) {
        snprintf(why, whysz, "ok");
        return true;
    }
    snprintf(why, whysz, "the pipeline loop last turned %" PRId64 ".%01" PRId64 " s ago",
             age / 1000, age % 1000 / 100);
    return false;
}

bool status_ready(status_t *s, char *reason, size_t reasonsz)
{
    if (!s) {
        snprintf(reason, reasonsz, "no pipeline");
        return false;
    }
    pthread_mutex_lock(&s->mu);
    status_phase_t phase = s->phase;
    status_assignment_t a = s->assignment;
    int n = s->partitions;
    bool down = s->broker_down;
    char down_why[sizeof(s->broker_why)];
    memcpy(down_why, s->broker_why, sizeof(down_why));
    pthread_mutex_unlock(&s->mu);

    /* The first reason that applies, most severe first. */
    if (phase == STATUS_STOPPING)
        snprintf(reason, reasonsz, "stopping");
    else if (phase == STATUS_RELOADING)
        snprintf(reason, reasonsz, "reloading");
    else if (phase == STATUS_STARTING)
        snprintf(reason, reasonsz, "starting");
    else if (down)
        snprintf(reason, reasonsz, "broker unreachable: %s", down_why);
    else if (a == STATUS_UNASSIGNED)
        snprintf(reason, reasonsz, "waiting for partition assignment");
    else if (a == STATUS_LOADING)
        snprintf(reason, reasonsz, "loading state of %d partition%s", n, n == 1 ? "" : "s");
    else {
        snprintf(reason, reasonsz, "consuming %d partition%s", n, n == 1 ? "" : "s");
        return true;
    }
    return false;
}

const status_snapshot_t *status_acquire(status_t *s)
{
    if (!s)
        return NULL;
    pthread_mutex_lock(&s->mu);
    status_snapshot_t *snap = s->snap;
    if (snap)
        snap->refs++;
    pthread_mutex_unlock(&s->mu);
    return snap;
}

void status_release(status_t *s, const status_snapshot_t *csnap)
{
    if (!s || !csnap)
        return;
    status_snapshot_t *snap = (status_snapshot_t *)csnap;
    pthread_mutex_lock(&s->mu);
    bool last = unref_locked(snap);
    pthread_mutex_unlock(&s->mu);
    if (last)
        status_snapshot_free(snap);
}

uint64_t status_rebalances(status_t *s)
{
    return s ? atomic_load(&s->rebalances) : 0;
}

uint64_t status_reloads(status_t *s, bool applied)
{
    return s ? atomic_load(applied ? &s->reloads_ok : &s->reloads_rejected) : 0;
}
