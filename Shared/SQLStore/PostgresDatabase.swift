import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import PostgresNIO
import Synchronization

/// PostgreSQL for several replicas sharing one ledger: transactions run SERIALIZABLE and are retried on a
/// serialization failure, so concurrent replicas never overdraw a fund or reuse an idempotency key.
///
/// Its connections are served while `run()` runs (postgres-nio's `PostgresClient.run()`, in the caller's
/// task group: `SQLDatabase.running(_:)`); a statement asked for before then waits for it.
public final class PostgresDatabase: SQLDatabase, Sendable {
    let client: PostgresClient
    /// The pool's size: the most connections this process opens to the server.
    public let maximumConnections: Int
    /// Whether hot statements (`SQLPreparedStatement`) are prepared by name once per connection; off behind a
    /// pooler that hands a session's statements to another connection (PgBouncer's transaction pooling).
    public let preparedStatements: Bool
    /// One connection's settings, the pool's own, for `check`: made when asked, as its TLS context (the
    /// trust roots loaded) is needed once at a service's start, not by every pool.
    private let single: @Sendable () throws -> PostgresConnection.Configuration
    /// Where the server is, for messages.
    private let address: String
    let logger: Logger
    private let signals = ChangeSignals()
    /// Whether `run()` was called: postgres-nio's client may be run once only.
    private let served = NIOLockedValueBox(false)
    /// The pool's own runner where nobody runs it in a task group (`serveUntilReleased`), ended with the object.
    private let runner = NIOLockedValueBox<Task<Void, Never>?>(nil)
    /// Attempts of one transaction before a serialization failure is given up on.
    static let maximumAttempts = 8
    /// The pool's size where the caller does not choose one: a service's replica.
    public static let defaultMaximumConnections = 8

    /// - Parameters:
    ///   - maximumConnections: the pool's size.
    ///   - idleTimeout: how long a connection the pool opened for a burst stays open unused.
    public init(
        host: String, port: Int, username: String, password: String?, database: String, tls: PostgresTLS = .disable,
        maximumConnections: Int = PostgresDatabase.defaultMaximumConnections, idleTimeout: Duration = .seconds(60),
        preparedStatements: Bool = true, logger: Logger
    ) throws {
        var configuration = PostgresClient.Configuration(
            host: host, port: port, username: username, password: password, database: database,
            tls: try tls.configuration())
        configuration.options.maximumConnections = maximumConnections
        configuration.options.connectionIdleTimeout = idleTimeout
        // No JIT compilation: every statement here is a short lookup or write. PostgreSQL compiles a plan it
        // reckons costs over 100,000, as on a table without statistics yet, and that took longer than the
        // statement (30 ms against 3 ms for a batch's lookups).
        configuration.options.additionalStartupParameters = [("jit", "off")]
        let client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        self.client = client
        self.maximumConnections = maximumConnections
        self.preparedStatements = preparedStatements
        let startup = configuration.options.additionalStartupParameters
        self.single = {
            var single = PostgresConnection.Configuration(
                host: host, port: port, username: username, password: password, database: database,
                tls: try tls.connectionConfiguration())
            single.options.additionalStartupParameters = startup
            single.options.connectTimeout = .seconds(10)
            return single
        }
        self.address = "\(host):\(port)/\(database)"
        self.logger = logger
    }

    /// Opens one connection with the pool's settings and closes it, or throws what stopped it (the host,
    /// the password, the server's certificate): a replica that cannot reach its database says so when it
    /// starts. Through the pool, each statement would wait a minute (postgres-nio retries connecting until
    /// its circuit breaker trips) before failing with a generic error.
    public func check() async throws {
        do {
            let connection = try await PostgresConnection.connect(
                configuration: try self.single(), id: 0, logger: self.logger)
            try await connection.close()
        } catch {
            throw SQLError(
                code: 0, message: "cannot connect to PostgreSQL at \(self.address): \(Self.reason(error))", sql: "")
        }
    }

    /// What went wrong, in words: PSQLError's own description hides even the server's message.
    static func reason(_ error: any Error) -> String {
        guard let error = error as? PSQLError else { return String(describing: error) }
        if let message = error.serverInfo?[.message] { return message }
        return error.underlying.map { String(describing: $0) } ?? "\(error.code)"
    }

    /// Serves the pool's connections until cancelled. A second call (the pool already served) returns at once.
    public func run() async {
        guard self.beginServing() else { return }
        await self.client.run()
    }

    /// Serves the pool until this object is released, for code that holds a database without a task group to
    /// run it in (the tests' throwaway databases). A service runs it in its group instead (`running(_:)`).
    public func serveUntilReleased() {
        guard self.beginServing() else { return }
        let client = self.client
        self.runner.withLockedValue { $0 = Task { await client.run() } }
    }

