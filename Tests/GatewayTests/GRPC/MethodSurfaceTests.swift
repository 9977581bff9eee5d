import BenefitsAPI
import Foundation
import GatewayService
import GatewayStore
import MeshRPC
import MeshTestSupport
import SQLStore
import SwiftProtobuf
import Testing

/// The method surface comes from the .proto files: the registry protoc-gen-mesh writes (what the HTTP face,
/// `mesh call` and the method list use) matches every service's methods, kinds and messages, and the gateway
/// serves every method of its service (so the gRPC face, which registers what the gateway routes, does too).
@Suite("One method surface")
struct MethodSurfaceTests {
    static func kind(_ method: Google_Protobuf_MethodDescriptorProto) -> MethodKind {
        switch (method.clientStreaming, method.serverStreaming) {
        case (false, false): .unary
        case (false, true): .serverStreaming
        case (true, false): .clientStreaming
        case (true, true): .bidirectional
        }
    }

    @Test("every method of the domain's .proto services is in the registry with its kind and messages")
    func registryMatchesTheProtos() throws {
        let set = try Google_Protobuf_FileDescriptorSet(serializedBytes: ProtoDescriptorSet.bytes)
        var methods = 0
        for file in set.file where file.package == "jiaxing.benefits.v1" {
            for service in file.service {
                for method in service.method {
                    let name = "\(file.package).\(service.name)/\(method.name)"
                    let entry = try #require(MethodRegistry.find(name), "\(name) is not in the registry")
                    #expect(entry.kind == Self.kind(method), "\(name)")
                    #expect("." + entry.request.protoMessageName == method.inputType, "\(name)")
                    #expect("." + entry.response.protoMessageName == method.outputType, "\(name)")
                    methods += 1
                }
            }
        }
        #expect(methods == 73)
        // The domain's methods and the mesh's health check, nothing else.
        #expect(MethodRegistry.entries.count == methods + 1)
    }

    @Test("every method of every domain service is routed by the service that declares it")
    func everyServiceServesItsMethods() async throws {
        try await GatewayTests.withMesh { mesh in
            // The health check is every server's own (MeshServer adds it), not a route of the services'.
            let declared = MethodRegistry.entries.map(\.method).filter { $0.service != HealthMethods.service }
                .map(\.fullName)
            let missing = declared.filter { !mesh.routed.contains($0) }
            #expect(missing.isEmpty, "declared in the .proto files, routed by no service: \(missing)")
            #expect(declared.count == 73)
        }
    }

    @Test("the gateway routes every method of jiaxing.benefits.v1.Gateway, and no other of that service")
    func gatewayServesEveryMethod() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("surface-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let tls = TestMesh.serviceCredentials("gateway")
        // Pools that are never called: registering routes makes no call.
        func pool(_ name: String) -> ReplicaPool {
            ReplicaPool(service: name, endpoints: [("127.0.0.1", 9)], tls: tls, logger: TestMesh.logger)
        }
        var router = RPCRouter()
        GatewayHandlers(
            services: .init(
                catalog: pool("catalog"), eligibility: pool("eligibility"), disbursement: pool("disbursement"),
                notification: pool("notification")),
            audit: try AuditLog(path: "\(folder)/audit.log"), limiter: CountyRateLimiter(rate: 1, burst: 1),
            store: try await GatewayStore.open(SQLiteDatabase(path: "\(folder)/gateway.sqlite"))
        ).register(into: &router)
        let routed = Set(router.methods.map(\.name).filter { $0.hasPrefix(GatewayMethods.service + "/") })
        let declared = Set(
            MethodRegistry.entries.filter { $0.method.service == GatewayMethods.service }.map(\.method.fullName))
        #expect(routed == declared)
        #expect(declared.count == 40)
    }
}
