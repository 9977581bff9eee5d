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
            case .character(let character, let position):
                return
                    "character '\(character)' at position \(position) is not allowed (0-9 and A-Y without I, O, S, V, Z)"
            case .checkCharacter(let expected, let found):
                return "check character is '\(found)', expected '\(expected)'"
            }
        }
    }

    /// Validates `text` (upper-cased first). Returns the problem if it is not a valid code. A valid code's
    /// `value` is always the alphabet's own 18 ASCII characters, however it was written: a ligature ('ﬀ'
    /// upper-cases to "FF") or a sign equivalent to a letter (the Kelvin sign to 'K') would otherwise make a
    /// second spelling of one enterprise, with caps and idempotency keys of its own.
    public static func validate(_ text: String) -> Result<CreditCode, Problem> {
        if let code = Self.validatedBytes(text) { return .success(code) }
        let characters = Array(text.uppercased())
        guard characters.count == 18 else { return .failure(.length(characters.count)) }
        var sum = 0
        var canonical = ""
        for (position, character) in characters.enumerated() {
            guard let index = self.alphabet.firstIndex(of: character) else {
                return .failure(.character(character, position: position + 1))
            }
            canonical.append(self.alphabet[index])
            if position < 17 { sum += index * self.weights[position] }
        }
        let expected = self.alphabet[(31 - sum % 31) % 31]
        guard characters[17] == expected else {
            return .failure(.checkCharacter(expected: expected, found: characters[17]))
        }
        return .success(CreditCode(value: canonical))
    }

    /// Each ASCII byte's place in the alphabet (lower case too), or -1.
    private static let alphabetIndex: [Int8] = {
        var table = [Int8](repeating: -1, count: 128)
        for (index, character) in Self.alphabet.enumerated() {
            let byte = character.asciiValue!
            table[Int(byte)] = Int8(index)
            if (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) { table[Int(byte | 0x20)] = Int8(index) }
        }
        return table
    }()

    /// A valid code checked byte by byte: every payout order and profile is validated, and the `Character`
    /// path (grapheme breaking, an array of characters) cost more than the SQL that follows. Returns nil
    /// for anything that is not a valid code; the `Character` path then names the problem.
    private static func validatedBytes(_ text: String) -> CreditCode? {
        guard text.utf8.count == 18 else { return nil }
        var sum = 0
        var lowerCase = false
        var check = 0
        for (position, byte) in text.utf8.enumerated() {
            guard byte < 128 else { return nil }
            let index = Int(Self.alphabetIndex[Int(byte)])
            guard index >= 0 else { return nil }
            lowerCase = lowerCase || byte >= UInt8(ascii: "a")
            if position < 17 { sum += index * Self.weights[position] } else { check = index }
        }
        guard check == (31 - sum % 31) % 31 else { return nil }
        return CreditCode(value: lowerCase ? text.uppercased() : text)
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
            throw DecodingError.dataCorrupted(
                .init(codingPath: decoder.codingPath, debugDescription: "credit code '\(text)' \(problem)"))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(self.value)
    }
}