    deinit {
        self.runner.withLockedValue { $0?.cancel() }
    }

    /// Marks the pool served; false if it already was.
    func beginServing() -> Bool {
        self.served.withLockedValue { served in
            defer { served = true }
            return !served
        }
    }

    public var dialect: SQLDialect { .postgres }

    public func signal(_ channel: String) -> ChangeSignal { self.signals.signal(channel) }

    /// Rings `channel`'s signal whenever any session's commit notified it (`LISTEN`), until cancelled:
    /// replicas sharing the database follow each other's commits without asking on a timer. Holds one of
    /// the pool's connections while it runs.
    public func listen(_ channel: String) async throws {
        let signal = self.signals.signal(channel)
        try await self.client.withConnection { connection in
            try await connection.listen(on: channel) { notifications in
                // Whatever was committed before the listener started is found by the follower's first look.
                signal.ring()
                for try await _ in notifications { signal.ring() }
            }
        }
    }

    public func transaction<Result: Sendable>(_ body: (any SQLTransaction) async throws -> Result) async throws
        -> Result
    {
        try await self.retrying(opening: ["BEGIN ISOLATION LEVEL SERIALIZABLE"], body)
    }

    /// READ COMMITTED, so each statement after the lock sees what the transactions before it committed (a
    /// SERIALIZABLE snapshot would be taken by the lock's statement itself, before the wait).
    public func transaction<Result: Sendable>(
        holding lock: SQLLock, _ body: (any SQLTransaction) async throws -> Result
    ) async throws -> Result {
        try await self.retrying(
            opening: ["BEGIN ISOLATION LEVEL READ COMMITTED", "SELECT pg_advisory_xact_lock(\(lock.key))"], body)
    }

    /// Runs `body` in a transaction the `opening` statements begin, and commits it; runs it again, up to
    /// `maximumAttempts` in all, when the server failed it in a way another attempt may not (`isRetryable`).
    private func retrying<Result: Sendable>(
        opening: [PostgresQuery], _ body: (any SQLTransaction) async throws -> Result
    ) async throws -> Result {
        var attempt = 0
        while true {
            attempt += 1
            do {
                return try await self.client.withConnection { connection in
                    let transaction = Transaction(
                        connection: connection, logger: self.logger, prepares: self.preparedStatements)
                    do {
                        for statement in opening { try await Self.run(statement, on: connection, logger: self.logger) }
                        let result = try await body(transaction)
                        try await Self.run("COMMIT", on: connection, logger: self.logger)
                        let channels = transaction.notified.withLockedValue { $0 }
                        if !channels.isEmpty { self.signals.ring(channels) }
                        return result
                    } catch {
                        await Self.abandon(connection, after: error, of: transaction, logger: self.logger)
                        throw error
                    }
                }
            } catch let error as PSQLError where Self.isRetryable(error) && attempt < Self.maximumAttempts {
                try await Task.sleep(for: .milliseconds(Int.random(in: 1...(5 * attempt))))
                continue
            } catch let error as PSQLError {
                throw SQLError(
                    code: 0, message: error.serverInfo?[.message] ?? String(reflecting: error),
                    sql: error.query?.sql ?? "")
            }
        }
    }

    public func read<Result: Sendable>(_ body: (any SQLTransaction) async throws -> Result) async throws -> Result {
        try await self.client.withConnection { connection in
            let transaction = Transaction(
                connection: connection, logger: self.logger, prepares: self.preparedStatements)
            do {
                return try await body(transaction)
            } catch {
                // Outside a transaction nothing is rolled back; a connection whose named statement failed goes.
                if transaction.preparationFailed.withLockedValue({ $0 }) { try? await connection.close() }
                throw error
            }
        }
    }

    public func executeScript(_ sql: String) async throws {
        try await self.client.withConnection { connection in
            for statement in sql.split(separator: ";").map({ $0.trimmingCharacters(in: .whitespacesAndNewlines) })
            where !statement.isEmpty {
                try await Self.run(PostgresQuery(unsafeSQL: statement), on: connection, logger: self.logger)
            }
        }
    }

    /// Serialization failures and deadlocks, and unique-key and exclusion violations: the transaction may
    /// simply run again. Under SERIALIZABLE, PostgreSQL reports a key another transaction inserted meanwhile
    /// as a unique violation (23505) rather than a serialization failure when the reading transaction's
    /// predicate locks do not cover it (a batch reading its keys with `= ANY($1)`); run again, the
    /// transaction reads that key committed and answers with it. A duplicate of the transaction's own making
    /// fails the same way every attempt and is reported after the last.
    static func isRetryable(_ error: PSQLError) -> Bool {
        guard let state = error.serverInfo?[.sqlState] else { return false }
        return ["40001", "40P01", "23505", "23P01"].contains(state)
    }

