import BenefitsDomain
import CatalogModel
import EligibilityEngine
import MeshMessages
import Testing

/// The column-wise amounts (`EligibilityEngine.amounts`) against `screen`, enterprise by enterprise: the
/// declarative cases, and thousands of random profiles over the whole vocabulary on many days.
@Suite("Eligibility amounts by column")
struct EligibilityAmountsTests {
    static let engine = EligibilityCaseTests.engine
    static var vocabulary: Vocabulary { Self.engine.catalog.vocabulary }

    /// Screening thousands of profiles one by one is seconds of work in a debug build. The tests run on the
    /// two cooperative threads every other test shares, so they yield between batches: without it, this test
    /// and one more like it held both threads and other tests' reads stalled while their deadlines, kept on
    /// the event loops, ran out.
    static let profilesBetweenYields = 100

    /// What `screen` proposes: the eligible amounts, per clause.
    static func screened(_ profile: EnterpriseProfile, asOf: CalendarDate) -> [String: Fen] {
        var byClause: [String: Fen] = [:]
        for decision in Self.engine.screen(profile, asOf: asOf).decisions where decision.status == .eligible {
            byClause[decision.clause.id, default: 0] += decision.amountFen
        }
        return byClause
    }

    @Test("every declarative case: the same total as screening")
    func declarativeCases() throws {
        var compared = 0
        for item in EligibilityCaseTests.cases where item.expect.error == nil {
            let request = EligibilityCaseTests.request(item)
            let profile = try EnterpriseProfile(message: request.profile, vocabulary: Self.vocabulary)
            let asOf = try #require(CalendarDate(message: request.asOf))
            let amounts = Self.engine.amounts(EnterpriseColumns([profile], vocabulary: Self.vocabulary), asOf: asOf)
            let expected = Self.screened(profile, asOf: asOf)
            #expect(amounts.byClause == expected, "\(item.name)")
            #expect(amounts.perEnterprise == [expected.values.reduce(0, +)], "\(item.name)")
            compared += 1
        }
        #expect(compared >= 20)
    }

    @Test("3,000 random profiles on every document's first day, a day inside and its last: equal to screening")
    func randomProfiles() async throws {
        var generator = RandomProfiles(vocabulary: Self.vocabulary, seed: 20_261_122)
        let profiles = try (0..<3_000).map { _ in
            try EnterpriseProfile(message: generator.next(), vocabulary: Self.vocabulary)
        }
        let columns = EnterpriseColumns(profiles, vocabulary: Self.vocabulary)
        var days: Set<CalendarDate> = []
        for document in Self.engine.catalog.documents {
            days.insert(document.effectiveFrom)
            days.insert(document.effectiveFrom.adding(days: 120))
            if let until = document.effectiveUntil { days.insert(until) }
        }
        var paidClauses: Set<String> = []
        var superseded = 0
        for asOf in days.sorted() {
            let amounts = Self.engine.amounts(columns, asOf: asOf)
            var expectedByClause: [String: Fen] = [:]
            for (index, profile) in profiles.enumerated() {
                if index.isMultiple(of: Self.profilesBetweenYields) { await Task.yield() }
                let decisions = Self.engine.screen(profile, asOf: asOf).decisions
                var expected: Fen = 0
                for decision in decisions where decision.status == .eligible {
                    expectedByClause[decision.clause.id, default: 0] += decision.amountFen
                    expected += decision.amountFen
                }
                #expect(amounts.perEnterprise[index] == expected, "enterprise \(index) as of \(asOf)")
                superseded += decisions.count { $0.status == .superseded }
            }
            #expect(amounts.byClause == expectedByClause, "as of \(asOf)")
            paidClauses.formUnion(amounts.byClause.keys)
        }
        // Not vacuous: many clauses pay someone, and 就高不重复 set some aside.
        #expect(paidClauses.count >= 15, "clauses paid: \(paidClauses.sorted())")
        #expect(superseded > 0)
    }

