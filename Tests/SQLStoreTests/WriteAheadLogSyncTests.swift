import Foundation
import NIOConcurrencyHelpers
import Testing

@testable import SQLStore

/// Commits are written without a sync and synced afterwards, off the connection's lock: what a transaction or
/// read returns must be durable by then, syncs are shared, and a failed sync stops the database.
@Suite("SQLite log sync")
struct WriteAheadLogSyncTests {
    static func temporaryPath() throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("walsync-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory.appendingPathComponent("test.sqlite").path
    }

    @Test("a transaction and a read return once every commit they could see is synced")
    func returnsDurable() async throws {
        let database = try SQLiteDatabase(path: try Self.temporaryPath())
        try await database.executeScript("CREATE TABLE items (k TEXT PRIMARY KEY)")
        let logSync = try #require(database.logSync)
        for index in 0..<5 {
            try await database.transaction { tx in
                try await tx.execute("INSERT INTO items (k) VALUES (?)", [.text("item-\(index)")])
            }
            let counts = logSync.counts
            #expect(counts.synced == counts.committed)
        }
        // A pipelined commit is written but not synced until someone waits; a read that saw it waits too.
        let (_, durability) = try await database.pipelinedTransaction { tx in
            try await tx.execute("INSERT INTO items (k) VALUES ('late')", [])
        }
        #expect(logSync.counts.synced < logSync.counts.committed)
        let count = try await database.read { tx in try await tx.queryOne("SELECT COUNT(*) FROM items", [])?.integer(0)
        }
        #expect(count == 6)
        #expect(logSync.counts.synced == logSync.counts.committed)
        try await durability.reached()
    }

    @Test("pipelined commits written back to back are made durable by one sync")
    func syncsAreShared() async throws {
        let database = try SQLiteDatabase(path: try Self.temporaryPath())
        try await database.executeScript("CREATE TABLE items (k TEXT PRIMARY KEY)")
        let logSync = try #require(database.logSync)
        let before = logSync.counts.syncs
        var waits: [Durability] = []
        for index in 0..<20 {
            let (_, durability) = try await database.pipelinedTransaction { tx in
                try await tx.execute("INSERT INTO items (k) VALUES (?)", [.text("item-\(index)")])
            }
            waits.append(durability)
        }
        for durability in waits.reversed() { try await durability.reached() }
        #expect(logSync.counts.syncs == before + 1)
        #expect(logSync.counts.synced == logSync.counts.committed)
    }

    @Test("a database opened through a symbolic link syncs the log SQLite writes, beside the link's target")
    func symbolicLink() async throws {
        let target = try Self.temporaryPath()
        let link = try Self.temporaryPath()
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: target)
        let synced = NIOLockedValueBox<[Int32]>([])
        let database = try SQLiteDatabase(
            path: link,
            syncFile: { descriptor in
                synced.withLockedValue { $0.append(descriptor) }
                return fdatasync(descriptor)
            })
        try await database.executeScript("CREATE TABLE items (k TEXT PRIMARY KEY)")
        try await database.transaction { tx in
            try await tx.execute("INSERT INTO items (k) VALUES ('through the link')", [])
        }
        #expect(FileManager.default.fileExists(atPath: target + "-wal"))
        #expect(!synced.withLockedValue { $0 }.isEmpty)
        let counts = try #require(database.logSync).counts
        #expect(counts.synced == counts.committed)
    }

    @Test(
        "a failed sync fails the transaction that waited for it and every one after, until the database is opened again"
    )
    func failedSyncStops() async throws {
        let path = try Self.temporaryPath()
        let failing = NIOLockedValueBox(false)
        let database = try SQLiteDatabase(
            path: path,
            syncFile: { descriptor in
                if failing.withLockedValue({ $0 }) {
                    errno = EIO
                    return -1
                }
                return fdatasync(descriptor)
            })
        try await database.executeScript("CREATE TABLE items (k TEXT PRIMARY KEY)")
        try await database.transaction { tx in try await tx.execute("INSERT INTO items (k) VALUES ('kept')", []) }
        failing.withLockedValue { $0 = true }
        await #expect(throws: SQLError.self) {
            try await database.transaction { tx in try await tx.execute("INSERT INTO items (k) VALUES ('unsure')", []) }
        }
        failing.withLockedValue { $0 = false }
        let error = await #expect(throws: SQLError.self) {
            _ = try await database.read { tx in try await tx.query("SELECT k FROM items", []) }
        }
        #expect(error?.message.contains("must be opened again") == true)
        // Opened again, SQLite recovers the log as it finds it: the first row is there.
        let reopened = try SQLiteDatabase(path: path)
        let rows = try await reopened.read { tx in try await tx.query("SELECT k FROM items ORDER BY k", []) }
        #expect(rows.map { $0.text(0) }.contains("kept"))
    }
}
