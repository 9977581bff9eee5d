import BenefitsAPI
import Foundation
import Ledger
import MeshMessages
import MeshRPC

extension DisbursementHandlers {
    /// Most proposals one `ProposePayouts` takes: a sealed proposal with its explanation is about 5 KB, so a
    /// full call stays well inside the 4 MiB frame.
    public static let maximumProposalsPerCall = 500
    /// Most orders one `DecideOrdersBatch` decides.
    public static let maximumDecisionsPerCall = 1_000

    /// A batch's outcome for one proposal or decision.
    static func outcome(_ result: Result<Jiaxing_Benefits_V1_PayoutOrder, any Error>, naming name: String)
        -> Jiaxing_Benefits_V1_PayoutOutcome
    {
        var outcome = Jiaxing_Benefits_V1_PayoutOutcome()
        switch result {
        case .success(var order):
            // A batch's answer is for counting and auditing; GetOrder gives an order's explanation.
            order.explanation = ""
            outcome.order = order
        case .failure(let error):
            let status = RPCError.from(error)
            outcome.code = status.code.rawValue
            outcome.message = "\(name): \(status.message)"
        }
        return outcome
    }

    /// Runs `work` for every element at once, so that the ledger's group committer takes them into its
    /// batches together; the outcomes come back in the order of `elements`.
    static func each<Element: Sendable>(
        _ elements: [Element], naming name: @escaping @Sendable (Element) -> String,
        _ work: @escaping @Sendable (Element) async throws -> Jiaxing_Benefits_V1_PayoutOrder
    ) async -> [Jiaxing_Benefits_V1_PayoutOutcome] {
        await withTaskGroup(of: (Int, Jiaxing_Benefits_V1_PayoutOutcome).self) { group in
            for (index, element) in elements.enumerated() {
                group.addTask {
                    let result: Result<Jiaxing_Benefits_V1_PayoutOrder, any Error>
                    do { result = .success(try await work(element)) } catch { result = .failure(error) }
                    return (index, Self.outcome(result, naming: name(element)))
                }
            }
            var outcomes = [Jiaxing_Benefits_V1_PayoutOutcome](repeating: .init(), count: elements.count)
            for await (index, outcome) in group { outcomes[index] = outcome }
            return outcomes
        }
    }

    public func proposePayouts(request: Jiaxing_Benefits_V1_ProposePayoutsRequest, context: ServerContext) async throws
        -> Jiaxing_Benefits_V1_ProposePayoutsResponse
    {
        try Self.require(context, roles: [.service, .operator, .county], to: "propose payouts")
        guard request.proposals.count <= Self.maximumProposalsPerCall else {
            throw RPCError(
                .invalidArgument,
                "proposals: at most \(Self.maximumProposalsPerCall) a call, got \(request.proposals.count)")
        }
        let county = try Self.county(of: context)
        let peer = context.peer?.description ?? "the caller"
        var response = Jiaxing_Benefits_V1_ProposePayoutsResponse()
        let name: @Sendable (Jiaxing_Benefits_V1_ProposePayoutRequest) -> String = { "\($0.creditCode) \($0.clauseID)" }
        response.outcomes = await Self.each(request.proposals, naming: name) { proposal in
            if let county, proposal.county != county {
                throw RPCError(
                    .permissionDenied, "\(peer) proposes payouts only for enterprises registered in its own county")
            }
            _ = try self.seals.check(
                proposal.hasSeal ? proposal.seal : nil, creditCode: proposal.creditCode, county: proposal.county,
                clauseID: proposal.clauseID, subject: proposal.subject, period: proposal.period,
                amountFen: proposal.amountFen)
            return try await self.ledger.propose(proposal)
        }
        return response
    }

    public func decideOrdersBatch(request: Jiaxing_Benefits_V1_DecideOrdersBatchRequest, context: ServerContext)
        async throws -> Jiaxing_Benefits_V1_DecideOrdersBatchResponse
    {
        guard request.orderIds.count <= Self.maximumDecisionsPerCall else {
            throw RPCError(
                .invalidArgument,
                "order_ids: at most \(Self.maximumDecisionsPerCall) a call, got \(request.orderIds.count)")
        }
        guard request.approve || !request.reason.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw RPCError(.invalidArgument, "reason: a rejection says why")
        }
        let decider = Self.decider(context)
        var ids = request.orderIds
        if ids.isEmpty {
            guard case .department(let department, _) = decider else {
                throw RPCError(.permissionDenied, "\(decider) is not a department: only departments decide orders")
            }
            guard (1...Self.maximumDecisionsPerCall).contains(Int(request.limit)) else {
                throw RPCError(
                    .invalidArgument,
                    "limit: 1 to \(Self.maximumDecisionsPerCall) with a selection, got \(request.limit)")
            }
            ids = try await self.ledger.pendingOrderIDs(
                request.selection, department: department, limit: Int(request.limit))
        }
        var response = Jiaxing_Benefits_V1_DecideOrdersBatchResponse()
        let name: @Sendable (String) -> String = { "order \($0)" }
        response.outcomes = await Self.each(ids, naming: name) { id in
            request.approve
                ? try await self.ledger.approve(orderID: id, by: decider)
                : try await self.ledger.reject(orderID: id, by: decider, reason: request.reason)
        }
        for index in response.outcomes.indices { response.outcomes[index].orderID = ids[index] }
        return response
    }

    public func getCampaignProgress(request: Jiaxing_Benefits_V1_CampaignProgressRequest, context: ServerContext)
        async throws -> Jiaxing_Benefits_V1_CampaignProgress
    {
        try Self.require(context, roles: [.service, .operator], to: "read a campaign's progress")
        return try await self.ledger.campaignProgress(
            id: request.campaignID, group: request.group.isEmpty ? "notification" : request.group)
    }
}
