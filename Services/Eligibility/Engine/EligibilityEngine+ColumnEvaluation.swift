import BenefitsDomain
import CatalogModel

extension EligibilityEngine {
    /// One clause at a time over `EnterpriseColumns`: the enterprises it pays and how much, by the rules
    /// `Context.check` and `Context.amount` apply to one enterprise. Facts resolved as of the year are kept
    /// for the clauses after.
    struct ColumnEvaluation {
        let columns: EnterpriseColumns
        let vocabulary: Vocabulary
        let asOf: CalendarDate
        let asOfDay: Int32
        /// The current document's period up to `asOf`, as day numbers.
        var period: ClosedRange<Int32> = 0...0
        private var resolvedAmounts: [String: [Int64]] = [:]
        private var resolvedFlags: [String: [Int64]] = [:]
        /// Per enterprise, the best tier amount found so far; -1 where none (reset after each use).
        private var tierScratch: [Int64]

        init(columns: EnterpriseColumns, vocabulary: Vocabulary, asOf: CalendarDate) {
            self.columns = columns
            self.vocabulary = vocabulary
            self.asOf = asOf
            self.asOfDay = Int32(asOf.dayNumber)
            self.tierScratch = [Int64](repeating: -1, count: columns.count)
        }

        /// The enterprises `clause` pays (ascending) and the amounts after caps, all above zero; nil for a
        /// clause whose formula never fixes an amount (the department decides it, so it is never proposed).
        mutating func evaluate(_ clause: Clause) -> (enterprises: [Int32], amounts: [Fen])? {
            switch clause.formula {
            case .tiers(_, _, upTo: true): return nil
            case .fixed, .tiers, .tierShare, .thresholdTiers, .percentage, .ratioMatch, .interestSubsidy,
                .insurancePremium,
                .perUnit:
                break
            case .bands, .capOnly, .manual: return nil
            case .lowestOf: break
            }
            // Start from the holders of what the clause names, the smallest sets.
            var candidates: [Int32]?
            for condition in clause.conditions {
                let holders: [Int32]
                switch condition.kind {
                case .recognition(let id, let levels, let newInPeriod, let first):
                    holders = self.recognitionHolders(id, levels: levels, newInPeriod: newInPeriod, first: first)
                case .project(let kind, let minimum, let completedInPeriod):
                    holders = self.projectHolders(kind, minimum: minimum, completedInPeriod: completedInPeriod)
                default:
                    continue
                }
                candidates = candidates.map { Self.intersection($0, holders) } ?? holders
            }
            var enterprises = candidates ?? (0..<Int32(self.columns.count)).map { $0 }
            for condition in clause.conditions where !enterprises.isEmpty {
                switch condition.kind {
                case .recognition, .project:
                    continue
                case .atLeast(let fact, let threshold, let overrides, let year):
                    if overrides.isEmpty, year == .latest {
                        let values = self.amounts(fact)
                        enterprises.removeAll {
                            threshold > 0
                                && (values[Int($0)] == EnterpriseColumns.notReported || values[Int($0)] < threshold)
                        }
                    } else {
                        enterprises = self.keeping(enterprises, condition)
                    }
                case .anyOf, .exclusion:
                    enterprises = self.keeping(enterprises, condition)
                case .below(let fact, let threshold):
                    let values = self.amounts(fact)
                    enterprises.removeAll {
                        values[Int($0)] == EnterpriseColumns.notReported || values[Int($0)] >= threshold
                    }
                case .flag(let fact):
                    let values = self.flags(fact)
                    enterprises.removeAll { values[Int($0)] != 1 }
                case .industry(let industries):
                    let accepted = Set(industries.compactMap { self.columns.industries[$0] })
                    enterprises.removeAll { !accepted.contains(self.columns.industry[Int($0)]) }
                case .county(let counties):
                    let accepted = EnterpriseColumns.countyCodes { counties.contains($0.chineseName) }
                    enterprises.removeAll { !accepted.contains(self.columns.county[Int($0)]) }
                }
            }
            // An amount of 0 (no tier held, base not reported or under its minimum, overflow) is not paid.
            var amounts: [Fen]
            if clause.perItem {
                switch clause.itemCondition?.kind {
                case .project(let kind, let minimum, let completedInPeriod)?:
                    amounts = self.projectItemAmounts(
                        clause, kind: kind, minimum: minimum, completedInPeriod: completedInPeriod, for: enterprises)
                case .recognition(let id, let levels, let newInPeriod, _)?:
                    amounts = self.recognitionItemAmounts(
                        clause, id: id, levels: levels, newInPeriod: newInPeriod, for: enterprises)
                default:
                    return nil
                }
            } else {
                amounts = self.formulaAmounts(clause, for: enterprises)
            }
            var kept = 0
            for position in enterprises.indices {
                var fen = amounts[position]
                if !clause.perItem, let cap = clause.perYearCapFen, fen > cap { fen = cap }
                if let cap = clause.cumulativeCapFen, fen > cap { fen = cap }
                guard fen > 0 else { continue }
                (enterprises[kept], amounts[kept]) = (enterprises[position], fen)
                kept += 1
            }
            enterprises.removeLast(enterprises.count - kept)
            amounts.removeLast(amounts.count - kept)
            return (enterprises, amounts)
        }

