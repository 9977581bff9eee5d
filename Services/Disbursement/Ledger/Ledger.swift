import BenefitsDomain
import CatalogModel
import Foundation
import MeshMessages
import NIOConcurrencyHelpers
import SQLStore
import ServiceLifecycle

/// The double-entry ledger of payout orders and the funds they draw on: reservations, approvals, payments,
/// clawbacks, each in one transaction per change (or per group of changes: group commit) together with its
/// event in the outbox (`LedgerOutbox`, which subscribers read). Applications are the `ApplicationsDesk`'s,
/// which proposes an approved application's order here in the same transaction.
///
/// A service: its changes are committed while `run()` runs (the group committer's batches), so it is run
/// in the process's service group, before the server that calls it and stopped after the server drained.
public final class Ledger: Service, Sendable {
    public typealias Order = Jiaxing_Benefits_V1_PayoutOrder

    let database: any SQLDatabase
    let catalog: @Sendable () -> Catalog?
    let now: @Sendable () -> Int64
    /// The 74 random bits of each order's and application's id (UUID version 7).
    let idBits: @Sendable () -> (UInt64, UInt64)
    /// How long a pending order waits for its department before it expires.
    public let orderLifetimeMillis: Int64
    let committer: GroupCommitter
    /// The events of every change, written in the change's transaction; subscribers read them here.
    public let outbox: LedgerOutbox
    let payoutTerms = NIOLockedValueBox(PayoutTermsCache())

    /// - Parameters:
    ///   - catalog: the catalog revision in force, for clause caps, departments and stacking rules.
    ///   - now: milliseconds since 1970; injected so expiry is testable.
    ///   - groupCommit: whether concurrent proposals share a transaction (one commit, one fsync, for up to 512),
    ///     the next batch beginning while the last one's commit is synced; false commits each on its own,
    ///     durable before the next begins: the naive baseline the benchmark compares with.
    ///   - idBits: the random bits of order and application ids: the kernel's, or drawn from a seed where a
    ///     run must replay (the simulation: where rows land decides how many pages a commit writes).
    public init(
        database: any SQLDatabase, catalog: @escaping @Sendable () -> Catalog?,
        orderLifetime: Duration = .seconds(7 * 24 * 3600), groupCommit: Bool = true,
        now: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970 * 1000) },
        idBits: (@Sendable () -> (UInt64, UInt64))? = nil
    ) {
        self.database = database
        self.catalog = catalog
        self.now = now
        self.idBits = idBits ?? { UUIDv7.randomPair() }
        self.orderLifetimeMillis = orderLifetime.components.seconds * 1000
        self.outbox = LedgerOutbox(database: database, now: now)
        self.committer = GroupCommitter(
            database: database, maximumBatch: groupCommit ? GroupCommitter.defaultMaximumBatch : 1,
            pipelined: groupCommit)
    }

    /// Commits the ledger's changes until the service group shuts down; changes queued before that are
    /// committed and answered first.
    public func run() async {
        await self.committer.run()
    }

    /// Runs `body` with the ledger running, outside a service group (a tool, a test), then commits what was
    /// queued and stops it: a change asked for afterwards is refused.
    public func running<Result>(
        isolation: isolated (any Actor)? = #isolation, _ body: () async throws -> Result
    ) async throws -> Result {
        try await self.committer.running(isolation: isolation, body)
    }

    /// Brings the tables up to the ledger's last schema step; replicas starting together take turns.
    public func migrate() async throws {
        try await self.database.migrate("ledger", LedgerSchema.migrations, now: self.now())
    }

    static func fundAccount(documentID: String, year: Int) -> String {
        Self.fundAccountPrefix(documentID: documentID) + String(year)
    }

    /// What the accounts of a document's funds begin with, before the year.
    static func fundAccountPrefix(documentID: String) -> String { "fund:\(documentID):" }
    static func enterpriseAccount(_ creditCode: String) -> String { "enterprise:\(creditCode)" }
    static func receivableAccount(_ creditCode: String) -> String { "receivable:\(creditCode)" }

    /// Moves money: debit loses it, credit gains it. Both accounts' cached balances change in the same
    /// transaction as the transfer row.
    static let insertTransfer =
        "INSERT INTO transfers (order_id, debit_account, credit_account, amount_fen, kind, created_at) VALUES (?, ?, ?, ?, ?, ?)"

    static func transfer(
        _ tx: any SQLTransaction, order: String?, debit: String, credit: String, amount: Fen, kind: String, at: Int64
    ) async throws {
        try await tx.execute(
            Self.insertTransfer,
            [
                order.map { SQLValue.text($0) } ?? .null, .text(debit), .text(credit), .integer(amount), .text(kind),
                .integer(at),
            ]
        )
        try await tx.execute(
            "UPDATE accounts SET balance_fen = balance_fen - ? WHERE id = ?", [.integer(amount), .text(debit)])
        try await tx.execute(
            "UPDATE accounts SET balance_fen = balance_fen + ? WHERE id = ?", [.integer(amount), .text(credit)])
    }

    static func ensureAccount(_ tx: any SQLTransaction, id: String, kind: String) async throws {
        try await tx.execute(
            "INSERT INTO accounts (id, kind) VALUES (?, ?) ON CONFLICT (id) DO NOTHING", [.text(id), .text(kind)])
    }
}
