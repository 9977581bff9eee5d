import BenefitsDomain
import CatalogModel
import MeshMessages
import SQLStore

extension Ledger {
    public func order(id: String) async throws -> Order {
        try await self.database.read { tx in try await Self.load(id, tx) }
    }

    public struct OrderFilter: Sendable {
        public var creditCode: String?
        public var department: Department?
        public var status: Order.Status?
        public var county: Jiaxing_Benefits_V1_County?
        public var limit: Int
        /// Only orders after this one in the list's order (newest first): the page after it.
        public var after: (createdAtMillis: Int64, id: String)?

        public init(
            creditCode: String? = nil, department: Department? = nil, status: Order.Status? = nil,
            county: Jiaxing_Benefits_V1_County? = nil, limit: Int = 100
        ) {
            self.creditCode = creditCode
            self.department = department
            self.status = status
            self.county = county
            self.limit = limit
        }
    }

    /// Orders, newest first.
    public func orders(_ filter: OrderFilter) async throws -> [Order] {
        var conditions: [String] = []
        var parameters: [SQLValue] = []
        // On SQLite an enterprise's orders are found through the range of its idempotency keys (there is no index
        // of credit codes); the other terms are then kept from choosing an index (`+`), which SQLite, with no
        // statistics, would take for the narrower one.
        let byKeys = filter.creditCode != nil && self.database.dialect == .sqlite
        let plain = byKeys ? "+" : ""
        if let code = filter.creditCode.map(Self.storedCreditCode) {
            conditions.append("credit_code = ?")
            parameters.append(.text(code))
            if byKeys {
                conditions.append(Self.keyRange("?"))
                parameters += [.text(code), .text(code)]
            }
        }
        if let department = filter.department {
            conditions.append("('|' || departments || '|') LIKE ?")
            parameters.append(.text("%|\(department.chineseName)|%"))
        }
        if let status = filter.status {
            conditions.append("\(plain)status = ?")
            parameters.append(.integer(Int64(status.rawValue)))
        }
        if let county = filter.county {
            conditions.append("\(plain)county = ?")
            parameters.append(.integer(Int64(county.rawValue)))
        }
        if let after = filter.after {
            conditions.append("(created_at < ? OR (created_at = ? AND id < ?))")
            parameters += [.integer(after.createdAtMillis), .integer(after.createdAtMillis), .text(after.id)]
        }
        let whereClause = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        let limit = max(1, min(filter.limit, 1000))
        return try await self.database.read { tx in
            try await tx.query(
                "SELECT \(Self.orderColumns) FROM orders \(whereClause) ORDER BY created_at DESC, id DESC LIMIT \(limit)",
                parameters
            ).map(Self.order)
        }
    }

    /// Gives a document's fund for a year its budget: a transfer from the treasury. Opening it again adds the
    /// difference (a correction is a new transfer). With `onlyIfAbsent`, a fund already open keeps its budget:
    /// what a service does with its `--budgets` file at start, so a restart never undoes the operator's changes.
    public func openFund(documentID: String, year: Int, budgetFen: Fen, onlyIfAbsent: Bool = false) async throws
        -> Jiaxing_Benefits_V1_FundBalance
    {
        guard budgetFen > 0, budgetFen <= Money.maximumFen else {
            throw LedgerError(
                .invalidArgument,
                "budget_fen: 1 to \(Money.maximumFen) fen (\(Money.chinese(Money.maximumFen))), got \(budgetFen)")
        }
        guard (1900...2200).contains(year) else {
            throw LedgerError(.invalidArgument, "year: a year in 1900-2200 is required")
        }
        guard let catalog = self.catalog() else {
            throw LedgerError(.unavailable, "the catalog has not loaded yet; retry shortly")
        }
        guard catalog.document(id: documentID) != nil else {
            throw LedgerError(.notFound, "document_id: no document '\(documentID)' in the catalog")
        }
        let account = Self.fundAccount(documentID: documentID, year: year)
        let at = self.now()
        try await self.database.transaction { tx in
            if onlyIfAbsent, try await tx.queryOne("SELECT 1 FROM accounts WHERE id = ?", [.text(account)]) != nil {
                return
            }
            try await tx.execute(
                "INSERT INTO accounts (id, kind, document_id, year) VALUES (?, 'fund', ?, ?) ON CONFLICT (id) DO NOTHING",
                [.text(account), .text(documentID), .integer(Int64(year))])
            let current =
                try await tx.queryOne("SELECT budget_fen FROM accounts WHERE id = ?", [.text(account)])?.integer(0) ?? 0
            if budgetFen > current {
                try await Self.transfer(
                    tx, order: nil, debit: "treasury", credit: account, amount: budgetFen - current, kind: "budget",
                    at: at)
            } else if budgetFen < current {
                let reserved =
                    try await tx.queryOne(
                        "SELECT balance_fen - reserved_fen FROM accounts WHERE id = ?", [.text(account)])?.integer(0)
                    ?? 0
                guard current - budgetFen <= reserved else {
                    throw LedgerError(
                        .failedPrecondition,
                        "budget_fen: the fund has only \(Money.chinese(reserved)) uncommitted; it cannot shrink by \(Money.chinese(current - budgetFen))"
                    )
                }
                try await Self.transfer(
                    tx, order: nil, debit: account, credit: "treasury", amount: current - budgetFen, kind: "budget",
                    at: at)
            }
            try await tx.execute(
                "UPDATE accounts SET budget_fen = ? WHERE id = ?", [.integer(budgetFen), .text(account)])
        }
        return try await self.funds().funds.first { $0.account == account }!
    }