        /// The formula's amount for each enterprise, 0 where it cannot be computed (no tier held, base not
        /// reported or under its minimum, overflow).
        private mutating func formulaAmounts(_ clause: Clause, for enterprises: [Int32]) -> [Fen] {
            func scaled(_ base: String, by numerator: Int64, over denominator: Int64, minimum: Fen? = nil, cap: Fen?)
                -> [Fen]
            {
                let values = self.amounts(base)
                return enterprises.map { enterprise in
                    let value = values[Int(enterprise)]
                    guard value != EnterpriseColumns.notReported, value >= minimum ?? 0,
                        let amount = Context.scale(value, by: numerator, over: denominator)
                    else { return 0 }
                    return cap.map { min(amount, $0) } ?? amount
                }
            }
            switch clause.formula {
            case .fixed(let amount):
                return [Fen](repeating: amount, count: enterprises.count)
            case .tiers(let recognition, let tiers, _):
                return self.tierAmounts(clause, recognition: recognition, tiers: tiers, for: enterprises)
            case .tierShare(let recognition, let tiers, let rate):
                return self.tierAmounts(clause, recognition: recognition, tiers: tiers, for: enterprises).map {
                    Context.scale($0, by: Int64(rate), over: 10_000) ?? 0
                }
            case .thresholdTiers(let fact, let tiers, let newlyReached):
                let (values, previous) =
                    newlyReached
                    ? self.columns.resolvedWithPrevious(fact, asOfYear: self.asOf.year)
                    : (self.amounts(fact), [])
                return enterprises.map { enterprise in
                    let value = values[Int(enterprise)]
                    guard value != EnterpriseColumns.notReported else { return 0 }
                    let before = newlyReached ? previous[Int(enterprise)] : Int64.min
                    if newlyReached, before == EnterpriseColumns.notReported { return 0 }
                    return tiers.last { value >= $0.atLeast && before < $0.atLeast }?.amountFen ?? 0
                }
            case .percentage(let base, let rate, let minimum, let cap):
                return scaled(base, by: Int64(rate), over: 10_000, minimum: minimum, cap: cap)
            case .ratioMatch(let base, let numerator, let denominator, let cap):
                return scaled(base, by: Int64(numerator), over: Int64(denominator), cap: cap)
            case .insurancePremium(let base, let rate, let cap, let premiumRateCap?):
                let (premiums, insured) = (self.amounts(base), self.amounts(premiumRateCap.insuredBase))
                return enterprises.map { enterprise in
                    let (premium, insured) = (premiums[Int(enterprise)], insured[Int(enterprise)])
                    guard premium != EnterpriseColumns.notReported, insured != EnterpriseColumns.notReported,
                        let ceiling = Context.scale(insured, by: Int64(premiumRateCap.basisPoints), over: 10_000),
                        let amount = Context.scale(min(premium, ceiling), by: Int64(rate), over: 10_000)
                    else { return 0 }
                    return cap.map { min(amount, $0) } ?? amount
                }
            case .interestSubsidy(let base, let rate, let cap, _), .insurancePremium(let base, let rate, let cap, nil):
                return scaled(base, by: Int64(rate), over: 10_000, cap: cap)
            case .perUnit(let base, let perUnit, let cap):
                return scaled(base, by: perUnit, over: 1, cap: cap)
            case .lowestOf(let terms):
                var lowest = [Fen](repeating: Fen.max, count: enterprises.count)
                for term in terms {
                    let values = self.amounts(term.base)
                    for (position, enterprise) in enterprises.enumerated() {
                        let value = values[Int(enterprise)]
                        let amount =
                            value == EnterpriseColumns.notReported
                            ? 0 : Self.termAmount(term, value)
                        lowest[position] = min(lowest[position], amount)
                    }
                }
                return lowest.map { $0 == Fen.max ? 0 : $0 }
            case .bands, .capOnly, .manual:
                return [Fen](repeating: 0, count: enterprises.count)
            }
        }

