import BenefitsDomain
import MeshMessages
import SQLStore

extension Ledger {
    /// Most orders one bulk selection takes.
    public static let maximumSelected = 1_000

    /// The pending orders a department's bulk decision takes, oldest first: of clauses it is responsible for,
    /// not yet expired (an expired one is the sweeper's), matching every filter of `selection` (none proposed
    /// after its bound, when it has one).
    public func pendingOrderIDs(
        _ selection: Jiaxing_Benefits_V1_OrderSelection, department: Department, limit: Int
    ) async throws -> [String] {
        var conditions = ["status = ?", "expires_at > ?", "('|' || departments || '|') LIKE ?"]
        var parameters: [SQLValue] = [
            .integer(Int64(Status.pending.rawValue)), .integer(self.now()), .text("%|\(department.chineseName)|%"),
        ]
        if !selection.clauseID.isEmpty {
            conditions.append("clause_id = ?")
            parameters.append(.text(selection.clauseID))
        }
        if selection.county != .unspecified {
            conditions.append("county = ?")
            parameters.append(.integer(Int64(selection.county.rawValue)))
        }
        if selection.minimumFen > 0 {
            conditions.append("amount_fen >= ?")
            parameters.append(.integer(selection.minimumFen))
        }
        if selection.maximumFen > 0 {
            conditions.append("amount_fen <= ?")
            parameters.append(.integer(selection.maximumFen))
        }
        switch selection.adjustment {
        case .reduced: conditions.append("amount_fen <> requested_fen")
        case .asRequested: conditions.append("amount_fen = requested_fen")
        case .any, .UNRECOGNIZED: break
        }
        if !selection.campaignID.isEmpty {
            conditions.append("campaign_id = ?")
            parameters.append(.text(selection.campaignID))
        }
        guard selection.proposedAtOrBeforeMillis >= 0 else {
            throw LedgerError(
                .invalidArgument,
                "selection.proposed_at_or_before_millis: 0 (no bound) or a moment, got \(selection.proposedAtOrBeforeMillis)"
            )
        }
        if selection.proposedAtOrBeforeMillis > 0 {
            conditions.append("created_at <= ?")
            parameters.append(.integer(selection.proposedAtOrBeforeMillis))
        }
        let limit = max(1, min(limit, Self.maximumSelected))
        return try await self.database.read { tx in
            try await tx.query(
                "SELECT id FROM orders WHERE \(conditions.joined(separator: " AND ")) ORDER BY created_at, id LIMIT \(limit)",
                parameters
            ).map { $0.text(0) }
        }
    }

    /// The orders one campaign made, by status, and how many of the posted ones `group` has acknowledged the
    /// `approved` event of (notification records an event's notices before it acknowledges it).
    public func campaignProgress(id: String, group: String) async throws -> Jiaxing_Benefits_V1_CampaignProgress {
        guard !id.isEmpty else { throw LedgerError(.invalidArgument, "campaign_id: required") }
        return try await self.database.read { tx in
            var progress = Jiaxing_Benefits_V1_CampaignProgress()
            let rows = try await tx.query(
                """
                SELECT status, COUNT(*), COALESCE(SUM(amount_fen), 0), COALESCE(MIN(NULLIF(decided_at, 0)), 0),
                       COALESCE(MAX(decided_at), 0)
                FROM orders WHERE campaign_id = ? GROUP BY status
                """, [.text(id)])
            for row in rows {
                let count = row.integer(1)
                progress.orders += count
                switch Status(rawValue: row.integer(0)) {
                case .pending: progress.pending += count
                case .posted:
                    progress.posted += count
                    progress.postedFen += row.integer(2)
                case .rejected: progress.rejected += count
                case .expired: progress.expired += count
                case .clawedBack: progress.clawedBack += count
                default: break
                }
                if row.integer(3) > 0 {
                    progress.firstDecidedAtMillis =
                        progress.firstDecidedAtMillis == 0
                        ? row.integer(3) : min(progress.firstDecidedAtMillis, row.integer(3))
                }
                progress.lastDecidedAtMillis = max(progress.lastDecidedAtMillis, row.integer(4))
            }
            let notified = try await tx.queryOne(
                """
                SELECT COUNT(*) FROM orders o JOIN events e ON e.entity_key = o.credit_code AND e.order_id = o.id
                WHERE o.campaign_id = ? AND e.type = 'approved'
                  AND (e.seq <= COALESCE((SELECT acked_through FROM event_cursors WHERE grp = ?), 0)
                       OR EXISTS (SELECT 1 FROM event_acks a WHERE a.grp = ? AND a.seq = e.seq))
                """, [.text(id), .text(group), .text(group)])
            progress.notified = notified?.integer(0) ?? 0
            let shares = try await tx.query(
                """
                SELECT county, clause_id, document_id, COUNT(*),
                       SUM(CASE WHEN status = ? THEN 1 ELSE 0 END),
                       SUM(CASE WHEN status IN (?, ?) THEN amount_fen ELSE 0 END),
                       SUM(CASE WHEN status = ? THEN amount_fen ELSE 0 END)
                FROM orders WHERE campaign_id = ? GROUP BY county, clause_id, document_id ORDER BY county, clause_id
                """,
                [
                    .integer(Status.posted.rawValue), .integer(Status.pending.rawValue),
                    .integer(Status.posted.rawValue), .integer(Status.posted.rawValue), .text(id),
                ])
            progress.shares = shares.map { row in
                var share = Jiaxing_Benefits_V1_CampaignShare()
                share.county = Jiaxing_Benefits_V1_County(rawValue: Int(row.integer(0))) ?? .unspecified
                share.clauseID = row.text(1)
                share.documentID = row.text(2)
                share.orders = row.integer(3)
                share.posted = row.integer(4)
                share.promisedFen = row.integer(5)
                share.paidFen = row.integer(6)
                return share
            }
            return progress
        }
    }
}
