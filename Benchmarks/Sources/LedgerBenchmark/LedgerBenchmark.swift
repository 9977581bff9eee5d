import BenefitsDomain
import CatalogModel
import Foundation
import Ledger
import Logging
import NIOConcurrencyHelpers
import SQLStore
import ServiceKit

/// Durable payouts per second: proposals from many concurrent callers into a fresh ledger, fsync on, with
/// group commit or with one transaction per payout (the naive baseline). Or (`--mode outbox`) the events of
/// those payouts leased and acknowledged per second by two subscribers of one group, as two notification
/// replicas follow the ledger. Prints one JSON object.
///
///     LedgerBenchmark --database FILE|postgres://… [--mode grouped|naive|outbox] [--payouts 20000] [--callers 256]
@main
struct LedgerBenchmark {
    static func main() async throws {
        var arguments = Array(CommandLine.arguments.dropFirst())
        func option(_ name: String) -> String? {
            guard let index = arguments.firstIndex(of: name), index + 1 < arguments.count else { return nil }
            defer { arguments.removeSubrange(index...(index + 1)) }
            return arguments[index + 1]
        }
        guard let location = option("--database") else {
            FileHandle.standardError.write(
                Data(
                    "usage: LedgerBenchmark --database FILE|postgres://… [--mode grouped|naive] [--payouts N] [--callers N] [--catalog DIR]\n"
                        .utf8))
            exit(2)
        }
        let mode = option("--mode") ?? "grouped"
        let grouped = mode != "naive"
        let payouts = Int(option("--payouts") ?? "20000")!
        let callers = Int(option("--callers") ?? "256")!
        let catalog = try CatalogLoader.load(directory: option("--catalog") ?? "Services/Catalog/Data")
        var logger = Logger(label: "ledger-benchmark")
        logger.logLevel = .warning

        let database = try DatabaseOption.open(location, logger: logger)
        try await database.running {
            let ledger = Ledger(database: database, catalog: { catalog }, groupCommit: grouped)
            try await ledger.migrate()
            // The most one fund may hold (100亿元): 50,000 awards of 20万元.
            _ = try await ledger.openFund(documentID: "jzf-2023-3", year: 2023, budgetFen: Money.maximumFen)

            // One green-factory award (20万元) for each of `payouts` enterprises; distinct credit codes, so no cap
            // or stacking rule refuses any of them.
            let requests: [Ledger.ProposeRequest] = (0..<payouts).map { index in
                var request = Ledger.ProposeRequest()
                request.creditCode = CreditCode.completing("9133" + String(format: "%013d", index))!.value
                request.enterpriseName = "基准企业\(index)"
                request.county = .nanhu
                request.clauseID = "jzf-2023-3/3.19b"
                request.subject = "greenFactory/municipal/2023-03-01"
                request.period = 2023
                request.amountFen = 20_000_000
                return request
            }
            let next = NIOLockedValueBox(0)
            let failures = NIOLockedValueBox(0)
            let start = ContinuousClock.now
            try await ledger.running {
                await Self.propose(requests, on: ledger, callers: callers, next: next, failures: failures)
            }
            var seconds = (ContinuousClock.now - start).seconds
            if mode == "outbox" {
                let consumed = ContinuousClock.now
                try await Self.consume(
                    ledger, events: payouts - failures.withLockedValue { $0 }, subscribers: 2)
                seconds = (ContinuousClock.now - consumed).seconds
            }
            let problems = try await ledger.reconcile()
            let reserved = try await ledger.funds().funds.first?.reservedFen ?? 0
            // Hot statements unnamed (`prepared_statements=off`) are the peer of named prepared statements.
            let store =
                location.hasPrefix("postgres")
                ? (location.contains("prepared_statements=off") ? "postgresql unnamed" : "postgresql") : "sqlite"
            let balanced = problems.isEmpty && reserved == Int64(payouts - failures.withLockedValue { $0 }) * 20_000_000
            print(
                #"{"row":"ledger \#(store)","store":"\#(store)","mode":"\#(mode)","payouts":\#(payouts),"callers":\#(callers),"failures":\#(failures.withLockedValue { $0 }),"seconds":\#(seconds),"perSecond":\#(Double(payouts) / seconds),"balanced":\#(balanced)}"#
            )
        }
    }

    /// Leases and acknowledges the ledger's `events` (one per accepted proposal), `subscribers` consumers of
    /// one group at once, at most 256 in flight each. Counted, not compared with the last sequence: a batch
    /// run again draws new sequences and leaves gaps.
    static func consume(_ ledger: Ledger, events: Int, subscribers: Int) async throws {
        let acknowledged = NIOLockedValueBox(0)
        try await withThrowingDiscardingTaskGroup { group in
            for subscriber in 0..<subscribers {
                group.addTask {
                    while acknowledged.withLockedValue({ $0 }) < events {
                        let events = try await ledger.outbox.lease(
                            group: "benchmark", consumer: "subscriber-\(subscriber)", maximumInFlight: 256,
                            leaseMillis: 600_000)
                        guard !events.isEmpty else {
                            try await Task.sleep(for: .milliseconds(1))
                            continue
                        }
                        let count = try await ledger.outbox.acknowledge(
                            group: "benchmark", sequences: events.map(\.sequence))
                        acknowledged.withLockedValue { $0 += count }
                    }
                }
            }
        }
    }

    /// `callers` tasks each proposing the next request until none is left; a refusal is counted.
    static func propose(
        _ requests: [Ledger.ProposeRequest], on ledger: Ledger, callers: Int, next: NIOLockedValueBox<Int>,
        failures: NIOLockedValueBox<Int>
    ) async {
        await withDiscardingTaskGroup { group in
            for _ in 0..<callers {
                group.addTask {
                    while true {
                        let index = next.withLockedValue { value -> Int in
                            defer { value += 1 }
                            return value
                        }
                        guard index < requests.count else { return }
                        do { _ = try await ledger.propose(requests[index]) } catch {
                            failures.withLockedValue { $0 += 1 }
                        }
                    }
                }
            }
        }
    }
}

extension Duration {
    var seconds: Double { Double(self.components.seconds) + Double(self.components.attoseconds) / 1e18 }
}
