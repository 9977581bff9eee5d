import BenefitsAPI
import BenefitsDomain
import CatalogModel
import Foundation
import GatewayStore
import HTTPTypes
import Hummingbird
import MeshIdentity
import MeshMessages
import MeshRPC
import NIOCore

extension Console {
    func addDepartmentRoutes(_ console: RouterGroup<ConsoleRequestContext>) {
        console.get("queue") { request, context in
            do {
                let query = request.uri.queryParameters
                let filter = try OrderFilter { name in query.get(name).map { String($0) } }
                return try await self.queue(
                    context, filter: filter, applicationsPage: query.get("applications_page").map { String($0) } ?? "")
            } catch let error as FilterError {
                return try await self.queue(context, error: error.message)
            }
        }
        console.post("orders/:id/approve") { _, context in try await self.decideOrder(context, approve: true) }
        console.post("orders/:id/reject") { _, context in try await self.decideOrder(context, approve: false) }
        console.post("orders/groups/decide") { _, context in try await self.decideGroup(context) }
        console.post("applications/:id/decide") { _, context in try await self.decideApplication(context) }
        console.get("applications/:id/evidence/:sha256") { _, context in try await self.evidence(context) }
    }

    func requireRole(_ role: PartyRole, _ context: ConsoleRequestContext) -> (ConsoleSession, Response?) {
        guard let session = context.session else { return (Self.noSession, Response.redirect(to: "/console/sign-in")) }
        guard session.account.role == role else {
            self.audit.record(
                caller: "console/\(session.account.userName)", method: "Console", outcome: "refused",
                detail: ["reason": "page for \(role.rawValue) only"])
            return (
                session,
                self.message(
                    "无权访问", "此页面仅供\(Self.roleLabel(role))使用。", session: session, status: .forbidden,
                    back: Console.home(of: session.account))
            )
        }
        return (session, nil)
    }

    static func roleLabel(_ role: PartyRole) -> String {
        switch role {
        case .county: return "县（市、区）工作人员"
        case .department: return "责任部门"
        case .operator: return "市级运营"
        case .service, .client: return role.rawValue
        }
    }

