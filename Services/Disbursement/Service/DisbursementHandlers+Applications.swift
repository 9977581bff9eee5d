import BenefitsAPI
import BenefitsDomain
import Ledger
import MeshIdentity
import MeshMessages
import MeshRPC

extension DisbursementHandlers {
    /// Applications: recorded only through the gateway (it has asked eligibility first, and vouches for the
    /// county it acts for), decided by the responsible department, read by each party for its own.
    func registerApplications(into router: inout RPCRouter) {
        router.unary(DisbursementMethods.recordApplication) {
            (request: Jiaxing_Benefits_V1_RecordApplicationRequest, context) in
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
        router.unary(DisbursementMethods.decideApplication) {
            (request: Jiaxing_Benefits_V1_DecideApplicationRequest, context) in
            try await self.applications.decide(request, by: Self.decider(context))
        }
        router.unary(DisbursementMethods.getEvidence) { (request: Jiaxing_Benefits_V1_GetEvidenceRequest, context) in
            try Self.require(context, roles: [.operator, .service, .county, .department], to: "read evidence")
            return try await self.applications.evidence(
                applicationID: request.applicationID, sha256: request.sha256, county: try Self.county(of: context),
                department: try Self.department(of: context)
            )
        }
        router.unary(DisbursementMethods.listApplications) {
            (request: Jiaxing_Benefits_V1_ListApplicationsRequest, context) in
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
}
