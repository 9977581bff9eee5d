import BenefitsDomain
import CatalogModel

extension EligibilityEngine {
    /// A per-item clause (每项, 单个项目): one decision for each record its item condition names, each screened
    /// on a profile holding that record alone, with the formula's base read from the record's own figures.
    /// The clause's per-year and cumulative caps then bound the items together, in the order of their ids.
    /// An enterprise without any such record gets the one decision saying so.
    func decideEachItem(
        _ entry: ClauseEntry, profile: EnterpriseProfile, asOf: CalendarDate,
        period: ClosedRange<CalendarDate>, includeIneligible: Bool
    ) -> [Decision] {
        let clause = entry.clause
        let items = Self.items(of: clause, in: profile)
        guard !items.isEmpty else {
            let context = Context(profile: profile, vocabulary: self.vocabulary, asOf: asOf, period: period)
            if !includeIneligible, Self.plainlyIneligible(entry, context) { return [] }
            return self.decide(entry, context: context, keepIneligible: includeIneligible).map { [$0] }
                ?? []
        }
        var decisions: [Decision] = []
        var years: [String: Int] = [:]
        for (item, itemProfile) in items {
            // An item from before the document took effect counts in its first year.
            years[item.id] = max(Self.itemYear(of: clause, in: itemProfile) ?? asOf.year, period.lowerBound.year)
            let context = Context(
                profile: itemProfile, vocabulary: self.vocabulary, asOf: asOf, period: period)
            if !includeIneligible, Self.plainlyIneligible(entry, context) { continue }
            guard var decision = self.decide(entry, context: context, keepIneligible: includeIneligible)
            else { continue }
            decision.item = item
            decision.reason = "\(item.words): \(decision.reason)"
            decisions.append(decision)
        }
        Self.capAcrossItems(&decisions, clause) { years[$0.id] ?? asOf.year }
        // Each item is paid for its own year, whatever day it is screened on.
        for index in decisions.indices {
            decisions[index].year = decisions[index].item.flatMap { years[$0.id] } ?? asOf.year
        }
        return decisions
    }

    /// The year an item counts in for a per-year cap: its acceptance's or its recognition's; nil for a project
    /// not yet accepted. `profile` holds the one item.
    static func itemYear(of clause: Clause, in profile: EnterpriseProfile) -> Int? {
        switch clause.itemCondition?.kind {
        case .project(let kind, _, _)?: return profile.projects[kind]?.first?.completedOn?.year
        case .recognition(let id, _, _, _)?: return profile.recognitions[id]?.first?.recognizedOn.year
        default: return nil
        }
    }

    /// The records a per-item clause pays, each with the profile it is screened on: the enterprise's, holding
    /// only that record of the item's kind, and with the formula's base fact taken from the record's figures
    /// (absent where the record has none, so an enterprise-wide figure never stands for one item's).
    static func items(of clause: Clause, in profile: EnterpriseProfile) -> [(Decision.Item, EnterpriseProfile)] {
        guard let condition = clause.itemCondition else { return [] }
        switch condition.kind {
        case .project(let kind, _, _):
            let bases = clause.formula.baseFacts
            return (profile.projects[kind] ?? []).sorted { $0.itemID < $1.itemID }.map { record in
                var restricted = profile
                restricted.projects[kind] = [record]
                for base in bases {
                    restricted.facts[base] = record.figures[base].map { [0: .amount($0)] }
                    restricted.factSources[base] = record.source.map { [0: $0] }
                }
                let accepted = record.completedOn.map { ", \($0)验收" } ?? ", 未验收"
                return (
                    Decision.Item(
                        id: record.itemID,
                        words: "项目「\(record.name.isEmpty ? record.kind : record.name)」(\(record.itemID)\(accepted))"),
                    restricted
                )
            }
        case .recognition(let id, _, _, _):
            return (profile.recognitions[id] ?? []).sorted { $0.itemID < $1.itemID }.map { record in
                var restricted = profile
                restricted.recognitions[id] = [record]
                return (
                    Decision.Item(id: record.itemID, words: "认定(\(record.itemID), \(record.recognizedOn))"), restricted
                )
            }
        default:
            return []
        }
    }

    /// 每家每年累计不超过 … / 累计最高 …: the clause's caps over its items together: the per-year cap over the
    /// items of one year (a project's acceptance year, a recognition's year; the as-of year for an item without
    /// one), the cumulative cap over all. Items keep their amounts in id order until a cap is used up; an item
    /// left with nothing is not paid, saying why.
    static func capAcrossItems(_ decisions: inout [Decision], _ clause: Clause, year: (Decision.Item) -> Int) {
        guard clause.perYearCapFen != nil || clause.cumulativeCapFen != nil else { return }
        var usedInYear: [Int: Fen] = [:]
        var used: Fen = 0
        for index in decisions.indices
        where decisions[index].amountFixed
            && (decisions[index].status == .eligible || decisions[index].status == .needsApplication)
        {
            let itemYear = decisions[index].item.map(year) ?? 0
            var left = decisions[index].amountFen
            var words = ""
            if let cap = clause.perYearCapFen, cap - usedInYear[itemYear, default: 0] < left {
                left = max(0, cap - usedInYear[itemYear, default: 0])
                words =
                    "\(itemYear)年累计最高\(Money.chinese(cap)), 同年其他项目已计\(Money.chinese(usedInYear[itemYear, default: 0]))"
            }
            if let cap = clause.cumulativeCapFen, cap - used < left {
                left = max(0, cap - used)
                words = "累计最高\(Money.chinese(cap)), 其他项目已计\(Money.chinese(used))"
            }
            if left < decisions[index].amountFen {
                decisions[index].calculation += ", \(words)"
                decisions[index].amountFen = left
                if left == 0 {
                    decisions[index].status = .ineligible
                    decisions[index].amountFixed = false
                    decisions[index].reason = "\(decisions[index].item?.words ?? "本项"): 已达\(words)"
                }
            }
            usedInYear[itemYear, default: 0] += left
            used += left
        }
    }
}
