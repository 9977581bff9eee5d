import CSQLite
import Dispatch
import NIOConcurrencyHelpers

#if canImport(Glibc)
    import Glibc
#endif

/// Makes commits durable after they are written, off the writer's lock: SQLite commits to its log without a
/// sync (`synchronous=NORMAL`), and this syncs the log file (`fdatasync`) on a thread of its own, once for all
/// the commits written since the last sync. A transaction returns only after a sync that covers its commit,
/// so what it returns (and whatever it read) is on disk, as with `synchronous=FULL`; but the next transaction
/// can run while the sync of the previous one is still under way, where a full sync held the writer's lock.
///
/// Commits are numbered in the order they were written (tickets). A sync reads the last ticket, then syncs:
/// every commit up to that ticket was written before the sync began, so it is covered. A sync that fails
/// leaves the log's state on disk unknown: every later wait and transaction fails, and the database must be
/// opened again (SQLite then recovers the log as it finds it), as PostgreSQL stops on a failed fsync.
final class WriteAheadLogSync: @unchecked Sendable {
    // @unchecked: `descriptor` is only touched by whoever syncs (`state.syncing`), one at a time.
    private struct State {
        var committed: UInt64 = 0
        var synced: UInt64 = 0
        var syncing = false
        var waiters: [(ticket: UInt64, continuation: CheckedContinuation<Void, any Error>)] = []
        var failure: SQLError?
        /// Syncs done, for tests.
        var syncs = 0
    }

    private let state = NIOLockedValueBox(State())
    private let queue = DispatchQueue(label: "sqlite-wal-sync")
    /// The log file, as SQLite names it (`sqlite3_filename_wal`: beside the database's resolved path), and its
    /// directory, synced once when first opened.
    private let logPath: String
    private var descriptor: Int32 = -1
    /// `fdatasync`; another function in tests, to make a sync fail.
    private let syncFile: @Sendable (Int32) -> Int32

    init(logPath: String, syncFile: @escaping @Sendable (Int32) -> Int32 = { fdatasync($0) }) {
        self.logPath = logPath
        self.syncFile = syncFile
    }

    /// Commits written, commits known durable and syncs done so far.
    var counts: (committed: UInt64, synced: UInt64, syncs: Int) {
        self.state.withLockedValue { ($0.committed, $0.synced, $0.syncs) }
    }

    deinit {
        if self.descriptor >= 0 { close(self.descriptor) }
    }

    /// Numbers a commit just written; called with the writer's lock held, so tickets follow the log's order.
    func committed() -> UInt64 {
        self.state.withLockedValue { state in
            state.committed += 1
            return state.committed
        }
    }

    /// The last commit written: everything a transaction beginning now can see.
    var lastCommitted: UInt64 { self.state.withLockedValue { $0.committed } }

    /// The error of a failed sync, after which nothing is trusted to be durable.
    func checkHealthy() throws {
        if let failure = self.state.withLockedValue({ $0.failure }) { throw failure }
    }

    /// Returns once every commit up to `ticket` is durable. `inline`: where no sync is under way, sync on the
    /// caller's thread, as a commit with `synchronous=FULL` would, instead of handing over to the sync thread
    /// and back (30 µs a transaction here): for callers that wait for each commit before the next.
    func wait(through ticket: UInt64, inline: Bool) async throws {
        enum Start { case done, here, elsewhere }
        let start = try self.state.withLockedValue { state -> Start in
            if let failure = state.failure { throw failure }
            if state.synced >= ticket { return .done }
            guard inline, !state.syncing else { return .elsewhere }
            state.syncing = true
            return .here
        }
        switch start {
        case .done: return
        case .here:
            // One round covers `ticket`, which was written before it began; others waiting by then for later
            // commits are left to the sync thread.
            if self.syncRound() { self.queue.async { self.syncWhileWaited() } }
            try self.checkHealthy()
            return
        case .elsewhere: break
        }
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            enum Next {
                case resume
                case fail(SQLError)
                case wait, start
            }
            let next = self.state.withLockedValue { state -> Next in
                if let failure = state.failure { return .fail(failure) }
                if state.synced >= ticket { return .resume }
                state.waiters.append((ticket, continuation))
                guard !state.syncing else { return .wait }
                state.syncing = true
                return .start
            }
            switch next {
            case .resume: continuation.resume()
            case .fail(let failure): continuation.resume(throwing: failure)
            case .wait: break
            case .start: self.queue.async { self.syncWhileWaited() }
            }
        }
    }

    /// Syncs until no one waits: each round covers every commit written before it began.
    private func syncWhileWaited() {
        while self.syncRound() {}
    }

    /// One sync, then resumes those it covered; true if others still wait (and `syncing` stays set for the
    /// next round), false once it is cleared.
    private func syncRound() -> Bool {
        let target = self.state.withLockedValue { $0.committed }
        let failure = self.sync()
        let (ready, again) = self.state.withLockedValue {
            state -> ([(UInt64, CheckedContinuation<Void, any Error>)], Bool) in
            if let failure {
                state.failure = failure
                state.syncing = false
                defer { state.waiters = [] }
                return (state.waiters, false)
            }
            state.synced = max(state.synced, target)
            state.syncs += 1
            var ready: [(UInt64, CheckedContinuation<Void, any Error>)] = []
            var waiting: [(ticket: UInt64, continuation: CheckedContinuation<Void, any Error>)] = []
            for waiter in state.waiters {
                if waiter.ticket <= target { ready.append(waiter) } else { waiting.append(waiter) }
            }
            state.waiters = waiting
            if waiting.isEmpty { state.syncing = false }
            return (ready, !waiting.isEmpty)
        }
        for (_, continuation) in ready {
            if let failure { continuation.resume(throwing: failure) } else { continuation.resume() }
        }
        return again
    }

    /// One `fdatasync` of the log. The first opens the log, which exists as long as the connection that
    /// committed is open (a log that cannot be opened is a failure: nothing would be synced), and syncs its
    /// directory too, as SQLite does for a log it creates, ignoring errors as SQLite does (some file systems
    /// refuse to sync a directory).
    private func sync() -> SQLError? {
        if self.descriptor < 0 {
            let descriptor = open(self.logPath, O_RDONLY | O_CLOEXEC)
            guard descriptor >= 0 else { return self.failure("cannot open \(self.logPath) to sync it") }
            self.descriptor = descriptor
            let directoryPath = self.logPath.lastIndex(of: "/").map { String(self.logPath[..<$0]) } ?? "."
            let directory = open(directoryPath.isEmpty ? "/" : directoryPath, O_RDONLY | O_CLOEXEC)
            if directory >= 0 {
                _ = fsync(directory)
                close(directory)
            }
        }
        guard self.syncFile(self.descriptor) == 0 else { return self.failure("cannot sync \(self.logPath)") }
        return nil
    }

    private func failure(_ what: String) -> SQLError {
        let reason = String(cString: strerror(errno))
        return SQLError(
            code: SQLITE_IOERR,
            message:
                "\(what): \(reason); commits since the last sync may not be durable, so the database must be opened again",
            sql: "fdatasync")
    }
}
