#!/usr/bin/env python3
"""Synthetic Jiaxing enterprises as JSON Lines, one EnterpriseProfile per line (protobuf JSON mapping).

    python generate.py --count N --seed S --out FILE [--as-of 2023-09-01]

Deterministic for a seed (Python's random.Random, no numpy). The mix is made for the clauses of
clauses.txt as of the as-of day: most enterprises qualify for nothing or for one clause; thresholds
are hit exactly, missed narrowly, caps are reached; recognitions fall just inside and just outside
the documents' periods and the as-of day; some enterprises hold two clauses of one 就高不重复 group.
Every profile is valid for the engine: credit codes carry the GB 32100-2015 check character (and the
GB 11714 check of the organisation code inside them), levels are levels of the vocabulary, yearly
facts have a year, other facts none.
"""

import argparse
import datetime
import json
import random
import sys
import time

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
VALUE = {c: i for i, c in enumerate(ALPHABET)}
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
ORG_VALUE = {c: (ord(c) - 55 if c.isalpha() else int(c)) for c in ALPHABET}  # GB 11714: A=10 … Z=35


def check_character(body17: str) -> str:
    """GB 32100-2015: the 18th character of a unified social credit code."""
    total = sum(VALUE[c] * w for c, w in zip(body17, WEIGHTS))
    return ALPHABET[(31 - total % 31) % 31]


def org_check(body8: str) -> str:
    """GB 11714-1997: the 9th character of an organisation code (digits and X)."""
    c = 11 - sum(ORG_VALUE[ch] * w for ch, w in zip(body8, ORG_WEIGHTS)) % 11
    return "X" if c == 10 else "0" if c == 11 else str(c)


def is_valid_credit_code(code: str) -> bool:
    return len(code) == 18 and all(c in VALUE for c in code) and check_character(code[:17]) == code[17]


# county enum name (common.proto), 行政区划代码 for the code, place name for enterprise names, weight
COUNTIES = [
    ("NANHU", "330402", "嘉兴", 14),
    ("XIUZHOU", "330411", "嘉兴", 12),
    ("JIASHAN", "330421", "嘉善", 12),
    ("PINGHU", "330482", "平湖", 11),
    ("HAIYAN", "330424", "海盐", 9),
    ("HAINING", "330481", "海宁", 14),
    ("TONGXIANG", "330483", "桐乡", 14),
    ("ECONOMIC_DEVELOPMENT_ZONE", "330402", "嘉兴", 8),
    ("PORT_DISTRICT", "330482", "乍浦", 6),
]
COUNTY_CUM = []
_acc = 0
for _c in COUNTIES:
    _acc += _c[3]
    COUNTY_CUM.append(_acc)

INDUSTRIES = ["", "", "", "", "advancedManufacturing", "advancedManufacturing", "traditionalSpecialty", "software", "highTechServices", "otherServices"]
BRANDS = ["恒力", "新凤", "嘉欣", "禾丰", "博泰", "晶科", "闻泰", "敏实", "振石", "桐昆", "双箭", "华友", "天能", "景兴", "民丰",
          "佳利", "万凯", "瑞宏", "启明", "南洋", "钱江", "秀禾", "青莲", "月河", "梅湾", "鸳湖", "乌镇", "西塘", "盐官", "澉浦"]
TRADES = ["科技", "智能装备", "新材料", "纺织", "电子", "软件", "精密机械", "化纤", "皮革", "紧固件", "时装", "光伏", "汽车零部件", "生物医药"]
SUFFIXES = ["有限公司", "有限公司", "有限公司", "股份有限公司", "集团有限公司"]

# Days that sit on the edges of the periods (as of 2023-09-01): 3号文 2023-01-01..2023-12-31, 32号文 2023-06-15..
EDGE_DAYS = [(2022, 12, 31), (2023, 1, 1), (2023, 6, 14), (2023, 6, 15), (2023, 9, 1), (2023, 9, 2), (2023, 12, 31), (2024, 1, 1)]


def day_json(d):
    return {"year": d[0], "month": d[1], "day": d[2]}


