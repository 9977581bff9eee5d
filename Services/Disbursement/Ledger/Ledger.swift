import BenefitsDomain
import CatalogModel
import Foundation
import MeshMessages
import NIOConcurrencyHelpers
import SQLStore

/// The double-entry ledger of payout orders: reservations, approvals, payments, clawbacks, and the events
/// of each change, all in one transaction per change (or per group of changes: group commit).
public final class Ledger: Sendable {
    public typealias Order = Jiaxing_Benefits_V1_PayoutOrder

    let database: any SQLDatabase
    let catalog: @Sendable () -> Catalog?
    let now: @Sendable () -> Int64
    /// How long a pending order waits for its department before it expires.
    public let orderLifetimeMillis: Int64
    let committer: GroupCommitter

    /// - Parameters:
    ///   - catalog: the catalog revision in force, for clause caps, departments and stacking rules.
    ///   - now: milliseconds since 1970; injected so expiry is testable.
    ///   - groupCommit: whether concurrent proposals share a transaction (one commit, one fsync, for up to 512);
    ///     false commits each on its own, the naive baseline the benchmark compares with.
    public init(database: any SQLDatabase, catalog: @escaping @Sendable () -> Catalog?, orderLifetime: Duration = .seconds(7 * 24 * 3600), groupCommit: Bool = true, now: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970 * 1000) }) {
        self.database = database
        self.catalog = catalog
        self.now = now
        self.orderLifetimeMillis = orderLifetime.components.seconds * 1000
        self.committer = GroupCommitter(database: database, maximumBatch: groupCommit ? GroupCommitter.defaultMaximumBatch : 1)
    }

    /// Creates the tables where they do not exist.
    public func migrate() async throws {
        try await self.database.executeScript(self.database.dialect == .postgres ? LedgerSchema.postgres : LedgerSchema.sqlite)
        // Columns added since a ledger was first created.
        for column in LedgerSchema.addedColumns {
            do {
                try await self.database.executeScript("ALTER TABLE \(column.table) ADD COLUMN \(self.database.dialect == .postgres ? "IF NOT EXISTS " : "")\(column.definition)")
            } catch let error as SQLError where error.message.contains("duplicate column") {
                // SQLite has no IF NOT EXISTS for columns: the column is there already.
            }
        }
    }

    static func fundAccount(documentID: String, year: Int) -> String { "fund:\(documentID):\(year)" }
    static func enterpriseAccount(_ creditCode: String) -> String { "enterprise:\(creditCode)" }
    static func receivableAccount(_ creditCode: String) -> String { "receivable:\(creditCode)" }

    /// Moves money: debit loses it, credit gains it. Both accounts' cached balances change in the same
    /// transaction as the transfer row.
    static func transfer(_ tx: any SQLTransaction, order: String?, debit: String, credit: String, amount: Fen, kind: String, at: Int64) async throws {
        try await tx.execute(
            "INSERT INTO transfers (order_id, debit_account, credit_account, amount_fen, kind, created_at) VALUES (?, ?, ?, ?, ?, ?)",
            [order.map { SQLValue.text($0) } ?? .null, .text(debit), .text(credit), .integer(amount), .text(kind), .integer(at)]
        )
        try await tx.execute("UPDATE accounts SET balance_fen = balance_fen - ? WHERE id = ?", [.integer(amount), .text(debit)])
        try await tx.execute("UPDATE accounts SET balance_fen = balance_fen + ? WHERE id = ?", [.integer(amount), .text(credit)])
    }

    static func ensureAccount(_ tx: any SQLTransaction, id: String, kind: String) async throws {
        try await tx.execute("INSERT INTO accounts (id, kind) VALUES (?, ?) ON CONFLICT (id) DO NOTHING", [.text(id), .text(kind)])
    }

    /// Appends an event in the transaction that made the change (transactional outbox).
    static func emit(_ tx: any SQLTransaction, type: String, order: Order, at: Int64) async throws {
        var event = Jiaxing_Benefits_V1_DisbursementEvent()
        event.order = order
        try await Self.append(tx, event, type: type, entityKey: order.creditCode, id: order.id, at: at)
    }

    /// The outbox row of an event about an order or an application; events of one enterprise (the entity
    /// key) are delivered in order.
    static func append(_ tx: any SQLTransaction, _ event: Jiaxing_Benefits_V1_DisbursementEvent, type: String, entityKey: String, id: String, at: Int64) async throws {
        var event = event
        event.type = type
        event.atMillis = at
        let payload: [UInt8] = try event.serializedBytes()
        try await tx.execute(
            "INSERT INTO events (type, entity_key, order_id, payload, at) VALUES (?, ?, ?, ?, ?)",
            [.text(type), .text(entityKey), .text(id), .blob(payload), .integer(at)]
        )
    }
}

/// Batches concurrent proposals into one transaction: one commit (one fsync) for many orders.
final class GroupCommitter: Sendable {
    typealias Work = @Sendable (any SQLTransaction) async -> Void

    private let database: any SQLDatabase
    private let state = NIOLockedValueBox((queue: [(work: Work, done: CheckedContinuation<Void, any Error>)](), running: false))
    /// Most proposals in one transaction.
    static let defaultMaximumBatch = 512
    let maximumBatch: Int

    init(database: any SQLDatabase, maximumBatch: Int) {
        self.database = database
        self.maximumBatch = maximumBatch
    }

    /// Runs `work` inside a shared transaction; returns once that transaction committed.
    func run(_ work: @escaping Work) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let start = self.state.withLockedValue { state -> Bool in
                state.queue.append((work, continuation))
                guard !state.running else { return false }
                state.running = true
                return true
            }
            if start { Task { await self.drain() } }
        }
    }

    /// Runs `body` in the next shared transaction inside a savepoint of its own, so a refusal or a storage
    /// failure undoes only its own changes; returns its result once the shared transaction committed.
    func transaction<Value: Sendable>(_ body: @escaping @Sendable (any SQLTransaction) async throws -> Value) async throws -> Value {
        let outcome = NIOLockedValueBox<Result<Value, LedgerError>?>(nil)
        try await self.run { tx in
            do {
                try await tx.execute("SAVEPOINT item", [])
                let value = try await body(tx)
                try await tx.execute("RELEASE item", [])
                outcome.withLockedValue { $0 = .success(value) }
            } catch {
                try? await tx.execute("ROLLBACK TO item", [])
                try? await tx.execute("RELEASE item", [])
                let refusal = error as? LedgerError ?? LedgerError(.unavailable, "ledger storage failed: \(error)")
                outcome.withLockedValue { $0 = .failure(refusal) }
            }
        }
        switch outcome.withLockedValue({ $0 }) {
        case .success(let value): return value
        case .failure(let error): throw error
        case nil: throw LedgerError(.unavailable, "the change was not processed")
        }
    }

    private func drain() async {
        while true {
            let batch = self.state.withLockedValue { state -> [(work: Work, done: CheckedContinuation<Void, any Error>)] in
                let batch = Array(state.queue.prefix(self.maximumBatch))
                state.queue.removeFirst(batch.count)
                if batch.isEmpty { state.running = false }
                return batch
            }
            guard !batch.isEmpty else { return }
            do {
                try await self.database.transaction { tx in
                    for item in batch { await item.work(tx) }
                }
                for item in batch { item.done.resume() }
            } catch {
                for item in batch { item.done.resume(throwing: error) }
            }
        }
    }
}
