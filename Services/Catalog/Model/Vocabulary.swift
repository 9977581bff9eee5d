import BenefitsDomain

/// The facts, recognitions, project kinds and industries the clauses may name, and who vouches for each: the
/// departments that hold a kind of record attest it (`attestedBy`); a fact without one is the county's to register.
public struct Vocabulary: Sendable, Hashable, Codable {
    public struct Fact: Sendable, Hashable, Codable {
        public enum Unit: String, Sendable, Hashable, Codable {
            case fen, usdCents, count, bool, basisPoints, squareMetres
        }

        public var id: String
        public var unit: Unit
        /// A fact reported per year (R&D spending, FDI) rather than once.
        public var perYear: Bool
        public var name: String
        public var description: String
        /// The departments that hold this fact; empty: registered by the enterprise's county (规上, 小微).
        public var attestedBy: [Department]

        public init(
            id: String, unit: Unit, perYear: Bool, name: String, description: String, attestedBy: [Department] = []
        ) {
            self.id = id
            self.unit = unit
            self.perYear = perYear
            self.name = name
            self.description = description
            self.attestedBy = attestedBy
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            self.id = try container.decode(String.self, forKey: .id)
            self.unit = try container.decode(Unit.self, forKey: .unit)
            self.perYear = try container.decode(Bool.self, forKey: .perYear)
            self.name = try container.decode(String.self, forKey: .name)
            self.description = try container.decode(String.self, forKey: .description)
            self.attestedBy = try container.decodeIfPresent([Department].self, forKey: .attestedBy) ?? []
        }
    }

    public struct Recognition: Sendable, Hashable, Codable {
        public var id: String
        public var name: String
        public var levels: [String]
        /// The departments that award it; only they may attest that an enterprise holds it.
        public var attestedBy: [Department]

        public init(id: String, name: String, levels: [String], attestedBy: [Department] = []) {
            self.id = id
            self.name = name
            self.levels = levels
            self.attestedBy = attestedBy
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            self.id = try container.decode(String.self, forKey: .id)
            self.name = try container.decode(String.self, forKey: .name)
            self.levels = try container.decode([String].self, forKey: .levels)
            self.attestedBy = try container.decodeIfPresent([Department].self, forKey: .attestedBy) ?? []
        }
    }

    public struct Term: Sendable, Hashable, Codable {
        public var id: String
        public var name: String
        /// For project kinds: the departments that accept such projects and attest them.
        public var attestedBy: [Department]

        enum CodingKeys: String, CodingKey {
            case id, name, attestedBy
        }

        public init(id: String, name: String, attestedBy: [Department] = []) {
            self.id = id
            self.name = name
            self.attestedBy = attestedBy
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            self.id = try container.decode(String.self, forKey: .id)
            self.name = try container.decode(String.self, forKey: .name)
            self.attestedBy = try container.decodeIfPresent([Department].self, forKey: .attestedBy) ?? []
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(self.id, forKey: .id)
            try container.encode(self.name, forKey: .name)
            if !self.attestedBy.isEmpty { try container.encode(self.attestedBy, forKey: .attestedBy) }
        }
    }

    /// What a kind of record is, for attestation: the departments that vouch for it, empty where the county does.
    public enum RecordKind: Sendable, Hashable {
        case recognition(String)
        case project(String)
        case fact(String)

        /// The vocabulary id of the kind.
        public var id: String {
            switch self {
            case .recognition(let id), .project(let id), .fact(let id): return id
            }
        }
    }

    /// The departments that may attest records of `kind`; nil when the vocabulary does not know the kind.
    public func attesters(of kind: RecordKind) -> [Department]? {
        switch kind {
        case .recognition(let id): return self.recognition(id)?.attestedBy
        case .project(let id): return self.projectKind(id)?.attestedBy
        case .fact(let id): return self.fact(id)?.attestedBy
        }
    }

    public var facts: [Fact]
    public var recognitions: [Recognition]
    public var projectKinds: [Term]
    public var industries: [Term]
    /// Every level or grade a recognition may be held at, with its Chinese name: 国家级/省级/市级/县级, and the
    /// categories other texts tier by (国际/国内/省内/市内首台(套), A–E 档, 三星级/四星级/五星级).
    public var levels: [Term]

    /// The most distinct levels a vocabulary may declare (the column engine keeps a level set in 64 bits).
    public static let maximumLevels = 64

    /// A level's Chinese name as the documents write it ("国家级"), the id itself if undeclared.
    public func levelName(_ level: String?) -> String {
        guard let level else { return "" }
        return self.levels.first { $0.id == level }?.name ?? level
    }

    public func fact(_ id: String) -> Fact? { self.facts.first { $0.id == id } }
    public func recognition(_ id: String) -> Recognition? { self.recognitions.first { $0.id == id } }
}
