import MeshMessages
import SQLStore

/// The ledger's events: the transactional outbox every change of an order or an application appends to, in
/// the transaction that made the change, and the consumer groups that follow it (leases, acknowledgements,
/// a cursor per group). A subscriber (notification, the campaign's follower) reads it here; the ledger and
/// the applications desk only write to it.
///
/// Invariant: an event exists exactly when its change was committed, and each group handles it at least
/// once, in order per enterprise.
public struct LedgerOutbox: Sendable {
    public typealias Event = Jiaxing_Benefits_V1_DisbursementEvent
    public typealias Order = Jiaxing_Benefits_V1_PayoutOrder

    let database: any SQLDatabase
    let now: @Sendable () -> Int64

    init(database: any SQLDatabase, now: @escaping @Sendable () -> Int64) {
        self.database = database
        self.now = now
    }

    /// Appends an order's event in the transaction that made the change. The event keeps only
    /// what an order's later changes overwrite (`OrderState`); the rest never changes once the order is
    /// written and is read from the order's row when the event is leased. The whole order in every event was
    /// a third of the bytes each payout wrote.
    static func emit(_ tx: any SQLTransaction, type: String, order: Order, at: Int64) async throws {
        try await tx.share(Self.appending)
        try await tx.execute(Self.insertEvent, try Self.eventRow(type: type, order: order, at: at))
        try await tx.notify(Self.channel)
    }

    /// Appends an application's event in the transaction that changed it (the same outbox as orders').
    static func emit(
        _ tx: any SQLTransaction, type: String, application: Jiaxing_Benefits_V1_Application, at: Int64
    ) async throws {
        var event = Jiaxing_Benefits_V1_DisbursementEvent()
        event.application = application
        try await Self.append(tx, event, type: type, entityKey: application.creditCode, id: application.id, at: at)
    }

    /// The channel every transaction that appends events or acknowledges them notifies: a subscription with
    /// nothing to lease waits on it (`signal`) instead of leasing again on a timer.
    public static let channel = "benefits_ledger_events"

    /// Rung once a commit appended or acknowledged events, here or (PostgreSQL, while `listen` runs) in
    /// another replica.
    public var signal: ChangeSignal { self.database.signal(Self.channel) }

    /// The fields of an order that change after it is written (its decision); an event records them as they
    /// were when it happened.
    struct OrderState {
        var status: Order.Status
        var decidedBy: String
        var decidedAtMillis: Int64
        var reason: String

        init(of order: Order) {
            self.status = order.status
            self.decidedBy = order.decidedBy
            self.decidedAtMillis = order.decidedAtMillis
            self.reason = order.reason
        }

        /// An order carrying only these fields, as stored in the event.
        var snapshot: Order {
            var order = Order()
            self.apply(to: &order)
            return order
        }

        /// The order as it was at the event: its row, with the state the event recorded.
        func apply(to order: inout Order) {
            order.status = self.status
            order.decidedBy = self.decidedBy
            order.decidedAtMillis = self.decidedAtMillis
            order.reason = self.reason
        }
    }

    /// The outbox row of an event about an order or an application; events of one enterprise (the entity
    /// key) are delivered in order.
    package static func append(
        _ tx: any SQLTransaction, _ event: Jiaxing_Benefits_V1_DisbursementEvent, type: String, entityKey: String,
        id: String, at: Int64
    ) async throws {
        try await tx.share(Self.appending)
        try await tx.execute(
            Self.insertEvent, try Self.eventRow(event, type: type, entityKey: entityKey, id: id, at: at))
        try await tx.notify(Self.channel)
    }

    /// Shared by every transaction that appends events, from before its first event takes a sequence number
    /// until it ends; taken whole by a group's cursor before it moves. On PostgreSQL an event's sequence is
    /// drawn when it is inserted, not when it commits: an open transaction can still commit an event below
    /// the sequences already seen and acknowledged, and a cursor moved past it would never lease it.
    static let appending = SQLLock("ledger.events.appending")

