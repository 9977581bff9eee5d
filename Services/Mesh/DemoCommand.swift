import ArgumentParser
import BenefitsAPI
import BenefitsDomain
import Foundation
import Logging
import MeshMessages
import MeshRPC
import ServiceKit
import SwiftProtobuf

/// Shows the mesh doing its job on sample enterprises drawn from the seed policies.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Screen the sample enterprises of Compose/demo against the running mesh and print what they are entitled to."
    )

    @Option(help: "Topology file.")
    var topology = "Compose/topology.json"

    @Option(help: "Sample enterprises (protobuf JSON).")
    var enterprises = "Compose/demo/enterprises.json"

    func run() async throws {
        let topology = try Topology.load(path: self.topology)
        guard let state = MeshState.load(directory: topology.state) else {
            throw ValidationError("no mesh is running: start it with `mesh up`")
        }
        try await Self.run(state: state, enterprisesPath: self.enterprises)
    }

    static func run(state: MeshState, enterprisesPath: String) async throws {
        guard let data = FileManager.default.contents(atPath: enterprisesPath),
              let object = try JSONSerialization.jsonObject(with: data) as? [String: Any],
              let asOfObject = object["asOf"] as? [String: Int],
              let entries = object["enterprises"] as? [[String: Any]]
        else { throw ValidationError("cannot read the sample enterprises in \(enterprisesPath)") }
        let asOf = CalendarDate(year: asOfObject["year"] ?? 0, month: asOfObject["month"] ?? 0, day: asOfObject["day"] ?? 0)!
        let profiles = try entries.map { entry in
            try Jiaxing_Benefits_V1_EnterpriseProfile(jsonUTF8Data: JSONSerialization.data(withJSONObject: entry))
        }
        let replicas = state.instances.filter { $0.service == "eligibility" }
        guard !replicas.isEmpty else { throw ValidationError("the running mesh has no eligibility service") }
        var logger = Logger(label: "mesh.demo")
        logger.logLevel = .critical
        let tls = try TLSFiles.load(directory: state.certificates, name: "mesh-cli", serverHostname: "eligibility")
        let clients = replicas.map { MeshClient(configuration: .init(port: $0.port, tls: tls), logger: logger) }
        defer { for client in clients { Task { await client.close() } } }

        print("")
        print("Step 1 — 免申即享: screen \(profiles.count) sample enterprises as of \(asOf) across \(clients.count) eligibility replica(s) (ports \(replicas.map { String($0.port) }.joined(separator: ", ")))")
        var total: Fen = 0
        var proposed = 0
        for (index, profile) in profiles.enumerated() {
            var request = Jiaxing_Benefits_V1_ScreenRequest()
            request.profile = profile
            request.asOf = Jiaxing_Benefits_V1_Date.with { $0.year = Int32(asOf.year); $0.month = Int32(asOf.month); $0.day = Int32(asOf.day) }
            let client = clients[index % clients.count]
            let result: Jiaxing_Benefits_V1_ScreeningResult = try await client.unary(EligibilityMethods.screen, request, options: CallOptions(timeout: .seconds(5)))
            print("")
            print("  \(profile.name)  (\(County(protoValue: profile.county)?.chineseName ?? "?"), \(profile.creditCode))  via replica \(replicas[index % replicas.count].replica)")
            for decision in result.decisions {
                let citation = "\(Self.shortTitle(decision.citation.documentTitle))\(decision.citation.article)"
                switch decision.status {
                case .eligible:
                    print("    ✔ \(decision.amountText.padding(toLength: 8, withPad: " ", startingAt: 0)) \(citation)  \(decision.calculation)")
                    print("        “\(Self.excerpt(decision.citation.clauseText))”")
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
            if result.totalEligibleFen > 0 { proposed += 1 }
            total += result.totalEligibleFen
            print("    = \(Money.chinese(result.totalEligibleFen)) to propose without an application")
        }
        print("")
        print("In all: \(Money.chinese(total)) for \(proposed) of \(profiles.count) enterprises, each amount citing its clause.")
        print("Next in the flow (payout orders, department approval, ledger, notices) arrives with the disbursement, notification and gateway services.")
    }

    static func shortTitle(_ title: String) -> String {
        var short = title
        for prefix in ["嘉兴市人民政府办公室关于印发", "嘉兴市人民政府关于印发"] where short.hasPrefix(prefix) { short = String(short.dropFirst(prefix.count)) }
        if short.hasSuffix("的通知") { short = String(short.dropLast(3)) }
        return "《\(short)》"
    }

    static func excerpt(_ text: String) -> String {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        return trimmed.count > 70 ? String(trimmed.prefix(70)) + "…" : trimmed
    }
}

extension County {
    init?(protoValue: Jiaxing_Benefits_V1_County) {
        let all: [(Jiaxing_Benefits_V1_County, County)] = [
            (.nanhu, .nanhu), (.xiuzhou, .xiuzhou), (.jiashan, .jiashan), (.pinghu, .pinghu), (.haiyan, .haiyan),
            (.haining, .haining), (.tongxiang, .tongxiang), (.economicDevelopmentZone, .economicDevelopmentZone), (.portDistrict, .portDistrict),
        ]
        guard let match = all.first(where: { $0.0 == protoValue }) else { return nil }
        self = match.1
    }
}
