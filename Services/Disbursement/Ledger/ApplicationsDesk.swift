import BenefitsDomain
import CatalogModel
import Crypto
import Foundation
import MeshMessages
import SQLStore

/// The applications desk: what an enterprise asks for where the city cannot pay unasked (即申即享, 限时即享).
/// It records each application with its evidence, decides it at once where the clause fixes the amount, or
/// keeps it for the responsible department until its deadline in working days and marks the breaches; an
/// approval proposes the payout order to the ledger in the same transaction.
///
/// Invariant: one application per enterprise, clause, subject and period; an approved application has
/// exactly one order, and every change is an event in the ledger's outbox.
public struct ApplicationsDesk: Sendable {
    public typealias Application = Jiaxing_Benefits_V1_Application
    public typealias Order = Ledger.Order
    typealias ProposeRequest = Ledger.ProposeRequest

    /// The ledger the desk's approvals propose orders to, and whose storage it shares.
    let ledger: Ledger

    public init(ledger: Ledger) {
        self.ledger = ledger
    }

    var database: any SQLDatabase { self.ledger.database }
    var catalog: @Sendable () -> Catalog? { self.ledger.catalog }
    var now: @Sendable () -> Int64 { self.ledger.now }

    /// Limits on what an application may carry.
    public enum Limits {
        public static let maximumEvidenceFiles = 10
        public static let maximumEvidenceBytes = 5 << 20
        public static let evidenceTypes: Set<String> = ["application/pdf", "image/jpeg", "image/png"]
        /// Working days a department has to decide, where the clause names none.
        public static let defaultWorkingDays = 20
    }

    /// The day in China (UTC+8) at `millis`.
    static func chinaDay(_ millis: Int64) -> CalendarDate { CalendarDate.inChina(atMillis: millis) }

    /// The payout order an application asks for, for `amount`.
    static func orderRequest(_ application: Application, amount: Fen) -> ProposeRequest {
        var order = ProposeRequest()
        order.creditCode = application.creditCode
        order.enterpriseName = application.enterpriseName
        order.county = application.county
        order.clauseID = application.clauseID
        order.subject = application.subject
        order.period = application.period
        order.amountFen = amount
        return order
    }

    /// Marks the order a department's approval made as resting on declared facts where the application did
    /// (facts it claimed, recognitions or projects no responsible department attested), in the transaction
    /// that made it. An order 即申即享 made rests on the city's records alone; one proposed before for the
    /// same item keeps what it was made with.
    static func markDeclared(_ order: Order, of application: Application, _ tx: any SQLTransaction) async throws {
        guard
            !application.claimedFacts.isEmpty || !application.declaredRecognitions.isEmpty
                || !application.declaredProjects.isEmpty, !order.replayed
        else { return }
        try await tx.execute("UPDATE orders SET declared = 1 WHERE id = ?", [.text(order.id)])
    }

    static func applicationKey(_ application: Application) -> String {
        "\(Ledger.storedCreditCode(application.creditCode))|\(application.clauseID)|\(application.subject)|\(application.period)"
    }

