import BenefitsDomain
import Crypto
import Foundation
import MeshMessages
import SQLStore
import SwiftProtobuf

extension Notifier {
    struct DueDelivery: Sendable {
        var noticeID: String
        var attempts: Int
        var createdAt: Int64
        var notice: Notice
    }

    /// One POST to a county's endpoint: a notice, or (where the county registered a batch size above one)
    /// up to that many, under one id and one signature.
    struct WebhookAttempt: Sendable {
        var county: String
        var endpoint: String
        var secrets: [String]
        var batchSize: Int
        var deliveries: [DueDelivery]

        /// The webhook-id: the notice's own, or for a batch one derived from its notices' ids, so a batch
        /// retried with the same notices keeps its id.
        var id: String {
            guard self.batchSize > 1 else { return self.deliveries.first?.noticeID ?? "" }
            let digest = SHA256.hash(data: Array(self.deliveries.map(\.noticeID).sorted().joined(separator: "\n").utf8))
            return "batch_" + digest.prefix(16).map { String(format: "%02x", $0) }.joined()
        }
    }

    /// Held while a replica claims due deliveries.
    static let claiming = SQLLock("notification.deliveries.claim")

    /// The most due notices one pass reads to fill its attempts.
    static let noticesPerPass = 4_096

    /// Claims what is due now as at most `limit` attempts: each delivery is pushed `claimMillis` into the
    /// future in the same transaction, so another replica sharing the database does not send it too while
    /// this one tries. The due ids are read first and the notices only for what was claimed. Replicas sharing
    /// PostgreSQL claim in turn (`claiming`, READ COMMITTED): the claim's UPDATE takes only deliveries still
    /// due in their latest version, so none is claimed twice; claiming SERIALIZABLE, two replicas failed each
    /// other's claims over and over (184 claims retried in one Compose chaos run of 600 payouts).
    func due(limit: Int) async throws -> [WebhookAttempt] {
        let at = self.now()
        return try await self.database.transaction(holding: Self.claiming) { tx in
            // Enough ids to fill `limit` attempts of the largest batch an endpoint takes, and no more.
            let largest =
                try await tx.queryOne(
                    "SELECT MAX(batch_size) FROM webhooks WHERE switched_off = 0", [])?.integer(0) ?? 1
            let reading = min(Self.noticesPerPass, limit * max(1, Int(largest)))
            let due = try await tx.query(
                """
                SELECT d.notice_id, d.county, w.batch_size
                FROM deliveries d JOIN webhooks w ON w.county = d.county
                WHERE d.status = 1 AND d.next_attempt_at <= ? AND w.switched_off = 0
                ORDER BY d.next_attempt_at LIMIT ?
                """, [.integer(at), .integer(Int64(reading))])
            // Each county's notices fill its open batch before a new attempt starts; no more than `limit`.
            var groups: [(county: String, batchSize: Int, ids: [String])] = []
            var open: [String: Int] = [:]
            for row in due {
                let county = row.text(1)
                let batchSize = max(1, Int(row.integer(2)))
                if let index = open[county] {
                    groups[index].ids.append(row.text(0))
                    if groups[index].ids.count >= batchSize { open[county] = nil }
                    continue
                }
                guard groups.count < limit else { continue }
                groups.append((county, batchSize, [row.text(0)]))
                if batchSize > 1 { open[county] = groups.count - 1 }
            }
            let wanted = groups.flatMap(\.ids)
            guard !wanted.isEmpty else { return [] }
            var won: Set<String> = []
            for chunk in wanted.chunks(of: 500) {
                let marks = SQLPlaceholders.list(chunk.count)
                let rows = try await tx.query(
                    "UPDATE deliveries SET next_attempt_at = ? WHERE status = 1 AND next_attempt_at <= ? AND notice_id IN (\(marks)) RETURNING notice_id",
                    [.integer(at + self.policy.claimMillis), .integer(at)] + chunk.map { .text($0) })
                for row in rows { won.insert(row.text(0)) }
            }
            var details: [String: (endpoint: String, secrets: String, current: String, delivery: DueDelivery)] = [:]
            for chunk in Array(won).chunks(of: 500) {
                let marks = SQLPlaceholders.list(chunk.count)
                let rows = try await tx.query(
                    """
                    SELECT d.notice_id, d.endpoint, d.attempts, d.created_at,
                           n.id, n.event_seq, n.event_type, n.audience, n.title, n.body, n.order_id, n.created_at, w.secrets,
                           w.url
                    FROM deliveries d JOIN notices n ON n.id = d.notice_id JOIN webhooks w ON w.county = d.county
                    WHERE d.notice_id IN (\(marks))
                    """, chunk.map { .text($0) })
                for row in rows {
                    details[row.text(0)] = (
                        row.text(1), row.text(12), row.text(13),
                        DueDelivery(
                            noticeID: row.text(0), attempts: Int(row.integer(2)), createdAt: row.integer(3),
                            notice: Self.notice(SQLRow(values: Array(row.values[4...11]))))
                    )
                }
            }
            var opened: [String: [String]] = [:]
            var attempts: [WebhookAttempt] = []
            for group in groups {
                let claimed = group.ids.compactMap { details[$0] }
                guard let first = claimed.first else { continue }
                if opened[first.secrets] == nil {
                    opened[first.secrets] = try (self.sealer?.open(first.secrets) ?? first.secrets)
                        .split(separator: " ").map(String.init)
                }
                // A batch goes where the county receives now; a single notice where it was made to go.
                attempts.append(
                    WebhookAttempt(
                        county: group.county, endpoint: group.batchSize > 1 ? first.current : first.endpoint,
                        secrets: opened[first.secrets] ?? [],
                        batchSize: group.batchSize, deliveries: claimed.map(\.delivery)))
            }
            return attempts
        }
    }

