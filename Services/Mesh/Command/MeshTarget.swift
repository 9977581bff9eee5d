import ArgumentParser
import Logging
import MeshHarness
import MeshRPC
import ServiceKit

/// Where a driver (`mesh demo`, `mesh chaos`) finds the mesh: the processes `mesh up` started on this machine
/// (their state file names every port, database and process), or a gateway elsewhere, such as Compose's
/// published ports, reached like any county system through the gateway alone.
struct MeshTarget: Sendable {
    var gatewayHost: String
    var gatewayPort: Int
    /// The parties' certificates the driver calls with.
    var certificates: String
    /// The address the driver's webhook receiver (the counties' endpoints) listens on.
    var webhookListen: String
    /// The host in the webhook URLs the notification service posts to: the listen address, or a name the
    /// notification containers resolve to it (the receiver's certificate, mesh-cli's, must carry it).
    var webhookHost: String
    /// The processes of a mesh on this machine; nil for a mesh elsewhere.
    var local: MeshState?
    /// The ledger's database, for the invariants read at the end of a chaos run.
    var ledgerDatabase: String?

    /// The mesh `mesh up` runs on this machine.
    static func local(_ state: MeshState) throws -> MeshTarget {
        guard let gateway = state.instances.first(where: { $0.service == "gateway" }) else {
            throw ValidationError("the running mesh has no gateway")
        }
        let disbursement = state.instances.first { $0.service == "disbursement" }?.arguments
        let database = disbursement.flatMap { arguments in
            arguments.firstIndex(of: "--database").flatMap { $0 + 1 < arguments.count ? arguments[$0 + 1] : nil }
        }
        return MeshTarget(
            gatewayHost: "127.0.0.1", gatewayPort: gateway.port, certificates: state.certificates,
            webhookListen: "127.0.0.1", webhookHost: "127.0.0.1", local: state, ledgerDatabase: database)
    }

    /// A gateway elsewhere, reached with the certificates in `certificates`, its webhooks on this machine.
    static func remote(host: String, port: Int, certificates: String) -> MeshTarget {
        MeshTarget(
            gatewayHost: host, gatewayPort: port, certificates: certificates, webhookListen: "127.0.0.1",
            webhookHost: "127.0.0.1", local: nil, ledgerDatabase: nil)
    }

    /// A client of the gateway with `party`'s certificate: every party talks to the gateway only. Its own log
    /// is quiet; the driver prints what matters.
    func client(as party: String) throws -> MeshClient {
        var logger = Logger(label: "mesh.driver")
        logger.logLevel = .critical
        let tls = try TLSFiles.load(directory: self.certificates, name: party, serverHostname: "gateway")
        return MeshClient(
            configuration: .init(host: self.gatewayHost, port: self.gatewayPort, tls: tls), logger: logger)
    }

    /// Whether the mesh runs a notification service (a local mesh may be started without one).
    var notifies: Bool { self.local.map { $0.instances.contains { $0.service == "notification" } } ?? true }
}

/// The flags that point a driver at a mesh that is not `mesh up`'s on this machine.
struct MeshTargetOptions: ParsableArguments {
    @Option(
        help:
            "The gateway's mesh port as host:port, for a mesh not started by `mesh up` here (Compose's published port); without it, the mesh `mesh up` runs."
    )
    var gateway: String?

    @Option(help: "With --gateway: the certificates to call with (ca.pem and each party's). Default: the topology's.")
    var certificates: String?

    @Option(help: "Address the counties' webhook receiver listens on.")
    var webhookListen = "127.0.0.1"

    @Option(
        help:
            "Host name in the webhook URLs, when the notification service reaches the receiver by a name (Compose: mesh-cli, mapped to the Compose network's gateway address). Default: the listen address."
    )
    var webhookHost: String?

    /// The target these flags name, or the mesh `mesh up` runs under `topology`.
    func target(topology: Topology) throws -> MeshTarget {
        guard let gateway = self.gateway else {
            guard let state = MeshState.load(directory: topology.state) else {
                throw ValidationError("no mesh is running: start it with `mesh up`, or name a gateway with --gateway")
            }
            var target = try MeshTarget.local(state)
            target.webhookListen = self.webhookListen
            target.webhookHost = self.webhookHost ?? self.webhookListen
            return target
        }
        let parts = gateway.split(separator: ":")
        guard parts.count == 2, let port = Int(parts[1]), (1...65535).contains(port) else {
            throw ValidationError("--gateway: expected host:port, got '\(gateway)'")
        }
        var target = MeshTarget.remote(
            host: String(parts[0]), port: port, certificates: self.certificates ?? topology.certificates)
        target.webhookListen = self.webhookListen
        target.webhookHost = self.webhookHost ?? self.webhookListen
        return target
    }
}
