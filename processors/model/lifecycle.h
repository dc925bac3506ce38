/* Lifecycle stages (docs/ARCHITECTURE.md "Lifecycle"). */
#pragma once

#include <stdbool.h>

typedef enum hf_stage {
    HF_STAGE_ANONYMOUS = 0,
    HF_STAGE_KNOWN,
    HF_STAGE_ENGAGED,
    HF_STAGE_CONVERSATION_READY,
    HF_STAGE_ACCEPTED,
    HF_STAGE_QUALIFIED,
    HF_STAGE_OPPORTUNITY,
    HF_STAGE_CUSTOMER,
    HF_STAGE_RECYCLED,
    HF_STAGE_DISQUALIFIED,
    HF_STAGE_LOST,
    HF_STAGE__COUNT
} hf_stage_t;

/* "anonymous", "known", "engaged", "conversation_ready", ...; NULL if out of range. */
const char *hf_stage_name(hf_stage_t s);

/* The stage called @name, or -1. */
int hf_stage_parse(const char *name);

/* How far along the funnel a stage is, for moves that only go forward: recycled and
 * lost are back in nurture (with engaged), disqualified is past everything (only a
 * recycle or an identify leaves it). */
typedef enum hf_stage_rank {
    HF_STAGE_RANK_ANONYMOUS = 0,
    HF_STAGE_RANK_KNOWN,
    HF_STAGE_RANK_NURTURE, /* engaged, recycled, lost */
    HF_STAGE_RANK_CONVERSATION_READY,
    HF_STAGE_RANK_ACCEPTED,
    HF_STAGE_RANK_QUALIFIED,
    HF_STAGE_RANK_OPPORTUNITY,
    HF_STAGE_RANK_CUSTOMER,
    HF_STAGE_RANK_DISQUALIFIED, /* and any value out of range */
} hf_stage_rank_t;

hf_stage_rank_t hf_stage_rank(hf_stage_t s);

/* True for the stages a contact reaches on evidence and sales progress (anonymous to
 * customer, where hf_stage_rank() follows the enum's order); false for the outcomes
 * of feedback (recycled, disqualified, lost). */
bool hf_stage_is_forward(hf_stage_t s);
