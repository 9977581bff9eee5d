import BenefitsAPI
import BenefitsDomain
import CatalogModel
import Foundation
import Ledger
import MeshIdentity
import MeshMessages
import MeshPKI
import MeshRPC
import MeshTestSupport
import NIOConcurrencyHelpers
import SQLStore
import Testing

/// Applications end to end through the gateway, on 2023-09-01 (a Friday before the National Day holiday):
/// 即申即享 decided at once, 限时即享 decided by the department within its working days, rejected, breached.
@Suite("Applications")
struct ApplicationTests {
    /// The ledger's clock, starting 2023-09-01 10:00 in China.
    final class Clock: Sendable {
        let millis: NIOLockedValueBox<Int64>
        init(millis: Int64 = 1_693_533_600_000) { self.millis = NIOLockedValueBox(millis) }
        func advance(days: Int64) { self.millis.withLockedValue { $0 += days * 86_400_000 } }
        var now: Int64 { self.millis.withLockedValue { $0 } }
        /// The clock as the gateway's time source.
        var source: @Sendable () -> Int64 { { self.now } }
    }

    static func profile(_ body: String = "91330402MA2E00001", county: Jiaxing_Benefits_V1_County = .nanhu)
        -> Jiaxing_Benefits_V1_EnterpriseProfile
    {
        var profile = Jiaxing_Benefits_V1_EnterpriseProfile()
        profile.creditCode = CreditCode.completing(body)!.value
        profile.name = "嘉兴数智制造有限公司"
        profile.county = county
        // A garment maker: 38号's plan supports the traditional specialty industries only.
        profile.industry = "traditionalSpecialty"
        var project = Jiaxing_Benefits_V1_ProjectRecord()
        project.kind = "pureDigitalTransformation"
        project.name = "MES上云"
        project.investmentFen = 400_000_000
        project.completedOn = CalendarDate("2023-05-01")!.message
        profile.projects = [project]
        var investment = Jiaxing_Benefits_V1_FactRecord()
        investment.fact = "digitalInvestment"
        investment.amount = 400_000_000
        profile.facts = [investment]
        return profile
    }

    static func application(
        clause: String, profile: Jiaxing_Benefits_V1_EnterpriseProfile = Self.profile(),
        claimed: [Jiaxing_Benefits_V1_FactRecord] = [], requested: Int64 = 0, subject: String = ""
    ) -> Jiaxing_Benefits_V1_FileApplicationRequest {
        var request = Jiaxing_Benefits_V1_FileApplicationRequest()
        request.profile = profile
        request.asOf = CalendarDate("2023-09-01")!.message
        request.clauseID = clause
        request.claimedFacts = claimed
        request.requestedFen = requested
        request.subject = subject
        return request
    }

    static var crossBorderTrade: Jiaxing_Benefits_V1_FactRecord {
        var fact = Jiaxing_Benefits_V1_FactRecord()
        fact.fact = "crossBorderEcommerceTrade"
        fact.year = 2023
        fact.flag = true
        return fact
    }

    @Test(
        "即申即享: the city's own data meets the clause and its formula fixes the amount: decided at once, order proposed in the same call",
        arguments: TestStore.allCases)
    func decidedAtOnce(store: TestStore) async throws {
        let clock = Clock()
        try await GatewayTests.withMesh(store: store, now: clock.source) { mesh in
            let nanhu = mesh.client("nanhu", .county)
            defer { Task { await nanhu.close() } }
            var screen = Jiaxing_Benefits_V1_ScreenRequest()
            screen.profile = Self.profile()
            screen.asOf = CalendarDate("2023-09-01")!.message
            screen.includeIneligible = true
            let screening: Jiaxing_Benefits_V1_ScreeningResult = try await nanhu.unary(GatewayMethods.screen, screen)
            let expected = try #require(screening.decisions.first { $0.citation.clauseID == "jzf-2023-3/3.18a" })
            #expect(expected.status == .needsApplication)
            #expect(expected.amountFixed)

            // 市经信局 has published the accepted project and its digital investment: the city's own data.
            try await GatewayTests.attest([Self.profile()], mesh)
            let filed: Jiaxing_Benefits_V1_Application = try await nanhu.unary(
                GatewayMethods.fileApplication, Self.application(clause: "jzf-2023-3/3.18a"))
            #expect(filed.status == .decidedAtOnce)
            #expect(filed.declaredProjects.isEmpty)
            #expect(filed.decidedFen == expected.amountFen)
            #expect(filed.decidedFen == 80_000_000)  // 400万元 × 20%
            let order = try await mesh.ledger.order(id: filed.orderID)
            #expect(order.amountFen == filed.decidedFen)
            #expect(order.status == .pending)  // then the usual approval path
            #expect(!order.declaredFacts, "decided at once on the departments' records alone")

            // The same application again returns the first one, and no second order.
            let again: Jiaxing_Benefits_V1_Application = try await nanhu.unary(
                GatewayMethods.fileApplication, Self.application(clause: "jzf-2023-3/3.18a"))
            #expect(again.replayed)
            #expect(again.id == filed.id)
            #expect(try await mesh.ledger.orders(.init(limit: 100)).count == 1)
        }
    }

