import BenefitsDomain
import Crypto
import Foundation
import MeshMessages
import SQLStore
import SwiftProtobuf

/// What the store says when a campaign is asked to start. `run` is the new run's token: only the run holding
/// it may record pages, so a run that lost its lease cannot write over the one that took the campaign over.
public enum CampaignStart: Sendable {
    /// Run it from the register's start.
    case fresh(Jiaxing_Benefits_V1_CampaignResult, run: String)
    /// A run was interrupted: carry on after `cursor` (a credit code) with the tallies it had.
    case resume(Jiaxing_Benefits_V1_CampaignResult, cursor: String, run: String)
    /// Another run is at work on it (it wrote within the lease).
    case running(Jiaxing_Benefits_V1_CampaignResult)
}

/// A run's page could not be recorded: another run has taken the campaign over (this one was silent past
/// the lease), or the campaign is gone.
public struct CampaignLeaseLost: Error, CustomStringConvertible {
    public let campaignID: String
    public var description: String { "campaign \(self.campaignID) was taken over by another run" }
}

extension GatewayStore {
    /// How long a running campaign may go without writing its progress before another run takes it over: a
    /// page of the register is written every few seconds, so a minute's silence means the run is gone.
    public static let campaignLeaseMillis: Int64 = 60_000
    /// How long after it started an interrupted campaign is resumed rather than run afresh: the register and
    /// the departments' records move on, and a cursor from days ago would skip what was added before it since.
    public static let campaignResumeWindowMillis: Int64 = 24 * 3_600_000
    /// Campaigns one ListCampaigns page holds at most.
    public static let maximumCampaignsPerPage = 200
    /// Near misses one ListCampaignNearMisses page holds at most.
    public static let maximumNearMissesPerPage = 1_000

    static let campaignSchema = """
        CREATE TABLE IF NOT EXISTS campaigns (
            id TEXT PRIMARY KEY,
            started_by TEXT NOT NULL,
            county BIGINT NOT NULL,
            run TEXT NOT NULL,
            state BIGINT NOT NULL,
            cursor TEXT NOT NULL,
            result TEXT NOT NULL,
            started_at BIGINT NOT NULL,
            updated_at BIGINT NOT NULL
        );
        CREATE INDEX IF NOT EXISTS campaigns_by_start ON campaigns (started_at, id);
        CREATE TABLE IF NOT EXISTS campaign_near_misses (
            campaign_id TEXT NOT NULL,
            credit_code TEXT NOT NULL,
            clause_id TEXT NOT NULL,
            item TEXT NOT NULL,
            county BIGINT NOT NULL,
            near_miss TEXT NOT NULL,
            PRIMARY KEY (campaign_id, credit_code, clause_id, item)
        )
        """

    /// A campaign's id: the same request (its clauses and documents in any order, day and county) from the
    /// same caller is the same campaign, so running it again resumes or repeats it rather than starting another.
    public static func campaignID(for request: Jiaxing_Benefits_V1_CampaignRequest, startedBy caller: String) -> String
    {
        let canonical = [
            caller, request.clauseIds.sorted().joined(separator: ","),
            request.documentIds.sorted().joined(separator: ","),
            "\(request.asOf.year)-\(request.asOf.month)-\(request.asOf.day)", "\(request.county.rawValue)",
        ].joined(separator: "\n")
        let digest = SHA256.hash(data: Data(canonical.utf8))
        return "campaign-" + digest.prefix(12).map { String(format: "%02x", $0) }.joined()
    }

