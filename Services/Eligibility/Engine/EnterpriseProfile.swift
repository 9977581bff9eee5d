import BenefitsDomain
import CatalogModel
import MeshMessages

/// An enterprise profile checked against the vocabulary, indexed for evaluation.
public struct EnterpriseProfile: Sendable {
    public struct RecognitionRecord: Sendable, Hashable {
        public var recognition: String
        public var level: String?
        public var recognizedOn: CalendarDate
        /// Who vouches for it, in words (据市经信局 …); nil for a what-if profile.
        public var source: String? = nil
        /// The item's id (the holder's reference); where the record has none, one made of what it is, so the same
        /// record always gets the same id.
        public var id: String = ""

        /// The id of a record sent without one: the recognition, its level and its date.
        public var itemID: String {
            self.id.isEmpty ? "\(self.recognition)/\(self.level ?? "-")/\(self.recognizedOn)" : self.id
        }
    }

    public struct ProjectRecord: Sendable, Hashable {
        public var kind: String
        public var name: String
        public var investmentFen: Fen
        public var completedOn: CalendarDate?
        public var source: String? = nil
        /// The item's id (the acceptance document, the contract's registration number), or "" where none is sent.
        public var id: String = ""
        /// The item's own figures by fact id, in the fact's unit: what a per-item clause's base reads.
        public var figures: [String: Int64] = [:]

        /// The id of a record sent without one: the kind, the acceptance date and the name.
        public var itemID: String {
            self.id.isEmpty ? "\(self.kind)/\(self.completedOn.map { "\($0)" } ?? "-")/\(self.name)" : self.id
        }
    }

    public enum FactValue: Sendable, Hashable {
        case amount(Int64)
        case flag(Bool)
    }

    public var creditCode: CreditCode
    public var name: String
    public var county: County
    public var industry: String?
    public var recognitions: [String: [RecognitionRecord]]
    public var projects: [String: [ProjectRecord]]
    /// fact id → year (0 for facts that are not yearly) → value.
    public var facts: [String: [Int: FactValue]]
    /// fact id → year → who vouches for the value, in words; only for values whose record names a source.
    public var factSources: [String: [Int: String]] = [:]

    /// The value of a fact as of a year: the latest year reported up to it, or the single value of a
    /// fact that is not yearly.
    public func fact(_ id: String, asOfYear year: Int) -> (value: FactValue, year: Int)? {
        guard let values = self.facts[id] else { return nil }
        if let value = values[0] { return (value, 0) }
        // One pass over the years, without collecting them: this runs for every condition of every screening.
        var latest: (value: FactValue, year: Int)?
        for (reported, value) in values where reported <= year && reported > (latest?.year ?? Int.min) {
            latest = (value, reported)
        }
        return latest
    }
}

/// A profile that cannot be screened: the field and what is wrong with it.
public struct ProfileError: Error, Sendable, Hashable, CustomStringConvertible {
    public var field: String
    public var message: String
    public var description: String { "\(self.field): \(self.message)" }
}

extension EnterpriseProfile {
    /// The largest amount a fact may carry: 10^15 fen is ten trillion yuan, beyond any enterprise here,
    /// and keeps every product in the formulas inside Int64.
    public static let maximumAmount: Int64 = 1_000_000_000_000_000

    /// The most records of one kind (recognitions, projects, facts) a profile may hold. An enterprise of the
    /// register has tens; a profile of a hundred thousand facts would be screened, stored and sent back whole.
    public static let maximumRecords = 1_000

    /// The most figures one project may carry: a handful of amounts (investment, equipment, contract paid).
    public static let maximumFigures = 16

    /// The longest id of a record, in characters: a department's reference (which a published record's id
    /// defaults to) is as long; an item's id is part of an order's subject, which the ledger bounds at 200
    /// characters with the clause or overlap group before it.
    public static let maximumItemID = 128

