import Foundation
import MeshTestSupport
import SQLStore
import Testing

/// Followers wake on a commit that notified their channel, not on a timer: in this process on both stores,
/// and between two replicas' connections to one PostgreSQL database through `LISTEN`.
@Suite("Change signals")
struct ChangeSignalTests {
    /// Long enough that a wait ending by its timeout, not by the ring, is never mistaken for a wake: each
    /// test checks the generation moved, which only a ring does.
    static let patience = Duration.seconds(30)

    @Test("a ring between the look and the wait is not missed; without one the wait ends at its timeout")
    func noLostRing() async {
        let signal = ChangeSignal()
        let seen = signal.generation
        signal.ring()
        await signal.wait(after: seen, timeout: Self.patience)
        #expect(signal.generation == seen + 1)
        let now = signal.generation
        await signal.wait(after: now, timeout: .milliseconds(20))
        #expect(signal.generation == now)
    }

    @Test("a waiting task cancelled returns, and a later ring finds no one")
    func cancelledWait() async {
        let signal = ChangeSignal()
        let seen = signal.generation
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await signal.wait(after: seen, timeout: Self.patience) }
            group.cancelAll()
            await group.waitForAll()
        }
        signal.ring()
        #expect(signal.generation == seen + 1)
    }

    @Test(
        "a commit that notified wakes the channel's follower; a rolled-back one and another channel do not",
        arguments: TestStore.allCases)
    func commitRings(store: TestStore) async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("signal-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let database = try await store.database("signals", in: folder)
        try await database.executeScript("CREATE TABLE IF NOT EXISTS items (id TEXT PRIMARY KEY)")
        let signal = database.signal("items")
        let other = database.signal("elsewhere")

        let beforeRollback = signal.generation
        struct Abandon: Error {}
        await #expect(throws: Abandon.self) {
            try await database.transaction { tx in
                try await tx.execute("INSERT INTO items (id) VALUES (?)", [.text("never")])
                try await tx.notify("items")
                throw Abandon()
            }
        }
        #expect(signal.generation == beforeRollback, "a rolled-back transaction rings nothing")

        let seen = signal.generation
        let otherSeen = other.generation
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await signal.wait(after: seen, timeout: Self.patience) }
            group.addTask {
                try await database.transaction { tx in
                    try await tx.execute("INSERT INTO items (id) VALUES (?)", [.text("one")])
                    try await tx.notify("items")
                }
            }
            try await group.waitForAll()
        }
        #expect(signal.generation > seen)
        #expect(other.generation == otherSeen)
    }

    @Test("PostgreSQL: a commit in one replica's session wakes a follower of another replica that listens")
    func listenAcrossReplicas() async throws {
        let server = try await TemporaryPostgres.shared()
        let name = try await server.makeDatabase()
        let writer = try await server.database(name)
        let follower = try await server.database(name)
        try await writer.executeScript("CREATE TABLE IF NOT EXISTS items (id TEXT PRIMARY KEY)")
        let signal = follower.signal("items")
        // The listener rings once when it starts: wait for that, then for the other replica's commit.
        let start = signal.generation
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try? await follower.listen("items") }
            await signal.wait(after: start, timeout: Self.patience)
            #expect(signal.generation > start, "the listener started")
            let seen = signal.generation
            try await writer.transaction { tx in
                try await tx.execute("INSERT INTO items (id) VALUES (?)", [.text("remote")])
                try await tx.notify("items")
            }
            await signal.wait(after: seen, timeout: Self.patience)
            #expect(signal.generation > seen, "the other replica's commit reached this one")
            group.cancelAll()
        }
    }
}
