import CSQLite
import NIOConcurrencyHelpers

#if canImport(Glibc)
    import Glibc
#endif

/// SQLite in WAL mode, every commit synced to disk before its transaction returns: the embedded default. One
/// connection, transactions run one at a time; prepared statements are cached by their text.
///
/// The sync is not part of the commit (`synchronous=NORMAL`) but follows it, outside the connection's lock
/// (`WriteAheadLogSync`): a transaction, and a read, return once everything they could have seen is durable,
/// while the next transaction may already run. `pipelinedTransaction` lets its caller begin that next
/// transaction before awaiting the sync. Where the journal is not a log (an in-memory database), each commit
/// syncs itself (`synchronous=FULL`).
public final class SQLiteDatabase: SQLDatabase, @unchecked Sendable {
    // @unchecked: `connection`, `statements` and `bindings` are only touched while `mutex` is held.
    private let connection: OpaquePointer
    private var statements: [StatementText: OpaquePointer] = [:]
    private var bindings = BindingBytes()
    private let mutex = AsyncMutex()
    /// Channels the transaction now running notified (held under `mutex`).
    private var notified: Set<String> = []
    private let signals = ChangeSignals()
    /// Syncs the log after commits; nil where commits sync themselves.
    let logSync: WriteAheadLogSync?
    public let path: String
    /// Set by `close()` (held under `mutex`): the connection is gone, and every later use fails.
    private var closed = false

    /// Done once, before the first connection: SQLite's allocation statistics cost a global mutex per malloc.
    private static let configured: Void = { _ = csqlite_disable_memory_statistics() }()

    public convenience init(path: String) throws {
        try self.init(path: path, syncFile: { fdatasync($0) })
    }

    /// A database whose files go through the SQLite VFS named `vfs` (a simulated disk that can lose what was
    /// not synced, in tests), its log synced by `syncLog` (given the log's path as SQLite names it; true once
    /// synced) in place of `fdatasync`, so the sync is one that VFS sees.
    public convenience init(path: String, vfs: String, syncLog: @escaping @Sendable (String) -> Bool) throws {
        try self.init(path: path, vfs: vfs) { _, logPath in syncLog(logPath) ? 0 : -1 }
    }

    /// `syncFile` syncs the log (`fdatasync`), replaced in tests to make a sync fail.
    convenience init(path: String, syncFile: @escaping @Sendable (Int32) -> Int32) throws {
        try self.init(path: path, vfs: nil) { descriptor, _ in syncFile(descriptor) }
    }

    /// `syncFile` syncs the log, given its descriptor and its path.
    private init(path: String, vfs: String?, syncFile: @escaping @Sendable (Int32, String) -> Int32) throws {
        Self.configured
        var handle: OpaquePointer?
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX
        guard sqlite3_open_v2(path, &handle, flags, vfs) == SQLITE_OK, let handle else {
            let message = handle.map { String(cString: sqlite3_errmsg($0)) } ?? "cannot open"
            if let handle { sqlite3_close(handle) }
            throw SQLError(code: SQLITE_CANTOPEN, message: message, sql: "open \(path)")
        }
        self.connection = handle
        self.path = path
        sqlite3_busy_timeout(handle, 5_000)
        guard let journal = Self.firstText(handle, "PRAGMA journal_mode=WAL") else {
            let error = SQLError(
                code: sqlite3_errcode(handle), message: String(cString: sqlite3_errmsg(handle)),
                sql: "PRAGMA journal_mode=WAL")
            sqlite3_close(handle)
            throw error
        }
        // The log's name as SQLite makes it, from the database's resolved path (a symbolic link followed).
        let logPath =
            sqlite3_db_filename(handle, "main").flatMap { sqlite3_filename_wal($0) }.map { String(cString: $0) } ?? ""
        self.logSync =
            journal == "wal" && !logPath.isEmpty
            ? WriteAheadLogSync(logPath: logPath, syncFile: { syncFile($0, logPath) }) : nil
        for pragma in [
            self.logSync == nil ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL", "PRAGMA foreign_keys=ON",
            Self.temporaryStorePragma,
        ] {
            try self.run(pragma, [])
        }
    }

