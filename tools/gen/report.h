/* What hf-gen tells about a run: progress lines and a summary on stderr (none with
 * --quiet), and the JSON report of --report (counts per topic, kind, form type
 * and bad record kind). */
#pragma once

#include "gen.h"

/* A progress line on stderr when one is due (and not --quiet): what was sent and
 * acknowledged, the rate, and the share of the people generated (the total of
 * records is known only at the end).  @people: people whose records were sent, a
 * fraction within a batch. */
void gen_report_progress(gen_ctx_t *g, double people);

/* The summary line on stderr, @secs after producing began. */
void gen_report_summary(const gen_ctx_t *g, double secs);

/* The JSON report into the file @path.  Returns 0 or -errno. */
int gen_report_write(const gen_ctx_t *g, const char *path, double secs);
