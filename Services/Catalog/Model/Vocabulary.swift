/// The facts, recognitions, project kinds and industries the clauses may name.
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
    }

    public struct Recognition: Sendable, Hashable, Codable {
        public var id: String
        public var name: String
        public var levels: [String]
    }

    public struct Term: Sendable, Hashable, Codable {
        public var id: String
        public var name: String
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