    /// The repository catalog with every cash clause whose formula fixes an amount paid without an application,
    /// to an enterprise: so the column path meets every condition kind (any-of, exclusions, thresholds by
    /// recognition or flag, 新达到) and every formula the screening knows.
    static let everyFeature: EligibilityEngine = {
        let catalog = Self.engine.catalog
        var documents = catalog.documents
        for document in documents.indices {
            for index in documents[document].clauses.indices where documents[document].clauses[index].cash {
                switch documents[document].clauses[index].formula {
                case .capOnly, .manual, .bands, .tiers(_, _, upTo: true): continue
                default:
                    documents[document].clauses[index].delivery = .proactive
                    documents[document].clauses[index].beneficiary = .enterprise
                }
            }
        }
        return EligibilityEngine(
            catalog: Catalog(
                revision: "every-feature", documents: documents, vocabulary: catalog.vocabulary,
                calendar: catalog.calendar))
    }()

    @Test("every clause paid without application, 2,000 profiles aimed at clauses: columns equal to screening")
    func everyFeatureProfiles() async throws {
        let engine = Self.everyFeature
        let clauses = engine.catalog.documents.flatMap(\.clauses).filter { $0.delivery == .proactive && $0.cash }
        var generator = RandomProfiles(vocabulary: Self.vocabulary, seed: 20_261_205)
        let profiles = try (0..<2_000).map { _ in
            try EnterpriseProfile(
                message: generator.aimed(at: clauses[generator.below(clauses.count)], in: engine.catalog),
                vocabulary: Self.vocabulary)
        }
        let columns = EnterpriseColumns(profiles, vocabulary: Self.vocabulary)
        var paidClauses: Set<String> = []
        for document in engine.catalog.documents {
            for asOf in [document.effectiveFrom.adding(days: 150)] {
                let amounts = engine.amounts(columns, asOf: asOf)
                var expectedByClause: [String: Fen] = [:]
                for (index, profile) in profiles.enumerated() {
                    if index.isMultiple(of: Self.profilesBetweenYields) { await Task.yield() }
                    var expected: Fen = 0
                    for decision in engine.screen(profile, asOf: asOf).decisions where decision.status == .eligible {
                        expectedByClause[decision.clause.id, default: 0] += decision.amountFen
                        expected += decision.amountFen
                    }
                    #expect(amounts.perEnterprise[index] == expected, "enterprise \(index) as of \(asOf)")
                }
                #expect(amounts.byClause == expectedByClause, "as of \(asOf)")
                paidClauses.formUnion(amounts.byClause.keys)
            }
        }
        // Not vacuous: the clauses of each new feature pay someone.
        for clause in [
            "jzbf-2024-7/3.3a",
            "jzf-2023-3/2.12", "jzf-2023-3/4.32a", "jzbf-2023-32/4.3", "jzf-2023-3/3.19a", "jzbf-2023-36/2.1b",
            "jzbf-2023-36/2.3", "jzbf-2023-32/4.2c", "jzf-2023-3/3.20c", "jzf-2023-3/3.20d",
        ] {
            #expect(paidClauses.contains(clause), "\(clause) paid nobody")
        }
    }

    @Test("per item, paid without application: each year's items capped on their own, columns equal to screening")
    func perItemCapsByYear() throws {
        let engine = Self.everyFeature
        var profile = Jiaxing_Benefits_V1_EnterpriseProfile()
        profile.creditCode = CreditCode.completing("91330402MA2B00001")!.value
        profile.name = "中介机构"
        profile.county = .nanhu
        var flag = Jiaxing_Benefits_V1_FactRecord()
        flag.fact = "techIntermediaryAgency"
        flag.flag = true
        profile.facts = [flag]
        // 11 contracts accepted in 2024 and 2 in 2025, each 500万元 paid: 3% is 15万元, 10万元 per contract.
        for (year, count) in [(2024, 11), (2025, 2)] {
            for number in 1...count {
                var contract = Jiaxing_Benefits_V1_ProjectRecord()
                contract.kind = "brokeredTechContract"
                contract.id = "HT-\(year)-\(number < 10 ? "0" : "")\(number)"
                contract.investmentFen = 500_000_000
                contract.completedOn = CalendarDate(year: year, month: 6, day: number)!.message
                contract.figures = ["techContractAmountPaid": 500_000_000]
                profile.projects.append(contract)
            }
        }
        let enterprise = try EnterpriseProfile(message: profile, vocabulary: Self.vocabulary)
        let asOf = CalendarDate("2025-12-31")!
        let decisions = engine.screen(enterprise, asOf: asOf).decisions.filter {
            $0.clause.id == "jzbf-2024-7/3.3a" && $0.status == .eligible
        }
        // 每家每年累计不超过100万元: ten of 2024's eleven, both of 2025's.
        #expect(decisions.count == 12)
        #expect(decisions.map(\.amountFen).reduce(0, +) == 120_000_000)
        #expect(!decisions.contains { $0.item?.id == "HT-2024-11" })
        let amounts = engine.amounts(EnterpriseColumns([enterprise], vocabulary: Self.vocabulary), asOf: asOf)
        #expect(amounts.byClause["jzbf-2024-7/3.3a"] == 120_000_000)
    }

