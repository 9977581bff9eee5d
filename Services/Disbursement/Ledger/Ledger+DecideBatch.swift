import BenefitsDomain
import MeshMessages
import SQLStore

extension Ledger {
    /// A department's decision on one order, queued for the next batch. A class, as a batch moves its inputs
    /// through generic code.
    final class DecisionInput: Sendable {
        let ledger: Ledger
        let orderID: String
        let decider: Decider
        let approve: Bool
        /// Required to reject; an approval keeps the order's reason (why its amount differs, if it does).
        let reason: String
        let at: Int64

        init(ledger: Ledger, orderID: String, decider: Decider, approve: Bool, reason: String) {
            self.ledger = ledger
            self.orderID = orderID
            self.decider = decider
            self.approve = approve
            self.reason = reason
            self.at = ledger.now()
        }
    }

    /// Decisions as one kind of change of the group committer: a batch reads its orders at once, checks each
    /// in order (a second decision on an order sees the first), then writes the transfers, the balances, the
    /// orders and their events in a few set-based statements. A bulk approval of a campaign's orders was eight
    /// statements an order.
    static let decisions = SetChange<DecisionInput, Order>(
        batch: { inputs, tx in try await inputs[0].ledger.decide(inputs, tx: tx) },
        alone: { input, tx in try await input.ledger.decide([input], tx: tx)[0].get() }
    )

    /// The responsible department approves: the reserved money moves from the fund to the enterprise.
    public func approve(orderID: String, by decider: Decider) async throws -> Order {
        try await self.committer.transaction(
            DecisionInput(ledger: self, orderID: orderID, decider: decider, approve: true, reason: ""),
            as: Self.decisions)
    }

