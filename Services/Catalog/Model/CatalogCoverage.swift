/// What a catalog says of the source passages it does not encode: `coverage.json` beside the documents. Its
/// presence claims that the catalog covers its sources: every sentence of a source that promises an amount
/// (a figure in 元 or % beside 给予, 奖励, 补助 …) is quoted by a clause of a document reading that source, or
/// listed here with the reason it is not a benefit the mesh pays (a budget line, a target, the province's
/// money, a person's reward inside an institution).
public struct CatalogCoverage: Sendable, Hashable, Codable {
    public struct Passage: Sendable, Hashable, Codable {
        /// The source file the passage is in.
        public var source: String
        /// Verbatim (whitespace aside), as the verbatim check reads it.
        public var text: String
        /// Why no clause pays it, for a reviewer.
        public var reason: String
    }

    public var passages: [Passage]

    /// Words that make a sentence with an amount a promise of money to someone.
    static let promiseWords = ["给予", "奖励", "补助", "补贴", "资助", "奖补", "贴息"]

    /// The sentences of `source` (whitespace removed) that promise an amount and overlap none of `quoted`.
    static func uncoveredPromises(in source: String, quoted: [String]) -> [Substring] {
        var covered: [Range<Int>] = []
        for text in quoted {
            let length = text.utf8.count
            source.forEachByteOccurrence(of: text) { offset in
                covered.append(offset..<offset + length)
                return true
            }
        }
        var uncovered: [Substring] = []
        for sentence in source.split(whereSeparator: { $0 == "。" || $0 == "；" || $0 == ";" }) {
            guard Self.promisesAmount(sentence) else { continue }
            let start = source.utf8.distance(from: source.startIndex, to: sentence.startIndex)
            let range = start..<start + sentence.utf8.count
            if !covered.contains(where: { $0.overlaps(range) }) { uncovered.append(sentence) }
        }
        return uncovered
    }

    /// A figure followed by 元, 万元, 亿元 or %, and a word of giving.
    static func promisesAmount(_ sentence: Substring) -> Bool {
        guard Self.promiseWords.contains(where: { sentence.contains($0) }) else { return false }
        let characters = Array(sentence)
        var index = 0
        while index < characters.count {
            guard characters[index].isASCII, characters[index].isNumber else {
                index += 1
                continue
            }
            while index < characters.count, characters[index].isASCII,
                characters[index].isNumber || characters[index] == "."
            {
                index += 1
            }
            let next = characters[index..<min(index + 2, characters.count)]
            if next.first == "元" || next.first == "%" || next.elementsEqual("万元") || next.elementsEqual("亿元") {
                return true
            }
        }
        return false
    }
}