    /// A technology-transfer agency with two brokered contracts, as 市科技局 holds them: 200万元 and 500万元 paid.
    static func agency() -> Jiaxing_Benefits_V1_EnterpriseProfile {
        var profile = Jiaxing_Benefits_V1_EnterpriseProfile()
        profile.creditCode = CreditCode.completing("91330402MA2E00009")!.value
        profile.name = "嘉兴技术转移中心有限公司"
        profile.county = .nanhu
        for (id, paid, day) in [("HT-2024-01", 200_000_000, "2024-07-01"), ("HT-2024-02", 500_000_000, "2024-08-15")] {
            var contract = Jiaxing_Benefits_V1_ProjectRecord()
            contract.kind = "brokeredTechContract"
            contract.id = id
            contract.name = "技术开发合同\(id)"
            contract.investmentFen = Int64(paid)
            contract.completedOn = CalendarDate(day)!.message
            contract.figures = ["techContractAmountPaid": Int64(paid)]
            profile.projects.append(contract)
        }
        var agency = Jiaxing_Benefits_V1_FactRecord()
        agency.fact = "techIntermediaryAgency"
        agency.flag = true
        profile.facts = [agency]
        return profile
    }

    @Test(
        "每个合同 on its own: each of an agency's contracts is decided at once for its own amount; the same contract again is replayed; the subject names a contract it holds",
        arguments: TestStore.allCases)
    func eachContractOnItsOwn(store: TestStore) async throws {
        let clock = Clock(millis: 1_727_748_000_000)  // 2024-10-01 10:00 in China
        try await GatewayTests.withMesh(store: store, now: clock.source) { mesh in
            let nanhu = mesh.client("nanhu", .county)
            defer { Task { await nanhu.close() } }
            _ = try await mesh.ledger.openFund(documentID: "jzbf-2024-7", year: 2024, budgetFen: 1_000_000_000)
            try await GatewayTests.attest([Self.agency()], mesh)
            func file(_ subject: String) async throws -> Jiaxing_Benefits_V1_Application {
                var request = Self.application(clause: "jzbf-2024-7/3.3a", profile: Self.agency(), subject: subject)
                request.asOf = CalendarDate("2024-10-01")!.message
                return try await nanhu.unary(GatewayMethods.fileApplication, request)
            }
            let first = try await file("HT-2024-01")
            #expect(first.status == .decidedAtOnce)
            #expect(first.decidedFen == 6_000_000)  // 200万元 × 3%
            #expect(first.subject == "jzbf-2024-7/3.3a@HT-2024-01")
            let second = try await file("HT-2024-02")
            #expect(second.status == .decidedAtOnce)
            #expect(second.decidedFen == 10_000_000)  // 500万元 × 3% = 15万元, 单个项目最高10万元
            #expect(second.orderID != first.orderID)
            let orders = try await mesh.ledger.orders(.init(limit: 100))
            #expect(Set(orders.map(\.subject)) == ["jzbf-2024-7/3.3a@HT-2024-01", "jzbf-2024-7/3.3a@HT-2024-02"])

            let again = try await file("HT-2024-01")
            #expect(again.replayed)
            #expect(again.id == first.id)
            for (subject, fragment) in [("", "name one of: HT-2024-01, HT-2024-02"), ("HT-2099-09", "'HT-2099-09'")] {
                let refused = await #expect(throws: RPCError.self) { _ = try await file(subject) }
                #expect(refused?.code == .invalidArgument)
                #expect(refused?.message.hasPrefix("subject: ") == true, "\(refused?.message ?? "")")
                #expect(refused?.message.contains(fragment) == true, "\(refused?.message ?? "")")
            }
            #expect(try await mesh.ledger.orders(.init(limit: 100)).count == 2)
        }
    }

