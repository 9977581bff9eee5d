import CatalogModel
import Foundation
import MeshSimulation
import MeshTestSupport
import Testing

/// The ledger's simulation on many seeds: proposals, decisions, clawbacks, expiry and a consumer group under
/// power cuts (every power-loss mode), failed syncs and full disks, every invariant checked at every step.
/// A failure prints its seed; `mesh simulate --seed S --seeds 1 --steps N` replays it.
@Suite("Ledger simulation")
struct LedgerSimulationTests {
    static let catalog = try! CatalogLoader.load(directory: "\(TestMesh.repositoryRoot)/Services/Catalog/Data")

    /// 200 seeds of 150 steps in a test run; `MESH_SIMULATION_SEEDS` and `MESH_SIMULATION_STEPS` for more.
    static let seeds: [UInt64] = {
        let count = ProcessInfo.processInfo.environment["MESH_SIMULATION_SEEDS"].flatMap { UInt64($0) } ?? 200
        return Array(1...max(count, 1))
    }()
    static let steps = ProcessInfo.processInfo.environment["MESH_SIMULATION_STEPS"].flatMap { Int($0) } ?? 150

    @Test("every invariant holds at every step, on every seed", arguments: Self.seeds)
    func seed(_ seed: UInt64) async throws {
        let report = try await LedgerSimulation(
            configuration: .init(seed: seed, steps: Self.steps), catalog: Self.catalog
        ).run()
        #expect(report.steps == Self.steps)
        #expect(report.answered > 0)
    }

    @Test("across the seeds, the faults happen and put writes at risk")
    func faultsHappen() async throws {
        var powerLosses = 0
        var lost = 0
        var cut = 0
        for seed in UInt64(1)...10 {
            let report = try await LedgerSimulation(
                configuration: .init(seed: seed, steps: 150), catalog: Self.catalog
            ).run()
            powerLosses += report.powerLosses
            lost += report.writesLost
            cut += report.unanswered
        }
        #expect(powerLosses > 10)
        #expect(lost > 0)
        #expect(cut > 0)
    }
}
