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

    /// `value / scale` written with up to four decimals, trailing zeros dropped.
    public static func decimal(_ value: Int64, scale: Int64) -> String {
        let negative = value < 0
        let magnitude = value.magnitude
        let whole = magnitude / scale.magnitude
        var fraction = magnitude % scale.magnitude
        var digits = ""
        var remainingScale = scale.magnitude
        while fraction > 0, digits.count < 4 {
            remainingScale /= 10
            guard remainingScale > 0 else { break }
            digits.append(String(fraction / remainingScale))
            fraction %= remainingScale
        }
        while digits.hasSuffix("0") { digits.removeLast() }
        return (negative ? "-" : "") + "\(whole)" + (digits.isEmpty ? "" : ".\(digits)")
    }

    /// A percentage from basis points: 2000 → "20%", 150 → "1.5%".
    public static func percent(basisPoints: Int) -> String {
        "\(self.decimal(Int64(basisPoints), scale: 100))%"
    }
}
