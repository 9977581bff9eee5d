import BenefitsDomain
import CatalogModel

extension EligibilityEngine {
    /// What a register is proposed as of a day, amounts only: the same eligible amounts `screen` decides,
    /// 就高不重复 applied, without the explanations.
    public struct Amounts: Sendable {
        /// Each enterprise's total, by its index in the columns.
        public var perEnterprise: [Fen]
        /// Each clause's total over the register (clauses that pay nobody are absent).
        public var byClause: [String: Fen]
        /// How many enterprises each clause pays.
        public var enterprisesByClause: [String: Int] = [:]

        public var total: Fen { self.byClause.values.reduce(0, +) }
        public var eligibleEnterprises: Int { self.perEnterprise.reduce(0) { $1 > 0 ? $0 + 1 : $0 } }
    }

    /// The enterprises one clause pays, ascending, and how much each.
    struct ClauseAmounts {
        let clause: Clause
        let stacking: Stacking
        var enterprises: [Int32]
        var amounts: [Fen]
    }

    /// Computes, column by column, what `screen` would propose to each enterprise on `asOf` (status eligible):
    /// a clause at a time, starting from the enterprises holding the recognition or project it names and
    /// narrowing by its other conditions, so the work follows the records rather than the register's size.
    /// The budget forecast over a register, and the engine's side of the OpenFisca benchmark (which computes
    /// amounts only). Tests hold it equal to `screen` enterprise by enterprise.
    public func amounts(_ columns: EnterpriseColumns, asOf: CalendarDate) -> Amounts {
        var evaluation = ColumnEvaluation(columns: columns, vocabulary: self.catalog.vocabulary, asOf: asOf)
        var paid: [ClauseAmounts] = []
        for entry in self.documents where entry.document.isInForce(on: asOf) {
            let period = entry.document.effectiveFrom...min(asOf, entry.document.effectiveUntil ?? asOf)
            evaluation.period = Int32(period.lowerBound.dayNumber)...Int32(period.upperBound.dayNumber)
            // Projects the county funds itself are not the city's to pay (`decide` says so).
            let countyFunded = EnterpriseColumns.countyCodes {
                entry.document.fundingSplit?.countyFunding(in: $0) != nil
            }
            for clauseEntry in entry.clauses {
                let clause = clauseEntry.clause
                guard clause.delivery == .proactive, var result = evaluation.evaluate(clause) else { continue }
                if clause.cash, !countyFunded.isEmpty {
                    let kept = result.enterprises.indices.filter {
                        !countyFunded.contains(columns.county[Int(result.enterprises[$0])])
                    }
                    result = (kept.map { result.enterprises[$0] }, kept.map { result.amounts[$0] })
                }
                paid.append(
                    ClauseAmounts(
                        clause: clause, stacking: clauseEntry.stacking,
                        enterprises: result.enterprises, amounts: result.amounts))
            }
        }
        Self.applyStacking(&paid, count: columns.count)
        var amounts = Amounts(perEnterprise: [Fen](repeating: 0, count: columns.count), byClause: [:])
        for clause in paid where !clause.enterprises.isEmpty {
            var (sum, paidEnterprises): (Fen, Int) = (0, 0)
            for (enterprise, amount) in zip(clause.enterprises, clause.amounts) where amount > 0 {
                amounts.perEnterprise[Int(enterprise)] += amount
                sum += amount
                paidEnterprises += 1
            }
            if sum > 0 {
                amounts.byClause[clause.clause.id, default: 0] += sum
                amounts.enterprisesByClause[clause.clause.id, default: 0] += paidEnterprises
            }
        }
        return amounts
    }

    /// 就高不重复 as `applyStacking(_: [Decision])` decides it, per enterprise: in each overlap group where an
    /// enterprise is paid by more than one cash clause and any of them says 就高不重复, only the highest amount
    /// (the lower clause id on a tie) is kept; the others become 0.
    static func applyStacking(_ paid: inout [ClauseAmounts], count: Int) {
        // A clause that replaces others (the catalog lets a paid-without-application clause be replaced only
        // by another such clause): the replaced pay nothing to the enterprises it pays.
        for replacer in paid.indices where !paid[replacer].clause.replaces.isEmpty {
            let payees = Set(zip(paid[replacer].enterprises, paid[replacer].amounts).filter { $0.1 > 0 }.map(\.0))
            for index in paid.indices where paid[replacer].clause.replaces.contains(paid[index].clause.id) {
                for position in paid[index].enterprises.indices where payees.contains(paid[index].enterprises[position])
                {
                    paid[index].amounts[position] = 0
                }
            }
        }
        var groups: [String: [Int]] = [:]
        for (index, clause) in paid.enumerated() where clause.clause.cash && clause.stacking.rule != .stacks {
            if let group = clause.clause.overlapGroup { groups[group, default: []].append(index) }
        }
        var members = [UInt8](repeating: 0, count: count)
        var highestOnly = [Bool](repeating: false, count: count)
        var best = [Int32](repeating: -1, count: count)
        var bestAmount = [Fen](repeating: 0, count: count)
        for (_, group) in groups where group.count > 1 {
            for member in group {
                let clause = paid[member]
                for (enterprise, amount) in zip(clause.enterprises, clause.amounts) {
                    let index = Int(enterprise)
                    members[index] &+= 1
                    if clause.stacking.rule == .highestOnly { highestOnly[index] = true }
                    if best[index] < 0 || amount > bestAmount[index]
                        || (amount == bestAmount[index] && clause.clause.id < paid[Int(best[index])].clause.id)
                    {
                        (best[index], bestAmount[index]) = (Int32(member), amount)
                    }
                }
            }
            for member in group {
                for position in paid[member].enterprises.indices {
                    let index = Int(paid[member].enterprises[position])
                    if members[index] > 1, highestOnly[index], best[index] != Int32(member) {
                        paid[member].amounts[position] = 0
                    }
                }
            }
            for member in group {
                for enterprise in paid[member].enterprises {
                    let index = Int(enterprise)
                    (members[index], highestOnly[index], best[index], bestAmount[index]) = (0, false, -1, 0)
                }
            }
        }
    }
}
