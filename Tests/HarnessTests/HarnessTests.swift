import BenefitsDomain
import Foundation
import MeshTestSupport
import ServiceKit
import Testing

/// The whole mesh started through the harness (`mesh up`), as an operator would, on free ports: the demo
/// flow with its checks on every step, then one eligibility replica killed and a second flow still completing.
@Suite("Harness end to end", .serialized)
struct HarnessTests {
    /// The repository's topology on free ports, with its state and certificates in `folder`; returns its path.
    static func topology(in folder: String) throws -> String {
        let topologyData = try Data(
            contentsOf: URL(fileURLWithPath: "\(TestMesh.repositoryRoot)/Compose/topology.json"))
        var topology = try #require(try JSONSerialization.jsonObject(with: topologyData) as? [String: Any])
        topology["state"] = "\(folder)/state"
        topology["certificates"] = "\(folder)/certs"
        topology.removeValue(forKey: "metricsPortOffset")
        var services = try #require(topology["services"] as? [[String: Any]])
        for index in services.indices {
            // Replicas listen on port + i: freePort() finds two free in a row.
            services[index]["port"] = MeshProcess.freePort()
            // The gateway's gRPC and HTTP faces and console, on free ports too.
            if var arguments = services[index]["arguments"] as? [String] {
                for flag in ["--grpc-port", "--http-port", "--console-port"] {
                    if let position = arguments.firstIndex(of: flag) {
                        arguments[position + 1] = "\(MeshProcess.freePort())"
                    }
                }
                services[index]["arguments"] = arguments
            }
        }
        topology["services"] = services
        let topologyPath = "\(folder)/topology.json"
        try JSONSerialization.data(withJSONObject: topology).write(to: URL(fileURLWithPath: topologyPath))
        return topologyPath
    }

    /// Runs `body` while the mesh of `topologyPath` is up, and brings it down after, whatever `body` did.
    static func whileUp<Result>(_ topologyPath: String, _ body: () async throws -> Result) async throws -> Result {
        do {
            let result = try await body()
            _ = try? await MeshProcess.runToCompletion("mesh", ["down", "--topology", topologyPath])
            return result
        } catch {
            _ = try? await MeshProcess.runToCompletion("mesh", ["down", "--topology", topologyPath])
            throw error
        }
    }

