/* hf-broker: a Kafka cluster for everyone on this machine.
 *
 * Runs librdkafka's mock cluster as its own process (so the daemon can be killed
 * and restarted while the topics survive), creates every topic of the config
 * (inputs, outputs, the internal repartition topics and <app.id>.instances, where
 * the instances of a group publish their HTTP addresses) plus any --topic, prints
 * its bootstrap address on stdout and stays until SIGTERM/SIGINT.  kcat and
 * python3-kafka can use it like any broker. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config.h"
#include "daemon/instances.h"
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

/* What the command line asks for. */
typedef struct broker_args {
    const char *config_path; /* NULL: built-in topic names */
    const char *address_file;
    int partitions;
    int broker_count;
    const char *extra[64]; /* --topic */
    size_t extra_count;
} broker_args_t;

enum { OPT_PARTITIONS = 256, OPT_BROKERS, OPT_TOPIC, OPT_ADDRESS_FILE };

/* Applies option @opt with argument @arg to @a.  Returns false after saying on
 * stderr what is wrong. */
static bool apply_option(broker_args_t *a, int opt, const char *arg)
{
    switch (opt) {
    case 'c':
        a->config_path = arg;
        return true;
    case OPT_PARTITIONS:
        a->partitions = atoi(arg);
        return true;
    case OPT_BROKERS:
        a->broker_count = atoi(arg);
        return true;
    case OPT_TOPIC:
        if (a->extra_count == sizeof(a->extra) / sizeof(a->extra[0])) {
            fprintf(stderr, "hf-broker: too many --topic\n");
            return false;
        }
        a->extra[a->extra_count++] = arg;
        return true;
    case OPT_ADDRESS_FILE:
        a->address_file = arg;
        return true;
    default:
        usage(stderr);
        return false;
    }
}

/* Fills @a from the command line.  Returns true to go on, or false with *status
 * the exit status: 0 after --help, 2 after a usage error (said on stderr). */
static bool parse_args(int argc, char **argv, broker_args_t *a, int *status)
{
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'},
        {"partitions", required_argument, NULL, OPT_PARTITIONS},
        {"brokers", required_argument, NULL, OPT_BROKERS},
        {"topic", required_argument, NULL, OPT_TOPIC},
        {"address-file", required_argument, NULL, OPT_ADDRESS_FILE},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    *a = (broker_args_t){.partitions = 6, .broker_count = 1};
    *status = 2;
    int opt;
    while ((opt = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
        if (opt == 'h') {
            usage(stdout);
            *status = 0;
            return false;
        }
        if (!apply_option(a, opt, optarg))
            return false;
    }
    if (a->partitions < 1 || a->partitions > 1024 || a->broker_count < 1 || a->broker_count > 16) {
        fprintf(stderr, "hf-broker: --partitions must be in [1, 1024], --brokers in [1, 16]\n");
        return false;
    }
    return true;
}

/* Writes @bootstraps to @path whole under a temporary name, then renames it:
 * readers never see half.  Returns 0, or -1 after saying why on stderr. */
static int write_address_file(const char *path, const char *bootstraps)
{
    char tmp[4096];
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f || fprintf(f, "%s\n", bootstraps) < 0 || fclose(f) != 0 || rename(tmp, path) != 0) {
        fprintf(stderr, "hf-broker: writing %s: %s\n", path, strerror(errno));
        return -1;
    }
    return 0;
}

/* Runs the cluster with the topics of @cfg and --topic until SIGTERM/SIGINT.
 * Returns the exit status. */
static int serve(const broker_args_t *a, const hf_config_t *cfg)
{
    const char *topics[128];
    size_t n = config_topics(cfg, topics, 64);
    /* where the instances of a group tell each other their HTTP addresses */
    hf_buf_t instances = HF_BUF_INIT;
    if (instances_topic(cfg, &instances) == 0)
        topics[n++] = (const char *)instances.data;
    for (size_t i = 0; i < a->extra_count; i++)
        topics[n++] = a->extra[i];

    char err[512];
    mockbroker_t *mb;
    int r = mockbroker_start(&mb, a->broker_count, a->partitions, topics, n, err, sizeof(err));
    hf_buf_free(&instances); /* the mock cluster copied the names */
    if (r < 0) {
        fprintf(stderr, "hf-broker: %s\n", err);
        return 1;
    }
    const char *bootstraps = mockbroker_bootstraps(mb);
    if (a->address_file && write_address_file(a->address_file, bootstraps) < 0) {
        mockbroker_stop(mb);
        return 1;
    }
    printf("%s\n", bootstraps);
    fflush(stdout);
    fprintf(stderr, "hf-broker: %d broker(s) at %s, %zu topics x %d partitions; SIGTERM stops\n",
            a->broker_count, bootstraps, n, a->partitions);

    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    while (!stop_requested)
        pause();
    mockbroker_stop(mb);
    return 0;
}

int main(int argc, char **argv)
{
    broker_args_t args;
    int status;
    if (!parse_args(argc, argv, &args, &status))
        return status;
    hf_config_t *cfg = NULL;
    if (config_load_reporting(&cfg, args.config_path, stderr) != 0)
        return 2;
    status = serve(&args, cfg);
    config_free(cfg);
    return status;
}
