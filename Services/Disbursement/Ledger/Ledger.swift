import BenefitsDomain
import CatalogModel
import Foundation
import MeshMessages
import NIOConcurrencyHelpers
import SQLStore
import ServiceLifecycle

/// The double-entry ledger of payout orders: reservations, approvals, payments, clawbacks, and the events
/// of each change, all in one transaction per change (or per group of changes: group commit).
///
/// A service: its changes are committed while `run()` runs (the group committer's batches), so it is run
/// in the process's service group, before the server that calls it and stopped after the server drained.
public final class Ledger: Service, Sendable {
    public typealias Order = Jiaxing_Benefits_V1_PayoutOrder

    let database: any SQLDatabase
    let catalog: @Sendable () -> Catalog?
    let now: @Sendable () -> Int64
    /// How long a pending order waits for its department before it expires.
    public let orderLifetimeMillis: Int64
    let committer: GroupCommitter
    let payoutTerms = NIOLockedValueBox(PayoutTermsCache())

    /// - Parameters:
    ///   - catalog: the catalog revision in force, for clause caps, departments and stacking rules.
    ///   - now: milliseconds since 1970; injected so expiry is testable.
    ///   - groupCommit: whether concurrent proposals share a transaction (one commit, one fsync, for up to 512),
    ///     the next batch beginning while the last one's commit is synced; false commits each on its own,
    ///     durable before the next begins: the naive baseline the benchmark compares with.
    public init(
        database: any SQLDatabase, catalog: @escaping @Sendable () -> Catalog?,
        orderLifetime: Duration = .seconds(7 * 24 * 3600), groupCommit: Bool = true,
        now: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970 * 1000) }
    ) {
        self.database = database
        self.catalog = catalog
        self.now = now
        self.orderLifetimeMillis = orderLifetime.components.seconds * 1000
        self.committer = GroupCommitter(
            database: database, maximumBatch: groupCommit ? GroupCommitter.defaultMaximumBatch : 1,
            pipelined: groupCommit)
    }

    /// Commits the ledger's changes until the service group shuts down; changes queued before that are
    /// committed and answered first.
    public func run() async {
        await self.committer.run()
    }

    /// Runs `body` with the ledger running, outside a service group (a tool, a test), then commits what was
    /// queued and stops it: a change asked for afterwards is refused.
    public func running<Result>(
        isolation: isolated (any Actor)? = #isolation, _ body: () async throws -> Result
    ) async throws -> Result {
        try await self.committer.running(isolation: isolation, body)
    }

    /// Creates the tables where they do not exist.
    public func migrate() async throws {
        try await self.database.executeScript(
            self.database.dialect == .postgres ? LedgerSchema.postgres : LedgerSchema.sqlite)
        try await self.database.addColumns(LedgerSchema.addedColumns)
        try await self.database.executeScript(LedgerSchema.afterColumns)
    }

    static func fundAccount(documentID: String, year: Int) -> String {
        Self.fundAccountPrefix(documentID: documentID) + String(year)
    }

    /// What the accounts of a document's funds begin with, before the year.
    static func fundAccountPrefix(documentID: String) -> String { "fund:\(documentID):" }
    static func enterpriseAccount(_ creditCode: String) -> String { "enterprise:\(creditCode)" }
    static func receivableAccount(_ creditCode: String) -> String { "receivable:\(creditCode)" }

    /// Moves money: debit loses it, credit gains it. Both accounts' cached balances change in the same
    /// transaction as the transfer row.
    static let insertTransfer =
        "INSERT INTO transfers (order_id, debit_account, credit_account, amount_fen, kind, created_at) VALUES (?, ?, ?, ?, ?, ?)"

    static func transfer(
        _ tx: any SQLTransaction, order: String?, debit: String, credit: String, amount: Fen, kind: String, at: Int64
    ) async throws {
        try await tx.execute(
            Self.insertTransfer,
            [
                order.map { SQLValue.text($0) } ?? .null, .text(debit), .text(credit), .integer(amount), .text(kind),
                .integer(at),
            ]
        )
        try await tx.execute(
            "UPDATE accounts SET balance_fen = balance_fen - ? WHERE id = ?", [.integer(amount), .text(debit)])
        try await tx.execute(
            "UPDATE accounts SET balance_fen = balance_fen + ? WHERE id = ?", [.integer(amount), .text(credit)])
    }

    static func ensureAccount(_ tx: any SQLTransaction, id: String, kind: String) async throws {
        try await tx.execute(
            "INSERT INTO accounts (id, kind) VALUES (?, ?) ON CONFLICT (id) DO NOTHING", [.text(id), .text(kind)])
    }

    /// Appends an event in the transaction that made the change (transactional outbox). The event keeps only
    /// what an order's later changes overwrite (`OrderState`); the rest never changes once the order is
    /// written and is read from the order's row when the event is leased. The whole order in every event was
    /// a third of the bytes each payout wrote.
    static func emit(_ tx: any SQLTransaction, type: String, order: Order, at: Int64) async throws {
        try await tx.execute(Self.insertEvent, try Self.eventRow(type: type, order: order, at: at))
        try await tx.notify(Self.eventsChannel)
    }

    /// The channel every transaction that appends events or acknowledges them notifies: a subscription with
    /// nothing to lease waits on it (`eventSignal`) instead of leasing again on a timer.
    public static let eventsChannel = "benefits_ledger_events"

    /// Rung once a commit appended or acknowledged events, here or (PostgreSQL, while `listen` runs) in
    /// another replica.
    public var eventSignal: ChangeSignal { self.database.signal(Self.eventsChannel) }

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
    static func append(
        _ tx: any SQLTransaction, _ event: Jiaxing_Benefits_V1_DisbursementEvent, type: String, entityKey: String,
        id: String, at: Int64
    ) async throws {
        try await tx.execute(
            Self.insertEvent, try Self.eventRow(event, type: type, entityKey: entityKey, id: id, at: at))
        try await tx.notify(Self.eventsChannel)
    }

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
}
