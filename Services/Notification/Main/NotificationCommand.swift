import ArgumentParser
import CatalogClient
import CatalogModel
import Foundation
import Logging
import MeshRPC
import NIOConcurrencyHelpers
import NotificationCore
import NotificationService
import SQLStore
import ServiceKit
import ServiceLifecycle

/// The notification service: tells enterprises, counties and departments what the ledger did, once.
@main
struct NotificationCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "notification", abstract: "The notification service of the Jiaxing benefits mesh.",
        discussion: ServiceSettings.discussion, version: MeshRelease.version)

    @OptionGroup var options: ServiceOptions

    @Option(
        help: "Notices and deliveries: a SQLite file (created on first use), or postgres://user@host:port/database.")
    var database = ".mesh/state/notification.sqlite"

    @Option(help: "Notice templates.")
    var templates = "Services/Notification/Templates/notices.json"

    @Option(help: "Address of the catalog service.")
    var catalogHost = "127.0.0.1"

    @Option(help: "Port of the catalog service.")
    var catalogPort = 7410

    @Option(help: "Address of the disbursement service.")
    var disbursementHost = "127.0.0.1"

    @Option(help: "Port of the disbursement service.")
    var disbursementPort = 7430

    @Option(help: "Attempts before a webhook delivery is dead-lettered.")
    var maximumAttempts = 10

    @Option(help: "Seconds a replica holds a webhook delivery it attempts; after a crash, a replica retries it then.")
    var deliveryClaimSeconds = 60

    @Option(
        help: "PEM file of certificates trusted for webhook endpoints besides the system's (e.g. a county's own CA).")
    var webhookTrustRoots: String?

    @Option(
        help:
            "A host (name or address) webhooks may reach although it is not public (loopback, private, link-local); repeatable."
    )
    var webhookAllowHost: [String] = []

    @Option(
        help:
            "File of the 32-byte key that seals webhook secrets at rest (created if missing). Default for a SQLite database: its path with .key; replicas sharing PostgreSQL must name one file they share."
    )
    var secretsKey: String?

    mutating func run() async throws {
        let settings = try await ServiceSettings.load()
        try self.configure(from: settings)
        FileModes.restrictToOwner()
        let logger = self.options.logger(label: "jiaxing.notification")
        let identity = self.options.identity ?? "notification"
        var keyPath = self.secretsKey
        if keyPath == nil, !self.database.hasPrefix("postgres") { keyPath = self.database + ".key" }
        let sealer = try keyPath.map { try SecretSealer.loadOrCreate(path: $0) }
        if sealer == nil {
            logger.warning("webhook secrets are stored unsealed: name a --secrets-key file the replicas share")
        }
        let webhooks = try WebhookClient(
            additionalTrustRootsPEM: self.webhookTrustRoots.map { try String(contentsOfFile: $0, encoding: .utf8) },
            addresses: WebhookAddressPolicy(allowedHosts: Set(self.webhookAllowHost)))
        let database = try await DatabaseOption.connect(
            self.database, password: settings.secret("database-password"), logger: logger)
        // The pool's connections are served (PostgreSQL) for as long as the service runs.
        try await database.running {
            let center = Notifier(
                database: database,
                templates: try NoticeTemplates.load(path: self.templates),
                webhooks: webhooks,
                policy: .init(
                    maximumAttempts: self.maximumAttempts, claimMillis: Int64(self.deliveryClaimSeconds) * 1000),
                sealer: sealer
            )
            try await center.migrate()
            let catalog = NIOLockedValueBox<Catalog?>(nil)
            let catalogClient = MeshClient(
                configuration: .init(
                    host: self.catalogHost, port: self.catalogPort,
                    tls: try TLSFiles.load(
                        directory: self.options.certificates, name: identity, serverHostname: "catalog")),
                logger: logger)
            let ledgerClient = MeshClient(
                configuration: .init(
                    host: self.disbursementHost, port: self.disbursementPort,
                    tls: try TLSFiles.load(
                        directory: self.options.certificates, name: identity, serverHostname: "disbursement")),
                logger: logger)
            var router = RPCRouter()
            NotificationHandlers(center: center).register(into: &router)
            // The webhooks' connections are closed once every service has stopped, however the run ends.
            do {
                try await ServiceRunner.run(
                    name: "notification", options: self.options, router: router,
                    services: [
                        CatalogSubscription(
                            client: catalogClient, current: { catalog.withLockedValue { $0?.revision } }, logger: logger
                        ) { loaded in catalog.withLockedValue { $0 = loaded } },
                        LedgerEventConsumer(
                            client: ledgerClient, center: center, catalog: { catalog.withLockedValue { $0 } },
                            consumer: "\(identity)-\(ProcessInfo.processInfo.hostName)-\(self.options.port)",
                            logger: logger),
                        WebhookDeliverer(center: center, logger: logger),
                        DeliveryGauges(center: center, logger: logger),
                    ]
                        + Self.listeners(database, logger: logger)
                )
            } catch {
                await webhooks.shutdown()
                throw error
            }
            await webhooks.shutdown()
        }
    }

    /// Where replicas share PostgreSQL, each follows the others' notices (`LISTEN`).
    static func listeners(_ database: any SQLDatabase, logger: Logger) -> [any Service] {
        guard let postgres = database as? PostgresDatabase else { return [] }
        return [ChangeListener(database: postgres, channel: Notifier.noticesChannel, logger: logger)]
    }
}
