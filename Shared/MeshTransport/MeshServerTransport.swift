import Logging
import MeshProtocol
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL

/// Listens for mesh connections over TLS. There is no plaintext listener.
public enum MeshServerTransport {
    /// Binds and returns the listening channel; each element is one accepted connection.
    public static func bind(
        host: String,
        port: Int,
        tls: MeshTLSConfiguration,
        configuration: MeshTransportConfiguration = .init(),
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger
    ) async throws -> NIOAsyncChannel<ServerConnection, Never> {
        let sslContext = try tls.makeServerContext()
        let counter = ConnectionCounter(limit: configuration.maxConnections)
        return try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            .childChannelOption(.allowRemoteHalfClosure, value: false)
            .bind(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    let (calls, continuation) = AsyncStream<InboundCall>.makeStream()
                    let ready = channel.eventLoop.makePromise(of: Void.self)
                    if !counter.acquire() {
                        logger.warning(
                            "connection refused: limit reached", metadata: ["limit": "\(configuration.maxConnections)"])
                        continuation.finish()
                        ready.fail(
                            TransportError(
                                .connectionClosed,
                                "server holds its maximum of \(configuration.maxConnections) connections"))
                        channel.close(promise: nil)
                        let handler = MeshConnectionHandler(
                            role: .server, settings: configuration.settings, timeouts: configuration.timeouts,
                            calls: nil, ready: ready, logger: logger)
                        return ServerConnection(
                            calls: calls, handle: handler.makeHandle(eventLoop: channel.eventLoop), channel: channel)
                    }
                    channel.closeFuture.whenComplete { _ in counter.release() }
                    let handler = MeshConnectionHandler(
                        role: .server, settings: configuration.settings, timeouts: configuration.timeouts,
                        calls: continuation, ready: ready, logger: logger
                    )
                    let handle = handler.makeHandle(eventLoop: channel.eventLoop)
                    try channel.pipeline.syncOperations.addHandlers([
                        NIOSSLServerHandler(context: sslContext),
                        ByteToMessageHandler(FrameDecoder(maxFrameSize: configuration.settings.maxFrameSize)),
                        handler,
                    ])
                    // A peer that never completes the handshake and preface (a slowloris) is dropped.
                    let timeout = channel.eventLoop.scheduleTask(in: configuration.handshakeTimeout) {
                        logger.notice(
                            "closing connection: no preface", metadata: ["timeout": "\(configuration.handshakeTimeout)"]
                        )
                        channel.close(promise: nil)
                    }
                    ready.futureResult.whenComplete { _ in timeout.cancel() }
                    return ServerConnection(calls: calls, handle: handle, channel: channel)
                }
            }
    }
}

/// Counts open connections across event loops.
final class ConnectionCounter: Sendable {
    private let state: NIOLockedValueBox<Int> = .init(0)
    let limit: Int

    init(limit: Int) { self.limit = limit }

    func acquire() -> Bool {
        self.state.withLockedValue { count in
            guard count < self.limit else { return false }
            count += 1
            return true
        }
    }

    func release() {
        self.state.withLockedValue { $0 -= 1 }
    }
}