    /// The department's pending orders and applications, each with the clause's own words.
    func queue(
        _ context: ConsoleRequestContext, flash: String? = nil, error: String? = nil, filter: OrderFilter = .init(),
        applicationsPage: String = ""
    ) async throws -> Response {
        let (session, refused) = self.requireRole(.department, context)
        if let refused { return refused }
        let account = session.account
        do {
            // A group's decision takes no order proposed after this moment, taken before the queue is read:
            // the officer decides at most what the counts and totals below could include.
            let asOf = Int64(self.now().timeIntervalSince1970 * 1000)
            async let pending = self.pendingOrders(as: account, filter: filter)
            var applicationsRequest = Jiaxing_Benefits_V1_ListApplicationsRequest()
            applicationsRequest.status = .pending
            applicationsRequest.limit = Int32(Self.applicationsPerPage)
            applicationsRequest.pageToken = applicationsPage
            async let applications: Jiaxing_Benefits_V1_ListApplicationsResponse = self.gateway.call(
                GatewayMethods.listApplications, applicationsRequest, as: account)
            let (pendingOrders, applicationPage) = try await (pending, applications)
            let vocabulary = await self.names()
            let applicationList = applicationPage.applications
            let orderList = pendingOrders.listed
            let department = account.department
            let mine = applicationList.filter { application in
                department.map { $0.isResponsible(among: application.responsibleDepartments) } ?? false
            }
            let clauses = try await self.clauses(
                Set(pendingOrders.groups.map(\.clauseID) + mine.map(\.clauseID)), as: account)
            let groups = Self.groupRows(pendingOrders.groups, clauses: clauses)
            let today = CalendarDate(Self.dayText(self.now())) ?? CalendarDate(year: 2026, month: 1, day: 1)!
            let orderRows: [[String: Any]] = orderList.map { order in
                // Mustache treats an empty string as true: optional texts are left out when empty.
                var row: [String: Any] = [
                    "id": order.id, "enterpriseName": order.enterpriseName, "creditCode": order.creditCode,
                    "county": County(message: order.county)?.chineseName ?? "",
                    "clauseTitle": Self.clauseTitle(clauses[order.clauseID], order.clauseID),
                    "clauseText": clauses[order.clauseID]?.text ?? "",
                    "amount": Money.chinese(order.amountFen), "requested": Money.chinese(order.requestedFen),
                    "requestedDiffers": order.requestedFen != order.amountFen,
                    "subject": order.subject, "period": "\(order.period)",
                    "expires": Self.dateTime(order.expiresAtMillis),
                ]
                if !order.reason.isEmpty { row["reason"] = order.reason }
                if !order.explanation.isEmpty { row["explanation"] = order.explanation }
                if !order.overlapGroup.isEmpty { row["overlapGroup"] = order.overlapGroup }
                return row
            }
            let applicationRows: [[String: Any]] = mine.map { application in
                let due = CalendarDate(
                    year: Int(application.dueOn.year), month: Int(application.dueOn.month),
                    day: Int(application.dueOn.day))
                let daysLeft = due.map { $0.dayNumber - today.dayNumber } ?? 0
                return [
                    "id": application.id, "enterpriseName": application.enterpriseName,
                    "creditCode": application.creditCode,
                    "clauseTitle": Self.clauseTitle(clauses[application.clauseID], application.clauseID),
                    "clauseText": clauses[application.clauseID]?.text ?? "",
                    "requested": Money.chinese(application.requestedFen),
                    "maximum": application.maximumFen > 0 ? Money.chinese(application.maximumFen) : "无",
                    "requestedYuan": Money.decimal(application.requestedFen, scale: Money.fenPerYuan),
                    "facts": application.declaredRecognitions.map { Self.recognitionText($0, vocabulary) }
                        + application.declaredProjects.map { Self.projectText($0, vocabulary) }
                        + application.claimedFacts.map { Self.factText($0, vocabulary) },
                    "evidence": application.evidence.map {
                        [
                            "name": $0.name, "href": "/console/applications/\(application.id)/evidence/\($0.sha256)",
                            "detail": "\($0.size) 字节，SHA-256 \($0.sha256.prefix(12))…",
                        ]
                    },
                    "dueOn": due?.description ?? "", "dueProvisional": application.dueProvisional,
                    "late": application.breached || daysLeft < 0,
                    "timeLeft": application.breached
                        ? "已超期，已上报市级" : (daysLeft >= 0 ? "剩余 \(daysLeft) 天（\(application.workingDays) 个工作日时限）" : "已超期"),
                ]
            }
            return self.page(
                "待办审批", "queue",
                filter.fields.merging([
                    "orders": orderRows, "hasOrders": !orderRows.isEmpty, "orderCount": "\(orderRows.count)",
                    "groups": groups, "hasGroups": !groups.isEmpty, "groupsPartial": !pendingOrders.complete,
                    "summarized": "\(Self.maximumSummarizedOrders)", "asOf": "\(asOf)",
                    "applications": applicationRows, "hasApplications": !applicationRows.isEmpty,
                    "applicationCount": "\(applicationRows.count)",
                    "applicationsNext": applicationPage.nextPageToken.isEmpty
                        ? "" : "/console/queue?" + Self.query(["applications_page": applicationPage.nextPageToken]),
                    "hasApplicationsNext": !applicationPage.nextPageToken.isEmpty,
                ]) { _, new in new }, session: session, status: error == nil ? .ok : .badRequest, flash: flash,
                error: error)
        } catch {
            return self.failure(error, session: session, back: nil)
        }
    }

