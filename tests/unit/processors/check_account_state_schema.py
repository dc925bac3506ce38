"""Reads the AccountState encodings of processors/account/account_codec.c with python3-avro (an
independent Avro implementation) against schemas/state/AccountState.avsc: every byte
must be consumed, values must be what the sample put there, and re-encoding the
decoded datum with python3-avro must give the very same bytes.

usage: check_account_state_schema.py DUMP_EXE SCHEMA_DIR
"""
import os
import subprocess
import sys
import tempfile

import avro.schema


sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from check_state_schemas import check, decode, ms  # noqa: E402  (the same checks)
T0 = 1772323200000  # TK_T0, 2026-03-01T00:00:00Z
HOUR = 3600 * 1000
DAY = 24 * HOUR


def main():
    exe, schema_dir = sys.argv[1], sys.argv[2]
    with open(os.path.join(schema_dir, "AccountState.avsc")) as f:
        schema = avro.schema.parse(f.read())
    with tempfile.TemporaryDirectory() as d:
        subprocess.run([exe, d], check=True)

        def read(name):
            with open(os.path.join(d, name), "rb") as f:
                return f.read()

        a = decode(schema, read("account.bin"))
        t = T0 + 2 * DAY
        check(a["schema_version"] == 3, "schema_version")
        check(a["products"] == [], "products %r" % a["products"])
        check(a["dedupe"] == [], "dedupe %r" % a["dedupe"])
        check(a["sla"]["handoff_id"] is not None and a["sla"]["handoff_id"].startswith("ho_")
              and len(a["sla"]["clocks"]) == 3, "sla %r" % a["sla"])
        check(a["account_id"] == "acct-1", "account_id")
        check(a["stage"] == "conversation_ready", "stage %r" % a["stage"])
        check(a["cycle"] == 1 and a["handed_off"] is True, "cycle")
        check(a["updates"] == 5, "updates %r" % a["updates"])
        check(ms(a["known_since"]) == t, "known_since %r" % a["known_since"])
        check([m["contact_id"] for m in a["members"]] == ["c-1", "c-2", "c-3"],
              "members %r" % [m["contact_id"] for m in a["members"]])
        c1, c2, c3 = a["members"]
        check(c1["version"] == 3 and c1["role"] == "decision_maker", "c-1 %r" % c1["role"])
        check(c1["stage"] == "engaged" and c1["fit_grade"] == "B", "c-1 stage, grade")
        check(c1["score"] == 45.5 and ms(c1["score_at"]) == t, "c-1 score")
        check(ms(c1["first_seen"]) == T0 and ms(c1["last_active"]) == t, "c-1 times")
        check(c1["company_name"] == "Acme" and c1["industry"] == "software", "c-1 company")
        check(c1["employees"] == 1200, "c-1 employees")
        check(c1["country"] == "DE" and c1["region"] == "emea", "c-1 country, region")
        check([(i["topic"], i["weight"]) for i in c1["interests"]]
              == [("reduce churn", 2.5), ("soc 2", 1.0)], "c-1 interests %r" % c1["interests"])
        check([(c["rule"], c["points"], c["count"], c["detail"]) for c in c1["contributions"]]
              == [("pricing", 30, 2, "2 matches"), ("webinar", 15, 1, "1 match")],
              "c-1 contributions")
        check([(ms(x["at"]), x["type"], x["detail"]) for x in c1["touches"]]
              == [(t, "download", "ebook"), (t - HOUR, "web_visit", None)], "c-1 touches")
        check([(x["asset_id"], x["type"], ms(x["at"])) for x in c1["downloads"]]
              == [("wp-1", "ebook", t)], "c-1 downloads")
        check([(x["webinar_id"], x["action"], x["minutes"], ms(x["at"])) for x in c1["webinars"]]
              == [("wb-1", "attended", 45, t - DAY)], "c-1 webinars")
        check((c1["sessions"], c1["page_views"], c1["email_opens"], c1["email_clicks"])
              == (3, 7, 2, 1), "c-1 counts")
        check(c2["version"] == 7 and c2["role"] == "champion" and c2["score"] == 60.0, "c-2")
        check(c1["placement"] == 'role rule 1 (decision_maker): title "VP Finance" matched "*vp*"',
              "c-1 placement %r" % c1["placement"])
        check(c2["placement"] is None and c3["placement"] == "default role (user)",
              "c-2, c-3 placement %r %r" % (c2["placement"], c3["placement"]))
        check(c3["country"] == "FR" and c3["employees"] is None and c3["industry"] is None,
              "c-3 traits")
        check(a["departed"] == [{"contact_id": "c-4", "version": 2}],
              "departed %r" % a["departed"])
        check(a["roster_version"] == 2, "roster_version %r" % a["roster_version"])
        check(a["roster"] == [{"contact_id": "c-1", "role": "decision_maker"},
                              {"contact_id": "c-2", "role": "champion"}],
              "roster %r" % a["roster"])

        f = decode(schema, read("account_fresh.bin"))
        check(f["account_id"] == "acct-fresh" and f["stage"] == "known", "fresh account")
        check(f["known_since"] is None and f["members"] == [] and f["departed"] == []
              and f["roster"] == [] and f["roster_version"] == 0 and f["updates"] == 0,
              "fresh account is empty")
        x = decode(schema, read("account_products.bin"))
        check(x["schema_version"] == 3 and x["stage"] == "customer", "products account")
        crm, an = x["products"]
        check((crm["product"], crm["owned"], crm["owned_at"], crm["cycle"], crm["handed_off"],
               crm["stage"], crm["sla"]["handoff_id"]) == ("crm", True, T0, 1, False, "customer", None),
              "crm %r" % crm)
        check((an["product"], an["owned"], an["cycle"], an["handed_off"], an["raised_at"],
               an["recycled"], an["recycled_at"], an["stage"])
              == ("analytics", False, 2, True, T0 + DAY, True, T0 + HOUR, "accepted"),
              "analytics %r" % an)
        check(an["sla"]["handoff_id"] == "ho_00000000000000aa" and an["sla"]["accepted"] is True
              and an["sla"]["team"] == "account-management"
              and an["sla"]["clocks"][0]["deadline"] == T0 + DAY + 2 * HOUR
              and an["sla"]["clocks"][0]["done"] is True, "analytics case %r" % an["sla"])
    print("AccountState: 3 encodings read and re-encoded identically by python3-avro")


if __name__ == "__main__":
    try:
        main()
    except AssertionError as e:
        print("FAIL:", e)
        sys.exit(1)
