import BenefitsDomain

/// The loaded, validated catalog at one revision.
public struct Catalog: Sendable {
    /// Content hash of the catalog files: changes whenever any file changes.
    public let revision: String
    public let documents: [PolicyDocument]
    public let vocabulary: Vocabulary
    /// The working days 限时即享 deadlines are counted in: the published years of `calendar/`, then
    /// provisional ones computed from the statutory holidays.
    public let calendar: WorkingCalendar
    private let clauseIndex: [String: (document: Int, clause: Int)]

    public init(revision: String, documents: [PolicyDocument], vocabulary: Vocabulary, calendar: WorkingCalendar) {
        self.revision = revision
        self.documents = documents.sorted { $0.id < $1.id }
        self.vocabulary = vocabulary
        self.calendar = calendar
        var index: [String: (Int, Int)] = [:]
        for (documentIndex, document) in self.documents.enumerated() {
            for (clauseIndex, clause) in document.clauses.enumerated() {
                index[clause.id] = (documentIndex, clauseIndex)
            }
        }
        self.clauseIndex = index
    }

    public var clauseCount: Int { self.clauseIndex.count }

    public func document(id: String) -> PolicyDocument? {
        self.documents.first { $0.id == id }
    }

    public func clause(id: String) -> (clause: Clause, document: PolicyDocument)? {
        guard let (documentIndex, clauseIndex) = self.clauseIndex[id] else { return nil }
        let document = self.documents[documentIndex]
        return (document.clauses[clauseIndex], document)
    }

    /// Documents in force on `date`, or all when `date` is nil.
    public func documents(inForceOn date: CalendarDate?) -> [PolicyDocument] {
        guard let date else { return self.documents }
        return self.documents.filter { $0.isInForce(on: date) }
    }

    /// The rule that applies to a clause: its own where it states one, else its document's.
    public static func stacking(of clause: Clause, in document: PolicyDocument) -> Stacking {
        if let own = clause.stacking, own.rule != .unspecified { return own }
        return document.stacking
    }

    public struct Query: Sendable {
        public var asOf: CalendarDate?
        public var department: String?
        public var benefitKind: Clause.BenefitKind?
        public var beneficiary: Clause.Beneficiary?
        public var keyword: String?
        public var overlapGroup: String?
        public var cashOnly: Bool

        public init(
            asOf: CalendarDate? = nil, department: String? = nil, benefitKind: Clause.BenefitKind? = nil,
            beneficiary: Clause.Beneficiary? = nil, keyword: String? = nil, overlapGroup: String? = nil,
            cashOnly: Bool = false
        ) {
            self.asOf = asOf
            self.department = department
            self.benefitKind = benefitKind
            self.beneficiary = beneficiary
            self.keyword = keyword
            self.overlapGroup = overlapGroup
            self.cashOnly = cashOnly
        }
    }

    public func search(_ query: Query) -> [(clause: Clause, document: PolicyDocument)] {
        var results: [(Clause, PolicyDocument)] = []
        for document in self.documents(inForceOn: query.asOf) {
            for clause in document.clauses {
                if let department = query.department, !department.isEmpty,
                    !clause.responsibleDepartments.contains(where: { $0.contains(department) })
                {
                    continue
                }
                if let kind = query.benefitKind, clause.benefitKind != kind { continue }
                if let beneficiary = query.beneficiary, clause.beneficiary != beneficiary { continue }
                if let group = query.overlapGroup, !group.isEmpty, clause.overlapGroup != group { continue }
                if query.cashOnly, !clause.cash { continue }
                if let keyword = query.keyword, !keyword.isEmpty,
                    !(clause.title.contains(keyword) || clause.text.contains(keyword)
                        || (clause.notes?.contains(keyword) ?? false))
                {
                    continue
                }
                results.append((clause, document))
            }
        }
        return results
    }
}
