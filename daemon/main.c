/* handoffd: the daemon.  See README.md (running it) and docs/ARCHITECTURE.md.
 *
 * main() takes these steps in order: parse_args(), the config loaded and validated
 * (--check stops there), then run_daemon(): the command line's overrides, logging,
 * signals and HANDOFF_CLOCK, the embedded broker (--embedded), and run_pipeline()
 * until a stop signal or a fatal error, with the summary on stdout. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config/config.h"
#include "http.h"
#include "log.h"
#include "lookup.h"
#include "mockbroker.h"
#include "notify.h"
#include "pipeline.h"
#include "status.h"
#include "status_http.h"
#include "util/isotime.h"

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
    status_t *status; /* readiness says "reloading"; reloads counted */
    http_t *http;     /* its token is read again */
    lookup_t *lookup; /* the rules are swapped under its lock */
} reloader_t;

/* The problems of a rejected file, kept for one log record: config_load_each()
 * hands them over one at a time, with strings valid during the call only. */
typedef struct problem_list {
    config_problem_t *items; /* strings owned */
    size_t count, cap;
} problem_list_t;

static void keep_problem(void *opaque, const config_problem_t *p)
{
    problem_list_t *l = opaque;
    if (l->count == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        config_problem_t *items = realloc(l->items, cap * sizeof(*items));
        if (!items)
            return; /* the record shows fewer; "problems" still counts them all */
        l->items = items;
        l->cap = cap;
    }
    config_problem_t kept = {.file = strdup(p->file),
                             .line = p->line,
                             .column = p->column,
                             .path = strdup(p->path),
                             .message = strdup(p->message)};
    if (kept.file && kept.path && kept.message) {
        l->items[l->count++] = kept;
        return;
    }
    free((char *)kept.file);
    free((char *)kept.path);
    free((char *)kept.message);
}

static size_t problem_fields(const void *items, size_t i, log_kv_t *kv, size_t max)
{
    (void)max;
    const config_problem_t *p = (const config_problem_t *)items + i;
    kv[0] = (log_kv_t)LOG_STR("file", p->file);
    kv[1] = (log_kv_t)LOG_UINT("line", p->line);
    kv[2] = (log_kv_t)LOG_UINT("column", p->column);
    kv[3] = (log_kv_t)LOG_STR("path", p->path);
    kv[4] = (log_kv_t)LOG_STR("message", p->message);
    return 5;
}

/* Loads @path for a reload; a rejected file is logged.  In text, every problem with
 * its source line and a caret, as `handoffd --check` shows them, then one line; in
 * JSON, one record with the problems as an array of {file, line, column, path,
 * message}.  Returns what config_load() returns. */
static int load_for_reload(hf_config_t **fresh, const char *path)
{
    if (log_format_current() != HF_LOG_JSON) {
        int r = config_load_reporting(fresh, path, stderr);
        if (r != 0)
            log_error(LOG_MAIN,
                      "reload of %s rejected (%d problem%s, listed above): the rules in force "
                      "keep running",
                      path, r < 0 ? 1 : r, r == 1 || r < 0 ? "" : "s");
        return r;
    }
    problem_list_t list = {NULL, 0, 0};
    int r = config_load_each(fresh, path, keep_problem, &list);
    if (r != 0)
        log_record(LOG_LEVEL_ERROR, LOG_MAIN,
                   LOG_FIELDS(LOG_STR("file", path), LOG_INT("problems", r < 0 ? 1 : r),
                              LOG_OBJS("errors", list.items, list.count, problem_fields)),
                   "reload of %s rejected: the rules in force keep running", path);
    for (size_t i = 0; i < list.count; i++) {
        free((char *)list.items[i].file);
        free((char *)list.items[i].path);
        free((char *)list.items[i].message);
    }
    free(list.items);
    return r;
}

/* The HTTP server's part of a reload: its token file is read again, and a file
 * that cannot be read rejects the reload as an invalid rules file does (the token
 * in force stays).  A new listen address takes a restart.  0 or -errno (logged). */
