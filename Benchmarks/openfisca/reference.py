#!/usr/bin/env python3
"""A line-by-line Python port of the Swift eligibility engine, for checking the OpenFisca encoding.

It interprets the catalog JSON itself (Services/Catalog/Data), every clause of every document in force,
one profile at a time, exactly as EligibilityEngine.swift, EligibilityEngine+Formula.swift,
EligibilityEngine+Context.swift and EligibilityEngine+Items.swift do (statuses, amounts, near misses as a
status without their wording, per-item decisions and their caps, county-funded clauses, replacements and
就高不重复). It is slow and is not the benchmark; check.py uses it as the oracle.

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
            if os.path.basename(path) in ("vocabulary.json", "coverage.json"):
                continue
            with open(path, encoding="utf-8") as file:
                self.documents.append(json.load(file))
        self.documents.sort(key=lambda d: d["id"])
        with open(os.path.join(directory, "vocabulary.json"), encoding="utf-8") as file:
            self.vocabulary = json.load(file)

    def in_force(self, as_of):
        for document in self.documents:
            start = date_tuple(document["effectiveFrom"])
            end = date_tuple(document["effectiveUntil"]) if document.get("effectiveUntil") else None
            if start <= as_of and (end is None or as_of <= end):
                yield document, (start, min(as_of, end) if end else as_of)


class Recognition(tuple):
    """EnterpriseProfile.RecognitionRecord: (level, recognizedOn, id, recognition)."""
    __slots__ = ()

    def __new__(cls, level, on, id_, recognition):
        return tuple.__new__(cls, (level, on, id_, recognition))

    @property
    def item_id(self):
        return self[2] or f"{self[3]}/{self[0] or '-'}/{day_text(self[1])}"


class Project(tuple):
    """EnterpriseProfile.ProjectRecord: (name, investmentFen, completedOn, id, figures, kind)."""
    __slots__ = ()

    def __new__(cls, name, investment, completed, id_, figures, kind):
        return tuple.__new__(cls, (name, investment, completed, id_, figures, kind))

    @property
    def item_id(self):
        return self[3] or f"{self[5]}/{day_text(self[2]) if self[2] else '-'}/{self[0]}"


def day_text(d):
    return f"{d[0]}-{d[1]:02d}-{d[2]:02d}"


class Profile:
    """EnterpriseProfile.swift's index of a profile message (protobuf JSON mapping)."""

    def __init__(self, message=None):
        if message is None:
            return
        self.credit_code = message.get("creditCode", "")
        self.county = message.get("county", "COUNTY_UNSPECIFIED")
        self.industry = message.get("industry") or None
        self.recognitions = {}
        for record in message.get("recognitions", ()):
            self.recognitions.setdefault(record["recognition"], []).append(
                Recognition(record.get("level") or None, date_tuple(record["recognizedOn"]), record.get("id", ""),
                            record["recognition"]))
        self.projects = {}
        for record in message.get("projects", ()):
            completed = date_tuple(record["completedOn"]) if record.get("completedOn") else None
            figures = {k: int(v) for k, v in (record.get("figures") or {}).items()}
            self.projects.setdefault(record["kind"], []).append(
                Project(record.get("name", ""), int(record.get("investmentFen", 0)), completed, record.get("id", ""),
                        figures, record["kind"]))
        self.facts = {}
        for record in message.get("facts", ()):
            year = int(record.get("year", 0))
            value = ("flag", bool(record["flag"])) if "flag" in record else ("amount", int(record["amount"]))
            self.facts.setdefault(record["fact"], {})[year] = value

    def copy(self):
        other = Profile()
        other.credit_code, other.county, other.industry = self.credit_code, self.county, self.industry
        other.recognitions, other.projects, other.facts = dict(self.recognitions), dict(self.projects), dict(self.facts)
        return other

    @property
    def county_id(self):
        """The County raw value (nanhu, …, portDistrict) the catalog's fundingSplit names."""
        return COUNTY_IDS.get(self.county)

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


