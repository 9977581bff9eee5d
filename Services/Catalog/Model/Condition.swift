import BenefitsDomain

/// One condition of a clause; all of a clause's conditions must hold.
public struct Condition: Sendable, Hashable, Codable {
    public enum Kind: Sendable, Hashable {
        /// Holds a recognition (at one of `levels`, if given); with `newInPeriod`, recognised within the
        /// document's effective period.
        case recognition(recognition: String, levels: [String]?, newInPeriod: Bool)
        case atLeast(fact: String, value: Int64)
        case below(fact: String, value: Int64)
        case flag(fact: String)
        case project(projectKind: String, minimumInvestmentFen: Fen?, completedInPeriod: Bool)
        case industry(industries: [String])
        case county(counties: [String])
    }

    public var kind: Kind
    /// The verbatim fragment of the clause text the condition comes from.
    public var text: String?

    public init(kind: Kind, text: String? = nil) {
        self.kind = kind
        self.text = text
    }

    enum CodingKeys: String, CodingKey {
        case kind, text, recognition, levels, newInPeriod, fact, value, projectKind, minimumInvestmentFen,
            completedInPeriod, industries, counties
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
                newInPeriod: try container.decode(Bool.self, forKey: .newInPeriod)
            )
        case "atLeast":
            self.kind = .atLeast(
                fact: try container.decode(String.self, forKey: .fact),
                value: try container.decode(Int64.self, forKey: .value))
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
        default:
            throw DecodingError.dataCorruptedError(
                forKey: .kind, in: container, debugDescription: "unknown condition kind '\(kind)'")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch self.kind {
        case .recognition(let recognition, let levels, let newInPeriod):
            try container.encode("recognition", forKey: .kind)
            try container.encode(recognition, forKey: .recognition)
            try container.encode(levels, forKey: .levels)
            try container.encode(newInPeriod, forKey: .newInPeriod)
        case .atLeast(let fact, let value), .below(let fact, let value):
            if case .atLeast = self.kind {
                try container.encode("atLeast", forKey: .kind)
            } else {
                try container.encode("below", forKey: .kind)
            }
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
        }
        try container.encodeIfPresent(self.text, forKey: .text)
    }
}
