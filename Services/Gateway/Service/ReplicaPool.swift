import Logging
import MeshMessages
import MeshRPC
import MeshTransport
import MeshWire
import NIOConcurrencyHelpers
import NIOCore

/// The replicas of one service: picks the one with the fewest calls outstanding, ejects a replica whose
/// connection fails and re-admits it after a pause, and retries idempotent calls on another replica within
/// a retry budget, so a failing service is not stormed.
public final class ReplicaPool: Sendable {
    public let service: String
    let replicas: [MeshClient]
    let endpoints: [(host: String, port: Int)]
    private let state: NIOLockedValueBox<State>
    /// How long an ejected replica rests before it is tried again.
    let ejection: Duration

    struct State {
        var outstanding: [Int]
        var ejectedUntil: [ContinuousClock.Instant?]
        /// Retry tokens: each call adds a tenth, each retry spends one; at most `maximumTokens`.
        var retryTokens: Double = 10
    }

    static let maximumTokens = 10.0

    /// - Parameter handshakeTimeout: how long a replica may take to accept a connection (TLS and preface)
    ///   before the call moves to another; short, because a replica is near and a caller's deadline is not.
    public init(
        service: String, endpoints: [(host: String, port: Int)], tls: MeshTLSConfiguration,
        ejection: Duration = .seconds(2), handshakeTimeout: TimeAmount = .seconds(1), logger: Logger
    ) {
        self.service = service
        self.endpoints = endpoints
        self.replicas = endpoints.map {
            MeshClient(
                configuration: .init(
                    host: $0.host, port: $0.port, tls: tls,
                    transport: MeshTransportConfiguration(handshakeTimeout: handshakeTimeout)), logger: logger)
        }
        self.state = NIOLockedValueBox(
            State(
                outstanding: Array(repeating: 0, count: endpoints.count),
                ejectedUntil: Array(repeating: nil, count: endpoints.count)))
        self.ejection = ejection
    }

    public var count: Int { self.replicas.count }

    /// The replica to use now: healthy ones first, fewest outstanding calls, ties to the lowest index.
    func pick(excluding: Set<Int>) -> Int? {
        self.state.withLockedValue { state in
            let now = ContinuousClock.now
            let candidates = self.replicas.indices.filter { !excluding.contains($0) }
            let healthy = candidates.filter { state.ejectedUntil[$0].map { $0 <= now } ?? true }
            guard
                let chosen = (healthy.isEmpty ? candidates : healthy).min(by: {
                    state.outstanding[$0] < state.outstanding[$1]
                })
            else { return nil }
            state.outstanding[chosen] += 1
            state.retryTokens = min(Self.maximumTokens, state.retryTokens + 0.1)
            return chosen
        }
    }

    func finish(_ index: Int, failed: Bool) {
        self.state.withLockedValue { state in
            state.outstanding[index] -= 1
            if failed { state.ejectedUntil[index] = .now + self.ejection } else { state.ejectedUntil[index] = nil }
        }
    }

    func spendRetryToken() -> Bool {
        self.state.withLockedValue { state in
            guard state.retryTokens >= 1 else { return false }
            state.retryTokens -= 1
            return true
        }
    }

    /// Runs `body` on a replica. A connection failure ejects the replica; an idempotent call is then tried on
    /// another one if the retry budget allows. Errors name the service.
    public func call<Result: Sendable>(idempotent: Bool, _ body: (MeshClient) async throws -> Result) async throws
        -> Result
    {
        var tried: Set<Int> = []
        while true {
            guard let index = self.pick(excluding: tried) else {
                throw RPCError(
                    .unavailable, "\(self.service): no replica left to try (\(self.replicas.count) configured)")
            }
            tried.insert(index)
            do {
                let result = try await body(self.replicas[index])
                self.finish(index, failed: false)
                return result
            } catch let error as RPCError where error.code == .unavailable {
                self.finish(index, failed: true)
                // A call never processed (no connection, stream refused) may go elsewhere; so may an idempotent one.
                if idempotent || error.processing == .notProcessed, tried.count < self.replicas.count,
                    self.spendRetryToken()
                {
                    continue
                }
                throw RPCError(
                    error.code, "\(self.service): \(error.message)", metadata: error.metadata, cause: error,
                    processing: error.processing)
            } catch let error as RPCError {
                self.finish(index, failed: false)
                throw RPCError(error.code, "\(self.service): \(error.message)", metadata: error.metadata, cause: error)
            } catch {
                self.finish(index, failed: false)
                throw RPCError.from(error)
            }
        }
    }

    public func close() async {
        for replica in self.replicas { await replica.close() }
    }
}

extension ReplicaPool {
    /// One replica as the operator sees it.
    public struct ReplicaStatus: Sendable {
        public var service: String
        public var endpoint: String
        public var serving: Bool
        /// SERVING, NOT_SERVING, or why it did not answer.
        public var detail: String
        public var outstanding: Int
    }

    static let healthMethod = HealthMethods.check

    /// Asks every replica whether it serves, concurrently, each within `timeout`.
    public func status(timeout: Duration = .seconds(1)) async -> [ReplicaStatus] {
        let outstanding = self.state.withLockedValue { $0.outstanding }
        return await withTaskGroup(of: (Int, ReplicaStatus).self) { group in
            for (index, replica) in self.replicas.enumerated() {
                group.addTask {
                    let endpoint = "\(self.endpoints[index].host):\(self.endpoints[index].port)"
                    do {
                        let response: Mesh_Rpc_V1_HealthCheckResponse = try await replica.unary(
                            Self.healthMethod, Mesh_Rpc_V1_HealthCheckRequest(), options: CallOptions(timeout: timeout))
                        let serving = response.status == .serving
                        return (
                            index,
                            ReplicaStatus(
                                service: self.service, endpoint: endpoint, serving: serving,
                                detail: serving ? "SERVING" : "NOT_SERVING", outstanding: outstanding[index])
                        )
                    } catch {
                        return (
                            index,
                            ReplicaStatus(
                                service: self.service, endpoint: endpoint, serving: false,
                                detail: RPCError.from(error).message, outstanding: outstanding[index])
                        )
                    }
                }
            }
            var statuses: [(Int, ReplicaStatus)] = []
            for await status in group { statuses.append(status) }
            return statuses.sorted { $0.0 < $1.0 }.map(\.1)
        }
    }
}

extension GatewayHandlers.Services {
    /// Every replica of every service the gateway balances.
    public func status() async -> [ReplicaPool.ReplicaStatus] {
        async let catalog = self.catalog.status()
        async let eligibility = self.eligibility.status()
        async let disbursement = self.disbursement.status()
        async let notification = self.notification.status()
        return await catalog + eligibility + disbursement + notification
    }
}
