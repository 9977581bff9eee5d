import Foundation
import MeshIdentity

/// The certificates of a mesh on disk: `ca.pem` and `<name>.pem` / `<name>-key.pem` per party in `path`,
/// and the CA's private key alone in `authorityPath` (a sibling `ca` folder by default, mode 0700): the
/// folder handed to services and containers never holds the key that could mint any party.
public struct CertificateDirectory: Sendable {
    public let path: String
    public let authorityPath: String

    public init(path: String, authorityPath: String? = nil) {
        self.path = path
        self.authorityPath =
            authorityPath ?? URL(fileURLWithPath: path).deletingLastPathComponent().appendingPathComponent("ca").path
    }

    public var caCertificatePath: String { "\(self.path)/ca.pem" }
    /// Where the CA's private key is kept: only `mesh certs` and `mesh up` read it, to issue certificates.
    public var caPrivateKeyPath: String { "\(self.authorityPath)/ca-key.pem" }
    public func certificatePath(_ name: String) -> String { "\(self.path)/\(name).pem" }
    public func privateKeyPath(_ name: String) -> String { "\(self.path)/\(name)-key.pem" }

    /// Creates the CA on first use and a certificate for each party that has none. Returns the names created.
    @discardableResult
    public func ensure(parties: [(name: String, role: PartyRole)]) throws -> [String] {
        let files = FileManager.default
        try files.createDirectory(atPath: self.path, withIntermediateDirectories: true)
        try files.createDirectory(
            atPath: self.authorityPath, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        try files.setAttributes([.posixPermissions: 0o700], ofItemAtPath: self.authorityPath)
        // A mesh made before the key had a folder of its own: move it out of the parties' folder.
        let oldKey = "\(self.path)/ca-key.pem"
        if files.fileExists(atPath: oldKey), !files.fileExists(atPath: self.caPrivateKeyPath) {
            try files.moveItem(atPath: oldKey, toPath: self.caPrivateKeyPath)
        }
        var created: [String] = []
        let authority: CertificateAuthority
        if files.fileExists(atPath: self.caCertificatePath) {
            authority = try CertificateAuthority(
                certificatePEM: String(contentsOfFile: self.caCertificatePath, encoding: .utf8),
                privateKeyPEM: String(contentsOfFile: self.caPrivateKeyPath, encoding: .utf8)
            )
        } else {
            authority = try CertificateAuthority.create()
            try Self.write(authority.privateKeyPEM, to: self.caPrivateKeyPath, secret: true)
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
