import ArgumentParser
import MeshRPC
import ServiceKit

/// The disbursement service. Its methods arrive with the issue that builds it; until then it answers health checks.
@main
struct DisbursementCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "disbursement", abstract: "The disbursement service of the Jiaxing benefits mesh.")

    @OptionGroup var options: ServiceOptions

    func run() async throws {
        try await ServiceRunner.run(name: "disbursement", options: self.options, router: RPCRouter())
    }
}
