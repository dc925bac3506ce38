/* One log macro family: level checked before anything is formatted or evaluated, a
 * component tag, one line per record: text, or one JSON object per line with the
 * record's fields as members (log.format).
 *
 *     log_info(LOG_PIPE, "idle for %d s: stopping", secs);
 *     log_record(LOG_LEVEL_WARN, LOG_PIPE,
 *                LOG_FIELDS(LOG_STR("topic", t), LOG_INT("partition", p), LOG_INT("offset", o),
 *                           LOG_STR("reason", why)),
 *                "dead letter %s [%d] @%lld", t, p, (long long)o);
 *
 * text:  2026-12-07T01:15:46.194Z warn  pipeline dead letter t [0] @7  topic=t partition=0 ...
 * json:  {"ts":"2026-12-07T01:15:46.194Z","level":"warn","component":"pipeline",
 *         "msg":"dead letter t [0] @7","topic":"t","partition":0,...}
 *
 * Every line is valid UTF-8 and, in JSON, valid JSON: control characters are escaped,
 * invalid bytes become U+FFFD (\xNN in text), and a record longer than
 * LOG_LINE_MAX is cut between characters, array elements or fields, never inside
 * an escape, and says "truncated".  Times are ISO 8601 UTC with milliseconds.
 * Anything shaped like an e-mail address is printed as "<e-mail>", a second guard
 * behind the decoder's (which never lets one through); still, never pass secrets.
 *
 * The level and format are process-wide (set once at start-up, changed on reload);
 * that is the one piece of global state besides the signal flag, as in every
 * logger worth imitating, so that no call site needs a handle. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
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

/* Longest line written, newline included. */
#define LOG_LINE_MAX 16384
/* Longest message (the printf part) before it is cut. */
#define LOG_MSG_MAX 4096
/* Most members of one object of a LOG_OBJS array. */
#define LOG_OBJ_FIELDS_MAX 16

typedef enum log_kv_kind {
    LOG_KV_STR,   /* .s; NULL is JSON null, "-" in text */
    LOG_KV_INT,   /* .i */
    LOG_KV_UINT,  /* .u */
    LOG_KV_FLOAT, /* .d; not finite: null */
    LOG_KV_BOOL,  /* .b */
    LOG_KV_TIME,  /* .i: epoch milliseconds, written as ISO 8601 UTC with milliseconds */
    LOG_KV_STRS,  /* .strs: an array of strings */
    LOG_KV_OBJS,  /* .objs: an array of objects, each described by a callback */
} log_kv_kind_t;

typedef struct log_kv log_kv_t;

/* Fills @kv (room for @max) with the members of element @i of the array @items;
 * returns how many it wrote.  Called while the line is rendered, on the logging
 * thread. */
typedef size_t (*log_obj_fn)(const void *items, size_t i, log_kv_t *kv, size_t max);

/* One field of a record; @key is a literal of the call site (not escaped for text).
 * The record's own members (ts, level, component, msg, truncated) are not field
 * names: such a field is written as "level_". */
struct log_kv {
    const char *key;
    log_kv_kind_t kind;
    union {
        const char *s;
        int64_t i;
        uint64_t u;
        double d;
        bool b;
        struct {
            const char *const *v;
            size_t n;
        } strs;
        struct {
            const void *items;
            size_t n;
            log_obj_fn fn;
        } objs;
    } v;
};

/* Initialisers of the fields, for LOG_FIELDS() or an array of log_kv_t. */
#define LOG_STR(k, x)                                                                              \
    {                                                                                              \
        .key = (k), .kind = LOG_KV_STR, .v.s = (x)                                                 \
    }
#define LOG_INT(k, x)                                                                              \
    {                                                                                              \
        .key = (k), .kind = LOG_KV_INT, .v.i = (int64_t)(x)                                        \
    }
#define LOG_UINT(k, x)                                                                             \
    {                                                                                              \
        .key = (k), .kind = LOG_KV_UINT, .v.u = (uint64_t)(x)                                      \
    }
#define LOG_FLOAT(k, x)                                                                            \
    {                                                                                              \
        .key = (k), .kind = LOG_KV_FLOAT, .v.d = (double)(x)                                       \
    }
#define LOG_BOOL(k, x)                                                                             \
    {                                                                                              \
        .key = (k), .kind = LOG_KV_BOOL, .v.b = (x)                                                \
    }
#define LOG_TIME(k, ms)                                                                            \
    {                                                                                              \
        .key = (k), .kind = LOG_KV_TIME, .v.i = (int64_t)(ms)                                      \
    }
#define LOG_STRS(k, arr, count)                                                                    \
    {                                                                                              \
        .key = (k), .kind = LOG_KV_STRS, .v.strs = {(arr), (count) }                               \
    }
#define LOG_OBJS(k, arr, count, fn_)                                                               \
    {                                                                                              \
        .key = (k), .kind = LOG_KV_OBJS, .v.objs = {(arr), (count), (fn_) }                        \
    }

/* The fields of one record: expands to two arguments, the array and its length. */
#define LOG_FIELDS(...)                                                                            \
    ((const log_kv_t[]){__VA_ARGS__}), (sizeof((const log_kv_t[]){__VA_ARGS__}) / sizeof(log_kv_t))

extern int log_min_level;

/* Thread: any, but call before other threads log. */
void log_setup(int min_level, hf_log_format_t format, FILE *out);

/* The format in force (for a caller that writes differently per format, such as
 * the reload's problems: a listing with carets in text, one record in JSON). */
hf_log_format_t log_format_current(void);

/* Thread: any (a line is written whole under the stream's lock). */
void log_write(int level, log_component_t comp, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A record with fields @kv[0..n); the message is formatted from @fmt. */
void log_write_kv(int level, log_component_t comp, const log_kv_t *kv, size_t n, const char *fmt,
                  ...) __attribute__((format(printf, 5, 6)));

/* Renders one record into @out (@cap >= 256 bytes): @ts_ms is the record's time,
 * @msg its message (cut at a character when too long).  Returns the length, newline
 * included (never more than @cap - 1; @out is NUL-terminated).  Pure, for the tests. */
size_t log_render(char *out, size_t cap, hf_log_format_t format, int64_t ts_ms, int level,
                  log_component_t comp, const char *msg, const log_kv_t *kv, size_t n);

#define log_at(level, comp, ...)                                                                   \
    do {                                                                                           \
        if ((level) >= log_min_level)                                                              \
            log_write((level), (comp), __VA_ARGS__);                                               \
    } while (0)

/* log_record(level, comp, LOG_FIELDS(...), fmt, ...): nothing of it is evaluated
 * below the level in force. */
#define log_record(level, comp, fields, ...)                                                       \
    do {                                                                                           \
        if ((level) >= log_min_level)                                                              \
            log_write_kv((level), (comp), fields, __VA_ARGS__);                                    \
    } while (0)

#define log_debug(comp, ...) log_at(LOG_LEVEL_DEBUG, comp, __VA_ARGS__)
#define log_info(comp, ...) log_at(LOG_LEVEL_INFO, comp, __VA_ARGS__)
#define log_warn(comp, ...) log_at(LOG_LEVEL_WARN, comp, __VA_ARGS__)
#define log_error(comp, ...) log_at(LOG_LEVEL_ERROR, comp, __VA_ARGS__)
