import BenefitsAPI
import BenefitsDomain
import CatalogModel
import GatewayStore
import MeshMessages
import MeshProtocol
import MeshRPC

extension GatewayHandlers {
    /// Calls of a campaign's page, or of a bulk decision, in flight at once (spread over the replicas).
    static let campaignWindow = 4
    /// Register profiles read per page of a campaign.
    static let campaignPage = 500
    /// Profiles one `ScreenCampaign` call carries: a page's calls run at once, across eligibility's replicas.
    static let campaignScreenChunk = 125
    /// Proposals one `ProposePayouts` call carries (disbursement takes at most 500).
    static let campaignProposalChunk = 250
    /// Orders one `DecideOrdersBatch` call decides (disbursement takes at most 1,000).
    static let bulkDecisionChunk = 500
    /// Orders one DecideOrders call decides at most.
    static let maximumBulkDecisions = 10_000

    public func runCampaign(request: Jiaxing_Benefits_V1_CampaignRequest, context: ServerContext) async throws
        -> Jiaxing_Benefits_V1_CampaignResult
    {
        let caller = try self.caller(context)
        try self.requireRole([.operator, .department], caller, context)
        // A campaign reads and screens the register a page at a time for seconds: not on an event loop.
        return try await onCooperativePool { try await self.runCampaign(request, caller, context) }
    }

    public func getCampaign(request: Jiaxing_Benefits_V1_GetCampaignRequest, context: ServerContext) async throws
        -> Jiaxing_Benefits_V1_CampaignStatus
    {
        let caller = try self.caller(context)
        try self.requireRole([.operator, .department, .county], caller, context)
        return try await self.campaignStatus(request, caller)
    }

    public func listCampaigns(request: Jiaxing_Benefits_V1_ListCampaignsRequest, context: ServerContext) async throws
        -> Jiaxing_Benefits_V1_ListCampaignsResponse
    {
        let caller = try self.caller(context)
        try self.requireRole([.operator, .department, .county], caller, context)
        return try await self.listCampaigns(request, caller)
    }

    public func listCampaignNearMisses(
        request: Jiaxing_Benefits_V1_ListCampaignNearMissesRequest, context: ServerContext
    ) async throws -> Jiaxing_Benefits_V1_ListCampaignNearMissesResponse {
        let caller = try self.caller(context)
        try self.requireRole([.operator, .department, .county], caller, context)
        return try await self.listCampaignNearMisses(request, caller)
    }

    public func decideOrders(request: Jiaxing_Benefits_V1_DecideOrdersRequest, context: ServerContext) async throws
        -> Jiaxing_Benefits_V1_DecideOrdersResult
    {
        let caller = try self.caller(context)
        try self.requireRole([.department], caller, context)
        return try await self.decideOrders(request, caller)
    }

    /// Failures of a proposal that a later call may not meet: a campaign's page with one is redone, not
    /// counted as refused.
    static let retryable: Set<RPCStatusCode> = [.unavailable, .deadlineExceeded, .cancelled, .aborted, .unknown]

    /// Near misses a campaign's answer lists in full; it counts them all.
    static let reportedNearMisses = 100

    /// What a campaign did for one enterprise: its proposals by clause, and the clauses it nearly meets; or
    /// why eligibility refused its profile.
    struct EnterpriseOutcome: Sendable {
        var creditCode: String
        var proposals: [(String, Result<Jiaxing_Benefits_V1_PayoutOrder, RPCError>)] = []
        var nearMisses: [Jiaxing_Benefits_V1_CampaignNearMiss] = []
        var refusal: RPCError?
    }

