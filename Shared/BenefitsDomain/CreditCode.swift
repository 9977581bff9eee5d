/// A unified social credit code (统一社会信用代码): 18 characters whose last is a check character per
/// GB 32100-2015.
public struct CreditCode: Sendable, Hashable, Codable, CustomStringConvertible {
    public let value: String

    static let alphabet = Array("0123456789ABCDEFGHJKLMNPQRTUWXY")
    static let weights = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]

    public enum Problem: Error, Sendable, Hashable, CustomStringConvertible {
        case length(Int)
        case character(Character, position: Int)
        case checkCharacter(expected: Character, found: Character)

        public var description: String {
            switch self {
            case .length(let length): return "must be 18 characters, got \(length)"
            case .character(let character, let position): return "character '\(character)' at position \(position) is not allowed (0-9 and A-Y without I, O, S, V, Z)"
            case .checkCharacter(let expected, let found): return "check character is '\(found)', expected '\(expected)'"
            }
        }
    }

    /// Validates `text` (upper-cased first). Returns the problem if it is not a valid code.
    public static func validate(_ text: String) -> Result<CreditCode, Problem> {
        let characters = Array(text.uppercased())
        guard characters.count == 18 else { return .failure(.length(characters.count)) }
        var sum = 0
        for (position, character) in characters.enumerated() {
            guard let index = self.alphabet.firstIndex(of: character) else {
                return .failure(.character(character, position: position + 1))
            }
            if position < 17 { sum += index * self.weights[position] }
        }
        let expected = self.alphabet[(31 - sum % 31) % 31]
        guard characters[17] == expected else { return .failure(.checkCharacter(expected: expected, found: characters[17])) }
        return .success(CreditCode(value: String(characters)))
    }

    public init?(_ text: String) {
        guard case .success(let code) = Self.validate(text) else { return nil }
        self = code
    }

    private init(value: String) { self.value = value }

    /// Makes a valid code from a 17-character body by appending its check character (for test data).
    public static func completing(_ body: String) -> CreditCode? {
        let characters = Array(body.uppercased())
        guard characters.count == 17 else { return nil }
        var sum = 0
        for (position, character) in characters.enumerated() {
            guard let index = self.alphabet.firstIndex(of: character) else { return nil }
            sum += index * self.weights[position]
        }
        return CreditCode(value: String(characters) + String(self.alphabet[(31 - sum % 31) % 31]))
    }

    public var description: String { self.value }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        switch Self.validate(text) {
        case .success(let code): self = code
        case .failure(let problem):
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "credit code '\(text)' \(problem)"))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(self.value)
    }
}
