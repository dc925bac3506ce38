#include "kafka.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "log.h"

int kafka_conf_set(rd_kafka_conf_t *conf, const char *name, const char *value, char *err,
                   size_t errsz)
{
    char rkerr[256];
    if (rd_kafka_conf_set(conf, name, value, rkerr, sizeof(rkerr)) != RD_KAFKA_CONF_OK) {
        /* Never echo the value: it may be a password. */
        snprintf(err, errsz, "kafka property %s: %s", name, rkerr);
        return -EINVAL;
    }
    return 0;
}

void kafka_log(const rd_kafka_t *rk, int level, const char *facility, const char *message)
{
    /* syslog levels: 0-3 errors, 4 warnings, 5-6 notices and information, 7 debug */
    int ours = level <= 3   ? LOG_LEVEL_ERROR
               : level == 4 ? LOG_LEVEL_WARN
               : level <= 6 ? LOG_LEVEL_INFO
                            : LOG_LEVEL_DEBUG;
    log_record(ours, LOG_KAFKA,
               LOG_FIELDS(LOG_STR("client", rd_kafka_name(rk)), LOG_STR("facility", facility)),
               "%s", message);
}

rd_kafka_conf_t *kafka_conf_new(const hf_config_t *cfg, const char *brokers,
                                const char *const *defaults, char *err, size_t errsz)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set_log_cb(conf, kafka_log);
    if (kafka_conf_set(conf, "bootstrap.servers", brokers ? brokers : cfg->brokers, err, errsz))
        goto fail;
    for (const char *const *d = defaults; d && d[0]; d += 2)
        if (kafka_conf_set(conf, d[0], d[1], err, errsz))
            goto fail;
    for (size_t i = 0; i < cfg->kafka_prop_count; i++)
        if (kafka_conf_set(conf, cfg->kafka_props[i].name, cfg->kafka_props[i].value, err, errsz))
            goto fail;
    return conf;
fail:
    rd_kafka_conf_destroy(conf);
    return NULL;
}

int kafka_partition_counts(rd_kafka_t *rk, const char *const *topics, size_t n, int32_t *counts,
                           int timeout_ms, char *err, size_t errsz)
{
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t e = rd_kafka_metadata(rk, 1, NULL, &md, timeout_ms);
    if (e) {
        snprintf(err, errsz, "metadata request failed: %s", rd_kafka_err2str(e));
        return -EIO;
    }
    for (size_t i = 0; i < n; i++) {
        counts[i] = -1;
        for (int t = 0; t < md->topic_cnt; t++) {
            if (strcmp(md->topics[t].topic, topics[i]) == 0 && !md->topics[t].err) {
                counts[i] = md->topics[t].partition_cnt;
                break;
            }
        }
    }
    rd_kafka_metadata_destroy(md);
    return 0;
}

int32_t kafka_murmur2_partition(const void *key, size_t key_len, int32_t partition_count)
{
    return rd_kafka_msg_partitioner_murmur2(NULL, key, key_len, partition_count, NULL, NULL);
}