    /// The responsible department refuses, with a reason: the reservation is released.
    public func reject(orderID: String, by decider: Decider, reason: String) async throws -> Order {
        guard !reason.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw LedgerError(.invalidArgument, "reason: a rejection says why")
        }
        return try await self.committer.transaction(
            DecisionInput(ledger: self, orderID: orderID, decider: decider, approve: false, reason: reason),
            as: Self.decisions)
    }

    /// Checks `inputs` in order against their orders as the batch leaves them, then writes the accepted
    /// ones. Refusals come back as results, before anything is written.
    func decide(_ inputs: [DecisionInput], tx: any SQLTransaction) async throws -> [Result<Order, LedgerError>] {
        var ids: [String] = []
        var seen = Set<String>()
        for input in inputs where !input.orderID.isEmpty && seen.insert(input.orderID).inserted {
            ids.append(input.orderID)
        }
        var orders: [String: Order] = [:]
        for row in try await self.rows(tx, "SELECT \(Self.orderColumns) FROM orders WHERE id = ?", ids) {
            let order = Self.order(row)
            orders[order.id] = order
        }
        var results: [Result<Order, LedgerError>] = []
        results.reserveCapacity(inputs.count)
        var decided: [Order] = []
        for input in inputs {
            do {
                var order = try Self.check(input, orders[input.orderID])
                order.status = input.approve ? .posted : .rejected
                order.decidedBy = input.decider.description
                order.decidedAtMillis = input.at
                if !input.reason.isEmpty { order.reason = input.reason }
                orders[order.id] = order
                decided.append(order)
                results.append(.success(order))
            } catch {
                results.append(.failure(error))
            }
        }
        try await self.write(decided, tx: tx)
        return results
    }

    /// Why `input` may not decide `order`, as a refusal; the order when it may.
    static func check(_ input: DecisionInput, _ order: Order?) throws(LedgerError) -> Order {
        guard !input.orderID.isEmpty else { throw LedgerError(.invalidArgument, "order_id: required") }
        guard let order else { throw LedgerError(.notFound, "order_id: no order '\(input.orderID)'") }
        guard case .department(let department, _) = input.decider,
            department.isResponsible(among: order.responsibleDepartments)
        else {
            throw LedgerError(
                .permissionDenied,
                "\(input.decider) is not responsible for \(order.clauseID) (责任单位: \(order.responsibleDepartments.joined(separator: "、")))"
            )
        }
        guard order.status == .pending else {
            throw LedgerError(.failedPrecondition, "order \(order.id) is \(order.status) and can no longer be decided")
        }
        guard order.expiresAtMillis > input.at else {
            // Too late: nothing changes here; the expiry sweep releases the reservation and tells everyone.
            throw LedgerError(
                .failedPrecondition, "order \(order.id) expired at \(order.expiresAtMillis) ms, before the decision")
        }
        return order
    }

    /// The decided orders' writes: per enterprise one credit (its account made where new), per fund one
    /// update of what it paid and released, one transfer and one event per order, and the orders updated
    /// together where they were decided alike.
    private func write(_ decided: [Order], tx: any SQLTransaction) async throws {
        guard !decided.isEmpty else { return }
        var funds: [(account: String, paid: Fen, released: Fen)] = []
        var credits: [(account: String, fen: Fen)] = []
        var creditIndex: [String: Int] = [:]
        var transfers: [[SQLValue]] = []
        var events: [[SQLValue]] = []
        var updates: [[SQLValue]: [String]] = [:]
        var updateOrder: [[SQLValue]] = []
        for order in decided {
            let approved = order.status == .posted
            let fund = funds.lastIndex { $0.account == order.fundAccount }
            if let fund {
                funds[fund].released += order.amountFen
                if approved { funds[fund].paid += order.amountFen }
            } else {
                funds.append((order.fundAccount, approved ? order.amountFen : 0, order.amountFen))
            }
            if approved {
                let account = Self.enterpriseAccount(order.creditCode)
                if let index = creditIndex[account] {
                    credits[index].fen += order.amountFen
                } else {
                    creditIndex[account] = credits.count
                    credits.append((account, order.amountFen))
                }
                transfers.append([
                    .text(order.id), .text(order.fundAccount), .text(account), .integer(order.amountFen),
                    .text("payout"), .integer(order.decidedAtMillis),
                ])
            }
            events.append(
                try LedgerOutbox.eventRow(
                    type: approved ? "approved" : "rejected", order: order, at: order.decidedAtMillis))
            // Alike: same status, decider, time and (for a rejection) reason; an approval keeps each reason.
            let key: [SQLValue] = [
                .integer(Int64(order.status.rawValue)), .text(order.decidedBy), .integer(order.decidedAtMillis),
                approved ? .null : .text(order.reason),
            ]
            if updates[key] == nil { updateOrder.append(key) }
            updates[key, default: []].append(order.id)
        }
        for credit in credits {
            try await tx.execute(DecisionSQL.Credit.self, [.text(credit.account), .integer(credit.fen)])
        }
        try await self.insert(tx, Self.insertTransfer, transfers, sqliteForms: DecisionSQL.insertTransferForms)
        for fund in funds {
            try await tx.execute(
                DecisionSQL.SettleFund.self, [.integer(fund.paid), .integer(fund.released), .text(fund.account)])
        }
        for key in updateOrder {
            let ids = updates[key] ?? []
            for start in stride(from: 0, to: ids.count, by: Self.rowsPerStatement) {
                let chunk = ids[start..<min(ids.count, start + Self.rowsPerStatement)]
                let list = SQLPlaceholders.list(chunk.count)
                let reason = key[3] == .null ? "" : ", reason = ?"
                let parameters = Array(key[0..<3]) + (key[3] == .null ? [] : [key[3]]) + chunk.map { .text($0) }
                try await tx.execute(
                    "UPDATE orders SET status = ?, decided_by = ?, decided_at = ?\(reason) WHERE id IN (\(list))",
                    parameters)
            }
        }
        if !events.isEmpty { try await tx.share(LedgerOutbox.appending) }
        try await self.insert(tx, LedgerOutbox.insertEvent, events, sqliteForms: ProposalSQL.insertEventForms)
        if !events.isEmpty { try await tx.notify(LedgerOutbox.channel) }
    }
}

/// The statements of a batch of decisions.
enum DecisionSQL {
    /// An enterprise's account credited, made where new.
    enum Credit: SQLPreparedStatement {
        static let sql = """
            INSERT INTO accounts (id, kind, balance_fen) VALUES (?, 'enterprise', ?)
            ON CONFLICT (id) DO UPDATE SET balance_fen = accounts.balance_fen + excluded.balance_fen
            """
        static let parameters: [SQLParameterType] = [.text, .integer]
    }
    static let insertTransferForms = [32, 8].map { (rows: $0, sql: ProposalSQL.multiRow(Ledger.insertTransfer, $0)) }
    /// A fund pays what its approved orders reserved and releases every decided order's reservation.
    enum SettleFund: SQLPreparedStatement {
        static let sql =
            "UPDATE accounts SET balance_fen = balance_fen - ?, reserved_fen = reserved_fen - ? WHERE id = ?"
        static let parameters: [SQLParameterType] = [.integer, .integer, .text]
    }
}

extension Ledger {
    /// Decides in one transaction, as one batch of the group committer would: the batch's rules on its own
    /// orders can be tested without depending on how concurrent callers happen to be grouped.
    package func decide(together decisions: [(orderID: String, decider: Decider, approve: Bool, reason: String)])
        async throws -> [Result<Order, LedgerError>]
    {
        let inputs = decisions.map {
            DecisionInput(
                ledger: self, orderID: $0.orderID, decider: $0.decider, approve: $0.approve, reason: $0.reason)
        }
        return try await self.database.transaction { tx in try await self.decide(inputs, tx: tx) }
    }
}
