/* handoffctl shows no e-mail address whole: decoded input records and dead letters
 * carry addresses as their producer wrote them; the daemon keeps only the domain
 * and a keyed hash, and this tool shows no more. */
#pragma once

#include "util/buf.h"

/* Appends @line (JSON) to @out with the local part of every e-mail address in its
 * strings hidden ("jane@acme.com" -> "***@acme.com").  Escapes are copied whole and
 * never looked into, so the result is valid JSON when @line is. */
void hfctl_redact_emails(hf_buf_t *out, const hf_buf_t *line);
