import BenefitsDomain

/// One condition of a clause; all of a clause's conditions must hold.
public struct Condition: Sendable, Hashable, Codable {
    /// A threshold that depends on what the enterprise is: where it holds the recognition `whenRecognition` on
    /// the day, or its flag `whenFlag` is true, `value` replaces the condition's own (高新技术企业 4%, 规上企业 3%).
    /// Exactly one of the two is set.
    public struct ThresholdOverride: Sendable, Hashable, Codable {
        public var whenRecognition: String?
        public var whenFlag: String?
        public var value: Int64
        /// The verbatim fragment that sets it.
        public var text: String?

        public init(whenRecognition: String? = nil, whenFlag: String? = nil, value: Int64, text: String? = nil) {
            self.whenRecognition = whenRecognition
            self.whenFlag = whenFlag
            self.value = value
            self.text = text
        }
    }

    public indirect enum Kind: Sendable, Hashable {
        /// Holds a recognition (at one of `levels`, if given); with `newInPeriod`, recognised within the
        /// document's effective period; with `first` (首次), its first record of that recognition at any level
        /// is, so a re-recognition (重新认定) is not paid again.
        case recognition(recognition: String, levels: [String]?, newInPeriod: Bool, first: Bool)
        /// A numeric fact is at least `value` (不低于 / 以上 / 达到), or the first override's value that applies to
        /// the enterprise; with `newlyReached` (新达到), the latest year reaches it and the year before did not.
        /// An effective threshold of 0 asks nothing (其中规上企业…须达到: no requirement for the others).
        case atLeast(fact: String, value: Int64, overrides: [ThresholdOverride], year: YearRule)
        case below(fact: String, value: Int64)
        case flag(fact: String)
        case project(projectKind: String, minimumInvestmentFen: Fen?, completedInPeriod: Bool)
        case industry(industries: [String])
        case county(counties: [String])
        /// Any one of these is enough (…以上，或…以上). Each is a plain condition, never another `anyOf`.
        case anyOf([Condition])
        /// Who the clause excludes (…不享受): met unless the enterprise holds `fact` or is in one of `industries`.
        /// A flag the enterprise never reported counts as not held.
        case exclusion(fact: String?, industries: [String])
    }

    /// Which year's value a threshold on a yearly fact reads.
    public enum YearRule: Sendable, Hashable {
        /// The latest year reported up to the screening's year.
        case latest
        /// 新达到: the latest year reaches it and the year before, which must be reported, did not.
        case newlyReached
        /// 首年: the first year reported (the project's first year), not the current one.
        case first
    }

    public var kind: Kind
    /// The verbatim fragment of the clause text the condition comes from.
    public var text: String?

    public init(kind: Kind, text: String? = nil) {
        self.kind = kind
        self.text = text
    }

    enum CodingKeys: String, CodingKey {
        case kind, text, recognition, levels, newInPeriod, first, fact, value, projectKind, minimumInvestmentFen,
            completedInPeriod, industries, counties, overrides, newlyReached, firstYear, conditions
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.text = try container.decodeIfPresent(String.self, forKey: .text)
        let kind = try container.decode(String.self, forKey: .kind)
        switch kind {
        case "recognition":
            self.kind = .recognition(
                recognition: try container.decode(String.self, forKey: .recognition),
                levels: try container.decodeIfPresent([String].self, forKey: .levels),
                newInPeriod: try container.decode(Bool.self, forKey: .newInPeriod),
                first: try container.decodeIfPresent(Bool.self, forKey: .first) ?? false
            )
        case "atLeast":
            self.kind = .atLeast(
                fact: try container.decode(String.self, forKey: .fact),
                value: try container.decode(Int64.self, forKey: .value),
                overrides: try container.decodeIfPresent([ThresholdOverride].self, forKey: .overrides) ?? [],
                year: try container.decodeIfPresent(Bool.self, forKey: .firstYear) == true
                    ? .first
                    : try container.decodeIfPresent(Bool.self, forKey: .newlyReached) == true ? .newlyReached : .latest
            )
        case "below":
            self.kind = .below(
                fact: try container.decode(String.self, forKey: .fact),
                value: try container.decode(Int64.self, forKey: .value))
        case "flag":
            self.kind = .flag(fact: try container.decode(String.self, forKey: .fact))
        case "project":
            self.kind = .project(
                projectKind: try container.decode(String.self, forKey: .projectKind),
                minimumInvestmentFen: try container.decodeIfPresent(Fen.self, forKey: .minimumInvestmentFen),
                completedInPeriod: try container.decode(Bool.self, forKey: .completedInPeriod)
            )
        case "industry":
            self.kind = .industry(industries: try container.decode([String].self, forKey: .industries))
        case "county":
            self.kind = .county(counties: try container.decode([String].self, forKey: .counties))
        case "anyOf":
            self.kind = .anyOf(try container.decode([Condition].self, forKey: .conditions))
        case "exclusion":
            self.kind = .exclusion(
                fact: try container.decodeIfPresent(String.self, forKey: .fact),
                industries: try container.decodeIfPresent([String].self, forKey: .industries) ?? [])
        default:
            throw DecodingError.dataCorruptedError(
                forKey: .kind, in: container, debugDescription: "unknown condition kind '\(kind)'")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch self.kind {
        case .recognition(let recognition, let levels, let newInPeriod, let first):
            try container.encode("recognition", forKey: .kind)
            try container.encode(recognition, forKey: .recognition)
            try container.encode(levels, forKey: .levels)
            try container.encode(newInPeriod, forKey: .newInPeriod)
            if first { try container.encode(first, forKey: .first) }
        case .atLeast(let fact, let value, let overrides, let year):
            try container.encode("atLeast", forKey: .kind)
            try container.encode(fact, forKey: .fact)
            try container.encode(value, forKey: .value)
            if !overrides.isEmpty { try container.encode(overrides, forKey: .overrides) }
            if year == .newlyReached { try container.encode(true, forKey: .newlyReached) }
            if year == .first { try container.encode(true, forKey: .firstYear) }
        case .below(let fact, let value):
            try container.encode("below", forKey: .kind)
            try container.encode(fact, forKey: .fact)
            try container.encode(value, forKey: .value)
        case .flag(let fact):
            try container.encode("flag", forKey: .kind)
            try container.encode(fact, forKey: .fact)
        case .project(let projectKind, let minimum, let completedInPeriod):
            try container.encode("project", forKey: .kind)
            try container.encode(projectKind, forKey: .projectKind)
            try container.encode(minimum, forKey: .minimumInvestmentFen)
            try container.encode(completedInPeriod, forKey: .completedInPeriod)
        case .industry(let industries):
            try container.encode("industry", forKey: .kind)
            try container.encode(industries, forKey: .industries)
        case .county(let counties):
            try container.encode("county", forKey: .kind)
            try container.encode(counties, forKey: .counties)
        case .anyOf(let conditions):
            try container.encode("anyOf", forKey: .kind)
            try container.encode(conditions, forKey: .conditions)
        case .exclusion(let fact, let industries):
            try container.encode("exclusion", forKey: .kind)
            try container.encodeIfPresent(fact, forKey: .fact)
            if !industries.isEmpty { try container.encode(industries, forKey: .industries) }
        }
        try container.encodeIfPresent(self.text, forKey: .text)
    }
}