    /// Starts or resumes campaign `id`: a new one, one done before, or one interrupted longer ago than
    /// `campaignResumeWindowMillis` starts fresh (its near misses cleared); one whose run went silent past the
    /// lease resumes at its cursor; one still being run is left alone.
    public func startCampaign(
        id: String, request: Jiaxing_Benefits_V1_CampaignRequest, startedBy: String, at millis: Int64
    ) async throws -> CampaignStart {
        let run = "\(self.replica)|\(UUID().uuidString)"
        return try await self.database.transaction { transaction in
            if let row = try await transaction.queryOne(
                "SELECT state, cursor, result, updated_at, started_at FROM campaigns WHERE id = ?", [.text(id)])
            {
                var result = try Jiaxing_Benefits_V1_CampaignResult(jsonString: row.text(2))
                if row.integer(0) == Int64(Jiaxing_Benefits_V1_CampaignState.running.rawValue) {
                    guard millis - row.integer(3) > Self.campaignLeaseMillis else { return .running(result) }
                    if millis - row.integer(4) <= Self.campaignResumeWindowMillis {
                        result.resumedAfter = result.enterprises
                        result.updatedAtMillis = millis
                        try await transaction.execute(
                            "UPDATE campaigns SET run = ?, updated_at = ?, result = ? WHERE id = ?",
                            [.text(run), .integer(millis), .text(try result.jsonString()), .text(id)])
                        return .resume(result, cursor: row.text(1), run: run)
                    }
                }
            }
            var result = Jiaxing_Benefits_V1_CampaignResult()
            result.campaignID = id
            result.state = .running
            result.request = request
            result.startedBy = startedBy
            result.startedAtMillis = millis
            result.updatedAtMillis = millis
            try await transaction.execute("DELETE FROM campaign_near_misses WHERE campaign_id = ?", [.text(id)])
            try await transaction.execute(
                """
                INSERT INTO campaigns (id, started_by, county, run, state, cursor, result, started_at, updated_at)
                VALUES (?, ?, ?, ?, ?, '', ?, ?, ?)
                ON CONFLICT (id) DO UPDATE SET run = excluded.run, state = excluded.state, cursor = '',
                    result = excluded.result, started_at = excluded.started_at, updated_at = excluded.updated_at
                """,
                [
                    .text(id), .text(startedBy), .integer(Int64(request.county.rawValue)), .text(run),
                    .integer(Int64(result.state.rawValue)), .text(try result.jsonString()), .integer(millis),
                    .integer(millis),
                ])
            return .fresh(result, run: run)
        }
    }

    /// Records a page of the register done by run `run`: the tallies so far, the last credit code screened and
    /// the page's near misses, in one transaction, so a run killed after it resumes after `cursor` and counts
    /// nothing twice. Throws `CampaignLeaseLost` when another run holds the campaign now.
    public func recordCampaignPage(
        _ result: Jiaxing_Benefits_V1_CampaignResult, run: String, cursor: String,
        nearMisses: [Jiaxing_Benefits_V1_CampaignNearMiss], at millis: Int64
    ) async throws {
        var stored = result
        stored.updatedAtMillis = millis
        stored.firstNearMisses = []
        let json = try stored.jsonString()
        let rows: [[SQLValue]] = try nearMisses.map {
            [
                .text(result.campaignID), .text($0.creditCode), .text($0.clauseID), .text($0.item),
                .integer(Int64($0.county.rawValue)), .text(try $0.jsonString()),
            ]
        }
        try await self.database.transaction { transaction in
            guard
                try await transaction.queryOne(
                    "SELECT run FROM campaigns WHERE id = ?", [.text(result.campaignID)])?.text(0) == run
            else { throw CampaignLeaseLost(campaignID: result.campaignID) }
            try await transaction.execute(
                "UPDATE campaigns SET state = ?, cursor = ?, result = ?, updated_at = ? WHERE id = ?",
                [
                    .integer(Int64(result.state.rawValue)), .text(cursor), .text(json), .integer(millis),
                    .text(result.campaignID),
                ])
            for row in rows {
                try await transaction.execute(
                    """
                    INSERT INTO campaign_near_misses (campaign_id, credit_code, clause_id, item, county, near_miss)
                    VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (campaign_id, credit_code, clause_id, item) DO NOTHING
                    """, row)
            }
        }
    }

    /// Gives up run `run`'s lease at once (its call failed): the next call resumes the campaign without
    /// waiting out the lease.
    public func releaseCampaign(id: String, run: String) async throws {
        try await self.database.transaction { transaction in
            guard try await transaction.queryOne("SELECT run FROM campaigns WHERE id = ?", [.text(id)])?.text(0) == run
            else { return }
            try await transaction.execute("UPDATE campaigns SET updated_at = 0 WHERE id = ?", [.text(id)])
        }
    }

