import BenefitsDomain
import Testing

@Suite("Amounts and dates in words")
struct MoneyWordsTests {
    @Test("amounts the way the documents write them")
    func chinese() {
        #expect(Money.chinese(150_000_000) == "150万元")
        #expect(Money.chinese(2_500_000) == "2.5万元")
        #expect(Money.chinese(20_000_000_000) == "2亿元")
        #expect(Money.chinese(12_345) == "123.45元")
        #expect(Money.chinese(0) == "0元")
        #expect(Money.chinese(-300_000) == "-0.3万元")
        #expect(Money.chinese(99_999) == "999.99元")
        #expect(Money.chinese(-2_500_000) == "-2.5万元")
        #expect(Money.chinese(Money.maximumFen) == "100亿元")
        #expect(Money.percent(basisPoints: 2000) == "20%")
        #expect(Money.percent(basisPoints: 150) == "1.5%")
        #expect(Money.percent(basisPoints: 5) == "0.05%")
    }

    /// The decimal writer against its definition, written here as plain long division: the whole part, then up
    /// to four decimals cut (not rounded), trailing zeros dropped.
    @Test("decimals agree with their definition on many values and scales")
    func decimals() {
        func reference(_ value: Int64, _ scale: Int64) -> String {
            let whole = value.magnitude / scale.magnitude
            var fraction = value.magnitude % scale.magnitude
            var digits: [Character] = []
            while fraction > 0, digits.count < 4 {
                fraction *= 10
                digits.append(Character(String(fraction / scale.magnitude)))
                fraction %= scale.magnitude
            }
            while digits.last == "0" { digits.removeLast() }
            return (value < 0 ? "-" : "") + String(whole) + (digits.isEmpty ? "" : "." + String(digits))
        }
        #expect(Money.decimal(3, scale: 7) == "0.4285")
        #expect(Money.decimal(14, scale: 15) == "0.9333")
        #expect(Money.decimal(-10, scale: 15) == "-0.6666")
        #expect(Money.decimal(-1, scale: 1_000_000) == "-0")
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        var values: [Int64] = [0, 1, -1, 9, 10, 99_999, 100_000, Int64.max, Int64.min, 1_000_000_000_000_000]
        for _ in 0..<20_000 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let digits = Int(state >> 60) + 1
            var value = Int64(truncatingIfNeeded: state >> 4) % Int64(pow10(min(digits, 18)))
            if state & 1 == 1 { value = -value }
            values.append(value)
        }
        for scale: Int64 in [1, 10, 100, 1_000_000, 10_000_000_000, 7, 15, 25, 999_999_937] {
            for value in values {
                #expect(Money.decimal(value, scale: scale) == reference(value, scale), "\(value) / \(scale)")
            }
        }
    }

    @Test("dates as YYYY-MM-DD")
    func dates() throws {
        #expect(try #require(CalendarDate(year: 2023, month: 9, day: 1)).description == "2023-09-01")
        #expect(try #require(CalendarDate(year: 1900, month: 12, day: 31)).description == "1900-12-31")
        #expect(try #require(CalendarDate(year: 2200, month: 1, day: 10)).description == "2200-01-10")
        for text in ["2024-02-29", "2023-06-15", "2000-10-05"] {
            #expect(try #require(CalendarDate(text)).description == text)
        }
    }

    private func pow10(_ exponent: Int) -> Int64 { (0..<exponent).reduce(1) { value, _ in value * 10 } }
}