    /// Held by whatever leases or acknowledges a group's events, so that two subscribers of one group (two
    /// notification replicas) take turns instead of failing each other's SERIALIZABLE transactions.
    static func consuming(_ group: String) -> SQLLock { SQLLock("ledger.events.group.\(group)") }

    static let eventColumns = "type, entity_key, order_id, payload, at"
    static let insertEvent = "INSERT INTO events (\(eventColumns)) VALUES (?, ?, ?, ?, ?)"

    /// The values of an event's outbox row, in the order of `eventColumns`.
    static func eventRow(
        _ event: Jiaxing_Benefits_V1_DisbursementEvent, type: String, entityKey: String, id: String, at: Int64
    ) throws -> [SQLValue] {
        var event = event
        event.type = type
        event.atMillis = at
        let payload: [UInt8] = try event.serializedBytes()
        return [.text(type), .text(entityKey), .text(id), .blob(payload), .integer(at)]
    }

    /// The outbox row of an order's event (see `emit`).
    static func eventRow(type: String, order: Order, at: Int64) throws -> [SQLValue] {
        let state = OrderState(of: order)
        if type == "proposed", state.status == .pending, state.decidedBy.isEmpty, state.decidedAtMillis == 0,
            state.reason.isEmpty,
            let payload = Self.proposedEvent(at: at)
        {
            return [.text(type), .text(order.creditCode), .text(order.id), .blob(payload), .integer(at)]
        }
        var event = Jiaxing_Benefits_V1_DisbursementEvent()
        event.order = state.snapshot
        return try Self.eventRow(event, type: type, entityKey: order.creditCode, id: order.id, at: at)
    }

    /// The payload of most orders' first event (proposed, pending, no reason), which differs only in its
    /// time: serializing it whole was a twentieth of a payout's time. Protobuf writes fields in the order of
    /// their numbers, and `at_millis` (4) comes last of those set, so the payload is the encoding of the rest,
    /// made once, followed by field 4's tag and the time as a varint: the same bytes SwiftProtobuf writes
    /// (`LedgerTests` compares them).
    package static func proposedEvent(at: Int64) -> [UInt8]? {
        guard var payload = Self.proposedEventHead else { return nil }
        guard at != 0 else { return payload }  // proto3 leaves a field at its default out
        payload.reserveCapacity(payload.count + 11)
        payload.append(4 << 3)  // field 4, wire type 0 (varint)
        var value = UInt64(bitPattern: at)
        while value >= 0x80 {
            payload.append(UInt8(truncatingIfNeeded: value) | 0x80)
            value >>= 7
        }
        payload.append(UInt8(value))
        return payload
    }

    private static let proposedEventHead: [UInt8]? = {
        var event = Jiaxing_Benefits_V1_DisbursementEvent()
        event.type = "proposed"
        event.order.status = .pending
        return try? event.serializedBytes()
    }()

