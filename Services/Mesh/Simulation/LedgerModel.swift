import Ledger

/// What the simulated callers were told, and so what the ledger must still say: each order's possible
/// statuses (one, once answered; two while a decision cut off by a fault may or may not have happened), the
/// order each request was answered with, and what the consumer was delivered and acknowledged.
struct LedgerModel {
    typealias Status = Ledger.Order.Status

    struct Order {
        var key: String
        var possible: Set<Status>
        var createdAt: Int64
        var expiresAt: Int64
    }

    var orders: [String: Order] = [:]
    /// Order ids in the order they were first answered: what a step picks from, so a seed picks the same.
    var sequence: [String] = []
    /// Idempotency key → the order it was answered with.
    var keys: [String: String] = [:]
    /// Proposals cut off by a fault: each may have been committed after all.
    var cutProposals: Set<String> = []
    /// Each event the consumer was given, as it was: a later lease of the same sequence must be the same event.
    var consumed: [Int64: LedgerSimulation.Run.StoredEvent] = [:]
    /// Acknowledgements answered, and those cut off by a fault (which may or may not have happened).
    var acknowledged: Set<Int64> = []
    var maybeAcknowledged: Set<Int64> = []

    mutating func adopt(id: String, key: String, status: Status, createdAt: Int64, expiresAt: Int64) {
        self.orders[id] = Order(key: key, possible: [status], createdAt: createdAt, expiresAt: expiresAt)
        self.sequence.append(id)
        self.keys[key] = id
    }

    mutating func consume(_ event: LedgerOutbox.Event) {
        self.consumed[event.sequence] = LedgerSimulation.Run.StoredEvent(
            enterprise: event.order.creditCode, order: event.order.id, type: event.type)
    }

    /// Statuses in words, for a failure's message.
    static func words(_ statuses: Set<Status>) -> String {
        statuses.map { "\($0)" }.sorted().joined(separator: " or ")
    }

    /// The ids of orders whose only possible status is `status`, in answer order.
    func ids(in status: Status) -> [String] {
        self.sequence.filter { self.orders[$0]?.possible == [status] }
    }
}