    /// The first column of the first row of a statement run on a connection not yet wrapped.
    private static func firstText(_ connection: OpaquePointer, _ sql: String) -> String? {
        var statement: OpaquePointer?
        guard sqlite3_prepare_v2(connection, sql, -1, &statement, nil) == SQLITE_OK, let statement else { return nil }
        defer { sqlite3_finalize(statement) }
        guard sqlite3_step(statement) == SQLITE_ROW, let text = sqlite3_column_text(statement, 0) else { return nil }
        return String(cString: text)
    }

    /// Savepoints and statement journals in memory: a group commit runs every change in a savepoint of its
    /// own, and with the default (a temporary file) each savepoint wrote the original of every page it
    /// touched to that file first, 22 `pwrite`s per payout against about one for the WAL itself.
    static let temporaryStorePragma = "PRAGMA temp_store=MEMORY"

    deinit {
        if !self.closed {
            for statement in self.statements.values { sqlite3_finalize(statement) }
            sqlite3_close(self.connection)
        }
        self.bindings.deallocate()
    }

    /// Closes the connection once the transaction running ends; every later use fails. Without it the
    /// connection closes when the last reference goes, which a test simulating a power loss cannot wait for.
    /// Throws, the connection still open, if SQLite refuses to close it.
    public func close() async throws {
        await self.mutex.lock()
        defer { self.mutex.unlock() }
        guard !self.closed else { return }
        for statement in self.statements.values { sqlite3_finalize(statement) }
        self.statements = [:]
        let result = sqlite3_close(self.connection)
        guard result == SQLITE_OK else {
            throw SQLError(code: result, message: String(cString: sqlite3_errmsg(self.connection)), sql: "close")
        }
        self.closed = true
    }

    public var dialect: SQLDialect { .sqlite }

    public func signal(_ channel: String) -> ChangeSignal { self.signals.signal(channel) }

    public func transaction<Result: Sendable>(_ body: (any SQLTransaction) async throws -> Result) async throws
        -> Result
    {
        try await Self.offTheEventLoop {
            let (result, ticket) = try await self.committed(body, inline: true)
            try await self.durability(through: ticket, inline: true).reached()
            return result
        }
    }

    /// One process writes a SQLite database, one transaction at a time: every transaction holds every lock.
    public func transaction<Result: Sendable>(
        holding lock: SQLLock, _ body: (any SQLTransaction) async throws -> Result
    ) async throws -> Result {
        try await self.transaction(body)
    }

    public func pipelinedTransaction<Result: Sendable>(_ body: (any SQLTransaction) async throws -> Result) async throws
        -> (Result, Durability)
    {
        try await Self.offTheEventLoop {
            let (result, ticket) = try await self.committed(body, inline: false)
            return (result, self.durability(through: ticket, inline: false))
        }
    }

    /// Runs `body` in a transaction; returns its result and its commit's ticket, once written.
    private func committed<Result: Sendable>(_ body: (any SQLTransaction) async throws -> Result, inline: Bool)
        async throws -> (Result, UInt64)
    {
        var channels: Set<String> = []
        let committed = try await self.holdingConnection(inline: inline) {
            try self.run("BEGIN IMMEDIATE", [])
            self.notified = []
            do {
                let result = try await body(Transaction(database: self))
                try self.run("COMMIT", [])
                channels = self.notified
                return (result, committed: true)
            } catch {
                try? self.run("ROLLBACK", [])
                throw error
            }
        }
        if !channels.isEmpty { self.signals.ring(channels) }
        return committed
    }

    public func read<Result: Sendable>(_ body: (any SQLTransaction) async throws -> Result) async throws -> Result {
        try await Self.offTheEventLoop {
            let (result, seen) = try await self.holdingConnection(inline: true) {
                (try await body(Transaction(database: self)), committed: false)
            }
            try await self.durability(through: seen, inline: true).reached()
            return result
        }
    }

