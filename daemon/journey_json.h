/* What GET /v1/contacts/{id} and /v1/accounts/{id} answer: a decoded entity state
 * rendered as JSON in the documented, versioned shape of docs/HTTP.md ("Journey
 * lookup (/v1)"), not the storage record.  Field names follow the output contract
 * (docs/CONTRACTS.md, ConversationReady) where the same thing appears there.
 *
 * Pure rendering: a state, the rules in force and two times in, text out; no store,
 * no clock, no server (tests/unit/daemon/test_journey_json.c).  The states come from
 * the processors' decoders; rendering lives here so that processors/ stays free of
 * presentation.
 *
 * Times are ISO 8601 UTC with milliseconds ("2026-03-02T09:00:00.000Z"); a time the
 * state does not have is null.  Strings are escaped for JSON; bytes that are not
 * UTF-8 come out as U+FFFD.
 *
 * Thread: any (nothing shared). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dashboard.h"
#include "util/buf.h"
#include "processors/account/account.h"
#include "processors/contact/contact.h"
#include "processors/rules/rules.h"

/* The shape's version ("version" of every answer); a change that is not additive
 * takes a new one. */
#define JOURNEY_JSON_VERSION 1

/* ---- a small JSON writer (also what lookup.c builds its other answers with) ---- */

/* Nesting the writer keeps track of. */
#define JOURNEY_JSON_DEPTH_MAX 16

/* Appends to @out; the first failure (-ENOMEM, or -EINVAL for nesting beyond
 * JOURNEY_JSON_DEPTH_MAX or an end without a begin) sticks in @err and every later
 * call does nothing.  @key is the member name inside an object, NULL inside an array
 * or at the top. */
typedef struct journey_json_writer {
    hf_buf_t *out;
    int err;
    int depth;
    bool need_comma[JOURNEY_JSON_DEPTH_MAX + 1]; /* per level: a value was written */
    char closer[JOURNEY_JSON_DEPTH_MAX + 1];     /* per level: '}' or ']' */
} journey_json_writer_t;

void journey_json_init(journey_json_writer_t *w, hf_buf_t *out);
void journey_json_object(journey_json_writer_t *w, const char *key);
void journey_json_array(journey_json_writer_t *w, const char *key);
void journey_json_end(journey_json_writer_t *w); /* of the innermost object or array */
void journey_json_str(journey_json_writer_t *w, const char *key, const char *s); /* NULL: null */
void journey_json_int(journey_json_writer_t *w, const char *key, int64_t v);
void journey_json_uint(journey_json_writer_t *w, const char *key, uint64_t v);
void journey_json_num(journey_json_writer_t *w, const char *key, double v); /* non-finite: null */
void journey_json_bool(journey_json_writer_t *w, const char *key, bool v);
void journey_json_null(journey_json_writer_t *w, const char *key);
/* ISO 8601 of @ms, or null when @ms is 0 (a time the state never got). */
void journey_json_time(journey_json_writer_t *w, const char *key, int64_t ms);
/* 0, or the first failure.  Complete only when every begin has its end. */
int journey_json_finish(const journey_json_writer_t *w);

/* "2026-03-02T09:00:00.000Z" of @ms into @out (room for 32). */
void journey_json_iso8601(char out[32], int64_t ms);

/* ---- the entities ---- */

/* Contact @s (not a redirect: see journey_json_merged()) under @rules, appended to
 * @out.  @now_ms: the daemon's clock, which says whether an SLA clock still runs;
 * @as_of_ms: when the commit the state comes from was made.  Returns 0 or -ENOMEM
 * (@out may then hold part of it). */
int journey_json_contact(hf_buf_t *out, const contact_state_t *s, const hf_rules_t *rules,
                         int64_t now_ms, int64_t as_of_ms);

/* Account @s, as journey_json_contact(). */
int journey_json_account(hf_buf_t *out, const account_state_t *s, const hf_rules_t *rules,
                         int64_t now_ms, int64_t as_of_ms);

/* A merged-away contact: @id was merged into @merged_into, and the lookup followed
 * the chain of merges to @survivor (the same id when it did not go further), whose
 * journey is at @location. */
int journey_json_merged(hf_buf_t *out, const char *id, const char *merged_into,
                        const char *survivor, const char *location, int64_t as_of_ms);

/* ---- open cases, for the dashboard (dashboard.h) ---- */

/* The open case of contact @s as the dashboard lists it: who, rule, team, owner,
 * clocks (their state at @now_ms), the score, a one-line reason (the largest score
 * contributions, written into @reason) and the top interests (into @interests).
 * Strings are borrowed from @s, @reason and @interests.  Returns 0, 1 when the
 * contact has no open case, or -ENOMEM. */
int journey_json_contact_case(const contact_state_t *s, const hf_rules_t *rules, int64_t now_ms,
                              dashboard_case_t *out, char *reason, size_t reasonsz,
                              hf_interest_t interests[DASHBOARD_INTERESTS_MAX]);

/* The same for account @s (no reason, no interests).  0, 1 or -ENOMEM. */
int journey_json_account_case(const account_state_t *s, int64_t now_ms, dashboard_case_t *out);
