import BenefitsAPI
import BenefitsDomain
import Foundation
import MeshIdentity
import MeshMessages
import MeshRPC
import MeshTestSupport
import Testing

/// Verify, don't trust: a payout proposed through the gateway is what a screening of the enterprise's
/// trusted profile (registered identity, attested records) decides, never the county's word.
@Suite("Derived proposals")
struct DerivedProposalTests {
    static func proposal(
        _ clause: String, creditCode: String, county: Jiaxing_Benefits_V1_County = .nanhu, amount: Int64,
        subject: String = ""
    ) -> Jiaxing_Benefits_V1_ProposePayoutRequest {
        var request = Jiaxing_Benefits_V1_ProposePayoutRequest()
        request.creditCode = creditCode
        request.enterpriseName = "县里写的名字"
        request.county = county
        request.clauseID = clause
        request.subject = subject
        request.period = 2023
        request.asOf = CalendarDate("2023-09-01")!.message
        request.amountFen = amount
        request.explanation = "县里写的说明"
        return request
    }

    @Test(
        "the county's word is not the amount: another clause, amount or subject, a fund-draining clause, refused",
        arguments: TestStore.allCases)
    func derived(store: TestStore) async throws {
        try await GatewayTests.withMesh(store: store) { mesh in
            let nanhu = mesh.client("nanhu", .county)
            defer { Task { await nanhu.close() } }
            // A national green factory, registered by its county: 150万元 under 3号 三、19.
            let profile = GatewayTests.request(county: .nanhu).profile
            var register = Jiaxing_Benefits_V1_RegisterEnterprisesRequest()
            register.profiles = [profile]
            let _: Jiaxing_Benefits_V1_RegisterEnterprisesResponse = try await nanhu.unary(
                GatewayMethods.registerEnterprises, register)
            func propose(_ request: Jiaxing_Benefits_V1_ProposePayoutRequest) async throws
                -> Jiaxing_Benefits_V1_PayoutOrder
            {
                try await nanhu.unary(GatewayMethods.proposePayout, request)
            }
            func refusal(_ request: Jiaxing_Benefits_V1_ProposePayoutRequest) async -> RPCError? {
                await #expect(throws: RPCError.self) { _ = try await propose(request) }
            }

            // The county's own record of the recognition is its word only: nothing is paid on it.
            let unattested = await refusal(
                Self.proposal("jzf-2023-3/3.19b", creditCode: profile.creditCode, amount: 150_000_000))
            #expect(unattested?.code == .failedPrecondition)
            #expect(unattested?.message.contains("attested") == true, "\(unattested?.message ?? "")")
            // 市经信局 publishes its list with the enterprise on it.
            try await GatewayTests.attest([profile], mesh)

            // The rightful proposal: the amount, subject, name and explanation are the decision's.
            let order = try await propose(Self.proposal("jzf-2023-3/3.19b", creditCode: profile.creditCode, amount: 0))
            #expect(order.amountFen == 150_000_000)
            #expect(order.status == .pending)
            #expect(order.subject == "jzf-2023-3/3.19b")
            #expect(order.enterpriseName == profile.name)
            #expect(!order.explanation.contains("县里写的说明"))

            // The same recognition under another subject: the subject is the decision's, so it is the same order.
            let again = try await propose(
                Self.proposal(
                    "jzf-2023-3/3.19b", creditCode: profile.creditCode, amount: 150_000_000, subject: "second"))
            #expect(again.id == order.id)
            #expect(again.replayed)

            // Under a year the county writes: the year is the recognition's, so it is the same order.
            var anyYear = Self.proposal("jzf-2023-3/3.19b", creditCode: profile.creditCode, amount: 0)
            anyYear.period = 2099
            let written = try await propose(anyYear)
            #expect(written.id == order.id, "\(written.period) \(written.subject)")

            // An item named for a clause paid per enterprise: refused, naming the field.
            var withItem = Self.proposal("jzf-2023-3/3.19b", creditCode: profile.creditCode, amount: 0)
            withItem.item = "浙经信〔2023〕45号#17"
            let notPerItem = await refusal(withItem)
            #expect(notPerItem?.code == .failedPrecondition)
            #expect(notPerItem?.message.hasPrefix("item: ") == true, "\(notPerItem?.message ?? "")")

            // A clause the facts do not give: the single-champion award for a green factory.
            let champion = await refusal(
                Self.proposal("jzf-2023-3/3.21a", creditCode: profile.creditCode, amount: 300_000_000))
            #expect(champion?.code == .failedPrecondition)
            #expect(champion?.message.contains("does not pay") == true, "\(champion?.message ?? "")")
            // More than the decision, named with both amounts.
            let more = await refusal(
                Self.proposal("jzf-2023-3/3.19b", creditCode: profile.creditCode, amount: 300_000_000))
            #expect(more?.message.contains("300万元 proposed") == true && more?.message.contains("150万元") == true)
            // A clause decided on application, with no cap per order, against a fund that exists: refused
            // because the clause does not pay without an application, and not a fen of the fund reserved.
            _ = try await mesh.ledger.openFund(documentID: "jzbf-2023-36", year: 2023, budgetFen: 1_000_000_000)
            let drain = await refusal(
                Self.proposal("jzbf-2023-36/2.1b", creditCode: profile.creditCode, amount: 999_997_000))
            #expect(drain?.code == .failedPrecondition)
            #expect(drain?.message.contains("does not pay") == true, "\(drain?.message ?? "")")
            let fund = try #require(try await mesh.ledger.funds().funds.first { $0.documentID == "jzbf-2023-36" })
            #expect(fund.reservedFen == 0 && fund.availableFen == 1_000_000_000)
            // Squatting a credit code nobody registered: refused, so the rightful county's proposal stays free.
            let stranger = CreditCode.completing("91330481MA2B00077")!.value
            let squat = await refusal(Self.proposal("jzf-2023-3/3.19b", creditCode: stranger, amount: 1))
            #expect(squat?.message.contains("not registered") == true, "\(squat?.message ?? "")")
            // 海宁市 registers its enterprise, 市经信局 lists it, and its 150万元 goes through.
            let haining = mesh.client("haining", .county)
            defer { Task { await haining.close() } }
            let rightful = GatewayTests.request(county: .haining, body: "91330481MA2B00077").profile
            var registerRightful = Jiaxing_Benefits_V1_RegisterEnterprisesRequest()
            registerRightful.profiles = [rightful]
            let _: Jiaxing_Benefits_V1_RegisterEnterprisesResponse = try await haining.unary(
                GatewayMethods.registerEnterprises, registerRightful)
            try await GatewayTests.attest([rightful], mesh)
            let paid: Jiaxing_Benefits_V1_PayoutOrder = try await haining.unary(
                GatewayMethods.proposePayout,
                Self.proposal("jzf-2023-3/3.19b", creditCode: stranger, county: .haining, amount: 0))
            #expect(paid.amountFen == 150_000_000 && paid.status == .pending && paid.county == .haining)

            // One order in the ledger, every refusal audited, the books balanced.
            let orders = try await mesh.ledger.orders(.init(creditCode: profile.creditCode))
            #expect(orders.map(\.id) == [order.id])
            #expect(try await mesh.ledger.orders(.init(creditCode: stranger)).map(\.id) == [paid.id])
            let refused = mesh.audit.entries().filter {
                $0["method"] == "ProposePayout" && $0["outcome"] == "refused" && $0["caller"] == "county/nanhu"
            }
            #expect(refused.count == 6)  // each refusal above, audited
            #expect(try await mesh.ledger.reconcile() == [])
        }
    }

