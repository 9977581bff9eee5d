import BenefitsDomain

/// A policy document (政策文件) and the benefit clauses it promises.
public struct PolicyDocument: Sendable, Hashable, Codable {
    public var id: String
    /// As printed, e.g. 嘉政办发〔2023〕38号; nil when the document prints none.
    public var documentNumber: String?
    public var title: String
    public var issuer: String
    public var issueDate: CalendarDate
    public var effectiveFrom: CalendarDate
    /// Last day in force, inclusive; nil if open-ended.
    public var effectiveUntil: CalendarDate?
    /// True when the period was inferred rather than printed.
    public var effectiveInferred: Bool
    public var effectiveText: String?
    /// The seed files the document appears in.
    public var sources: [String]
    public var stacking: Stacking
    public var clawbacks: [Clawback]
    public var payoutTargets: [PayoutTarget]
    public var fundingSplit: FundingSplit?
    public var clauses: [Clause]

    /// Whether the document is in force on `date`.
    public func isInForce(on date: CalendarDate) -> Bool {
        date >= self.effectiveFrom && (self.effectiveUntil.map { date <= $0 } ?? true)
    }
}

/// How awards of overlapping clauses combine.
public struct Stacking: Sendable, Hashable, Codable {
    public enum Rule: String, Sendable, Hashable, Codable {
        /// 就高不重复: where several clauses cover the same thing, pay only the highest.
        case highestOnly
        /// 额外叠加: paid on top of other awards.
        case stacks
        case unspecified
    }

    public var rule: Rule
    public var text: String?
}

/// When paid money is taken back (撤资, 转内资 …).
public struct Clawback: Sendable, Hashable, Codable {
    public enum Trigger: String, Sendable, Hashable, Codable {
        case withdrawal, conversionToDomestic, relocation, fraud, other
    }

    public var trigger: Trigger
    public var withinMonths: Int?
    public var text: String
}

/// A 兑付率 target: the share of promised money paid by a date.
public struct PayoutTarget: Sendable, Hashable, Codable {
    public var by: CalendarDate
    public var rateBasisPoints: Int
    public var text: String
}

/// Who funds what share.
public struct FundingSplit: Sendable, Hashable, Codable {
    public struct Share: Sendable, Hashable, Codable {
        public enum Payer: String, Sendable, Hashable, Codable { case city, county }
        public var payer: Payer
        public var basisPoints: Int
    }

    public var shares: [Share]
    public var text: String
    /// Where the county funds the project itself instead (县级的项目由县级财政…保障支持; 港区…参照县级财政执行):
    /// the city's fund pays nothing there, and the decision says who pays. Absent: the shares apply everywhere.
    public var countyFunded: [CountyFunded]?

    public struct CountyFunded: Sendable, Hashable, Codable {
        public var counties: [County]
        /// The verbatim words that say so.
        public var text: String
    }

    /// The words that make the county of `county` fund a project there, if the document says so.
    public func countyFunding(in county: County) -> String? {
        self.countyFunded?.first { $0.counties.contains(county) }?.text
    }
}

extension PolicyDocument {
    /// The title without the issuing wrapper: 嘉兴市人民政府办公室关于印发《X》的通知 → X, as notices and
    /// citations name a document.
    public var shortTitle: String { Self.shortTitle(self.title) }

    public static func shortTitle(_ title: String) -> String {
        var short = title
        for prefix in ["嘉兴市人民政府办公室关于印发", "嘉兴市人民政府关于印发"] where short.hasPrefix(prefix) {
            short = String(short.dropFirst(prefix.count))
        }
        if short.hasSuffix("的通知") { short = String(short.dropLast(3)) }
        return short
    }
}