    /// One campaign: the register in scope, page by page, each enterprise's trusted profile screened and
    /// every eligible cash decision of the campaign's clauses proposed; the ledger's idempotency keys make a
    /// second run propose nothing new. The orders are the gateway's own proposals, derived from attested
    /// facts, whoever started the campaign (a department that starts one still only decides; it never
    /// proposes on its own word); the audit log names who started it.
    func runCampaign(_ request: Jiaxing_Benefits_V1_CampaignRequest, _ caller: Caller, _ context: ServerContext)
        async throws -> Jiaxing_Benefits_V1_CampaignResult
    {
        guard request.hasAsOf, CalendarDate(message: request.asOf) != nil else {
            throw RPCError(.invalidArgument, "as_of: the day the campaign screens is required")
        }
        guard !request.clauseIds.isEmpty || !request.documentIds.isEmpty else {
            throw RPCError(.invalidArgument, "clause_ids: name the clauses or the documents the campaign pays")
        }
        var scope: County?
        if request.county != .unspecified {
            guard caller.role == .operator, let county = County(message: request.county) else {
                throw RPCError(.invalidArgument, "county: the operator's to choose, a county or district of Jiaxing")
            }
            scope = county
        }
        var screen = Jiaxing_Benefits_V1_CampaignScreenRequest()
        screen.asOf = request.asOf
        screen.clauseIds = request.clauseIds
        screen.documentIds = request.documentIds
        // A department campaigns for the clauses it decides only.
        screen.department = caller.department?.rawValue ?? ""
        let vocabulary = try await self.vocabulary.vocabulary(from: self.services.catalog, options: caller.options)

        let id = GatewayStore.campaignID(for: request, startedBy: caller.description)
        var result: Jiaxing_Benefits_V1_CampaignResult
        var after = ""
        let run: String
        switch try await self.store.startCampaign(
            id: id, request: request, startedBy: caller.description, at: Self.nowMillis())
        {
        case .fresh(let fresh, let token):
            result = fresh
            run = token
        case .resume(let interrupted, let cursor, let token):
            result = interrupted
            after = cursor
            run = token
        case .running(let running):
            throw RPCError(
                .aborted,
                "campaign \(id) is running: \(running.enterprises) enterprises screened so far; ListCampaigns shows its progress (a run silent for \(GatewayStore.campaignLeaseMillis / 1000) s is taken over by the next call)"
            )
        }
        do {
            var byClause = Dictionary(result.clauses.map { ($0.clauseID, $0) }, uniquingKeysWith: { first, _ in first })
            while true {
                let page = try await self.store.registeredProfiles(
                    county: scope, after: after, limit: Self.campaignPage)
                guard let last = page.last else { break }
                after = last.creditCode
                let attested = try await self.store.attestedRecords(creditCodes: page.map(\.creditCode))
                let outcomes = try await withThrowingTaskGroup(of: [EnterpriseOutcome].self) { group in
                    for chunk in page.chunks(of: Self.campaignScreenChunk).map(Array.init) {
                        var screen = screen
                        screen.profiles = chunk.map {
                            TrustedProfile.build(
                                registered: $0, attested: attested[$0.creditCode] ?? [], vocabulary: vocabulary)
                        }
                        group.addTask { try await self.campaignChunk(chunk, screen, campaign: id, caller) }
                    }
                    var all: [EnterpriseOutcome] = []
                    for try await done in group { all += done }
                    return all
                }
                // A proposal that failed for a reason a retry may cure (a replica down, a deadline) is not a
                // refusal: the page is not recorded, so the next call redoes it (the ledger's keys make that safe).
                for outcome in outcomes {
                    for case (_, .failure(let error)) in outcome.proposals where Self.retryable.contains(error.code) {
                        throw RPCError(
                            error.code,
                            "campaign \(id): a proposal failed (\(error.message)); \(result.enterprises) enterprises are recorded, call again to resume"
                        )
                    }
                }
                result.enterprises += Int64(page.count)
                var pageNearMisses: [Jiaxing_Benefits_V1_CampaignNearMiss] = []
                for outcome in outcomes.sorted(by: { $0.creditCode < $1.creditCode }) {
                    // A profile eligibility refused is the enterprise's, not a clause's.
                    if let refusal = outcome.refusal {
                        result.refused += 1
                        if result.firstRefusals.count < 10 { result.firstRefusals.append(refusal.message) }
                    }
                    for nearMiss in outcome.nearMisses {
                        result.nearMisses += 1
                        byClause[nearMiss.clauseID, default: .init()].clauseID = nearMiss.clauseID
                        byClause[nearMiss.clauseID]?.nearMisses += 1
                        pageNearMisses.append(nearMiss)
                    }
                    let proposals = outcome.proposals
                    if proposals.contains(where: { if case .success = $0.1 { return true } else { return false } }) {
                        result.payableEnterprises += 1
                    }
                    for (clause, outcome) in proposals {
                        var summary = byClause[clause] ?? Jiaxing_Benefits_V1_CampaignClauseSummary()
                        summary.clauseID = clause
                        switch outcome {
                        case .success(let order):
                            if order.replayed {
                                summary.replayed += 1
                                result.replayed += 1
                            } else {
                                summary.proposed += 1
                                result.proposed += 1
                            }
                            summary.amountFen += order.amountFen
                            result.amountFen += order.amountFen
                        case .failure(let error):
                            summary.refused += 1
                            result.refused += 1
                            if result.firstRefusals.count < 10 { result.firstRefusals.append(error.message) }
                        }
                        byClause[clause] = summary
                    }
                }
                result.clauses = byClause.keys.sorted().compactMap { byClause[$0] }
                if page.count < Self.campaignPage { result.state = .done }
                // The page's tallies, near misses and cursor together: a run killed after this resumes after it.
                try await self.store.recordCampaignPage(
                    result, run: run, cursor: after, nearMisses: pageNearMisses, at: Self.nowMillis())
                if result.state == .done { break }
            }
            if result.state != .done {
                // An empty register in scope (or one that ended on a full page).
                result.state = .done
                try await self.store.recordCampaignPage(
                    result, run: run, cursor: after, nearMisses: [], at: Self.nowMillis())
            }
        } catch {
            // The next call resumes at once instead of waiting out the lease; a page not recorded is redone.
            try? await self.store.releaseCampaign(id: id, run: run)
            if error is CampaignLeaseLost {
                throw RPCError(.aborted, "campaign \(id): another run took it over; ListCampaigns shows its progress")
            }
            throw error
        }
        result.firstNearMisses = try await self.store.campaignNearMisses(
            id: id, clauseID: nil, county: nil, limit: Self.reportedNearMisses, after: nil)
        self.audit.record(
            caller: caller.description, method: "RunCampaign", outcome: "done",
            detail: [
                "clauses": request.clauseIds.joined(separator: ","),
                "documents": request.documentIds.joined(separator: ","),
                "county": scope?.partyName ?? "city", "enterprises": "\(result.enterprises)",
                "proposed": "\(result.proposed)", "replayed": "\(result.replayed)", "refused": "\(result.refused)",
                "amountFen": "\(result.amountFen)", "nearMisses": "\(result.nearMisses)", "campaign": id,
                "resumedAfter": "\(result.resumedAfter)",
            ])
        return result
    }

