/* handoffd: the daemon.  See README.md and DESIGN.md §5 "Operating it". */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../config/config.h"
#include "log.h"
#include "mockbroker.h"
#include "pipeline.h"

/* The one process-wide thing: set by the signal handlers, read by the loop. */
static volatile sig_atomic_t stop_requested;

static void on_stop_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: handoffd [-c FILE] [--embedded [--partitions N]] [--brokers LIST]\n"
            "                [--state DIR] [--log-level LEVEL] [--check]\n"
            "\n"
            "  -c, --config FILE   rules and settings (default config/handoff.yaml)\n"
            "  --embedded          run a Kafka mock cluster inside the daemon (demo, tests);\n"
            "                      prints its bootstrap address on stdout\n"
            "  --partitions N      partitions per topic of the embedded cluster (default: config)\n"
            "  --brokers LIST      bootstrap servers (overrides kafka.brokers)\n"
            "  --state DIR         state directory (overrides state.path)\n"
            "  --log-level LEVEL   debug, info, warn or error (overrides log.level)\n"
            "  --check             validate the config file and exit\n"
            "  --exit-when-idle S  stop once nothing arrived for S seconds (benchmarks, replays)\n"
            "  --progress S        log a progress line every S seconds\n");
}

static int parse_level(const char *s)
{
    static const char *const names[] = {"debug", "info", "warn", "error"};
    for (int i = 0; i < 4; i++)
        if (strcmp(s, names[i]) == 0)
            return i;
    return -1;
}

int main(int argc, char **argv)
{
    const char *config_path = "config/handoff.yaml";
    const char *brokers = NULL, *state_dir = NULL;
    bool embedded = false, check_only = false;
    int partitions = 0, level = -1;
    double idle_s = 0, progress_s = 0;
    enum {
        OPT_EMBEDDED = 256,
        OPT_PARTITIONS,
        OPT_BROKERS,
        OPT_STATE,
        OPT_LEVEL,
        OPT_CHECK,
        OPT_IDLE,
        OPT_PROGRESS
    };
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'},
        {"embedded", no_argument, NULL, OPT_EMBEDDED},
        {"partitions", required_argument, NULL, OPT_PARTITIONS},
        {"brokers", required_argument, NULL, OPT_BROKERS},
        {"state", required_argument, NULL, OPT_STATE},
        {"log-level", required_argument, NULL, OPT_LEVEL},
        {"check", no_argument, NULL, OPT_CHECK},
        {"exit-when-idle", required_argument, NULL, OPT_IDLE},
        {"progress", required_argument, NULL, OPT_PROGRESS},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int opt;
    while ((opt = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
        switch (opt) {
        case 'c':
            config_path = optarg;
            break;
        case OPT_EMBEDDED:
            embedded = true;
            break;
        case OPT_PARTITIONS:
            partitions = atoi(optarg);
            if (partitions < 1 || partitions > 1024) {
                fprintf(stderr, "handoffd: --partitions must be in [1, 1024]\n");
                return 2;
            }
            break;
        case OPT_BROKERS:
            brokers = optarg;
            break;
        case OPT_STATE:
            state_dir = optarg;
            break;
        case OPT_LEVEL:
            level = parse_level(optarg);
            if (level < 0) {
                fprintf(stderr, "handoffd: --log-level must be debug, info, warn or error\n");
                return 2;
            }
            break;
        case OPT_CHECK:
            check_only = true;
            break;
        case OPT_IDLE:
        case OPT_PROGRESS: {
            char *end;
            double v = strtod(optarg, &end);
            if (*end || v <= 0 || v > 86400) {
                fprintf(stderr, "handoffd: --%s takes seconds in (0, 86400]\n",
                        opt == OPT_IDLE ? "exit-when-idle" : "progress");
                return 2;
            }
            *(opt == OPT_IDLE ? &idle_s : &progress_s) = v;
            break;
        }
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind < argc) {
        usage(stderr);
        return 2;
    }

    hf_config_t *cfg = NULL;
    int r = config_load_reporting(&cfg, config_path, stderr);
    if (r != 0)
        return 2;
    if (check_only) {
        config_print_ok(cfg, config_path, stdout);
        config_free(cfg);
        return 0;
    }
    if (state_dir) {
        /* The key file defaults to a path inside the state directory: move it along. */
        char old_default[4096];
        snprintf(old_default, sizeof(old_default), "%s/email-hash.key", cfg->state_dir);
        if (strcmp(cfg->email_hash_key_file, old_default) == 0) {
            char *key_file;
            if (asprintf(&key_file, "%s/email-hash.key", state_dir) < 0) {
                fprintf(stderr, "handoffd: out of memory\n");
                config_free(cfg);
                return 1;
            }
            free(cfg->email_hash_key_file);
            cfg->email_hash_key_file = key_file;
        }
        free(cfg->state_dir);
        cfg->state_dir = strdup(state_dir);
    }
    log_setup(level >= 0 ? level : cfg->log_level, cfg->log_format, stderr);

    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_stop_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    char err[1024];
    mockbroker_t *mb = NULL;
    if (embedded) {
        const char *topics[32];
        size_t n = config_topics(cfg, topics, 32);
        r = mockbroker_start(&mb, 1, partitions ? partitions : cfg->partitions, topics, n, err,
                             sizeof(err));
        if (r < 0) {
            log_error(LOG_BROKER, "embedded broker: %s", err);
            config_free(cfg);
            return 1;
        }
        brokers = mockbroker_bootstraps(mb);
        printf("embedded Kafka (librdkafka mock cluster) at %s\n", brokers);
        fflush(stdout);
    }

    pipeline_t *p = NULL;
    pipeline_opts_t popts = {
        .cfg = cfg,
        .brokers = brokers,
        .exit_when_idle_ms = (int64_t)(idle_s * 1000),
        .progress_every_ms = (int64_t)(progress_s * 1000),
    };
    r = pipeline_new(&p, &popts, err, sizeof(err));
    if (r < 0) {
        log_error(LOG_MAIN, "not started: %s", err);
        mockbroker_stop(mb);
        config_free(cfg);
        return 1;
    }
    r = pipeline_run(p, &stop_requested, err, sizeof(err));
    pipeline_print_summary(p, stdout);
    fflush(stdout);
    pipeline_free(p);
    mockbroker_stop(mb);
    config_free(cfg);
    if (r < 0) {
        log_error(LOG_MAIN, "stopped: %s", err);
        return 1;
    }
    log_info(LOG_MAIN, "stopped cleanly");
    return 0;
}
