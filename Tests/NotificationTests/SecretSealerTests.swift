import Crypto
import Foundation
import MeshTestSupport
import NotificationCore
import SQLStore
import Testing

/// Webhook secrets are sealed at rest: the database alone does not let anyone sign as the city.
@Suite("Sealed webhook secrets")
struct SecretSealerTests {
    @Test("the table holds the sealed form only; deliveries are still signed with the secret; an old row is read")
    func sealedAtRest() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sealed-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let sealer = try SecretSealer.loadOrCreate(path: "\(folder)/secrets.key")
        let key = try FileManager.default.attributesOfItem(atPath: "\(folder)/secrets.key")
        #expect((key[.posixPermissions] as? Int) == 0o600)
        let database = try SQLiteDatabase(path: "\(folder)/notices.sqlite")
        let receiver = try NotificationTests.makeReceiver()
        try await receiver.start()
        defer { Task { await receiver.stop() } }
        let center = Notifier(
            database: database, templates: NotificationTests.templates, webhooks: NotificationTests.webhooks,
            sealer: sealer)
        try await center.migrate()
        let secret = WebhookSignature.makeSecret()
        try await center.registerWebhook(
            county: "nanhu", url: "https://127.0.0.1:\(receiver.port)/hook", secrets: secret)
        let stored = try await database.read { tx in
            try await tx.queryOne("SELECT secrets FROM webhooks WHERE county = 'nanhu'", [])
        }
        let column = try #require(stored?.text(0))
        #expect(column.hasPrefix("sealed:v1:"))
        #expect(!column.contains(secret) && !column.contains(String(secret.dropFirst("whsec_".count))))

        _ = try await center.record(
            NotificationTests.event("approved", sequence: 1), catalog: NotificationTests.catalog)
        #expect(try await center.deliverDue(timeout: .seconds(30)) == 1)
        let request = try #require(receiver.requests.first)
        #expect(
            WebhookSignature.verify(
                id: try #require(request.headers["webhook-id"]),
                timestamp: try #require(request.headers["webhook-timestamp"].flatMap { Int64($0) }),
                body: request.body, signatureHeader: try #require(request.headers["webhook-signature"]),
                secrets: [secret]))

        // A row written before sealing is read as it is.
        #expect(try sealer.open(secret) == secret)
        // Another key cannot open it.
        let other = SecretSealer(key: SymmetricKey(size: .bits256))
        #expect(throws: (any Error).self) { _ = try other.open(column) }
        // A key file of the wrong size is refused, naming it.
        FileManager.default.createFile(atPath: "\(folder)/short.key", contents: Data([1, 2, 3]))
        let short = #expect(throws: SealingError.self) {
            _ = try SecretSealer.loadOrCreate(path: "\(folder)/short.key")
        }
        #expect(short?.description.contains("32-byte key") == true)
    }
}
