import BenefitsDomain
import CatalogModel
import MeshMessages
import NIOConcurrencyHelpers
import SQLStore

#if canImport(Glibc)
    import Glibc
#endif

extension Ledger {
    public typealias ProposeRequest = Jiaxing_Benefits_V1_ProposePayoutRequest

    /// Reserves money for an entitlement. The idempotency key is derived from what the order pays; the same
    /// request again returns the first order (`replayed`), the same key with another amount is refused.
    /// Caps per year and in all, 就高不重复 and the fund's balance are enforced here, in the transaction.
    public func propose(_ request: ProposeRequest) async throws -> Order {
        let (terms, creditCode) = try self.validate(request)
        return try await self.committer.transaction(
            try ProposalInput(ledger: self, request: request, terms: terms, creditCode: creditCode), as: Self.proposals)
    }

    /// The idempotency key: what the order pays, in words.
    public static func idempotencyKey(_ request: ProposeRequest) -> String {
        Self.idempotencyKey(request, creditCode: Self.storedCreditCode(request.creditCode))
    }

    /// A credit code as orders keep it: the validated code's ASCII spelling (`CreditCode.value`), else (a code
    /// that does not validate, as in a filter) upper-cased.
    static func storedCreditCode(_ text: String) -> String {
        CreditCode(text)?.value ?? text.uppercased()
    }

    /// The same, with the credit code as orders keep it.
    /// Its string is allocated once, at the right size: interpolation grew it two or three times.
    static func idempotencyKey(_ request: ProposeRequest, creditCode: String) -> String {
        let period = String(request.period)
        var key = String()
        key.reserveCapacity(
            creditCode.utf8.count + request.clauseID.utf8.count + request.subject.utf8.count + period.utf8.count + 3)
        key += creditCode
        key += "|"
        key += request.clauseID
        key += "|"
        key += request.subject
        key += "|"
        key += period
        return key
    }

    /// Checks that need no storage: the field is named in every refusal. Returns the clause's terms and the
    /// credit code as orders keep it (`CreditCode.value`: upper case, ASCII, however the request spelled it).
    func validate(_ request: ProposeRequest) throws(LedgerError) -> (terms: PayoutTerms, creditCode: String) {
        let creditCode: String
        switch CreditCode.validate(request.creditCode) {
        case .success(let code): creditCode = code.value
        case .failure(let problem):
            throw LedgerError(.invalidArgument, "credit_code: '\(request.creditCode)' \(problem)")
        }
        guard request.amountFen > 0, request.amountFen <= Money.maximumFen else {
            throw LedgerError(
                .invalidArgument,
                "amount_fen: 1 to \(Money.maximumFen) fen (\(Money.chinese(Money.maximumFen))), got \(request.amountFen)"
            )
        }
        guard (1900...2200).contains(request.period) else {
            throw LedgerError(.invalidArgument, "period: a year in 1900-2200 is required, got \(request.period)")
        }
        // Characters are counted only where the bytes could be too many: counting them is grapheme breaking.
        guard !request.subject.isEmpty, request.subject.utf8.count <= 200 || request.subject.count <= 200 else {
            throw LedgerError(
                .invalidArgument,
                "subject: 1 to 200 characters naming what the order pays for (e.g. greenFactory/national/2023-03-15)")
        }
        guard request.county != .unspecified, request.county.rawValue <= 9 else {
            throw LedgerError(.invalidArgument, "county: one of the counties and districts of Jiaxing is required")
        }
        guard let catalog = self.catalog() else {
            throw LedgerError(.unavailable, "the catalog has not loaded yet; retry shortly")
        }
        guard let terms = self.terms(of: request.clauseID, in: catalog) else {
            throw LedgerError(.notFound, "clause_id: no clause '\(request.clauseID)' in catalog \(catalog.revision)")
        }
        guard terms.cash else {
            throw LedgerError(.failedPrecondition, "clause_id: \(terms.clauseID) is not a cash benefit; nothing to pay")
        }
        guard !terms.manual else {
            throw LedgerError(
                .failedPrecondition,
                "clause_id: \(terms.clauseID) leaves the amount open; it is never paid automatically")
        }
        guard
            request.explanation.utf8.count <= Self.maximumExplanationCharacters
                || request.explanation.count <= Self.maximumExplanationCharacters
        else {
            throw LedgerError(
                .invalidArgument,
                "explanation: at most \(Self.maximumExplanationCharacters) characters, got \(request.explanation.count)"
            )
        }
        if let maximum = terms.maximumFen, request.amountFen > maximum {
            throw LedgerError(
                .invalidArgument,
                "amount_fen: \(Money.chinese(request.amountFen)) exceeds the most \(terms.clauseID) pays, \(Money.chinese(maximum))"
            )
        }
        return (terms, creditCode)
    }

