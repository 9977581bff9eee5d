import BenefitsDomain
import CatalogModel

extension EligibilityEngine {
    /// A value counts as nearly meeting a threshold from this share of it (basis points).
    static let nearMissShare: Int64 = 5_000

    /// One profile on one day, against one document's period.
    struct Context {
        let profile: EnterpriseProfile
        let vocabulary: VocabularyIndex
        let asOf: CalendarDate
        /// The document's effective period up to `asOf`: 新认定 / 验收 within it count as new.
        let period: ClosedRange<CalendarDate>

        func factName(_ id: String) -> String { self.vocabulary.fact(id)?.name ?? id }
        func recognitionName(_ id: String) -> String { self.vocabulary.recognition(id)?.name ?? id }
        func unit(_ fact: String) -> Vocabulary.Fact.Unit { self.vocabulary.fact(fact)?.unit ?? .count }

        func amount(of fact: String) -> (value: Int64, year: Int)? {
            guard let (value, year) = self.profile.fact(fact, asOfYear: self.asOf.year),
                case .amount(let amount) = value
            else { return nil }
            return (amount, year)
        }

        func describe(_ fact: String, _ value: Int64, year: Int) -> String {
            Self.describe(name: self.factName(fact), unit: self.unit(fact), value, year: year)
        }

        /// The same, with the fact's name and unit already looked up.
        static func describe(name: String, unit: Vocabulary.Fact.Unit, _ value: Int64, year: Int) -> String {
            "\(name)\(year == 0 ? "" : "(\(year)年)")\(FactDescription.value(value, unit: unit))"
        }

        /// Who vouches for a fact's value, as a suffix of the fact used: "（据市科技局 …）", or nothing.
        func vouched(_ fact: String, year: Int) -> String {
            Self.vouched(self.profile.factSources[fact]?[year])
        }

        static func vouched(_ source: String?) -> String { source.map { "（\($0)）" } ?? "" }

        static func isNear(_ value: Int64, to threshold: Int64) -> Bool {
            threshold > 0
                && value.multipliedReportingOverflow(by: 10_000).partialValue
                    >= threshold.multipliedReportingOverflow(by: EligibilityEngine.nearMissShare).partialValue
        }

        /// The recognitions of `id` that count: held by `asOf`, at one of `levels`, and new in the period if asked;
        /// with `first` (首次), none where the enterprise held `id` at any level before the period.
        func recognitions(_ id: String, levels: [String]?, newInPeriod: Bool, first: Bool = false)
            -> [EnterpriseProfile.RecognitionRecord]
        {
            if first, self.earlierRecognition(id) != nil { return [] }
            return (self.profile.recognitions[id] ?? []).filter { record in
                record.recognizedOn <= self.asOf
                    && (levels.map { record.level.map($0.contains) ?? false } ?? true)
                    && (!(newInPeriod || first) || self.period.contains(record.recognizedOn))
            }
        }

        /// The enterprise's earliest record of `id` from before the period: what makes a recognition in the
        /// period a re-recognition rather than a first one.
        func earlierRecognition(_ id: String) -> EnterpriseProfile.RecognitionRecord? {
            (self.profile.recognitions[id] ?? []).filter { $0.recognizedOn < self.period.lowerBound }
                .min { $0.recognizedOn < $1.recognizedOn }
        }

        func holds(recognition id: String) -> Bool {
            (self.profile.recognitions[id] ?? []).contains { $0.recognizedOn <= self.asOf }
        }

        func flag(_ fact: String) -> Bool? {
            guard let (value, _) = self.profile.fact(fact, asOfYear: self.asOf.year), case .flag(let flag) = value
            else { return nil }
            return flag
        }

        /// The threshold that applies to this enterprise: the first override it meets, else the condition's own.
        func threshold(_ value: Int64, _ overrides: [Condition.ThresholdOverride]) -> (
            value: Int64, override: Condition.ThresholdOverride?
        ) {
            for override in overrides {
                if let recognition = override.whenRecognition, self.holds(recognition: recognition) {
                    return (override.value, override)
                }
                if let flag = override.whenFlag, self.flag(flag) == true { return (override.value, override) }
            }
            return (value, nil)
        }