    func decideOrder(_ context: ConsoleRequestContext, approve: Bool) async throws -> Response {
        let (session, refused) = self.requireRole(.department, context)
        if let refused { return refused }
        var request = Jiaxing_Benefits_V1_DecideRequest()
        request.orderID = context.parameters.get("id") ?? ""
        if !approve {
            guard let reason = context.form.text("reason") else {
                return try await self.queue(context, error: "驳回须填写理由（reason）。")
            }
            request.reason = reason
        }
        do {
            let order: Jiaxing_Benefits_V1_PayoutOrder = try await self.gateway.call(
                approve ? GatewayMethods.approve : GatewayMethods.reject, request, as: session.account)
            let verb = approve ? "已批准" : "已驳回"
            return try await self.queue(
                context, flash: "\(verb)兑付单 \(order.id)：\(order.enterpriseName) \(Money.chinese(order.amountFen))。")
        } catch {
            return self.failure(error, session: session, back: "/console/queue")
        }
    }

    func decideApplication(_ context: ConsoleRequestContext) async throws -> Response {
        let (session, refused) = self.requireRole(.department, context)
        if let refused { return refused }
        var request = Jiaxing_Benefits_V1_DecideApplicationRequest()
        request.applicationID = context.parameters.get("id") ?? ""
        request.approve = context.form["decision"] == "approve"
        request.reason = context.form.text("reason") ?? ""
        if request.approve {
            guard let text = context.form.text("amount_yuan"), let fen = Self.fen(fromYuan: text), fen > 0 else {
                return try await self.queue(context, error: "核定金额（amount_yuan）须为大于零的元金额，最多两位小数。")
            }
            request.amountFen = fen
        } else if request.reason.isEmpty {
            return try await self.queue(context, error: "驳回须填写理由（reason）。")
        }
        do {
            let application: Jiaxing_Benefits_V1_Application = try await self.gateway.call(
                GatewayMethods.decideApplication, request, as: session.account)
            let verb = request.approve ? "已批准，核定 \(Money.chinese(application.decidedFen))" : "已驳回"
            return try await self.queue(context, flash: "申请 \(application.id)（\(application.enterpriseName)）\(verb)。")
        } catch {
            return self.failure(error, session: session, back: "/console/queue")
        }
    }