    /// Runs a script of statements separated by semicolons (schema creation). A script may commit (each
    /// statement outside a transaction is one): it returns, or throws, once that is durable.
    public func executeScript(_ sql: String) async throws {
        try await Self.offTheEventLoop { try await self.script(sql) }
    }

    private func script(_ sql: String) async throws {
        let (failure, ticket) = try await self.holdingConnection(inline: true) { () -> (SQLError?, committed: Bool) in
            var error: UnsafeMutablePointer<CChar>?
            guard sqlite3_exec(self.connection, sql, nil, nil, &error) != SQLITE_OK else {
                return (nil, committed: true)
            }
            defer { sqlite3_free(error) }
            return (
                SQLError(
                    code: sqlite3_errcode(self.connection), message: error.map { String(cString: $0) } ?? "unknown",
                    sql: sql), committed: true
            )
        }
        try await self.durability(through: ticket, inline: true).reached()
        if let failure { throw failure }
    }

    /// SQLite blocks its thread for each statement and each inline sync. A caller whose task runs on an event
    /// loop (a handler of a server that runs its calls there) has the work done on the cooperative pool, so the
    /// loop's other connections go on meanwhile; a caller already on the pool stays there.
    private static func offTheEventLoop<Result>(_ body: () async throws -> Result) async throws -> Result {
        try await withTaskExecutorPreference(globalConcurrentExecutor, operation: body)
    }

    /// Runs `body` holding the connection, on a database whose syncs have not failed. Returns its result and
    /// the ticket its caller waits for: its own commit's where it committed, else the last commit it could
    /// see. If it throws, the error is passed on once what it saw is durable, as it may stem from that.
    private func holdingConnection<Result>(inline: Bool, _ body: () async throws -> (Result, committed: Bool))
        async throws -> (Result, UInt64)
    {
        await self.mutex.lock()
        let seen = self.logSync?.lastCommitted ?? 0
        let outcome: (Result, committed: Bool)
        do {
            if self.closed { throw SQLError(code: SQLITE_MISUSE, message: "the database is closed", sql: "") }
            try self.logSync?.checkHealthy()
            outcome = try await body()
        } catch {
            self.mutex.unlock()
            try await self.durability(through: seen, inline: inline).reached()
            throw error
        }
        let ticket = outcome.committed ? self.logSync?.committed() ?? 0 : seen
        self.mutex.unlock()
        return (outcome.0, ticket)
    }

    /// The wait until every commit up to `ticket` is durable.
    private func durability(through ticket: UInt64, inline: Bool) -> Durability {
        guard let logSync = self.logSync, ticket > 0 else { return .immediate }
        return Durability { try await logSync.wait(through: ticket, inline: inline) }
    }

    struct Transaction: SQLTransaction {
        let database: SQLiteDatabase

        func execute(_ sql: String, _ parameters: [SQLValue]) async throws {
            try self.database.run(sql, parameters)
        }

        func query(_ sql: String, _ parameters: [SQLValue]) async throws -> [SQLRow] {
            try self.database.rows(sql, parameters)
        }

        func execute(_ sql: String, rows: ArraySlice<[SQLValue]>) async throws {
            try self.database.run(sql, rows: rows)
        }

        /// SQLite's cache of prepared statements is keyed by their text.
        func execute<Statement: SQLPreparedStatement>(_ statement: Statement.Type, _ parameters: [SQLValue])
            async throws
        {
            precondition(Statement.accepts(parameters), "\(Statement.self): parameters \(parameters)")
            try self.database.run(Statement.sql, parameters)
        }

        func query<Statement: SQLPreparedStatement>(_ statement: Statement.Type, _ parameters: [SQLValue])
            async throws -> [SQLRow]
        {
            precondition(Statement.accepts(parameters), "\(Statement.self): parameters \(parameters)")
            return try self.database.rows(Statement.sql, parameters)
        }

