import BenefitsAPI
import BenefitsDomain
import CatalogModel
import Foundation
import GatewayService
import GatewayStore
import Hummingbird
import MeshIdentity
import MeshMessages

extension Console {
    func addOperatorRoutes(_ console: RouterGroup<ConsoleRequestContext>) {
        console.get("overview") { request, context in
            try await self.overview(context, pages: Self.overviewPages(request))
        }
        console.post("deliveries/:id/replay") { _, context in try await self.replay(context) }
        console.get("forecast") { request, context in try await self.forecast(request, context) }
        console.get("campaigns/:id") { _, context in try await self.campaign(context) }
    }

    /// A stage as the campaign page draws it: a bar, the counts, the rate and the time left.
    static func stageRow(_ stage: Jiaxing_Benefits_V1_CampaignStage) -> [String: Any] {
        let names: [Jiaxing_Benefits_V1_CampaignStage.Stage: String] = [
            .screened: "筛查", .proposed: "拨付", .decided: "审定", .posted: "入账", .notified: "通知",
        ]
        return [
            "name": names[stage.stage] ?? "\(stage.stage)", "done": "\(stage.done)",
            "total": stage.total > 0 ? "\(stage.total)" : "—", "max": "\(max(stage.total, stage.done, 1))",
            "rate": stage.perSecond > 0 ? String(format: "%.0f/秒", stage.perSecond) : "",
            "left": stage.secondsLeft > 0 ? "约 \(stage.secondsLeft) 秒" : (stage.secondsLeft == 0 ? "已完成" : ""),
        ]
    }

    /// One campaign stage by stage (the operator's; `mesh campaign status` shows the same).
    func campaign(_ context: ConsoleRequestContext) async throws -> Response {
        let (session, refused) = self.requireRole(.operator, context)
        if let refused { return refused }
        var request = Jiaxing_Benefits_V1_GetCampaignRequest()
        request.campaignID = context.parameters.get("id") ?? ""
        do {
            async let status: Jiaxing_Benefits_V1_CampaignStatus = self.gateway.call(
                GatewayMethods.getCampaign, request, as: session.account)
            async let documents: Jiaxing_Benefits_V1_ListDocumentsResponse = self.gateway.call(
                GatewayMethods.listDocuments, Jiaxing_Benefits_V1_ListDocumentsRequest(), as: session.account)
            let (campaign, documentList) = try await (status, documents)
            let documentNames = Self.documentNames(documentList)
            // Clauses by title and article for people; the id stays beside it, small.
            let clauses = try await self.clauses(Set(campaign.shares.map(\.clauseID)), as: session.account)
            let shares: [[String: Any]] = campaign.shares.map { share in
                [
                    "county": County(message: share.county)?.chineseName ?? "—",
                    "clause": Self.clauseTitle(clauses[share.clauseID], share.clauseID), "clauseID": share.clauseID,
                    "orders": "\(share.orders)", "posted": "\(share.posted)",
                    "promised": Money.chinese(share.promisedFen), "paid": Money.chinese(share.paidFen),
                    "rate": share.promisedFen > 0
                        ? String(format: "%.1f%%", Double(share.paidFen) * 100 / Double(share.promisedFen)) : "—",
                ]
            }
            let targets: [[String: Any]] = campaign.rates.map { rate in
                [
                    "document": documentNames[rate.documentID] ?? rate.documentID,
                    "by": "\(rate.by.year)-\(rate.by.month)-\(rate.by.day)",
                    "target": String(format: "%.0f%%", Double(rate.targetBasisPoints) / 100),
                    "achieved": String(format: "%.1f%%", Double(rate.achievedBasisPoints) / 100),
                    "late": rate.achievedBasisPoints < rate.targetBasisPoints,
                ]
            }
            return self.page(
                "免申即享活动", "campaign",
                [
                    "campaign": Self.campaignRow(campaign.campaign, documentNames),
                    "stages": campaign.stages.map(Self.stageRow), "paid": Money.chinese(campaign.postedFen),
                    "shares": shares, "targets": targets, "hasTargets": !targets.isEmpty,
                ], session: session)
        } catch {
            return self.failure(error, session: session, back: "/console/overview")
        }
    }

