/* handoffctl consume --brokers LIST --topic T [--max N] [--timeout S]: every
 * partition of a topic read from the start, a JSON object per record (topic,
 * partition, offset, key, value), with the local part of every e-mail address
 * hidden.  No consumer group is joined and nothing is committed. */
#include <getopt.h>
#include <inttypes.h>
#include <librdkafka/rdkafka.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "codec/codec.h"
#include "daemon/kafka.h"
#include "hfctl.h"
#include "json.h"
#include "redact.h"

/* Bytes of an undecodable value shown: the single-object header (C3 01 and the
 * fingerprint) tells which framing and schema the producer meant; the body may
 * carry personal data and is never shown. */
#define CTL_VALUE_HEAD_BYTES 10

typedef struct consume_args {
    const char *brokers;
    const char *topic;
    long max_records; /* 0: no limit */
    double timeout_s;
} consume_args_t;

/* What librdkafka last complained about (from its log, written by its threads):
 * why a broker cannot be reached.  A connection failure ("FAIL") says more than
 * what follows it ("1/1 brokers are down"), so it is kept apart.  Nothing of it is
 * printed unless consume fails. */
typedef struct consume_kafka_log {
    pthread_mutex_t lock;
    char fail[512];
    char other[512];
} consume_kafka_log_t;

static void on_kafka_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    consume_kafka_log_t *kl = rd_kafka_opaque(rk);
    if (level > 4 || !kl) /* errors and warnings only */
        return;
    /* "[thrd:127.0.0.1:1/bootstrap]: 127.0.0.1:1/bootstrap: Connect to ..." */
    const char *text = buf[0] == '[' && strstr(buf, "]: ") ? strstr(buf, "]: ") + 3 : buf;
    pthread_mutex_lock(&kl->lock);
    char *into = strcmp(fac, "FAIL") == 0 ? kl->fail : kl->other;
    snprintf(into, sizeof kl->fail, "%s", text);
    pthread_mutex_unlock(&kl->lock);
}

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Appends the value of @m to @line: the record as JSON when the codec knows its
 * schema, a JSON record passed through as it is, or null with why it is neither. */
static void consume_value(codec_t *codec, const rd_kafka_message_t *m, hf_buf_t *line,
                          hf_buf_t *json)
{
    char err[256];
    hf_buf_append_str(line, ",\"value\":");
    if (!m->payload) { /* a tombstone */
        hf_buf_append_str(line, "null");
        return;
    }
    hf_buf_reset(json);
    if (codec_record_to_json(codec, m->payload, m->len, json, err, sizeof(err)) == 0) {
        hf_buf_append(line, json->data, json->len);
        return;
    }
    size_t at = 0;
    const char *p = m->payload;
    bool looks_json = m->len && (p[0] == '{' || p[0] == '[');
    if (looks_json && hfctl_json_compact(line, m->payload, m->len, &at) == 0)
        return; /* a record written with output.format: json */
    hf_buf_append_str(line, "null,\"value_error\":");
    hf_buf_t why = HF_BUF_INIT;
    if (looks_json)
        hf_buf_printf(&why, "not JSON (byte %zu), nor a record the codec reads: %s", at, err);
    else
        hf_buf_append_str(&why, err);
    hfctl_json_string(line, why.data ? (const char *)why.data : err, why.len);
    hf_buf_free(&why);
    hf_buf_printf(line, ",\"value_size\":%zu,\"value_head_hex\":\"", m->len);
    const uint8_t *b = m->payload;
    for (size_t i = 0; i < m->len && i < CTL_VALUE_HEAD_BYTES; i++)
        hf_buf_printf(line, "%02x", b[i]);
    hf_buf_append_str(line, "\"");
}

/* The line of record @m: topic, partition, offset, key and value, e-mail
 * addresses hidden, into @shown (reset); @line and @json are scratch. */
static void consume_format(codec_t *codec, const char *topic, const rd_kafka_message_t *m,
                           hf_buf_t *line, hf_buf_t *json, hf_buf_t *shown)
{
    hf_buf_reset(line);
    hf_buf_append_str(line, "{\"topic\":");
    hfctl_json_string(line, topic, strlen(topic));
    hf_buf_printf(line, ",\"partition\":%" PRId32 ",\"offset\":%" PRId64 ",\"key\":", m->partition,
                  m->offset);
    if (m->key)
        hfctl_json_string(line, m->key, m->key_len);
    else
        hf_buf_append_str(line, "null");
    consume_value(codec, m, line, json);
    hf_buf_append_str(line, "}");
    hf_buf_reset(shown);
    hfctl_redact_emails(shown, line);
    hf_buf_append_str(shown, "\n");
}

/* Fills @a from the command line.  Returns false after printing the usage. */
static bool consume_parse_args(int argc, char **argv, consume_args_t *a)
{
    static const struct option longopts[] = {
        {"brokers", required_argument, NULL, 'b'},
        {"topic", required_argument, NULL, 't'},
        {"max", required_argument, NULL, 'm'},
        {"timeout", required_argument, NULL, 'T'},
        {NULL, 0, NULL, 0},
    };
    *a = (consume_args_t){.timeout_s = 10};
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "b:t:m:T:", longopts, NULL)) != -1) {
        switch (opt) {
        case 'b':
            a->brokers = optarg;
            break;
        case 't':
            a->topic = optarg;
            break;
        case 'm':
            a->max_records = atol(optarg);
            break;
        case 'T':
            a->timeout_s = atof(optarg);
            break;
        default:
            hfctl_usage(stderr);
            return false;
        }
    }
    if (!a->brokers || !a->topic || optind != argc || a->max_records < 0 ||
        !(a->timeout_s > 0 && a->timeout_s <= 3600)) {
        hfctl_usage(stderr);
        return false;
    }
    return true;
}

