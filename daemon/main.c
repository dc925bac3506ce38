/* handoffd: the daemon.  See README.md (running it) and docs/ARCHITECTURE.md. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config/config.h"
#include "log.h"
#include "mockbroker.h"
#include "pipeline.h"

/* The process-wide things: set by the signal handlers, read by the loop. */
static volatile sig_atomic_t stop_requested;
static volatile sig_atomic_t reload_requested;

static void on_stop_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static void on_reload_signal(int sig)
{
    (void)sig;
    reload_requested = 1;
}

/* SIGHUP: load and validate the file again; apply its rules only when it is valid
 * in full, so a broken edit never replaces rules that work.  Runs on the pipeline
 * thread, between records, so the swap needs no lock. */
typedef struct reloader {
    hf_config_t *cfg;
    const char *path;
} reloader_t;

static int reload_rules(void *opaque)
{
    reloader_t *rl = opaque;
    log_info(LOG_MAIN, "SIGHUP: reloading %s", rl->path);
    hf_config_t *fresh = NULL;
    int r = config_load_reporting(&fresh, rl->path, stderr);
    if (r != 0) {
        log_error(LOG_MAIN,
                  "reload of %s rejected (%d problem%s, listed above): the rules in force keep "
                  "running",
                  rl->path, r < 0 ? 1 : r, r == 1 || r < 0 ? "" : "s");
        return 0;
    }
    const char *was[CONFIG_TOPIC_COUNT], *now[CONFIG_TOPIC_COUNT];
    size_t n = config_topics(rl->cfg, was, CONFIG_TOPIC_COUNT);
    bool same = strcmp(fresh->app_id, rl->cfg->app_id) == 0 &&
                config_topics(fresh, now, CONFIG_TOPIC_COUNT) == n;
    for (size_t i = 0; same && i < n; i++)
        same = strcmp(was[i], now[i]) == 0;
    if (!same || fresh->partitions != rl->cfg->partitions)
        log_warn(LOG_MAIN,
                 "%s changes app.id, topics or partitions: those take a restart; "
                 "the rules apply now",
                 rl->path);
    hf_rules_t *old = rl->cfg->rules;
    rl->cfg->rules = fresh->rules;
    fresh->rules = old;
    config_free(fresh);
    log_info(LOG_MAIN,
             "reloaded %s: the new rules apply from the next record; state and SLA "
             "clocks kept",
             rl->path);
    return 1;
}

/* HANDOFF_CLOCK=<simulated ms>@<real ms>[x<rate>]: a simulated wall clock for tests
 * and demos of business-hours SLAs: at real time <real ms> it reads <simulated ms>
 * and then runs <rate> times as fast.  It survives restarts (the same value maps
 * the same real instant to the same simulated one). */
typedef struct sim_clock {
    int64_t sim_ms, real_ms;
    double rate;
} sim_clock_t;

static int64_t real_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t sim_clock_now(void *opaque)
{
    const sim_clock_t *c = opaque;
    return c->sim_ms + (int64_t)((double)(real_now_ms() - c->real_ms) * c->rate);
}

static int parse_sim_clock(const char *spec, sim_clock_t *c)
{
    char *end;
    c->rate = 1.0;
    c->sim_ms = strtoll(spec, &end, 10);
    if (*end != '@')
        return -1;
    c->real_ms = strtoll(end + 1, &end, 10);
    if (*end == 'x') {
        c->rate = strtod(end + 1, &end);
        if (!(c->rate > 0 && c->rate <= 1e6))
            return -1;
    }
    return *end || c->sim_ms <= 0 || c->real_ms <= 0 ? -1 : 0;
}

static void usage(FILE *out)
{
    fprintf(
        out,
        "usage: handoffd [-c FILE] [--embedded [--partitions N]] [--brokers LIST]\n"
        "                [--state DIR] [--log-level LEVEL] [--check]\n"
        "\n"
        "  -c, --config FILE   rules and settings (default " HF_CONFIG_DEFAULT_PATH ")\n"
        "  --embedded          run a Kafka mock cluster inside the daemon (demo, tests);\n"
        "                      prints its bootstrap address on stdout\n"
        "  --partitions N      partitions per topic of the embedded cluster (default: config)\n"
        "  --brokers LIST      bootstrap servers (overrides kafka.brokers)\n"
        "  --state DIR         state directory (overrides state.path)\n"
        "  --log-level LEVEL   debug, info, warn or error (overrides log.level)\n"
        "  --check             validate the config file and exit\n"
        "  --exit-when-idle S  stop once nothing arrived for S seconds (benchmarks, replays)\n"
        "  --progress S        log a progress line every S seconds\n"
        "\n"
        "SIGTERM/SIGINT commit and stop; SIGHUP reloads the rules file (an invalid file is\n"
        "rejected and the rules in force keep running).  HANDOFF_CLOCK=<sim ms>@<real ms>[xRATE]\n"
        "simulates the wall clock SLA clocks run on (tests, demos).\n");
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
    const char *config_path = HF_CONFIG_DEFAULT_PATH;
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
    sa.sa_handler = on_reload_signal;
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    sim_clock_t sim;
    const char *clock_spec = getenv("HANDOFF_CLOCK");
    if (clock_spec && *clock_spec) {
        if (parse_sim_clock(clock_spec, &sim) < 0) {
            log_error(LOG_MAIN, "HANDOFF_CLOCK=%s: expected <simulated ms>@<real ms>[x<rate>]",
                      clock_spec);
            config_free(cfg);
            return 2;
        }
        log_warn(LOG_MAIN, "the wall clock is simulated (HANDOFF_CLOCK): x%g from %" PRId64,
                 sim.rate, sim.sim_ms);
    }
    reloader_t reloader = {cfg, config_path};

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
        .clock = clock_spec && *clock_spec ? sim_clock_now : NULL,
        .clock_opaque = &sim,
        .reload = &reload_requested,
        .reload_fn = reload_rules,
        .reload_opaque = &reloader,
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
