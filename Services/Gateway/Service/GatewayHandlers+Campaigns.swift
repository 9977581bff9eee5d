import BenefitsAPI
import BenefitsDomain
import CatalogModel
import GatewayStore
import MeshMessages
import MeshRPC

extension GatewayHandlers {
    /// Enterprises of the register screened and proposed at once in a campaign.
    static let campaignWindow = 32
    /// Register profiles read per page of a campaign.
    static let campaignPage = 500
    /// Orders one DecideOrders call decides at most.
    static let maximumBulkDecisions = 10_000

    func registerCampaigns(into router: inout RPCRouter) {
        router.unary(GatewayMethods.runCampaign) { (request: Jiaxing_Benefits_V1_CampaignRequest, context) in
            let caller = try self.caller(context)
            try self.requireRole([.operator, .department], caller, context)
            return try await self.runCampaign(request, caller, context)
        }
        router.unary(GatewayMethods.listCampaigns) { (request: Jiaxing_Benefits_V1_ListCampaignsRequest, context) in
            let caller = try self.caller(context)
            try self.requireRole([.operator, .department, .county], caller, context)
            return try await self.listCampaigns(request, caller)
        }
        router.unary(GatewayMethods.listCampaignNearMisses) {
            (request: Jiaxing_Benefits_V1_ListCampaignNearMissesRequest, context) in
            let caller = try self.caller(context)
            try self.requireRole([.operator, .department, .county], caller, context)
            return try await self.listCampaignNearMisses(request, caller)
        }
        router.unary(GatewayMethods.decideOrders) { (request: Jiaxing_Benefits_V1_DecideOrdersRequest, context) in
            let caller = try self.caller(context)
            try self.requireRole([.department], caller, context)
            return try await self.decideOrders(request, caller)
        }
    }

    /// Failures of a proposal that a later call may not meet: a campaign's page with one is redone, not
    /// counted as refused.
    static let retryable: Set<RPCStatusCode> = [.unavailable, .deadlineExceeded, .cancelled, .aborted, .unknown]

    /// Near misses a campaign's answer lists in full; it counts them all.
    static let reportedNearMisses = 100

    /// What a campaign did for one enterprise: its proposals by clause, and the clauses it nearly meets.
    struct EnterpriseOutcome: Sendable {
        var creditCode: String
        var proposals: [(String, Result<Jiaxing_Benefits_V1_PayoutOrder, RPCError>)]
        var nearMisses: [Jiaxing_Benefits_V1_CampaignNearMiss]
    }