    /// The JSON body of a webhook: `type`, `timestamp` and the notice as `data`.
    static func payload(_ notice: Notice, timestamp: Int64) throws -> [UInt8] {
        let data = try notice.jsonString()
        let iso = UTCTimestamp.iso8601(seconds: timestamp)
        return Array(#"{"type":"payout.\#(notice.eventType)","timestamp":"\#(iso)","data":\#(data)}"#.utf8)
    }

    /// The JSON body of a batch: `type` `payout.batch`, `timestamp`, and the notices as `data.notices`, each
    /// with its own id for the county to record once.
    static func payload(batch notices: [Notice], timestamp: Int64) throws -> [UInt8] {
        let iso = UTCTimestamp.iso8601(seconds: timestamp)
        var body = Array(#"{"type":"payout.batch","timestamp":"\#(iso)","data":{"notices":["#.utf8)
        for (index, notice) in notices.enumerated() {
            if index > 0 { body.append(UInt8(ascii: ",")) }
            body += Array(try notice.jsonString().utf8)
        }
        body += Array("]}}".utf8)
        return body
    }

    /// Attempts (POSTs) made at once by one pass: also the most a replica stopped mid-pass can leave sent
    /// but not recorded, which another replica then sends again under the same webhook-ids.
    public static let deliveriesPerPass = 64

    /// The most notices a county may ask one delivery to carry (`RegisterWebhook`'s `batch_size`).
    public static let maximumBatchSize = 500

    /// Delivers whatever is due, in at most `limit` attempts at once; the outcomes are recorded together, in
    /// one transaction. Returns how many attempts were made.
    @discardableResult
    public func deliverDue(limit: Int = Notifier.deliveriesPerPass, timeout: Duration = .seconds(5)) async throws -> Int
    {
        let due = try await self.due(limit: limit)
        let outcomes = await withTaskGroup(of: (WebhookAttempt, Result<Void, any Error>).self) { group in
            for attempt in due {
                group.addTask { (attempt, await self.attempt(attempt, timeout: timeout)) }
            }
            var outcomes: [(WebhookAttempt, Result<Void, any Error>)] = []
            for await outcome in group { outcomes.append(outcome) }
            return outcomes
        }
        if !outcomes.isEmpty { try await self.settle(outcomes) }
        return due.count
    }

    func attempt(_ attempt: WebhookAttempt, timeout: Duration) async -> Result<Void, any Error> {
        let timestamp = self.now() / 1000
        do {
            guard let endpoint = WebhookClient.Endpoint(attempt.endpoint) else {
                throw WebhookClient.Failure(description: "bad endpoint \(attempt.endpoint)")
            }
            let notices = attempt.deliveries.map(\.notice)
            let body =
                attempt.batchSize > 1
                ? try Self.payload(batch: notices, timestamp: timestamp)
                : try Self.payload(notices[0], timestamp: timestamp)
            let id = attempt.id
            let signature = try WebhookSignature.sign(
                id: id, timestamp: timestamp, body: body, secrets: attempt.secrets)
            let status = try await self.webhooks.post(
                endpoint,
                headers: [
                    ("webhook-id", id), ("webhook-timestamp", "\(timestamp)"), ("webhook-signature", signature),
                ], body: body, timeout: timeout)
            return (200..<300).contains(status)
                ? .success(()) : .failure(WebhookClient.Failure(description: "HTTP \(status)"))
        } catch {
            return .failure(error)
        }
    }

    /// Records attempts' outcomes in one transaction: delivered (every notice of a batch at once), or retried
    /// later with backoff and jitter, or dead-lettered; an endpoint that keeps failing is switched off and the
    /// operator told. A failed attempt counts once against its endpoint, whatever it carried.
    func settle(_ outcomes: [(WebhookAttempt, Result<Void, any Error>)]) async throws {
        let at = self.now()
        try await self.database.transaction { tx in
            let delivered = outcomes.filter { if case .success = $0.1 { true } else { false } }.map(\.0)
            for chunk in delivered.flatMap({ $0.deliveries.map(\.noticeID) }).chunks(of: 500) {
                let marks = SQLPlaceholders.list(chunk.count)
                try await tx.execute(
                    "UPDATE deliveries SET status = 2, attempts = attempts + 1, delivered_at = ?, last_error = '' WHERE notice_id IN (\(marks))",
                    [.integer(at)] + chunk.map { .text($0) })
            }
            for county in Set(delivered.map(\.county)).sorted() {
                try await tx.execute(
                    "UPDATE webhooks SET consecutive_failures = 0 WHERE county = ?", [.text(county)])
            }
            for (attempt, outcome) in outcomes {
                guard case .failure(let error) = outcome else { continue }
                // One jitter for the attempt: a batch's notices fall due again together and go out together.
                let jitterShare = self.jitter(attempt.id)
                for delivery in attempt.deliveries {
                    let attempts = delivery.attempts + 1
                    let dead =
                        attempts >= self.policy.maximumAttempts
                        || at - delivery.createdAt >= self.policy.maximumAgeMillis
                    let delay = min(
                        self.policy.maximumDelayMillis, self.policy.initialDelayMillis << min(attempts - 1, 30))
                    let jitter = Int64(Double(delay) * jitterShare)
                    try await tx.execute(
                        "UPDATE deliveries SET status = ?, attempts = ?, next_attempt_at = ?, last_error = ? WHERE notice_id = ?",
                        [
                            .integer(dead ? 3 : 1), .integer(Int64(attempts)), .integer(at + delay + jitter),
                            .text(String(describing: error)), .text(delivery.noticeID),
                        ]
                    )
                }
                try await tx.execute(
                    "UPDATE webhooks SET consecutive_failures = consecutive_failures + 1 WHERE county = ?",
                    [.text(attempt.county)])
                let failures = try await tx.queryOne(
                    "SELECT consecutive_failures, switched_off FROM webhooks WHERE county = ?",
                    [.text(attempt.county)])
                if let failures, failures.integer(0) >= Int64(self.policy.disableAfterFailures),
                    failures.integer(1) == 0
                {
                    try await tx.execute(
                        "UPDATE webhooks SET switched_off = 1 WHERE county = ?", [.text(attempt.county)])
                    let id = "webhook-disabled-\(attempt.county)-\(at)"
                    try await tx.notify(Self.noticesChannel)
                    try await tx.execute(
                        "INSERT INTO notices (id, event_seq, event_type, audience, title, body, order_id, created_at) VALUES (?, 0, 'webhookDisabled', 'operator/operator', ?, ?, '', ?)",
                        [
                            .text(id), .text("县区接口已停用"),
                            .text(
                                "\(attempt.county)的webhook \(attempt.endpoint)连续\(failures.integer(0))次投递失败, 已停用; 县区重新登记后恢复。最后错误: \(error)"
                            ), .integer(at),
                        ]
                    )
                }
            }
        }
    }

    /// Sends a dead (or delivered) notice again: it becomes pending with a fresh count of attempts.
    public func replay(noticeID: String) async throws -> Delivery {
        let at = self.now()
        return try await self.database.transaction { tx in
            guard try await tx.queryOne("SELECT 1 FROM deliveries WHERE notice_id = ?", [.text(noticeID)]) != nil else {
                throw NotificationError(field: "notice_id", message: "no delivery of notice '\(noticeID)'")
            }
            try await tx.execute(
                "UPDATE deliveries SET status = 1, attempts = 0, next_attempt_at = ?, created_at = ?, last_error = '' WHERE notice_id = ?",
                [.integer(at), .integer(at), .text(noticeID)])
            try await tx.notify(Self.noticesChannel)
            return try await Self.delivery(noticeID, tx)!
        }
    }

    /// How many deliveries are in each state.
    public func deliveryCounts() async throws -> [Delivery.Status: Int] {
        try await self.database.read { tx in
            var counts: [Delivery.Status: Int] = [:]
            for row in try await tx.query("SELECT status, COUNT(*) FROM deliveries GROUP BY status", []) {
                if let status = Delivery.Status(rawValue: Int(row.integer(0))) { counts[status] = Int(row.integer(1)) }
            }
            return counts
        }
    }

    public func deliveries(status: Delivery.Status?, limit: Int) async throws -> [Delivery] {
        try await self.deliveries(status: status, limit: limit, after: nil).deliveries
    }

    /// Where a page of deliveries ended: the last one's creation time and notice.
    public typealias DeliveryPosition = (createdAtMillis: Int64, noticeID: String)

    /// A page of deliveries, newest first (creation time, then notice id, descending), starting after
    /// `after`; `last` is where the page ended, set when it is full and more may follow.
    public func deliveries(status: Delivery.Status?, limit: Int, after: DeliveryPosition?) async throws
        -> (deliveries: [Delivery], last: DeliveryPosition?)
    {
        try await self.database.read { tx in
            let rows = try await tx.query(
                """
                SELECT notice_id, endpoint, status, attempts, next_attempt_at, last_error, delivered_at, created_at
                FROM deliveries WHERE (? = 0 OR status = ?)
                AND (? = 0 OR created_at < ? OR (created_at = ? AND notice_id < ?))
                ORDER BY created_at DESC, notice_id DESC LIMIT ?
                """,
                [
                    .integer(Int64(status?.rawValue ?? 0)), .integer(Int64(status?.rawValue ?? 0)),
                    .integer(after == nil ? 0 : 1), .integer(after?.createdAtMillis ?? 0),
                    .integer(after?.createdAtMillis ?? 0), .text(after?.noticeID ?? ""), .integer(Int64(limit)),
                ])
            let last = rows.count == limit ? rows.last.map { ($0.integer(7), $0.text(0)) } : nil
            return (rows.map(Self.delivery), last)
        }
    }

    static func delivery(_ noticeID: String, _ tx: any SQLTransaction) async throws -> Delivery? {
        try await tx.queryOne(
            "SELECT notice_id, endpoint, status, attempts, next_attempt_at, last_error, delivered_at FROM deliveries WHERE notice_id = ?",
            [.text(noticeID)]
        ).map(Self.delivery)
    }

    static func delivery(_ row: SQLRow) -> Delivery {
        var delivery = Delivery()
        delivery.noticeID = row.text(0)
        delivery.endpoint = row.text(1)
        delivery.status = Delivery.Status(rawValue: Int(row.integer(2))) ?? .unspecified
        delivery.attempts = Int32(row.integer(3))
        delivery.nextAttemptAtMillis = row.integer(4)
        delivery.lastError = row.text(5)
        delivery.deliveredAtMillis = row.integer(6)
        return delivery
    }
}
