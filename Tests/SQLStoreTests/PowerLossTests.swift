import Foundation
import MeshSimulation
import SQLStore
import Testing

/// SQLite on a disk that loses what was not synced (`FaultyDisk`): what a transaction returned survives any
/// power loss, what was only written does not have to, and a failed sync or a full disk is an error that
/// leaves the database whole.
@Suite("SQLite under power loss")
struct PowerLossTests {
    static func keys(_ database: SQLiteDatabase) async throws -> Set<String> {
        try await database.read { tx in
            Set(try await tx.query("SELECT k FROM items", []).map { $0.text(0) })
        }
    }

    static func integrity(_ database: SQLiteDatabase) async throws -> String {
        try await database.read { tx in try await tx.query("PRAGMA integrity_check", []).first?.text(0) ?? "" }
    }

    @Test("a commit written and not synced is lost at a power loss; one returned is not")
    func unsyncedIsLost() async throws {
        let disk = try FaultyDisk()
        var database: SQLiteDatabase? = try disk.database("items.sqlite")
        try await database!.executeScript("CREATE TABLE items (k TEXT PRIMARY KEY)")
        try await database!.transaction { tx in try await tx.execute("INSERT INTO items (k) VALUES ('synced')", []) }
        // Written to the log, its sync never awaited: nothing promised it to anyone.
        let (_, durability) = try await database!.pipelinedTransaction { tx in
            try await tx.execute("INSERT INTO items (k) VALUES ('written')", [])
        }
        _ = durability
        #expect(try await Self.keys(database!) == ["synced", "written"])
        // The read waited for the sync of what it saw: now both are on the disk.
        #expect(disk.unsyncedWrites == 0)
        try await database!.transaction { tx in try await tx.execute("INSERT INTO items (k) VALUES ('answered')", []) }
        let (_, unawaited) = try await database!.pipelinedTransaction { tx in
            try await tx.execute("INSERT INTO items (k) VALUES ('unanswered')", [])
        }
        _ = unawaited
        #expect(disk.unsyncedWrites > 0, "the last commit should be written and not yet synced")
        disk.crash()
        try await database!.close()
        database = nil
        let lost = try disk.losePower(.loseAll, seed: 1)
        #expect(lost > 0)
        let reopened = try disk.database("items.sqlite")
        #expect(try await Self.keys(reopened) == ["synced", "written", "answered"])
        #expect(try await Self.integrity(reopened) == "ok")
    }

    @Test(
        "whatever subset of unsynced writes reaches the disk, torn or not, every answered commit is there and the database is whole",
        arguments: FaultyDisk.PowerLoss.allCases)
    func everyPowerLoss(_ mode: FaultyDisk.PowerLoss) async throws {
        var lost = 0
        for seed in UInt64(1)...40 {
            var random = SeededRandom(seed: seed)
            let disk = try FaultyDisk()
            let database = try disk.database("items.sqlite")
            try await database.executeScript("CREATE TABLE items (k TEXT PRIMARY KEY, v BLOB)")
            var answered: Set<String> = []
            var written: Set<String> = []
            // Commits of a few pages each, some answered (awaited), some only written; the crash comes at a
            // step drawn from the seed, and a checkpoint now and then moves the log into the database file.
            let steps = 5 + Int(random.next() % 40)
            for step in 0..<steps {
                let key = "item-\(step)"
                let value = SQLValue.blob(
                    Array(repeating: UInt8(truncatingIfNeeded: step), count: 700 * (1 + step % 7)))
                if random.next() % 3 == 0 {
                    let (_, durability) = try await database.pipelinedTransaction { tx in
                        try await tx.execute("INSERT INTO items (k, v) VALUES (?, ?)", [.text(key), value])
                    }
                    _ = durability
                    written.insert(key)
                } else {
                    try await database.transaction { tx in
                        try await tx.execute("INSERT INTO items (k, v) VALUES (?, ?)", [.text(key), value])
                    }
                    answered.insert(key)
                }
                if random.next() % 10 == 0 { try await database.executeScript("PRAGMA wal_checkpoint(PASSIVE)") }
            }
            disk.crash()
            try await database.close()
            lost += try disk.losePower(mode, seed: random.next())
            let reopened = try disk.database("items.sqlite")
            let kept = try await Self.keys(reopened)
            #expect(answered.isSubset(of: kept), "seed \(seed), \(mode): lost \(answered.subtracting(kept).sorted())")
            #expect(kept.isSubset(of: answered.union(written)), "seed \(seed), \(mode)")
            #expect(try await Self.integrity(reopened) == "ok", "seed \(seed), \(mode)")
            try await reopened.close()
        }
        // The seeds crashed with writes at risk: the power losses above undid some.
        #expect(lost > 0)
    }

    @Test("a failed sync fails the transaction and every later one; opened again, the database has what was answered")
    func failedSync() async throws {
        let disk = try FaultyDisk()
        let database = try disk.database("items.sqlite")
        try await database.executeScript("CREATE TABLE items (k TEXT PRIMARY KEY)")
        try await database.transaction { tx in try await tx.execute("INSERT INTO items (k) VALUES ('before')", []) }
        disk.failSyncs(1)
        await #expect(throws: SQLError.self) {
            try await database.transaction { tx in try await tx.execute("INSERT INTO items (k) VALUES ('failed')", []) }
        }
        // The log's state on disk is unknown after a failed sync: nothing more is trusted until it is opened again.
        let refusal = await #expect(throws: SQLError.self) {
            try await database.transaction { tx in try await tx.execute("INSERT INTO items (k) VALUES ('after')", []) }
        }
        #expect(refusal?.message.contains("opened again") == true, "\(String(describing: refusal))")
        disk.crash()
        try await database.close()
        try disk.losePower(.loseAll, seed: 7)
        let reopened = try disk.database("items.sqlite")
        #expect(try await Self.keys(reopened).contains("before"))
        #expect(!(try await Self.keys(reopened).contains("after")))
        try await reopened.transaction { tx in try await tx.execute("INSERT INTO items (k) VALUES ('again')", []) }
        #expect(try await Self.integrity(reopened) == "ok")
    }

    @Test(
        "a full disk refuses the commit that needs room, with SQLite's error; the database goes on once there is room")
    func fullDisk() async throws {
        let disk = try FaultyDisk()
        let database = try disk.database("items.sqlite")
        try await database.executeScript("CREATE TABLE items (k TEXT PRIMARY KEY, v BLOB)")
        try await database.transaction { tx in
            try await tx.execute(
                "INSERT INTO items (k, v) VALUES ('first', ?)", [.blob(Array(repeating: 1, count: 100))])
        }
        disk.setFull(true)
        let refusal = await #expect(throws: SQLError.self) {
            try await database.transaction { tx in
                try await tx.execute(
                    "INSERT INTO items (k, v) VALUES ('large', ?)", [.blob(Array(repeating: 2, count: 1 << 20))])
            }
        }
        #expect(refusal?.message.contains("full") == true, "\(String(describing: refusal))")
        disk.setFull(false)
        try await database.transaction { tx in
            try await tx.execute(
                "INSERT INTO items (k, v) VALUES ('second', ?)", [.blob(Array(repeating: 3, count: 100))])
        }
        #expect(try await Self.keys(database) == ["first", "second"])
        #expect(try await Self.integrity(database) == "ok")
    }
}
