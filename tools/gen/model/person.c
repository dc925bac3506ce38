/* Who a person is once known (name, job, company, e-mail address), and what the
 * CRM does with a known contact later (trait updates, a duplicate record merged). */
#include <stdint.h>
#include <string.h>

#include "internal.h"

typedef struct job_title {
    const char *title;
    const char *seniority;
    const char *department;
    uint16_t weight;
    int8_t promoted_to; /* index of the next title up, or -1 */
} job_title_t;

/* Titles by how common they are among buyers; a promotion moves up the table. */
static const job_title_t job_titles[] = {
    {"VP Marketing", "vp", "marketing", 4, 3},
    {"VP Sales", "vp", "sales", 3, 2},
    {"Chief Revenue Officer", "executive", "sales", 1, -1},
    {"Chief Marketing Officer", "executive", "marketing", 1, -1},
    {"CFO", "executive", "finance", 1, -1},
    {"Head of RevOps", "director", "revops", 3, 2},
    {"Director of Demand Generation", "director", "marketing", 3, 0},
    {"Director of Sales Operations", "director", "revops", 2, 5},
    {"Marketing Operations Manager", "manager", "marketing", 5, 6},
    {"Demand Generation Manager", "manager", "marketing", 5, 6},
    {"Sales Manager", "manager", "sales", 3, 1},
    {"Account Executive", "individual_contributor", "sales", 4, 10},
    {"Sales Development Representative", "individual_contributor", "sales", 4, 11},
    {"Content Marketing Specialist", "individual_contributor", "marketing", 4, 9},
    {"Data Analyst", "individual_contributor", "analytics", 3, -1},
    {"Software Engineer", "individual_contributor", "engineering", 5, 18},
    {"IT Manager", "manager", "it", 2, -1},
    {"Product Manager", "manager", "product", 3, -1},
    {"Engineering Manager", "manager", "engineering", 2, 19},
    {"CTO", "executive", "engineering", 1, -1},
    {"Consultant", "individual_contributor", "consulting", 2, -1},
    {"Marketing Intern", "intern", "marketing", 1, 13},
};
#define JOB_TITLE_COUNT (sizeof(job_titles) / sizeof(job_titles[0]))

static const char *const first_names[] = {
    "Ava",    "Ben",    "Chloe", "Daniel", "Elena", "Farid",   "Grace",  "Hiro",
    "Isabel", "Jonas",  "Kavya", "Liam",   "Maya",  "Nikolai", "Olivia", "Priya",
    "Quinn",  "Rafael", "Sofia", "Tomas",  "Uma",   "Victor",  "Wei",    "Ximena",
    "Yusuf",  "Zoe",    "Amara", "Bruno",  "Carla", "Dmitri",  "Emma",   "Felix",
    "Hannah", "Ivan",   "Julia", "Kenji",  "Lucia", "Mateo",   "Nora",   "Omar",
};
#define FIRST_NAME_COUNT (sizeof(first_names) / sizeof(first_names[0]))

static const char *const last_names[] = {
    "Anderson", "Becker", "Chen",     "Dubois",    "Eriksson", "Fischer", "Garcia", "Haddad",
    "Ito",      "Jensen", "Kowalski", "Larsen",    "Martin",   "Nguyen",  "Okafor", "Patel",
    "Quintero", "Rossi",  "Schmidt",  "Tanaka",    "Urban",    "Varga",   "Weber",  "Xu",
    "Yilmaz",   "Zhang",  "Alvarez",  "Brennan",   "Costa",    "Dias",    "Evans",  "Fontaine",
    "Gupta",    "Horvat", "Iqbal",    "Jovanovic", "Kim",      "Lopez",   "Moreau", "Novak",
};
#define LAST_NAME_COUNT (sizeof(last_names) / sizeof(last_names[0]))

static const char *const free_mail_domains[] = {"gmail.com", "outlook.com", "gmail.com",
                                                "yahoo.com"};
#define FREE_MAIL_COUNT (sizeof(free_mail_domains) / sizeof(free_mail_domains[0]))