    /// Leases the next events of `group` to `consumer`: in sequence order, never an event whose enterprise
    /// has an earlier event not yet acknowledged by the group (order per enterprise), never one leased to
    /// another consumer whose lease still runs. Unacknowledged events are leased again when the lease ends.
    ///
    /// On PostgreSQL "earlier" means among the events committed: two transactions about one enterprise that
    /// touch no common row (a proposal and another order's decision, on different funds) may commit out of
    /// their sequences' order, and the later-drawn event may then be leased first. An order's own events stay
    /// in order (each change of an order writes its row, so its transactions are serialized).
    public func lease(group: String, consumer: String, maximumInFlight: Int, leaseMillis: Int64) async throws -> [Event]
    {
        guard !group.isEmpty else { throw LedgerError(.invalidArgument, "group: a consumer group name is required") }
        guard !consumer.isEmpty else { throw LedgerError(.invalidArgument, "consumer: a consumer name is required") }
        let at = self.now()
        return try await self.database.transaction(holding: Self.consuming(group)) { tx in
            let held =
                try await tx.queryOne(
                    Statements.Held.self, [.text(group), .text(consumer), .integer(at)])?.integer(0) ?? 0
            let room = Int64(maximumInFlight) - held
            guard room > 0 else { return [] }
            let cursor = try await tx.queryOne(Statements.Cursor.self, [.text(group)])?.integer(0) ?? 0
            let rows = try await tx.query(
                Statements.Leasable.self,
                [
                    .integer(cursor), .text(group), .text(group), .integer(at), .integer(cursor), .text(group),
                    .integer(room),
                ])
            var events: [Event] = []
            for row in rows {
                try await tx.execute(
                    Statements.Lease.self,
                    [.text(group), .integer(row.integer(0)), .text(consumer), .integer(at + leaseMillis)]
                )
                var event = try Event(serializedBytes: row.blob(1))
                event.sequence = row.integer(0)
                if event.hasOrder, row[2] != .null {
                    // The order's row, with the state the event recorded (events written before events
                    // were trimmed carry the whole order; the row agrees with it on every other field).
                    var order = Ledger.order(SQLRow(values: Array(row.values[2...])))
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
    /// it each lease walked every event ever acknowledged, and a long-lived bus slowed to a crawl. It moves
    /// when events are acknowledged, at the end of the acknowledgement (appenders wait on `appending` only for
    /// those last statements), and only while no transaction appending events is open; otherwise it stays
    /// until the next acknowledgement. `tx` holds the group's lock, READ COMMITTED (`transaction(holding:)`):
    /// in a SERIALIZABLE transaction the snapshot would predate the lock, and an event committed meanwhile
    /// could be passed over.
    private static func moveCursor(_ tx: any SQLTransaction, group: String) async throws {
        let cursor = try await tx.queryOne(Statements.Cursor.self, [.text(group)])?.integer(0) ?? 0
        guard try await tx.take(Self.appending) else { return }
        let firstOpen = try await tx.queryOne(Statements.FirstOpen.self, [.integer(cursor), .text(group)])
        let advanced: Int64
        if let firstOpen, firstOpen[0] != .null {
            advanced = firstOpen.integer(0) - 1
        } else {
            advanced = try await tx.queryOne(Statements.LastSequence.self, [])?.integer(0) ?? 0
        }
        guard advanced > cursor else { return }
        try await tx.execute(Statements.MoveCursor.self, [.text(group), .integer(advanced)])
    }

    /// Gives back every lease a consumer holds: a consumer that subscribes anew (after a restart or a lost
    /// connection) has lost what it held, so its events are offered again at once instead of when the leases
    /// lapse. Consumer names are one per replica, stable across its restarts.
    @discardableResult
    public func releaseLeases(group: String, consumer: String) async throws -> Int {
        try await self.database.transaction(holding: Self.consuming(group)) { tx in
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
        let dialect = self.database.dialect
        return try await self.database.transaction(holding: Self.consuming(group)) { tx in
            if dialect == .postgres {
                // Three statements for the whole list, each a round trip, where three per event were.
                let list: [SQLValue] = [.text("{" + sequences.map(String.init).joined(separator: ",") + "}")]
                if let missing = try await tx.queryOne(Statements.FirstMissing.self, list) {
                    throw LedgerError(.notFound, "sequences: no event \(missing.integer(0))")
                }
                try await tx.execute(Statements.AcknowledgeAll.self, [.text(group)] + list)
                try await tx.execute(Statements.ReleaseAll.self, [.text(group)] + list)
            } else {
                for sequence in sequences {
                    guard try await tx.queryOne(Statements.Exists.self, [.integer(sequence)]) != nil else {
                        throw LedgerError(.notFound, "sequences: no event \(sequence)")
                    }
                    try await tx.execute(Statements.Acknowledge.self, [.text(group), .integer(sequence)])
                    try await tx.execute(Statements.Release.self, [.text(group), .integer(sequence)])
                }
            }
            // A subscription at its limit in flight, or held back by an enterprise's earlier event, may go on.
            if !sequences.isEmpty {
                try await Self.moveCursor(tx, group: group)
                try await tx.notify(Self.channel)
            }
            return sequences.count
        }
    }

    /// The highest event sequence written so far (0 if none).
    public func lastSequence() async throws -> Int64 {
        try await self.database.read { tx in
            try await tx.queryOne(Statements.LastSequence.self, [])?.integer(0) ?? 0
        }
    }
}
