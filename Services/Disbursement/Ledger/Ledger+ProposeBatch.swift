import BenefitsDomain
import CatalogModel
import MeshMessages
import SQLStore

extension Ledger {
    /// A proposal that passed the checks needing no storage, queued for the next batch. A class: a batch
    /// moves its inputs through generic code, and copying them with each move was a tenth of a payout's time.
    final class ProposalInput: Sendable {
        let ledger: Ledger
        let request: ProposeRequest
        /// What the rules read of the clause.
        let terms: PayoutTerms
        /// What the order pays, in words (`idempotencyKey`), worked out once.
        let key: String
        /// The credit code as orders keep it (upper case).
        let creditCode: String
        /// The profile digest of the request's seal (`DecisionStatement.profile_sha256`); empty without one.
        let basis: String
        /// The key of a proposal made again after the order under `key` was rejected or expired, on another
        /// basis: `key`, `|` and the basis's first 16 hex digits. Nil without a basis.
        let againKey: String?
        /// The fund the order is paid from.
        let fund: String
        /// The order as it is when accepted in full (the requested amount, no reason), with its row and its
        /// event's row: most proposals are, and these are made by the caller, concurrently, so that the
        /// committer, which runs one batch at a time, has only to check that the rules left them as they are.
        let draft: Order
        let draftRow: [SQLValue]
        let draftEvent: [SQLValue]

        /// `creditCode`: the request's, as validated (`CreditCode.value`).
        init(ledger: Ledger, request: ProposeRequest, terms: PayoutTerms, creditCode: String) throws(LedgerError) {
            self.ledger = ledger
            self.request = request
            self.terms = terms
            self.creditCode = creditCode
            self.key = Ledger.idempotencyKey(request, creditCode: self.creditCode)
            self.basis = Ledger.basis(of: request)
            self.againKey = self.basis.isEmpty ? nil : self.key + "|" + self.basis.prefix(16)
            self.fund = terms.fundAccount(year: request.period)
            let at = ledger.now()
            var order = Order()
            order.id = UUIDv7.make(millis: at, random: ledger.idBits())
            order.idempotencyKey = self.key
            order.creditCode = self.creditCode
            order.enterpriseName = request.enterpriseName
            order.county = request.county
            order.clauseID = terms.clauseID
            order.documentID = terms.documentID
            order.subject = request.subject
            order.period = request.period
            order.requestedFen = request.amountFen
            order.amountFen = request.amountFen
            order.fundAccount = self.fund
            order.status = .pending
            order.createdAtMillis = at
            order.expiresAtMillis = at + ledger.orderLifetimeMillis
            order.responsibleDepartments = terms.responsibleDepartments
            order.overlapGroup = terms.overlapGroup
            order.explanation = request.explanation
            order.basis = self.basis
            order.campaignID = request.campaignID
            self.draft = order
            self.draftRow = Ledger.values(order, departments: terms.departmentsText)
            do {
                self.draftEvent = try LedgerOutbox.eventRow(type: "proposed", order: order, at: at)
            } catch {
                throw LedgerError(.unavailable, "cannot encode the event of order \(order.id): \(error)")
            }
        }
    }

    /// Proposals as one kind of change of the group committer: each batch reads what all of its proposals
    /// need at once, decides them in order, and writes their orders and events together.
    static let proposals = SetChange<ProposalInput, Order>(
        batch: { inputs, tx in try await inputs[0].ledger.propose(inputs, tx: tx) },
        alone: { input, tx in try await input.ledger.propose(input, tx: tx) }
    )

    /// Most rows in one multi-row statement: PostgreSQL takes at most 65,535 parameters in one.
    static let rowsPerStatement = 1000

    /// Proposes `requests` in one transaction, as one batch of the group committer would: the batch's rules
    /// on its own orders can be tested without depending on how concurrent callers happen to be grouped.
    package func propose(together requests: [ProposeRequest]) async throws -> [Result<Order, LedgerError>] {
        var results: [Result<Order, LedgerError>?] = []
        var inputs: [ProposalInput] = []
        var positions: [Int] = []
        for request in requests {
            do {
                let (terms, creditCode) = try self.validate(request)
                positions.append(results.count)
                inputs.append(try ProposalInput(ledger: self, request: request, terms: terms, creditCode: creditCode))
                results.append(nil)
            } catch {
                results.append(.failure(error))
            }
        }
        let decided = try await self.database.transaction { tx in try await self.propose(inputs, tx: tx) }
        for (position, result) in zip(positions, decided) { results[position] = result }
        return results.map { $0! }
    }