    /// 预算测算: what the clauses in force on a day would propose to the register's enterprises (the city's or
    /// one county's for the operator, its own for a county), by clause, 就高不重复 applied. Computed only when
    /// asked (a date in the query), since a big register takes a moment.
    func forecast(_ request: Request, _ context: ConsoleRequestContext) async throws -> Response {
        let (session, refused) = self.requireCountyOrOperator(context)
        if let refused { return refused }
        let asOfText: String? = request.uri.queryParameters.get("as_of").map { String($0) }
        let countyText: String = request.uri.queryParameters.get("county").map { String($0) } ?? ""
        let chosen = County(rawValue: countyText)
        var values: [String: Any] = [
            "asOf": asOfText ?? Self.dayText(self.now()),
            "isOperator": session.account.role == .operator,
            "scope": session.account.role == .operator
                ? (chosen?.chineseName ?? "全市") : (session.account.county?.chineseName ?? ""),
            "counties": County.allCases.map {
                ["value": $0.rawValue, "name": $0.chineseName, "selected": $0 == chosen]
            },
        ]
        guard let asOfText else { return self.page("预算测算", "forecast", values, session: session) }
        guard let asOf = CalendarDate(asOfText) else {
            return self.page(
                "预算测算", "forecast", values, session: session, status: .badRequest,
                error: "as_of: 日期应为 YYYY-MM-DD，收到 \(asOfText)")
        }
        var forecastRequest = Jiaxing_Benefits_V1_ForecastRegisterRequest()
        forecastRequest.asOf = Self.message(asOf)
        if session.account.role == .operator, let chosen { forecastRequest.county = chosen.message }
        do {
            let result: Jiaxing_Benefits_V1_ForecastResult = try await self.gateway.call(
                GatewayMethods.forecastRegister, forecastRequest, as: session.account)
            values["computed"] = true
            values["enterprises"] = "\(result.enterprises)"
            values["eligibleEnterprises"] = "\(result.eligibleEnterprises)"
            values["total"] = Money.chinese(result.totalFen)
            values["revision"] = String(result.catalogRevision.prefix(12))
            values["hasRefused"] = result.refused > 0
            values["refused"] = "\(result.refused)"
            values["clauses"] = result.clauses.map {
                [
                    "clauseID": $0.clauseID, "documentID": $0.documentID, "enterprises": "\($0.enterprises)",
                    "amount": Money.chinese($0.amountFen),
                ]
            }
            return self.page("预算测算", "forecast", values, session: session)
        } catch {
            return self.failure(error, session: session, back: "/console/forecast")
        }
    }

    /// The overview's paged lists: where each one is (`dead_page`, `breached_page`), from the query.
    static func overviewPages(_ request: Request) -> [String: String] {
        Self.queryValues(request, ["dead_page", "breached_page"])
    }

    /// Documents as people read them, by id: short title and number (《…》（嘉政发〔2023〕3号）).
    static func documentNames(_ list: Jiaxing_Benefits_V1_ListDocumentsResponse) -> [String: String] {
        Dictionary(
            list.documents.map { ($0.id, "《\(PolicyDocument.shortTitle($0.title))》（\($0.documentNumber)）") },
            uniquingKeysWith: { first, _ in first })
    }

    /// The newest campaigns the overview shows, with their progress; `mesh campaign list` shows them all.
    static let campaignsShown = 10

