import BenefitsAPI
import BenefitsDomain
import Foundation
import MeshMessages
import MeshRPC
import SwiftProtobuf

extension GatewayHandlers {
    /// Proposing is idempotent (the ledger derives the key), so it may be retried on another replica.
    /// - Parameter asGateway: proposed by the gateway itself (a campaign's derived proposals), not on the
    ///   caller's behalf; the audit line still names the caller who started it.
    func propose(
        _ request: Jiaxing_Benefits_V1_ProposePayoutRequest, _ caller: Caller, _ context: ServerContext,
        asGateway: Bool = false
    ) async throws -> Jiaxing_Benefits_V1_PayoutOrder {
        do {
            let options = asGateway ? CallOptions() : caller.options
            let order: Jiaxing_Benefits_V1_PayoutOrder = try await self.services.disbursement.call(idempotent: true) {
                client in
                try await client.unary(DisbursementMethods.proposePayout, request, options: options)
            }
            self.auditProposal(request, .success(order), caller)
            return order
        } catch {
            self.auditProposal(request, .failure(RPCError.from(error)), caller)
            throw error
        }
    }

    /// The audit line of one proposal, however it was made (one call, or a campaign's batch).
    func auditProposal(
        _ request: Jiaxing_Benefits_V1_ProposePayoutRequest,
        _ outcome: Result<Jiaxing_Benefits_V1_PayoutOrder, RPCError>,
        _ caller: Caller
    ) {
        switch outcome {
        case .success(let order):
            self.audit.record(
                caller: caller.description, method: "ProposePayout", outcome: order.replayed ? "replayed" : "proposed",
                detail: [
                    "order": order.id, "creditCode": order.creditCode, "clause": order.clauseID,
                    "amountFen": "\(order.amountFen)",
                ])
        case .failure(let error):
            self.audit.record(
                caller: caller.description, method: "ProposePayout", outcome: "refused",
                detail: ["creditCode": request.creditCode, "clause": request.clauseID, "reason": error.message])
        }
    }

    func decide(_ method: MethodDescriptor, _ request: Jiaxing_Benefits_V1_DecideRequest, _ context: ServerContext)
        async throws -> Jiaxing_Benefits_V1_PayoutOrder
    {
        let caller = try self.caller(context)
        try self.requireRole([.department], caller, context)
        do {
            // A decision is not retried elsewhere: the ledger refuses a second one anyway, but the caller should see the first answer.
            let order: Jiaxing_Benefits_V1_PayoutOrder = try await self.services.disbursement.call(idempotent: false) {
                client in
                try await client.unary(method, request, options: caller.options)
            }
            self.audit.record(
                caller: caller.description, method: method.method, outcome: "\(order.status)",
                detail: ["order": order.id, "amountFen": "\(order.amountFen)", "reason": request.reason])
            return order
        } catch {
            self.audit.record(
                caller: caller.description, method: method.method, outcome: "refused",
                detail: ["order": request.orderID, "reason": RPCError.from(error).message])
            throw error
        }
    }

