import Foundation
import MeshIdentity
import MeshPKI
import Testing

/// The CA's key is kept apart from the folder every service and container is given.
@Suite("Certificate directory")
struct CertificateDirectoryTests {
    @Test("the CA key goes to its own 0700 folder; the parties' folder has none; an old layout's key is moved")
    func keyApart() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("pki-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        let directory = CertificateDirectory(path: "\(root)/certs")
        let created = try directory.ensure(parties: [("nanhu", .county), ("gateway", .service)])
        #expect(created == ["ca", "nanhu", "gateway"])
        let files = try FileManager.default.contentsOfDirectory(atPath: "\(root)/certs").sorted()
        #expect(files == ["ca.pem", "gateway-key.pem", "gateway.pem", "nanhu-key.pem", "nanhu.pem"])
        #expect(directory.caPrivateKeyPath == "\(root)/ca/ca-key.pem")
        let folder = try FileManager.default.attributesOfItem(atPath: "\(root)/ca")
        #expect((folder[.posixPermissions] as? Int) == 0o700)
        let key = try FileManager.default.attributesOfItem(atPath: directory.caPrivateKeyPath)
        #expect((key[.posixPermissions] as? Int) == 0o600)

        // A mesh from before: its key in the parties' folder is moved out, and still issues certificates.
        try FileManager.default.moveItem(atPath: directory.caPrivateKeyPath, toPath: "\(root)/certs/ca-key.pem")
        #expect(try directory.ensure(parties: [("haining", .county)]) == ["haining"])
        #expect(!FileManager.default.fileExists(atPath: "\(root)/certs/ca-key.pem"))
        #expect(FileManager.default.fileExists(atPath: directory.caPrivateKeyPath))
    }
}