    /// Validates a profile message against the vocabulary. Errors name the field, e.g.
    /// `profile.facts[2].fact`.
    public init(message: Jiaxing_Benefits_V1_EnterpriseProfile, vocabulary: Vocabulary) throws(ProfileError) {
        switch CreditCode.validate(message.creditCode) {
        case .success(let code): self.creditCode = code
        case .failure(let problem):
            throw ProfileError(field: "profile.credit_code", message: "'\(message.creditCode)' \(problem)")
        }
        self.name = message.name
        guard let county = County(message: message.county) else {
            throw ProfileError(
                field: "profile.county",
                message: "must be one of the counties and districts of Jiaxing, got \(message.county)")
        }
        self.county = county
        if message.industry.isEmpty {
            self.industry = nil
        } else {
            guard vocabulary.industries.contains(where: { $0.id == message.industry }) else {
                throw ProfileError(
                    field: "profile.industry",
                    message:
                        "unknown industry '\(message.industry)'; known: \(vocabulary.industries.map(\.id).joined(separator: ", "))"
                )
            }
            self.industry = message.industry
        }
        for (field, count) in [
            ("recognitions", message.recognitions.count), ("projects", message.projects.count),
            ("facts", message.facts.count),
        ] where count > Self.maximumRecords {
            throw ProfileError(
                field: "profile.\(field)", message: "at most \(Self.maximumRecords) records, got \(count)")
        }
        var recognitions: [String: [RecognitionRecord]] = [:]
        for (index, record) in message.recognitions.enumerated() {
            let field = "profile.recognitions[\(index)]"
            guard let declared = vocabulary.recognition(record.recognition) else {
                throw ProfileError(
                    field: "\(field).recognition", message: "unknown recognition '\(record.recognition)'")
            }
            if !record.level.isEmpty, !declared.levels.contains(record.level) {
                throw ProfileError(
                    field: "\(field).level",
                    message:
                        "'\(record.level)' is not a level of \(record.recognition) (\(declared.levels.joined(separator: ", ")))"
                )
            }
            guard let date = CalendarDate(message: record.recognizedOn) else {
                throw ProfileError(field: "\(field).recognized_on", message: "a date in 1900-2200 is required")
            }
            guard record.id.count <= Self.maximumItemID else {
                throw ProfileError(
                    field: "\(field).id", message: "at most \(Self.maximumItemID) characters, got \(record.id.count)")
            }
            recognitions[record.recognition, default: []].append(
                RecognitionRecord(
                    recognition: record.recognition, level: record.level.isEmpty ? nil : record.level,
                    recognizedOn: date, source: record.source.chineseDescription, id: record.id))
        }
        self.recognitions = recognitions
        var projects: [String: [ProjectRecord]] = [:]
        for (index, record) in message.projects.enumerated() {
            let field = "profile.projects[\(index)]"
            guard vocabulary.projectKinds.contains(where: { $0.id == record.kind }) else {
                throw ProfileError(field: "\(field).kind", message: "unknown project kind '\(record.kind)'")
            }
            guard record.investmentFen >= 0, record.investmentFen <= Self.maximumAmount else {
                throw ProfileError(
                    field: "\(field).investment_fen",
                    message: "must be between 0 and \(Self.maximumAmount), got \(record.investmentFen)")
            }
            var completedOn: CalendarDate?
            if record.hasCompletedOn {
                guard let date = CalendarDate(message: record.completedOn) else {
                    throw ProfileError(field: "\(field).completed_on", message: "not a date in 1900-2200")
                }
                completedOn = date
            }
            guard record.id.count <= Self.maximumItemID else {
                throw ProfileError(
                    field: "\(field).id", message: "at most \(Self.maximumItemID) characters, got \(record.id.count)")
            }
            guard record.figures.count <= Self.maximumFigures else {
                throw ProfileError(
                    field: "\(field).figures",
                    message: "at most \(Self.maximumFigures) figures, got \(record.figures.count)")
            }
            for (fact, amount) in record.figures.sorted(by: { $0.key < $1.key }) {
                guard let declared = vocabulary.fact(fact), declared.unit != .bool else {
                    throw ProfileError(
                        field: "\(field).figures[\(fact)]", message: "not a fact of the vocabulary measured in amounts")
                }
                guard amount >= 0, amount <= Self.maximumAmount else {
                    throw ProfileError(
                        field: "\(field).figures[\(fact)]",
                        message: "must be between 0 and \(Self.maximumAmount), got \(amount)")
                }
            }
            projects[record.kind, default: []].append(
                ProjectRecord(
                    kind: record.kind, name: record.name, investmentFen: record.investmentFen, completedOn: completedOn,
                    source: record.source.chineseDescription, id: record.id, figures: record.figures))
        }
        self.projects = projects
        var facts: [String: [Int: FactValue]] = [:]
        for (index, record) in message.facts.enumerated() {
            let field = "profile.facts[\(index)]"
            if let source = record.source.chineseDescription {
                self.factSources[record.fact, default: [:]][Int(record.year)] = source
            }
            guard let declared = vocabulary.fact(record.fact) else {
                throw ProfileError(field: "\(field).fact", message: "unknown fact '\(record.fact)'")
            }
            let year = Int(record.year)
            if declared.perYear {
                guard (1900...2200).contains(year) else {
                    throw ProfileError(
                        field: "\(field).year", message: "\(record.fact) is yearly: a year in 1900-2200 is required")
                }
            } else if year != 0 {
                throw ProfileError(field: "\(field).year", message: "\(record.fact) is not yearly: leave year 0")
            }
            switch (record.value, declared.unit) {
            case (.flag(let flag), .bool):
                facts[record.fact, default: [:]][year] = .flag(flag)
            case (.amount(let amount), let unit) where unit != .bool:
                guard amount >= 0, amount <= Self.maximumAmount else {
                    throw ProfileError(
                        field: "\(field).amount", message: "must be between 0 and \(Self.maximumAmount), got \(amount)")
                }
                facts[record.fact, default: [:]][year] = .amount(amount)
            case (nil, _):
                throw ProfileError(field: "\(field).value", message: "a value is required")
            case (_, .bool):
                throw ProfileError(field: "\(field).flag", message: "\(record.fact) is a flag: set flag, not amount")
            default:
                throw ProfileError(
                    field: "\(field).amount",
                    message: "\(record.fact) is measured in \(declared.unit.rawValue): set amount, not flag")
            }
        }
        self.facts = facts
    }
}
