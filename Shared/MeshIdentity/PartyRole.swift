/// What a party is in the mesh: written as the organizational unit of its certificate subject, read back from
/// the peer's certificate on every connection, named by the gateway's `on-behalf-of`, and held by each web
/// console account. One type for all four, so a role is never a string compared in a handler.
public enum PartyRole: String, Sendable, Hashable, CaseIterable, Codable {
    /// A mesh service (catalog, eligibility, disbursement, notification, gateway).
    case service
    /// A county or district IT system.
    case county
    /// A department that approves and pays (责任单位).
    case department
    /// The city operator.
    case `operator`
    /// A tool such as the `mesh` command.
    case client
}
