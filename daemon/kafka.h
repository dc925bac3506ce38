/* librdkafka plumbing shared by the daemon and the tools: configuration from the
 * YAML file, topic metadata.  Errors come back as text in the caller's buffer. */
#pragma once

#include <librdkafka/rdkafka.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"

/* A librdkafka configuration with bootstrap.servers = @brokers (or the config's),
 * our @defaults ({name, value} pairs, NULL-terminated list), then the config's
 * kafka.properties, which win.  NULL with @err on a bad property. */
rd_kafka_conf_t *kafka_conf_new(const hf_config_t *cfg, const char *brokers,
                                const char *const *defaults, char *err, size_t errsz);

/* librdkafka's log callback (rd_kafka_conf_set_log_cb): its messages as records of
 * the daemon's log (component kafka, fields client and facility), so that a JSON
 * log stays JSON.  kafka_conf_new() installs it.  Thread: librdkafka's. */
void kafka_log(const rd_kafka_t *rk, int level, const char *facility, const char *message);

/* Sets one property.  0, or -EINVAL with @err. */
int kafka_conf_set(rd_kafka_conf_t *conf, const char *name, const char *value, char *err,
                   size_t errsz);

/* Partition count of each of @topics (@counts[i] = -1 when the topic does not
 * exist), from one metadata request.  0, or -EIO with @err (broker unreachable). */
int kafka_partition_counts(rd_kafka_t *rk, const char *const *topics, size_t n, int32_t *counts,
                           int timeout_ms, char *err, size_t errsz);

/* The partition Java's default partitioner (murmur2) picks for @key. */
int32_t kafka_murmur2_partition(const void *key, size_t key_len, int32_t partition_count);