        /// The amount of the first year reported up to the screening's year (首年), and that year.
        func firstAmount(of fact: String) -> (value: Int64, year: Int)? {
            guard let values = self.profile.facts[fact] else { return nil }
            if case .amount(let amount)? = values[0] { return (amount, 0) }
            var first: (value: EnterpriseProfile.FactValue, year: Int)?
            for (year, value) in values where year != 0 && year <= self.asOf.year && year < (first?.year ?? Int.max) {
                first = (value, year)
            }
            guard let first, case .amount(let amount) = first.value else { return nil }
            return (amount, first.year)
        }

        /// The amount reported for exactly `year`, if any (for 新达到: the year before the latest).
        func amount(of fact: String, inYear year: Int) -> Int64? {
            guard case .amount(let amount)? = self.profile.facts[fact]?[year] else { return nil }
            return amount
        }

        /// Whether the enterprise is one the exclusion names: its flag is true, or it is in one of the industries.
        func isExcluded(fact: String?, industries: [String]) -> Bool {
            if let fact, self.flag(fact) == true { return true }
            return self.profile.industry.map(industries.contains) ?? false
        }

        /// Whether the condition fails with nothing near about it, decided without building any text: a
        /// recognition never held, an amount or flag never reported. `check` says the same, with words.
        func plainlyFails(_ condition: Condition) -> Bool {
            switch condition.kind {
            case .recognition(let id, _, _, _):
                return !self.holds(recognition: id)
            case .atLeast(let fact, let value, let overrides, _):
                return self.amount(of: fact) == nil && self.threshold(value, overrides).value > 0
            case .below(let fact, _):
                return self.amount(of: fact) == nil
            case .anyOf(let alternatives):
                return alternatives.allSatisfy(self.plainlyFails)
            case .exclusion(let fact, let industries):
                return self.isExcluded(fact: fact, industries: industries)
            case .flag(let fact):
                guard let (value, _) = self.profile.fact(fact, asOfYear: self.asOf.year), case .flag = value else {
                    return true
                }
                return false
            case .project(let kind, _, _):
                return self.profile.projects[kind]?.isEmpty ?? true
            default:
                return false
            }
        }

        /// 不低于 / 以上 / 达到, at the threshold that applies to this enterprise; with `newlyReached` (新达到),
        /// the latest year reaches it and the year before, which must be reported, did not; with `first` (首年),
        /// the first year reported reaches it.
        func checkAtLeast(
            fact: String, threshold: (value: Int64, override: Condition.ThresholdOverride?),
            year rule: Condition.YearRule,
            text: String
        ) -> Decision.Check {
            let newlyReached = rule == .newlyReached
            // Looked up once: the name and unit go into most of the words below.
            let declared = self.vocabulary.fact(fact)
            let unit = declared?.unit ?? .count
            let name = declared?.name ?? fact
            let required = FactDescription.value(threshold.value, unit: unit)
            let whose = threshold.override.map { "(\($0.text ?? "按本企业类别"))" } ?? ""
            if threshold.value <= 0, !newlyReached {
                return .init(
                    met: true, conditionText: text, factUsed: "不适用",
                    explanation: "条款对本企业类别无\(name)要求")
            }
            guard let (value, year) = rule == .first ? self.firstAmount(of: fact) : self.amount(of: fact) else {
                return .init(met: false, conditionText: text, factUsed: "未报送", explanation: "未报送\(name)")
            }
            let used =
                (rule == .first ? "首年" : "") + Self.describe(name: name, unit: unit, value, year: year)
                + self.vouched(fact, year: year)
            guard value >= threshold.value else {
                let now = FactDescription.value(value, unit: unit)
                return .init(
                    met: false, conditionText: text, factUsed: used,
                    explanation: "\(name)需不低于\(required)\(whose), 现为\(now)",
                    nearMiss: Self.isNear(value, to: threshold.value)
                        ? "\(name)需不低于\(required)\(whose), 现为\(now), 差\(FactDescription.value(threshold.value - value, unit: unit))"
                        : nil
                )
            }
            if newlyReached {
                guard year != 0, let previous = self.amount(of: fact, inYear: year - 1) else {
                    return .init(
                        met: false, conditionText: text, factUsed: used,
                        explanation: "未报送\(year - 1)年\(name), 无法确认\(year)年为新达到\(required)")
                }
                if previous >= threshold.value {
                    return .init(
                        met: false, conditionText: text,
                        factUsed: "\(used); \(Self.describe(name: name, unit: unit, previous, year: year - 1))",
                        explanation: "\(year - 1)年已达到\(required), 非\(year)年新达到")
                }
                return .init(
                    met: true, conditionText: text,
                    factUsed: "\(used); \(Self.describe(name: name, unit: unit, previous, year: year - 1))",
                    explanation: "\(year)年新达到\(required)(上年\(FactDescription.value(previous, unit: unit)))")
            }
            return .init(met: true, conditionText: text, factUsed: used, explanation: "\(used), 不低于\(required)\(whose)")
        }

