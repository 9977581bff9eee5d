import BenefitsDomain
import CatalogModel

extension EligibilityEngine {
    struct AmountResult {
        enum Result {
            /// The formula fixes the amount.
            case fixed(Fen)
            /// Decided by the department, up to a cap.
            case upTo(Fen?)
            /// The text leaves it open.
            case open(String)
        }

        var result: Result
        var calculation: String
        /// A threshold the formula itself sets (a minimum base), checked like a condition.
        var threshold: Decision.Check?
    }
}

extension EligibilityEngine {
    /// The clause's own condition on the recognition a tiers formula pays by: which of its records count.
    static func tierCondition(of clause: Clause, recognition: String) -> (
        levels: [String]?, newInPeriod: Bool, first: Bool
    )? {
        for condition in clause.conditions {
            if case .recognition(recognition, let levels, let newInPeriod, let first) = condition.kind {
                return (levels, newInPeriod, first)
            }
        }
        return nil
    }
}

extension EligibilityEngine.Context {
    /// `base × numerator ÷ denominator`, rounded down; nil on overflow (amounts are bounded well below it).
    static func scale(_ base: Int64, by numerator: Int64, over denominator: Int64) -> Int64? {
        let (product, overflow) = base.multipliedReportingOverflow(by: numerator)
        guard !overflow, denominator > 0 else { return nil }
        return product / denominator
    }

    /// One term of a `lowestOf` on its figure: times the amount per unit, or times the fraction, rounded
    /// down; nil on overflow.
    static func amount(of term: Formula.Term, _ value: Int64) -> Fen? {
        term.amountFenPerUnit.map { Self.scale(value, by: $0, over: 1) }
            ?? Self.scale(value, by: Int64(term.numerator ?? 1), over: Int64(term.denominator ?? 1))
    }

