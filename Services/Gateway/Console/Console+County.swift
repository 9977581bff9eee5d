import BenefitsAPI
import BenefitsDomain
import Foundation
import GatewayStore
import Hummingbird
import MeshIdentity
import MeshMessages
import MeshRPC

extension Console {
    func addCountyRoutes(_ console: RouterGroup<ConsoleRequestContext>) {
        console.get("enterprises") { request, context in try await self.enterprises(request, context) }
        console.get("enterprises/:code") { request, context in try await self.enterprise(request, context) }
        console.post("enterprises/:code/applications") { _, context in try await self.fileApplication(context) }
    }

    /// County staff and the operator only; a department reads through its queue.
    func requireCountyOrOperator(_ context: ConsoleRequestContext) -> (ConsoleSession, Response?) {
        guard let session = context.session else { return (Self.noSession, Response.redirect(to: "/console/sign-in")) }
        guard session.account.role != .department else { return self.requireRole(.county, context) }
        return (session, nil)
    }

    func enterprises(_ request: Request, _ context: ConsoleRequestContext) async throws -> Response {
        let (session, refused) = self.requireCountyOrOperator(context)
        if let refused { return refused }
        let query = request.uri.queryParameters.get("q") ?? ""
        var search = Jiaxing_Benefits_V1_SearchEnterprisesRequest()
        search.query = query
        search.limit = Int32(Self.enterprisesPerPage)
        search.pageToken = request.uri.queryParameters.get("page").map { String($0) } ?? ""
        do {
            let found: Jiaxing_Benefits_V1_SearchEnterprisesResponse = try await self.gateway.call(
                GatewayMethods.searchEnterprises, search, as: session.account)
            let rows: [[String: Any]] = found.enterprises.map {
                [
                    "creditCode": $0.creditCode, "name": $0.name,
                    "county": County(message: $0.county)?.chineseName ?? "", "industry": $0.industry,
                ]
            }
            var values: [String: Any] = ["query": query, "enterprises": rows]
            if !found.nextPageToken.isEmpty {
                values["next"] = "/console/enterprises?" + Self.query(["q": query, "page": found.nextPageToken])
            }
            return self.page(
                session.account.role == .operator ? "全部企业" : "本地企业", "enterprises", values, session: session)
        } catch {
            return self.failure(error, session: session, back: nil)
        }
    }

    /// One enterprise: what it is entitled to and why (the clause's words), what it nearly meets and what is
    /// missing, what was paid, and what it was told.
    func enterprise(_ request: Request, _ context: ConsoleRequestContext, flash: String? = nil, error: String? = nil)
        async throws -> Response
    {
        let (session, refused) = self.requireCountyOrOperator(context)
        if let refused { return refused }
        let account = session.account
        let code = context.parameters.get("code") ?? ""
        let asOf =
            request.uri.queryParameters.get("as_of").flatMap { CalendarDate($0) } ?? CalendarDate(
                Self.dayText(self.now()))!
        do {
            var get = Jiaxing_Benefits_V1_GetEnterpriseRequest()
            get.creditCode = code
            let profile: Jiaxing_Benefits_V1_EnterpriseProfile = try await self.gateway.call(
                GatewayMethods.getEnterprise, get, as: account)
            var screen = Jiaxing_Benefits_V1_ScreenRequest()
            screen.profile = profile
            screen.asOf = Self.message(asOf)
            async let screening: Jiaxing_Benefits_V1_ScreeningResult = self.gateway.call(
                GatewayMethods.screen, screen, as: account)
            let pages = Self.queryValues(request, ["as_of", "orders_page", "notices_page"])
            var ordersRequest = Jiaxing_Benefits_V1_ListOrdersRequest()
            ordersRequest.creditCode = code
            ordersRequest.limit = Int32(Self.historyPerPage)
            ordersRequest.pageToken = pages["orders_page"] ?? ""
            async let orders: Jiaxing_Benefits_V1_ListOrdersResponse = self.gateway.call(
                GatewayMethods.listOrders, ordersRequest, as: account)
            var inbox = Jiaxing_Benefits_V1_ListInboxRequest()
            inbox.audience = "enterprise/\(code)"
            inbox.limit = Int32(Self.historyPerPage)
            inbox.pageToken = pages["notices_page"] ?? ""
            async let notices: Jiaxing_Benefits_V1_ListInboxResponse = self.gateway.call(
                GatewayMethods.listInbox, inbox, as: account)
            let (result, history, told) = try await (screening, orders, notices)
            let entitled: [Jiaxing_Benefits_V1_Decision.Status] = [
                .eligible, .superseded, .needsApplication, .manualAssessment,
            ]
            let entitlements: [[String: Any]] = result.decisions.filter { entitled.contains($0.status) }.map {
                decision in
                [
                    "clauseTitle": "\(decision.citation.documentNumber) \(decision.citation.article)",
                    "amount": decision.amountFen > 0 ? Money.chinese(decision.amountFen) : "依申请核定",
                    "reasons": [decision.citation.clauseText]
                        + decision.conditions.filter(\.met).map { "\($0.conditionText)：\($0.factUsed)" },
                    "state": Self.statusText(decision),
                ]
            }
            let nearMisses: [[String: Any]] = result.decisions.filter { $0.status == .nearMiss }.map { decision in
                [
                    "clauseTitle": "\(decision.citation.documentNumber) \(decision.citation.article)",
                    "missing": decision.missing,
                ]
            }
            let applicable: [[String: Any]] = result.decisions.filter {
                [.needsApplication, .manualAssessment, .nearMiss].contains($0.status)
            }.map { decision in
                [
                    "id": decision.citation.clauseID,
                    "title": "\(decision.citation.documentNumber) \(decision.citation.article)",
                ]
            }
            // Orders are read by their clause's title and article; the id stays in the API.
            let clauses = try await self.clauses(Set(history.orders.map(\.clauseID)), as: account)
            let orderRows: [[String: Any]] = history.orders.map { order in
                [
                    "id": order.id, "clauseTitle": Self.clauseTitle(clauses[order.clauseID], order.clauseID),
                    "amount": Money.chinese(order.amountFen),
                    "status": Self.statusText(order.status),
                    "decidedBy": order.decidedBy, "reason": order.reason,
                    "declaredFacts": order.declaredFacts,
                ]
            }
            let noticeRows: [[String: Any]] = told.notices.map {
                ["at": Self.dateTime($0.createdAtMillis), "title": $0.title, "body": $0.body]
            }
            return self.page(
                profile.name, "enterprise",
                [
                    "creditCode": profile.creditCode, "county": County(message: profile.county)?.chineseName ?? "",
                    "asOf": asOf.description,
                    "entitlements": entitlements, "entitlementCount": "\(entitlements.count)", "nearMisses": nearMisses,
                    "nearMissCount": "\(nearMisses.count)",
                    "orders": orderRows, "notices": noticeRows, "applicable": applicable,
                    "canApply": account.role == .county && !applicable.isEmpty,
                ].merging(
                    Self.nextLinks(
                        "/console/enterprises/\(code)", keeping: pages,
                        [
                            ("ordersNext", "orders_page", history.nextPageToken),
                            ("noticesNext", "notices_page", told.nextPageToken),
                        ]), uniquingKeysWith: { first, _ in first }), session: session, flash: flash, error: error)
        } catch {
            return self.failure(error, session: session, back: "/console/enterprises")
        }
    }

