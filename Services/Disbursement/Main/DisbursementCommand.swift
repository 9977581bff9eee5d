import ArgumentParser
import BenefitsDomain
import CatalogClient
import CatalogModel
import DisbursementService
import Foundation
import Ledger
import Logging
import MeshMessages
import MeshPKI
import MeshRPC
import NIOConcurrencyHelpers
import SQLStore
import ServiceKit
import ServiceLifecycle

/// The disbursement service: the ledger of payout orders, over the mesh.
@main
struct DisbursementCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "disbursement", abstract: "The disbursement service of the Jiaxing benefits mesh.",
        discussion: ServiceSettings.discussion, version: MeshRelease.version)

    @OptionGroup var options: ServiceOptions

    @Option(help: "The ledger's database: a SQLite file (created on first use), or postgres://user@host:port/database.")
    var database = ".mesh/state/disbursement.sqlite"

    @Option(help: "Address of the catalog service.")
    var catalogHost = "127.0.0.1"

    @Option(help: "Port of the catalog service.")
    var catalogPort = 7410

    @Option(help: "Hours a pending order waits for its department before it expires.")
    var orderLifetimeHours = 168

    @Option(
        help:
            "A JSON file of funds to open at first start: [{\"documentId\": …, \"year\": …, \"budgetFen\": …}]. A fund already open keeps its budget (the operator changes it with OpenFund)."
    )
    var budgets: String?

    mutating func run() async throws {
        let settings = try await ServiceSettings.load()
        try self.configure(from: settings)
        FileModes.restrictToOwner()
        let logger = self.options.logger(label: "jiaxing.disbursement")
        let catalog = NIOLockedValueBox<Catalog?>(nil)
        let database = try await DatabaseOption.connect(
            self.database, password: settings.secret("database-password"), logger: logger)
        // The pool's connections are served (PostgreSQL) for as long as the service runs.
        try await database.running {
            let ledger = Ledger(
                database: database,
                catalog: { catalog.withLockedValue { $0 } },
                orderLifetime: .seconds(self.orderLifetimeHours * 3600)
            )
            try await ledger.migrate()
            let tls = try TLSFiles.load(
                directory: self.options.certificates, name: self.options.identity ?? "disbursement",
                serverHostname: "catalog")
            let catalogClient = MeshClient(
                configuration: .init(host: self.catalogHost, port: self.catalogPort, tls: tls), logger: logger)
            var router = RPCRouter()
            let seals = DecisionSealCheck(verifier: try StatementVerifier(trustRootsPEM: tls.trustRootsPEM))
            DisbursementHandlers(ledger: ledger, seals: seals).register(into: &router)
            let budgets = try self.budgets.map(Self.readBudgets) ?? []
            let catalogLoaded = ChangeSignal()
            let readiness = ServerHolder()
            try await ServiceRunner.run(
                name: "disbursement", options: self.options, router: router,
                foundations: [ledger],
                services: [
                    CatalogSubscription(
                        client: catalogClient, current: { catalog.withLockedValue { $0?.revision } }, logger: logger
                    ) { loaded in
                        catalog.withLockedValue { $0 = loaded }
                        catalogLoaded.ring()
                    },
                    FundOpener(
                        ledger: ledger, budgets: budgets, catalogSignal: catalogLoaded,
                        catalogLoaded: { catalog.withLockedValue { $0 != nil } },
                        serving: { readiness.server?.setServing(true) }, logger: logger),
                    ExpirySweeper(ledger: ledger, logger: logger),
                    FundGauges(ledger: ledger, logger: logger),
                ] + Self.listeners(database, logger: logger),
                startsServing: false,
                configure: { readiness.server = $0 }
            )
        }
    }

    /// Where replicas share PostgreSQL, each follows the others' ledger events (`LISTEN`).
    static func listeners(_ database: any SQLDatabase, logger: Logger) -> [any Service] {
        guard let postgres = database as? PostgresDatabase else { return [] }
        return [ChangeListener(database: postgres, channel: LedgerOutbox.channel, logger: logger)]
    }

    static func readBudgets(_ path: String) throws -> [FundOpener.Budget] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ValidationError("--budgets: cannot read \(path)")
        }
        return try JSONDecoder().decode([FundOpener.Budget].self, from: data)
    }
}