    /// Writes a statement to a connection, unless the caller was cancelled or the connection closed: then it
    /// throws without writing. postgres-nio writes a statement to its channel without a promise, so a
    /// statement written to a channel already torn down is dropped and its caller waits for ever (no timer,
    /// no thread: the test run hung so, a replica stopped with its pool). A pool is shut down by its task's
    /// cancellation, which is set before the pool's handler runs: a task that sees itself not cancelled
    /// writes before its own pool closes, and the connection's handler then fails the statement if it must.
    /// Every statement goes through here.
    @discardableResult
    static func run(_ query: PostgresQuery, on connection: PostgresConnection, logger: Logger) async throws
        -> PostgresRowSequence
    {
        try Task.checkCancellation()
        guard !connection.isClosed else {
            throw SQLError(code: 0, message: "the connection to PostgreSQL closed", sql: query.sql)
        }
        return try await connection.query(query, logger: logger)
    }

    /// Ends a transaction that failed: ROLLBACK where the connection can take it, and otherwise (the caller
    /// cancelled, the connection closed or failing) closes the connection, which the server rolls back and
    /// the pool replaces, rather than write to it.
    static func abandon(
        _ connection: PostgresConnection, after error: any Error, of transaction: Transaction? = nil, logger: Logger
    ) async {
        if transaction?.preparationFailed.withLockedValue({ $0 }) == true {
            // postgres-nio keeps a named statement's failure for the connection's life: it goes, and the pool
            // opens another where the statement is prepared anew.
            try? await connection.close()
        } else if let error = error as? PSQLError,
            [.clientClosedConnection, .serverClosedConnection, .connectionError].contains(error.code)
        {
            try? await connection.close()
        } else if Task.isCancelled || connection.isClosed {
            try? await connection.close()
        } else {
            _ = try? await connection.query("ROLLBACK", logger: logger)
        }
    }

    struct Transaction: SQLTransaction {
        let connection: PostgresConnection
        let logger: Logger
        /// Whether hot statements run as named prepared statements, or as any other.
        let prepares: Bool
        /// Channels this transaction notified, rung here after its commit.
        let notified = NIOLockedValueBox<Set<String>>([])
        /// Locks this transaction holds shared.
        let shared = NIOLockedValueBox<Set<SQLLock>>([])
        /// Whether a named statement failed: perhaps in its preparation, which postgres-nio then refuses on this
        /// connection for good (`abandon` closes it).
        let preparationFailed = NIOLockedValueBox(false)

        func take(_ lock: SQLLock) async throws -> Bool {
            try await self.query("SELECT pg_try_advisory_xact_lock(\(lock.key))::int", []).first?.integer(0) == 1
        }

        /// Once per lock and transaction; released by PostgreSQL at commit or rollback.
        func share(_ lock: SQLLock) async throws {
            guard self.shared.withLockedValue({ $0.insert(lock).inserted }) else { return }
            try await PostgresDatabase.run(
                "SELECT pg_advisory_xact_lock_shared(\(lock.key))", on: self.connection, logger: self.logger)
        }

        /// Once per channel and transaction: PostgreSQL folds equal notifications of one transaction anyway.
        func notify(_ channel: String) async throws {
            guard self.notified.withLockedValue({ $0.insert(channel).inserted }) else { return }
            try await PostgresDatabase.run("SELECT pg_notify(\(channel), '')", on: self.connection, logger: self.logger)
        }

        func execute(_ sql: String, _ parameters: [SQLValue]) async throws {
            try await PostgresDatabase.run(Self.query(sql, parameters), on: self.connection, logger: self.logger)
        }

        func query(_ sql: String, _ parameters: [SQLValue]) async throws -> [SQLRow] {
            var rows: [SQLRow] = []
            for try await row in try await PostgresDatabase.run(
                Self.query(sql, parameters), on: self.connection, logger: self.logger)
            {
                rows.append(SQLRow(values: try row.map(Self.value)))
            }
            return rows
        }

        func execute<Statement: SQLPreparedStatement>(_ statement: Statement.Type, _ parameters: [SQLValue])
            async throws
        {
            _ = try await self.query(statement, parameters)
        }

