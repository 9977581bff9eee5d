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
///
/// An endpoint given as an address is one replica for the pool's life. One given as a name (`eligibility:7420`
/// under Compose, where the name resolves to every container of the service) is every address it resolves to:
/// `refresh()` resolves it again, admits the replicas that appeared and retires those gone, so a service
/// scaled up is used without restarting the gateway. A replica retired with calls in flight finishes them
/// and is closed once idle.
public final class ReplicaPool: Sendable {
    public let service: String
    /// The endpoints as configured, before any resolution.
    let endpoints: [Endpoint]
    private let state: NIOLockedValueBox<State>
    /// How long an ejected replica rests before it is tried again.
    let ejection: Duration
    let resolver: any HostResolver
    private let makeClient: @Sendable (Endpoint) -> MeshClient

    /// A host and port: an address, or a name to resolve.
    public struct Endpoint: Sendable, Hashable, CustomStringConvertible {
        public var host: String
        public var port: Int

        public init(host: String, port: Int) {
            self.host = host
            self.port = port
        }

        /// Whether `host` is an IPv4 or IPv6 address (used as is), rather than a name to resolve.
        public var isAddress: Bool { (try? SocketAddress(ipAddress: self.host, port: self.port)) != nil }

        public var description: String {
            self.host.contains(":") ? "[\(self.host)]:\(self.port)" : "\(self.host):\(self.port)"
        }
    }

    /// One replica: where it is, the name it was found under, its connection and its load.
    struct Member {
        let id: Int
        let endpoint: Endpoint
        /// The configured endpoint this replica came from (itself for an address).
        let origin: Endpoint
        let client: MeshClient
        var outstanding = 0
        var ejectedUntil: ContinuousClock.Instant? = nil
    }

    struct State {
        var members: [Member] = []
        /// Replicas no longer resolved, kept until their calls in flight finish.
        var retired: [Member] = []
        var nextID = 0
        /// Which of the replicas tied on outstanding calls goes next.
        var turn = 0
        /// Retry tokens: each call adds a tenth, each retry spends one; at most `maximumTokens`.
        var retryTokens: Double = 10

        mutating func admit(_ endpoint: Endpoint, from origin: Endpoint, client: MeshClient) {
            self.members.append(Member(id: self.nextID, endpoint: endpoint, origin: origin, client: client))
            self.nextID += 1
        }
    }

    static let maximumTokens = 10.0

    /// - Parameter handshakeTimeout: how long a replica may take to accept a connection (TLS and preface)
    ///   before the call moves to another; short, because a replica is near and a caller's deadline is not.
    public convenience init(
        service: String, endpoints: [(host: String, port: Int)], tls: MeshTLSConfiguration,
        ejection: Duration = .seconds(2), handshakeTimeout: TimeAmount = .seconds(1),
        resolver: any HostResolver = SystemHostResolver(), logger: Logger
    ) {
        self.init(
            service: service, endpoints: endpoints.map { Endpoint(host: $0.host, port: $0.port) }, ejection: ejection,
            resolver: resolver
        ) { endpoint in
            MeshClient(
                configuration: .init(
                    host: endpoint.host, port: endpoint.port, tls: tls,
                    transport: MeshTransportConfiguration(handshakeTimeout: handshakeTimeout)), logger: logger)
        }
    }

    /// Every endpoint starts as one replica (a name is resolved by the first `refresh()`, and until a
    /// resolution succeeds the name itself is the replica, resolved at each connection).
    init(
        service: String, endpoints: [Endpoint], ejection: Duration, resolver: any HostResolver,
        makeClient: @escaping @Sendable (Endpoint) -> MeshClient
    ) {
        self.service = service
        self.endpoints = endpoints
        self.ejection = ejection
        self.resolver = resolver
        self.makeClient = makeClient
        var state = State()
        for endpoint in endpoints { state.admit(endpoint, from: endpoint, client: makeClient(endpoint)) }
        self.state = NIOLockedValueBox(state)
    }

    /// The replicas in use now.
    public var count: Int { self.state.withLockedValue { $0.members.count } }

    /// Where the replicas in use now are.
    public var replicaEndpoints: [Endpoint] { self.state.withLockedValue { $0.members.map(\.endpoint) } }

    /// Whether some endpoint is a name, so `refresh()` has work to do.
    public var resolves: Bool { self.endpoints.contains { !$0.isAddress } }

    /// The replica to use now: healthy ones first, fewest outstanding calls, ties taken in turn (a caller that
    /// waits for each answer still spreads its calls over every replica).
    func pick(excluding: Set<Int>) -> (id: Int, client: MeshClient)? {
        self.state.withLockedValue { state in
            let now = ContinuousClock.now
            let candidates = state.members.indices.filter { !excluding.contains(state.members[$0].id) }
            let healthy = candidates.filter { state.members[$0].ejectedUntil.map { $0 <= now } ?? true }
            let usable = healthy.isEmpty ? candidates : healthy
            guard let least = usable.map({ state.members[$0].outstanding }).min() else { return nil }
            let tied = usable.filter { state.members[$0].outstanding == least }
            let chosen = tied[state.turn % tied.count]
            state.turn &+= 1
            state.members[chosen].outstanding += 1
            state.retryTokens = min(Self.maximumTokens, state.retryTokens + 0.1)
            return (state.members[chosen].id, state.members[chosen].client)
        }
    }

