import ArgumentParser
import CatalogClient
import EligibilityService
import Foundation
import MeshPKI
import MeshRPC
import ServiceKit

/// The eligibility service: screens enterprise profiles against the catalog it follows.
@main
struct EligibilityCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eligibility", abstract: "The eligibility service of the Jiaxing benefits mesh.",
        discussion: ServiceSettings.discussion, version: MeshRelease.version)

    @OptionGroup var options: ServiceOptions

    @Option(help: "Address of the catalog service.")
    var catalogHost = "127.0.0.1"

    @Option(help: "Port of the catalog service.")
    var catalogPort = 7410

    mutating func run() async throws {
        try await self.configure(from: ServiceSettings.load())
        FileModes.restrictToOwner()
        let logger = self.options.logger(label: "jiaxing.eligibility")
        let tls = try TLSFiles.load(
            directory: self.options.certificates, name: self.options.identity ?? "eligibility",
            serverHostname: "catalog")
        let catalog = MeshClient(
            configuration: .init(host: self.catalogHost, port: self.catalogPort, tls: tls), logger: logger)
        let holder = EngineHolder()
        var router = RPCRouter()
        let sealer = DecisionSealer(
            signer: try StatementSigner(certificatePEM: tls.certificateChainPEM, privateKeyPEM: tls.privateKeyPEM))
        EligibilityHandlers(holder: holder, sealer: sealer).register(into: &router)
        let readiness = ServerHolder()
        // Health answers NOT_SERVING until the first catalog revision has loaded.
        try await ServiceRunner.run(
            name: "eligibility", options: self.options, router: router,
            services: [
                CatalogSubscription(client: catalog, current: { holder.engine?.catalog.revision }, logger: logger) {
                    loaded in
                    holder.replace(with: loaded)
                    readiness.server?.setServing(true)
                }
            ],
            startsServing: false,
            // Screening computes and signs in memory, a profile at a time on the loop; a campaign's pages and a
            // forecast move to the pool (`onCooperativePool`).
            callExecution: .connectionEventLoop,
            configure: { readiness.server = $0 }
        )
    }
}
