import BenefitsDomain
import MeshMessages
import SQLStore

extension Ledger {
    /// Who decides: a department by its certificate name, or the city operator.
    public enum Decider: Sendable, Hashable, CustomStringConvertible {
        /// A department, and the officer who decided where a person did (the web console names them).
        case department(Department, person: String? = nil)
        case `operator`(String)
        case other(String)

        public var description: String {
            switch self {
            case .department(let department, let person):
                return "department/\(department.rawValue)" + (person.map { " (\($0))" } ?? "")
            case .operator(let name): return "operator/\(name)"
            case .other(let name): return name
            }
        }
    }

    /// Takes paid money back (撤资, 转内资 within the period …): the fund is restored and the enterprise owes
    /// the amount (a receivable). The payment itself stays in the ledger; the reversal is a new transfer.
    public func clawback(orderID: String, by decider: Decider, trigger: String, reason: String) async throws -> Order {
        guard !reason.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw LedgerError(.invalidArgument, "reason: a clawback says why")
        }
        let at = self.now()
        return try await self.database.transaction { tx in
            var order = try await Self.load(orderID, tx)
            switch decider {
            case .operator: break
            case .department(let department, _) where department.isResponsible(among: order.responsibleDepartments):
                break
            default: throw LedgerError(.permissionDenied, "\(decider) may not claw back \(order.clauseID)")
            }
            guard order.status == .posted else {
                throw LedgerError(
                    .failedPrecondition, "order \(order.id) is \(order.status); only a paid order is clawed back")
            }
            try await Self.ensureAccount(tx, id: Self.receivableAccount(order.creditCode), kind: "receivable")
            try await Self.transfer(
                tx, order: order.id, debit: Self.receivableAccount(order.creditCode), credit: order.fundAccount,
                amount: order.amountFen, kind: "clawback", at: at)
            order.status = .clawedBack
            order.reason = "\(trigger): \(reason)"
            order.decidedBy = decider.description
            order.decidedAtMillis = at
            try await tx.execute(
                "UPDATE orders SET status = ?, decided_by = ?, decided_at = ?, reason = ? WHERE id = ?",
                [
                    .integer(Status.clawedBack.rawValue), .text(order.decidedBy), .integer(at), .text(order.reason),
                    .text(order.id),
                ]
            )
            try await LedgerOutbox.emit(tx, type: "clawedBack", order: order, at: at)
            return order
        }
    }

    /// Expires every pending order past its time; returns how many.
    @discardableResult
    public func expireDue() async throws -> Int {
        let at = self.now()
        return try await self.database.transaction { tx in
            let rows = try await tx.query(
                "SELECT \(Self.orderColumns) FROM orders WHERE status = ? AND expires_at <= ? LIMIT 1000",
                [.integer(Status.pending.rawValue), .integer(at)])
            for row in rows {
                var order = Self.order(row)
                try await self.expire(&order, tx: tx, at: at)
            }
            return rows.count
        }
    }

    private func expire(_ order: inout Order, tx: any SQLTransaction, at: Int64) async throws {
        try await tx.execute(
            "UPDATE accounts SET reserved_fen = reserved_fen - ? WHERE id = ?",
            [.integer(order.amountFen), .text(order.fundAccount)])
        try await tx.execute(
            "UPDATE orders SET status = ?, decided_by = 'ledger', decided_at = ?, reason = ? WHERE id = ?",
            [
                .integer(Status.expired.rawValue), .integer(at), .text("nobody decided before the order expired"),
                .text(order.id),
            ])
        order.status = .expired
        order.decidedBy = "ledger"
        order.decidedAtMillis = at
        order.reason = "nobody decided before the order expired"
        try await LedgerOutbox.emit(tx, type: "expired", order: order, at: at)
    }

    static func load(_ orderID: String, _ tx: any SQLTransaction) async throws -> Order {
        guard !orderID.isEmpty else { throw LedgerError(.invalidArgument, "order_id: required") }
        guard let row = try await tx.queryOne("SELECT \(Self.orderColumns) FROM orders WHERE id = ?", [.text(orderID)])
        else {
            throw LedgerError(.notFound, "order_id: no order '\(orderID)'")
        }
        return Self.order(row)
    }
}
