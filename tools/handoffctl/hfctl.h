/* handoffctl: its subcommands, one file each, and what they share.
 *
 * Each subcommand gets the command line from its own name on (argv[0] is "check",
 * "dump", ...) and returns the process's exit status: 0 done, 1 a failure on the
 * way (a store, a broker, an entry not found), 2 a usage error or rules that cannot
 * be read. */
#pragma once

#include <stddef.h>
#include <stdio.h>

#include "codec/codec.h"
#include "config/config.h"

/* The usage text, on @out. */
void hfctl_usage(FILE *out);

/* Loads the rules file as handoffd does: @path, or config_default_path() when
 * NULL.  Every problem goes to stderr; when the default was meant, a last line
 * says so, since the user named no file.  Returns config_load_reporting()'s
 * value: 0 with *cfg set (the caller frees it), else non-zero. */
int hfctl_load_rules(hf_config_t **cfg, const char *path);

/* A codec that decodes records and states for display.  It never hashes an
 * address, so its e-mail key is a fixed placeholder.  Returns 0 with *out, or
 * -errno with @err. */
int hfctl_codec_new(codec_t **out, char *err, size_t errsz);

/* check [FILE]: validates the rules file (check.c). */
int hfctl_check(int argc, char **argv);

/* dump --state DIR [-c FILE] TABLE [--id ID]: a table of the store, a JSON object
 * per line (dump.c). */
int hfctl_dump(int argc, char **argv);

/* outcomes --state DIR: what became of the handoffs (outcomes.c). */
int hfctl_outcomes(int argc, char **argv);

/* digest --state DIR [-c FILE] --owner ID | --team ID [--now MS]: the digest an
 * owner or a team would get now, as text (digest.c). */
int hfctl_digest(int argc, char **argv);

/* consume --brokers LIST --topic T [--max N] [--timeout S]: a topic's records, a
 * JSON object per line, e-mail addresses redacted (consume.c). */
int hfctl_consume(int argc, char **argv);

/* backtest --rules FILE [--baseline FILE] (--input FILE | --brokers LIST [--topics
 * LIST]) [--from TIME] [--to TIME] [--partitions N] [--json]: recorded input
 * replayed through two rules files, the handoffs that differ (backtest.c). */
int hfctl_backtest(int argc, char **argv);

/* dashboard --urls ADDR[,ADDR...] [--token-file FILE] [--team T] [--from D] [--to D]
 * [--timeout S] [--json]: the dashboard's numbers of several instances, summed
 * (dashboard.c). */
int hfctl_dashboard(int argc, char **argv);