    /// Decides `inputs` in order, each seeing the orders and reservations of those before it, then writes
    /// the accepted ones. Refusals come back as results, before anything is written.
    func propose(_ inputs: [ProposalInput], tx: any SQLTransaction) async throws -> [Result<Order, LedgerError>] {
        let snapshot = try await self.snapshot(for: inputs, tx: tx)
        var results: [Result<Order, LedgerError>] = []
        results.reserveCapacity(inputs.count)
        var accepted: [(order: Order, input: ProposalInput, drafted: Bool)] = []
        accepted.reserveCapacity(inputs.count)
        for input in inputs {
            do {
                switch try self.decide(input, reads: snapshot) {
                case .replayed(let order):
                    results.append(.success(order))
                case .new(let order, let drafted):
                    snapshot.accept(order, fund: input.fund, creditCode: input.creditCode)
                    accepted.append((order, input, drafted))
                    results.append(.success(order))
                }
            } catch {
                results.append(.failure(error))
            }
        }
        try await self.write(accepted, tx: tx)
        return results
    }

    /// Everything the batch's proposals read: their enterprises' orders (live ones as the caps and 就高不重复
    /// count them), the whole order under any of their idempotency keys, and their funds. An order's key starts
    /// with its enterprise's credit code, so the enterprises' orders show which keys were used before: only
    /// those (replays, rare) are read whole, and a batch of new proposals costs one read fewer per payout.
    private func snapshot(for inputs: [ProposalInput], tx: any SQLTransaction) async throws -> ProposalSnapshot {
        let snapshot = ProposalSnapshot()
        var seen = Set<String>(minimumCapacity: inputs.count)
        var enterprises: [ProposalInput] = []
        enterprises.reserveCapacity(inputs.count)
        for input in inputs {
            if seen.insert(input.creditCode).inserted {
                enterprises.append(input)
            } else {
                snapshot.repeated.insert(input.creditCode)
            }
        }
        var keys: Set<String>?
        var used: [String] = []
        for row in try await self.ordersOfEnterprises(enterprises, tx: tx) {
            if row.integer(6) == 1 {
                snapshot.live[row.text(0), default: []].append(
                    .init(
                        clauseID: row.text(1), period: Int32(row.integer(2)), overlapGroup: row.text(3),
                        subject: row.text(4), amountFen: row.integer(5), key: row.text(7)))
            }
            if keys == nil { keys = Set(inputs.map(\.key) + inputs.compactMap(\.againKey)) }
            let key = row.text(7)
            if keys!.contains(key) { used.append(key) }
        }
        for row in try await self.rows(tx, ProposalSQL.orderByKey, used) {
            let order = Self.order(row)
            snapshot.orders[order.idempotencyKey] = order
        }
        for row in try await self.rows(tx, ProposalSQL.fundByID, Self.distinct(inputs.lazy.map(\.fund))) {
            snapshot.funds[row.text(0)] = (row.integer(1), row.integer(2))
        }
        return snapshot
    }

    /// The orders of the enterprises of `inputs` (one input each; `ProposalSQL.ordersOfEnterpriseByKey`'s columns).
    /// SQLite finds them through the idempotency keys' index, as a key starts with its enterprise's credit code:
    /// one index fewer to write on every payout than an index of credit codes. PostgreSQL keeps that index, as
    /// its keys sort by the database's collation, not byte for byte.
    private func ordersOfEnterprises(_ enterprises: [ProposalInput], tx: any SQLTransaction) async throws -> [SQLRow] {
        guard self.database.dialect == .sqlite else {
            return try await tx.query(
                ProposalSQL.OrdersOfEnterprises.self, [.text(Self.postgresArray(enterprises.map(\.creditCode)))])
        }
        var rows: [SQLRow] = []
        for enterprise in enterprises {
            rows += try await tx.query(ProposalSQL.ordersOfEnterpriseByKey, [.text(enterprise.creditCode)])
        }
        return rows
    }

    /// `texts` as a PostgreSQL array literal (`{"a","b"}`), each quoted, for one `?::text[]` parameter.
    package static func postgresArray(_ texts: [String]) -> String {
        "{"
            + texts.map {
                "\"" + $0.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
                    + "\""
            }.joined(separator: ",") + "}"
    }

    /// The condition that an order's idempotency key lies in the range of the enterprise whose credit code is
    /// `parameter`: [code|, code}), as '}' is the byte after '|'. SQLite works out the bounds once per statement,
    /// so no one makes them as strings of their own.
    static func keyRange(_ parameter: String) -> String {
        "idempotency_key >= \(parameter) || '|' AND idempotency_key < \(parameter) || '}'"
    }

