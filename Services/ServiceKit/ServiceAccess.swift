import MeshIdentity
import MeshRPC
import MeshTransport

/// The one door: who may call a service directly, judged on the certificate of the connection before any
/// `on-behalf-of`. Counties, departments and the operator come in through the gateway only; a service takes
/// calls from the services that need it. Health (`mesh.rpc.v1.Health`) answers every certificate of the mesh
/// CA, so operators and orchestrators can probe any port.
public struct ServiceAccess: Sendable, Hashable {
    /// The service this table is for.
    public let service: String
    /// Roles whose parties may call directly.
    public let roles: Set<PartyRole>
    /// Services (certificates of role `service`) that may call, by name.
    public let services: Set<String>

    public init(service: String, roles: Set<PartyRole> = [], services: Set<String>) {
        self.service = service
        self.roles = roles
        self.services = services
    }

    /// The services that read the catalog: every other one.
    public static let catalog = ServiceAccess(
        service: "catalog", services: ["eligibility", "disbursement", "notification", "gateway"])
    /// Screening: the gateway, and disbursement (which checks a proposal against its own screening).
    public static let eligibility = ServiceAccess(service: "eligibility", services: ["gateway", "disbursement"])
    /// The ledger: the gateway for every party, notification for the events it consumes.
    public static let disbursement = ServiceAccess(service: "disbursement", services: ["gateway", "notification"])
    /// Notices and webhooks: the gateway for every party.
    public static let notification = ServiceAccess(service: "notification", services: ["gateway"])
    /// The door itself: counties, departments and the operator; and the gateway's own web console and HTTP
    /// face, which call its mesh port as the party they serve.
    public static let gateway = ServiceAccess(
        service: "gateway", roles: [.county, .department, .operator], services: ["gateway"])

    /// Every service's table, by name.
    public static let all: [String: ServiceAccess] = Dictionary(
        uniqueKeysWithValues: [catalog, eligibility, disbursement, notification, gateway].map { ($0.service, $0) })

    /// The health service, open to every certificate of the mesh CA.
    public static let healthService = HealthMethods.service

    /// Whether `peer` may call `method` on this service directly.
    public func admits(_ peer: PeerIdentity?, calling method: MethodDescriptor) -> Bool {
        if method.service == Self.healthService { return peer != nil }
        guard let peer, let role = peer.role else { return false }
        if role == .service { return self.services.contains(peer.commonName) }
        return self.roles.contains(role)
    }
}

/// Refuses, before anything else runs, a call from a party the service's `ServiceAccess` does not admit.
public struct DoorInterceptor: ServerInterceptor {
    let access: ServiceAccess

    public init(_ access: ServiceAccess) {
        self.access = access
    }

    public func intercept(context: ServerContext, next: @Sendable (ServerContext) async throws -> Void) async throws {
        guard self.access.admits(context.peer, calling: context.method) else {
            let who = context.peer?.description ?? "an unidentified caller"
            let door =
                context.peer?.role == .service
                ? "\(self.access.service) takes calls from \(self.access.services.sorted().joined(separator: ", ")) only"
                : "counties, departments and the operator come in through the gateway"
            throw RPCError(.permissionDenied, "\(who) may not call \(self.access.service) directly: \(door)")
        }
        try await next(context)
    }
}

/// A service started without an access table.
public struct ServiceAccessError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { self.message }
}
