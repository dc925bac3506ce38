#include "metrics.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/hash.h"

static const char *const fixed_names[M__COUNT] = {
    [M_CONSUMED] = "consumed",     [M_FOLDED] = "folded",
    [M_DUPLICATES] = "duplicates", [M_DLQ] = "dlq",
    [M_FORWARDED] = "forwarded",   [M_REMOTE] = "forwarded_remote",
    [M_BUFFERED] = "buffered",     [M_EVICTED] = "evicted",
    [M_IDENTIFIED] = "identified", [M_RELINKED] = "relinked",
    [M_HANDOFFS] = "handoffs",     [M_LIFECYCLE] = "lifecycle",
    [M_COMMITS] = "commits",       [M_MEMBER_UPDATES] = "member_updates",
    [M_ROSTERS] = "rosters",       [M_MERGES] = "merges",
    [M_REDIRECTED] = "redirected", [M_FEEDBACK] = "feedback",
    [M_BREACHES] = "breaches",     [M_TIMERS_FIRED] = "timers_fired",
};

typedef struct named {
    char *key; /* "group.name" */
    uint64_t value;
    uint64_t flushed;
} named_t;

/* Bounds of the histograms: latencies from milliseconds (live) to days (a replay of
 * old events), commits from a millisecond to the broker's acknowledgement timeout,
 * batches from a few entities to a backlog's. */
static const double event_to_handoff_bounds[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,  1,
                                                 2.5,   5,    10,    30,   60,  300,  3600, 86400};
static const double commit_seconds_bounds[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                               0.25,  0.5,    1,     2.5,  5,     10,   60};
static const double commit_bytes_bounds[] = {1024,    4096,    16384,    65536,    262144,
                                             1048576, 4194304, 16777216, 67108864, 268435456};

#define BOUNDS(a) (a), sizeof(a) / sizeof((a)[0])
_Static_assert(sizeof(event_to_handoff_bounds) / sizeof(double) <= METRICS_HIST_BOUNDS_MAX &&
                   sizeof(commit_seconds_bounds) / sizeof(double) <= METRICS_HIST_BOUNDS_MAX &&
                   sizeof(commit_bytes_bounds) / sizeof(double) <= METRICS_HIST_BOUNDS_MAX,
               "METRICS_HIST_BOUNDS_MAX");

struct metrics {
    metrics_hist_t hists[MH__COUNT];
    uint64_t counters[M__COUNT];
    uint64_t flushed[M__COUNT];
    named_t *named;
    size_t named_count, named_cap;
    /* open addressing over named: slot = index + 1, 0 = empty; a power of two, at
     * most half full (outcome counters are counted per handoff and answer, by
     * several dimensions each: a linear search would grow with the campaigns) */
    size_t *slots;
    size_t slot_count;
};

const char *metrics_name(metric_t id)
{
    return (unsigned)id < M__COUNT ? fixed_names[id] : NULL;
}

metrics_t *metrics_new(void)
{
    metrics_t *m = calloc(1, sizeof(metrics_t));
    if (!m)
        return NULL;
    const struct {
        const double *bounds;
        size_t count;
    } bounds[MH__COUNT] = {
        [MH_EVENT_TO_HANDOFF] = {BOUNDS(event_to_handoff_bounds)},
        [MH_COMMIT_SECONDS] = {BOUNDS(commit_seconds_bounds)},
        [MH_COMMIT_BYTES] = {BOUNDS(commit_bytes_bounds)},
    };
    for (int i = 0; i < MH__COUNT; i++) {
        m->hists[i].bounds = bounds[i].bounds;
        m->hists[i].bound_count = bounds[i].count;
    }
    return m;
}

void metrics_free(metrics_t *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->named_count; i++)
        free(m->named[i].key);
    free(m->named);
    free(m->slots);
    free(m);
}

uint64_t *metrics_counters(metrics_t *m)
{
    return m->counters;
}

