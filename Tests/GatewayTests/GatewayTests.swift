import BenefitsAPI
import BenefitsDomain
import CatalogModel
import CatalogService
import DisbursementService
import EligibilityEngine
import EligibilityService
import Foundation
import GatewayService
import GatewayStore
import Ledger
import MeshIdentity
import MeshMessages
import MeshPKI
import MeshRPC
import MeshTestSupport
import NotificationCore
import NotificationService
import SQLStore
import Testing

/// The gateway in front of real catalog, eligibility (two replicas), disbursement and notification servers.
@Suite("Gateway")
struct GatewayTests {
    static let catalog = try! CatalogLoader.load(directory: "\(TestMesh.repositoryRoot)/Services/Catalog/Data")

    struct Mesh {
        let gatewayPort: Int
        /// Disbursement's own port, for the calls only the gateway makes (and the refusals of anyone else).
        let disbursementPort: Int
        let eligibility: [TestMesh.RunningServer]
        let audit: AuditLog
        let ledger: Ledger
        let store: GatewayStore
        let services: GatewayHandlers.Services
        let notifier: Notifier
        /// Every method some service of this mesh routes, by full name.
        let routed: Set<String>

        func client(_ name: String, _ role: PartyRole) -> MeshClient {
            TestMesh.client(port: self.gatewayPort, tls: TestMesh.credentials(for: name, role: role))
        }

        func disbursementClient(_ name: String, _ role: PartyRole) -> MeshClient {
            TestMesh.client(port: self.disbursementPort, tls: TestMesh.credentials(for: name, role: role))
        }
    }

