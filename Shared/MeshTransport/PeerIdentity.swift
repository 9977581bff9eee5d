import MeshIdentity
import NIOSSL
import X509

/// Who is at the other end of a mutual-TLS connection, read from the certificate it presented.
///
/// The mesh CA names every party in the subject: the common name is the party (`catalog`, `nanhu`,
/// `finance-bureau`, `operator`) and the organizational unit its role (`service`, `county`, `department`,
/// `operator`, `client`).
public struct PeerIdentity: Sendable, Hashable, CustomStringConvertible {
    public var commonName: String
    /// Nil for a certificate whose organizational unit is not a role of the mesh: such a peer is refused
    /// everywhere but health checks.
    public var role: PartyRole?
    public var subject: String
    public var dnsNames: [String]
    /// The person acting for the party, where the gateway vouches for one (a web console user).
    public var person: String?

    public init(
        commonName: String, role: PartyRole?, subject: String, dnsNames: [String] = [], person: String? = nil
    ) {
        self.commonName = commonName
        self.role = role
        self.subject = subject
        self.dnsNames = dnsNames
        self.person = person
    }

    public init(certificate: Certificate) {
        var commonName = ""
        var role: PartyRole?
        for relativeName in certificate.subject {
            for attribute in relativeName {
                switch attribute.type {
                case .RDNAttributeType.commonName: commonName = Self.text(attribute.value)
                case .RDNAttributeType.organizationalUnitName: role = PartyRole(rawValue: Self.text(attribute.value))
                default: break
                }
            }
        }
        var dnsNames: [String] = []
        if let alternativeNames = try? certificate.extensions.subjectAlternativeNames {
            for name in alternativeNames {
                if case .dnsName(let dnsName) = name { dnsNames.append(dnsName) }
            }
        }
        self.init(commonName: commonName, role: role, subject: certificate.subject.description, dnsNames: dnsNames)
    }

    /// The party a PEM certificate names (the first certificate of a chain): what a server would read from
    /// it at the handshake, for calls made in process on that party's behalf.
    public init(certificatePEM: String) throws {
        let marker = "-----END CERTIFICATE-----"
        let first = certificatePEM.range(of: marker).map { String(certificatePEM[..<$0.upperBound]) } ?? certificatePEM
        try self.init(certificate: Certificate(pemEncoded: first))
    }

    public init(certificate: NIOSSLCertificate) throws {
        try self.init(certificate: Certificate(derEncoded: certificate.toDERBytes()))
    }

    /// `role/commonName`, e.g. `county/nanhu`.
    public var description: String { "\(self.role?.rawValue ?? "unknown")/\(self.commonName)" }

    private static func text(_ value: RelativeDistinguishedName.Attribute.Value) -> String {
        String(describing: value)
    }
}
