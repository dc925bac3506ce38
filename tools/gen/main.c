/* hf-gen: realistic sample traffic for the input topics of a config.
 *
 * The journeys come from gen_model.c, batch after batch of people; each event is
 * encoded as a single-object Avro record (codec_encode_input) and produced to its
 * topic under the key the data contracts name (docs/CONTRACTS.md; web visits and
 * forms: anonymous_id; SalesActivity: entity_id; the rest: contact_id) with the
 * murmur2 partitioner.
 * Trackers deliver at least once, so a small share of records is sent twice;
 * --bad-rate adds records the daemon must dead-letter.
 *
 * The same seed and --start-ms give the same records, byte for byte (check with
 * --output FILE, which writes them to a file instead of Kafka).
 *
 * stdout stays empty; stderr gets a progress line every second while records are
 * produced and acknowledged, and a summary at the end (none of it with --quiet). */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config/config.h"
#include "codec/codec.h"
#include "daemon/kafka.h"
#include "gen_model.h"
#include "gen_rng.h"

#define GEN_BATCH_PEOPLE_DEFAULT 2000
#define GEN_STALL_TIMEOUT_MS 120000 /* a producer queue that never drains */
#define GEN_FLUSH_TIMEOUT_MS 300000
#define GEN_RNG_DELIVERY 10 /* random-stream domain of duplicates and bad records */
#define GEN_PROGRESS_EVERY_NS 1000000000LL

/* Kinds of bad records (--bad-rate), in the order of the report. */
typedef enum bad_kind {
    BAD_UNDECODABLE = 0, /* garbage bytes, or a body cut short */
    BAD_BLOCKED_ID,      /* "undefined", "null", "0" as the entity id */
    BAD_UNKNOWN_FINGERPRINT,
    BAD_OVERSIZED, /* one field over limits.max_field_bytes */
    BAD__COUNT
} bad_kind_t;

static const char *const bad_kind_names[BAD__COUNT] = {"undecodable", "blocked_id",
                                                       "unknown_fingerprint", "oversized"};
static const char *const blocked_ids[] = {"undefined", "null", "0"};

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

typedef struct gen_opts {
    const char *config_path;
    const char *brokers;
    const char *report_path;
    const char *output_path;
    uint64_t seed;
    uint32_t contacts;
    uint32_t accounts; /* 0: contacts / 10 */
    uint32_t batch_people;
    double rate_per_s; /* 0: as fast as possible */
    double days;
    bool live;
    bool have_start;
    int64_t start_ms;
    double dup_rate;
    double bad_rate;
    bool quiet;
} gen_opts_t;

typedef struct topic_stats {
    uint64_t records;
    uint64_t bytes;
} topic_stats_t;

/* Where records go: a Kafka producer, or a file (--output). */
typedef struct gen_sink {
    rd_kafka_t *rk;
    rd_kafka_topic_t *rkt[HF_EV__COUNT];
    const char *topic[HF_EV__COUNT];
    FILE *file;
    uint64_t delivered;
    uint64_t failed;
    char first_error[256];
} gen_sink_t;

typedef struct gen_counts {
    topic_stats_t per_kind[HF_EV__COUNT]; /* every record sent, by its topic */
    uint64_t events[HF_EV__COUNT];        /* distinct good events */
    uint64_t form_types[HF_FORM__COUNT];
    uint64_t duplicates;
    uint64_t bad[BAD__COUNT];
    uint64_t records;
    int64_t first_event_ms;
    int64_t last_event_ms;
} gen_counts_t;

