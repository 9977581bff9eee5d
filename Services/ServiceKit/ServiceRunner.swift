import Logging
import MeshRPC
import ServiceLifecycle
import UnixSignals

/// Runs one service executable: its mesh server plus any background services, as a service group that
/// drains gracefully on SIGTERM or SIGINT.
public enum ServiceRunner {
    /// The service's door (`ServiceAccess`), first of its interceptors. A name without a table is refused at
    /// start rather than served open.
    static func door(_ name: String) throws -> DoorInterceptor {
        guard let access = ServiceAccess.all[name] else {
            throw ServiceAccessError(
                message:
                    "no access table for service '\(name)'; known: \(ServiceAccess.all.keys.sorted().joined(separator: ", "))"
            )
        }
        return DoorInterceptor(access)
    }

    /// - Parameters:
    ///   - foundations: what the server's handlers stand on (the ledger's committer): started before the
    ///     server and, since a group stops its services in reverse, stopped only after the server drained, so
    ///     a call in flight at SIGTERM still completes.
    ///   - services: background work beside the server, stopped before it.
    ///   - faces: other doors to the same server (the gateway's gRPC port), made from it; stopped before it.
    ///   - callExecution: where the handlers run unless `--call-execution` says; on the connections' event
    ///     loops only where none blocks.
    public static func run(
        name: String,
        version: String = MeshRelease.version,
        options: ServiceOptions,
        router: RPCRouter,
        interceptors: [any ServerInterceptor] = [],
        foundations: [any Service] = [],
        services: [any Service] = [],
        startsServing: Bool = true,
        callExecution: MeshServer.CallExecution = .cooperativePool,
        faces: (MeshServer) throws -> [any Service] = { _ in [] },
        configure: (MeshServer) -> Void = { _ in }
    ) async throws {
        let logger = options.logger(label: "jiaxing.\(name)")
        // Spans for every call and HTTP request, `traceparent` carried on (one process, one service, one run).
        let exporter = try ServiceTracing.bootstrap(serviceName: name)
        // Metrics go to Prometheus when they are served: bootstrap before anything makes a metric.
        let registry = options.metricsPort.map { _ in ServiceMetrics.registry }
        let tls = try TLSFiles.load(directory: options.certificates, name: options.identity ?? name)
        let server = MeshServer(
            configuration: .init(
                host: options.host, port: options.port, tls: tls,
                drainGracePeriod: .seconds(options.drainSeconds), serverName: "\(name) \(version)",
                callExecution: options.callExecution ?? callExecution
            ),
            router: router,
            interceptors: [try Self.door(name), DelegationInterceptor()] + interceptors, logger: logger
        )
        server.setServing(startsServing)
        configure(server)
        // The span exporter first: a group stops its services in reverse, so it flushes after the server drained.
        var all: [any Service] = (exporter.map { [$0] } ?? []) + foundations + [server] + (try faces(server)) + services
        if let metricsPort = options.metricsPort, let registry {
            all.append(
                MetricsEndpoint(
                    host: options.host, port: metricsPort, registry: registry, isReady: { server.isServing },
                    logger: logger))
        }
        let group = ServiceGroup(
            configuration: .init(
                services: all.map { .init(service: $0) },
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            )
        )
        try await group.run()
    }
}
