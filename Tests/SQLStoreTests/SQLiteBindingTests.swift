import CSQLite
import Foundation
import Testing

@testable import SQLStore

@Suite("SQLite parameters")
struct SQLiteBindingTests {
    static func withDatabase(_ body: (SQLiteDatabase) async throws -> Void) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sqlstore-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let database = try SQLiteDatabase(path: directory.appendingPathComponent("test.sqlite").path)
        try await database.executeScript("CREATE TABLE t (n INTEGER, text TEXT, bytes BLOB, other TEXT)")
        try await body(database)
    }

    @Test("rows bound one after another read back as written: short, long, empty and Chinese texts, empty blobs, nulls")
    func multiRowValues() async throws {
        try await Self.withDatabase { database in
            let rows: [[SQLValue]] = (0..<40).map { index in
                [
                    .integer(Int64(index)),
                    // Short texts live inside the String itself, long ones in storage of their own; 40 rows of
                    // 600 bytes are more than the bound bytes' first room, so it grows on the way.
                    .text(index % 2 == 0 ? "短\(index)" : String(repeating: "长文本\(index)", count: 60)),
                    .blob(index % 3 == 0 ? [] : Array(repeating: UInt8(index), count: index)),
                    index % 4 == 0 ? .null : .text(""),
                ]
            }
            try await database.transaction { tx in
                for start in stride(from: 0, to: rows.count, by: 8) {
                    try await tx.execute(
                        "INSERT INTO t VALUES " + Array(repeating: "(?, ?, ?, ?)", count: 8).joined(separator: ", "),
                        rows: rows[start..<(start + 8)])
                }
            }
            let read = try await database.read { tx in
                try await tx.query("SELECT n, text, bytes, other FROM t ORDER BY n", [])
            }
            #expect(read.count == rows.count)
            for (row, written) in zip(read, rows) {
                #expect(row.values == written)
            }
        }
    }

    @Test("the bound bytes' room grows for a large statement, and is given back once statements are small again")
    func bindingRoom() async throws {
        var bytes = BindingBytes()
        defer { bytes.deallocate() }
        _ = bytes.reserve(100)
        #expect(bytes.capacity == BindingBytes.usualCapacity)
        _ = bytes.reserve(5 * 1024 * 1024)
        #expect(bytes.capacity == 5 * 1024 * 1024)
        _ = bytes.reserve(200 * 1024)  // not small: the room is kept
        #expect(bytes.capacity == 5 * 1024 * 1024)
        _ = bytes.reserve(100)
        #expect(bytes.capacity == BindingBytes.usualCapacity)
        // Through a database: a blob of 5 MiB, then small rows, each read back whole.
        try await Self.withDatabase { database in
            let large = (0..<(5 * 1024 * 1024)).map { UInt8(truncatingIfNeeded: $0 &* 31) }
            try await database.transaction { tx in
                try await tx.execute(
                    "INSERT INTO t VALUES (?, ?, ?, ?)", [.integer(1), .text("large"), .blob(large), .null])
            }
            try await database.transaction { tx in
                try await tx.execute(
                    "INSERT INTO t VALUES (?, ?, ?, ?)", [.integer(2), .text("small"), .blob([2]), .text("x")])
            }
            let read = try await database.read { tx in try await tx.query("SELECT n, text, bytes FROM t ORDER BY n", [])
            }
            #expect(
                read.map(\.values) == [
                    [.integer(1), .text("large"), .blob(large)], [.integer(2), .text("small"), .blob([2])],
                ])
        }
    }

    @Test("a statement given more or fewer values than it takes is refused, naming both counts; the connection goes on")
    func parameterCount() async throws {
        try await Self.withDatabase { database in
            for values: [SQLValue] in [[.integer(1)], [.integer(1), .text("a"), .blob([1]), .text("b"), .integer(2)]] {
                do {
                    try await database.transaction { tx in
                        try await tx.execute("INSERT INTO t VALUES (?, ?, ?, ?)", values)
                    }
                    Issue.record("\(values.count) values were accepted")
                } catch let error as SQLError {
                    #expect(error.code == SQLITE_RANGE)
                    #expect(error.message == "the statement takes 4 parameters, \(values.count) given")
                }
            }
            try await database.transaction { tx in
                try await tx.execute(
                    "INSERT INTO t VALUES (?, ?, ?, ?)", [.integer(7), .text("seven"), .blob([7]), .null])
            }
            let read = try await database.read { tx in try await tx.query("SELECT n, text FROM t", []) }
            #expect(read.map(\.values) == [[.integer(7), .text("seven")]])
        }
    }
}
