import Foundation
import MeshIdentity

/// The services of a mesh on one machine, their ports and replicas, and the parties that get certificates:
/// what `mesh up` starts and the tests start the same way.
public struct Topology: Decodable, Sendable {
    public struct ServiceEntry: Decodable, Sendable {
        public var name: String
        public var port: Int
        public var replicas: Int
        /// Services this one calls: it is started with `--NAME-port PORT` for each.
        public var dependsOn: [String]?
        /// Services this one spreads calls over: it is started with `--NAME-ports P1,P2,…` for each.
        public var balances: [String]?
        /// More arguments; `{state}` stands for the state folder, `{certificates}` for the certificates folder.
        public var arguments: [String]?
    }

    public var certificates: String
    public var state: String
    /// Each replica serves Prometheus metrics and HTTP health on its mesh port plus this; none when absent.
    public var metricsPortOffset: Int?
    public var services: [ServiceEntry]
    public var parties: [String: [String]]

    public static func load(path: String) throws -> Topology {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw HarnessError("cannot read the topology file \(path)")
        }
        do {
            return try JSONDecoder().decode(Topology.self, from: data)
        } catch {
            throw HarnessError("the topology file \(path) is not valid: \(error)")
        }
    }

    /// Every party that needs a certificate: each service, then counties, departments, operator, tools.
    public var allParties: [(name: String, role: PartyRole)] {
        var parties = self.services.map { (name: $0.name, role: PartyRole.service) }
        for role in PartyRole.allCases where role != .service {
            for name in self.parties[role.rawValue] ?? [] { parties.append((name, role)) }
        }
        return parties
    }

    /// The most replicas `override(replicas:)` gives a service: its ports are the next ones up, and the
    /// topology leaves ten between services.
    public static let maximumReplicas = 9

    /// Applies `--replicas name=N` overrides.
    public mutating func override(replicas: [String]) throws {
        for item in replicas {
            let parts = item.split(separator: "=")
            guard parts.count == 2, let count = Int(parts[1]), (1...Self.maximumReplicas).contains(count),
                let index = self.services.firstIndex(where: { $0.name == parts[0] })
            else {
                throw HarnessError(
                    "--replicas takes service=N with N from 1 to \(Self.maximumReplicas), got '\(item)'")
            }
            self.services[index].replicas = count
        }
    }
}

/// A topology, state file or process that the harness cannot use, in words.
public struct HarnessError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { self.message }
}
