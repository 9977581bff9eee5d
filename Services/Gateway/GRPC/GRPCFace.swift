import GRPCCore
import GRPCNIOTransportHTTP2Posix
import Logging
import MeshProtocol
import MeshRPC
import MeshTransport
import NIOPosix
import ServiceLifecycle

/// The gateway's standard gRPC port (HTTP/2 over mutual TLS, grpc-swift-2 with its NIO transport), for county
/// systems whose gRPC library, grpcurl or proxy speaks gRPC rather than the mesh protocol.
///
/// Every method the gateway's mesh server routes is registered here under the same name and answered by that
/// server in process (`MeshServer.serve(_: InProcessCall)`): the caller's certificate, the door's
/// authorization, the rate limits, the audit, the deadline (`grpc-timeout`), the metadata and the status codes
/// are the native face's, by construction. `grpc.health.v1.Health` (Check and Watch) answers from the same
/// server's health, and server reflection (`grpc.reflection.v1`) describes it all from the .proto files.
public final class GRPCFace: Service, Sendable {
    public struct Configuration: Sendable {
        /// An IPv4 or IPv6 address to listen on.
        public var host: String
        /// 0 picks a free port; `boundPort()` tells which.
        public var port: Int
        /// The gateway's own certificate and key, and the mesh CA a caller's certificate must chain to.
        public var tls: MeshTLSConfiguration
        /// The largest request message accepted (the mesh protocol's own limit, so both faces refuse alike).
        public var maxRequestBytes: Int
        /// How long calls in flight (a watch, say) may run after a graceful shutdown begins before they are
        /// cancelled.
        public var drainGracePeriod: Duration

        public init(
            host: String, port: Int, tls: MeshTLSConfiguration,
            maxRequestBytes: Int = ConnectionSettings.defaultMaxFrameSize,
            drainGracePeriod: Duration = .seconds(10)
        ) {
            self.host = host
            self.port = port
            self.tls = tls
            self.maxRequestBytes = maxRequestBytes
            self.drainGracePeriod = drainGracePeriod
        }
    }

    let configuration: Configuration
    let transport: HTTP2ServerTransport.Custom<GRPCListener>
    let server: GRPCServer<HTTP2ServerTransport.Custom<GRPCListener>>
    /// The caller of each open connection.
    let peers = ConnectionPeers()
    let logger: Logger

    public init(configuration: Configuration, mesh: MeshServer, logger: Logger) throws {
        var config = HTTP2ServerTransport.Custom<GRPCListener>.Config.defaults
        config.rpc.maxRequestPayloadSize = Self.transportCap(for: configuration.maxRequestBytes)
        // As many calls at once on one connection as the mesh protocol allows.
        config.http2.maxConcurrentStreams = ConnectionSettings.default.maxConcurrentStreams
        let transport = HTTP2ServerTransport.Custom(
            listenerFactory: try GRPCListener(
                host: configuration.host, port: configuration.port, tls: configuration.tls, peers: self.peers),
            config: config)
        self.configuration = configuration
        self.logger = logger
        self.transport = transport
        self.server = GRPCServer(
            transport: transport,
            services: [
                BridgedRoutes(mesh: mesh, maxRequestBytes: configuration.maxRequestBytes, peers: self.peers),
                StandardHealth(
                    mesh: mesh,
                    portServices: Set(
                        [StandardHealth.service] + ServerReflection.packages.map { $0 + ".ServerReflection" })),
                ServerReflection(mesh: mesh),
            ])
    }

    /// The transport's own cap on a request message: twice the limit. A message between the two is refused
    /// with a status naming the limit (`ByteBufferCoding`); grpc-swift-nio-transport resets the stream of one
    /// over its cap (the client sees UNAVAILABLE), which the higher cap keeps to messages far out of bounds.
    static func transportCap(for limit: Int) -> Int { limit.multipliedReportingOverflow(by: 2).partialValue }

    /// The port the face listens on, once it does.
    public func boundPort() async throws -> Int {
        let address = await self.transport.listeningAddress
        if let port = address?.ipv4?.port ?? address?.ipv6?.port { return port }
        throw GRPCFaceError(message: "the gRPC face has no IP listening address")
    }

    public func run() async throws {
        let (draining, startDraining) = AsyncStream<Void>.makeStream()
        let grace = self.configuration.drainGracePeriod
        try await withGracefulShutdownHandler {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    try await self.server.serve()
                }
                // Calls still running once the grace period is over (a watch the client keeps open) are
                // cancelled with the server's task.
                group.addTask {
                    for await _ in draining {
                        try await Task.sleep(for: grace)
                        self.logger.warning("gRPC calls still running after the grace period are cancelled")
                        throw CancellationError()
                    }
                }
                do {
                    try await group.next()
                } catch is CancellationError {}
                group.cancelAll()
            }
        } onGracefulShutdown: {
            self.logger.info("gRPC face draining")
            self.server.beginGracefulShutdown()
            startDraining.yield()
        }
        self.logger.info("gRPC face stopped")
    }
}
