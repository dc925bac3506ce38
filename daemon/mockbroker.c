#include "mockbroker.h"

#include <errno.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct mockbroker {
    rd_kafka_t *rk; /* the mock cluster's bookkeeping handle */
    rd_kafka_mock_cluster_t *cluster;
};

int mockbroker_create_topic(mockbroker_t *mb, const char *topic, int partitions, char *err,
                            size_t errsz)
{
    rd_kafka_resp_err_t e = rd_kafka_mock_topic_create(mb->cluster, topic, partitions, 1);
    if (e) {
        snprintf(err, errsz, "creating topic %s: %s", topic, rd_kafka_err2str(e));
        return -EINVAL;
    }
    return 0;
}

int mockbroker_start(mockbroker_t **out, int broker_count, int partitions,
                     const char *const *topics, size_t topic_count, char *err, size_t errsz)
{
    mockbroker_t *mb = calloc(1, sizeof(*mb));
    if (!mb) {
        snprintf(err, errsz, "out of memory");
        return -ENOMEM;
    }
    char rkerr[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    /* The handle only carries the mock cluster; keep it quiet and off the network. */
    if (rd_kafka_conf_set(conf, "log_level", "3", rkerr, sizeof(rkerr)) != RD_KAFKA_CONF_OK) {
        rd_kafka_conf_destroy(conf);
        snprintf(err, errsz, "%s", rkerr);
        free(mb);
        return -EINVAL;
    }
    mb->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, rkerr, sizeof(rkerr));
    if (!mb->rk) {
        snprintf(err, errsz, "mock cluster handle: %s", rkerr);
        free(mb);
        return -EINVAL;
    }
    mb->cluster = rd_kafka_mock_cluster_new(mb->rk, broker_count);
    if (!mb->cluster) {
        snprintf(err, errsz, "could not start the mock cluster");
        mockbroker_stop(mb);
        return -EIO;
    }
    for (size_t i = 0; i < topic_count; i++) {
        int r = mockbroker_create_topic(mb, topics[i], partitions, err, errsz);
        if (r < 0) {
            mockbroker_stop(mb);
            return r;
        }
    }
    *out = mb;
    return 0;
}

const char *mockbroker_bootstraps(const mockbroker_t *mb)
{
    return rd_kafka_mock_cluster_bootstraps(mb->cluster);
}

void mockbroker_stop(mockbroker_t *mb)
{
    if (!mb)
        return;
    if (mb->cluster)
        rd_kafka_mock_cluster_destroy(mb->cluster);
    if (mb->rk)
        rd_kafka_destroy(mb->rk);
    free(mb);
}