    /// One chunk of a campaign's page: its trusted profiles screened in one call, and every payable decision
    /// proposed in as few calls as fit. A profile eligibility refuses counts as refused, with its reason.
    func campaignChunk(
        _ registered: [Jiaxing_Benefits_V1_EnterpriseProfile], _ screen: Jiaxing_Benefits_V1_CampaignScreenRequest,
        campaign: String, _ caller: Caller
    ) async throws -> [EnterpriseOutcome] {
        let screened = try await self.screenCampaign(screen, caller)
        guard screened.enterprises.count == registered.count else {
            throw RPCError(
                .unavailable,
                "eligibility answered \(screened.enterprises.count) screenings for \(registered.count) profiles")
        }
        var outcomes: [EnterpriseOutcome] = []
        var proposals: [(enterprise: Int, request: Jiaxing_Benefits_V1_ProposePayoutRequest)] = []
        for (index, (enterprise, screening)) in zip(registered, screened.enterprises).enumerated() {
            var outcome = EnterpriseOutcome(creditCode: enterprise.creditCode)
            if screening.hasError {
                outcome.refusal = RPCError(.invalidArgument, "\(enterprise.creditCode): \(screening.error.message)")
            }
            for decision in screening.payable {
                var proposal = Jiaxing_Benefits_V1_ProposePayoutRequest(decision: decision, for: enterprise)
                proposal.campaignID = campaign
                proposals.append((index, proposal))
            }
            outcome.nearMisses = screening.nearMisses.map { decision in
                var nearMiss = Jiaxing_Benefits_V1_CampaignNearMiss()
                nearMiss.creditCode = enterprise.creditCode
                nearMiss.enterpriseName = enterprise.name
                nearMiss.county = enterprise.county
                nearMiss.clauseID = decision.citation.clauseID
                nearMiss.missing = decision.missing
                nearMiss.item = decision.item
                return nearMiss
            }
            outcomes.append(outcome)
        }
        for part in proposals.chunks(of: Self.campaignProposalChunk) {
            var batch = Jiaxing_Benefits_V1_ProposePayoutsRequest()
            batch.proposals = part.map(\.request)
            // The gateway proposes on its own identity: the amounts are derived, not the caller's.
            let answer: Jiaxing_Benefits_V1_ProposePayoutsResponse = try await self.services.disbursement.call(
                idempotent: true
            ) { client in
                try await client.unary(DisbursementMethods.proposePayouts, batch, options: CallOptions())
            }
            guard answer.outcomes.count == part.count else {
                throw RPCError(
                    .unavailable, "disbursement answered \(answer.outcomes.count) outcomes for \(part.count) proposals")
            }
            for ((enterprise, request), outcome) in zip(part, answer.outcomes) {
                self.auditProposal(request, outcome.result, caller)
                outcomes[enterprise].proposals.append((request.clauseID, outcome.result))
            }
        }
        return outcomes
    }

