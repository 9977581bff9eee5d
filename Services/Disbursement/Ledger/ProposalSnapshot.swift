import BenefitsDomain

/// What the rules of a batch of proposals read (`Ledger.decide`), read at once before any of them is decided,
/// and kept up to date as each is accepted: a later proposal of the batch sees the earlier ones' orders and
/// reservations, as it would in a transaction of its own after theirs.
final class ProposalSnapshot {
    /// A live order as the caps and 就高不重复 count it.
    struct LiveOrder {
        var clauseID: String
        var period: Int32
        var overlapGroup: String
        var subject: String
        var amountFen: Fen
        var key: String
    }

    var orders: [String: Ledger.Order] = [:]
    /// Live orders by credit code, for the enterprises of the batch that have any.
    var live: [String: [LiveOrder]] = [:]
    var funds: [String: (balanceFen: Fen, reservedFen: Fen)] = [:]
    /// Enterprises with more than one proposal in the batch: only their accepted orders are kept for the
    /// proposals after them. Most batches have none, and keeping every order (hashing its key and credit code)
    /// was a tenth of the committer's time.
    var repeated: Set<String> = []

    /// The order already made under this idempotency key.
    func order(key: String) -> Ledger.Order? { self.orders.isEmpty ? nil : self.orders[key] }

    /// The enterprise's live orders (pending or posted); empty for most.
    func live(of creditCode: String) -> [LiveOrder] { self.live.isEmpty ? [] : self.live[creditCode] ?? [] }

    /// A fund's balance and what its pending orders reserve.
    func fund(_ id: String) -> (balanceFen: Fen, reservedFen: Fen)? { self.funds[id] }

    /// An order the batch accepted, from `fund`, for the enterprise `creditCode`: the proposals after it see it.
    /// The two are passed as the proposal keeps them, as reading an order's fields copies them out of its storage.
    func accept(_ order: Ledger.Order, fund: String, creditCode: String) {
        self.funds[fund]?.reservedFen += order.amountFen
        guard !self.repeated.isEmpty, self.repeated.contains(creditCode) else { return }
        self.orders[order.idempotencyKey] = order
        self.live[order.creditCode, default: []].append(
            LiveOrder(
                clauseID: order.clauseID, period: order.period, overlapGroup: order.overlapGroup,
                subject: order.subject, amountFen: order.amountFen, key: order.idempotencyKey))
    }
}

extension [ProposalSnapshot.LiveOrder] {
    /// What the orders under the clause come to, in `period` or in all.
    func used(clauseID: String, period: Int32?) -> Fen {
        self.reduce(0) { total, order in
            order.clauseID == clauseID && (period == nil || order.period == period) ? total + order.amountFen : total
        }
    }

    /// The orders for the same thing under the group's other clauses.
    func sameThing(group: String, subject: String, otherThan clauseID: String) -> [(clauseID: String, amountFen: Fen)] {
        self.filter { $0.overlapGroup == group && $0.subject == subject && $0.clauseID != clauseID }.map {
            ($0.clauseID, $0.amountFen)
        }
    }
}
