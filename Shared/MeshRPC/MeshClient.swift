import Logging
import MeshProtocol
import MeshTracing
import MeshTransport
import MeshWire
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import SwiftProtobuf
import Tracing

/// A client of one mesh server (one address). Shares one connection among all calls, connects lazily and
/// reconnects when the connection closes or drains. Or a client of a server in the same process
/// (`init(serving:as:)`): each call is handed to that server as an in-process call, with no connection.
public final class MeshClient: Sendable {
    public struct Configuration: Sendable {
        public var host: String
        public var port: Int
        public var tls: MeshTLSConfiguration
        public var transport: MeshTransportConfiguration

        public init(
            host: String = "127.0.0.1", port: Int, tls: MeshTLSConfiguration,
            transport: MeshTransportConfiguration = .init()
        ) {
            self.host = host
            self.port = port
            self.tls = tls
            self.transport = transport
        }
    }

    private enum State {
        case idle
        case connecting(Task<ClientConnection, any Error>)
        case connected(ClientConnection)
        case closed
    }

    /// Where calls go.
    private enum Target: Sendable {
        case network(Configuration)
        /// A server of this process, and who the calls come from (what a connection's certificate would say).
        case inProcess(MeshServer, PeerIdentity)
    }

    private let target: Target
    private let logger: Logger
    private let state = NIOLockedValueBox(State.idle)

    public init(configuration: Configuration, logger: Logger = Logger(label: "mesh.client")) {
        self.target = .network(configuration)
        self.logger = logger
    }

    /// A client of `server`, in this process, calling as `peer`: the server's interceptors and handlers see
    /// the calls as they would see the same party's calls over a connection, without TLS or a socket.
    public init(serving server: MeshServer, as peer: PeerIdentity, logger: Logger = Logger(label: "mesh.client")) {
        self.target = .inProcess(server, peer)
        self.logger = logger
    }

    /// The address and TLS of a client over the network; nil for an in-process client.
    public var configuration: Configuration? {
        guard case .network(let configuration) = self.target else { return nil }
        return configuration
    }

    /// Where calls go, for messages.
    private var address: String {
        switch self.target {
        case .network(let configuration): "\(configuration.host):\(configuration.port)"
        case .inProcess: "the in-process server"
        }
    }

    /// Runs `body`, then closes the client, whether `body` returned or threw: its connection ends with a
    /// goodbye the server hears, not with the process (a `defer` cannot await the close).
    public func closing<Result>(
        isolation: isolated (any Actor)? = #isolation, _ body: () async throws -> Result
    ) async throws -> Result {
        let result: Result
        do {
            result = try await body()
        } catch {
            await self.close()
            throw error
        }
        await self.close()
        return result
    }

    /// Closes the connection; calls in flight fail.
    public func close() async {
        let previous = self.state.withLockedValue { state -> State in
            defer { state = .closed }
            return state
        }
        switch previous {
        case .connected(let connection): await connection.close()
        case .connecting(let task): try? await task.value.close()
        case .idle, .closed: break
        }
    }

    private func connection(replacing stale: ClientConnection? = nil) async throws -> ClientConnection {
        // The common case first, without a task: the connection is up.
        let current: ClientConnection? = self.state.withLockedValue { state in
            if case .connected(let connection) = state, connection.isActive, connection.channelID != stale?.channelID {
                return connection
            }
            return nil
        }
        if let current { return current }
        let task: Task<ClientConnection, any Error> = try self.state.withLockedValue { state in
            switch state {
            case .connected(let connection) where connection.isActive && connection.channelID != stale?.channelID:
                return Task { connection }
            case .connecting(let task):
                return task
            case .closed:
                throw RPCError(.unavailable, "client is closed", processing: .notProcessed)
            case .idle, .connected:
                guard case .network(let configuration) = self.target else {
                    throw RPCError(.internal, "an in-process client has no connection", processing: .notProcessed)
                }
                let logger = self.logger
                let task = Task {
                    try await ClientConnection.connect(
                        host: configuration.host, port: configuration.port, tls: configuration.tls,
                        configuration: configuration.transport, logger: logger
                    )
                }
                state = .connecting(task)
                return task
            }
        }
        do {
            let connection = try await task.value
            self.state.withLockedValue { state in
                if case .connecting = state { state = .connected(connection) }
            }
            return connection
        } catch {
            self.state.withLockedValue { state in
                if case .connecting = state { state = .idle }
            }
            throw RPCError(
                .unavailable, "cannot connect to \(self.address): \(error)",
                cause: error, processing: .notProcessed)
        }
    }

