/* The service manager's notification protocol (sd_notify(3)): readiness, status
 * text, watchdog pings, reloading and stopping, sent to $NOTIFY_SOCKET.
 *
 * Every function is a no-op when NOTIFY_SOCKET is unset (a run by hand, the tests,
 * a container without systemd), so callers never check.  Nothing here blocks for
 * long: a notification is one datagram to a local socket, and a failure to send
 * one is ignored (the service manager is the only one who could act on it).
 *
 * The state is process-wide because NOTIFY_SOCKET and WATCHDOG_USEC are: what
 * notify.c keeps is when the last watchdog ping was sent and what the service
 * manager was last told (starting, ready, reloading, stopping), behind atomics,
 * so any thread may call any function, in any order: each sends only what is
 * true then (see each function).  The pipeline thread is the one that calls
 * notify_ready(), notify_status() and notify_watchdog(); main.c's stop and reload
 * paths the others. */
#pragma once

/* READY=1: the first assignment's state is loaded and consumption started; also
 * the end of a reload (after notify_reloading()).  Sent once per readiness: a
 * call while ready, stopping, or at the end of a reload that began before the
 * first readiness sends nothing. */
void notify_ready(void);

/* STATUS=<text>: one line shown by `systemctl status`, printf-formatted.  A
 * newline in the text becomes a space (it would end the field). */
void notify_status(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* WATCHDOG=1, at most once per half of WATCHDOG_USEC: cheap enough to call from
 * every loop turn.  Nothing without WATCHDOG_USEC (or when WATCHDOG_PID names
 * another process). */
void notify_watchdog(void);

/* STOPPING=1: shutdown began (the batch is finished and committed next).  Once;
 * nothing but STATUS= and WATCHDOG=1 is sent after it. */
void notify_stopping(void);

/* RELOADING=1 with MONOTONIC_USEC: a SIGHUP reload began; notify_ready() ends it,
 * whether the new file was applied or rejected.  Nothing before the first
 * readiness (the service is still starting) or while stopping. */
void notify_reloading(void);