    /// One campaign: the register in scope, page by page, each enterprise's trusted profile screened and
    /// every eligible cash decision of the campaign's clauses proposed; the ledger's idempotency keys make a
    /// second run propose nothing new. The orders are the gateway's own proposals, derived from attested
    /// facts, whoever started the campaign (a department that starts one still only decides; it never
    /// proposes on its own word); the audit log names who started it.
    func runCampaign(_ request: Jiaxing_Benefits_V1_CampaignRequest, _ caller: Caller, _ context: ServerContext)
        async throws -> Jiaxing_Benefits_V1_CampaignResult
    {
        guard request.hasAsOf, let asOf = CalendarDate(message: request.asOf) else {
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
        let clauses = Set(request.clauseIds)
        let documents = Set(request.documentIds)
        let department = caller.department
        func ofCampaign(_ decision: Jiaxing_Benefits_V1_Decision) -> Bool {
            guard decision.cash,
                clauses.contains(decision.citation.clauseID) || documents.contains(decision.citation.documentID)
            else { return false }
            // A department campaigns for the clauses it decides only.
            return department.map { $0.isResponsible(among: decision.citation.responsibleDepartments) } ?? true
        }
        func inCampaign(_ decision: Jiaxing_Benefits_V1_Decision) -> Bool {
            decision.status == .eligible && decision.amountFen > 0 && ofCampaign(decision)
        }
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
                let outcomes = try await withThrowingTaskGroup(of: EnterpriseOutcome.self) { group in
                    var all: [EnterpriseOutcome] = []
                    for (index, registered) in page.enumerated() {
                        if index >= Self.campaignWindow, let done = try await group.next() { all.append(done) }
                        group.addTask {
                            var screen = Jiaxing_Benefits_V1_ScreenRequest()
                            screen.profile = TrustedProfile.build(
                                registered: registered, attested: attested[registered.creditCode] ?? [],
                                vocabulary: vocabulary)
                            screen.asOf = request.asOf
                            screen.seal = true
                            let screening = try await self.screen(screen, caller)
                            var proposals: [(String, Result<Jiaxing_Benefits_V1_PayoutOrder, RPCError>)] = []
                            for decision in screening.decisions where inCampaign(decision) {
                                let propose = Jiaxing_Benefits_V1_ProposePayoutRequest(
                                    decision: decision, for: registered)
                                do {
                                    proposals.append(
                                        (
                                            decision.citation.clauseID,
                                            .success(try await self.propose(propose, caller, context, asGateway: true))
                                        ))
                                } catch {
                                    proposals.append(
                                        (
                                            decision.citation.clauseID,
                                            .failure(
                                                RPCError(
                                                    RPCError.from(error).code,
                                                    "\(registered.creditCode) \(decision.citation.clauseID): \(RPCError.from(error).message)"
                                                ))
                                        ))
                                }
                            }
                            let nearMisses = screening.decisions.filter { $0.status == .nearMiss && ofCampaign($0) }.map
                            {
                                decision in
                                var nearMiss = Jiaxing_Benefits_V1_CampaignNearMiss()
                                nearMiss.creditCode = registered.creditCode
                                nearMiss.enterpriseName = registered.name
                                nearMiss.county = registered.county
                                nearMiss.clauseID = decision.citation.clauseID
                                nearMiss.missing = decision.missing
                                nearMiss.item = decision.item
                                return nearMiss
                            }
                            return EnterpriseOutcome(
                                creditCode: registered.creditCode, proposals: proposals, nearMisses: nearMisses)
                        }
                    }
                    for try await done in group { all.append(done) }
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
        guard let department = caller.department else {
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
        var ids = request.orderIds
        if ids.isEmpty {
            var list = Jiaxing_Benefits_V1_ListOrdersRequest()
            list.department = department.rawValue
            list.status = .pending
            list.county = request.county
            list.limit = 250
            while ids.count < limit {
                let page: Jiaxing_Benefits_V1_ListOrdersResponse = try await self.forward(
                    self.services.disbursement, DisbursementMethods.listOrders, list, caller, idempotent: true,
                    as: Jiaxing_Benefits_V1_ListOrdersResponse.self)
                ids += page.orders.filter(request.selects).map(\.id)
                guard !page.nextPageToken.isEmpty else { break }
                list.pageToken = page.nextPageToken
            }
        }
        ids = Array(ids.prefix(limit))
        let method = request.approve ? DisbursementMethods.approve : DisbursementMethods.reject
        let outcomes = try await withThrowingTaskGroup(of: Result<Jiaxing_Benefits_V1_PayoutOrder, RPCError>.self) {
            group in
            var outcomes: [Result<Jiaxing_Benefits_V1_PayoutOrder, RPCError>] = []
            for (index, id) in ids.enumerated() {
                if index >= Self.campaignWindow, let done = try await group.next() { outcomes.append(done) }
                group.addTask {
                    var decide = Jiaxing_Benefits_V1_DecideRequest()
                    decide.orderID = id
                    decide.reason = reason
                    do {
                        let order: Jiaxing_Benefits_V1_PayoutOrder = try await self.services.disbursement.call(
                            idempotent: false
                        ) { client in
                            try await client.unary(method, decide, options: caller.options)
                        }
                        self.audit.record(
                            caller: caller.description, method: "DecideOrders", outcome: "\(order.status)",
                            detail: ["order": order.id, "amountFen": "\(order.amountFen)", "reason": reason])
                        return .success(order)
                    } catch {
                        let status = RPCError.from(error)
                        self.audit.record(
                            caller: caller.description, method: "DecideOrders", outcome: "refused",
                            detail: ["order": id, "reason": status.message])
                        return .failure(RPCError(status.code, "\(id): \(status.message)"))
                    }
                }
            }
            for try await done in group { outcomes.append(done) }
            return outcomes
        }
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
}
