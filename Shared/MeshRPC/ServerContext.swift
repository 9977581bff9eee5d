import MeshTransport
import NIOConcurrencyHelpers

/// What a handler knows about the call it serves.
public struct ServerContext: Sendable {
    public let method: MethodDescriptor
    public let metadata: Metadata
    /// The caller's certificate identity (always present over mutual TLS).
    public let peer: PeerIdentity?
    /// When the caller stops waiting. Downstream calls made while handling inherit it (see `current`).
    public let deadline: ContinuousClock.Instant?
    /// Metadata the handler wants sent back: initial (before the first message) and trailing.
    public let response: ResponseMetadata

    /// The call's trace is its server span's (`InstrumentationContext.current` while the handler runs:
    /// `MeshTracing.currentTraceID`), made by the server from the caller's `traceparent`.
    public init(method: MethodDescriptor, metadata: Metadata, peer: PeerIdentity?, deadline: ContinuousClock.Instant?) {
        self.init(method: method, metadata: metadata, peer: peer, deadline: deadline, response: ResponseMetadata())
    }

    init(
        method: MethodDescriptor, metadata: Metadata, peer: PeerIdentity?, deadline: ContinuousClock.Instant?,
        response: ResponseMetadata
    ) {
        self.method = method
        self.metadata = metadata
        self.peer = peer
        self.deadline = deadline
        self.response = response
    }

    /// The context of the call the current task is serving, so a client call made inside a handler carries
    /// the caller's deadline onward without the handler passing it by hand.
    @TaskLocal public static var current: ServerContext?
}

/// Response metadata a handler sets while it runs.
public final class ResponseMetadata: Sendable {
    private let state = NIOLockedValueBox((initial: Metadata(), trailing: Metadata()))
    let headSent = NIOLockedValueBox(false)
    /// A unary response held back to go out with the trailers: one write, one flush, one TLS record.
    let final = NIOLockedValueBox<[OutboundPart]>([])

    func takeFinal() -> [OutboundPart] {
        self.final.withLockedValue { parts in
            defer { parts = [] }
            return parts
        }
    }

    public var initial: Metadata {
        get { self.state.withLockedValue { $0.initial } }
        set { self.state.withLockedValue { $0.initial = newValue } }
    }

    public var trailing: Metadata {
        get { self.state.withLockedValue { $0.trailing } }
        set { self.state.withLockedValue { $0.trailing = newValue } }
    }
}

/// Runs around every handler: authorization, logging, metrics. Throwing ends the call with that error's
/// status; calling `next` runs the rest of the chain and the handler.
public protocol ServerInterceptor: Sendable {
    func intercept(context: ServerContext, next: @Sendable (ServerContext) async throws -> Void) async throws
}
