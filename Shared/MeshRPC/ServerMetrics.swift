import Metrics

/// What a server reports through swift-metrics (Prometheus in the services): calls by method and status,
/// their latency, and the connections and calls open now. Without a bootstrapped metrics system these cost
/// next to nothing.
struct ServerMetrics: Sendable {
    let server: String

    static let callsLabel = "mesh_rpc_server_calls_total"
    static let durationLabel = "mesh_rpc_server_call_duration_seconds"
    static let connectionsLabel = "mesh_rpc_server_open_connections"
    static let streamsLabel = "mesh_rpc_server_open_calls"

    func connectionOpened() { Meter(label: Self.connectionsLabel, dimensions: [("server", self.server)]).increment() }
    func connectionClosed() { Meter(label: Self.connectionsLabel, dimensions: [("server", self.server)]).decrement() }
    func callStarted() { Meter(label: Self.streamsLabel, dimensions: [("server", self.server)]).increment() }

    func callFinished(method: String, code: RPCStatusCode, duration: Duration) {
        Meter(label: Self.streamsLabel, dimensions: [("server", self.server)]).decrement()
        Counter(label: Self.callsLabel, dimensions: [("method", method), ("code", code.description)]).increment()
        Timer(label: Self.durationLabel, dimensions: [("method", method)]).recordNanoseconds(duration.components.seconds * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000)
    }
}
