/// A value bound to or read from a SQL statement. The ledger uses integers, text and bytes only.
public enum SQLValue: Sendable, Hashable {
    case integer(Int64)
    case text(String)
    case blob([UInt8])
    case null

    public var integer: Int64? { if case .integer(let value) = self { return value } else { return nil } }
    public var text: String? { if case .text(let value) = self { return value } else { return nil } }
    public var blob: [UInt8]? { if case .blob(let value) = self { return value } else { return nil } }
}

extension SQLValue: ExpressibleByIntegerLiteral, ExpressibleByStringLiteral {
    public init(integerLiteral value: Int64) { self = .integer(value) }
    public init(stringLiteral value: String) { self = .text(value) }
    public init(_ value: Int) { self = .integer(Int64(value)) }
    public init(_ value: Int32) { self = .integer(Int64(value)) }
    public init(_ value: Int64) { self = .integer(value) }
    public init(_ value: String) { self = .text(value) }
    public init(_ value: Bool) { self = .integer(value ? 1 : 0) }
}

/// One result row, by column position.
public struct SQLRow: Sendable {
    public let values: [SQLValue]

    public init(values: [SQLValue]) { self.values = values }

    public subscript(_ index: Int) -> SQLValue { self.values[index] }
    public func integer(_ index: Int) -> Int64 { self.values[index].integer ?? 0 }
    public func text(_ index: Int) -> String { self.values[index].text ?? "" }
    public func blob(_ index: Int) -> [UInt8] { self.values[index].blob ?? [] }
}

/// A SQL failure, with the statement and the database's own message.
public struct SQLError: Error, Sendable, CustomStringConvertible {
    public var code: Int32
    public var message: String
    public var sql: String

    public init(code: Int32, message: String, sql: String) {
        self.code = code
        self.message = message
        self.sql = sql
    }

    public var description: String { "SQL error \(self.code): \(self.message) in `\(self.sql.prefix(120))`" }
}

/// What ledger code runs statements through inside a transaction. Statements use `?` placeholders.
public protocol SQLTransaction {
    func execute(_ sql: String, _ parameters: [SQLValue]) async throws
    func query(_ sql: String, _ parameters: [SQLValue]) async throws -> [SQLRow]
    /// Runs `sql` with the values of `rows`, one row after another, as its parameters: a multi-row insert's.
    func execute(_ sql: String, rows: ArraySlice<[SQLValue]>) async throws
    /// Runs a hot statement, prepared once per connection where the database prepares statements by name.
    func execute<Statement: SQLPreparedStatement>(_ statement: Statement.Type, _ parameters: [SQLValue])
        async throws
    /// The rows of a hot statement, prepared once per connection where the database prepares statements by name.
    func query<Statement: SQLPreparedStatement>(_ statement: Statement.Type, _ parameters: [SQLValue])
        async throws -> [SQLRow]
    /// Rings `channel`'s signal (`SQLDatabase.signal`) once this transaction commits: in this process, and
    /// on PostgreSQL in every process listening (`NOTIFY`, sent at commit). A rolled-back transaction may
    /// still ring here; a follower then finds nothing new and waits again.
    func notify(_ channel: String) async throws
    /// Holds `lock` shared until this transaction ends: transactions sharing it run side by side, and one
    /// taking it whole (`take`) holds it only while none of them is open.
    func share(_ lock: SQLLock) async throws
    /// Takes `lock` whole if no transaction holds it (whole or shared) now, without waiting, until this
    /// transaction ends; false if another holds it. In a transaction holding a lock
    /// (`SQLDatabase.transaction(holding:)`, READ COMMITTED), each statement after a `true` sees every
    /// commit of the transactions that shared `lock`: none of them is still open.
    func take(_ lock: SQLLock) async throws -> Bool
}

extension SQLTransaction {
    public func execute(_ sql: String, rows: ArraySlice<[SQLValue]>) async throws {
        try await self.execute(sql, Array(rows.joined()))
    }