    /// Longest explanation an order keeps.
    public static let maximumExplanationCharacters = 4000

    /// The most a clause can pay for one thing, where its formula says.
    static func maximum(of clause: Clause) -> Fen? {
        var maximum: Fen?
        switch clause.formula {
        case .fixed(let amount): maximum = amount
        case .tiers(_, let tiers, _): maximum = tiers.map(\.amountFen).max()
        case .tierShare(_, let tiers, let rate):
            maximum = tiers.map(\.amountFen).max().map { $0 * Int64(rate) / 10_000 }
        case .thresholdTiers(_, let tiers, _): maximum = tiers.map(\.amountFen).max()
        case .bands(let bands): maximum = bands.map(\.amountFen).max()
        case .percentage(_, _, _, let cap), .ratioMatch(_, _, _, let cap), .interestSubsidy(_, _, let cap, _),
            .insurancePremium(_, _, let cap, _), .perUnit(_, _, let cap):
            maximum = cap
        case .capOnly(let cap): maximum = cap
        case .lowestOf, .manual: maximum = nil
        }
        for cap in [clause.perYearCapFen, clause.cumulativeCapFen].compactMap({ $0 }) {
            maximum = min(maximum ?? cap, cap)
        }
        return maximum
    }

    /// One proposal in the caller's transaction (an application decided at once, a spoiled batch rerun).
    func propose(_ request: ProposeRequest, clause: Clause, document: PolicyDocument, tx: any SQLTransaction)
        async throws -> Order
    {
        let creditCode = Self.storedCreditCode(request.creditCode)
        return try await self.propose(
            try ProposalInput(
                ledger: self, request: request, terms: PayoutTerms(clause: clause, document: document),
                creditCode: creditCode), tx: tx)
    }

    /// A batch of one: the same reads, rules and writes as a group-committed batch.
    func propose(_ input: ProposalInput, tx: any SQLTransaction) async throws -> Order {
        try await self.propose([input], tx: tx)[0].get()
    }

    /// What a proposal comes to.
    enum Proposal {
        /// The order to write.
        case new(Order, drafted: Bool)
        /// The first order of the same idempotency key: nothing to write.
        case replayed(Order)
    }

    /// The rules of a proposal, on what `reads` holds: the idempotency key, the clause's caps, 就高不重复 and
    /// the fund's balance. Refuses with a `LedgerError`; writes nothing.
    func decide(_ input: ProposalInput, reads: ProposalSnapshot) throws(LedgerError) -> Proposal {
        let (request, clauseID, fund) = (input.request, input.terms.clauseID, input.fund)
        var again: (key: String, previous: Order)?
        if let previous = reads.order(key: input.key) {
            switch try Self.again(input, after: previous, reads: reads) {
            case .replay(var order):
                guard order.requestedFen == request.amountFen else {
                    throw LedgerError(
                        .alreadyExists,
                        "idempotency key \(order.idempotencyKey) was used for \(Money.chinese(order.requestedFen)) (order \(order.id)); this request asks \(Money.chinese(request.amountFen))"
                    )
                }
                order.replayed = true
                return .replayed(order)
            case .proposeAgain(let key): again = (key, previous)
            }
        }
        var amount = request.amountFen
        var reasons: [String] = []
        if let again {
            let ended = again.previous.status == .rejected ? "驳回" : "过期"
            reasons.append("重新提出: 前一笔\(again.previous.id)已\(ended), 所依事实已变更")
        }
        let live = reads.live(of: input.creditCode)
        // Per-year and cumulative caps of the clause, for this enterprise.
        if let cap = input.terms.perYearCapFen {
            let used = live.used(clauseID: clauseID, period: request.period)
            if used + amount > cap {
                amount = cap - used
                reasons.append("每年最高\(Money.chinese(cap)), 本年已有\(Money.chinese(used))")
            }
        }
        if let cap = input.terms.cumulativeCapFen {
            let used = live.used(clauseID: clauseID, period: nil)
            if used + amount > cap {
                amount = min(amount, cap - used)
                reasons.append("累计最高\(Money.chinese(cap)), 已有\(Money.chinese(used))")
            }
        }
        // 就高不重复: the same thing paid under another clause of the group counts against this one.
        if let group = input.terms.exclusiveGroup {
            let paid = live.sameThing(group: group, subject: request.subject, otherThan: clauseID)
            let already = paid.reduce(0) { $0 + $1.amountFen }
            if already > 0 {
                amount = min(amount, request.amountFen - already)
                let names = paid.map { Self.clauseName($0.clauseID, in: input.ledger.catalog()) }
                reasons.append("就高不重复: 同一事项已按\(names.joined(separator: "、"))安排\(Money.chinese(already))")
            }
        }
        guard amount > 0 else {
            throw LedgerError(.failedPrecondition, "nothing left to pay: " + reasons.joined(separator: "; "))
        }
        guard let balance = reads.fund(fund) else {
            throw LedgerError(
                .failedPrecondition,
                "no fund \(fund): the operator opens it with a budget (OpenFund) before orders can be paid from it")
        }
        let available = balance.balanceFen - balance.reservedFen
        guard available >= amount else {
            throw LedgerError(
                .failedPrecondition,
                "fund \(fund) has \(Money.chinese(available)) available; the order needs \(Money.chinese(amount))")
        }
        guard amount != request.amountFen || !reasons.isEmpty else { return .new(input.draft, drafted: true) }
        var order = input.draft
        order.amountFen = amount
        order.reason = reasons.joined(separator: "; ")
        if let again {
            order.idempotencyKey = again.key
            order.previousOrderID = again.previous.id
        }
        return .new(order, drafted: false)
    }