/* The slot of @key: where it is, or the empty one where it would go. */
static size_t *slot_of(const metrics_t *m, const char *key)
{
    size_t mask = m->slot_count - 1;
    for (size_t i = (size_t)hash_fnv1a64_str(key) & mask;; i = (i + 1) & mask)
        if (!m->slots[i] || strcmp(m->named[m->slots[i] - 1].key, key) == 0)
            return &m->slots[i];
}

static named_t *named_find(const metrics_t *m, const char *key)
{
    if (!m->slot_count)
        return NULL;
    size_t *slot = slot_of(m, key);
    return *slot ? &m->named[*slot - 1] : NULL;
}

static int reindex(metrics_t *m, size_t slot_count)
{
    size_t *slots = calloc(slot_count, sizeof *slots);
    if (!slots)
        return -ENOMEM;
    free(m->slots);
    m->slots = slots;
    m->slot_count = slot_count;
    for (size_t i = 0; i < m->named_count; i++)
        *slot_of(m, m->named[i].key) = i + 1;
    return 0;
}

static named_t *named_get(metrics_t *m, const char *key)
{
    named_t *n = named_find(m, key);
    if (n)
        return n;
    if (2 * (m->named_count + 1) > m->slot_count &&
        reindex(m, m->slot_count ? m->slot_count * 2 : 64) < 0)
        return NULL;
    if (m->named_count == m->named_cap) {
        size_t cap = m->named_cap ? m->named_cap * 2 : 16;
        named_t *p = realloc(m->named, cap * sizeof(*p));
        if (!p)
            return NULL;
        m->named = p;
        m->named_cap = cap;
    }
    n = &m->named[m->named_count];
    n->key = strdup(key);
    if (!n->key)
        return NULL;
    n->value = n->flushed = 0;
    m->named_count++;
    *slot_of(m, n->key) = m->named_count;
    return n;
}

int metrics_add_named(metrics_t *m, const char *group, const char *name, uint64_t n)
{
    char key[256];
    snprintf(key, sizeof(key), "%s.%s", group, name);
    named_t *c = named_get(m, key);
    if (!c)
        return -ENOMEM;
    c->value += n;
    return 0;
}

uint64_t metrics_named(const metrics_t *m, const char *group, const char *name)
{
    char key[256];
    snprintf(key, sizeof(key), "%s.%s", group, name);
    const named_t *c = named_find(m, key);
    return c ? c->value : 0;
}

typedef struct load_ctx {
    metrics_t *m;
    int err;
} load_ctx_t;

static int load_one(void *opaque, const void *key, size_t key_len, const void *val, size_t val_len)
{
    load_ctx_t *ctx = opaque;
    if (val_len != 8 || key_len == 0 || key_len > 250)
        return 0; /* not ours; ignore */
    char name[256];
    memcpy(name, key, key_len);
    name[key_len] = 0;
    uint64_t v = store_get_be64(val);
    for (int i = 0; i < M__COUNT; i++) {
        if (strcmp(fixed_names[i], name) == 0) {
            ctx->m->counters[i] = ctx->m->flushed[i] = v;
            return 0;
        }
    }
    named_t *n = named_get(ctx->m, name);
    if (!n) {
        ctx->err = -ENOMEM;
        return 1;
    }
    n->value = n->flushed = v;
    return 0;
}

int metrics_load(metrics_t *m, store_t *s, char *err, size_t errsz)
{
    load_ctx_t ctx = {m, 0};
    int r = store_scan(s, STORE_CF_METRICS, load_one, &ctx, err, errsz);
    if (ctx.err) {
        snprintf(err, errsz, "out of memory");
        return ctx.err;
    }
    return r < 0 ? r : 0;
}

void metrics_flush(metrics_t *m, store_batch_t *b)
{
    uint8_t v[8];
    for (int i = 0; i < M__COUNT; i++) {
        if (m->counters[i] == m->flushed[i])
            continue;
        store_put_be64(v, m->counters[i]);
        store_batch_put(b, STORE_CF_METRICS, fixed_names[i], strlen(fixed_names[i]), v, 8);
        m->flushed[i] = m->counters[i];
    }
    for (size_t i = 0; i < m->named_count; i++) {
        named_t *n = &m->named[i];
        if (n->value == n->flushed)
            continue;
        store_put_be64(v, n->value);
        store_batch_put(b, STORE_CF_METRICS, n->key, strlen(n->key), v, 8);
        n->flushed = n->value;
    }
}

