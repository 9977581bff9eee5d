import CatalogModel

/// The vocabulary's terms by id, for the explained screening: a check names every fact, recognition, level,
/// project kind and industry it reads, and the vocabulary keeps them in arrays searched from the front.
/// Built once per engine (one catalog revision) and shared by reference, so a screening copies no arrays.
final class VocabularyIndex: Sendable {
    let vocabulary: Vocabulary
    private let facts: [String: Vocabulary.Fact]
    private let recognitions: [String: Vocabulary.Recognition]
    private let projectKinds: [String: String]
    private let industries: [String: String]
    private let levels: [String: String]

    init(_ vocabulary: Vocabulary) {
        self.vocabulary = vocabulary
        // The first of a duplicated id wins, as the vocabulary's own `first { $0.id == id }` lookups do.
        self.facts = Dictionary(vocabulary.facts.map { ($0.id, $0) }) { first, _ in first }
        self.recognitions = Dictionary(vocabulary.recognitions.map { ($0.id, $0) }) { first, _ in first }
        self.projectKinds = Dictionary(vocabulary.projectKinds.map { ($0.id, $0.name) }) { first, _ in first }
        self.industries = Dictionary(vocabulary.industries.map { ($0.id, $0.name) }) { first, _ in first }
        self.levels = Dictionary(vocabulary.levels.map { ($0.id, $0.name) }) { first, _ in first }
    }

    func fact(_ id: String) -> Vocabulary.Fact? { self.facts[id] }
    func recognition(_ id: String) -> Vocabulary.Recognition? { self.recognitions[id] }

    /// The project kind's name as the documents write it, the id itself if undeclared.
    func projectKindName(_ id: String) -> String { self.projectKinds[id] ?? id }

    /// The industry's name, the id itself if undeclared.
    func industryName(_ id: String) -> String { self.industries[id] ?? id }

    /// A level's Chinese name ("国家级"), the id itself if undeclared, nothing for no level.
    func levelName(_ level: String?) -> String {
        guard let level else { return "" }
        return self.levels[level] ?? level
    }
}
