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
            var port = MeshProcess.freePort()
            // Replicas listen on port + i: find a run of free ports.
            while (services[index]["replicas"] as? Int ?? 1) > 1, !Self.isFree(port + 1) { port = MeshProcess.freePort() }
            services[index]["port"] = port
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

    static func isFree(_ port: Int) -> Bool {
        let socket = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        return withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } } == 0
    }
}
