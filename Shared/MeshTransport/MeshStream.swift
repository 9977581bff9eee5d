import MeshWire
import NIOCore

/// What arrives on a stream. A server sees messages only (the request ends when the sequence ends); a
/// client sees an optional response head, messages, then trailers.
public enum InboundPart: Sendable {
    case responseHead(Mesh_Rpc_V1_ResponseHead)
    case message(ByteBuffer)
    case trailers(Mesh_Rpc_V1_Trailers)
}

/// What a side writes on a stream.
public enum OutboundPart: Sendable {
    /// Server: metadata before the first message.
    case responseHead(Mesh_Rpc_V1_ResponseHead)
    case message(ByteBuffer)
    /// Client: no more messages.
    case end
    /// Server: the call is over.
    case trailers(Mesh_Rpc_V1_Trailers)
}

/// One call's stream on a connection, usable from any task, or a call served in process (a gRPC call the
/// gateway's gRPC face hands to the same server, `InProcessCall`).
public struct MeshStream: Sendable {
    public let id: UInt32
    let carrier: Carrier
    let base: AsyncThrowingStream<InboundPart, any Error>

    /// What carries the stream's parts: a mesh connection, or the in-process end of another face's call.
    enum Carrier: Sendable {
        case connection(ConnectionHandle)
        /// The server's end of an in-process call.
        case inProcess(InProcessCall.Link)
        /// The client's end of an in-process call.
        case inProcessClient(InProcessCall.ClientEnd)
    }

    init(id: UInt32, connection: ConnectionHandle, base: AsyncThrowingStream<InboundPart, any Error>) {
        self.id = id
        self.carrier = .connection(connection)
        self.base = base
    }

    init(link: InProcessCall.Link, base: AsyncThrowingStream<InboundPart, any Error>) {
        self.id = 1
        self.carrier = .inProcess(link)
        self.base = base
    }

    init(clientEnd: InProcessCall.ClientEnd, base: AsyncThrowingStream<InboundPart, any Error>) {
        self.id = 1
        self.carrier = .inProcessClient(clientEnd)
        self.base = base
    }

    /// The parts the peer sends, in order. Reading a message grants the peer more window.
    public var inbound: Inbound { Inbound(stream: self) }

    /// Writes the parts in order; returns when they are handed to the connection. Waits while the peer's
    /// window is exhausted, so a slow reader holds the writer back instead of growing memory.
    public func write(_ parts: [OutboundPart]) async throws {
        switch self.carrier {
        case .connection(let connection): try await connection.write(streamID: self.id, parts: parts)
        case .inProcess(let link): try await link.write(parts)
        case .inProcessClient(let end): try await end.write(parts)
        }
    }

    public func write(_ part: OutboundPart) async throws {
        try await self.write([part])
    }

    /// Client: abandon the call. The server's handler is cancelled.
    public func cancel(code: UInt32, reason: String) {
        switch self.carrier {
        case .connection(let connection): connection.cancel(streamID: self.id, code: code, reason: reason)
        case .inProcessClient(let end): end.cancel(reason: reason)
        case .inProcess: break
        }
    }

    /// Client: abandon the call at `deadline` unless the returned task is cancelled before.
    public func cancel(at deadline: NIODeadline, code: UInt32, reason: String) -> Scheduled<Void> {
        switch self.carrier {
        case .connection(let connection):
            return connection.cancel(streamID: self.id, at: deadline, code: code, reason: reason)
        case .inProcess(let link):
            return link.eventLoop.scheduleTask(deadline: deadline) {}
        case .inProcessClient(let end):
            return end.call.link.eventLoop.scheduleTask(deadline: deadline) { end.cancel(reason: reason) }
        }
    }

    /// Server: runs `body` on the connection's event loop at `deadline`, unless the returned task is
    /// cancelled first. A timer on the event loop, where a task sleeping until the deadline cost a task and a
    /// dispatch timer per call.
    public func schedule(at deadline: NIODeadline, _ body: @escaping @Sendable () -> Void) -> Scheduled<Void> {
        switch self.carrier {
        case .connection(let connection): connection.eventLoop.scheduleTask(deadline: deadline, body)
        case .inProcess(let link): link.eventLoop.scheduleTask(deadline: deadline, body)
        case .inProcessClient(let end): end.call.link.eventLoop.scheduleTask(deadline: deadline, body)
        }
    }

    /// Server: `handler` runs when the client cancels the call or the connection is lost before the call
    /// ends: on the connection's event loop, or for an in-process call on the thread that cancels it.
    public func onCancel(_ handler: @escaping @Sendable (TransportError) -> Void) {
        switch self.carrier {
        case .connection(let connection): connection.onCancel(streamID: self.id, handler)
        case .inProcess(let link): link.onCancel(handler)
        case .inProcessClient: break
        }
    }

    public struct Inbound: AsyncSequence, Sendable {
        public typealias Element = InboundPart
        let stream: MeshStream

        public func makeAsyncIterator() -> AsyncIterator {
            AsyncIterator(
                base: self.stream.base.makeAsyncIterator(), carrier: self.stream.carrier, streamID: self.stream.id)
        }

        public struct AsyncIterator: AsyncIteratorProtocol {
            var base: AsyncThrowingStream<InboundPart, any Error>.AsyncIterator
            let carrier: Carrier
            let streamID: UInt32
            /// Bytes read and not yet reported to the connection. Whatever is left when the stream ends is
            /// never reported: windows are per stream. A sender held back by the window has sent at least the
            /// whole window, so a reader that keeps up always gathers enough to report.
            var unreported = 0

            public mutating func next() async throws -> InboundPart? {
                let part = try await self.base.next()
                if case .message(let buffer) = part {
                    switch self.carrier {
                    case .connection(let connection):
                        self.unreported += buffer.readableBytes
                        if self.unreported >= connection.consumedReportBytes {
                            connection.consumed(streamID: self.streamID, size: self.unreported)
                            self.unreported = 0
                        }
                    case .inProcess(let link):
                        link.consumed(buffer.readableBytes)
                    case .inProcessClient(let end):
                        end.window.consumed(buffer.readableBytes)
                    }
                }
                return part
            }
        }
    }
}