    /// A proposal the register's facts support, never the caller's word: the enterprise must be registered in
    /// the county it is proposed for; the gateway screens its trusted profile (the county's identity, the
    /// departments' attested records) as of the request's day, and the clause must pay it without an
    /// application. The amount, the subject (what the order pays for, the
    /// idempotency key's part) and the explanation are the decision's; an amount given that differs is
    /// refused naming both.
    func derivedProposal(
        _ request: Jiaxing_Benefits_V1_ProposePayoutRequest, _ caller: Caller, _ context: ServerContext
    ) async throws -> Jiaxing_Benefits_V1_ProposePayoutRequest {
        func refuse(_ message: String) -> RPCError {
            self.audit.record(
                caller: caller.description, method: "ProposePayout", outcome: "refused",
                detail: ["creditCode": request.creditCode, "clause": request.clauseID, "reason": message])
            return RPCError(.failedPrecondition, message)
        }
        guard let profile = try await self.store.enterprise(creditCode: request.creditCode),
            profile.county == request.county
        else {
            throw refuse(
                "credit_code: \(request.creditCode) is not registered in this county; payouts are derived from the register's facts, so a county registers its enterprises (RegisterEnterprises) before proposing"
            )
        }
        let today = CalendarDate.todayInChina()
        var asOf = today
        if request.hasAsOf {
            guard let day = CalendarDate(message: request.asOf), day <= today else {
                throw RPCError(.invalidArgument, "as_of: a date no later than today (\(today)) is required")
            }
            asOf = day
        } else if request.period != 0, let end = CalendarDate(year: Int(request.period), month: 12, day: 31) {
            asOf = min(end, today)
        }
        var screen = Jiaxing_Benefits_V1_ScreenRequest()
        screen.profile = try await self.trustedProfile(profile, caller)
        screen.asOf = asOf.message
        screen.includeIneligible = true
        screen.seal = true
        let screening = try await self.screen(screen, caller)
        let decisions = screening.decisions.filter { $0.citation.clauseID == request.clauseID }
        guard !decisions.isEmpty else {
            throw refuse(
                "clause_id: \(request.clauseID) is not a clause in force for \(request.creditCode) on \(asOf) (catalog \(screening.catalogRevision))"
            )
        }
        let decision: Jiaxing_Benefits_V1_Decision
        do {
            decision = try Self.item(request.item, field: "item", among: decisions, clause: request.clauseID)
        } catch {
            throw refuse(error.message)
        }
        guard decision.status == .eligible, decision.cash, decision.amountFen > 0 else {
            throw refuse(
                "clause_id: \(request.clauseID) does not pay \(request.creditCode) without an application on the register's attested facts as of \(asOf) (\(decision.status)): \(decision.reason)"
            )
        }
        if request.amountFen != 0, request.amountFen != decision.amountFen {
            throw refuse(
                "amount_fen: \(Money.chinese(request.amountFen)) proposed, but \(request.clauseID) pays \(Money.chinese(decision.amountFen)) on the register's facts as of \(asOf)"
            )
        }
        var derived = request
        derived.enterpriseName = profile.name
        derived.amountFen = decision.amountFen
        derived.subject = decision.orderSubject
        derived.period = decision.period
        derived.explanation = decision.orderExplanation
        derived.seal = decision.seal
        derived.clearAsOf()
        return derived
    }

    /// The decision a request names among a clause's: the one for `item` where the clause pays each item on
    /// its own (the only one may go unnamed), else the clause's one decision. The refusal names `field` (where
    /// the request carries the item) and the items there are.
    static func item(
        _ item: String, field: String, among decisions: [Jiaxing_Benefits_V1_Decision], clause: String
    ) throws(ItemRefusal) -> Jiaxing_Benefits_V1_Decision {
        let items = decisions.map(\.item).filter { !$0.isEmpty }
        if items.isEmpty {
            guard item.isEmpty else {
                throw ItemRefusal("\(field): \(clause) pays the enterprise, not an item; leave \(field) empty")
            }
            return decisions[0]
        }
        if item.isEmpty, decisions.count == 1 { return decisions[0] }
        guard let found = decisions.first(where: { $0.item == item }) else {
            let listed = items.prefix(20).joined(separator: ", ") + (items.count > 20 ? ", …" : "")
            throw ItemRefusal(
                item.isEmpty
                    ? "\(field): \(clause) pays each item on its own (每项, 单个项目); name one of: \(listed)"
                    : "\(field): '\(item)' is not an item \(clause) pays; the enterprise's are: \(listed)")
        }
        return found
    }

    /// Why a request's item names no decision, in the words a caller reads.
    struct ItemRefusal: Error {
        var message: String
        init(_ message: String) { self.message = message }
    }

    /// The operator's money decisions (opening a fund, a clawback): forwarded as the operator, every outcome
    /// written to the audit log with what `detail` picks from the answer.
    func operatorDecision<Request: SwiftProtobuf.Message, Response: SwiftProtobuf.Message>(
        _ method: MethodDescriptor, _ request: Request, _ context: ServerContext, idempotent: Bool,
        detail: (Response) -> [String: String]
    ) async throws -> Response {
        let caller = try self.caller(context)
        try self.requireRole([.operator], caller, context)
        do {
            let response = try await self.forward(
                self.services.disbursement, method, request, caller, idempotent: idempotent, as: Response.self)
            self.audit.record(
                caller: caller.description, method: method.method, outcome: "done", detail: detail(response))
            return response
        } catch {
            self.audit.record(
                caller: caller.description, method: method.method, outcome: "refused",
                detail: ["reason": RPCError.from(error).message])
            throw error
        }
    }

