import BenefitsAPI
import BenefitsDomain
import Ledger
import MeshIdentity
import MeshMessages
import MeshRPC
import MeshTransport

/// The disbursement service's methods over the mesh. Who may do what is read from the caller's certificate:
/// departments decide orders of their clauses, the operator opens funds and claws back, services and the
/// operator propose, a county proposes and reads for its own enterprises only.
public struct DisbursementHandlers: DisbursementServiceProtocol {
    let ledger: Ledger
    /// Applications, decided or kept for their departments; approvals propose orders to `ledger`.
    let applications: ApplicationsDesk
    /// Every amount the ledger is asked to hold is checked against eligibility's signed decision.
    let seals: DecisionSealCheck

    public init(ledger: Ledger, seals: DecisionSealCheck) {
        self.ledger = ledger
        self.applications = ApplicationsDesk(ledger: ledger)
        self.seals = seals
    }

    static func decider(_ context: ServerContext) -> Ledger.Decider {
        guard let peer = context.peer else { return .other("unknown") }
        switch peer.role {
        case .department:
            return Department(rawValue: peer.commonName).map { .department($0, person: peer.person) }
                ?? .other(peer.description)
        case .operator: return .operator(peer.commonName)
        default: return .other(peer.description)
        }
    }

    /// A county caller acts only on its own enterprises. A county certificate naming no county of Jiaxing is
    /// refused rather than left unscoped.
    static func county(of context: ServerContext) throws -> Jiaxing_Benefits_V1_County? {
        guard let peer = context.peer, peer.role == .county else { return nil }
        guard let county = County(partyName: peer.commonName) else {
            throw RPCError(.permissionDenied, "\(peer) names no county or district of Jiaxing")
        }
        return county.message
    }

    /// A department caller reads only orders of clauses it is responsible for; an unknown one is refused.
    static func department(of context: ServerContext) throws -> Department? {
        guard let peer = context.peer, peer.role == .department else { return nil }
        guard let department = Department(rawValue: peer.commonName) else {
            throw RPCError(.permissionDenied, "\(peer) names no department of the city")
        }
        return department
    }

    static func require(_ context: ServerContext, roles: Set<PartyRole>, to action: String) throws {
        guard let role = context.peer?.role, roles.contains(role) else {
            throw RPCError(
                .permissionDenied, "\(context.peer?.description ?? "an unidentified caller") may not \(action)")
        }
    }

    /// Orders one ListOrders page holds at most: an order with the longest name and explanation is about
    /// 14 KB, so a page stays well under the 4 MiB frame whatever is stored.
    public static let maximumOrdersPerPage = 250

    /// How long a subscription with nothing to lease waits for the ledger's signal before it looks again
    /// anyway: leases other consumers held run out, and a replica sharing PostgreSQL without a listener
    /// rings nothing here.
    static let idleSubscriptionLook = Duration.seconds(1)
    /// The least time between two looks of a subscription that found nothing.
    static let minimumLookGap = Duration.milliseconds(10)

    /// The longest text a request may carry in a string field, checked again here where it is stored (the
    /// gateway holds parties to 1,000 characters; an order's explanation, which the gateway derives, runs to
    /// 4,000).
    public static let textLimit = TextLimit(maximumCharacters: 4_000)

    public func register(into router: inout RPCRouter) {
        router.requestCheck = { try Self.textLimit.check($0) }
        self.registerMethods(into: &router)
    }

    public func proposePayout(request: Jiaxing_Benefits_V1_ProposePayoutRequest, context: ServerContext) async throws
        -> Jiaxing_Benefits_V1_PayoutOrder
    {
        try Self.require(context, roles: [.service, .operator, .county], to: "propose payouts")
        if let county = try Self.county(of: context), request.county != county {
            throw RPCError(
                .permissionDenied,
                "\(context.peer!) proposes payouts only for enterprises registered in its own county")
        }
        _ = try self.seals.check(
            request.hasSeal ? request.seal : nil, creditCode: request.creditCode, county: request.county,
            clauseID: request.clauseID, subject: request.subject, period: request.period,
            amountFen: request.amountFen)
        return try await self.ledger.propose(request)
    }

    public func approve(request: Jiaxing_Benefits_V1_DecideRequest, context: ServerContext) async throws
        -> Jiaxing_Benefits_V1_PayoutOrder
    {
        try await self.ledger.approve(orderID: request.orderID, by: Self.decider(context))
    }

    public func reject(request: Jiaxing_Benefits_V1_DecideRequest, context: ServerContext) async throws
        -> Jiaxing_Benefits_V1_PayoutOrder
    {
        try await self.ledger.reject(orderID: request.orderID, by: Self.decider(context), reason: request.reason)
    }

    public func clawback(request: Jiaxing_Benefits_V1_ClawbackRequest, context: ServerContext) async throws
        -> Jiaxing_Benefits_V1_PayoutOrder
    {
        try await self.ledger.clawback(
            orderID: request.orderID, by: Self.decider(context), trigger: request.trigger, reason: request.reason)
    }

    public func getOrder(request: Jiaxing_Benefits_V1_GetOrderRequest, context: ServerContext) async throws
        -> Jiaxing_Benefits_V1_PayoutOrder
    {
        try Self.require(context, roles: [.service, .operator, .county, .department], to: "read orders")
        let order = try await self.ledger.order(id: request.orderID)
        if let county = try Self.county(of: context), order.county != county {
            throw RPCError(.permissionDenied, "\(context.peer!) reads only orders of its own county")
        }
        if let department = try Self.department(of: context),
            !department.isResponsible(among: order.responsibleDepartments)
        {
            throw RPCError(.permissionDenied, "\(context.peer!) reads only orders of clauses it is responsible for")
        }
        return order
    }

