import BenefitsDomain
import Ledger
import MeshTestSupport
import SQLStore
import Testing

/// The outbox where several transactions and subscribers meet at once: PostgreSQL only, as SQLite runs one
/// transaction at a time.
@Suite("Ledger outbox on PostgreSQL")
struct LedgerOutboxTests {
    static func propose(_ ledger: Ledger, _ index: Int) async throws {
        _ = try await ledger.propose(
            LedgerTests.request(
                clause: "jzf-2023-3/3.19b", amount: 20_000_000,
                creditCode: CreditCode.completing("9133048" + String(format: "%010d", index))!.value))
    }

    @Test(
        "an event drawn its sequence by a transaction still open is leased once that commits, though later events were acknowledged"
    )
    func eventCommittedLate() async throws {
        let database = try await TemporaryPostgres.shared().database()
        try await LedgerTests.run(on: database) { ledger, _ in
            _ = try await ledger.openFund(documentID: "jzf-2023-3", year: 2023, budgetFen: 1_000_000_000)
            let (opened, open) = AsyncStream<Void>.makeStream()
            let (released, release) = AsyncStream<Void>.makeStream()
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    try await database.transaction { tx in
                        var event = LedgerOutbox.Event()
                        event.application.id = "application-late"
                        try await LedgerOutbox.append(
                            tx, event, type: "filed", entityKey: "late", id: "application-late", at: 1)
                        open.yield()
                        for await _ in released { break }
                    }
                }
                for await _ in opened { break }
                // Three events drawn after it commit, are leased and acknowledged; the group looks again.
                for index in 1...3 { try await Self.propose(ledger, index) }
                let leased = try await ledger.outbox.lease(
                    group: "g", consumer: "a", maximumInFlight: 10, leaseMillis: 30_000)
                #expect(leased.map(\.type) == ["proposed", "proposed", "proposed"])
                _ = try await ledger.outbox.acknowledge(group: "g", sequences: leased.map(\.sequence))
                #expect(
                    try await ledger.outbox.lease(group: "g", consumer: "a", maximumInFlight: 10, leaseMillis: 30_000)
                        .isEmpty)
                release.finish()
                try await group.waitForAll()
            }
            let late = try await ledger.outbox.lease(
                group: "g", consumer: "a", maximumInFlight: 10, leaseMillis: 30_000)
            #expect(late.map(\.application.id) == ["application-late"])
            #expect(late.first.map(\.sequence) ?? 0 < (try await ledger.outbox.lastSequence()))
        }
    }

    @Test("a group's cursor holds a sequence past 2^31 (event_cursors.acked_through is 64-bit)")
    func wideCursor() async throws {
        let database = try await TemporaryPostgres.shared().database()
        try await LedgerTests.run(on: database) { _, _ in
            let wide: Int64 = 3_000_000_000
            try await database.transaction { tx in
                try await tx.execute(
                    "INSERT INTO event_cursors (grp, acked_through) VALUES (?, ?)", [.text("g"), .integer(wide)])
            }
            let read = try await database.read { tx in
                try await tx.queryOne("SELECT acked_through FROM event_cursors WHERE grp = ?", [.text("g")])
            }
            #expect(read?.integer(0) == wide)
        }
    }

    @Test(
        "two replicas' subscribers of one group lease and acknowledge while a third proposes: every event once, no transaction given up"
    )
    func subscribersTakeTurns() async throws {
        let postgres = try await TemporaryPostgres.shared()
        let name = try await postgres.makeDatabase()
        let writer = Ledger(database: try await postgres.database(name), catalog: { LedgerTests.catalog })
        try await writer.migrate()
        let subscribers = [
            Ledger(database: try await postgres.database(name), catalog: { LedgerTests.catalog }),
            Ledger(database: try await postgres.database(name), catalog: { LedgerTests.catalog }),
        ]
        let total = 300
        _ = try await writer.openFund(documentID: "jzf-2023-3", year: 2023, budgetFen: 10_000_000_000)
        let seen = try await writer.running {
            try await subscribers[0].running {
                try await subscribers[1].running {
                    try await withThrowingTaskGroup(of: [Int64].self) { group in
                        group.addTask {
                            for index in 0..<total { try await Self.propose(writer, index) }
                            return []
                        }
                        for (number, subscriber) in subscribers.enumerated() {
                            group.addTask {
                                var handled: [Int64] = []
                                while true {
                                    let events = try await subscriber.outbox.lease(
                                        group: "notification", consumer: "replica-\(number)", maximumInFlight: 16,
                                        leaseMillis: 600_000)
                                    handled += events.map(\.sequence)
                                    _ = try await subscriber.outbox.acknowledge(
                                        group: "notification", sequences: events.map(\.sequence))
                                    let written = try await writer.outbox.lastSequence()
                                    if events.isEmpty, written > 0,
                                        try await writer.orders(.init(limit: 1000)).count == total
                                    {
                                        let left = try await subscriber.outbox.lease(
                                            group: "notification", consumer: "replica-\(number)",
                                            maximumInFlight: 16, leaseMillis: 600_000)
                                        handled += left.map(\.sequence)
                                        _ = try await subscriber.outbox.acknowledge(
                                            group: "notification", sequences: left.map(\.sequence))
                                        if left.isEmpty { return handled }
                                    }
                                }
                            }
                        }
                        return try await group.reduce(into: []) { $0 += $1 }
                    }
                }
            }
        }
        #expect(seen.count == total, "each of \(total) events leased once")
        #expect(Set(seen).count == seen.count)
    }
}
