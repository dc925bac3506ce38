/* handoffctl: the operator's tool.
 *
 *   handoffctl check [FILE]
 *   handoffctl dump --state DIR [-c FILE] contacts|accounts|identities|offsets|metrics [--id ID]
 *   handoffctl outcomes --state DIR
 *   handoffctl digest --state DIR [-c FILE] --owner ID | --team ID [--now MS]
 *   handoffctl consume --brokers LIST --topic T [--max N] [--timeout S]
 *   handoffctl backtest --rules FILE [--baseline FILE] (--input FILE | --brokers LIST
 *                       [--topics LIST]) [--from TIME] [--to TIME] [--json]
 *   handoffctl dashboard --urls ADDR[,ADDR...] [--token-file FILE] [--team T] [--from D]
 *                        [--to D] [--timeout S] [--json]
 *
 * check and dump read the same rules file as handoffd, $HANDOFF_CONFIG or else
 * HF_CONFIG_DEFAULT_PATH when none is named.  dump opens the store read-only, so
 * it works beside a running daemon.  Every line printed is one JSON object (check
 * and outcomes aside).
 *
 * This file holds the usage and the dispatch; each subcommand has its own file
 * (check.c, dump.c, outcomes.c, digest.c, consume.c, backtest*.c, dashboard.c), the JSON writer is
 * json.c and the redaction of e-mail addresses redact.c. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "hfctl.h"

void hfctl_usage(FILE *out)
{
    fprintf(
        out,
        "usage: handoffctl check [FILE]\n"
        "       handoffctl dump --state DIR [-c FILE] "
        "contacts|accounts|identities|offsets|metrics|owed|teams [--id ID]\n"
        "       handoffctl outcomes --state DIR\n"
        "       handoffctl digest --state DIR [-c FILE] --owner ID | --team ID [--now MS]\n"
        "       handoffctl consume --brokers LIST --topic T [--max N] [--timeout S]\n"
        "       handoffctl backtest --rules FILE [--baseline FILE] (--input FILE |\n"
        "                           --brokers LIST [--topics LIST]) [--from TIME] [--to TIME]\n"
        "                           [--partitions N] [--timeout S] [--json]\n"
        "       handoffctl dashboard --urls ADDR[,ADDR...] [--token-file FILE] [--team T]\n"
        "                            [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--timeout S] [--json]\n"
        "\n"
        "  FILE, -c FILE  the rules file, as handoffd reads it (default: $" HF_CONFIG_ENV ", else\n"
        "                 " HF_CONFIG_DEFAULT_PATH "); dump contacts|accounts needs\n"
        "                 it for scores and grades and fails when it cannot be read\n"
        "  --state DIR    handoffd's state directory (opened read-only)\n"
        "  --timeout S    consume: stop after S seconds without a record, and give up on a\n"
        "                 broker that cannot be reached within S seconds (default 10)\n"
        "  --max N        consume: stop after N records (default: no limit)\n"
        "  backtest       replays recorded input (--input: an hf-gen --output file;\n"
        "                 --brokers: the input topics, every partition from its start to\n"
        "                 its end now, no consumer group) through the --baseline rules\n"
        "                 (default: the file handoffd loads) and the --rules ones, each\n"
        "                 from an empty scratch state on event time, and prints the\n"
        "                 handoffs made under one and not the other, and the totals by\n"
        "                 rule, team and ISO week; --from/--to keep the records whose\n"
        "                 event time lies in [from, to) (2026-03-02, 2026-03-02T09:00Z,\n"
        "                 or ms); --partitions N spreads a file's records over N\n"
        "                 partitions per topic (default: kafka.partitions)\n"
        "  --urls ADDR,.. dashboard: the http.advertised addresses of the instances whose\n"
        "                 /v1/dashboard answers are summed (--timeout: per instance)\n"
        "  --token-file   dashboard: the bearer token to send (http.token_file)\n"
        "  --owner, --team  digest: the owner's (in every team that knows them) or the\n"
        "                 team's digest as it would be made now, as text\n"
        "  --now MS       digest: make it at this instant (epoch ms; default: the clock)\n");
}

int hfctl_load_rules(hf_config_t **cfg, const char *path)
{
    int r = config_load_reporting(cfg, path ? path : config_default_path(), stderr);
    if (r != 0 && !path)
        fprintf(
            stderr,
            "handoffctl: no rules file given (FILE or -c FILE): %s, the default ($" HF_CONFIG_ENV
            ", else " HF_CONFIG_DEFAULT_PATH "), is needed\n",
            config_default_path());
    return r;
}

int hfctl_codec_new(codec_t **out, char *err, size_t errsz)
{
    static const uint8_t unused_key[16];
    codec_opts_t copts = {.email_key = unused_key, .email_key_len = sizeof(unused_key)};
    return codec_new(out, &copts, err, errsz);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        hfctl_usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "check") == 0)
        return hfctl_check(argc - 1, argv + 1);
    if (strcmp(argv[1], "dump") == 0)
        return hfctl_dump(argc - 1, argv + 1);
    if (strcmp(argv[1], "consume") == 0)
        return hfctl_consume(argc - 1, argv + 1);
    if (strcmp(argv[1], "backtest") == 0)
        return hfctl_backtest(argc - 1, argv + 1);
    if (strcmp(argv[1], "outcomes") == 0)
        return hfctl_outcomes(argc - 1, argv + 1);
    if (strcmp(argv[1], "dashboard") == 0)
        return hfctl_dashboard(argc - 1, argv + 1);
    if (strcmp(argv[1], "digest") == 0)
        return hfctl_digest(argc - 1, argv + 1);
    if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
        hfctl_usage(stdout);
        return 0;
    }
    hfctl_usage(stderr);
    return 2;
}
