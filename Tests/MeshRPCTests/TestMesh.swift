import Logging
import MeshPKI
import MeshRPC
import MeshTransport
import ServiceLifecycle

/// Certificates made in-process, and helpers to run a server and a client over real mutual TLS on loopback.
enum TestMesh {
    struct Credentials: Sendable {
        let server: MeshTLSConfiguration
        let client: MeshTLSConfiguration
        /// A client certificate from a different CA.
        let strangerClient: MeshTLSConfiguration
        /// A client with no certificate at all.
        let anonymousClient: MeshTLSConfiguration
    }

    static let credentials: Credentials = {
        let authority = try! CertificateAuthority.create()
        let server = try! authority.issue(commonName: "catalog", role: .service, dnsNames: ["catalog", "localhost"])
        let client = try! authority.issue(commonName: "nanhu", role: .county, dnsNames: [])
        let otherAuthority = try! CertificateAuthority.create(commonName: "Someone Else's CA")
        let stranger = try! otherAuthority.issue(commonName: "nanhu", role: .county, dnsNames: [])
        return Credentials(
            server: MeshTLSConfiguration(certificateChainPEM: server.certificatePEM, privateKeyPEM: server.privateKeyPEM, trustRootsPEM: authority.certificatePEM),
            client: MeshTLSConfiguration(certificateChainPEM: client.certificatePEM, privateKeyPEM: client.privateKeyPEM, trustRootsPEM: authority.certificatePEM, serverHostname: "catalog"),
            strangerClient: MeshTLSConfiguration(certificateChainPEM: stranger.certificatePEM, privateKeyPEM: stranger.privateKeyPEM, trustRootsPEM: authority.certificatePEM, serverHostname: "catalog"),
            anonymousClient: MeshTLSConfiguration(certificateChainPEM: "", privateKeyPEM: "", trustRootsPEM: authority.certificatePEM, serverHostname: "catalog")
        )
    }()

    static let logger: Logger = {
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        return logger
    }()

    /// Runs a server for the duration of `body`, then shuts it down gracefully.
    static func withServer<Result>(
        router: RPCRouter = InteropService.router(),
        interceptors: [any ServerInterceptor] = [],
        transport: MeshTransportConfiguration = .init(),
        _ body: (MeshServer, Int) async throws -> Result
    ) async throws -> Result {
        let server = MeshServer(
            configuration: .init(port: 0, tls: credentials.server, transport: transport, drainGracePeriod: .seconds(2), serverName: "test"),
            router: router, interceptors: interceptors, logger: logger
        )
        let group = ServiceGroup(services: [server], gracefulShutdownSignals: [], cancellationSignals: [], logger: logger)
        return try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            let port = try await server.boundPort()
            do {
                let result = try await body(server, port)
                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
                return result
            } catch {
                tasks.cancelAll()
                throw error
            }
        }
    }

    static func client(port: Int, tls: MeshTLSConfiguration = credentials.client, transport: MeshTransportConfiguration = .init()) -> MeshClient {
        MeshClient(configuration: .init(port: port, tls: tls, transport: transport), logger: logger)
    }
}
