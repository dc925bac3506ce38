/* Fuzz target of the configuration loader: any bytes go to config_load_string().
 *
 * Built normally (as meson does) it has a replay main() that runs every file of the
 * directories or files named on the command line, so the corpus is also an ordinary
 * test (suite 'fuzz').  For a libFuzzer run:
 *
 *     clang -g -O1 -DHF_FUZZING -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -I. \
 *         tests/fuzz/config_fuzz.c $(find config processors util -name '*.c') \
 *         -lyaml -lrdkafka -lm -o config_fuzz
 *     ./config_fuzz tests/fuzz/corpus/config
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "replay.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    hf_config_t *cfg = NULL;
    hf_buf_t errors = HF_BUF_INIT;
    int r = config_load_string(&cfg, "fuzz.yaml", (const char *)data, size, &errors);

    /* The loader's contract, whatever the input. */
    if ((r == 0) != (cfg != NULL))
        abort();
    if (r < 0 && r != -ENOMEM)
        abort();
    if (r > 0 && (errors.len == 0 || strncmp((char *)errors.data, "fuzz.yaml:", 10) != 0))
        abort();
    if (r == 0 && errors.len != 0)
        abort();
    if (cfg) {
        const char *topics[CONFIG_TOPIC_COUNT];
        if (config_topics(cfg, topics, CONFIG_TOPIC_COUNT) != CONFIG_TOPIC_COUNT)
            abort();
        for (size_t i = 0; i < CONFIG_TOPIC_COUNT; i++)
            if (!topics[i] || !*topics[i])
                abort();
        const hf_rules_t *rules = cfg->rules;
        if (!rules || rules->fit.grade_count == 0 ||
            rules->scoring.max_score <= rules->scoring.min_score)
            abort();
        for (size_t i = 1; i < rules->fit.grade_count; i++)
            if (rules->fit.grades[i - 1].min_points <= rules->fit.grades[i].min_points)
                abort();
        for (size_t i = 0; i < rules->qualify.contact_rule_count; i++) {
            const hf_contact_rule_t *c = &rules->qualify.contact_rules[i];
            if (c->min_grade >= (int)rules->fit.grade_count)
                abort();
            for (size_t k = 0; k < c->requires_count; k++)
                if (hf_rules_score_rule_index(rules, c->requires[k]) < 0)
                    abort();
        }
    }
    config_free(cfg);
    hf_buf_free(&errors);
    return 0;
}

#ifndef HF_FUZZING

int main(int argc, char **argv)
{
    return fuzz_replay_main("config_fuzz", argc, argv);
}

#endif
