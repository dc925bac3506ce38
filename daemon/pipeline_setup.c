/* What pipeline_new() reads and checks before it consumes: the e-mail hash key, the
 * state directory, the topics on the cluster, and our librdkafka defaults. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kafka.h"
#include "pipeline_priv.h"

/* Writes 32 random bytes to a new file @path (0600). */
static int create_key_file(const char *path, char *err, size_t errsz)
{
    uint8_t fresh[32];
    if (getrandom(fresh, sizeof(fresh), 0) != (ssize_t)sizeof(fresh)) {
        snprintf(err, errsz, "getrandom: %s", strerror(errno));
        return -EIO;
    }
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0 || write(fd, fresh, sizeof(fresh)) != (ssize_t)sizeof(fresh)) {
        int e = errno;
        snprintf(err, errsz, "creating %s: %s", path, strerror(e));
        if (fd >= 0)
            close(fd);
        return -e;
    }
    close(fd);
    return 0;
}

/* Created on first start so hashes stay stable across restarts. */
int pipeline_setup_email_key(const char *path, uint8_t *key, size_t *key_len, char *err,
                             size_t errsz)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT) {
        int r = create_key_file(path, err, errsz);
        if (r < 0)
            return r;
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

int pipeline_setup_mkdir(const char *dir, char *err, size_t errsz)
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

/* Every topic of @names exists (@counts > 0). */
static int check_present(const pipeline_t *p, const char *const *names, const int32_t *counts,
                         size_t n, char *err, size_t errsz)
{
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
    if (!used)
        return 0;
    snprintf(err, errsz,
             "topics missing on the cluster: %s (create them with %d partitions, or run "
             "tools/hf-broker for a local cluster)",
             missing, p->cfg->partitions);
    return -ENOENT;
}

/* Co-partitioned topics have equal partition counts (as Kafka Streams checks): a
 * stage's inputs keyed by the same id must put partition p of each on the same
 * instance.  @counts and @names are indexed by role. */
static int check_copartitioned(const char *const *names, const int32_t *counts, char *err,
                               size_t errsz)
{
    /* Stage 3 reads account feedback from sales.activity, keyed by account. */
    static const stage_role_t groups[3][6] = {
        {ROLE_WEB, ROLE_FORM, ROLE_BY_ANON, ROLE__COUNT},
        {ROLE_BY_CONTACT, ROLE_DOWNLOAD, ROLE_WEBINAR, ROLE_EMAIL, ROLE_IDENTITY, ROLE_SALES},
        {ROLE_BY_ACCOUNT, ROLE_SALES, ROLE__COUNT},
    };
    for (int g = 0; g < 3; g++) {
        stage_role_t first = groups[g][0];
        for (int i = 1; i < 6 && groups[g][i] != ROLE__COUNT; i++) {
            stage_role_t other = groups[g][i];
            if (counts[other] != counts[first]) {
                snprintf(err, errsz,
                         "topic %s has %d partitions but %s has %d: topics read by the same "
                         "stage must be co-partitioned (equal partition counts)",
                         names[other], counts[other], names[first], counts[first]);
                return -EINVAL;
            }
        }
    }
    return 0;
}

/* Offsets per partition of each role, and the partition group's queues. */
static int size_by_partitions(pipeline_t *p, const int32_t *counts, char *err, size_t errsz)
{
    for (int k = 0; k < ROLE__COUNT; k++) {
        p->kafka.role_partitions[k] = counts[k];
        p->offsets.next[k] = malloc(sizeof(int64_t) * (size_t)counts[k]);
        p->offsets.dirty[k] = calloc((size_t)counts[k], sizeof(bool));
        if (!p->offsets.next[k] || !p->offsets.dirty[k])
            goto oom;
    }
    pipeline_kafka_reset_offsets(p);

    for (int k = 0; k < ROLE__COUNT; k++)
        if (counts[k] > p->intake.max_partitions)
            p->intake.max_partitions = counts[k];
    size_t queues = (size_t)ROLE__COUNT * (size_t)p->intake.max_partitions;
    p->intake.fetched_next = malloc(queues * sizeof(int64_t));
    p->intake.assigned = calloc(queues, sizeof(bool));
    p->intake.paused = calloc(queues, sizeof(bool));
    pgroup_opts_t order = {
        .idle_timeout_ms = p->cfg->ordering.idle_timeout_ms,
        .allowed_lateness_ms = p->cfg->ordering.allowed_lateness_ms,
    };
    p->intake.pg = pgroup_new(queues, &order, pipeline_kafka_queue_lags, p);
    if (!p->intake.fetched_next || !p->intake.assigned || !p->intake.paused || !p->intake.pg)
        goto oom;
    for (size_t q = 0; q < queues; q++)
        p->intake.fetched_next[q] = -1;
    return 0;
oom:
    snprintf(err, errsz, "out of memory");
    return -ENOMEM;
}

int pipeline_setup_topology(pipeline_t *p, char *err, size_t errsz)
{
    const hf_topics_t *t = &p->cfg->topics;
    const char *names[ROLE__COUNT + OUT__COUNT];
    for (int r = 0; r < ROLE__COUNT; r++)
        names[r] = p->kafka.role_topic[r];
    const char *outs[] = {t->conversation_ready, t->lifecycle, t->dlq, t->sla_breach};
    size_t n = ROLE__COUNT;
    for (size_t i = 0; i < sizeof(outs) / sizeof(outs[0]); i++)
        names[n++] = outs[i];
    if (p->cfg->rules->digest.enabled)
        names[n++] = t->digest; /* required only when digests go out */
    int32_t counts[ROLE__COUNT + OUT__COUNT];
    int r = kafka_partition_counts(p->kafka.producer, names, n, counts, METADATA_TIMEOUT_MS, err,
                                   errsz);
    if (r == 0)
        r = check_present(p, names, counts, n, err, errsz);
    if (r == 0)
        r = check_copartitioned(names, counts, err, errsz);
    if (r == 0)
        r = size_by_partitions(p, counts, err, errsz);
    return r;
}

const char *const pipeline_setup_producer_defaults[] = {
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

const char *const pipeline_setup_consumer_defaults[] = {
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
