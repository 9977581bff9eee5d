import BenefitsDomain
import CatalogModel

/// Facts in words, the way the documents write them.
enum FactDescription {
    static func value(_ amount: Int64, unit: Vocabulary.Fact.Unit) -> String { unit.words(amount) }

    static func period(_ range: ClosedRange<CalendarDate>) -> String { "\(range.lowerBound)至\(range.upperBound)" }
}
