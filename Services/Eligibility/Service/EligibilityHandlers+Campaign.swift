import BenefitsAPI
import BenefitsDomain
import EligibilityEngine
import MeshMessages
import MeshRPC

extension EligibilityHandlers {
    /// Most profiles one `ScreenCampaign` takes: a page of payable decisions, sealed and explained (about
    /// 4 KB each), and near misses stays well inside the 4 MiB frame.
    public static let maximumCampaignProfiles = 500

    /// Which decisions a campaign keeps: cash decisions of its clauses or documents, and for a department's
    /// campaign only those of clauses it is responsible for.
    struct CampaignSelection: Sendable {
        let clauses: Set<String>
        let documents: Set<String>
        let department: Department?

        init(_ request: Jiaxing_Benefits_V1_CampaignScreenRequest) throws {
            guard !request.clauseIds.isEmpty || !request.documentIds.isEmpty else {
                throw RPCError(.invalidArgument, "clause_ids: name the clauses or the documents the campaign pays")
            }
            self.clauses = Set(request.clauseIds)
            self.documents = Set(request.documentIds)
            if request.department.isEmpty {
                self.department = nil
            } else {
                guard let department = Department(rawValue: request.department) else {
                    throw RPCError(.invalidArgument, "department: no department of the city '\(request.department)'")
                }
                self.department = department
            }
        }

        func takes(_ decision: Jiaxing_Benefits_V1_Decision) -> Bool {
            guard decision.cash,
                self.clauses.contains(decision.citation.clauseID)
                    || self.documents.contains(decision.citation.documentID)
            else { return false }
            return self.department.map { $0.isResponsible(among: decision.citation.responsibleDepartments) } ?? true
        }
    }

    /// A campaign's page: each profile screened on every clause in force (就高不重复 weighs them all), and
    /// only the campaign's payable decisions (sealed) and near misses kept. A refused profile is reported on
    /// its line and the rest go on.
    func screenCampaign(_ request: Jiaxing_Benefits_V1_CampaignScreenRequest, on engine: EligibilityEngine) throws
        -> Jiaxing_Benefits_V1_CampaignScreenResponse
    {
        guard request.profiles.count <= Self.maximumCampaignProfiles else {
            throw RPCError(
                .invalidArgument,
                "profiles: at most \(Self.maximumCampaignProfiles) a call, got \(request.profiles.count)")
        }
        guard request.hasAsOf, CalendarDate(message: request.asOf) != nil else {
            throw RPCError(.invalidArgument, "as_of: the day the campaign screens is required")
        }
        let selection = try CampaignSelection(request)
        guard let sealer = self.sealer else {
            throw RPCError(.failedPrecondition, "seal: this eligibility replica has no signing key")
        }
        var response = Jiaxing_Benefits_V1_CampaignScreenResponse()
        response.asOf = request.asOf
        response.enterprises.reserveCapacity(request.profiles.count)
        var screen = Jiaxing_Benefits_V1_ScreenRequest()
        screen.asOf = request.asOf
        var payable: [(profile: Int, decision: Int)] = []
        for (index, profile) in request.profiles.enumerated() {
            screen.profile = profile
            let result = engine.screen(screen)
            response.catalogRevision = result.catalogRevision
            var kept = Jiaxing_Benefits_V1_CampaignScreening()
            kept.creditCode = profile.creditCode
            if result.hasError {
                kept.error = result.error
                response.enterprises.append(kept)
                continue
            }
            for decision in result.decisions where selection.takes(decision) {
                switch decision.status {
                case .eligible where decision.isSealable: kept.payable.append(decision)
                case .nearMiss: kept.nearMisses.append(decision)
                default: break
                }
            }
            payable += kept.payable.indices.map { (index, $0) }
            response.enterprises.append(kept)
        }
        // The page's payable decisions under one signature.
        try sealer.sealTogether(
            payable, of: &response.enterprises, profiles: request.profiles, asOf: request.asOf,
            catalogRevision: response.catalogRevision)
        return response
    }
}
