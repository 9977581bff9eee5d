#!/usr/bin/env python3
"""Checks the OpenFisca encoding against the engine's semantics. Prints 'N passed, N failed'.

1. reference.py (a port of the Swift engine that interprets the catalog JSON) against every case of
   Tests/EligibilityTests/Cases/*.yaml: eligible amounts, superseded, total, needs_application,
   manual_assessment, near_miss, not_offered clauses and amounts (per-item decisions as `clause@item`;
   reasons and near-miss wording are not compared); for the refusals, reference.validate names the field the engine names.
2. The OpenFisca encoding against the same cases, for the clauses of clauses.txt.
3. Generated profiles are valid for the engine (reference.validate, after EnterpriseProfile.swift), with
   unique credit codes; and the OpenFisca encoding agrees with reference.py enterprise by enterprise and
   clause by clause, for several seeds and several as-of days around the documents' edges.

    python check.py [--count 20000] [--seeds 1,2,3]
"""

import argparse
import glob
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import numpy  # noqa: E402
import yaml  # noqa: E402

import reference  # noqa: E402
from generate import Generator, is_valid_credit_code  # noqa: E402
from jiaxing_openfisca import CountryTaxBenefitSystem, profiles  # noqa: E402
from jiaxing_openfisca.variables.stacking import CLAUSES, proposed_variable  # noqa: E402
from run import read_clauses  # noqa: E402

CASES = os.path.normpath(os.path.join(HERE, "..", "..", "Tests", "EligibilityTests", "Cases"))
COUNTY = {"nanhu": "NANHU", "xiuzhou": "XIUZHOU", "jiashan": "JIASHAN", "pinghu": "PINGHU", "haiyan": "HAIYAN",
          "haining": "HAINING", "tongxiang": "TONGXIANG", "economicDevelopmentZone": "ECONOMIC_DEVELOPMENT_ZONE",
          "portDistrict": "PORT_DISTRICT"}


def day(text):
    y, m, d = (int(x) for x in str(text).split("-"))
    return {"year": y, "month": m, "day": d}


def case_message(profile):
    """A YAML case profile (snake_case, as EligibilityCaseTests reads it) -> protobuf JSON mapping."""
    message = {"creditCode": profile.get("credit_code", "91330402MA28A1B2C4"), "name": "case",
               "county": COUNTY.get(profile.get("county"), "COUNTY_UNSPECIFIED")}
    if profile.get("industry"):
        message["industry"] = profile["industry"]
    message["recognitions"] = [
        {"recognition": r["recognition"], **({"level": r["level"]} if r.get("level") else {}), "recognizedOn": day(r["recognized_on"])}
        for r in profile.get("recognitions", [])]
    message["projects"] = [
        {"kind": p["kind"], "name": p.get("name", ""), "investmentFen": str(p.get("investment_fen", 0)),
         **({"completedOn": day(p["completed_on"])} if p.get("completed_on") else {}),
         **({"id": p["id"]} if p.get("id") else {}),
         **({"figures": {k: str(v) for k, v in p["figures"].items()}} if p.get("figures") else {})}
        for p in profile.get("projects", [])]
    message["facts"] = [
        {"fact": f["fact"], **({"year": f["year"]} if f.get("year") else {}),
         **({"flag": f["flag"]} if "flag" in f else {"amount": str(f["amount"])})}
        for f in profile.get("facts", [])]
    return message


class Tally:
    def __init__(self):
        self.passed = self.failed = 0

    def check(self, ok, what):
        if ok:
            self.passed += 1
        else:
            self.failed += 1
            print("FAIL", what)


def openfisca_amounts(system, messages, as_of):
    """clause id -> per-enterprise proposed fen (numpy), and the total."""
    simulation = profiles.simulation(system, profiles.columns(messages))
    amounts = {c: simulation.calculate(proposed_variable(c), as_of) for c in CLAUSES}
    return amounts, simulation.calculate("total_proposed", as_of)