        /// A per-item clause's amount for each enterprise over its projects of `kind` that count (accepted in
        /// the period if asked, investing at least `minimum`): the formula on each record's own figures.
        private func projectItemAmounts(
            _ clause: Clause, kind: String, minimum: Fen?, completedInPeriod: Bool, for enterprises: [Int32]
        ) -> [Fen] {
            guard let records = self.columns.projects[kind] else {
                return [Fen](repeating: 0, count: enterprises.count)
            }
            func amount(_ figures: [String: Int64]) -> Fen {
                func scaled(_ base: String, _ numerator: Int64, _ denominator: Int64, minimum: Fen?, cap: Fen?) -> Fen {
                    guard let value = figures[base], value >= minimum ?? 0,
                        let amount = Context.scale(value, by: numerator, over: denominator)
                    else { return 0 }
                    return cap.map { min(amount, $0) } ?? amount
                }
                switch clause.formula {
                case .fixed(let amount): return amount
                case .percentage(let base, let rate, let minimum, let cap):
                    return scaled(base, Int64(rate), 10_000, minimum: minimum, cap: cap)
                case .ratioMatch(let base, let numerator, let denominator, let cap):
                    return scaled(base, Int64(numerator), Int64(denominator), minimum: nil, cap: cap)
                case .perUnit(let base, let perUnit, let cap):
                    return scaled(base, perUnit, 1, minimum: nil, cap: cap)
                case .lowestOf(let terms):
                    return terms.map { term in figures[term.base].map { Self.termAmount(term, $0) } ?? 0 }.min() ?? 0
                default: return 0
                }
            }
            let items = records.owner.indices.lazy.compactMap { record -> Item? in
                let day = records.completedOn[record]
                if completedInPeriod {
                    guard day != Int32.min, self.period.contains(day) else { return nil }
                }
                guard records.investmentFen[record] >= minimum ?? 0 else { return nil }
                return Item(owner: records.owner[record], day: day, fen: amount(records.figures[record]))
            }
            return self.summing(items, clause, for: enterprises)
        }

