import BenefitsDomain
import CatalogModel
import Foundation
import MeshMessages
import SQLStore

/// Turns ledger events into notices, keeps inboxes, and tracks webhook deliveries with their retries.
public final class Notifier: Sendable {
    public typealias Notice = Jiaxing_Benefits_V1_Notice
    public typealias Delivery = Jiaxing_Benefits_V1_Delivery

    public struct Policy: Sendable {
        /// Attempts before a delivery is dead-lettered.
        public var maximumAttempts: Int
        /// Age after which a failing delivery is dead-lettered, whatever its attempts.
        public var maximumAgeMillis: Int64
        /// First retry delay; doubles per attempt, with ±20% jitter, up to `maximumDelayMillis`.
        public var initialDelayMillis: Int64
        public var maximumDelayMillis: Int64
        /// Consecutive failures after which an endpoint is disabled and the operator told.
        public var disableAfterFailures: Int
        /// How long a replica holds a delivery it is attempting; after a crash, another takes it over then.
        public var claimMillis: Int64

        public init(
            maximumAttempts: Int = 10, maximumAgeMillis: Int64 = 24 * 3_600_000, initialDelayMillis: Int64 = 1_000,
            maximumDelayMillis: Int64 = 600_000, disableAfterFailures: Int = 50, claimMillis: Int64 = 60_000
        ) {
            self.maximumAttempts = maximumAttempts
            self.maximumAgeMillis = maximumAgeMillis
            self.initialDelayMillis = initialDelayMillis
            self.maximumDelayMillis = maximumDelayMillis
            self.disableAfterFailures = disableAfterFailures
            self.claimMillis = claimMillis
        }
    }

    let database: any SQLDatabase
    public let templates: NoticeTemplates
    let webhooks: any WebhookPoster
    public let policy: Policy
    /// Seals webhook secrets at rest; nil keeps them as given (tests that read the table).
    let sealer: SecretSealer?
    let now: @Sendable () -> Int64
    /// A retry's jitter, a share of its delay in -0.2...0.2, given the attempt's webhook-id: random, or
    /// drawn from a seed and the id in the simulation (attempts settle in the order they end, which varies).
    let jitter: @Sendable (String) -> Double

