import BenefitsAPI
import BenefitsDomain
import GatewayStore
import MeshMessages
import MeshRPC

extension GatewayHandlers {
    /// 即申即享 / 限时即享. The profile sent is registered (the county's own enterprises only); the gateway then
    /// asks eligibility twice, concurrently: on the city's own data (the trusted profile: the county's identity
    /// and the departments' attested records), and with what is declared on top (the county's unattested
    /// records and the facts the enterprise claims, each marked DECLARED). If the city's own data meets the
    /// clause and its formula fixes the amount, the application is decided at once and the order proposed in
    /// the same call; if only the declared facts meet it (they need checking) or the clause leaves the amount
    /// open, it goes to the responsible department with a deadline in working days.
    func fileApplication(_ request: Jiaxing_Benefits_V1_FileApplicationRequest, _ caller: Caller) async throws
        -> Jiaxing_Benefits_V1_Application
    {
        guard !request.clauseID.isEmpty else {
            throw RPCError(.invalidArgument, "clause_id: the clause applied for is required")
        }
        guard request.requestedFen >= 0 else {
            throw RPCError(.invalidArgument, "requested_fen: must not be negative, got \(request.requestedFen)")
        }
        let now = Self.nowMillis()
        try await self.registerForMoneyPath(request.profile, caller)
        guard let registered = try await self.store.enterprise(creditCode: request.profile.creditCode) else {
            throw RPCError(.notFound, "credit_code: \(request.profile.creditCode) is not registered")
        }
        let vocabulary = try await self.vocabulary.vocabulary(from: self.services.catalog, options: caller.options)
        let attested = try await self.store.attestedRecords(creditCode: registered.creditCode)
        let trusted = TrustedProfile.build(registered: registered, attested: attested, vocabulary: vocabulary)
        let declared = TrustedProfile.declarations(
            of: registered, beside: trusted, vocabulary: vocabulary, at: now)
        let claimedFacts = request.claimedFacts.map { fact in
            var fact = fact
            fact.source = .vouched(.declared, by: caller.county?.partyName ?? "", at: now)
            return fact
        }
        var own = Jiaxing_Benefits_V1_ScreenRequest()
        own.profile = trusted
        own.asOf = request.asOf
        own.includeIneligible = true
        var claimed = own
        own.seal = true
        claimed.profile.recognitions += declared.recognitions
        claimed.profile.projects += declared.projects
        claimed.profile.facts += declared.facts + claimedFacts
        async let ownResult = self.screen(own, caller)
        async let claimedResult = self.screen(claimed, caller)
        let (cityData, withClaims) = try await (ownResult, claimedResult)
        for result in [cityData, withClaims] where result.hasError {
            throw RPCError(.invalidArgument, result.error.message)
        }
        let candidates = withClaims.decisions.filter { $0.citation.clauseID == request.clauseID }
        guard !candidates.isEmpty else {
            throw RPCError(
                .failedPrecondition,
                "clause_id: \(request.clauseID) is not a clause in force on \(request.asOf.year)-\(request.asOf.month)-\(request.asOf.day) that enterprises apply for"
            )
        }
        // For a clause paid per item, `subject` names the item (a project's, contract's or award's own id).
        let isPerItem = candidates.contains { !$0.item.isEmpty }
        let decision: Jiaxing_Benefits_V1_Decision
        do {
            decision = try Self.item(
                isPerItem ? request.subject : "", field: "subject", among: candidates, clause: request.clauseID)
        } catch {
            throw RPCError(.invalidArgument, error.message)
        }
        var application = Jiaxing_Benefits_V1_Application()
        application.creditCode = request.profile.creditCode
        application.enterpriseName = request.profile.name
        application.county = request.profile.county
        application.clauseID = request.clauseID
        // What it pays for is the screening's (the overlap group or clause, and the item), never the caller's
        // words: one thing is applied for once, however the application names it.
        application.subject = decision.orderSubject
        application.period = decision.period
        application.requestedFen = request.requestedFen
        application.claimedFacts = declared.facts + claimedFacts
        application.declaredRecognitions = declared.recognitions
        application.declaredProjects = declared.projects
        application.evidence = request.evidence
        var record = Jiaxing_Benefits_V1_RecordApplicationRequest()
        let atOnce = cityData.decisions.first { $0.citation.clauseID == request.clauseID && $0.item == decision.item }
        if let atOnce, [.eligible, .needsApplication].contains(atOnce.status), atOnce.amountFixed, atOnce.amountFen > 0
        {
            record.decideAtOnce = true
            record.amountFen = atOnce.amountFen
            application.period = atOnce.period
            record.seal = atOnce.seal
            application.maximumFen = atOnce.amountFen
        } else {
            switch decision.status {
            case .eligible, .needsApplication:
                application.maximumFen = decision.amountFen
            case .manualAssessment:
                application.maximumFen = 0
            case .superseded:
                throw RPCError(
                    .failedPrecondition, "clause_id: \(request.clauseID) is superseded (就高不重复): \(decision.reason)")
            case .nearMiss:
                throw RPCError(
                    .failedPrecondition,
                    "clause_id: \(request.clauseID) is nearly met; missing: \(decision.missing.joined(separator: "; "))"
                )
            default:
                throw RPCError(.failedPrecondition, "clause_id: \(request.clauseID) is not met: \(decision.reason)")
            }
        }
        record.application = application
        let recorded = record
        do {
            let filed: Jiaxing_Benefits_V1_Application = try await self.services.disbursement.call(idempotent: true) {
                client in
                try await client.unary(DisbursementMethods.recordApplication, recorded, options: caller.options)
            }
            self.audit.record(
                caller: caller.description, method: "FileApplication",
                outcome: filed.replayed ? "replayed" : "\(filed.status)",
                detail: [
                    "application": filed.id, "creditCode": filed.creditCode, "clause": filed.clauseID,
                    "order": filed.orderID, "decidedFen": "\(filed.decidedFen)",
                ])
            return filed
        } catch {
            self.audit.record(
                caller: caller.description, method: "FileApplication", outcome: "refused",
                detail: [
                    "creditCode": request.profile.creditCode, "clause": request.clauseID,
                    "reason": RPCError.from(error).message,
                ])
            throw error
        }
    }

