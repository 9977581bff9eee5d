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
    /// The rules calls are spread and retried by, over this pool's replicas.
    let balancer: ReplicaBalancer<Replica>
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

    /// One replica: where it is, the name it was found under, and its connection.
    struct Replica: Sendable {
        let endpoint: Endpoint
        /// The configured endpoint this replica came from (itself for an address).
        let origin: Endpoint
        let client: MeshClient
    }

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
        self.resolver = resolver
        self.makeClient = makeClient
        self.balancer = ReplicaBalancer(
            service: service,
            replicas: endpoints.map { Replica(endpoint: $0, origin: $0, client: makeClient($0)) },
            ejection: ejection)
    }

    /// The replicas in use now.
    public var count: Int { self.balancer.count }

    /// Where the replicas in use now are.
    public var replicaEndpoints: [Endpoint] { self.balancer.replicas.map(\.endpoint) }

    /// Whether some endpoint is a name, so `refresh()` has work to do.
    public var resolves: Bool { self.endpoints.contains { !$0.isAddress } }

    /// Runs `body` on a replica, by the balancer's rules: a connection failure ejects the replica, and the
    /// call goes to another one when that is safe and the retry budget allows. Errors name the service.
    public func call<Result: Sendable>(idempotent: Bool, _ body: (MeshClient) async throws -> Result) async throws
        -> Result
    {
        try await self.balancer.call(idempotent: idempotent) { try await body($0.client) }
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
        let change = self.balancer.reshape(
            retiring: { replica in
                resolved[replica.origin].map { !$0.contains(replica.endpoint) } ?? false
            },
            admitting: { present in
                resolved.sorted { $0.key.description < $1.key.description }.flatMap { origin, now in
                    now.filter { endpoint in !present.contains { $0.origin == origin && $0.endpoint == endpoint } }
                        .map { Replica(endpoint: $0, origin: origin, client: self.makeClient($0)) }
                }
            })
        for replica in change.idle { await replica.client.close() }
        return (change.admitted.map(\.endpoint), change.retired.map(\.endpoint))
    }

    public func close() async {
        for replica in self.balancer.removeAll() { await replica.client.close() }
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
        let members = self.balancer.load
        return await withTaskGroup(of: (Int, ReplicaStatus).self) { group in
            for (index, (member, outstanding)) in members.enumerated() {
                let replica = member.client
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
