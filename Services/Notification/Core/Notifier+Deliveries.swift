import BenefitsDomain
import Foundation
import MeshMessages
import SQLStore
import SwiftProtobuf

extension Notifier {
    struct DueDelivery: Sendable {
        var noticeID: String
        var county: String
        var endpoint: String
        var attempts: Int
        var createdAt: Int64
        var notice: Notice
        var secrets: [String]
    }

    /// Claims the deliveries due now: each is pushed `claimMillis` into the future in the same transaction, so
    /// another replica sharing the database does not send it too while this one tries.
    func due(limit: Int) async throws -> [DueDelivery] {
        let at = self.now()
        return try await self.database.transaction { tx in
            let rows = try await tx.query(
                """
                SELECT d.notice_id, d.county, d.endpoint, d.attempts, d.created_at,
                       n.id, n.event_seq, n.event_type, n.audience, n.title, n.body, n.order_id, n.created_at, w.secrets
                FROM deliveries d JOIN notices n ON n.id = d.notice_id JOIN webhooks w ON w.county = d.county
                WHERE d.status = 1 AND d.next_attempt_at <= ? AND w.switched_off = 0
                ORDER BY d.next_attempt_at LIMIT ?
                """, [.integer(at), .integer(Int64(limit))])
            var claimed: [DueDelivery] = []
            for row in rows {
                let won = try await tx.query(
                    "UPDATE deliveries SET next_attempt_at = ? WHERE notice_id = ? AND status = 1 AND next_attempt_at <= ? RETURNING notice_id",
                    [.integer(at + self.policy.claimMillis), .text(row.text(0)), .integer(at)]
                )
                guard !won.isEmpty else { continue }
                claimed.append(
                    DueDelivery(
                        noticeID: row.text(0), county: row.text(1), endpoint: row.text(2),
                        attempts: Int(row.integer(3)), createdAt: row.integer(4),
                        notice: Self.notice(SQLRow(values: Array(row.values[5...12]))),
                        secrets: try (self.sealer?.open(row.text(13)) ?? row.text(13)).split(separator: " ").map(
                            String.init)
                    ))
            }
            return claimed
        }
    }

    /// The JSON body of a webhook: `type`, `timestamp` and the notice as `data`.
    static func payload(_ notice: Notice, timestamp: Int64) throws -> [UInt8] {
        let data = try notice.jsonString()
        let iso = UTCTimestamp.iso8601(seconds: timestamp)
        return Array(#"{"type":"payout.\#(notice.eventType)","timestamp":"\#(iso)","data":\#(data)}"#.utf8)
    }

    /// Deliveries attempted at once by one pass: also the most a replica stopped mid-pass can leave sent but
    /// not recorded, which another replica then sends again under the same webhook-id.
    public static let deliveriesPerPass = 64

    /// Delivers whatever is due, `limit` at once; the outcomes are recorded together, in one transaction.
    /// Returns how many attempts were made.
    @discardableResult
    public func deliverDue(limit: Int = Notifier.deliveriesPerPass, timeout: Duration = .seconds(5)) async throws -> Int
    {
        let due = try await self.due(limit: limit)
        let outcomes = await withTaskGroup(of: (DueDelivery, Result<Void, any Error>).self) { group in
            for delivery in due {
                group.addTask { (delivery, await self.attempt(delivery, timeout: timeout)) }
            }
            var outcomes: [(DueDelivery, Result<Void, any Error>)] = []
            for await outcome in group { outcomes.append(outcome) }
            return outcomes
        }
        if !outcomes.isEmpty { try await self.settle(outcomes) }
        return due.count
    }

    func attempt(_ delivery: DueDelivery, timeout: Duration) async -> Result<Void, any Error> {
        let timestamp = self.now() / 1000
        var outcome: Result<Void, any Error>
        do {
            guard let endpoint = WebhookClient.Endpoint(delivery.endpoint) else {
                throw WebhookClient.Failure(description: "bad endpoint \(delivery.endpoint)")
            }
            let body = try Self.payload(delivery.notice, timestamp: timestamp)
            let signature = try WebhookSignature.sign(
                id: delivery.noticeID, timestamp: timestamp, body: body, secrets: delivery.secrets)
            let status = try await self.webhooks.post(
                endpoint,
                headers: [
                    ("webhook-id", delivery.noticeID), ("webhook-timestamp", "\(timestamp)"),
                    ("webhook-signature", signature),
                ], body: body, timeout: timeout)
            outcome =
                (200..<300).contains(status)
                ? .success(()) : .failure(WebhookClient.Failure(description: "HTTP \(status)"))
        } catch {
            outcome = .failure(error)
        }
        return outcome
    }

    /// Records attempts' outcomes in one transaction: delivered, or retried later with backoff and jitter, or
    /// dead-lettered; an endpoint that keeps failing is switched off and the operator told.
    func settle(_ outcomes: [(DueDelivery, Result<Void, any Error>)]) async throws {
        let at = self.now()
        try await self.database.transaction { tx in
            for (delivery, outcome) in outcomes {
                switch outcome {
                case .success:
                    try await tx.execute(
                        "UPDATE deliveries SET status = 2, attempts = attempts + 1, delivered_at = ?, last_error = '' WHERE notice_id = ?",
                        [.integer(at), .text(delivery.noticeID)])
                    try await tx.execute(
                        "UPDATE webhooks SET consecutive_failures = 0 WHERE county = ?", [.text(delivery.county)])
                case .failure(let error):
                    let attempts = delivery.attempts + 1
                    let dead =
                        attempts >= self.policy.maximumAttempts
                        || at - delivery.createdAt >= self.policy.maximumAgeMillis
                    let delay = min(
                        self.policy.maximumDelayMillis, self.policy.initialDelayMillis << min(attempts - 1, 30))
                    let jitter = Int64.random(in: -(delay / 5)...(delay / 5))
                    try await tx.execute(
                        "UPDATE deliveries SET status = ?, attempts = ?, next_attempt_at = ?, last_error = ? WHERE notice_id = ?",
                        [
                            .integer(dead ? 3 : 1), .integer(Int64(attempts)), .integer(at + delay + jitter),
                            .text(String(describing: error)), .text(delivery.noticeID),
                        ]
                    )
                    try await tx.execute(
                        "UPDATE webhooks SET consecutive_failures = consecutive_failures + 1 WHERE county = ?",
                        [.text(delivery.county)])
                    let failures = try await tx.queryOne(
                        "SELECT consecutive_failures, switched_off FROM webhooks WHERE county = ?",
                        [.text(delivery.county)])
                    if let failures, failures.integer(0) >= Int64(self.policy.disableAfterFailures),
                        failures.integer(1) == 0
                    {
                        try await tx.execute(
                            "UPDATE webhooks SET switched_off = 1 WHERE county = ?", [.text(delivery.county)])
                        let id = "webhook-disabled-\(delivery.county)-\(at)"
                        try await tx.execute(
                            "INSERT INTO notices (id, event_seq, event_type, audience, title, body, order_id, created_at) VALUES (?, 0, 'webhookDisabled', 'operator/operator', ?, ?, '', ?)",
                            [
                                .text(id), .text("县区接口已停用"),
                                .text(
                                    "\(delivery.county)的webhook \(delivery.endpoint)连续\(failures.integer(0))次投递失败, 已停用; 县区重新登记后恢复。最后错误: \(error)"
                                ), .integer(at),
                            ]
                        )
                    }
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