    func amount(_ formula: Formula, clause: Clause) -> EligibilityEngine.AmountResult {
        func capped(_ amount: Fen, _ cap: Fen?, _ calculation: String) -> EligibilityEngine.AmountResult {
            if let cap, amount > cap {
                return .init(result: .fixed(cap), calculation: "\(calculation), 最高\(Money.chinese(cap))")
            }
            return .init(result: .fixed(amount), calculation: calculation)
        }
        func missingBase(_ base: String) -> EligibilityEngine.AmountResult {
            .init(
                result: .fixed(0), calculation: "",
                threshold: .init(
                    met: false, conditionText: clause.text, factUsed: "未报送",
                    explanation: "未报送\(self.factName(base)), 无法计算金额"))
        }
        switch formula {
        case .fixed(let amount):
            return .init(result: .fixed(amount), calculation: "定额\(Money.chinese(amount))")
        case .tiers(let recognition, let tiers, let upTo):
            // The highest tier the enterprise holds, among the recognitions its conditions accept.
            let condition = EligibilityEngine.tierCondition(of: clause, recognition: recognition)
            let held = Set(
                self.recognitions(
                    recognition, levels: condition?.levels, newInPeriod: condition?.newInPeriod ?? false,
                    first: condition?.first ?? false
                )
                .compactMap(\.level))
            guard let tier = tiers.filter({ held.contains($0.level) }).max(by: { $0.amountFen < $1.amountFen }) else {
                let levels = tiers.map { self.vocabulary.levelName($0.level) }.joined(separator: "、")
                return .init(
                    result: .fixed(0), calculation: "",
                    threshold: .init(
                        met: false, conditionText: clause.text,
                        factUsed: held.isEmpty
                            ? "无" : held.map { self.vocabulary.levelName($0) }.joined(separator: "、"),
                        explanation: "未取得\(levels)\(self.recognitionName(recognition))认定"
                    ))
            }
            let heldText = "\(self.vocabulary.levelName(tier.level))\(self.recognitionName(recognition))"
            if upTo {
                return .init(
                    result: .upTo(tier.amountFen), calculation: "\(heldText)最高\(Money.chinese(tier.amountFen)), 由责任单位核定"
                )
            }
            return .init(result: .fixed(tier.amountFen), calculation: "\(heldText)\(Money.chinese(tier.amountFen))")
        case .tierShare(let recognition, let tiers, let rate):
            var result = self.amount(.tiers(recognition: recognition, tiers: tiers, upTo: false), clause: clause)
            guard case .fixed(let tier) = result.result, tier > 0,
                let share = Self.scale(tier, by: Int64(rate), over: 10_000)
            else { return result }
            result.result = .fixed(share)
            result.calculation += " × \(Money.percent(basisPoints: rate)) = \(Money.chinese(share))"
            return result
        case .thresholdTiers(let fact, let tiers, let newlyReached):
            return self.thresholdTierAmount(fact: fact, tiers: tiers, newlyReached: newlyReached, clause: clause)
        case .bands(let bands):
            let top = bands.map(\.amountFen).max()
            return .init(
                result: .upTo(top),
                calculation: "分档: " + bands.map { "\($0.band)档\(Money.chinese($0.amountFen))" }.joined(separator: ", "))
        case .percentage(let base, let rate, let minimum, let cap):
            guard let (value, year) = self.amount(of: base) else { return missingBase(base) }
            let used = self.describe(base, value, year: year)
            var threshold: Decision.Check?
            if let minimum {
                let met = value >= minimum
                threshold = .init(
                    met: met, conditionText: clause.text, factUsed: used,
                    explanation: met
                        ? "\(used), 不低于\(Money.chinese(minimum))"
                        : "\(self.factName(base))需不低于\(Money.chinese(minimum)), 现为\(Money.chinese(value))",
                    nearMiss: !met && Self.isNear(value, to: minimum)
                        ? "\(self.factName(base))需不低于\(Money.chinese(minimum)), 现为\(Money.chinese(value)), 差\(Money.chinese(minimum - value))"
                        : nil
                )
            }
            guard let amount = Self.scale(value, by: Int64(rate), over: 10_000) else { return missingBase(base) }
            var result = capped(amount, cap, "\(used) × \(Money.percent(basisPoints: rate)) = \(Money.chinese(amount))")
            result.threshold = threshold
            return result
        case .ratioMatch(let base, let numerator, let denominator, let cap):
            guard let (value, year) = self.amount(of: base),
                let amount = Self.scale(value, by: Int64(numerator), over: Int64(denominator))
            else { return missingBase(base) }
            return capped(
                amount, cap,
                "\(self.describe(base, value, year: year)) × \(numerator)/\(denominator) = \(Money.chinese(amount))")
        case .insurancePremium(let base, let rate, let cap, let premiumRateCap?):
            guard let (premium, year) = self.amount(of: base) else { return missingBase(base) }
            guard let (insured, insuredYear) = self.amount(of: premiumRateCap.insuredBase) else {
                return missingBase(premiumRateCap.insuredBase)
            }
            guard let ceiling = Self.scale(insured, by: Int64(premiumRateCap.basisPoints), over: 10_000) else {
                return missingBase(premiumRateCap.insuredBase)
            }
            let counted = min(premium, ceiling)
            guard let amount = Self.scale(counted, by: Int64(rate), over: 10_000) else { return missingBase(base) }
            let premiumText = self.describe(base, premium, year: year)
            let countedText =
                counted < premium
                ? "\(premiumText), 按\(self.describe(premiumRateCap.insuredBase, insured, year: insuredYear))的\(Money.percent(basisPoints: premiumRateCap.basisPoints))计\(Money.chinese(counted))"
                : premiumText
            return capped(
                amount, cap, "\(countedText) × \(Money.percent(basisPoints: rate)) = \(Money.chinese(amount))")
        case .interestSubsidy(let base, let rate, let cap, _), .insurancePremium(let base, let rate, let cap, nil):
            guard let (value, year) = self.amount(of: base),
                let amount = Self.scale(value, by: Int64(rate), over: 10_000)
            else { return missingBase(base) }
            return capped(
                amount, cap,
                "\(self.describe(base, value, year: year)) × \(Money.percent(basisPoints: rate)) = \(Money.chinese(amount))"
            )
        case .perUnit(let base, let perUnit, let cap):
            guard let (value, year) = self.amount(of: base), let amount = Self.scale(value, by: perUnit, over: 1) else {
                return missingBase(base)
            }
            return capped(
                amount, cap,
                "\(self.describe(base, value, year: year)) × \(Money.chinese(perUnit)) = \(Money.chinese(amount))")
        case .capOnly(let cap):
            return .init(result: .upTo(cap), calculation: "最高\(Money.chinese(cap)), 由责任单位核定")
        case .lowestOf(let terms):
            var parts: [(amount: Fen, words: String)] = []
            for term in terms {
                guard let (value, year) = self.amount(of: term.base), let amount = Self.amount(of: term, value) else {
                    return missingBase(term.base)
                }
                let how =
                    term.amountFenPerUnit.map { "× \(Money.chinese($0))" }
                    ?? (term.denominator == 1 ? "" : "× \(term.numerator ?? 1)/\(term.denominator ?? 1)")
                parts.append(
                    (amount, "\(self.describe(term.base, value, year: year))\(how) = \(Money.chinese(amount))"))
            }
            let lowest = parts.map(\.amount).min() ?? 0
            return .init(
                result: .fixed(lowest),
                calculation: "取低: " + parts.map(\.words).joined(separator: "; ") + ", 取\(Money.chinese(lowest))")
        case .manual(let reason):
            return .init(result: .open(reason), calculation: "")
        }
    }
}