COUNTY_IDS = {
    "NANHU": "nanhu", "XIUZHOU": "xiuzhou", "JIASHAN": "jiashan", "PINGHU": "pinghu", "HAIYAN": "haiyan",
    "HAINING": "haining", "TONGXIANG": "tongxiang", "ECONOMIC_DEVELOPMENT_ZONE": "economicDevelopmentZone",
    "PORT_DISTRICT": "portDistrict",
}
MAXIMUM_AMOUNT = 1_000_000_000_000_000
MAXIMUM_RECORDS = 1_000
MAXIMUM_FIGURES = 16
MAXIMUM_ITEM_ID = 128


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
    for field in ("recognitions", "projects", "facts"):
        if len(message.get(field, ())) > MAXIMUM_RECORDS:
            return f"profile.{field}"
    recognitions = {r["id"]: r for r in vocabulary["recognitions"]}
    for i, record in enumerate(message.get("recognitions", ())):
        declared = recognitions.get(record.get("recognition"))
        if declared is None:
            return f"profile.recognitions[{i}].recognition"
        if record.get("level") and record["level"] not in declared["levels"]:
            return f"profile.recognitions[{i}].level"
        if not valid_day(record.get("recognizedOn", {})):
            return f"profile.recognitions[{i}].recognized_on"
        if len(record.get("id", "")) > MAXIMUM_ITEM_ID:
            return f"profile.recognitions[{i}].id"
    kinds = {k["id"] for k in vocabulary["projectKinds"]}
    facts = {f["id"]: f for f in vocabulary["facts"]}
    for i, record in enumerate(message.get("projects", ())):
        if record.get("kind") not in kinds:
            return f"profile.projects[{i}].kind"
        if not 0 <= int(record.get("investmentFen", 0)) <= MAXIMUM_AMOUNT:
            return f"profile.projects[{i}].investment_fen"
        if "completedOn" in record and not valid_day(record["completedOn"]):
            return f"profile.projects[{i}].completed_on"
        if len(record.get("id", "")) > MAXIMUM_ITEM_ID:
            return f"profile.projects[{i}].id"
        figures = record.get("figures") or {}
        if len(figures) > MAXIMUM_FIGURES:
            return f"profile.projects[{i}].figures"
        for fact in sorted(figures):
            declared = facts.get(fact)
            if declared is None or declared["unit"] == "bool" or not 0 <= int(figures[fact]) <= MAXIMUM_AMOUNT:
                return f"profile.projects[{i}].figures[{fact}]"
    for i, record in enumerate(message.get("facts", ())):
        declared = facts.get(record.get("fact"))
        if declared is None:
            return f"profile.facts[{i}].fact"
        year = int(record.get("year", 0))
        if (declared["perYear"] and not 1900 <= year <= 2200) or (not declared["perYear"] and year != 0):
            return f"profile.facts[{i}].year"
        is_bool = declared["unit"] == "bool"
        if "flag" in record and is_bool:
            continue
        if "amount" in record and not is_bool:
            if not 0 <= int(record["amount"]) <= MAXIMUM_AMOUNT:
                return f"profile.facts[{i}].amount"
            continue
        if "flag" not in record and "amount" not in record:
            return f"profile.facts[{i}].value"
        return f"profile.facts[{i}].flag" if is_bool else f"profile.facts[{i}].amount"
    return None


def swift_max(items, key_less):
    """Sequence.max(by:): keeps the first of equal maxima."""
    result = None
    for item in items:
        if result is None or key_less(result, item):
            result = item
    return result


def swift_min(items, key_less):
    """Sequence.min(by:): keeps the first of equal minima."""
    result = None
    for item in items:
        if result is None or key_less(item, result):
            result = item
    return result


class Check:
    __slots__ = ("met", "near")

    def __init__(self, met, near=None):
        self.met, self.near = met, near

    def __repr__(self):
        return f"Check({self.met}, {self.near})"


def base_facts(formula):
    """Formula.baseFacts: every fact the amount is computed from."""
    kind = formula["kind"]
    if kind == "insurancePremium" and formula.get("premiumRateCap"):
        return [formula["base"], formula["premiumRateCap"]["insuredBase"]]
    if kind == "lowestOf":
        return [t["base"] for t in formula["terms"]]
    if kind in ("percentage", "ratioMatch", "interestSubsidy", "insurancePremium", "perUnit"):
        return [formula["base"]]
    return []


