import BenefitsDomain
import CatalogModel

/// Facts in words, the way the documents write them.
enum FactDescription {
    static func value(_ amount: Int64, unit: Vocabulary.Fact.Unit) -> String {
        switch unit {
        case .fen: return Money.chinese(amount)
        case .usdCents:
            if amount % 1_000_000 == 0 || amount >= 100_000_000 {
                return "\(Money.decimal(amount, scale: 1_000_000))万美元"
            }
            return "\(Money.decimal(amount, scale: 100))美元"
        case .count: return "\(amount)"
        case .basisPoints: return Money.percent(basisPoints: Int(amount))
        case .squareMetres: return "\(amount)平方米"
        case .bool: return amount == 0 ? "否" : "是"
        }
    }

    static func period(_ range: ClosedRange<CalendarDate>) -> String { "\(range.lowerBound)至\(range.upperBound)" }
}
