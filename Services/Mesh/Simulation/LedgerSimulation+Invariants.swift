import Ledger
import SQLStore

extension LedgerSimulation.Run {
    /// An order as the store holds it.
    struct StoredOrder {
        var key: String
        var status: LedgerModel.Status
        var createdAt: Int64
        var expiresAt: Int64
    }

    /// Every order, read from the store (the ledger's own tables: the simulation owns this database).
    func storedOrders() async throws -> [String: StoredOrder] {
        try await self.database.read { tx in
            try await tx.query("SELECT id, idempotency_key, status, created_at, expires_at FROM orders", []).reduce(
                into: [String: StoredOrder]()
            ) { orders, row in
                orders[row.text(0)] = StoredOrder(
                    key: row.text(1), status: LedgerModel.Status(rawValue: Int(row.integer(2))) ?? .unspecified,
                    createdAt: row.integer(3), expiresAt: row.integer(4))
            }
        }
    }

    /// An event as the outbox holds it.
    struct StoredEvent: Equatable {
        var enterprise: String
        var order: String
        var type: String
    }

    /// The events of every order, in sequence order, and every event by its sequence.
    func storedEvents() async throws -> (byOrder: [String: [String]], sequences: [Int64: StoredEvent]) {
        try await self.database.read { tx in
            var byOrder: [String: [String]] = [:]
            var sequences: [Int64: StoredEvent] = [:]
            for row in try await tx.query("SELECT seq, type, order_id, entity_key FROM events ORDER BY seq", []) {
                byOrder[row.text(2), default: []].append(row.text(1))
                sequences[row.integer(0)] = StoredEvent(enterprise: row.text(3), order: row.text(2), type: row.text(1))
            }
            return (byOrder, sequences)
        }
    }

    /// The events an order's history leaves, by where it ended.
    static func history(_ status: LedgerModel.Status) -> [String] {
        switch status {
        case .pending: return ["proposed"]
        case .posted: return ["proposed", "approved"]
        case .rejected: return ["proposed", "rejected"]
        case .expired: return ["proposed", "expired"]
        case .clawedBack: return ["proposed", "approved", "clawedBack"]
        default: return []
        }
    }

    /// The invariants. The books after every step; the orders, their events and the deliveries every tenth
    /// step, after each restart (`thorough`: each call a fault cut off happened or did not, and the store
    /// settles which) and at the end; at the end, every event delivered.
    func check(_ step: Int, final: Bool, thorough: Bool = false) async throws {
        let problems = try await self.ledger.reconcile()
        guard problems.isEmpty else { throw self.failure(step, "the books: \(problems.joined(separator: "; "))") }
        guard final || thorough || step % 10 == 0 else { return }
        let stored = try await self.storedOrders()
        for (id, order) in self.model.orders {
            guard let actual = stored[id] else {
                throw self.failure(step, "order \(id) (\(order.key)), answered, is not in the ledger")
            }
            guard order.possible.contains(actual.status) else {
                throw self.failure(
                    step, "order \(id) is \(actual.status); answered as \(LedgerModel.words(order.possible))")
            }
            self.settle(id, as: actual.status)
        }
        for (id, row) in stored.sorted(by: { $0.key < $1.key }) where self.model.orders[id] == nil {
            // Committed while its caller's answer was cut off (a full disk fails the call, not the commit).
            guard self.model.cutProposals.contains(row.key) else {
                throw self.failure(step, "order \(id) (\(row.key)) was never proposed by this run")
            }
            self.model.adopt(
                id: id, key: row.key, status: row.status, createdAt: row.createdAt, expiresAt: row.expiresAt)
            self.settle(id, as: row.status)
        }
        let (events, sequences) = try await self.storedEvents()
        for (id, row) in stored {
            let expected = Self.history(row.status)
            guard events[id] ?? [] == expected else {
                throw self.failure(
                    step, "order \(id) is \(row.status) with events \(events[id] ?? []), not \(expected)")
            }
        }
        for id in events.keys where stored[id] == nil {
            throw self.failure(step, "events of \(id), an order the ledger does not hold")
        }
        // A consumer reads only what is durable: no event it was given may be lost (nor its sequence reused
        // by another: a sequence not synced is drawn again after a power loss).
        for (sequence, event) in self.model.consumed where sequences[sequence] != event {
            throw self.failure(
                step,
                "event \(sequence) (\(event.type) of \(event.order)) was consumed, then lost: the outbox has \(sequences[sequence].map { "\($0.type) of \($0.order)" } ?? "nothing") there"
            )
        }
        try await self.checkNotices(step, final: final, sequences: Set(sequences.keys))
        if final {
            let undelivered = sequences.keys.filter { self.model.consumed[$0] == nil }.sorted()
            guard undelivered.isEmpty else {
                throw self.failure(
                    step, "\(undelivered.count) events never delivered, e.g. \(undelivered.prefix(5))")
            }
            self.report.eventsDelivered = sequences.count
        }
    }