void gen_person_make_traits(gen_model_t *m, gen_person_t *p)
{
    gen_rng_t *r = &p->rng;
    gen_account_make(m, gen_account_walk_next(m), &p->account);
    const char *first = first_names[gen_rng_below(r, FIRST_NAME_COUNT)];
    const char *last = last_names[gen_rng_below(r, LAST_NAME_COUNT)];
    hf_traits_t *t = &p->traits;
    memset(t, 0, sizeof(*t));
    t->present = true;
    t->full_name = gen_model_printf(m, "%s %s", first, last);
    char local[64] = "";
    gen_model_slug_append(local, sizeof(local), first);
    gen_model_slug_append(local, sizeof(local), ".");
    gen_model_slug_append(local, sizeof(local), last);

    double x = gen_rng_unit(r);
    p->student = x < 0.03;
    p->competitor = !p->student && x < 0.04;
    p->geo = gen_rng_chance(r, 0.8) ? p->account.geo : gen_account_pick_geo(r);
    t->country = p->geo->country;
    t->region = p->geo->region;
    if (p->student) {
        p->title_index = -1;
        t->title = "Student";
        t->seniority = "student";
        t->department = "education";
        t->company_name = "State University";
        t->industry = "Education";
        t->email = gen_model_printf(m, "%s%02u@%s", local, gen_rng_below(r, 100),
                                    free_mail_domains[gen_rng_below(r, FREE_MAIL_COUNT)]);
        return;
    }
    size_t k;
    GEN_PICK_WEIGHTED_FIELD(r, job_titles, JOB_TITLE_COUNT, k);
    p->title_index = (int)k;
    t->title = job_titles[k].title;
    t->seniority = job_titles[k].seniority;
    t->department = job_titles[k].department;
    if (p->competitor) {
        t->company_name = "RivalRevenue";
        t->industry = "Software";
        t->has_employees = true;
        t->employees = 420;
        t->email = gen_model_printf(m, "%s@rival.example", local);
        return;
    }
    t->company_name = gen_model_strdup(m, p->account.name);
    t->industry = p->account.industry;
    t->has_employees = gen_rng_chance(r, 0.7);
    t->employees = t->has_employees ? p->account.employees : 0;
    if (gen_rng_chance(r, 0.18)) {
        /* Free-mail: no account can come from the domain; sometimes the CRM knows it. */
        t->email = gen_model_printf(m, "%s%02u@%s", local, gen_rng_below(r, 100),
                                    free_mail_domains[gen_rng_below(r, FREE_MAIL_COUNT)]);
        if (gen_rng_chance(r, 0.3))
            t->account_id = gen_model_strdup(m, p->account.id);
    } else {
        t->email = gen_model_printf(m, "%s@%s", local, p->account.domain);
        if (gen_rng_chance(r, 0.6))
            t->account_id = gen_model_strdup(m, p->account.id);
    }
}

void gen_person_traits_update(gen_model_t *m, gen_person_t *p)
{
    if (p->title_index >= 0 && job_titles[p->title_index].promoted_to >= 0) {
        const job_title_t *t = &job_titles[job_titles[p->title_index].promoted_to];
        p->traits.title = t->title;
        p->traits.seniority = t->seniority;
        p->traits.department = t->department;
    } else if (p->traits.has_employees) {
        p->traits.employees += p->traits.employees / 10 + 1;
    }
    gen_record_t *r = gen_model_emit(m, p, HF_EV_IDENTITY, "salesforce");
    r->ev.identity_kind = HF_IDENTITY_TRAITS;
    r->ev.contact_id = p->contact_id;
    r->ev.traits = p->traits;
}

void gen_person_duplicate_and_merge(gen_model_t *m, gen_person_t *p)
{
    const char *dup = gen_model_hex_id(m, &p->rng, "c-");
    gen_record_t *r = gen_model_emit(m, p, HF_EV_IDENTITY, "salesforce");
    r->ev.identity_kind = HF_IDENTITY_TRAITS;
    r->ev.contact_id = dup;
    r->ev.traits = p->traits;
    gen_wait_about(p, 2 * DAY_MS, 1 * HOUR_MS);
    const char *email_id = gen_model_hex_id(m, &p->rng, "em-");
    const char *campaign = gen_email_campaign_name(GEN_CAMPAIGN_NEWSLETTER);
    gen_email_event(m, p, dup, email_id, campaign, HF_EMAIL_DELIVERED);
    if (gen_rng_chance(&p->rng, 0.5)) {
        gen_wait_about(p, 6 * HOUR_MS, 5 * MINUTE_MS);
        gen_email_event(m, p, dup, email_id, campaign, HF_EMAIL_OPENED);
    }
    gen_wait_about(p, 4 * DAY_MS, 1 * HOUR_MS);
    r = gen_model_emit(m, p, HF_EV_IDENTITY, "salesforce");
    r->ev.identity_kind = HF_IDENTITY_MERGE;
    r->ev.contact_id = p->contact_id;
    r->ev.merged_contact_id = dup;
    m->stats.merged++;
}
