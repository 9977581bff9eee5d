import MeshProtocol
import NIOCore

/// The knobs of a mesh connection that are not TLS: limits and timeouts.
public struct MeshTransportConfiguration: Sendable {
    public var settings: ConnectionSettings
    public var timeouts: ConnectionStateMachine.Timeouts
    /// How long the TLS handshake and preface exchange may take before the connection is dropped.
    public var handshakeTimeout: TimeAmount
    /// Most connections a server holds at once; further ones are closed as soon as they are accepted.
    public var maxConnections: Int

    public init(
        settings: ConnectionSettings = .default,
        timeouts: ConnectionStateMachine.Timeouts = .init(),
        handshakeTimeout: TimeAmount = .seconds(10),
        maxConnections: Int = 4096
    ) {
        self.settings = settings
        self.timeouts = timeouts
        self.handshakeTimeout = handshakeTimeout
        self.maxConnections = maxConnections
    }
}
