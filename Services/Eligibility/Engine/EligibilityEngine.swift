import BenefitsDomain
import CatalogModel

/// Evaluates enterprise profiles against the catalog: which clauses they meet on a day, for how much, why,
/// and which they nearly meet. Stateless and cheap to copy; one per catalog revision.
///
/// Rounding: every amount is computed in integer fen and rounded down (floor) at each multiplication by a
/// rate or ratio; caps apply after rounding.
public struct EligibilityEngine: Sendable {
    public let catalog: Catalog
    /// Each document with the clauses an enterprise can receive, held by reference: screening a batch walks
    /// them once per enterprise, and copying the clause values each time was most of its cost.
    let documents: [DocumentEntry]

    /// The clauses screened: those paid to an enterprise, a project, or an institution. An institution (a
    /// 孵化器, 众创空间, 园区, 创新中心, 科技中介服务机构) is run by an entity with a credit code the register holds
    /// like an enterprise's, and the clause's own condition (the institution's recognition, its flag) says
    /// which entities qualify. Clauses paid to a person are not screened: the register holds no people.
    final class DocumentEntry: Sendable {
        let document: PolicyDocument
        let clauses: [ClauseEntry]

        init(_ document: PolicyDocument) {
            self.document = document
            self.clauses = document.clauses.filter {
                $0.beneficiary != .individual && $0.delivery != .notQuantified
            }.map { ClauseEntry($0, in: document) }
        }
    }

    final class ClauseEntry: Sendable {
        let clause: Clause
        let document: PolicyDocument
        /// 《document》article, as every decision on the clause cites it.
        let citation: String
        /// The clause's stacking rule, or its document's where the clause states none.
        let stacking: Stacking
        init(_ clause: Clause, in document: PolicyDocument) {
            self.clause = clause
            self.document = document
            self.citation = EligibilityEngine.cite(clause, document)
            self.stacking = Catalog.stacking(of: clause, in: document)
        }
    }

    /// The vocabulary's terms by id, shared by every screening of this revision.
    let vocabulary: VocabularyIndex
    /// The screened clauses' numbers by the records that open them; numbered in document order.
    let gates: ClauseGates

    public init(catalog: Catalog) {
        self.catalog = catalog
        self.documents = catalog.documents.map(DocumentEntry.init)
        self.vocabulary = VocabularyIndex(catalog.vocabulary)
        self.gates = ClauseGates(self.documents.flatMap { $0.clauses.map(\.clause) })
    }

    /// Screens one enterprise on `asOf` against every clause of the documents in force that day.
    public func screen(_ profile: EnterpriseProfile, asOf: CalendarDate, includeIneligible: Bool = false) -> Screening {
        var decisions: [Decision] = []
        // Without the ineligible, only the clauses the enterprise's records open are tried.
        let candidates = includeIneligible ? nil : self.gates.candidates(of: profile)
        var number = 0
        for entry in self.documents {
            defer { number += entry.clauses.count }
            let open = { (offset: Int) in candidates?[number + offset] ?? true }
            guard entry.document.isInForce(on: asOf), entry.clauses.indices.contains(where: open) else { continue }
            let period = entry.document.effectiveFrom...min(asOf, entry.document.effectiveUntil ?? asOf)
            let context = Context(profile: profile, vocabulary: self.vocabulary, asOf: asOf, period: period)
            for (offset, clause) in entry.clauses.enumerated() where open(offset) {
                if clause.clause.perItem {
                    decisions += self.decideEachItem(
                        clause, profile: profile, asOf: asOf, period: period,
                        includeIneligible: includeIneligible)
                    continue
                }
                if !includeIneligible, Self.plainlyIneligible(clause, context) { continue }
                if let decision = self.decide(
                    clause, context: context, keepIneligible: includeIneligible)
                {
                    decisions.append(decision)
                }
            }
        }
        Self.applyStacking(&decisions)
        return Screening(
            creditCode: profile.creditCode, asOf: asOf, catalogRevision: self.catalog.revision, decisions: decisions)
    }

    /// A clause with a condition that fails with nothing near about it (most clauses, for most enterprises),
    /// found without building any text or copying the clause.
    static func plainlyIneligible(_ entry: ClauseEntry, _ context: borrowing Context) -> Bool {
        for condition in entry.clause.conditions where context.plainlyFails(condition) { return true }
        return false
    }