def check_cases(tally, catalog, system, encoded):
    for path in sorted(glob.glob(os.path.join(CASES, "*.yaml"))):
        with open(path, encoding="utf-8") as file:
            cases = yaml.safe_load(file)["cases"]
        for case in cases:
            expect = case["expect"]
            name = f"{os.path.basename(path)}: {case['name']}"
            message = case_message(case["profile"])
            problem = reference.validate(message, catalog.vocabulary)
            if "error" in expect:
                if expect["error"] != "as_of":  # a day that does not exist: nothing to screen
                    tally.check(problem == expect["error"], f"refusal {name}: validate says {problem}")
                continue
            tally.check(problem is None, f"case {name} refused: {problem}")
            as_of = str(case["as_of"])
            decisions = reference.screen(catalog, reference.Profile(message), reference.date_tuple(as_of))
            paid = reference.proposed(decisions)
            # As EligibilityCaseTests: a per-item decision answers to `clause@item`, and to the bare clause id
            # for the first one listed.
            status = {}
            for d in decisions:
                status.setdefault(d.clause["id"], d)
                status.setdefault(d.key, d)

            def is_(c, s):
                return c in status and status[c].status == s

            ok = reference.eligible(decisions) == {k: int(v) for k, v in (expect.get("eligible") or {}).items()}
            ok &= all(is_(c, "superseded") and status[c].superseded_by == by for c, by in (expect.get("superseded") or {}).items())
            ok &= sum(paid.values()) == int(expect.get("total_eligible_fen", sum(paid.values())))
            ok &= all(is_(c, "needsApplication") for c in expect.get("needs_application") or [])
            ok &= all(is_(c, "manualAssessment") for c in expect.get("manual_assessment") or [])
            ok &= all(is_(c, "nearMiss") for c in expect.get("near_miss") or {})
            ok &= all(c not in status or status[c].status == "ineligible" for c in expect.get("not_offered") or [])
            ok &= all(c in status and status[c].amount == int(v) for c, v in (expect.get("amounts") or {}).items())
            tally.check(ok, f"reference vs case {name}: {decisions}")

            amounts, total = openfisca_amounts(system, [message], as_of)
            got = {c: int(a[0]) for c, a in amounts.items() if a[0] != 0}
            want = {c: v for c, v in paid.items() if c in encoded}
            want_case = {c: int(v) for c, v in (expect.get("eligible") or {}).items() if c in encoded}
            tally.check(got == want == want_case and int(total[0]) == sum(want.values()),
                        f"openfisca vs case {name}: openfisca {got}, reference {want}, case {want_case}")


def check_generated(tally, catalog, system, encoded, count, seeds, days):
    for seed in seeds:
        generator = Generator(seed)
        lines = [generator.profile(i) for i in range(count)]
        messages = profiles.parse_lines("\n".join(lines))
        tally.check(all(is_valid_credit_code(m["creditCode"]) for m in messages), f"seed {seed}: credit codes valid")
        tally.check(len({m["creditCode"] for m in messages}) == count, f"seed {seed}: credit codes unique")
        problems = [(i, p) for i, p in ((i, reference.validate(m, catalog.vocabulary)) for i, m in enumerate(messages)) if p]
        tally.check(not problems, f"seed {seed}: profiles the engine would refuse: {problems[:5]}")
        indexed = [reference.Profile(m) for m in messages]
        for as_of in days:
            amounts, total = openfisca_amounts(system, messages, as_of)
            when = reference.date_tuple(as_of)
            mismatches, outside, superseded, per_enterprise = 0, 0, 0, []
            for i, profile in enumerate(indexed):
                decisions = reference.screen(catalog, profile, when)
                superseded += sum(d.status == "superseded" for d in decisions)
                paid = reference.proposed(decisions)
                outside += sum(v for c, v in paid.items() if c not in encoded)
                per_enterprise.append(sum(1 for c in paid if c in encoded))
                for c in CLAUSES:
                    if int(amounts[c][i]) != paid.get(c, 0):
                        mismatches += 1
                        if mismatches <= 5:
                            print(f"  seed {seed} {as_of} enterprise {i} {c}: openfisca {int(amounts[c][i])}, reference {paid.get(c, 0)}\n    {lines[i]}")
            histogram = numpy.bincount(per_enterprise)
            print(f"seed {seed} as of {as_of}: {count} enterprises, proposed clauses per enterprise {histogram.tolist()}, "
                  f"superseded {superseded}, total {int(total.sum())} fen")
            tally.check(mismatches == 0, f"seed {seed} as of {as_of}: {mismatches} clause amounts differ")
            tally.check(outside == 0 or as_of != "2023-09-01", f"seed {seed} as of {as_of}: {outside} fen from clauses not encoded")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=20_000)
    parser.add_argument("--seeds", default="1,2,3")
    args = parser.parse_args()
    clauses, as_of = read_clauses(os.path.join(HERE, "clauses.txt"))
    encoded = set(clauses)
    catalog = reference.Catalog()
    system = CountryTaxBenefitSystem()
    tally = Tally()
    check_cases(tally, catalog, system, encoded)
    days = [as_of, "2023-01-01", "2023-06-14", "2023-06-15", "2023-12-31", "2024-01-01", "2024-05-01"]
    check_generated(tally, catalog, system, encoded, args.count, [int(s) for s in args.seeds.split(",")], days)
    print(f"{tally.passed} passed, {tally.failed} failed")
    sys.exit(1 if tally.failed else 0)


if __name__ == "__main__":
    main()
