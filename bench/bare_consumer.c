/* hf-bare-consumer: the ceiling the daemon is measured against.
 *
 * A librdkafka consumer group member (a fresh group id, so it reads from the
 * start) subscribed to the given topics, tuned like the daemon's consumer for
 * throughput, that does nothing with the records but count them.  It stops after
 * --expect records or --idle seconds without one, and reports the rate from the
 * first record to the last, so the group join (about 3 s on the mock cluster) is
 * not part of the figure. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <librdkafka/rdkafka.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define BATCH_MAX 4096
#define MAX_TOPICS 64
#define MAX_LATENCY_SAMPLES 10000000

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static int64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void usage(FILE *out)
{
    fprintf(out, "usage: hf-bare-consumer --brokers LIST [--expect N] [--idle S] [--group ID]\n"
                 "                        [-X name=value]... TOPIC...\n"
                 "  --brokers LIST  bootstrap servers\n"
                 "  --expect N      stop after N records (default: only --idle stops)\n"
                 "  --idle S        stop after S seconds without a record, once one arrived,\n"
                 "                  or 2*S + 30 s before the first (default 5)\n"
                 "  --group ID      consumer group (default: a fresh one per run)\n"
                 "  -X name=value   extra librdkafka property\n"
                 "Prints: records N bytes B seconds S rate R (first to last record)\n");
}

/* Logs the assignment (bench.py waits for it before producing live traffic). */
static void on_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *parts, void *opaque)
{
    (void)opaque;
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        rd_kafka_assign(rk, parts);
        fprintf(stderr, "hf-bare-consumer: assigned %d partitions\n", parts->cnt);
    } else {
        rd_kafka_assign(rk, NULL);
    }
}

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* Nearest-rank percentile @q of @n sorted values. */
static int64_t percentile(const int64_t *v, size_t n, int q)
{
    size_t rank = ((size_t)q * n + 99) / 100;
    return v[rank ? rank - 1 : 0];
}

static int conf_set(rd_kafka_conf_t *conf, const char *name, const char *value)
{
    char err[256];
    if (rd_kafka_conf_set(conf, name, value, err, sizeof(err)) != RD_KAFKA_CONF_OK) {
        fprintf(stderr, "hf-bare-consumer: %s: %s\n", name, err);
        return -EINVAL;
    }
    return 0;
}

