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
    static func tierCondition(of clause: Clause, recognition: String) -> (levels: [String]?, newInPeriod: Bool)? {
        for condition in clause.conditions {
            if case .recognition(recognition, let levels, let newInPeriod) = condition.kind {
                return (levels, newInPeriod)
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
        case .tiers(let recognition, let tiers):
            // The highest tier the enterprise holds, among the recognitions its conditions accept.
            let condition = EligibilityEngine.tierCondition(of: clause, recognition: recognition)
            let held = Set(
                self.recognitions(recognition, levels: condition?.levels, newInPeriod: condition?.newInPeriod ?? false)
                    .compactMap(\.level))
            guard let tier = tiers.filter({ held.contains($0.level) }).max(by: { $0.amountFen < $1.amountFen }) else {
                let levels = tiers.map { FactDescription.level($0.level) }.joined(separator: "、")
                return .init(
                    result: .fixed(0), calculation: "",
                    threshold: .init(
                        met: false, conditionText: clause.text,
                        factUsed: held.isEmpty ? "无" : held.map { FactDescription.level($0) }.joined(separator: "、"),
                        explanation: "未取得\(levels)\(self.recognitionName(recognition))认定"
                    ))
            }
            return .init(
                result: .fixed(tier.amountFen),
                calculation:
                    "\(FactDescription.level(tier.level))\(self.recognitionName(recognition))\(Money.chinese(tier.amountFen))"
            )
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
        case .interestSubsidy(let base, let rate, let cap, _), .insurancePremium(let base, let rate, let cap):
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
        case .manual(let reason):
            return .init(result: .open(reason), calculation: "")
        }
    }
}