    @Test("mesh up --demo passes every check; with an eligibility replica killed, a new flow still does")
    func wholeMesh() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("harness-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let topologyPath = try Self.topology(in: folder)

        try await Self.whileUp(topologyPath) {
            let up = try await MeshProcess.runToCompletion(
                "mesh", ["up", "--detach", "--demo", "--topology", topologyPath])
            #expect(up.status == 0, "mesh up --demo failed:\n\(up.output.suffix(3000))")
            #expect(up.output.contains("mesh is up: 6 processes"))
            #expect(up.output.contains("demo checks:") && up.output.contains(" 0 failed"), "\(up.output.suffix(2000))")
            #expect(up.output.contains("signature ok"))
            #expect(!up.output.contains("BAD SIGNATURE"))

            // One door: a county's or the operator's certificate at a service port gets health and nothing else; the
            // same operator call through the gateway answers. (`mesh call` exits with the status code: 7 is
            // permissionDenied.)
            for (party, service, method) in [
                ("nanhu", "disbursement", "DisbursementService/ProposePayout"),
                ("operator", "disbursement", "DisbursementService/ListFunds"),
                ("jingxin", "eligibility", "EligibilityService/Screen"),
                ("nanhu", "notification", "NotificationService/ListInbox"),
            ] {
                let refused = try await MeshProcess.runToCompletion(
                    "mesh", ["call", "--topology", topologyPath, "--as", party, "--service", service, method, "{}"])
                #expect(refused.status == 7, "\(party) → \(service) \(method): \(refused.status) \(refused.output)")
                #expect(refused.output.contains("through the gateway"), "\(refused.output)")
                let health = try await MeshProcess.runToCompletion(
                    "mesh",
                    ["call", "--topology", topologyPath, "--as", party, "--service", service, "Health/Check", "{}"])
                #expect(health.status == 0 && health.output.contains("SERVING"), "\(party) health: \(health.output)")
            }
            let throughGateway = try await MeshProcess.runToCompletion(
                "mesh", ["call", "--topology", topologyPath, "--as", "operator", "Gateway/ListFunds", "{}"])
            #expect(throughGateway.status == 0 && throughGateway.output.contains("fund:"), "\(throughGateway.output)")

            // Kill one eligibility replica with SIGKILL, as a crash would.
            let stateData = try Data(contentsOf: URL(fileURLWithPath: "\(folder)/state/mesh-state.json"))
            let state = try #require(try JSONSerialization.jsonObject(with: stateData) as? [String: Any])
            let instances = try #require(state["instances"] as? [[String: Any]])
            let victim = try #require(instances.first { $0["service"] as? String == "eligibility" })
            let pid = try #require(victim["pid"] as? Int)
            #expect(kill(pid_t(pid), SIGKILL) == 0)

            // A second flow, for enterprises new to the ledger (other credit codes), through the surviving replica.
            let samples = try Data(
                contentsOf: URL(fileURLWithPath: "\(TestMesh.repositoryRoot)/Compose/demo/enterprises.json"))
            var document = try #require(try JSONSerialization.jsonObject(with: samples) as? [String: Any])
            var enterprises = try #require(document["enterprises"] as? [[String: Any]])
            for index in enterprises.indices {
                let code = try #require(enterprises[index]["creditCode"] as? String)
                enterprises[index]["creditCode"] = try #require(
                    CreditCode.completing(String(code.prefix(12)) + String(format: "9%04d", index))
                ).value
            }
            document["enterprises"] = enterprises
            let secondPath = "\(folder)/enterprises-second.json"
            try JSONSerialization.data(withJSONObject: document).write(to: URL(fileURLWithPath: secondPath))
            let second = try await MeshProcess.runToCompletion(
                "mesh", ["demo", "--topology", topologyPath, "--enterprises", secondPath])
            #expect(second.status == 0, "the flow after the kill failed:\n\(second.output.suffix(3000))")
            #expect(
                second.output.contains("demo checks:") && second.output.contains(" 0 failed"),
                "\(second.output.suffix(2000))")
            #expect(second.output.contains("pending"), "new orders were proposed")

            let status = try await MeshProcess.runToCompletion("mesh", ["status", "--topology", topologyPath])
            #expect(status.output.contains("eligibility"))
        }
    }

    /// The short version of `scripts/chaos.sh`: 300 payouts while five processes (one of each service) are
    /// killed with SIGKILL and restarted through the harness; the invariants must all hold.
    @Test(
        "chaos: payouts through five SIGKILLs, one per service; nothing paid twice or lost, books balanced, every notice delivered"
    )
    func chaos() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("chaos-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let topologyPath = try Self.topology(in: folder)
        try await Self.whileUp(topologyPath) {
            let up = try await MeshProcess.runToCompletion("mesh", ["up", "--detach", "--topology", topologyPath])
            #expect(up.status == 0, "mesh up failed:\n\(up.output.suffix(3000))")
            let chaos = try await MeshProcess.runToCompletion(
                "mesh",
                [
                    "chaos", "--topology", topologyPath, "--payouts", "300", "--kills", "5", "--seed", "20261122",
                    "--notice-wait-seconds", "120",
                ])
            #expect(chaos.status == 0, "\(chaos.output.suffix(4000))")
            #expect(chaos.output.contains("invariants: all hold"))
            for service in ["catalog", "eligibility", "disbursement", "notification", "gateway"] {
                #expect(chaos.output.contains("\(service) 1"), "one kill of \(service): \(chaos.output.suffix(1500))")
            }
        }
    }
}

/// One version, defined in `MeshRelease`, printed by every executable.
@Suite("Versions")
struct VersionTests {
    @Test("mesh and every service print the one release version for --version")
    func everyExecutablePrintsTheVersion() async throws {
        for executable in ["mesh", "catalog", "eligibility", "disbursement", "notification", "gateway"] {
            let (status, output) = try await MeshProcess.runToCompletion(executable, ["--version"])
            #expect(status == 0, "\(executable) --version exited \(status): \(output)")
            #expect(output.trimmingCharacters(in: .whitespacesAndNewlines) == MeshRelease.version, "\(executable)")
        }
    }
}