        /// A per-item clause's amount for each enterprise over its records of recognition `id` that count (of
        /// `levels`, new in the period if asked): the fixed amount, or the tier of each record's own level.
        private func recognitionItemAmounts(
            _ clause: Clause, id: String, levels: [String]?, newInPeriod: Bool, for enterprises: [Int32]
        ) -> [Fen] {
            guard let records = self.columns.recognitions[id] else {
                return [Fen](repeating: 0, count: enterprises.count)
            }
            var fixed: Fen?
            var byLevel: [Fen] = []
            switch clause.formula {
            case .fixed(let amount):
                fixed = amount
            case .tiers(id, let tiers, _):
                byLevel = self.tierTable(tiers)
            default:
                return [Fen](repeating: 0, count: enterprises.count)
            }
            let mask = self.levelMask(levels)
            let items = records.owner.indices.lazy.compactMap { record -> Item? in
                guard self.counts(records, record, mask: mask, newInPeriod: newInPeriod) else { return nil }
                let level = Int(records.level[record])
                return Item(
                    owner: records.owner[record], day: records.recognizedOn[record],
                    fen: fixed ?? (level >= 0 ? max(byLevel[level], 0) : 0))
            }
            return self.summing(items, clause, for: enterprises)
        }

        /// One item a per-item clause pays: its enterprise, the day it counts from (`Int32.min` where none)
        /// and its amount before the caps across items.
        private struct Item {
            var owner: Int32
            var day: Int32
            var fen: Fen
        }

        /// Each enterprise's items summed, as `capAcrossItems` caps them one by one: each year's items (the
        /// as-of year for an item without a day) within the per-year cap; the cumulative cap applies to the sum
        /// afterwards, with the clause's other caps.
        private func summing(_ items: some Sequence<Item>, _ clause: Clause, for enterprises: [Int32]) -> [Fen] {
            var position: [Int32: Int] = [:]
            for (index, enterprise) in enterprises.enumerated() { position[enterprise] = index }
            var sums = [Fen](repeating: 0, count: enterprises.count)
            var byYear: [Int32: [Int: Fen]] = [:]
            for item in items {
                guard let index = position[item.owner] else { continue }
                sums[index] += item.fen
                if clause.perYearCapFen != nil, item.fen > 0 {
                    let year = max(
                        item.day == Int32.min ? self.asOf.year : CalendarDate(dayNumber: Int(item.day)).year,
                        CalendarDate(dayNumber: Int(self.period.lowerBound)).year)
                    byYear[item.owner, default: [:]][year, default: 0] += item.fen
                }
            }
            if let cap = clause.perYearCapFen {
                for (owner, years) in byYear {
                    sums[position[owner]!] = years.values.reduce(0) { $0 + min($1, cap) }
                }
            }
            return sums
        }

        /// One term of a `lowestOf` on a reported figure; 0 on overflow (no amount).
        static func termAmount(_ term: Formula.Term, _ value: Int64) -> Fen {
            Context.amount(of: term, value) ?? 0
        }

        /// The amount of each level's tier, by level index; -1 for a level no tier names.
        private func tierTable(_ tiers: [Formula.Tier]) -> [Fen] {
            var byLevel = [Fen](repeating: -1, count: self.columns.levels.count)
            for tier in tiers {
                if let level = self.columns.levels.firstIndex(of: tier.level) {
                    byLevel[level] = max(byLevel[level], tier.amountFen)
                }
            }
            return byLevel
        }

        /// The highest tier among the levels each enterprise holds of `recognition`, counting the records the
        /// clause's own condition on it counts (its levels, new in the period or not).
        private mutating func tierAmounts(
            _ clause: Clause, recognition: String, tiers: [Formula.Tier], for enterprises: [Int32]
        ) -> [Fen] {
            let condition = EligibilityEngine.tierCondition(of: clause, recognition: recognition)
            let byLevel = self.tierTable(tiers)
            let records = self.columns.recognitions[recognition] ?? .init()
            let mask = self.levelMask(condition?.levels)
            let newInPeriod = (condition?.newInPeriod ?? false) || (condition?.first ?? false)
            let earlier = condition?.first == true ? self.heldBeforePeriod(records) : []
            for record in records.owner.indices
            where self.counts(records, record, mask: mask, newInPeriod: newInPeriod)
                && !earlier.contains(records.owner[record])
            {
                let level = Int(records.level[record])
                guard level >= 0, byLevel[level] >= 0 else { continue }
                let owner = Int(records.owner[record])
                self.tierScratch[owner] = max(self.tierScratch[owner], byLevel[level])
            }
            let amounts = enterprises.map { max(self.tierScratch[Int($0)], 0) }
            for owner in records.owner { self.tierScratch[Int(owner)] = -1 }
            return amounts
        }