    /// What a proposal whose key was used before comes to.
    enum Again {
        /// The order already made for it (the same request again, or an item whose facts did not change).
        case replay(Order)
        /// A new order under this key: the earlier one was rejected or expired and the facts changed.
        case proposeAgain(key: String)
    }

    /// A rejected or expired order does not hold its item for ever: proposed again on another basis (the
    /// profile eligibility decided on changed), the item gets a new order, once per basis, under
    /// `ProposalInput.againKey`. On the same basis, or without one, the earlier decision stands. While an
    /// order for the item is live, nothing new is made.
    static func again(_ input: ProposalInput, after previous: Order, reads: ProposalSnapshot) throws(LedgerError)
        -> Again
    {
        guard previous.status == .rejected || previous.status == .expired, let againKey = input.againKey,
            previous.basis != input.basis
        else { return .replay(previous) }
        if let earlier = reads.order(key: againKey) { return .replay(earlier) }
        let family = input.key + "|"
        if let live = reads.live(of: input.creditCode).first(where: { $0.key.hasPrefix(family) }) {
            throw LedgerError(
                .alreadyExists,
                "idempotency key \(input.key): order \(previous.id) ended, and the item was proposed again under \(live.key), which is still pending or paid"
            )
        }
        return .proposeAgain(key: againKey)
    }

    /// A clause as people name it, for the reasons an officer and an enterprise read: the document's title and
    /// the article (《…》第四条第（一）项); the id where the catalog does not know it.
    static func clauseName(_ id: String, in catalog: Catalog?) -> String {
        guard let (clause, document) = catalog?.clause(id: id) else { return id }
        return "《\(document.shortTitle)》\(clause.article)"
    }

    /// The profile digest of a proposal's seal, empty without one (the seal is checked where it arrives).
    static func basis(of request: ProposeRequest) -> String {
        guard request.hasSeal, !request.seal.statement.isEmpty,
            let statement = try? Jiaxing_Benefits_V1_DecisionStatement(serializedBytes: request.seal.statement)
        else { return "" }
        return statement.profileSha256
    }
}

