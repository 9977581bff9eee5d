import BenefitsAPI
import BenefitsDomain
import GatewayStore
import MeshIdentity
import MeshMessages
import MeshRPC
import MeshTransport
import SwiftProtobuf

/// The gateway's methods: who may do what, then the call fanned out to the services' replicas on behalf of
/// the caller. The caller's deadline and cancellation reach every downstream call (they run inside the
/// handler's task, which carries the caller's context).
public struct GatewayHandlers: GatewayServiceProtocol {
    public struct Services: Sendable {
        public var catalog: ReplicaPool
        public var eligibility: ReplicaPool
        public var disbursement: ReplicaPool
        public var notification: ReplicaPool

        public init(
            catalog: ReplicaPool, eligibility: ReplicaPool, disbursement: ReplicaPool, notification: ReplicaPool
        ) {
            self.catalog = catalog
            self.eligibility = eligibility
            self.disbursement = disbursement
            self.notification = notification
        }
    }

    let services: Services
    let audit: AuditLog
    let limiter: CountyRateLimiter
    /// The counties' enterprise register and the departments' published records.
    let store: GatewayStore
    /// Which department attests which kind of record, read from the catalog.
    let vocabulary = VocabularyCache()
    /// WatchInbox streams open per caller.
    let watches = WatchSlots()
    /// Profiles screened at once for one batch call.
    public static let batchWindow = 32

    public init(services: Services, audit: AuditLog, limiter: CountyRateLimiter, store: GatewayStore) {
        self.services = services
        self.audit = audit
        self.limiter = limiter
        self.store = store
    }

    struct Caller {
        var identity: PeerIdentity
        var role: PartyRole
        var county: County?
        var department: Department?

        /// `role/name`, and the person where a console user acts: `department/jingxin (li.wei)`.
        var description: String { self.identity.description + (self.identity.person.map { " (\($0))" } ?? "") }
        /// Downstream calls carry who is being served; the services trust it from the gateway only.
        var options: CallOptions {
            var metadata = Metadata()
            metadata.add(DelegationInterceptor.header, "\(self.role.rawValue)/\(self.identity.commonName)")
            if let person = self.identity.person { metadata.add(DelegationInterceptor.personHeader, person) }
            return CallOptions(metadata: metadata)
        }
    }

    func caller(_ context: ServerContext) throws -> Caller {
        guard let peer = context.peer, let role = peer.role else {
            throw RPCError(.unauthenticated, "a client certificate from the mesh CA is required")
        }
        if let wait = self.limiter.admit(peer.description) {
            let milliseconds = wait.components.seconds * 1000 + wait.components.attoseconds / 1_000_000_000_000_000
            context.response.trailing.add("retry-after-ms", "\(milliseconds)")
            throw RPCError(
                .resourceExhausted, "\(peer) is over its rate limit; retry after \(milliseconds) ms",
                metadata: ["retry-after-ms": "\(milliseconds)"])
        }
        let caller = Caller(
            identity: peer, role: role,
            county: role == .county ? County(partyName: peer.commonName) : nil,
            department: role == .department ? Department(rawValue: peer.commonName) : nil
        )
        guard [.county, .department, .operator].contains(role) else {
            throw self.refuse(
                caller, context, "\(peer) is not a county, department or operator; use the services directly")
        }
        return caller
    }

    func refuse(_ caller: Caller, _ context: ServerContext, _ message: String) -> RPCError {
        self.audit.record(
            caller: caller.description, method: context.method.method, outcome: "refused", detail: ["reason": message])
        return RPCError(.permissionDenied, message)
    }

    /// A county acts only on enterprises registered in it; the operator on all; a department reads through
    /// its own methods.
    func requireCounty(_ county: Jiaxing_Benefits_V1_County, _ caller: Caller, _ context: ServerContext) throws {
        switch caller.role {
        case .operator: return
        case .county:
            guard let own = caller.county, own.message == county else {
                let target = County(message: county)?.chineseName ?? "\(county)"
                throw self.refuse(
                    caller, context,
                    "\(caller.description) acts only on enterprises of \(caller.county?.chineseName ?? "its county"), not \(target)"
                )
            }
        default:
            throw self.refuse(caller, context, "\(caller.description) may not do this")
        }
    }

    func requireRole(_ roles: Set<PartyRole>, _ caller: Caller, _ context: ServerContext) throws {
        guard roles.contains(caller.role) else {
            throw self.refuse(caller, context, "\(caller.description) may not call \(context.method.method)")
        }
    }

    func forward<Request: SwiftProtobuf.Message, Response: SwiftProtobuf.Message>(
        _ pool: ReplicaPool, _ method: MethodDescriptor, _ request: Request, _ caller: Caller, idempotent: Bool,
        as: Response.Type
    ) async throws -> Response {
        try await pool.call(idempotent: idempotent) { client in
            try await client.unary(method, request, options: caller.options)
        }
    }

    /// The longest text any string field of a request to the gateway may hold.
    public static let textLimit = TextLimit(maximumCharacters: 1_000)

    public func register(into router: inout RPCRouter) {
        router.requestCheck = { try Self.textLimit.check($0) }
        self.registerMethods(into: &router)
    }
}
