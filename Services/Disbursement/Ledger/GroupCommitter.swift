import MeshTracing
import NIOConcurrencyHelpers
import SQLStore
import ServiceLifecycle
import Tracing

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
///
/// Batches are pipelined where the store allows it (SQLite): the next batch begins once the last one is
/// written, and the last one's callers are answered once its commit is durable.
///
/// The batches run in `run()`, a service: the waits for durability are child tasks of it, so a graceful
/// shutdown returns only once every change queued before it is committed and its caller answered. A change
/// queued after that is refused as `unavailable` (nothing written: the caller may retry on another replica).
package final class GroupCommitter: Service, Sendable {
    /// A plain change; returns its caller's value.
    typealias Work = @Sendable (any SQLTransaction) async throws -> (any Sendable)?

    /// A queued change. A class with flat fields: the batch reads its items several times, and copying an
    /// enum of closures and existentials with each read was a tenth of the committer's time.
    private final class Item: Sendable {
        /// Groups the members of one `SetChange` kind; nil for a plain change.
        let kind: ObjectIdentifier?
        /// A member's input, and its kind's batch and single runs (made once per kind, not per change).
        let input: (any Sendable)?
        let change: ErasedChange?
        /// A plain change.
        let plain: Work?
        /// Resumed with the change's value (or refusal) once its commit is durable.
        let done: CheckedContinuation<(any Sendable)?, any Error>
        /// The span the caller runs in (its call): the batch's span links to it.
        let caller: InstrumentationContext?

        init(
            kind: ObjectIdentifier?, input: (any Sendable)?, change: ErasedChange?, plain: Work?,
            done: CheckedContinuation<(any Sendable)?, any Error>, caller: InstrumentationContext?
        ) {
            self.kind = kind
            self.input = input
            self.change = change
            self.plain = plain
            self.done = done
            self.caller = caller
        }

        /// The change alone: a plain change, or a member after a spoiled batch.
        func alone(_ tx: any SQLTransaction) async throws -> (any Sendable)? {
            if let change = self.change, let input = self.input { return try await change.alone(input, tx) }
            return try await self.plain?(tx)
        }
    }

    /// A `SetChange` with its types erased, for the queue, which holds changes of every kind.
    struct ErasedChange: Sendable {
        let batch: @Sendable ([any Sendable], any SQLTransaction) async throws -> [Result<any Sendable, LedgerError>]
        let alone: @Sendable (any Sendable, any SQLTransaction) async throws -> any Sendable
    }

    private let database: any SQLDatabase

    /// The queue, and what `run()` is doing with it.
    private struct State {
        var queue: [Item] = []
        /// `run()` waiting for a change, while the queue is empty.
        var waiting: CheckedContinuation<Void, Never>?
        /// Shutting down: no change is queued any more; `run()` ends once the queue is empty.
        var stopped = false
        /// `run()` was called: one loop takes the batches, once (a stopped committer stays stopped).
        var started = false
    }
    private let state = NIOLockedValueBox(State())
    /// Most changes in one transaction.
    package static let defaultMaximumBatch = 512
    package let maximumBatch: Int
    /// Whether the next batch may begin before the last one's commit is durable. Without it, each batch
    /// waits for its own sync: one transaction per change is then the naive baseline the benchmark compares
    /// group commit with.
    package let pipelined: Bool

    package init(database: any SQLDatabase, maximumBatch: Int, pipelined: Bool = true) {
        self.database = database
        self.maximumBatch = maximumBatch
        self.pipelined = pipelined
    }

    /// Runs `body` in the next shared transaction; returns its result once that transaction's commit is
    /// durable. A refusal is a `LedgerError`; any other failure is reported as the storage's (`unavailable`).
    package func transaction<Value: Sendable>(_ body: @escaping @Sendable (any SQLTransaction) async throws -> Value)
        async throws -> Value
    {
        let value = try await self.enqueue(kind: nil, input: nil, change: nil, plain: { tx in try await body(tx) })
        guard let value = value as? Value else { throw LedgerError(.unavailable, "the change was not processed") }
        return value
    }

    /// Runs `input` in the next shared transaction together with the other changes of `kind` queued by then.
    package func transaction<Input: Sendable, Value: Sendable>(_ input: Input, as kind: SetChange<Input, Value>)
        async throws -> Value
    {
        let value = try await self.enqueue(kind: ObjectIdentifier(kind), input: input, change: kind.erased, plain: nil)
        guard let value = value as? Value else { throw LedgerError(.unavailable, "the change was not processed") }
        return value
    }

    /// Queues a change; returns its value once its commit is durable. The value comes back through the
    /// continuation: a box for it, and a closure to fill the box, were two more allocations per change.
    private func enqueue(kind: ObjectIdentifier?, input: (any Sendable)?, change: ErasedChange?, plain: Work?)
        async throws -> (any Sendable)?
    {
        let caller = InstrumentationContext.current
        do {
            return try await withCheckedThrowingContinuation {
                (continuation: CheckedContinuation<(any Sendable)?, any Error>) in
                let wake = self.state.withLockedValue {
                    state -> Result<CheckedContinuation<Void, Never>?, LedgerError> in
                    guard !state.stopped else {
                        return .failure(LedgerError(.unavailable, "the ledger is shutting down; nothing was written"))
                    }
                    state.queue.append(
                        Item(kind: kind, input: input, change: change, plain: plain, done: continuation, caller: caller)
                    )
                    defer { state.waiting = nil }
                    return .success(state.waiting)
                }
                switch wake {
                case .success(let waiting): waiting?.resume()
                case .failure(let refusal): continuation.resume(throwing: refusal)
                }
            }
        } catch {
            throw error as? LedgerError ?? LedgerError(.unavailable, "ledger storage failed: \(error)")
        }
    }

    /// Commits the queued changes, a batch at a time, until shut down (gracefully: the queue is emptied
    /// first) or cancelled. Each pipelined batch's callers are answered by a child task once its commit is
    /// durable, so the next batch need not wait for the sync.
    package func run() async {
        let first = self.state.withLockedValue { state in
            defer { state.started = true }
            return !state.started
        }
        precondition(first, "a group committer runs once: a second loop would take the first one's wake-ups")
        await withDiscardingTaskGroup { group in
            await withTaskCancellationHandler {
                await withGracefulShutdownHandler {
                    while let batch = await self.nextBatch() {
                        await self.commit(batch, in: &group)
                    }
                } onGracefulShutdown: {
                    self.stop()
                }
            } onCancel: {
                self.stop()
            }
        }
    }

    /// Changes queued and not yet taken into a batch.
    package var queued: Int { self.state.withLockedValue { $0.queue.count } }

    /// Runs `body` with `run()` beside it, then stops it once the queue is empty.
    package func running<Result>(
        isolation: isolated (any Actor)? = #isolation, _ body: () async throws -> Result
    ) async throws -> Result {
        try await withThrowingTaskGroup(of: Void.self, returning: Result.self, isolation: isolation) { group in
            group.addTask { await self.run() }
            defer { self.stop() }
            return try await body()
        }
    }

    /// Refuses further changes and wakes `run()`, which ends once the queue is empty.
    private func stop() {
        let waiting = self.state.withLockedValue { state in
            state.stopped = true
            defer { state.waiting = nil }
            return state.waiting
        }
        waiting?.resume()
    }

    /// The next changes to commit, waiting for one if none is queued; nil once stopped with none left.
    private func nextBatch() async -> [Item]? {
        while true {
            enum Next {
                case batch([Item])
                case done
                case wait
            }
            let next = self.state.withLockedValue { state -> Next in
                guard !state.queue.isEmpty else { return state.stopped ? .done : .wait }
                // The whole queue is taken by swapping arrays where it fits: copying and shifting the items
                // (each a few existentials and closures) showed in profiles of the committer.
                var batch: [Item] = []
                if state.queue.count <= self.maximumBatch {
                    swap(&batch, &state.queue)
                } else {
                    batch = Array(state.queue.prefix(self.maximumBatch))
                    state.queue.removeFirst(batch.count)
                }
                return .batch(batch)
            }
            switch next {
            case .batch(let batch): return batch
            case .done: return nil
            case .wait:
                await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                    let ready = self.state.withLockedValue { state -> Bool in
                        // A change queued, or a stop, since the look above: no wait.
                        guard state.queue.isEmpty, !state.stopped else { return true }
                        state.waiting = continuation
                        return false
                    }
                    if ready { continuation.resume() }
                }
            }
        }
    }

    /// One batch in one transaction; its callers are answered once the commit is durable (pipelined: by a
    /// child task in `group`, while the next batch runs).
    private func commit(_ taken: [Item], in group: inout DiscardingTaskGroup) async {
        var batch = taken
        // A span of its own per batch, linked to each change's call: a batch serves many traces at once.
        let span = MeshTracing.tracer.startSpan("ledger.batch", context: .topLevel, ofKind: .internal)
        if span.isRecording {
            span.attributes["ledger.batch.changes"] = taken.count
            span.attributes["ledger.batch.pipelined"] = self.pipelined
            for item in taken {
                if let caller = item.caller { span.addLink(SpanLink(context: caller, attributes: [:])) }
            }
        }
        defer { span.end() }
        do {
            // The next batch begins as soon as this one committed; its callers hear once its commit is
            // durable (on SQLite, the log's sync runs beside the next batch instead of holding it up).
            let (outcomes, durability) = try await InstrumentationContext.$current.withValue(span.context) {
                self.pipelined
                    ? try await self.database.pipelinedTransaction { tx in try await Self.run(batch, tx) }
                    : (try await self.database.transaction { tx in try await Self.run(batch, tx) }, .immediate)
            }
            // The callers are resumed after the batch is let go of, so that the last reference to each
            // change's input is its caller's, which frees it on its own thread, not on the committer's.
            let waiting = batch.map(\.done)
            batch = []
            if self.pipelined {
                group.addTask { await Self.finish(waiting, outcomes, once: durability) }
            } else {
                await Self.finish(waiting, outcomes, once: durability)
            }
        } catch {
            // A change failed after writing, or the commit failed: nothing of the batch was kept. Each
            // change runs again alone, so one bad change costs only itself.
            span.recordError(error)
            span.attributes["ledger.batch.rerun_alone"] = batch.count
            for item in batch {
                do {
                    let value = try await self.database.transaction { tx in try await item.alone(tx) }
                    item.done.resume(returning: value)
                } catch {
                    item.done.resume(throwing: error)
                }
            }
        }
    }

    /// Resumes a committed batch's callers once its commit is durable; if that cannot be known (the sync
    /// failed), each hears that the storage failed, and a retry finds out whether its change was kept.
    private static func finish(
        _ waiting: [CheckedContinuation<(any Sendable)?, any Error>],
        _ outcomes: [Result<(any Sendable)?, LedgerError>], once durability: Durability
    ) async {
        do {
            try await durability.reached()
        } catch {
            let failure = LedgerError(.unavailable, "ledger storage failed: \(error)")
            for done in waiting { done.resume(throwing: failure) }
            return
        }
        for (done, outcome) in zip(waiting, outcomes) {
            switch outcome {
            case .success(let value): done.resume(returning: value)
            case .failure(let refusal): done.resume(throwing: refusal)
            }
        }
    }

    /// One batch in one transaction: each kind's members together (in the order of their first), then the
    /// plain changes one by one, each in the order queued. Returns each change's value (a member's) or refusal.
    private static func run(_ batch: [Item], _ tx: any SQLTransaction) async throws -> [Result<
        (any Sendable)?, LedgerError
    >] {
        var outcomes = [Result<(any Sendable)?, LedgerError>](repeating: .success(nil), count: batch.count)
        var kinds: [ObjectIdentifier] = []
        var members: [ObjectIdentifier: (change: ErasedChange, indices: [Int], inputs: [any Sendable])] = [:]
        for (index, item) in batch.enumerated() {
            guard let kind = item.kind, let input = item.input, let change = item.change else { continue }
            if members[kind] == nil {
                kinds.append(kind)
                members[kind] = (change, [], [])
            }
            members[kind]!.indices.append(index)
            members[kind]!.inputs.append(input)
        }
        for kind in kinds {
            let group = members.removeValue(forKey: kind)!
            let results = try await group.change.batch(group.inputs, tx)
            for (index, result) in zip(group.indices, results) {
                outcomes[index] = result.map { $0 }
            }
        }
        for (index, item) in batch.enumerated() where item.kind == nil {
            let tracked = WriteTracking(tx)
            do {
                outcomes[index] = .success(try await item.alone(tracked))
            } catch let refusal as LedgerError where !tracked.wrote {
                outcomes[index] = .failure(refusal)
            }
        }
        return outcomes
    }
}

