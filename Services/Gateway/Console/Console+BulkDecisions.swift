import BenefitsAPI
import BenefitsDomain
import GatewayStore
import Hummingbird
import MeshMessages

extension Console {
    /// Pending orders the queue reads to count and total them by clause and county: forty pages of 250.
    static let maximumSummarizedOrders = 10_000
    /// Pending orders the queue lists one by one, newest first.
    static let listedOrders = 200
    /// Orders of a group shown in full beside its totals, for the officer to check before deciding the rest.
    static let sampleOrdersPerGroup = 3

    /// The orders of one clause in one county awaiting the department.
    struct OrderGroup {
        let clauseID: String
        let county: Jiaxing_Benefits_V1_County
        var sample: [Jiaxing_Benefits_V1_PayoutOrder] = []
        var count = 0
        var total: Fen = 0
        var least: Fen = .max
        var most: Fen = 0
        /// Orders a cap or 就高不重复 reduced below what was requested.
        var reduced = 0
    }

    /// The department's pending orders, read once a page at a time (newest first): the first
    /// `listedOrders` to list, and all (up to `maximumSummarizedOrders`) by clause and county; `complete`
    /// is false when more were waiting than were read.
    struct PendingOrders {
        var listed: [Jiaxing_Benefits_V1_PayoutOrder] = []
        var groups: [OrderGroup] = []
        var complete = true
    }

    func pendingOrders(as account: ConsoleAccount, filter: OrderFilter = .init()) async throws -> PendingOrders {
        var pending = PendingOrders()
        var groups: [String: OrderGroup] = [:]
        var request = Jiaxing_Benefits_V1_ListOrdersRequest()
        request.status = .pending
        request.limit = 250
        var read = 0
        let selection = filter.selection
        repeat {
            let page: Jiaxing_Benefits_V1_ListOrdersResponse = try await self.gateway.call(
                GatewayMethods.listOrders, request, as: account)
            for order in page.orders where selection.selects(order) {
                if pending.listed.count < Self.listedOrders { pending.listed.append(order) }
                let key = "\(order.clauseID)|\(order.county.rawValue)"
                var group = groups[key] ?? OrderGroup(clauseID: order.clauseID, county: order.county)
                if group.sample.count < Self.sampleOrdersPerGroup { group.sample.append(order) }
                group.count += 1
                group.total += order.amountFen
                group.least = min(group.least, order.amountFen)
                group.most = max(group.most, order.amountFen)
                if order.amountFen != order.requestedFen { group.reduced += 1 }
                groups[key] = group
            }
            read += page.orders.count
            request.pageToken = page.nextPageToken
        } while !request.pageToken.isEmpty && read < Self.maximumSummarizedOrders
        pending.groups = groups.values.sorted { ($0.clauseID, $0.county.rawValue) < ($1.clauseID, $1.county.rawValue) }
        pending.complete = request.pageToken.isEmpty
        return pending
    }

    /// The groups as the queue's template shows them: counts, totals, the range of amounts, how many a cap
    /// reduced, and a sample; each decided with one reason (`DecideOrders`), every order still recorded with
    /// who decided it, when and why.
    static func groupRows(_ groups: [OrderGroup], clauses: [String: Jiaxing_Benefits_V1_Clause]) -> [[String: Any]] {
        groups.map { group in
            let county = County(message: group.county)
            var row: [String: Any] = [
                "clause": group.clauseID, "countyValue": county?.partyName ?? "",
                "clauseTitle": Self.clauseTitle(clauses[group.clauseID], group.clauseID),
                "county": county?.chineseName ?? "",
                "count": "\(group.count)", "total": Money.chinese(group.total),
                "range": group.least == group.most
                    ? Money.chinese(group.least) : "\(Money.chinese(group.least))～\(Money.chinese(group.most))",
                "sample": group.sample.map {
                    ["enterpriseName": $0.enterpriseName, "amount": Money.chinese($0.amountFen), "id": $0.id]
                },
            ]
            if group.reduced > 0 { row["reduced"] = "\(group.reduced) 笔因上限或就高不重复调减" }
            return row
        }
    }

    /// One decision for a whole group: the clause and county of the form, approve or reject, one reason; only
    /// orders proposed by the moment the queue was read (`as_of`).
    func decideGroup(_ context: ConsoleRequestContext) async throws -> Response {
        let (session, refused) = self.requireRole(.department, context)
        if let refused { return refused }
        var request = Jiaxing_Benefits_V1_DecideOrdersRequest()
        let filter: OrderFilter
        do {
            filter = try OrderFilter { context.form.text($0) }
        } catch {
            return try await self.queue(context, error: error.message)
        }
        filter.apply(to: &request)
        guard let clause = context.form.text("clause"),
            let county = context.form.text("county").flatMap(County.init(partyName:))
        else {
            return try await self.queue(context, error: "批量审批须指明条款（clause）和县（市、区）（county）。", filter: filter)
        }
        request.clauseID = clause
        request.county = county.message
        request.approve = context.form.text("decision") == "approve"
        guard let reason = context.form.text("reason") else {
            return try await self.queue(context, error: "批量审批须填写一条理由（reason），记入每一笔兑付单。", filter: filter)
        }
        request.reason = reason
        request.limit = Int32(Self.maximumSummarizedOrders)
        // The moment the queue was read: orders proposed since are not in the totals the officer decided on.
        if let asOf = context.form.text("as_of") {
            guard let millis = Int64(asOf), millis > 0 else {
                return try await self.queue(
                    context, error: "as_of：须为读取待办时的时刻（毫秒），得到「\(asOf.prefix(40))」。", filter: filter)
            }
            request.asOfMillis = millis
        }
        do {
            let result: Jiaxing_Benefits_V1_DecideOrdersResult = try await self.gateway.call(
                GatewayMethods.decideOrders, request, as: session.account)
            let verb = request.approve ? "已批准" : "已驳回"
            let title = Self.clauseTitle(try? await self.clauses([clause], as: session.account)[clause], clause)
            var flash =
                "\(county.chineseName) \(title)：\(verb) \(result.decided) 笔，共 \(Money.chinese(result.amountFen))。"
            if result.failed > 0 { flash += "未能决定 \(result.failed) 笔：\(result.firstFailures.joined(separator: "；"))" }
            return try await self.queue(context, flash: flash, filter: filter)
        } catch {
            return self.failure(error, session: session, back: "/console/queue")
        }
    }
}
