import MeshIdentity
import MeshMessages
import MeshRPC
import MeshTestSupport
import MeshTransport
import MeshWire
import ServiceKit
import Testing

/// The one door: each service's table of direct callers, for every service and every role, and the
/// interceptor that enforces it over real mutual TLS.
@Suite("Service access")
struct ServiceAccessTests {
    static let listFunds = MethodDescriptor(service: "jiaxing.benefits.v1.DisbursementService", method: "ListFunds")
    static let health = MethodDescriptor(service: "mesh.rpc.v1.Health", method: "Check")
    static let services = ["catalog", "eligibility", "disbursement", "notification", "gateway"]

    static func peer(_ role: PartyRole, _ name: String) -> PeerIdentity {
        PeerIdentity(commonName: name, role: role, subject: "CN=\(name),OU=\(role.rawValue)")
    }

    @Test("every service and role: parties only at the gateway, services only where they are needed, health for all")
    func table() throws {
        // service → the callers it admits, as role/name.
        let expected: [String: Set<String>] = [
            "catalog": ["service/eligibility", "service/disbursement", "service/notification", "service/gateway"],
            "eligibility": ["service/gateway", "service/disbursement"],
            "disbursement": ["service/gateway", "service/notification"],
            "notification": ["service/gateway"],
            "gateway": ["county/nanhu", "department/jingxin", "operator/operator", "service/gateway"],
        ]
        let callers: [PeerIdentity] =
            [
                Self.peer(.county, "nanhu"), Self.peer(.department, "jingxin"), Self.peer(.operator, "operator"),
                Self.peer(.client, "mesh-cli"),
            ] + Self.services.map { Self.peer(.service, $0) }
        #expect(Set(ServiceAccess.all.keys) == Set(Self.services))
        for service in Self.services {
            let access = try #require(ServiceAccess.all[service])
            for caller in callers {
                let method = MethodDescriptor(service: "jiaxing.benefits.v1.Any", method: "Call")
                #expect(
                    access.admits(caller, calling: method) == expected[service]!.contains(caller.description),
                    "\(caller) → \(service)")
                #expect(access.admits(caller, calling: Self.health), "\(caller) → \(service) health")
            }
            // A certificate without a role of the mesh, or no peer at all, gets nothing but a refusal.
            let roleless = PeerIdentity(commonName: "x", role: nil, subject: "CN=x")
            #expect(!access.admits(roleless, calling: Self.listFunds))
            #expect(!access.admits(nil, calling: Self.health))
        }
    }

    @Test("over TLS: a county at the disbursement port is refused, health answers; the gateway acting for it passes")
    func door() async throws {
        var router = RPCRouter()
        router.unary(Self.listFunds) {
            (_: Mesh_Rpc_V1_HealthCheckRequest, context) -> Mesh_Rpc_V1_HealthCheckResponse in
            var response = Mesh_Rpc_V1_HealthCheckResponse()
            response.server = context.peer?.description ?? ""
            return response
        }
        try await TestMesh.withServer(
            router: router, interceptors: [DoorInterceptor(.disbursement), DelegationInterceptor()]
        ) { _, port in
            func client(_ name: String, _ role: PartyRole) -> MeshClient {
                TestMesh.client(port: port, tls: TestMesh.credentials(for: name, role: role))
            }
            let county = client("nanhu", .county)
            let eligibility = client("eligibility", .service)
            let gateway = client("gateway", .service)
            let operatorClient = client("operator", .operator)
            defer {
                Task {
                    for client in [county, eligibility, gateway, operatorClient] { await client.close() }
                }
            }
            let refused = await #expect(throws: RPCError.self) {
                let _: Mesh_Rpc_V1_HealthCheckResponse = try await county.unary(
                    Self.listFunds, Mesh_Rpc_V1_HealthCheckRequest())
            }
            #expect(refused?.code == .permissionDenied)
            #expect(refused?.message.contains("come in through the gateway") == true, "\(refused?.message ?? "")")
            let operatorRefused = await #expect(throws: RPCError.self) {
                let _: Mesh_Rpc_V1_HealthCheckResponse = try await operatorClient.unary(
                    Self.listFunds, Mesh_Rpc_V1_HealthCheckRequest())
            }
            #expect(operatorRefused?.code == .permissionDenied)
            let wrongService = await #expect(throws: RPCError.self) {
                let _: Mesh_Rpc_V1_HealthCheckResponse = try await eligibility.unary(
                    Self.listFunds, Mesh_Rpc_V1_HealthCheckRequest())
            }
            #expect(wrongService?.message.contains("takes calls from gateway, notification only") == true)
            // Health answers the county; the gateway is admitted, and acting for the county it is seen as it.
            let health: Mesh_Rpc_V1_HealthCheckResponse = try await county.unary(
                Self.health, Mesh_Rpc_V1_HealthCheckRequest())
            #expect(health.status == .serving)
            let direct: Mesh_Rpc_V1_HealthCheckResponse = try await gateway.unary(
                Self.listFunds, Mesh_Rpc_V1_HealthCheckRequest())
            #expect(direct.server == "service/gateway")
            var metadata = Metadata()
            metadata.add(DelegationInterceptor.header, "county/nanhu")
            let delegated: Mesh_Rpc_V1_HealthCheckResponse = try await gateway.unary(
                Self.listFunds, Mesh_Rpc_V1_HealthCheckRequest(), options: CallOptions(metadata: metadata))
            #expect(delegated.server == "county/nanhu")
            // The county cannot borrow the gateway's door by claiming to be acting for someone.
            let claimed = await #expect(throws: RPCError.self) {
                let _: Mesh_Rpc_V1_HealthCheckResponse = try await county.unary(
                    Self.listFunds, Mesh_Rpc_V1_HealthCheckRequest(), options: CallOptions(metadata: metadata))
            }
            #expect(claimed?.code == .permissionDenied)
        }
    }
}
