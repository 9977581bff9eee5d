import ArgumentParser
import BenefitsAPI
import Foundation
import Logging
import MeshHarness
import MeshRPC
import ServiceKit

/// Calls any method of any service or of the gateway with JSON in and JSON out, in the spirit of grpcurl. A
/// party's certificate reaches the gateway's methods and every port's health; the services' own methods
/// answer the other services only (`ServiceAccess`).
struct CallCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "call",
        abstract: "Call a method with JSON (the protobuf JSON mapping) in and out, or list the methods.",
        discussion: """
            Examples:
              mesh call --list
              mesh call --as nanhu Gateway/Screen '{"asOf": {"year": 2023, "month": 9, "day": 1}, "profile": {...}}'
              mesh call --as operator Gateway/ListFunds '{}'
              mesh call --as nanhu --service disbursement Health/Check '{}'
            Streaming requests take several JSON arguments; streamed responses print one JSON object a line.
            """
    )

    @Flag(help: "List every service and method with its request and response messages.")
    var list = false

    @Option(
        name: .customLong("as"),
        help: "Whose certificate to use: a party name from the certificate directory (default mesh-cli).")
    var identity = "mesh-cli"

    @Option(help: "The service to call (default: the one the method belongs to; gateway methods go to the gateway).")
    var service: String?

    @Option(help: "Port to call (default: from the running mesh).")
    var port: Int?

    @Option(help: "Topology file.")
    var topology = "Compose/topology.json"

    @Option(help: "Seconds to wait for the answer.")
    var timeout = 10

    @Option(help: "Host to call (a mesh elsewhere, such as Compose's published gateway; with --port).")
    var host = "127.0.0.1"

    @Argument(help: "The method: package.Service/Method or Service/Method.")
    var method: String?

    @Argument(help: "The request(s) as JSON objects.")
    var requests: [String] = []

    func run() async throws {
        if self.list {
            for entry in MethodRegistry.entries {
                print(
                    "\(entry.method.fullName)  (\(entry.kind.rawValue))  \(entry.request.protoMessageName) → \(entry.response.protoMessageName)"
                )
            }
            return
        }
        guard let name = self.method, let entry = MethodRegistry.find(name) else {
            throw ValidationError("unknown method '\(self.method ?? "")'; `mesh call --list` shows them")
        }
        let topology = try Topology.load(path: self.topology)
        let serviceName = self.service ?? Self.serviceName(of: entry.method.service)
        var port = self.port
        if port == nil {
            guard let state = MeshState.load(directory: topology.state),
                let instance = state.instances.first(where: { $0.service == serviceName })
            else {
                throw ValidationError("no running \(serviceName) found: start the mesh with `mesh up`, or pass --port")
            }
            port = instance.port
        }
        var logger = Logger(label: "mesh.call")
        logger.logLevel = .critical
        let tls = try TLSFiles.load(directory: topology.certificates, name: self.identity, serverHostname: serviceName)
        let client = MeshClient(configuration: .init(host: self.host, port: port!, tls: tls), logger: logger)
        try await client.closing {
            do {
                for line in try await entry.call(
                    client, self.requests.isEmpty ? ["{}"] : self.requests, CallOptions(timeout: .seconds(self.timeout))
                ) {
                    print(line)
                }
            } catch let error as RPCError {
                FileHandle.standardError.write(Data("\(error.code): \(error.message)\n".utf8))
                throw ExitCode(Int32(error.code.rawValue))
            }
        }
    }

    /// `jiaxing.benefits.v1.CatalogService` → catalog; `jiaxing.benefits.v1.Gateway` → gateway.
    static func serviceName(of service: String) -> String {
        let last = service.split(separator: ".").last.map(String.init) ?? service
        switch last {
        case "CatalogService": return "catalog"
        case "EligibilityService": return "eligibility"
        case "DisbursementService": return "disbursement"
        case "NotificationService": return "notification"
        case "Health": return "gateway"
        default: return "gateway"
        }
    }
}
