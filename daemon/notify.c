/* The service manager's notifications over libsystemd's sd_notify (notify.h). */
#include "notify.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include <systemd/sd-daemon.h>

/* The longest STATUS= text sent; `systemctl status` shows one line anyway. */
#define NOTIFY_STATUS_MAX 256

/* Half of WATCHDOG_USEC, read once: -1 before the first notify_watchdog(), 0 when
 * the service manager asked for no watchdog.  Process-wide like the environment
 * it comes from; atomics because any thread may ping. */
static _Atomic int64_t watchdog_half_us = -1;
/* CLOCK_MONOTONIC microseconds of the last WATCHDOG=1 sent (0: none yet). */
static _Atomic int64_t watchdog_last_us;

/* Where the service stands as the service manager was told, so that each call
 * sends what is true whatever the order of calls: READY=1 once ready (again only
 * to end a reload), RELOADING=1 only when ready (a reload while starting is not
 * announced, and its end is not taken for readiness), nothing after STOPPING=1. */
enum {
    NOTIFY_STARTING = 0,
    NOTIFY_STARTING_RELOAD, /* a reload began before the first READY=1 */
    NOTIFY_READY,
    NOTIFY_RELOADING,
    NOTIFY_STOPPING,
};
static _Atomic int phase = NOTIFY_STARTING;

static int64_t monotonic_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Half the watchdog interval the service manager asked for, or 0 for none.
 * sd_watchdog_enabled() also checks WATCHDOG_PID, so a child that inherited the
 * environment does not ping on its parent's behalf. */
static int64_t watchdog_half(void)
{
    int64_t half = atomic_load_explicit(&watchdog_half_us, memory_order_relaxed);
    if (half >= 0)
        return half;
    uint64_t usec = 0;
    half = sd_watchdog_enabled(0, &usec) > 0 ? (int64_t)(usec / 2) : 0;
    /* Two first calls racing compute the same value from the same environment. */
    atomic_store_explicit(&watchdog_half_us, half, memory_order_relaxed);
    return half;
}

/* Moves the phase from @from to @to; false when it was not @from. */
static bool phase_move(int from, int to)
{
    return atomic_compare_exchange_strong(&phase, &from, to);
}

void notify_ready(void)
{
    /* A reload that began before the service was ready ends where it began: the
     * first readiness is the pipeline's to announce. */
    if (phase_move(NOTIFY_STARTING_RELOAD, NOTIFY_STARTING))
        return;
    if (!phase_move(NOTIFY_STARTING, NOTIFY_READY) && !phase_move(NOTIFY_RELOADING, NOTIFY_READY))
        return;
    /* A status beside it so that `systemctl status` does not keep showing
     * "reloading" until the next throughput line. */
    sd_notify(0, "READY=1\nSTATUS=consuming");
}

void notify_status(const char *fmt, ...)
{
    char text[NOTIFY_STATUS_MAX];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    /* A newline would end the field and start another assignment
     * ("STATUS=x\nREADY=1"): the text is one line, whatever it holds. */
    for (char *c = text; *c; c++)
        if ((unsigned char)*c < 0x20)
            *c = ' ';
    sd_notifyf(0, "STATUS=%s", text);
}

void notify_watchdog(void)
{
    int64_t half = watchdog_half();
    if (half <= 0)
        return;
    int64_t now = monotonic_us();
    int64_t last = atomic_load_explicit(&watchdog_last_us, memory_order_relaxed);
    if (last != 0 && now - last < half)
        return;
    /* One ping per interval even if two threads get here at once. */
    if (!atomic_compare_exchange_strong(&watchdog_last_us, &last, now))
        return;
    sd_notify(0, "WATCHDOG=1");
}

void notify_stopping(void)
{
    if (atomic_exchange(&phase, NOTIFY_STOPPING) == NOTIFY_STOPPING)
        return;
    sd_notify(0, "STOPPING=1\nSTATUS=stopping: finishing the batch, committing, leaving the group");
}

void notify_reloading(void)
{
    if (phase_move(NOTIFY_STARTING, NOTIFY_STARTING_RELOAD) ||
        !phase_move(NOTIFY_READY, NOTIFY_RELOADING))
        return;
    /* MONOTONIC_USEC is what Type=notify-reload (systemd 253) needs to match the
     * reload to the signal; older managers ignore it. */
    sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%" PRId64 "\nSTATUS=reloading the rules file",
               monotonic_us());
}
