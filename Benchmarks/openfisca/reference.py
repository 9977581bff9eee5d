#!/usr/bin/env python3
"""A line-by-line Python port of the Swift eligibility engine, for checking the OpenFisca encoding.

It interprets the catalog JSON itself (Services/Catalog/Data), every clause of every document in force,
one profile at a time, exactly as EligibilityEngine.swift, EligibilityEngine+Formula.swift and
EligibilityEngine+Context.swift do (statuses, amounts, near misses, 就高不重复). It is slow and is not the
benchmark; check.py uses it as the oracle.

    python reference.py FILE [--as-of DATE]     # prints the same JSON object as run.py ("engine":"reference")
"""

import argparse
import glob
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.normpath(os.path.join(HERE, "..", "..", "Services", "Catalog", "Data"))

COUNTY_NAMES = {
    "NANHU": "南湖区", "XIUZHOU": "秀洲区", "JIASHAN": "嘉善县", "PINGHU": "平湖市", "HAIYAN": "海盐县",
    "HAINING": "海宁市", "TONGXIANG": "桐乡市", "ECONOMIC_DEVELOPMENT_ZONE": "嘉兴经济技术开发区", "PORT_DISTRICT": "嘉兴港区",
}
NEAR_MISS_SHARE = 5_000


def wrap64(x):
    return ((x + (1 << 63)) % (1 << 64)) - (1 << 63)


def date_tuple(value):
    if isinstance(value, str):
        y, m, d = value.split("-")
        return (int(y), int(m), int(d))
    return (int(value.get("year", 0)), int(value.get("month", 0)), int(value.get("day", 0)))


class Catalog:
    def __init__(self, directory=DATA):
        self.documents = []
        for path in sorted(glob.glob(os.path.join(directory, "*.json"))):
            if os.path.basename(path) == "vocabulary.json":
                continue
            with open(path, encoding="utf-8") as file:
                self.documents.append(json.load(file))
        self.documents.sort(key=lambda d: d["id"])
        with open(os.path.join(directory, "vocabulary.json"), encoding="utf-8") as file:
            self.vocabulary = json.load(file)

    def in_force(self, as_of):
        for document in self.documents:
            start = date_tuple(document["effectiveFrom"])
            end = date_tuple(document["effectiveUntil"]) if document["effectiveUntil"] else None
            if start <= as_of and (end is None or as_of <= end):
                yield document, (start, min(as_of, end) if end else as_of)


class Profile:
    """EnterpriseProfile.swift's index of a profile message (protobuf JSON mapping)."""

    def __init__(self, message):
        self.credit_code = message.get("creditCode", "")
        self.county = message.get("county", "COUNTY_UNSPECIFIED")
        self.industry = message.get("industry") or None
        self.recognitions = {}
        for record in message.get("recognitions", ()):
            self.recognitions.setdefault(record["recognition"], []).append(
                (record.get("level") or None, date_tuple(record["recognizedOn"])))
        self.projects = {}
        for record in message.get("projects", ()):
            completed = date_tuple(record["completedOn"]) if record.get("completedOn") else None
            self.projects.setdefault(record["kind"], []).append(
                (record.get("name", ""), int(record.get("investmentFen", 0)), completed))
        self.facts = {}
        for record in message.get("facts", ()):
            year = int(record.get("year", 0))
            value = ("flag", bool(record["flag"])) if "flag" in record else ("amount", int(record["amount"]))
            self.facts.setdefault(record["fact"], {})[year] = value

    def fact(self, fact, as_of_year):
        values = self.facts.get(fact)
        if not values:
            return None
        if 0 in values:
            return values[0], 0
        years = [y for y in values if y <= as_of_year]
        if not years:
            return None
        latest = max(years)
        return values[latest], latest


MAXIMUM_AMOUNT = 1_000_000_000_000_000


def valid_day(value):
    import datetime
    try:
        y, m, d = date_tuple(value)
        datetime.date(y, m, d)
        return 1900 <= y <= 2200
    except (ValueError, TypeError, AttributeError):
        return False