    /// An application's file as a download; who may read it is the ledger's decision (the filing county, a
    /// responsible department, the operator), so the console asks as the account's party.
    func evidence(_ context: ConsoleRequestContext) async throws -> Response {
        guard let session = context.session else { return Response.redirect(to: "/console/sign-in") }
        var request = Jiaxing_Benefits_V1_GetEvidenceRequest()
        request.applicationID = context.parameters.get("id") ?? ""
        request.sha256 = context.parameters.get("sha256") ?? ""
        do {
            let file: Jiaxing_Benefits_V1_Evidence = try await self.gateway.call(
                GatewayMethods.getEvidence, request, as: session.account)
            var headers = HTTPFields()
            // Only the three types the ledger accepts are served as themselves; never as HTML.
            headers[.contentType] =
                ["application/pdf", "image/jpeg", "image/png"].contains(file.contentType)
                ? file.contentType : "application/octet-stream"
            // RFC 5987: every byte but the unreserved ASCII ones percent-encoded (Chinese names included).
            let unreserved = CharacterSet(
                charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~")
            let encoded = file.name.addingPercentEncoding(withAllowedCharacters: unreserved) ?? "evidence"
            headers[.contentDisposition] = "attachment; filename=\"evidence\"; filename*=UTF-8''\(encoded)"
            return Response(
                status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: file.content)))
        } catch {
            return self.failure(error, session: session, back: Console.home(of: session.account))
        }
    }

    /// The clauses named, read from the catalog through the gateway; a clause that cannot be read is left out.
    func clauses(_ ids: Set<String>, as account: ConsoleAccount) async throws -> [String: Jiaxing_Benefits_V1_Clause] {
        try await withThrowingTaskGroup(of: Jiaxing_Benefits_V1_Clause?.self) { group in
            for id in ids {
                group.addTask {
                    var request = Jiaxing_Benefits_V1_GetClauseRequest()
                    request.id = id
                    return try? await self.gateway.call(GatewayMethods.getClause, request, as: account)
                        as Jiaxing_Benefits_V1_Clause
                }
            }
            var clauses: [String: Jiaxing_Benefits_V1_Clause] = [:]
            for try await clause in group { if let clause { clauses[clause.id] = clause } }
            return clauses
        }
    }

    /// The catalog's vocabulary for names, or nil when no catalog answers: the page then shows ids rather than
    /// failing.
    func names() async -> Vocabulary? {
        guard let catalog = self.services?.catalog else { return nil }
        return try? await self.vocabulary.vocabulary(
            from: catalog, options: CallOptions(timeout: ConsoleGateway.timeout))
    }

    /// A fact as the officer reads it: its Chinese name, the year, the value in its unit, who vouches for it.
    static func factText(_ fact: Jiaxing_Benefits_V1_FactRecord, _ vocabulary: Vocabulary?) -> String {
        let term = vocabulary?.fact(fact.fact)
        let year = fact.year > 0 ? " \(fact.year)年" : ""
        let value: String
        switch fact.value {
        case .amount(let amount): value = "：\(term?.unit.words(amount) ?? "\(amount)")"
        case .flag(let flag): value = "：\(flag ? "是" : "否")"
        case nil: value = ""
        }
        return "\(term?.name ?? fact.fact)\(year)\(value)\(Self.sourceText(fact.source))"
    }

    static func recognitionText(_ record: Jiaxing_Benefits_V1_RecognitionRecord, _ vocabulary: Vocabulary?) -> String {
        let date = CalendarDate(message: record.recognizedOn).map { " \($0)认定" } ?? ""
        let name = vocabulary?.recognition(record.recognition)?.name ?? record.recognition
        let level = vocabulary?.levelName(record.level) ?? record.level
        return "认定 \(name) \(level)\(date)\(Self.sourceText(record.source))"
    }

    static func projectText(_ record: Jiaxing_Benefits_V1_ProjectRecord, _ vocabulary: Vocabulary?) -> String {
        let completed = CalendarDate(message: record.completedOn).map { " \($0)验收" } ?? ""
        let kind = vocabulary?.projectKind(record.kind)?.name ?? record.kind
        return
            "项目 \(kind)「\(record.name)」\(Money.chinese(record.investmentFen))\(completed)\(Self.sourceText(record.source))"
    }

    /// How the officer sees who vouches for a fact: a declared one is marked as not attested by any department.
    static func sourceText(_ source: Jiaxing_Benefits_V1_RecordSource) -> String {
        switch source.kind {
        case .declared: return "（企业申报，未经部门认定）"
        case .attested, .registered: return source.chineseDescription.map { "（\($0)）" } ?? ""
        default: return "（企业申报，未经部门认定）"
        }
    }

    static func clauseTitle(_ clause: Jiaxing_Benefits_V1_Clause?, _ id: String) -> String {
        guard let clause else { return id }
        return "\(clause.title)（\(clause.article)）"
    }

    /// "12.5" 元 → 1250 fen; nil for anything but a non-negative amount with at most two decimals (digits
    /// only: Int64("…") alone would also take a sign).
    static func fen(fromYuan text: String) -> Int64? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        func digits(_ part: Substring) -> Bool { !part.isEmpty && part.allSatisfy { ("0"..."9").contains($0) } }
        guard (1...2).contains(parts.count), digits(parts[0]), parts[0].count <= 12, let whole = Int64(parts[0]),
            whole <= 100_000_000_000
        else { return nil }
        var fraction: Int64 = 0
        if parts.count == 2 {
            guard digits(parts[1]), parts[1].count <= 2, let value = Int64(parts[1]) else { return nil }
            fraction = parts[1].count == 1 ? value * 10 : value
        }
        return whole * 100 + fraction
    }

    static func dayText(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "Asia/Shanghai")
        formatter.dateFormat = "yyyy-MM-dd"
        return formatter.string(from: date)
    }

    static func dateTime(_ millis: Int64) -> String {
        guard millis > 0 else { return "" }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "Asia/Shanghai")
        formatter.dateFormat = "yyyy-MM-dd HH:mm"
        return formatter.string(from: Date(timeIntervalSince1970: Double(millis) / 1000))
    }
}
