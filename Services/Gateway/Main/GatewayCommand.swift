import ArgumentParser
import MeshRPC
import ServiceKit

/// The gateway service. Its methods arrive with the issue that builds it; until then it answers health checks.
@main
struct GatewayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "gateway", abstract: "The gateway service of the Jiaxing benefits mesh.")

    @OptionGroup var options: ServiceOptions

    func run() async throws {
        try await ServiceRunner.run(name: "gateway", options: self.options, router: RPCRouter())
    }
}
