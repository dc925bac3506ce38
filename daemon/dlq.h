/* The dead-letter queue: a record that cannot be processed goes to the DLQ topic
 * with its coordinates, its original bytes and the reason, and processing carries
 * on (docs/CONTRACTS.md, DeadLetter). */
#pragma once

#include "stage.h"

/* Sends @origin (for something an input record set off inside the process: that
 * input record) to the DLQ with the reason @fmt.  @reason_class is a short stable
 * name for the counters ("blocked_id", "wrong_topic", a codec error name...).
 * Returns 0 or a negative errno. */
int dlq_send(stage_ctx_t *c, const stage_origin_t *origin, const char *reason_class,
             const char *fmt, ...) __attribute__((format(printf, 4, 5)));
