/* Where hf-gen's records go; see sink.h. */
#include "sink.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon/kafka.h"

#define GEN_STALL_TIMEOUT_MS 120000 /* a producer queue that never drains */
#define GEN_FLUSH_TIMEOUT_MS 300000

struct gen_sink {
    rd_kafka_t *rk;
    rd_kafka_topic_t *rkt[HF_EV__COUNT];
    const char *topic[HF_EV__COUNT]; /* borrowed from the config */
    FILE *file;
    volatile sig_atomic_t *stop;
    uint64_t delivered;
    uint64_t failed;
    char first_error[256];
};

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A sink with @cfg's topic names, nothing open yet; NULL when out of memory. */
static gen_sink_t *sink_new(const hf_config_t *cfg)
{
    gen_sink_t *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    const hf_topics_t *t = &cfg->topics;
    s->topic[HF_EV_WEB_VISIT] = t->web_visits;
    s->topic[HF_EV_FORM] = t->form_submissions;
    s->topic[HF_EV_IDENTITY] = t->identity;
    s->topic[HF_EV_DOWNLOAD] = t->content_downloads;
    s->topic[HF_EV_WEBINAR] = t->webinar_attendance;
    s->topic[HF_EV_EMAIL] = t->email_engagement;
    s->topic[HF_EV_SALES] = t->sales_activity;
    return s;
}

int gen_sink_open_file(gen_sink_t **out, const hf_config_t *cfg, const char *path)
{
    gen_sink_t *s = sink_new(cfg);
    if (!s)
        return -ENOMEM;
    s->file = fopen(path, "wb");
    if (!s->file) {
        int r = -errno;
        free(s);
        return r;
    }
    *out = s;
    return 0;
}

/* librdkafka's delivery report, on the thread that polls. */
static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    gen_sink_t *s = opaque;
    (void)rk;
    if (m->err) {
        if (!s->failed)
            snprintf(s->first_error, sizeof(s->first_error), "%s [%" PRId32 "]: %s",
                     rd_kafka_topic_name(m->rkt), m->partition, rd_kafka_err2str(m->err));
        s->failed++;
        return;
    }
    s->delivered++;
}

/* The producer and its topics into @s. */
static int sink_open_kafka(gen_sink_t *s, const hf_config_t *cfg, const char *brokers, bool live,
                           char *err, size_t errsz)
{
    /* Large queues and a generous linger make big batches (the mock cluster keeps
     * fewer, larger message sets); live traffic lingers little, for latency. */
    const char *defaults[] = {
        "partitioner",
        "murmur2_random",
        "queue.buffering.max.messages",
        "2000000",
        "queue.buffering.max.kbytes",
        "1048576",
        "linger.ms",
        live ? "5" : "100",
        "batch.num.messages",
        "10000",
        "batch.size",
        "1000000",
        "acks",
        "all",
        NULL,
    };
    rd_kafka_conf_t *conf = kafka_conf_new(cfg, brokers, defaults, err, errsz);
    if (!conf)
        return -EINVAL;
    rd_kafka_conf_set_opaque(conf, s);
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    char rkerr[256];
    s->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, rkerr, sizeof(rkerr));
    if (!s->rk) {
        snprintf(err, errsz, "producer: %s", rkerr);
        return -EINVAL;
    }
    for (int k = 0; k < HF_EV__COUNT; k++) {
        s->rkt[k] = rd_kafka_topic_new(s->rk, s->topic[k], NULL);
        if (!s->rkt[k]) {
            snprintf(err, errsz, "topic %s: %s", s->topic[k],
                     rd_kafka_err2str(rd_kafka_last_error()));
            return -EINVAL;
        }
    }
    return 0;
}

int gen_sink_open_kafka(gen_sink_t **out, const hf_config_t *cfg, const char *brokers, bool live,
                        volatile sig_atomic_t *stop, char *err, size_t errsz)
{
    gen_sink_t *s = sink_new(cfg);
    if (!s) {
        snprintf(err, errsz, "out of memory");
        return -ENOMEM;
    }
    s->stop = stop;
    int r = sink_open_kafka(s, cfg, brokers, live, err, errsz);
    if (r < 0) {
        gen_sink_close(s);
        return r;
    }
    *out = s;
    return 0;
}