        /// Nothing to take: no other transaction is open while this one is.
        func share(_ lock: SQLLock) async throws {}

        /// Always free: no other transaction is open while this one is.
        func take(_ lock: SQLLock) async throws -> Bool { true }

        func notify(_ channel: String) async throws {
            self.database.notified.insert(channel)
        }
    }

    private func prepared(_ sql: String) throws -> OpaquePointer {
        if let statement = self.statements[StatementText(sql)] {
            // Every run binds every parameter again, which replaces the old values: no need to clear them.
            sqlite3_reset(statement)
            return statement
        }
        var statement: OpaquePointer?
        guard sqlite3_prepare_v2(self.connection, sql, -1, &statement, nil) == SQLITE_OK, let statement else {
            throw SQLError(
                code: sqlite3_errcode(self.connection), message: String(cString: sqlite3_errmsg(self.connection)),
                sql: sql)
        }
        self.statements[StatementText(sql)] = statement
        return statement
    }

    /// A statement's text as the cache's key, hashed on its length and its first and last bytes: hashing
    /// whole statements (an order's insert is 400 bytes) on every run showed in profiles. Equal keys still
    /// compare the whole text, byte for byte; statements are mostly constants, whose texts share storage, so
    /// the comparison usually ends at the address.
    struct StatementText: Hashable {
        let text: String

        init(_ text: String) { self.text = text }

        /// Byte for byte, as SQLite reads it (and as `hash` sees it), not by Unicode equivalence. Comparing the
        /// UTF-8 views element by element was 7% of a group-committed payout.
        static func == (left: Self, right: Self) -> Bool {
            left.text.withUTF8Bytes { leftBytes in
                right.text.withUTF8Bytes { rightBytes in
                    leftBytes.count == rightBytes.count
                        && (leftBytes.count == 0 || leftBytes.baseAddress == rightBytes.baseAddress
                            || memcmp(leftBytes.baseAddress!, rightBytes.baseAddress!, leftBytes.count) == 0)
                }
            }
        }

        func hash(into hasher: inout Hasher) {
            self.text.withUTF8Bytes { bytes in
                hasher.combine(bytes.count)
                hasher.combine(bytes: UnsafeRawBufferPointer(rebasing: bytes.prefix(24)))
                hasher.combine(bytes: UnsafeRawBufferPointer(rebasing: bytes.suffix(24)))
            }
        }
    }

    /// Binds `rows`' values, one row after another, as the statement's parameters: every one of them, as the
    /// bytes of texts and blobs are read in place from `bindings` (`SQLITE_STATIC`), which the next statement
    /// overwrites. Copied by SQLite instead (`SQLITE_TRANSIENT`), each text was an allocation and a free, 15
    /// of them per order inserted.
    private func bind<Rows: Collection<[SQLValue]>>(_ statement: OpaquePointer, _ rows: Rows, sql: String) throws {
        var count = 0
        var bytes = 0
        for row in rows {
            count += row.count
            for value in row {
                switch value {
                case .text(let text): bytes += text.utf8.count
                case .blob(let blob): bytes += blob.count
                case .integer, .null: break
                }
            }
        }
        let expected = Int(sqlite3_bind_parameter_count(statement))
        guard count == expected else {
            throw SQLError(
                code: SQLITE_RANGE, message: "the statement takes \(expected) parameters, \(count) given", sql: sql)
        }
        let base = self.bindings.reserve(bytes)
        var offset = 0
        var position: Int32 = 1
        for row in rows {
            for value in row {
                let result: Int32
                switch value {
                case .integer(let integer): result = sqlite3_bind_int64(statement, position, integer)
                case .null: result = sqlite3_bind_null(statement, position)
                case .blob(let blob):
                    blob.withUnsafeBytes { Self.copy($0, to: base + offset) }
                    result = sqlite3_bind_blob(statement, position, base + offset, Int32(blob.count), nil)
                    offset += blob.count
                case .text(let text):
                    let length = text.utf8.count
                    text.withUTF8Bytes { Self.copy($0, to: base + offset) }
                    result = sqlite3_bind_text(
                        statement, position, (base + offset).assumingMemoryBound(to: CChar.self), Int32(length), nil)
                    offset += length
                }
                guard result == SQLITE_OK else {
                    throw SQLError(code: result, message: String(cString: sqlite3_errmsg(self.connection)), sql: sql)
                }
                position += 1
            }
        }
    }