    public func queryOne(_ sql: String, _ parameters: [SQLValue]) async throws -> SQLRow? {
        try await self.query(sql, parameters).first
    }

    public func queryOne<Statement: SQLPreparedStatement>(_ statement: Statement.Type, _ parameters: [SQLValue])
        async throws -> SQLRow?
    {
        try await self.query(statement, parameters).first
    }
}

/// Which SQL the database speaks, for the few statements that differ (schemas).
public enum SQLDialect: Sendable, Hashable {
    case sqlite, postgres
}

/// A database that runs transactions: SQLite embedded, PostgreSQL for several replicas.
public protocol SQLDatabase: Sendable {
    var dialect: SQLDialect { get }
    /// Runs a script of statements separated by semicolons (schema creation).
    func executeScript(_ sql: String) async throws
    /// Runs `body` in one transaction; commits when it returns, rolls back when it throws.
    func transaction<Result: Sendable>(_ body: (any SQLTransaction) async throws -> Result) async throws -> Result
    /// Runs `body` without a write transaction, for reads.
    func read<Result: Sendable>(_ body: (any SQLTransaction) async throws -> Result) async throws -> Result
    /// Runs `body` in one transaction and returns once it committed, perhaps before the commit is durable:
    /// the caller may begin its next transaction at once, and must await `Durability` before it tells
    /// anyone what the transaction did or read (a pipelined commit). `transaction` is this, awaited whole.
    func pipelinedTransaction<Result: Sendable>(_ body: (any SQLTransaction) async throws -> Result) async throws -> (
        Result, Durability
    )
    /// The signal a commit notifying `channel` rings.
    func signal(_ channel: String) -> ChangeSignal
    /// Runs `body` in a transaction holding `lock`, waiting for it: one at a time across every process
    /// sharing the database, each statement seeing what those before it committed (READ COMMITTED after the
    /// lock on PostgreSQL, where a SERIALIZABLE snapshot would predate the wait).
    func transaction<Result: Sendable>(holding lock: SQLLock, _ body: (any SQLTransaction) async throws -> Result)
        async throws -> Result
}

extension SQLDatabase {
    /// Runs `body` with the database serving it: for PostgreSQL, the client's connection pool runs beside
    /// `body` in a task group and stops when `body` returns; SQLite needs nothing running.
    public func running<Result>(
        isolation: isolated (any Actor)? = #isolation, _ body: () async throws -> Result
    ) async throws -> Result {
        // A pool already served (by an enclosing call, or by whoever handed the database out) serves this body too.
        guard let postgres = self as? PostgresDatabase, postgres.beginServing() else { return try await body() }
        return try await withThrowingTaskGroup(of: Void.self, returning: Result.self, isolation: isolation) { group in
            group.addTask { await postgres.client.run() }
            defer { group.cancelAll() }
            return try await body()
        }
    }

    /// Runs `body` holding the schema's lock, for migrations: one at a time across every process.
    public func schemaTransaction<Result: Sendable>(_ body: (any SQLTransaction) async throws -> Result)
        async throws -> Result
    {
        try await self.transaction(holding: .schema, body)
    }

    /// Where a commit is durable when it returns (PostgreSQL): nothing more to wait for.
    public func pipelinedTransaction<Result: Sendable>(_ body: (any SQLTransaction) async throws -> Result) async throws
        -> (Result, Durability)
    {
        (try await self.transaction(body), .immediate)
    }
}

/// The wait until a pipelined transaction's commit (and everything it read) is durable.
public struct Durability: Sendable {
    private let wait: @Sendable () async throws -> Void

    public init(_ wait: @escaping @Sendable () async throws -> Void) {
        self.wait = wait
    }

    public static let immediate = Durability {}

    /// Returns once the commit is durable; throws if it may not be.
    public func reached() async throws {
        try await self.wait()
    }
}