    /// 即申即享 / 限时即享 from the console: the registered profile, the clause, what it is for and the amount.
    func fileApplication(_ context: ConsoleRequestContext) async throws -> Response {
        let (session, refused) = self.requireRole(.county, context)
        if let refused { return refused }
        let code = context.parameters.get("code") ?? ""
        let back = "/console/enterprises/\(code)"
        guard let clause = context.form.text("clause") else {
            return self.message("申请未提交", "clause：请选择条款。", session: session, status: .badRequest, back: back)
        }
        // Only a clause paid per item (每项, 单个项目) needs it: the project's, contract's or award's own number.
        let subject = context.form.text("subject") ?? ""
        var requested: Int64 = 0
        if let text = context.form.text("amount_yuan") {
            guard let fen = Self.fen(fromYuan: text) else {
                return self.message(
                    "申请未提交", "amount_yuan：须为元金额，最多两位小数，得到「\(text)」。", session: session, status: .badRequest, back: back)
            }
            requested = fen
        }
        do {
            var get = Jiaxing_Benefits_V1_GetEnterpriseRequest()
            get.creditCode = code
            let profile: Jiaxing_Benefits_V1_EnterpriseProfile = try await self.gateway.call(
                GatewayMethods.getEnterprise, get, as: session.account)
            var request = Jiaxing_Benefits_V1_FileApplicationRequest()
            request.profile = profile
            request.asOf = Self.message(CalendarDate(Self.dayText(self.now()))!)
            if let asOf = context.form.text("as_of").flatMap({ CalendarDate($0) }) { request.asOf = Self.message(asOf) }
            request.clauseID = clause
            request.subject = subject
            request.requestedFen = requested
            let application: Jiaxing_Benefits_V1_Application = try await self.gateway.call(
                GatewayMethods.fileApplication, request, as: session.account)
            let outcome =
                application.status == .decidedAtOnce
                ? "即申即享：已当场核定 \(Money.chinese(application.decidedFen))，兑付单 \(application.orderID) 已生成。"
                : "限时即享：已送\(application.responsibleDepartments.joined(separator: "、"))，办结期限 \(application.dueOn.year)-\(application.dueOn.month)-\(application.dueOn.day)\(application.dueProvisional ? " (暂按法定节假日推算)" : "")。"
            return self.message(
                application.replayed ? "申请此前已提交" : "申请已提交", "申请 \(application.id)：\(outcome)", session: session,
                status: .ok, back: back)
        } catch {
            return self.failure(error, session: session, back: back)
        }
    }

    static func message(_ date: CalendarDate) -> Jiaxing_Benefits_V1_Date {
        var message = Jiaxing_Benefits_V1_Date()
        message.year = Int32(date.year)
        message.month = Int32(date.month)
        message.day = Int32(date.day)
        return message
    }

    static func statusText(_ decision: Jiaxing_Benefits_V1_Decision) -> String {
        switch decision.status {
        case .eligible: return "符合，免申即享"
        case .superseded: return "符合，但就高不重复，按 \(decision.supersededBy) 兑付"
        case .needsApplication: return "符合，需申请核定金额"
        case .manualAssessment: return "需评审"
        default: return decision.reason
        }
    }

    static func statusText(_ status: Jiaxing_Benefits_V1_PayoutOrder.Status) -> String {
        switch status {
        case .pending: return "待审批"
        case .posted: return "已兑付"
        case .rejected: return "已驳回"
        case .expired: return "已过期"
        case .clawedBack: return "已追回"
        default: return "未知"
        }
    }
}
