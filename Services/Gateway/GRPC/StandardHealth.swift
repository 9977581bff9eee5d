import GRPCCore
import MeshMessages
import MeshRPC
import MeshWire
import NIOConcurrencyHelpers
import NIOCore
import SwiftProtobuf

/// `grpc.health.v1.Health` (`Shared/Protos/grpc/health/v1`), for gRPC's own probes (Kubernetes, Envoy,
/// grpc-health-probe).
///
/// Both answer from the mesh server's readiness (`MeshServer.isServing`). `Watch` sends the status at once and
/// again whenever it changes, until the client cancels.
struct StandardHealth: RegistrableRPCService {
    static let service = "grpc.health.v1.Health"
    /// How often a watch looks at the server's readiness.
    static let watchInterval: Duration = .seconds(1)

    let mesh: MeshServer
    /// The services this port answers besides the mesh server's (health and reflection): known to a check.
    let portServices: Set<String>

    func registerMethods<Transport: ServerTransport>(with router: inout GRPCCore.RPCRouter<Transport>) {
        let mesh = self.mesh
        let portServices = self.portServices
        router.registerHandler(
            forMethod: GRPCCore.MethodDescriptor(fullyQualifiedService: Self.service, method: "Check"),
            deserializer: ByteBufferCoding(), serializer: ByteBufferCoding()
        ) { request, _ in
            let asked = try await Self.request(request)
            let status = Self.status(of: asked.service, mesh: mesh, portServices: portServices)
            // The standard's answer for a service the server does not have is an error, not a status.
            guard status != .serviceUnknown else {
                throw RPCError(code: .notFound, message: "service '\(asked.service)' is not served here")
            }
            return StreamingServerResponse(single: ServerResponse(message: try Self.response(status)))
        }
        router.registerHandler(
            forMethod: GRPCCore.MethodDescriptor(fullyQualifiedService: Self.service, method: "Watch"),
            deserializer: ByteBufferCoding(), serializer: ByteBufferCoding()
        ) { request, _ in
            let asked = try await Self.request(request)
            return StreamingServerResponse(of: ByteBuffer.self) { writer in
                let stopped = NIOLockedValueBox(false)
                try await withRPCCancellationHandler {
                    var last: Grpc_Health_V1_HealthCheckResponse.ServingStatus?
                    while !stopped.withLockedValue({ $0 }) {
                        let status = Self.status(of: asked.service, mesh: mesh, portServices: portServices)
                        if status != last {
                            try await writer.write(try Self.response(status))
                            last = status
                        }
                        try await Task.sleep(for: Self.watchInterval)
                    }
                } onCancelRPC: {
                    stopped.withLockedValue { $0 = true }
                }
                return [:]
            }
        }
    }

    static func request(_ request: StreamingServerRequest<ByteBuffer>) async throws -> Grpc_Health_V1_HealthCheckRequest
    {
        let single = try await GRPCCore.ServerRequest<ByteBuffer>(stream: request)
        do {
            return try Grpc_Health_V1_HealthCheckRequest(serializedBytes: Array(single.message.readableBytesView))
        } catch {
            throw RPCError(code: .invalidArgument, message: "request: not a grpc.health.v1.HealthCheckRequest")
        }
    }

    static func response(_ status: Grpc_Health_V1_HealthCheckResponse.ServingStatus) throws -> ByteBuffer {
        var response = Grpc_Health_V1_HealthCheckResponse()
        response.status = status
        return ByteBuffer(bytes: try response.serializedBytes() as [UInt8])
    }

    /// What the mesh server's Check answers, without a call: serving or not for the server or one of its
    /// services, unknown for a service it does not have.
    static func status(of service: String, mesh: MeshServer, portServices: Set<String>)
        -> Grpc_Health_V1_HealthCheckResponse.ServingStatus
    {
        guard
            service.isEmpty || service == HealthMethods.service || mesh.services.contains(service)
                || portServices.contains(service)
        else { return .serviceUnknown }
        return mesh.isServing ? .serving : .notServing
    }
}
