import ArgumentParser
import MeshRPC
import ServiceKit

/// The catalog service. Its methods arrive with the issue that builds it; until then it answers health checks.
@main
struct CatalogCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "catalog", abstract: "The catalog service of the Jiaxing benefits mesh.")

    @OptionGroup var options: ServiceOptions

    func run() async throws {
        try await ServiceRunner.run(name: "catalog", options: self.options, router: RPCRouter())
    }
}
