import BenefitsDomain
import CatalogModel
import Foundation
import Ledger
import MeshMessages
import MeshRPC
import NIOConcurrencyHelpers
import NotificationCore
import SQLStore

extension LedgerSimulation {
    typealias Status = Ledger.Order.Status

    /// One run's moving parts: the disk, the ledger opened on it (again after each fault), what was answered,
    /// and the consumer's deliveries. Used by one task, one step at a time.
    final class Run {
        let simulation: LedgerSimulation
        let disk: FaultyDisk
        let clock: SimulatedClock
        var database: SQLiteDatabase!
        var ledger: Ledger!
        var noticesDatabase: SQLiteDatabase!
        var notifier: Notifier!
        let endpoints: SimulatedEndpoints
        /// The random bits of order ids, drawn from the seed: where rows land decides how many pages a commit
        /// writes, so the write a power cut is numbered at.
        let idBits: NIOLockedValueBox<SeededRandom>
        var model = LedgerModel()
        var report: Report
        var trace: [String] = []
        var budget: Fen = 2_000_000_000
        /// The fault injected in the step now running, if any: an operation may fail only then.
        var fault: Fault?
        /// The network between the gateway and the disbursement replicas, and the replicas' lives.
        var network: SimulatedNetwork
        /// The gateway's balancer over the disbursement replicas (each an index), on the simulated clock.
        let disbursement: ReplicaBalancer<Int>
        /// Whether the network failed the last attempt of the call now being made: the call may fail then too.
        var networkFault = false
        /// Whether a copy of the call now being made acted with no one hearing its answer (an answer lost, a
        /// reset after the replica acted, a second delivery).
        var strayCopy = false
        /// An invariant that failed inside a call the balancer carried, thrown when the call returns.
        var broken: Failure?

        enum Fault: CustomStringConvertible {
            case powerCut(FaultyDisk.PowerLoss, atWrite: Int)
            case failedSync
            case fullDisk

            var description: String {
                switch self {
                case .powerCut(let mode, let write): return "power cut at write \(write), then \(mode)"
                case .failedSync: return "a failed sync"
                case .fullDisk: return "a full disk"
                }
            }
        }

        init(simulation: LedgerSimulation, disk: FaultyDisk, clock: SimulatedClock, report: Report) {
            self.simulation = simulation
            self.disk = disk
            self.clock = clock
            self.report = report
            self.endpoints = SimulatedEndpoints(seed: simulation.configuration.seed)
            self.idBits = NIOLockedValueBox(SeededRandom(seed: simulation.configuration.seed ^ 0x1D5))
            self.network = SimulatedNetwork(seed: simulation.configuration.seed)
            self.disbursement = ReplicaBalancer(
                service: "disbursement", replicas: Array(0..<SimulatedNetwork.replicas), ejection: .seconds(2),
                now: { .milliseconds(clock.now) })
        }

        /// The county whose webhook the notices go to, and where.
        static let county = "nanhu"
        static let endpoint = "https://nanhu.simulated/hooks/benefits"

        func open() async throws {
            let catalog = self.simulation.catalog
            let clock = self.clock
            self.database = try self.disk.database("ledger.sqlite")
            let idBits = self.idBits
            self.ledger = Ledger(
                database: self.database, catalog: { catalog }, orderLifetime: .seconds(48 * 3600),
                now: { clock.now }, idBits: { idBits.withLockedValue { ($0.next(), $0.next()) } })
            try await self.ledger.migrate()
            self.noticesDatabase = try self.disk.database("notices.sqlite")
            // A retry's jitter from the seed and the webhook-id: attempts settle in the order they end.
            let seed = self.simulation.configuration.seed
            self.notifier = Notifier(
                database: self.noticesDatabase, templates: self.simulation.templates, webhooks: self.endpoints,
                now: { clock.now },
                jitter: { id in
                    var random = SeededRandom(seed: seed ^ SimulatedEndpoints.hash(id))
                    return Double(random.next() % 4001) / 10_000 - 0.2
                })
            try await self.notifier.migrate()
        }

        func close() async throws {
            try await self.database.close()
            try await self.noticesDatabase.close()
        }

        func note(_ step: Int, _ line: String) {
            self.trace.append("\(step): \(line)")
            if self.trace.count > 40 { self.trace.removeFirst(self.trace.count - 40) }
        }

