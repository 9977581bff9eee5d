import Foundation
import MeshIdentity

/// The certificates of a mesh on disk: `ca.pem`, `ca-key.pem`, and `<name>.pem` / `<name>-key.pem` per party.
public struct CertificateDirectory: Sendable {
    public let path: String

    public init(path: String) {
        self.path = path
    }

    public var caCertificatePath: String { "\(self.path)/ca.pem" }
    public func certificatePath(_ name: String) -> String { "\(self.path)/\(name).pem" }
    public func privateKeyPath(_ name: String) -> String { "\(self.path)/\(name)-key.pem" }

    /// Creates the CA on first use and a certificate for each party that has none. Returns the names created.
    @discardableResult
    public func ensure(parties: [(name: String, role: PartyRole)]) throws -> [String] {
        let files = FileManager.default
        try files.createDirectory(atPath: self.path, withIntermediateDirectories: true)
        var created: [String] = []
        let authority: CertificateAuthority
        if files.fileExists(atPath: self.caCertificatePath) {
            authority = try CertificateAuthority(
                certificatePEM: String(contentsOfFile: self.caCertificatePath, encoding: .utf8),
                privateKeyPEM: String(contentsOfFile: "\(self.path)/ca-key.pem", encoding: .utf8)
            )
        } else {
            authority = try CertificateAuthority.create()
            try Self.write(authority.privateKeyPEM, to: "\(self.path)/ca-key.pem", secret: true)
            try Self.write(authority.certificatePEM, to: self.caCertificatePath, secret: false)
            created.append("ca")
        }
        for party in parties where !files.fileExists(atPath: self.certificatePath(party.name)) {
            let issued = try authority.issue(
                commonName: party.name, role: party.role, dnsNames: [party.name, "localhost"])
            try Self.write(issued.privateKeyPEM, to: self.privateKeyPath(party.name), secret: true)
            try Self.write(issued.certificatePEM, to: self.certificatePath(party.name), secret: false)
            created.append(party.name)
        }
        return created
    }

    private static func write(_ text: String, to path: String, secret: Bool) throws {
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        if secret { try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path) }
    }
}
