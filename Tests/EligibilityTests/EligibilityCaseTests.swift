import BenefitsDomain
import CatalogModel
import EligibilityEngine
import Foundation
import MeshMessages
import MeshTestSupport
import Testing
import Yams

/// Runs the declarative cases in `Cases/*.yaml` against the repository catalog.
@Suite("Eligibility cases")
struct EligibilityCaseTests {
    struct CaseFile: Decodable {
        var cases: [Case]
    }

    // swift-format-ignore: AlwaysUseLowerCamelCase
    // The YAML cases' own keys.
    struct Case: Decodable, CustomTestStringConvertible, Sendable {
        var name: String
        var source: String?
        var as_of: String
        var profile: Profile
        var expect: Expectation
        var file: String?

        var testDescription: String { "\(self.file ?? ""): \(self.name)" }
    }

    // swift-format-ignore: AlwaysUseLowerCamelCase
    // The YAML cases' own keys.
    struct Profile: Decodable, Sendable {
        struct Recognition: Decodable, Sendable {
            var recognition: String
            var level: String?
            var recognized_on: String
        }
        struct Project: Decodable, Sendable {
            var kind: String
            var name: String?
            var investment_fen: Int64
            var completed_on: String?
            var id: String?
            var figures: [String: Int64]?
        }
        struct Fact: Decodable, Sendable {
            var fact: String
            var year: Int32?
            var amount: Int64?
            var flag: Bool?
        }
        var credit_code: String?
        var county: String
        var industry: String?
        var recognitions: [Recognition]?
        var projects: [Project]?
        var facts: [Fact]?
    }

    // swift-format-ignore: AlwaysUseLowerCamelCase
    // The YAML cases' own keys.
    struct Expectation: Decodable, Sendable {
        var eligible: [String: Int64]?
        var superseded: [String: String]?
        var near_miss: [String: String]?
        var needs_application: [String]?
        var manual_assessment: [String]?
        /// Clauses that must not be offered at all (refused, or plainly not met).
        var not_offered: [String]?
        /// The amount (fen) of a decision whatever its status: an offer on application, a top-up.
        var amounts: [String: Int64]?
        /// Clause → a fragment of its reason.
        var reasons: [String: String]?
        var total_eligible_fen: Int64?
        var error: String?
    }

    static let casesDirectory = "\(TestMesh.repositoryRoot)/Tests/EligibilityTests/Cases"