def validate(message, vocabulary):
    """EnterpriseProfile.init(message:vocabulary:): the first problem as 'field: message', or None."""
    from generate import is_valid_credit_code

    if not is_valid_credit_code(message.get("creditCode", "").upper()):
        return "profile.credit_code"
    if message.get("county") not in COUNTY_NAMES:
        return "profile.county"
    if message.get("industry") and message["industry"] not in {i["id"] for i in vocabulary["industries"]}:
        return "profile.industry"
    recognitions = {r["id"]: r for r in vocabulary["recognitions"]}
    for i, record in enumerate(message.get("recognitions", ())):
        declared = recognitions.get(record.get("recognition"))
        if declared is None:
            return f"profile.recognitions[{i}].recognition"
        if record.get("level") and record["level"] not in declared["levels"]:
            return f"profile.recognitions[{i}].level"
        if not valid_day(record.get("recognizedOn", {})):
            return f"profile.recognitions[{i}].recognized_on"
    kinds = {k["id"] for k in vocabulary["projectKinds"]}
    for i, record in enumerate(message.get("projects", ())):
        if record.get("kind") not in kinds:
            return f"profile.projects[{i}].kind"
        if not 0 <= int(record.get("investmentFen", 0)) <= MAXIMUM_AMOUNT:
            return f"profile.projects[{i}].investment_fen"
        if "completedOn" in record and not valid_day(record["completedOn"]):
            return f"profile.projects[{i}].completed_on"
    facts = {f["id"]: f for f in vocabulary["facts"]}
    for i, record in enumerate(message.get("facts", ())):
        declared = facts.get(record.get("fact"))
        if declared is None:
            return f"profile.facts[{i}].fact"
        year = int(record.get("year", 0))
        if (declared["perYear"] and not 1900 <= year <= 2200) or (not declared["perYear"] and year != 0):
            return f"profile.facts[{i}].year"
        if ("flag" in record) == ("amount" in record):
            return f"profile.facts[{i}].value"
        if ("flag" in record) != (declared["unit"] == "bool"):
            return f"profile.facts[{i}].flag"
        if "amount" in record and not 0 <= int(record["amount"]) <= MAXIMUM_AMOUNT:
            return f"profile.facts[{i}].amount"
    return None


def swift_max(items, key_less):
    """Sequence.max(by:): keeps the first of equal maxima."""
    result = None
    for item in items:
        if result is None or key_less(result, item):
            result = item
    return result


class Check:
    __slots__ = ("met", "near")

    def __init__(self, met, near=None):
        self.met, self.near = met, near


