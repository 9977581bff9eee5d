import Foundation
import MeshTransport
import NIOPosix
import Testing

@testable import SQLStore

@Suite("SQLite statement cache")
struct SQLiteDatabaseTests {
    typealias Key = SQLiteDatabase.StatementText

    @Test("texts equal byte for byte are one key, whatever their storage; a difference anywhere makes two")
    func keys() {
        let constant = "SELECT id, balance_fen, reserved_fen FROM accounts WHERE kind = 'fund' AND id = ?"
        let rebuilt = String(decoding: Array(constant.utf8), as: UTF8.self)
        #expect(Key(constant) == Key(rebuilt))
        #expect(Key(constant).hashValue == Key(rebuilt).hashValue)
        // Same length, same first and last 24 bytes (so the same hash): only the comparison tells them apart.
        let middle = constant.replacingOccurrences(of: "reserved_fen", with: "reserved_xen")
        #expect(Key(constant).hashValue == Key(middle).hashValue)
        #expect(Key(constant) != Key(middle))
        #expect(Key("SELECT 1") != Key("SELECT 2"))
    }

    @Test("Unicode-equivalent texts in different bytes are different statements, as SQLite reads them")
    func unicodeEquivalence() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sqlstore-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let composed = "SELECT 'caf\u{E9}'"
        let decomposed = "SELECT 'cafe\u{301}'"
        #expect(composed == decomposed)  // Swift's String equality is canonical equivalence
        #expect(Key(composed) != Key(decomposed))
        let database = try SQLiteDatabase(path: directory.appendingPathComponent("test.sqlite").path)
        let (first, second) = try await database.read { tx in
            (try await tx.query(composed, [])[0].text(0), try await tx.query(decomposed, [])[0].text(0))
        }
        #expect(Array(first.utf8) == Array("caf\u{E9}".utf8))
        #expect(Array(second.utf8) == Array("cafe\u{301}".utf8))
    }

    @Test("a caller on an event loop has its statements run on the cooperative pool, and is back on its loop after")
    func offTheEventLoop() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sqlstore-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let database = try SQLiteDatabase(path: directory.appendingPathComponent("test.sqlite").path)
        try await database.executeScript("CREATE TABLE t (n INTEGER)")
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let seen = try await withTaskExecutorPreference(EventLoopTaskExecutor(loop)) {
            let before = loop.inEventLoop
            let writing = try await database.transaction { tx in
                try await tx.execute("INSERT INTO t VALUES (1)", [])
                return MultiThreadedEventLoopGroup.currentEventLoop == nil
            }
            let reading = try await database.read { tx in
                (try await tx.query("SELECT n FROM t", []).count, MultiThreadedEventLoopGroup.currentEventLoop == nil)
            }
            return [before, writing, reading.0 == 1, reading.1, loop.inEventLoop]
        }
        #expect(seen == [true, true, true, true, true])
    }
}
