#include "mailbox.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* A ring buffer: records head .. head + count - 1 (mod cap). */
struct mailbox {
    mailbox_mail_t *ring;
    size_t head, count, cap;
};

mailbox_t *mailbox_new(void)
{
    return calloc(1, sizeof(mailbox_t));
}

void mailbox_free(mailbox_t *mb)
{
    if (!mb)
        return;
    mailbox_clear(mb);
    free(mb->ring);
    free(mb);
}

/* Doubles the ring, unwrapping it so that the oldest record is first. */
static int grow(mailbox_t *mb)
{
    size_t cap = mb->cap ? mb->cap * 2 : 64;
    mailbox_mail_t *grown = malloc(cap * sizeof(*grown));
    if (!grown)
        return -ENOMEM;
    for (size_t i = 0; i < mb->count; i++)
        grown[i] = mb->ring[(mb->head + i) % mb->cap];
    free(mb->ring);
    mb->ring = grown;
    mb->cap = cap;
    mb->head = 0;
    return 0;
}

int mailbox_push(mailbox_t *mb, stage_role_t role, const char *key, const void *value, size_t len)
{
    if (mb->count == mb->cap && grow(mb) < 0)
        return -ENOMEM;
    mailbox_mail_t *m = &mb->ring[(mb->head + mb->count) % mb->cap];
    m->role = role;
    m->key = strdup(key);
    m->value = malloc(len ? len : 1);
    if (!m->key || !m->value) {
        free(m->key);
        free(m->value);
        return -ENOMEM;
    }
    memcpy(m->value, value, len);
    m->value_len = len;
    mb->count++;
    return 0;
}

bool mailbox_pop(mailbox_t *mb, mailbox_mail_t *out)
{
    if (!mb->count)
        return false;
    assert(mb->head < mb->cap);
    *out = mb->ring[mb->head];
    mb->head = (mb->head + 1) % mb->cap;
    mb->count--;
    return true;
}

size_t mailbox_count(const mailbox_t *mb)
{
    return mb->count;
}

void mailbox_clear(mailbox_t *mb)
{
    mailbox_mail_t m;
    while (mailbox_pop(mb, &m))
        mailbox_mail_free(&m);
    mb->head = 0;
}

void mailbox_mail_free(mailbox_mail_t *m)
{
    free(m->key);
    free(m->value);
    m->key = NULL;
    m->value = NULL;
}
