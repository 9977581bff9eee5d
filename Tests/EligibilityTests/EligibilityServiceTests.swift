import BenefitsAPI
import BenefitsDomain
import CatalogClient
import CatalogModel
import CatalogService
import EligibilityService
import MeshMessages
import MeshPKI
import MeshRPC
import MeshTestSupport
import MeshTransport
import ServiceLifecycle
import Testing

/// The eligibility service over the mesh: it loads the catalog from a real catalog service and screens
/// one profile or a stream of them.
@Suite("Eligibility service")
struct EligibilityServiceTests {
    /// Runs a catalog server, an eligibility server following it, and hands `body` a client of the latter.
    static func withMesh<Result>(
        maximumForecastProfiles: Int = EligibilityHandlers.defaultMaximumForecastProfiles,
        _ body: (MeshClient, EngineHolder) async throws -> Result
    ) async throws -> Result {
        let store = try CatalogStore(
            directory: "\(TestMesh.repositoryRoot)/Services/Catalog/Data", logger: TestMesh.logger)
        var catalogRouter = RPCRouter()
        CatalogHandlers(store: store).register(into: &catalogRouter)
        return try await TestMesh.withServer(router: catalogRouter) { _, catalogPort in
            let holder = EngineHolder()
            var router = RPCRouter()
            EligibilityHandlers(
                holder: holder, sealer: DecisionSealer(signer: TestMesh.eligibilitySigner),
                maximumForecastProfiles: maximumForecastProfiles
            ).register(
                into: &router)
            return try await TestMesh.withServer(router: router) { _, port in
                let catalogClient = TestMesh.client(port: catalogPort)
                let client = TestMesh.client(port: port)
                defer {
                    Task {
                        await client.close()
                        await catalogClient.close()
                    }
                }
                // Before the catalog loads the service says so.
                let early = await #expect(throws: RPCError.self) {
                    let _: Jiaxing_Benefits_V1_ScreeningResult = try await client.unary(
                        EligibilityMethods.screen, Self.request(recognition: "greenFactory"))
                }
                #expect(early?.code == .unavailable)
                let subscription = CatalogSubscription(
                    client: catalogClient, current: { holder.engine?.catalog.revision }, logger: TestMesh.logger
                ) { holder.replace(with: $0) }
                return try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { try await subscription.run() }
                    while holder.engine == nil { try await Task.sleep(for: .milliseconds(10)) }
                    let result = try await body(client, holder)
                    group.cancelAll()
                    return result
                }
            }
        }
    }

    static func request(
        recognition: String, level: String = "national", creditCodeBody: String = "91330402MA2B00001", id: String = ""
    ) -> Jiaxing_Benefits_V1_ScreenRequest {
        var request = Jiaxing_Benefits_V1_ScreenRequest()
        request.requestID = id
        request.asOf = CalendarDate("2023-09-01")!.message
        request.profile.creditCode = CreditCode.completing(creditCodeBody)?.value ?? creditCodeBody
        request.profile.county = .haining
        var record = Jiaxing_Benefits_V1_RecognitionRecord()
        record.recognition = recognition
        record.level = level
        record.recognizedOn = CalendarDate("2023-03-01")!.message
        request.profile.recognitions = [record]
        return request
    }

    @Test("asked to seal, each fixed cash decision carries eligibility's signed statement of it; unasked, none")
    func seals() async throws {
        try await Self.withMesh { client, _ in
            var request = Self.request(recognition: "greenFactory")
            let plain: Jiaxing_Benefits_V1_ScreeningResult = try await client.unary(EligibilityMethods.screen, request)
            #expect(plain.decisions.allSatisfy { !$0.hasSeal })
            request.seal = true
            let result: Jiaxing_Benefits_V1_ScreeningResult = try await client.unary(
                EligibilityMethods.screen, request)
            let sealed = result.decisions.filter(\.hasSeal)
            #expect(!sealed.isEmpty)
            #expect(sealed.count == result.decisions.filter(\.isSealable).count)
            let verifier = TestMesh.sealVerifier()
            for decision in sealed {
                let certificate = try verifier.verify(
                    statement: Array(decision.seal.statement), signature: Array(decision.seal.signature),
                    certificateDER: Array(decision.seal.certificate))
                #expect(PeerIdentity(certificate: certificate).description == "service/eligibility")
                let statement = try Jiaxing_Benefits_V1_DecisionStatement(serializedBytes: decision.seal.statement)
                #expect(statement.clauseID == decision.citation.clauseID)
                #expect(statement.amountFen == decision.amountFen)
                #expect(statement.subject == decision.orderSubject)
                #expect(statement.creditCode == request.profile.creditCode)
                #expect(statement.catalogRevision == result.catalogRevision)
                #expect(statement.profileSha256.count == 64)
            }
        }
    }

    @Test("screen one enterprise over the mesh")
    func screenOne() async throws {
        try await Self.withMesh { client, holder in
            let result: Jiaxing_Benefits_V1_ScreeningResult = try await client.unary(
                EligibilityMethods.screen, Self.request(recognition: "greenFactory", level: "provincial"))
            #expect(result.catalogRevision == holder.engine?.catalog.revision)
            let decision = try #require(result.decisions.first { $0.citation.clauseID == "jzf-2023-3/3.19b" })
            #expect(decision.status == .eligible)
            #expect(decision.amountFen == 50_000_000)
            #expect(decision.citation.clauseText.contains("50万元"))
        }
    }

    @Test("a bad profile is invalidArgument naming the field")
    func badProfile() async throws {
        try await Self.withMesh { client, _ in
            let error = await #expect(throws: RPCError.self) {
                let _: Jiaxing_Benefits_V1_ScreeningResult = try await client.unary(
                    EligibilityMethods.screen, Self.request(recognition: "greenFactory", creditCodeBody: "123"))
            }
            #expect(error?.code == .invalidArgument)
            #expect(error?.message.hasPrefix("profile.credit_code:") == true)
        }
    }

    @Test("a batch streams one result per profile in order; a bad profile is reported and the rest go on")
    func batch() async throws {
        try await Self.withMesh { client, _ in
            let count = 2_000
            let results = try await client.bidirectional(
                EligibilityMethods.screenBatch,
                requests: { writer in
                    for index in 0..<count {
                        let body = index == 700 ? "bad" : "9133040" + String(format: "%010d", index)
                        try await writer.write(
                            Self.request(
                                recognition: index % 2 == 0 ? "greenFactory" : "littleGiant", creditCodeBody: body,
                                id: "\(index)"))
                    }
                },
                responses: { (responses: ResponseStream<Jiaxing_Benefits_V1_ScreeningResult>) in
                    var ids: [String] = []
                    var errors: [String] = []
                    var total: Int64 = 0
                    for try await result in responses {
                        ids.append(result.requestID)
                        if result.hasError { errors.append(result.error.message) }
                        total += result.totalEligibleFen
                    }
                    return (ids, errors, total)
                })
            #expect(results.0 == (0..<count).map(String.init))
            #expect(results.1.count == 1)
            #expect(results.1.first?.hasPrefix("profile.credit_code:") == true)
            #expect(results.2 > 0)
        }
    }

    @Test(
        "a forecast over a stream of profiles: amounts equal to screening each, refusals counted and named, the date required"
    )
    func forecast() async throws {
        var generator = RandomProfiles(vocabulary: EligibilityAmountsTests.vocabulary, seed: 7)
        var drawn = (0..<2_500).map { _ in generator.next() }
        drawn[1_234].creditCode = "91330402MA2B0000X1"
        let profiles = drawn
        try await Self.withMesh { client, holder in
            let asOf = CalendarDate("2023-09-01")!
            let result: Jiaxing_Benefits_V1_ForecastResult = try await client.clientStreaming(
                EligibilityMethods.forecast
            ) { writer in
                for start in stride(from: 0, to: profiles.count, by: 1_000) {
                    var message = Jiaxing_Benefits_V1_ForecastRequest()
                    if start == 0 { message.asOf = asOf.message }
                    message.profiles = Array(profiles[start..<min(start + 1_000, profiles.count)])
                    try await writer.write(message)
                }
            }
            let engine = try #require(holder.engine)
            var expected: [String: Int64] = [:]
            for (index, profile) in profiles.enumerated() where index != 1_234 {
                var request = Jiaxing_Benefits_V1_ScreenRequest()
                request.profile = profile
                request.asOf = asOf.message
                for decision in engine.screen(request).decisions where decision.status == .eligible {
                    expected[decision.citation.clauseID, default: 0] += decision.amountFen
                }
            }
            #expect(result.enterprises == 2_499)
            #expect(result.refused == 1)
            #expect(result.firstRefusals.first?.message.hasPrefix("profiles[1234]") == true)
            #expect(result.firstRefusals.first?.message.contains("profile.credit_code") == true)
            #expect(Dictionary(uniqueKeysWithValues: result.clauses.map { ($0.clauseID, $0.amountFen) }) == expected)
            #expect(result.totalFen == expected.values.reduce(0, +))
            #expect(result.totalFen > 0)
            #expect(result.catalogRevision == engine.catalog.revision)

            // No date in the first message: invalidArgument naming as_of; the service goes on serving.
            let refusal = await #expect(throws: RPCError.self) {
                let _: Jiaxing_Benefits_V1_ForecastResult = try await client.clientStreaming(
                    EligibilityMethods.forecast
                ) { writer in
                    var message = Jiaxing_Benefits_V1_ForecastRequest()
                    message.profiles = [profiles[0]]
                    try await writer.write(message)
                }
            }
            #expect(refusal?.code == .invalidArgument)
            #expect(refusal?.message.hasPrefix("as_of:") == true)
            let again: Jiaxing_Benefits_V1_ScreeningResult = try await client.unary(
                EligibilityMethods.screen, Self.request(recognition: "greenFactory"))
            #expect(again.totalEligibleFen > 0)
        }
    }

    @Test("a forecast past its profile limit is resourceExhausted naming profiles; the service goes on")
    func forecastLimit() async throws {
        var generator = RandomProfiles(vocabulary: EligibilityAmountsTests.vocabulary, seed: 11)
        let profiles = (0..<150).map { _ in generator.next() }
        try await Self.withMesh(maximumForecastProfiles: 100) { client, _ in
            func forecast(_ count: Int) async throws -> Jiaxing_Benefits_V1_ForecastResult {
                try await client.clientStreaming(EligibilityMethods.forecast) { writer in
                    for start in stride(from: 0, to: count, by: 50) {
                        var message = Jiaxing_Benefits_V1_ForecastRequest()
                        message.asOf = CalendarDate("2023-09-01")!.message
                        message.profiles = Array(profiles[start..<min(start + 50, count)])
                        try await writer.write(message)
                    }
                }
            }
            let over = await #expect(throws: RPCError.self) { _ = try await forecast(150) }
            #expect(over?.code == .resourceExhausted)
            #expect(over?.message.hasPrefix("profiles: at most 100") == true)
            let within = try await forecast(100)
            #expect(within.enterprises == 100)
        }
    }
}
