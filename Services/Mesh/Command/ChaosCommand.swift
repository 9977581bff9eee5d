import ArgumentParser
import BenefitsAPI
import BenefitsDomain
import Foundation
import Logging
import MeshHarness
import MeshMessages
import MeshPKI
import MeshRPC
import NIOConcurrencyHelpers
import NotificationCore
import ServiceKit

/// Drives payouts end to end through a running mesh (`mesh up --detach`) while killing its processes with
/// SIGKILL and starting them again, then checks what must survive any crash: no payout twice, no accepted
/// payout lost, no fund below zero, debits equal to credits, every notice delivered by its id and made once,
/// the catalog unchanged. The seed it prints replays the same kills in the same order.
struct ChaosCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chaos",
        abstract: "Payouts through the running mesh while its processes are killed and restarted; then the invariants."
    )

    @Option(help: "Topology file.")
    var topology = "Compose/topology.json"

    @Option(help: "Payouts to drive: each a new enterprise screened, proposed and approved through the gateway.")
    var payouts = 10_000

    @Option(help: "Processes to kill with SIGKILL during the run, spread over all five services.")
    var kills = 20

    @Option(help: "Seed of the kill schedule (random when not given; printed either way).")
    var seed: UInt64?

    @Option(help: "Payouts in flight at once.")
    var concurrency = 16

    @Option(help: "Seconds to wait for the last notices after the last payout.")
    var noticeWaitSeconds = 300

    @Option(help: "Notices each county's webhook takes in one delivery (1: one a delivery; at most 500).")
    var webhookBatch: Int32 = 1

    @Flag(
        help:
            "免申即享 instead of one payout at a time: the counties register the enterprises, the operator runs one campaign, 市经信局 approves in bulk."
    )
    var campaign = false

    @Option(
        help:
            "With --campaign: enterprises registered in all, the payouts' among them; the rest hold nothing the campaign pays (a city's register, where few are payable). Default: the payouts."
    )
    var register: Int?

    @OptionGroup var target: MeshTargetOptions

    @Option(
        help:
            "The ledger's database the invariants read at the end (with --gateway; a local mesh's is found in its state): a SQLite file or postgres://… as disbursement's --database."
    )
    var ledgerDatabase: String?

    func validate() throws {
        if let register = self.register {
            guard self.campaign, (self.payouts...2_000_000).contains(register) else {
                throw ValidationError(
                    "--register: with --campaign only, from the payouts (\(self.payouts)) to 2000000, got \(register)")
            }
        }
        guard (1...1_000_000).contains(self.payouts) else {
            throw ValidationError("--payouts: 1 to 1000000, got \(self.payouts)")
        }
        guard (0...1000).contains(self.kills) else { throw ValidationError("--kills: 0 to 1000, got \(self.kills)") }
        guard (1...256).contains(self.concurrency) else {
            throw ValidationError("--concurrency: 1 to 256, got \(self.concurrency)")
        }
    }

    func run() async throws {
        let topology = try Topology.load(path: self.topology)
        var target = try self.target.target(topology: topology)
        if let ledgerDatabase = self.ledgerDatabase { target.ledgerDatabase = ledgerDatabase }
        if target.local == nil, self.kills > 0 {
            throw ValidationError("--kills: 0 with --gateway (kill a mesh elsewhere yourself: docker-compose kill)")
        }
        let seed = self.seed ?? UInt64.random(in: 1...UInt64(UInt32.max))
        print(
            "chaos: seed \(seed) (replay with --seed \(seed)), \(self.payouts) payouts\(self.campaign ? " by one campaign" : ""), \(self.kills) kills, \(self.concurrency) in flight"
        )
        let run = try ChaosRun(
            topology: topology, target: target, seed: seed, payouts: self.payouts, kills: self.kills,
            concurrency: self.concurrency, campaign: self.campaign, webhookBatch: self.webhookBatch,
            register: self.register ?? self.payouts)
        let failures = try await run.run(noticeWait: .seconds(self.noticeWaitSeconds))
        if failures.isEmpty {
            print("invariants: all hold")
        } else {
            print("invariants: \(failures.count) broken")
            for failure in failures { print("  BROKEN: \(failure)") }
            print("replay with --seed \(seed)")
            throw ExitCode.failure
        }
    }
}

/// SplitMix64: a small generator whose whole state is the seed, so a run can be replayed.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64

    mutating func next() -> UInt64 {
        self.state &+= 0x9E37_79B9_7F4A_7C15
        var z = self.state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