    private static func copy(_ bytes: UnsafeRawBufferPointer, to destination: UnsafeMutableRawPointer) {
        if let source = bytes.baseAddress { destination.copyMemory(from: source, byteCount: bytes.count) }
    }

    private func run(_ sql: String, _ parameters: [SQLValue]) throws {
        try self.run(sql, rows: CollectionOfOne(parameters))
    }

    private func run<Rows: Collection<[SQLValue]>>(_ sql: String, rows: Rows) throws {
        let statement = try self.prepared(sql)
        try self.bind(statement, rows, sql: sql)
        defer { sqlite3_reset(statement) }
        var result = sqlite3_step(statement)
        while result == SQLITE_ROW { result = sqlite3_step(statement) }
        guard result == SQLITE_DONE else {
            throw SQLError(code: result, message: String(cString: sqlite3_errmsg(self.connection)), sql: sql)
        }
    }

    private func rows(_ sql: String, _ parameters: [SQLValue]) throws -> [SQLRow] {
        let statement = try self.prepared(sql)
        try self.bind(statement, CollectionOfOne(parameters), sql: sql)
        defer { sqlite3_reset(statement) }
        var rows: [SQLRow] = []
        while true {
            let result = sqlite3_step(statement)
            if result == SQLITE_DONE { return rows }
            guard result == SQLITE_ROW else {
                throw SQLError(code: result, message: String(cString: sqlite3_errmsg(self.connection)), sql: sql)
            }
            let count = sqlite3_column_count(statement)
            var values: [SQLValue] = []
            values.reserveCapacity(Int(count))
            for column in 0..<count {
                switch sqlite3_column_type(statement, column) {
                case SQLITE_INTEGER: values.append(.integer(sqlite3_column_int64(statement, column)))
                case SQLITE_TEXT: values.append(.text(String(cString: sqlite3_column_text(statement, column))))
                case SQLITE_BLOB:
                    let length = Int(sqlite3_column_bytes(statement, column))
                    if let pointer = sqlite3_column_blob(statement, column) {
                        values.append(.blob(Array(UnsafeRawBufferPointer(start: pointer, count: length))))
                    } else {
                        values.append(.blob([]))
                    }
                case SQLITE_NULL: values.append(.null)
                default: values.append(.integer(sqlite3_column_int64(statement, column)))
                }
            }
            rows.append(SQLRow(values: values))
        }
    }
}

/// The bytes of the texts and blobs bound to the statement being run, in one allocation kept from statement
/// to statement: grown when a statement needs more, and given back after one that needed much (an evidence
/// file of megabytes) once a statement needs little again. Only touched while the connection is held.
struct BindingBytes {
    static let usualCapacity = 16 * 1024
    static let largestKept = 1024 * 1024
    private var base = UnsafeMutableRawPointer.allocate(byteCount: Self.usualCapacity, alignment: 8)
    private(set) var capacity = Self.usualCapacity

    /// Room for `count` bytes. Statements bound before keep pointers into the old room, but SQLite reads a
    /// statement's parameters only when it runs, and every run binds all of them again.
    mutating func reserve(_ count: Int) -> UnsafeMutableRawPointer {
        let wanted =
            count > self.capacity
            ? max(count, 2 * self.capacity)
            : self.capacity > Self.largestKept && count <= Self.usualCapacity ? Self.usualCapacity : self.capacity
        if wanted != self.capacity {
            self.base.deallocate()
            self.capacity = wanted
            self.base = UnsafeMutableRawPointer.allocate(byteCount: wanted, alignment: 8)
        }
        return self.base
    }

    func deallocate() { self.base.deallocate() }
}
