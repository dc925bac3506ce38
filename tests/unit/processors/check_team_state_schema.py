"""Reads the TeamState encodings of processors/digest/ with python3-avro (an
independent Avro implementation) against schemas/state/TeamState.avsc: every byte
consumed, the values the sample put there, and python3-avro re-encoding the datum
to the very same bytes.

usage: check_team_state_schema.py DUMP_TEAM_STATE_EXE SCHEMA_DIR
"""
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from check_state_schemas import check, decode, load  # noqa: E402  (the same checks)

T0 = 1796391000000
DAY = 24 * 3600 * 1000


def main():
    exe, schema_dir = sys.argv[1], sys.argv[2]
    schema = load(schema_dir, "TeamState")
    with tempfile.TemporaryDirectory() as d:
        subprocess.run([exe, d], check=True, timeout=30)
        with open(os.path.join(d, "team.bin"), "rb") as f:
            team = decode(schema, f.read())
        with open(os.path.join(d, "team_fresh.bin"), "rb") as f:
            fresh = decode(schema, f.read())
    check(team["schema_version"] == 1, team)
    check(team["team"] == "emea", team)
    cases = {c["handoff_id"]: c for c in team["cases"]}
    check(set(cases) == {"ho_a", "ho_b"}, cases)
    a, b = cases["ho_a"], cases["ho_b"]
    check((a["entity_type"], a["entity_id"], a["owner_id"], a["status"]) == ("contact", "c-1", "rep-1", 0), a)
    check(a["interests"] == ["pricing", "security"] and a["reason"] == "hand_raiser (web)", a)
    check((a["accepted_at"], a["touched_at"], a["counted_sla"]) == (T0 + 600000, T0 + 1200000, True), a)
    check((b["entity_type"], b["status"], b["owner_id"], b["breach_levels"]) == ("account", 1, None, [1, 0, 0]), b)
    marks = sorted((m["kind"], m["handoff_id"], m["sla"], m["level"]) for m in team["marks"])
    check(marks == [(0, "ho_b", 0, 1), (1, "ho_b", -1, 0)], marks)
    owners = {o["owner_id"]: o for o in team["owners"]}
    check(owners["rep-1"]["met"] == 1 and owners["rep-1"]["accept_ms"] == [600000], owners)
    check(owners[""]["breached"] == 1, owners)
    check(team["last_day"] == (T0 + DAY) // DAY and team["next_at"] > team["last_at"] > 0, team)
    check(fresh["cases"] == [] and fresh["last_day"] == -1 and fresh["next_at"] == 0, fresh)
    print("TeamState: 2 encodings read by python3-avro and re-encoded byte for byte")


if __name__ == "__main__":
    main()