uint64_t metrics_group_text(const metrics_t *m, const char *group, char *out, size_t outsz)
{
    size_t glen = strlen(group), used = 0;
    uint64_t sum = 0;
    if (outsz)
        out[0] = 0;
    for (size_t i = 0; i < m->named_count; i++) {
        const named_t *n = &m->named[i];
        if (strncmp(n->key, group, glen) != 0 || n->key[glen] != '.')
            continue;
        sum += n->value;
        int w = snprintf(out + used, used < outsz ? outsz - used : 0, "%s%s=%llu", used ? ", " : "",
                         n->key + glen + 1, (unsigned long long)n->value);
        if (w > 0)
            used += (size_t)w;
        if (used >= outsz)
            used = outsz ? outsz - 1 : 0;
    }
    return sum;
}

int metrics_each_named(const metrics_t *m, const char *group,
                       int (*fn)(void *opaque, const char *name, uint64_t value), void *opaque)
{
    size_t glen = strlen(group);
    for (size_t i = 0; i < m->named_count; i++) {
        const named_t *n = &m->named[i];
        if (strncmp(n->key, group, glen) != 0 || n->key[glen] != '.')
            continue;
        int r = fn(opaque, n->key + glen + 1, n->value);
        if (r)
            return r;
    }
    return 0;
}

size_t metrics_drop_named(metrics_t *m, const char *group,
                          bool (*drop)(void *opaque, const char *name), void *opaque,
                          store_batch_t *b)
{
    size_t glen = strlen(group), kept = 0, dropped = 0;
    for (size_t i = 0; i < m->named_count; i++) {
        named_t *n = &m->named[i];
        if (strncmp(n->key, group, glen) == 0 && n->key[glen] == '.' &&
            drop(opaque, n->key + glen + 1)) {
            store_batch_delete(b, STORE_CF_METRICS, n->key, strlen(n->key));
            free(n->key);
            dropped++;
            continue;
        }
        m->named[kept++] = *n;
    }
    m->named_count = kept;
    /* the slots hold indices into named: rebuilt over what is left (same size, so it
     * cannot fail for memory once allocated) */
    if (dropped && m->slot_count) {
        memset(m->slots, 0, m->slot_count * sizeof *m->slots);
        for (size_t i = 0; i < m->named_count; i++)
            *slot_of(m, m->named[i].key) = i + 1;
    }
    return dropped;
}

int metrics_duration_bucket(int64_t ms)
{
    uint64_t secs = ms > 0 ? (uint64_t)ms / 1000 : 0;
    if (secs < 16)
        return (int)secs;
    int e = 63 - __builtin_clzll(secs); /* >= 4 */
    int m = (int)(secs >> (e - 4)) - 16;
    return 16 * (e - 3) + m;
}

int64_t metrics_bucket_low_ms(int b)
{
    if (b < 16)
        return b < 0 ? 0 : (int64_t)b * 1000;
    int e = b / 16 + 3, m = b % 16;
    if (e > 40)
        return INT64_MAX;
    return (int64_t)((uint64_t)(16 + m) << (e - 4)) * 1000;
}

void metrics_observe(metrics_t *m, metric_hist_t h, double value)
{
    metrics_hist_t *hist = &m->hists[h];
    if (!(value > 0)) /* also NaN */
        value = 0;
    size_t b = 0;
    while (b < hist->bound_count && value > hist->bounds[b])
        b++;
    hist->counts[b]++;
    hist->count++;
    hist->sum += value;
}

const metrics_hist_t *metrics_hist(const metrics_t *m, metric_hist_t h)
{
    return &m->hists[h];
}