    /// Opens a stream within the call's deadline: connecting counts against it too. On a connection already
    /// up, with a request small enough to go out at once, there is nothing to wait for and no race is run.
    private func openStream(head: Mesh_Rpc_V1_RequestHead, parts: [OutboundPart], deadline: ContinuousClock.Instant?)
        async throws -> MeshStream
    {
        guard let deadline, !self.isConnected || Self.size(of: parts) > Self.immediateRequestBytes else {
            return try await self.openStreamOrRetry(head: head, parts: parts, deadline: deadline)
        }
        return try await withThrowingTaskGroup(of: MeshStream?.self) { group in
            group.addTask { try await self.openStreamOrRetry(head: head, parts: parts, deadline: deadline) }
            group.addTask {
                try await Task.sleep(until: deadline, clock: .continuous)
                return nil
            }
            let first = try await group.next()!
            group.cancelAll()
            guard let stream = first else {
                throw RPCError(
                    .deadlineExceeded,
                    "deadline of \(head.timeoutMicros / 1000) ms expired while connecting to \(self.address) for \(head.method)"
                )
            }
            return stream
        }
    }

    /// A request this small goes out at once on an open connection (well inside a stream's first window).
    static let immediateRequestBytes = 64 << 10

    static func size(of parts: [OutboundPart]) -> Int {
        parts.reduce(0) { total, part in
            if case .message(let buffer) = part { return total + buffer.readableBytes }
            return total
        }
    }

    /// Whether a connection is up now.
    private var isConnected: Bool {
        self.state.withLockedValue { state in
            if case .connected(let connection) = state { return connection.isActive }
            return false
        }
    }

    /// Opens a stream, retrying once on a fresh connection if the current one refused it unprocessed.
    private func openStreamOrRetry(
        head: Mesh_Rpc_V1_RequestHead, parts: [OutboundPart], deadline: ContinuousClock.Instant?
    ) async throws -> MeshStream {
        let connection = try await self.connection()
        do {
            return try await connection.openStream(head: Self.remeasured(head, deadline: deadline), parts: parts)
        } catch let error as TransportError where error.kind == .streamRefused || error.kind == .connectionClosed {
            let fresh = try await self.connection(replacing: connection)
            do {
                return try await fresh.openStream(head: Self.remeasured(head, deadline: deadline), parts: parts)
            } catch {
                throw RPCError.from(error)
            }
        } catch {
            throw RPCError.from(error)
        }
    }

    /// Runs `body` on a new stream within the call's deadline; cancelling the task cancels the call.
    func withCall<Result: Sendable>(
        _ method: MethodDescriptor,
        options: CallOptions,
        initialParts: [OutboundPart],
        _ body: @escaping @Sendable (MeshStream) async throws -> Result
    ) async throws -> Result {
        let now = ContinuousClock.now
        let deadline = options.deadline(now: now)
        var head = Mesh_Rpc_V1_RequestHead()
        head.method = method.fullName
        // The call's client span: a child of the span the caller runs in (the call it serves, an HTTP request),
        // or of the trace the caller named in the metadata (`traceparent`); its own context goes out instead.
        let tracer = MeshTracing.tracer
        var metadata = options.metadata
        var parent = InstrumentationContext.current ?? .topLevel
        if metadata[MeshTracing.traceparent] != nil {
            tracer.extract(metadata, into: &parent, using: Metadata.Extractor())
            metadata.remove(MeshTracing.traceparent)
            metadata.remove(MeshTracing.tracestate)
        }
        let span = tracer.startSpan(method.fullName, context: parent, ofKind: .client)
        if span.isRecording {
            span.attributes["rpc.system"] = "mesh"
            span.attributes["rpc.service"] = method.service
            span.attributes["rpc.method"] = method.method
        }
        defer { span.end() }
        tracer.inject(span.context, into: &metadata, using: Metadata.Injector())
        head.metadata = metadata.wire
        do {
            return try await self.call(
                head: head, method: method, now: now, deadline: deadline, initialParts: initialParts, body)
        } catch {
            let status = RPCError.from(error)
            if span.isRecording {
                span.attributes["rpc.grpc.status_code"] = Int(status.code.rawValue)
                span.setStatus(SpanStatus(code: .error, message: status.message))
            }
            throw error
        }
    }

