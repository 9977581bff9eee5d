import ArgumentParser
import BenefitsAPI
import BenefitsDomain
import CatalogModel
import Foundation
import GatewayStore
import Logging
import MeshHarness
import MeshMessages
import MeshPKI
import MeshRPC
import NotificationCore
import ServiceKit
import SwiftProtobuf

/// What the demo expects of each step; a failed expectation makes `mesh demo` (and `mesh up --demo`) exit 1,
/// so the harness test and CI see a broken flow, not just read it.
struct DemoChecks {
    var passed = 0
    var failures: [String] = []

    mutating func expect(_ condition: Bool, _ what: String) {
        if condition { self.passed += 1 } else { self.failures.append(what) }
    }
}

/// Shows the mesh doing its job on sample enterprises drawn from the seed policies.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract:
            "Screen the sample enterprises of Compose/demo against the running mesh and print what they are entitled to."
    )

    @Option(help: "Topology file.")
    var topology = "Compose/topology.json"

    @Option(help: "Sample enterprises (protobuf JSON).")
    var enterprises = "Compose/demo/enterprises.json"

    @Option(help: "Enterprises generated beside the samples, in their counties, for the campaign to find.")
    var generated = DemoCommand.defaultGenerated

    @OptionGroup var target: MeshTargetOptions

    /// How far the sample counties' registers grow: a few thousand, so a campaign and a bulk decision have
    /// the size of a district's.
    static let defaultGenerated = 3_000

    func run() async throws {
        let topology = try Topology.load(path: self.topology)
        try await Self.run(
            target: try self.target.target(topology: topology), topology: topology, enterprisesPath: self.enterprises,
            generated: self.generated)
    }

    /// The sample enterprises of a file like Compose/demo/enterprises.json, and the day they are screened on.
    static func samples(_ path: String) throws -> (
        asOf: CalendarDate, profiles: [Jiaxing_Benefits_V1_EnterpriseProfile]
    ) {
        guard let data = FileManager.default.contents(atPath: path),
            let object = try JSONSerialization.jsonObject(with: data) as? [String: Any],
            let asOfObject = object["asOf"] as? [String: Int],
            let entries = object["enterprises"] as? [[String: Any]],
            let asOf = CalendarDate(
                year: asOfObject["year"] ?? 0, month: asOfObject["month"] ?? 0, day: asOfObject["day"] ?? 0)
        else { throw ValidationError("cannot read the sample enterprises in \(path)") }
        let profiles = try entries.map { entry in
            try Jiaxing_Benefits_V1_EnterpriseProfile(jsonUTF8Data: JSONSerialization.data(withJSONObject: entry))
        }
        return (asOf, profiles)
    }

    static func run(target: MeshTarget, topology: Topology, enterprisesPath: String, generated: Int) async throws {
        let (asOf, profiles) = try Self.samples(enterprisesPath)
        let register = profiles + DemoRegister.generated(generated, like: profiles)
        let replicas = target.local.map { state in
            "\(state.instances.filter { $0.service == "eligibility" }.count) eligibility replica(s)"
        }
        func gatewayClient(_ identity: String) throws -> MeshClient { try target.client(as: identity) }
        var checks = DemoChecks()
        print("")
        print(
            "Step 0 — each county registers its enterprises in the gateway's register (what its staff then look up in the console): the \(profiles.count) samples and \(register.count - profiles.count) generated like them"
        )
        for (county, registered) in Dictionary(
            grouping: register, by: { County(message: $0.county)?.partyName ?? "operator" }
        ).sorted(by: { $0.key < $1.key }) {
            let client = try gatewayClient(county)
            try await client.closing {
                var (added, updated, held) = (0, 0, 0)
                for chunk in registered.chunks(of: GatewayStore.maximumProfilesPerCall) {
                    var request = Jiaxing_Benefits_V1_RegisterEnterprisesRequest()
                    request.profiles = Array(chunk)
                    let response: Jiaxing_Benefits_V1_RegisterEnterprisesResponse = try await client.unary(
                        GatewayMethods.registerEnterprises, request, options: CallOptions(timeout: .seconds(30)))
                    added += Int(response.added)
                    updated += Int(response.updated)
                    held += Int(response.held)
                }
                print(
                    "  \(County(partyName: county)?.chineseName ?? county): \(registered.count) enterprises, \(added) added, \(updated) updated, \(held) held for the operator"
                )
                checks.expect(
                    added + updated == registered.count,
                    "\(county) registered its \(registered.count) enterprise(s)")
            }
        }
        print("")
        print(
            "Step 0b — the departments publish the records they hold (市经信局 its 绿色工厂 list and accepted projects, 市科技局 its 高新技术企业 …): the mesh pays without an application on these, never on a county's word"
        )
        let vocabulary = try DepartmentPublications.vocabulary(catalogDirectory: "Services/Catalog/Data")
        let publications = DepartmentPublications.records(
            of: register, vocabulary: vocabulary, referencePrefix: "嘉兴\(asOf.year)年名单 ")
        for (department, records) in publications.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
            let client = try gatewayClient(department.partyName)
            try await client.closing {
                var response = Jiaxing_Benefits_V1_PublishRecordsResponse()
                for chunk in records.chunks(of: GatewayStore.maximumRecordsPerCall) {
                    var request = Jiaxing_Benefits_V1_PublishRecordsRequest()
                    request.records = Array(chunk)
                    let page: Jiaxing_Benefits_V1_PublishRecordsResponse = try await client.unary(
                        GatewayMethods.publishRecords, request, options: CallOptions(timeout: .seconds(30)))
                    response.published += page.published
                    response.unchanged += page.unchanged
                    response.refused += page.refused
                }
                let kinds = Set(
                    records.map { record -> String in
                        switch record.record {
                        case .recognition(let recognition):
                            return vocabulary.recognition(recognition.recognition)?.name ?? recognition.recognition
                        case .project(let project):
                            return vocabulary.projectKind(project.kind)?.name ?? project.kind
                        case .fact(let fact): return vocabulary.fact(fact.fact)?.name ?? fact.fact
                        case nil: return ""
                        }
                    }
                ).sorted()
                print(
                    "  \(department.chineseName): \(records.count) record(s) (\(kinds.joined(separator: "、"))): \(response.published) published, \(response.unchanged) already published"
                )
                checks.expect(
                    response.refused.isEmpty && Int(response.published + response.unchanged) == records.count,
                    "\(department.chineseName) published its \(records.count) record(s): \(response.refused.map(\.message))"
                )
            }
        }
        print("")
        print(
            "Step 1 — 免申即享: each county screens its sample enterprises as of \(asOf) through the gateway (\(target.gatewayHost):\(target.gatewayPort)), which spreads the calls over \(replicas ?? "the eligibility replicas")"
        )
        var total: Fen = 0
        var entitlements: [(profile: Jiaxing_Benefits_V1_EnterpriseProfile, decision: Jiaxing_Benefits_V1_Decision)] =
            []
        for profile in profiles {
            var request = Jiaxing_Benefits_V1_ScreenRequest()
            request.profile = profile
            request.asOf = Jiaxing_Benefits_V1_Date.with {
                $0.year = Int32(asOf.year)
                $0.month = Int32(asOf.month)
                $0.day = Int32(asOf.day)
            }
            let client = try gatewayClient(County(message: profile.county)?.partyName ?? "operator")
            try await client.closing {
                let result: Jiaxing_Benefits_V1_ScreeningResult = try await client.unary(
                    GatewayMethods.screen, request, options: CallOptions(timeout: .seconds(5)))
                print("")
                print(
                    "  \(profile.name)  (\(County(message: profile.county)?.chineseName ?? "?"), \(profile.creditCode))"
                )
                for decision in result.decisions {
                    let citation =
                        "《\(PolicyDocument.shortTitle(decision.citation.documentTitle))》\(decision.citation.article)"
                    switch decision.status {
                    case .eligible:
                        print(
                            "    ✔ \(decision.amountText.padding(toLength: 8, withPad: " ", startingAt: 0)) \(citation)  \(decision.calculation)"
                        )
                        print("        “\(Self.excerpt(decision.citation.clauseText))”")
                        if decision.cash { entitlements.append((profile, decision)) }
                    case .superseded:
                        print("    ↷ superseded \(citation): \(decision.reason)")
                    case .nearMiss:
                        print("    ≈ near miss \(citation): \(decision.missing.joined(separator: "; "))")
                    case .needsApplication:
                        print("    ✎ needs an application \(citation): \(decision.reason)")
                    default:
                        break
                    }
                }
                total += result.totalEligibleFen
                print("    = \(Money.chinese(result.totalEligibleFen)) to propose without an application")
            }
        }
        print("")
        print(
            "In all: \(Money.chinese(total)) for \(Set(entitlements.map(\.profile.creditCode)).count) of \(profiles.count) enterprises, each amount citing its clause."
        )

        let ledgerClient = gatewayClient
        // Each county system registers a webhook; an HTTPS receiver in this process plays their endpoints, with
        // the mesh-cli certificate (the notification service trusts the mesh CA for webhooks on this machine).
        let directory = CertificateDirectory(path: target.certificates)
        let receiver = try WebhookReceiver(
            certificatePEM: String(contentsOfFile: directory.certificatePath("mesh-cli"), encoding: .utf8),
            privateKeyPEM: String(contentsOfFile: directory.privateKeyPath("mesh-cli"), encoding: .utf8)
        )
        var secrets: [String: String] = [:]
        if target.notifies {
            try await receiver.start(host: target.webhookListen)
            for county in Set(register.compactMap { County(message: $0.county) }) {
                let client = try gatewayClient(county.partyName)
                try await client.closing {
                    var register = Jiaxing_Benefits_V1_RegisterWebhookRequest()
                    register.url = "https://\(target.webhookHost):\(receiver.port)/webhooks/\(county.partyName)"
                    register.secrets = WebhookSignature.makeSecret()
                    // A county system that takes its notices in batches: one signed POST for up to this many.
                    register.batchSize = Self.webhookBatchSize
                    secrets[county.partyName] = register.secrets
                    let _: Jiaxing_Benefits_V1_RegisterWebhookResponse = try await client.unary(
                        GatewayMethods.registerWebhook, register, options: CallOptions(timeout: .seconds(5)))
                }
            }
        }
        try await receiver.stopping {

            print("")
            print(
                "Step 2 — 免申即享: the operator runs a campaign over the documents of these payouts; the mesh finds every registered enterprise the departments' records make payable and proposes what each decision computes"
            )
            var newOrders = 0
            var campaignID = ""
            var campaignClauses: [Jiaxing_Benefits_V1_CampaignClauseSummary] = []
            do {
                let operatorClient = try gatewayClient("operator")
                try await operatorClient.closing {
                    var campaign = Jiaxing_Benefits_V1_CampaignRequest()
                    campaign.documentIds = Array(Set(entitlements.map(\.decision.citation.documentID))).sorted()
                    campaign.asOf = asOf.message
                    let result: Jiaxing_Benefits_V1_CampaignResult = try await operatorClient.unary(
                        GatewayMethods.runCampaign, campaign, options: CallOptions(timeout: .seconds(600)))
                    newOrders = Int(result.proposed)
                    campaignID = result.campaignID
                    campaignClauses = result.clauses
                    print(
                        "  \(result.enterprises) registered enterprises screened: \(result.proposed) new orders pending for their departments, \(result.replayed) already proposed, \(result.refused) refused, \(Money.chinese(result.amountFen)) reserved"
                    )
                    for clause in result.clauses where clause.amountFen > 0 {
                        print("    \(clause.clauseID): \(clause.proposed) new, \(Money.chinese(clause.amountFen))")
                    }
                    // Its progress, stage by stage, as `mesh campaign status` and the console show it.
                    var ask = Jiaxing_Benefits_V1_GetCampaignRequest()
                    ask.campaignID = result.campaignID
                    let status: Jiaxing_Benefits_V1_CampaignStatus = try await operatorClient.unary(
                        GatewayMethods.getCampaign, ask, options: CallOptions(timeout: .seconds(10)))
                    for stage in status.stages { print("    " + CampaignCommand.line(stage)) }
                    checks.expect(
                        status.stages.first?.done == result.enterprises
                            && status.stages.dropFirst().first?.done == result.proposed,
                        "the campaign's progress shows its \(result.enterprises) enterprises screened and \(result.proposed) orders proposed"
                    )
                    // The register may hold enterprises of earlier runs too: their orders are replayed.
                    checks.expect(
                        result.refused == 0 && Int(result.proposed + result.replayed) >= entitlements.count,
                        "the campaign proposes every payout the screening found (\(result.proposed) new, \(result.replayed) replayed, \(result.refused) refused, \(entitlements.count) found)"
                    )
                }
            }

            print("")
            print(
                "Step 2b — each county proposes its enterprises' payouts itself: the campaign already did, so each gets the same order back (idempotent: proposing twice pays once)"
            )
            var orders: [Jiaxing_Benefits_V1_PayoutOrder] = []
            for (profile, decision) in entitlements {
                guard let county = County(message: profile.county) else { continue }
                let client = try ledgerClient(county.partyName)
                try await client.closing {
                    var request = Jiaxing_Benefits_V1_ProposePayoutRequest()
                    request.creditCode = profile.creditCode
                    request.enterpriseName = profile.name
                    request.county = profile.county
                    request.clauseID = decision.citation.clauseID
                    // The gateway screens the registered profile as of this day itself; the amount is the county's
                    // expectation, refused if the register's facts say otherwise.
                    request.asOf = asOf.message
                    request.amountFen = decision.amountFen
                    do {
                        let order: Jiaxing_Benefits_V1_PayoutOrder = try await client.unary(
                            GatewayMethods.proposePayout, request, options: CallOptions(timeout: .seconds(5)))
                        orders.append(order)
                        print(
                            "  \(county.chineseName) → order …\(order.id.suffix(12))  \(Money.chinese(order.amountFen))  \(profile.name)  \(order.clauseID)  \(order.replayed ? "(the campaign's order)" : "new")"
                        )
                        checks.expect(
                            order.replayed,
                            "the campaign had proposed \(order.clauseID) for \(profile.name): the same order")
                    } catch let error as RPCError {
                        print(
                            "  \(county.chineseName) → \(profile.name) \(decision.citation.clauseID): refused, \(error.code): \(error.message)"
                        )
                        checks.expect(
                            false, "\(profile.name) \(decision.citation.clauseID) proposed (refused: \(error.code))")
                    }
                }
            }

            print("")
            let applicationClause = "jzbf-2024-7/3.2e"
            print(
                "Step 2c — 限时即享: an enterprise applies for \(applicationClause) (牵头承担国家重点研发计划), a fact no department has published; it declares it with evidence, and the deciding department sees it marked as declared in the console (step 6)"
            )
            var applicationDepartment: Department?
            var applicationsFiled = 0
            if let applicant = profiles.first, let county = County(message: applicant.county) {
                let client = try gatewayClient(county.partyName)
                try await client.closing {
                    var application = Jiaxing_Benefits_V1_FileApplicationRequest()
                    application.profile = applicant
                    application.asOf = CalendarDate(year: 2024, month: 6, day: 30)!.message
                    application.clauseID = applicationClause
                    var declared = Jiaxing_Benefits_V1_FactRecord()
                    declared.fact = "leadsNationalKeyRdProgramme"
                    declared.flag = true
                    application.claimedFacts = [declared]
                    application.requestedFen = 100_000_000
                    var evidence = Jiaxing_Benefits_V1_Evidence()
                    evidence.name = "国家重点研发计划任务书.pdf"
                    evidence.contentType = "application/pdf"
                    evidence.content = Data("%PDF-1.4\n% 任务书（演示）\n%%EOF\n".utf8)
                    application.evidence = [evidence]
                    do {
                        let filed: Jiaxing_Benefits_V1_Application = try await client.unary(
                            GatewayMethods.fileApplication, application, options: CallOptions(timeout: .seconds(10)))
                        applicationDepartment = Department.allCases.first {
                            $0.isResponsible(among: filed.responsibleDepartments)
                        }
                        if !filed.replayed { applicationsFiled += 1 }
                        print(
                            "  \(county.chineseName) → application …\(filed.id.suffix(12)) for \(applicant.name): \(filed.status), up to \(Money.chinese(filed.maximumFen)), with \(applicationDepartment?.chineseName ?? "?")"
                        )
                        checks.expect(
                            filed.status == .pending,
                            "\(applicant.name)'s application on a declared fact waits for its department")
                    } catch let error as RPCError {
                        print(
                            "  \(county.chineseName) → \(applicant.name) \(applicationClause): refused, \(error.code): \(error.message)"
                        )
                        checks.expect(
                            false, "\(applicant.name) applied for \(applicationClause) (refused: \(error.code))")
                    }
                }
            }

            print("")
            print("Step 3 — the responsible departments approve; the money moves from the fund to the enterprise")
            // One order is left for a department officer to decide in the web console (step 6).
            let leftForConsole = orders.last(where: { $0.status == .pending })
            var approved = 0
            var approvedByClause: [String: Int] = [:]
            for order in orders where order.status == .pending && order.id != leftForConsole?.id {
                guard
                    let department = Department.allCases.first(where: {
                        $0.isResponsible(among: order.responsibleDepartments)
                    })
                else {
                    print(
                        "  order \(order.id.prefix(8))…: no department of the mesh is responsible for \(order.clauseID)"
                    )
                    continue
                }
                let client = try ledgerClient(department.partyName)
                try await client.closing {
                    var request = Jiaxing_Benefits_V1_DecideRequest()
                    request.orderID = order.id
                    let posted: Jiaxing_Benefits_V1_PayoutOrder = try await client.unary(
                        GatewayMethods.approve, request, options: CallOptions(timeout: .seconds(5)))
                    print(
                        "  \(department.chineseName) approved \(Money.chinese(posted.amountFen)) to \(posted.enterpriseName) under \(posted.clauseID): \(posted.status)"
                    )
                    checks.expect(
                        posted.status == .posted, "order of \(posted.enterpriseName) under \(posted.clauseID) posted")
                    approved += 1
                    approvedByClause[posted.clauseID, default: 0] += 1
                }
            }
            if let order = leftForConsole {
                print(
                    "  left pending for the console: \(Money.chinese(order.amountFen)) to \(order.enterpriseName) under \(order.clauseID) (order \(order.id))"
                )
            }

            // Step 3b: one clause's orders decided together, as a department decides a campaign's.
            var bulkDecided = 0
            // The clause with the most of the campaign's new orders still pending, but that of the order left for
            // the console (it stays pending for the officer), decided by its responsible department as the catalog
            // names it.
            func pending(_ clause: Jiaxing_Benefits_V1_CampaignClauseSummary) -> Int64 {
                clause.proposed - Int64(approvedByClause[clause.clauseID] ?? 0)
            }
            let bulkClause = campaignClauses.filter { $0.clauseID != leftForConsole?.clauseID && pending($0) > 0 }
                .max { (pending($0), $1.clauseID) < (pending($1), $0.clauseID) }
            var bulkDepartment: Department?
            if let bulkClause {
                let client = try ledgerClient("operator")
                try await client.closing {
                    var ask = Jiaxing_Benefits_V1_GetClauseRequest()
                    ask.id = bulkClause.clauseID
                    let clause: Jiaxing_Benefits_V1_Clause = try await client.unary(
                        GatewayMethods.getClause, ask, options: CallOptions(timeout: .seconds(5)))
                    bulkDepartment = Department.allCases.first {
                        $0.isResponsible(among: clause.responsibleDepartments)
                    }
                }
            }
            if let clause = bulkClause, let department = bulkDepartment {
                print("")
                print(
                    "Step 3b — \(department.chineseName) approves the campaign's \(clause.clauseID) orders in one decision (DecideOrders with a filter): each order still records who decided it, when and why"
                )
                let client = try ledgerClient(department.partyName)
                try await client.closing {
                    var request = Jiaxing_Benefits_V1_DecideOrdersRequest()
                    request.clauseID = clause.clauseID
                    request.campaignID = campaignID
                    request.approve = true
                    request.reason = "经审核，符合条款，批量批准"
                    request.limit = 10_000
                    let started = ContinuousClock.now
                    let result: Jiaxing_Benefits_V1_DecideOrdersResult = try await client.unary(
                        GatewayMethods.decideOrders, request, options: CallOptions(timeout: .seconds(300)))
                    bulkDecided = Int(result.decided)
                    print(
                        "  \(result.decided) orders approved, \(Money.chinese(result.amountFen)), \(result.failed) failed, in \(ContinuousClock.now - started)"
                    )
                    checks.expect(
                        result.decided == pending(clause) && result.failed == 0,
                        "\(department.chineseName) approved \(clause.clauseID)'s orders in bulk (\(result.decided) decided, \(result.failed) failed: \(result.firstFailures))"
                    )
                }
            }

            let operatorClient = try ledgerClient("operator")
            try await operatorClient.closing {
                let funds: Jiaxing_Benefits_V1_ListFundsResponse = try await operatorClient.unary(
                    GatewayMethods.listFunds, Jiaxing_Benefits_V1_ListFundsRequest(),
                    options: CallOptions(timeout: .seconds(5))
                )
                print("")
                print(
                    "Step 4 — the ledger: budget, paid, reserved and left per fund; debits \(Money.chinese(funds.totalDebitsFen)) = credits \(Money.chinese(funds.totalCreditsFen))"
                )
                checks.expect(funds.totalDebitsFen == funds.totalCreditsFen, "the ledger's debits equal its credits")
                for fund in funds.funds {
                    checks.expect(fund.availableFen >= 0, "fund \(fund.account) not below zero")
                    print(
                        "  \(fund.account.padding(toLength: 24, withPad: " ", startingAt: 0)) budget \(Money.chinese(fund.budgetFen)), paid \(Money.chinese(fund.postedFen)), reserved \(Money.chinese(fund.reservedFen)), left \(Money.chinese(fund.availableFen))"
                    )
                }
                if target.notifies, !orders.isEmpty {
                    print("")
                    print(
                        "Step 5 — notices: each county's webhook (signed per Standard Webhooks), and the enterprises' inboxes"
                    )
                    // Each order the campaign made sends its county a "proposed" notice, each approval an "approved" one,
                    // and a new application a "received" one.
                    let expected = newOrders + approved + bulkDecided + applicationsFiled
                    let deadline = ContinuousClock.now + .seconds(20 + expected / 100)
                    func received() -> [String: Jiaxing_Benefits_V1_Notice] {
                        var notices: [String: Jiaxing_Benefits_V1_Notice] = [:]
                        for request in receiver.requests {
                            for notice in Self.notices(request.body) { notices[notice.id] = notice }
                        }
                        return notices
                    }
                    while received().count < expected, ContinuousClock.now < deadline {
                        try await Task.sleep(for: .milliseconds(250))
                    }
                    let notices = received()
                    var perCounty: [String: (deliveries: Int, notices: Int, verified: Int)] = [:]
                    var bad = 0
                    for request in receiver.requests {
                        let county = String(request.path.split(separator: "/").last ?? "")
                        let verified = WebhookSignature.verify(
                            id: request.headers["webhook-id"] ?? "",
                            timestamp: Int64(request.headers["webhook-timestamp"] ?? "") ?? 0,
                            body: request.body, signatureHeader: request.headers["webhook-signature"] ?? "",
                            secrets: [secrets[county] ?? ""]
                        )
                        var tally = perCounty[county] ?? (0, 0, 0)
                        tally.deliveries += 1
                        tally.notices += Self.notices(request.body).count
                        if verified { tally.verified += 1 } else { bad += 1 }
                        perCounty[county] = tally
                    }
                    for (county, tally) in perCounty.sorted(by: { $0.key < $1.key }) {
                        print(
                            "  webhook → \(county.padding(toLength: 10, withPad: " ", startingAt: 0)) \(tally.notices) notices in \(tally.deliveries) signed deliveries (up to \(Self.webhookBatchSize) a delivery), \(tally.verified == tally.deliveries ? "signature ok" : "BAD SIGNATURE")"
                        )
                    }
                    let sampleOrders = Set(orders.map(\.id))
                    for notice in notices.values.filter({ sampleOrders.contains($0.orderID) }).sorted(by: {
                        $0.eventSequence < $1.eventSequence
                    }).prefix(10) {
                        print("    \(notice.audience): \(notice.title): \(notice.body)")
                    }
                    if notices.count < expected {
                        print("  (\(notices.count) of \(expected) notices arrived by webhook in time)")
                    }
                    checks.expect(bad == 0, "every webhook delivery's signature verifies (\(bad) did not)")
                    let carried = perCounty.values.reduce(0) { $0 + $1.notices }
                    checks.expect(
                        notices.count == expected && carried == expected,
                        "\(expected) notices arrived by webhook, each once (\(notices.count) distinct in \(carried))")
                    let operatorNotices = try gatewayClient("operator")
                    try await operatorNotices.closing {
                        if let first = orders.first {
                            var inbox = Jiaxing_Benefits_V1_ListInboxRequest()
                            inbox.audience = "enterprise/\(first.creditCode)"
                            let notices: Jiaxing_Benefits_V1_ListInboxResponse = try await operatorNotices.unary(
                                GatewayMethods.listInbox, inbox, options: CallOptions(timeout: .seconds(5)))
                            print("  inbox of \(first.enterpriseName):")
                            for notice in notices.notices.reversed() { print("    \(notice.title): \(notice.body)") }
                            checks.expect(!notices.notices.isEmpty, "the inbox of \(first.enterpriseName) has notices")
                        }
                    }
                }
                let operatorClient = try gatewayClient("operator")
                try await operatorClient.closing {
                    try await Self.consoleStep(
                        topology: topology, target: target, operator: operatorClient,
                        counties: Set(profiles.compactMap { County(message: $0.county) }),
                        departments: Set(
                            orders.compactMap { order in
                                Department.allCases.first { $0.isResponsible(among: order.responsibleDepartments) }
                            } + [applicationDepartment].compactMap { $0 }))
                }
                print("")
                print(
                    "Every step above went through the gateway with the caller's own certificate; its audit log (audit.log in the state folder) records each refusal and money decision with who made it."
                )
                checks.expect(!entitlements.isEmpty, "some sample enterprise is entitled to a payout")
                print("")
                print("demo checks: \(checks.passed) passed, \(checks.failures.count) failed")
                for failure in checks.failures { print("  FAILED: \(failure)") }
                if !checks.failures.isEmpty { throw ExitCode.failure }
            }
        }
    }

    /// Step 6: accounts for the web console — the operator, each sample county, each deciding department —
    /// with random passwords written to a file only the owner can read.
    static func consoleStep(
        topology: Topology, target: MeshTarget, operator operatorClient: MeshClient, counties: Set<County>,
        departments: Set<Department>
    ) async throws {
        guard let gateway = topology.services.first(where: { $0.name == "gateway" }),
            let flag = gateway.arguments?.firstIndex(of: "--console-port"), let port = gateway.arguments?[flag + 1]
        else { return }
        // Through the gateway, as the operator: the accounts live in the gateway's own database.
        let accountsDesk = GatewayClient(operatorClient)
        let existing = Set(
            try await accountsDesk.listConsoleAccounts(
                Jiaxing_Benefits_V1_ListConsoleAccountsRequest(), options: CallOptions(timeout: .seconds(10))
            ).accounts.map(\.user))
        var accounts = [ConsoleAccount(userName: "operator", role: .operator, party: "operator", displayName: "市级运营")]
        accounts += counties.sorted { $0.partyName < $1.partyName }.map {
            ConsoleAccount(
                userName: "\($0.partyName)-staff", role: .county, party: $0.partyName,
                displayName: "\($0.chineseName)工作人员")
        }
        accounts += departments.sorted { $0.rawValue < $1.rawValue }.map {
            ConsoleAccount(
                userName: "\($0.rawValue)-officer", role: .department, party: $0.rawValue,
                displayName: "\($0.chineseName)经办人")
        }
        try FileManager.default.createDirectory(atPath: topology.state, withIntermediateDirectories: true)
        let file = "\(topology.state)/console-accounts.txt"
        var lines = (try? String(contentsOfFile: file, encoding: .utf8)) ?? ""
        for account in accounts where !existing.contains(account.userName) {
            let password = GatewayStore.randomToken().prefix(16)
            var request = Jiaxing_Benefits_V1_PutConsoleAccountRequest()
            request.user = account.userName
            request.role = account.role.rawValue
            request.party = account.party
            request.displayName = account.displayName
            request.password = String(password)
            _ = try await accountsDesk.putConsoleAccount(request, options: CallOptions(timeout: .seconds(30)))
            lines += "\(account.userName)\t\(password)\t\(account.partyIdentity)\n"
        }
        FileManager.default.createFile(atPath: file, contents: Data(lines.utf8), attributes: [.posixPermissions: 0o600])
        print("")
        print(
            "Step 6 — the web console: https://\(target.gatewayHost):\(port)/console (the gateway's certificate, from the mesh CA in \(target.certificates)/ca.pem)"
        )
        print(
            "  accounts \(accounts.map(\.userName).joined(separator: ", ")); their passwords are in \(file) (mode 0600)"
        )
        print(
            "  more: printf '%s\\n' \"$PASSWORD\" | mesh account add --host \(target.gatewayHost) --user NAME --role county|department|operator --party PARTY"
        )
    }

    /// Notices a county's endpoint takes in one delivery in the demo.
    static let webhookBatchSize: Int32 = 100

    /// The notices a webhook body carries: `data` itself, or a batch's `data.notices`.
    static func notices(_ body: [UInt8]) -> [Jiaxing_Benefits_V1_Notice] {
        guard let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any],
            let data = object["data"] as? [String: Any]
        else { return [] }
        let entries =
            (object["type"] as? String) == "payout.batch" ? (data["notices"] as? [[String: Any]] ?? []) : [data]
        return entries.compactMap { entry in
            (try? JSONSerialization.data(withJSONObject: entry)).flatMap {
                try? Jiaxing_Benefits_V1_Notice(jsonUTF8Data: $0)
            }
        }
    }

    static func excerpt(_ text: String) -> String {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        return trimmed.count > 70 ? String(trimmed.prefix(70)) + "…" : trimmed
    }
}
