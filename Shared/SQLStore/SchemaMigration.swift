import Foundation

/// One numbered step of a store's schema. Steps are applied once each, in order, and recorded in
/// `schema_migrations` with the component they belong to; a step is never edited once released (a change is
/// a new step), so every replica and every database agree on what a version means.
public struct SchemaMigration: Sendable {
    public enum Statement: Sendable {
        /// A statement run as written.
        case sql(String)
        /// `ALTER TABLE table ADD COLUMN definition`, kept where the column is there already: SQLite has no
        /// `IF NOT EXISTS` for columns, and a database made before migrations were recorded may hold it.
        case addColumn(table: String, definition: String)
    }

    public let version: Int
    public let summary: String
    let sqlite: [Statement]
    let postgres: [Statement]

    /// A step whose script serves both dialects (statements separated by semicolons).
    public init(_ version: Int, _ summary: String, script: String) {
        self.init(version, summary, sqlite: script, postgres: script)
    }

    public init(_ version: Int, _ summary: String, sqlite: String, postgres: String) {
        self.init(version, summary, sqlite: Self.statements(sqlite), postgres: Self.statements(postgres))
    }

    /// A step adding columns to tables that exist.
    public init(_ version: Int, _ summary: String, addColumns columns: [(table: String, definition: String)]) {
        let statements = columns.map { Statement.addColumn(table: $0.table, definition: $0.definition) }
        self.init(version, summary, sqlite: statements, postgres: statements)
    }

    init(_ version: Int, _ summary: String, sqlite: [Statement], postgres: [Statement]) {
        self.version = version
        self.summary = summary
        self.sqlite = sqlite
        self.postgres = postgres
    }

    /// A script's statements: the schemas hold no semicolon inside a statement (no triggers, no literals).
    static func statements(_ script: String) -> [Statement] {
        script.split(separator: ";").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.filter { !$0.isEmpty }
            .map { .sql($0) }
    }

    /// The table of applied steps, one row per component and version.
    static let table = """
        CREATE TABLE IF NOT EXISTS schema_migrations (
            component TEXT NOT NULL,
            version BIGINT NOT NULL,
            summary TEXT NOT NULL,
            applied_at BIGINT NOT NULL,
            PRIMARY KEY (component, version)
        )
        """
}

extension SQLDatabase {
    /// Brings `component`'s schema up to its last step: the steps not yet recorded run in order, with their
    /// records, in one transaction holding the schema's lock (`schemaTransaction`), so replicas starting
    /// together apply each step once and the others find it done; a failure leaves the schema as it was.
    /// Steps recorded with versions this code does not know (a newer replica's) are left alone.
    ///
    /// Returns the versions applied now.
    @discardableResult
    public func migrate(_ component: String, _ steps: [SchemaMigration], now: Int64 = 0) async throws -> [Int] {
        precondition(
            zip(steps, steps.dropFirst()).allSatisfy { $0.version < $1.version },
            "\(component)'s migrations must be in increasing version order")
        let dialect = self.dialect
        return try await self.schemaTransaction { tx in
            try await tx.execute(SchemaMigration.table, [])
            let applied = Set(
                try await tx.query(
                    "SELECT version FROM schema_migrations WHERE component = ?", [.text(component)]
                ).map { Int($0.integer(0)) })
            var ran: [Int] = []
            for step in steps where !applied.contains(step.version) {
                for statement in dialect == .postgres ? step.postgres : step.sqlite {
                    switch statement {
                    case .sql(let sql):
                        try await tx.execute(sql, [])
                    case .addColumn(let table, let definition) where dialect == .postgres:
                        try await tx.execute("ALTER TABLE \(table) ADD COLUMN IF NOT EXISTS \(definition)", [])
                    case .addColumn(let table, let definition):
                        do {
                            try await tx.execute("ALTER TABLE \(table) ADD COLUMN \(definition)", [])
                        } catch let error as SQLError where error.message.contains("duplicate column") {
                            // There already: SQLite fails the statement alone, and the transaction goes on.
                        }
                    }
                }
                try await tx.execute(
                    "INSERT INTO schema_migrations (component, version, summary, applied_at) VALUES (?, ?, ?, ?)",
                    [.text(component), .integer(Int64(step.version)), .text(step.summary), .integer(now)])
                ran.append(step.version)
            }
            return ran
        }
    }
}
