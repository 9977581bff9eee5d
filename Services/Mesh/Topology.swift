import ArgumentParser
import Foundation
import MeshIdentity
import MeshPKI

/// The services of a mesh, their ports and replicas, and the parties that get certificates.
struct Topology: Decodable {
    struct ServiceEntry: Decodable {
        var name: String
        var port: Int
        var replicas: Int
        /// Services this one calls: it is started with `--NAME-port PORT` for each.
        var dependsOn: [String]?
        /// Services this one spreads calls over: it is started with `--NAME-ports P1,P2,…` for each.
        var balances: [String]?
        /// More arguments; `{state}` stands for the state folder, `{certificates}` for the certificates folder.
        var arguments: [String]?
    }

    var certificates: String
    var state: String
    /// Each replica serves Prometheus metrics and HTTP health on its mesh port plus this; none when absent.
    var metricsPortOffset: Int?
    var services: [ServiceEntry]
    var parties: [String: [String]]

    static func load(path: String) throws -> Topology {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ValidationError("cannot read the topology file \(path)")
        }
        return try JSONDecoder().decode(Topology.self, from: data)
    }

    /// Every party that needs a certificate: each service, then counties, departments, operator, tools.
    var allParties: [(name: String, role: PartyRole)] {
        var parties = self.services.map { (name: $0.name, role: PartyRole.service) }
        for role in PartyRole.allCases where role != .service {
            for name in self.parties[role.rawValue] ?? [] { parties.append((name, role)) }
        }
        return parties
    }

    /// Applies `--replicas name=N` overrides.
    mutating func override(replicas: [String]) throws {
        for item in replicas {
            let parts = item.split(separator: "=")
            guard parts.count == 2, let count = Int(parts[1]), count >= 1, count <= 9,
                let index = self.services.firstIndex(where: { $0.name == parts[0] })
            else { throw ValidationError("--replicas takes service=N with N from 1 to 9, got '\(item)'") }
            self.services[index].replicas = count
        }
    }
}
