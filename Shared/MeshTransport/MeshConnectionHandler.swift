import Logging
import MeshProtocol
import MeshWire
import NIOCore
import NIOSSL
import SwiftProtobuf

/// A call the server side received: its stream, its head, and who sent it.
public struct InboundCall: Sendable {
    public let stream: MeshStream
    public let head: Mesh_Rpc_V1_RequestHead
    public let peer: PeerIdentity?
    public let receivedAt: NIODeadline
}

/// The thin shell around `ConnectionStateMachine`: turns frames into state machine events, carries out the
/// actions it returns, and bridges each stream to the tasks that use it.
final class MeshConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = FrameDecoderEvent
    typealias OutboundOut = ByteBuffer

    /// Per-stream bridge between the event loop and the call's task.
    struct StreamBridge {
        var continuation: AsyncThrowingStream<InboundPart, any Error>.Continuation
        var pending: [(parts: ArraySlice<OutboundPart>, promise: EventLoopPromise<Void>?)] = []
        var onCancel: (@Sendable (TransportError) -> Void)?
    }

    private var stateMachine: ConnectionStateMachine
    private var bridges: [UInt32: StreamBridge] = [:]
    private(set) var context: ChannelHandlerContext?
    private var timer: RepeatedTask?
    private var peer: PeerIdentity?
    private let logger: Logger
    /// Server: where new calls go.
    private let calls: AsyncStream<InboundCall>.Continuation?
    /// Client: completed when the server's preface arrives, or failed when the connection fails first.
    let ready: EventLoopPromise<Void>
    /// The reason the connection closed, reported to every call still open.
    private var closeReason: TransportError?
    private var handle: ConnectionHandle?
    /// A flush is already scheduled for this pass of the event loop.
    private var flushScheduled = false

    init(
        role: ConnectionStateMachine.Role,
        settings: ConnectionSettings,
        timeouts: ConnectionStateMachine.Timeouts,
        calls: AsyncStream<InboundCall>.Continuation?,
        ready: EventLoopPromise<Void>,
        logger: Logger
    ) {
        self.stateMachine = ConnectionStateMachine(role: role, localSettings: settings, timeouts: timeouts, now: .now())
        self.calls = calls
        self.ready = ready
        self.logger = logger
    }

    func makeHandle(eventLoop: any EventLoop) -> ConnectionHandle {
        let handle = ConnectionHandle(
            handler: self, eventLoop: eventLoop, initialWindowSize: self.stateMachine.localSettings.initialWindowSize)
        self.handle = handle
        return handle
    }

    // MARK: Channel events

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if context.channel.isActive { self.start(context: context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        self.start(context: context)
        context.fireChannelActive()
    }

    private func start(context: ChannelHandlerContext) {
        guard self.timer == nil else { return }
        var buffer = context.channel.allocator.buffer(capacity: 64)
        ConnectionPreface.current.encode(into: &buffer)
        Frame(type: .settings, streamID: 0, payload: self.stateMachine.localSettings.encode()).encode(into: &buffer)
        context.writeAndFlush(self.wrapOutboundOut(buffer), promise: nil)
        let interval = Self.tickInterval(self.stateMachine.timeouts)
        let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
        self.timer = context.eventLoop.scheduleRepeatedTask(initialDelay: interval, delay: interval) { _ in
            loopBound.value.tick()
        }
    }

    static func tickInterval(_ timeouts: ConnectionStateMachine.Timeouts) -> TimeAmount {
        let candidates = [timeouts.idleTimeout, timeouts.keepaliveInterval, timeouts.keepaliveTimeout].compactMap { $0 }
        let smallest = candidates.min() ?? .seconds(1)
        return max(.milliseconds(10), min(.seconds(1), .nanoseconds(smallest.nanoseconds / 4)))
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.timer?.cancel()
        self.timer = nil
        let reason =
            self.closeReason ?? TransportError(.connectionClosed, "connection closed by the peer without a GOAWAY")
        self.ready.fail(reason)
        for id in self.stateMachine.close() { self.failStream(id, reason) }
        for id in self.bridges.keys { self.failStream(id, reason) }
        self.calls?.finish()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch self.unwrapInboundIn(data) {
        case .preface:
            self.stateMachine.receivePreface(now: .now())
            self.peer = Self.peerIdentity(context: context)
            self.ready.succeed()
        case .frame(let frame):
            self.handle(self.stateMachine.receive(frame, now: .now()), context: context)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let error = error as? ConnectionError {
            self.connectionError(error, context: context)
            return
        }
        let reason: String
        if let error = error as? NIOSSLError {
            reason = "TLS failed: \(error)"
        } else if let error = error as? BoringSSLError {
            reason = "TLS failed: \(error)"
        } else {
            reason = "connection failed: \(error)"
        }
        self.logger.notice(
            "closing connection", metadata: ["reason": "\(reason)", "peer": "\(self.peer?.description ?? "-")"])
        self.closeReason = self.closeReason ?? TransportError(.connectionClosed, reason)
        context.close(promise: nil)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case .some(ChannelEvent.inputClosed) = event as? ChannelEvent {
            self.closeReason =
                self.closeReason ?? TransportError(.connectionClosed, "peer closed its side of the connection")
            context.close(promise: nil)
        }
        context.fireUserInboundEventTriggered(event)
    }

    private static func peerIdentity(context: ChannelHandlerContext) -> PeerIdentity? {
        guard let tls = try? context.pipeline.syncOperations.handler(type: NIOSSLHandler.self),
            let certificate = tls.peerCertificate
        else { return nil }
        return try? PeerIdentity(certificate: certificate)
    }

    // MARK: State machine actions

    private func handle(_ action: ConnectionStateMachine.InboundAction, context: ChannelHandlerContext) {
        switch action {
        case .none:
            break
        case .openStream(let id, let head):
            guard let handle = self.handle else { return }
            let (base, continuation) = AsyncThrowingStream<InboundPart, any Error>.makeStream()
            self.bridges[id] = StreamBridge(continuation: continuation)
            let stream = MeshStream(id: id, connection: handle, base: base)
            self.calls?.yield(InboundCall(stream: stream, head: head, peer: self.peer, receivedAt: .now()))
        case .refuseStream(let id, let trailers):
            self.logger.info("refused stream", metadata: ["stream": "\(id)", "reason": "\(trailers.message)"])
            self.writeFrame(.trailers, streamID: id, message: trailers, context: context)
            context.flush()
        case .deliverResponseHead(let id, let head):
            self.bridges[id]?.continuation.yield(.responseHead(head))
        case .deliverMessage(let id, let buffer):
            self.bridges[id]?.continuation.yield(.message(buffer))
        case .deliverEnd(let id):
            self.bridges[id]?.continuation.finish()
        case .deliverTrailers(let id, let trailers):
            if let bridge = self.bridges.removeValue(forKey: id) {
                bridge.continuation.yield(.trailers(trailers))
                bridge.continuation.finish()
                for entry in bridge.pending {
                    entry.promise?.fail(
                        TransportError(.streamClosed, "the server ended the call before the client finished sending"))
                }
            }
            self.closeIfDrained(context: context)
        case .cancelStream(let id, let payload):
            self.failStream(
                id, TransportError(.cancelled, "client cancelled the call (code \(payload.code)): \(payload.reason)"))
            self.closeIfDrained(context: context)
        case .resumeWrites(let id):
            self.drainPending(streamID: id, context: context)
        case .resumeAllWrites:
            for id in self.bridges.keys { self.drainPending(streamID: id, context: context) }
        case .sendPingAck(let data):
            context.writeAndFlush(
                self.wrapOutboundOut(
                    self.encode(
                        Frame(type: .ping, flags: .ack, streamID: 0, payload: PingPayload.encode(data)),
                        context: context)), promise: nil)
        case .goAwayReceived(let goAway, let refused, let closeNow):
            let reason = "peer sent GOAWAY (\(goAway.code)): \(goAway.message)"
            self.logger.info(
                "peer is going away", metadata: ["code": "\(goAway.code)", "message": "\(goAway.message)"])
            for id in refused {
                self.failStream(id, TransportError(.streamRefused, "\(reason); the call was not processed"))
            }
            self.closeReason = TransportError(.connectionClosed, reason)
            self.ready.fail(TransportError(.connectionClosed, reason))
            if closeNow { context.close(promise: nil) }
        case .connectionError(let error):
            self.connectionError(error, context: context)
        }
    }

    private func connectionError(_ error: ConnectionError, context: ChannelHandlerContext) {
        self.logger.notice(
            "connection error",
            metadata: [
                "code": "\(error.code)", "message": "\(error.message)", "peer": "\(self.peer?.description ?? "-")",
            ])
        let goAway = GoAwayPayload(
            lastStreamID: self.stateMachine.lastProcessedStreamID, code: error.code, message: error.message)
        let reason = TransportError(.connectionClosed, "connection error (\(error.code)): \(error.message)")
        self.closeReason = self.closeReason ?? reason
        for id in self.stateMachine.close() { self.failStream(id, reason) }
        let frame = self.encode(Frame(type: .goAway, streamID: 0, payload: goAway.encode()), context: context)
        let channel = context.channel
        context.writeAndFlush(self.wrapOutboundOut(frame)).whenComplete { _ in channel.close(promise: nil) }
    }

    private func tick() {
        guard let context = self.context else { return }
        switch self.stateMachine.tick(now: .now()) {
        case .none:
            break
        case .sendPing(let data):
            context.writeAndFlush(
                self.wrapOutboundOut(
                    self.encode(Frame(type: .ping, streamID: 0, payload: PingPayload.encode(data)), context: context)),
                promise: nil)
        case .closeIdle(let goAway):
            self.closeReason = TransportError(.connectionClosed, goAway.message)
            let frame = self.encode(Frame(type: .goAway, streamID: 0, payload: goAway.encode()), context: context)
            let channel = context.channel
            context.writeAndFlush(self.wrapOutboundOut(frame)).whenComplete { _ in channel.close(promise: nil) }
        case .connectionError(let error):
            self.connectionError(error, context: context)
        }
    }

    /// Fails the stream's reader and pending writers, and tells a server handler it was cancelled.
    private func failStream(_ id: UInt32, _ error: TransportError) {
        guard let bridge = self.bridges.removeValue(forKey: id) else { return }
        bridge.continuation.finish(throwing: error)
        for entry in bridge.pending { entry.promise?.fail(error) }
        bridge.onCancel?(error)
    }

    private func closeIfDrained(context: ChannelHandlerContext) {
        if self.stateMachine.isClosed, self.bridges.isEmpty {
            context.flush()
            context.close(promise: nil)
        }
    }

    // MARK: Operations from tasks (always on the event loop)

    func openStream(head: Mesh_Rpc_V1_RequestHead, parts: [OutboundPart], handle: ConnectionHandle) throws -> (
        MeshStream, EventLoopFuture<Void>
    ) {
        guard let context = self.context else {
            throw self.closeReason ?? TransportError(.connectionClosed, "connection is closed")
        }
        switch self.stateMachine.openStream(now: .now()) {
        case .refused(let reason):
            throw TransportError(.streamRefused, reason)
        case .opened(let id):
            let (base, continuation) = AsyncThrowingStream<InboundPart, any Error>.makeStream()
            self.bridges[id] = StreamBridge(continuation: continuation)
            self.writeFrame(.headers, streamID: id, message: head, context: context)
            let promise = context.eventLoop.makePromise(of: Void.self)
            self.write(streamID: id, parts: parts, promise: promise)
            return (MeshStream(id: id, connection: handle, base: base), promise.futureResult)
        }
    }

    func write(streamID: UInt32, parts: [OutboundPart], promise: EventLoopPromise<Void>?) {
        guard let context = self.context, self.bridges[streamID] != nil else {
            promise?.fail(self.closeReason ?? TransportError(.streamClosed, "stream \(streamID) has ended"))
            return
        }
        if case .trailers(let trailers) = parts.last, trailers.code != 0, !self.bridges[streamID]!.pending.isEmpty {
            // An error status jumps the queue: a deadline or failure must reach a client that stopped reading.
            self.writeTrailers(trailers, streamID: streamID, completing: promise, context: context)
            self.flushSoon(context: context)
            return
        }
        self.bridges[streamID]!.pending.append((parts[...], promise))
        self.drainPending(streamID: streamID, context: context)
    }

    /// Writes queued parts in order until the stream's window runs out.
    private func drainPending(streamID: UInt32, context: ChannelHandlerContext) {
        var wrote = false
        defer { if wrote { self.flushSoon(context: context) } }
        while var entry = self.bridges[streamID]?.pending.first {
            var failure: TransportError?
            while failure == nil, let part = entry.parts.first {
                switch part {
                case .message(let buffer):
                    switch self.stateMachine.sendMessage(streamID: streamID, size: buffer.readableBytes) {
                    case .send:
                        context.write(
                            self.wrapOutboundOut(
                                self.encode(
                                    Frame(type: .message, streamID: streamID, payload: buffer), context: context)),
                            promise: nil)
                        wrote = true
                    case .wait:
                        self.bridges[streamID]!.pending[0] = entry
                        return
                    case .streamClosed:
                        failure = TransportError(.streamClosed, "stream \(streamID) has ended")
                    case .tooLarge(let limit):
                        failure = TransportError(
                            .messageTooLarge,
                            "message of \(buffer.readableBytes) bytes exceeds the peer's maximum frame size of \(limit) bytes"
                        )
                    }
                case .end:
                    if self.stateMachine.sendEnd(streamID: streamID) {
                        context.write(
                            self.wrapOutboundOut(self.encode(Frame(type: .end, streamID: streamID), context: context)),
                            promise: nil)
                        wrote = true
                    }
                case .responseHead(let head):
                    self.writeFrame(.headers, streamID: streamID, message: head, context: context)
                    wrote = true
                case .trailers(let trailers):
                    self.bridges[streamID]?.pending.removeFirst()
                    self.writeTrailers(trailers, streamID: streamID, completing: entry.promise, context: context)
                    wrote = true
                    return
                }
                entry.parts = entry.parts.dropFirst()
            }
            self.bridges[streamID]?.pending.removeFirst()
            if let failure {
                entry.promise?.fail(failure)
            } else {
                entry.promise?.succeed()
            }
        }
    }

    /// Ends the stream on this side (server): TRAILERS, then the bridge is gone.
    private func writeTrailers(
        _ trailers: Mesh_Rpc_V1_Trailers, streamID: UInt32, completing promise: EventLoopPromise<Void>?,
        context: ChannelHandlerContext
    ) {
        let action = self.stateMachine.closeStream(streamID: streamID, now: .now())
        if action != .none {
            self.writeFrame(.trailers, streamID: streamID, message: trailers, context: context)
        }
        if let bridge = self.bridges.removeValue(forKey: streamID) {
            bridge.continuation.finish()
            for other in bridge.pending {
                other.promise?.fail(TransportError(.streamClosed, "stream \(streamID) has ended"))
            }
        }
        promise?.succeed()
        if action == .sendAndClose {
            context.flush()
            context.close(promise: nil)
        }
    }

    func cancel(streamID: UInt32, code: UInt32, reason: String) {
        guard let context = self.context else { return }
        let action = self.stateMachine.closeStream(streamID: streamID, now: .now())
        if action != .none {
            let payload = CancelPayload(code: code, reason: reason).encode()
            context.writeAndFlush(
                self.wrapOutboundOut(
                    self.encode(Frame(type: .cancel, streamID: streamID, payload: payload), context: context)),
                promise: nil)
        }
        self.failStream(streamID, TransportError(.cancelled, reason))
        if action == .sendAndClose { context.close(promise: nil) }
    }

    func consumed(streamID: UInt32, size: Int) {
        guard let context = self.context, let increment = self.stateMachine.consumed(streamID: streamID, size: size)
        else { return }
        context.write(
            self.wrapOutboundOut(
                self.encode(
                    Frame(type: .windowUpdate, streamID: streamID, payload: WindowUpdatePayload.encode(increment)),
                    context: context)), promise: nil)
        self.flushSoon(context: context)
    }

    func setCancellationHandler(streamID: UInt32, _ callback: @escaping @Sendable (TransportError) -> Void) {
        if self.bridges[streamID] != nil {
            self.bridges[streamID]!.onCancel = callback
        } else {
            // The stream ended (cancelled, or the connection failed) before the handler registered.
            callback(
                self.closeReason ?? TransportError(.cancelled, "stream \(streamID) ended before its handler started"))
        }
    }

    /// Ends every stream now, then closes. The streams do not wait for the channel to go inactive: behind TLS
    /// that waits for the peer's close_notify (up to the close timeout), and a handler blocked writing to a
    /// peer that stopped reading would wait as long.
    func abort(reason: String) {
        let error = TransportError(.connectionClosed, reason)
        self.closeReason = self.closeReason ?? error
        for id in self.stateMachine.close() { self.failStream(id, error) }
        for id in self.bridges.keys { self.failStream(id, error) }
        self.calls?.finish()
        self.context?.close(promise: nil)
    }

    func drain(reason: String) {
        guard let context = self.context, let (goAway, closeNow) = self.stateMachine.beginDrain(reason: reason) else {
            return
        }
        self.closeReason = TransportError(.connectionClosed, "connection drained: \(reason)")
        let frame = self.encode(Frame(type: .goAway, streamID: 0, payload: goAway.encode()), context: context)
        let channel = context.channel
        context.writeAndFlush(self.wrapOutboundOut(frame)).whenComplete { _ in
            if closeNow { channel.close(promise: nil) }
        }
    }

    /// Flushes once the event loop has run what it has queued: every frame written by the calls it serves in
    /// this pass shares one flush, so one TLS record and one `write` where a flush per frame cost a system
    /// call each (and NIOSSL's flush was a fifth of the CPU of a busy connection). Control frames (GOAWAY,
    /// PING) still flush at once.
    private func flushSoon(context: ChannelHandlerContext) {
        guard !self.flushScheduled else { return }
        self.flushScheduled = true
        let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
        context.eventLoop.execute {
            let handler = loopBound.value
            handler.flushScheduled = false
            handler.context?.flush()
        }
    }

    // MARK: Encoding

    private func encode(_ frame: Frame, context: ChannelHandlerContext) -> ByteBuffer {
        var buffer = context.channel.allocator.buffer(capacity: Frame.headerLength + frame.payload.readableBytes)
        frame.encode(into: &buffer)
        return buffer
    }

    private func writeFrame(
        _ type: FrameType, streamID: UInt32, message: some SwiftProtobuf.Message, context: ChannelHandlerContext
    ) {
        let bytes: [UInt8] = (try? message.serializedBytes()) ?? []
        var buffer = context.channel.allocator.buffer(capacity: Frame.headerLength + bytes.count)
        buffer.writeInteger(UInt32(bytes.count))
        buffer.writeInteger(type.rawValue)
        buffer.writeInteger(UInt8(0))
        buffer.writeInteger(streamID)
        buffer.writeBytes(bytes)
        context.write(self.wrapOutboundOut(buffer), promise: nil)
    }
}
