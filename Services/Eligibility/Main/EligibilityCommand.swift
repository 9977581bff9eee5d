import ArgumentParser
import MeshRPC
import ServiceKit

/// The eligibility service. Its methods arrive with the issue that builds it; until then it answers health checks.
@main
struct EligibilityCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "eligibility", abstract: "The eligibility service of the Jiaxing benefits mesh.")

    @OptionGroup var options: ServiceOptions

    func run() async throws {
        try await ServiceRunner.run(name: "eligibility", options: self.options, router: RPCRouter())
    }
}
