import BenefitsAPI
import Logging
import Metrics
import ServiceKit
import ServiceLifecycle

/// Publishes the newest campaigns' stages as metrics, every few seconds, from the figures `GetCampaign`
/// answers: `benefits_campaign_stage_done` and `benefits_campaign_stage_total`, by campaign and stage.
public struct CampaignGauges: Service {
    let handlers: GatewayHandlers
    let interval: Duration
    let logger: Logger
    /// Campaigns published at once: the newest, where an operator watches a run.
    static let campaignsPublished = 5

    public init(handlers: GatewayHandlers, interval: Duration = .seconds(5), logger: Logger) {
        self.handlers = handlers
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        // Campaigns whose every stage was through when last read: not read again.
        var finished = Set<String>()
        await PeriodicJob.run(every: self.interval, "campaign gauges", logger: self.logger) {
            for campaign in try await self.handlers.store.campaigns(limit: Self.campaignsPublished, after: nil) {
                // A campaign every stage of which is through no longer moves: its last figures stand.
                if finished.contains(campaign.campaignID) { continue }
                let status = try await self.handlers.status(of: campaign, withRates: false)
                if campaign.state == .done, status.stages.allSatisfy({ $0.total > 0 && $0.done >= $0.total }) {
                    finished.insert(campaign.campaignID)
                }
                for stage in status.stages {
                    let dimensions = [("campaign", campaign.campaignID), ("stage", stage.stage.name)]
                    Gauge(label: "benefits_campaign_stage_done", dimensions: dimensions).record(stage.done)
                    Gauge(label: "benefits_campaign_stage_total", dimensions: dimensions).record(stage.total)
                }
            }
        }
    }
}
