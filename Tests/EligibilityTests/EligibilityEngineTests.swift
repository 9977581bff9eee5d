import BenefitsDomain
import CatalogModel
import EligibilityEngine
import MeshMessages
import Testing

/// Explanations, near misses, stacking and limits of the engine, on the repository catalog.
@Suite("Eligibility engine")
struct EligibilityEngineTests {
    static let engine = EligibilityCaseTests.engine

    static func profile(_ build: (inout Jiaxing_Benefits_V1_EnterpriseProfile) -> Void)
        -> Jiaxing_Benefits_V1_EnterpriseProfile
    {
        var profile = Jiaxing_Benefits_V1_EnterpriseProfile()
        profile.creditCode = CreditCode.completing("91330402MA2B00001")!.value
        profile.name = "嘉兴示例制造有限公司"
        profile.county = .nanhu
        build(&profile)
        return profile
    }

    static func request(_ profile: Jiaxing_Benefits_V1_EnterpriseProfile, asOf: String)
        -> Jiaxing_Benefits_V1_ScreenRequest
    {
        var request = Jiaxing_Benefits_V1_ScreenRequest()
        request.profile = profile
        request.asOf = CalendarDate(asOf)!.message
        return request
    }

    static func recognition(_ id: String, _ level: String, _ date: String) -> Jiaxing_Benefits_V1_RecognitionRecord {
        var record = Jiaxing_Benefits_V1_RecognitionRecord()
        record.recognition = id
        record.level = level
        record.recognizedOn = CalendarDate(date)!.message
        return record
    }

    @Test("a national green factory gets 150万元, citing the clause in its own words")
    func greenFactoryCitesClause() throws {
        let result = Self.engine.screen(
            Self.request(
                Self.profile { $0.recognitions = [Self.recognition("greenFactory", "national", "2023-03-01")] },
                asOf: "2023-09-01"))
        let decision = try #require(result.decisions.first { $0.citation.clauseID == "jzf-2023-3/3.19b" })
        #expect(decision.status == .eligible)
        #expect(decision.amountFen == 150_000_000)
        #expect(decision.amountText == "150万元")
        #expect(decision.citation.clauseText.contains("150万元"))
        #expect(decision.citation.documentNumber == "嘉政发〔2023〕3号")
        #expect(decision.conditions.allSatisfy { $0.met })
        #expect(decision.conditions.first?.factUsed.contains("国家级") == true)
        #expect(decision.reason.contains("150万元"))
    }

    @Test("digital investment of 80万元 is a near miss that says 100万元 is needed and 20万元 is missing")
    func digitalInvestmentNearMiss() throws {
        let result = Self.engine.screen(
            Self.request(
                Self.profile { profile in
                    var project = Jiaxing_Benefits_V1_ProjectRecord()
                    project.kind = "pureDigitalTransformation"
                    project.name = "车间数字化改造"
                    project.investmentFen = 80_000_000
                    project.completedOn = CalendarDate("2023-06-20")!.message
                    profile.projects = [project]
                    var fact = Jiaxing_Benefits_V1_FactRecord()
                    fact.fact = "digitalInvestment"
                    fact.amount = 80_000_000
                    profile.facts = [fact]
                }, asOf: "2023-09-01"))
        let decision = try #require(result.decisions.first { $0.citation.clauseID == "jzf-2023-3/3.18a" })
        #expect(decision.status == .nearMiss)
        #expect(decision.missing.contains { $0.contains("不低于100万元") && $0.contains("现为80万元") && $0.contains("差20万元") })
    }

    @Test("two documents paying the same recognition pay the highest once; the other is superseded with the reason")
    func highestOnlyAcrossDocuments() throws {
        let result = Self.engine.screen(
            Self.request(
                Self.profile { $0.recognitions = [Self.recognition("singleChampion", "national", "2023-07-01")] },
                asOf: "2023-09-01"))
        let group = result.decisions.filter { $0.overlapGroup == "singleChampion" }
        #expect(group.filter { $0.status == .eligible }.count == 1)
        let superseded = try #require(group.first { $0.status == .superseded })
        #expect(superseded.reason.contains("就高不重复"))
        #expect(group.contains { $0.citation.clauseID == superseded.supersededBy && $0.status == .eligible })
        #expect(result.totalEligibleFen == group.first { $0.status == .eligible }!.amountFen)
    }

    @Test("a recognition before the period is not new and earns nothing")
    func recognitionBeforePeriod() {
        let result = Self.engine.screen(
            Self.request(
                Self.profile { $0.recognitions = [Self.recognition("singleChampion", "national", "2019-01-01")] },
                asOf: "2023-09-01"))
        #expect(!result.decisions.contains { $0.overlapGroup == "singleChampion" && $0.status == .eligible })
        #expect(result.totalEligibleFen == 0)
    }

