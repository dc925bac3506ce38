/* The stream processor: one consumer group over every input and internal topic,
 * stage 1 (resolve, keyed by anonymous id), stage 2 (contact journey, keyed by
 * contact id) and stage 3 (account journey, keyed by account id), outputs through an
 * idempotent producer, state and offsets in the store, committed together once per
 * commit interval (docs/ARCHITECTURE.md, "One record's way through").
 *
 * Thread: everything runs on the thread that calls pipeline_run(); librdkafka's
 * own threads only call back into delivery reports, which touch nothing but the
 * producer's counters. */
#pragma once

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "config/config.h"

typedef struct pipeline pipeline_t;

/* Wall clock in ms.  Tests inject their own. */
typedef int64_t (*pipeline_clock_fn)(void *opaque);

typedef int (*pipeline_reload_fn)(void *opaque);

typedef struct pipeline_opts {
    const hf_config_t *cfg; /* borrowed; must outlive the pipeline */
    const char *brokers;    /* overrides cfg->brokers (embedded mode); NULL = cfg's */
    pipeline_clock_fn clock;
    void *clock_opaque;
    int64_t exit_when_idle_ms; /* > 0: stop after consuming nothing for this long since the
                                  last record or the last assignment (benchmarks, replays) */
    int64_t progress_every_ms; /* > 0: log a progress line this often */
    /* Set (by a SIGHUP handler) to ask for a reload: the pipeline clears it and calls
     * @reload_fn on its own thread between records; the function returns > 0 when
     * it applied new rules (into the config the pipeline reads), 0 when it kept the
     * old ones. */
    volatile sig_atomic_t *reload;
    pipeline_reload_fn reload_fn;
    void *reload_opaque;
    /* Where the loop publishes its heartbeat, readiness and counters for other
     * threads (status.h); borrowed, outlives the pipeline; NULL: nowhere. */
    struct status *status;
} pipeline_opts_t;

/* Opens the store, the codec and the Kafka clients, and checks the topology
 * (every topic exists, co-partitioned topics have equal partition counts).
 * Returns 0 and sets *out, or -errno with the reason in @err. */
int pipeline_new(pipeline_t **out, const pipeline_opts_t *opts, char *err, size_t errsz);

/* Consumes and processes until *@stop becomes non-zero, then commits and leaves
 * the group.  Returns 0 on a clean stop, or -errno after a fatal error (a store or
 * broker failure: nothing past the last commit is acknowledged), with @err. */
int pipeline_run(pipeline_t *p, volatile sig_atomic_t *stop, char *err, size_t errsz);

/* Human summary of this run and the totals in the store. */
void pipeline_print_summary(pipeline_t *p, FILE *out);

void pipeline_free(pipeline_t *p);

/* The state store, for readers on other threads (the journey lookup reads
 * store.h's snapshots of it); valid until pipeline_free(). */
struct store *pipeline_store(pipeline_t *p);
