/// Why a stream could not go on at the transport level. The RPC layer maps each kind to a status code.
public struct TransportError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable {
        /// The connection closed or failed; `message` says why. Calls may be retried elsewhere.
        case connectionClosed
        /// The connection refused a new stream (draining, stream limit). Nothing was processed: retryable.
        case streamRefused
        /// The stream already ended (for example the server answered before the client finished sending).
        case streamClosed
        /// The call was cancelled by the peer or by this side.
        case cancelled
        /// A message longer than the peer's maximum frame size; nothing was sent.
        case messageTooLarge
    }

    public var kind: Kind
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { "\(self.kind): \(self.message)" }
}
