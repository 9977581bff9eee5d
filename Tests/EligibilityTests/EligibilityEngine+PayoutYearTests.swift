import BenefitsDomain
import CatalogModel
import MeshMessages
import Testing

@testable import EligibilityEngine

@Suite("Eligibility payout year")
struct EligibilityPayoutYearTests {
    static let engine = EligibilityCaseTests.engine

    static func champion(recognizedOn: String, level: String? = nil) throws -> EnterpriseProfile {
        var profile = Jiaxing_Benefits_V1_EnterpriseProfile()
        profile.creditCode = CreditCode.completing("91330402MA2B00003")!.value
        profile.name = "冠军制造"
        profile.county = .nanhu
        var record = Jiaxing_Benefits_V1_RecognitionRecord()
        record.recognition = "singleChampion"
        record.recognizedOn = CalendarDate(recognizedOn)!.message
        if let level { record.level = level }
        profile.recognitions = [record]
        return try EnterpriseProfile(message: profile, vocabulary: Self.engine.catalog.vocabulary)
    }

    @Test(
        "a one-off award is for its recognition's year, on whatever day it is screened; a year's figures for the as-of year"
    )
    func yearOfTheRecord() throws {
        let enterprise = try Self.champion(recognizedOn: "2023-09-01")
        for asOf in ["2023-12-31", "2024-06-30", "2025-12-31"] {
            let award = try #require(
                Self.engine.screen(enterprise, asOf: CalendarDate(asOf)!).decisions.first {
                    $0.clause.id == "jzbf-2023-32/4.1a"
                })
            #expect(award.status == .eligible && award.amountFen == 300_000_000, "as of \(asOf)")
            #expect(award.year == 2023, "as of \(asOf)")
            #expect(award.message.period == 2023)
        }
        // Not paid: the decision stays on the as-of year.
        let refused = try #require(
            Self.engine.screen(enterprise, asOf: CalendarDate("2026-06-30")!, includeIneligible: true).decisions.first {
                $0.clause.id == "jzbf-2024-7/3.1a"
            })
        #expect(refused.status != .eligible && refused.year == 2026)
    }
}
