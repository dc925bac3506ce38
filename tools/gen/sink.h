/* Where hf-gen's records go: the input topics of a Kafka cluster (murmur2
 * partitioner, acks=all), or a file (--output) with the same records in the same
 * order, for tests of determinism. */
#pragma once

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "processors/model/event.h"

typedef struct gen_sink gen_sink_t;

/* A sink writing to the file @path (created or truncated), each record as u16 topic
 * length, topic, u32 key length, key, u32 value length, value (big-endian
 * lengths); topic names from @cfg.  Returns 0 with *out, or -errno. */
int gen_sink_open_file(gen_sink_t **out, const hf_config_t *cfg, const char *path);

/* A producer to @brokers (NULL: the config's) with @cfg's kafka properties over
 * defaults that favour large batches, or low latency when @live.  While its queue
 * is full a send waits, unless *@stop is set (borrowed, may be NULL).  Returns 0
 * with *out, or -EINVAL with @err. */
int gen_sink_open_kafka(gen_sink_t **out, const hf_config_t *cfg, const char *brokers, bool live,
                        volatile sig_atomic_t *stop, char *err, size_t errsz);

/* Sends one record to the topic of @kind.  Waits while the producer queue is full,
 * for at most two minutes.  Returns 0, or -EIO with @err (also once a delivery
 * failed). */
int gen_sink_send(gen_sink_t *s, hf_event_kind_t kind, const char *key, const void *value,
                  size_t value_len, char *err, size_t errsz);

/* Waits until every record is acknowledged (written, for a file), for at most five
 * minutes, calling @on_wait(@opaque) after every second of waiting.  Returns 0,
 * or -EIO with @err. */
int gen_sink_flush(gen_sink_t *s, void (*on_wait)(void *opaque), void *opaque, char *err,
                   size_t errsz);

/* Records acknowledged (or written) so far. */
uint64_t gen_sink_delivered(const gen_sink_t *s);

/* The topic of the records of @kind. */
const char *gen_sink_topic(const gen_sink_t *s, hf_event_kind_t kind);

/* Closes the file or destroys the producer (without waiting: flush first). */
void gen_sink_close(gen_sink_t *s);
