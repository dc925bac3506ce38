#include "mockbroker.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kafka.h"

struct mockbroker {
    rd_kafka_t *rk; /* the mock cluster's bookkeeping handle */
    rd_kafka_mock_cluster_t *cluster;
};

/* librdkafka 2.0.2's mock cluster thread serves requests made through the API (such
 * as rd_kafka_mock_topic_create) only when its poll() on the brokers' sockets
 * returns, which without traffic is once a second: creating the 60 topics of a test
 * took up to a minute.  While a request waits, this thread connects to the first
 * broker every 2 ms (loopback), which wakes that poll(); the mock accepts and drops
 * the empty connections. */
typedef struct waker {
    pthread_t thread;
    struct sockaddr_in addr;
    atomic_bool done;
} waker_t;

static void *wake_mock(void *opaque)
{
    waker_t *w = opaque;
    /* bounded: the request a waker serves takes milliseconds once woken */
    for (int n = 0; n < 30000 && !atomic_load(&w->done); n++) {
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd >= 0) {
            (void)connect(fd, (const struct sockaddr *)&w->addr, sizeof w->addr);
            close(fd);
        }
        nanosleep(&(struct timespec){0, 2 * 1000 * 1000}, NULL);
    }
    return NULL;
}

/* Starts a waker for the first broker of @mb; false when none could start (the
 * request then just takes its second). */
static bool waker_start(waker_t *w, const mockbroker_t *mb)
{
    const char *boot = rd_kafka_mock_cluster_bootstraps(mb->cluster);
    const char *colon = boot ? strchr(boot, ':') : NULL;
    char host[64];
    if (!colon || (size_t)(colon - boot) >= sizeof host)
        return false;
    memcpy(host, boot, (size_t)(colon - boot));
    host[colon - boot] = 0;
    memset(&w->addr, 0, sizeof w->addr);
    w->addr.sin_family = AF_INET;
    w->addr.sin_port = htons((uint16_t)atoi(colon + 1));
    if (inet_pton(AF_INET, host, &w->addr.sin_addr) != 1)
        return false;
    atomic_init(&w->done, false);
    return pthread_create(&w->thread, NULL, wake_mock, w) == 0;
}

static void waker_stop(waker_t *w)
{
    atomic_store(&w->done, true);
    pthread_join(w->thread, NULL);
}

int mockbroker_create_topic(mockbroker_t *mb, const char *topic, int partitions, char *err,
                            size_t errsz)
{
    waker_t w;
    bool waking = waker_start(&w, mb);
    rd_kafka_resp_err_t e = rd_kafka_mock_topic_create(mb->cluster, topic, partitions, 1);
    if (waking)
        waker_stop(&w);
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
    rd_kafka_conf_set_log_cb(conf, kafka_log);
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
