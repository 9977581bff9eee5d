import BenefitsDomain
import CatalogModel
import NIOConcurrencyHelpers

extension Ledger {
    /// What a payout reads of its clause and document, taken out once per clause and catalog revision: a
    /// clause and its document are structs of many strings and arrays, and copying them into every proposal
    /// (and releasing them after) was a large part of a caller's share of a payout.
    final class PayoutTerms: Sendable {
        let clauseID: String
        let documentID: String
        let cash: Bool
        /// The clause leaves the amount open: never paid automatically.
        let manual: Bool
        /// The most the clause pays for one thing (`Ledger.maximum(of:)`).
        let maximumFen: Fen?
        let perYearCapFen: Fen?
        let cumulativeCapFen: Fen?
        /// The clause's 就高不重复 group, unless its stacking rule lets it stack.
        let exclusiveGroup: String?
        let overlapGroup: String
        let responsibleDepartments: [String]
        /// The departments as an order's row keeps them (`Ledger.values`).
        let departmentsText: String
        /// The fund's account of a year is this followed by the year (`Ledger.fundAccount`).
        let fundPrefix: String

        init(clause: Clause, document: PolicyDocument) {
            self.clauseID = clause.id
            self.documentID = document.id
            self.cash = clause.cash
            self.manual = clause.delivery == .manual || clause.delivery == .notQuantified
            self.maximumFen = Ledger.maximum(of: clause)
            self.perYearCapFen = clause.perYearCapFen
            self.cumulativeCapFen = clause.cumulativeCapFen
            self.exclusiveGroup = Catalog.stacking(of: clause, in: document).rule == .stacks ? nil : clause.overlapGroup
            self.overlapGroup = clause.overlapGroup ?? ""
            self.responsibleDepartments = clause.responsibleDepartments
            self.departmentsText = Ledger.departmentsText(clause.responsibleDepartments)
            self.fundPrefix = Ledger.fundAccountPrefix(documentID: document.id)
        }

        /// The account of the document's fund for `year`.
        func fundAccount(year: Int32) -> String { self.fundPrefix + String(year) }
    }

    /// The terms of every clause proposed under the catalog revision in force, made as first needed.
    struct PayoutTermsCache: Sendable {
        var revision = ""
        var byClause: [String: PayoutTerms] = [:]
    }

    /// The terms of `clauseID` in `catalog`, or nil where the catalog has no such clause.
    func terms(of clauseID: String, in catalog: Catalog) -> PayoutTerms? {
        if let terms = self.payoutTerms.withLockedValue({
            $0.revision == catalog.revision ? $0.byClause[clauseID] : nil
        }) {
            return terms
        }
        guard let (clause, document) = catalog.clause(id: clauseID) else { return nil }
        let terms = PayoutTerms(clause: clause, document: document)
        self.payoutTerms.withLockedValue { cache in
            if cache.revision != catalog.revision { cache = PayoutTermsCache(revision: catalog.revision) }
            cache.byClause[clauseID] = terms
        }
        return terms
    }
}