    /// A chunk screened in one call; an answer too large for a message (many explained decisions an
    /// enterprise) is asked for again in halves, down to one profile a call.
    func screenCampaign(_ screen: Jiaxing_Benefits_V1_CampaignScreenRequest, _ caller: Caller) async throws
        -> Jiaxing_Benefits_V1_CampaignScreenResponse
    {
        do {
            return try await self.services.eligibility.call(idempotent: true) { client in
                try await client.unary(EligibilityMethods.screenCampaign, screen, options: caller.options)
            }
        } catch let error as RPCError where error.code == .resourceExhausted && screen.profiles.count > 1 {
            let half = screen.profiles.count / 2
            var first = screen
            first.profiles = Array(screen.profiles[..<half])
            var second = screen
            second.profiles = Array(screen.profiles[half...])
            var answer = try await self.screenCampaign(first, caller)
            let rest = try await self.screenCampaign(second, caller)
            answer.enterprises += rest.enterprises
            return answer
        }
    }

    /// Campaigns newest first: the operator sees every one, a department those it started.
    func listCampaigns(_ request: Jiaxing_Benefits_V1_ListCampaignsRequest, _ caller: Caller) async throws
        -> Jiaxing_Benefits_V1_ListCampaignsResponse
    {
        let limit = request.limit == 0 ? 50 : Int(request.limit)
        guard (1...GatewayStore.maximumCampaignsPerPage).contains(limit) else {
            throw RPCError(
                .invalidArgument,
                "limit: 1 to \(GatewayStore.maximumCampaignsPerPage) campaigns a page, got \(request.limit)")
        }
        let after = try PageToken.position(in: request.pageToken, parts: 2) { parts in
            Int64(parts[0]).map { (startedAt: $0, id: parts[1]) }
        }
        var response = Jiaxing_Benefits_V1_ListCampaignsResponse()
        switch caller.role {
        case .operator:
            response.campaigns = try await self.store.campaigns(limit: limit, after: after)
        case .county:
            guard let county = caller.county else {
                throw RPCError(.permissionDenied, "\(caller.description) is not a county of Jiaxing")
            }
            response.campaigns = try await self.store.campaigns(county: county, limit: limit, after: after)
        default:
            response.campaigns = try await self.store.campaigns(
                startedBy: caller.description, limit: limit, after: after)
        }
        if response.campaigns.count == limit, let last = response.campaigns.last {
            response.nextPageToken = PageToken(["\(last.startedAtMillis)", last.campaignID]).encoded
        }
        return response
    }

