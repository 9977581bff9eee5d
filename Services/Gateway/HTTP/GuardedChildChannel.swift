import HummingbirdCore
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOSSL
import NIOTLS

/// The limits of a TLS listener in front of Hummingbird: at most `maximumConnections` open at once (the
/// next is closed as it arrives), a TLS handshake finished within `handshakeTimeout` (a silent
/// connection or a slow ClientHello is closed then), and the first request's head (or the HTTP/2 preface)
/// whole within `headTimeout` after it (a client trickling its headers byte by byte is closed then), and
/// closed once it has been `idleTimeout` without a request in flight. The idle clock runs from the last response and only a whole request head restarts it, so a later
/// head trickled on a kept-alive connection is closed at the idle timeout. Without them a peer held 2,000
/// idle connections and kept each for 75 s and more.
public struct ConnectionLimits: Sendable {
    public var maximumConnections: Int
    /// Connections one client address may hold, so one county system cannot take the whole listener.
    public var maximumPerAddress: Int
    public var handshakeTimeout: Duration
    public var headTimeout: Duration
    /// How long a connection (or an HTTP/2 stream) may stay without a request in flight.
    public var idleTimeout: Duration

    public init(
        maximumConnections: Int = 1_000, maximumPerAddress: Int = 100, handshakeTimeout: Duration = .seconds(10),
        headTimeout: Duration = .seconds(10), idleTimeout: Duration = .seconds(60)
    ) {
        self.maximumConnections = maximumConnections
        self.maximumPerAddress = maximumPerAddress
        self.handshakeTimeout = handshakeTimeout
        self.headTimeout = headTimeout
        self.idleTimeout = idleTimeout
    }
}

/// Wraps a server's child channel with `ConnectionLimits`.
public struct GuardedChildChannel<Base: ServerChildChannel>: ServerChildChannel {
    public typealias Value = Base.Value

    let base: Base
    let limits: ConnectionLimits
    let open: ConnectionCount

    public init(_ base: Base, limits: ConnectionLimits, open: ConnectionCount) {
        self.base = base
        self.limits = limits
        self.open = open
    }

    public func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        let address = channel.remoteAddress?.ipAddress ?? "?"
        guard self.open.admit(address, below: self.limits.maximumConnections, perAddress: self.limits.maximumPerAddress)
        else {
            logger.notice(
                "connection refused: the listener is at its limit",
                metadata: [
                    "address": "\(address)", "maximum": "\(self.limits.maximumConnections)",
                    "perAddress": "\(self.limits.maximumPerAddress)",
                ])
            // Closed as soon as it is active: a failed setup left the accepted socket open until later.
            do {
                try channel.pipeline.syncOperations.addHandler(CloseWhenActive())
            } catch {
                return channel.eventLoop.makeFailedFuture(error)
            }
            return self.base.setup(channel: channel, logger: logger)
        }
        let open = self.open
        channel.closeFuture.whenComplete { _ in open.release(address) }
        let value = self.base.setup(channel: channel, logger: logger)
        // The base put its TLS handler in the pipeline synchronously; the deadline goes right after it, in
        // the same turn of the event loop, so it sees the handshake complete however soon that happens.
        do {
            let pipeline = channel.pipeline.syncOperations
            let tls = try pipeline.handler(type: NIOSSLServerHandler.self)
            try pipeline.addHandler(
                HandshakeDeadline(timeout: self.limits.handshakeTimeout, headTimeout: self.limits.headTimeout),
                position: .after(tls))
        } catch {
            channel.close(promise: nil)
            return channel.eventLoop.makeFailedFuture(error)
        }
        return value
    }

    public func handle(value: Value, logger: Logger) async {
        await self.base.handle(value: value, logger: logger)
    }
}

/// Connections open on one listener, in all and per client address.
public final class ConnectionCount: Sendable {
    private let state = NIOLockedValueBox((total: 0, byAddress: [String: Int]()))

    public init() {}

    public var current: Int { self.state.withLockedValue { $0.total } }

    func admit(_ address: String, below maximum: Int, perAddress: Int) -> Bool {
        self.state.withLockedValue { state in
            guard state.total < maximum, state.byAddress[address, default: 0] < perAddress else { return false }
            state.total += 1
            state.byAddress[address, default: 0] += 1
            return true
        }
    }

    func release(_ address: String) {
        self.state.withLockedValue { state in
            state.total -= 1
            let left = state.byAddress[address, default: 1] - 1
            state.byAddress[address] = left > 0 ? left : nil
        }
    }
}

/// Closes the connection unless the TLS handshake completes within `timeout` and then the first request's
/// head (HTTP/1: up to its blank line; HTTP/2: the connection preface, which ends in one too) arrives whole
/// within `headTimeout`; once it has, takes itself out of the pipeline.
final class HandshakeDeadline: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer

    let timeout: Duration
    let headTimeout: Duration
    private var timer: Scheduled<Void>?
    /// Bytes of "\r\n\r\n" matched so far, after the handshake; nil before it.
    private var matched: Int?

    init(timeout: Duration, headTimeout: Duration) {
        self.timeout = timeout
        self.headTimeout = headTimeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.arm(context, self.timeout)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.timer?.cancel()
        self.timer = nil
    }

    private func arm(_ context: ChannelHandlerContext, _ timeout: Duration) {
        let channel = context.channel
        self.timer?.cancel()
        self.timer = context.eventLoop.scheduleTask(in: TimeAmount(timeout)) { channel.close(promise: nil) }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if var matched = self.matched {
            let terminator: [UInt8] = [13, 10, 13, 10]
            for byte in self.unwrapInboundIn(data).readableBytesView {
                matched = byte == terminator[matched] ? matched + 1 : (byte == 13 ? 1 : 0)
                if matched == terminator.count { break }
            }
            self.matched = matched
            context.fireChannelRead(data)
            if matched == terminator.count {
                context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
            }
            return
        }
        context.fireChannelRead(data)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? TLSUserEvent, case .handshakeCompleted = event {
            self.matched = 0
            self.arm(context, self.headTimeout)
        }
        context.fireUserInboundEventTriggered(event)
    }
}

/// Closes a connection the listener has no room for, once it is active.
final class CloseWhenActive: ChannelInboundHandler {
    typealias InboundIn = NIOAny

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { context.close(promise: nil) }
    }

    func channelActive(context: ChannelHandlerContext) {
        context.close(promise: nil)
    }
}