int main(int argc, char **argv)
{
    const char *brokers = NULL, *group = NULL;
    uint64_t expect = 0;
    double idle_s = 5;
    const char *extra[32];
    size_t extra_count = 0;
    bool latency = false;
    enum { OPT_BROKERS = 256, OPT_EXPECT, OPT_IDLE, OPT_GROUP, OPT_LATENCY };
    static const struct option longopts[] = {
        {"brokers", required_argument, NULL, OPT_BROKERS},
        {"expect", required_argument, NULL, OPT_EXPECT},
        {"idle", required_argument, NULL, OPT_IDLE},
        {"group", required_argument, NULL, OPT_GROUP},
        {"latency", no_argument, NULL, OPT_LATENCY},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int opt;
    while ((opt = getopt_long(argc, argv, "X:h", longopts, NULL)) != -1) {
        char *end;
        switch (opt) {
        case OPT_BROKERS:
            brokers = optarg;
            break;
        case OPT_EXPECT:
            errno = 0;
            expect = strtoull(optarg, &end, 10);
            if (errno || *end || optarg[0] == '-') {
                fprintf(stderr, "hf-bare-consumer: --expect takes a count\n");
                return 2;
            }
            break;
        case OPT_IDLE:
            idle_s = strtod(optarg, &end);
            if (*end || !(idle_s > 0 && idle_s <= 3600)) {
                fprintf(stderr, "hf-bare-consumer: --idle takes seconds in (0, 3600]\n");
                return 2;
            }
            break;
        case OPT_GROUP:
            group = optarg;
            break;
        case OPT_LATENCY:
            latency = true;
            break;
        case 'X':
            if (extra_count == sizeof(extra) / sizeof(extra[0]) || !strchr(optarg, '=')) {
                fprintf(stderr, "hf-bare-consumer: -X takes name=value (at most 32)\n");
                return 2;
            }
            extra[extra_count++] = optarg;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    int topic_count = argc - optind;
    if (!brokers || topic_count < 1 || topic_count > MAX_TOPICS) {
        usage(stderr);
        return 2;
    }

    char group_buf[96];
    if (!group) {
        snprintf(group_buf, sizeof(group_buf), "hf-bare-%ld-%" PRId64, (long)getpid(), mono_us());
        group = group_buf;
    }

    /* Deep local queues and large fetches: the fetcher threads keep the queue
     * full while the application thread only counts. */
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    static const char *const tuning[][2] = {
        {"auto.offset.reset", "earliest"},
        {"enable.auto.commit", "false"},
        {"enable.partition.eof", "false"},
        {"queued.min.messages", "1000000"},
        {"queued.max.messages.kbytes", "1048576"},
        {"fetch.max.bytes", "104857600"},
        {"max.partition.fetch.bytes", "10485760"},
        {"receive.message.max.bytes", "209715200"},
        {"fetch.wait.max.ms", "100"},
        {"session.timeout.ms", "6000"},
        {"log_level", "4"},
    };
    int status = 2;
    rd_kafka_t *rk = NULL;
    rd_kafka_queue_t *queue = NULL;
    int64_t *lat_ms = NULL; /* one sample per record, up to MAX_LATENCY_SAMPLES */
    size_t lat_count = 0;
    if (conf_set(conf, "bootstrap.servers", brokers) || conf_set(conf, "group.id", group))
        goto fail_conf;
    for (size_t i = 0; i < sizeof(tuning) / sizeof(tuning[0]); i++)
        if (conf_set(conf, tuning[i][0], tuning[i][1]))
            goto fail_conf;
    for (size_t i = 0; i < extra_count; i++) {
        char name[256];
        const char *eq = strchr(extra[i], '=');
        snprintf(name, sizeof(name), "%.*s", (int)(eq - extra[i]), extra[i]);
        if (conf_set(conf, name, eq + 1))
            goto fail_conf;
    }
    rd_kafka_conf_set_rebalance_cb(conf, on_rebalance);
    char err[256];
    rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
    if (!rk) {
        fprintf(stderr, "hf-bare-consumer: %s\n", err);
        goto fail_conf;
    }
    conf = NULL; /* owned by rk now */
    rd_kafka_poll_set_consumer(rk);
    queue = rd_kafka_queue_get_consumer(rk);

    rd_kafka_topic_partition_list_t *subs = rd_kafka_topic_partition_list_new(topic_count);
    for (int i = optind; i < argc; i++)
        rd_kafka_topic_partition_list_add(subs, argv[i], RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t e = rd_kafka_subscribe(rk, subs);
    rd_kafka_topic_partition_list_destroy(subs);
    if (e) {
        fprintf(stderr, "hf-bare-consumer: subscribe: %s\n", rd_kafka_err2str(e));
        status = 1;
        goto out;
    }

    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);

    uint64_t records = 0, bytes = 0;
    int64_t started_us = mono_us(), first_us = 0, last_us = 0;
    int64_t idle_us = (int64_t)(idle_s * 1e6);
    /* Before the first record the group join and first fetch take a while. */
    int64_t first_wait_us = 2 * idle_us + 30 * 1000000LL;
    rd_kafka_message_t *msgs[BATCH_MAX];
    if (latency && !(lat_ms = malloc(MAX_LATENCY_SAMPLES * sizeof(*lat_ms)))) {
        fprintf(stderr, "hf-bare-consumer: out of memory\n");
        status = 1;
        goto out;
    }
    status = 0;
    while (!stop_requested && (expect == 0 || records < expect)) {
        ssize_t n = rd_kafka_consume_batch_queue(queue, 100, msgs, BATCH_MAX);
        int64_t now = mono_us();
        for (ssize_t i = 0; i < n; i++) {
            if (msgs[i]->err) {
                if (msgs[i]->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
                    fprintf(stderr, "hf-bare-consumer: %s\n", rd_kafka_message_errstr(msgs[i]));
            } else {
                records++;
                bytes += msgs[i]->len + msgs[i]->key_len;
                rd_kafka_timestamp_type_t tstype;
                int64_t ts = lat_ms ? rd_kafka_message_timestamp(msgs[i], &tstype) : -1;
                if (ts >= 0 && tstype == RD_KAFKA_TIMESTAMP_CREATE_TIME &&
                    lat_count < MAX_LATENCY_SAMPLES)
                    lat_ms[lat_count++] = wall_ms() - ts;
            }
            rd_kafka_message_destroy(msgs[i]);
        }
        if (n > 0 && records > 0) {
            if (!first_us)
                first_us = now;
            last_us = now;
        }
        if (first_us ? now - last_us >= idle_us : now - started_us >= first_wait_us)
            break;
    }
    double secs = (double)(last_us - first_us) / 1e6;
    printf("records %" PRIu64 " bytes %" PRIu64 " seconds %.3f rate %.0f first_after_s %.1f\n",
           records, bytes, secs, secs > 0 ? (double)records / secs : 0.0,
           first_us ? (double)(first_us - started_us) / 1e6 : -1.0);
    if (lat_count) {
        qsort(lat_ms, lat_count, sizeof(*lat_ms), cmp_i64);
        printf("latency_ms p50 %" PRId64 " p99 %" PRId64 " max %" PRId64 "\n",
               percentile(lat_ms, lat_count, 50), percentile(lat_ms, lat_count, 99),
               lat_ms[lat_count - 1]);
    }
    fflush(stdout);
    if (expect && records < expect) {
        fprintf(stderr, "hf-bare-consumer: %" PRIu64 " of %" PRIu64 " expected records\n", records,
                expect);
        status = 1;
    }
    rd_kafka_consumer_close(rk);
out:
    free(lat_ms);
    if (queue)
        rd_kafka_queue_destroy(queue);
    rd_kafka_destroy(rk);
    return status;
fail_conf:
    if (conf)
        rd_kafka_conf_destroy(conf);
    return 2;
}