    public func fileApplication(request: Jiaxing_Benefits_V1_FileApplicationRequest, context: ServerContext)
        async throws -> Jiaxing_Benefits_V1_Application
    {
        let caller = try self.caller(context)
        try self.requireRole([.county], caller, context)
        try self.requireCounty(request.profile.county, caller, context)
        try await self.requireNotRegisteredElsewhere(
            request.profile.creditCode, request.profile.county, caller, context)
        return try await self.fileApplication(request, caller)
    }

    public func decideApplication(request: Jiaxing_Benefits_V1_DecideApplicationRequest, context: ServerContext)
        async throws -> Jiaxing_Benefits_V1_Application
    {
        let caller = try self.caller(context)
        try self.requireRole([.department], caller, context)
        do {
            let decided: Jiaxing_Benefits_V1_Application = try await self.services.disbursement.call(
                idempotent: false
            ) { client in
                try await client.unary(DisbursementMethods.decideApplication, request, options: caller.options)
            }
            self.audit.record(
                caller: caller.description, method: "DecideApplication", outcome: "\(decided.status)",
                detail: [
                    "application": decided.id, "decidedFen": "\(decided.decidedFen)", "order": decided.orderID,
                    "reason": request.reason,
                ])
            return decided
        } catch {
            self.audit.record(
                caller: caller.description, method: "DecideApplication", outcome: "refused",
                detail: ["application": request.applicationID, "reason": RPCError.from(error).message])
            throw error
        }
    }

    public func listApplications(request: Jiaxing_Benefits_V1_ListApplicationsRequest, context: ServerContext)
        async throws -> Jiaxing_Benefits_V1_ListApplicationsResponse
    {
        let caller = try self.caller(context)
        return try await self.forward(
            self.services.disbursement, DisbursementMethods.listApplications, request, caller, idempotent: true,
            as: Jiaxing_Benefits_V1_ListApplicationsResponse.self)
    }

    public func getEvidence(request: Jiaxing_Benefits_V1_GetEvidenceRequest, context: ServerContext) async throws
        -> Jiaxing_Benefits_V1_Evidence
    {
        let caller = try self.caller(context)
        // The ledger scopes it: a county to its own applications, a department to its clauses.
        let file = try await self.forward(
            self.services.disbursement, DisbursementMethods.getEvidence, request, caller, idempotent: true,
            as: Jiaxing_Benefits_V1_Evidence.self)
        self.audit.record(
            caller: caller.description, method: "GetEvidence", outcome: "read",
            detail: ["application": request.applicationID, "sha256": request.sha256])
        return file
    }
}