    /// The call with its head made: in process, or over a stream of a connection.
    private func call<Result: Sendable>(
        head: Mesh_Rpc_V1_RequestHead, method: MethodDescriptor, now: ContinuousClock.Instant,
        deadline: ContinuousClock.Instant?, initialParts: [OutboundPart],
        _ body: @escaping @Sendable (MeshStream) async throws -> Result
    ) async throws -> Result {
        var head = head
        if let deadline {
            guard deadline > now else {
                throw RPCError(.deadlineExceeded, "deadline expired before the call to \(method) started")
            }
            head.timeoutMicros = UInt64(max(1, Self.microseconds(deadline - now)))
        }
        if case .inProcess(let server, let peer) = self.target {
            let closed = self.state.withLockedValue { if case .closed = $0 { true } else { false } }
            if closed { throw RPCError(.unavailable, "client is closed", processing: .notProcessed) }
            return try await self.inProcess(
                server, as: peer, head: head, initialParts: initialParts, method: method, deadline: deadline, body)
        }
        // A call whose whole request went out with the head (unary, server streaming) and that the server
        // refused unprocessed (a GOAWAY raced it) is sent once more, on a fresh connection.
        let wholeRequest = initialParts.contains { if case .end = $0 { return true } else { return false } }
        var attempts = 0
        while true {
            attempts += 1
            let stream = try await self.openStream(head: head, parts: initialParts, deadline: deadline)
            do {
                return try await self.run(
                    stream, method: method, deadline: deadline, timeoutMicros: head.timeoutMicros, body)
            } catch {
                let status = RPCError.from(error)
                if wholeRequest, attempts == 1, status.processing == .notProcessed { continue }
                throw status
            }
        }
    }

    /// One call handed to `server` in this process: the server serves it and a pump carries its answer back,
    /// both children of the call, which ends when the body is done with the stream.
    private func inProcess<Result: Sendable>(
        _ server: MeshServer, as peer: PeerIdentity, head: Mesh_Rpc_V1_RequestHead, initialParts: [OutboundPart],
        method: MethodDescriptor, deadline: ContinuousClock.Instant?,
        _ body: @escaping @Sendable (MeshStream) async throws -> Result
    ) async throws -> Result {
        let call = InProcessCall(head: head, peer: peer, eventLoop: MultiThreadedEventLoopGroup.singleton.any())
        let (stream, pump) = call.clientEnd()
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await server.serve(call) }
            group.addTask { await pump() }
            do {
                try await stream.write(initialParts)
                let result = try await self.run(
                    stream, method: method, deadline: deadline, timeoutMicros: head.timeoutMicros, body)
                try await group.waitForAll()
                return result
            } catch {
                // `run` cancelled the call on its way out: the server's handler stops and both children end.
                try? await group.waitForAll()
                throw RPCError.from(error)
            }
        }
    }

    private func run<Result: Sendable>(
        _ stream: MeshStream,
        method: MethodDescriptor,
        deadline: ContinuousClock.Instant?,
        timeoutMicros: UInt64,
        _ body: @escaping @Sendable (MeshStream) async throws -> Result
    ) async throws -> Result {
        try await withTaskCancellationHandler {
            defer { stream.cancel(code: RPCStatusCode.cancelled.rawValue, reason: "client finished with the call") }
            guard let deadline else { return try await body(stream) }
            // At the deadline the stream is cancelled on its event loop, which ends whatever the body awaits.
            let timer = stream.cancel(
                at: .now() + TimeAmount(max(.zero, deadline - ContinuousClock.now)),
                code: RPCStatusCode.deadlineExceeded.rawValue, reason: "deadline exceeded"
            )
            defer { timer.cancel() }
            do {
                return try await body(stream)
            } catch {
                guard ContinuousClock.now >= deadline else { throw error }
                throw RPCError(
                    .deadlineExceeded, "deadline of \(timeoutMicros / 1000) ms expired waiting for \(method)")
            }
        } onCancel: {
            stream.cancel(code: RPCStatusCode.cancelled.rawValue, reason: "cancelled by the caller")
        }
    }

    /// The head with its timeout measured now, from the caller's deadline. The server counts `timeoutMicros`
    /// from the moment the HEADERS arrive, so a head measured before connecting, or before a first attempt
    /// that a GOAWAY refused, would give the server more time than the caller has.
    static func remeasured(_ head: Mesh_Rpc_V1_RequestHead, deadline: ContinuousClock.Instant?) throws
        -> Mesh_Rpc_V1_RequestHead
    {
        guard let deadline else { return head }
        let remaining = deadline - ContinuousClock.now
        guard remaining > .zero else {
            throw RPCError(.deadlineExceeded, "deadline expired before the call to \(head.method) was sent")
        }
        var head = head
        head.timeoutMicros = UInt64(max(1, Self.microseconds(remaining)))
        return head
    }

    static func microseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1_000_000 + attoseconds / 1_000_000_000_000
    }
}