    public init(
        database: any SQLDatabase, templates: NoticeTemplates, webhooks: any WebhookPoster, policy: Policy = .init(),
        sealer: SecretSealer? = nil,
        now: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970 * 1000) },
        jitter: @escaping @Sendable (String) -> Double = { _ in Double.random(in: -0.2...0.2) }
    ) {
        self.database = database
        self.templates = templates
        self.webhooks = webhooks
        self.policy = policy
        self.sealer = sealer
        self.now = now
        self.jitter = jitter
    }

    /// Brings the tables up to the notices' last schema step; replicas starting together take turns.
    public func migrate() async throws {
        try await self.database.migrate("notification", NotificationSchema.migrations, now: self.now())
    }

    /// The notices one event makes: the enterprise, its county, and (for orders awaiting a decision) the
    /// responsible departments.
    public func notices(for event: Jiaxing_Benefits_V1_DisbursementEvent, catalog: Catalog?) -> [Notice] {
        let subject = Self.Subject(event)
        let document = catalog?.document(id: subject.documentID)
        let clause = catalog?.clause(id: subject.clauseID)?.clause
        let county = County(message: subject.county)
        var values: [String: String] = [
            "enterprise": subject.enterpriseName, "creditCode": subject.creditCode,
            "document": document.map(\.shortTitle) ?? subject.documentID,
            "documentNumber": document?.documentNumber ?? "无文号", "article": clause?.article ?? subject.clauseID,
            "clause": subject.clauseID, "amount": Money.chinese(subject.amountFen), "status": subject.status,
            "reason": subject.reason.isEmpty ? "未说明" : subject.reason, "orderId": subject.orderID,
            "county": county?.chineseName ?? "",
            "departments": subject.departments.isEmpty ? "市财政局" : subject.departments.joined(separator: "、"),
        ]
        if event.hasApplication {
            let due = event.application.dueOn
            values["applicationId"] = event.application.id
            values["dueOn"] = "\(due.year)年\(due.month)月\(due.day)日"
        }
        var audiences: [(kind: String, id: String)] = [("enterprise", "enterprise/\(subject.creditCode)")]
        if let county { audiences.append(("county", "county/\(county.partyName)")) }
        for department in Department.allCases where department.isResponsible(among: subject.departments) {
            audiences.append(("department", "department/\(department.partyName)"))
        }
        audiences.append(("operator", "operator/operator"))
        return audiences.compactMap { audience in
            guard let template = self.templates.template(event: event.type, audience: audience.kind) else { return nil }
            var notice = Notice()
            notice.id = "\(event.sequence)-\(audience.id)"
            notice.eventSequence = event.sequence
            notice.eventType = event.type
            notice.audience = audience.id
            notice.title = NoticeTemplates.render(template.title, values: values)
            notice.body = NoticeTemplates.render(template.body, values: values)
            notice.orderID = subject.orderID
            notice.createdAtMillis = self.now()
            return notice
        }
    }

    /// What an event is about: a payout order, or an application.
    struct Subject {
        var creditCode, enterpriseName, documentID, clauseID, status, reason, orderID: String
        var county: Jiaxing_Benefits_V1_County
        var amountFen: Int64
        var departments: [String]

        init(_ event: Jiaxing_Benefits_V1_DisbursementEvent) {
            if event.hasApplication {
                let application = event.application
                self.creditCode = application.creditCode
                self.enterpriseName = application.enterpriseName
                self.documentID = application.documentID
                self.clauseID = application.clauseID
                self.status = "\(application.status)"
                self.reason = application.reason
                self.orderID = application.orderID
                self.county = application.county
                self.amountFen = application.decidedFen > 0 ? application.decidedFen : application.requestedFen
                self.departments = application.responsibleDepartments
            } else {
                let order = event.order
                self.creditCode = order.creditCode
                self.enterpriseName = order.enterpriseName
                self.documentID = order.documentID
                self.clauseID = order.clauseID
                self.status = "\(order.status)"
                self.reason = order.reason
                self.orderID = order.id
                self.county = order.county
                self.amountFen = order.amountFen
                self.departments = order.responsibleDepartments
            }
        }
    }

    /// Records an event's notices and queues the county's webhook delivery, in one transaction. An event seen
    /// before (redelivered after a crash) adds nothing: notice ids are unique. Returns the notices new now.
    @discardableResult
    public func record(_ event: Jiaxing_Benefits_V1_DisbursementEvent, catalog: Catalog?) async throws -> [Notice] {
        try await self.record([event], catalog: catalog)
    }

    /// Records several events' notices in one transaction (one commit for a batch that arrived together).
    @discardableResult
    public func record(_ events: [Jiaxing_Benefits_V1_DisbursementEvent], catalog: Catalog?) async throws -> [Notice] {
        let notices = events.flatMap { self.notices(for: $0, catalog: catalog) }
        let at = self.now()
        return try await self.database.transaction { tx in
            // Notices made before (an event redelivered after a crash), read at once; a notice twice in the
            // batch is made once.
            var made: Set<String> = []
            for chunk in notices.map(\.id).chunks(of: 500) {
                let marks = SQLPlaceholders.list(chunk.count)
                for row in try await tx.query("SELECT id FROM notices WHERE id IN (\(marks))", chunk.map { .text($0) })
                {
                    made.insert(row.text(0))
                }
            }
            let created = notices.filter { made.insert($0.id).inserted }
            for chunk in created.chunks(of: Self.rowsPerStatement) {
                let values = SQLPlaceholders.rows(chunk.count, columns: 8)
                try await tx.execute(
                    "INSERT INTO notices (id, event_seq, event_type, audience, title, body, order_id, created_at) VALUES \(values)",
                    chunk.flatMap { notice -> [SQLValue] in
                        [
                            .text(notice.id), .integer(notice.eventSequence), .text(notice.eventType),
                            .text(notice.audience), .text(notice.title), .text(notice.body), .text(notice.orderID),
                            .integer(notice.createdAtMillis),
                        ]
                    })
            }
            // A county's notices go to its webhook, where it has one switched on: each county's read once.
            var endpoints: [String: String] = [:]
            var looked: Set<String> = []
            var deliveries: [[SQLValue]] = []
            for notice in created where notice.audience.hasPrefix("county/") {
                let county = String(notice.audience.dropFirst(7))
                if looked.insert(county).inserted,
                    let hook = try await tx.queryOne(
                        "SELECT url FROM webhooks WHERE county = ? AND switched_off = 0", [.text(county)])
                {
                    endpoints[county] = hook.text(0)
                }
                guard let endpoint = endpoints[county] else { continue }
                deliveries.append([.text(notice.id), .text(county), .text(endpoint), .integer(at), .integer(at)])
            }
            for chunk in deliveries.chunks(of: Self.rowsPerStatement) {
                let values = Array(repeating: "(?, ?, ?, 1, ?, ?)", count: chunk.count).joined(separator: ", ")
                try await tx.execute(
                    "INSERT INTO deliveries (notice_id, county, endpoint, status, next_attempt_at, created_at) VALUES \(values) ON CONFLICT (notice_id) DO NOTHING",
                    Array(chunk.joined()))
            }
            if !created.isEmpty { try await tx.notify(Self.noticesChannel) }
            return created
        }
    }

    /// Rows one INSERT writes while recording: 8 values each at most, well inside both databases' limits.
    static let rowsPerStatement = 100

    /// The channel a commit that made notices or deliveries due notifies: inbox watches and the deliverer
    /// wait on it (`noticeSignal`) instead of asking again on a timer.
    public static let noticesChannel = "benefits_notices"

    /// Rung once a commit made notices or deliveries due, here or (PostgreSQL, while a `ChangeListener`
    /// runs) in another replica.
    public var noticeSignal: ChangeSignal { self.database.signal(Self.noticesChannel) }

    /// Registers (or replaces) a county's endpoint; `batchSize` above 1 asks for batches of notices.
    public func registerWebhook(county: String, url: String, secrets: String, batchSize: Int = 1) async throws {
        guard (0...Self.maximumBatchSize).contains(batchSize) else {
            throw NotificationError(
                field: "batch_size", message: "0 to \(Self.maximumBatchSize) notices a delivery, got \(batchSize)")
        }
        guard let endpoint = WebhookClient.Endpoint(url) else {
            throw NotificationError(
                field: "url", message: "an https://host[:port]/path address is required, got '\(url)'")
        }
        // A name that does not resolve yet is accepted: every delivery checks the address it resolves to.
        if let refusal = try? await self.webhooks.refusal(endpoint) {
            throw NotificationError(field: "url", message: refusal)
        }
        let list = secrets.split(separator: " ").map(String.init)
        guard !list.isEmpty, list.count <= 4 else {
            throw NotificationError(field: "secrets", message: "one to four whsec_ secrets, space-separated")
        }
        for secret in list {
            do { _ = try WebhookSignature.key(secret) } catch {
                throw NotificationError(field: "secrets", message: "\(error)")
            }
        }
        let joined = list.joined(separator: " ")
        let stored = try self.sealer?.seal(joined) ?? joined
        try await self.database.transaction { tx in
            try await tx.execute(
                "INSERT INTO webhooks (county, url, secrets, batch_size) VALUES (?, ?, ?, ?) ON CONFLICT (county) DO UPDATE SET url = excluded.url, secrets = excluded.secrets, batch_size = excluded.batch_size, consecutive_failures = 0, switched_off = 0",
                [.text(county), .text(url), .text(stored), .integer(Int64(max(1, batchSize)))]
            )
        }
    }

    public func inbox(audience: String, limit: Int, before: Int64 = .max) async throws -> [Notice] {
        try await self.database.read { tx in
            try await tx.query(
                "SELECT id, event_seq, event_type, audience, title, body, order_id, created_at FROM notices WHERE audience = ? AND event_seq < ? ORDER BY event_seq DESC LIMIT ?",
                [.text(audience), .integer(before), .integer(Int64(limit))]
            ).map(Self.notice)
        }
    }

    /// Notices of an audience made after an event, oldest first (for the inbox stream).
    public func notices(audience: String, afterSequence: Int64) async throws -> [Notice] {
        try await self.database.read { tx in
            try await tx.query(
                "SELECT id, event_seq, event_type, audience, title, body, order_id, created_at FROM notices WHERE audience = ? AND event_seq > ? ORDER BY event_seq LIMIT 500",
                [.text(audience), .integer(afterSequence)]
            ).map(Self.notice)
        }
    }

    /// The most notices a new watch replays: a watcher with an older position (or none) starts at the
    /// newest this many and reads older ones with ListInbox, so a watch costs the same on any inbox.
    public static let maximumReplay = 200

    /// Where a watch from `afterSequence` starts: there, or later when more than `maximumReplay` notices
    /// of the audience follow it.
    public func replayStart(audience: String, afterSequence: Int64) async throws -> Int64 {
        let row = try await self.database.read { tx in
            try await tx.queryOne(
                "SELECT event_seq FROM notices WHERE audience = ? ORDER BY event_seq DESC LIMIT 1 OFFSET ?",
                [.text(audience), .integer(Int64(Self.maximumReplay))])
        }
        return max(afterSequence, row?.integer(0) ?? 0)
    }

    static func notice(_ row: SQLRow) -> Notice {
        var notice = Notice()
        notice.id = row.text(0)
        notice.eventSequence = row.integer(1)
        notice.eventType = row.text(2)
        notice.audience = row.text(3)
        notice.title = row.text(4)
        notice.body = row.text(5)
        notice.orderID = row.text(6)
        notice.createdAtMillis = row.integer(7)
        return notice
    }
}

/// A request the notification service refuses, naming the field.
public struct NotificationError: Error, Sendable, CustomStringConvertible {
    public var field: String
    public var message: String
    public var description: String { "\(self.field): \(self.message)" }
}