/// Changes that a batch runs together as set-based statements. Made once per kind: the instance groups them.
package final class SetChange<Input: Sendable, Value: Sendable>: Sendable {
    /// Every input of the batch, in the order queued; returns each one's value or refusal, and refuses only
    /// before it writes. Anything it throws spoils the batch.
    let batch: @Sendable ([Input], any SQLTransaction) async throws -> [Result<Value, LedgerError>]
    /// One input alone, in a transaction of its own, after a spoiled batch.
    let alone: @Sendable (Input, any SQLTransaction) async throws -> Value

    /// `batch` and `alone` for the committer's queue, which holds changes of every kind: made once per kind,
    /// not per change.
    let erased: GroupCommitter.ErasedChange

    package init(
        batch: @escaping @Sendable ([Input], any SQLTransaction) async throws -> [Result<Value, LedgerError>],
        alone: @escaping @Sendable (Input, any SQLTransaction) async throws -> Value
    ) {
        self.batch = batch
        self.alone = alone
        self.erased = GroupCommitter.ErasedChange(
            batch: { inputs, tx in
                try await batch(inputs.map { $0 as! Input }, tx).map { result in result.map { $0 as any Sendable } }
            },
            alone: { input, tx in try await alone(input as! Input, tx) }
        )
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

    func execute(_ sql: String, rows: ArraySlice<[SQLValue]>) async throws {
        self.wrote = true
        try await self.base.execute(sql, rows: rows)
    }

    func notify(_ channel: String) async throws {
        try await self.base.notify(channel)
    }

    func share(_ lock: SQLLock) async throws {
        try await self.base.share(lock)
    }

    func execute<Statement: SQLPreparedStatement>(_ statement: Statement.Type, _ parameters: [SQLValue])
        async throws
    {
        self.wrote = true
        try await self.base.execute(statement, parameters)
    }

    func query<Statement: SQLPreparedStatement>(_ statement: Statement.Type, _ parameters: [SQLValue])
        async throws -> [SQLRow]
    {
        if !Statement.sql.hasPrefix("SELECT") { self.wrote = true }
        return try await self.base.query(statement, parameters)
    }

    func take(_ lock: SQLLock) async throws -> Bool {
        try await self.base.take(lock)
    }
}