static int reload_http(reloader_t *rl, const hf_config_t *fresh)
{
    char err[512];
    int r = http_reload_token(rl->http, fresh->http.token_file, err, sizeof(err));
    if (r < 0) {
        log_error(LOG_MAIN, "reload of %s rejected: %s; the rules in force keep running", rl->path,
                  err);
        return r;
    }
    const char *was = rl->cfg->http.listen, *now = fresh->http.listen;
    if ((was == NULL) != (now == NULL) || (was && strcmp(was, now) != 0))
        log_warn(LOG_MAIN, "%s changes http.listen: that takes a restart", rl->path);
    return 0;
}

static int reload_rules(void *opaque)
{
    reloader_t *rl = opaque;
    log_info(LOG_MAIN, "SIGHUP: reloading %s", rl->path);
    hf_config_t *fresh = NULL;
    if (load_for_reload(&fresh, rl->path) != 0)
        return 0;
    if (reload_http(rl, fresh) < 0) {
        config_free(fresh);
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
    /* topics.digest is checked at start-up only when digests are on: turning them on
     * here could produce to a topic that is not there, which stops the daemon */
    if (fresh->rules->digest.enabled && !rl->cfg->rules->digest.enabled) {
        fresh->rules->digest.enabled = false;
        log_warn(LOG_MAIN, "%s turns digest.enabled on: that takes a restart; the rest applies now",
                 rl->path);
    }
    lookup_swap_rules(rl->lookup, &rl->cfg->rules, &fresh->rules);
    config_free(fresh);
    log_info(LOG_MAIN,
             "reloaded %s: the new rules apply from the next record; state and SLA "
             "clocks kept",
             rl->path);
    return 1;
}

/* A reload as the service manager and /readyz see it: RELOADING=1 before, READY=1 after,
 * whether the file was applied or rejected (the service runs on either way), and
 * a rejection in `systemctl status`.  Pipeline thread. */
static int reload_notifying(void *opaque)
{
    const reloader_t *rl = opaque;
    notify_reloading();
    status_set_phase(rl->status, STATUS_RELOADING);
    int r = reload_rules(opaque);
    status_count_reload(rl->status, r > 0);
    status_set_phase(rl->status, STATUS_RUNNING);
    notify_ready();
    if (r == 0)
        notify_status("reload of %s rejected (see the log): the rules in force keep running",
                      ((const reloader_t *)opaque)->path);
    return r;
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
        "  -c, --config FILE   rules and settings (default: $" HF_CONFIG_ENV ", else\n"
        "                      " HF_CONFIG_DEFAULT_PATH ")\n"
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

/* What the command line asks for; NULL, 0 and -1 leave the config's value. */
typedef struct main_args {
    const char *config_path;
    const char *brokers;   /* overrides kafka.brokers */
    const char *state_dir; /* overrides state.path */
    bool embedded;
    bool check_only;
    int partitions; /* of the embedded cluster */
    int level;      /* log level, index into parse_level()'s names */
    double idle_s;
    double progress_s;
} main_args_t;

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

/* Seconds in (0, 86400] for --exit-when-idle and --progress. */
static bool parse_seconds(int opt, const char *arg, double *out)
{
    char *end;
    double v = strtod(arg, &end);
    if (*end || v <= 0 || v > 86400) {
        fprintf(stderr, "handoffd: --%s takes seconds in (0, 86400]\n",
                opt == OPT_IDLE ? "exit-when-idle" : "progress");
        return false;
    }
    *out = v;
    return true;
}

/* Applies option @opt with argument @arg to @a.  Returns false after saying on
 * stderr what is wrong. */
static bool apply_option(main_args_t *a, int opt, const char *arg)
{
    switch (opt) {
    case 'c':
        a->config_path = arg;
        return true;
    case OPT_EMBEDDED:
        a->embedded = true;
        return true;
    case OPT_PARTITIONS:
        a->partitions = atoi(arg);
        if (a->partitions < 1 || a->partitions > 1024) {
            fprintf(stderr, "handoffd: --partitions must be in [1, 1024]\n");
            return false;
        }
        return true;
    case OPT_BROKERS:
        a->brokers = arg;
        return true;
    case OPT_STATE:
        a->state_dir = arg;
        return true;
    case OPT_LEVEL:
        a->level = parse_level(arg);
        if (a->level < 0) {
            fprintf(stderr, "handoffd: --log-level must be debug, info, warn or error\n");
            return false;
        }
        return true;
    case OPT_CHECK:
        a->check_only = true;
        return true;
    case OPT_IDLE:
        return parse_seconds(opt, arg, &a->idle_s);
    case OPT_PROGRESS:
        return parse_seconds(opt, arg, &a->progress_s);
    default:
        usage(stderr);
        return false;
    }
}

/* Fills @a from the command line.  Returns true to go on, or false with *status
 * the exit status: 0 after --help, 2 after a usage error (said on stderr). */
static bool parse_args(int argc, char **argv, main_args_t *a, int *status)
{
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
    *a = (main_args_t){.config_path = config_default_path(), .level = -1};
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
    if (optind < argc) {
        usage(stderr);
        return false;
    }
    return true;
}

/* --state: the state directory of @cfg becomes @state_dir, and so does the e-mail
 * hash key file when it is at its default place inside the state directory.
 * Returns 0 or -ENOMEM (@cfg unchanged). */
static int move_state_dir(hf_config_t *cfg, const char *state_dir)
{
    char old_default[4096];
    snprintf(old_default, sizeof(old_default), "%s/email-hash.key", cfg->state_dir);
    char *key_file = NULL;
    if (strcmp(cfg->email_hash_key_file, old_default) == 0 &&
        asprintf(&key_file, "%s/email-hash.key", state_dir) < 0)
        return -ENOMEM;
    char *dir = strdup(state_dir);
    if (!dir) {
        free(key_file);
        return -ENOMEM;
    }
    if (key_file) {
        free(cfg->email_hash_key_file);
        cfg->email_hash_key_file = key_file;
    }
    free(cfg->state_dir);
    cfg->state_dir = dir;
    return 0;
}

/* SIGTERM/SIGINT ask the loop to stop, SIGHUP to reload; a closed pipe is an
 * error where it happens, not a death. */
static void install_signal_handlers(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_stop_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sa.sa_handler = on_reload_signal;
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

/* HANDOFF_CLOCK from the environment into @sim.  Returns 1 when it is set, 0 when
 * the real clock runs, or -EINVAL when it cannot be read (logged). */
static int read_sim_clock(sim_clock_t *sim)
{
    const char *clock_spec = getenv("HANDOFF_CLOCK");
    if (!clock_spec || !*clock_spec)
        return 0;
    if (parse_sim_clock(clock_spec, sim) < 0) {
        log_error(LOG_MAIN, "HANDOFF_CLOCK=%s: expected <simulated ms>@<real ms>[x<rate>]",
                  clock_spec);
        return -EINVAL;
    }
    char from[HF_ISO8601_SIZE];
    hf_iso8601_ms(from, sim->sim_ms);
    log_record(LOG_LEVEL_WARN, LOG_MAIN,
               LOG_FIELDS(LOG_FLOAT("rate", sim->rate), LOG_TIME("simulated_at", sim->sim_ms),
                          LOG_TIME("real_at", sim->real_ms), LOG_TIME("now", sim_clock_now(sim))),
               "the wall clock is simulated (HANDOFF_CLOCK): x%g from %s", sim->rate, from);
    return 1;
}

/* --embedded: a mock cluster with every topic of @cfg, its address on stdout.
 * Returns 0 with *out and *brokers (owned by *out), or -errno (logged). */
static int start_embedded(mockbroker_t **out, const char **brokers, const hf_config_t *cfg,
                          int partitions)
{
    char err[1024];
    const char *topics[32];
    size_t n = config_topics(cfg, topics, 32);
    int r = mockbroker_start(out, 1, partitions ? partitions : cfg->partitions, topics, n, err,
                             sizeof(err));
    if (r < 0) {
        log_error(LOG_BROKER, "embedded broker: %s", err);
        return r;
    }
    *brokers = mockbroker_bootstraps(*out);
    printf("embedded Kafka (librdkafka mock cluster) at %s\n", *brokers);
    fflush(stdout);
    return 0;
}

/* Runs the pipeline on @cfg until a stop signal or a fatal error, then prints the
 * summary on stdout.  @sim: the simulated clock, NULL for the real one.  Returns
 * the exit status: 0 after a clean stop, 1 when the pipeline did not start or
 * stopped on an error (logged). */
/* The HTTP server of @cfg's http section, with /healthz, /readyz and /metrics of
 * @st, not listening yet.  0 or -errno (logged). */
static int open_http(http_t **out, const hf_config_t *cfg, status_t *st)
{
    char err[512];
    http_t *h = NULL;
    int r = http_new(&h, &cfg->http, err, sizeof(err));
    if (r == 0 && (r = status_http_register(h, st)) < 0)
        snprintf(err, sizeof(err), "out of memory");
    if (r < 0) {
        log_error(LOG_MAIN, "not started: %s", err);
        http_free(h);
        return r;
    }
    *out = h;
    return 0;
}

static int run_pipeline(const main_args_t *a, hf_config_t *cfg, sim_clock_t *sim)
{
    mockbroker_t *mb = NULL;
    const char *brokers = a->brokers;
    if (a->embedded && start_embedded(&mb, &brokers, cfg, a->partitions) < 0)
        return 1;
    status_t *st = status_new();
    http_t *http = NULL;
    lookup_t *lookup = NULL;
    pipeline_t *p = NULL;
    char err[1024];
    int r = st ? open_http(&http, cfg, st) : -ENOMEM;
    if (r < 0)
        goto done;
    reloader_t reloader = {cfg, a->config_path, st, http};
    pipeline_opts_t popts = {
        .cfg = cfg,
        .brokers = brokers,
        .exit_when_idle_ms = (int64_t)(a->idle_s * 1000),
        .progress_every_ms = (int64_t)(a->progress_s * 1000),
        .clock = sim ? sim_clock_now : NULL,
        .clock_opaque = sim,
        .reload = &reload_requested,
        .reload_fn = reload_notifying,
        .reload_opaque = &reloader,
        .status = st,
    };
    r = pipeline_new(&p, &popts, err, sizeof(err));
    /* routes of the other parts are added here, before the server starts */
    if (r == 0) {
        lookup_opts_t lo = {.cfg = cfg,
                            .store = pipeline_store(p),
                            .status = st,
                            .brokers = brokers,
                            .clock = sim ? sim_clock_now : NULL,
                            .clock_opaque = sim};
        if ((r = lookup_open(&lookup, &lo, http, err, sizeof(err))) == 0)
            reloader.lookup = lookup;
    }
    if (r == 0)
        r = http_start(http, err, sizeof(err));
    if (r == 0) /* the instance map publishes the address the server got */
        r = lookup_start(lookup, http_advertised(http), err, sizeof(err));
    if (r < 0) {
        log_error(LOG_MAIN, "not started: %s", err);
        goto done;
    }
    r = pipeline_run(p, &stop_requested, err, sizeof(err));
    notify_stopping();
    http_stop(http); /* before the pipeline's store closes: handlers read it */
    pipeline_print_summary(p, stdout);
    fflush(stdout);
    if (r < 0)
        log_error(LOG_MAIN, "stopped: %s", err);
    else
        log_info(LOG_MAIN, "stopped cleanly");
done:
    http_free(http);
    lookup_free(lookup);
    pipeline_free(p);
    status_free(st);
    mockbroker_stop(mb);
    return r < 0 ? 1 : 0;
}

/* The command line's overrides applied to @cfg, logging, signals and the clock set
 * up, then the run.  Returns the exit status. */
static int run_daemon(const main_args_t *a, hf_config_t *cfg)
{
    if (a->state_dir && move_state_dir(cfg, a->state_dir) < 0) {
        fprintf(stderr, "handoffd: out of memory\n");
        return 1;
    }
    log_setup(a->level >= 0 ? a->level : cfg->log_level, cfg->log_format, stderr);
    install_signal_handlers();
    sim_clock_t sim;
    int simulated = read_sim_clock(&sim);
    if (simulated < 0)
        return 2;
    return run_pipeline(a, cfg, simulated ? &sim : NULL);
}

int main(int argc, char **argv)
{
    main_args_t args;
    int status;
    if (!parse_args(argc, argv, &args, &status))
        return status;

    hf_config_t *cfg = NULL;
    if (config_load_reporting(&cfg, args.config_path, stderr) != 0)
        return 2;
    if (args.check_only) {
        config_print_ok(cfg, args.config_path, stdout);
        status = 0;
    } else {
        status = run_daemon(&args, cfg);
    }
    config_free(cfg);
    return status;
}
