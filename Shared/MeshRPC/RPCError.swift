import MeshProtocol
import MeshTransport

/// A call that ended with a status other than ok: a code, a message for people, trailing metadata, and
/// where it came from.
public struct RPCError: Error, Sendable, CustomStringConvertible {
    public var code: RPCStatusCode
    public var message: String
    public var metadata: Metadata
    public var cause: (any Error)?
    /// Whether the server can have acted on the call. A call it never took (no connection could be made,
    /// the client was closed, the stream was refused before the server read it) is safe to send to another
    /// replica whatever the method does; any other failure is not, unless the method is idempotent.
    public var processing: Processing

    public enum Processing: Sendable, Hashable {
        /// The server never took the call: nothing was done.
        case notProcessed
        /// The server may have acted on it, in part or whole.
        case mayHaveBeenProcessed
    }

    public init(
        _ code: RPCStatusCode, _ message: String, metadata: Metadata = [:], cause: (any Error)? = nil,
        processing: Processing = .mayHaveBeenProcessed
    ) {
        self.code = code
        self.message = message
        self.metadata = metadata
        self.cause = cause
        self.processing = processing
    }

    public var description: String { "\(self.code): \(self.message)" }

    /// The status a caller sees for any error a handler or the transport throws.
    public static func from(_ error: any Error) -> RPCError {
        switch error {
        case let error as RPCError:
            return error
        case let error as TransportError:
            switch error.kind {
            case .streamRefused:
                return RPCError(.unavailable, error.message, cause: error, processing: .notProcessed)
            case .connectionClosed, .streamClosed:
                return RPCError(.unavailable, error.message, cause: error)
            case .cancelled:
                return RPCError(.cancelled, error.message, cause: error)
            case .messageTooLarge:
                return RPCError(.resourceExhausted, error.message, cause: error)
            }
        case is CancellationError:
            return RPCError(.cancelled, "the call was cancelled", cause: error)
        case let error as any RPCErrorConvertible:
            return error.rpcError
        default:
            return RPCError(.unknown, "handler failed: \(error)", cause: error)
        }
    }
}

/// Domain errors that know their status (for example a validation error naming its field).
public protocol RPCErrorConvertible: Error {
    var rpcError: RPCError { get }
}