    @Test(
        "the county's own record of a project is declared, not the city's data: the department decides, seeing it marked",
        arguments: TestStore.allCases)
    func declaredRecordsGoToTheDepartment(store: TestStore) async throws {
        let clock = Clock()
        try await GatewayTests.withMesh(store: store, now: clock.source) { mesh in
            let nanhu = mesh.client("nanhu", .county)
            defer { Task { await nanhu.close() } }
            let filed: Jiaxing_Benefits_V1_Application = try await nanhu.unary(
                GatewayMethods.fileApplication, Self.application(clause: "jzf-2023-3/3.18a"))
            #expect(filed.status == .pending)
            #expect(filed.orderID.isEmpty)
            #expect(filed.maximumFen == 80_000_000)  // what the declared facts would give, for the department
            #expect(filed.declaredProjects.map(\.name) == ["MES上云"])
            #expect(filed.declaredProjects.first?.source.kind == .declared)
            #expect(filed.claimedFacts.map(\.fact) == ["digitalInvestment"])
            #expect(filed.claimedFacts.allSatisfy { $0.source.kind == .declared && $0.source.party == "nanhu" })
            #expect(try await mesh.ledger.orders(.init(limit: 100)).isEmpty)
        }
    }

    @Test(
        "限时即享: a claimed fact sends it to the department with a deadline in working days; approved within the cap and paid; another rejected",
        arguments: TestStore.allCases)
    func departmentDecides(store: TestStore) async throws {
        let clock = Clock()
        try await GatewayTests.withMesh(store: store, now: clock.source) { mesh in
            _ = try await mesh.ledger.openFund(documentID: "jzbf-2023-38", year: 2023, budgetFen: 1_000_000_000)
            let nanhu = mesh.client("nanhu", .county)
            let shangwu = mesh.client("shangwu", .department)
            let jingxin = mesh.client("jingxin", .department)
            defer { Task { for client in [nanhu, shangwu, jingxin] { await client.close() } } }

            let filed: Jiaxing_Benefits_V1_Application = try await nanhu.unary(
                GatewayMethods.fileApplication,
                Self.application(
                    clause: "jzbf-2023-38/2.4.15b", claimed: [Self.crossBorderTrade], requested: 300_000,
                    subject: "crossBorder/2023")
            )
            #expect(filed.status == .pending)
            #expect(filed.maximumFen > 0)
            // 20 working days from Friday 2023-09-01: the 19th is 09-28, then the holiday 09-29…10-06, and
            // Saturday 10-07 is a working day.
            #expect(
                CalendarDate(year: Int(filed.dueOn.year), month: Int(filed.dueOn.month), day: Int(filed.dueOn.day))
                    == CalendarDate("2023-10-07"))
            #expect(filed.responsibleDepartments == ["市商务局"])

            // Not 市经信局's to decide; over the cap is refused; 市商务局 approves within it.
            var decide = Jiaxing_Benefits_V1_DecideApplicationRequest()
            decide.applicationID = filed.id
            decide.approve = true
            decide.amountFen = filed.maximumFen + 1
            let notTheirs = await #expect(throws: RPCError.self) {
                let _: Jiaxing_Benefits_V1_Application = try await jingxin.unary(
                    GatewayMethods.decideApplication, decide)
            }
            #expect(notTheirs?.code == .permissionDenied)
            let overCap = await #expect(throws: RPCError.self) {
                let _: Jiaxing_Benefits_V1_Application = try await shangwu.unary(
                    GatewayMethods.decideApplication, decide)
            }
            #expect(overCap?.code == .invalidArgument)
            #expect(overCap?.message.contains("amount_fen") == true)
            decide.amountFen = 250_000
            clock.advance(days: 5)
            let approved: Jiaxing_Benefits_V1_Application = try await shangwu.unary(
                GatewayMethods.decideApplication, decide)
            #expect(approved.status == .approved)
            #expect(approved.decidedFen == 250_000)
            #expect(approved.decidedBy == "department/shangwu")
            let order = try await mesh.ledger.order(id: approved.orderID)
            #expect(order.status == .posted)  // 一键直达: the department's decision pays
            #expect(order.amountFen == 250_000)
            // Paid on the enterprise's declaration (跨境电商 trade no department published), and the record says so.
            #expect(order.declaredFacts)
            let listed = try await mesh.ledger.orders(.init(limit: 10))
            #expect(listed.first { $0.id == order.id }?.declaredFacts == true)

            // The same enterprise again, naming another subject: what it is for is the screening's, so the
            // approved application comes back and nothing is paid twice.
            let renamed: Jiaxing_Benefits_V1_Application = try await nanhu.unary(
                GatewayMethods.fileApplication,
                Self.application(
                    clause: "jzbf-2023-38/2.4.15b", claimed: [Self.crossBorderTrade], requested: 100_000,
                    subject: "crossBorder/2023-h2")
            )
            #expect(renamed.replayed)
            #expect(renamed.id == filed.id)

            // Another enterprise's application, rejected with a reason; a rejection without one is refused.
            let second: Jiaxing_Benefits_V1_Application = try await nanhu.unary(
                GatewayMethods.fileApplication,
                Self.application(
                    clause: "jzbf-2023-38/2.4.15b", profile: Self.profile("91330402MA2E00002"),
                    claimed: [Self.crossBorderTrade], requested: 100_000)
            )
            var reject = Jiaxing_Benefits_V1_DecideApplicationRequest()
            reject.applicationID = second.id
            let noReason = await #expect(throws: RPCError.self) {
                let _: Jiaxing_Benefits_V1_Application = try await shangwu.unary(
                    GatewayMethods.decideApplication, reject)
            }
            #expect(noReason?.code == .invalidArgument)
            reject.reason = "同一年度已兑付"
            let rejected: Jiaxing_Benefits_V1_Application = try await shangwu.unary(
                GatewayMethods.decideApplication, reject)
            #expect(rejected.status == .rejected)
            #expect(rejected.reason == "同一年度已兑付")

            let listing: Jiaxing_Benefits_V1_ListApplicationsResponse = try await shangwu.unary(
                GatewayMethods.listApplications, Jiaxing_Benefits_V1_ListApplicationsRequest())
            #expect(listing.applications.count == 2)
            let tally = try #require(listing.tallies.first { $0.documentID == "jzbf-2023-38" })
            #expect(tally.department == "市商务局")
            #expect(tally.received == 2)
            #expect(tally.decidedInTime == 2)
            #expect(tally.breached == 0)
        }
    }

    @Test("applications are listed a page at a time, newest first, each once")
    func pages() async throws {
        let clock = Clock()
        try await GatewayTests.withMesh(now: clock.source) { mesh in
            _ = try await mesh.ledger.openFund(documentID: "jzbf-2023-38", year: 2023, budgetFen: 1_000_000_000)
            let nanhu = mesh.client("nanhu", .county)
            defer { Task { await nanhu.close() } }
            var filed: [String] = []
            for enterprise in ["91330402MA2E00003", "91330402MA2E00004", "91330402MA2E00005"] {
                let application: Jiaxing_Benefits_V1_Application = try await nanhu.unary(
                    GatewayMethods.fileApplication,
                    Self.application(
                        clause: "jzbf-2023-38/2.4.15b", profile: Self.profile(enterprise),
                        claimed: [Self.crossBorderTrade], requested: 100_000))
                filed.append(application.id)
                clock.advance(days: 1)
            }
            var request = Jiaxing_Benefits_V1_ListApplicationsRequest()
            request.limit = 2
            let first: Jiaxing_Benefits_V1_ListApplicationsResponse = try await nanhu.unary(
                GatewayMethods.listApplications, request)
            #expect(first.applications.map(\.id) == [filed[2], filed[1]])
            #expect(!first.nextPageToken.isEmpty)
            request.pageToken = first.nextPageToken
            let second: Jiaxing_Benefits_V1_ListApplicationsResponse = try await nanhu.unary(
                GatewayMethods.listApplications, request)
            #expect(second.applications.map(\.id) == [filed[0]])
            #expect(second.nextPageToken.isEmpty)
            request.pageToken = "garbage"
            let refused = await #expect(throws: RPCError.self) {
                let _: Jiaxing_Benefits_V1_ListApplicationsResponse = try await nanhu.unary(
                    GatewayMethods.listApplications, request)
            }
            #expect(refused?.code == .invalidArgument && refused?.message.contains("page_token") == true)
        }
    }

    @Test("a clause's own decision deadline counts instead of the default 20 working days")
    func clauseDeadline() async throws {
        let clock = Clock()
        var documents = GatewayTests.catalog.documents
        let document = try #require(documents.firstIndex { $0.id == "jzbf-2023-38" })
        let clause = try #require(documents[document].clauses.firstIndex { $0.id == "jzbf-2023-38/2.4.15b" })
        documents[document].clauses[clause].decisionWorkingDays = 5
        let catalog = Catalog(
            revision: "test-deadline", documents: documents, vocabulary: GatewayTests.catalog.vocabulary,
            calendar: GatewayTests.catalog.calendar)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("deadline-\(UUID().uuidString).sqlite")
            .path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let ledger = Ledger(database: try SQLiteDatabase(path: path), catalog: { catalog }, now: { clock.now })
        try await ledger.migrate()
        var request = Jiaxing_Benefits_V1_RecordApplicationRequest()
        request.application.creditCode = Self.profile().creditCode
        request.application.enterpriseName = "嘉兴跨境贸易有限公司"
        request.application.county = .nanhu
        request.application.clauseID = "jzbf-2023-38/2.4.15b"
        request.application.subject = "crossBorder/2023"
        request.application.requestedFen = 100_000
        let filed = try await ApplicationsDesk(ledger: ledger).record(request)
        #expect(filed.workingDays == 5)
        // Friday 2023-09-01 + 5 working days: 09-04 … 09-08.
        #expect(
            CalendarDate(year: Int(filed.dueOn.year), month: Int(filed.dueOn.month), day: Int(filed.dueOn.day))
                == CalendarDate("2023-09-08"))
    }

    @Test("filed on 2026-12-05: the deadline runs into 2027 on a provisional year; the official file replaces it")
    func provisionalDeadline() async throws {
        // Saturday 2026-12-05, 10:00 in China.
        let clock = Clock(millis: 1_796_436_000_000)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("calendar-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try TestMesh.copyCatalogFiles(to: folder)
        let first = try CatalogLoader.load(
            directory: folder, sourcesDirectory: TestMesh.sourcesDirectory, provisionalThrough: 2028)
        let current = NIOLockedValueBox(first)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent(
            "provisional-\(UUID().uuidString).sqlite"
        )
        .path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let ledger = Ledger(
            database: try SQLiteDatabase(path: path), catalog: { current.withLockedValue { $0 } }, now: { clock.now })
        try await ledger.migrate()
        func file(_ subject: String) async throws -> Jiaxing_Benefits_V1_Application {
            var request = Jiaxing_Benefits_V1_RecordApplicationRequest()
            request.application.creditCode = Self.profile().creditCode
            request.application.enterpriseName = "嘉兴创新大赛企业"
            request.application.county = .nanhu
            request.application.clauseID = "jzbf-2024-7/3.3c"
            request.application.subject = subject
            request.application.requestedFen = 100_000
            return try await ApplicationsDesk(ledger: ledger).record(request)
        }
        // Twenty working days: 12-07 … 12-31 (19), 元旦 2027-01-01 off, Monday 2027-01-04 (20).
        let provisional = try await file("contest/2026")
        #expect(provisional.status == .pending)
        #expect(provisional.dueProvisional)
        #expect(provisional.reason.contains("暂行推算"))
        #expect(CalendarDate(message: provisional.dueOn) == CalendarDate("2027-01-04"))

        // A 2027 notice arrives as a catalog revision (a test notice: 元旦 1 to 4 January); deadlines set from then
        // on are counted on it.
        try
            #"{"year": 2027, "source": "test notice", "holidays": [{"name": "元旦", "from": "2027-01-01", "to": "2027-01-04"}], "workingWeekends": []}"#
            .write(toFile: "\(folder)/calendar/2027.json", atomically: true, encoding: .utf8)
        let second = try CatalogLoader.load(
            directory: folder, sourcesDirectory: TestMesh.sourcesDirectory, provisionalThrough: 2028)
        #expect(second.revision != first.revision)
        #expect(!second.calendar.provisionalYears.contains(2027))
        #expect(second.calendar.provisionalYears.contains(2028))
        current.withLockedValue { $0 = second }
        let official = try await file("contest/2026-b")
        #expect(!official.dueProvisional)
        #expect(CalendarDate(message: official.dueOn) == CalendarDate("2027-01-05"))
        // The first application keeps the deadline it was given.
        let listed = try await ApplicationsDesk(ledger: ledger).list(.init())
        #expect(listed.applications.first { $0.id == provisional.id }?.dueProvisional == true)
    }

    @Test("a deadline passed undecided is breached, escalated and counted")
    func breach() async throws {
        let clock = Clock()
        try await GatewayTests.withMesh(now: clock.source) { mesh in
            let nanhu = mesh.client("nanhu", .county)
            let operatorClient = mesh.client("operator", .operator)
            defer {
                Task {
                    await nanhu.close()
                    await operatorClient.close()
                }
            }
            let filed: Jiaxing_Benefits_V1_Application = try await nanhu.unary(
                GatewayMethods.fileApplication,
                Self.application(clause: "jzbf-2023-38/2.4.15b", claimed: [Self.crossBorderTrade], requested: 300_000)
            )
            #expect(try await ApplicationsDesk(ledger: mesh.ledger).markBreaches().isEmpty)  // due 2023-10-07
            clock.advance(days: 36)  // 2023-10-07: the last day, still in time
            #expect(try await ApplicationsDesk(ledger: mesh.ledger).markBreaches().isEmpty)
            clock.advance(days: 1)  // 2023-10-08: late
            let breached = try await ApplicationsDesk(ledger: mesh.ledger).markBreaches()
            #expect(breached.map(\.id) == [filed.id])
            #expect(try await ApplicationsDesk(ledger: mesh.ledger).markBreaches().isEmpty)  // counted once
            var request = Jiaxing_Benefits_V1_ListApplicationsRequest()
            request.breachedOnly = true
            let listing: Jiaxing_Benefits_V1_ListApplicationsResponse = try await operatorClient.unary(
                GatewayMethods.listApplications, request)
            #expect(listing.applications.map(\.id) == [filed.id])
            #expect(listing.tallies.first?.breached == 1)
            #expect(listing.tallies.first?.pending == 1)
        }
    }

    @Test(
        "refused: another county, a clause not in force, not met, more than the cap, evidence of the wrong type; nothing filed",
        arguments: TestStore.allCases)
    func refusals(store: TestStore) async throws {
        let clock = Clock()
        try await GatewayTests.withMesh(store: store, now: clock.source) { mesh in
            let nanhu = mesh.client("nanhu", .county)
            defer { Task { await nanhu.close() } }
            func refusal(_ request: Jiaxing_Benefits_V1_FileApplicationRequest) async -> RPCError? {
                await #expect(throws: RPCError.self) {
                    let _: Jiaxing_Benefits_V1_Application = try await nanhu.unary(
                        GatewayMethods.fileApplication, request)
                }
            }
            let otherCounty = await refusal(
                Self.application(
                    clause: "jzf-2023-3/3.18a", profile: Self.profile("91330481MA2E00002", county: .haining)))
            #expect(otherCounty?.code == .permissionDenied)
            let notInForce = await refusal(Self.application(clause: "jzbf-2024-7/3.2f"))
            #expect(notInForce?.code == .failedPrecondition)
            #expect(notInForce?.message.contains("clause_id") == true)
            let notMet = await refusal(Self.application(clause: "jzbf-2023-38/2.4.15b"))
            #expect(notMet?.code == .failedPrecondition)
            let tooMuch = await refusal(
                Self.application(
                    clause: "jzbf-2023-38/2.4.15b", claimed: [Self.crossBorderTrade], requested: 10_000_000_000))
            #expect(tooMuch?.code == .invalidArgument)
            #expect(tooMuch?.message.contains("requested_fen") == true)
            var withEvidence = Self.application(
                clause: "jzbf-2023-38/2.4.15b", claimed: [Self.crossBorderTrade], requested: 100_000)
            var file = Jiaxing_Benefits_V1_Evidence()
            file.name = "合同.pdf"
            file.contentType = "application/pdf"
            file.content = Data("MZ\u{90}\u{00} not a pdf".utf8)
            withEvidence.evidence = [file]
            let badEvidence = await refusal(withEvidence)
            #expect(badEvidence?.code == .invalidArgument)
            #expect(badEvidence?.message.contains("evidence[0]") == true)
            #expect(try await ApplicationsDesk(ledger: mesh.ledger).list(.init()).applications.isEmpty)

            // The same file as a real PDF is kept by its hash, and only the hash comes back.
            file.content = Data("%PDF-1.7\n合同正文".utf8)
            withEvidence.evidence = [file]
            let filed: Jiaxing_Benefits_V1_Application = try await nanhu.unary(
                GatewayMethods.fileApplication, withEvidence)
            #expect(filed.evidence.first?.sha256.count == 64)
            #expect(filed.evidence.first?.content.isEmpty == true)
            #expect(filed.evidence.first?.size == Int64(file.content.count))
        }
    }

    @Test(
        "evidence comes back byte for byte to the responsible department and the filing county; another county or department is refused"
    )
    func evidenceDownload() async throws {
        let clock = Clock()
        try await GatewayTests.withMesh(now: clock.source) { mesh in
            let nanhu = mesh.client("nanhu", .county)
            let haining = mesh.client("haining", .county)
            let shangwu = mesh.client("shangwu", .department)
            let keji = mesh.client("keji", .department)
            defer { Task { for client in [nanhu, haining, shangwu, keji] { await client.close() } } }
            var request = Self.application(
                clause: "jzbf-2023-38/2.4.15b", claimed: [Self.crossBorderTrade], requested: 100_000)
            var file = Jiaxing_Benefits_V1_Evidence()
            file.name = "报关单.png"
            file.contentType = "image/png"
            file.content = Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + Array(repeating: 7, count: 4096))
            request.evidence = [file]
            let filed: Jiaxing_Benefits_V1_Application = try await nanhu.unary(GatewayMethods.fileApplication, request)
            var get = Jiaxing_Benefits_V1_GetEvidenceRequest()
            get.applicationID = filed.id
            get.sha256 = filed.evidence[0].sha256
            for reader in [shangwu, nanhu] {
                let copy: Jiaxing_Benefits_V1_Evidence = try await reader.unary(GatewayMethods.getEvidence, get)
                #expect(copy.content == file.content && copy.name == file.name && copy.contentType == "image/png")
            }
            for stranger in [haining, keji] {
                let refused = await #expect(throws: RPCError.self) {
                    let _: Jiaxing_Benefits_V1_Evidence = try await stranger.unary(GatewayMethods.getEvidence, get)
                }
                #expect(refused?.code == .permissionDenied)
            }
            get.sha256 = String(repeating: "0", count: 64)
            let missing = await #expect(throws: RPCError.self) {
                let _: Jiaxing_Benefits_V1_Evidence = try await shangwu.unary(GatewayMethods.getEvidence, get)
            }
            #expect(missing?.code == .notFound && missing?.message.contains("sha256") == true)
            #expect(
                mesh.audit.entries().contains { $0["method"] == "GetEvidence" && $0["caller"] == "department/shangwu" })
        }
    }

    @Test(
        "a county may not claim for itself an enterprise the register puts in another county: no application, no proposal",
        arguments: TestStore.allCases)
    func registeredElsewhere(store: TestStore) async throws {
        let clock = Clock()
        try await GatewayTests.withMesh(store: store, now: clock.source) { mesh in
            let nanhu = mesh.client("nanhu", .county)
            defer { Task { await nanhu.close() } }
            var haining = Self.profile("91330481MA2E00009", county: .haining)
            _ = try await mesh.store.register([haining], registeringCounty: .haining, at: 0)
            haining.county = .nanhu
            let application = await #expect(throws: RPCError.self) {
                let _: Jiaxing_Benefits_V1_Application = try await nanhu.unary(
                    GatewayMethods.fileApplication, Self.application(clause: "jzf-2023-3/3.18a", profile: haining))
            }
            #expect(application?.code == .permissionDenied && application?.message.contains("海宁市") == true)
            var propose = Jiaxing_Benefits_V1_ProposePayoutRequest()
            propose.creditCode = haining.creditCode
            propose.enterpriseName = haining.name
            propose.county = .nanhu
            propose.clauseID = "jzf-2023-3/3.18a"
            propose.period = 2023
            propose.amountFen = 80_000_000
            let proposal = await #expect(throws: RPCError.self) {
                let _: Jiaxing_Benefits_V1_PayoutOrder = try await nanhu.unary(GatewayMethods.proposePayout, propose)
            }
            #expect(proposal?.code == .permissionDenied)
            #expect(try await ApplicationsDesk(ledger: mesh.ledger).list(.init()).applications.isEmpty)
        }
    }
}
