/* The companies of the sample market: an account is derived from (seed, index)
 * alone, with its own random stream, so it is the same whichever contact meets it
 * first; known contacts fill the accounts in order, 1-8 each (see internal.h). */
#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

static const char *const industries[] = {
    "Software",
    "Financial Services",
    "Healthcare",
    "Manufacturing",
    "Retail",
    "Logistics",
    "Media",
    "Telecommunications",
    "Insurance",
    "Energy",
    "Professional Services",
    "Education",
};
#define INDUSTRY_COUNT (sizeof(industries) / sizeof(industries[0]))

static const gen_geo_t geos[] = {
    {"US", "NA", 35},  {"CA", "NA", 5},   {"GB", "EMEA", 12}, {"DE", "EMEA", 9},  {"FR", "EMEA", 6},
    {"NL", "EMEA", 4}, {"SE", "EMEA", 2}, {"ES", "EMEA", 3},  {"IN", "APAC", 7},  {"AU", "APAC", 4},
    {"SG", "APAC", 2}, {"JP", "APAC", 3}, {"BR", "LATAM", 4}, {"MX", "LATAM", 2},
};
#define GEO_COUNT (sizeof(geos) / sizeof(geos[0]))

typedef struct employee_band {
    int32_t min, max;
    uint16_t weight;
} employee_band_t;

static const employee_band_t employee_bands[] = {
    {2, 10, 8}, {11, 50, 17}, {51, 200, 25}, {201, 1000, 25}, {1001, 5000, 15}, {5001, 60000, 10},
};
#define BAND_COUNT (sizeof(employee_bands) / sizeof(employee_bands[0]))

/* Company names: "<head> <tail>" with a distinct domain per account index. */
static const char *const name_heads[] = {
    "Acme",    "Northwind", "Globex",     "Initech",  "Umbrella",   "Stark",   "Wayne",
    "Bluefin", "Redwood",   "Silverline", "Ironclad", "Brightpath", "Cobalt",  "Evergreen",
    "Fjord",   "Granite",   "Helix",      "Juniper",  "Keystone",   "Lumen",   "Meridian",
    "Nimbus",  "Orchid",    "Pinnacle",   "Quartz",   "Riverbend",  "Summit",  "Tidewater",
    "Vertex",  "Willow",    "Zephyr",     "Aurora",   "Beacon",     "Cascade", "Driftwood",
    "Ember",   "Falcon",    "Harbor",     "Kestrel",  "Lighthouse",
};
#define NAME_HEAD_COUNT (sizeof(name_heads) / sizeof(name_heads[0]))

static const char *const name_tails[] = {
    "Corp",     "Analytics", "Logistics", "Health",    "Capital",    "Systems",  "Foods",
    "Robotics", "Insurance", "Energy",    "Media",     "Labs",       "Networks", "Retail",
    "Bank",     "Software",  "Telecom",   "Partners",  "Industries", "Cloud",    "Mobility",
    "Pharma",   "Security",  "Learning",  "Travel",    "Payments",   "Biotech",  "Studios",
    "Freight",  "Apparel",   "Insights",  "Dynamics",  "Materials",  "Group",    "Ventures",
    "Holdings", "Markets",   "Works",     "Solutions", "Data",
};
#define NAME_TAIL_COUNT (sizeof(name_tails) / sizeof(name_tails[0]))

const gen_geo_t *gen_account_pick_geo(gen_rng_t *r)
{
    size_t k;
    GEN_PICK_WEIGHTED_FIELD(r, geos, GEO_COUNT, k);
    return &geos[k];
}

void gen_account_make(const gen_model_t *m, uint32_t index, gen_account_t *a)
{
    assert(index < m->opts.accounts);
    gen_rng_t r;
    gen_rng_seed(&r, m->opts.seed, GEN_RNG_ACCOUNT, index);
    a->index = index;
    snprintf(a->id, sizeof(a->id), "acct-%08llx",
             (unsigned long long)(gen_rng_next(&r) & 0xffffffffULL));
    /* A bijection from index to (head, tail) keeps names distinct for the first
     * heads x tails accounts; later ones get a numbered subsidiary. */
    const uint32_t combos = (uint32_t)(NAME_HEAD_COUNT * NAME_TAIL_COUNT);
    uint32_t scrambled = (uint32_t)(((uint64_t)index * 7919u + (m->opts.seed % combos)) % combos);
    const char *head = name_heads[scrambled % NAME_HEAD_COUNT];
    const char *tail = name_tails[scrambled / NAME_HEAD_COUNT];
    uint32_t generation = index / combos;
    a->domain[0] = 0;
    gen_model_slug_append(a->domain, sizeof(a->domain), head);
    gen_model_slug_append(a->domain, sizeof(a->domain), "-");
    gen_model_slug_append(a->domain, sizeof(a->domain), tail);
    if (generation) {
        snprintf(a->name, sizeof(a->name), "%s %s %u", head, tail, generation + 1);
        size_t n = strlen(a->domain);
        snprintf(a->domain + n, sizeof(a->domain) - n, "-%u", generation + 1);
    } else {
        snprintf(a->name, sizeof(a->name), "%s %s", head, tail);
    }
    size_t n = strlen(a->domain);
    snprintf(a->domain + n, sizeof(a->domain) - n, ".example");
    a->industry = industries[gen_rng_below(&r, INDUSTRY_COUNT)];
    size_t band;
    GEN_PICK_WEIGHTED_FIELD(&r, employee_bands, BAND_COUNT, band);
    a->employees = (int32_t)gen_rng_range(&r, employee_bands[band].min, employee_bands[band].max);
    a->geo = gen_account_pick_geo(&r);
}

uint32_t gen_account_walk_next(gen_model_t *m)
{
    if (m->walk_left == 0) {
        m->walk_account = (m->walk_account + 1) % m->opts.accounts;
        m->walk_left = 1 + gen_rng_below(&m->walk_rng, 8);
    }
    m->walk_left--;
    return m->walk_account;
}