    func finish(_ id: Int, failed: Bool) {
        self.state.withLockedValue { state in
            if let index = state.members.firstIndex(where: { $0.id == id }) {
                state.members[index].outstanding -= 1
                state.members[index].ejectedUntil = failed ? .now + self.ejection : nil
            } else if let index = state.retired.firstIndex(where: { $0.id == id }) {
                state.retired[index].outstanding -= 1
            }
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
            guard let (id, client) = self.pick(excluding: tried) else {
                throw RPCError(
                    .unavailable, "\(self.service): no replica left to try (\(self.count) in use)")
            }
            tried.insert(id)
            do {
                let result = try await body(client)
                self.finish(id, failed: false)
                return result
            } catch let error as RPCError where error.code == .unavailable {
                self.finish(id, failed: true)
                // A call never processed (no connection, stream refused) may go elsewhere; so may an idempotent one.
                if idempotent || error.processing == .notProcessed, tried.count < self.count,
                    self.spendRetryToken()
                {
                    continue
                }
                throw RPCError(
                    error.code, "\(self.service): \(error.message)", metadata: error.metadata, cause: error,
                    processing: error.processing)
            } catch let error as RPCError {
                self.finish(id, failed: false)
                throw RPCError(error.code, "\(self.service): \(error.message)", metadata: error.metadata, cause: error)
            } catch {
                self.finish(id, failed: false)
                throw RPCError.from(error)
            }
        }
    }

    /// Resolves every named endpoint again: admits the addresses that appeared, retires those gone, closes
    /// retired replicas that are idle. A name that fails to resolve, or resolves to nothing, keeps the
    /// replicas it had (a resolver's hiccup must not empty the pool). Returns what changed.
    @discardableResult
    public func refresh() async -> (admitted: [Endpoint], retired: [Endpoint]) {
        var resolved: [Endpoint: [Endpoint]] = [:]
        for origin in self.endpoints where !origin.isAddress {
            guard let addresses = try? await self.resolver.addresses(of: origin.host), !addresses.isEmpty else {
                continue
            }
            resolved[origin] = addresses.map { Endpoint(host: $0, port: origin.port) }
        }
        let (admitted, retired, idle) = self.state.withLockedValue {
            state -> ([Endpoint], [Endpoint], [MeshClient]) in
            var admitted: [Endpoint] = []
            var retired: [Endpoint] = []
            for (origin, now) in resolved {
                let wanted = Set(now)
                let gone = state.members.filter { $0.origin == origin && !wanted.contains($0.endpoint) }
                state.members.removeAll { $0.origin == origin && !wanted.contains($0.endpoint) }
                state.retired += gone
                retired += gone.map(\.endpoint)
                let present = Set(state.members.filter { $0.origin == origin }.map(\.endpoint))
                for endpoint in now where !present.contains(endpoint) {
                    state.admit(endpoint, from: origin, client: self.makeClient(endpoint))
                    admitted.append(endpoint)
                }
            }
            let idle = state.retired.filter { $0.outstanding == 0 }.map(\.client)
            state.retired.removeAll { $0.outstanding == 0 }
            return (admitted, retired, idle)
        }
        for client in idle { await client.close() }
        return (admitted, retired)
    }

    public func close() async {
        let clients = self.state.withLockedValue { state in
            let clients = (state.members + state.retired).map(\.client)
            state.members = []
            state.retired = []
            return clients
        }
        for client in clients { await client.close() }
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
        let members = self.state.withLockedValue { $0.members }
        return await withTaskGroup(of: (Int, ReplicaStatus).self) { group in
            for (index, member) in members.enumerated() {
                let (replica, outstanding) = (member.client, member.outstanding)
                group.addTask {
                    let endpoint =
                        member.origin == member.endpoint
                        ? "\(member.endpoint)" : "\(member.endpoint) (\(member.origin.host))"
                    do {
                        let response: Mesh_Rpc_V1_HealthCheckResponse = try await replica.unary(
                            Self.healthMethod, Mesh_Rpc_V1_HealthCheckRequest(), options: CallOptions(timeout: timeout))
                        let serving = response.status == .serving
                        return (
                            index,
                            ReplicaStatus(
                                service: self.service, endpoint: endpoint, serving: serving,
                                detail: serving ? "SERVING" : "NOT_SERVING", outstanding: outstanding)
                        )
                    } catch {
                        return (
                            index,
                            ReplicaStatus(
                                service: self.service, endpoint: endpoint, serving: false,
                                detail: RPCError.from(error).message, outstanding: outstanding)
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
