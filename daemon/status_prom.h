/* /metrics: the status (status.h) in Prometheus' text exposition format 0.0.4,
 * every family with its HELP and TYPE lines, names per Prometheus' naming guide
 * (docs/HTTP.md lists them).  Pure: what the process knows of itself (memory,
 * CPU) is read by the caller and passed in, so tests render fixed inputs. */
#pragma once

#include <stdint.h>

#include "status.h"
#include "util/buf.h"

#define STATUS_PROM_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* The process, as /proc and getrusage() say; -1 (or < 0) for what is unknown. */
typedef struct status_prom_process {
    int64_t resident_bytes;
    double cpu_seconds;
    double start_time_seconds; /* since the Unix epoch */
    int64_t open_fds;
} status_prom_process_t;

/* What the families come from beside the snapshot. */
typedef struct status_prom_input {
    const status_snapshot_t *snap; /* NULL: none published yet (its families are left out) */
    uint64_t rebalances;
    uint64_t reloads_ok, reloads_rejected;
    bool ready;
    double last_turn_seconds; /* wall time of the loop's last turn (heartbeat); < 0 unknown */
    status_prom_process_t process;
    const char *version; /* handoff_build_info's labels */
    const char *librdkafka_version;
} status_prom_input_t;

/* Appends the exposition of @in to @out.  0 or -ENOMEM. */
int status_prom_render(hf_buf_t *out, const status_prom_input_t *in);

/* Appends @v as a label value: '\\', '"' and newline escaped per the format.
 * 0 or -ENOMEM. */
int status_prom_label_value(hf_buf_t *out, const char *v);

/* Appends @v as Prometheus writes a float: the shortest text that reads back as
 * @v, "+Inf", "-Inf" or "NaN".  0 or -ENOMEM. */
int status_prom_float(hf_buf_t *out, double v);