class Context:
    def __init__(self, profile, as_of, period):
        self.profile, self.as_of, self.period = profile, as_of, period

    def amount_of(self, fact):
        found = self.profile.fact(fact, self.as_of[0])
        if found is None or found[0][0] != "amount":
            return None
        return found[0][1], found[1]

    @staticmethod
    def is_near(value, threshold):
        return threshold > 0 and wrap64(value * 10_000) >= wrap64(threshold * NEAR_MISS_SHARE)

    def records(self, recognition, levels, new):
        return [r for r in self.profile.recognitions.get(recognition, [])
                if r[1] <= self.as_of
                and (levels is None or (r[0] is not None and r[0] in levels))
                and (not new or self.period[0] <= r[1] <= self.period[1])]

    def check(self, condition):
        kind = condition["kind"]
        if kind == "recognition":
            levels = condition.get("levels")
            held = [r for r in self.profile.recognitions.get(condition["recognition"], []) if r[1] <= self.as_of]
            if self.records(condition["recognition"], levels, condition["newInPeriod"]):
                return Check(True)
            record = swift_max(held, lambda a, b: a[1] < b[1])
            if record is None:
                return Check(False)
            if levels is not None and not (record[0] is not None and record[0] in levels):
                return Check(False, "level")
            return Check(False)
        if kind in ("atLeast", "below"):
            found = self.amount_of(condition["fact"])
            if found is None:
                return Check(False)
            value, threshold = found[0], condition["value"]
            if kind == "atLeast":
                if value >= threshold:
                    return Check(True)
                return Check(False, "short" if self.is_near(value, threshold) else None)
            return Check(value < threshold)
        if kind == "flag":
            found = self.profile.fact(condition["fact"], self.as_of[0])
            if found is None or found[0][0] != "flag":
                return Check(False)
            return Check(found[0][1])
        if kind == "project":
            projects = self.profile.projects.get(condition["projectKind"], [])
            if condition["completedInPeriod"]:
                projects = [p for p in projects if p[2] is not None and self.period[0] <= p[2] <= self.period[1]]
            best = swift_max(projects, lambda a, b: a[1] < b[1])
            if best is None:
                return Check(False)
            minimum = condition.get("minimumInvestmentFen")
            if minimum is not None and best[1] < minimum:
                return Check(False, "short" if self.is_near(best[1], minimum) else None)
            return Check(True)
        if kind == "industry":
            return Check(self.profile.industry is not None and self.profile.industry in condition["industries"])
        if kind == "county":
            return Check(COUNTY_NAMES.get(self.profile.county) in condition["counties"])
        raise ValueError(kind)

    @staticmethod
    def scale(base, numerator, denominator):
        product = base * numerator
        if product != wrap64(product) or denominator <= 0:
            return None
        return product // denominator if product >= 0 else -((-product) // denominator)  # Swift truncates

    def amount(self, formula, clause):
        """-> (("fixed", fen) | ("upTo", cap) | ("open", None), threshold Check or None)"""
        kind = formula["kind"]
        missing = (("fixed", 0), Check(False))

        def capped(amount, cap):
            return ("fixed", cap if cap is not None and amount > cap else amount), None

        if kind == "fixed":
            return ("fixed", formula["amountFen"]), None
        if kind == "tiers":
            condition = next(((c.get("levels"), c["newInPeriod"]) for c in clause["conditions"]
                              if c["kind"] == "recognition" and c["recognition"] == formula["recognition"]), None)
            held = {r[0] for r in self.records(formula["recognition"], condition[0] if condition else None,
                                               condition[1] if condition else False) if r[0] is not None}
            tier = swift_max([t for t in formula["tiers"] if t["level"] in held], lambda a, b: a["amountFen"] < b["amountFen"])
            if tier is None:
                return ("fixed", 0), Check(False)
            return ("fixed", tier["amountFen"]), None
        if kind == "bands":
            return ("upTo", max(t["amountFen"] for t in formula["tiers"])), None
        if kind == "percentage":
            found = self.amount_of(formula["base"])
            if found is None:
                return missing
            value = found[0]
            threshold = None
            minimum = formula.get("minimumBaseFen")
            if minimum is not None:
                met = value >= minimum
                threshold = Check(met, "short" if not met and self.is_near(value, minimum) else None)
            amount = self.scale(value, formula["rateBasisPoints"], 10_000)
            if amount is None:
                return missing
            result, _ = capped(amount, formula.get("capFen"))
            return result, threshold
        if kind == "ratioMatch":
            found = self.amount_of(formula["base"])
            amount = None if found is None else self.scale(found[0], formula["numerator"], formula["denominator"])
            return missing if amount is None else capped(amount, formula.get("capFen"))
        if kind in ("interestSubsidy", "insurancePremium"):
            found = self.amount_of(formula["base"])
            amount = None if found is None else self.scale(found[0], formula["rateBasisPoints"], 10_000)
            return missing if amount is None else capped(amount, formula.get("capFen"))
        if kind == "perUnit":
            found = self.amount_of(formula["base"])
            amount = None if found is None else self.scale(found[0], formula["amountFenPerUnit"], 1)
            return missing if amount is None else capped(amount, formula.get("capFen"))
        if kind == "capOnly":
            return ("upTo", formula["capFen"]), None
        if kind == "manual":
            return ("open", None), None
        raise ValueError(kind)


class Decision:
    __slots__ = ("clause", "document", "status", "amount", "superseded_by", "rule")

    def __repr__(self):
        return f"{self.clause['id']}:{self.status}:{self.amount}"


def effective_rule(clause, document):
    own = clause.get("stacking")
    if own and own["rule"] != "unspecified":
        return own["rule"]
    return document["stacking"]["rule"]


