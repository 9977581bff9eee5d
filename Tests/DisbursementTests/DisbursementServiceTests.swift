import BenefitsAPI
import BenefitsDomain
import CatalogModel
import DisbursementService
import Foundation
import Ledger
import MeshIdentity
import MeshMessages
import MeshPKI
import MeshRPC
import MeshTestSupport
import SQLStore
import Testing

/// The disbursement service over the mesh: who may do what, and events to a consumer group.
@Suite("Disbursement service")
struct DisbursementServiceTests {
    static func withService<Result>(_ body: (Int, Ledger) async throws -> Result) async throws -> Result {
        try await LedgerTests.withLedger { ledger, _ in
            var router = RPCRouter()
            DisbursementHandlers(ledger: ledger, seals: DecisionSealCheck(verifier: TestMesh.sealVerifier())).register(
                into: &router)
            return try await TestMesh.withServer(router: router) { _, port in try await body(port, ledger) }
        }
    }

    static func client(_ port: Int, _ name: String, _ role: PartyRole) -> MeshClient {
        TestMesh.client(port: port, tls: TestMesh.credentials(for: name, role: role))
    }

    @Test("text is bounded again where it is stored: an explanation over 4,000 characters is refused naming it")
    func textLimit() async throws {
        try await Self.withService { port, ledger in
            let gateway = Self.client(port, "gateway", .service)
            defer { Task { await gateway.close() } }
            var request = LedgerTests.request(clause: "jzf-2023-3/3.19b", amount: 150_000_000)
            request.explanation = String(repeating: "释", count: DisbursementHandlers.textLimit.maximumCharacters + 1)
            let refused = await #expect(throws: RPCError.self) {
                let _: Jiaxing_Benefits_V1_PayoutOrder = try await gateway.unary(
                    DisbursementMethods.proposePayout, request)
            }
            #expect(refused?.code == .invalidArgument)
            #expect(refused?.message == "explanation: at most 4000 characters, got 4001")
            let orders = try await ledger.orders(.init())
            #expect(orders.isEmpty)
        }
    }

    @Test(
        "an order's amount is eligibility's signed decision: none, a stranger's, a changed field, an old seal refused naming it"
    )
    func seals() async throws {
        try await Self.withService { port, ledger in
            let gateway = Self.client(port, "gateway", .service)
            defer { Task { await gateway.close() } }
            let request = LedgerTests.request(clause: "jzf-2023-3/3.19b", amount: 150_000_000)
            func refusal(_ request: Jiaxing_Benefits_V1_ProposePayoutRequest) async -> RPCError? {
                await #expect(throws: RPCError.self) {
                    let _: Jiaxing_Benefits_V1_PayoutOrder = try await gateway.unary(
                        DisbursementMethods.proposePayout, request)
                }
            }
            let unsealed = await refusal(request)
            #expect(unsealed?.code == .failedPrecondition)
            #expect(unsealed?.message.hasPrefix("seal: required") == true, "\(unsealed?.message ?? "")")

            let stranger = try CertificateAuthority.create(commonName: "Someone Else's CA").issue(
                commonName: "eligibility", role: .service)
            let strangerSigner = try StatementSigner(
                certificatePEM: stranger.certificatePEM, privateKeyPEM: stranger.privateKeyPEM)
            let foreign = await refusal(TestMesh.sealed(request, signer: strangerSigner))
            #expect(foreign?.message == "seal: the signer's certificate was not issued by the mesh CA")

            let gatewayCredentials = TestMesh.credentials(for: "gateway", role: .service)
            let gatewaySigner = try StatementSigner(
                certificatePEM: gatewayCredentials.certificateChainPEM, privateKeyPEM: gatewayCredentials.privateKeyPEM)
            let selfSealed = await refusal(TestMesh.sealed(request, signer: gatewaySigner))
            #expect(selfSealed?.message == "seal: signed by service/gateway, not by the eligibility service")

            // Each field changed after sealing is named; a statement changed under its signature is not read.
            let sealed = TestMesh.sealed(request)
            var changes: [(String, Jiaxing_Benefits_V1_ProposePayoutRequest)] = []
            var more = sealed
            more.amountFen = 300_000_000
            changes.append(("amount_fen 300000000, but eligibility computed 150000000", more))
            var otherClause = sealed
            otherClause.clauseID = "jzf-2023-3/3.19a"
            changes.append(("clause_id jzf-2023-3/3.19a, but eligibility decided jzf-2023-3/3.19b", otherClause))
            var otherSubject = sealed
            otherSubject.subject = "greenFactory/national/2023-03-01#2"
            changes.append(
                (
                    "subject greenFactory/national/2023-03-01#2, but eligibility decided it for greenFactory/national/2023-03-01",
                    otherSubject
                ))
            var otherYear = sealed
            otherYear.period = 2024
            changes.append(("period 2024, but eligibility decided it for 2023", otherYear))
            var otherCounty = sealed
            otherCounty.county = .haining
            changes.append(("county haining, but the enterprise screened is in nanhu", otherCounty))
            var otherEnterprise = sealed
            otherEnterprise.creditCode = CreditCode.completing("91330402MA2D00009")!.value
            changes.append(
                (
                    "credit_code \(otherEnterprise.creditCode), but eligibility decided for \(request.creditCode)",
                    otherEnterprise
                ))
            for (difference, changed) in changes {
                let refused = await refusal(changed)
                #expect(refused?.code == .failedPrecondition)
                #expect(
                    refused?.message == "seal: the proposal is not what eligibility decided: \(difference)",
                    "\(refused?.message ?? "")")
            }
            var rewritten = sealed
            var statement = try Jiaxing_Benefits_V1_DecisionStatement(serializedBytes: sealed.seal.statement)
            statement.amountFen = 300_000_000
            rewritten.seal.statement = try statement.serializedBytes()
            rewritten.amountFen = 300_000_000
            let forged = await refusal(rewritten)
            #expect(forged?.message == "seal: the signature does not match the statement")

            let old = await refusal(TestMesh.sealed(request, at: Date().addingTimeInterval(-3_600)))
            #expect(old?.message.contains("more than") == true, "\(old?.message ?? "")")

            #expect(try await ledger.orders(.init()).isEmpty)
            _ = try await ledger.openFund(documentID: "jzf-2023-3", year: 2023, budgetFen: 1_000_000_000)
            let order: Jiaxing_Benefits_V1_PayoutOrder = try await gateway.unary(
                DisbursementMethods.proposePayout, sealed)
            #expect(order.amountFen == 150_000_000)
            #expect(order.status == .pending)
        }
    }

    @Test("counties propose for their own enterprises, departments approve their own clauses, the operator opens funds")
    func roles() async throws {
        try await Self.withService { port, _ in
            let nanhu = Self.client(port, "nanhu", .county)
            let operatorClient = Self.client(port, "operator", .operator)
            let keji = Self.client(port, "keji", .department)
            let jingxin = Self.client(port, "jingxin", .department)
            defer { Task { for client in [nanhu, operatorClient, keji, jingxin] { await client.close() } } }

            var fund = Jiaxing_Benefits_V1_OpenFundRequest()
            fund.documentID = "jzf-2023-3"
            fund.year = 2023
            fund.budgetFen = 1_000_000_000
            let countyFund = await #expect(throws: RPCError.self) {
                let _: Jiaxing_Benefits_V1_FundBalance = try await nanhu.unary(DisbursementMethods.openFund, fund)
            }
            #expect(countyFund?.code == .permissionDenied)
            let opened: Jiaxing_Benefits_V1_FundBalance = try await operatorClient.unary(
                DisbursementMethods.openFund, fund)
            #expect(opened.availableFen == 1_000_000_000)

            var request = LedgerTests.request(clause: "jzf-2023-3/3.19b", amount: 150_000_000)
            request.county = .haining
            let elsewhere = await #expect(throws: RPCError.self) {
                let _: Jiaxing_Benefits_V1_PayoutOrder = try await nanhu.unary(
                    DisbursementMethods.proposePayout, request)
            }
            #expect(elsewhere?.code == .permissionDenied)
            request.county = .nanhu
            let order: Jiaxing_Benefits_V1_PayoutOrder = try await nanhu.unary(
                DisbursementMethods.proposePayout, TestMesh.sealed(request))
            #expect(order.status == .pending)

            var decide = Jiaxing_Benefits_V1_DecideRequest()
            decide.orderID = order.id
            let wrongDepartment = await #expect(throws: RPCError.self) {
                let _: Jiaxing_Benefits_V1_PayoutOrder = try await keji.unary(DisbursementMethods.approve, decide)
            }
            #expect(wrongDepartment?.code == .permissionDenied)
            let posted: Jiaxing_Benefits_V1_PayoutOrder = try await jingxin.unary(DisbursementMethods.approve, decide)
            #expect(posted.status == .posted)
            #expect(posted.decidedBy == "department/jingxin")

            var bad = request
            bad.amountFen = 0
            let badAmount = await #expect(throws: RPCError.self) {
                let _: Jiaxing_Benefits_V1_PayoutOrder = try await nanhu.unary(
                    DisbursementMethods.proposePayout, TestMesh.sealed(bad))
            }
            #expect(badAmount?.code == .invalidArgument)
            #expect(badAmount?.message.hasPrefix("amount_fen:") == true)

            var list = Jiaxing_Benefits_V1_ListOrdersRequest()
            list.county = .haining
            let otherCounty = await #expect(throws: RPCError.self) {
                let _: Jiaxing_Benefits_V1_ListOrdersResponse = try await nanhu.unary(
                    DisbursementMethods.listOrders, list)
            }
            #expect(otherCounty?.code == .permissionDenied)
            let mine: Jiaxing_Benefits_V1_ListOrdersResponse = try await nanhu.unary(
                DisbursementMethods.listOrders, Jiaxing_Benefits_V1_ListOrdersRequest())
            #expect(mine.orders.map(\.id) == [order.id])
        }
    }

    @Test("a consumer group receives every event once it subscribes, and acknowledges them")
    func subscription() async throws {
        try await Self.withService { port, ledger in
            _ = try await ledger.openFund(documentID: "jzf-2023-3", year: 2023, budgetFen: 1_000_000_000)
            for index in 0..<5 {
                _ = try await ledger.propose(
                    LedgerTests.request(
                        clause: "jzf-2023-3/3.19b", amount: 20_000_000,
                        creditCode: CreditCode.completing("9133040" + String(format: "%010d", index))!.value))
            }
            let notification = Self.client(port, "notification", .service)
            defer { Task { await notification.close() } }
            var subscribe = Jiaxing_Benefits_V1_SubscribeRequest()
            subscribe.group = "notification"
            subscribe.consumer = "replica-0"
            let sequences = try await notification.serverStreaming(
                DisbursementMethods.subscribe, subscribe, options: CallOptions(timeout: .seconds(10))
            ) {
                (events: ResponseStream<Jiaxing_Benefits_V1_DisbursementEvent>) in
                var sequences: [Int64] = []
                for try await event in events {
                    #expect(event.type == "proposed")
                    sequences.append(event.sequence)
                    if sequences.count == 5 { break }
                }
                return sequences
            }
            var acknowledge = Jiaxing_Benefits_V1_AcknowledgeRequest()
            acknowledge.group = "notification"
            acknowledge.sequences = sequences
            let acknowledged: Jiaxing_Benefits_V1_AcknowledgeResponse = try await notification.unary(
                DisbursementMethods.acknowledge, acknowledge)
            #expect(acknowledged.acknowledged == 5)
            #expect(
                try await ledger.outbox.lease(
                    group: "notification", consumer: "replica-1", maximumInFlight: 10, leaseMillis: 1_000
                ).isEmpty)
            // A county may not read the bus.
            let county = Self.client(port, "nanhu", .county)
            defer { Task { await county.close() } }
            let refused = await #expect(throws: RPCError.self) {
                _ = try await county.serverStreaming(DisbursementMethods.subscribe, subscribe) {
                    (events: ResponseStream<Jiaxing_Benefits_V1_DisbursementEvent>) in
                    for try await _ in events {}
                    return 0
                }
            }
            #expect(refused?.code == .permissionDenied)
        }
    }
}
