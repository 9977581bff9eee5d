import ArgumentParser
import BenefitsAPI
import BenefitsDomain
import Foundation
import Logging
import MeshHarness
import MeshMessages
import MeshRPC
import ServiceKit

/// 免申即享 from the operator's terminal: start (or resume) a campaign through the gateway, list the campaigns
/// with their progress, read one's near misses. The gateway keeps each campaign's progress page by page, so
/// `start` run again after a crash carries on where the last page ended.
struct CampaignCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "campaign",
        abstract: "Start, resume and follow 免申即享 campaigns through the gateway.",
        subcommands: [Start.self, Status.self, List.self, NearMisses.self]
    )

    struct Connection: ParsableArguments {
        @Option(name: .customLong("as"), help: "Whose certificate to use (default operator).")
        var identity = "operator"

        @Option(help: "Topology file.")
        var topology = "Compose/topology.json"

        @Option(help: "Seconds to wait for the answer (a campaign over a large register takes minutes).")
        var timeout = 600

        /// A client of the running mesh's gateway, with the party's certificate.
        func client() throws -> (MeshClient, CallOptions) {
            let topology = try Topology.load(path: self.topology)
            guard let state = MeshState.load(directory: topology.state),
                let gateway = state.instances.first(where: { $0.service == "gateway" })
            else {
                throw ValidationError("no running gateway found: start the mesh with `mesh up`")
            }
            var logger = Logger(label: "mesh.campaign")
            logger.logLevel = .critical
            let tls = try TLSFiles.load(
                directory: topology.certificates, name: self.identity, serverHostname: "gateway")
            let client = MeshClient(configuration: .init(port: gateway.port, tls: tls), logger: logger)
            return (client, CallOptions(timeout: .seconds(self.timeout)))
        }
    }

    struct Start: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run a campaign for clauses or documents as of a day; the same request again resumes it.")

        @OptionGroup var connection: Connection

        @Option(name: .customLong("clause"), help: "A clause it pays (repeatable).")
        var clauses: [String] = []

        @Option(name: .customLong("document"), help: "A document whose cash clauses it pays (repeatable).")
        var documents: [String] = []

        @Option(help: "The day the facts and clauses are taken as of (YYYY-MM-DD).")
        var asOf: String

        @Option(help: "One county (its party name, e.g. nanhu); the whole city when left out.")
        var county: String?

        func run() async throws {
            guard let day = CalendarDate(self.asOf) else { throw ValidationError("--as-of: YYYY-MM-DD") }
            var request = Jiaxing_Benefits_V1_CampaignRequest()
            request.clauseIds = self.clauses
            request.documentIds = self.documents
            request.asOf = day.message
            if let name = self.county {
                guard let county = County(partyName: name) else {
                    throw ValidationError(
                        "--county: one of \(County.allCases.map(\.partyName).joined(separator: ", "))")
                }
                request.county = county.message
            }
            let (client, options) = try self.connection.client()
            try await client.closing {
                let result: Jiaxing_Benefits_V1_CampaignResult = try await client.unary(
                    GatewayMethods.runCampaign, request, options: options)
                CampaignCommand.show(result)
            }
        }
    }

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "A campaign stage by stage: screened, proposed, decided, posted, notified, with rates.")

        @OptionGroup var connection: Connection

        @Argument(help: "The campaign's id (from `mesh campaign list`).")
        var campaign: String

        @Option(help: "Show it again every this many seconds until every stage is done (0: once).")
        var watch: Int = 0

        func run() async throws {
            let (client, options) = try self.connection.client()
            try await client.closing {
                var request = Jiaxing_Benefits_V1_GetCampaignRequest()
                request.campaignID = self.campaign
                while true {
                    let status: Jiaxing_Benefits_V1_CampaignStatus = try await client.unary(
                        GatewayMethods.getCampaign, request, options: options)
                    CampaignCommand.show(status.campaign)
                    for line in CampaignCommand.report(status) { print("  " + line) }
                    // Done when every stage has caught up with its total (a stage with nothing to do is done).
                    let finished =
                        status.campaign.state == .done && status.stages.allSatisfy { $0.done >= $0.total }
                    guard self.watch > 0, !finished else { return }
                    try await Task.sleep(for: .seconds(self.watch))
                }
            }
        }
    }

    /// A campaign's stages, what it paid, its shares by county and clause with their 兑付率, and the
    /// documents' targets, a line each.
    static func report(_ status: Jiaxing_Benefits_V1_CampaignStatus) -> [String] {
        var lines = status.stages.map(Self.line)
        lines.append("paid \(Money.chinese(status.postedFen))")
        for share in status.shares {
            let county = County(message: share.county)?.partyName ?? "\(share.county)"
            let rate = share.promisedFen > 0 ? Double(share.paidFen) * 100 / Double(share.promisedFen) : 0
            lines.append(
                "\(county)  \(share.clauseID)  \(share.posted)/\(share.orders) posted  \(Money.chinese(share.paidFen)) of \(Money.chinese(share.promisedFen)) (\(String(format: "%.1f", rate))%)"
            )
        }
        for rate in status.rates {
            lines.append(
                "\(rate.documentID) by \(rate.by.year)-\(rate.by.month)-\(rate.by.day): \(Double(rate.achievedBasisPoints) / 100)% of \(Double(rate.targetBasisPoints) / 100)% target"
            )
        }
        return lines
    }

    /// One stage as a line: a bar of 20, the counts, the rate and the time left.
    static func line(_ stage: Jiaxing_Benefits_V1_CampaignStage) -> String {
        let name = stage.stage.name
        let filled = stage.total > 0 ? Int(min(20, stage.done * 20 / stage.total)) : 0
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: 20 - filled)
        let total = stage.total > 0 ? "\(stage.total)" : "?"
        let rate = stage.perSecond > 0 ? String(format: ", %.0f/s", stage.perSecond) : ""
        let left = stage.secondsLeft >= 0 ? ", \(stage.secondsLeft) s left" : ""
        return "\(name.padding(toLength: 9, withPad: " ", startingAt: 0)) [\(bar)] \(stage.done)/\(total)\(rate)\(left)"
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The campaigns, newest first, with their progress.")

        @OptionGroup var connection: Connection

        func run() async throws {
            let (client, options) = try self.connection.client()
            try await client.closing {
                var request = Jiaxing_Benefits_V1_ListCampaignsRequest()
                repeat {
                    let page: Jiaxing_Benefits_V1_ListCampaignsResponse = try await client.unary(
                        GatewayMethods.listCampaigns, request, options: options)
                    for campaign in page.campaigns { CampaignCommand.show(campaign) }
                    request.pageToken = page.nextPageToken
                } while !request.pageToken.isEmpty
            }
        }
    }

    struct NearMisses: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "near-misses", abstract: "The enterprises a campaign nearly pays, with what each lacks.")

        @OptionGroup var connection: Connection

        @Argument(help: "The campaign's id (from `mesh campaign list`).")
        var campaign: String

        func run() async throws {
            let (client, options) = try self.connection.client()
            try await client.closing {
                var request = Jiaxing_Benefits_V1_ListCampaignNearMissesRequest()
                request.campaignID = self.campaign
                repeat {
                    let page: Jiaxing_Benefits_V1_ListCampaignNearMissesResponse = try await client.unary(
                        GatewayMethods.listCampaignNearMisses, request, options: options)
                    for nearMiss in page.nearMisses {
                        print(
                            "\(nearMiss.creditCode)  \(nearMiss.enterpriseName)  \(nearMiss.clauseID)  \(nearMiss.missing.joined(separator: "；"))"
                        )
                    }
                    request.pageToken = page.nextPageToken
                } while !request.pageToken.isEmpty
            }
        }
    }

    static func show(_ campaign: Jiaxing_Benefits_V1_CampaignResult) {
        let state = campaign.state == .done ? "done" : "running"
        let resumed = campaign.resumedAfter > 0 ? ", resumed after \(campaign.resumedAfter)" : ""
        print(
            "\(campaign.campaignID)  \(state)  by \(campaign.startedBy)  \(campaign.enterprises) enterprises screened\(resumed); \(campaign.proposed) proposed, \(campaign.replayed) replayed, \(campaign.refused) refused, \(Money.chinese(campaign.amountFen)); \(campaign.nearMisses) near misses"
        )
        for clause in campaign.clauses {
            print(
                "  \(clause.clauseID)  \(clause.proposed) proposed, \(clause.replayed) replayed, \(clause.refused) refused, \(Money.chinese(clause.amountFen)), \(clause.nearMisses) near misses"
            )
        }
    }
}