    /// The decision on one clause; nil for an ineligible one unless `keepIneligible` (most clauses, for most
    /// enterprises: not building what would be thrown away is most of a batch's speed).
    func decide(_ entry: ClauseEntry, context: Context, keepIneligible: Bool = true) -> Decision? {
        let clause = entry.clause
        let document = entry.document
        var checks: [Decision.Check] = []
        checks.reserveCapacity(clause.conditions.count + 1)
        // Without the ineligible, a decision is dropped at its first check that rules out a near miss (a third
        // failure, or one without a measurable shortfall): the checks after it and the amount's words would be
        // thrown away, and a check only adds failures, so stopping there drops exactly what the whole would.
        var failures = 0
        func keeps(_ check: Decision.Check) -> Bool {
            guard !keepIneligible, !check.met else { return true }
            failures += 1
            return failures <= 2 && check.nearMiss != nil
        }
        for condition in clause.conditions {
            let check = context.check(condition, clauseText: clause.text)
            guard keeps(check) else { return nil }
            checks.append(check)
        }
        let amount = context.amount(clause.formula, clause: clause)
        if let threshold = amount.threshold {
            guard keeps(threshold) else { return nil }
            checks.append(threshold)
        }
        var decision = Decision(
            status: .ineligible, entry: entry, amountFen: 0, calculation: amount.calculation,
            checks: checks, missing: [], supersededBy: nil, reason: ""
        )
        decision.year = context.asOf.year
        let failing = checks.filter { !$0.met }
        if !failing.isEmpty {
            // Nearly met: at most two conditions short (one shortfall often fails two checks, such as a
            // project's investment and the formula's minimum base), each by a measurable amount.
            let shortfalls = failing.compactMap(\.nearMiss)
            if failing.count <= 2, shortfalls.count == failing.count {
                decision.status = .nearMiss
                decision.missing = shortfalls
                decision.reason = "尚差: " + shortfalls.joined(separator: "; ")
            } else {
                decision.reason = failing.map(\.explanation).joined(separator: "; ")
            }
            return decision
        }
        if clause.cash, let words = document.fundingSplit?.countyFunding(in: context.profile.county) {
            // 县级的项目由县级财政…保障支持: the county funds it under its own decision; the city pays nothing.
            decision.status = .manualAssessment
            decision.reason =
                "项目在\(context.profile.county.chineseName), \(words): 由\(context.profile.county.chineseName)财政兑付, 市级资金不予兑付"
                + (amount.calculation.isEmpty ? "" : " (按本条测算: \(amount.calculation))")
            return decision
        }
        if clause.delivery == .manual {
            decision.status = .manualAssessment
            decision.reason =
                "条件已满足, 按\(entry.citation)金额需由\(clause.responsibleDepartments.first ?? "责任单位")核定"
                + (amount.calculation.isEmpty ? "" : " (参考: \(amount.calculation))")
            return decision
        }
        switch amount.result {
        case .fixed(let fen):
            var fen = fen
            var calculation = amount.calculation
            if let cap = clause.perYearCapFen, fen > cap {
                fen = cap
                calculation += ", 每年最高\(Money.chinese(cap))"
            }
            if let cap = clause.cumulativeCapFen, fen > cap {
                fen = cap
                calculation += ", 累计最高\(Money.chinese(cap))"
            }
            if let split = document.fundingSplit, split.countyFunded != nil, fen > 0,
                let city = split.shares.first(where: { $0.payer == .city })
            {
                // Where the document says who funds what by location, the decision says the shares.
                let cityFen = fen * Int64(city.basisPoints) / 10_000
                calculation += "; \(split.text): 市级\(Money.chinese(cityFen)), 区级\(Money.chinese(fen - cityFen))"
            }
            decision.amountFen = fen
            decision.calculation = calculation
            decision.amountFixed = fen > 0
            if fen > 0 { decision.year = Self.payoutYear(of: clause, context) }
            if fen <= 0 {
                decision.reason = "按公式计算金额为0"
            } else if clause.delivery == .proactive {
                decision.status = .eligible
                decision.reason =
                    "符合\(entry.citation), \(clause.cash ? "可获\(Money.chinese(fen))" : "享受\(Money.chinese(fen))非现金优惠")"
            } else {
                decision.status = .needsApplication
                decision.reason = "条件已满足, 按\(entry.citation)需申请认定后兑付, 预计\(Money.chinese(fen))"
            }
        case .upTo(let cap):
            decision.status = .needsApplication
            decision.amountFen = cap ?? 0
            decision.reason =
                "条件已满足, 金额由\(clause.responsibleDepartments.first ?? "责任单位")审核确定"
                + (cap.map { ", 最高\(Money.chinese($0))" } ?? "")
        case .open(let why):
            decision.status = .manualAssessment
            decision.reason = "条件已满足, 金额需人工核定: \(why)"
        }
        return decision
    }

