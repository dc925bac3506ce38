/* Outcomes for marketing, as a table: what became of the handoffs, by rule, source,
 * first- and last-touch campaign; SLA met and breached, and the median time to
 * accept and to first touch, per team and owner.
 *
 * Built from the "outcome" counters the pipeline keeps in the state store
 * ("<dimension>|<value>|<metric>[|<detail>]", see daemon/stages.c), so the same
 * table comes from a running daemon's summary and from `handoffctl outcomes` on its
 * store, and tables of several instances' stores add up. */
#pragma once

#include <stdint.h>
#include <stdio.h>

typedef struct outcomes outcomes_t;

outcomes_t *outcomes_new(void);
void outcomes_free(outcomes_t *o);

/* Adds counter @name (without the "outcome." group prefix) with value @n.  Names
 * that are not outcome counters are ignored.  0 or -ENOMEM. */
int outcomes_add(outcomes_t *o, const char *name, uint64_t n);

/* Prints the table (nothing but a line saying so when there is nothing yet). */
void outcomes_print(const outcomes_t *o, FILE *out);

/* One line: "handoffs N, accepted N, rejected N, ..., SLA met N, breached N". */
void outcomes_line(const outcomes_t *o, char *buf, size_t bufsz);
