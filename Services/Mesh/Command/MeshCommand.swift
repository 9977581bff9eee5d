import ArgumentParser
import ServiceKit

/// The operator's tool: certificates, starting and stopping the mesh on one machine, calling it.
@main
struct MeshCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mesh",
        abstract: "Run and operate the Jiaxing enterprise-benefits mesh.",
        version: MeshRelease.version,
        subcommands: [
            UpCommand.self, DownCommand.self, StatusCommand.self, DemoCommand.self, CallCommand.self,
            CertificatesCommand.self, HealthCommand.self, AccountCommand.self, RestartCommand.self, ChaosCommand.self,
            SoakCommand.self, CampaignCommand.self, SimulateCommand.self,
        ]
    )

    /// Files the tool makes (state, logs, certificates, the console's accounts) are its user's alone.
    static func main() async {
        FileModes.restrictToOwner()
        do {
            var command = try Self.parseAsRoot()
            if var asynchronous = command as? AsyncParsableCommand {
                try await asynchronous.run()
            } else {
                try command.run()
            }
        } catch {
            Self.exit(withError: error)
        }
    }
}
