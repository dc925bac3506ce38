/* Strings made for one output record (a handoff's reasons, details), freed
 * together once the sink has seen it. */
#pragma once

#include <stddef.h>

typedef struct strpool {
    char **items;
    size_t count, cap;
} strpool_t;

/* A new string formatted like printf, owned by @p.  NULL on out of memory. */
char *strpool_printf(strpool_t *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Frees every string of @p and its list (@p itself may be reused zeroed). */
void strpool_free(strpool_t *p);
