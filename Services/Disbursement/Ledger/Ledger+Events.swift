import MeshMessages
import SQLStore

extension Ledger {
    public typealias Event = Jiaxing_Benefits_V1_DisbursementEvent

    /// Leases the next events of `group` to `consumer`: in sequence order, never an event whose enterprise
    /// has an earlier event not yet acknowledged by the group (order per enterprise), never one leased to
    /// another consumer whose lease still runs. Unacknowledged events are leased again when the lease ends.
    public func lease(group: String, consumer: String, maximumInFlight: Int, leaseMillis: Int64) async throws -> [Event]
    {
        guard !group.isEmpty else { throw LedgerError(.invalidArgument, "group: a consumer group name is required") }
        guard !consumer.isEmpty else { throw LedgerError(.invalidArgument, "consumer: a consumer name is required") }
        let at = self.now()
        return try await self.database.transaction { tx in
            let held =
                try await tx.queryOne(
                    "SELECT COUNT(*) FROM event_leases WHERE grp = ? AND consumer = ? AND until > ?",
                    [.text(group), .text(consumer), .integer(at)])?.integer(0) ?? 0
            let room = Int64(maximumInFlight) - held
            guard room > 0 else { return [] }
            let cursor = try await Self.advanceCursor(tx, group: group)
            let rows = try await tx.query(
                """
                SELECT e.seq, e.payload, \(Self.orderColumnsOfJoin)
                FROM events e LEFT JOIN orders o ON o.id = e.order_id
                WHERE e.seq > ?
                  AND NOT EXISTS (SELECT 1 FROM event_acks a WHERE a.grp = ? AND a.seq = e.seq)
                  AND NOT EXISTS (SELECT 1 FROM event_leases l WHERE l.grp = ? AND l.seq = e.seq AND l.until > ?)
                  AND NOT EXISTS (
                    SELECT 1 FROM events p WHERE p.entity_key = e.entity_key AND p.seq < e.seq AND p.seq > ?
                      AND NOT EXISTS (SELECT 1 FROM event_acks pa WHERE pa.grp = ? AND pa.seq = p.seq))
                ORDER BY e.seq LIMIT ?
                """,
                [
                    .integer(cursor), .text(group), .text(group), .integer(at), .integer(cursor), .text(group),
                    .integer(room),
                ])
            var events: [Event] = []
            for row in rows {
                try await tx.execute(
                    "INSERT INTO event_leases (grp, seq, consumer, until) VALUES (?, ?, ?, ?) ON CONFLICT (grp, seq) DO UPDATE SET consumer = excluded.consumer, until = excluded.until",
                    [.text(group), .integer(row.integer(0)), .text(consumer), .integer(at + leaseMillis)]
                )
                var event = try Event(serializedBytes: row.blob(1))
                event.sequence = row.integer(0)
                if event.hasOrder, row[2] != .null {
                    // The order's row, with the state the event recorded (events written before events
                    // were trimmed carry the whole order; the row agrees with it on every other field).
                    var order = Self.order(SQLRow(values: Array(row.values[2...])))
                    OrderState(of: event.order).apply(to: &order)
                    event.order = order
                }
                events.append(event)
            }
            return events
        }
    }

    /// The group's low-water mark: every event up to it is acknowledged. Kept in `event_cursors` and moved up
    /// to just before the first event not yet acknowledged, so a lease scans only what lies past it; without
    /// it each lease walked every event ever acknowledged, and a long-lived bus slowed to a crawl.
    static func advanceCursor(_ tx: any SQLTransaction, group: String) async throws -> Int64 {
        let cursor =
            try await tx.queryOne("SELECT acked_through FROM event_cursors WHERE grp = ?", [.text(group)])?.integer(0)
            ?? 0
        let firstOpen = try await tx.queryOne(
            """
            SELECT MIN(e.seq) FROM events e
            WHERE e.seq > ? AND NOT EXISTS (SELECT 1 FROM event_acks a WHERE a.grp = ? AND a.seq = e.seq)
            """, [.integer(cursor), .text(group)])
        let advanced: Int64
        if let firstOpen, firstOpen[0] != .null {
            advanced = firstOpen.integer(0) - 1
        } else {
            advanced = try await tx.queryOne("SELECT COALESCE(MAX(seq), 0) FROM events", [])?.integer(0) ?? 0
        }
        guard advanced > cursor else { return cursor }
        try await tx.execute(
            "INSERT INTO event_cursors (grp, acked_through) VALUES (?, ?) ON CONFLICT (grp) DO UPDATE SET acked_through = excluded.acked_through",
            [.text(group), .integer(advanced)]
        )
        return advanced
    }

    /// Gives back every lease a consumer holds: a consumer that subscribes anew (after a restart or a lost
    /// connection) has lost what it held, so its events are offered again at once instead of when the leases
    /// lapse. Consumer names are one per replica, stable across its restarts.
    @discardableResult
    public func releaseLeases(group: String, consumer: String) async throws -> Int {
        try await self.database.transaction { tx in
            try await tx.query(
                "DELETE FROM event_leases WHERE grp = ? AND consumer = ? RETURNING seq",
                [.text(group), .text(consumer)]
            ).count
        }
    }

    /// Marks events handled by the group: they are never delivered to it again.
    public func acknowledge(group: String, sequences: [Int64]) async throws -> Int {
        guard !group.isEmpty else { throw LedgerError(.invalidArgument, "group: a consumer group name is required") }
        guard sequences.count <= 10_000 else {
            throw LedgerError(.invalidArgument, "sequences: at most 10000 per call, got \(sequences.count)")
        }
        return try await self.database.transaction { tx in
            var acknowledged = 0
            for sequence in sequences {
                guard try await tx.queryOne("SELECT 1 FROM events WHERE seq = ?", [.integer(sequence)]) != nil else {
                    throw LedgerError(.notFound, "sequences: no event \(sequence)")
                }
                try await tx.execute(
                    "INSERT INTO event_acks (grp, seq) VALUES (?, ?) ON CONFLICT DO NOTHING",
                    [.text(group), .integer(sequence)])
                try await tx.execute(
                    "DELETE FROM event_leases WHERE grp = ? AND seq = ?", [.text(group), .integer(sequence)])
                acknowledged += 1
            }
            // A subscription at its limit in flight, or held back by an enterprise's earlier event, may go on.
            if acknowledged > 0 { try await tx.notify(Self.eventsChannel) }
            return acknowledged
        }
    }

    /// The highest event sequence written so far (0 if none).
    public func lastEventSequence() async throws -> Int64 {
        try await self.database.read { tx in
            try await tx.queryOne("SELECT COALESCE(MAX(seq), 0) FROM events", [])?.integer(0) ?? 0
        }
    }
}