    /// - Parameters:
    ///   - store: where the ledger and the gateway's register are kept.
    ///   - now: the ledger's clock (milliseconds), for tests that need a day in the documents' period.
    static func withMesh<Result>(
        store kind: TestStore = .sqlite, rate: Double = 10_000, burst: Double = 10_000,
        now: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970 * 1000) },
        _ body: (Mesh) async throws -> Result
    ) async throws -> Result {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("gateway-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }

        let store = try CatalogStore(
            directory: "\(TestMesh.repositoryRoot)/Services/Catalog/Data", logger: TestMesh.logger)
        var catalogRouter = RPCRouter()
        CatalogHandlers(store: store).register(into: &catalogRouter)
        var eligibilityRouter = RPCRouter()
        EligibilityHandlers(
            holder: EngineHolder(engine: EligibilityEngine(catalog: Self.catalog)),
            sealer: DecisionSealer(signer: TestMesh.eligibilitySigner)
        ).register(
            into: &eligibilityRouter)
        let ledger = Ledger(
            database: try await kind.database("ledger", in: folder), catalog: { Self.catalog }, now: now)
        try await ledger.migrate()
        _ = try await ledger.openFund(documentID: "jzf-2023-3", year: 2023, budgetFen: 10_000_000_000)
        _ = try await ledger.openFund(documentID: "jzbf-2023-32", year: 2023, budgetFen: 10_000_000_000)
        var disbursementRouter = RPCRouter()
        DisbursementHandlers(ledger: ledger, seals: DecisionSealCheck(verifier: TestMesh.sealVerifier())).register(
            into: &disbursementRouter)
        let webhooks = try WebhookClient()
        let notifier = Notifier(
            database: try SQLiteDatabase(path: "\(folder)/notices.sqlite"),
            templates: try NoticeTemplates.load(
                path: "\(TestMesh.repositoryRoot)/Services/Notification/Templates/notices.json"),
            webhooks: webhooks)
        try await notifier.migrate()
        var notificationRouter = RPCRouter()
        NotificationHandlers(center: notifier).register(into: &notificationRouter)

        let catalogServer = try await TestMesh.RunningServer(router: catalogRouter)
        let eligibility = [
            try await TestMesh.RunningServer(router: eligibilityRouter),
            try await TestMesh.RunningServer(router: eligibilityRouter),
        ]
        let disbursement = try await TestMesh.RunningServer(router: disbursementRouter)
        let notification = try await TestMesh.RunningServer(router: notificationRouter)
        let tls = TestMesh.serviceCredentials("gateway")
        func pool(_ name: String, _ servers: [TestMesh.RunningServer]) async throws -> ReplicaPool {
            var endpoints: [(host: String, port: Int)] = []
            for server in servers { endpoints.append(("127.0.0.1", try await server.port())) }
            return ReplicaPool(
                service: name, endpoints: endpoints, tls: tls, ejection: .seconds(30), logger: TestMesh.logger)
        }
        let audit = try AuditLog(path: "\(folder)/audit.log")
        let services = GatewayHandlers.Services(
            catalog: try await pool("catalog", [catalogServer]),
            eligibility: try await pool("eligibility", eligibility),
            disbursement: try await pool("disbursement", [disbursement]),
            notification: try await pool("notification", [notification])
        )
        var router = RPCRouter()
        let gatewayStore = try await GatewayStore.open(kind.database("gateway", in: folder))
        GatewayHandlers(
            services: services, audit: audit, limiter: CountyRateLimiter(rate: rate, burst: burst), store: gatewayStore
        ).register(into: &router)
        let gateway = try await TestMesh.RunningServer(router: router)
        let mesh = Mesh(
            gatewayPort: try await gateway.port(), disbursementPort: try await disbursement.port(),
            eligibility: eligibility, audit: audit, ledger: ledger,
            store: gatewayStore, services: services, notifier: notifier,
            routed: Set(
                [catalogRouter, eligibilityRouter, disbursementRouter, notificationRouter, router].flatMap {
                    $0.methods.map(\.name)
                }))
        do {
            let result = try await ledger.running { try await body(mesh) }
            for server in [gateway, catalogServer, disbursement, notification] + eligibility { await server.stop() }
            await webhooks.shutdown()
            return result
        } catch {
            for server in [gateway, catalogServer, disbursement, notification] + eligibility { await server.stop() }
            await webhooks.shutdown()
            throw error
        }
    }

    static func request(
        county: Jiaxing_Benefits_V1_County, body: String = "91330402MA2B00001", recognition: String = "greenFactory"
    ) -> Jiaxing_Benefits_V1_ScreenRequest {
        var request = Jiaxing_Benefits_V1_ScreenRequest()
        request.asOf = CalendarDate("2023-09-01")!.message
        request.profile.creditCode = CreditCode.completing(body)?.value ?? body
        request.profile.name = "嘉兴示例制造有限公司"
        request.profile.county = county
        var record = Jiaxing_Benefits_V1_RecognitionRecord()
        record.recognition = recognition
        record.level = "national"
        record.recognizedOn = CalendarDate("2023-07-01")!.message
        request.profile.recognitions = [record]
        return request
    }

    /// The responsible departments publish what the profiles' records say, each record under the department
    /// the vocabulary names for its kind: what the mesh needs before it pays on them.
    static func attest(_ profiles: [Jiaxing_Benefits_V1_EnterpriseProfile], _ mesh: Mesh) async throws {
        let lists = DepartmentPublications.records(
            of: profiles, vocabulary: Self.catalog.vocabulary, referencePrefix: "测试名单 ")
        for (department, records) in lists {
            let client = mesh.client(department.partyName, .department)
            defer { Task { await client.close() } }
            for start in stride(from: 0, to: records.count, by: GatewayStore.maximumRecordsPerCall) {
                var request = Jiaxing_Benefits_V1_PublishRecordsRequest()
                request.records = Array(records[start..<min(start + GatewayStore.maximumRecordsPerCall, records.count)])
                let response: Jiaxing_Benefits_V1_PublishRecordsResponse = try await client.unary(
                    GatewayMethods.publishRecords, request)
                #expect(response.refused.isEmpty, "\(response.refused.map(\.message))")
            }
        }
    }

    @Test("a county screens its own enterprises and is refused another county's, audited")
    func countyScope() async throws {
        try await Self.withMesh { mesh in
            let nanhu = mesh.client("nanhu", .county)
            defer { Task { await nanhu.close() } }
            let result: Jiaxing_Benefits_V1_ScreeningResult = try await nanhu.unary(
                GatewayMethods.screen, Self.request(county: .nanhu))
            #expect(result.totalEligibleFen == 150_000_000)
            let refused = await #expect(throws: RPCError.self) {
                let _: Jiaxing_Benefits_V1_ScreeningResult = try await nanhu.unary(
                    GatewayMethods.screen, Self.request(county: .haining))
            }
            #expect(refused?.code == .permissionDenied)
            #expect(refused?.message.contains("海宁市") == true)
            #expect(
                mesh.audit.entries().contains {
                    $0["caller"] == "county/nanhu" && $0["outcome"] == "refused" && $0["method"] == "Screen"
                })
        }
    }

    @Test("screen and propose in one call; the department approves through the gateway; another department may not")
    func screenProposeApprove() async throws {
        try await Self.withMesh { mesh in
            let nanhu = mesh.client("nanhu", .county)
            let jingxin = mesh.client("jingxin", .department)
            let keji = mesh.client("keji", .department)
            defer { Task { for client in [nanhu, jingxin, keji] { await client.close() } } }
            var request = Jiaxing_Benefits_V1_ScreenAndProposeRequest()
            request.screen = Self.request(county: .nanhu, recognition: "singleChampion")
            try await Self.attest([request.screen.profile], mesh)
            let response: Jiaxing_Benefits_V1_ScreenAndProposeResponse = try await nanhu.unary(
                GatewayMethods.screenAndPropose, request)
            #expect(response.unattested.isEmpty)
            #expect(response.proposals.count == 1)  // 就高不重复: one of the two single-champion clauses
            let order = try #require(response.proposals.first?.order)
            #expect(order.amountFen == 300_000_000)
            #expect(order.status == .pending)
            var decide = Jiaxing_Benefits_V1_DecideRequest()
            decide.orderID = order.id
            let wrong = await #expect(throws: RPCError.self) {
                let _: Jiaxing_Benefits_V1_PayoutOrder = try await keji.unary(GatewayMethods.approve, decide)
            }
            #expect(wrong?.code == .permissionDenied)
            #expect(wrong?.message.hasPrefix("disbursement:") == true)
            let posted: Jiaxing_Benefits_V1_PayoutOrder = try await jingxin.unary(GatewayMethods.approve, decide)
            #expect(posted.status == .posted)
            #expect(posted.decidedBy == "department/jingxin")
            let countyApproves = await #expect(throws: RPCError.self) {
                let _: Jiaxing_Benefits_V1_PayoutOrder = try await nanhu.unary(GatewayMethods.approve, decide)
            }
            #expect(countyApproves?.code == .permissionDenied)
            let entries = mesh.audit.entries()
            #expect(
                entries.contains {
                    $0["method"] == "ProposePayout" && $0["outcome"] == "proposed" && $0["caller"] == "county/nanhu"
                })
            #expect(
                entries.contains {
                    $0["method"] == "Approve" && $0["outcome"] == "posted" && $0["caller"] == "department/jingxin"
                })
            #expect(try await mesh.ledger.reconcile() == [])
        }
    }

    @Test("a batch streams back in order; a refused line is reported and the rest go on")
    func batch() async throws {
        try await Self.withMesh { mesh in
            let nanhu = mesh.client("nanhu", .county)
            defer { Task { await nanhu.close() } }
            let count = 300
            let results = try await nanhu.bidirectional(
                GatewayMethods.screenBatch,
                requests: { writer in
                    for index in 0..<count {
                        var request = Self.request(
                            county: index == 100 ? .haining : .nanhu,
                            body: index == 200 ? "bad" : "9133040" + String(format: "%010d", index))
                        request.requestID = "\(index)"
                        try await writer.write(request)
                    }
                },
                responses: { (responses: ResponseStream<Jiaxing_Benefits_V1_ScreeningResult>) in
                    var lines: [(String, UInt32)] = []
                    for try await result in responses {
                        lines.append((result.requestID, result.hasError ? result.error.code : 0))
                    }
                    return lines.map { "\($0.0):\($0.1)" }
                })
            #expect(results.count == count)
            #expect(results.map { $0.split(separator: ":")[0] } == (0..<count).map { Substring(String($0)) })
            #expect(results[100] == "100:7")
            #expect(results[200].hasPrefix("200:3"))
            #expect(results.filter { !$0.hasSuffix(":0") }.count == 2)
        }
    }

    @Test("a replica taken away is ejected; screening goes on on the other")
    func replicaFailure() async throws {
        try await Self.withMesh { mesh in
            let nanhu = mesh.client("nanhu", .county)
            defer { Task { await nanhu.close() } }
            for _ in 0..<10 {
                let _: Jiaxing_Benefits_V1_ScreeningResult = try await nanhu.unary(
                    GatewayMethods.screen, Self.request(county: .nanhu))
            }
            await mesh.eligibility[0].stop()
            for _ in 0..<20 {
                let result: Jiaxing_Benefits_V1_ScreeningResult = try await nanhu.unary(
                    GatewayMethods.screen, Self.request(county: .nanhu), options: CallOptions(timeout: .seconds(5)))
                #expect(result.totalEligibleFen == 150_000_000)
            }
        }
    }

    @Test("over the rate limit: resourceExhausted with a retry-after hint")
    func rateLimit() async throws {
        // Refills one call in 100 s: none during the test, however slow the machine.
        try await Self.withMesh(rate: 0.01, burst: 2) { mesh in
            let nanhu = mesh.client("nanhu", .county)
            defer { Task { await nanhu.close() } }
            for _ in 0..<2 {
                let _: Jiaxing_Benefits_V1_ScreeningResult = try await nanhu.unary(
                    GatewayMethods.screen, Self.request(county: .nanhu))
            }
            let limited = await #expect(throws: RPCError.self) {
                let _: Jiaxing_Benefits_V1_ScreeningResult = try await nanhu.unary(
                    GatewayMethods.screen, Self.request(county: .nanhu))
            }
            #expect(limited?.code == .resourceExhausted)
            #expect(Int(limited?.metadata["retry-after-ms"] ?? "") ?? 0 > 0)
            // Another county has its own bucket.
            let haining = mesh.client("haining", .county)
            defer { Task { await haining.close() } }
            let _: Jiaxing_Benefits_V1_ScreeningResult = try await haining.unary(
                GatewayMethods.screen, Self.request(county: .haining))
        }
    }

    @Test("the operator reads the funds; a county may not; a service certificate is not a gateway client")
    func operatorReads() async throws {
        try await Self.withMesh { mesh in
            let operatorClient = mesh.client("operator", .operator)
            let nanhu = mesh.client("nanhu", .county)
            let service = TestMesh.client(port: mesh.gatewayPort, tls: TestMesh.serviceCredentials("eligibility"))
            defer { Task { for client in [operatorClient, nanhu, service] { await client.close() } } }
            let funds: Jiaxing_Benefits_V1_ListFundsResponse = try await operatorClient.unary(
                GatewayMethods.listFunds, Jiaxing_Benefits_V1_ListFundsRequest())
            #expect(funds.funds.count == 2)
            let county = await #expect(throws: RPCError.self) {
                let _: Jiaxing_Benefits_V1_ListFundsResponse = try await nanhu.unary(
                    GatewayMethods.listFunds, Jiaxing_Benefits_V1_ListFundsRequest())
            }
            #expect(county?.code == .permissionDenied)
            let asService = await #expect(throws: RPCError.self) {
                let _: Jiaxing_Benefits_V1_ListFundsResponse = try await service.unary(
                    GatewayMethods.listFunds, Jiaxing_Benefits_V1_ListFundsRequest())
            }
            #expect(asService?.code == .permissionDenied)
            var clause = Jiaxing_Benefits_V1_GetClauseRequest()
            clause.id = "jzf-2023-3/3.19b"
            let text: Jiaxing_Benefits_V1_Clause = try await nanhu.unary(GatewayMethods.getClause, clause)
            #expect(text.text.contains("绿色工厂"))
        }
    }

    @Test(
        "the operator puts and lists console accounts through the gateway; the password is in no answer or audit line; a county may not"
    )
    func consoleAccounts() async throws {
        try await Self.withMesh { mesh in
            let operatorClient = GatewayClient(mesh.client("operator", .operator))
            let nanhu = GatewayClient(mesh.client("nanhu", .county))
            defer { Task { for client in [operatorClient.client, nanhu.client] { await client.close() } } }
            let password = "correct horse battery staple"
            var request = Jiaxing_Benefits_V1_PutConsoleAccountRequest()
            request.user = "wang.fang"
            request.role = "county"
            request.party = "nanhu"
            request.password = password
            let created = try await operatorClient.putConsoleAccount(request)
            #expect(created.user == "wang.fang" && created.role == "county" && created.party == "nanhu")
            #expect(created.displayName == "wang.fang")
            // The account signs in with that password: the store the console reads has it.
            let signedIn = try await mesh.store.signIn(
                userName: "wang.fang", password: password, policy: ConsolePolicy(), at: 1)
            #expect((try? signedIn.get())?.party == "nanhu")
            let again = await #expect(throws: RPCError.self) { try await operatorClient.putConsoleAccount(request) }
            #expect(again?.code == .alreadyExists)
            request.replace = true
            request.party = "xiuzhou"
            #expect(try await operatorClient.putConsoleAccount(request).party == "xiuzhou")
            var bad = request
            bad.role = "service"
            let role = await #expect(throws: RPCError.self) { try await operatorClient.putConsoleAccount(bad) }
            #expect(role?.code == .invalidArgument && role?.message.hasPrefix("role:") == true)
            bad = request
            bad.password = "short"
            let short = await #expect(throws: RPCError.self) { try await operatorClient.putConsoleAccount(bad) }
            #expect(short?.code == .invalidArgument && short?.message.contains("password") == true)
            let listed = try await operatorClient.listConsoleAccounts(Jiaxing_Benefits_V1_ListConsoleAccountsRequest())
            #expect(listed.accounts.map(\.user) == ["wang.fang"])
            #expect(listed.accounts.first?.party == "xiuzhou")
            let county = await #expect(throws: RPCError.self) {
                try await nanhu.listConsoleAccounts(Jiaxing_Benefits_V1_ListConsoleAccountsRequest())
            }
            #expect(county?.code == .permissionDenied)
            let lines = mesh.audit.entries().filter { $0["method"] == "PutConsoleAccount" }
            #expect(lines.map { $0["outcome"] ?? "" } == ["created", "refused", "replaced", "refused", "refused"])
            #expect(!lines.contains { $0.values.contains { $0.contains(password) } })
        }
    }

    @Test("the operator lists every replica behind the gateway, each serving; a county may not")
    func listReplicas() async throws {
        try await Self.withMesh { mesh in
            let operatorClient = GatewayClient(mesh.client("operator", .operator))
            let nanhu = GatewayClient(mesh.client("nanhu", .county))
            defer { Task { for client in [operatorClient.client, nanhu.client] { await client.close() } } }
            let response = try await operatorClient.listReplicas(Jiaxing_Benefits_V1_ListReplicasRequest())
            // The test mesh: one catalog, two eligibility, one disbursement, one notification.
            #expect(
                response.replicas.map(\.service) == [
                    "catalog", "eligibility", "eligibility", "disbursement", "notification",
                ])
            #expect(
                response.replicas.allSatisfy { $0.serving && $0.detail == "SERVING" },
                "\(response.replicas.map { "\($0.service) \($0.endpoint): \($0.detail)" })")
            var ports: [Int] = []
            for server in mesh.eligibility { ports.append(try await server.port()) }
            #expect(
                response.replicas.filter { $0.service == "eligibility" }.map(\.endpoint)
                    == ports.map { "127.0.0.1:\($0)" })
            #expect(!response.gateway.isEmpty)
            let county = await #expect(throws: RPCError.self) {
                try await nanhu.listReplicas(Jiaxing_Benefits_V1_ListReplicasRequest())
            }
            #expect(county?.code == .permissionDenied)
        }
    }

    @Test(
        "a forecast over the register: the operator's for the city or a county, a county's for its own only; equal to screening each"
    )
    func forecastRegister() async throws {
        try await Self.withMesh { mesh in
            let operatorClient = mesh.client("operator", .operator)
            let nanhu = mesh.client("nanhu", .county)
            let haining = mesh.client("haining", .county)
            let department = mesh.client("jingxin", .department)
            defer { Task { for client in [operatorClient, nanhu, haining, department] { await client.close() } } }
            // 1,500 enterprises (two pages of the register), two counties, a third with no recognition.
            var profiles: [Jiaxing_Benefits_V1_EnterpriseProfile] = []
            for index in 0..<1_500 {
                // Each county's own registration authority: 330402 南湖区, 330481 海宁市.
                let division = index % 2 == 0 ? "330402" : "330481"
                var profile = Self.request(
                    county: index % 2 == 0 ? .nanhu : .haining,
                    body: "91\(division)MA2C\(String(format: "%05d", index))"
                ).profile
                if index % 3 == 0 { profile.recognitions = [] }
                profiles.append(profile)
            }
            for (client, county) in [(nanhu, Jiaxing_Benefits_V1_County.nanhu), (haining, .haining)] {
                let own = profiles.filter { $0.county == county }
                var request = Jiaxing_Benefits_V1_RegisterEnterprisesRequest()
                request.profiles = own
                let response: Jiaxing_Benefits_V1_RegisterEnterprisesResponse = try await client.unary(
                    GatewayMethods.registerEnterprises, request)
                #expect(response.added == Int32(own.count))
            }
            // The forecast is of what would be paid: on the records 市经信局 published.
            try await Self.attest(profiles, mesh)
            let engine = EligibilityEngine(catalog: Self.catalog)
            func expected(_ county: Jiaxing_Benefits_V1_County?) -> (enterprises: Int64, total: Int64) {
                let chosen = profiles.filter { county == nil || $0.county == county }
                let total = chosen.reduce(Int64(0)) { sum, profile in
                    var request = Jiaxing_Benefits_V1_ScreenRequest()
                    request.profile = profile
                    request.asOf = CalendarDate("2023-09-01")!.message
                    return sum + engine.screen(request).totalEligibleFen
                }
                return (Int64(chosen.count), total)
            }
            func forecast(_ client: MeshClient, county: Jiaxing_Benefits_V1_County = .unspecified, asOf: Bool = true)
                async throws -> Jiaxing_Benefits_V1_ForecastResult
            {
                var request = Jiaxing_Benefits_V1_ForecastRegisterRequest()
                if asOf { request.asOf = CalendarDate("2023-09-01")!.message }
                request.county = county
                return try await client.unary(GatewayMethods.forecastRegister, request)
            }
            let city = try await forecast(operatorClient)
            let cityExpected = expected(nil)
            #expect(city.enterprises == cityExpected.enterprises)
            #expect(city.totalFen == cityExpected.total)
            #expect(city.totalFen > 0)
            #expect(city.eligibleEnterprises == 1_000)
            let hainingByOperator = try await forecast(operatorClient, county: .haining)
            #expect(hainingByOperator.enterprises == 750)
            #expect(hainingByOperator.totalFen == expected(.haining).total)
            let own = try await forecast(nanhu)
            #expect(own.enterprises == 750)
            #expect(own.totalFen == expected(.nanhu).total)

            let other = await #expect(throws: RPCError.self) { _ = try await forecast(nanhu, county: .haining) }
            #expect(other?.code == .permissionDenied)
            let byDepartment = await #expect(throws: RPCError.self) { _ = try await forecast(department) }
            #expect(byDepartment?.code == .permissionDenied)
            let undated = await #expect(throws: RPCError.self) { _ = try await forecast(operatorClient, asOf: false) }
            #expect(undated?.code == .invalidArgument)
            #expect(undated?.message.hasPrefix("as_of:") == true)
        }
    }
}
