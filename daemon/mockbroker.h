/* An in-process Kafka cluster: librdkafka's mock cluster, speaking the real
 * protocol on loopback TCP, with every topic created up front (the mock has no
 * CreateTopics API).  Used by `handoffd --embedded` and by the hf-broker launcher.
 *
 * The mock keeps topics in memory, about 5 MiB per partition with the oldest
 * records dropped beyond that, so it is for demos and tests, never production. */
#pragma once

#include <stddef.h>

typedef struct mockbroker mockbroker_t;

/* Starts @broker_count brokers and creates @topic_count topics of @partitions each.
 * Returns 0 and sets *out, or -errno with the reason in @err. */
int mockbroker_start(mockbroker_t **out, int broker_count, int partitions,
                     const char *const *topics, size_t topic_count, char *err, size_t errsz);

/* "127.0.0.1:port,..." for bootstrap.servers; owned by @mb. */
const char *mockbroker_bootstraps(const mockbroker_t *mb);

/* Creates one more topic.  Returns 0 or -EINVAL with @err. */
int mockbroker_create_topic(mockbroker_t *mb, const char *topic, int partitions, char *err,
                            size_t errsz);

void mockbroker_stop(mockbroker_t *mb);