// MARK: - Typed calls

extension MeshClient {
    public func unary<Request: Message, Response: Message>(
        _ method: MethodDescriptor, _ request: Request, options: CallOptions = .init()
    ) async throws -> Response {
        try await self.unaryWithMetadata(method, request, options: options).response
    }

    /// A unary call that also returns the server's initial and trailing metadata.
    public func unaryWithMetadata<Request: Message, Response: Message>(
        _ method: MethodDescriptor, _ request: Request, options: CallOptions = .init()
    ) async throws -> (response: Response, initial: Metadata, trailing: Metadata) {
        try await self.withCall(method, options: options, initialParts: [.message(try request.byteBuffer()), .end]) {
            stream in
            var responses = ResponseStream<Response>(stream: stream)
            var response: Response?
            for try await message in responses {
                guard response == nil else {
                    throw RPCError(.internal, "unary method \(method) answered with more than one message")
                }
                response = message
            }
            guard let response else { throw RPCError(.internal, "unary method \(method) answered with no message") }
            responses = responses
            return (response, responses.initialMetadata, responses.trailingMetadata)
        }
    }

    public func serverStreaming<Request: Message, Response: Message, Result: Sendable>(
        _ method: MethodDescriptor, _ request: Request, options: CallOptions = .init(),
        _ body: @escaping @Sendable (ResponseStream<Response>) async throws -> Result
    ) async throws -> Result {
        try await self.withCall(method, options: options, initialParts: [.message(try request.byteBuffer()), .end]) {
            stream in
            try await body(ResponseStream(stream: stream))
        }
    }

    public func clientStreaming<Request: Message, Response: Message>(
        _ method: MethodDescriptor, options: CallOptions = .init(),
        _ requests: @escaping @Sendable (RequestWriter<Request>) async throws -> Void
    ) async throws -> Response {
        try await self.withCall(method, options: options, initialParts: []) { stream in
            do {
                try await requests(RequestWriter(stream: stream))
                try await RequestWriter<Request>.end(stream)
            } catch is CallEndedByServer {
                // The server answered while requests were still going out (a refusal, a limit): its answer is
                // the call's outcome. The stream has ended, so the answer is there to read below.
            }
            var response: Response?
            for try await message in ResponseStream<Response>(stream: stream) {
                guard response == nil else {
                    throw RPCError(.internal, "method \(method) answered with more than one message")
                }
                response = message
            }
            guard let response else { throw RPCError(.internal, "method \(method) answered with no message") }
            return response
        }
    }

    public func bidirectional<Request: Message, Response: Message, Result: Sendable>(
        _ method: MethodDescriptor, options: CallOptions = .init(),
        requests: @escaping @Sendable (RequestWriter<Request>) async throws -> Void,
        responses: @escaping @Sendable (ResponseStream<Response>) async throws -> Result
    ) async throws -> Result {
        try await self.withCall(method, options: options, initialParts: []) { stream in
            try await withThrowingTaskGroup(of: Result?.self) { group in
                group.addTask {
                    do {
                        try await requests(RequestWriter(stream: stream))
                        try await RequestWriter<Request>.end(stream)
                    } catch is CallEndedByServer {
                        // The server ended the call first: the responses say how.
                    }
                    return nil
                }
                group.addTask { try await responses(ResponseStream(stream: stream)) }
                var result: Result?
                while let next = try await group.next() {
                    if let next { result = next }
                }
                return result!
            }
        }
    }
}

