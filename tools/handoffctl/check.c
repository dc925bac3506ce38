/* handoffctl check [FILE]: the rules file validated as handoffd validates it. */
#include <stdio.h>

#include "config/config.h"
#include "hfctl.h"

int hfctl_check(int argc, char **argv)
{
    if (argc > 2) {
        hfctl_usage(stderr);
        return 2;
    }
    const char *path = argc == 2 ? argv[1] : NULL;
    hf_config_t *cfg = NULL;
    if (hfctl_load_rules(&cfg, path) != 0)
        return 2;
    config_print_ok(cfg, path ? path : config_default_path(), stdout);
    config_free(cfg);
    return 0;
}