    /// A campaign as the operator reads it: what it pays (documents by name), how far it got, what it found.
    static func campaignRow(_ campaign: Jiaxing_Benefits_V1_CampaignResult, _ documentNames: [String: String])
        -> [String: Any]
    {
        let scope = County(message: campaign.request.county)?.chineseName ?? "全市"
        let what = (campaign.request.documentIds.map { documentNames[$0] ?? $0 } + campaign.request.clauseIds)
            .joined(separator: "、")
        let asOf = campaign.request.asOf
        return [
            "id": campaign.campaignID, "what": what, "scope": scope,
            "asOf": "\(asOf.year)-\(asOf.month)-\(asOf.day)",
            "state": campaign.state == .done ? "已完成" : "进行中", "running": campaign.state != .done,
            "startedBy": campaign.startedBy, "startedAt": Self.dateTime(campaign.startedAtMillis),
            "screened": "\(campaign.enterprises)", "proposed": "\(campaign.proposed)",
            "replayed": "\(campaign.replayed)", "refused": "\(campaign.refused)",
            "amount": Money.chinese(campaign.amountFen), "nearMisses": "\(campaign.nearMisses)",
            "resumed": campaign.resumedAfter > 0 ? "（中断后自第\(campaign.resumedAfter)家续跑）" : "",
        ]
    }