    /// Notices: made once per event and audience, each from an event the ledger holds, every acknowledged
    /// event's there (the consumer acknowledges only what it recorded), a delivery recorded as made taken by
    /// the endpoint under the notice's id; at the end (dead letters replayed by the operator), every county
    /// notice delivered and taken by the endpoint.
    func checkNotices(_ step: Int, final: Bool, sequences: Set<Int64>) async throws {
        let (made, twice, deliveries) = try await self.noticesDatabase.read { tx in
            let made = try await tx.query(
                "SELECT DISTINCT event_seq FROM notices WHERE event_seq > 0", []
            ).map { $0.integer(0) }
            let twice = try await tx.query(
                "SELECT event_seq, audience FROM notices WHERE event_seq > 0 GROUP BY event_seq, audience HAVING COUNT(*) > 1",
                []
            ).map { "\($0.integer(0))/\($0.text(1))" }
            let deliveries = try await tx.query(
                """
                SELECT n.id, COALESCE(d.status, 0) FROM notices n LEFT JOIN deliveries d ON d.notice_id = n.id
                WHERE n.audience = ?
                """, [.text("county/\(LedgerSimulation.Run.county)")]
            ).map { (id: $0.text(0), status: $0.integer(1)) }
            return (Set(made), twice, deliveries)
        }
        guard twice.isEmpty else { throw self.failure(step, "notices made twice: \(twice.prefix(5))") }
        let strays = made.subtracting(sequences)
        guard strays.isEmpty else {
            throw self.failure(step, "notices of events the ledger does not hold: \(strays.sorted().prefix(5))")
        }
        let unrecorded = self.model.acknowledged.subtracting(made)
        guard unrecorded.isEmpty else {
            throw self.failure(
                step, "events acknowledged without their notices: \(unrecorded.sorted().prefix(5))")
        }
        let taken = self.endpoints.taken
        for delivery in deliveries where delivery.status == 2 && taken[delivery.id] == nil {
            throw self.failure(step, "notice \(delivery.id) recorded as delivered, never taken by its endpoint")
        }
        guard final else { return }
        let open = deliveries.filter { $0.status != 2 }
        guard open.isEmpty else {
            throw self.failure(
                step,
                "\(open.count) county notices not delivered, e.g. \(open.prefix(3).map { "\($0.id) (\($0.status))" })")
        }
        let unmade = sequences.subtracting(made)
        guard unmade.isEmpty else {
            throw self.failure(step, "events without notices after the catch-up: \(unmade.sorted().prefix(5))")
        }
        self.report.notices = deliveries.count
        self.report.webhooksTaken = taken.count
        self.report.webhooksTakenAgain = taken.values.filter { $0 > 1 }.count
    }

    /// The outbox's order per enterprise: an event is leased only once every earlier event of its enterprise
    /// was acknowledged by the group (or may have been, where a fault cut the acknowledgement's answer off).
    func checkOrderPerEnterprise(_ step: Int, _ events: [LedgerOutbox.Event]) async throws {
        guard !events.isEmpty else { return }
        let (_, sequences) = try await self.storedEvents()
        let leased = Set(events.map(\.sequence))
        for event in events {
            guard let enterprise = sequences[event.sequence]?.enterprise else {
                throw self.failure(step, "event \(event.sequence) leased but not in the outbox")
            }
            let earlier = sequences.filter { $0.value.enterprise == enterprise && $0.key < event.sequence }.keys
            for sequence in earlier
            where !self.model.acknowledged.contains(sequence) && !self.model.maybeAcknowledged.contains(sequence)
                && !leased.contains(sequence)
            {
                throw self.failure(
                    step, "event \(event.sequence) of \(enterprise) leased before \(sequence), not acknowledged")
            }
        }
    }
}
