import Logging
import MeshProtocol
import MeshWire
import NIOCore
import NIOPosix
import NIOSSL

/// A client's connection to one server: opens streams on it.
public struct ClientConnection: Sendable {
    let handle: ConnectionHandle
    let channel: any Channel

    /// Connects over TLS and waits for the server's preface.
    public static func connect(
        host: String,
        port: Int,
        tls: MeshTLSConfiguration,
        configuration: MeshTransportConfiguration = .init(),
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger
    ) async throws -> ClientConnection {
        let sslContext = try tls.makeClientContext()
        let connection = try await ClientBootstrap(group: group)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .connectTimeout(configuration.handshakeTimeout)
            .connect(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    let ready = channel.eventLoop.makePromise(of: Void.self)
                    let handler = MeshConnectionHandler(
                        role: .client, settings: configuration.settings, timeouts: configuration.timeouts,
                        calls: nil, ready: ready, logger: logger
                    )
                    let handle = handler.makeHandle(eventLoop: channel.eventLoop)
                    try channel.pipeline.syncOperations.addHandlers([
                        try NIOSSLClientHandler(context: sslContext, serverHostname: tls.serverHostname),
                        ByteToMessageHandler(FrameDecoder(maxFrameSize: configuration.settings.maxFrameSize)),
                        handler,
                    ])
                    // A peer that accepts TCP but never completes TLS and the preface (a wrong port, a stuck
                    // server) fails the connect after the handshake timeout instead of holding it forever.
                    let timeout = channel.eventLoop.scheduleTask(in: configuration.handshakeTimeout) {
                        ready.fail(
                            TransportError(
                                .connectionClosed,
                                "no TLS handshake and preface from \(host):\(port) within \(configuration.handshakeTimeout)"
                            ))
                        channel.close(promise: nil)
                    }
                    ready.futureResult.whenComplete { _ in timeout.cancel() }
                    return (ClientConnection(handle: handle, channel: channel), ready.futureResult)
                }
            }
        do {
            try await connection.1.get()
        } catch {
            connection.0.channel.close(promise: nil)
            throw error
        }
        return connection.0
    }

    /// Opens a stream with the request head and writes `parts` right behind it, in one flush.
    public func openStream(head: Mesh_Rpc_V1_RequestHead, parts: [OutboundPart] = []) async throws -> MeshStream {
        try await self.handle.openStream(head: head, parts: parts)
    }

    /// Stops opening streams and closes once those open have ended.
    public func drain(reason: String) {
        self.handle.drain(reason: reason)
    }

    public func close() async {
        try? await self.channel.close()
    }

    public var isActive: Bool { self.channel.isActive }
    public var closeFuture: EventLoopFuture<Void> { self.channel.closeFuture }
}

extension ClientConnection {
    /// Identifies the underlying channel, so a client can tell a stale connection from its replacement.
    public var channelID: ObjectIdentifier { ObjectIdentifier(self.channel) }
}
