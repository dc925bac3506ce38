/* Writes sample TeamState encodings (processors/digest/) into the directory argv[1]
 * for check_team_state_schema.py to read with python3-avro: team.bin (cases open,
 * won and breached, marks, owners with samples, a digest made) and team_fresh.bin. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "processors/digest/digest.h"
#include "util/buf.h"

#define T0 1796391000000LL /* Friday 2026-12-04 13:30 UTC */
#define MIN_MS 60000LL

static int write_team(const char *dir, const char *name, const digest_team_t *t)
{
    hf_buf_t b = HF_BUF_INIT;
    binenc_writer_t w = BINENC_WRITER(&b);
    int r = digest_team_encode(t, &w);
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = r == 0 ? fopen(path, "wb") : NULL;
    if (!f || fwrite(b.data, 1, b.len, f) != b.len || fclose(f) != 0) {
        fprintf(stderr, "%s: not written\n", path);
        hf_buf_free(&b);
        return -1;
    }
    hf_buf_free(&b);
    return 0;
}

static int ignore(void *opaque, const digest_t *d)
{
    (void)opaque;
    (void)d;
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s OUTDIR\n", argv[0]);
        return 2;
    }
    digest_schedule_t s = {.cal = NULL, .at_s = 8 * 3600 + 1800};
    static const char *const interests[] = {"pricing", "security"};
    digest_team_t *t = digest_team_new("emea");
    digest_update_t u = {.team = "emea",
                         .handoff_id = "ho_a",
                         .entity_type = HF_ENTITY_CONTACT,
                         .entity_id = "c-1",
                         .owner_id = "rep-1",
                         .at_ms = T0,
                         .handed_off_at_ms = T0,
                         .reason = "hand_raiser (web)",
                         .interests = interests,
                         .interest_count = 2,
                         .next_deadline_ms = T0 + 30 * MIN_MS,
                         .accepted_at_ms = T0 + 10 * MIN_MS,
                         .touched_at_ms = T0 + 20 * MIN_MS,
                         .sla_done = true};
    int rc = digest_fold(t, &u, &s, T0) != 0;
    /* a second digest day: the first digest made, then news */
    rc |= digest_fire(t, &s, T0 + 24 * 3600 * 1000LL, ignore, NULL) < 0;
    u = (digest_update_t){.team = "emea",
                          .handoff_id = "ho_b",
                          .entity_type = HF_ENTITY_ACCOUNT,
                          .entity_id = "acct-2",
                          .status = DIGEST_WON,
                          .at_ms = T0 + 25 * 3600 * 1000LL,
                          .handed_off_at_ms = T0 + 24 * 3600 * 1000LL,
                          .breach_level = {1, 0, 0},
                          .breach_at_ms = {T0 + 25 * 3600 * 1000LL, 0, 0}};
    rc |= digest_fold(t, &u, &s, u.at_ms) != 0;
    rc |= write_team(argv[1], "team.bin", t);
    digest_team_free(t);
    t = digest_team_new("fresh");
    rc |= write_team(argv[1], "team_fresh.bin", t);
    digest_team_free(t);
    return rc ? 1 : 0;
}
