import Foundation
import Logging
import MeshIdentity
import MeshPKI
import MeshRPC
import MeshTransport
import NIOConcurrencyHelpers
import ServiceLifecycle

/// Certificates made in-process, and helpers to run a server and a client over real mutual TLS on loopback.
public enum TestMesh {
    public struct Credentials: Sendable {
        public let server: MeshTLSConfiguration
        public let client: MeshTLSConfiguration
        /// A client certificate from a different CA.
        public let strangerClient: MeshTLSConfiguration
        /// A client with no certificate at all.
        public let anonymousClient: MeshTLSConfiguration
    }

    /// The CA every test certificate comes from.
    public static let authority = try! CertificateAuthority.create()

    /// Client credentials for any party, issued by the test CA (cached per name and role).
    public static func credentials(for name: String, role: PartyRole, serverHostname: String = "catalog")
        -> MeshTLSConfiguration
    {
        let key = "\(role.rawValue)/\(name)"
        if let cached = issued.withLockedValue({ $0[key] }) { return cached }
        let certificate = try! authority.issue(commonName: name, role: role, dnsNames: [name])
        let configuration = MeshTLSConfiguration(
            certificateChainPEM: certificate.certificatePEM, privateKeyPEM: certificate.privateKeyPEM,
            trustRootsPEM: authority.certificatePEM, serverHostname: serverHostname
        )
        issued.withLockedValue { $0[key] = configuration }
        return configuration
    }

    private static let issued = NIOLockedValueBox([String: MeshTLSConfiguration]())

    public static let credentials: Credentials = {
        let authority = Self.authority
        let server = try! authority.issue(commonName: "catalog", role: .service, dnsNames: ["catalog", "localhost"])
        let client = try! authority.issue(commonName: "nanhu", role: .county, dnsNames: [])
        let otherAuthority = try! CertificateAuthority.create(commonName: "Someone Else's CA")
        let stranger = try! otherAuthority.issue(commonName: "nanhu", role: .county, dnsNames: [])
        return Credentials(
            server: MeshTLSConfiguration(
                certificateChainPEM: server.certificatePEM, privateKeyPEM: server.privateKeyPEM,
                trustRootsPEM: authority.certificatePEM),
            client: MeshTLSConfiguration(
                certificateChainPEM: client.certificatePEM, privateKeyPEM: client.privateKeyPEM,
                trustRootsPEM: authority.certificatePEM, serverHostname: "catalog"),
            strangerClient: MeshTLSConfiguration(
                certificateChainPEM: stranger.certificatePEM, privateKeyPEM: stranger.privateKeyPEM,
                trustRootsPEM: authority.certificatePEM, serverHostname: "catalog"),
            anonymousClient: MeshTLSConfiguration(
                certificateChainPEM: "", privateKeyPEM: "", trustRootsPEM: authority.certificatePEM,
                serverHostname: "catalog")
        )
    }()

    public static let logger: Logger = {
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        return logger
    }()

    /// Runs a server for the duration of `body`, then shuts it down gracefully.
    public static func withServer<Result>(
        router: RPCRouter,
        interceptors: [any ServerInterceptor] = [],
        transport: MeshTransportConfiguration = .init(),
        tls: MeshTLSConfiguration = credentials.server,
        drainGracePeriod: Duration = .seconds(2),
        callExecution: MeshServer.CallExecution = .cooperativePool,
        _ body: (MeshServer, Int) async throws -> Result
    ) async throws -> Result {
        let server = MeshServer(
            configuration: .init(
                port: 0, tls: tls, transport: transport, drainGracePeriod: drainGracePeriod, serverName: "test",
                callExecution: callExecution),
            router: router, interceptors: interceptors, logger: logger
        )
        let group = ServiceGroup(
            services: [server], gracefulShutdownSignals: [], cancellationSignals: [], logger: logger)
        return try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            let port = try await server.boundPort()
            do {
                let result = try await body(server, port)
                await group.triggerGracefulShutdown()
                // A server that has not stopped long after its grace period is a failure, not a hang.
                tasks.addTask {
                    try await Task.sleep(for: .seconds(20))
                    throw ShutdownTooSlow()
                }
                try await tasks.next()
                tasks.cancelAll()
                return result
            } catch {
                tasks.cancelAll()
                throw error
            }
        }
    }

    public static func client(
        port: Int, tls: MeshTLSConfiguration = credentials.client, transport: MeshTransportConfiguration = .init()
    ) -> MeshClient {
        MeshClient(configuration: .init(port: port, tls: tls, transport: transport), logger: logger)
    }
}

extension TestMesh {
    /// The repository's root folder (where Package.swift is).
    public static let repositoryRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    /// The source policy documents the catalog quotes, kept in the repository beside the catalog files.
    public static var sourcesDirectory: String { "\(repositoryRoot)/Services/Catalog/Data/sources" }

    /// Copies the repository's catalog files (one JSON file per document, the vocabulary, and the calendar
    /// folder), not its sources, into `directory`.
    public static func copyCatalogFiles(to directory: String) throws {
        let data = "\(repositoryRoot)/Services/Catalog/Data"
        let files = FileManager.default
        for name in try files.contentsOfDirectory(atPath: data) where name.hasSuffix(".json") {
            try files.copyItem(atPath: "\(data)/\(name)", toPath: "\(directory)/\(name)")
        }
        try files.copyItem(atPath: "\(data)/calendar", toPath: "\(directory)/calendar")
    }
}

extension TestMesh {
    /// A server that runs until `stop()`, for tests that take one replica away while others go on.
    public final class RunningServer: Sendable {
        public let server: MeshServer
        let group: ServiceGroup
        let task: Task<Void, any Error>

        public init(
            router: RPCRouter, interceptors: [any ServerInterceptor] = [DelegationInterceptor()], name: String = "test",
            host: String = "127.0.0.1", port: Int = 0
        ) async throws {
            let server = MeshServer(
                configuration: .init(
                    host: host, port: port, tls: TestMesh.credentials.server, drainGracePeriod: .seconds(1),
                    serverName: name),
                router: router, interceptors: interceptors, logger: TestMesh.logger
            )
            let group = ServiceGroup(
                services: [server], gracefulShutdownSignals: [], cancellationSignals: [], logger: TestMesh.logger)
            self.server = server
            self.group = group
            self.task = Task { try await group.run() }
            _ = try await server.boundPort()
        }

        public func port() async throws -> Int { try await self.server.boundPort() }

        public func stop() async {
            await self.group.triggerGracefulShutdown()
            _ = try? await self.task.value
        }
    }
}

/// The test server did not stop within 20 s of its graceful shutdown.
public struct ShutdownTooSlow: Error, CustomStringConvertible {
    public var description: String { "the server did not stop within 20 s of its graceful shutdown" }
}

extension CallOptions {
    /// A call as the gateway makes it for `party` (`role/name`): the services take parties' calls from the
    /// gateway only, so tests that start the services without a gateway play its part with its certificate.
    public static func onBehalfOf(_ party: String, timeout: Duration? = nil) -> CallOptions {
        var metadata = Metadata()
        metadata.add(DelegationInterceptor.header, party)
        return CallOptions(timeout: timeout, metadata: metadata)
    }
}
