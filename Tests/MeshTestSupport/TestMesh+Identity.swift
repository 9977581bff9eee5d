import MeshPKI
import MeshTransport

extension TestMesh {
    /// Credentials for a service calling other services (e.g. the gateway), checking the server's name.
    public static func serviceCredentials(_ name: String) -> MeshTLSConfiguration {
        self.credentials(for: name, role: .service, serverHostname: "catalog")
    }
}

extension TestMesh {
    /// A server certificate from the test CA for a webhook endpoint on loopback (it names localhost and
    /// 127.0.0.1); clients trust `authority.certificatePEM`.
    public static let webhookEndpointCertificate = try! authority.issue(
        commonName: "county-webhooks", role: .client, dnsNames: ["localhost"])
}
