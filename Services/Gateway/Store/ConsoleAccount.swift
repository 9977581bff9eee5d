import BenefitsDomain
import MeshIdentity

/// A person who signs in to the web console, and the party they act for: county staff of one county, an
/// officer of one department, or the city operator. Their calls go through the gateway as that party.
public struct ConsoleAccount: Sendable, Hashable {
    /// The roles an account may hold: the parties that act through the gateway.
    public static let roles: [PartyRole] = [.county, .department, .operator]

    public var userName: String
    public var role: PartyRole
    /// The party's name as on its certificate: `nanhu`, `jingxin`, `operator`.
    public var party: String
    public var displayName: String

    public init(userName: String, role: PartyRole, party: String, displayName: String) {
        self.userName = userName
        self.role = role
        self.party = party
        self.displayName = displayName
    }

    public var county: County? { self.role == .county ? County(partyName: self.party) : nil }
    public var department: Department? { self.role == .department ? Department(rawValue: self.party) : nil }
    /// `role/party`, as a certificate would name the party.
    public var partyIdentity: String { "\(self.role.rawValue)/\(self.party)" }
}