        /// Enterprises with a record of `id` that counts for a condition on it, ascending; with `first` (首次),
        /// not those that held `id` at any level before the period.
        private func recognitionHolders(_ id: String, levels: [String]?, newInPeriod: Bool, first: Bool = false)
            -> [Int32]
        {
            guard let records = self.columns.recognitions[id] else { return [] }
            let mask = self.levelMask(levels)
            let earlier = first ? self.heldBeforePeriod(records) : []
            var holders: [Int32] = []
            for record in records.owner.indices
            where self.counts(records, record, mask: mask, newInPeriod: newInPeriod || first)
                && !earlier.contains(records.owner[record])
            {
                let owner = records.owner[record]
                if holders.last != owner { holders.append(owner) }
            }
            return holders
        }

        /// The enterprises with a record before the period: for them a record in it is a re-recognition.
        private func heldBeforePeriod(_ records: EnterpriseColumns.Recognitions) -> Set<Int32> {
            var owners: Set<Int32> = []
            for record in records.owner.indices where records.recognizedOn[record] < self.period.lowerBound {
                owners.insert(records.owner[record])
            }
            return owners
        }

        private func counts(_ records: EnterpriseColumns.Recognitions, _ record: Int, mask: UInt64?, newInPeriod: Bool)
            -> Bool
        {
            let day = records.recognizedOn[record]
            guard day <= self.asOfDay, !newInPeriod || self.period.contains(day) else { return false }
            guard let mask else { return true }
            let level = records.level[record]
            return level >= 0 && mask & (1 << UInt64(level)) != 0
        }

        /// Enterprises with a project of `kind` (accepted in the period, if asked) investing at least `minimum`.
        private func projectHolders(_ kind: String, minimum: Fen?, completedInPeriod: Bool) -> [Int32] {
            guard let records = self.columns.projects[kind] else { return [] }
            var holders: [Int32] = []
            for record in records.owner.indices {
                if completedInPeriod {
                    let day = records.completedOn[record]
                    guard day != Int32.min, self.period.contains(day) else { continue }
                }
                guard records.investmentFen[record] >= minimum ?? 0 else { continue }
                let owner = records.owner[record]
                if holders.last != owner { holders.append(owner) }
            }
            return holders
        }

        private mutating func amounts(_ fact: String) -> [Int64] {
            if let values = self.resolvedAmounts[fact] { return values }
            let values = self.columns.resolved(fact, asOfYear: self.asOf.year, flags: false)
            self.resolvedAmounts[fact] = values
            return values
        }

        private mutating func flags(_ fact: String) -> [Int64] {
            if let values = self.resolvedFlags[fact] { return values }
            let values = self.columns.resolved(fact, asOfYear: self.asOf.year, flags: true)
            self.resolvedFlags[fact] = values
            return values
        }

        /// A bit per level index; nil when the condition accepts any level.
        private func levelMask(_ levels: [String]?) -> UInt64? {
            levels.map { levels in
                levels.reduce(UInt64(0)) { mask, level in
                    self.columns.levels.firstIndex(of: level).map { mask | (1 << UInt64($0)) } ?? mask
                }
            }
        }

        /// The enterprises of `enterprises` (ascending) that meet `condition`, by the rules `Context.check`
        /// applies to one enterprise: thresholds that depend on a recognition or flag, 新达到, any-of and
        /// exclusions.
        mutating func keeping(_ enterprises: [Int32], _ condition: Condition) -> [Int32] {
            let met = self.met(condition, enterprises)
            return enterprises.indices.compactMap { met[$0] ? enterprises[$0] : nil }
        }

