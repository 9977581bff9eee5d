import GatewayGRPC
import MeshRPC
import MeshTestSupport
import MeshTransport
import NIOCore
import NIOPosix
import NIOSSL
import NIOTLS
import Testing

/// The gRPC port's TLS, from a raw TLS client: 1.3 only, a certificate of the mesh CA required.
@Suite("gRPC face TLS", .timeLimit(.minutes(1)))
struct GRPCFaceTLSTests {
    /// How a TLS client with these settings fares against the face at `port`: whether its handshake completed,
    /// and whether the server then closed the connection (a TLS 1.3 server refuses a missing client
    /// certificate only after the client's side of the handshake is done).
    static func handshake(port: Int, maximum: TLSVersion, certificate: Bool) async throws -> (
        completed: Bool, closedByServer: Bool
    ) {
        let credentials = TestMesh.credentials.client
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.maximumTLSVersion = maximum
        configuration.trustRoots = .certificates(
            try NIOSSLCertificate.fromPEMBytes(Array(credentials.trustRootsPEM.utf8)))
        configuration.certificateVerification = .noHostnameVerification
        configuration.applicationProtocols = ["h2"]
        if certificate {
            configuration.certificateChain = try NIOSSLCertificate.fromPEMBytes(
                Array(credentials.certificateChainPEM.utf8)
            ).map { .certificate($0) }
            configuration.privateKey = .privateKey(
                try NIOSSLPrivateKey(bytes: Array(credentials.privateKeyPEM.utf8), format: .pem))
        }
        let context = try NIOSSLContext(configuration: configuration)
        let (events, signal) = AsyncStream<Bool>.makeStream()
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        try NIOSSLClientHandler(context: context, serverHostname: nil))
                    try channel.pipeline.syncOperations.addHandler(HandshakeWatcher(signal: signal))
                }
            }
            .connect(host: "127.0.0.1", port: port).get()
        channel.closeFuture.whenComplete { _ in signal.yield(false) }
        // The first event: true when the handshake completed, false when the connection closed first.
        var iterator = events.makeAsyncIterator()
        let completed = await iterator.next() ?? false
        var closedByServer = !completed
        if completed, !certificate {
            // Refused after the fact: the server's alert closes the connection.
            closedByServer = await iterator.next() == false
        }
        try? await channel.close()
        return (completed, closedByServer)
    }

    final class HandshakeWatcher: ChannelInboundHandler, Sendable {
        typealias InboundIn = NIOAny
        let signal: AsyncStream<Bool>.Continuation
        init(signal: AsyncStream<Bool>.Continuation) { self.signal = signal }

        func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
            if case .handshakeCompleted = event as? TLSUserEvent { self.signal.yield(true) }
            context.fireUserInboundEventTriggered(event)
        }
    }

    @Test("the gRPC port speaks TLS 1.3 only, and only to a certificate of the mesh CA")
    func tlsThirteenOnly() async throws {
        try await TestMesh.withServer(router: RPCRouter()) { server, _ in
            let face = try GRPCFace(
                configuration: .init(
                    host: "127.0.0.1", port: 0, tls: TestMesh.credentials.server, drainGracePeriod: .seconds(1)),
                mesh: server, logger: TestMesh.logger)
            try await GRPCFaceTests.running(face) { port in
                let accepted = try await Self.handshake(port: port, maximum: .tlsv13, certificate: true)
                #expect(accepted.completed && !accepted.closedByServer)
                let oldTLS = try await Self.handshake(port: port, maximum: .tlsv12, certificate: true)
                #expect(!oldTLS.completed && oldTLS.closedByServer)
                let anonymous = try await Self.handshake(port: port, maximum: .tlsv13, certificate: false)
                #expect(anonymous.closedByServer)
            }
        }
    }
}