        /// Through the connection's named statement, prepared on its first use on this connection
        /// (postgres-nio keeps which of them a connection has prepared).
        func query<Statement: SQLPreparedStatement>(_ statement: Statement.Type, _ parameters: [SQLValue])
            async throws -> [SQLRow]
        {
            precondition(Statement.accepts(parameters), "\(Statement.self): parameters \(parameters)")
            guard self.prepares else { return try await self.query(Statement.sql, parameters) }
            try Task.checkCancellation()
            guard !self.connection.isClosed else {
                throw SQLError(code: 0, message: "the connection to PostgreSQL closed", sql: Statement.sql)
            }
            var rows: [SQLRow] = []
            let named = Named<Statement>(bindings: Self.bindings(parameters))
            do {
                for try await row in try await self.connection.execute(named, logger: self.logger) {
                    rows.append(SQLRow(values: try row.map(Self.value)))
                }
            } catch {
                // A refusal of the statement's run (a serialization failure, a key taken, bad data: classes 40,
                // 23, 22) leaves it prepared; anything else may have failed its preparation.
                let state = (error as? PSQLError)?.serverInfo?[.sqlState] ?? ""
                if !["40", "23", "22"].contains(String(state.prefix(2))) {
                    self.preparationFailed.withLockedValue { $0 = true }
                }
                throw error
            }
            return rows
        }

        /// What postgres-nio asks of a named statement at every run: its name, its text numbered, its
        /// parameters' types.
        struct Form: Sendable {
            let name: String
            let sql: String
            let types: [PostgresDataType]
        }

        /// Each statement type's form, worked out at its first run in this process (a type's whole name is
        /// read by reflection; the text is renumbered byte by byte).
        static let forms = Mutex<[ObjectIdentifier: Form]>([:])

        static func form<Statement: SQLPreparedStatement>(of statement: Statement.Type) -> Form {
            if let form = Self.forms.withLock({ $0[ObjectIdentifier(statement)] }) { return form }
            // The type's whole name (module and enclosing types) is unique, and must fit PostgreSQL's 63
            // bytes for an identifier.
            let name = String(reflecting: statement)
            precondition(name.utf8.count < 64, "a prepared statement's name is at most 63 bytes: \(name)")
            let form = Form(
                name: name, sql: Self.numbered(statement.sql),
                types: statement.parameters.map {
                    switch $0 {
                    case .integer: .int8
                    case .text: .text
                    case .blob: .bytea
                    }
                })
            Self.forms.withLock { $0[ObjectIdentifier(statement)] = form }
            return form
        }

        /// A hot statement as postgres-nio prepares it: by its type's name, once per connection.
        struct Named<Statement: SQLPreparedStatement>: PostgresPreparedStatement {
            typealias Row = PostgresRow
            let bindings: PostgresBindings

            static var name: String { Transaction.form(of: Statement.self).name }
            static var sql: String { Transaction.form(of: Statement.self).sql }
            static var bindingDataTypes: [PostgresDataType] { Transaction.form(of: Statement.self).types }

            func makeBindings() throws -> PostgresBindings { self.bindings }

            func decodeRow(_ row: PostgresRow) throws -> PostgresRow { row }
        }

        /// `?` placeholders become `$1`, `$2` …; values become binds.
        static func query(_ sql: String, _ parameters: [SQLValue]) throws -> PostgresQuery {
            PostgresQuery(unsafeSQL: Self.numbered(sql), binds: Self.bindings(parameters))
        }

        static func bindings(_ parameters: [SQLValue]) -> PostgresBindings {
            var binds = PostgresBindings(capacity: parameters.count)
            for parameter in parameters {
                switch parameter {
                case .integer(let value): binds.append(value)
                case .text(let value): binds.append(value)
                case .blob(let value): binds.append(ByteBuffer(bytes: value))
                case .null: binds.appendNull()
                }
            }
            return binds
        }

        /// `sql` with its `?` placeholders numbered `$1`, `$2` …, byte by byte: a batch's statement has
        /// thousands of placeholders.
        static func numbered(_ sql: String) -> String {
            var bytes: [UInt8] = []
            bytes.reserveCapacity(sql.utf8.count * 2)
            var index = 0
            for byte in sql.utf8 {
                if byte == UInt8(ascii: "?") {
                    index += 1
                    bytes.append(UInt8(ascii: "$"))
                    bytes += String(index).utf8
                } else {
                    bytes.append(byte)
                }
            }
            return String(decoding: bytes, as: UTF8.self)
        }

        static func value(_ cell: PostgresCell) throws -> SQLValue {
            guard cell.bytes != nil else { return .null }
            switch cell.dataType {
            case .int8: return .integer(try cell.decode(Int64.self))
            case .int4: return .integer(Int64(try cell.decode(Int32.self)))
            case .int2: return .integer(Int64(try cell.decode(Int16.self)))
            case .bool: return .integer(try cell.decode(Bool.self) ? 1 : 0)
            case .numeric:
                // SUM over BIGINT is NUMERIC in PostgreSQL; the ledger's sums are whole fen.
                let decimal = try cell.decode(Decimal.self)
                return .integer(NSDecimalNumber(decimal: decimal).int64Value)
            case .bytea:
                var buffer = try cell.decode(ByteBuffer.self)
                return .blob(buffer.readBytes(length: buffer.readableBytes) ?? [])
            default:
                return .text(try cell.decode(String.self))
            }
        }
    }
}