    /// Funds used and left, 兑付率 against each document's targets, every replica's health, dead letters.
    func overview(_ context: ConsoleRequestContext, pages: [String: String] = [:], flash: String? = nil)
        async throws -> Response
    {
        let (session, refused) = self.requireRole(.operator, context)
        if let refused { return refused }
        let account = session.account
        do {
            async let funds: Jiaxing_Benefits_V1_ListFundsResponse = self.gateway.call(
                GatewayMethods.listFunds, Jiaxing_Benefits_V1_ListFundsRequest(), as: account)
            async let rates: Jiaxing_Benefits_V1_PayoutRateResponse = self.gateway.call(
                GatewayMethods.getPayoutRates, Jiaxing_Benefits_V1_PayoutRateRequest(), as: account)
            var deadRequest = Jiaxing_Benefits_V1_ListDeliveriesRequest()
            deadRequest.status = .dead
            deadRequest.limit = Int32(Self.historyPerPage)
            deadRequest.pageToken = pages["dead_page"] ?? ""
            async let dead: Jiaxing_Benefits_V1_ListDeliveriesResponse = self.gateway.call(
                GatewayMethods.listDeliveries, deadRequest, as: account)
            var breachedRequest = Jiaxing_Benefits_V1_ListApplicationsRequest()
            breachedRequest.breachedOnly = true
            breachedRequest.limit = Int32(Self.historyPerPage)
            breachedRequest.pageToken = pages["breached_page"] ?? ""
            async let applications: Jiaxing_Benefits_V1_ListApplicationsResponse = self.gateway.call(
                GatewayMethods.listApplications, breachedRequest, as: account)
            var campaignsRequest = Jiaxing_Benefits_V1_ListCampaignsRequest()
            campaignsRequest.limit = Int32(Self.campaignsShown)
            async let campaigns: Jiaxing_Benefits_V1_ListCampaignsResponse = self.gateway.call(
                GatewayMethods.listCampaigns, campaignsRequest, as: account)
            async let documents: Jiaxing_Benefits_V1_ListDocumentsResponse = self.gateway.call(
                GatewayMethods.listDocuments, Jiaxing_Benefits_V1_ListDocumentsRequest(), as: account)
            async let replicas = self.services?.status() ?? []
            let (fundList, rateList, deadList, applicationList, replicaList) = try await (
                funds, rates, dead, applications, replicas
            )
            // Funds are read by the document's name and number; the account id stays beside it, small.
            let documentNames = Self.documentNames(try await documents)
            let tallies: [[String: Any]] = applicationList.tallies.map {
                [
                    "documentID": $0.documentID, "department": $0.department, "received": "\($0.received)",
                    "decidedAtOnce": "\($0.decidedAtOnce)",
                    "decidedInTime": "\($0.decidedInTime)", "breached": "\($0.breached)", "late": $0.breached > 0,
                    "pending": "\($0.pending)",
                ]
            }
            let breached: [[String: Any]] = applicationList.applications.map {
                [
                    "id": $0.id, "enterpriseName": $0.enterpriseName, "clauseID": $0.clauseID,
                    "dueOn": "\($0.dueOn.year)-\($0.dueOn.month)-\($0.dueOn.day)",
                    "departments": $0.responsibleDepartments.joined(separator: "、"),
                ]
            }
            let fundRows: [[String: Any]] = fundList.funds.map {
                [
                    "account": $0.account, "name": "\(documentNames[$0.documentID] ?? $0.documentID) \($0.year)年度",
                    "budget": Money.chinese($0.budgetFen), "posted": Money.chinese($0.postedFen),
                    "reserved": Money.chinese($0.reservedFen), "available": Money.chinese($0.availableFen),
                ]
            }
            // One bar a target: achieved share as the bar, the target as a red line; 300 px is 100%.
            let scale = 3.0
            let bars: [[String: Any]] = rateList.rates.enumerated().map { index, rate in
                let y = 10 + index * 26
                let achieved = min(Double(rate.achievedBasisPoints) / 100, 100)
                let target = Double(rate.targetBasisPoints) / 100
                return [
                    "label": "\(rate.documentID) 至 \(rate.by.year)-\(rate.by.month)-\(rate.by.day)",
                    "labelY": "\(y + 12)", "y": "\(y)",
                    "achievedWidth": String(format: "%.1f", achieved * scale),
                    "targetX": String(format: "%.1f", 220 + target * scale),
                    "targetTop": "\(y - 3)", "targetBottom": "\(y + 17)", "textX": "\(220 + Int(100 * scale) + 10)",
                    "achieved": Money.percent(basisPoints: Int(rate.achievedBasisPoints)),
                    "target": Money.percent(basisPoints: Int(rate.targetBasisPoints)),
                ]
            }
            let replicaRows: [[String: Any]] = replicaList.map {
                [
                    "service": $0.service, "endpoint": $0.endpoint, "serving": $0.serving, "status": $0.detail,
                    "outstanding": "\($0.outstanding)",
                ]
            }
            let deadRows: [[String: Any]] = deadList.deliveries.map {
                [
                    "noticeID": $0.noticeID, "endpoint": $0.endpoint, "attempts": "\($0.attempts)",
                    "lastError": $0.lastError,
                ]
            }
            return self.page(
                "运行总览", "overview",
                [
                    "funds": fundRows, "debits": Money.chinese(fundList.totalDebitsFen),
                    "credits": Money.chinese(fundList.totalCreditsFen),
                    "balanced": fundList.totalDebitsFen == fundList.totalCreditsFen,
                    "bars": bars, "chartWidth": "\(220 + Int(100 * scale) + 160)",
                    "chartHeight": "\(20 + bars.count * 26)",
                    "replicas": replicaRows, "dead": deadRows, "tallies": tallies, "breached": breached,
                    "hasBreached": !breached.isEmpty,
                    "campaigns": try await campaigns.campaigns.map { Self.campaignRow($0, documentNames) },
                ].merging(
                    Self.nextLinks(
                        "/console/overview", keeping: pages,
                        [
                            ("deadNext", "dead_page", deadList.nextPageToken),
                            ("breachedNext", "breached_page", applicationList.nextPageToken),
                        ]), uniquingKeysWith: { first, _ in first }), session: session, flash: flash)
        } catch {
            return self.failure(error, session: session, back: nil)
        }
    }

    func replay(_ context: ConsoleRequestContext) async throws -> Response {
        let (session, refused) = self.requireRole(.operator, context)
        if let refused { return refused }
        var request = Jiaxing_Benefits_V1_ReplayRequest()
        request.noticeID = context.parameters.get("id") ?? ""
        do {
            let delivery: Jiaxing_Benefits_V1_Delivery = try await self.gateway.call(
                GatewayMethods.replay, request, as: session.account)
            return try await self.overview(context, flash: "通知 \(delivery.noticeID) 已重新排队投递至 \(delivery.endpoint)。")
        } catch {
            return self.failure(error, session: session, back: "/console/overview")
        }
    }
}