        func failure(_ step: Int, _ problem: String) -> Failure {
            Failure(seed: self.simulation.configuration.seed, step: step, problem: problem, trace: self.trace)
        }

        /// One step; true when a fault left the ledger to be opened again.
        func step(_ step: Int, _ random: inout SeededRandom) async throws -> Bool {
            let configuration = self.simulation.configuration
            // A step takes a second: orders proposed in different steps are told apart by their time.
            self.clock.advance(by: 1_000)
            try await self.deliverHeld(step)
            if let (replica, steps) = self.network.takeDown(at: step, every: configuration.replicaDownEvery) {
                self.report.replicasDown += 1
                self.note(step, "disbursement-\(replica) down for \(steps) steps")
            }
            guard random.next() % UInt64(configuration.faultEvery) == 0 else {
                try await self.operation(step, &random)
                return false
            }
            switch random.next() % 4 {
            case 0, 1:
                let mode = FaultyDisk.PowerLoss.allCases[Int(random.next() % 3)]
                let write = 1 + Int(random.next() % 12)
                self.fault = .powerCut(mode, atWrite: write)
                self.note(step, "fault: \(self.fault!)")
                self.disk.crash(atWrite: write)
                for _ in 0..<(1 + random.next() % 3) { try await self.operation(step, &random) }
                return true
            case 2:
                self.fault = .failedSync
                self.note(step, "fault: a failed sync")
                self.disk.failSyncs(1)
                try await self.operation(step, &random)
                self.report.failedSyncs += 1
                return true
            default:
                self.fault = .fullDisk
                self.note(step, "fault: the disk full")
                self.disk.setFull(true)
                try await self.operation(step, &random)
                self.disk.setFull(false)
                self.report.fullDisks += 1
                self.fault = nil
                return false
            }
        }

        /// The process starts again on what the disk kept: after a power cut as its mode says; after a failed
        /// sync, with any subset of what was not synced (Linux may drop the dirty pages of a failed fsync).
        func restart(_ step: Int, _ random: inout SeededRandom) async throws {
            let mode: FaultyDisk.PowerLoss
            if case .powerCut(let cut, _) = self.fault { mode = cut } else { mode = .keepRandomSubset }
            self.disk.crash()
            try await self.close()
            let lost = try self.disk.losePower(mode, seed: random.next())
            self.report.powerLosses += 1
            self.report.writesLost += lost
            self.note(step, "restart: \(lost) unsynced writes lost (\(mode))")
            self.fault = nil
            try await self.open()
        }

        /// The consumer follows the outbox and the deliverer sends until both have caught up: the endpoints
        /// take everything, and time passes so leases, claims and retries fall due.
        func drain(_ step: Int) async throws {
            try await self.deliverHeld(Int.max)
            self.endpoints.setHealthy(true)
            defer { self.endpoints.setHealthy(false) }
            var quiet = 0
            var rounds = 0
            while quiet < 3 {
                rounds += 1
                guard rounds < 10_000 else { throw self.failure(step, "the consumer and deliverer never caught up") }
                let leased = try await self.ledger.outbox.lease(
                    group: LedgerSimulation.group, consumer: "notification-0", maximumInFlight: 64,
                    leaseMillis: LedgerSimulation.leaseMillis)
                if !leased.isEmpty {
                    try await self.notifier.record(leased, catalog: self.simulation.catalog)
                    for event in leased { self.model.consume(event) }
                    _ = try await self.ledger.outbox.acknowledge(
                        group: LedgerSimulation.group, sequences: leased.map(\.sequence))
                    self.model.acknowledged.formUnion(leased.map(\.sequence))
                }
                let sent = try await self.notifier.deliverDue(limit: 64)
                if leased.isEmpty && sent == 0 {
                    quiet += 1
                    // Past a lease, a claim and the longest retry delay.
                    self.clock.advance(by: 11 * 60_000)
                    // The operator replays what the retry policy gave up on (24 h, or ten attempts).
                    let dead = try await self.notifier.deliveries(status: .dead, limit: 1000)
                    for delivery in dead { _ = try await self.notifier.replay(noticeID: delivery.noticeID) }
                    self.report.deadLetters += dead.count
                    if !dead.isEmpty { quiet = 0 }
                } else {
                    quiet = 0
                }
            }
        }
    }
}