static int64_t clock_ms(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: hf-gen [-c FILE] [--brokers LIST] [--seed N] [--contacts N] [--accounts N]\n"
            "              [--rate EVENTS_PER_S] [--live | --start-ms T] [--days D]\n"
            "              [--report FILE] [--bad-rate F] [--dup-rate F] [--output FILE]\n"
            "              [--quiet]\n"
            "\n"
            "Produces realistic marketing and sales journeys to the input topics of FILE.\n"
            "  -c, --config FILE   topic names and kafka properties (default: built-in names)\n"
            "  --brokers LIST      bootstrap servers (default: kafka.brokers of the config)\n"
            "  --seed N            random seed (default 1); same seed, same records\n"
            "  --contacts N        people, known or anonymous (default 1000)\n"
            "  --accounts N        companies; known contacts fill them 1-8 each\n"
            "                      (default contacts / 10)\n"
            "  --rate R            events per second, 0 = as fast as possible (default 0)\n"
            "  --live              occurred_at = wall clock when produced (latency tests)\n"
            "  --start-ms T        event times spread from T (ms since the epoch) over --days;\n"
            "                      default: the --days before now\n"
            "  --days D            span of simulated time (default 30)\n"
            "  --report FILE       write counts per topic and kind as JSON\n"
            "  --bad-rate F        add a bad record (undecodable bytes, blocked id, unknown\n"
            "                      fingerprint, oversized field) after this share of events\n"
            "                      (default 0)\n"
            "  --dup-rate F        share of records delivered twice, as trackers do\n"
            "                      (default 0.01)\n"
            "  --batch N           people generated (and interleaved) per batch (default %d)\n"
            "  --output FILE       write the records to FILE instead of Kafka, each as\n"
            "                      u16 topic length, topic, u32 key length, key,\n"
            "                      u32 value length, value (big-endian lengths)\n"
            "  --quiet             no progress lines (every second) nor summary on stderr;\n"
            "                      errors only\n",
            GEN_BATCH_PEOPLE_DEFAULT);
}

static int parse_u64(const char *s, uint64_t max, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end || v > max || s[0] == '-')
        return -EINVAL;
    *out = v;
    return 0;
}

static int parse_double(const char *s, double lo, double hi, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !(v >= lo && v <= hi))
        return -EINVAL;
    *out = v;
    return 0;
}

/* ---- sink ---------------------------------------------------------------------- */

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

static int sink_open_kafka(gen_sink_t *s, const hf_config_t *cfg, const gen_opts_t *o, char *err,
                           size_t errsz)
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
        o->live ? "5" : "100",
        "batch.num.messages",
        "10000",
        "batch.size",
        "1000000",
        "acks",
        "all",
        NULL,
    };
    rd_kafka_conf_t *conf = kafka_conf_new(cfg, o->brokers, defaults, err, errsz);
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

static int write_be(FILE *f, uint32_t v, int bytes)
{
    uint8_t b[4];
    for (int i = 0; i < bytes; i++)
        b[i] = (uint8_t)(v >> (8 * (bytes - 1 - i)));
    return fwrite(b, 1, (size_t)bytes, f) == (size_t)bytes ? 0 : -EIO;
}

/* Sends one record.  Waits while the producer queue is full, for at most
 * GEN_STALL_TIMEOUT_MS.  Returns 0, or -EIO with @err. */
