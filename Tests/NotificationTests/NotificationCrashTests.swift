import BenefitsAPI
import BenefitsDomain
import Foundation
import MeshHarness
import MeshMessages
import MeshPKI
import MeshRPC
import MeshTestSupport
import NotificationCore
import Testing

/// Kills the real `notification` process with SIGKILL while it delivers webhooks, restarts it, and checks that
/// every notice was recorded once and every webhook arrived.
@Suite("Notification crash safety")
struct NotificationCrashTests {
    @Test("SIGKILL mid-delivery then restart: no notice lost or doubled, every webhook delivered")
    func killMidDelivery() async throws {
        let folder = try TemporaryMeshFolder(parties: [
            ("catalog", .service), ("disbursement", .service), ("notification", .service), ("nanhu", .county),
            ("operator", .operator), ("webhooks", .client), ("gateway", .service), ("eligibility", .service),
        ])
        defer { folder.remove() }
        let budgets = "\(folder.path)/budgets.json"
        try #"[{"documentId": "jzf-2023-3", "year": 2023, "budgetFen": 100000000000}]"#.write(
            toFile: budgets, atomically: true, encoding: .utf8)
        let catalog = MeshProcess(
            name: "catalog", port: MeshProcess.freePort(),
            arguments: [
                "--certificates", folder.certificates, "--data", "\(TestMesh.repositoryRoot)/Services/Catalog/Data",
                "--log-level", "warning",
            ], log: "\(folder.path)/catalog.log")
        let disbursement = MeshProcess(
            name: "disbursement", port: MeshProcess.freePort(),
            arguments: [
                "--certificates", folder.certificates, "--catalog-port", "\(catalog.port)", "--database",
                "\(folder.path)/ledger.sqlite", "--budgets", budgets, "--log-level", "warning",
            ], log: "\(folder.path)/disbursement.log")
        let notification = MeshProcess(
            name: "notification", port: MeshProcess.freePort(),
            arguments: [
                "--certificates", folder.certificates, "--catalog-port", "\(catalog.port)", "--disbursement-port",
                "\(disbursement.port)",
                "--database", "\(folder.path)/notices.sqlite", "--webhook-trust-roots", "\(folder.certificates)/ca.pem",
                "--webhook-allow-host", "127.0.0.1",
                "--delivery-claim-seconds", "2", "--log-level", "warning",
            ], log: "\(folder.path)/notification.log")
        try catalog.start()
        defer { catalog.stop() }
        try await catalog.waitUntilServing(tls: try folder.tls("operator", serverHostname: "catalog"))
        try disbursement.start()
        defer { disbursement.stop() }
        try await disbursement.waitUntilServing(tls: try folder.tls("operator", serverHostname: "disbursement"))
        try notification.start()
        defer { notification.stop() }
        try await notification.waitUntilServing(tls: try folder.tls("operator", serverHostname: "notification"))

        let receiver = try WebhookReceiver(
            certificatePEM: String(contentsOfFile: "\(folder.certificates)/webhooks.pem", encoding: .utf8),
            privateKeyPEM: String(contentsOfFile: "\(folder.certificates)/webhooks-key.pem", encoding: .utf8)
        )
        try await receiver.start()
        defer { Task { await receiver.stop() } }
        // The services answer the gateway only: the test plays it, acting for the county and the operator.
        let county = MeshClient(
            configuration: .init(
                port: notification.port, tls: try folder.tls("gateway", serverHostname: "notification")),
            logger: TestMesh.logger)
        defer { Task { await county.close() } }
        var register = Jiaxing_Benefits_V1_RegisterWebhookRequest()
        register.url = "https://127.0.0.1:\(receiver.port)/hook"
        register.secrets = WebhookSignature.makeSecret()
        let _: Jiaxing_Benefits_V1_RegisterWebhookResponse = try await county.unary(
            NotificationMethods.registerWebhook, register, options: .onBehalfOf("county/nanhu"))

        // Propose 120 orders and, while they are being proposed, kill the notification service once a third of
        // their webhooks have arrived: deliveries keep pace with proposals, so a kill after the last proposal
        // could find every webhook delivered already.
        let orders = 120
        let signer = try folder.signer()
        let ledgerClient = MeshClient(
            configuration: .init(
                port: disbursement.port, tls: try folder.tls("gateway", serverHostname: "disbursement")),
            logger: TestMesh.logger)
        defer { Task { await ledgerClient.close() } }
        func propose(_ index: Int) async throws {
            let request = NotificationTests.award(index, series: "91330402MA2D")
            let _: Jiaxing_Benefits_V1_PayoutOrder = try await ledgerClient.unary(
                DisbursementMethods.proposePayout, TestMesh.sealed(request, signer: signer),
                options: .onBehalfOf("county/nanhu"))
        }
        func arrived() -> Set<String> { Set(receiver.requests.compactMap { $0.headers["webhook-id"] }) }
        let atKill = try await withThrowingTaskGroup(of: Int?.self) { group in
            group.addTask {
                for index in 0..<orders { try await propose(index) }
                return nil
            }
            group.addTask {
                let started = ContinuousClock.now
                while arrived().count < orders / 3, ContinuousClock.now - started < .seconds(60) {
                    try await Task.sleep(for: .milliseconds(5))
                }
                let atKill = arrived().count
                notification.kill()
                return atKill
            }
            var atKill = 0
            for try await result in group { if let result { atKill = result } }
            return atKill
        }
        #expect(atKill >= orders / 3)
        #expect(atKill < orders, "every webhook had arrived before the kill; the test proved nothing")

        try notification.start()
        try await notification.waitUntilServing(tls: try folder.tls("operator", serverHostname: "notification"))
        let operatorClient = MeshClient(
            configuration: .init(
                port: notification.port, tls: try folder.tls("gateway", serverHostname: "notification")),
            logger: TestMesh.logger)
        defer { Task { await operatorClient.close() } }
        var list = Jiaxing_Benefits_V1_ListDeliveriesRequest()
        list.status = .delivered
        list.limit = 1000
        // A delivery the killed process had claimed is retried once its claim (2 s here) lapses.
        let restarted = ContinuousClock.now
        var delivered = Jiaxing_Benefits_V1_ListDeliveriesResponse()
        while ContinuousClock.now - restarted < .seconds(60) {
            delivered = try await operatorClient.unary(
                NotificationMethods.listDeliveries, list, options: .onBehalfOf("operator/operator"))
            if delivered.deliveries.count >= orders { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(delivered.deliveries.count == orders)
        try await Task.sleep(for: .milliseconds(300))

        let ids = receiver.requests.compactMap { $0.headers["webhook-id"] }
        #expect(Set(ids).count == orders, "webhooks for \(Set(ids).count) of \(orders) notices")
        // Only what the killed pass had sent but not yet recorded can repeat (same webhook-id; receivers dedupe
        // on it): at most one pass's deliveries.
        #expect(
            ids.count <= orders + Notifier.deliveriesPerPass, "\(ids.count) requests for \(Set(ids).count) notices")
        var inbox = Jiaxing_Benefits_V1_ListInboxRequest()
        inbox.audience = "county/nanhu"
        inbox.limit = 500
        let notices: Jiaxing_Benefits_V1_ListInboxResponse = try await operatorClient.unary(
            NotificationMethods.listInbox, inbox, options: .onBehalfOf("operator/operator"))
        #expect(notices.notices.count == orders)
        #expect(Set(notices.notices.map(\.id)).count == orders)
        #expect(notification.stop() == 0)
    }
}