/* A consumer of @a's brokers, its errors and warnings kept in @klog (which must
 * outlive it) instead of printed.  Returns the exit status: 0 with *out, else 2
 * for a property librdkafka refuses or 1 when the client cannot be made (said on
 * stderr). */
static int consume_new_client(rd_kafka_t **out, const consume_args_t *a, consume_kafka_log_t *klog)
{
    char err[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (kafka_conf_set(conf, "bootstrap.servers", a->brokers, err, sizeof(err)) ||
        kafka_conf_set(conf, "group.id", "handoffctl", err, sizeof(err)) ||
        kafka_conf_set(conf, "enable.auto.commit", "false", err, sizeof(err))) {
        fprintf(stderr, "handoffctl: %s\n", err);
        rd_kafka_conf_destroy(conf);
        return 2;
    }
    /* librdkafka's own lines on stderr would bury the one that matters. */
    rd_kafka_conf_set_opaque(conf, klog);
    rd_kafka_conf_set_log_cb(conf, on_kafka_log);
    char rkerr[256];
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, rkerr, sizeof(rkerr));
    if (!rk) {
        fprintf(stderr, "handoffctl: %s\n", rkerr);
        return 1;
    }
    rd_kafka_poll_set_consumer(rk);
    *out = rk;
    return 0;
}

/* Assigns every partition of @a's topic to @rk, from the beginning.  Returns 0, or
 * -1 when the broker cannot be reached within the timeout or has no such topic
 * (said on stderr, with what librdkafka last complained about in @klog). */
static int consume_assign(rd_kafka_t *rk, const consume_args_t *a, consume_kafka_log_t *klog)
{
    char err[512];
    int32_t parts = 0;
    const char *names[1] = {a->topic};
    /* Metadata of every topic rather than of @topic: asking for one topic by name
     * creates it on a cluster with auto.create.topics.enable. */
    if (kafka_partition_counts(rk, names, 1, &parts, (int)(a->timeout_s * 1000), err, sizeof(err)) <
        0) {
        pthread_mutex_lock(&klog->lock);
        fprintf(stderr, "handoffctl: cannot reach the broker at %s within %g s: %s\n", a->brokers,
                a->timeout_s,
                klog->fail[0]    ? klog->fail
                : klog->other[0] ? klog->other
                                 : err);
        pthread_mutex_unlock(&klog->lock);
        return -1;
    }
    if (parts <= 0) {
        fprintf(stderr, "handoffctl: topic %s: not found on the broker at %s\n", a->topic,
                a->brokers);
        return -1;
    }
    /* No group membership: read every partition from the start. */
    rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(parts);
    for (int32_t i = 0; i < parts; i++)
        rd_kafka_topic_partition_list_add(list, a->topic, i)->offset = RD_KAFKA_OFFSET_BEGINNING;
    rd_kafka_assign(rk, list);
    rd_kafka_topic_partition_list_destroy(list);
    return 0;
}

/* Prints the records of @rk until --max of them or --timeout without one. */
static void consume_print(rd_kafka_t *rk, codec_t *codec, const consume_args_t *a)
{
    hf_buf_t line = HF_BUF_INIT, json = HF_BUF_INIT, shown = HF_BUF_INIT;
    long seen = 0;
    double last = mono_s();
    while (a->max_records == 0 || seen < a->max_records) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 200);
        double now = mono_s();
        if (!m) {
            if (now - last > a->timeout_s)
                break;
            continue;
        }
        if (m->err) {
            if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
                fprintf(stderr, "handoffctl: %s\n", rd_kafka_message_errstr(m));
            rd_kafka_message_destroy(m);
            continue;
        }
        last = now;
        consume_format(codec, a->topic, m, &line, &json, &shown);
        if (shown.data)
            fwrite(shown.data, 1, shown.len, stdout);
        seen++;
        rd_kafka_message_destroy(m);
    }
    fflush(stdout);
    hf_buf_free(&line);
    hf_buf_free(&json);
    hf_buf_free(&shown);
}

int hfctl_consume(int argc, char **argv)
{
    consume_args_t a;
    if (!consume_parse_args(argc, argv, &a))
        return 2;
    consume_kafka_log_t klog = {.lock = PTHREAD_MUTEX_INITIALIZER};
    rd_kafka_t *rk = NULL;
    int rc = consume_new_client(&rk, &a, &klog);
    if (rc != 0)
        return rc;
    if (consume_assign(rk, &a, &klog) < 0) {
        rd_kafka_destroy(rk);
        return 1;
    }
    char err[512];
    codec_t *codec = NULL;
    if (hfctl_codec_new(&codec, err, sizeof(err)) < 0) {
        fprintf(stderr, "handoffctl: %s\n", err);
        rd_kafka_destroy(rk);
        return 1;
    }
    consume_print(rk, codec, &a);
    codec_free(codec);
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    return 0;
}
