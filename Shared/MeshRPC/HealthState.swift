import MeshWire
import NIOConcurrencyHelpers

/// Answers `mesh.rpc.v1.Health/Check` (readiness: serving or not, per service and overall) and
/// `mesh.rpc.v1.Health/Live` (liveness: the process answers, whatever it is still loading) for every server.
/// A replica not ready is taken out of rotation; one not live is restarted.
final class HealthState: Sendable {

    let serverName: String
    let services: Set<String>
    private let serving = NIOLockedValueBox(true)

    init(serverName: String, services: Set<String>) {
        self.serverName = serverName
        self.services = services
    }

    func setServing(_ serving: Bool) { self.serving.withLockedValue { $0 = serving } }
    var isServing: Bool { self.serving.withLockedValue { $0 } }

    func register(into router: inout RPCRouter) {
        router.unary(HealthMethods.live) { (_: Mesh_Rpc_V1_HealthCheckRequest, _) -> Mesh_Rpc_V1_HealthCheckResponse in
            var response = Mesh_Rpc_V1_HealthCheckResponse()
            response.server = self.serverName
            response.status = .serving
            return response
        }
        router.unary(HealthMethods.check) {
            (request: Mesh_Rpc_V1_HealthCheckRequest, _) -> Mesh_Rpc_V1_HealthCheckResponse in
            var response = Mesh_Rpc_V1_HealthCheckResponse()
            response.server = self.serverName
            if !request.service.isEmpty, request.service != HealthMethods.service,
                !self.services.contains(request.service)
            {
                response.status = .serviceUnknown
            } else {
                response.status = self.serving.withLockedValue { $0 } ? .serving : .notServing
            }
            return response
        }
    }
}
