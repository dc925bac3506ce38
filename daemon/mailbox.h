/* The mailbox: records re-keyed to a partition this process owns, first in first
 * out.  Each is handled right after the record that set it off, in the same commit,
 * instead of a round trip through the repartition topic (docs/ARCHITECTURE.md
 * "Local re-keying").  Records are kept as bytes, exactly as the repartition topic
 * would carry them.
 *
 * Thread: one thread at a time. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "stage.h"

typedef struct mailbox mailbox_t;

/* One record: owned by whoever holds it (mailbox_mail_free()). */
typedef struct mailbox_mail {
    stage_role_t role; /* ROLE_BY_ANON, ROLE_BY_CONTACT or ROLE_BY_ACCOUNT */
    char *key;
    uint8_t *value;
    size_t value_len;
} mailbox_mail_t;

/* An empty mailbox; NULL on out of memory. */
mailbox_t *mailbox_new(void);
/* Frees @mb with the records still in it. */
void mailbox_free(mailbox_t *mb);

/* Appends a copy of @value under @key (NUL-terminated) for the stage reading @role.
 * Returns 0 or -ENOMEM (nothing appended). */
int mailbox_push(mailbox_t *mb, stage_role_t role, const char *key, const void *value, size_t len);

/* Takes the oldest record: true with *out set (the caller owns it), false when the
 * mailbox is empty. */
bool mailbox_pop(mailbox_t *mb, mailbox_mail_t *out);

size_t mailbox_count(const mailbox_t *mb);

/* Drops every record. */
void mailbox_clear(mailbox_t *mb);

/* Frees what a record popped from the mailbox owns. */
void mailbox_mail_free(mailbox_mail_t *m);
