/* /healthz, /readyz and /metrics (status_http.h). */
#include "status_http.h"

#include <dirent.h>
#include <errno.h>
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "status_prom.h"

#ifndef HF_VERSION
#define HF_VERSION "unknown"
#endif

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int text_answer(http_response_t *resp, bool ok, const char *fmt, const char *text)
{
    resp->status = ok ? 200 : 503;
    resp->content_type = "text/plain; charset=utf-8";
    return hf_buf_printf(&resp->body, fmt, text);
}

static int on_healthz(void *opaque, const http_request_t *req, http_response_t *resp)
{
    (void)req;
    char why[128];
    bool ok = status_healthy(opaque, mono_ms(), STATUS_HTTP_HEALTH_MAX_AGE_MS, why, sizeof(why));
    return text_answer(resp, ok, ok ? "%s\n" : "unhealthy: %s\n", why);
}

static int on_readyz(void *opaque, const http_request_t *req, http_response_t *resp)
{
    (void)req;
    char reason[256];
    bool ok = status_ready(opaque, reason, sizeof(reason));
    return text_answer(resp, ok, ok ? "ready: %s\n" : "not ready: %s\n", reason);
}

/* Resident memory, CPU time, start time and open descriptors of this process, from
 * /proc (Linux) and getrusage(); -1 where unknown. */
static status_prom_process_t read_process(void)
{
    status_prom_process_t p = {-1, -1, -1, -1};
    long page = sysconf(_SC_PAGESIZE);
    FILE *f = fopen("/proc/self/statm", "re");
    long long size, resident;
    if (f && fscanf(f, "%lld %lld", &size, &resident) == 2 && page > 0)
        p.resident_bytes = resident * page;
    if (f)
        fclose(f);
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) == 0)
        p.cpu_seconds = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
                        (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
    /* start: field 22 of /proc/self/stat (clock ticks after boot) plus the boot time */
    long ticks = sysconf(_SC_CLK_TCK);
    unsigned long long start_ticks = 0, btime = 0;
    char line[1024];
    if ((f = fopen("/proc/self/stat", "re"))) {
        const char *rp = fgets(line, sizeof(line), f) ? strrchr(line, ')') : NULL;
        if (rp && sscanf(rp + 2,
                         "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d "
                         "%*d %*d %*d %llu",
                         &start_ticks) != 1)
            start_ticks = 0;
        fclose(f);
    }
    if ((f = fopen("/proc/stat", "re"))) {
        while (fgets(line, sizeof(line), f) && sscanf(line, "btime %llu", &btime) != 1)
            ;
        fclose(f);
    }
    if (start_ticks && btime && ticks > 0)
        p.start_time_seconds = (double)btime + (double)start_ticks / (double)ticks;
    DIR *d = opendir("/proc/self/fd");
    if (d) {
        int64_t n = 0;
        while (readdir(d))
            n++;
        closedir(d);
        p.open_fds = n - 3; /* ".", ".." and the directory's own descriptor */
    }
    return p;
}

/* The wall time of the last heartbeat: the monotonic one is immune to clock steps,
 * but a timestamp is what an alert compares with time(). */
static double last_turn_seconds(status_t *st)
{
    struct timespec wall;
    clock_gettime(CLOCK_REALTIME, &wall);
    double now = (double)wall.tv_sec + (double)wall.tv_nsec / 1e9;
    return now - (double)(mono_ms() - status_heartbeat_ms(st)) / 1000.0;
}

static int on_metrics(void *opaque, const http_request_t *req, http_response_t *resp)
{
    (void)req;
    status_t *st = opaque;
    char reason[256];
    status_prom_input_t in = {
        .snap = status_acquire(st),
        .rebalances = status_rebalances(st),
        .reloads_ok = status_reloads(st, true),
        .reloads_rejected = status_reloads(st, false),
        .ready = status_ready(st, reason, sizeof(reason)),
        .last_turn_seconds = last_turn_seconds(st),
        .process = read_process(),
        .version = HF_VERSION,
        .librdkafka_version = rd_kafka_version_str(),
    };
    int r = status_prom_render(&resp->body, &in);
    status_release(st, in.snap);
    resp->content_type = STATUS_PROM_CONTENT_TYPE;
    return r;
}

int status_http_register(http_t *h, status_t *st)
{
    int r;
    if ((r = http_add_route(h, "GET", "/healthz", true, on_healthz, st)) < 0 ||
        (r = http_add_route(h, "GET", "/readyz", true, on_readyz, st)) < 0 ||
        (r = http_add_route(h, "GET", "/metrics", false, on_metrics, st)) < 0)
        return r;
    return 0;
}
