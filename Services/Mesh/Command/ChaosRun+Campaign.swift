import BenefitsAPI
import BenefitsDomain
import Foundation
import MeshMessages
import MeshRPC

extension ChaosRun {
    /// 免申即享 at scale, the way the city runs it: each county registers its enterprises (a thousand a call),
    /// the operator runs one campaign over the whole register, 市经信局 approves the campaign's orders in bulk.
    /// Every call is retried through the kills; a campaign whose gateway died resumes where its last page
    /// ended. The orders are then read back for the invariants, as the one-at-a-time run records them.
    func runCampaign() async throws {
        // Each county registers its own (index ≡ county's place mod the counties), a thousand a call, made as
        // they are sent: a register of a million is not held in memory.
        let registerStarted = ContinuousClock.now
        for (place, county) in Self.counties.enumerated() {
            let client = try self.client(county.partyName)
            let indices = Array(stride(from: place, to: self.register, by: Self.counties.count))
            for chunk in indices.chunks(of: 1000) {
                var request = Jiaxing_Benefits_V1_RegisterEnterprisesRequest()
                request.profiles = chunk.map(self.profile)
                let _: Jiaxing_Benefits_V1_RegisterEnterprisesResponse = try await self.retrying {
                    try await client.unary(
                        GatewayMethods.registerEnterprises, request, options: CallOptions(timeout: .seconds(60)))
                }
            }
        }
        print(
            "registered: \(self.register) enterprises (\(self.payouts) payable) in \(Self.seconds(since: registerStarted)) s"
        )

        let operatorClient = try self.client("operator")
        var campaign = Jiaxing_Benefits_V1_CampaignRequest()
        campaign.clauseIds = ["jzf-2023-3/3.19b"]
        campaign.asOf = Self.asOf.message
        let campaignStarted = ContinuousClock.now
        let result: Jiaxing_Benefits_V1_CampaignResult = try await self.retrying {
            try await operatorClient.unary(
                GatewayMethods.runCampaign, campaign, options: CallOptions(timeout: .seconds(3600)))
        }
        print(
            "campaign: \(result.enterprises) enterprises screened in \(Self.seconds(since: campaignStarted)) s, \(result.proposed) proposed, \(result.replayed) replayed, \(result.refused) refused\(result.resumedAfter > 0 ? ", resumed after \(result.resumedAfter)" : "")"
        )
        self.completed.withLockedValue { $0 = self.payouts / 2 }

        let jingxin = try self.client(Department.jingxin.partyName)
        var decide = Jiaxing_Benefits_V1_DecideOrdersRequest()
        decide.clauseID = "jzf-2023-3/3.19b"
        decide.approve = true
        decide.limit = 10_000
        let decideStarted = ContinuousClock.now
        var decided: Int64 = 0
        while ContinuousClock.now - decideStarted < Self.retryWindow * 10 {
            let round: Jiaxing_Benefits_V1_DecideOrdersResult = try await self.retrying {
                try await jingxin.unary(
                    GatewayMethods.decideOrders, decide, options: CallOptions(timeout: .seconds(600)))
            }
            decided += round.decided
            if round.decided == 0 && round.failed == 0 { break }
            if round.decided == 0 { try await Task.sleep(for: .seconds(1)) }
        }
        print("approved in bulk: \(decided) orders in \(Self.seconds(since: decideStarted)) s")

        // The run's orders, as the invariants expect them: every one of its enterprises, read back.
        var list = Jiaxing_Benefits_V1_ListOrdersRequest()
        list.department = Department.jingxin.partyName
        list.limit = 250
        var orders: [String: Jiaxing_Benefits_V1_PayoutOrder] = [:]
        repeat {
            let page: Jiaxing_Benefits_V1_ListOrdersResponse = try await self.retrying {
                try await jingxin.unary(GatewayMethods.listOrders, list, options: CallOptions(timeout: .seconds(30)))
            }
            for order in page.orders where self.isOfThisRun(order.creditCode) { orders[order.id] = order }
            list.pageToken = page.nextPageToken
        } while !list.pageToken.isEmpty
        self.accepted.withLockedValue { $0 = orders }
        let unpaid = orders.values.filter { $0.status != .posted }.count
        if orders.count != self.payouts || unpaid > 0 {
            self.errors.withLockedValue {
                $0.append(
                    "the campaign left \(self.payouts - orders.count) enterprises without an order, \(unpaid) orders unposted"
                )
            }
        }
        self.completed.withLockedValue { $0 = self.payouts }
    }

    /// The campaign's progress as the gateway records it, page by page, read into `completed` (the campaign
    /// is the first half of the run, the approvals the second), so the killer's schedule falls inside it.
    func followCampaign() async throws {
        let operatorClient = try self.client("operator")
        var request = Jiaxing_Benefits_V1_ListCampaignsRequest()
        request.limit = 1
        while self.completed.withLockedValue({ $0 }) < self.payouts / 2 {
            try await Task.sleep(for: .milliseconds(500))
            guard
                let latest = try? await operatorClient.unary(
                    GatewayMethods.listCampaigns, request, options: CallOptions(timeout: .seconds(5)))
                    as Jiaxing_Benefits_V1_ListCampaignsResponse,
                let campaign = latest.campaigns.first, campaign.state == .running
            else { continue }
            // Screened in the register's order: the share screened, as payouts.
            let screened = Int(
                min(campaign.enterprises * Int64(self.payouts) / Int64(self.register), Int64(self.payouts)))
            self.completed.withLockedValue { $0 = max($0, min(screened / 2, self.payouts / 2 - 1)) }
        }
    }

    /// Whether a credit code is one of this run's (its characters 9–10 are the run's mark).
    func isOfThisRun(_ creditCode: String) -> Bool {
        let characters = Array(creditCode)
        return characters.count == 18 && String(characters[8..<10]) == self.codeMark
    }

    static func seconds(since start: ContinuousClock.Instant) -> Int {
        Int((ContinuousClock.now - start).components.seconds)
    }
}