    /// Every fund with its budget, what it paid, what it has reserved, what is left; and the ledger's totals.
    public func funds() async throws -> Jiaxing_Benefits_V1_ListFundsResponse {
        try await self.database.read { tx in
            var response = Jiaxing_Benefits_V1_ListFundsResponse()
            let rows = try await tx.query(
                "SELECT id, document_id, year, budget_fen, balance_fen, reserved_fen FROM accounts WHERE kind = 'fund' ORDER BY id",
                [])
            response.funds = rows.map { row in
                var fund = Jiaxing_Benefits_V1_FundBalance()
                fund.account = row.text(0)
                fund.documentID = row.text(1)
                fund.year = Int32(row.integer(2))
                fund.budgetFen = row.integer(3)
                fund.postedFen = row.integer(3) - row.integer(4)
                fund.reservedFen = row.integer(5)
                fund.availableFen = row.integer(4) - row.integer(5)
                return fund
            }
            let totals =
                try await tx.queryOne("SELECT COALESCE(SUM(amount_fen), 0) FROM transfers", [])?.integer(0) ?? 0
            response.totalDebitsFen = totals
            response.totalCreditsFen = totals
            return response
        }
    }

    /// Checks the books: every cached balance equals what the transfers say, the balances sum to zero
    /// (debits equal credits), no fund is below zero, and each fund's reservations equal its pending orders.
    /// Returns the problems found (none, always, unless storage was tampered with).
    public func reconcile() async throws -> [String] {
        try await self.database.read { tx in
            var problems: [String] = []
            let rows = try await tx.query(
                """
                SELECT a.id, a.kind, a.balance_fen, a.reserved_fen,
                  COALESCE((SELECT SUM(amount_fen) FROM transfers WHERE credit_account = a.id), 0)
                  - COALESCE((SELECT SUM(amount_fen) FROM transfers WHERE debit_account = a.id), 0),
                  COALESCE((SELECT SUM(amount_fen) FROM orders WHERE fund_account = a.id AND status = 1), 0)
                FROM accounts a
                """, [])
            var sum: Int64 = 0
            for row in rows {
                let (id, kind, cached, reserved, derived, pending) = (
                    row.text(0), row.text(1), row.integer(2), row.integer(3), row.integer(4), row.integer(5)
                )
                sum += derived
                if cached != derived { problems.append("\(id): cached balance \(cached) but transfers say \(derived)") }
                if kind == "fund" {
                    if derived < 0 { problems.append("\(id): balance below zero (\(derived))") }
                    if reserved != pending {
                        problems.append("\(id): reserved \(reserved) but pending orders hold \(pending)")
                    }
                    if derived - reserved < 0 { problems.append("\(id): reservations exceed the balance") }
                }
            }
            if sum != 0 { problems.append("balances sum to \(sum), not zero: debits and credits differ") }
            let duplicates = try await tx.query(
                "SELECT order_id, COUNT(*) FROM transfers WHERE kind = 'payout' GROUP BY order_id HAVING COUNT(*) > 1",
                [])
            for row in duplicates { problems.append("order \(row.text(0)) paid \(row.integer(1)) times") }
            return problems
        }
    }

    /// 兑付率 per document target date: the share of what was promised (ordered and not refused or expired)
    /// that was paid by that date.
    public func payoutRates(documentID: String?) async throws -> [Jiaxing_Benefits_V1_PayoutRate] {
        guard let catalog = self.catalog() else {
            throw LedgerError(.unavailable, "the catalog has not loaded yet; retry shortly")
        }
        let documents = documentID.map { id in catalog.documents.filter { $0.id == id } } ?? catalog.documents
        if let documentID, documents.isEmpty {
            throw LedgerError(.notFound, "document_id: no document '\(documentID)'")
        }
        return try await self.database.read { tx in
            var rates: [Jiaxing_Benefits_V1_PayoutRate] = []
            for document in documents {
                for target in document.payoutTargets {
                    let endOfDay = Self.millis(endOf: target.by)
                    let promised =
                        try await tx.queryOne(
                            "SELECT COALESCE(SUM(amount_fen), 0) FROM orders WHERE document_id = ? AND created_at <= ? AND status IN (1, 2, 5)",
                            [.text(document.id), .integer(endOfDay)]
                        )?.integer(0) ?? 0
                    let paid =
                        try await tx.queryOne(
                            "SELECT COALESCE(SUM(amount_fen), 0) FROM orders WHERE document_id = ? AND status IN (2, 5) AND decided_at <= ?",
                            [.text(document.id), .integer(endOfDay)]
                        )?.integer(0) ?? 0
                    var rate = Jiaxing_Benefits_V1_PayoutRate()
                    rate.documentID = document.id
                    rate.by = target.by.message
                    rate.targetBasisPoints = Int32(target.rateBasisPoints)
                    rate.promisedFen = promised
                    rate.paidFen = paid
                    rate.achievedBasisPoints = promised == 0 ? 0 : Int32(paid * 10_000 / promised)
                    rates.append(rate)
                }
            }
            return rates
        }
    }

    /// The last millisecond of a day (China Standard Time, UTC+8).
    static func millis(endOf date: CalendarDate) -> Int64 {
        Int64(date.adding(days: 1).dayNumber) * 86_400_000 - 8 * 3_600_000 - 1
    }
}
