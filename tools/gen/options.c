/* hf-gen's command line; see options.h and the usage below. */
#include "options.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

static void usage(FILE *out)
{
    fprintf(out,
            "usage: hf-gen [-c FILE] [--brokers LIST] [--seed N] [--contacts N] [--accounts N]\n"
            "              [--rate EVENTS_PER_S] [--live | --start-ms T] [--days D]\n"
            "              [--report FILE] [--bad-rate F] [--dup-rate F] [--output FILE]\n"
            "              [--quiet]\n"
            "\n"
            "Produces realistic marketing and sales journeys to the input topics of FILE.\n"
            "  -c, --config FILE   topic names and kafka properties (default: built-in names)\n"
            "  --brokers LIST      bootstrap servers (default: kafka.brokers of the config)\n"
            "  --seed N            random seed (default 1); same seed, same records\n"
            "  --contacts N        people, known or anonymous (default 1000)\n"
            "  --accounts N        companies; known contacts fill them 1-8 each\n"
            "                      (default contacts / 10)\n"
            "  --rate R            events per second, 0 = as fast as possible (default 0)\n"
            "  --live              occurred_at = wall clock when produced (latency tests)\n"
            "  --start-ms T        event times spread from T (ms since the epoch) over --days;\n"
            "                      default: the --days before now\n"
            "  --days D            span of simulated time (default 30)\n"
            "  --report FILE       write counts per topic and kind as JSON\n"
            "  --bad-rate F        add a bad record (undecodable bytes, blocked id, unknown\n"
            "                      fingerprint, oversized field) after this share of events\n"
            "                      (default 0)\n"
            "  --dup-rate F        share of records delivered twice, as trackers do\n"
            "                      (default 0.01)\n"
            "  --batch N           people generated (and interleaved) per batch (default %d)\n"
            "  --output FILE       write the records to FILE instead of Kafka, each as\n"
            "                      u16 topic length, topic, u32 key length, key,\n"
            "                      u32 value length, value (big-endian lengths)\n"
            "  --quiet             no progress lines (every second) nor summary on stderr;\n"
            "                      errors only\n",
            GEN_BATCH_PEOPLE_DEFAULT);
}

static int parse_u64(const char *s, uint64_t max, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end || v > max || s[0] == '-')
        return -EINVAL;
    *out = v;
    return 0;
}

static int parse_double(const char *s, double lo, double hi, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !(v >= lo && v <= hi))
        return -EINVAL;
    *out = v;
    return 0;
}

/* A count in [1, @max]. */
static int parse_count(const char *s, uint64_t max, uint32_t *out)
{
    uint64_t v;
    if (parse_u64(s, max, &v) || v == 0)
        return -EINVAL;
    *out = (uint32_t)v;
    return 0;
}

enum {
    OPT_BROKERS = 256,
    OPT_SEED,
    OPT_CONTACTS,
    OPT_ACCOUNTS,
    OPT_RATE,
    OPT_LIVE,
    OPT_START,
    OPT_DAYS,
    OPT_REPORT,
    OPT_BAD,
    OPT_DUP,
    OPT_BATCH,
    OPT_OUTPUT,
    OPT_QUIET,
};

/* Applies option @opt with argument @arg to @o.  Returns NULL, or what is wrong. */
static const char *apply_option(gen_opts_t *o, int opt, const char *arg)
{
    uint64_t v;
    switch (opt) {
    case 'c':
        o->config_path = arg;
        return NULL;
    case OPT_BROKERS:
        o->brokers = arg;
        return NULL;
    case OPT_SEED:
        return parse_u64(arg, UINT64_MAX, &o->seed) ? "--seed takes an unsigned integer" : NULL;
    case OPT_CONTACTS:
        return parse_count(arg, 100000000, &o->contacts) ? "--contacts must be in [1, 100000000]"
                                                         : NULL;
    case OPT_ACCOUNTS:
        return parse_count(arg, 100000000, &o->accounts) ? "--accounts must be in [1, 100000000]"
                                                         : NULL;
    case OPT_BATCH:
        return parse_count(arg, 1000000, &o->batch_people) ? "--batch must be in [1, 1000000]"
                                                           : NULL;
    case OPT_RATE:
        return parse_double(arg, 0, 1e8, &o->rate_per_s)
                   ? "--rate must be in [0, 1e8] events per second"
                   : NULL;
    case OPT_LIVE:
        o->live = true;
        return NULL;
    case OPT_START:
        if (parse_u64(arg, (uint64_t)INT64_MAX / 2, &v))
            return "--start-ms takes milliseconds since the epoch";
        o->start_ms = (int64_t)v;
        o->have_start = true;
        return NULL;
    case OPT_DAYS:
        return parse_double(arg, 0, 3650, &o->days) ? "--days must be in [0, 3650]" : NULL;
    case OPT_REPORT:
        o->report_path = arg;
        return NULL;
    case OPT_BAD:
        return parse_double(arg, 0, 1, &o->bad_rate) ? "--bad-rate must be in [0, 1]" : NULL;
    case OPT_DUP:
        return parse_double(arg, 0, 1, &o->dup_rate) ? "--dup-rate must be in [0, 1]" : NULL;
    case OPT_OUTPUT:
        o->output_path = arg;
        return NULL;
    case OPT_QUIET:
        o->quiet = true;
        return NULL;
    default:
        return "unknown option";
    }
}

int gen_options_parse(gen_opts_t *o, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'},
        {"brokers", required_argument, NULL, OPT_BROKERS},
        {"seed", required_argument, NULL, OPT_SEED},
        {"contacts", required_argument, NULL, OPT_CONTACTS},
        {"accounts", required_argument, NULL, OPT_ACCOUNTS},
        {"rate", required_argument, NULL, OPT_RATE},
        {"live", no_argument, NULL, OPT_LIVE},
        {"start-ms", required_argument, NULL, OPT_START},
        {"days", required_argument, NULL, OPT_DAYS},
        {"report", required_argument, NULL, OPT_REPORT},
        {"bad-rate", required_argument, NULL, OPT_BAD},
        {"dup-rate", required_argument, NULL, OPT_DUP},
        {"batch", required_argument, NULL, OPT_BATCH},
        {"output", required_argument, NULL, OPT_OUTPUT},
        {"quiet", no_argument, NULL, OPT_QUIET},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    *o = (gen_opts_t){
        .seed = 1,
        .contacts = 1000,
        .batch_people = GEN_BATCH_PEOPLE_DEFAULT,
        .days = 30,
        .dup_rate = 0.01,
    };
    int opt;
    while ((opt = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
        if (opt == 'h') {
            usage(stdout);
            return 1;
        }
        if (opt == '?') {
            usage(stderr);
            return -EINVAL;
        }
        const char *what = apply_option(o, opt, optarg);
        if (what) {
            fprintf(stderr, "hf-gen: %s\n", what);
            return -EINVAL;
        }
    }
    if (optind < argc) {
        usage(stderr);
        return -EINVAL;
    }
    if (o->live && o->have_start) {
        fprintf(stderr, "hf-gen: --live and --start-ms exclude each other\n");
        return -EINVAL;
    }
    if (!o->accounts)
        o->accounts = o->contacts / 10 ? o->contacts / 10 : 1;
    return 0;
}