def item_condition(clause):
    """Clause.itemCondition: its one project condition, else its one recognition condition (per-item only)."""
    if not clause.get("perItem"):
        return None
    projects = [c for c in clause["conditions"] if c["kind"] == "project"]
    if projects:
        return projects[0] if len(projects) == 1 else None
    recognitions = [c for c in clause["conditions"] if c["kind"] == "recognition"]
    return recognitions[0] if len(recognitions) == 1 else None


class Context:
    def __init__(self, profile, as_of, period):
        self.profile, self.as_of, self.period = profile, as_of, period

    def amount_of(self, fact):
        found = self.profile.fact(fact, self.as_of[0])
        if found is None or found[0][0] != "amount":
            return None
        return found[0][1], found[1]

    def first_amount_of(self, fact):
        """首年: the amount of the first year reported up to the as-of year."""
        values = self.profile.facts.get(fact)
        if values is None:
            return None
        if 0 in values and values[0][0] == "amount":
            return values[0][1], 0
        years = [y for y in values if y != 0 and y <= self.as_of[0]]
        if not years or values[min(years)][0] != "amount":
            return None
        return values[min(years)][1], min(years)

    def amount_in_year(self, fact, year):
        value = (self.profile.facts.get(fact) or {}).get(year)
        return value[1] if value is not None and value[0] == "amount" else None

    def holds(self, recognition):
        return any(r[1] <= self.as_of for r in self.profile.recognitions.get(recognition, []))

    def flag(self, fact):
        found = self.profile.fact(fact, self.as_of[0])
        if found is None or found[0][0] != "flag":
            return None
        return found[0][1]

    def threshold(self, value, overrides):
        for override in overrides or ():
            if override.get("whenRecognition") and self.holds(override["whenRecognition"]):
                return override["value"]
            if override.get("whenFlag") and self.flag(override["whenFlag"]) is True:
                return override["value"]
        return value

    def is_excluded(self, fact, industries):
        if fact and self.flag(fact) is True:
            return True
        return self.profile.industry is not None and self.profile.industry in (industries or ())

    @staticmethod
    def is_near(value, threshold):
        return threshold > 0 and wrap64(value * 10_000) >= wrap64(threshold * NEAR_MISS_SHARE)

    def earlier_recognition(self, recognition):
        return swift_min([r for r in self.profile.recognitions.get(recognition, []) if r[1] < self.period[0]],
                         lambda a, b: a[1] < b[1])

    def records(self, recognition, levels, new, first=False):
        # 首次: none at any level before the period (a re-recognition is not paid).
        if first and self.earlier_recognition(recognition) is not None:
            return []
        return [r for r in self.profile.recognitions.get(recognition, [])
                if r[1] <= self.as_of
                and (levels is None or (r[0] is not None and r[0] in levels))
                and (not (new or first) or self.period[0] <= r[1] <= self.period[1])]

    def check_at_least(self, condition):
        fact = condition["fact"]
        threshold = self.threshold(condition["value"], condition.get("overrides"))
        newly = condition.get("newlyReached") is True and condition.get("firstYear") is not True
        if threshold <= 0 and not newly:
            return Check(True)
        found = self.first_amount_of(fact) if condition.get("firstYear") is True else self.amount_of(fact)
        if found is None:
            return Check(False)
        value, year = found
        if value < threshold:
            return Check(False, "short" if self.is_near(value, threshold) else None)
        if newly:
            previous = self.amount_in_year(fact, year - 1) if year != 0 else None
            if previous is None or previous >= threshold:
                return Check(False)
        return Check(True)

    def check(self, condition):
        kind = condition["kind"]
        if kind == "recognition":
            recognition, levels, first = condition["recognition"], condition.get("levels"), condition.get("first", False)
            held = [r for r in self.profile.recognitions.get(recognition, []) if r[1] <= self.as_of]
            if self.records(recognition, levels, condition["newInPeriod"], first):
                return Check(True)
            record = swift_max(held, lambda a, b: a[1] < b[1])
            if record is None:
                return Check(False)
            if first and self.earlier_recognition(recognition) is not None:
                return Check(False)
            if levels is not None and not (record[0] is not None and record[0] in levels):
                return Check(False, "level")
            return Check(False)
        if kind == "atLeast":
            return self.check_at_least(condition)
        if kind == "anyOf":
            checks = [self.check(c) for c in condition["conditions"]]
            if any(c.met for c in checks):
                return Check(True)
            near = [c.near for c in checks if c.near is not None]
            return Check(False, "; ".join(near) if near else None)
        if kind == "exclusion":
            return Check(not self.is_excluded(condition.get("fact"), condition.get("industries")))
        if kind == "below":
            found = self.amount_of(condition["fact"])
            if found is None:
                return Check(False)
            return Check(found[0] < condition["value"])
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

    def tier_amount(self, recognition, tiers, up_to, clause):
        """tiers: the highest tier the enterprise holds, among the records its own condition accepts."""
        condition = next(((c.get("levels"), c["newInPeriod"], c.get("first", False)) for c in clause["conditions"]
                          if c["kind"] == "recognition" and c["recognition"] == recognition), None)
        held = {r[0] for r in self.records(recognition, condition[0] if condition else None,
                                           condition[1] if condition else False,
                                           condition[2] if condition else False) if r[0] is not None}
        tier = swift_max([t for t in tiers if t["level"] in held], lambda a, b: a["amountFen"] < b["amountFen"])
        if tier is None:
            return ("fixed", 0), Check(False)
        return (("upTo" if up_to else "fixed"), tier["amountFen"]), None

    def amount(self, formula, clause):
        """-> (("fixed", fen) | ("upTo", cap or None) | ("open", None), threshold Check or None)"""
        kind = formula["kind"]
        missing = (("fixed", 0), Check(False))

        def capped(amount, cap):
            return ("fixed", cap if cap is not None and amount > cap else amount), None

        if kind == "fixed":
            return ("fixed", formula["amountFen"]), None
        if kind == "tiers":
            return self.tier_amount(formula["recognition"], formula["tiers"], formula.get("upTo") is True, clause)
        if kind == "tierShare":
            result, threshold = self.tier_amount(formula["recognition"], formula["tiers"], False, clause)
            share = self.scale(result[1], formula["rateBasisPoints"], 10_000) if result[1] > 0 else None
            if share is None:
                return result, threshold
            return ("fixed", share), threshold
        if kind == "thresholdTiers":
            return self.threshold_tier_amount(formula["fact"], formula["tiers"], formula.get("newlyReached") is True)
        if kind == "bands":
            amounts = [t["amountFen"] for t in formula["tiers"]]
            return ("upTo", max(amounts) if amounts else None), None
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
        if kind == "insurancePremium" and formula.get("premiumRateCap"):
            rate_cap = formula["premiumRateCap"]
            premium = self.amount_of(formula["base"])
            if premium is None:
                return missing
            insured = self.amount_of(rate_cap["insuredBase"])
            if insured is None:
                return missing
            ceiling = self.scale(insured[0], rate_cap["basisPoints"], 10_000)
            if ceiling is None:
                return missing
            amount = self.scale(min(premium[0], ceiling), formula["rateBasisPoints"], 10_000)
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
        if kind == "lowestOf":
            amounts = []
            for term in formula["terms"]:
                found = self.amount_of(term["base"])
                if found is None:
                    return missing
                if term.get("amountFenPerUnit") is not None:
                    amount = self.scale(found[0], term["amountFenPerUnit"], 1)
                else:
                    amount = self.scale(found[0], term.get("numerator") or 1, term.get("denominator") or 1)
                if amount is None:
                    return missing
                amounts.append(amount)
            return ("fixed", min(amounts) if amounts else 0), None
        if kind == "manual":
            return ("open", None), None
        raise ValueError(kind)

    def threshold_tier_amount(self, fact, tiers, newly):
        if not tiers:
            return ("fixed", 0), Check(False)
        found = self.amount_of(fact)
        if found is None:
            return ("fixed", 0), Check(False)
        value, year = found
        previous = None
        if newly:
            previous = self.amount_in_year(fact, year - 1) if year != 0 else None
            if previous is None:
                return ("fixed", 0), Check(False)
        reached = [t for t in tiers if value >= t["atLeast"] and (previous is None or previous < t["atLeast"])]
        if not reached:
            lowest = tiers[0]["atLeast"]
            if value >= lowest:
                return ("fixed", 0), Check(False)
            return ("fixed", 0), Check(False, "short" if self.is_near(value, lowest) else None)
        return ("fixed", reached[-1]["amountFen"]), None


