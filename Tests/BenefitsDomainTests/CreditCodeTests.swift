import BenefitsDomain
import Testing

@Suite struct CreditCodeTests {
    /// GB 32100-2015's check, written out again here as the reference the validator is held to.
    static func referenceCheck(_ body: [Character]) -> Character {
        let alphabet = Array("0123456789ABCDEFGHJKLMNPQRTUWXY")
        let weights = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
        let sum = zip(body, weights).reduce(0) { $0 + alphabet.firstIndex(of: $1.0)! * $1.1 }
        return alphabet[(31 - sum % 31) % 31]
    }

    @Test func acceptsValidCodesInEitherCase() throws {
        let code = try #require(CreditCode.completing("91330402MA2B8G4Y5"))
        #expect(code.value.last == Self.referenceCheck(Array(code.value.prefix(17))))
        #expect(CreditCode(code.value.lowercased())?.value == code.value)
        #expect(CreditCode(code.value) == code)
    }

    @Test("a code written with a ligature or a sign equivalent to a letter is the same code, in ASCII")
    func canonicalSpelling() throws {
        let code = try #require(CreditCode.completing("91330402MA2FF0K01"))
        let ligature = code.value.replacingOccurrences(of: "FF", with: "\u{FB00}")  // 'ﬀ', upper-cased "FF"
        let kelvin = code.value.replacingOccurrences(of: "K", with: "\u{212A}")  // the Kelvin sign, equivalent to 'K'
        for spelling in [ligature, kelvin, ligature.lowercased()] {
            #expect(spelling.utf8.count != 18)
            #expect(Array(try #require(CreditCode(spelling)).value.utf8) == Array(code.value.utf8))
        }
    }

    @Test func namesEachProblem() {
        let body = "91330402MA2B8G4Y5"
        let good = Self.referenceCheck(Array(body))
        let wrong: Character = good == "0" ? "1" : "0"
        #expect(CreditCode.validate(body + String(wrong)) == .failure(.checkCharacter(expected: good, found: wrong)))
        #expect(CreditCode.validate(body) == .failure(.length(17)))
        #expect(CreditCode.validate("91330402MA2B8G4YI" + String(good)) == .failure(.character("I", position: 17)))
        // Full-width digits are 18 characters but not 18 bytes: the byte path declines, the other names them.
        #expect(CreditCode.validate("９１330402MA2B8G4Y5" + String(good)) == .failure(.character("９", position: 1)))
    }

    /// Random strings near the alphabet, most of them with the right check character: the validator accepts
    /// exactly those the reference accepts.
    @Test func agreesWithTheReferenceOnRandomCodes() {
        var generator = SystemRandomNumberGenerator()
        let characters = Array("0123456789ABCDEFGHJKLMNPQRTUWXYabcdefghjkIOSVZ-")
        var accepted = 0
        for _ in 0..<20_000 {
            var body = (0..<17).map { _ in characters.randomElement(using: &generator)! }
            if Bool.random(using: &generator) { body = body.map { Character($0.uppercased()) } }
            let upper = body.map { Character($0.uppercased()) }
            let valid = upper.allSatisfy { "0123456789ABCDEFGHJKLMNPQRTUWXY".contains($0) }
            let check =
                valid && Int.random(in: 0..<4, using: &generator) > 0
                ? Self.referenceCheck(upper) : characters.randomElement(using: &generator)!
            let text = String(body) + String(check)
            let expected = valid && Character(check.uppercased()) == Self.referenceCheck(upper)
            let result = CreditCode(text)
            #expect((result != nil) == expected, "\(text)")
            if let result {
                #expect(result.value == text.uppercased())
                accepted += 1
            }
        }
        #expect(accepted > 1_000)
    }
}
