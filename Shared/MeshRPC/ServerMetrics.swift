import MeshProtocol
import Metrics
import NIOConcurrencyHelpers

/// What a server reports through swift-metrics (Prometheus in the services): calls by method and status,
/// their latency, and the connections and calls open now. The metric objects are made once per method and
/// status and kept, not looked up in the metrics factory on every call; without a bootstrapped metrics
/// system they cost next to nothing.
final class ServerMetrics: Sendable {
    static let callsLabel = "mesh_rpc_server_calls_total"
    static let durationLabel = "mesh_rpc_server_call_duration_seconds"
    static let connectionsLabel = "mesh_rpc_server_open_connections"
    static let streamsLabel = "mesh_rpc_server_open_calls"
    /// The method label of every call to a method the server does not route.
    static let unknownMethod = "unknown"

    let server: String
    private let counters = NIOLockedValueBox<[String: Counter]>([:])
    private let timers = NIOLockedValueBox<[String: Timer]>([:])
    /// Made on first use, so a metrics system bootstrapped after the server was built still receives them.
    private let meters = NIOLockedValueBox<(connections: Meter?, calls: Meter?)>((nil, nil))

    init(server: String) {
        self.server = server
    }

    private var connections: Meter {
        self.meters.withLockedValue { meters in
            if let meter = meters.connections { return meter }
            let meter = Meter(label: Self.connectionsLabel, dimensions: [("server", self.server)])
            meters.connections = meter
            return meter
        }
    }

    private var calls: Meter {
        self.meters.withLockedValue { meters in
            if let meter = meters.calls { return meter }
            let meter = Meter(label: Self.streamsLabel, dimensions: [("server", self.server)])
            meters.calls = meter
            return meter
        }
    }

    func connectionOpened() { self.connections.increment() }
    func connectionClosed() { self.connections.decrement() }
    func callStarted() { self.calls.increment() }

    func callFinished(method: String, code: RPCStatusCode, duration: Duration) {
        self.calls.decrement()
        let counter = self.counters.withLockedValue { counters in
            let key = "\(method)|\(code.rawValue)"
            if let counter = counters[key] { return counter }
            let counter = Counter(label: Self.callsLabel, dimensions: [("method", method), ("code", code.description)])
            counters[key] = counter
            return counter
        }
        counter.increment()
        let timer = self.timers.withLockedValue { timers in
            if let timer = timers[method] { return timer }
            let timer = Timer(label: Self.durationLabel, dimensions: [("method", method)])
            timers[method] = timer
            return timer
        }
        timer.recordNanoseconds(
            duration.components.seconds * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000)
    }
}
