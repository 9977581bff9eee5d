import ArgumentParser
import CatalogModel
import Foundation
import MeshSimulation
import NotificationCore

/// Runs the ledger's simulation (`LedgerSimulation`) on seeds: each a run of steps and faults drawn from its
/// seed, its invariants checked at every step. A failure prints its seed and step, which replay it.
struct SimulateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Run the money path under power losses, failed syncs and full disks drawn from seeds.",
        discussion: """
            One process: the ledger (group commit, outbox) and the notifier (notices from the outbox's events, \
            webhook deliveries to endpoints that fail, time out or take a notice twice), on a simulated disk \
            that loses what was not synced and a simulated clock. `--seed S --seeds 1` replays seed S.
            """)

    @Option(help: "The first seed (default: one drawn now, printed).")
    var seed: UInt64?

    @Option(help: "How many seeds, from the first (1 to 1,000,000).")
    var seeds = 1

    @Option(help: "Steps per seed (1 to 10,000,000).")
    var steps = 1_000

    @Option(help: "One step in this many is a fault (2 to 1,000,000).")
    var faultEvery = 25

    @Option(help: "The catalog's data directory.")
    var catalog = "Services/Catalog/Data"

    @Option(help: "Notice templates.")
    var templates = "Services/Notification/Templates/notices.json"

    func validate() throws {
        guard (1...1_000_000).contains(self.seeds) else { throw ValidationError("--seeds: 1 to 1,000,000") }
        guard (1...10_000_000).contains(self.steps) else { throw ValidationError("--steps: 1 to 10,000,000") }
        guard (2...1_000_000).contains(self.faultEvery) else { throw ValidationError("--fault-every: 2 to 1,000,000") }
    }

    func run() async throws {
        let catalog = try CatalogLoader.load(directory: self.catalog)
        let templates = try NoticeTemplates.load(path: self.templates)
        let first = self.seed ?? UInt64.random(in: 1...UInt64(UInt32.max))
        let started = ContinuousClock.now
        var totals = (steps: 0, powerLosses: 0, writesLost: 0)
        for seed in first..<(first + UInt64(self.seeds)) {
            var configuration = LedgerSimulation.Configuration(seed: seed, steps: self.steps)
            configuration.faultEvery = self.faultEvery
            do {
                let report = try await LedgerSimulation(
                    configuration: configuration, catalog: catalog, templates: templates
                )
                .run()
                print(report)
                totals.steps += report.steps
                totals.powerLosses += report.powerLosses
                totals.writesLost += report.writesLost
            } catch let failure as LedgerSimulation.Failure {
                print("FAILED \(failure)")
                print(
                    "replay: mesh simulate --seed \(seed) --seeds 1 --steps \(self.steps) --fault-every \(self.faultEvery)"
                )
                throw ExitCode(1)
            }
        }
        let seconds = Double((ContinuousClock.now - started).components.seconds)
        print(
            "\(self.seeds) seeds from \(first), \(totals.steps) steps, \(totals.powerLosses) power losses (\(totals.writesLost) unsynced writes lost): every invariant held in \(Int(seconds)) s"
        )
    }
}
