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

    @Test(
        "a transaction cancelled midway writes no further statement, keeps nothing, and leaves the pool usable",
        .timeLimit(.minutes(1)))
    func cancelledMidTransaction() async throws {
        let server = try await TemporaryPostgres.shared()
        let database = try await server.database(try await server.makeDatabase())
        try await database.executeScript("CREATE TABLE IF NOT EXISTS items (id TEXT PRIMARY KEY)")
        let (inside, entered) = AsyncStream<Void>.makeStream()
        let cancelled = Task {
            try await database.transaction { tx in
                try await tx.execute("INSERT INTO items (id) VALUES (?)", [.text("first")])
                entered.yield()
                // A sleep ignoring cancellation, as a body busy elsewhere would: its next statement must
                // not be written.
                try? await Task.sleep(for: .milliseconds(300))
                try await tx.execute("INSERT INTO items (id) VALUES (?)", [.text("second")])
            }
        }
        for await _ in inside { break }
        cancelled.cancel()
        await #expect(throws: CancellationError.self) { try await cancelled.value }
        for index in 0..<3 {  // more than one transaction: a pool connection left mid-transaction would show
            try await database.transaction { tx in
                try await tx.execute("INSERT INTO items (id) VALUES (?)", [.text("after-\(index)")])
            }
        }
        let rows = try await database.read { tx in try await tx.query("SELECT id FROM items ORDER BY id", []) }
        #expect(rows.map { $0.text(0) } == ["after-0", "after-1", "after-2"])
    }
}