    @Test("bad profiles are refused naming the field")
    func refusals() {
        func refusal(_ build: (inout Jiaxing_Benefits_V1_EnterpriseProfile) -> Void) -> String {
            let result = Self.engine.screen(Self.request(Self.profile(build), asOf: "2023-09-01"))
            return result.hasError ? result.error.message : "accepted"
        }
        #expect(refusal { $0.creditCode = "91330402MA2B0000" }.hasPrefix("profile.credit_code: "))
        #expect(refusal { $0.creditCode = "91330402MA2B00001X" }.contains("check character"))
        #expect(refusal { $0.county = .unspecified }.hasPrefix("profile.county: "))
        #expect(
            refusal { profile in
                var fact = Jiaxing_Benefits_V1_FactRecord()
                fact.fact = "digitalInvestment"
                fact.amount = -5
                profile.facts = [fact]
            }.hasPrefix("profile.facts[0].amount: "))
        #expect(
            refusal { profile in
                var fact = Jiaxing_Benefits_V1_FactRecord()
                fact.fact = "unicornValuation"
                fact.amount = 1
                profile.facts = [fact]
            }.hasPrefix("profile.facts[0].fact: "))
        #expect(
            refusal { $0.recognitions = [Self.recognition("greenFactory", "galactic", "2023-01-01")] }.hasPrefix(
                "profile.recognitions[0].level: "))
        // A profile of more records of one kind than any enterprise holds: refused naming the kind and the limit.
        let tooMany = Array(
            repeating: Self.recognition("greenFactory", "municipal", "2023-01-01"),
            count: EnterpriseProfile.maximumRecords + 1)
        #expect(
            refusal { $0.recognitions = tooMany }
                == "profile.recognitions: at most \(EnterpriseProfile.maximumRecords) records, got \(tooMany.count)")
        #expect(
            refusal { $0.recognitions = Array(tooMany.dropFirst()) } != "profile.recognitions: at most "
                + "\(EnterpriseProfile.maximumRecords) records, got \(tooMany.count - 1)")
        // An item's id and its own figures are bounded and checked against the vocabulary.
        func project(_ build: (inout Jiaxing_Benefits_V1_ProjectRecord) -> Void) -> String {
            refusal { profile in
                var record = Jiaxing_Benefits_V1_ProjectRecord()
                record.kind = "brokeredTechContract"
                record.investmentFen = 1
                build(&record)
                profile.projects = [record]
            }
        }
        let longest = String(repeating: "号", count: EnterpriseProfile.maximumItemID)
        #expect(project { $0.id = longest } == "accepted")
        #expect(
            project { $0.id = longest + "1" }
                == "profile.projects[0].id: at most \(EnterpriseProfile.maximumItemID) characters, got \(longest.count + 1)"
        )
        #expect(
            project { $0.figures = ["unicornValuation": 1] }.hasPrefix(
                "profile.projects[0].figures[unicornValuation]: "))
        #expect(project { $0.figures = ["techIntermediaryAgency": 1] }.contains("measured in amounts"))
        #expect(project { $0.figures = ["techContractAmountPaid": -1] }.contains("must be between 0"))
        let facts = Self.engine.catalog.vocabulary.facts.filter { $0.unit != .bool }.prefix(
            EnterpriseProfile.maximumFigures + 1)
        #expect(
            project { $0.figures = Dictionary(uniqueKeysWithValues: facts.map { ($0.id, Int64(1)) }) }
                == "profile.projects[0].figures: at most \(EnterpriseProfile.maximumFigures) figures, got \(facts.count)"
        )
        var noDate = Self.request(Self.profile { _ in }, asOf: "2023-09-01")
        noDate.clearAsOf()
        #expect(Self.engine.screen(noDate).error.message.hasPrefix("as_of: "))
    }

    @Test("amounts stay exact at the largest accepted values")
    func largeAmounts() throws {
        let result = Self.engine.screen(
            Self.request(
                Self.profile { profile in
                    var project = Jiaxing_Benefits_V1_ProjectRecord()
                    project.kind = "pureDigitalTransformation"
                    project.investmentFen = 1_000_000_000_000_000
                    project.completedOn = CalendarDate("2023-06-20")!.message
                    profile.projects = [project]
                    var fact = Jiaxing_Benefits_V1_FactRecord()
                    fact.fact = "digitalInvestment"
                    fact.amount = 1_000_000_000_000_000
                    profile.facts = [fact]
                }, asOf: "2023-09-01"))
        // 20% of the investment is far above the cap: the cap is what is offered, once. 3号 3.18a and 32号 4.2a
        // pay the same 300万元 for the same project (就高不重复): the lower clause id is offered, the other
        // superseded by it.
        let offered = try #require(result.decisions.first { $0.citation.clauseID == "jzbf-2023-32/4.2a" })
        #expect(offered.status == .needsApplication)
        #expect(offered.amountFen == 300_000_000)
        #expect(offered.calculation.contains("最高"))
        let superseded = try #require(result.decisions.first { $0.citation.clauseID == "jzf-2023-3/3.18a" })
        #expect(superseded.status == .superseded)
        #expect(superseded.supersededBy == "jzbf-2023-32/4.2a")
    }

    @Test("credit codes: the check character per GB 32100-2015")
    func creditCodes() {
        #expect(CreditCode("91330402MA2B00001") == nil)
        let made = CreditCode.completing("91330402MA2B00001")!
        #expect(CreditCode(made.value) == made)
    }
}
