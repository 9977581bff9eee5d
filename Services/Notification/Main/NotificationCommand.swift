import ArgumentParser
import MeshRPC
import ServiceKit

/// The notification service. Its methods arrive with the issue that builds it; until then it answers health checks.
@main
struct NotificationCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "notification", abstract: "The notification service of the Jiaxing benefits mesh.")

    @OptionGroup var options: ServiceOptions

    func run() async throws {
        try await ServiceRunner.run(name: "notification", options: self.options, router: RPCRouter())
    }
}