    @Test("per-item recognitions paid without application: one amount per award, a year's capped, columns equal")
    func perItemRecognitions() throws {
        // 38号 二、(一)4. as if it paid a fixed 50万元 per award unasked, at most 80万元 a year.
        var documents = Self.engine.catalog.documents
        let document = try #require(documents.firstIndex { $0.id == "jzbf-2023-38" })
        let index = try #require(documents[document].clauses.firstIndex { $0.id == "jzbf-2023-38/2.1.4b" })
        documents[document].clauses[index].delivery = .proactive
        documents[document].clauses[index].formula = .fixed(amountFen: 50_000_000)
        documents[document].clauses[index].perYearCapFen = 80_000_000
        let catalog = Self.engine.catalog
        let engine = EligibilityEngine(
            catalog: Catalog(
                revision: "per-item-recognition", documents: documents, vocabulary: catalog.vocabulary,
                calendar: catalog.calendar))
        var profile = Jiaxing_Benefits_V1_EnterpriseProfile()
        profile.creditCode = CreditCode.completing("91330402MA2B00002")!.value
        profile.name = "箱包设计"
        profile.county = .nanhu
        profile.industry = "traditionalSpecialty"
        // Two awards in 2023 (50万元 and what is left of 80万元, 30万元) and one in 2024 (50万元).
        for (number, day) in ["2023-03-01", "2023-09-01", "2024-02-01"].enumerated() {
            var award = Jiaxing_Benefits_V1_RecognitionRecord()
            award.recognition = "internationalDesignAward"
            award.id = "IF-\(number)"
            award.recognizedOn = CalendarDate(day)!.message
            profile.recognitions.append(award)
        }
        let enterprise = try EnterpriseProfile(message: profile, vocabulary: Self.vocabulary)
        let asOf = CalendarDate("2024-06-30")!
        let decisions = engine.screen(enterprise, asOf: asOf).decisions.filter {
            $0.clause.id == "jzbf-2023-38/2.1.4b" && $0.status == .eligible
        }
        #expect(decisions.map(\.amountFen) == [50_000_000, 30_000_000, 50_000_000])
        #expect(decisions.compactMap(\.item?.id) == ["IF-0", "IF-1", "IF-2"])
        let amounts = engine.amounts(EnterpriseColumns([enterprise], vocabulary: Self.vocabulary), asOf: asOf)
        #expect(amounts.byClause["jzbf-2023-38/2.1.4b"] == 130_000_000)
    }

    @Test("an empty register is proposed nothing")
    func emptyRegister() {
        let amounts = Self.engine.amounts(
            EnterpriseColumns(vocabulary: Self.vocabulary), asOf: CalendarDate("2023-09-01")!)
        #expect(amounts.perEnterprise.isEmpty)
        #expect(amounts.byClause.isEmpty)
    }
}

/// Valid profiles drawn over the whole vocabulary from a seed: every recognition at every level on dates
/// around the documents' periods, projects, yearly and single facts with amounts spread over many orders of
/// magnitude (so thresholds fall both ways), flags, industries and counties.
struct RandomProfiles {
    let vocabulary: Vocabulary
    var state: UInt64
    var serial = 0

    init(vocabulary: Vocabulary, seed: UInt64) {
        self.vocabulary = vocabulary
        self.state = seed
    }

