import BenefitsAPI
import BenefitsDomain
import MeshMessages
import MeshRPC

extension GatewayHandlers {
    /// A campaign stage by stage: what the gateway recorded of its screening and proposals, and what the
    /// ledger holds of the orders it made (decided, posted, their notices recorded). Readable by whoever may
    /// list the campaign; to anyone else it does not exist.
    func campaignStatus(_ request: Jiaxing_Benefits_V1_GetCampaignRequest, _ caller: Caller) async throws
        -> Jiaxing_Benefits_V1_CampaignStatus
    {
        let notFound = RPCError(.notFound, "campaign_id: no campaign '\(request.campaignID)'")
        guard !request.campaignID.isEmpty else {
            throw RPCError(.invalidArgument, "campaign_id: required")
        }
        guard let campaign = try await self.store.campaign(id: request.campaignID) else { throw notFound }
        switch caller.role {
        case .operator: break
        case .county:
            guard let own = caller.county,
                campaign.request.county == .unspecified || campaign.request.county == own.message
            else { throw notFound }
        default:
            guard campaign.startedBy == caller.description else { throw notFound }
        }
        var status = try await self.status(of: campaign, withRates: caller.role != .county)
        // A county reads its own share of a city-wide campaign, as it reads its own near misses only.
        if caller.role == .county, let own = caller.county?.message {
            status.shares = status.shares.filter { $0.county == own }
        }
        return status
    }

    /// A campaign's stages and report, whoever asks (the caller is checked before); with `withRates`, the
    /// payout-rate targets of its documents too.
    func status(of recorded: Jiaxing_Benefits_V1_CampaignResult, withRates: Bool = true) async throws
        -> Jiaxing_Benefits_V1_CampaignStatus
    {
        var campaign = recorded
        campaign.firstNearMisses = []
        var ask = Jiaxing_Benefits_V1_CampaignProgressRequest()
        ask.campaignID = campaign.campaignID
        let ledger: Jiaxing_Benefits_V1_CampaignProgress = try await self.services.disbursement.call(
            idempotent: true
        ) { client in
            try await client.unary(DisbursementMethods.getCampaignProgress, ask, options: CallOptions())
        }
        let register = try await self.store.registeredCount(county: County(message: campaign.request.county))
        var status = Jiaxing_Benefits_V1_CampaignStatus()
        status.stages = Self.stages(of: campaign, ledger: ledger, register: register, now: Self.nowMillis())
        status.campaign = campaign
        status.postedFen = ledger.postedFen
        status.shares = ledger.shares
        // The 兑付率 targets of the documents the campaign's orders draw on.
        let documents = Set(ledger.shares.map(\.documentID))
        if withRates, !documents.isEmpty {
            let rates: Jiaxing_Benefits_V1_PayoutRateResponse = try await self.services.disbursement.call(
                idempotent: true
            ) { client in
                try await client.unary(
                    DisbursementMethods.getPayoutRates, Jiaxing_Benefits_V1_PayoutRateRequest(), options: CallOptions())
            }
            status.rates = rates.rates.filter { documents.contains($0.documentID) }
        }
        return status
    }

    /// How long after the last decision the deciding stages still estimate the time left.
    static let decidingIdleMillis: Int64 = 60_000

    /// The five stages of a campaign: done, out of what, at what rate and how long the rest takes at it.
    static func stages(
        of campaign: Jiaxing_Benefits_V1_CampaignResult, ledger: Jiaxing_Benefits_V1_CampaignProgress,
        register: Int64, now: Int64
    ) -> [Jiaxing_Benefits_V1_CampaignStage] {
        let screening = campaign.state == .done ? nil : now
        let screenedSpan = (screening ?? campaign.updatedAtMillis) - campaign.startedAtMillis
        let decided = ledger.orders - ledger.pending
        // Deciding waits on people: once no order was decided for a while, the past rate says nothing of when
        // the rest will be, so those stages give no estimate.
        let deciding = now - ledger.lastDecidedAtMillis <= Self.decidingIdleMillis
        let decidingSpan = ledger.lastDecidedAtMillis - ledger.firstDecidedAtMillis
        func stage(
            _ kind: Jiaxing_Benefits_V1_CampaignStage.Stage, done: Int64, total: Int64, spanMillis: Int64?,
            estimates: Bool = true
        ) -> Jiaxing_Benefits_V1_CampaignStage {
            var stage = Jiaxing_Benefits_V1_CampaignStage()
            stage.stage = kind
            stage.done = done
            stage.total = total
            stage.secondsLeft = -1
            if let spanMillis, spanMillis > 0, done > 0 {
                stage.perSecond = Double(done) * 1000 / Double(spanMillis)
                if estimates, total >= done {
                    stage.secondsLeft = Int64((Double(total - done) / stage.perSecond).rounded(.up))
                }
            } else if total > 0, done >= total {
                stage.secondsLeft = 0
            }
            return stage
        }
        // The register may grow while a campaign runs: the screened count never claims more than all of it.
        let screenedTotal = max(register, campaign.enterprises)
        let paid = ledger.posted + ledger.clawedBack
        return [
            stage(.screened, done: campaign.enterprises, total: screenedTotal, spanMillis: screenedSpan),
            stage(
                .proposed, done: campaign.proposed, total: campaign.state == .done ? campaign.proposed : 0,
                spanMillis: screenedSpan),
            stage(.decided, done: decided, total: ledger.orders, spanMillis: decidingSpan, estimates: deciding),
            // Paid counts an order clawed back since: it was posted, and its notices went out.
            stage(
                .posted, done: paid, total: ledger.orders - ledger.rejected - ledger.expired,
                spanMillis: decidingSpan, estimates: deciding),
            stage(.notified, done: ledger.notified, total: paid, spanMillis: nil),
        ]
    }
}