    @Test(
        "a recognition is paid once: proposed again a year later, or by a campaign the next year, the same order",
        arguments: TestStore.allCases)
    func onceAcrossYears(store: TestStore) async throws {
        try await GatewayTests.withMesh(store: store) { mesh in
            _ = try await mesh.ledger.openFund(documentID: "jzbf-2023-32", year: 2024, budgetFen: 10_000_000_000)
            let nanhu = mesh.client("nanhu", .county)
            defer { Task { await nanhu.close() } }
            // A single champion newly recognised in 2023: 32号 四、1. pays 300万元 once.
            let profile = GatewayTests.request(county: .nanhu, recognition: "singleChampion").profile
            var register = Jiaxing_Benefits_V1_RegisterEnterprisesRequest()
            register.profiles = [profile]
            let _: Jiaxing_Benefits_V1_RegisterEnterprisesResponse = try await nanhu.unary(
                GatewayMethods.registerEnterprises, register)
            try await GatewayTests.attest([profile], mesh)
            func propose(asOf: String, period: Int32) async throws -> Jiaxing_Benefits_V1_PayoutOrder {
                var request = Self.proposal("jzbf-2023-32/4.1a", creditCode: profile.creditCode, amount: 0)
                request.asOf = CalendarDate(asOf)!.message
                request.period = period
                return try await nanhu.unary(GatewayMethods.proposePayout, request)
            }
            let first = try await propose(asOf: "2023-12-31", period: 2023)
            #expect(first.amountFen == 300_000_000)
            #expect(first.period == 2023)
            let later = try await propose(asOf: "2024-06-30", period: 2024)
            #expect(later.id == first.id, "a second order: \(later.period) \(later.subject)")
            #expect(later.replayed)
            // The operator's campaign of 2025 finds the same recognition and proposes nothing new.
            let operatorClient = mesh.client("operator", .operator)
            defer { Task { await operatorClient.close() } }
            var campaign = Jiaxing_Benefits_V1_CampaignRequest()
            campaign.clauseIds = ["jzbf-2023-32/4.1a"]
            campaign.asOf = CalendarDate("2025-03-31")!.message
            let result: Jiaxing_Benefits_V1_CampaignResult = try await operatorClient.unary(
                GatewayMethods.runCampaign, campaign)
            #expect(result.proposed == 0 && result.replayed == 1, "\(result.firstRefusals)")
            let orders = try await mesh.ledger.orders(.init(creditCode: profile.creditCode))
            #expect(orders.map(\.id) == [first.id])
            #expect(try await mesh.ledger.reconcile() == [])
        }
    }
}
