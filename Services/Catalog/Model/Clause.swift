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
        /// The document promises support with no amount and no rule for one (a plan's 加大支持, 优先保障):
        /// recorded so the catalog covers the document and says why nothing is paid; never screened.
        case notQuantified
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
    /// Clauses this one replaces for the same item (示范样本 50% instead of 20%): where this one carries an
    /// amount, those are superseded whatever their amount or stacking rule.
    public var replaces: [String]
    /// 每项 / 单个项目: the clause pays each qualifying item (the project or recognition its one item condition
    /// names) on its own, with the formula's cap per item and `perYearCapFen` / `cumulativeCapFen` over the
    /// enterprise's items together. The formula's base is read from the item's own figures, never from the
    /// enterprise's.
    public var perItem: Bool
    public var notes: String?

    enum CodingKeys: String, CodingKey {
        case id, article, title, text, responsibleDepartments, beneficiary, benefitKind, cash, delivery, overlapGroup,
            stacking, conditions, formula, perYearCapFen, cumulativeCapFen, decisionWorkingDays, replaces, perItem,
            notes
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.id = try container.decode(String.self, forKey: .id)
        self.article = try container.decode(String.self, forKey: .article)
        self.title = try container.decode(String.self, forKey: .title)
        self.text = try container.decode(String.self, forKey: .text)
        self.responsibleDepartments = try container.decode([String].self, forKey: .responsibleDepartments)
        self.beneficiary = try container.decode(Beneficiary.self, forKey: .beneficiary)
        self.benefitKind = try container.decode(BenefitKind.self, forKey: .benefitKind)
        self.cash = try container.decode(Bool.self, forKey: .cash)
        self.delivery = try container.decode(Delivery.self, forKey: .delivery)
        self.overlapGroup = try container.decodeIfPresent(String.self, forKey: .overlapGroup)
        self.stacking = try container.decodeIfPresent(Stacking.self, forKey: .stacking)
        self.conditions = try container.decode([Condition].self, forKey: .conditions)
        self.formula = try container.decode(Formula.self, forKey: .formula)
        self.perYearCapFen = try container.decodeIfPresent(Fen.self, forKey: .perYearCapFen)
        self.cumulativeCapFen = try container.decodeIfPresent(Fen.self, forKey: .cumulativeCapFen)
        self.decisionWorkingDays = try container.decodeIfPresent(Int.self, forKey: .decisionWorkingDays)
        self.replaces = try container.decodeIfPresent([String].self, forKey: .replaces) ?? []
        self.perItem = try container.decodeIfPresent(Bool.self, forKey: .perItem) ?? false
        self.notes = try container.decodeIfPresent(String.self, forKey: .notes)
    }

    /// The condition naming the kind of item a per-item clause pays for: its one project condition, else its
    /// one recognition condition (a 农业龙头企业's renovation projects are the items, the recognition is who may
    /// have them); nil for a clause paid per enterprise or one that names no single item.
    public var itemCondition: Condition? {
        guard self.perItem else { return nil }
        let projects = self.conditions.filter {
            if case .project = $0.kind { true } else { false }
        }
        if !projects.isEmpty { return projects.count == 1 ? projects[0] : nil }
        let recognitions = self.conditions.filter {
            if case .recognition = $0.kind { true } else { false }
        }
        return recognitions.count == 1 ? recognitions[0] : nil
    }

    /// The id of the document the clause belongs to (the part of the id before the first `/`).
    public var documentID: String { String(self.id.prefix { $0 != "/" }) }
}