    /// A campaign's near misses a page at a time; a county reads its own enterprises' only.
    func listCampaignNearMisses(_ request: Jiaxing_Benefits_V1_ListCampaignNearMissesRequest, _ caller: Caller)
        async throws -> Jiaxing_Benefits_V1_ListCampaignNearMissesResponse
    {
        let limit = request.limit == 0 ? 200 : Int(request.limit)
        guard (1...GatewayStore.maximumNearMissesPerPage).contains(limit) else {
            throw RPCError(
                .invalidArgument,
                "limit: 1 to \(GatewayStore.maximumNearMissesPerPage) near misses a page, got \(request.limit)")
        }
        var county: County?
        if request.county != .unspecified {
            guard let named = County(message: request.county) else {
                throw RPCError(.invalidArgument, "county: a county or district of Jiaxing")
            }
            county = named
        }
        // A campaign the caller may not read is as unknown to it as one that does not exist.
        let notFound = RPCError(.notFound, "campaign_id: no campaign '\(request.campaignID)'")
        guard let campaign = try await self.store.campaign(id: request.campaignID) else { throw notFound }
        switch caller.role {
        case .county:
            guard let own = caller.county, county == nil || county == own else {
                throw RPCError(
                    .permissionDenied, "county: \(caller.description) reads its own enterprises' near misses")
            }
            guard campaign.request.county == .unspecified || campaign.request.county == own.message else {
                throw notFound
            }
            county = own
        case .department:
            guard campaign.startedBy == caller.description else { throw notFound }
        default:
            break
        }
        let after = try PageToken.position(in: request.pageToken, parts: 3) { parts in
            (creditCode: parts[0], clauseID: parts[1], item: parts[2])
        }
        var response = Jiaxing_Benefits_V1_ListCampaignNearMissesResponse()
        response.nearMisses = try await self.store.campaignNearMisses(
            id: request.campaignID, clauseID: request.clauseID.isEmpty ? nil : request.clauseID, county: county,
            limit: limit, after: after)
        if response.nearMisses.count == limit, let last = response.nearMisses.last {
            response.nextPageToken = PageToken([last.creditCode, last.clauseID, last.item]).encoded
        }
        return response
    }

    /// A department's bulk decision: the listed orders, or its pending orders matching the filter, each
    /// decided through the ledger (which checks the department is responsible) and audited on its own line.
    func decideOrders(_ request: Jiaxing_Benefits_V1_DecideOrdersRequest, _ caller: Caller) async throws
        -> Jiaxing_Benefits_V1_DecideOrdersResult
    {
        guard caller.department != nil else {
            throw RPCError(.permissionDenied, "\(caller.description) is not a department of the city")
        }
        let limit = request.limit == 0 ? 1_000 : Int(request.limit)
        guard (1...Self.maximumBulkDecisions).contains(limit) else {
            throw RPCError(.invalidArgument, "limit: 1 to \(Self.maximumBulkDecisions), got \(request.limit)")
        }
        let reason = request.reason.trimmingCharacters(in: .whitespacesAndNewlines)
        guard request.approve || !reason.isEmpty else {
            throw RPCError(.invalidArgument, "reason: a rejection says why (one reason for every order decided)")
        }
        guard request.minimumFen >= 0, request.maximumFen >= 0,
            request.maximumFen == 0 || request.minimumFen <= request.maximumFen
        else {
            throw RPCError(
                .invalidArgument,
                "minimum_fen, maximum_fen: 0 or more, the minimum not above the maximum; got \(request.minimumFen) and \(request.maximumFen)"
            )
        }
        let arrived = Self.nowMillis()
        guard request.asOfMillis >= 0, request.asOfMillis <= arrived else {
            throw RPCError(
                .invalidArgument,
                "as_of_millis: 0 or a moment not after the call's arrival (\(arrived)), got \(request.asOfMillis)")
        }
        let ids = request.orderIds
        if ids.isEmpty {
            // The ledger chooses the pending orders a round decides: nothing is read here but their outcomes.
            // Every round is bounded by the officer's view (or the call's arrival): orders proposed since, by
            // a campaign still running or anyone, are left for a decision that has seen them.
            var selection = Jiaxing_Benefits_V1_OrderSelection()
            selection.proposedAtOrBeforeMillis = request.asOfMillis > 0 ? request.asOfMillis : arrived
            selection.clauseID = request.clauseID
            selection.county = request.county
            selection.minimumFen = request.minimumFen
            selection.maximumFen = request.maximumFen
            selection.adjustment = request.adjustment
            selection.campaignID = request.campaignID
            var outcomes: [Result<Jiaxing_Benefits_V1_PayoutOrder, RPCError>] = []
            while outcomes.count < limit {
                let round = try await self.decideChunk(
                    selection: selection, limit: min(Self.bulkDecisionChunk, limit - outcomes.count),
                    approve: request.approve, reason: reason, caller)
                outcomes += round
                // A round that decided nothing (every order it took refused) ends the call: the same orders
                // would be taken again.
                guard round.contains(where: { if case .success = $0 { true } else { false } }) else { break }
            }
            return Self.tally(outcomes)
        }
        guard ids.count <= limit else {
            throw RPCError(
                .invalidArgument,
                "order_ids: at most limit (\(limit); 1 to \(Self.maximumBulkDecisions)) orders a call, got \(ids.count)"
            )
        }
        let chunks = ids.chunks(of: Self.bulkDecisionChunk).map(Array.init)
        let outcomes = try await withThrowingTaskGroup(of: [Result<Jiaxing_Benefits_V1_PayoutOrder, RPCError>].self) {
            group in
            var outcomes: [Result<Jiaxing_Benefits_V1_PayoutOrder, RPCError>] = []
            for (index, chunk) in chunks.enumerated() {
                if index >= Self.campaignWindow, let done = try await group.next() { outcomes += done }
                group.addTask {
                    try await self.decideChunk(ids: chunk, approve: request.approve, reason: reason, caller)
                }
            }
            for try await done in group { outcomes += done }
            return outcomes
        }
        return Self.tally(outcomes)
    }

