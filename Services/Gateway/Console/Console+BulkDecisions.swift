import BenefitsAPI
import BenefitsDomain
import GatewayStore
import Hummingbird
import MeshMessages

extension Console {
    /// Pending orders the queue reads to count and total them by clause and county: forty pages of 250.
    static let maximumSummarizedOrders = 10_000
    /// Orders of a group shown in full beside its totals, for the officer to check before deciding the rest.
    static let sampleOrdersPerGroup = 3

    /// The department's pending orders by clause and county: counts, totals, the range of amounts, how many a
    /// cap reduced, and a sample; each group decided with one reason (`DecideOrders`), every order still
    /// recorded with who decided it, when and why.
    func orderGroups(as account: ConsoleAccount, clauses: [String: Jiaxing_Benefits_V1_Clause]) async throws
        -> (groups: [[String: Any]], complete: Bool)
    {
        var groups:
            [String: (
                clause: String, county: Jiaxing_Benefits_V1_County, orders: [Jiaxing_Benefits_V1_PayoutOrder],
                count: Int, total: Fen, least: Fen, most: Fen, reduced: Int
            )] = [:]
        var request = Jiaxing_Benefits_V1_ListOrdersRequest()
        request.status = .pending
        request.limit = 250
        var read = 0
        repeat {
            let page: Jiaxing_Benefits_V1_ListOrdersResponse = try await self.gateway.call(
                GatewayMethods.listOrders, request, as: account)
            for order in page.orders {
                let key = "\(order.clauseID)|\(order.county.rawValue)"
                var group = groups[key] ?? (order.clauseID, order.county, [], 0, 0, .max, 0, 0)
                if group.orders.count < Self.sampleOrdersPerGroup { group.orders.append(order) }
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
        let rows: [[String: Any]] = groups.values.sorted {
            ($0.clause, $0.county.rawValue) < ($1.clause, $1.county.rawValue)
        }
        .map { group in
            var row: [String: Any] = [
                "clause": group.clause, "countyValue": "\(County(message: group.county)?.partyName ?? "")",
                "clauseTitle": Self.clauseTitle(clauses[group.clause], group.clause),
                "county": County(message: group.county)?.chineseName ?? "",
                "count": "\(group.count)", "total": Money.chinese(group.total),
                "range": group.least == group.most
                    ? Money.chinese(group.least) : "\(Money.chinese(group.least))～\(Money.chinese(group.most))",
                "sample": group.orders.map {
                    ["enterpriseName": $0.enterpriseName, "amount": Money.chinese($0.amountFen), "id": $0.id]
                },
            ]
            if group.reduced > 0 { row["reduced"] = "\(group.reduced) 笔因上限或就高不重复调减" }
            return row
        }
        return (rows, request.pageToken.isEmpty)
    }

    /// One decision for a whole group: the clause and county of the form, approve or reject, one reason.
    func decideGroup(_ context: ConsoleRequestContext) async throws -> Response {
        let (session, refused) = self.requireRole(.department, context)
        if let refused { return refused }
        var request = Jiaxing_Benefits_V1_DecideOrdersRequest()
        guard let clause = context.form.text("clause"),
            let county = context.form.text("county").flatMap(County.init(partyName:))
        else { return try await self.queue(context, error: "批量审批须指明条款（clause）和县（市、区）（county）。") }
        request.clauseID = clause
        request.county = county.message
        request.approve = context.form.text("decision") == "approve"
        guard let reason = context.form.text("reason") else {
            return try await self.queue(context, error: "批量审批须填写一条理由（reason），记入每一笔兑付单。")
        }
        request.reason = reason
        request.limit = Int32(Self.maximumSummarizedOrders)
        do {
            let result: Jiaxing_Benefits_V1_DecideOrdersResult = try await self.gateway.call(
                GatewayMethods.decideOrders, request, as: session.account)
            let verb = request.approve ? "已批准" : "已驳回"
            var flash =
                "\(county.chineseName) \(clause)：\(verb) \(result.decided) 笔，共 \(Money.chinese(result.amountFen))。"
            if result.failed > 0 { flash += "未能决定 \(result.failed) 笔：\(result.firstFailures.joined(separator: "；"))" }
            return try await self.queue(context, flash: flash)
        } catch {
            return self.failure(error, session: session, back: "/console/queue")
        }
    }
}
