import MeshWire
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

    /// One request message; waits while the handler has `window` bytes or more unread. Throws `streamClosed`
    /// once the server has answered the call (or it was cancelled or closed): nobody will read it.
    public func send(_ message: ByteBuffer) async throws {
        await self.link.requests.reserve(message.readableBytes)
        if let ended = self.link.ended { throw ended }
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

    /// The caller's end, for a client in the same process (`MeshClient(serving:as:)`): a stream whose writes are
    /// this call's requests and whose inbound parts are what the server writes, and the pump that carries the
    /// server's parts to it, to run beside the call. The pump holds the server back while `window` bytes of
    /// responses are unread.
    public func clientEnd(window: Int = 1 << 20) -> (stream: MeshStream, pump: @Sendable () async -> Void) {
        let (inbound, continuation) = AsyncThrowingStream<InboundPart, any Error>.makeStream()
        let end = ClientEnd(call: self, window: InProcessWindow(limit: window))
        let responses = self.responses
        let pump: @Sendable () async -> Void = {
            for await response in responses {
                for part in response.parts {
                    switch part {
                    case .responseHead(let head): continuation.yield(.responseHead(head))
                    case .message(let buffer):
                        await end.window.reserve(buffer.readableBytes)
                        continuation.yield(.message(buffer))
                    case .trailers(let trailers): continuation.yield(.trailers(trailers))
                    case .end: break
                    }
                }
                response.taken()
            }
            continuation.finish()
        }
        return (MeshStream(clientEnd: end, base: inbound), pump)
    }

    /// What a client's stream holds of an in-process call.
    final class ClientEnd: Sendable {
        let call: InProcessCall
        /// Response bytes the pump handed over and the client has not read.
        let window: InProcessWindow

        init(call: InProcessCall, window: InProcessWindow) {
            self.call = call
            self.window = window
        }

        func write(_ parts: [OutboundPart]) async throws {
            for part in parts {
                switch part {
                case .message(let buffer): try await self.call.send(buffer)
                case .end: self.call.finishRequests()
                case .responseHead, .trailers: break
                }
            }
        }

        func cancel(reason: String) {
            self.window.close()
            self.call.cancel(reason: reason)
        }
    }

    /// The face stopped reading responses: writes from now on fail, and a `send` waiting returns.
    public func close() {
        self.link.close()
        self.requests.finish()
    }

    /// The shared state of the two ends.
    final class Link: Sendable {
        let eventLoop: any EventLoop
        private let responder: AsyncStream<Response>.Continuation
        /// The request bytes sent and not yet read by the handler.
        let requests: InProcessWindow
        private struct State {
            var onCancel: (@Sendable (TransportError) -> Void)?
            var cancelled: TransportError?
            var closed = false
            /// The server wrote its trailers.
            var answered = false
        }
        private let state = NIOLockedValueBox(State())

        init(eventLoop: any EventLoop, responder: AsyncStream<Response>.Continuation, window: Int) {
            self.eventLoop = eventLoop
            self.responder = responder
            self.requests = InProcessWindow(limit: window)
        }

        func write(_ parts: [OutboundPart]) async throws {
            let closed = self.state.withLockedValue { $0.closed || $0.cancelled != nil }
            if closed { throw TransportError(.streamClosed, "the in-process call has ended") }
            let promise = self.eventLoop.makePromise(of: Void.self)
            if case .terminated = self.responder.yield(Response(parts: parts, promise: promise)) {
                promise.fail(TransportError(.streamClosed, "the in-process call has ended"))
            }
            let ends = parts.contains { if case .trailers = $0 { return true } else { return false } }
            if ends {
                // The call is over: a request still waiting for room in the window goes on, and is refused.
                self.state.withLockedValue { $0.answered = true }
                self.requests.close()
                self.responder.finish()
            }
            // A writer cancelled while its parts wait (the face's task group torn down) fails rather than waits
            // for a reader that is gone.
            try await withTaskCancellationHandler {
                try await promise.futureResult.get()
            } onCancel: {
                promise.fail(CancellationError())
            }
        }

        func onCancel(_ handler: @escaping @Sendable (TransportError) -> Void) {
            let already = self.state.withLockedValue { state -> TransportError? in
                state.onCancel = handler
                return state.cancelled
            }
            if let already { handler(already) }
        }

        func cancel(_ error: TransportError) {
            let handler = self.state.withLockedValue { state -> (@Sendable (TransportError) -> Void)? in
                guard state.cancelled == nil else { return nil }
                state.cancelled = error
                return state.onCancel
            }
            self.requests.close()
            handler?(error)
            self.responder.finish()
        }

        func close() {
            self.state.withLockedValue { $0.closed = true }
            self.requests.close()
            self.responder.finish()
        }

        func consumed(_ bytes: Int) { self.requests.consumed(bytes) }

        /// Why a request can no longer be sent, if it cannot.
        var ended: TransportError? {
            self.state.withLockedValue { state in
                if let cancelled = state.cancelled { return cancelled }
                if state.answered { return TransportError(.streamClosed, "the server already answered the call") }
                if state.closed { return TransportError(.streamClosed, "the in-process call has ended") }
                return nil
            }
        }

    }
}
