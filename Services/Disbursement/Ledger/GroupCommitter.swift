import NIOConcurrencyHelpers
import SQLStore

/// Batches concurrent changes into one transaction: one commit (one fsync) for many orders.
///
/// A change refuses (throws a `LedgerError`) before it writes anything, and the shared transaction carries
/// on without it. Savepoints per change would allow a refusal anywhere, but they were a fifth of a payout's
/// time. Anything else spoils the shared transaction: a change that throws after it wrote, or a storage
/// error (after which PostgreSQL refuses every further statement of the transaction). The batch is rolled
/// back and each of its changes runs again in a transaction of its own. So a change's body must be free of
/// effects outside the transaction, because it may run twice.
package final class GroupCommitter: Sendable {
    typealias Work = @Sendable (any SQLTransaction) async throws -> Void
    private typealias Item = (work: Work, done: CheckedContinuation<Void, any Error>)
    private typealias Refusals = [Int: LedgerError]

    private let database: any SQLDatabase
    private let state = NIOLockedValueBox((queue: [Item](), running: false))
    /// Most changes in one transaction.
    package static let defaultMaximumBatch = 512
    package let maximumBatch: Int

    package init(database: any SQLDatabase, maximumBatch: Int) {
        self.database = database
        self.maximumBatch = maximumBatch
    }

    /// Runs `body` in the next shared transaction; returns its result once that transaction committed. A
    /// refusal is a `LedgerError`; any other failure is reported as the storage's (`unavailable`).
    package func transaction<Value: Sendable>(_ body: @escaping @Sendable (any SQLTransaction) async throws -> Value) async throws -> Value {
        let outcome = NIOLockedValueBox<Value?>(nil)
        do {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let work: Work = { tx in
                    let value = try await body(tx)
                    outcome.withLockedValue { $0 = value }
                }
                let start = self.state.withLockedValue { state -> Bool in
                    state.queue.append((work, continuation))
                    guard !state.running else { return false }
                    state.running = true
                    return true
                }
                if start { Task { await self.drain() } }
            }
        } catch {
            throw error as? LedgerError ?? LedgerError(.unavailable, "ledger storage failed: \(error)")
        }
        guard let value = outcome.withLockedValue({ $0 }) else { throw LedgerError(.unavailable, "the change was not processed") }
        return value
    }

    private func drain() async {
        while true {
            let batch = self.state.withLockedValue { state -> [Item] in
                let batch = Array(state.queue.prefix(self.maximumBatch))
                state.queue.removeFirst(batch.count)
                if batch.isEmpty { state.running = false }
                return batch
            }
            guard !batch.isEmpty else { return }
            do {
                let refusals = try await self.database.transaction { tx -> Refusals in
                    var refusals: Refusals = [:]
                    for (index, item) in batch.enumerated() {
                        let tracked = WriteTracking(tx)
                        do {
                            try await item.work(tracked)
                        } catch let refusal as LedgerError where !tracked.wrote {
                            refusals[index] = refusal
                        }
                    }
                    return refusals
                }
                for (index, item) in batch.enumerated() {
                    if let refusal = refusals[index] { item.done.resume(throwing: refusal) } else { item.done.resume() }
                }
            } catch {
                // A change failed after writing, or the commit failed: nothing of the batch was kept. Each
                // change runs again alone, so one bad change costs only itself.
                for item in batch {
                    do {
                        try await self.database.transaction { tx in try await item.work(tx) }
                        item.done.resume()
                    } catch {
                        item.done.resume(throwing: error)
                    }
                }
            }
        }
    }
}

/// A transaction that notes whether a change wrote: every `execute` and every query that is not a
/// `SELECT` (`DELETE … RETURNING`) counts as a write.
private final class WriteTracking: SQLTransaction {
    let base: any SQLTransaction
    private(set) var wrote = false

    init(_ base: any SQLTransaction) { self.base = base }

    func execute(_ sql: String, _ parameters: [SQLValue]) async throws {
        self.wrote = true
        try await self.base.execute(sql, parameters)
    }

    func query(_ sql: String, _ parameters: [SQLValue]) async throws -> [SQLRow] {
        if !sql.hasPrefix("SELECT") { self.wrote = true }
        return try await self.base.query(sql, parameters)
    }
}
