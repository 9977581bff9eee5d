import Foundation
import MeshTestSupport
import SQLStore
import Testing

@Suite("Schema migrations")
struct SchemaMigrationTests {
    /// A schema as the services' are: tables, an index, then columns added in a later step.
    static let steps = [
        SchemaMigration(
            1, "items",
            script: """
                CREATE TABLE IF NOT EXISTS items (id TEXT PRIMARY KEY, amount BIGINT NOT NULL DEFAULT 0);
                CREATE INDEX IF NOT EXISTS items_by_amount ON items (amount)
                """),
        SchemaMigration(2, "items: note and kind", addColumns: [("items", "note TEXT"), ("items", "kind TEXT")]),
    ]

    static func recorded(_ database: any SQLDatabase, _ component: String) async throws -> [Int64] {
        try await database.read { tx in
            try await tx.query(
                "SELECT version FROM schema_migrations WHERE component = ? ORDER BY version", [.text(component)]
            ).map { $0.integer(0) }
        }
    }

    @Test(
        "PostgreSQL: four replicas starting together each migrate, every step applied and recorded once",
        .timeLimit(.minutes(2)))
    func replicasStartingTogether() async throws {
        let server = try await TemporaryPostgres.shared()
        for _ in 0..<5 {
            let name = try await server.makeDatabase()
            var replicas: [PostgresDatabase] = []
            for _ in 0..<4 { replicas.append(try await server.database(name)) }
            // Without the schema's lock, 29 of 40 such starts failed on the catalog (duplicate type or relation).
            let applied = try await withThrowingTaskGroup(of: [Int].self) { group in
                for replica in replicas { group.addTask { try await replica.migrate("items", Self.steps) } }
                return try await group.reduce(into: [Int]()) { $0 += $1 }
            }
            #expect(applied.sorted() == [1, 2], "each step applied by one replica")
            #expect(try await Self.recorded(replicas[0], "items") == [1, 2])
            try await replicas[3].transaction { tx in
                try await tx.execute(
                    "INSERT INTO items (id, amount, note, kind) VALUES (?, ?, ?, ?)",
                    [.text("a"), .integer(1), .text("n"), .text("k")])
            }
        }
    }

    @Test(
        "a database made before steps were recorded is taken as it is; a second run applies nothing",
        arguments: TestStore.allCases)
    func existingSchema(store: TestStore) async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("migrations-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let database = try await store.database("items", in: folder.path)
        // As the services made their tables before: created whole, the added column there already.
        try await database.executeScript(
            "CREATE TABLE items (id TEXT PRIMARY KEY, amount BIGINT NOT NULL DEFAULT 0, note TEXT)")
        #expect(try await database.migrate("items", Self.steps) == [1, 2])
        #expect(try await database.migrate("items", Self.steps).isEmpty)
        #expect(try await Self.recorded(database, "items") == [1, 2])
        // A step this code does not know (a newer replica's) is left alone; the known ones still apply.
        let other = [SchemaMigration(7, "other", script: "CREATE TABLE IF NOT EXISTS other_items (id TEXT)")]
        #expect(try await database.migrate("other", other) == [7])
        #expect(try await database.migrate("other", [SchemaMigration(1, "first", script: "SELECT 1")]) == [1])
        #expect(try await Self.recorded(database, "other") == [1, 7])
    }

    @Test("a failing step leaves the schema as it was and records nothing", arguments: TestStore.allCases)
    func failingStep(store: TestStore) async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("migrations-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let database = try await store.database("items", in: folder.path)
        let broken = Self.steps + [SchemaMigration(3, "broken", script: "CREATE TABLE other (id TEXT); NOT SQL")]
        await #expect(throws: (any Error).self) { try await database.migrate("items", broken) }
        #expect(try await database.migrate("items", Self.steps) == [1, 2], "nothing of the failed run was kept")
    }
}
