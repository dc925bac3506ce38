/* hf-gen: one run, as its files share it (main.c runs it, deliver.c sends the
 * records, report.c tells what was sent).
 *
 * Ownership: the run owns the model, the codec, the sink and the buffer; main.c
 * makes and frees them. */
#pragma once

#include <stdint.h>
#include <time.h>

#include "codec/codec.h"
#include "config/config.h"
#include "tools/gen/model/model.h"
#include "options.h"
#include "rng.h"
#include "sink.h"
#include "util/buf.h"

/* Kinds of bad records (--bad-rate), in the order of the report. */
typedef enum gen_bad_kind {
    GEN_BAD_UNDECODABLE = 0, /* garbage bytes, or a body cut short */
    GEN_BAD_BLOCKED_ID,      /* "undefined", "null", "0" as the entity id */
    GEN_BAD_UNKNOWN_FINGERPRINT,
    GEN_BAD_OVERSIZED, /* one field over limits.max_field_bytes */
    GEN_BAD__COUNT
} gen_bad_kind_t;

typedef struct gen_topic_stats {
    uint64_t records;
    uint64_t bytes;
} gen_topic_stats_t;

typedef struct gen_counts {
    gen_topic_stats_t per_kind[HF_EV__COUNT]; /* every record sent, by its topic */
    uint64_t events[HF_EV__COUNT];            /* distinct good events */
    uint64_t form_types[HF_FORM__COUNT];
    uint64_t duplicates;
    uint64_t bad[GEN_BAD__COUNT];
    uint64_t records;
    int64_t first_event_ms;
    int64_t last_event_ms;
} gen_counts_t;

typedef struct gen_ctx {
    const gen_opts_t *opts;
    const hf_config_t *cfg;
    gen_model_t *model;
    codec_t *codec;
    gen_sink_t *sink;
    gen_counts_t counts;
    gen_rng_t rng; /* duplicates and bad records */
    hf_buf_t buf;  /* the record being sent */
    uint64_t bad_serial;
    int64_t start_ns;         /* when producing began (CLOCK_MONOTONIC) */
    int64_t next_progress_ns; /* when the next progress line is due */
    char err[512];
} gen_ctx_t;

/* Interval between progress lines. */
#define GEN_PROGRESS_EVERY_NS 1000000000LL

/* Clock @id in ms. */
static inline int64_t gen_clock_ms(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The monotonic clock in ns. */
static inline int64_t gen_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}
