import BenefitsAPI
import GatewayStore
import MeshRPC
import SwiftProtobuf

/// Calls the gateway's own mesh server (in process) for a signed-in person, as the party of their account: the gateway
/// authorizes, audits and fans out exactly as for a county system or department with a certificate, and
/// the person's user name travels with the call into the audit log and the ledger's `decided_by`.
struct ConsoleGateway: Sendable {
    let client: MeshClient
    /// How long one console request may wait on the mesh.
    static let timeout = Duration.seconds(10)

    func call<Request: SwiftProtobuf.Message, Response: SwiftProtobuf.Message>(
        _ method: MethodDescriptor, _ request: Request, as account: ConsoleAccount
    ) async throws -> Response {
        var metadata = Metadata()
        metadata.add(DelegationInterceptor.header, account.partyIdentity)
        metadata.add(DelegationInterceptor.personHeader, account.userName)
        return try await self.client.unary(
            method, request, options: CallOptions(timeout: Self.timeout, metadata: metadata))
    }
}
