import ArgumentParser
import CatalogModel
import CatalogService
import Foundation
import MeshRPC
import ServiceKit

/// The catalog service: every benefit clause of the policy documents, versioned, with its verbatim text.
@main
struct CatalogCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "catalog",
        abstract: "The catalog service of the Jiaxing benefits mesh.",
        version: MeshRelease.version,
        subcommands: [Serve.self, Validate.self],
        defaultSubcommand: Serve.self
    )

    struct DataOptions: ParsableArguments {
        @Option(help: "Directory of the catalog files (one JSON file per document, and vocabulary.json).")
        var data = "Services/Catalog/Data"

        @Option(
            help: "Directory of the source documents every quoted text is checked against (default: <data>/sources).")
        var sources: String?

        var sourcesDirectory: String { self.sources ?? CatalogLoader.sourcesDirectory(of: self.data) }
    }

    struct Serve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Serve the catalog over the mesh; reload when the files change.",
            discussion: ServiceSettings.discussion)

        @OptionGroup var options: ServiceOptions
        @OptionGroup var data: DataOptions

        @Option(help: "Seconds between checks of the catalog files for changes.")
        var reloadSeconds = 2

        mutating func run() async throws {
            try await self.configure(from: ServiceSettings.load())
            FileModes.restrictToOwner()
            let logger = self.options.logger(label: "jiaxing.catalog")
            let store = try CatalogStore(
                directory: self.data.data, sourcesDirectory: self.data.sourcesDirectory, logger: logger)
            var router = RPCRouter()
            CatalogHandlers(store: store).register(into: &router)
            try await ServiceRunner.run(
                name: "catalog", options: self.options, router: router,
                services: [CatalogFileWatcher(store: store, interval: .seconds(self.reloadSeconds))]
            )
        }
    }

    struct Validate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check the catalog files and report every problem by file, clause and field.")

        @OptionGroup var data: DataOptions

        func run() throws {
            do {
                let catalog = try CatalogLoader.load(
                    directory: self.data.data, sourcesDirectory: self.data.sourcesDirectory)
                let cash = catalog.documents.flatMap(\.clauses).filter(\.cash).count
                print(
                    "catalog \(catalog.revision): \(catalog.documents.count) documents, \(catalog.clauseCount) clauses (\(cash) cash), all valid; every quoted text found in \(self.data.sourcesDirectory)"
                )
            } catch let error as CatalogValidationError {
                print(error)
                throw ExitCode.failure
            }
        }
    }
}
