import BenefitsAPI
import BenefitsDomain
import DisbursementService
import Foundation
import Ledger
import MeshRPC
import MeshTestSupport
import NIOConcurrencyHelpers
import NotificationCore
import NotificationService
import SQLStore
import Testing

/// Two notification replicas sharing one PostgreSQL database, following a real disbursement server's event
/// stream as one consumer group, delivering to a real HTTPS receiver.
@Suite("Notification replicas")
struct NotificationReplicaTests {
    struct Replica {
        let center: Notifier
        let task: Task<Void, Never>
    }

    static func startReplica(name: String, databaseName: String, disbursementPort: Int, postgres: TemporaryPostgres)
        throws -> Replica
    {
        let database = try PostgresDatabase(
            host: "127.0.0.1", port: postgres.port, username: "postgres", password: nil, database: databaseName,
            logger: TestMesh.logger)
        let center = Notifier(
            database: database, templates: NotificationTests.templates, webhooks: NotificationTests.webhooks,
            policy: .init(initialDelayMillis: 50, claimMillis: 2_000))
        let client = TestMesh.client(port: disbursementPort, tls: TestMesh.serviceCredentials(name))
        let consumer = LedgerEventConsumer(
            client: client, center: center, catalog: { NotificationTests.catalog }, consumer: name, leaseSeconds: 2,
            logger: TestMesh.logger)
        let deliverer = WebhookDeliverer(center: center, interval: .milliseconds(20), logger: TestMesh.logger)
        let task = Task {
            await withDiscardingTaskGroup { group in
                // The replica's connections go with it, as a crash would take them.
                group.addTask { await database.run() }
                group.addTask { try? await consumer.run() }
                group.addTask { try? await deliverer.run() }
            }
            await client.close()
        }
        return Replica(center: center, task: task)
    }

    /// Polls until `condition` holds or `seconds` pass.
    static func eventually(_ seconds: Double, _ condition: () async throws -> Bool) async throws -> Bool {
        let end = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        while ContinuousClock.now < end {
            if try await condition() { return true }
            try await Task.sleep(for: .milliseconds(50))
        }
        return try await condition()
    }

    @Test(
        "two replicas on PostgreSQL: every event noticed once and every webhook sent once, through a replica stopped mid-stream"
    )
    func twoReplicas() async throws {
        let postgres = try await TemporaryPostgres.shared()
        let ledger = Ledger(database: try await postgres.database(), catalog: { NotificationTests.catalog })
        try await ledger.migrate()
        _ = try await ledger.openFund(documentID: "jzf-2023-3", year: 2023, budgetFen: 100_000_000_000)
        var router = RPCRouter()
        DisbursementHandlers(ledger: ledger, seals: DecisionSealCheck(verifier: TestMesh.sealVerifier())).register(
            into: &router)
        let disbursement = try await TestMesh.RunningServer(router: router)
        defer { Task { await disbursement.stop() } }
        let port = try await disbursement.port()

        let notices = try await postgres.makeDatabase()
        let receiver = try NotificationTests.makeReceiver()
        try await receiver.start()
        defer { Task { await receiver.stop() } }

        let first = try Self.startReplica(
            name: "notification-a", databaseName: notices, disbursementPort: port, postgres: postgres)
        try await first.center.migrate()
        let second = try Self.startReplica(
            name: "notification-b", databaseName: notices, disbursementPort: port, postgres: postgres)
        try await second.center.migrate()
        try await first.center.registerWebhook(
            county: "nanhu", url: "https://127.0.0.1:\(receiver.port)/hook", secrets: WebhookSignature.makeSecret())

        // 60 orders for 60 enterprises; the first replica is stopped (as a crash would) a third of the way in.
        let orders = 60
        try await ledger.running {
            for index in 0..<orders {
                _ = try await ledger.propose(NotificationTests.award(index, series: "91330402MA2C"))
                if index == orders / 3 { first.task.cancel() }
            }
        }

        // Each proposal tells the enterprise, the county and the responsible department; the county is told by
        // webhook too.
        let expectedNotices = orders * 3
        // Arrived at the receiver and recorded as delivered: a replica stopped between a POST and the write of its
        // outcome leaves that delivery pending (the other replica sends it again), so stopping the second replica
        // before its last outcomes are written would leave some pending for good.
        let arrived = try await Self.eventually(60) {
            let inbox = try await second.center.inbox(audience: "county/nanhu", limit: 1_000)
            let delivered = try await second.center.deliveries(status: .delivered, limit: 1_000)
            return Set(receiver.requests.compactMap { $0.headers["webhook-id"] }).count >= orders
                && inbox.count >= orders && delivered.count >= orders
        }
        #expect(arrived, "webhooks \(receiver.requests.count) of \(orders)")
        try await Task.sleep(for: .milliseconds(500))  // anything sent twice would arrive by now
        second.task.cancel()

        // A POST cut off by the stop may have reached the receiver before its outcome was written; the other
        // replica then sends it again with the same webhook-id, which receivers dedupe on (Standard Webhooks).
        // Only those in flight at the stop (one pass) may repeat.
        let ids = receiver.requests.compactMap { $0.headers["webhook-id"] }
        #expect(Set(ids).count == orders)
        #expect(ids.count <= orders + Notifier.deliveriesPerPass, "\(ids.count) requests for \(Set(ids).count) notices")
        // Read from a connection of the test's own: the stopped replicas' connections went with them.
        let reader = Notifier(
            database: try await postgres.database(notices), templates: NotificationTests.templates,
            webhooks: NotificationTests.webhooks)
        var recorded = 0
        for audience in ["county/nanhu", "department/jingxin"] {
            recorded += try await reader.inbox(audience: audience, limit: 1_000).count
        }
        for index in 0..<orders {
            recorded += try await reader.inbox(
                audience: "enterprise/" + NotificationTests.award(index, series: "91330402MA2C").creditCode,
                limit: 10
            ).count
        }
        #expect(recorded == expectedNotices)
        #expect(try await reader.deliveries(status: .delivered, limit: 1_000).count == orders)
        _ = await first.task.value
        _ = await second.task.value
    }
}