    static func cite(_ clause: Clause, _ document: PolicyDocument) -> String {
        "《\(document.shortTitle)》\(clause.article)"
    }

    /// 就高不重复 on every decision that carries an amount. Where any clause of an overlap group belongs to a
    /// document that says so: among the clauses paid without an application, only the highest is paid (the
    /// lower clause id on a tie) and the others are superseded; a clause needing an application is superseded
    /// when it could pay no more than that, and otherwise offered for the difference (the ledger pays a later
    /// order of the group as a top-up). Without a clause paid now, the lower of the fixed amounts on
    /// application are superseded by the highest. A clause that says it stacks (额外叠加) is kept beside them.
    /// Replacements (`Clause.replaces`) come first.
    static func applyStacking(_ decisions: inout [Decision]) {
        // One decision neither replaces nor overlaps another.
        guard decisions.count > 1 else { return }
        Self.applyReplacements(&decisions)
        var groups: [String: [Int]] = [:]
        for (index, decision) in decisions.enumerated() where decision.clause.cash {
            guard decision.status == .eligible || (decision.status == .needsApplication && decision.amountFen > 0),
                let group = decision.clause.overlapGroup, decision.stacking.rule != .stacks
            else { continue }
            // Per item, the same thing is the same item: two projects of one group are paid each.
            groups[decision.item.map { "\(group)@\($0.id)" } ?? group, default: []].append(index)
        }
        func highest(_ members: [Int]) -> Int? {
            members.max { lhs, rhs in
                let (a, b) = (decisions[lhs], decisions[rhs])
                return a.amountFen != b.amountFen ? a.amountFen < b.amountFen : a.clause.id > b.clause.id
            }
        }
        func supersede(_ index: Int, by winner: Int) {
            let paid = decisions[winner]
            decisions[index].status = .superseded
            decisions[index].supersededBy = paid.clause.id
            decisions[index].reason =
                "就高不重复: 同一事项按\(paid.citation)给予\(Money.chinese(paid.amountFen)), 不低于本条的\(Money.chinese(decisions[index].amountFen))"
        }
        for (_, members) in groups
        where members.count > 1 && members.contains(where: { decisions[$0].stacking.rule == .highestOnly }) {
            let paidNow = members.filter { decisions[$0].status == .eligible }
            guard let winner = highest(paidNow) else {
                let fixed = members.filter { decisions[$0].amountFixed }
                if let winner = highest(fixed) {
                    for index in fixed where index != winner { supersede(index, by: winner) }
                }
                continue
            }
            for index in paidNow where index != winner { supersede(index, by: winner) }
            let paid = decisions[winner]
            for index in members where decisions[index].status == .needsApplication {
                guard decisions[index].amountFen > paid.amountFen else {
                    supersede(index, by: winner)
                    continue
                }
                let note =
                    "就高不重复: 已按\(paid.citation)兑付\(Money.chinese(paid.amountFen)), 本条申请后补足差额"
                if decisions[index].amountFixed {
                    decisions[index].amountFen -= paid.amountFen
                    decisions[index].calculation += ", 扣除已兑付\(Money.chinese(paid.amountFen))"
                }
                decisions[index].reason += "; " + note
            }
        }
    }

    /// A clause that replaces others for the same item (示范样本 50% instead of 20%), once met, supersedes them
    /// whatever their amount or stacking rule.
    static func applyReplacements(_ decisions: inout [Decision]) {
        let replacing = decisions.indices.filter {
            !decisions[$0].clause.replaces.isEmpty
                && (decisions[$0].status == .eligible || decisions[$0].status == .needsApplication)
        }
        for replacer in replacing {
            let by = decisions[replacer]
            for index in decisions.indices
            where by.clause.replaces.contains(decisions[index].clause.id) && decisions[index].status != .ineligible
                && (by.item == nil || decisions[index].item == nil || by.item?.id == decisions[index].item?.id)
            {
                decisions[index].status = .superseded
                decisions[index].supersededBy = by.clause.id
                decisions[index].reason = "同一项目适用\(by.citation), 替代本条"
            }
        }
    }
}
