import Foundation
import MeshTestSupport
import SQLStore
import Testing

/// Hot statements prepared once per connection by name (PostgreSQL), and run by their text where not.
@Suite("Prepared statements")
struct SQLPreparedStatementTests {
    enum AddItem: SQLPreparedStatement {
        static let sql =
            "INSERT INTO items (id, count, data) VALUES (?, ?, ?) ON CONFLICT (id) DO UPDATE SET count = items.count + excluded.count"
        static let parameters: [SQLParameterType] = [.text, .integer, .blob]
    }

    enum Item: SQLPreparedStatement {
        static let sql = "SELECT id, count, data FROM items WHERE id = ?"
        static let parameters: [SQLParameterType] = [.text]
    }

    /// A fresh database behind a pool of one connection, served until the test lets go of it.
    static func singleConnection(_ server: TemporaryPostgres, preparedStatements: Bool = true) async throws
        -> PostgresDatabase
    {
        let database = try PostgresDatabase(
            host: "127.0.0.1", port: server.port, username: "postgres", password: nil,
            database: try await server.makeDatabase(), maximumConnections: 1, idleTimeout: .seconds(5),
            preparedStatements: preparedStatements, logger: TestMesh.logger)
        database.serveUntilReleased()
        return database
    }

    /// The named statements this session holds.
    static func prepared(_ tx: any SQLTransaction) async throws -> [String] {
        try await tx.query("SELECT name FROM pg_prepared_statements ORDER BY name", []).map { $0.text(0) }
    }

    static func exercise(_ database: any SQLDatabase) async throws -> (rows: [[SQLValue]], names: [String]) {
        try await database.executeScript(
            "CREATE TABLE IF NOT EXISTS items (id TEXT PRIMARY KEY, count BIGINT NOT NULL, data BYTEA)")
        return try await database.transaction { tx in
            for _ in 0..<3 { try await tx.execute(AddItem.self, [.text("嘉兴"), .integer(2), .blob([0, 1, 255])]) }
            try await tx.execute(AddItem.self, [.text("null"), .integer(1), .null])
            let rows = try await tx.query(Item.self, [.text("嘉兴")]) + tx.query(Item.self, [.text("null")])
            return (rows.map(\.values), database.dialect == .postgres ? try await Self.prepared(tx) : [])
        }
    }

    @Test("PostgreSQL prepares a hot statement once per connection under its type's name; the rows are as written")
    func postgresNamed() async throws {
        let server = try await TemporaryPostgres.shared()
        let database = try await server.database()
        let (rows, names) = try await Self.exercise(database)
        #expect(rows == [[.text("嘉兴"), .integer(6), .blob([0, 1, 255])], [.text("null"), .integer(1), .null]])
        #expect(names.contains(String(reflecting: AddItem.self)), "\(names)")
        #expect(names.contains(String(reflecting: Item.self)), "\(names)")
        #expect(names.count == Set(names).count)
    }

    @Test(
        "with prepared_statements off (a pooler in transaction mode) nothing is prepared by name; the rows are the same"
    )
    func postgresUnnamed() async throws {
        let server = try await TemporaryPostgres.shared()
        let database = try await Self.singleConnection(server, preparedStatements: false)
        let (rows, names) = try await Self.exercise(database)
        #expect(rows == [[.text("嘉兴"), .integer(6), .blob([0, 1, 255])], [.text("null"), .integer(1), .null]])
        #expect(names.isEmpty, "\(names)")
    }

    enum Later: SQLPreparedStatement {
        static let sql = "SELECT id FROM later WHERE id = ?"
        static let parameters: [SQLParameterType] = [.text]
    }

    @Test(
        "a named statement whose preparation failed (its table not made yet) is prepared again once it can be: its connection is not kept"
    )
    func failedPreparation() async throws {
        let server = try await TemporaryPostgres.shared()
        // One connection, so that the second use would meet the first's failure if the connection were kept.
        let database = try await Self.singleConnection(server)
        await #expect(throws: (any Error).self) {
            try await database.transaction { tx in _ = try await tx.query(Later.self, [.text("a")]) }
        }
        await #expect(throws: (any Error).self) {
            try await database.read { tx in _ = try await tx.query(Later.self, [.text("a")]) }
        }
        try await database.executeScript("CREATE TABLE later (id TEXT PRIMARY KEY); INSERT INTO later VALUES ('a')")
        let rows = try await database.transaction { tx in try await tx.query(Later.self, [.text("a")]) }
        #expect(rows.map(\.values) == [[.text("a")]])
        let read = try await database.read { tx in try await tx.query(Later.self, [.text("a")]) }
        #expect(read.map(\.values) == [[.text("a")]])
    }

    @Test("SQLite runs a hot statement by its text: the same rows")
    func sqlite() async throws {
        let path = NSTemporaryDirectory() + "prepared-\(UUID().uuidString).sqlite"
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        let (rows, _) = try await Self.exercise(try SQLiteDatabase(path: path))
        #expect(rows == [[.text("嘉兴"), .integer(6), .blob([0, 1, 255])], [.text("null"), .integer(1), .null]])
    }
}
