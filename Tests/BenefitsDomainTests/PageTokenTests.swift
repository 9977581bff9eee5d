import BenefitsDomain
import Testing

@Suite("Page token")
struct PageTokenTests {
    @Test("round trip of any parts; text that is not a token, or has another number of parts, is refused")
    func roundTrip() {
        let token = PageToken(["1701234567890", "order-42", "嘉兴/+= 名"])
        #expect(PageToken(encoded: token.encoded, parts: 3) == token)
        #expect(!token.encoded.contains("+") && !token.encoded.contains("/") && !token.encoded.contains("="))
        #expect(PageToken(encoded: token.encoded, parts: 2) == nil)
        #expect(PageToken(encoded: "not a token!", parts: 1) == nil)
        #expect(PageToken(encoded: String(repeating: "A", count: 2000), parts: 1) == nil)
    }
}
