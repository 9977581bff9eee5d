import BenefitsDomain
import Foundation
import Testing

@Suite("UTC timestamp")
struct UTCTimestampTests {
    @Test("the same text as Foundation's ISO 8601 formatter, across days, leap years and before 1970")
    func matchesFoundation() {
        let formatter = ISO8601DateFormatter()
        var generator = SystemRandomNumberGenerator()
        let fixed: [Int64] = [0, -1, 86_399, 86_400, 951_782_400, 1_796_568_484, 4_102_444_799, -2_208_988_800]
        let random = (0..<2_000).map { _ in Int64.random(in: -2_208_988_800...4_102_444_799, using: &generator) }
        for seconds in fixed + random {
            let expected = formatter.string(from: Date(timeIntervalSince1970: TimeInterval(seconds)))
            #expect(UTCTimestamp.iso8601(seconds: seconds) == expected, "\(seconds)")
        }
    }
}