/// Writes the requests of a client- or bidirectional-streaming call. Waits when the server reads slowly.
public struct RequestWriter<Request: Message>: Sendable {
    let stream: MeshStream

    public func write(_ request: Request) async throws {
        do {
            try await self.stream.write(.message(try request.byteBuffer()))
        } catch let error as TransportError where error.kind == .streamClosed {
            throw CallEndedByServer(error: RPCError.from(error))
        } catch {
            throw RPCError.from(error)
        }
    }

    /// No more requests.
    static func end(_ stream: MeshStream) async throws {
        do {
            try await stream.write(.end)
        } catch let error as TransportError where error.kind == .streamClosed {
            throw CallEndedByServer(error: RPCError.from(error))
        }
    }
}

/// A request could not be written because the server had already ended the call. The call's outcome is then
/// the server's answer, read from the stream; `error` is the write's failure, as a status.
struct CallEndedByServer: Error {
    let error: RPCError
}

/// The responses of a call, decoded; ends when the server's trailers say ok, throws their status otherwise.
public struct ResponseStream<Response: Message>: AsyncSequence, Sendable {
    public typealias Element = Response
    let stream: MeshStream
    private let metadata = MetadataBox()

    init(stream: MeshStream) { self.stream = stream }

    /// The server's initial metadata (after the first response arrived).
    public var initialMetadata: Metadata { self.metadata.state.withLockedValue { $0.initial } }
    /// The server's trailing metadata (after the stream ended).
    public var trailingMetadata: Metadata { self.metadata.state.withLockedValue { $0.trailing } }

    /// The same responses with the server's head among them: `.head` when the server sends one (a call that
    /// may stay silent says it was accepted this way, PROTOCOL.md §7), then `.response` for each response.
    public var events: Events { Events(stream: self.stream, metadata: self.metadata) }

    public enum Event: Sendable {
        case head(Metadata)
        case response(Response)
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(reader: Reader(base: self.stream.inbound.makeAsyncIterator(), metadata: self.metadata))
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        var reader: Reader

        public mutating func next() async throws -> Response? {
            while let event = try await self.reader.next() {
                if case .response(let response) = event { return response }
            }
            return nil
        }
    }

    public struct Events: AsyncSequence, Sendable {
        public typealias Element = Event
        let stream: MeshStream
        let metadata: MetadataBox

        public func makeAsyncIterator() -> Reader {
            Reader(base: self.stream.inbound.makeAsyncIterator(), metadata: self.metadata)
        }
    }

    /// Reads the stream's parts into events; ends when the trailers say ok, throws their status otherwise.
    public struct Reader: AsyncIteratorProtocol {
        var base: MeshStream.Inbound.AsyncIterator
        let metadata: MetadataBox
        var finished = false

        public mutating func next() async throws -> Event? {
            guard !self.finished else { return nil }
            do {
                while let part = try await self.base.next() {
                    switch part {
                    case .responseHead(let head):
                        let initial = Metadata(wire: head.metadata)
                        self.metadata.state.withLockedValue { $0.initial = initial }
                        return .head(initial)
                    case .message(let buffer):
                        return .response(try Response.decode(buffer, code: .internal))
                    case .trailers(let trailers):
                        self.finished = true
                        let trailing = Metadata(wire: trailers.metadata)
                        self.metadata.state.withLockedValue { $0.trailing = trailing }
                        let code = RPCStatusCode.parse(trailers.code)
                        guard code == .ok else { throw RPCError(code, trailers.message, metadata: trailing) }
                        return nil
                    }
                }
            } catch let error as RPCError {
                throw error
            } catch {
                self.finished = true
                throw RPCError.from(error)
            }
            self.finished = true
            if Task.isCancelled { throw RPCError(.cancelled, "the call was cancelled") }
            throw RPCError(.unavailable, "stream ended without trailers")
        }
    }
}

final class MetadataBox: Sendable {
    let state = NIOLockedValueBox((initial: Metadata(), trailing: Metadata()))
}