static int write_be(FILE *f, uint32_t v, int bytes)
{
    uint8_t b[4];
    for (int i = 0; i < bytes; i++)
        b[i] = (uint8_t)(v >> (8 * (bytes - 1 - i)));
    return fwrite(b, 1, (size_t)bytes, f) == (size_t)bytes ? 0 : -EIO;
}

int gen_sink_send(gen_sink_t *s, hf_event_kind_t kind, const char *key, const void *value,
                  size_t value_len, char *err, size_t errsz)
{
    assert(kind >= 0 && kind < HF_EV__COUNT && key);
    size_t key_len = strlen(key);
    if (s->file) {
        size_t topic_len = strlen(s->topic[kind]);
        if (write_be(s->file, (uint32_t)topic_len, 2) ||
            fwrite(s->topic[kind], 1, topic_len, s->file) != topic_len ||
            write_be(s->file, (uint32_t)key_len, 4) ||
            fwrite(key, 1, key_len, s->file) != key_len ||
            write_be(s->file, (uint32_t)value_len, 4) ||
            fwrite(value, 1, value_len, s->file) != value_len) {
            snprintf(err, errsz, "writing records: %s", strerror(errno));
            return -EIO;
        }
        s->delivered++;
        return 0;
    }
    int64_t deadline_ms = mono_ms() + GEN_STALL_TIMEOUT_MS;
    for (;;) {
        if (rd_kafka_produce(s->rkt[kind], RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY,
                             (void *)value, value_len, key, key_len, NULL) == 0)
            break;
        rd_kafka_resp_err_t e = rd_kafka_last_error();
        if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL || mono_ms() > deadline_ms ||
            (s->stop && *s->stop)) {
            snprintf(err, errsz, "producing to %s: %s", s->topic[kind], rd_kafka_err2str(e));
            return -EIO;
        }
        rd_kafka_poll(s->rk, 10);
    }
    rd_kafka_poll(s->rk, 0);
    if (s->failed) {
        snprintf(err, errsz, "delivery failed: %s", s->first_error);
        return -EIO;
    }
    return 0;
}

int gen_sink_flush(gen_sink_t *s, void (*on_wait)(void *opaque), void *opaque, char *err,
                   size_t errsz)
{
    if (s->file) {
        if (fflush(s->file) != 0) {
            snprintf(err, errsz, "writing records: %s", strerror(errno));
            return -EIO;
        }
        return 0;
    }
    rd_kafka_resp_err_t e = RD_KAFKA_RESP_ERR_NO_ERROR;
    /* each round waits at most 1 s; the rounds are bounded by the flush timeout */
    for (int waited_ms = 0; waited_ms < GEN_FLUSH_TIMEOUT_MS; waited_ms += 1000) {
        e = rd_kafka_flush(s->rk, 1000);
        if (e != RD_KAFKA_RESP_ERR__TIMED_OUT)
            break;
        on_wait(opaque);
    }
    if (e) {
        snprintf(err, errsz, "%d records not acknowledged within %d s: %s",
                 rd_kafka_outq_len(s->rk), GEN_FLUSH_TIMEOUT_MS / 1000, rd_kafka_err2str(e));
        return -EIO;
    }
    if (s->failed) {
        snprintf(err, errsz, "%" PRIu64 " records not delivered; first: %s", s->failed,
                 s->first_error);
        return -EIO;
    }
    return 0;
}

uint64_t gen_sink_delivered(const gen_sink_t *s)
{
    return s->delivered;
}

const char *gen_sink_topic(const gen_sink_t *s, hf_event_kind_t kind)
{
    assert(kind >= 0 && kind < HF_EV__COUNT);
    return s->topic[kind];
}

void gen_sink_close(gen_sink_t *s)
{
    if (!s)
        return;
    for (int k = 0; k < HF_EV__COUNT; k++)
        if (s->rkt[k])
            rd_kafka_topic_destroy(s->rkt[k]);
    if (s->rk)
        rd_kafka_destroy(s->rk);
    if (s->file)
        fclose(s->file);
    free(s);
}