def decide(clause, document, profile, as_of, period):
    context = Context(profile, as_of, period)
    checks = [context.check(c) for c in clause["conditions"]]
    result, threshold = context.amount(clause["formula"], clause)
    if threshold is not None:
        checks.append(threshold)
    decision = Decision()
    decision.clause, decision.document, decision.status, decision.amount = clause, document, "ineligible", 0
    decision.superseded_by, decision.rule = None, effective_rule(clause, document)
    failing = [c for c in checks if not c.met]
    if failing:
        if len(failing) <= 2 and all(c.near is not None for c in failing):
            decision.status = "nearMiss"
        return decision
    if clause["delivery"] == "manual":
        decision.status = "manualAssessment"
        return decision
    kind, value = result
    if kind == "fixed":
        fen = value
        if clause.get("perYearCapFen") is not None and fen > clause["perYearCapFen"]:
            fen = clause["perYearCapFen"]
        if clause.get("cumulativeCapFen") is not None and fen > clause["cumulativeCapFen"]:
            fen = clause["cumulativeCapFen"]
        decision.amount = fen
        if fen <= 0:
            pass
        elif clause["delivery"] == "proactive":
            decision.status = "eligible"
        else:
            decision.status = "needsApplication"
    elif kind == "upTo":
        decision.status, decision.amount = "needsApplication", value or 0
    else:
        decision.status = "manualAssessment"
    return decision


def apply_stacking(decisions):
    groups = {}
    for index, d in enumerate(decisions):
        if d.status == "eligible" and d.clause["cash"]:
            group = d.clause.get("overlapGroup")
            if group is None or d.rule == "stacks":
                continue
            groups.setdefault(group, []).append(index)
    for members in groups.values():
        if len(members) > 1 and any(decisions[i].rule == "highestOnly" for i in members):
            def less(a, b):
                x, y = decisions[a], decisions[b]
                return x.amount < y.amount if x.amount != y.amount else x.clause["id"] > y.clause["id"]
            winner = swift_max(members, less)
            for i in members:
                if i != winner:
                    decisions[i].status = "superseded"
                    decisions[i].superseded_by = decisions[winner].clause["id"]


def screen(catalog, profile, as_of):
    decisions = []
    for document, period in catalog.in_force(as_of):
        for clause in document["clauses"]:
            if clause["beneficiary"] in ("enterprise", "project"):
                decisions.append(decide(clause, document, profile, as_of, period))
    apply_stacking(decisions)
    return decisions


def proposed(decisions):
    """clause id -> fen for the decisions the engine proposes (eligible cash after stacking)."""
    return {d.clause["id"]: d.amount for d in decisions if d.status == "eligible" and d.clause["cash"]}


def main(argv=None):
    sys.path.insert(0, HERE)
    from run import read_clauses

    clauses, default_as_of = read_clauses(os.path.join(HERE, "clauses.txt"))
    parser = argparse.ArgumentParser()
    parser.add_argument("file")
    parser.add_argument("--as-of", default=default_as_of)
    args = parser.parse_args(argv)
    as_of = date_tuple(args.as_of)
    catalog = Catalog()
    started = time.perf_counter()
    with open(args.file, encoding="utf-8") as file:
        messages = [json.loads(line) for line in file if line.strip()]
    loaded = time.perf_counter()
    by_clause = dict.fromkeys(clauses, 0)
    total, eligible, outside = 0, 0, 0
    for message in messages:
        paid = proposed(screen(catalog, Profile(message), as_of))
        enterprise_total = 0
        for clause_id, fen in paid.items():
            if clause_id in by_clause:
                by_clause[clause_id] += fen
                enterprise_total += fen
            else:
                outside += fen
        total += enterprise_total
        eligible += enterprise_total > 0
    computed = time.perf_counter()
    if outside:
        print(f"note: {outside} fen proposed by clauses outside clauses.txt", file=sys.stderr)
    print(json.dumps({"engine": "reference", "count": len(messages), "loadSeconds": round(loaded - started, 3),
                      "computeSeconds": round(computed - loaded, 3), "totalFen": total, "byClause": by_clause,
                      "eligibleEnterprises": eligible}, ensure_ascii=False))


if __name__ == "__main__":
    main()