class Generator:
    def __init__(self, seed: int, as_of=(2023, 9, 1)):
        self.r = random.Random(seed)
        self.as_of = as_of
        # an affine permutation of 0..31^6-1 keeps organisation codes unique within a file
        self.mul = self.r.randrange(1, 31**6)
        while self.mul % 31 == 0:
            self.mul = self.r.randrange(1, 31**6)
        self.add = self.r.randrange(31**6)

    # -- building blocks ------------------------------------------------------------------------------

    def day(self, first=(2016, 1, 1), last=(2024, 12, 31)):
        """A day drawn uniformly from first..last (both included)."""
        d = datetime.date.fromordinal(self.r.randint(datetime.date(*first).toordinal(), datetime.date(*last).toordinal()))
        return (d.year, d.month, d.day)

    def recognition_day(self, recent=False):
        """Mostly well before the as-of day; some in 2023 around the periods' edges; some after it."""
        r = self.r
        u = r.random()
        if u < 0.12:
            return r.choice(EDGE_DAYS)
        if recent or u < 0.45:
            return self.day((2022, 6, 1), (2024, 6, 30))
        return self.day((2015, 1, 1), (2024, 6, 30))

    def credit_code(self, index: int, division: str) -> str:
        n = (index * self.mul + self.add) % 31**6
        chars = []
        for _ in range(6):
            n, k = divmod(n, 31)
            chars.append(ALPHABET[k])
        org8 = "MA" + "".join(chars)
        body = "91" + division + org8 + org_check(org8)
        return body + check_character(body)

    # -- scenarios: each appends recognitions / facts ----------------------------------------------------

    def tiered(self, out, kind, levels, weights):
        r = self.r
        level = r.choices(levels, weights)[0]
        out["recognitions"].append((kind, level, self.recognition_day()))
        if r.random() < 0.15:  # a second record: an upgrade, or the same level renewed
            out["recognitions"].append((kind, r.choice(levels), self.recognition_day()))

    def single_level(self, out, kind, level):
        r = self.r
        # 8 %: no level recorded (the clauses that ask for a level then refuse it)
        out["recognitions"].append((kind, "" if r.random() < 0.08 else level, self.recognition_day()))

    def champion(self, out, kind, level):
        """单项冠军/小巨人/隐形冠军: 新认定 in 2023 gives 3号文 (from 01-01) and 32号文 (from 06-15), 就高不重复."""
        r = self.r
        u = r.random()
        if u < 0.35:
            d = self.day((2023, 6, 15), (2023, 9, 1))  # both documents: one superseded
        elif u < 0.55:
            d = self.day((2023, 1, 1), (2023, 6, 14))  # 3号文 only
        elif u < 0.75:
            d = r.choice(EDGE_DAYS)
        else:
            d = self.day((2019, 1, 1), (2024, 12, 31))
        out["recognitions"].append((kind, "" if r.random() < 0.1 else level, d))

    def community(self, out):
        r = self.r
        out["recognitions"].append(("industryChainCommunity", "" if r.random() < 0.05 else "provincial", self.recognition_day()))
        u = r.random()
        if u < 0.55:
            out["facts"].append({"fact": "communityLeadUnit", "flag": True})
        elif u < 0.8:
            out["facts"].append({"fact": "communityLeadUnit", "flag": False})

    def first_listing(self, out):
        r = self.r
        kind = r.choice(["nationalKeySoftwareEnterprise", "nationalKeyIcDesignEnterprise", "chinaSoftwareTop100"])
        d = r.choice(EDGE_DAYS) if r.random() < 0.25 else self.day((2021, 1, 1), (2024, 6, 30))
        out["recognitions"].append((kind, "" if r.random() < 0.05 else "national", d))
        if r.random() < 0.2:  # 首次: listed before too (at any level, or none), so a listing in 2023 is a re-listing
            out["recognitions"].append((kind, r.choice(["national", ""]), r.choice([(2022, 12, 31), self.day((2019, 1, 1), (2022, 12, 31))])))
        if r.random() < 0.5:
            year = r.choice([2021, 2022, 2022, 2023])
            out["facts"].append({"fact": "softwareRevenue", "year": year, "amount": str(r.randint(5_000_000_000, 90_000_000_000))})
            out["facts"].append({"fact": "softwareRevenueGrowth", "year": year, "amount": str(r.randint(0, 4000))})

    def rd(self, out):
        """企业研发投入奖补: 研发费用 >= 100万元, 增幅 >= 15%, 占比 >= 3%; 增量 × 10%, 最高500万元."""
        r = self.r
        expense = int(r.lognormvariate(19.2, 1.1))  # median ~ 2.2 亿 fen = 220万元
        growth = max(0, int(r.gauss(1600, 900)))
        intensity = max(0, int(r.gauss(380, 150)))
        increase = expense * growth // (10_000 + growth) if growth else 0
        u = r.random()
        if u < 0.10:  # exactly on every threshold
            expense, growth, intensity = 100_000_000, 1500, 300
            increase = r.choice([13_043_478, 13_043_479, 15_000_000, 9])
        elif u < 0.22:  # one threshold missed narrowly
            which = r.randrange(3)
            if which == 0:
                expense = r.choice([99_999_999, 99_000_000, 95_500_000])
            elif which == 1:
                growth = r.choice([1499, 1450, 1200])
            else:
                intensity = r.choice([299, 290, 250])
        elif u < 0.30:  # at or above the cap of 500万元 (增量 >= 5000万元)
            increase = r.choice([5_000_000_000, 5_000_000_009, 4_999_999_999, 4_999_999_990, r.randint(5_000_000_000, 30_000_000_000)])
            expense = max(expense, increase * 3)
            growth = max(growth, 1500 + r.randint(0, 3000))
            intensity = max(intensity, 300 + r.randint(0, 500))
        elif u < 0.33:  # a tiny increase rounds down to 0: not eligible
            increase = r.randint(0, 9)
        year = r.choice([2022, 2022, 2022, 2022, 2021, 2023])
        facts = out["facts"]
        missing = r.random()
        facts.append({"fact": "rdExpense", "year": year, "amount": str(expense)})
        facts.append({"fact": "rdExpenseGrowth", "year": year, "amount": str(growth)})
        if missing >= 0.03:
            facts.append({"fact": "rdIntensity", "year": year if r.random() < 0.95 else year - 1, "amount": str(intensity)})
        if missing < 0.03 or missing >= 0.06:
            facts.append({"fact": "rdExpenseIncrease", "year": year, "amount": str(increase)})
        v = r.random()
        if v < 0.15:  # an older year too: the latest year up to the as-of year counts
            old = year - 1
            facts.append({"fact": "rdExpense", "year": old, "amount": str(int(expense * 0.8))})
            facts.append({"fact": "rdExpenseGrowth", "year": old, "amount": str(r.randint(0, 5000))})
            facts.append({"fact": "rdIntensity", "year": old, "amount": str(r.randint(100, 700))})
            facts.append({"fact": "rdExpenseIncrease", "year": old, "amount": str(r.randint(0, 80_000_000))})
        elif v < 0.22:  # a later year than the as-of year: not used
            later = self.as_of[0] + 1
            facts.append({"fact": "rdExpense", "year": later, "amount": str(expense * 2)})
            facts.append({"fact": "rdExpenseGrowth", "year": later, "amount": "9000"})
            facts.append({"fact": "rdIntensity", "year": later, "amount": "900"})
            facts.append({"fact": "rdExpenseIncrease", "year": later, "amount": str(expense)})
        r.shuffle(facts)

    def noise(self, out):
        """Records and facts that none of the encoded clauses pays for (other clauses: needs application)."""
        r = self.r
        if r.random() < 0.12:
            out["recognitions"].append(("highTechEnterprise", "national", self.day((2015, 1, 1), (2024, 6, 30))))
        if r.random() < 0.05:
            out["recognitions"].append(("specialisedSme", "", self.day((2019, 1, 1), (2024, 6, 30))))
        if r.random() < 0.02:
            out["recognitions"].append(("firstSetEquipment", r.choice(["international", "domestic", "withinProvince", "withinCity"]), self.day((2020, 1, 1), (2024, 6, 30))))
        if r.random() < 0.35:
            out["facts"].append({"fact": "aboveDesignatedSize", "flag": r.random() < 0.8})
        if r.random() < 0.04:
            invest = r.choice([100_000_000, 99_999_999, r.randint(50_000_000, 2_000_000_000)])
            project = {"kind": "pureDigitalTransformation", "name": r.choice(["数字化车间", "智能工厂数字化项目", "企业上云", "MES系统建设"]),
                       "investmentFen": str(invest)}
            if r.random() < 0.8:
                project["completedOn"] = day_json(self.day((2022, 6, 1), (2024, 3, 31)))
            out["projects"].append(project)
            out["facts"].append({"fact": "digitalInvestment", "amount": str(int(invest * r.uniform(0.5, 1.0)))})
        if r.random() < 0.01:
            project = {"kind": "intelligentTechRenovation", "name": "智能化技术改造", "investmentFen": str(r.randint(1_000_000_000, 20_000_000_000)),
                       "completedOn": day_json(self.day((2022, 6, 1), (2024, 3, 31)))}
            out["projects"].append(project)

    SCENARIOS = [
        # (weight, method name, args)
        (16, "tiered", ("greenFactory", ["national", "provincial", "municipal"], [1, 3, 6])),
        (14, "tiered", ("enterpriseTechCentre", ["national", "provincial", "municipal"], [1, 3, 6])),
        (6, "tiered", ("firstVersionSoftware", ["provincial", "municipal"], [1, 2])),
        (3, "single_level", ("futureFactory", "provincial")),
        (5, "single_level", ("futureFactoryPilot", "provincial")),
        (8, "single_level", ("smartFactory", "provincial")),
        (2, "single_level", ("greenSupplyChainEnterprise", "national")),
        (2, "single_level", ("greenDesignDemoEnterprise", "national")),
        (4, "community", ()),
        (5, "first_listing", ()),
        (3, "champion", ("singleChampion", "national")),
        (6, "champion", ("littleGiant", "national")),
        (6, "champion", ("hiddenChampion", "provincial")),
    ]

    def scenario(self, out):
        r = self.r
        total = sum(w for w, _, _ in self.SCENARIOS)
        x = r.random() * total
        for weight, name, args in self.SCENARIOS:
            x -= weight
            if x < 0:
                getattr(self, name)(out, *args)
                return
        name, args = self.SCENARIOS[-1][1:]
        getattr(self, name)(out, *args)

    # -- one enterprise --------------------------------------------------------------------------------

    def profile(self, index: int) -> str:
        r = self.r
        x = r.random() * COUNTY_CUM[-1]
        county = COUNTIES[next(i for i, c in enumerate(COUNTY_CUM) if x < c)]
        industry = r.choice(INDUSTRIES)
        out = {"recognitions": [], "projects": [], "facts": []}
        u = r.random()
        if u < 0.47:
            pass  # nothing the encoded clauses pay for (noise only)
        elif u < 0.67:
            self.rd(out)
        elif u < 0.90:
            self.scenario(out)
        elif u < 0.95:
            self.scenario(out)
            self.rd(out)
        elif u < 0.98:
            for _ in range(r.randint(2, 3)):
                self.scenario(out)
        else:  # two clauses of one 就高不重复 group, and often a second group
            kind, level = r.choice([("singleChampion", "national"), ("littleGiant", "national"), ("hiddenChampion", "provincial")])
            out["recognitions"].append((kind, level, self.day((2023, 6, 15), (2023, 9, 1))))
            if r.random() < 0.4:
                out["recognitions"].append(("littleGiant" if kind != "littleGiant" else "hiddenChampion",
                                            "national" if kind != "littleGiant" else "provincial", self.day((2023, 1, 1), (2023, 9, 1))))
        self.noise(out)
        message = {
            "creditCode": self.credit_code(index, county[1]),
            "name": county[2] + r.choice(BRANDS) + r.choice(TRADES) + r.choice(SUFFIXES),
            "county": county[0],
        }
        if industry:
            message["industry"] = industry
        if out["recognitions"]:
            records = []
            for kind, level, d in out["recognitions"]:
                record = {"recognition": kind}
                if level:
                    record["level"] = level
                record["recognizedOn"] = day_json(d)
                records.append(record)
            r.shuffle(records)
            message["recognitions"] = records
        if out["projects"]:
            message["projects"] = out["projects"]
        if out["facts"]:
            message["facts"] = out["facts"]
        return json.dumps(message, ensure_ascii=False, separators=(",", ":"))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", required=True, help="output file ('-' for stdout)")
    parser.add_argument("--as-of", default="2023-09-01", help="the day the mix is tuned for (default 2023-09-01)")
    args = parser.parse_args(argv)
    as_of = tuple(int(x) for x in args.as_of.split("-"))
    generator = Generator(args.seed, as_of)
    started = time.perf_counter()
    out = sys.stdout if args.out == "-" else open(args.out, "w", encoding="utf-8")
    try:
        chunk = []
        for index in range(args.count):
            chunk.append(generator.profile(index))
            if len(chunk) == 10_000:
                out.write("\n".join(chunk) + "\n")
                chunk = []
        if chunk:
            out.write("\n".join(chunk) + "\n")
    finally:
        if out is not sys.stdout:
            out.close()
    print(f"wrote {args.count} profiles in {time.perf_counter() - started:.1f}s", file=sys.stderr)


if __name__ == "__main__":
    main()