    /// Gives up the leases of the runs this replica's earlier life held (it was killed or crashed while they
    /// ran): called as the replica starts, before it runs any campaign, so the next call resumes them at once
    /// rather than after `campaignLeaseMillis`. Returns how many were given up.
    @discardableResult
    public func releaseEarlierRuns() async throws -> Int {
        try await self.database.transaction { transaction in
            try await transaction.query(
                "UPDATE campaigns SET updated_at = 0 WHERE state = ? AND substr(run, 1, CAST(? AS INTEGER)) = ? RETURNING id",
                [
                    .integer(Int64(Jiaxing_Benefits_V1_CampaignState.running.rawValue)),
                    .integer(Int64(self.replica.unicodeScalars.count + 1)), .text(self.replica + "|"),
                ]
            ).count
        }
    }

    /// Campaigns newest first (only those `startedBy` started, or those whose scope takes in `county`, where
    /// given), at most `limit` after `after` (the last one's start and id).
    public func campaigns(
        startedBy: String? = nil, county: County? = nil, limit: Int, after: (startedAt: Int64, id: String)?
    ) async throws -> [Jiaxing_Benefits_V1_CampaignResult] {
        var sql = "SELECT result FROM campaigns WHERE 1 = 1"
        var parameters: [SQLValue] = []
        if let startedBy {
            sql += " AND started_by = ?"
            parameters.append(.text(startedBy))
        }
        if let county {
            sql += " AND county IN (0, ?)"
            parameters.append(.integer(Int64(county.message.rawValue)))
        }
        if let after {
            sql += " AND (started_at < ? OR (started_at = ? AND id < ?))"
            parameters += [.integer(after.startedAt), .integer(after.startedAt), .text(after.id)]
        }
        sql += " ORDER BY started_at DESC, id DESC LIMIT ?"
        parameters.append(.integer(Int64(limit)))
        return try await self.database.read { transaction in
            try await transaction.query(sql, parameters).map {
                try Jiaxing_Benefits_V1_CampaignResult(jsonString: $0.text(0))
            }
        }
    }

    /// Campaign `id` as last recorded, or nil.
    public func campaign(id: String) async throws -> Jiaxing_Benefits_V1_CampaignResult? {
        try await self.database.read { transaction in
            try await transaction.queryOne("SELECT result FROM campaigns WHERE id = ?", [.text(id)]).map {
                try Jiaxing_Benefits_V1_CampaignResult(jsonString: $0.text(0))
            }
        }
    }

    /// A campaign's near misses in credit-code then clause order, at most `limit` after `after`, only one
    /// clause's or one county's where given.
    public func campaignNearMisses(
        id: String, clauseID: String?, county: County?, limit: Int,
        after: (creditCode: String, clauseID: String, item: String)?
    ) async throws -> [Jiaxing_Benefits_V1_CampaignNearMiss] {
        var sql = "SELECT near_miss FROM campaign_near_misses WHERE campaign_id = ?"
        var parameters: [SQLValue] = [.text(id)]
        if let clauseID {
            sql += " AND clause_id = ?"
            parameters.append(.text(clauseID))
        }
        if let county {
            sql += " AND county = ?"
            parameters.append(.integer(Int64(county.message.rawValue)))
        }
        if let after {
            sql += " AND (credit_code > ? OR (credit_code = ? AND (clause_id > ? OR (clause_id = ? AND item > ?))))"
            parameters += [
                .text(after.creditCode), .text(after.creditCode), .text(after.clauseID), .text(after.clauseID),
                .text(after.item),
            ]
        }
        sql += " ORDER BY credit_code, clause_id, item LIMIT ?"
        parameters.append(.integer(Int64(limit)))
        return try await self.database.read { transaction in
            try await transaction.query(sql, parameters).map {
                try Jiaxing_Benefits_V1_CampaignNearMiss(jsonString: $0.text(0))
            }
        }
    }
}
