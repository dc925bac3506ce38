/* The normalised input event every processor folds.
 *
 * The daemon's decoder turns each Avro input record (docs/CONTRACTS.md) into one
 * hf_event_t.  Strings are NUL-terminated and borrowed from the decoder: they stay
 * valid until the next decode on the same decoder.  NULL means the field is absent
 * (an Avro null).  Processors never see a raw e-mail address: the decoder replaces
 * traits.email by its domain and a keyed hash at the boundary. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum hf_event_kind {
    HF_EV_WEB_VISIT = 0,
    HF_EV_FORM,
    HF_EV_IDENTITY,
    HF_EV_DOWNLOAD,
    HF_EV_WEBINAR,
    HF_EV_EMAIL,
    HF_EV_SALES,
    HF_EV__COUNT
} hf_event_kind_t;

/* Enum symbol order is the Avro enum's symbol order (the wire value). */
typedef enum hf_form_type {
    HF_FORM_DEMO_REQUEST = 0,
    HF_FORM_CONTACT_SALES,
    HF_FORM_CONTENT_GATE,
    HF_FORM_WEBINAR_REGISTRATION,
    HF_FORM_NEWSLETTER,
    HF_FORM_OTHER,
    HF_FORM__COUNT
} hf_form_type_t;

typedef enum hf_identity_kind {
    HF_IDENTITY_IDENTIFY = 0,
    HF_IDENTITY_TRAITS,
    HF_IDENTITY_MERGE,
    HF_IDENTITY__COUNT
} hf_identity_kind_t;

typedef enum hf_webinar_action {
    HF_WEBINAR_REGISTERED = 0,
    HF_WEBINAR_ATTENDED,
    HF_WEBINAR_NO_SHOW,
    HF_WEBINAR_WATCHED_RECORDING,
    HF_WEBINAR__COUNT
} hf_webinar_action_t;

typedef enum hf_email_action {
    HF_EMAIL_DELIVERED = 0,
    HF_EMAIL_OPENED,
    HF_EMAIL_CLICKED,
    HF_EMAIL_BOUNCED,
    HF_EMAIL_UNSUBSCRIBED,
    HF_EMAIL_SPAM_REPORTED,
    HF_EMAIL__COUNT
} hf_email_action_t;

typedef enum hf_entity_type {
    HF_ENTITY_CONTACT = 0,
    HF_ENTITY_ACCOUNT,
    HF_ENTITY__COUNT
} hf_entity_type_t;

typedef enum hf_sales_action {
    HF_SALES_ACCEPTED = 0,
    HF_SALES_REJECTED,
    HF_SALES_CONTACTED,
    HF_SALES_MEETING_BOOKED,
    HF_SALES_OPPORTUNITY_CREATED,
    HF_SALES_DISQUALIFIED,
    HF_SALES_WON,
    HF_SALES_LOST,
    HF_SALES_RECYCLED,
    HF_SALES__COUNT
} hf_sales_action_t;

/* Traits of FormSubmission and IdentityEvent.  All optional. */
typedef struct hf_traits {
    bool present; /* false: the union was null */
    /* Encode-only: the raw address, set by producers (tools, tests) that build records.
     * The decoder never sets it; it fills email_domain and email_hash instead. */
    const char *email;
    const char *email_domain; /* lower-case domain of the address */
    const char *email_hash;   /* hex keyed hash of the normalised address */
    const char *full_name;
    const char *title;
    const char *seniority;
    const char *department;
    const char *company_name;
    const char *account_id;
    const char *industry;
    bool has_employees;
    int32_t employees;
    const char *country;
    const char *region;
} hf_traits_t;

/* One input event.  Only the fields of its kind are meaningful; the others are
 * zero/NULL.  Fields shared by several records (url, title, campaign, country,
 * traits) are shared here too. */
typedef struct hf_event {
    hf_event_kind_t kind;

    /* envelope */
    const char *event_id;
    int64_t occurred_at_ms;
    const char *source;

    /* identities (NULL where the record has none) */
    const char *anonymous_id;
    const char *contact_id;

    /* WebVisit */
    const char *session_id;
    const char *url; /* also FormSubmission.url */
    const char *title;
    const char *referrer;
    const char *utm_source;
    const char *utm_medium;
    const char *utm_campaign;
    int32_t duration_ms;
    const char *country;

    /* FormSubmission */
    const char *form_id;
    hf_form_type_t form_type;
    hf_traits_t traits; /* also IdentityEvent.traits */

    /* IdentityEvent */
    hf_identity_kind_t identity_kind;
    const char *merged_contact_id;

    /* ContentDownload */
    const char *asset_id;
    const char *asset_title;
    const char *asset_type;
    const char *const *tags;
    size_t tag_count;
    const char *campaign; /* also WebinarEvent.campaign, EmailEngagement.campaign */

    /* WebinarEvent */
    const char *webinar_id;
    const char *webinar_title;
    hf_webinar_action_t webinar_action;
    int32_t minutes_attended;
    int32_t questions_asked;

    /* EmailEngagement */
    const char *email_id;
    hf_email_action_t email_action;
    const char *link_url;

    /* SalesActivity */
    hf_entity_type_t entity_type;
    const char *entity_id;
    const char *handoff_id;
    const char *owner_id;
    hf_sales_action_t sales_action;
    const char *reason;
    const char *channel;
    const char *product; /* a won deal's product (expansion) */
} hf_event_t;

/* Names as they appear in schemas, config and outputs ("web_visit", "demo_request",
 * "attended", ...).  Each returns NULL for an out-of-range value. */
const char *hf_event_kind_name(hf_event_kind_t k);
const char *hf_event_record_name(hf_event_kind_t k); /* Avro record name: "WebVisit" ... */
const char *hf_form_type_name(hf_form_type_t t);
const char *hf_identity_kind_name(hf_identity_kind_t k);
const char *hf_webinar_action_name(hf_webinar_action_t a);
const char *hf_email_action_name(hf_email_action_t a);
const char *hf_entity_type_name(hf_entity_type_t t);
const char *hf_sales_action_name(hf_sales_action_t a);

/* Reverse lookups: the value for @name, or -1 if no value has that name.
 * hf_event_kind_parse() also takes the record names in snake case
 * ("form_submission", "content_download", ...) and "sales". */
int hf_event_kind_parse(const char *name);
int hf_form_type_parse(const char *name);
int hf_webinar_action_parse(const char *name);
int hf_email_action_parse(const char *name);
int hf_sales_action_parse(const char *name);

/* True when @id is absent or one of the values that really mean "unknown"
 * (empty, "null", "undefined", "anonymous", "0", "-1", compared case-insensitively
 * after trimming blanks).  Such ids never glue two journeys together. */
bool hf_id_blocked(const char *id);

/* The id that keys the event's journey in stage 2: contact_id, or entity_id for a
 * SalesActivity on a contact.  NULL if it has none, or only a blocked one
 * (hf_id_blocked()). */
const char *hf_event_contact_key(const hf_event_t *ev);
