import MeshPKI
import MeshTransport

extension TestMesh {
    /// Credentials for a service calling other services (e.g. the gateway), checking the server's name.
    public static func serviceCredentials(_ name: String) -> MeshTLSConfiguration {
        self.credentials(for: name, role: .service, serverHostname: "catalog")
    }
}