class Decision:
    __slots__ = ("clause", "document", "status", "amount", "superseded_by", "rule", "item", "amount_fixed")

    def __repr__(self):
        return f"{self.key}:{self.status}:{self.amount}"

    @property
    def key(self):
        """How the YAML cases address it: the clause id, `clause@item` for a per-item decision."""
        return self.clause["id"] if self.item is None else f"{self.clause['id']}@{self.item}"


def effective_rule(clause, document):
    own = clause.get("stacking")
    if own and own["rule"] != "unspecified":
        return own["rule"]
    return document["stacking"]["rule"]


def county_funding(document, county_id):
    """FundingSplit.countyFunding(in:): the words that make the county fund it, or None."""
    split = document.get("fundingSplit") or {}
    return next((f["text"] for f in split.get("countyFunded") or () if county_id in f["counties"]), None)


def decide(clause, document, context, keep_ineligible=False):
    """EligibilityEngine.decide; None for an ineligible decision not near (unless keep_ineligible)."""
    checks = [context.check(c) for c in clause["conditions"]]
    result, threshold = context.amount(clause["formula"], clause)
    if threshold is not None:
        checks.append(threshold)
    failing = [c for c in checks if not c.met]
    near = len(failing) <= 2 and all(c.near is not None for c in failing)
    if failing and not near and not keep_ineligible:
        return None
    decision = Decision()
    decision.clause, decision.document, decision.status, decision.amount = clause, document, "ineligible", 0
    decision.superseded_by, decision.rule, decision.item, decision.amount_fixed = None, effective_rule(clause, document), None, False
    if failing:
        if near:
            decision.status = "nearMiss"
        return decision
    if clause["cash"] and county_funding(document, context.profile.county_id) is not None:
        # 县级的项目由县级财政…保障支持: the county funds it; the city pays nothing.
        decision.status = "manualAssessment"
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
        decision.amount_fixed = fen > 0
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


