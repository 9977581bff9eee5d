import BenefitsDomain
import CatalogModel
import EligibilityEngine
import Foundation
import MeshMessages
import SwiftProtobuf

/// Screens every enterprise of a JSON Lines file (one `EnterpriseProfile` per line, protobuf JSON mapping) as
/// of a date, on one core, twice: amounts only, column by column (engine "mesh", the work OpenFisca does),
/// and explained, enterprise by enterprise (engine "mesh-explained"). Prints one JSON object for each in the
/// format the OpenFisca peer prints, so the totals can be compared and the compute times set side by side.
///
///     EligibilityBenchmark FILE [--as-of 2023-09-01] [--catalog Services/Catalog/Data] [--clauses clauses.txt]
@main
struct EligibilityBenchmark {
    static func main() throws {
        var arguments = Array(CommandLine.arguments.dropFirst())
        func option(_ name: String) -> String? {
            guard let index = arguments.firstIndex(of: name), index + 1 < arguments.count else { return nil }
            defer { arguments.removeSubrange(index...(index + 1)) }
            return arguments[index + 1]
        }
        let asOf = CalendarDate(option("--as-of") ?? "2023-09-01")!
        let catalogDirectory = option("--catalog") ?? "Services/Catalog/Data"
        let clauseFile = option("--clauses")
        guard let file = arguments.first else {
            FileHandle.standardError.write(
                Data("usage: EligibilityBenchmark FILE [--as-of DATE] [--catalog DIR] [--clauses FILE]\n".utf8))
            exit(2)
        }
        let catalog = try CatalogLoader.load(directory: catalogDirectory)
        let engine = EligibilityEngine(catalog: catalog)
        let encoded: Set<String>? = try clauseFile.map { path in
            Set(
                try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map {
                    $0.trimmingCharacters(in: .whitespaces)
                }.filter { !$0.isEmpty && !$0.hasPrefix("#") })
        }

        // Load: read and parse every profile (reported apart from the computation).
        let loadStart = ContinuousClock.now
        let text = try String(contentsOfFile: file, encoding: .utf8)
        var profiles: [EnterpriseProfile] = []
        var options = JSONDecodingOptions()
        options.ignoreUnknownFields = false
        for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
            let message = try Jiaxing_Benefits_V1_EnterpriseProfile(jsonUTF8Bytes: Array(line.utf8), options: options)
            profiles.append(try EnterpriseProfile(message: message, vocabulary: catalog.vocabulary))
        }
        let columns = EnterpriseColumns(profiles, vocabulary: catalog.vocabulary)
        let loadSeconds = (ContinuousClock.now - loadStart).seconds

        // Amounts only, column by column (what OpenFisca computes): every clause in force, 就高不重复 applied.
        let columnStart = ContinuousClock.now
        let amounts = engine.amounts(columns, asOf: asOf)
        let columnSeconds = (ContinuousClock.now - columnStart).seconds
        let outsideColumns =
            encoded.map { encoded in amounts.byClause.keys.filter { !encoded.contains($0) }.count } ?? 0
        report(
            "mesh", count: profiles.count, loadSeconds: loadSeconds, computeSeconds: columnSeconds,
            total: amounts.total,
            byClause: amounts.byClause, eligibleEnterprises: amounts.eligibleEnterprises, outside: outsideColumns)

        // Explained: screen each enterprise against every clause in force, each decision with its checks,
        // facts used and citations, 就高不重复 applied.
        let computeStart = ContinuousClock.now
        var byClause: [String: Int64] = [:]
        var total: Int64 = 0
        var eligibleEnterprises = 0
        var outside: Set<String> = []
        var disagreements = 0
        var returned: [Decision.Status: Int] = [:]
        for index in profiles.indices {
            let screening = engine.screen(profiles[index], asOf: asOf)
            for decision in screening.decisions { returned[decision.status, default: 0] += 1 }
            var any = false
            var enterpriseTotal: Int64 = 0
            for decision in screening.decisions where decision.status == .eligible {
                byClause[decision.clause.id, default: 0] += decision.amountFen
                total += decision.amountFen
                enterpriseTotal += decision.amountFen
                any = true
                if let encoded, !encoded.contains(decision.clause.id) { outside.insert(decision.clause.id) }
            }
            if any { eligibleEnterprises += 1 }
            if enterpriseTotal != amounts.perEnterprise[index] { disagreements += 1 }
        }
        let computeSeconds = (ContinuousClock.now - computeStart).seconds
        report(
            "mesh-explained", count: profiles.count, loadSeconds: loadSeconds, computeSeconds: computeSeconds,
            total: total,
            byClause: byClause, eligibleEnterprises: eligibleEnterprises, outside: outside.count,
            disagreements: disagreements)
        if ProcessInfo.processInfo.environment["ELIGIBILITY_WORDS_DIGEST"] != nil {
            // Not timed: a digest of every word of every decision, to show a change to the engine's speed left
            // its words as they were.
            var digest: UInt64 = 0xcbf2_9ce4_8422_2325
            func mix(_ text: String) {
                for byte in text.utf8 { digest = (digest ^ UInt64(byte)) &* 0x100_0000_01b3 }
                digest = (digest ^ 0xff) &* 0x100_0000_01b3
            }
            for profile in profiles {
                for decision in engine.screen(profile, asOf: asOf).decisions {
                    mix(decision.clause.id)
                    mix(decision.status.rawValue)
                    mix(String(decision.amountFen))
                    mix(decision.reason)
                    mix(decision.calculation)
                    mix(decision.missing.joined(separator: "|"))
                    mix(decision.supersededBy ?? "-")
                    for check in decision.checks {
                        mix(check.conditionText)
                        mix(check.factUsed)
                        mix(check.explanation)
                        mix(check.nearMiss ?? "-")
                    }
                }
            }
            FileHandle.standardError.write(Data("words digest: \(String(digest, radix: 16))\n".utf8))
        }
        let statuses = returned.keys.sorted { $0.rawValue < $1.rawValue }.map { "\($0.rawValue) \(returned[$0]!)" }
        FileHandle.standardError.write(Data("decisions returned: \(statuses.joined(separator: ", "))\n".utf8))
    }

    /// One JSON object in the format the OpenFisca peer prints. `disagreements`: enterprises whose explained
    /// total differs from the column-wise one (0 when both paths agree).
    static func report(
        _ engine: String, count: Int, loadSeconds: Double, computeSeconds: Double, total: Int64,
        byClause: [String: Int64],
        eligibleEnterprises: Int, outside: Int, disagreements: Int? = nil
    ) {
        let clauses = byClause.keys.sorted().map { "\"\($0)\":\(byClause[$0]!)" }.joined(separator: ",")
        let extra = disagreements.map { ",\"disagreements\":\($0)" } ?? ""
        print(
            #"{"engine":"\#(engine)","count":\#(count),"loadSeconds":\#(loadSeconds),"computeSeconds":\#(computeSeconds),"totalFen":\#(total),"byClause":{\#(clauses)},"eligibleEnterprises":\#(eligibleEnterprises),"clausesOutsideList":\#(outside)\#(extra)}"#
        )
    }
}

extension Duration {
    var seconds: Double { Double(self.components.seconds) + Double(self.components.attoseconds) / 1e18 }
}
