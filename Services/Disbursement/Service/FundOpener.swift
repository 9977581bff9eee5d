import Ledger
import Logging
import SQLStore
import ServiceLifecycle

/// Opens the funds of the budgets file once the first catalog has loaded (a fund belongs to a document the
/// catalog names), then tells the replica it is serving; a fund already open keeps its budget. Runs until
/// shutdown, so its work ends inside the service group rather than in a task of its own.
public struct FundOpener: Service {
    public struct Budget: Sendable, Decodable {
        public var documentId: String
        public var year: Int
        public var budgetFen: Int64
    }

    let ledger: Ledger
    let budgets: [Budget]
    /// Rung when a catalog loads; `catalogLoaded` says whether one has.
    let catalogSignal: ChangeSignal
    let catalogLoaded: @Sendable () -> Bool
    let serving: @Sendable () -> Void
    let logger: Logger

    public init(
        ledger: Ledger, budgets: [Budget], catalogSignal: ChangeSignal, catalogLoaded: @escaping @Sendable () -> Bool,
        serving: @escaping @Sendable () -> Void, logger: Logger
    ) {
        self.ledger = ledger
        self.budgets = budgets
        self.catalogSignal = catalogSignal
        self.catalogLoaded = catalogLoaded
        self.serving = serving
        self.logger = logger
    }

    public func run() async throws {
        while !self.catalogLoaded() {
            guard !Task.isCancelled, !Task.isShuttingDownGracefully else { return }
            let seen = self.catalogSignal.generation
            if self.catalogLoaded() { break }
            await cancelWhenGracefulShutdown { await self.catalogSignal.wait(after: seen, timeout: .seconds(1)) }
        }
        for budget in self.budgets {
            do {
                _ = try await self.ledger.openFund(
                    documentID: budget.documentId, year: budget.year, budgetFen: budget.budgetFen, onlyIfAbsent: true)
            } catch {
                self.logger.error(
                    "cannot open fund", metadata: ["document": "\(budget.documentId)", "error": "\(error)"])
            }
        }
        self.serving()
        try? await gracefulShutdown()
    }
}