extension EligibilityEngine.Context {
    /// The tier of the highest threshold `fact` reaches (with `newlyReached`: reaches in its latest year and did
    /// not the year before, which must be reported). Falling short of every threshold is a check that fails,
    /// near where the lowest one is close.
    func thresholdTierAmount(fact: String, tiers: [Formula.ThresholdTier], newlyReached: Bool, clause: Clause)
        -> EligibilityEngine.AmountResult
    {
        let unit = self.unit(fact)
        let name = self.factName(fact)
        func failing(_ used: String, _ explanation: String, nearMiss: String? = nil) -> EligibilityEngine.AmountResult {
            .init(
                result: .fixed(0), calculation: "",
                threshold: .init(
                    met: false, conditionText: clause.text, factUsed: used, explanation: explanation, nearMiss: nearMiss
                ))
        }
        guard let lowest = tiers.first else { return failing("无", "条款未列金额档次") }
        guard let (value, year) = self.amount(of: fact) else { return failing("未报送", "未报送\(name), 无法确定档次") }
        let used = self.describe(fact, value, year: year)
        var previous: Int64?
        if newlyReached {
            guard year != 0, let reported = self.amount(of: fact, inYear: year - 1) else {
                return failing(used, "未报送\(year - 1)年\(name), 无法确认\(year)年新达到的档次")
            }
            previous = reported
        }
        let newlyReachedTiers = tiers.filter { tier in
            value >= tier.atLeast && previous.map { $0 < tier.atLeast } ?? true
        }
        guard let top = newlyReachedTiers.last else {
            let usedBoth = used + (previous.map { "; " + self.describe(fact, $0, year: year - 1) } ?? "")
            if value >= lowest.atLeast {
                return failing(
                    usedBoth,
                    "\(year - 1)年已达到\(FactDescription.value(lowest.atLeast, unit: unit))及以上档次, \(year)年未新达到更高档次")
            }
            let now = FactDescription.value(value, unit: unit)
            let required = FactDescription.value(lowest.atLeast, unit: unit)
            return failing(
                usedBoth, "\(name)需达到\(required), 现为\(now)",
                nearMiss: Self.isNear(value, to: lowest.atLeast)
                    ? "\(name)需达到\(required), 现为\(now), 差\(FactDescription.value(lowest.atLeast - value, unit: unit))"
                    : nil)
        }
        let reachedText = FactDescription.value(top.atLeast, unit: unit)
        return .init(
            result: .fixed(top.amountFen),
            calculation: "\(used), \(newlyReached ? "新达到" : "达到")\(reachedText)档, \(Money.chinese(top.amountFen))")
    }
}