        func check(_ condition: Condition, clauseText: String) -> Decision.Check {
            let text = condition.text ?? clauseText
            switch condition.kind {
            case .recognition(let id, let levels, let newInPeriod, let first):
                let name = self.recognitionName(id)
                let held = (self.profile.recognitions[id] ?? []).filter { $0.recognizedOn <= self.asOf }
                let counting = self.recognitions(id, levels: levels, newInPeriod: newInPeriod, first: first)
                let describe = { (record: EnterpriseProfile.RecognitionRecord) in
                    "\(name) \(self.vocabulary.levelName(record.level)) \(record.recognizedOn)认定"
                        + Self.vouched(record.source)
                }
                if let record = counting.max(by: { $0.recognizedOn < $1.recognizedOn }) {
                    let used = describe(record)
                    return .init(met: true, conditionText: text, factUsed: used, explanation: "已认定: \(used)")
                }
                guard let record = held.max(by: { $0.recognizedOn < $1.recognizedOn }) else {
                    return .init(met: false, conditionText: text, factUsed: "无", explanation: "未取得\(name)认定")
                }
                if first, let earlier = self.earlierRecognition(id) {
                    return .init(
                        met: false, conditionText: text, factUsed: describe(earlier),
                        explanation: "\(name)首次认定于\(earlier.recognizedOn), 政策期内为重新认定, 条款限首次认定")
                }
                if let levels, !(record.level.map(levels.contains) ?? false) {
                    let wanted = levels.map { self.vocabulary.levelName($0) }.joined(separator: "或")
                    return .init(
                        met: false, conditionText: text, factUsed: describe(record),
                        explanation: "\(name)认定级别为\(self.vocabulary.levelName(record.level)), 条款要求\(wanted)",
                        nearMiss: "需取得\(wanted)\(name)认定, 现为\(self.vocabulary.levelName(record.level))"
                    )
                }
                return .init(
                    met: false, conditionText: text, factUsed: describe(record),
                    explanation: "\(name)认定于\(record.recognizedOn), 不在政策期内新认定(\(FactDescription.period(self.period)))"
                )
            case .atLeast(let fact, let value, let overrides, let year):
                return self.checkAtLeast(
                    fact: fact, threshold: self.threshold(value, overrides), year: year, text: text)
            case .anyOf(let alternatives):
                let checks = alternatives.map { self.check($0, clauseText: clauseText) }
                if let met = checks.first(where: \.met) {
                    return .init(
                        met: true, conditionText: text, factUsed: met.factUsed, explanation: "满足其一: \(met.explanation)")
                }
                let near = checks.compactMap(\.nearMiss)
                return .init(
                    met: false, conditionText: text, factUsed: checks.map(\.factUsed).joined(separator: "; "),
                    explanation: "以下任一项均未达到: " + checks.map(\.explanation).joined(separator: "; "),
                    nearMiss: near.isEmpty ? nil : near.joined(separator: "; 或"))
            case .exclusion(let fact, let industries):
                let names =
                    (fact.map { [self.factName($0)] } ?? [])
                    + industries.map { id in self.vocabulary.industryName(id) }
                if self.isExcluded(fact: fact, industries: industries) {
                    return .init(
                        met: false, conditionText: text, factUsed: "属于: \(names.joined(separator: "、"))",
                        explanation: "条款明确不享受: \(names.joined(separator: "、"))")
                }
                let reported = fact.map { self.flag($0) == nil } ?? false
                return .init(
                    met: true, conditionText: text,
                    factUsed: "不属于\(names.joined(separator: "、"))" + (reported ? " (未报送, 按不属于处理)" : ""),
                    explanation: "不属于条款排除的\(names.joined(separator: "、"))")
            case .below(let fact, let threshold):
                let thresholdText = FactDescription.value(threshold, unit: self.unit(fact))
                guard let (value, year) = self.amount(of: fact) else {
                    return .init(
                        met: false, conditionText: text, factUsed: "未报送", explanation: "未报送\(self.factName(fact))")
                }
                let used = self.describe(fact, value, year: year) + self.vouched(fact, year: year)
                return value < threshold
                    ? .init(met: true, conditionText: text, factUsed: used, explanation: "\(used), 低于\(thresholdText)")
                    : .init(
                        met: false, conditionText: text, factUsed: used,
                        explanation:
                            "\(self.factName(fact))需低于\(thresholdText), 现为\(FactDescription.value(value, unit: self.unit(fact)))"
                    )
            case .flag(let fact):
                guard let (value, year) = self.profile.fact(fact, asOfYear: self.asOf.year),
                    case .flag(let flag) = value
                else {
                    return .init(
                        met: false, conditionText: text, factUsed: "未报送", explanation: "未报送\(self.factName(fact))")
                }
                return .init(
                    met: flag, conditionText: text,
                    factUsed: "\(self.factName(fact)): \(flag ? "是" : "否")\(self.vouched(fact, year: year))",
                    explanation: flag ? "\(self.factName(fact)): 是" : "不符合: \(self.factName(fact))")
            case .project(let kind, let minimum, let completedInPeriod):
                let name = self.vocabulary.projectKindName(kind)
                let projects = (self.profile.projects[kind] ?? []).filter { project in
                    guard completedInPeriod else { return true }
                    return project.completedOn.map(self.period.contains) ?? false
                }
                guard let best = projects.max(by: { $0.investmentFen < $1.investmentFen }) else {
                    let any = !(self.profile.projects[kind] ?? []).isEmpty
                    return .init(
                        met: false, conditionText: text, factUsed: any ? "有\(name)项目, 未在政策期内验收" : "无",
                        explanation: any ? "\(name)项目未在\(FactDescription.period(self.period))内完成验收" : "无\(name)项目")
                }
                let used =
                    "\(name)\(best.name.isEmpty ? "" : "「\(best.name)」")投资\(Money.chinese(best.investmentFen))"
                    + (best.completedOn.map { ", \($0)验收" } ?? "") + Self.vouched(best.source)
                if let minimum, best.investmentFen < minimum {
                    return .init(
                        met: false, conditionText: text, factUsed: used,
                        explanation: "项目投资需不低于\(Money.chinese(minimum)), 现为\(Money.chinese(best.investmentFen))",
                        nearMiss: Self.isNear(best.investmentFen, to: minimum)
                            ? "项目投资需不低于\(Money.chinese(minimum)), 现为\(Money.chinese(best.investmentFen)), 差\(Money.chinese(minimum - best.investmentFen))"
                            : nil
                    )
                }
                return .init(met: true, conditionText: text, factUsed: used, explanation: used)
            case .industry(let industries):
                let names = industries.map { id in self.vocabulary.industryName(id) }
                guard let industry = self.profile.industry else {
                    return .init(
                        met: false, conditionText: text, factUsed: "未登记行业",
                        explanation: "条款限于\(names.joined(separator: "、"))")
                }
                let name = self.vocabulary.industryName(industry)
                return industries.contains(industry)
                    ? .init(met: true, conditionText: text, factUsed: name, explanation: "行业: \(name)")
                    : .init(
                        met: false, conditionText: text, factUsed: name,
                        explanation: "行业为\(name), 条款限于\(names.joined(separator: "、"))")
            case .county(let counties):
                let name = self.profile.county.chineseName
                return counties.contains(name)
                    ? .init(met: true, conditionText: text, factUsed: name, explanation: "属地: \(name)")
                    : .init(
                        met: false, conditionText: text, factUsed: name,
                        explanation: "属地为\(name), 条款限于\(counties.joined(separator: "、"))")
            }
        }
    }
}
