/* Lifecycle stages (docs/ARCHITECTURE.md "Lifecycle"). */
#pragma once

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
