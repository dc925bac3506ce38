#include "log.h"

#include <stdarg.h>
#include <string.h>
#include <time.h>

int log_min_level = LOG_LEVEL_INFO;
static hf_log_format_t log_format = HF_LOG_TEXT;
static FILE *log_out;

static const char *const level_names[] = {"debug", "info", "warn", "error"};
static const char *const component_names[LOG__COMPONENTS] = {
    [LOG_MAIN] = "main",     [LOG_CONFIG] = "config",   [LOG_KAFKA] = "kafka",
    [LOG_STORE] = "store",   [LOG_PIPE] = "pipeline",   [LOG_CODEC] = "codec",
    [LOG_BROKER] = "broker", [LOG_HANDOFF] = "handoff",
};

void log_setup(int min_level, hf_log_format_t format, FILE *out)
{
    log_min_level = min_level;
    log_format = format;
    log_out = out;
}

/* JSON string body of @s (no quotes) into @out. */
static void json_escape(FILE *out, const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(out, "\\%c", c);
        else if (c == '\n')
            fputs("\\n", out);
        else if (c < 0x20)
            fprintf(out, "\\u%04x", c);
        else
            fputc(c, out);
    }
}

void log_write(int level, log_component_t comp, const char *fmt, ...)
{
    FILE *out = log_out ? log_out : stderr;
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);

    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char when[32];
    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
    if (level < 0 || level > LOG_LEVEL_ERROR)
        level = LOG_LEVEL_ERROR;
    const char *cname = (unsigned)comp < LOG__COMPONENTS ? component_names[comp] : "?";

    flockfile(out);
    if (log_format == HF_LOG_JSON) {
        fprintf(out, "{\"ts\":\"%s.%03ldZ\",\"level\":\"%s\",\"component\":\"%s\",\"msg\":\"", when,
                ts.tv_nsec / 1000000, level_names[level], cname);
        json_escape(out, msg);
        fputs("\"}\n", out);
    } else {
        /* Keep each record on one line even if a message carried a newline. */
        for (char *p = msg; *p; p++)
            if (*p == '\n' || *p == '\r')
                *p = ' ';
        fprintf(out, "%s.%03ldZ %-5s %-8s %s\n", when, ts.tv_nsec / 1000000, level_names[level],
                cname, msg);
    }
    fflush(out);
    funlockfile(out);
}
