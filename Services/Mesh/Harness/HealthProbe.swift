import Logging
import MeshRPC
import MeshTransport
import MeshWire
import ServiceKit

/// Asks a mesh server whether it serves, over mutual TLS with the `mesh-cli` certificate (or another of the
/// mesh CA's: Health answers every one).
public enum HealthProbe {
    public static let method = HealthMethods.check
    public static let defaultIdentity = "mesh-cli"

    public static func tls(certificates: String, service: String, identity: String = Self.defaultIdentity) throws
        -> MeshTLSConfiguration
    {
        try TLSFiles.load(directory: certificates, name: identity, serverHostname: service)
    }

    public static func check(
        host: String = "127.0.0.1", port: Int, tls: MeshTLSConfiguration, timeout: Duration = .seconds(2)
    )
        async -> Result<Mesh_Rpc_V1_HealthCheckResponse, RPCError>
    {
        var logger = Logger(label: "mesh.health")
        logger.logLevel = .critical
        let client = MeshClient(configuration: .init(host: host, port: port, tls: tls), logger: logger)
        let result: Result<Mesh_Rpc_V1_HealthCheckResponse, RPCError>
        do {
            result = .success(
                try await client.unary(
                    self.method, Mesh_Rpc_V1_HealthCheckRequest(), options: CallOptions(timeout: timeout)))
        } catch {
            result = .failure(RPCError.from(error))
        }
        await client.close()
        return result
    }

    /// Polls until the server answers SERVING or `within` runs out.
    public static func waitUntilServing(port: Int, tls: MeshTLSConfiguration, within: Duration) async -> Result<
        Mesh_Rpc_V1_HealthCheckResponse, RPCError
    > {
        let deadline = ContinuousClock.now + within
        var last: Result<Mesh_Rpc_V1_HealthCheckResponse, RPCError> = .failure(RPCError(.unavailable, "not checked"))
        while ContinuousClock.now < deadline {
            last = await self.check(port: port, tls: tls)
            if case .success(let response) = last, response.status == .serving { return last }
            try? await Task.sleep(for: .milliseconds(200))
        }
        return last
    }
}
