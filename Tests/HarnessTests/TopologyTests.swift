import Foundation
import MeshHarness
import MeshIdentity
import MeshTestSupport
import Testing

/// The topology `mesh up` starts, read from the file it ships with: each replica's command line.
@Suite("Topology")
struct TopologyTests {
    static let shipped = "\(TestMesh.repositoryRoot)/Compose/topology.json"

    @Test(
        "each replica's command line: its port, certificate, metrics, the services it calls and balances, its own arguments"
    )
    func launch() throws {
        var topology = try Topology.load(path: Self.shipped)
        try topology.override(replicas: ["eligibility=3"])
        let service = { (name: String) in topology.services.first { $0.name == name }! }
        let second = try topology.launch(service("eligibility"), replica: 1)
        #expect(second.port == 7421)
        #expect(second.metricsPort == 8421)
        #expect(
            second.arguments == [
                "--port", "7421", "--certificates", ".mesh/certs", "--identity", "eligibility", "--metrics-port",
                "8421",
                "--catalog-port", "7410",
            ])
        let gateway = try topology.launch(service("gateway"), replica: 0)
        #expect(
            gateway.arguments.firstIndex(of: "--eligibility-ports").map { gateway.arguments[$0 + 1] }
                == "7420,7421,7422")
        #expect(
            gateway.arguments.contains("{state}/audit.log".replacingOccurrences(of: "{state}", with: ".mesh/state")))
        let notification = try topology.launch(service("notification"), replica: 0)
        #expect(notification.arguments.contains(".mesh/certs/ca.pem"))
        #expect(!notification.arguments.joined().contains("{"))
        // Every party: the services first, then the roles in PartyRole's order.
        #expect(
            topology.allParties.prefix(5).map(\.name) == [
                "catalog", "eligibility", "disbursement", "notification", "gateway",
            ])
        #expect(topology.allParties.contains { $0 == ("operator", PartyRole.operator) })
    }

    @Test("a replica count out of bounds, an unknown service, a dependency not listed and a missing file are refused")
    func refusals() throws {
        var topology = try Topology.load(path: Self.shipped)
        for bad in ["eligibility=0", "eligibility=10", "nobody=2", "eligibility"] {
            let error = #expect(throws: HarnessError.self) { try topology.override(replicas: [bad]) }
            #expect(error?.message == "--replicas takes service=N with N from 1 to 9, got '\(bad)'")
        }
        var broken = topology.services[1]
        broken.dependsOn = ["ledger"]
        #expect(throws: HarnessError("eligibility depends on 'ledger', which the topology does not list")) {
            try topology.launch(broken, replica: 0)
        }
        #expect(throws: HarnessError("cannot read the topology file /nonexistent/topology.json")) {
            try Topology.load(path: "/nonexistent/topology.json")
        }
    }
}