    /// A bulk decision's result from its orders' outcomes.
    static func tally(_ outcomes: [Result<Jiaxing_Benefits_V1_PayoutOrder, RPCError>])
        -> Jiaxing_Benefits_V1_DecideOrdersResult
    {
        var result = Jiaxing_Benefits_V1_DecideOrdersResult()
        for outcome in outcomes {
            switch outcome {
            case .success(let order):
                result.decided += 1
                result.amountFen += order.amountFen
            case .failure(let error):
                result.failed += 1
                if result.firstFailures.count < 10 { result.firstFailures.append(error.message) }
            }
        }
        return result
    }

    /// One call deciding `ids` for the department calling, each order audited on its own line. A decision is
    /// not retried elsewhere: the ledger refuses a second one anyway, but the caller should see the first answer.
    /// With `selection` (and `ids` empty), the ledger takes up to `limit` of the department's pending orders.
    func decideChunk(
        ids: [String] = [], selection: Jiaxing_Benefits_V1_OrderSelection? = nil, limit: Int = 0, approve: Bool,
        reason: String, _ caller: Caller
    ) async throws -> [Result<Jiaxing_Benefits_V1_PayoutOrder, RPCError>] {
        var decide = Jiaxing_Benefits_V1_DecideOrdersBatchRequest()
        decide.orderIds = ids
        if let selection {
            decide.selection = selection
            decide.limit = Int32(limit)
        }
        decide.approve = approve
        decide.reason = reason
        let answer: Jiaxing_Benefits_V1_DecideOrdersBatchResponse
        do {
            answer = try await self.services.disbursement.call(idempotent: false) { client in
                try await client.unary(DisbursementMethods.decideOrdersBatch, decide, options: caller.options)
            }
        } catch {
            // The call failed, perhaps after the ledger decided some of its orders: the audit log says the
            // outcome is unknown (the orders' own records tell), never that they were refused.
            let status = RPCError.from(error)
            guard !ids.isEmpty else {
                // A selection names no orders before its answer: the failure is the answer, and what the call
                // decided stays decided; the next round does not take it again.
                self.audit.record(
                    caller: caller.description, method: "DecideOrders", outcome: "unknown",
                    detail: [
                        "selection": (try? decide.selection.jsonString()) ?? "", "limit": "\(limit)",
                        "reason": status.message,
                    ])
                throw error
            }
            for id in ids {
                self.audit.record(
                    caller: caller.description, method: "DecideOrders", outcome: "unknown",
                    detail: ["order": id, "reason": status.message])
            }
            return ids.map { .failure(RPCError(status.code, "\($0): \(status.message)")) }
        }
        guard ids.isEmpty || answer.outcomes.count == ids.count else {
            throw RPCError(
                .unavailable, "disbursement answered \(answer.outcomes.count) outcomes for \(ids.count) orders")
        }
        return answer.outcomes.map { outcome in
            switch outcome.result {
            case .success(let order):
                self.audit.record(
                    caller: caller.description, method: "DecideOrders", outcome: "\(order.status)",
                    detail: ["order": order.id, "amountFen": "\(order.amountFen)", "reason": reason])
            case .failure(let error):
                self.audit.record(
                    caller: caller.description, method: "DecideOrders", outcome: "refused",
                    detail: ["order": outcome.orderID, "reason": error.message])
            }
            return outcome.result
        }
    }
}