        /// Whether each of `enterprises` meets `condition`.
        mutating func met(_ condition: Condition, _ enterprises: [Int32]) -> [Bool] {
            switch condition.kind {
            case .recognition(let id, let levels, let newInPeriod, let first):
                let holders = Set(self.recognitionHolders(id, levels: levels, newInPeriod: newInPeriod, first: first))
                return enterprises.map(holders.contains)
            case .project(let kind, let minimum, let completedInPeriod):
                let holders = Set(self.projectHolders(kind, minimum: minimum, completedInPeriod: completedInPeriod))
                return enterprises.map(holders.contains)
            case .atLeast(let fact, let value, let overrides, let year):
                let newlyReached = year == .newlyReached
                var thresholds = [Int64](repeating: value, count: enterprises.count)
                var decided = [Bool](repeating: false, count: enterprises.count)
                for override in overrides {
                    let applies: [Bool]
                    if let recognition = override.whenRecognition {
                        let holders = Set(self.recognitionHolders(recognition, levels: nil, newInPeriod: false))
                        applies = enterprises.map(holders.contains)
                    } else if let flag = override.whenFlag {
                        let flags = self.flags(flag)
                        applies = enterprises.map { flags[Int($0)] == 1 }
                    } else {
                        continue
                    }
                    for position in enterprises.indices where !decided[position] && applies[position] {
                        (thresholds[position], decided[position]) = (override.value, true)
                    }
                }
                let (values, previous) =
                    switch year {
                    case .newlyReached: self.columns.resolvedWithPrevious(fact, asOfYear: self.asOf.year)
                    case .first: (self.columns.resolvedFirst(fact, asOfYear: self.asOf.year), [])
                    case .latest: (self.amounts(fact), [])
                    }
                return enterprises.indices.map { position in
                    let enterprise = Int(enterprises[position])
                    let threshold = thresholds[position]
                    if threshold <= 0, !newlyReached { return true }
                    let value = values[enterprise]
                    guard value != EnterpriseColumns.notReported, value >= threshold else { return false }
                    guard newlyReached else { return true }
                    let before = previous[enterprise]
                    return before != EnterpriseColumns.notReported && before < threshold
                }
            case .below(let fact, let threshold):
                let values = self.amounts(fact)
                return enterprises.map {
                    values[Int($0)] != EnterpriseColumns.notReported && values[Int($0)] < threshold
                }
            case .flag(let fact):
                let values = self.flags(fact)
                return enterprises.map { values[Int($0)] == 1 }
            case .industry(let industries):
                let accepted = Set(industries.compactMap { self.columns.industries[$0] })
                return enterprises.map { accepted.contains(self.columns.industry[Int($0)]) }
            case .county(let counties):
                let accepted = EnterpriseColumns.countyCodes { counties.contains($0.chineseName) }
                return enterprises.map { accepted.contains(self.columns.county[Int($0)]) }
            case .anyOf(let alternatives):
                var any = [Bool](repeating: false, count: enterprises.count)
                for alternative in alternatives {
                    for (position, holds) in self.met(alternative, enterprises).enumerated() where holds {
                        any[position] = true
                    }
                }
                return any
            case .exclusion(let fact, let industries):
                let excludedIndustries = Set(industries.compactMap { self.columns.industries[$0] })
                let flags = fact.map { self.flags($0) }
                return enterprises.map { enterprise in
                    !(flags?[Int(enterprise)] == 1
                        || excludedIndustries.contains(self.columns.industry[Int(enterprise)]))
                }
            }
        }

        static func intersection(_ lhs: [Int32], _ rhs: [Int32]) -> [Int32] {
            var result: [Int32] = []
            var (left, right) = (0, 0)
            while left < lhs.count, right < rhs.count {
                if lhs[left] < rhs[right] {
                    left += 1
                } else if lhs[left] > rhs[right] {
                    right += 1
                } else {
                    result.append(lhs[left])
                    left += 1
                    right += 1
                }
            }
            return result
        }
    }
}