    public func listOrders(request: Jiaxing_Benefits_V1_ListOrdersRequest, context: ServerContext) async throws
        -> Jiaxing_Benefits_V1_ListOrdersResponse
    {
        try Self.require(context, roles: [.service, .operator, .county, .department], to: "read orders")
        var filter = Ledger.OrderFilter(limit: request.limit == 0 ? 100 : Int(request.limit))
        guard request.limit >= 0, request.limit <= Self.maximumOrdersPerPage else {
            throw RPCError(.invalidArgument, "limit: 1 to \(Self.maximumOrdersPerPage), got \(request.limit)")
        }
        filter.after = try PageToken.position(in: request.pageToken, parts: 2) { parts in
            Int64(parts[0]).map { ($0, parts[1]) }
        }
        if !request.creditCode.isEmpty { filter.creditCode = request.creditCode }
        if request.status != .unspecified { filter.status = request.status }
        if !request.department.isEmpty {
            guard let department = Department(rawValue: request.department) else {
                throw RPCError(.invalidArgument, "department: unknown department '\(request.department)'")
            }
            filter.department = department
        }
        if request.county != .unspecified { filter.county = request.county }
        if let department = try Self.department(of: context) { filter.department = department }
        if let county = try Self.county(of: context) {
            guard request.county == .unspecified || request.county == county else {
                throw RPCError(.permissionDenied, "\(context.peer!) reads only orders of its own county")
            }
            filter.county = county
        }
        var response = Jiaxing_Benefits_V1_ListOrdersResponse()
        response.orders = try await self.ledger.orders(filter)
        if response.orders.count == filter.limit, let last = response.orders.last {
            response.nextPageToken = PageToken(["\(last.createdAtMillis)", last.id]).encoded
        }
        return response
    }

    public func openFund(request: Jiaxing_Benefits_V1_OpenFundRequest, context: ServerContext) async throws
        -> Jiaxing_Benefits_V1_FundBalance
    {
        try Self.require(context, roles: [.operator], to: "open funds")
        return try await self.ledger.openFund(
            documentID: request.documentID, year: Int(request.year), budgetFen: request.budgetFen)
    }

    public func listFunds(request _: Jiaxing_Benefits_V1_ListFundsRequest, context: ServerContext) async throws
        -> Jiaxing_Benefits_V1_ListFundsResponse
    {
        try Self.require(context, roles: [.operator, .service], to: "read the funds")
        return try await self.ledger.funds()
    }

    public func getPayoutRates(request: Jiaxing_Benefits_V1_PayoutRateRequest, context: ServerContext) async throws
        -> Jiaxing_Benefits_V1_PayoutRateResponse
    {
        try Self.require(context, roles: [.operator, .service], to: "read payout rates")
        var response = Jiaxing_Benefits_V1_PayoutRateResponse()
        response.rates = try await self.ledger.payoutRates(
            documentID: request.documentID.isEmpty ? nil : request.documentID)
        return response
    }

    public func subscribe(
        request: Jiaxing_Benefits_V1_SubscribeRequest, writer: ResponseWriter<Jiaxing_Benefits_V1_DisbursementEvent>,
        context: ServerContext
    ) async throws {
        try Self.require(context, roles: [.service, .operator], to: "subscribe to ledger events")
        let inFlight = request.maxInFlight == 0 ? 64 : Int(request.maxInFlight)
        let lease = Int64(request.leaseSeconds == 0 ? 30 : request.leaseSeconds) * 1000
        guard (1...10_000).contains(inFlight) else {
            throw RPCError(.invalidArgument, "max_in_flight: 1 to 10000, got \(inFlight)")
        }
        guard (1...3600_000).contains(lease) else { throw RPCError(.invalidArgument, "lease_seconds: 1 to 3600") }
        try await self.ledger.outbox.releaseLeases(group: request.group, consumer: request.consumer)
        let signal = self.ledger.outbox.signal
        while !Task.isCancelled {
            let seen = signal.generation
            let events = try await self.ledger.outbox.lease(
                group: request.group, consumer: request.consumer, maximumInFlight: inFlight, leaseMillis: lease)
            for event in events { try await writer.write(event) }
            guard events.isEmpty else { continue }
            let looked = ContinuousClock.now
            await signal.wait(after: seen, timeout: Self.idleSubscriptionLook)
            // Under load every commit rings; a subscription at its limit in flight looks (a write
            // transaction) at most once a gap, not once a commit.
            let since = ContinuousClock.now - looked
            if since < Self.minimumLookGap { try await Task.sleep(for: Self.minimumLookGap - since) }
        }
    }

    public func acknowledge(request: Jiaxing_Benefits_V1_AcknowledgeRequest, context: ServerContext) async throws
        -> Jiaxing_Benefits_V1_AcknowledgeResponse
    {
        try Self.require(context, roles: [.service, .operator], to: "acknowledge ledger events")
        var response = Jiaxing_Benefits_V1_AcknowledgeResponse()
        response.acknowledged = Int32(
            try await self.ledger.outbox.acknowledge(group: request.group, sequences: request.sequences))
        return response
    }
}
