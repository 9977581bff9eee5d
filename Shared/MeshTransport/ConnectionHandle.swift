import MeshWire
import NIOCore

/// A sendable reference to a connection's handler: every operation hops to the connection's event loop.
struct ConnectionHandle: Sendable {
    let eventLoop: any EventLoop
    let handler: NIOLoopBound<MeshConnectionHandler>
    /// A reader tells the connection what it consumed once this much has gathered (half the window this side
    /// grants, when the state machine would grant more anyway), not after every message: a hop to the event
    /// loop per message read was a wake-up per call on each side.
    let consumedReportBytes: Int

    init(handler: MeshConnectionHandler, eventLoop: any EventLoop, initialWindowSize: Int) {
        self.eventLoop = eventLoop
        self.handler = NIOLoopBound(handler, eventLoop: eventLoop)
        self.consumedReportBytes = max(1, initialWindowSize / 2)
    }

    func write(streamID: UInt32, parts: [OutboundPart]) async throws {
        let handler = self.handler
        let promise = self.eventLoop.makePromise(of: Void.self)
        if self.eventLoop.inEventLoop {
            handler.value.write(streamID: streamID, parts: parts, promise: promise)
        } else {
            self.eventLoop.execute { handler.value.write(streamID: streamID, parts: parts, promise: promise) }
        }
        try await promise.futureResult.get()
    }

    func cancel(streamID: UInt32, code: UInt32, reason: String) {
        let handler = self.handler
        self.eventLoop.execute { handler.value.cancel(streamID: streamID, code: code, reason: reason) }
    }

    /// Cancels the stream at `deadline` unless the returned task is cancelled first: a timer on the event
    /// loop, where a task racing a sleep would cost two tasks and a task group per call.
    func cancel(streamID: UInt32, at deadline: NIODeadline, code: UInt32, reason: String) -> Scheduled<Void> {
        let handler = self.handler
        return self.eventLoop.scheduleTask(deadline: deadline) {
            handler.value.cancel(streamID: streamID, code: code, reason: reason)
        }
    }

    func consumed(streamID: UInt32, size: Int) {
        let handler = self.handler
        self.eventLoop.execute { handler.value.consumed(streamID: streamID, size: size) }
    }

    func onCancel(streamID: UInt32, _ callback: @escaping @Sendable (TransportError) -> Void) {
        let handler = self.handler
        self.eventLoop.execute { handler.value.setCancellationHandler(streamID: streamID, callback) }
    }

    func openStream(head: Mesh_Rpc_V1_RequestHead, parts: [OutboundPart]) async throws -> MeshStream {
        let handler = self.handler
        let handle = self
        let (stream, written) = try await self.eventLoop.submit {
            try handler.value.openStream(head: head, parts: parts, handle: handle)
        }.get()
        try await written.get()
        return stream
    }

    func drain(reason: String) {
        let handler = self.handler
        self.eventLoop.execute { handler.value.drain(reason: reason) }
    }

    func abort(reason: String) {
        let handler = self.handler
        self.eventLoop.execute { handler.value.abort(reason: reason) }
    }
}
