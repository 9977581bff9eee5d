import BenefitsDomain

/// One benefit clause (条款): who gets what, on which conditions, computed how.
public struct Clause: Sendable, Hashable, Codable {
    public enum Beneficiary: String, Sendable, Hashable, Codable, CaseIterable {
        case enterprise, individual, institution, project
    }

    public enum BenefitKind: String, Sendable, Hashable, Codable, CaseIterable {
        case subsidy, award, matchedAward, interestSubsidy, allowance, insuranceSubsidy, taxRelief, feeDiscount, other
    }

    public enum Delivery: String, Sendable, Hashable, Codable, CaseIterable {
        /// 免申即享: conditions the city's data holds, an amount the formula fixes.
        case proactive
        /// 即申即享 / 限时即享: a fact must be claimed, or the department sets the amount under a cap.
        case onApplication
        /// The text leaves the amount open: never paid automatically.
        case manual
    }

    public var id: String
    public var article: String
    public var title: String
    /// The verbatim source text.
    public var text: String
    public var responsibleDepartments: [String]
    public var beneficiary: Beneficiary
    public var benefitKind: BenefitKind
    public var cash: Bool
    public var delivery: Delivery
    /// Clauses in this or other documents that pay for the same thing share the key.
    public var overlapGroup: String?
    /// The clause's own stacking rule, where it overrides its document's.
    public var stacking: Stacking?
    public var conditions: [Condition]
    public var formula: Formula
    public var perYearCapFen: Fen?
    public var cumulativeCapFen: Fen?
    /// 限时即享: working days the responsible department has to decide an application; nil: the mesh's default.
    public var decisionWorkingDays: Int?
    public var notes: String?

    /// The id of the document the clause belongs to (the part of the id before the first `/`).
    public var documentID: String { String(self.id.prefix { $0 != "/" }) }
}