static int sink_send(gen_sink_t *s, hf_event_kind_t kind, const char *key, const void *value,
                     size_t value_len, char *err, size_t errsz)
{
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
    int64_t deadline_ms = clock_ms(CLOCK_MONOTONIC) + GEN_STALL_TIMEOUT_MS;
    for (;;) {
        if (rd_kafka_produce(s->rkt[kind], RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY,
                             (void *)value, value_len, key, key_len, NULL) == 0)
            break;
        rd_kafka_resp_err_t e = rd_kafka_last_error();
        if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL || clock_ms(CLOCK_MONOTONIC) > deadline_ms ||
            stop_requested) {
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

static void sink_close(gen_sink_t *s)
{
    for (int k = 0; k < HF_EV__COUNT; k++)
        if (s->rkt[k])
            rd_kafka_topic_destroy(s->rkt[k]);
    if (s->rk)
        rd_kafka_destroy(s->rk);
    if (s->file)
        fclose(s->file);
}

/* ---- records -------------------------------------------------------------------- */

/* The record key of each input topic (docs/CONTRACTS.md). */
static const char *event_key(const hf_event_t *ev)
{
    switch (ev->kind) {
    case HF_EV_WEB_VISIT:
    case HF_EV_FORM:
        return ev->anonymous_id;
    case HF_EV_SALES:
        return ev->entity_id;
    default:
        return ev->contact_id;
    }
}

static void count_record(gen_counts_t *c, hf_event_kind_t kind, size_t bytes)
{
    c->per_kind[kind].records++;
    c->per_kind[kind].bytes += bytes;
    c->records++;
}

typedef struct gen_ctx {
    const gen_opts_t *opts;
    const hf_config_t *cfg;
    gen_model_t *model;
    codec_t *codec;
    gen_sink_t sink;
    gen_counts_t counts;
    gen_rng_t rng; /* duplicates and bad records */
    hf_buf_t buf;
    uint64_t bad_serial;
    int64_t start_ns;         /* when producing began */
    int64_t next_progress_ns; /* when the next progress line is due */
    char err[512];
} gen_ctx_t;

/* A progress line on stderr when one is due: what was sent and acknowledged, the
 * rate, and the share of the people generated (the total of records is known only
 * at the end).  @people: people whose records were sent, a fraction within a batch. */
static void progress(gen_ctx_t *g, double people)
{
    int64_t now = mono_ns();
    if (g->opts->quiet || now < g->next_progress_ns)
        return;
    g->next_progress_ns = now + GEN_PROGRESS_EVERY_NS;
    double secs = (double)(now - g->start_ns) / 1e9;
    uint64_t sent = g->counts.records;
    fprintf(stderr,
            "hf-gen: %" PRIu64 " records sent in %.1f s (%.0f records/s), %" PRIu64
            " acknowledged; %.0f%% of %" PRIu32 " people\n",
            sent, secs, secs > 0 ? (double)sent / secs : 0.0, g->sink.delivered,
            100.0 * people / g->opts->contacts, g->opts->contacts);
}

/* Waits until every record is acknowledged, with a progress line every second.
 * Returns 0 or -EIO with g->err. */
static int sink_finish(gen_ctx_t *g)
{
    gen_sink_t *s = &g->sink;
    if (s->file) {
        if (fflush(s->file) != 0) {
            snprintf(g->err, sizeof g->err, "writing records: %s", strerror(errno));
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
        progress(g, g->opts->contacts);
    }
    if (e) {
        snprintf(g->err, sizeof g->err, "%d records not acknowledged within %d s: %s",
                 rd_kafka_outq_len(s->rk), GEN_FLUSH_TIMEOUT_MS / 1000, rd_kafka_err2str(e));
        return -EIO;
    }
    if (s->failed) {
        snprintf(g->err, sizeof g->err, "%" PRIu64 " records not delivered; first: %s", s->failed,
                 s->first_error);
        return -EIO;
    }
    return 0;
}

/* A variant of @ev with every entity id replaced by a blocked value. */
static void make_blocked(gen_ctx_t *g, hf_event_t *ev)
{
    const char *id = blocked_ids[gen_rng_below(&g->rng, 3)];
    switch (ev->kind) {
    case HF_EV_WEB_VISIT:
        ev->anonymous_id = id;
        ev->contact_id = NULL;
        break;
    case HF_EV_FORM:
        ev->anonymous_id = id;
        ev->contact_id = id;
        break;
    case HF_EV_SALES:
        ev->entity_id = id;
        break;
    default:
        ev->contact_id = id;
        ev->anonymous_id = NULL;
        break;
    }
}

/* A variant of @ev with one string over the field limit. */
static int make_oversized(gen_ctx_t *g, hf_event_t *ev)
{
    uint32_t limit = g->cfg->max_field_bytes ? g->cfg->max_field_bytes : 2048;
    char *big = gen_model_filler(g->model, (size_t)limit + 512, 'x');
    if (!big)
        return -ENOMEM;
    switch (ev->kind) {
    case HF_EV_WEB_VISIT:
    case HF_EV_FORM:
        ev->url = big;
        break;
    case HF_EV_IDENTITY:
        ev->traits.present = true;
        ev->traits.full_name = big;
        break;
    case HF_EV_DOWNLOAD:
        ev->asset_title = big;
        break;
    case HF_EV_WEBINAR:
        ev->webinar_title = big;
        break;
    case HF_EV_EMAIL:
        ev->link_url = big;
        break;
    case HF_EV_SALES:
    case HF_EV__COUNT:
        ev->reason = big;
        break;
    }
    return 0;
}

/* Sends one bad record next to the good event @good, on the same topic. */
static int send_bad(gen_ctx_t *g, const hf_event_t *good)
{
    bad_kind_t kind = (bad_kind_t)gen_rng_below(&g->rng, BAD__COUNT);
    hf_event_t ev = *good;
    char event_id[48];
    snprintf(event_id, sizeof(event_id), "bad-%016" PRIx64 "-%" PRIu64, g->opts->seed,
             ++g->bad_serial);
    ev.event_id = event_id;
    const char *key = event_key(good);
    hf_buf_reset(&g->buf);
    int r = 0;
    switch (kind) {
    case BAD_UNDECODABLE:
        r = codec_encode_input(g->codec, &ev, &g->buf);
        if (r == 0 && gen_rng_chance(&g->rng, 0.5)) {
            g->buf.len = 10 + (g->buf.len - 10) / 2; /* framing intact, body cut short */
        } else if (r == 0) {
            /* Not single-object encoding at all: a stray JSON payload. */
            hf_buf_reset(&g->buf);
            r = hf_buf_printf(&g->buf, "{\"event_id\":\"%s\",\"oops\":true}", event_id);
        }
        break;
    case BAD_BLOCKED_ID:
        make_blocked(g, &ev);
        key = event_key(&ev);
        r = codec_encode_input(g->codec, &ev, &g->buf);
        break;
    case BAD_UNKNOWN_FINGERPRINT:
        r = codec_encode_input(g->codec, &ev, &g->buf);
        if (r == 0 && g->buf.len >= 10) {
            uint64_t fp = gen_rng_next(&g->rng);
            for (int i = 0; i < 8; i++)
                g->buf.data[2 + i] = (uint8_t)(fp >> (8 * i));
        }
        break;
    case BAD_OVERSIZED:
        r = make_oversized(g, &ev);
        if (r == 0)
            r = codec_encode_input(g->codec, &ev, &g->buf);
        break;
    case BAD__COUNT:
        break;
    }
    if (r < 0) {
        snprintf(g->err, sizeof(g->err), "encoding a bad %s record: %s",
                 hf_event_kind_name(ev.kind), strerror(-r));
        return r;
    }
    r = sink_send(&g->sink, ev.kind, key, g->buf.data, g->buf.len, g->err, sizeof(g->err));
    if (r < 0)
        return r;
    g->counts.bad[kind]++;
    count_record(&g->counts, ev.kind, g->buf.len);
    return 0;
}

static int send_event(gen_ctx_t *g, const gen_record_t *rec)
{
    hf_event_t ev = rec->ev;
    if (g->opts->live)
        ev.occurred_at_ms = clock_ms(CLOCK_REALTIME);
    hf_buf_reset(&g->buf);
    int r = codec_encode_input(g->codec, &ev, &g->buf);
    if (r < 0) {
        snprintf(g->err, sizeof(g->err), "encoding %s %s: %s", hf_event_kind_name(ev.kind),
                 ev.event_id, strerror(-r));
        return r;
    }
    const char *key = event_key(&ev);
    r = sink_send(&g->sink, ev.kind, key, g->buf.data, g->buf.len, g->err, sizeof(g->err));
    if (r < 0)
        return r;
    gen_counts_t *c = &g->counts;
    count_record(c, ev.kind, g->buf.len);
    c->events[ev.kind]++;
    if (ev.kind == HF_EV_FORM)
        c->form_types[ev.form_type]++;
    if (!c->first_event_ms || ev.occurred_at_ms < c->first_event_ms)
        c->first_event_ms = ev.occurred_at_ms;
    if (ev.occurred_at_ms > c->last_event_ms)
        c->last_event_ms = ev.occurred_at_ms;

    if (g->opts->dup_rate > 0 && gen_rng_chance(&g->rng, g->opts->dup_rate)) {
        /* At-least-once delivery: the very same bytes once more. */
        r = sink_send(&g->sink, ev.kind, key, g->buf.data, g->buf.len, g->err, sizeof(g->err));
        if (r < 0)
            return r;
        count_record(c, ev.kind, g->buf.len);
        c->duplicates++;
    }
    if (g->opts->bad_rate > 0 && gen_rng_chance(&g->rng, g->opts->bad_rate))
        return send_bad(g, &ev);
    return 0;
}

/* ---- report ----------------------------------------------------------------------- */

static void summary_line(const gen_ctx_t *g, double secs)
{
    const gen_counts_t *c = &g->counts;
    gen_model_stats_t st;
    gen_model_get_stats(g->model, &st);
    uint64_t bad = 0;
    for (int k = 0; k < BAD__COUNT; k++)
        bad += c->bad[k];
    fprintf(stderr, "hf-gen: %" PRIu64 " records in %.1f s (%.0f records/s):", c->records, secs,
            secs > 0 ? (double)c->records / secs : 0.0);
    for (int k = 0; k < HF_EV__COUNT; k++)
        fprintf(stderr, "%s %s %" PRIu64, k ? "," : "", g->sink.topic[k], c->per_kind[k].records);
    fprintf(stderr,
            "; %" PRIu64 " duplicates, %" PRIu64 " bad; %" PRIu64 " people, %" PRIu64
            " known, %" PRIu64 " hand-raisers\n",
            c->duplicates, bad, st.people, st.identified, st.hand_raisers);
}

static int write_report(const gen_ctx_t *g, const char *path, double secs)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -errno;
    const gen_counts_t *c = &g->counts;
    const gen_opts_t *o = g->opts;
    gen_model_stats_t st;
    gen_model_get_stats(g->model, &st);
    uint64_t events = 0, bytes = 0;
    for (int k = 0; k < HF_EV__COUNT; k++) {
        events += c->events[k];
        bytes += c->per_kind[k].bytes;
    }
    fprintf(f, "{\n  \"seed\": %" PRIu64 ",\n  \"contacts\": %" PRIu32 ",\n", o->seed, o->contacts);
    fprintf(f, "  \"accounts\": %" PRIu32 ",\n  \"live\": %s,\n", o->accounts,
            o->live ? "true" : "false");
    fprintf(f,
            "  \"people\": %" PRIu64 ",\n  \"known_contacts\": %" PRIu64
            ",\n  \"hand_raisers\": %" PRIu64 ",\n  \"merged\": %" PRIu64 ",\n",
            st.people, st.identified, st.hand_raisers, st.merged);
    fprintf(f,
            "  \"events\": %" PRIu64 ",\n  \"duplicates\": %" PRIu64 ",\n  \"records\": %" PRIu64
            ",\n  \"value_bytes\": %" PRIu64 ",\n",
            events, c->duplicates, c->records, bytes);
    fprintf(f, "  \"topics\": {");
    for (int k = 0; k < HF_EV__COUNT; k++)
        fprintf(f, "%s\n    \"%s\": {\"records\": %" PRIu64 ", \"value_bytes\": %" PRIu64 "}",
                k ? "," : "", g->sink.topic[k], c->per_kind[k].records, c->per_kind[k].bytes);
    fprintf(f, "\n  },\n  \"kinds\": {");
    for (int k = 0; k < HF_EV__COUNT; k++)
        fprintf(f, "%s\n    \"%s\": %" PRIu64, k ? "," : "", hf_event_kind_name((hf_event_kind_t)k),
                c->events[k]);
    fprintf(f, "\n  },\n  \"form_types\": {");
    for (int k = 0; k < HF_FORM__COUNT; k++)
        fprintf(f, "%s\n    \"%s\": %" PRIu64, k ? "," : "", hf_form_type_name((hf_form_type_t)k),
                c->form_types[k]);
    fprintf(f, "\n  },\n  \"bad\": {");
    for (int k = 0; k < BAD__COUNT; k++)
        fprintf(f, "%s\n    \"%s\": %" PRIu64, k ? "," : "", bad_kind_names[k], c->bad[k]);
    fprintf(f,
            "\n  },\n  \"first_event_ms\": %" PRId64 ",\n  \"last_event_ms\": %" PRId64
            ",\n  \"elapsed_s\": %.3f,\n  \"records_per_s\": %.0f\n}\n",
            c->first_event_ms, c->last_event_ms, secs, secs > 0 ? (double)c->records / secs : 0.0);
    if (fclose(f) != 0)
        return -errno;
    return 0;
}

/* ---- main -------------------------------------------------------------------------- */

static int parse_args(int argc, char **argv, gen_opts_t *o)
{
    enum {
        OPT_BROKERS = 256,
        OPT_SEED,
        OPT_CONTACTS,
        OPT_ACCOUNTS,
        OPT_RATE,
        OPT_LIVE,
        OPT_START,
        OPT_DAYS,
        OPT_REPORT,
        OPT_BAD,
        OPT_DUP,
        OPT_BATCH,
        OPT_OUTPUT,
        OPT_QUIET,
    };
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'},
        {"brokers", required_argument, NULL, OPT_BROKERS},
        {"seed", required_argument, NULL, OPT_SEED},
        {"contacts", required_argument, NULL, OPT_CONTACTS},
        {"accounts", required_argument, NULL, OPT_ACCOUNTS},
        {"rate", required_argument, NULL, OPT_RATE},
        {"live", no_argument, NULL, OPT_LIVE},
        {"start-ms", required_argument, NULL, OPT_START},
        {"days", required_argument, NULL, OPT_DAYS},
        {"report", required_argument, NULL, OPT_REPORT},
        {"bad-rate", required_argument, NULL, OPT_BAD},
        {"dup-rate", required_argument, NULL, OPT_DUP},
        {"batch", required_argument, NULL, OPT_BATCH},
        {"output", required_argument, NULL, OPT_OUTPUT},
        {"quiet", no_argument, NULL, OPT_QUIET},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int opt;
    uint64_t v;
    while ((opt = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
        const char *what = NULL;
        switch (opt) {
        case 'c':
            o->config_path = optarg;
            break;
        case OPT_BROKERS:
            o->brokers = optarg;
            break;
        case OPT_SEED:
            if (parse_u64(optarg, UINT64_MAX, &o->seed))
                what = "--seed takes an unsigned integer";
            break;
        case OPT_CONTACTS:
            if (parse_u64(optarg, 100000000, &v) || v == 0)
                what = "--contacts must be in [1, 100000000]";
            o->contacts = (uint32_t)v;
            break;
        case OPT_ACCOUNTS:
            if (parse_u64(optarg, 100000000, &v) || v == 0)
                what = "--accounts must be in [1, 100000000]";
            o->accounts = (uint32_t)v;
            break;
        case OPT_BATCH:
            if (parse_u64(optarg, 1000000, &v) || v == 0)
                what = "--batch must be in [1, 1000000]";
            o->batch_people = (uint32_t)v;
            break;
        case OPT_RATE:
            if (parse_double(optarg, 0, 1e8, &o->rate_per_s))
                what = "--rate must be in [0, 1e8] events per second";
            break;
        case OPT_LIVE:
            o->live = true;
            break;
        case OPT_START:
            if (parse_u64(optarg, (uint64_t)INT64_MAX / 2, &v))
                what = "--start-ms takes milliseconds since the epoch";
            o->start_ms = (int64_t)v;
            o->have_start = true;
            break;
        case OPT_DAYS:
            if (parse_double(optarg, 0, 3650, &o->days))
                what = "--days must be in [0, 3650]";
            break;
        case OPT_REPORT:
            o->report_path = optarg;
            break;
        case OPT_BAD:
            if (parse_double(optarg, 0, 1, &o->bad_rate))
                what = "--bad-rate must be in [0, 1]";
            break;
        case OPT_DUP:
            if (parse_double(optarg, 0, 1, &o->dup_rate))
                what = "--dup-rate must be in [0, 1]";
            break;
        case OPT_OUTPUT:
            o->output_path = optarg;
            break;
        case OPT_QUIET:
            o->quiet = true;
            break;
        case 'h':
            usage(stdout);
            exit(0);
        default:
            usage(stderr);
            return -EINVAL;
        }
        if (what) {
            fprintf(stderr, "hf-gen: %s\n", what);
            return -EINVAL;
        }
    }
    if (optind < argc) {
        usage(stderr);
        return -EINVAL;
    }
    if (o->live && o->have_start) {
        fprintf(stderr, "hf-gen: --live and --start-ms exclude each other\n");
        return -EINVAL;
    }
    if (!o->accounts)
        o->accounts = o->contacts / 10 ? o->contacts / 10 : 1;
    return 0;
}

/* Waits until record @n (counted from 0) is due at the configured rate. */
static void pace(const gen_opts_t *o, int64_t start_ns, uint64_t n)
{
    if (o->rate_per_s <= 0)
        return;
    int64_t due_ns = start_ns + (int64_t)((double)n * 1e9 / o->rate_per_s);
    int64_t now_ns = mono_ns();
    if (due_ns <= now_ns)
        return;
    struct timespec ts = {(time_t)((due_ns - now_ns) / 1000000000),
                          (long)((due_ns - now_ns) % 1000000000)};
    nanosleep(&ts, NULL);
}

int main(int argc, char **argv)
{
    gen_opts_t o = {
        .seed = 1,
        .contacts = 1000,
        .batch_people = GEN_BATCH_PEOPLE_DEFAULT,
        .days = 30,
        .dup_rate = 0.01,
    };
    if (parse_args(argc, argv, &o) < 0)
        return 2;

    int status = 1;
    gen_ctx_t g;
    memset(&g, 0, sizeof(g));
    g.opts = &o;

    hf_config_t *cfg = NULL;
    int r = config_load_reporting(&cfg, o.config_path, stderr);
    if (r != 0)
        return 2;
    g.cfg = cfg;

    const hf_topics_t *t = &cfg->topics;
    g.sink.topic[HF_EV_WEB_VISIT] = t->web_visits;
    g.sink.topic[HF_EV_FORM] = t->form_submissions;
    g.sink.topic[HF_EV_IDENTITY] = t->identity;
    g.sink.topic[HF_EV_DOWNLOAD] = t->content_downloads;
    g.sink.topic[HF_EV_WEBINAR] = t->webinar_attendance;
    g.sink.topic[HF_EV_EMAIL] = t->email_engagement;
    g.sink.topic[HF_EV_SALES] = t->sales_activity;

    /* The encoder never hashes (hashing is the decoder's job), but a codec needs a key. */
    static const uint8_t unused_key[32] = {0};
    codec_opts_t copts = {
        .email_key = unused_key,
        .email_key_len = sizeof(unused_key),
        .output_format = HF_OUTPUT_AVRO,
    };
    r = codec_new(&g.codec, &copts, g.err, sizeof(g.err));
    if (r < 0) {
        fprintf(stderr, "hf-gen: codec: %s\n", g.err);
        goto out;
    }

    int64_t span_ms = (int64_t)(o.days * 86400000.0);
    gen_model_opts_t mopts = {
        .seed = o.seed,
        .contacts = o.contacts,
        .accounts = o.accounts,
        .start_ms = o.have_start ? o.start_ms : clock_ms(CLOCK_REALTIME) - span_ms,
        .span_ms = span_ms,
    };
    r = gen_model_new(&g.model, &mopts);
    if (r < 0) {
        fprintf(stderr, "hf-gen: %s\n", strerror(-r));
        goto out;
    }
    gen_rng_seed(&g.rng, o.seed, GEN_RNG_DELIVERY, 0);

    if (o.output_path) {
        g.sink.file = fopen(o.output_path, "wb");
        if (!g.sink.file) {
            fprintf(stderr, "hf-gen: %s: %s\n", o.output_path, strerror(errno));
            goto out;
        }
    } else if (sink_open_kafka(&g.sink, cfg, &o, g.err, sizeof(g.err)) < 0) {
        fprintf(stderr, "hf-gen: %s\n", g.err);
        goto out;
    }

    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);

    int64_t start_ns = mono_ns();
    g.start_ns = start_ns;
    g.next_progress_ns = start_ns + GEN_PROGRESS_EVERY_NS;
    uint64_t sent = 0;
    uint64_t people_before = 0; /* people of the batches already sent */
    for (;;) {
        const gen_record_t *recs;
        size_t n;
        r = gen_model_next_batch(g.model, o.batch_people, &recs, &n);
        if (r < 0) {
            fprintf(stderr, "hf-gen: generating journeys: %s\n", strerror(-r));
            goto out;
        }
        if (n == 0)
            break;
        gen_model_stats_t st;
        gen_model_get_stats(g.model, &st);
        double batch_people = (double)(st.people - people_before);
        for (size_t i = 0; i < n && !stop_requested; i++) {
            pace(&o, start_ns, sent++);
            if (send_event(&g, &recs[i]) < 0) {
                fprintf(stderr, "hf-gen: %s\n", g.err);
                goto out;
            }
            progress(&g, (double)people_before + batch_people * (double)(i + 1) / (double)n);
        }
        people_before = st.people;
        if (stop_requested) {
            fprintf(stderr, "hf-gen: interrupted; flushing what was produced\n");
            break;
        }
    }
    if (sink_finish(&g) < 0) {
        fprintf(stderr, "hf-gen: %s\n", g.err);
        goto out;
    }
    double secs = (double)(mono_ns() - start_ns) / 1e9;
    if (!o.quiet)
        summary_line(&g, secs);
    if (o.report_path && (r = write_report(&g, o.report_path, secs)) < 0) {
        fprintf(stderr, "hf-gen: %s: %s\n", o.report_path, strerror(-r));
        goto out;
    }
    status = stop_requested ? 1 : 0;
out:
    sink_close(&g.sink);
    gen_model_free(g.model);
    codec_free(g.codec);
    hf_buf_free(&g.buf);
    config_free(cfg);
    return status;
}
