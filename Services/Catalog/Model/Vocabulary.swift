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

    public static let levels: Set<String> = ["national", "provincial", "municipal", "county"]

    public func fact(_ id: String) -> Fact? { self.facts.first { $0.id == id } }
    public func recognition(_ id: String) -> Recognition? { self.recognitions.first { $0.id == id } }
}
