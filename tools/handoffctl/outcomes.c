/* handoffctl outcomes --state DIR: the outcomes table (by rule, source, campaign;
 * SLA met and breached per team and owner) from the counters in a store, opened
 * read-only so that it works beside a running daemon. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "daemon/outcomes.h"
#include "daemon/store.h"
#include "hfctl.h"

/* A counter "outcome.<dimension>..." of the metrics table into the table @opaque;
 * the other counters are not outcomes. */
static int outcome_row(void *opaque, const void *key, size_t key_len, const void *val,
                       size_t val_len)
{
    static const char prefix[] = "outcome.";
    if (val_len != 8 || key_len <= sizeof prefix - 1 || key_len > 4096 ||
        memcmp(key, prefix, sizeof prefix - 1) != 0)
        return 0;
    char name[4097];
    memcpy(name, (const char *)key + sizeof prefix - 1, key_len - (sizeof prefix - 1));
    name[key_len - (sizeof prefix - 1)] = 0;
    return outcomes_add(opaque, name, store_get_be64(val)) < 0 ? -ENOMEM : 0;
}

int hfctl_outcomes(int argc, char **argv)
{
    const char *state_dir = NULL;
    static const struct option longopts[] = {
        {"state", required_argument, NULL, 's'},
        {NULL, 0, NULL, 0},
    };
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "s:", longopts, NULL)) != -1) {
        if (opt != 's') {
            hfctl_usage(stderr);
            return 2;
        }
        state_dir = optarg;
    }
    if (!state_dir || optind != argc) {
        hfctl_usage(stderr);
        return 2;
    }
    char err[512];
    store_t *st = NULL;
    if (store_open(&st, state_dir, true, err, sizeof err) < 0) {
        fprintf(stderr, "handoffctl: %s\n", err);
        return 1;
    }
    outcomes_t *o = outcomes_new();
    int r = o ? store_scan(st, STORE_CF_METRICS, outcome_row, o, err, sizeof err) : -ENOMEM;
    store_close(st);
    if (r != 0) {
        fprintf(stderr, "handoffctl: %s\n", r == -ENOMEM ? "out of memory" : err);
        outcomes_free(o);
        return 1;
    }
    outcomes_print(o, stdout);
    outcomes_free(o);
    return 0;
}