def items(clause, profile):
    """EligibilityEngine.items(of:in:): (item id, the profile holding that record alone), by item id."""
    condition = item_condition(clause)
    if condition is None:
        return []
    result = []
    if condition["kind"] == "project":
        kind = condition["projectKind"]
        bases = base_facts(clause["formula"])
        for record in sorted(profile.projects.get(kind, []), key=lambda p: p.item_id):
            restricted = profile.copy()
            restricted.projects[kind] = [record]
            for base in bases:
                if base in record[4]:
                    restricted.facts[base] = {0: ("amount", record[4][base])}
                else:
                    restricted.facts.pop(base, None)
            result.append((record.item_id, restricted))
    elif condition["kind"] == "recognition":
        recognition = condition["recognition"]
        for record in sorted(profile.recognitions.get(recognition, []), key=lambda r: r.item_id):
            restricted = profile.copy()
            restricted.recognitions[recognition] = [record]
            result.append((record.item_id, restricted))
    return result


def item_year(clause, profile):
    """EligibilityEngine.itemYear: the acceptance's or recognition's year of the profile's one item."""
    condition = item_condition(clause)
    if condition is None:
        return None
    if condition["kind"] == "project":
        records = profile.projects.get(condition["projectKind"]) or []
        return records[0][2][0] if records and records[0][2] else None
    if condition["kind"] == "recognition":
        records = profile.recognitions.get(condition["recognition"]) or []
        return records[0][1][0] if records else None
    return None


def decide_each_item(clause, document, profile, as_of, period):
    """EligibilityEngine.decideEachItem: one decision per item, then the caps across items."""
    found = items(clause, profile)
    if not found:
        decision = decide(clause, document, Context(profile, as_of, period))
        return [] if decision is None else [decision]
    decisions, years = [], {}
    for item, item_profile in found:
        year = item_year(clause, item_profile)
        years[item] = as_of[0] if year is None else year
        decision = decide(clause, document, Context(item_profile, as_of, period))
        if decision is None:
            continue
        decision.item = item
        decisions.append(decision)
    cap_across_items(decisions, clause, lambda item: years.get(item, as_of[0]))
    return decisions