    /// Records an application the gateway has looked at with eligibility. 即申即享 (`decideAtOnce`): the
    /// payout order is proposed in the same transaction. 限时即享: the application waits for the responsible
    /// department until the deadline, counted in working days. The same enterprise, clause, subject and period
    /// again returns the first application.
    public func record(_ request: Jiaxing_Benefits_V1_RecordApplicationRequest) async throws -> Application {
        var application = request.application
        if case .failure(let problem) = CreditCode.validate(application.creditCode) {
            throw LedgerError(.invalidArgument, "application.credit_code: '\(application.creditCode)' \(problem)")
        }
        guard let catalog = self.catalog() else {
            throw LedgerError(.unavailable, "the catalog has not loaded yet; retry shortly")
        }
        guard let (clause, document) = catalog.clause(id: application.clauseID) else {
            throw LedgerError(
                .notFound, "application.clause_id: no clause '\(application.clauseID)' in catalog \(catalog.revision)")
        }
        guard clause.cash else {
            throw LedgerError(.failedPrecondition, "application.clause_id: \(clause.id) is not a cash benefit")
        }
        let at = self.now()
        let today = Self.chinaDay(at)
        guard document.isInForce(on: today) else {
            throw LedgerError(
                .failedPrecondition,
                "application.clause_id: \(clause.id) is not in force on \(today) (《\(document.shortTitle)》 \(document.effectiveFrom) to \(document.effectiveUntil.map(\.description) ?? "open"))"
            )
        }
        guard !application.subject.isEmpty, application.subject.count <= 200 else {
            throw LedgerError(.invalidArgument, "application.subject: 1 to 200 characters naming what it is for")
        }
        guard application.county != .unspecified, application.county.rawValue <= 9 else {
            throw LedgerError(
                .invalidArgument, "application.county: one of the counties and districts of Jiaxing is required")
        }
        guard application.requestedFen >= 0 else {
            throw LedgerError(
                .invalidArgument, "application.requested_fen: must not be negative, got \(application.requestedFen)")
        }
        if application.maximumFen > 0, application.requestedFen > application.maximumFen {
            throw LedgerError(
                .invalidArgument,
                "application.requested_fen: \(Money.chinese(application.requestedFen)) asked, the clause allows at most \(Money.chinese(application.maximumFen))"
            )
        }
        guard application.evidence.count <= Limits.maximumEvidenceFiles else {
            throw LedgerError(
                .invalidArgument,
                "application.evidence: at most \(Limits.maximumEvidenceFiles) files, got \(application.evidence.count)"
            )
        }
        for (index, file) in application.evidence.enumerated() {
            guard Limits.evidenceTypes.contains(file.contentType),
                Self.contentMatches(file.content, file.contentType)
            else {
                throw LedgerError(
                    .invalidArgument,
                    "application.evidence[\(index)]: '\(file.name)' must be a PDF, JPEG or PNG file, got \(file.contentType.isEmpty ? "no type" : file.contentType)"
                )
            }
            guard file.content.count <= Limits.maximumEvidenceBytes else {
                throw LedgerError(
                    .invalidArgument,
                    "application.evidence[\(index)]: '\(file.name)' is \(file.content.count) bytes; at most \(Limits.maximumEvidenceBytes)"
                )
            }
        }
        if request.decideAtOnce, request.amountFen <= 0 {
            throw LedgerError(
                .invalidArgument, "amount_fen: an application decided at once needs the amount its formula fixed")
        }
        application.documentID = document.id
        application.responsibleDepartments = clause.responsibleDepartments
        application.filedOn = today.message
        application.period = application.period == 0 ? Int32(today.year) : application.period
        let workingDays = clause.decisionWorkingDays ?? Limits.defaultWorkingDays
        application.workingDays = Int32(workingDays)
        let calendar = catalog.calendar
        guard let deadline = calendar.deadline(workingDays: workingDays, from: today) else {
            throw LedgerError(
                .failedPrecondition,
                "the working-day calendar covers \(calendar.years.lowerBound)–\(calendar.years.upperBound) only; no deadline can be set from \(today)"
            )
        }
        let due = deadline.date
        application.dueOn = due.message
        application.dueProvisional = deadline.provisional
        let key = Self.applicationKey(application)

        return try await self.database.transaction { tx in
            if let existing = try await tx.queryOne(
                "SELECT payload FROM applications WHERE idempotency_key = ?", [.text(key)])
            {
                var first = try Application(serializedBytes: existing.blob(0))
                first.replayed = true
                return first
            }
            for index in application.evidence.indices {
                let content = application.evidence[index].content
                let digest = SHA256.hash(data: content).hexadecimal
                try await tx.execute(
                    "INSERT INTO evidence (sha256, content_type, size, content) VALUES (?, ?, ?, ?) ON CONFLICT (sha256) DO NOTHING",
                    [
                        .text(digest), .text(application.evidence[index].contentType), .integer(Int64(content.count)),
                        .blob(Array(content)),
                    ]
                )
                application.evidence[index].sha256 = digest
                application.evidence[index].size = Int64(content.count)
                application.evidence[index].content = Data()
            }
            application.id = UUIDv7.make(millis: at, random: self.ledger.idBits())
            if request.decideAtOnce {
                let proposed = try await self.ledger.propose(
                    Self.orderRequest(application, amount: request.amountFen), clause: clause, document: document,
                    tx: tx)
                application.status = .decidedAtOnce
                application.decidedFen = proposed.amountFen
                application.decidedBy = "即申即享"
                application.orderID = proposed.id
                application.reason = "条件经核验, 按公式金额\(Money.chinese(proposed.amountFen)), 已生成兑付订单"
            } else {
                application.status = .pending
                application.reason =
                    "待\(clause.responsibleDepartments.isEmpty ? "市财政局" : clause.responsibleDepartments.joined(separator: "、"))于\(due)前审核"
                    + (deadline.provisional ? " (期限按法定节假日暂行推算: 该年国务院放假安排尚未发布)" : "")
            }
            try await tx.execute(
                "INSERT INTO applications (id, idempotency_key, document_id, county, status, filed_day, due_day, decided_day, departments, payload) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    .text(application.id), .text(key), .text(document.id), .integer(Int64(application.county.rawValue)),
                    .integer(Int64(application.status.rawValue)),
                    .integer(Int64(today.dayNumber)), .integer(Int64(due.dayNumber)),
                    .integer(request.decideAtOnce ? Int64(today.dayNumber) : 0),
                    .text(clause.responsibleDepartments.joined(separator: "|")),
                    .blob(try application.serializedBytes()),
                ]
            )
            if application.status == .pending {
                try await LedgerOutbox.emit(tx, type: "applicationReceived", application: application, at: at)
            }
            return application
        }
    }

    /// The responsible department decides a pending application: approving proposes the order and posts it
    /// at once (the department's decision is the approval); rejecting needs a reason.
    public func decide(_ request: Jiaxing_Benefits_V1_DecideApplicationRequest, by decider: Ledger.Decider)
        async throws -> Application
    {
        guard !request.applicationID.isEmpty else { throw LedgerError(.invalidArgument, "application_id: required") }
        let at = self.now()
        let today = Self.chinaDay(at)
        let decided: Application = try await self.database.transaction { tx in
            guard
                let row = try await tx.queryOne(
                    "SELECT payload FROM applications WHERE id = ?", [.text(request.applicationID)])
            else {
                throw LedgerError(.notFound, "application_id: no application '\(request.applicationID)'")
            }
            var application = try Application(serializedBytes: row.blob(0))
            guard case .department(let department, _) = decider,
                department.isResponsible(among: application.responsibleDepartments)
            else {
                throw LedgerError(
                    .permissionDenied,
                    "\(decider) is not responsible for \(application.clauseID) (责任单位: \(application.responsibleDepartments.joined(separator: "、")))"
                )
            }
            guard application.status == .pending else {
                throw LedgerError(
                    .failedPrecondition,
                    "application \(application.id) is \(application.status) and can no longer be decided")
            }
            application.decidedBy = decider.description
            if request.approve {
                guard request.amountFen > 0 else {
                    throw LedgerError(.invalidArgument, "amount_fen: an approval names a positive amount")
                }
                if application.maximumFen > 0, request.amountFen > application.maximumFen {
                    throw LedgerError(
                        .invalidArgument,
                        "amount_fen: \(Money.chinese(request.amountFen)) is over the clause's cap of \(Money.chinese(application.maximumFen))"
                    )
                }
                guard let catalog = self.catalog(), let (clause, document) = catalog.clause(id: application.clauseID)
                else {
                    throw LedgerError(
                        .unavailable, "the catalog has not loaded, or no longer has \(application.clauseID)")
                }
                let proposed = try await self.ledger.propose(
                    Self.orderRequest(application, amount: request.amountFen), clause: clause, document: document,
                    tx: tx)
                try await Self.markDeclared(proposed, of: application, tx)
                application.status = .approved
                application.decidedFen = proposed.amountFen
                application.orderID = proposed.id
                application.reason =
                    request.reason.isEmpty ? "审核通过, 核定\(Money.chinese(proposed.amountFen))" : request.reason
            } else {
                guard !request.reason.trimmingCharacters(in: .whitespaces).isEmpty else {
                    throw LedgerError(.invalidArgument, "reason: a rejection says why")
                }
                application.status = .rejected
                application.reason = request.reason
                try await LedgerOutbox.emit(tx, type: "applicationRejected", application: application, at: at)
            }
            try await tx.execute(
                "UPDATE applications SET status = ?, decided_day = ?, payload = ? WHERE id = ?",
                [
                    .integer(Int64(application.status.rawValue)), .integer(Int64(today.dayNumber)),
                    .blob(try application.serializedBytes()), .text(application.id),
                ]
            )
            return application
        }
        // 一键直达: the order the department just decided is paid through the same approval path as any other.
        if decided.status == .approved, !decided.orderID.isEmpty {
            _ = try await self.ledger.approve(orderID: decided.orderID, by: decider)
        }
        return decided
    }

    /// Marks pending applications whose deadline has passed as breached (escalated to the city operator);
    /// returns those newly marked.
    @discardableResult
    public func markBreaches() async throws -> [Application] {
        let at = self.now()
        let today = Self.chinaDay(at)
        return try await self.database.transaction { tx in
            let rows = try await tx.query(
                "SELECT payload FROM applications WHERE status = ? AND breached = 0 AND due_day < ?",
                [.integer(Int64(Application.Status.pending.rawValue)), .integer(Int64(today.dayNumber))]
            )
            var marked: [Application] = []
            for row in rows {
                var application = try Application(serializedBytes: row.blob(0))
                application.breached = true
                try await tx.execute(
                    "UPDATE applications SET breached = 1, payload = ? WHERE id = ?",
                    [.blob(try application.serializedBytes()), .text(application.id)])
                try await LedgerOutbox.emit(tx, type: "applicationBreached", application: application, at: at)
                marked.append(application)
            }
            return marked
        }
    }

    /// Applications, newest first, with the tallies per document and responsible department: received,
    /// decided at once, decided within the deadline, breached, pending.
    public func list(
        _ request: Jiaxing_Benefits_V1_ListApplicationsRequest, county: Jiaxing_Benefits_V1_County? = nil,
        department: Department? = nil
    ) async throws -> Jiaxing_Benefits_V1_ListApplicationsResponse {
        let limit = request.limit == 0 ? 100 : Int(request.limit)
        guard (1...1000).contains(limit) else {
            throw LedgerError(.invalidArgument, "limit: 1 to 1000, got \(request.limit)")
        }
        var before: String?
        if !request.pageToken.isEmpty {
            // The token holds an application id (a UUID's 36 characters): anything else was not given here.
            guard let token = PageToken(encoded: request.pageToken, parts: 1), token.parts[0].count == 36,
                token.parts[0].allSatisfy({ $0.isHexDigit || $0 == "-" })
            else {
                throw LedgerError(.invalidArgument, "page_token: not a token this list gave")
            }
            before = token.parts[0]
        }
        return try await self.database.read { tx in
            var response = Jiaxing_Benefits_V1_ListApplicationsResponse()
            response.tallies = try await Self.tallies(tx, county: county, department: department)
            // The page: read by id, newest first, a slice at a time; a department's are picked from each slice
            // (the departments column narrows the read, the application's own list decides).
            let countyValue = Int64(county?.rawValue ?? 0)
            let departmentPattern = department.map { "%\($0.chineseName)%" } ?? ""
            let financeBureau: Int64 = department == .caizheng ? 1 : 0
            var cursor = before
            reading: while true {
                let rows = try await tx.query(
                    """
                    SELECT id, payload FROM applications
                    WHERE (? = 0 OR county = ?) AND (? = 0 OR status = ?) AND (? = 0 OR breached = 1)
                    AND (? = '' OR id < ?) AND (? = '' OR departments LIKE ? OR (? = 1 AND departments = ''))
                    ORDER BY id DESC LIMIT ?
                    """,
                    [
                        .integer(countyValue), .integer(countyValue),
                        .integer(Int64(request.status.rawValue)), .integer(Int64(request.status.rawValue)),
                        .integer(request.breachedOnly ? 1 : 0), .text(cursor ?? ""), .text(cursor ?? ""),
                        .text(departmentPattern), .text(departmentPattern), .integer(financeBureau),
                        .integer(Int64(limit + 1)),
                    ])
                for row in rows {
                    let application = try Application(serializedBytes: row.blob(1))
                    if let department, !department.isResponsible(among: application.responsibleDepartments) {
                        continue
                    }
                    guard response.applications.count < limit else {
                        // One more matches beyond the page: the caller may go on from the page's last.
                        response.nextPageToken = PageToken([response.applications.last!.id]).encoded
                        break reading
                    }
                    response.applications.append(application)
                }
                guard rows.count == limit + 1, let last = rows.last else { break }
                cursor = last.text(0)
            }
            return response
        }
    }

    /// The tallies per document and responsible department, from one grouped read: received, decided at
    /// once, decided within the deadline, breached, pending. A clause that names no department is decided by
    /// the finance bureau (市财政局).
    static func tallies(_ tx: any SQLTransaction, county: Jiaxing_Benefits_V1_County?, department: Department?)
        async throws -> [Jiaxing_Benefits_V1_ApplicationTally]
    {
        let countyValue = Int64(county?.rawValue ?? 0)
        let inTime = "CASE WHEN decided_day <= due_day THEN 1 ELSE 0 END"
        var tallies: [String: Jiaxing_Benefits_V1_ApplicationTally] = [:]
        for row in try await tx.query(
            """
            SELECT document_id, departments, status, breached, \(inTime), COUNT(*) FROM applications
            WHERE (? = 0 OR county = ?) GROUP BY document_id, departments, status, breached, \(inTime)
            """, [.integer(countyValue), .integer(countyValue)])
        {
            let departments = row.text(1).split(separator: "|").map(String.init)
            if let department, !department.isResponsible(among: departments) { continue }
            let count = Int32(clamping: row.integer(5))
            for responsible in departments.isEmpty ? [Department.caizheng.chineseName] : departments {
                let key = "\(row.text(0))\u{1F}\(responsible)"
                var tally = tallies[key] ?? Jiaxing_Benefits_V1_ApplicationTally()
                tally.documentID = row.text(0)
                tally.department = responsible
                tally.received += count
                switch Application.Status(rawValue: Int(row.integer(2))) {
                case .decidedAtOnce: tally.decidedAtOnce += count
                case .approved, .rejected: if row.integer(4) == 1 { tally.decidedInTime += count }
                case .pending: tally.pending += count
                default: break
                }
                if row.integer(3) == 1 { tally.breached += count }
                tallies[key] = tally
            }
        }
        return tallies.keys.sorted().map { tallies[$0]! }
    }

    /// One file of an application with its content, for a party that may see the application: its county,
    /// a responsible department, or (neither given) the operator and services.
    public func evidence(
        applicationID: String, sha256: String, county: Jiaxing_Benefits_V1_County? = nil, department: Department? = nil
    ) async throws -> Jiaxing_Benefits_V1_Evidence {
        try await self.database.read { tx in
            guard
                let row = try await tx.queryOne("SELECT payload FROM applications WHERE id = ?", [.text(applicationID)])
            else {
                throw LedgerError(.notFound, "application_id: no application '\(applicationID)'")
            }
            let application = try Application(serializedBytes: row.blob(0))
            if let county, application.county != county {
                throw LedgerError(.permissionDenied, "the application \(applicationID) was filed by another county")
            }
            if let department, !department.isResponsible(among: application.responsibleDepartments) {
                throw LedgerError(
                    .permissionDenied, "\(department.chineseName) is not responsible for \(application.clauseID)")
            }
            guard var file = application.evidence.first(where: { $0.sha256 == sha256 }),
                let content = try await tx.queryOne("SELECT content FROM evidence WHERE sha256 = ?", [.text(sha256)])
            else {
                throw LedgerError(.notFound, "sha256: the application \(applicationID) has no file \(sha256)")
            }
            file.content = Data(content.blob(0))
            return file
        }
    }

    /// A file is what its type says (the first bytes), so a renamed executable is not kept as a "PDF".
    static func contentMatches(_ content: Data, _ type: String) -> Bool {
        let head = Array(content.prefix(8))
        switch type {
        case "application/pdf": return head.starts(with: Array("%PDF-".utf8))
        case "image/png": return head.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        case "image/jpeg": return head.starts(with: [0xFF, 0xD8, 0xFF])
        default: return false
        }
    }
}
