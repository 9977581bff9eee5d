import BenefitsDomain
import CatalogModel
import EligibilityEngine
import Testing

/// The screening tries only the clauses an enterprise's records open (`ClauseGates`). Screening with the
/// ineligible kept tries every clause; the two must agree on every decision that is not ineligible, word for
/// word: a gate that shut out a clause the enterprise could receive or nearly meet would show here.
@Suite("Eligibility clause gates")
struct ClauseGatesTests {
    static let engine = EligibilityCaseTests.engine

    /// What a decision says, as the county reads it.
    struct Said: Hashable, CustomStringConvertible {
        var clause: String
        var item: String?
        var status: Decision.Status
        var amountFen: Fen
        var reason: String
        var calculation: String
        var checks: [String]
        var description: String { "\(self.clause)\(self.item.map { "@\($0)" } ?? "") \(self.status) \(self.amountFen)" }

        init(_ decision: Decision) {
            self.clause = decision.clause.id
            self.item = decision.item?.id
            self.status = decision.status
            self.amountFen = decision.amountFen
            self.reason = decision.reason
            self.calculation = decision.calculation
            self.checks = decision.checks.map { "\($0.met) \($0.factUsed) \($0.explanation) \($0.nearMiss ?? "-")" }
        }
    }

    @Test(
        "600 random profiles on each document's first and last day: the gated screening says what trying every clause says"
    )
    func gatedEqualsUngated() async throws {
        let vocabulary = Self.engine.catalog.vocabulary
        var generator = RandomProfiles(vocabulary: vocabulary, seed: 20_261_206)
        let profiles = try (0..<600).map { _ in try EnterpriseProfile(message: generator.next(), vocabulary: vocabulary)
        }
        var days: Set<CalendarDate> = []
        for document in Self.engine.catalog.documents {
            days.insert(document.effectiveFrom)
            if let until = document.effectiveUntil { days.insert(until) }
        }
        var kept = 0
        for asOf in days.sorted() {
            for (index, profile) in profiles.enumerated() {
                if index.isMultiple(of: EligibilityAmountsTests.profilesBetweenYields) { await Task.yield() }
                let gated = Self.engine.screen(profile, asOf: asOf).decisions.filter { $0.status != .ineligible }
                let every = Self.engine.screen(profile, asOf: asOf, includeIneligible: true).decisions
                    .filter { $0.status != .ineligible }
                #expect(gated.map(Said.init) == every.map(Said.init), "enterprise \(index) as of \(asOf)")
                kept += gated.count
            }
        }
        // Not vacuous: the random profiles meet or nearly meet many clauses.
        #expect(kept >= 1_000, "decisions kept: \(kept)")
    }
}
