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
///
/// Changes of one `SetChange` kind in a batch run together, as a few set-based statements instead of a few
/// statements each: on PostgreSQL every statement is a round trip, and a proposal alone took six.
package final class GroupCommitter: Sendable {
    typealias Work = @Sendable (any SQLTransaction) async throws -> Void
    private typealias Refusals = [Int: LedgerError]

    private struct Item {
        enum Kind {
            case change(Work)
            /// A change run with the others of its kind: `kind` groups them, `input` is what it changes.
            case member(kind: ObjectIdentifier, input: any Sendable, batch: ErasedBatch, alone: Work)
        }
        let kind: Kind
        let done: CheckedContinuation<Void, any Error>
        /// Keeps a member's value for its caller.
        let deliver: @Sendable (any Sendable) -> Void
    }

    typealias ErasedBatch = @Sendable ([any Sendable], any SQLTransaction) async throws -> [Result<any Sendable, LedgerError>]

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
        let work: Work = { tx in
            let value = try await body(tx)
            outcome.withLockedValue { $0 = value }
        }
        try await self.enqueue(.change(work)) { _ in }
        guard let value = outcome.withLockedValue({ $0 }) else { throw LedgerError(.unavailable, "the change was not processed") }
        return value
    }

    /// Runs `input` in the next shared transaction together with the other changes of `kind` queued by then.
    package func transaction<Input: Sendable, Value: Sendable>(_ input: Input, as kind: SetChange<Input, Value>) async throws -> Value {
        let outcome = NIOLockedValueBox<Value?>(nil)
        let alone: Work = { tx in
            let value = try await kind.alone(input, tx)
            outcome.withLockedValue { $0 = value }
        }
        try await self.enqueue(.member(kind: ObjectIdentifier(kind), input: input, batch: kind.erased, alone: alone)) { value in
            outcome.withLockedValue { $0 = value as? Value }
        }
        guard let value = outcome.withLockedValue({ $0 }) else { throw LedgerError(.unavailable, "the change was not processed") }
        return value
    }

    private func enqueue(_ kind: Item.Kind, deliver: @escaping @Sendable (any Sendable) -> Void) async throws {
        do {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let start = self.state.withLockedValue { state -> Bool in
                    state.queue.append(Item(kind: kind, done: continuation, deliver: deliver))
                    guard !state.running else { return false }
                    state.running = true
                    return true
                }
                if start { Task { await self.drain() } }
            }
        } catch {
            throw error as? LedgerError ?? LedgerError(.unavailable, "ledger storage failed: \(error)")
        }
    }

    private func drain() async {
        while true {
            let batch = self.state.withLockedValue { state -> [Item] in
                // The whole queue is taken by swapping arrays where it fits: copying and shifting the items
                // (each a few existentials and closures) showed in profiles of the committer.
                var batch: [Item] = []
                if state.queue.count <= self.maximumBatch {
                    swap(&batch, &state.queue)
                } else {
                    batch = Array(state.queue.prefix(self.maximumBatch))
                    state.queue.removeFirst(batch.count)
                }
                if batch.isEmpty { state.running = false }
                return batch
            }
            guard !batch.isEmpty else { return }
            do {
                let (refusals, values) = try await self.database.transaction { tx in try await Self.run(batch, tx) }
                for (index, item) in batch.enumerated() {
                    if let refusal = refusals[index] {
                        item.done.resume(throwing: refusal)
                    } else {
                        if let value = values[index] { item.deliver(value) }
                        item.done.resume()
                    }
                }
            } catch {
                // A change failed after writing, or the commit failed: nothing of the batch was kept. Each
                // change runs again alone, so one bad change costs only itself.
                for item in batch {
                    do {
                        switch item.kind {
                        case .change(let work), .member(_, _, _, let work):
                            try await self.database.transaction { tx in try await work(tx) }
                        }
                        item.done.resume()
                    } catch {
                        item.done.resume(throwing: error)
                    }
                }
            }
        }
    }

    /// One batch in one transaction: each kind's members together (in the order of their first), then the
    /// plain changes one by one, each in the order queued.
    private static func run(_ batch: [Item], _ tx: any SQLTransaction) async throws -> (Refusals, [Int: any Sendable]) {
        var refusals: Refusals = [:]
        var values: [Int: any Sendable] = [:]
        var kinds: [ObjectIdentifier] = []
        var members: [ObjectIdentifier: (batch: ErasedBatch, indices: [Int], inputs: [any Sendable])] = [:]
        for (index, item) in batch.enumerated() {
            guard case .member(let kind, let input, let run, _) = item.kind else { continue }
            if members[kind] == nil {
                kinds.append(kind)
                members[kind] = (run, [], [])
            }
            members[kind]!.indices.append(index)
            members[kind]!.inputs.append(input)
        }
        for kind in kinds {
            let group = members[kind]!
            let results = try await group.batch(group.inputs, tx)
            for (index, result) in zip(group.indices, results) {
                switch result {
                case .success(let value): values[index] = value
                case .failure(let refusal): refusals[index] = refusal
                }
            }
        }
        for (index, item) in batch.enumerated() {
            guard case .change(let work) = item.kind else { continue }
            let tracked = WriteTracking(tx)
            do {
                try await work(tracked)
            } catch let refusal as LedgerError where !tracked.wrote {
                refusals[index] = refusal
            }
        }
        return (refusals, values)
    }
}

/// Changes that a batch runs together as set-based statements. Made once per kind: the instance groups them.
package final class SetChange<Input: Sendable, Value: Sendable>: Sendable {
    /// Every input of the batch, in the order queued; returns each one's value or refusal, and refuses only
    /// before it writes. Anything it throws spoils the batch.
    let batch: @Sendable ([Input], any SQLTransaction) async throws -> [Result<Value, LedgerError>]
    /// One input alone, in a transaction of its own, after a spoiled batch.
    let alone: @Sendable (Input, any SQLTransaction) async throws -> Value

    /// `batch` for the committer's queue, which holds changes of every kind: made once per kind, not per change.
    let erased: GroupCommitter.ErasedBatch

    package init(
        batch: @escaping @Sendable ([Input], any SQLTransaction) async throws -> [Result<Value, LedgerError>],
        alone: @escaping @Sendable (Input, any SQLTransaction) async throws -> Value
    ) {
        self.batch = batch
        self.alone = alone
        self.erased = { inputs, tx in
            try await batch(inputs.map { $0 as! Input }, tx).map { result in result.map { $0 as any Sendable } }
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
