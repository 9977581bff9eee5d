import BenefitsDomain
import CatalogModel
import Foundation
import Ledger
import NIOConcurrencyHelpers
import NotificationCore
import SQLStore

/// The money path under faults drawn from one seed: the real ledger (its pipelined group commit and its
/// outbox) and the real notifier (notices made from the outbox's events by a consumer group, webhook
/// deliveries claimed, retried and recorded) on one `FaultyDisk`, driven one step at a time by proposals,
/// approvals, rejections, clawbacks, time passing and expiry, the consumer, and deliveries to county
/// endpoints that take a notice, refuse it, time out or take it and time out (`SimulatedEndpoints`); and by
/// the disk's faults: a power cut at a write numbered from the seed (each power-loss mode), a failed sync,
/// a full disk. After each fault both stores are opened again from what the disk kept. Proposals, decisions
/// and clawbacks go as the gateway sends them: through its `ReplicaBalancer` to two disbursement replicas
/// over a `SimulatedNetwork` that refuses, loses, resets, duplicates and holds up calls, and takes replicas
/// down for a while.
///
/// Every step is checked against what was answered (`LedgerModel`): an answer survives any fault, a call the
/// balancer says was not processed did not happen, the books
/// balance, every order has exactly the events of its history, no event given to the consumer is lost,
/// each event's notices are made once per audience, a delivery recorded as made was taken by its endpoint,
/// and, once the consumer and the deliverer have caught up (the operator replaying what the retry policy gave
/// up on), every event has its notices and every county notice was delivered (`LedgerSimulation+Invariants`).
///
/// The same seed makes the same steps, the same faults at the same writes and the same outcomes: one process,
/// one step at a time, a simulated clock, order ids and retry jitter drawn from the seed. What it does not
/// fix is SQLite's log sync on a thread of its own, which moves when a write becomes durable, not what is
/// written.
public struct LedgerSimulation: Sendable {
    public struct Configuration: Sendable {
        public var seed: UInt64
        public var steps: Int
        /// Enterprises the proposals are for: fewer make more overlaps (就高不重复) and caps.
        public var enterprises: Int = 40
        /// One step in this many is a fault (power cut, failed sync or full disk).
        public var faultEvery: Int = 25
        /// One step in this many takes a disbursement replica down (killed or cut off) for 1 to 30 steps.
        public var replicaDownEvery: Int = 40

        public init(seed: UInt64, steps: Int) {
            self.seed = seed
            self.steps = steps
        }
    }

    /// What a run did.
    public struct Report: Sendable, CustomStringConvertible {
        public var seed: UInt64
        public var steps = 0
        public var answered = 0
        public var refused = 0
        public var unanswered = 0
        public var powerLosses = 0
        public var writesLost = 0
        public var failedSyncs = 0
        public var fullDisks = 0
        public var eventsDelivered = 0
        public var orders = 0
        public var notices = 0
        public var webhooksTaken = 0
        public var webhooksTakenAgain = 0
        public var deadLetters = 0
        public var notTaken = 0
        public var networkFaults = 0
        public var lateArrivals = 0
        /// Bulk approvals that arrived late, each able to take orders proposed after it was sent.
        public var lateBulkApprovals = 0
        public var replicasDown = 0

        public var description: String {
            "seed \(self.seed): \(self.steps) steps, \(self.answered) answered, \(self.refused) refused, \(self.unanswered) cut off by a fault, \(self.notTaken) not taken; \(self.networkFaults) calls failed by the network (\(self.lateArrivals) arriving late, \(self.lateBulkApprovals) of them bulk approvals), \(self.replicasDown) replicas down; \(self.powerLosses) power losses (\(self.writesLost) unsynced writes lost), \(self.failedSyncs) failed syncs, \(self.fullDisks) full disks; \(self.orders) orders, \(self.eventsDelivered) events consumed, \(self.notices) notices, \(self.webhooksTaken) webhooks taken (\(self.webhooksTakenAgain) more than once), \(self.deadLetters) dead letters replayed"
        }
    }

    /// An invariant that did not hold: the seed and step replay it.
    public struct Failure: Error, CustomStringConvertible {
        public var seed: UInt64
        public var step: Int
        public var problem: String
        /// The last steps before it, oldest first.
        public var trace: [String]

        public var description: String {
            "seed \(self.seed), step \(self.step): \(self.problem)\n  last steps:\n"
                + self.trace.map { "    \($0)" }.joined(separator: "\n")
        }
    }

    public let configuration: Configuration
    let catalog: Catalog
    let templates: NoticeTemplates

    public init(configuration: Configuration, catalog: Catalog, templates: NoticeTemplates) {
        self.configuration = configuration
        self.catalog = catalog
        self.templates = templates
    }

    /// The consumer group the simulated notification service reads the outbox as.
    static let group = "notification"
    /// Lease time of the consumer's events, in simulated milliseconds.
    static let leaseMillis: Int64 = 30_000

    /// Runs every step; throws the first invariant that fails.
    public func run() async throws -> Report {
        var random = SeededRandom(seed: self.configuration.seed)
        let disk = try FaultyDisk()
        let clock = SimulatedClock(millis: 1_693_526_400_000)  // 2023-09-01
        let run = Run(
            simulation: self, disk: disk, clock: clock, report: Report(seed: self.configuration.seed))
        try await run.open()
        _ = try await run.ledger.openFund(documentID: "jzf-2023-3", year: 2023, budgetFen: 2_000_000_000)
        try await run.notifier.registerWebhook(
            county: Run.county, url: Run.endpoint, secrets: WebhookSignature.makeSecret())
        var step = 0
        var finished = false
        while !finished {
            // The ledger runs (its committer) until a fault needs the process started again; a ledger's
            // committer runs once, so the consumer's last catch-up happens in the last one.
            let restart = try await run.ledger.running { () async throws -> Bool in
                while step < self.configuration.steps {
                    step += 1
                    // A fault that needs a restart leaves the store unreadable until then.
                    if try await run.step(step, &random) { return true }
                    try await run.check(step, final: false)
                }
                try await run.drain(step)
                return false
            }
            if restart {
                try await run.restart(step, &random)
                try await run.check(step, final: false, thorough: true)
            } else {
                finished = true
            }
        }
        try await run.check(step, final: true)
        run.report.steps = step
        run.report.orders = run.model.orders.count
        try await run.close()
        return run.report
    }
}

/// Milliseconds the simulation moves by hand.
final class SimulatedClock: Sendable {
    let millis: NIOLockedValueBox<Int64>
    init(millis: Int64) { self.millis = NIOLockedValueBox(millis) }
    var now: Int64 { self.millis.withLockedValue { $0 } }
    func advance(by delta: Int64) { self.millis.withLockedValue { $0 += delta } }
}