    /// SplitMix64.
    mutating func random() -> UInt64 {
        self.state &+= 0x9E37_79B9_7F4A_7C15
        var z = self.state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func below(_ bound: Int) -> Int { Int(self.random() % UInt64(bound)) }

    mutating func date() -> Jiaxing_Benefits_V1_Date {
        CalendarDate(year: 2019, month: 1, day: 1)!.adding(days: self.below(6 * 365)).message
    }

    mutating func amount() -> Int64 {
        // 1 to 10^11, log-uniform-ish: a mantissa times a power of ten.
        var power: Int64 = 1
        for _ in 0..<self.below(12) { power *= 10 }
        return Int64(1 + self.below(9)) * power
    }

    /// A random profile that also holds what `clause` asks about: its recognitions at one of their levels,
    /// its projects, and its facts for two consecutive years near their thresholds (half to twice), so most
    /// conditions are close calls one way or the other.
    mutating func aimed(at clause: Clause, in catalog: Catalog) -> Jiaxing_Benefits_V1_EnterpriseProfile {
        var profile = self.next()
        // Dates mostly inside the clause's document's period (new in the period, accepted in it), some before.
        let document = catalog.clause(id: clause.id)?.document
        func aimedDate() -> Jiaxing_Benefits_V1_Date {
            guard let document, self.below(4) > 0 else { return self.date() }
            let until = document.effectiveUntil ?? document.effectiveFrom.adding(days: 365)
            let span = max(
                1, min(until.dayNumber, document.effectiveFrom.dayNumber + 150) - document.effectiveFrom.dayNumber)
            return document.effectiveFrom.adding(days: self.below(span)).message
        }
        let year = 2021 + self.below(4)
        func addFact(_ id: String, near threshold: Int64?) {
            guard let fact = self.vocabulary.fact(id) else { return }
            for offset in fact.perYear ? [1, 0] : [0] {
                var record = Jiaxing_Benefits_V1_FactRecord()
                record.fact = id
                if fact.perYear { record.year = Int32(year - offset) }
                if fact.unit == .bool {
                    record.flag = self.below(4) > 0
                } else if let threshold, threshold > 0 {
                    record.amount = threshold / 2 + Int64(self.below(Int(min(threshold * 3 / 2, 1 << 40)) + 1))
                } else {
                    record.amount = self.amount()
                }
                profile.facts.removeAll { $0.fact == id && $0.year == record.year }
                profile.facts.append(record)
            }
        }
        func add(_ condition: Condition) {
            switch condition.kind {
            case .recognition(let id, let levels, _, _):
                var record = Jiaxing_Benefits_V1_RecognitionRecord()
                record.recognition = id
                let declared = self.vocabulary.recognition(id)?.levels ?? []
                let choices = levels ?? declared
                if !choices.isEmpty { record.level = choices[self.below(choices.count)] }
                record.recognizedOn = aimedDate()
                profile.recognitions.append(record)
            case .atLeast(let fact, let value, let overrides, _):
                addFact(fact, near: max(value, overrides.map(\.value).max() ?? 0))
                for override in overrides {
                    if let flag = override.whenFlag { addFact(flag, near: nil) }
                    if let recognition = override.whenRecognition, self.below(2) == 0 {
                        add(
                            Condition(
                                kind: .recognition(
                                    recognition: recognition, levels: nil, newInPeriod: false, first: false)))
                    }
                }
            case .below(let fact, let value): addFact(fact, near: value)
            case .flag(let fact): addFact(fact, near: nil)
            case .project(let kind, let minimum, _):
                var project = Jiaxing_Benefits_V1_ProjectRecord()
                project.kind = kind
                project.investmentFen = minimum.map { $0 / 2 + Int64(self.below(Int($0 * 3 / 2) + 1)) } ?? self.amount()
                project.completedOn = aimedDate()
                profile.projects.append(project)
            case .industry(let industries):
                if self.below(4) > 0 { profile.industry = industries[self.below(industries.count)] }
            case .county(let counties):
                if self.below(4) > 0, let county = County.allCases.first(where: { $0.chineseName == counties[0] }) {
                    profile.county = county.message
                }
            case .anyOf(let alternatives):
                for alternative in alternatives where self.below(2) == 0 { add(alternative) }
            case .exclusion(let fact, let industries):
                if let fact { addFact(fact, near: nil) }
                if !industries.isEmpty, self.below(3) == 0 {
                    profile.industry = industries[self.below(industries.count)]
                }
            }
        }
        for condition in clause.conditions { add(condition) }
        // Where the document leaves some counties' projects to the county, mostly a county the city pays in.
        if let split = document?.fundingSplit, split.countyFunded != nil, self.below(4) > 0 {
            let paid = County.allCases.filter { split.countyFunding(in: $0) == nil }
            profile.county = paid[self.below(paid.count)].message
        }
        switch clause.formula {
        case .tiers(let recognition, let tiers, _), .tierShare(let recognition, let tiers, _):
            var record = Jiaxing_Benefits_V1_RecognitionRecord()
            record.recognition = recognition
            record.level = tiers[self.below(tiers.count)].level
            record.recognizedOn = aimedDate()
            profile.recognitions.append(record)
        case .thresholdTiers(let fact, let tiers, _):
            addFact(fact, near: tiers[self.below(tiers.count)].atLeast)
        case .insurancePremium(let base, _, _, let premiumRateCap?):
            addFact(base, near: nil)
            addFact(premiumRateCap.insuredBase, near: nil)
        default:
            for base in clause.formula.baseFacts { addFact(base, near: nil) }
        }
        // A per-item clause: one to four items of its kind, most carrying the base figure, some a year apart
        // (so the per-year cap across items is reached within a year and not across). Drawn from the serial
        // number, not the generator, so the other profiles stay what the seed made them.
        if clause.perItem, case .project(let kind, _, _)? = clause.itemCondition?.kind,
            let first = profile.projects.lastIndex(where: { $0.kind == kind })
        {
            let template = profile.projects[first]
            for copy in 0..<(1 + self.serial % 4) {
                var project = template
                project.id = "\(kind)-\(self.serial)-\(copy)"
                let mixed = (self.serial &* 2_654_435_761 &+ copy &* 40_503) % 1_000_003
                if copy > 0 {
                    project.investmentFen =
                        template.investmentFen / 2 + Int64(mixed) * template.investmentFen / 1_000_003
                    if copy.isMultiple(of: 2), let day = CalendarDate(message: template.completedOn) {
                        project.completedOn = day.adding(days: -365).message
                    }
                }
                for (index, base) in clause.formula.baseFacts.enumerated() where (mixed + index) % 5 != 0 {
                    project.figures[base] = Int64((mixed + index * 7_919) % 1_000) * 1_000_000
                }
                if copy == 0 { profile.projects[first] = project } else { profile.projects.append(project) }
            }
        }
        return profile
    }

    mutating func next() -> Jiaxing_Benefits_V1_EnterpriseProfile {
        self.serial += 1
        var profile = Jiaxing_Benefits_V1_EnterpriseProfile()
        let base = String(self.serial + 100_000)
        profile.creditCode =
            CreditCode.completing("91330402MA" + String(repeating: "0", count: 7 - base.count) + base)!.value
        profile.name = "随机企业\(self.serial)"
        profile.county = County.allCases[self.below(County.allCases.count)].message
        if self.below(4) > 0 {
            profile.industry = self.vocabulary.industries[self.below(self.vocabulary.industries.count)].id
        }
        for _ in 0..<self.below(4) {
            let recognition = self.vocabulary.recognitions[self.below(self.vocabulary.recognitions.count)]
            var record = Jiaxing_Benefits_V1_RecognitionRecord()
            record.recognition = recognition.id
            if !recognition.levels.isEmpty, self.below(8) > 0 {
                record.level = recognition.levels[self.below(recognition.levels.count)]
            }
            record.recognizedOn = self.date()
            profile.recognitions.append(record)
        }
        for _ in 0..<self.below(3) {
            var project = Jiaxing_Benefits_V1_ProjectRecord()
            project.kind = self.vocabulary.projectKinds[self.below(self.vocabulary.projectKinds.count)].id
            project.investmentFen = self.amount()
            if self.below(5) > 0 { project.completedOn = self.date() }
            profile.projects.append(project)
        }
        for _ in 0..<self.below(6) {
            let fact = self.vocabulary.facts[self.below(self.vocabulary.facts.count)]
            var record = Jiaxing_Benefits_V1_FactRecord()
            record.fact = fact.id
            if fact.perYear { record.year = Int32(2019 + self.below(6)) }
            if fact.unit == .bool { record.flag = self.below(3) > 0 } else { record.amount = self.amount() }
            profile.facts.append(record)
        }
        return profile
    }
}
