import Foundation
import MeshTestSupport
import SQLStore
import Testing

@Suite("PostgreSQL database")
struct PostgresDatabaseTests {
    struct Closed: Error {}

    @Test(
        "a transaction whose connection closed under it fails instead of waiting for ever, and the pool goes on",
        .timeLimit(.minutes(1)))
    func connectionClosedMidTransaction() async throws {
        let server = try await TemporaryPostgres.shared()
        let database = try await server.database(try await server.makeDatabase())
        try await database.executeScript("CREATE TABLE IF NOT EXISTS items (id TEXT PRIMARY KEY)")
        // The server ends this session; the body waits until the connection's channel is gone (as when a
        // replica's pool is shut down under a delivery pass), then fails, and the transaction must not
        // write its ROLLBACK to the dead connection.
        await #expect(throws: (any Error).self) {
            try await database.transaction { tx in
                try await tx.execute("INSERT INTO items (id) VALUES (?)", [.text("lost")])
                do {
                    _ = try await tx.query("SELECT pg_terminate_backend(pg_backend_pid())", [])
                } catch {
                    try await Task.sleep(for: .milliseconds(300))
                    throw Closed()
                }
            }
        }
        try await database.transaction { tx in
            try await tx.execute("INSERT INTO items (id) VALUES (?)", [.text("kept")])
        }
        let rows = try await database.read { tx in try await tx.query("SELECT id FROM items ORDER BY id", []) }
        #expect(rows.map { $0.values } == [[.text("kept")]], "the closed session's insert went with it")
    }
}
