import GRPCNIOTransportHTTP2Posix
import MeshTransport
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL
import NIOTLS

/// The gRPC port's listener, in place of grpc-swift-nio-transport's Posix one, which fixes TLS's minimum at
/// 1.2: TLS 1.3 only, the caller's certificate required and chained to the mesh CA, ALPN `h2`. Each accepted
/// connection's certificate is kept by the connection's remote address (`ServerContext.remotePeer`), for the
/// calls on it to be made as that party; the entry goes with the connection.
struct GRPCListener: HTTP2ServerTransport.ListenerFactory {
    let eventLoopGroup: any EventLoopGroup
    let host: String
    let port: Int
    let sslContext: NIOSSLContext
    let peers: ConnectionPeers

    init(host: String, port: Int, tls: MeshTLSConfiguration, peers: ConnectionPeers) throws {
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMBytes(Array(tls.certificateChainPEM.utf8)).map {
                .certificate($0)
            },
            privateKey: .privateKey(try NIOSSLPrivateKey(bytes: Array(tls.privateKeyPEM.utf8), format: .pem)))
        configuration.minimumTLSVersion = .tlsv13
        configuration.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(Array(tls.trustRootsPEM.utf8)))
        // The caller is named by its certificate, which must chain to the mesh CA; callers have no hostname.
        configuration.certificateVerification = .noHostnameVerification
        configuration.applicationProtocols = ["grpc-exp", "h2"]
        self.sslContext = try NIOSSLContext(configuration: configuration)
        self.eventLoopGroup = MultiThreadedEventLoopGroup.singleton
        self.host = host
        self.port = port
        self.peers = peers
    }

    func makeListeningChannel(
        listenerConfigurator: HTTP2ServerTransport.ListenerConfigurator,
        connectionConfigurator: HTTP2ServerTransport.ConnectionConfigurator
    ) async throws -> NIOAsyncChannel<HTTP2ServerTransport.ConnectionConfigurator.ConnectionChannel, Never> {
        let (sslContext, peers) = (self.sslContext, self.peers)
        return try await ServerBootstrap(group: self.eventLoopGroup)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelInitializer { channel in listenerConfigurator.configure(channel: channel) }
            .bind(host: self.host, port: self.port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: sslContext))
                    try channel.pipeline.syncOperations.addHandler(ConnectionPeers.Recorder(peers: peers))
                }.flatMap {
                    connectionConfigurator.configure(channel: channel, tls: .configured(requireALPN: true))
                }
            }
    }
}

/// The certificate of each open connection of the gRPC port, by its remote address as gRPC names it
/// (`ipv4:127.0.0.1:54321`). An entry is removed only by the connection that made it, so a new connection
/// from a reused address is never named by an old one; a call whose connection has no entry has no peer,
/// and the mesh server's door refuses it.
final class ConnectionPeers: Sendable {
    private let byAddress = NIOLockedValueBox<[String: (connection: ObjectIdentifier, peer: PeerIdentity)]>([:])

    func identity(of remotePeer: String) -> PeerIdentity? {
        self.byAddress.withLockedValue { $0[remotePeer]?.peer }
    }

    /// gRPC's name for an address (grpc-swift-nio-transport's `remoteAddressInfo`).
    static func name(_ address: NIOCore.SocketAddress?) -> String? {
        switch address {
        case .v4(let ipv4): address?.port.map { "ipv4:\(ipv4.host):\($0)" }
        case .v6(let ipv6): address?.port.map { "ipv6:[\(ipv6.host)]:\($0)" }
        default: nil
        }
    }

    /// Keeps the connection's certificate once its handshake completes; forgets it when the connection ends.
    final class Recorder: ChannelInboundHandler, RemovableChannelHandler {
        typealias InboundIn = NIOAny
        let peers: ConnectionPeers
        private var key: String?

        init(peers: ConnectionPeers) { self.peers = peers }

        func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
            if case .handshakeCompleted = event as? TLSUserEvent, let name = ConnectionPeers.name(context.remoteAddress)
            {
                // Before any byte of HTTP/2 is read: the connection's first call finds its caller here.
                if let certificate = try? context.pipeline.syncOperations.nioSSL_peerCertificate(),
                    let peer = try? PeerIdentity(certificate: certificate)
                {
                    let connection = ObjectIdentifier(context.channel)
                    self.peers.byAddress.withLockedValue { $0[name] = (connection, peer) }
                    self.key = name
                }
            }
            context.fireUserInboundEventTriggered(event)
        }

        func channelInactive(context: ChannelHandlerContext) {
            if let key = self.key {
                let connection = ObjectIdentifier(context.channel)
                self.peers.byAddress.withLockedValue { peers in
                    if peers[key]?.connection == connection { peers[key] = nil }
                }
            }
            context.fireChannelInactive()
        }
    }
}
