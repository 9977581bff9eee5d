import BenefitsDomain
import CatalogModel

/// What the engine decided for one clause, with everything needed to explain it.
public struct Decision: Sendable {
    public enum Status: String, Sendable, Hashable {
        case eligible, superseded, nearMiss, needsApplication, manualAssessment, ineligible
    }

    public struct Check: Sendable, Hashable {
        public var met: Bool
        /// The clause's words for the condition.
        public var conditionText: String
        /// What the profile holds, in words.
        public var factUsed: String
        public var explanation: String
        /// Set when the condition fails narrowly: what is missing, in numbers.
        public var nearMiss: String?
    }

    public var status: Status
    /// The clause decided on, its document and citation, shared by every decision on it: a decision is
    /// copied several times on its way out, and copying the clause's and document's values retained each of
    /// their strings and arrays every time.
    let entry: EligibilityEngine.ClauseEntry
    public var clause: Clause { self.entry.clause }
    public var document: PolicyDocument { self.entry.document }
    /// 《document》article, as the decision cites the clause.
    public var citation: String { self.entry.citation }
    public var amountFen: Fen
    public var calculation: String
    public var checks: [Check]
    public var missing: [String]
    public var stacking: Stacking { self.entry.stacking }
    public var supersededBy: String?
    public var reason: String
    /// Whether the formula fixed `amountFen` (rather than a cap, or nothing): an application for it can be
    /// decided at once (即申即享).
    public var amountFixed: Bool = false
    /// A per-item clause's item: the project or recognition this decision pays; nil for a clause paid per
    /// enterprise.
    public var item: Item? = nil
    /// The year the payout is for (`EligibilityEngine.payoutYear`): with the clause, subject and enterprise,
    /// what makes one payout one.
    public var year: Int = 0

    /// What a per-item decision pays for: the record's id and, for people, what it is.
    public struct Item: Sendable, Hashable {
        public var id: String
        /// 项目「智能工厂改造」(JX-2023-001), 认定(国家级, 2023-03-15) …
        public var words: String
    }
}

/// The decisions for one enterprise on one day.
public struct Screening: Sendable {
    public var creditCode: CreditCode
    public var asOf: CalendarDate
    public var catalogRevision: String
    public var decisions: [Decision]

    /// Cash to propose: eligible decisions after stacking.
    public var totalEligibleFen: Fen {
        self.decisions.filter { $0.status == .eligible && $0.clause.cash }.reduce(0) { $0 + $1.amountFen }
    }
}