    static let cases: [Case] = {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: casesDirectory)) ?? []).filter {
            $0.hasSuffix(".yaml")
        }.sorted()
        return names.flatMap { name -> [Case] in
            let text = try! String(contentsOfFile: "\(casesDirectory)/\(name)", encoding: .utf8)
            let file = try! YAMLDecoder().decode(CaseFile.self, from: text)
            return file.cases.map {
                var item = $0
                item.file = name
                return item
            }
        }
    }()

    static let engine = EligibilityEngine(
        catalog: try! CatalogLoader.load(directory: "\(TestMesh.repositoryRoot)/Services/Catalog/Data"))

    static func date(_ text: String) -> Jiaxing_Benefits_V1_Date {
        guard let date = CalendarDate(text) else {
            var invalid = Jiaxing_Benefits_V1_Date()
            let parts = text.split(separator: "-").compactMap { Int32($0) }
            if parts.count == 3 { (invalid.year, invalid.month, invalid.day) = (parts[0], parts[1], parts[2]) }
            return invalid
        }
        return date.message
    }

    static func request(_ item: Case) -> Jiaxing_Benefits_V1_ScreenRequest {
        var profile = Jiaxing_Benefits_V1_EnterpriseProfile()
        profile.creditCode = item.profile.credit_code ?? CreditCode.completing("91330402MA2B0000" + "1")!.value
        profile.name = item.name
        profile.county = County(rawValue: item.profile.county)?.message ?? .unspecified
        profile.industry = item.profile.industry ?? ""
        profile.recognitions = (item.profile.recognitions ?? []).map { record in
            var message = Jiaxing_Benefits_V1_RecognitionRecord()
            message.recognition = record.recognition
            message.level = record.level ?? ""
            message.recognizedOn = Self.date(record.recognized_on)
            return message
        }
        profile.projects = (item.profile.projects ?? []).map { record in
            var message = Jiaxing_Benefits_V1_ProjectRecord()
            message.kind = record.kind
            message.name = record.name ?? ""
            message.investmentFen = record.investment_fen
            if let completed = record.completed_on { message.completedOn = Self.date(completed) }
            message.id = record.id ?? ""
            message.figures = record.figures ?? [:]
            return message
        }
        profile.facts = (item.profile.facts ?? []).map { record in
            var message = Jiaxing_Benefits_V1_FactRecord()
            message.fact = record.fact
            message.year = record.year ?? 0
            if let amount = record.amount { message.amount = amount }
            if let flag = record.flag { message.flag = flag }
            return message
        }
        var request = Jiaxing_Benefits_V1_ScreenRequest()
        request.profile = profile
        request.asOf = Self.date(item.as_of)
        request.requestID = item.name
        return request
    }

    @Test("there are cases to run")
    func casesExist() {
        #expect(Self.cases.count >= 20)
    }

    @Test("case", arguments: EligibilityCaseTests.cases)
    func run(_ item: Case) throws {
        let result = Self.engine.screen(Self.request(item))
        if let error = item.expect.error {
            #expect(result.hasError, "expected a refusal containing '\(error)'")
            #expect(result.error.message.contains(error), "refusal was '\(result.error.message)'")
            return
        }
        #expect(!result.hasError, "refused: \(result.error.message)")
        // A per-item decision answers to `clause@item`, and to the bare clause id for the first item.
        let byClause = Dictionary(
            result.decisions.flatMap { decision in
                [(decision.citation.clauseID, decision)]
                    + (decision.item.isEmpty ? [] : [("\(decision.citation.clauseID)@\(decision.item)", decision)])
            }, uniquingKeysWith: { first, _ in first })
        if let eligible = item.expect.eligible {
            let actual = Dictionary(
                uniqueKeysWithValues: result.decisions.filter { $0.status == .eligible }.map {
                    ($0.item.isEmpty ? $0.citation.clauseID : "\($0.citation.clauseID)@\($0.item)", $0.amountFen)
                })
            #expect(actual == eligible, "eligible: \(actual)")
        }
        for (clause, winner) in item.expect.superseded ?? [:] {
            #expect(
                byClause[clause]?.status == .superseded, "\(clause) is \(String(describing: byClause[clause]?.status))")
            #expect(byClause[clause]?.supersededBy == winner)
        }
        for (clause, fragment) in item.expect.near_miss ?? [:] {
            let decision = byClause[clause]
            #expect(
                decision?.status == .nearMiss,
                "\(clause) is \(String(describing: decision?.status)): \(decision?.reason ?? "")")
            #expect(
                decision?.missing.contains { $0.contains(fragment) } == true,
                "\(clause) missing: \(decision?.missing ?? [])")
        }
        for clause in item.expect.needs_application ?? [] {
            #expect(
                byClause[clause]?.status == .needsApplication,
                "\(clause) is \(String(describing: byClause[clause]?.status))")
        }
        for clause in item.expect.manual_assessment ?? [] {
            #expect(
                byClause[clause]?.status == .manualAssessment,
                "\(clause) is \(String(describing: byClause[clause]?.status))")
        }
        for clause in item.expect.not_offered ?? [] {
            let status = byClause[clause]?.status
            #expect(
                status == nil || status == .ineligible,
                "\(clause) is \(String(describing: status)): \(byClause[clause]?.reason ?? "")")
        }
        for (clause, amount) in item.expect.amounts ?? [:] {
            #expect(
                byClause[clause]?.amountFen == amount, "\(clause): \(String(describing: byClause[clause]?.amountFen))")
        }
        for (clause, fragment) in item.expect.reasons ?? [:] {
            #expect(
                byClause[clause]?.reason.contains(fragment) == true,
                "\(clause) reason: \(byClause[clause]?.reason ?? "none")")
        }
        if let total = item.expect.total_eligible_fen {
            #expect(result.totalEligibleFen == total)
        }
        // Every decision cites its clause verbatim.
        for decision in result.decisions {
            #expect(!decision.citation.clauseText.isEmpty)
            #expect(!decision.reason.isEmpty)
        }
    }
}
