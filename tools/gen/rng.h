/* A small deterministic PRNG for hf-gen: xoshiro256** seeded through splitmix64.
 *
 * Every person and every account of the sample traffic gets its own stream,
 * derived from (seed, stream id), so what one person does never depends on how
 * many random numbers another one drew: each journey of a seed is the same
 * whatever the batch size.  How journeys interleave does depend on it, and so
 * does the delivery stream, which draws record after record in sending order. */
#pragma once

#include <math.h>
#include <stdbool.h>
#include <stdint.h>

/* Random-stream domains: no two kinds of stream share one. */
enum {
    GEN_RNG_PERSON = 1,    /* a person's journey; stream: the person's index */
    GEN_RNG_ACCOUNT = 2,   /* an account's name, size and place; stream: its index */
    GEN_RNG_WALK = 3,      /* which account each known contact joins */
    GEN_RNG_PLACE = 4,     /* where a journey starts in time; stream: the person's index */
    GEN_RNG_DELIVERY = 10, /* duplicates and bad records (tools/gen/deliver.c) */
};

typedef struct gen_rng {
    uint64_t s[4];
} gen_rng_t;

static inline uint64_t gen_rng_splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Streams are separated by mixing @stream into the seed; @domain keeps the
 * person streams apart from the account streams. */
static inline void gen_rng_seed(gen_rng_t *r, uint64_t seed, uint64_t domain, uint64_t stream)
{
    uint64_t x = seed ^ (domain * 0xd1b54a32d192ed03ULL) ^ (stream * 0x9e3779b97f4a7c15ULL);
    for (int i = 0; i < 4; i++)
        r->s[i] = gen_rng_splitmix64(&x);
}

static inline uint64_t gen_rng_rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static inline uint64_t gen_rng_next(gen_rng_t *r)
{
    uint64_t *s = r->s;
    uint64_t result = gen_rng_rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = gen_rng_rotl(s[3], 45);
    return result;
}

/* Uniform in [0, 1). */
static inline double gen_rng_unit(gen_rng_t *r)
{
    return (double)(gen_rng_next(r) >> 11) * 0x1.0p-53;
}

/* Uniform in [0, n); n > 0.  The modulo bias is below 2^-32 for the small n used. */
static inline uint32_t gen_rng_below(gen_rng_t *r, uint32_t n)
{
    return (uint32_t)(gen_rng_next(r) % n);
}

/* Uniform in [lo, hi]. */
static inline int64_t gen_rng_range(gen_rng_t *r, int64_t lo, int64_t hi)
{
    return lo + (int64_t)(gen_rng_next(r) % (uint64_t)(hi - lo + 1));
}

static inline bool gen_rng_chance(gen_rng_t *r, double p)
{
    return gen_rng_unit(r) < p;
}

/* Exponentially distributed with mean @mean (waiting times between visits). */
static inline double gen_rng_exp(gen_rng_t *r, double mean)
{
    return -log(1.0 - gen_rng_unit(r)) * mean;
}
