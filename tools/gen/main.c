/* hf-gen: realistic sample traffic for the input topics of a config.
 *
 * The journeys come from the model (model/), batch after batch of people; each
 * event is encoded as a single-object Avro record (codec_encode_input) and produced
 * to its topic under the key the data contracts name (deliver.c) with the murmur2
 * partitioner (sink.c).  Trackers deliver at least once, so a small share of
 * records is sent twice; --bad-rate adds records the daemon must dead-letter.
 *
 * The same seed, --start-ms and other options (--batch too) give the same
 * records, byte for byte (check with --output FILE, which writes them to a file
 * instead of Kafka).
 *
 * stdout stays empty; stderr gets a progress line every second while records are
 * produced and acknowledged, and a summary at the end (none of it with --quiet;
 * report.c).  The command line: options.c.  This file runs the steps. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "config/config.h"
#include "codec/codec.h"
#include "deliver.h"
#include "gen.h"
#include "options.h"
#include "report.h"
#include "rng.h"
#include "sink.h"
#include "tools/gen/model/model.h"

/* Set by SIGTERM/SIGINT: stop producing, flush what was produced. */
static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

/* The codec, the model, the delivery stream and the sink of @g, from its options
 * and config.  Returns 0, or -1 after saying on stderr why not (what was made
 * stays in @g, for close_run()). */
static int open_run(gen_ctx_t *g)
{
    const gen_opts_t *o = g->opts;
    /* The encoder never hashes (hashing is the decoder's job), but a codec needs a key. */
    static const uint8_t unused_key[32] = {0};
    codec_opts_t copts = {
        .email_key = unused_key,
        .email_key_len = sizeof(unused_key),
        .output_format = HF_OUTPUT_AVRO,
    };
    if (codec_new(&g->codec, &copts, g->err, sizeof(g->err)) < 0) {
        fprintf(stderr, "hf-gen: codec: %s\n", g->err);
        return -1;
    }
    int64_t span_ms = (int64_t)(o->days * 86400000.0);
    gen_model_opts_t mopts = {
        .seed = o->seed,
        .contacts = o->contacts,
        .accounts = o->accounts,
        .start_ms = o->have_start ? o->start_ms : gen_clock_ms(CLOCK_REALTIME) - span_ms,
        .span_ms = span_ms,
    };
    int r = gen_model_new(&g->model, &mopts);
    if (r < 0) {
        fprintf(stderr, "hf-gen: %s\n", strerror(-r));
        return -1;
    }
    gen_rng_seed(&g->rng, o->seed, GEN_RNG_DELIVERY, 0);
    if (o->output_path) {
        r = gen_sink_open_file(&g->sink, g->cfg, o->output_path);
        if (r < 0) {
            fprintf(stderr, "hf-gen: %s: %s\n", o->output_path, strerror(-r));
            return -1;
        }
    } else if (gen_sink_open_kafka(&g->sink, g->cfg, o->brokers, o->live, &stop_requested, g->err,
                                   sizeof(g->err)) < 0) {
        fprintf(stderr, "hf-gen: %s\n", g->err);
        return -1;
    }
    return 0;
}

static void close_run(gen_ctx_t *g)
{
    gen_sink_close(g->sink);
    gen_model_free(g->model);
    codec_free(g->codec);
    hf_buf_free(&g->buf);
}

/* Waits until record @n (counted from 0) is due at the configured rate. */
static void pace(const gen_opts_t *o, int64_t start_ns, uint64_t n)
{
    if (o->rate_per_s <= 0)
        return;
    int64_t due_ns = start_ns + (int64_t)((double)n * 1e9 / o->rate_per_s);
    int64_t now_ns = gen_mono_ns();
    if (due_ns <= now_ns)
        return;
    struct timespec ts = {(time_t)((due_ns - now_ns) / 1000000000),
                          (long)((due_ns - now_ns) % 1000000000)};
    nanosleep(&ts, NULL);
}

/* Sends every batch of the model, paced, with progress lines; stops early on a
 * signal.  Returns 0 (also when interrupted), or -1 after saying why on stderr. */
static int produce(gen_ctx_t *g)
{
    const gen_opts_t *o = g->opts;
    uint64_t sent = 0;
    uint64_t people_before = 0; /* people of the batches already sent */
    for (;;) {
        const gen_record_t *recs;
        size_t n;
        int r = gen_model_next_batch(g->model, o->batch_people, &recs, &n);
        if (r < 0) {
            fprintf(stderr, "hf-gen: generating journeys: %s\n", strerror(-r));
            return -1;
        }
        if (n == 0)
            break;
        gen_model_stats_t st;
        gen_model_get_stats(g->model, &st);
        double batch_people = (double)(st.people - people_before);
        for (size_t i = 0; i < n && !stop_requested; i++) {
            pace(o, g->start_ns, sent++);
            if (gen_deliver_event(g, &recs[i]) < 0) {
                fprintf(stderr, "hf-gen: %s\n", g->err);
                return -1;
            }
            gen_report_progress(g,
                                (double)people_before + batch_people * (double)(i + 1) / (double)n);
        }
        people_before = st.people;
        if (stop_requested) {
            fprintf(stderr, "hf-gen: interrupted; flushing what was produced\n");
            break;
        }
    }
    return 0;
}

/* gen_sink_flush()'s wait: every person was sent, acknowledgements are due. */
static void on_flush_wait(void *opaque)
{
    gen_ctx_t *g = opaque;
    gen_report_progress(g, g->opts->contacts);
}

/* Waits for the acknowledgements, then the summary and the report.  Returns 0, or
 * -1 after saying why on stderr. */
static int finish(gen_ctx_t *g)
{
    if (gen_sink_flush(g->sink, on_flush_wait, g, g->err, sizeof(g->err)) < 0) {
        fprintf(stderr, "hf-gen: %s\n", g->err);
        return -1;
    }
    double secs = (double)(gen_mono_ns() - g->start_ns) / 1e9;
    if (!g->opts->quiet)
        gen_report_summary(g, secs);
    int r;
    if (g->opts->report_path && (r = gen_report_write(g, g->opts->report_path, secs)) < 0) {
        fprintf(stderr, "hf-gen: %s: %s\n", g->opts->report_path, strerror(-r));
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    gen_opts_t o;
    int r = gen_options_parse(&o, argc, argv);
    if (r != 0)
        return r > 0 ? 0 : 2;
    hf_config_t *cfg = NULL;
    if (config_load_reporting(&cfg, o.config_path, stderr) != 0)
        return 2;

    int status = 1;
    gen_ctx_t g;
    memset(&g, 0, sizeof(g));
    g.opts = &o;
    g.cfg = cfg;
    if (open_run(&g) < 0)
        goto out;

    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);

    g.start_ns = gen_mono_ns();
    g.next_progress_ns = g.start_ns + GEN_PROGRESS_EVERY_NS;
    if (produce(&g) < 0 || finish(&g) < 0)
        goto out;
    status = stop_requested ? 1 : 0;
out:
    close_run(&g);
    config_free(cfg);
    return status;
}
