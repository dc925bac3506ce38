"""The daily digest through the real handoffd (docs/ARCHITECTURE.md "Daily digests";
processors/digest/digest.h), on a simulated wall clock (HANDOFF_CLOCK) at 3600x: one
real second is one hour in New York, so a Sunday afternoon's handoffs meet Monday's
08:30 digest some twenty seconds later and Tuesday's a day after.

Four hand-raisers in the US go to team na-commercial (calendar ny, Monday to Friday
09:00-17:00): rep-1 accepts and calls c-1, rep-2 wins c-2, rep-1 accepts and loses
c-3, nobody answers c-4 (its accept clock breaches Monday 09:30, its first touch
Monday 17:00).  Monday's digests (rep-1, rep-2, the team) say what waits, what was
won and lost; the daemon is SIGKILLed after them and restarted: none of Monday's
comes again, and Tuesday's tell c-4's breaches."""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))

import hftest as h  # noqa: E402

NY = "America/New_York"
TEAM = "na-commercial"
CALENDARS = ("calendars:\n"
             "  ny:\n"
             "    timezone: America/New_York\n"
             "    hours:\n"
             "      mon-fri: \"09:00-17:00\"\n"
             "    teams: [na-commercial, na-enterprise]\n")


def edit(text):
    text = h.yaml_set_block(text, "calendars", CALENDARS)
    text = h.with_sla(text, accept="30m", first_touch="8h", calendar="ny")
    return h.yaml_set_block(text, "digest", "digest:\n  enabled: true\n  at: 8h30m\n")


def hand_raise(cid, eid):
    return h.form(eid, h.T0, "a-" + cid, cid, form_type="demo_request", form_id="demo", country="US",
                  title="Director of IT")


def digest_id(team, owner, date):
    data = b"%s\x1f%s\x1f%s" % (team.encode(), (owner or "").encode(), date.encode())
    return "dg_%016x" % h.fnv1a64(data)


