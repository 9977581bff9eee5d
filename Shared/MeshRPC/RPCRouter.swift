import MeshTransport
import MeshWire
import NIOCore
import SwiftProtobuf

/// The methods a server answers, by full name, each bound to a typed handler.
public struct RPCRouter: Sendable {
    /// Runs one call on its stream; returns when the handler is done (trailers are written by the server).
    typealias RawHandler = @Sendable (MeshStream, ServerContext) async throws -> Void

    struct Route: Sendable {
        let kind: MethodKind
        let handler: RawHandler
    }

    private(set) var routes: [String: Route] = [:]
    /// Runs on the request of every unary and server-streaming route registered after it is set (a text
    /// limit): a refusal ends the call before the handler sees the message. Streaming requests are the
    /// handler's to check, line by line, so one bad line need not end a batch.
    public var requestCheck: (@Sendable (any Message) throws -> Void)?

    public init() {}

    /// The methods registered, sorted, for listings.
    public var methods: [(name: String, kind: MethodKind)] {
        self.routes.map { ($0.key, $0.value.kind) }.sorted { $0.name < $1.name }
    }

    func route(_ fullName: String) -> Route? { self.routes[fullName] }

    public mutating func unary<Request: Message, Response: Message>(
        _ method: MethodDescriptor,
        _ handler: @escaping @Sendable (Request, ServerContext) async throws -> Response
    ) {
        let check = self.requestCheck
        self.routes[method.fullName] = Route(kind: .unary) { stream, context in
            let request: Request = try await Self.single(stream)
            try check?(request)
            let response = try await handler(request, context)
            try ResponseWriter<Response>(stream: stream, context: context).holdForTrailers(response)
        }
    }

    public mutating func serverStreaming<Request: Message, Response: Message>(
        _ method: MethodDescriptor,
        _ handler: @escaping @Sendable (Request, ResponseWriter<Response>, ServerContext) async throws -> Void
    ) {
        let check = self.requestCheck
        self.routes[method.fullName] = Route(kind: .serverStreaming) { stream, context in
            let request: Request = try await Self.single(stream)
            try check?(request)
            try await handler(request, ResponseWriter(stream: stream, context: context), context)
        }
    }

    public mutating func clientStreaming<Request: Message, Response: Message>(
        _ method: MethodDescriptor,
        _ handler: @escaping @Sendable (RequestStream<Request>, ServerContext) async throws -> Response
    ) {
        self.routes[method.fullName] = Route(kind: .clientStreaming) { stream, context in
            let response = try await handler(RequestStream(stream: stream), context)
            try ResponseWriter<Response>(stream: stream, context: context).holdForTrailers(response)
        }
    }

    public mutating func bidirectional<Request: Message, Response: Message>(
        _ method: MethodDescriptor,
        _ handler:
            @escaping @Sendable (RequestStream<Request>, ResponseWriter<Response>, ServerContext) async throws -> Void
    ) {
        self.routes[method.fullName] = Route(kind: .bidirectional) { stream, context in
            try await handler(RequestStream(stream: stream), ResponseWriter(stream: stream, context: context), context)
        }
    }

    /// Exactly one request message, as unary and server-streaming methods expect.
    private static func single<Request: Message>(_ stream: MeshStream) async throws -> Request {
        var request: Request?
        for try await part in stream.inbound {
            guard case .message(let buffer) = part else { continue }
            guard request == nil else {
                throw RPCError(.invalidArgument, "method takes one request message, the client sent more")
            }
            request = try Request.decode(buffer, code: .invalidArgument)
        }
        guard let request else {
            throw RPCError(.invalidArgument, "method takes one request message, the client sent none")
        }
        return request
    }
}

/// The requests of a client- or bidirectional-streaming call, decoded as they arrive.
public struct RequestStream<Request: Message>: AsyncSequence, Sendable {
    public typealias Element = Request
    let stream: MeshStream

    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(base: self.stream.inbound.makeAsyncIterator()) }

    public struct AsyncIterator: AsyncIteratorProtocol {
        var base: MeshStream.Inbound.AsyncIterator

        public mutating func next() async throws -> Request? {
            while let part = try await self.base.next() {
                if case .message(let buffer) = part { return try Request.decode(buffer, code: .invalidArgument) }
            }
            return nil
        }
    }
}

/// Writes a call's responses. The first write sends the handler's initial metadata, if it set any.
public struct ResponseWriter<Response: Message>: Sendable {
    let stream: MeshStream
    let context: ServerContext

    public func write(_ response: Response) async throws {
        try await self.stream.write(try self.parts(response))
    }

    /// Sends the response head now, before any response: tells the caller the call was accepted (a watch
    /// that may stay silent for long, say) so that a refusal and an acceptance are told apart at once. Does
    /// nothing once the head went out; initial metadata set after it is not sent.
    public func sendHead() async throws {
        guard self.context.response.markHeadSent() else { return }
        var head = MeshWire.Mesh_Rpc_V1_ResponseHead()
        head.metadata = self.context.response.initial.wire
        try await self.stream.write([.responseHead(head)])
    }

    /// The single response of a unary or client-streaming call: sent by the server with the trailers.
    func holdForTrailers(_ response: Response) throws {
        let parts = try self.parts(response)
        self.context.response.final.withLockedValue { $0 = parts }
    }

    private func parts(_ response: Response) throws -> [OutboundPart] {
        var parts: [OutboundPart] = []
        if self.context.response.markHeadSent(), !self.context.response.initial.isEmpty {
            var head = MeshWire.Mesh_Rpc_V1_ResponseHead()
            head.metadata = self.context.response.initial.wire
            parts.append(.responseHead(head))
        }
        parts.append(.message(try response.byteBuffer()))
        return parts
    }
}

extension ResponseMetadata {
    /// True the first time: the caller sends the response head.
    func markHeadSent() -> Bool {
        self.headSent.withLockedValue { sent in
            defer { sent = true }
            return !sent
        }
    }
}
