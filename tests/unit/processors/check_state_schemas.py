"""Reads the state encodings of processors/ with python3-avro (an independent Avro
implementation) against schemas/state/*.avsc: every byte must be consumed, values
must be what the samples put there, and re-encoding the decoded datum with
python3-avro must give the very same bytes.

usage: check_state_schemas.py DUMP_STATES_EXE SCHEMA_DIR
"""
import datetime
import io
import os
import subprocess
import sys
import tempfile

import avro.io
import avro.schema


EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)


def load(schema_dir, name):
    with open(os.path.join(schema_dir, name + ".avsc")) as f:
        return avro.schema.parse(f.read())


def decode(schema, data):
    buf = io.BytesIO(data)
    datum = avro.io.DatumReader(schema).read(avro.io.BinaryDecoder(buf))
    if buf.tell() != len(data):
        raise AssertionError("%d of %d bytes consumed" % (buf.tell(), len(data)))
    out = io.BytesIO()
    avro.io.DatumWriter(schema).write(datum, avro.io.BinaryEncoder(out))
    if out.getvalue() != data:
        raise AssertionError("python3-avro re-encodes differently:\n%s\n%s"
                             % (data.hex(), out.getvalue().hex()))
    return datum


def ms(value):
    """A timestamp-millis value as python3-avro returns it (datetime) in ms."""
    if isinstance(value, datetime.datetime):
        return (value - EPOCH) // datetime.timedelta(milliseconds=1)
    return value


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def main():
    exe, schema_dir = sys.argv[1], sys.argv[2]
    contact_schema = load(schema_dir, "ContactState")
    anon_schema = load(schema_dir, "AnonState")
    with tempfile.TemporaryDirectory() as d:
        subprocess.run([exe, d], check=True)

        def read(name):
            with open(os.path.join(d, name), "rb") as f:
                return f.read()

        c = decode(contact_schema, read("contact.bin"))
        check(c["schema_version"] == 5, "schema_version")
        check(c["contact_id"] == "c-1", "contact_id")
        check(c["stage"] == "conversation_ready", "stage %r" % c["stage"])
        check(c["handed_off"] is True and c["cycle"] == 1, "cycle")
        t0 = 1772323200000  # TK_T0, 2026-03-01T00:00:00Z
        hour = 3600 * 1000
        check(ms(c["first_seen"]) == t0, "first_seen %r" % c["first_seen"])
        check(ms(c["last_event"]) == t0 + 48 * hour, "last_event %r" % c["last_event"])
        check(ms(c["known_since"]) == t0 + 2 * hour, "known_since %r" % c["known_since"])
        check(ms(c["score_at"]) == t0 + 48 * hour, "score_at %r" % c["score_at"])
        check(c["events"] == 11, "events %r" % c["events"])
        check({s["rule"] for s in c["rule_stats"]} == {"pricing", "any"}, "rule_stats")
        pricing = [s for s in c["rule_stats"] if s["rule"] == "pricing"][0]
        check(pricing["capped"] >= 1 and len(pricing["award_times"]) <= 2, "caps")
        t = c["traits"]
        check(t["title"]["value"] == "VP Finance", "title")
        check(t["employees"]["value"] == 1200, "employees")
        check(t["region"]["value"] == "emea" and t["country"]["value"] == "DE", "order")
        check(len(c["dedupe"]) == c["events"], "dedupe")
        check(c["sessions"] == 5 and len(c["session_hashes"]) == 3, "sessions")
        check(len(c["pages"]) == 3 and c["page_views"] == 7, "pages")
        check(c["downloads"][0]["asset_id"] == "wp-1", "downloads")
        check(c["webinars"][0]["action"] == "registered", "webinars")
        check(c["email_clicks"] == 1 and c["email_last_campaign"] == "spring", "email")
        check(len(c["recent"]) == 8, "recent")
        # schema_version 2
        check({i["topic"] for i in c["interests"]} == {"pricing", "reduce churn"},
              "interests %r" % c["interests"])
        pr = [i for i in c["interests"] if i["topic"] == "pricing"][0]
        check(ms(pr["at"]) == t0 + 48 * hour and pr["weight"] > 2.0, "pricing interest %r" % pr)
        check(c["account_id"] == "acct-1", "account_id %r" % c["account_id"])
        check(c["member_version"] >= 1, "member_version %r" % c["member_version"])
        ro = c["roster"]
        check(ro["account_id"] == "acct-1" and ro["version"] == 7, "roster %r" % ro)
        check([m["contact_id"] for m in ro["members"]] == ["c-2", "c-3"], "roster members")
        check(ro["members"][0]["role"] == "champion" and ro["members"][0]["score"] == 55,
              "roster member")
        check(ms(ro["members"][1]["last_active"]) == t0 + 2 * hour, "roster last_active")
        check(ro["roles_covered"] == ["decision_maker", "champion", "user"], "roles_covered")
        check(c["redirect_to"] is None, "redirect_to")
        # schema_version 3: attribution and the case the handoff opened
        check(ms(c["source_at"]) == t0 or c["source"] is None, "source %r" % c["source"])
        sla = c["sla"]
        check(sla["handoff_id"] is not None and sla["handoff_id"].startswith("ho_"),
              "sla handoff_id %r" % sla["handoff_id"])
        check(len(sla["clocks"]) == 3, "sla clocks %r" % sla["clocks"])
        accept = sla["clocks"][0]
        check(accept["deadline"] == ms(sla["handoff_at"]) + 4 * hour and accept["level"] == 0
              and accept["done"] is False, "accept clock %r" % accept)
        check(sla["recycled"] is False and sla["parked"] == [], "sla gate %r" % sla)
        # schema_version 4: the history of the cycle's stages
        check(c["stage_history_complete"] is True and c["stage_history_since"] is None,
              "stage history %r %r" % (c["stage_history_complete"], c["stage_history_since"]))
        stages = [(e["stage"], e["action"]) for e in c["stage_history"]]
        check(stages and stages[0] == ("known", None)
              and stages[-1] == ("conversation_ready", None), "stage_history %r" % stages)
        check(all(e["ignored"] is False and e["owner_id"] is None for e in c["stage_history"]),
              "stage_history entries %r" % c["stage_history"])
        # schema_version 5: the summary owed to the account (the samples send every
        # event's summary at once: nothing owed)
        check(c["summary_pending"] is False and ms(c["summary_at"]) == 0,
              "summary owed %r %r" % (c["summary_pending"], c["summary_at"]))

        r = decode(contact_schema, read("contact_redirect.bin"))
        check(r["contact_id"] == "c-1" and r["redirect_to"] == "c-9", "redirect")
        check(len(r["dedupe"]) == c["events"] and r["events"] == 0, "redirect dedupe")
        check(r["member_version"] == c["member_version"] + 1, "redirect member_version")
        check(r["roster"] is None and r["account_id"] is None and r["interests"] == [],
              "redirect keeps nothing else")
        check(r["sla"]["handoff_id"] is None, "redirect has no case")
        check(r["stage_history"] == [] and r["stage_history_complete"] is False,
              "redirect has no history")
        check(r["summary_pending"] is False, "a redirect owes nothing")

        f = decode(contact_schema, read("contact_fresh.bin"))
        check(f["contact_id"] == "c-fresh" and f["stage"] == "known", "fresh contact")
        check(f["score_at"] is None and f["rule_stats"] == [], "fresh score")
        check(f["interests"] == [] and f["roster"] is None and f["member_version"] == 0,
              "fresh version-2 fields")
        check(f["stage_history"] == [] and f["stage_history_complete"] is True
              and f["stage_history_since"] is None, "fresh history")
        check(f["summary_pending"] is False and ms(f["summary_at"]) == 0, "fresh owes nothing")

        a = decode(anon_schema, read("anon_buffered.bin"))
        check(a["contact_id"] is None, "anon contact")
        check([r["raw"] for r in a["buffered"]] == [b"r0", b"r1", b"r2", b"r3", b"r4", b""],
              "anon buffer %r" % a["buffered"])
        check(ms(a["first_seen"]) == 1772323200000 and ms(a["last_seen"]) == 1772323500000,
              "anon seen %r %r" % (a["first_seen"], a["last_seen"]))

        i = decode(anon_schema, read("anon_identified.bin"))
        check(i["contact_id"] == "c-1" and i["buffered"] == [], "identified")

        e = decode(anon_schema, read("anon_fresh.bin"))
        check(e["first_seen"] is None and e["buffered"] == [], "fresh anon")
    print("state schemas: 6 encodings read and re-encoded identically by python3-avro")


if __name__ == "__main__":
    try:
        main()
    except AssertionError as e:
        print("FAIL:", e)
        sys.exit(1)
