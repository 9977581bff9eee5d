import MeshMessages
import NIOConcurrencyHelpers
import NIOCore

/// A call served in process: another face of the same server (the gateway's standard gRPC port) hands the
/// mesh server a call that came in over its own protocol, so the same routes, interceptors, deadlines and
/// status codes answer it, without a hop over loopback.
///
/// The face feeds the request messages with `send` and `finishRequests`, and reads what the server writes
/// from `responses` until the trailers. Both directions hold back: `send` waits while the handler has more
/// than `window` bytes unread, and a server write returns only once the face took it (`Response.taken`), so a
/// slow client holds the handler back instead of growing memory.
public struct InProcessCall: Sendable {
    public let call: InboundCall
    /// What the server writes, in order; ends after the trailers, or when the call is given up.
    public let responses: AsyncStream<Response>
    let link: Link
    let requests: AsyncThrowingStream<InboundPart, any Error>.Continuation

    /// Parts the server wrote, and the write waiting for the face to take them.
    public struct Response: Sendable {
        public let parts: [OutboundPart]
        let promise: EventLoopPromise<Void>

        /// The face passed the parts on: the server's write returns.
        public func taken() { self.promise.succeed() }

        /// The face could not pass them on (the client is gone): the server's write fails with `error`.
        public func refused(_ error: any Error) { self.promise.fail(error) }
    }

    /// - Parameters:
    ///   - head: the method, metadata and timeout, as a mesh client would send them.
    ///   - peer: who called, from the face's own TLS handshake.
    ///   - window: request bytes the handler may leave unread before `send` waits.
    public init(
        head: Mesh_Rpc_V1_RequestHead, peer: PeerIdentity?, eventLoop: any EventLoop, window: Int = 1 << 20
    ) {
        let (requestStream, requests) = AsyncThrowingStream<InboundPart, any Error>.makeStream()
        let (responses, responder) = AsyncStream<Response>.makeStream()
        let link = Link(eventLoop: eventLoop, responder: responder, window: window)
        self.link = link
        self.requests = requests
        self.responses = responses
        self.call = InboundCall(
            stream: MeshStream(link: link, base: requestStream), head: head, peer: peer, receivedAt: .now())
    }

    /// One request message; waits while the handler has `window` bytes or more unread.
    public func send(_ message: ByteBuffer) async {
        await self.link.reserve(message.readableBytes)
        self.requests.yield(.message(message))
    }

    /// No more request messages (the client half-closed), or the request stream failed.
    public func finishRequests(throwing error: (any Error)? = nil) {
        self.requests.finish(throwing: error)
    }

    /// The client went away or the face gave up the call: the handler is cancelled as for a mesh client's
    /// cancellation, and any write still waiting fails.
    public func cancel(reason: String) {
        self.link.cancel(TransportError(.cancelled, reason))
        self.requests.finish(throwing: TransportError(.cancelled, reason))
    }

    /// The face stopped reading responses: writes from now on fail, and a `send` waiting returns.
    public func close() {
        self.link.close()
    }

    /// The shared state of the two ends.
    final class Link: Sendable {
        let eventLoop: any EventLoop
        private let responder: AsyncStream<Response>.Continuation
        private let window: Int
        private struct State {
            var onCancel: (@Sendable (TransportError) -> Void)?
            var cancelled: TransportError?
            var closed = false
            var unread = 0
            var waiting: [(bytes: Int, continuation: CheckedContinuation<Void, Never>)] = []
        }
        private let state = NIOLockedValueBox(State())

        init(eventLoop: any EventLoop, responder: AsyncStream<Response>.Continuation, window: Int) {
            self.eventLoop = eventLoop
            self.responder = responder
            self.window = window
        }

        func write(_ parts: [OutboundPart]) async throws {
            let closed = self.state.withLockedValue { $0.closed || $0.cancelled != nil }
            if closed { throw TransportError(.streamClosed, "the in-process call has ended") }
            let promise = self.eventLoop.makePromise(of: Void.self)
            if case .terminated = self.responder.yield(Response(parts: parts, promise: promise)) {
                promise.fail(TransportError(.streamClosed, "the in-process call has ended"))
            }
            let ends = parts.contains { if case .trailers = $0 { return true } else { return false } }
            if ends { self.responder.finish() }
            try await promise.futureResult.get()
        }

        func onCancel(_ handler: @escaping @Sendable (TransportError) -> Void) {
            let already = self.state.withLockedValue { state -> TransportError? in
                state.onCancel = handler
                return state.cancelled
            }
            if let already { handler(already) }
        }

        func cancel(_ error: TransportError) {
            typealias Taken = (
                handler: (@Sendable (TransportError) -> Void)?,
                waiting: [(bytes: Int, continuation: CheckedContinuation<Void, Never>)]
            )
            let taken = self.state.withLockedValue { state -> Taken in
                guard state.cancelled == nil else { return (nil, []) }
                state.cancelled = error
                let waiting = state.waiting
                state.waiting = []
                return (state.onCancel, waiting)
            }
            for waiter in taken.waiting { waiter.continuation.resume() }
            taken.handler?(error)
            self.responder.finish()
        }

        func close() {
            let waiting = self.state.withLockedValue { state in
                state.closed = true
                defer { state.waiting = [] }
                return state.waiting
            }
            for waiter in waiting { waiter.continuation.resume() }
            self.responder.finish()
        }

        /// Waits until the handler has read enough for `bytes` more to fit the window (one message always fits
        /// an empty window), then counts them as unread. Returns at once once the call is cancelled or closed.
        func reserve(_ bytes: Int) async {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let ready = self.state.withLockedValue { state -> Bool in
                    if state.cancelled != nil || state.closed || state.unread == 0
                        || state.unread + bytes <= self.window
                    {
                        state.unread += bytes
                        return true
                    }
                    state.waiting.append((bytes, continuation))
                    return false
                }
                if ready { continuation.resume() }
            }
        }

        /// The handler read `bytes`: waiting senders go on, in order, as far as the window has room (a waiter
        /// let through is counted as unread here).
        func consumed(_ bytes: Int) {
            let admitted = self.state.withLockedValue { state -> [CheckedContinuation<Void, Never>] in
                state.unread = max(0, state.unread - bytes)
                var admitted: [CheckedContinuation<Void, Never>] = []
                while let next = state.waiting.first, state.unread == 0 || state.unread + next.bytes <= self.window {
                    state.waiting.removeFirst()
                    state.unread += next.bytes
                    admitted.append(next.continuation)
                }
                return admitted
            }
            for continuation in admitted { continuation.resume() }
        }
    }
}
