import BenefitsAPI
import BenefitsDomain
import Ledger
import MeshIdentity
import MeshMessages
import MeshRPC

extension DisbursementHandlers {
    public func recordApplication(request: Jiaxing_Benefits_V1_RecordApplicationRequest, context: ServerContext)
        async throws -> Jiaxing_Benefits_V1_Application
    {
        guard let peer = context.peer, peer.role == .county, peer.subject.hasSuffix("via service/gateway"),
            let county = try Self.county(of: context)
        else {
            throw RPCError(
                .permissionDenied,
                "\(context.peer?.description ?? "an unidentified caller") may not record applications: counties file them through the gateway"
            )
        }
        guard request.application.county == county else {
            throw RPCError(
                .permissionDenied, "\(peer) files applications only for enterprises registered in its own county")
        }
        if request.decideAtOnce {
            let application = request.application
            _ = try self.seals.check(
                request.hasSeal ? request.seal : nil, creditCode: application.creditCode,
                county: application.county,
                clauseID: application.clauseID, subject: application.subject, period: application.period,
                amountFen: request.amountFen)
        }
        return try await self.applications.record(request)
    }

    public func decideApplication(request: Jiaxing_Benefits_V1_DecideApplicationRequest, context: ServerContext)
        async throws -> Jiaxing_Benefits_V1_Application
    {
        try await self.applications.decide(request, by: Self.decider(context))
    }

    public func getEvidence(request: Jiaxing_Benefits_V1_GetEvidenceRequest, context: ServerContext) async throws
        -> Jiaxing_Benefits_V1_Evidence
    {
        try Self.require(context, roles: [.operator, .service, .county, .department], to: "read evidence")
        return try await self.applications.evidence(
            applicationID: request.applicationID, sha256: request.sha256, county: try Self.county(of: context),
            department: try Self.department(of: context)
        )
    }

    public func listApplications(request: Jiaxing_Benefits_V1_ListApplicationsRequest, context: ServerContext)
        async throws -> Jiaxing_Benefits_V1_ListApplicationsResponse
    {
        switch context.peer?.role {
        case .operator, .service:
            return try await self.applications.list(request)
        case .county:
            return try await self.applications.list(request, county: try Self.county(of: context))
        case .department:
            return try await self.applications.list(request, department: try Self.department(of: context))
        default:
            throw RPCError(
                .permissionDenied,
                "\(context.peer?.description ?? "an unidentified caller") may not read applications")
        }
    }
}
