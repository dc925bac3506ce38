/* hf-gen's command line. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#define GEN_BATCH_PEOPLE_DEFAULT 2000

typedef struct gen_opts {
    const char *config_path; /* NULL: built-in topic names */
    const char *brokers;     /* NULL: kafka.brokers of the config */
    const char *report_path;
    const char *output_path; /* records to this file instead of Kafka */
    uint64_t seed;
    uint32_t contacts;
    uint32_t accounts; /* 0 on the command line: contacts / 10 */
    uint32_t batch_people;
    double rate_per_s; /* 0: as fast as possible */
    double days;
    bool live;
    bool have_start;
    int64_t start_ms;
    double dup_rate;
    double bad_rate;
    bool quiet;
} gen_opts_t;

/* Fills @o from the command line, defaults first.  Returns 0; 1 after --help (the
 * usage is on stdout); or -EINVAL after saying on stderr what is wrong. */
int gen_options_parse(gen_opts_t *o, int argc, char **argv);
