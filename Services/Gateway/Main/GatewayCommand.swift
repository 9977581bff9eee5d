import ArgumentParser
import Foundation
import GatewayConsole
import GatewayGRPC
import GatewayHTTP
import GatewayService
import GatewayStore
import MeshRPC
import MeshTransport
import ServiceKit
import ServiceLifecycle

/// The gateway: the one door for county systems, departments and the operator.
@main
struct GatewayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gateway", abstract: "The gateway of the Jiaxing benefits mesh.",
        discussion: ServiceSettings.discussion, version: MeshRelease.version)

    @OptionGroup var options: ServiceOptions

    @Option(help: "The catalog replicas, comma-separated: ports on --services-host, or host:port.")
    var catalogPorts = "7410"

    @Option(help: "The eligibility replicas, comma-separated: ports on --services-host, or host:port.")
    var eligibilityPorts = "7420"

    @Option(help: "The disbursement replicas, comma-separated: ports on --services-host, or host:port.")
    var disbursementPorts = "7430"

    @Option(help: "The notification replicas, comma-separated: ports on --services-host, or host:port.")
    var notificationPorts = "7440"

    @Option(help: "Host of every service.")
    var servicesHost = "127.0.0.1"

    @Option(
        help:
            "Seconds between resolutions of replicas given by name (host:port with a host name): each name is every address it resolves to, so a service scaled up is used without a restart."
    )
    var resolveSeconds = 5

    @Option(help: "Audit log (JSON lines) of refusals and money decisions.")
    var auditLog = ".mesh/state/audit.log"

    @Option(help: "Calls a second each county, department or operator may make on average.")
    var rate = 500.0

    @Option(help: "Calls each may make in a burst.")
    var burst = 1000.0

    @Option(help: "Port of the HTTP/JSON face (HTTP/1.1 and HTTP/2 over mutual TLS); none when not given.")
    var httpPort: Int?

    @Option(
        help:
            "Port of the standard gRPC face (HTTP/2 over mutual TLS): every Gateway method and grpc.health.v1.Health; none when not given."
    )
    var grpcPort: Int?

    @Option(help: "Port of the web console (HTTPS, sign-in with a `mesh account`); none when not given.")
    var consolePort: Int?

    @Option(
        help:
            "The gateway's own database (enterprise register, console accounts): a SQLite file, or postgres://user[:password]@host[:port]/database."
    )
    var database = ".mesh/state/gateway.sqlite"

    mutating func run() async throws {
        let settings = try await ServiceSettings.load()
        try self.configure(from: settings)
        FileModes.restrictToOwner()
        let logger = self.options.logger(label: "jiaxing.gateway")
        let identity = self.options.identity ?? "gateway"
        let resolveInterval: Duration
        do {
            resolveInterval = try ReplicaResolution.interval(seconds: self.resolveSeconds)
        } catch {
            throw ValidationError(error.description)
        }
        func pool(_ service: String, _ ports: String) throws -> ReplicaPool {
            let endpoints = try ports.split(separator: ",").map { text -> (host: String, port: Int) in
                // `port` on the services host, or `host:port`.
                let parts = text.split(separator: ":")
                guard let port = parts.last.flatMap({ Int($0) }), (1...65535).contains(port), parts.count <= 2 else {
                    throw ValidationError("--\(service)-ports: '\(text)' is not a port or host:port")
                }
                return (parts.count == 2 ? String(parts[0]) : self.servicesHost, port)
            }
            guard !endpoints.isEmpty else { throw ValidationError("--\(service)-ports: at least one port") }
            let tls = try TLSFiles.load(directory: self.options.certificates, name: identity, serverHostname: service)
            return ReplicaPool(service: service, endpoints: endpoints, tls: tls, logger: logger)
        }
        let services = GatewayHandlers.Services(
            catalog: try pool("catalog", self.catalogPorts),
            eligibility: try pool("eligibility", self.eligibilityPorts),
            disbursement: try pool("disbursement", self.disbursementPorts),
            notification: try pool("notification", self.notificationPorts)
        )
        let database = try await DatabaseOption.connect(
            self.database, password: settings.secret("database-password"), logger: logger)
        // The pool's connections are served (PostgreSQL) for as long as the service runs.
        try await database.running {
            let store = try await GatewayStore.open(
                database, replica: "\(ProcessInfo.processInfo.hostName):\(self.options.port)")
            // Campaigns this replica was running when it was last stopped resume on the next call, not a lease later.
            let released = try await store.releaseEarlierRuns()
            if released > 0 {
                logger.info("campaigns of this replica's last run released", metadata: ["count": "\(released)"])
            }
            let audit = try AuditLog(path: self.auditLog, logger: logger)
            var router = RPCRouter()
            let handlers = GatewayHandlers(
                services: services, audit: audit, limiter: CountyRateLimiter(rate: self.rate, burst: self.burst),
                store: store)
            handlers.register(into: &router)
            let alongside: [any Service] = [
                CampaignGauges(handlers: handlers, logger: logger),
                ReplicaResolution(
                    pools: [services.catalog, services.eligibility, services.disbursement, services.notification],
                    interval: resolveInterval, logger: logger),
            ]
            let tls = try TLSFiles.load(directory: self.options.certificates, name: identity)
            // The gRPC face, the HTTP/JSON face and the console hand each call to this gateway's mesh server in
            // process, on the caller's behalf: one behaviour, four faces, no hop over loopback.
            let gatewayParty = try PeerIdentity(certificatePEM: tls.certificateChainPEM)
            let (grpcPort, httpPort, consolePort) = (self.grpcPort, self.httpPort, self.consolePort)
            let host = self.options.host
            let drain = Duration.seconds(self.options.drainSeconds)
            try await ServiceRunner.run(
                name: "gateway", options: self.options, router: router, services: alongside,
                callExecution: .connectionEventLoop,
                faces: { server in
                    let own = MeshClient(serving: server, as: gatewayParty, logger: logger)
                    var faces: [any Service] = []
                    if let grpcPort {
                        faces.append(
                            try GRPCFace(
                                configuration: .init(host: host, port: grpcPort, tls: tls, drainGracePeriod: drain),
                                mesh: server, logger: logger))
                    }
                    if let httpPort {
                        faces.append(
                            try GatewayHTTP.application(
                                host: host, port: httpPort, tls: tls, gateway: own, logger: logger))
                    }
                    if let consolePort {
                        let console = try Console(store: store, gateway: own, services: services, audit: audit)
                        faces.append(try console.application(host: host, port: consolePort, tls: tls, logger: logger))
                    }
                    return faces
                })
        }
    }
}
