import MeshIdentity
import MeshTransport

/// Lets a trusted caller (the gateway) act for the party it serves: when a call from a trusted identity
/// carries `on-behalf-of: role/name`, handlers see that party as the peer. From anyone else the header is
/// refused, so no client can claim another identity.
public struct DelegationInterceptor: ServerInterceptor {
    public static let header = "on-behalf-of"
    /// The person acting for that party (a console user), vouched for by the same trusted caller.
    public static let personHeader = "on-behalf-of-person"
    let trusted: Set<String>

    /// - Parameter trusted: identities allowed to delegate, as `role/name` (e.g. `service/gateway`).
    public init(trusted: Set<String> = ["service/gateway"]) {
        self.trusted = trusted
    }

    public func intercept(context: ServerContext, next: @Sendable (ServerContext) async throws -> Void) async throws {
        guard let claimed = context.metadata[Self.header] else {
            if context.metadata[Self.personHeader] != nil {
                throw RPCError(.invalidArgument, "\(Self.personHeader) comes only with \(Self.header)")
            }
            try await next(context)
            return
        }
        guard let peer = context.peer, self.trusted.contains(peer.description) else {
            throw RPCError(
                .permissionDenied,
                "\(context.peer?.description ?? "an unidentified caller") may not act on behalf of \(claimed)")
        }
        let parts = claimed.split(separator: "/", maxSplits: 1)
        guard parts.count == 2, let role = PartyRole(rawValue: String(parts[0])), !parts[1].isEmpty else {
            throw RPCError(
                .invalidArgument,
                "\(Self.header): role/name expected with a role of \(PartyRole.allCases.map(\.rawValue).joined(separator: ", ")), got '\(claimed)'"
            )
        }
        let person = context.metadata[Self.personHeader]
        if let person, person.isEmpty || person.count > 64 {
            throw RPCError(.invalidArgument, "\(Self.personHeader): 1 to 64 characters")
        }
        let actor = person.map { "\(claimed) (\($0))" } ?? claimed
        let party = PeerIdentity(
            commonName: String(parts[1]), role: role, subject: "\(actor) via \(peer.description)",
            person: person)
        try await next(context.acting(as: party))
    }
}

extension ServerContext {
    /// The same call, seen as coming from `party` (response metadata is shared).
    func acting(as party: PeerIdentity) -> ServerContext {
        ServerContext(
            method: self.method, metadata: self.metadata, peer: party, deadline: self.deadline, response: self.response)
    }
}
