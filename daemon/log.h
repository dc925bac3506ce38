/* One log macro family: level checked before formatting, a component tag, one line
 * per record (text, or one JSON object per line).  Never pass raw e-mail addresses
 * or secrets to these.
 *
 * The level and format are process-wide (set once at start-up, changed on reload);
 * that is the one piece of global state besides the signal flag, as in every
 * logger worth imitating, so that no call site needs a handle. */
#pragma once

#include <stdbool.h>
#include <stdio.h>

#include "config/config.h"

enum log_level {
    LOG_LEVEL_DEBUG = 0,
    LOG_LEVEL_INFO = 1,
    LOG_LEVEL_WARN = 2,
    LOG_LEVEL_ERROR = 3,
};

typedef enum log_component {
    LOG_MAIN = 0,
    LOG_CONFIG,
    LOG_KAFKA,
    LOG_STORE,
    LOG_PIPE,
    LOG_CODEC,
    LOG_BROKER,
    LOG_HANDOFF, /* the readable line per handoff */
    LOG__COMPONENTS
} log_component_t;

extern int log_min_level;

/* Thread: any, but call before other threads log. */
void log_setup(int min_level, hf_log_format_t format, FILE *out);

void log_write(int level, log_component_t comp, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define log_at(level, comp, ...)                                                                   \
    do {                                                                                           \
        if ((level) >= log_min_level)                                                              \
            log_write((level), (comp), __VA_ARGS__);                                               \
    } while (0)

#define log_debug(comp, ...) log_at(LOG_LEVEL_DEBUG, comp, __VA_ARGS__)
#define log_info(comp, ...) log_at(LOG_LEVEL_INFO, comp, __VA_ARGS__)
#define log_warn(comp, ...) log_at(LOG_LEVEL_WARN, comp, __VA_ARGS__)
#define log_error(comp, ...) log_at(LOG_LEVEL_ERROR, comp, __VA_ARGS__)
