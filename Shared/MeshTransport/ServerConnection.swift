import NIOCore

/// One accepted connection: the calls it carries, and a way to drain it.
public struct ServerConnection: Sendable {
    /// New calls in the order they arrived; ends when the connection closes.
    public let calls: AsyncStream<InboundCall>
    let handle: ConnectionHandle
    let channel: any Channel

    /// Sends GOAWAY: calls in flight finish, new ones are refused as retryable, then the connection closes.
    public func drain(reason: String) {
        self.handle.drain(reason: reason)
    }

    /// Closes at once (after a drain's grace period ran out): the calls still open end now, as `unavailable`
    /// for their clients, and their handlers' reads and writes fail.
    public func close(reason: String = "server closed the connection") {
        self.handle.abort(reason: reason)
    }

    /// Tells connections apart, for a server's registry of open connections.
    public var id: ObjectIdentifier { ObjectIdentifier(self.channel) }

    public var closeFuture: EventLoopFuture<Void> { self.channel.closeFuture }

    /// The event loop the connection reads and writes on.
    public var eventLoop: any EventLoop { self.channel.eventLoop }
}