/// The statements of a proposal, made once: built per call, their text was allocated and hashed (for the
/// prepared-statement cache) on every payout.
enum ProposalSQL {
    static let live = "\(Ledger.Status.pending.rawValue), \(Ledger.Status.posted.rawValue)"
    static let orderByKey = "SELECT \(Ledger.orderColumns) FROM orders WHERE idempotency_key = ?"
    static let fundByID = "SELECT id, balance_fen, reserved_fen FROM accounts WHERE kind = 'fund' AND id = ?"
    /// An enterprise's orders: what the caps and 就高不重复 count (live ones, 1 in the seventh column) and the
    /// idempotency keys used. On SQLite, by the range of the enterprise's idempotency keys (SQLite compares
    /// texts byte for byte).
    static let ordersOfEnterpriseByKey = "SELECT \(enterpriseOrderColumns) FROM orders WHERE " + Ledger.keyRange("?1")
    /// The same for every enterprise of an array (PostgreSQL), each looked up on its own through
    /// `orders_by_enterprise`. `OFFSET 0` keeps the planner from making the lookups one join: for that join, or
    /// an `IN` list, it reckoned on a table without statistics yet (a new ledger's, or one grown since its last
    /// ANALYZE) that a batch's 256 enterprises matched most rows, and scanned the whole table for every batch.
    /// PostgreSQL's: the enterprises' credit codes in one array parameter.
    enum OrdersOfEnterprises: SQLPreparedStatement {
        static let sql =
            "SELECT o.* FROM unnest(?::text[]) AS enterprise(code) CROSS JOIN LATERAL (SELECT \(enterpriseOrderColumns) FROM orders WHERE credit_code = enterprise.code OFFSET 0) o"
        static let parameters: [SQLParameterType] = [.text]
    }
    private static let enterpriseOrderColumns =
        "credit_code, clause_id, period, overlap_group, subject, amount_fen, CASE WHEN status IN (\(live)) THEN 1 ELSE 0 END AS live, idempotency_key"
    enum Reserve: SQLPreparedStatement {
        static let sql = "UPDATE accounts SET reserved_fen = reserved_fen + ? WHERE id = ?"
        static let parameters: [SQLParameterType] = [.integer, .text]
    }
    static let insertOrder =
        "INSERT INTO orders (\(Ledger.orderColumns)) VALUES (\(Array(repeating: "?", count: Ledger.orderColumns.split(separator: ", ").count).joined(separator: ", ")))"

    /// `statement` (`INSERT … VALUES (?, …)`) inserting `rows` rows.
    static func multiRow(_ statement: String, _ rows: Int) -> String {
        guard let values = statement.range(of: "VALUES ") else { return statement }
        let tuple = String(statement[values.upperBound...])
        return statement[..<values.upperBound] + Array(repeating: tuple, count: rows).joined(separator: ", ")
    }

    /// The inserts' multi-row forms for SQLite, largest first.
    static let insertOrderForms = [32, 8].map { (rows: $0, sql: multiRow(insertOrder, $0)) }
    static let insertEventForms = [32, 8].map { (rows: $0, sql: multiRow(LedgerOutbox.insertEvent, $0)) }
}

/// Time-ordered unique ids (UUID version 7), so orders sort by creation.
enum UUIDv7 {
    private static let digits = Array("0123456789abcdef".utf8)

    /// Random words drawn from the kernel's generator 512 at a time (`arc4random_buf`, one `getrandom`): each
    /// draw of `UInt64.random` is a system call, and two per order were 1.4% of a group-committed payout.
    private static let randomWords = NIOLockedValueBox((words: [UInt64](), next: 0))

    static func randomPair() -> (UInt64, UInt64) {
        Self.randomWords.withLockedValue { pool in
            if pool.next + 2 > pool.words.count {
                pool.words = [UInt64](repeating: 0, count: 512)
                pool.words.withUnsafeMutableBytes { arc4random_buf($0.baseAddress!, $0.count) }
                pool.next = 0
            }
            defer { pool.next += 2 }
            return (pool.words[pool.next], pool.words[pool.next + 1])
        }
    }

    /// A time-ordered UUID (RFC 9562 version 7): 48 bits of milliseconds, then 74 random bits.
    /// Written straight into the string's storage: the bytes and the text as arrays first were two more
    /// allocations per order.
    static func make(millis: Int64, random: (UInt64, UInt64) = Self.randomPair()) -> String {
        return String(unsafeUninitializedCapacity: 36) { text in
            var position = 0
            for index in 0..<16 {
                var byte =
                    index < 6
                    ? UInt8((millis >> (8 * (5 - index))) & 0xFF)
                    : UInt8(truncatingIfNeeded: (index < 11 ? random.0 : random.1) >> (8 * UInt64(index % 8)))
                if index == 6 { byte = (byte & 0x0F) | 0x70 }
                if index == 8 { byte = (byte & 0x3F) | 0x80 }
                if index == 4 || index == 6 || index == 8 || index == 10 {
                    text[position] = UInt8(ascii: "-")
                    position += 1
                }
                text[position] = Self.digits[Int(byte >> 4)]
                text[position + 1] = Self.digits[Int(byte & 0x0F)]
                position += 2
            }
            return position
        }
    }
}
