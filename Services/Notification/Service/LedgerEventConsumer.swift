import BenefitsAPI
import CatalogModel
import Logging
import MeshMessages
import MeshRPC
import NIOConcurrencyHelpers
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

    public init(
        client: MeshClient, center: Notifier, catalog: @escaping @Sendable () -> Catalog?,
        group: String = "notification", consumer: String, leaseSeconds: Int32 = 30, logger: Logger
    ) {
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
                self.logger.warning(
                    "ledger events unavailable; retrying", metadata: ["error": "\(error)", "in": "\(backoff)"])
            }
            try? await Task.sleep(for: backoff)
            backoff = min(backoff * 2, .seconds(5))
        }
    }

    private func follow() async throws {
        var request = Jiaxing_Benefits_V1_SubscribeRequest()
        request.group = self.group
        request.consumer = self.consumer
        request.maxInFlight = Int32(Self.maximumInFlight)
        request.leaseSeconds = self.leaseSeconds
        let subscribe = request
        try await self.client.serverStreaming(DisbursementMethods.subscribe, subscribe) {
            (events: ResponseStream<Jiaxing_Benefits_V1_DisbursementEvent>) in
            // The stream is read in one task; another records what has arrived in batches (one transaction and one
            // acknowledgement for all the events that came in while the last batch was being recorded).
            let arrived = NIOLockedValueBox<[Jiaxing_Benefits_V1_DisbursementEvent]>([])
            let (signals, signal) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    defer { signal.finish() }
                    for try await event in events {
                        arrived.withLockedValue { $0.append(event) }
                        signal.yield()
                    }
                }
                group.addTask {
                    func take() -> [Jiaxing_Benefits_V1_DisbursementEvent] {
                        arrived.withLockedValue { waiting in
                            let batch = Array(waiting.prefix(Self.maximumBatch))
                            waiting.removeFirst(batch.count)
                            return batch
                        }
                    }
                    for await _ in signals {
                        while case let batch = take(), !batch.isEmpty { try await self.handle(batch) }
                    }
                    while case let batch = take(), !batch.isEmpty { try await self.handle(batch) }
                }
                // The first to fail ends both: the group's scope cancels the other.
                while try await group.next() != nil {}
            }
        }
    }

    /// Events recorded in one transaction at most, and kept in flight by the subscription: a campaign posts
    /// tens of thousands of orders at once, and each batch is a transaction here and an acknowledgement there.
    static let maximumBatch = 256

    /// Events the subscription keeps in flight: several batches, so the ledger streams the next while this
    /// replica records one and acknowledges it (with one batch in flight, each waited for the last's ack).
    static let maximumInFlight = 4 * Self.maximumBatch

    /// Records a batch's notices durably, then acknowledges the batch: a crash in between redelivers it, and
    /// recording it again adds nothing.
    private func handle(_ batch: [Jiaxing_Benefits_V1_DisbursementEvent]) async throws {
        let known = batch.filter { self.center.templates.knows(event: $0.type) }
        for event in batch where !self.center.templates.knows(event: event.type) {
            // A kind this replica has no notice for (a newer ledger, say): acknowledged, never blocking.
            self.logger.warning(
                "ledger event of an unknown kind acknowledged without a notice",
                metadata: ["type": "\(event.type)", "sequence": "\(event.sequence)"])
        }
        if !known.isEmpty { try await self.center.record(known, catalog: self.catalog()) }
        var acknowledge = Jiaxing_Benefits_V1_AcknowledgeRequest()
        acknowledge.group = self.group
        acknowledge.sequences = batch.map(\.sequence)
        let _: Jiaxing_Benefits_V1_AcknowledgeResponse = try await self.client.unary(
            DisbursementMethods.acknowledge, acknowledge, options: CallOptions(timeout: .seconds(5)))
    }
}

/// Delivers due webhooks, retrying with backoff until they are delivered or dead-lettered.
public struct WebhookDeliverer: Service {
    let center: Notifier
    let interval: Duration
    let logger: Logger

    /// `interval`: how long an idle deliverer waits before it looks again when nothing new was recorded, for
    /// retries falling due; new notices wake it at once.
    public init(center: Notifier, interval: Duration = .milliseconds(250), logger: Logger) {
        self.center = center
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        let signal = self.center.noticeSignal
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                let seen = signal.generation
                if try await self.center.deliverDue() == 0 {
                    await signal.wait(after: seen, timeout: self.interval)
                }
            } catch {
                self.logger.error("delivery pass failed", metadata: ["error": "\(error)"])
                try? await Task.sleep(for: self.interval)
            }
        }
    }
}
