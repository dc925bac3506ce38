/* hf-broker: a Kafka cluster for everyone on this machine.
 *
 * Runs librdkafka's mock cluster as its own process (so the daemon can be killed
 * and restarted while the topics survive), creates every topic of the config
 * (inputs, outputs and the internal repartition topics) plus any --topic, prints
 * its bootstrap address on stdout and stays until SIGTERM/SIGINT.  kcat and
 * python3-kafka can use it like any broker. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config.h"
#include "daemon/mockbroker.h"

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: hf-broker [-c FILE] [--partitions N] [--brokers N] [--topic NAME]...\n"
            "                 [--address-file PATH]\n"
            "  -c, --config FILE     create the topics named in FILE (default: built-in names)\n"
            "  --partitions N        partitions per topic (default 6)\n"
            "  --brokers N           number of mock brokers (default 1)\n"
            "  --topic NAME          create one more topic (repeatable)\n"
            "  --address-file PATH   also write the bootstrap address to PATH\n");
}

int main(int argc, char **argv)
{
    const char *config_path = NULL, *address_file = NULL;
    int partitions = 6, broker_count = 1;
    const char *extra[64];
    size_t extra_count = 0;
    enum { OPT_PARTITIONS = 256, OPT_BROKERS, OPT_TOPIC, OPT_ADDRESS_FILE };
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'},
        {"partitions", required_argument, NULL, OPT_PARTITIONS},
        {"brokers", required_argument, NULL, OPT_BROKERS},
        {"topic", required_argument, NULL, OPT_TOPIC},
        {"address-file", required_argument, NULL, OPT_ADDRESS_FILE},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int opt;
    while ((opt = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
        switch (opt) {
        case 'c':
            config_path = optarg;
            break;
        case OPT_PARTITIONS:
            partitions = atoi(optarg);
            break;
        case OPT_BROKERS:
            broker_count = atoi(optarg);
            break;
        case OPT_TOPIC:
            if (extra_count == sizeof(extra) / sizeof(extra[0])) {
                fprintf(stderr, "hf-broker: too many --topic\n");
                return 2;
            }
            extra[extra_count++] = optarg;
            break;
        case OPT_ADDRESS_FILE:
            address_file = optarg;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (partitions < 1 || partitions > 1024 || broker_count < 1 || broker_count > 16) {
        fprintf(stderr, "hf-broker: --partitions must be in [1, 1024], --brokers in [1, 16]\n");
        return 2;
    }

    hf_config_t *cfg = NULL;
    int r = config_load_reporting(&cfg, config_path, stderr);
    if (r != 0)
        return 2;

    const char *topics[128];
    size_t n = config_topics(cfg, topics, 64);
    for (size_t i = 0; i < extra_count; i++)
        topics[n++] = extra[i];

    char err[512];
    mockbroker_t *mb;
    r = mockbroker_start(&mb, broker_count, partitions, topics, n, err, sizeof(err));
    if (r < 0) {
        fprintf(stderr, "hf-broker: %s\n", err);
        config_free(cfg);
        return 1;
    }
    const char *bootstraps = mockbroker_bootstraps(mb);
    if (address_file) {
        /* Written whole under a temporary name, then renamed: readers never see half. */
        char tmp[4096];
        snprintf(tmp, sizeof(tmp), "%s.tmp", address_file);
        FILE *f = fopen(tmp, "w");
        if (!f || fprintf(f, "%s\n", bootstraps) < 0 || fclose(f) != 0 ||
            rename(tmp, address_file) != 0) {
            fprintf(stderr, "hf-broker: writing %s: %s\n", address_file, strerror(errno));
            mockbroker_stop(mb);
            config_free(cfg);
            return 1;
        }
    }
    printf("%s\n", bootstraps);
    fflush(stdout);
    fprintf(stderr, "hf-broker: %d broker(s) at %s, %zu topics x %d partitions; SIGTERM stops\n",
            broker_count, bootstraps, n, partitions);

    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    while (!stop_requested)
        pause();

    mockbroker_stop(mb);
    config_free(cfg);
    return 0;
}
