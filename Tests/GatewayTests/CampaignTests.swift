import BenefitsAPI
import BenefitsDomain
import Foundation
import GatewayStore
import MeshIdentity
import MeshMessages
import MeshRPC
import MeshTestSupport
import Testing

/// 免申即享 for the whole register: a campaign proposes what the trusted facts pay, once however often it runs,
/// and the department decides the orders in bulk, each one still audited.
@Suite("Campaigns")
struct CampaignTests {
    /// Six national green factories registered, three in 南湖区 and three in 海宁市, in credit-code order;
    /// 市经信局's list has the first five.
    static func greenFactories(_ mesh: GatewayTests.Mesh) async throws -> [Jiaxing_Benefits_V1_EnterpriseProfile] {
        let profiles = (1...6).map { index in
            GatewayTests.request(
                county: index <= 3 ? .nanhu : .haining,
                body: (index <= 3 ? "91330402MA2H0000" : "91330481MA2H0000") + "\(index)"
            ).profile
        }
        _ = try await mesh.store.register(profiles, registeringCounty: nil, at: 0)
        try await GatewayTests.attest(Array(profiles.dropLast()), mesh)
        return profiles
    }

    @Test(
        "a campaign pays the attested enterprises once, in scope; a department runs its own clauses only, then approves in bulk"
    )
    func campaign() async throws {
        try await GatewayTests.withMesh { mesh in
            let operatorClient = mesh.client("operator", .operator)
            let jingxin = mesh.client("jingxin", .department)
            let keji = mesh.client("keji", .department)
            defer { Task { for client in [operatorClient, jingxin, keji] { await client.close() } } }
            _ = try await Self.greenFactories(mesh)

            var request = Jiaxing_Benefits_V1_CampaignRequest()
            request.clauseIds = ["jzf-2023-3/3.19b"]
            request.asOf = CalendarDate("2023-09-01")!.message
            request.county = .nanhu
            let nanhu: Jiaxing_Benefits_V1_CampaignResult = try await operatorClient.unary(
                GatewayMethods.runCampaign, request)
            #expect(nanhu.enterprises == 3 && nanhu.proposed == 3 && nanhu.payableEnterprises == 3)
            #expect(nanhu.amountFen == 3 * 150_000_000)

            request.county = .unspecified
            let city: Jiaxing_Benefits_V1_CampaignResult = try await operatorClient.unary(
                GatewayMethods.runCampaign, request)
            #expect(city.enterprises == 6)
            #expect(city.proposed == 2 && city.replayed == 3, "the unattested sixth is not paid; nothing twice")
            #expect(city.clauses.map(\.clauseID) == ["jzf-2023-3/3.19b"])
            #expect(try await mesh.ledger.orders(.init(limit: 100)).count == 5)

            // 市科技局 does not decide 3.19b: its campaign proposes nothing; 市经信局's proposes nothing new.
            let notTheirs: Jiaxing_Benefits_V1_CampaignResult = try await keji.unary(
                GatewayMethods.runCampaign, request)
            #expect(notTheirs.proposed == 0 && notTheirs.replayed == 0)
            let again: Jiaxing_Benefits_V1_CampaignResult = try await jingxin.unary(
                GatewayMethods.runCampaign, request)
            #expect(again.proposed == 0 && again.replayed == 5)

            // Bulk decisions: a rejection needs its reason; 市经信局 approves 南湖区's with one call.
            var decide = Jiaxing_Benefits_V1_DecideOrdersRequest()
            decide.clauseID = "jzf-2023-3/3.19b"
            decide.county = .nanhu
            let noReason = await #expect(throws: RPCError.self) {
                let _: Jiaxing_Benefits_V1_DecideOrdersResult = try await jingxin.unary(
                    GatewayMethods.decideOrders, decide)
            }
            #expect(noReason?.code == .invalidArgument && noReason?.message.hasPrefix("reason:") == true)
            decide.approve = true
            // Only what the officer could have seen: nothing proposed after the moment given is decided (the
            // console sends the moment it read the queue), and a moment after the call's arrival is refused.
            let proposedAt = try await mesh.ledger.orders(.init(limit: 100)).map(\.createdAtMillis)
            decide.asOfMillis = try #require(proposedAt.min()) - 1
            let beforeAll: Jiaxing_Benefits_V1_DecideOrdersResult = try await jingxin.unary(
                GatewayMethods.decideOrders, decide)
            #expect(beforeAll.decided == 0 && beforeAll.failed == 0)
            #expect(try await mesh.ledger.orders(.init(status: .pending, limit: 100)).count == 5)
            decide.asOfMillis = Int64(Date().timeIntervalSince1970 * 1000) + 3_600_000
            let future = await #expect(throws: RPCError.self) {
                let _: Jiaxing_Benefits_V1_DecideOrdersResult = try await jingxin.unary(
                    GatewayMethods.decideOrders, decide)
            }
            #expect(future?.code == .invalidArgument && future?.message.hasPrefix("as_of_millis:") == true)
            decide.asOfMillis = try #require(proposedAt.max())
            let approved: Jiaxing_Benefits_V1_DecideOrdersResult = try await jingxin.unary(
                GatewayMethods.decideOrders, decide)
            #expect(approved.decided == 3 && approved.failed == 0 && approved.amountFen == 3 * 150_000_000)
            let posted = try await mesh.ledger.orders(.init(status: .posted, limit: 100))
            #expect(posted.count == 3 && posted.allSatisfy { $0.decidedBy == "department/jingxin" })
            // 南湖区's campaign stage by stage: its three screened, proposed, decided and posted.
            var ask = Jiaxing_Benefits_V1_GetCampaignRequest()
            ask.campaignID = nanhu.campaignID
            let status: Jiaxing_Benefits_V1_CampaignStatus = try await operatorClient.unary(
                GatewayMethods.getCampaign, ask)
            #expect(status.stages.map(\.stage) == [.screened, .proposed, .decided, .posted, .notified])
            #expect(status.stages.map(\.done).prefix(4) == [3, 3, 3, 3])
            #expect(status.stages.map(\.total).prefix(4) == [3, 3, 3, 3])
            #expect(status.stages[4].total == 3 && status.postedFen == 3 * 150_000_000)
            #expect(status.stages[0].secondsLeft == 0)
            // Its report: 南湖区's three of 3.19b promised and paid in full.
            #expect(status.shares.count == 1)
            #expect(status.shares.first?.county == .nanhu && status.shares.first?.clauseID == "jzf-2023-3/3.19b")
            #expect(status.shares.first?.orders == 3 && status.shares.first?.posted == 3)
            #expect(status.shares.first?.promisedFen == 450_000_000 && status.shares.first?.paidFen == 450_000_000)
            #expect(status.rates.allSatisfy { $0.documentID == "jzf-2023-3" })
            #expect(status.stages[4].done == 0, "no consumer has recorded a notice yet")
            // Notification's group takes every event (an enterprise's in order) and acknowledges it: the three
            // posted orders count as notified.
            for _ in 0..<5 {
                let events = try await mesh.ledger.outbox.lease(
                    group: "notification", consumer: "test", maximumInFlight: 1_000, leaseMillis: 30_000)
                guard !events.isEmpty else { break }
                _ = try await mesh.ledger.outbox.acknowledge(group: "notification", sequences: events.map(\.sequence))
            }
            let notified: Jiaxing_Benefits_V1_CampaignStatus = try await operatorClient.unary(
                GatewayMethods.getCampaign, ask)
            #expect(notified.stages[4].done == 3 && notified.stages[4].secondsLeft == 0)
            // The county of a city-wide campaign reads its own share, and no document's targets.
            var askCity = Jiaxing_Benefits_V1_GetCampaignRequest()
            askCity.campaignID = city.campaignID
            let haining = mesh.client("haining", .county)
            defer { Task { await haining.close() } }
            let hainingView: Jiaxing_Benefits_V1_CampaignStatus = try await haining.unary(
                GatewayMethods.getCampaign, askCity)
            #expect(hainingView.shares.map(\.county) == [.haining] && hainingView.rates.isEmpty)
            let operatorView: Jiaxing_Benefits_V1_CampaignStatus = try await operatorClient.unary(
                GatewayMethods.getCampaign, askCity)
            #expect(operatorView.shares.count == 1, "the city's campaign made 海宁市's two orders only")
            // A list of orders longer than the call's limit is refused, naming both.
            var tooMany = Jiaxing_Benefits_V1_DecideOrdersRequest()
            tooMany.orderIds = ["a", "b", "c"]
            tooMany.limit = 2
            tooMany.approve = true
            let overLimit = await #expect(throws: RPCError.self) {
                let _: Jiaxing_Benefits_V1_DecideOrdersResult = try await jingxin.unary(
                    GatewayMethods.decideOrders, tooMany)
            }
            #expect(overLimit?.message == "order_ids: at most limit (2; 1 to 10000) orders a call, got 3")
            // A campaign jingxin did not start does not exist for it.
            let hidden = await #expect(throws: RPCError.self) {
                let _: Jiaxing_Benefits_V1_CampaignStatus = try await jingxin.unary(GatewayMethods.getCampaign, ask)
            }
            #expect(hidden?.code == .notFound)

            // 市科技局 cannot decide 市经信局's orders, in bulk or otherwise.
            decide.county = .haining
            let wrong: Jiaxing_Benefits_V1_DecideOrdersResult = try await keji.unary(
                GatewayMethods.decideOrders, decide)
            #expect(wrong.decided == 0)
            // The city's campaign's own orders (海宁市's two) by its id, one rejected at a time with a reason.
            var byCampaign = Jiaxing_Benefits_V1_DecideOrdersRequest()
            byCampaign.campaignID = city.campaignID
            byCampaign.reason = "名单复核中"
            byCampaign.limit = 1
            let first: Jiaxing_Benefits_V1_DecideOrdersResult = try await jingxin.unary(
                GatewayMethods.decideOrders, byCampaign)
            #expect(first.decided == 1 && first.amountFen == 150_000_000)
            byCampaign.limit = 0
            let rest: Jiaxing_Benefits_V1_DecideOrdersResult = try await jingxin.unary(
                GatewayMethods.decideOrders, byCampaign)
            #expect(rest.decided == 1, "the one left of two")
            let rejected = try await mesh.ledger.orders(.init(status: .rejected, limit: 100))
            #expect(
                rejected.count == 2 && rejected.allSatisfy { $0.reason == "名单复核中" && $0.campaignID == city.campaignID })
            let entries = mesh.audit.entries()
            #expect(entries.filter { $0["method"] == "DecideOrders" && $0["outcome"] == "posted" }.count == 3)
            #expect(entries.filter { $0["method"] == "DecideOrders" && $0["outcome"] == "rejected" }.count == 2)
            #expect(entries.contains { $0["method"] == "RunCampaign" && $0["caller"] == "operator/operator" })
            // A county may not run a campaign.
            let county = mesh.client("nanhu", .county)
            defer { Task { await county.close() } }
            let refused = await #expect(throws: RPCError.self) {
                let _: Jiaxing_Benefits_V1_CampaignResult = try await county.unary(GatewayMethods.runCampaign, request)
            }
            #expect(refused?.code == .permissionDenied)
            #expect(try await mesh.ledger.reconcile() == [])
        }
    }

    @Test("a campaign counts the enterprises it nearly pays and lists them with what they lack, in numbers")
    func nearMisses() async throws {
        try await GatewayTests.withMesh { mesh in
            let operatorClient = mesh.client("operator", .operator)
            defer { Task { await operatorClient.close() } }
            // Two enterprises filing R&D figures with 市科技局: one meets 2.12, one grew 12% where 15% is asked.
            func profile(_ body: String, growth: Int64) -> Jiaxing_Benefits_V1_EnterpriseProfile {
                var profile = GatewayTests.request(county: .nanhu, body: body).profile
                profile.recognitions = []
                profile.facts = [
                    ("rdExpense", 500_000_000), ("rdExpenseGrowth", growth), ("rdIntensity", 400),
                    ("rdExpenseIncrease", 53_600_000),
                ].map { fact, amount in
                    var record = Jiaxing_Benefits_V1_FactRecord()
                    record.fact = fact
                    record.year = 2022
                    record.amount = amount
                    return record
                }
                return profile
            }
            let profiles = [profile("91330402MA2N00001", growth: 1_600), profile("91330402MA2N00002", growth: 1_200)]
            _ = try await mesh.store.register(profiles, registeringCounty: nil, at: 0)
            try await GatewayTests.attest(profiles, mesh)
            var request = Jiaxing_Benefits_V1_CampaignRequest()
            request.clauseIds = ["jzf-2023-3/2.12"]
            request.asOf = CalendarDate("2023-09-01")!.message
            let result: Jiaxing_Benefits_V1_CampaignResult = try await operatorClient.unary(
                GatewayMethods.runCampaign, request)
            #expect(result.enterprises == 2 && result.proposed == 1)
            #expect(result.nearMisses == 1)
            #expect(result.clauses.first { $0.clauseID == "jzf-2023-3/2.12" }?.nearMisses == 1)
            let nearMiss = try #require(result.firstNearMisses.first)
            #expect(nearMiss.creditCode == profiles[1].creditCode)
            #expect(nearMiss.missing.contains { $0.contains("现为12%, 差3%") }, "\(nearMiss.missing)")

            // Kept with the campaign: its county reads them, another county sees none of them.
            var list = Jiaxing_Benefits_V1_ListCampaignNearMissesRequest()
            list.campaignID = result.campaignID
            let nanhu = mesh.client("nanhu", .county)
            let haining = mesh.client("haining", .county)
            defer { Task { for client in [nanhu, haining] { await client.close() } } }
            let own: Jiaxing_Benefits_V1_ListCampaignNearMissesResponse = try await nanhu.unary(
                GatewayMethods.listCampaignNearMisses, list)
            #expect(own.nearMisses.map(\.creditCode) == [profiles[1].creditCode])
            let other: Jiaxing_Benefits_V1_ListCampaignNearMissesResponse = try await haining.unary(
                GatewayMethods.listCampaignNearMisses, list)
            #expect(other.nearMisses.isEmpty)
            list.county = .nanhu
            let foreign = await #expect(throws: RPCError.self) {
                let _: Jiaxing_Benefits_V1_ListCampaignNearMissesResponse = try await haining.unary(
                    GatewayMethods.listCampaignNearMisses, list)
            }
            #expect(foreign?.code == .permissionDenied)
            list.county = .unspecified
            list.limit = Int32(GatewayStore.maximumNearMissesPerPage + 1)
            let oversized = await #expect(throws: RPCError.self) {
                let _: Jiaxing_Benefits_V1_ListCampaignNearMissesResponse = try await operatorClient.unary(
                    GatewayMethods.listCampaignNearMisses, list)
            }
            #expect(oversized?.message == "limit: 1 to 1000 near misses a page, got 1001")
        }
    }

    @Test(
        "a campaign interrupted midway resumes after its last recorded page; one still running is not started twice"
    )
    func resumes() async throws {
        try await GatewayTests.withMesh { mesh in
            let operatorClient = mesh.client("operator", .operator)
            let jingxin = mesh.client("jingxin", .department)
            defer { Task { for client in [operatorClient, jingxin] { await client.close() } } }
            let profiles = try await Self.greenFactories(mesh)
            var request = Jiaxing_Benefits_V1_CampaignRequest()
            request.clauseIds = ["jzf-2023-3/3.19b"]
            request.asOf = CalendarDate("2023-09-01")!.message
            let id = GatewayStore.campaignID(for: request, startedBy: "operator/operator")
            let now = Int64(Date().timeIntervalSince1970 * 1000)

            // A run at work (it wrote just now): a second start is refused, naming the campaign.
            guard
                case .fresh(var running, let run) = try await mesh.store.startCampaign(
                    id: id, request: request, startedBy: "operator/operator", at: now)
            else { throw CampaignTestError("a new campaign did not start fresh") }
            let twice = await #expect(throws: RPCError.self) {
                let _: Jiaxing_Benefits_V1_CampaignResult = try await operatorClient.unary(
                    GatewayMethods.runCampaign, request)
            }
            #expect(twice?.code == .aborted && twice?.message.contains("\(id) is running") == true)

            // The run died after recording 南湖区's three (its page said so two minutes ago): the next call
            // resumes after them, screening 海宁市's only.
            running.enterprises = 3
            let cursor = profiles[2].creditCode
            try await mesh.store.recordCampaignPage(
                running, run: run, cursor: cursor, nearMisses: [], at: now - 120_000)
            let resumed: Jiaxing_Benefits_V1_CampaignResult = try await operatorClient.unary(
                GatewayMethods.runCampaign, request)
            #expect(resumed.campaignID == id && resumed.state == .done)
            #expect(resumed.resumedAfter == 3 && resumed.enterprises == 6 && resumed.proposed == 2)
            let orders = try await mesh.ledger.orders(.init(limit: 100))
            #expect(Set(orders.map(\.creditCode)) == Set(profiles[3...4].map(\.creditCode)), "南湖区 screened again")
            // The run that lost the campaign cannot record a page over the one that took it over.
            await #expect(throws: CampaignLeaseLost.self) {
                try await mesh.store.recordCampaignPage(running, run: run, cursor: "", nearMisses: [], at: now)
            }

            // Listed for the operator with its progress; not for a department that did not start it.
            let listed: Jiaxing_Benefits_V1_ListCampaignsResponse = try await operatorClient.unary(
                GatewayMethods.listCampaigns, Jiaxing_Benefits_V1_ListCampaignsRequest())
            #expect(listed.campaigns.map(\.campaignID) == [id])
            #expect(listed.campaigns.first?.enterprises == 6 && listed.campaigns.first?.resumedAfter == 3)
            let notTheirs: Jiaxing_Benefits_V1_ListCampaignsResponse = try await jingxin.unary(
                GatewayMethods.listCampaigns, Jiaxing_Benefits_V1_ListCampaignsRequest())
            #expect(notTheirs.campaigns.isEmpty)
            // A county sees the city's campaigns (they take it in); an oversized page is refused, naming the limit.
            let haining = mesh.client("haining", .county)
            defer { Task { await haining.close() } }
            let county: Jiaxing_Benefits_V1_ListCampaignsResponse = try await haining.unary(
                GatewayMethods.listCampaigns, Jiaxing_Benefits_V1_ListCampaignsRequest())
            #expect(county.campaigns.map(\.campaignID) == [id])
            var oversized = Jiaxing_Benefits_V1_ListCampaignsRequest()
            oversized.limit = Int32(GatewayStore.maximumCampaignsPerPage + 1)
            let refused = await #expect(throws: RPCError.self) {
                let _: Jiaxing_Benefits_V1_ListCampaignsResponse = try await operatorClient.unary(
                    GatewayMethods.listCampaigns, oversized)
            }
            #expect(refused?.message == "limit: 1 to 200 campaigns a page, got 201")
            // jingxin may not read the operator's near misses: to it the campaign does not exist.
            var nearMisses = Jiaxing_Benefits_V1_ListCampaignNearMissesRequest()
            nearMisses.campaignID = id
            let hidden = await #expect(throws: RPCError.self) {
                let _: Jiaxing_Benefits_V1_ListCampaignNearMissesResponse = try await jingxin.unary(
                    GatewayMethods.listCampaignNearMisses, nearMisses)
            }
            #expect(hidden?.code == .notFound)

            // Done, run again: it starts over and pays only what is new (南湖区's three).
            let again: Jiaxing_Benefits_V1_CampaignResult = try await operatorClient.unary(
                GatewayMethods.runCampaign, request)
            #expect(again.resumedAfter == 0 && again.enterprises == 6 && again.proposed == 3 && again.replayed == 2)
            #expect(try await mesh.ledger.reconcile() == [])
        }
    }
}

struct CampaignTestError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