    public func proposePayout(request: Jiaxing_Benefits_V1_ProposePayoutRequest, context: ServerContext) async throws
        -> Jiaxing_Benefits_V1_PayoutOrder
    {
        let caller = try self.caller(context)
        try self.requireCounty(request.county, caller, context)
        try await self.requireNotRegisteredElsewhere(request.creditCode, request.county, caller, context)
        let derived = try await self.derivedProposal(request, caller, context)
        return try await self.propose(derived, caller, context)
    }

    public func approve(request: Jiaxing_Benefits_V1_DecideRequest, context: ServerContext) async throws
        -> Jiaxing_Benefits_V1_PayoutOrder
    {
        try await self.decide(DisbursementMethods.approve, request, context)
    }

    public func reject(request: Jiaxing_Benefits_V1_DecideRequest, context: ServerContext) async throws
        -> Jiaxing_Benefits_V1_PayoutOrder
    {
        try await self.decide(DisbursementMethods.reject, request, context)
    }

    public func getOrder(request: Jiaxing_Benefits_V1_GetOrderRequest, context: ServerContext) async throws
        -> Jiaxing_Benefits_V1_PayoutOrder
    {
        let caller = try self.caller(context)
        return try await self.forward(
            self.services.disbursement, DisbursementMethods.getOrder, request, caller, idempotent: true,
            as: Jiaxing_Benefits_V1_PayoutOrder.self)
    }

    public func listOrders(request: Jiaxing_Benefits_V1_ListOrdersRequest, context: ServerContext) async throws
        -> Jiaxing_Benefits_V1_ListOrdersResponse
    {
        let caller = try self.caller(context)
        var request = request
        if let department = caller.department { request.department = department.rawValue }
        let scoped = request
        return try await self.forward(
            self.services.disbursement, DisbursementMethods.listOrders, scoped, caller, idempotent: true,
            as: Jiaxing_Benefits_V1_ListOrdersResponse.self)
    }

    public func listFunds(request: Jiaxing_Benefits_V1_ListFundsRequest, context: ServerContext) async throws
        -> Jiaxing_Benefits_V1_ListFundsResponse
    {
        let caller = try self.caller(context)
        try self.requireRole([.operator], caller, context)
        return try await self.forward(
            self.services.disbursement, DisbursementMethods.listFunds, request, caller, idempotent: true,
            as: Jiaxing_Benefits_V1_ListFundsResponse.self)
    }

    public func openFund(request: Jiaxing_Benefits_V1_OpenFundRequest, context: ServerContext) async throws
        -> Jiaxing_Benefits_V1_FundBalance
    {
        try await self.operatorDecision(DisbursementMethods.openFund, request, context, idempotent: true) {
            (fund: Jiaxing_Benefits_V1_FundBalance) in
            ["fund": fund.account, "budgetFen": "\(fund.budgetFen)"]
        }
    }

    public func clawback(request: Jiaxing_Benefits_V1_ClawbackRequest, context: ServerContext) async throws
        -> Jiaxing_Benefits_V1_PayoutOrder
    {
        try await self.operatorDecision(DisbursementMethods.clawback, request, context, idempotent: false) {
            (order: Jiaxing_Benefits_V1_PayoutOrder) in
            ["order": order.id, "amountFen": "\(order.amountFen)", "reason": request.reason]
        }
    }

    public func getPayoutRates(request: Jiaxing_Benefits_V1_PayoutRateRequest, context: ServerContext) async throws
        -> Jiaxing_Benefits_V1_PayoutRateResponse
    {
        let caller = try self.caller(context)
        try self.requireRole([.operator], caller, context)
        return try await self.forward(
            self.services.disbursement, DisbursementMethods.getPayoutRates, request, caller, idempotent: true,
            as: Jiaxing_Benefits_V1_PayoutRateResponse.self)
    }
}