def cap_across_items(decisions, clause, year):
    per_year, cumulative = clause.get("perYearCapFen"), clause.get("cumulativeCapFen")
    if per_year is None and cumulative is None:
        return
    used_in_year, used = {}, 0
    for d in decisions:
        if not (d.amount_fixed and d.status in ("eligible", "needsApplication")):
            continue
        item_year_ = year(d.item) if d.item is not None else 0
        left = d.amount
        if per_year is not None and per_year - used_in_year.get(item_year_, 0) < left:
            left = max(0, per_year - used_in_year.get(item_year_, 0))
        if cumulative is not None and cumulative - used < left:
            left = max(0, cumulative - used)
        if left < d.amount:
            d.amount = left
            if left == 0:
                d.status, d.amount_fixed = "ineligible", False
        used_in_year[item_year_] = used_in_year.get(item_year_, 0) + left
        used += left


def apply_replacements(decisions):
    replacing = [i for i, d in enumerate(decisions)
                 if d.clause.get("replaces") and d.status in ("eligible", "needsApplication")]
    for replacer in replacing:
        by = decisions[replacer]
        by_clause, by_item = by.clause, by.item
        for d in decisions:
            if (d.clause["id"] in by_clause["replaces"] and d.status != "ineligible"
                    and (by_item is None or d.item is None or by_item == d.item)):
                d.status, d.superseded_by = "superseded", by_clause["id"]


def apply_stacking(decisions):
    """EligibilityEngine.applyStacking: replacements, then 就高不重复 per group (per item for per-item decisions)."""
    apply_replacements(decisions)
    groups = {}
    for index, d in enumerate(decisions):
        if not d.clause["cash"]:
            continue
        if not (d.status == "eligible" or (d.status == "needsApplication" and d.amount > 0)):
            continue
        group = d.clause.get("overlapGroup")
        if group is None or d.rule == "stacks":
            continue
        groups.setdefault(group if d.item is None else f"{group}@{d.item}", []).append(index)

    def highest(members):
        def less(a, b):
            x, y = decisions[a], decisions[b]
            return x.amount < y.amount if x.amount != y.amount else x.clause["id"] > y.clause["id"]
        return swift_max(members, less)

    def supersede(index, winner):
        decisions[index].status = "superseded"
        decisions[index].superseded_by = decisions[winner].clause["id"]

    for members in groups.values():
        if len(members) <= 1 or not any(decisions[i].rule == "highestOnly" for i in members):
            continue
        paid_now = [i for i in members if decisions[i].status == "eligible"]
        winner = highest(paid_now)
        if winner is None:
            fixed = [i for i in members if decisions[i].amount_fixed]
            winner = highest(fixed)
            if winner is not None:
                for i in fixed:
                    if i != winner:
                        supersede(i, winner)
            continue
        for i in paid_now:
            if i != winner:
                supersede(i, winner)
        paid = decisions[winner]
        for i in members:
            if decisions[i].status == "needsApplication":
                if not decisions[i].amount > paid.amount:
                    supersede(i, winner)
                elif decisions[i].amount_fixed:
                    decisions[i].amount -= paid.amount


def screen(catalog, profile, as_of):
    decisions = []
    for document, period in catalog.in_force(as_of):
        for clause in document["clauses"]:
            if clause["beneficiary"] == "individual" or clause["delivery"] == "notQuantified":
                continue
            if clause.get("perItem"):
                decisions += decide_each_item(clause, document, profile, as_of, period)
                continue
            decision = decide(clause, document, Context(profile, as_of, period))
            if decision is not None:
                decisions.append(decision)
    apply_stacking(decisions)
    return decisions


def proposed(decisions):
    """clause id -> fen for the decisions the engine proposes (eligible cash after stacking), items summed."""
    paid = {}
    for d in decisions:
        if d.status == "eligible" and d.clause["cash"]:
            paid[d.clause["id"]] = paid.get(d.clause["id"], 0) + d.amount
    return paid


def eligible(decisions):
    """The cases' `eligible` map: every eligible decision (cash or not) by clause id, `clause@item` per item."""
    return {d.key: d.amount for d in decisions if d.status == "eligible"}


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
