/// Money is an integer number of fen (分). 1 元 = 100 fen; 1 万元 = 1,000,000 fen.
public typealias Fen = Int64

public enum Money {
    public static let fenPerYuan: Fen = 100
    public static let fenPerWanYuan: Fen = 1_000_000
    public static let fenPerYiYuan: Fen = 10_000_000_000
    /// The most any single amount the ledger writes may be, a fund's budget or an order's amount: 10^12 fen
    /// (100亿元), far above any real budget, and small enough that no sum over the ledger's rows can overflow
    /// Int64 (or a database's 64-bit integer) before millions of such rows.
    public static let maximumFen: Fen = 1_000_000_000_000

    /// How the documents write an amount: 亿元 or 万元 where exact to four places, else 元.
    /// 150,000,000 fen → "150万元"; 2,500,000 → "2.5万元"; 20,000,000,000 → "2亿元"; 12,345 → "123.45元".
    public static func chinese(_ fen: Fen) -> String {
        if fen != 0, fen % (fenPerYiYuan / 10_000) == 0, fen.magnitude >= fenPerYiYuan.magnitude {
            return "\(self.decimal(fen, scale: fenPerYiYuan))亿元"
        }
        if fen % (fenPerWanYuan / 10_000) == 0, fen.magnitude >= fenPerWanYuan.magnitude / 10 {
            return "\(self.decimal(fen, scale: fenPerWanYuan))万元"
        }
        return "\(self.decimal(fen, scale: fenPerYuan))元"
    }

    /// `value / scale` written with up to four decimals (cut, not rounded), trailing zeros dropped. `scale` is
    /// positive; up to 10^18 every decimal is written.
    public static func decimal(_ value: Int64, scale: Int64) -> String {
        // Written as ASCII on the stack: every decision's words carry amounts, and building them from
        // intermediate strings cost more than the decision's arithmetic.
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 32) { buffer in
            var count = 0
            if value < 0 {
                buffer[0] = UInt8(ascii: "-")
                count = 1
            }
            let magnitude = value.magnitude
            var whole = magnitude / scale.magnitude
            var fraction = magnitude % scale.magnitude
            let wholeStart = count
            repeat {
                buffer[count] = UInt8(ascii: "0") + UInt8(whole % 10)
                count += 1
                whole /= 10
            } while whole > 0
            var (low, high) = (wholeStart, count - 1)
            while low < high {
                buffer.swapAt(low, high)
                low += 1
                high -= 1
            }
            // Long division, a decimal at a time, cut (not rounded) after four: for the powers of ten every
            // caller passes these are the fraction's own digits, and any other scale gets its true decimals.
            let divisor = scale.magnitude
            var decimals = 0
            var lastNonZero = count
            while fraction > 0, decimals < 4 {
                let (shifted, overflow) = fraction.multipliedReportingOverflow(by: 10)
                guard !overflow else { break }
                if decimals == 0 {
                    buffer[count] = UInt8(ascii: ".")
                    count += 1
                }
                let digit = shifted / divisor
                buffer[count] = UInt8(ascii: "0") + UInt8(digit)
                count += 1
                decimals += 1
                if digit != 0 { lastNonZero = count }
                fraction = shifted % divisor
            }
            // Trailing zeros dropped, and the point with them when no decimal is left.
            return String(decoding: UnsafeMutableBufferPointer(rebasing: buffer[..<lastNonZero]), as: UTF8.self)
        }
    }

    /// A percentage from basis points: 2000 → "20%", 150 → "1.5%".
    public static func percent(basisPoints: Int) -> String {
        "\(self.decimal(Int64(basisPoints), scale: 100))%"
    }
}
