import MeshMessages
import SQLStore

extension Ledger {
    /// Order states as stored (the message's enum numbers).
    enum Status: Int64 {
        case pending = 1
        case posted = 2
        case rejected = 3
        case expired = 4
        case clawedBack = 5
    }

    static let orderColumns =
        "id, idempotency_key, credit_code, enterprise_name, county, clause_id, document_id, subject, period, requested_fen, amount_fen, fund_account, status, created_at, expires_at, decided_by, decided_at, reason, departments, overlap_group, explanation, basis, previous_order_id, campaign_id, declared"

    /// The same columns of `orders o` in a join.
    static let orderColumnsOfJoin = Ledger.orderColumns.split(separator: ", ").map { "o.\($0)" }.joined(separator: ", ")

    /// An order's departments as its row keeps them.
    static func departmentsText(_ departments: [String]) -> String { departments.joined(separator: "|") }

    /// `departments`: the order's departments as its row keeps them, where already made.
    static func values(_ order: Order, departments: String? = nil) -> [SQLValue] {
        [
            .text(order.id), .text(order.idempotencyKey), .text(order.creditCode), .text(order.enterpriseName),
            .integer(Int64(order.county.rawValue)), .text(order.clauseID), .text(order.documentID),
            .text(order.subject),
            .integer(Int64(order.period)), .integer(order.requestedFen), .integer(order.amountFen),
            .text(order.fundAccount),
            .integer(Int64(order.status.rawValue)), .integer(order.createdAtMillis), .integer(order.expiresAtMillis),
            .text(order.decidedBy), .integer(order.decidedAtMillis), .text(order.reason),
            .text(departments ?? Self.departmentsText(order.responsibleDepartments)), .text(order.overlapGroup),
            .text(order.explanation), .text(order.basis), .text(order.previousOrderID),
            .text(order.campaignID), .integer(order.declaredFacts ? 1 : 0),
        ]
    }

    static func order(_ row: SQLRow) -> Order {
        var order = Order()
        order.id = row.text(0)
        order.idempotencyKey = row.text(1)
        order.creditCode = row.text(2)
        order.enterpriseName = row.text(3)
        order.county = Jiaxing_Benefits_V1_County(rawValue: Int(row.integer(4))) ?? .unspecified
        order.clauseID = row.text(5)
        order.documentID = row.text(6)
        order.subject = row.text(7)
        order.period = Int32(row.integer(8))
        order.requestedFen = row.integer(9)
        order.amountFen = row.integer(10)
        order.fundAccount = row.text(11)
        order.status = Order.Status(rawValue: Int(row.integer(12))) ?? .unspecified
        order.createdAtMillis = row.integer(13)
        order.expiresAtMillis = row.integer(14)
        order.decidedBy = row.text(15)
        order.decidedAtMillis = row.integer(16)
        order.reason = row.text(17)
        order.responsibleDepartments = row.text(18).split(separator: "|").map(String.init)
        order.overlapGroup = row.text(19)
        order.explanation = row.text(20)
        order.basis = row.text(21)
        order.previousOrderID = row.text(22)
        order.campaignID = row.text(23)
        order.declaredFacts = row.integer(24) != 0
        return order
    }
}