class Digest(h.ClusterTestCase):
    def test_daily_digest_once_per_owner_and_day(self):
        env = self.env(config_edit=edit)
        ready, digests = self.tails(env, "conversation_ready", "digest")
        sun = h.local_ms(NY, 2026, 12, 6, 12, 0, 0)  # Sunday 12:00 EST
        start_real = h.now_ms() + 2000
        clock = {"HANDOFF_CLOCK": "%d@%dx3600" % (sun, start_real)}

        def sim_at(real_ms):
            return sun + (real_ms - start_real) * 3600

        d = env.daemon(environ=clock).start()
        d.proc.wait_for(r"wall clock is simulated", timeout=5)
        cids = ["c-1", "c-2", "c-3", "c-4"]
        env.send_all([hand_raise(c, "d-f%d" % i) for i, c in enumerate(cids)])
        got = {x["entity_id"]: x for x in ready.wait(count=4, timeout=30, what="four handoffs")}
        for c in cids:
            self.assertEqual(got[c]["routing"]["team"], TEAM, got[c])
        mon_0830 = h.local_ms(NY, 2026, 12, 7, 8, 30, 0)
        self.assertLess(sim_at(h.now_ms()), mon_0830 - 3 * h.HOUR, "test design: answers before Monday")
        ho = {c: got[c]["handoff_id"] for c in cids}
        env.send_all([
            h.sales("d-s1", h.T0, "c-1", action="accepted", handoff=ho["c-1"], owner="rep-1"),
            h.sales("d-s2", h.T0, "c-1", action="contacted", handoff=ho["c-1"], owner="rep-1",
                    channel="call"),
            h.sales("d-s3", h.T0, "c-2", action="accepted", handoff=ho["c-2"], owner="rep-2"),
            h.sales("d-s4", h.T0, "c-2", action="won", handoff=ho["c-2"], owner="rep-2"),
            h.sales("d-s5", h.T0, "c-3", action="accepted", handoff=ho["c-3"], owner="rep-1"),
            h.sales("d-s6", h.T0, "c-3", action="lost", handoff=ho["c-3"], owner="rep-1",
                    reason="budget"),
        ])

        # Monday 08:30: rep-1, rep-2 and the team, once each
        monday = digests.wait(count=3, timeout=40, what="Monday's three digests")
        self.assertLess(sim_at(h.now_ms()), mon_0830 + 20 * h.HOUR, "test design: still Monday")
        by_owner = {x["owner_id"]: x for x in monday}
        self.assertEqual(set(by_owner), {"rep-1", "rep-2", None}, monday)
        for owner, x in by_owner.items():
            self.assertEqual(x["digest_id"], digest_id(TEAM, owner, "2026-12-07"))
            self.assertEqual((x["team"], x["date"]), (TEAM, "2026-12-07"))
            self.assertEqual(x["window_end"], mon_0830)
            # "yesterday" of a first digest on a Monday: since Friday's digest time
            self.assertEqual(x["window_start"], h.local_ms(NY, 2026, 12, 4, 8, 30, 0))
            self.assertGreaterEqual(x["emitted_at"], mon_0830)
            self.assertEqual(x["breaches"], [])
            self.assertEqual(x["team_standing"]["open"], 2)
        r1, r2, team = by_owner["rep-1"], by_owner["rep-2"], by_owner[None]
        self.assertEqual([w["handoff_id"] for w in r1["waiting"]], [ho["c-1"]])
        w = r1["waiting"][0]
        self.assertEqual((w["entity_type"], w["entity_id"], w["owner_id"]), ("contact", "c-1", "rep-1"))
        self.assertTrue(w["reason"].startswith("hand_raiser"), w)
        self.assertEqual([x["entity_id"] for x in r1["lost"]], ["c-3"])
        self.assertEqual(r1["won"], [])
        self.assertEqual([x["entity_id"] for x in r2["won"]], ["c-2"])
        self.assertEqual(r2["waiting"], [])
        # c-1 accepted and called without a breach: met
        self.assertEqual((r1["standing"]["met"], r1["standing"]["breached"]), (1, 0))
        self.assertIsNotNone(r1["standing"]["median_accept_ms"])
        self.assertEqual(r1["standing"]["open"], 1)
        # the team: everything waiting, the unassigned c-4 too, by next deadline
        self.assertEqual(sorted(x["entity_id"] for x in team["waiting"]), ["c-1", "c-4"])
        c4 = [x for x in team["waiting"] if x["entity_id"] == "c-4"][0]
        self.assertIsNone(c4["owner_id"])
        self.assertEqual(c4["next_deadline"], got["c-4"]["sla"]["accept_by"])
        self.assertEqual(([x["entity_id"] for x in team["won"]], [x["entity_id"] for x in team["lost"]]),
                         (["c-2"], ["c-3"]))
        self.assertIsNone(team["rank"])

        # SIGKILL once Monday's digests are committed (commits every 200 ms), restart
        digests.settle(h.now_ms() + 1500)
        d.kill9()
        d2 = env.daemon(environ=clock).start()
        # Tuesday 08:30: three more, none of Monday's again
        tue_0830 = h.local_ms(NY, 2026, 12, 8, 8, 30, 0)
        all_ = digests.wait(count=6, timeout=90, what="Tuesday's digests")
        digests.settle(h.now_ms() + 1500)
        all_ = digests.data()
        dates = sorted((x["date"], x["owner_id"] or "") for x in all_)
        self.assertEqual(dates, [("2026-12-07", ""), ("2026-12-07", "rep-1"), ("2026-12-07", "rep-2"),
                                 ("2026-12-08", ""), ("2026-12-08", "rep-1"), ("2026-12-08", "rep-2")], all_)
        tue = {x["owner_id"]: x for x in all_ if x["date"] == "2026-12-08"}
        t = tue[None]
        self.assertEqual((t["window_start"], t["window_end"]), (mon_0830, tue_0830))
        self.assertEqual(sorted((b["entity_id"], b["sla"], b["level"]) for b in t["breaches"]),
                         [("c-4", "accept", 1), ("c-4", "first_touch", 1)])
        self.assertEqual((t["won"], t["lost"]), ([], []))
        self.assertEqual(t["team_standing"]["breached"], 1)
        self.assertEqual(tue["rep-1"]["breaches"], [])  # c-4 is nobody's
        self.assertEqual(tue["rep-1"]["rank"], 1)
        d2.stop()

        # handoffctl digest: the same content as text, from the store
        now = str(tue_0830 + h.HOUR)
        r = env.ctl("digest", "--state", env.state_dir, "-c", env.config_path, "--team", TEAM, "--now", now)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("team %s  (the team's)  date 2026-12-08" % TEAM, r.stdout)
        for c in ("c-1", "c-4"):
            self.assertIn("%s contact %s" % (ho[c], c), r.stdout)
        self.assertIn("waiting (2 listed of 2)", r.stdout)
        r = env.ctl("digest", "--state", env.state_dir, "-c", env.config_path, "--owner", "rep-1", "--now", now)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(digest_id(TEAM, "rep-1", "2026-12-08"), r.stdout)
        self.assertIn("%s contact c-1  owner rep-1  hand_raiser" % ho["c-1"], r.stdout)
        self.assertNotIn("c-4", r.stdout)
        self.assertIn("rank:     1 of 2", r.stdout)
        r = env.ctl("digest", "--state", env.state_dir, "-c", env.config_path, "--owner", "rep-9")
        self.assertEqual(r.returncode, 1, r.stdout)
        # the team's state as JSON: Tuesday's digest recorded, c-4's breaches told
        rows = env.dump("teams")
        self.assertEqual([x["team"] for x in rows], [TEAM])
        st = rows[0]["state"]
        self.assertEqual(st["last_at"], tue_0830)
        self.assertEqual(st["marks"], [])
        self.assertEqual(sorted(c["handoff_id"] for c in st["cases"]), sorted(ho.values()))

    def test_reload_moves_the_digest_time(self):
        """SIGHUP with digest.at 11h before Monday's 08:30: the team's digest goes out
        at 11:00 instead, once."""
        env = self.env(config_edit=edit)
        ready, digests = self.tails(env, "conversation_ready", "digest")
        sun = h.local_ms(NY, 2026, 12, 6, 12, 0, 0)
        start_real = h.now_ms() + 2000
        d = env.daemon(environ={"HANDOFF_CLOCK": "%d@%dx3600" % (sun, start_real)}).start()
        d.proc.wait_for(r"wall clock is simulated", timeout=5)
        env.send(hand_raise("c-9", "r-f1"))
        ready.wait(timeout=30, what="the handoff")
        with open(env.config_path, encoding="utf-8") as f:
            text = f.read()
        later = h.yaml_set_block(text, "digest", "digest:\n  enabled: true\n  at: 11h\n")
        self.assertNotEqual(later, text)
        with open(env.config_path, "w", encoding="utf-8") as f:
            f.write(later)
        mark = d.sighup()
        d.proc.wait_for(r"reloaded ", timeout=20, start=mark)
        mon_0830 = h.local_ms(NY, 2026, 12, 7, 8, 30, 0)
        self.assertLess(sun + (h.now_ms() - start_real) * 3600, mon_0830, "test design: reload before 08:30")
        got = digests.wait(timeout=40, what="Monday's team digest")
        digests.settle(h.now_ms() + 1500)
        got = digests.data()
        self.assertEqual([(x["date"], x["owner_id"]) for x in got], [("2026-12-07", None)], got)
        self.assertEqual(got[0]["window_end"], h.local_ms(NY, 2026, 12, 7, 11, 0, 0))
        self.assertEqual([x["entity_id"] for x in got[0]["waiting"]], ["c-9"])
        d.stop()

    def test_reload_does_not_turn_digests_on(self):
        """A daemon started without digests keeps them off across a SIGHUP that turns
        them on (the topic is checked at start-up only), and says so."""
        env = self.env(config_edit=lambda t: h.yaml_set_block(edit(t), "digest", "digest:\n  enabled: false\n"))
        ready, digests = self.tails(env, "conversation_ready", "digest")
        sun = h.local_ms(NY, 2026, 12, 6, 12, 0, 0)
        start_real = h.now_ms() + 2000
        d = env.daemon(environ={"HANDOFF_CLOCK": "%d@%dx3600" % (sun, start_real)}).start()
        env.send(hand_raise("c-8", "o-f1"))
        ready.wait(timeout=30, what="the handoff")
        with open(env.config_path, "w", encoding="utf-8") as f:
            f.write(edit(env.localize(h.read_fixture("handoff-test.yaml"))))
        mark = d.sighup()
        d.proc.wait_for(r"turns digest.enabled on: that takes a restart", timeout=20, start=mark)
        d.proc.wait_for(r"reloaded ", timeout=20, start=mark)
        # past Monday 08:30: nothing
        digests.settle(start_real + (h.local_ms(NY, 2026, 12, 7, 10, 0, 0) - sun) // 3600)
        self.assertEqual(digests.data(), [])
        d.stop()


if __name__ == "__main__":
    h.main()
