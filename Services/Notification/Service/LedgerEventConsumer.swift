import BenefitsAPI
import CatalogModel
import Logging
import MeshMessages
import MeshRPC
import NotificationCore
import ServiceLifecycle

/// Follows the disbursement service's events as a member of a consumer group: records each event's notices
/// (durably, once), then acknowledges it. An event redelivered after a crash adds nothing.
public struct LedgerEventConsumer: Service {
    let client: MeshClient
    let center: Notifier
    let catalog: @Sendable () -> Catalog?
    let group: String
    let consumer: String
    /// How long an event stays leased to this replica before the ledger offers it to another (after a crash).
    let leaseSeconds: Int32
    let logger: Logger

    public init(client: MeshClient, center: Notifier, catalog: @escaping @Sendable () -> Catalog?, group: String = "notification", consumer: String, leaseSeconds: Int32 = 30, logger: Logger) {
        self.client = client
        self.center = center
        self.catalog = catalog
        self.group = group
        self.consumer = consumer
        self.leaseSeconds = leaseSeconds
        self.logger = logger
    }

    public func run() async throws {
        var backoff = Duration.milliseconds(100)
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            if self.catalog() == nil {
                try? await Task.sleep(for: .milliseconds(100))
                continue
            }
            do {
                try await cancelWhenGracefulShutdown { try await self.follow() }
                backoff = .milliseconds(100)
            } catch {
                if Task.isCancelled || Task.isShuttingDownGracefully { return }
                self.logger.warning("ledger events unavailable; retrying", metadata: ["error": "\(error)", "in": "\(backoff)"])
            }
            try? await Task.sleep(for: backoff)
            backoff = min(backoff * 2, .seconds(5))
        }
    }

    private func follow() async throws {
        var request = Jiaxing_Benefits_V1_SubscribeRequest()
        request.group = self.group
        request.consumer = self.consumer
        request.maxInFlight = 64
        request.leaseSeconds = self.leaseSeconds
        let subscribe = request
        try await self.client.serverStreaming(DisbursementMethods.subscribe, subscribe) { (events: ResponseStream<Jiaxing_Benefits_V1_DisbursementEvent>) in
            for try await event in events {
                if self.center.templates.knows(event: event.type) {
                    try await self.center.record(event, catalog: self.catalog())
                } else {
                    // A kind this replica has no notice for (a newer ledger, say): acknowledged, never blocking.
                    self.logger.warning("ledger event of an unknown kind acknowledged without a notice", metadata: ["type": "\(event.type)", "sequence": "\(event.sequence)"])
                }
                var acknowledge = Jiaxing_Benefits_V1_AcknowledgeRequest()
                acknowledge.group = self.group
                acknowledge.sequences = [event.sequence]
                let _: Jiaxing_Benefits_V1_AcknowledgeResponse = try await self.client.unary(DisbursementMethods.acknowledge, acknowledge, options: CallOptions(timeout: .seconds(5)))
            }
        }
    }
}

/// Delivers due webhooks, retrying with backoff until they are delivered or dead-lettered.
public struct WebhookDeliverer: Service {
    let center: Notifier
    let interval: Duration
    let logger: Logger

    public init(center: Notifier, interval: Duration = .milliseconds(100), logger: Logger) {
        self.center = center
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                if try await self.center.deliverDue() == 0 { try? await Task.sleep(for: self.interval) }
            } catch {
                self.logger.error("delivery pass failed", metadata: ["error": "\(error)"])
                try? await Task.sleep(for: self.interval)
            }
        }
    }
}