    /// The rows of `statement` (whose one parameter is a unique key, `= ?`) for every key. On PostgreSQL one
    /// statement with the keys in an `IN` list, as every statement is a round trip; a unique key's index is
    /// used for it whatever the table's statistics (unlike the enterprises' orders, `ordersOfEnterprises`). On
    /// SQLite, in process, the statement once per key, so its cache of prepared statements holds one text.
    func rows(_ tx: any SQLTransaction, _ statement: String, _ keys: [String]) async throws -> [SQLRow] {
        guard !keys.isEmpty else { return [] }
        guard self.database.dialect == .postgres else {
            var rows: [SQLRow] = []
            for key in keys { rows += try await tx.query(statement, [.text(key)]) }
            return rows
        }
        var rows: [SQLRow] = []
        for start in stride(from: 0, to: keys.count, by: Self.rowsPerStatement) {
            let chunk = keys[start..<min(keys.count, start + Self.rowsPerStatement)]
            let list = "IN (\(SQLPlaceholders.list(chunk.count)))"
            rows += try await tx.query(statement.replacingOccurrences(of: "= ?", with: list), chunk.map { .text($0) })
        }
        return rows
    }

    /// The accepted orders, their reservations (one update per fund) and their events; the rows the callers
    /// made where an order is as drafted.
    private func write(_ accepted: [(order: Order, input: ProposalInput, drafted: Bool)], tx: any SQLTransaction)
        async throws
    {
        guard !accepted.isEmpty else { return }
        // What each fund reserves, in the order first met: a batch draws on a few funds, and looking them up in
        // a list costs less than hashing each order's fund.
        var reserved: [(fund: String, fen: Fen)] = []
        var orderRows: [[SQLValue]] = []
        var eventRows: [[SQLValue]] = []
        orderRows.reserveCapacity(accepted.count)
        eventRows.reserveCapacity(accepted.count)
        for (order, input, drafted) in accepted {
            if let index = reserved.lastIndex(where: { $0.fund == input.fund }) {
                reserved[index].fen += order.amountFen
            } else {
                reserved.append((input.fund, order.amountFen))
            }
            orderRows.append(drafted ? input.draftRow : Self.values(order))
            eventRows.append(
                drafted
                    ? input.draftEvent
                    : try LedgerOutbox.eventRow(type: "proposed", order: order, at: order.createdAtMillis))
        }
        try await self.insert(tx, ProposalSQL.insertOrder, orderRows, sqliteForms: ProposalSQL.insertOrderForms)
        for (fund, fen) in reserved {
            try await tx.execute(ProposalSQL.Reserve.self, [.integer(fen), .text(fund)])
        }
        if !eventRows.isEmpty { try await tx.share(LedgerOutbox.appending) }
        try await self.insert(tx, LedgerOutbox.insertEvent, eventRows, sqliteForms: ProposalSQL.insertEventForms)
        if !eventRows.isEmpty { try await tx.notify(LedgerOutbox.channel) }
    }

    /// Inserts rows with `statement` (`INSERT … VALUES (?, …)`) in multi-row statements: on PostgreSQL up to
    /// `rowsPerStatement` a statement, each a round trip saved; on SQLite in `sqliteForms` (made once, so that
    /// prepared statements are reused), each saving a statement's run per row, then one by one.
    func insert(
        _ tx: any SQLTransaction, _ statement: String, _ rows: [[SQLValue]], sqliteForms: [(rows: Int, sql: String)]
    ) async throws {
        guard self.database.dialect == .postgres else {
            var start = 0
            for form in sqliteForms {
                while rows.count - start >= form.rows {
                    try await tx.execute(form.sql, rows: rows[start..<(start + form.rows)])
                    start += form.rows
                }
            }
            for row in rows[start...] { try await tx.execute(statement, row) }
            return
        }
        guard rows.count > 1 else {
            for row in rows { try await tx.execute(statement, row) }
            return
        }
        for start in stride(from: 0, to: rows.count, by: Self.rowsPerStatement) {
            let chunk = rows[start..<min(rows.count, start + Self.rowsPerStatement)]
            try await tx.execute(ProposalSQL.multiRow(statement, chunk.count), rows: chunk)
        }
    }

    /// `values` without repeats, in the order first met. For a batch's funds, which are few: searching a list
    /// of them costs less than hashing every proposal's.
    private static func distinct(_ values: some Sequence<String>) -> [String] {
        var distinct: [String] = []
        for value in values where !distinct.contains(value) { distinct.append(value) }
        return distinct
    }
}
