import BenefitsDomain
import Foundation
import MeshTestSupport
import Testing

/// The whole mesh started through the harness (`mesh up`), as an operator would, on free ports: the demo
/// flow with its checks on every step, then one eligibility replica killed and a second flow still completing.
@Suite("Harness end to end")
struct HarnessTests {
    @Test("mesh up --demo passes every check; with an eligibility replica killed, a new flow still does")
    func wholeMesh() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("harness-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }

        // The repository's topology, on free ports and in a folder of the test's own.
        let topologyData = try Data(contentsOf: URL(fileURLWithPath: "\(TestMesh.repositoryRoot)/Compose/topology.json"))
        var topology = try #require(try JSONSerialization.jsonObject(with: topologyData) as? [String: Any])
        topology["state"] = "\(folder)/state"
        topology["certificates"] = "\(folder)/certs"
        topology.removeValue(forKey: "metricsPortOffset")
        var services = try #require(topology["services"] as? [[String: Any]])
        for index in services.indices {
            // Replicas listen on port + i: freePort() finds two free in a row.
            services[index]["port"] = MeshProcess.freePort()
            // The gateway's HTTP face, on a free port too.
            if var arguments = services[index]["arguments"] as? [String], let flag = arguments.firstIndex(of: "--http-port") {
                arguments[flag + 1] = "\(MeshProcess.freePort())"
                services[index]["arguments"] = arguments
            }
        }
        topology["services"] = services
        let topologyPath = "\(folder)/topology.json"
        try JSONSerialization.data(withJSONObject: topology).write(to: URL(fileURLWithPath: topologyPath))

        let up = try MeshProcess.runToCompletion("mesh", ["up", "--detach", "--demo", "--topology", topologyPath])
        defer { _ = try? MeshProcess.runToCompletion("mesh", ["down", "--topology", topologyPath]) }
        #expect(up.status == 0, "mesh up --demo failed:\n\(up.output.suffix(3000))")
        #expect(up.output.contains("mesh is up: 6 processes"))
        #expect(up.output.contains("demo checks:") && up.output.contains(" 0 failed"), "\(up.output.suffix(2000))")
        #expect(up.output.contains("signature ok"))
        #expect(!up.output.contains("BAD SIGNATURE"))

        // Kill one eligibility replica with SIGKILL, as a crash would.
        let stateData = try Data(contentsOf: URL(fileURLWithPath: "\(folder)/state/mesh-state.json"))
        let state = try #require(try JSONSerialization.jsonObject(with: stateData) as? [String: Any])
        let instances = try #require(state["instances"] as? [[String: Any]])
        let victim = try #require(instances.first { $0["service"] as? String == "eligibility" })
        let pid = try #require(victim["pid"] as? Int)
        #expect(kill(pid_t(pid), SIGKILL) == 0)

        // A second flow, for enterprises new to the ledger (other credit codes), through the surviving replica.
        let samples = try Data(contentsOf: URL(fileURLWithPath: "\(TestMesh.repositoryRoot)/Compose/demo/enterprises.json"))
        var document = try #require(try JSONSerialization.jsonObject(with: samples) as? [String: Any])
        var enterprises = try #require(document["enterprises"] as? [[String: Any]])
        for index in enterprises.indices {
            let code = try #require(enterprises[index]["creditCode"] as? String)
            enterprises[index]["creditCode"] = try #require(CreditCode.completing(String(code.prefix(12)) + String(format: "9%04d", index))).value
        }
        document["enterprises"] = enterprises
        let secondPath = "\(folder)/enterprises-second.json"
        try JSONSerialization.data(withJSONObject: document).write(to: URL(fileURLWithPath: secondPath))
        let second = try MeshProcess.runToCompletion("mesh", ["demo", "--topology", topologyPath, "--enterprises", secondPath])
        #expect(second.status == 0, "the flow after the kill failed:\n\(second.output.suffix(3000))")
        #expect(second.output.contains("demo checks:") && second.output.contains(" 0 failed"), "\(second.output.suffix(2000))")
        #expect(second.output.contains("pending"), "new orders were proposed")

        let status = try MeshProcess.runToCompletion("mesh", ["status", "--topology", topologyPath])
        #expect(status.output.contains("eligibility"))
    }
}
