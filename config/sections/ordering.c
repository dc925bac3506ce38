/* ordering: how records of different partitions are merged into event-time order
 * (daemon/pgroup.h): how far behind the wall clock a quiet partition's next record
 * is still waited for, and how long a caught-up partition may hold the others back
 * before it counts as idle. */
#include "section.h"

#define CFG(field) offsetof(hf_config_t, field)

static const cfgmap_entry_t ordering_entries[] = {
    {.key = "allowed_lateness",
     .type = CFGMAP_DURATION,
     .def = "5s",
     .min = 0,
     .max = 366LL * 24 * 3600 * 1000,
     .offset = CFG(ordering.allowed_lateness_ms),
     .help = "How far behind the wall clock a live record may arrive and still be folded "
             "in event-time order: a partition that is caught up holds back the records "
             "of the last `allowed_lateness` until it has a newer record or is idle "
             "(older records, a backlog, never wait). A record folded after a newer one of "
             "another partition, or more than this behind its own partition, is late: it "
             "is applied when it arrives and counted per topic "
             "(`handoff_late_events_total`). A partition with records "
             "on the broker is always waited for, whatever this says, so a replay is "
             "exact."},
    {.key = "idle_timeout",
     .type = CFGMAP_DURATION,
     .def = "20ms",
     .min = 0,
     .max = 10 * 60 * 1000,
     .offset = CFG(ordering.idle_timeout_ms),
     .help = "Processing time after which a caught-up partition that received nothing "
             "stops holding the others back, until its next record (a topic that goes "
             "quiet, such as a daily import); also the longest a live record waits for "
             "caught-up partitions after it was fetched: the latency the ordering adds is "
             "at most this."},
};

static const cfgmap_table_t ordering_table = CFGMAP_TABLE(ordering_entries, NULL, NULL);

const cfgmap_entry_t config_ordering_section = {
    .key = "ordering",
    .type = CFGMAP_MAP,
    .table = &ordering_table,
    .help = "Event-time order across partitions and topics."};
